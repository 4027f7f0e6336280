# This file is generated from tests/_async/test_serde.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
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

from aredis_ckpt import CorruptedDataError, RedisSaver
from serde_types import Ticket

from .test_saver import cfg, make_checkpoint, md, put_chain

SECRET = "correct-horse-battery-staple-4711"
KEY = b"0123456789abcdef0123456789abcdef"


def all_stored_bytes(saver: RedisSaver) -> bytes:
    """Every key name and every stored byte under the saver's prefix."""
    out = bytearray()
    r = saver._redis
    for key in r.scan_iter(match=saver.key_prefix + ":*", count=1000):
        out += key
        kind = (r.type(key)).decode()
        if kind == "string":
            out += r.get(key) or b""
        elif kind == "hash":
            for f, v in (r.hgetall(key)).items():
                out += f + v
        elif kind == "zset":
            out += b"".join(r.zrange(key, 0, -1))
        elif kind == "set":
            out += b"".join(r.smembers(key))
    return bytes(out)


class Secrets(TypedDict):
    secret: str
    log: list[str]


def remember(state: Secrets) -> dict[str, Any]:
    return {"log": [*state["log"], "saw " + state["secret"]]}


def test_encrypted_serializer_leaves_no_plaintext(make_saver: Any) -> None:
    serde = EncryptedSerializer.from_pycryptodome_aes(key=KEY)
    config = {"configurable": {"thread_id": "vault"}, "metadata": {"owner_token": SECRET}}
    with make_saver(serde=serde) as saver:
        builder = StateGraph(Secrets)
        builder.add_node("remember", remember)
        builder.add_edge(START, "remember")
        builder.add_edge("remember", END)
        graph = builder.compile(checkpointer=saver)
        result = graph.invoke({"secret": SECRET, "log": []}, config)
        assert result["log"] == ["saw " + SECRET]
        stored = (put_chain(saver, "vault-2", 1))[0]
        saver.put_writes(stored, [("secret", SECRET)], "task")
        blob = all_stored_bytes(saver)
        assert len(blob) > 1000
        assert SECRET.encode() not in blob
        # metadata stays filterable although only digests of it are stored
        found = [t for t in saver.list(cfg("vault"), filter={"owner_token": SECRET})]
        assert len(found) >= 2
        assert all(t.metadata["owner_token"] == SECRET for t in found)
    with make_saver(serde=serde) as again:
        state = build_reader(again).get_state({"configurable": {"thread_id": "vault"}})
        assert state.values["log"] == ["saw " + SECRET]
    with make_saver() as plain:
        with pytest.raises(CorruptedDataError, match="vault"):
            plain.get_tuple(cfg("vault"))


def build_reader(saver: Any) -> Any:
    builder = StateGraph(Secrets)
    builder.add_node("remember", remember)
    builder.add_edge(START, "remember")
    builder.add_edge("remember", END)
    return builder.compile(checkpointer=saver)


def test_strict_msgpack_and_allowlist_share_the_connection(make_saver: Any) -> None:
    strict = JsonPlusSerializer(allowed_msgpack_modules=None)
    with make_saver(serde=strict) as saver:
        cp = make_checkpoint({"ticket": Ticket(7, "hi")}, {"ticket": 1})
        stored = saver.put(cfg("t"), cp, md(), {"ticket": 1})
        blocked = saver.get_tuple(stored)
        assert blocked is not None
        assert not isinstance(blocked.checkpoint["channel_values"]["ticket"], Ticket)
        allowed = saver.with_allowlist([("serde_types", "Ticket")])
        assert allowed is not saver
        assert allowed._redis is saver._redis
        revived = allowed.get_tuple(stored)
        assert revived is not None
        assert revived.checkpoint["channel_values"]["ticket"] == Ticket(7, "hi")


def test_prefixes_isolate_savers_on_one_database(make_saver: Any, key_prefix: str) -> None:
    with (
        make_saver(key_prefix=key_prefix + "-a") as a,
        make_saver(key_prefix=key_prefix + "-b") as b,
    ):
        put_chain(a, "shared-id", 3, run_id="run")
        put_chain(b, "shared-id", 2, run_id="run")
        assert len([t for t in a.list(None)]) == 3
        assert len([t for t in b.list(None)]) == 2
        a.delete_for_runs(["run"])
        assert [t for t in a.list(None)] == []
        assert len([t for t in b.list(None)]) == 2
        put_chain(a, "shared-id", 3)
        a.prune(["shared-id"], strategy="delete")
        assert len([t for t in b.list(None)]) == 2
        b.prune(["shared-id"], keep_last=1)
        assert len([t for t in b.list(None)]) == 1
        assert [t for t in a.list(None)] == []
