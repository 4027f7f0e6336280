"""serde= is honoured everywhere: encryption end to end, strict msgpack and allowlists, and
key-prefix isolation.  Written once; scripts/unasync.py generates the sync twin.
"""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from aredis_ckpt import AsyncRedisSaver, CorruptedDataError
from serde_types import Ticket

from .test_saver import cfg, make_checkpoint, md, put_chain

SECRET = "correct-horse-battery-staple-4711"
KEY = b"0123456789abcdef0123456789abcdef"


async def all_stored_bytes(saver: AsyncRedisSaver) -> bytes:
    """Every key name and every stored byte under the saver's prefix."""
    out = bytearray()
    r = saver._redis
    async for key in r.scan_iter(match=saver.key_prefix + ":*", count=1000):
        out += key
        kind = (await r.type(key)).decode()
        if kind == "string":
            out += await r.get(key) or b""
        elif kind == "hash":
            for f, v in (await r.hgetall(key)).items():
                out += f + v
        elif kind == "zset":
            out += b"".join(await r.zrange(key, 0, -1))
        elif kind == "set":
            out += b"".join(await r.smembers(key))
    return bytes(out)


class Secrets(TypedDict):
    secret: str
    log: list[str]


def remember(state: Secrets) -> dict[str, Any]:
    return {"log": [*state["log"], "saw " + state["secret"]]}


async def test_encrypted_serializer_leaves_no_plaintext(make_saver: Any) -> None:
    serde = EncryptedSerializer.from_pycryptodome_aes(key=KEY)
    config = {"configurable": {"thread_id": "vault"}, "metadata": {"owner_token": SECRET}}
    async with make_saver(serde=serde) as saver:
        builder = StateGraph(Secrets)
        builder.add_node("remember", remember)
        builder.add_edge(START, "remember")
        builder.add_edge("remember", END)
        graph = builder.compile(checkpointer=saver)
        result = await graph.ainvoke({"secret": SECRET, "log": []}, config)
        assert result["log"] == ["saw " + SECRET]
        stored = (await put_chain(saver, "vault-2", 1))[0]
        await saver.aput_writes(stored, [("secret", SECRET)], "task")
        blob = await all_stored_bytes(saver)
        assert len(blob) > 1000
        assert SECRET.encode() not in blob
        # metadata stays filterable although only digests of it are stored
        found = [t async for t in saver.alist(cfg("vault"), filter={"owner_token": SECRET})]
        assert len(found) >= 2
        assert all(t.metadata["owner_token"] == SECRET for t in found)
    async with make_saver(serde=serde) as again:
        state = await build_reader(again).aget_state({"configurable": {"thread_id": "vault"}})
        assert state.values["log"] == ["saw " + SECRET]
    async with make_saver() as plain:
        with pytest.raises(CorruptedDataError, match="vault"):
            await plain.aget_tuple(cfg("vault"))


def build_reader(saver: Any) -> Any:
    builder = StateGraph(Secrets)
    builder.add_node("remember", remember)
    builder.add_edge(START, "remember")
    builder.add_edge("remember", END)
    return builder.compile(checkpointer=saver)


async def test_strict_msgpack_and_allowlist_share_the_connection(make_saver: Any) -> None:
    strict = JsonPlusSerializer(allowed_msgpack_modules=None)
    async with make_saver(serde=strict) as saver:
        cp = make_checkpoint({"ticket": Ticket(7, "hi")}, {"ticket": 1})
        stored = await saver.aput(cfg("t"), cp, md(), {"ticket": 1})
        blocked = await saver.aget_tuple(stored)
        assert blocked is not None
        assert not isinstance(blocked.checkpoint["channel_values"]["ticket"], Ticket)
        allowed = saver.with_allowlist([("serde_types", "Ticket")])
        assert allowed is not saver
        assert allowed._redis is saver._redis
        revived = await allowed.aget_tuple(stored)
        assert revived is not None
        assert revived.checkpoint["channel_values"]["ticket"] == Ticket(7, "hi")


async def test_prefixes_isolate_savers_on_one_database(make_saver: Any, key_prefix: str) -> None:
    async with (
        make_saver(key_prefix=key_prefix + "-a") as a,
        make_saver(key_prefix=key_prefix + "-b") as b,
    ):
        await put_chain(a, "shared-id", 3, run_id="run")
        await put_chain(b, "shared-id", 2, run_id="run")
        assert len([t async for t in a.alist(None)]) == 3
        assert len([t async for t in b.alist(None)]) == 2
        await a.adelete_for_runs(["run"])
        assert [t async for t in a.alist(None)] == []
        assert len([t async for t in b.alist(None)]) == 2
        await put_chain(a, "shared-id", 3)
        await a.aprune(["shared-id"], strategy="delete")
        assert len([t async for t in b.alist(None)]) == 2
        await b.aprune(["shared-id"], keep_last=1)
        assert len([t async for t in b.alist(None)]) == 1
        assert [t async for t in a.alist(None)] == []
