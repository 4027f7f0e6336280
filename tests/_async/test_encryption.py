"""Strict encryption: a saver whose serializer encrypts refuses records stored in plaintext.

Anyone with write access to Redis but not to the key could otherwise slip a forged checkpoint,
channel value or pending write into a graph's state (LangGraph's ``EncryptedSerializer`` reads
any record without a ``+<cipher>`` type tag as plaintext).  Forgeries are written here the way
an attacker would: by a plain saver on the same prefix, or by raw commands.  Written once;
scripts/unasync.py generates the sync twin.
"""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from aredis_ckpt import AsyncRedisSaver, CorruptedDataError, UnencryptedDataError
from aredis_ckpt._keys import escape, value_field
from aredis_ckpt._serde import dump_value, dump_write

from .test_saver import cfg, make_checkpoint, md, put_chain

KEY = b"0123456789abcdef0123456789abcdef"
AES = EncryptedSerializer.from_pycryptodome_aes(key=KEY)


class Wrapped:
    """A serializer of its own that delegates to an EncryptedSerializer (tags ``...+aes``)."""

    def __init__(self, inner: EncryptedSerializer) -> None:
        self.inner = inner

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        return self.inner.dumps_typed(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        return self.inner.loads_typed(data)


async def listed(saver: AsyncRedisSaver, config: Any) -> list[Any]:
    return [t async for t in saver.alist(config)]


async def test_forged_plaintext_checkpoint_is_refused(make_saver: Any) -> None:
    async with make_saver(serde=AES) as vault, make_saver() as forger:
        await put_chain(vault, "victim", 2)
        # a whole checkpoint (and its values) written by a saver without the key
        latest = await vault.aget_tuple(cfg("victim"))
        assert latest is not None
        cp = make_checkpoint({"count": 99, "const": "evil"}, {"count": 99, "const": 2})
        forged = await forger.aput(latest.config, cp, md(2), {"count": 99, "const": 2})
        with pytest.raises(UnencryptedDataError) as caught:
            await vault.aget_tuple(cfg("victim"))
        message = str(caught.value)
        assert "'victim'" in message and forged["configurable"]["checkpoint_id"] in message
        assert "the checkpoint is not encrypted" in message and "allow_plaintext" in message
        assert isinstance(caught.value, CorruptedDataError)
        with pytest.raises(UnencryptedDataError, match="victim"):
            await listed(vault, cfg("victim"))
        with pytest.raises(UnencryptedDataError, match="victim"):
            await listed(vault, None)
        # the genuine checkpoints below it still read
        older = await vault.aget_tuple(latest.config)
        assert older is not None and older.checkpoint["channel_values"]["count"] == 1


async def test_forged_channel_value_is_refused(make_saver: Any) -> None:
    async with make_saver(serde=AES) as vault:
        stored = (await put_chain(vault, "victim", 1))[0]
        tup = await vault.aget_tuple(stored)
        assert tup is not None
        version = tup.checkpoint["channel_versions"]["const"]
        field = value_field(escape(""), "const", version)
        # plaintext, and plaintext behind the compression tag
        for blob in (
            dump_value(JsonPlusSerializer(), "evil"),
            dump_value(JsonPlusSerializer(), "evil " * 1000, threshold=1),
        ):
            await vault._redis.hset(vault._thread("victim").all[4], field, blob)
            with pytest.raises(UnencryptedDataError) as caught:
                await vault.aget_tuple(stored)
            assert "value of channel 'const' is not encrypted" in str(caught.value)
            assert "type tag 'msgpack'" in str(caught.value)
            with pytest.raises(UnencryptedDataError, match="channel 'const'"):
                await listed(vault, cfg("victim"))


async def test_forged_pending_write_is_refused(make_saver: Any) -> None:
    async with make_saver(serde=AES) as vault, make_saver() as forger:
        stored = (await put_chain(vault, "victim", 1))[0]
        await vault.aput_writes(stored, [("count", 5)], "honest")
        await forger.aput_writes(stored, [("count", 666)], "intruder")
        with pytest.raises(UnencryptedDataError) as caught:
            await vault.aget_tuple(stored)
        assert "pending write of task 'intruder' to channel 'count'" in str(caught.value)
        with pytest.raises(UnencryptedDataError, match="intruder"):
            await listed(vault, cfg("victim", ""))
        # a raw command replacing the honest write's ciphertext with plaintext
        await forger.adelete_thread("victim")
        stored = (await put_chain(vault, "victim", 1))[0]
        await vault.aput_writes(stored, [("count", 5)], "honest")
        wkey = vault._thread("victim").all[7]
        (name,) = await vault._redis.hkeys(wkey)
        raw = dump_write(JsonPlusSerializer(), "honest", 0, "count", 666, "")
        await vault._redis.hset(wkey, name, raw)
        with pytest.raises(UnencryptedDataError, match="task 'honest' to channel 'count'"):
            await vault.aget_tuple(stored)


async def test_forgeries_in_the_delta_history_are_refused(make_saver: Any) -> None:
    async with make_saver(serde=AES) as vault, make_saver() as forger:
        configs = await put_chain(vault, "victim", 3)
        await vault.aput_writes(configs[1], [("count", 1)], "honest")
        clean = await vault.aget_delta_channel_history(config=configs[2], channels=["count"])
        assert clean["count"]["writes"] == [("honest", "count", 1)]
        await forger.aput_writes(configs[1], [("count", 666)], "intruder")
        with pytest.raises(UnencryptedDataError) as caught:
            await vault.aget_delta_channel_history(config=configs[2], channels=["count"])
        message = str(caught.value)
        assert "pending write of task 'intruder'" in message and "'victim'" in message
        assert configs[2]["configurable"]["checkpoint_id"] in message
        # a forged seed (the stored value an ancestor's walk stops at)
        await forger.adelete_thread("victim")
        configs = await put_chain(vault, "victim", 3)
        parent = await vault.aget_tuple(configs[1])
        assert parent is not None
        field = value_field(escape(""), "count", parent.checkpoint["channel_versions"]["count"])
        key = vault._thread("victim").all[4]
        await vault._redis.hset(key, field, dump_value(JsonPlusSerializer(), 666))
        with pytest.raises(UnencryptedDataError, match="value of channel 'count'"):
            await vault.aget_delta_channel_history(config=cfg("victim"), channels=["count"])


async def test_allow_plaintext_reads_legacy_records_while_migrating(make_saver: Any) -> None:
    async with make_saver() as legacy:
        old = await put_chain(legacy, "old", 2)
        await legacy.aput_writes(old[1], [("count", 7)], "task")
    async with make_saver(serde=AES, allow_plaintext=True) as migrating:
        tup = await migrating.aget_tuple(cfg("old"))
        assert tup is not None
        assert tup.checkpoint["channel_values"] == {"count": 1, "const": "same"}
        assert tup.pending_writes == [("task", "count", 7)]
        assert len(await listed(migrating, cfg("old"))) == 2
        history = await migrating.aget_delta_channel_history(config=cfg("old"), channels=["count"])
        assert history["count"]["seed"] == 0
        # new writes are encrypted, and read by a strict saver too (a channel left unchanged
        # keeps pointing at its plaintext value: this put rewrites both)
        cp = make_checkpoint({"count": 2, "const": "same"}, {"count": 3, "const": 2})
        new = await migrating.aput(tup.config, cp, md(2), {"count": 3, "const": 2})
    async with make_saver(serde=AES) as strict:
        fresh = await strict.aget_tuple(new)
        assert fresh is not None and fresh.checkpoint["channel_values"]["count"] == 2
        with pytest.raises(UnencryptedDataError):
            await strict.aget_tuple(old[1])


async def test_encryption_is_recognised_through_a_wrapper_and_allowlists(make_saver: Any) -> None:
    async with make_saver(serde=Wrapped(AES)) as wrapped, make_saver() as forger:
        await put_chain(forger, "t", 1)
        with pytest.raises(UnencryptedDataError):
            await wrapped.aget_tuple(cfg("t"))
    strict_msgpack = JsonPlusSerializer(allowed_msgpack_modules=None)
    serde = EncryptedSerializer.from_pycryptodome_aes(strict_msgpack, key=KEY)
    async with make_saver(serde=serde) as vault:
        await put_chain(vault, "mine", 1)
        assert await vault.aget_tuple(cfg("mine")) is not None
        allowed = vault.with_allowlist([("serde_types", "Ticket")])
        assert allowed is not vault
        assert await allowed.aget_tuple(cfg("mine")) is not None
        with pytest.raises(UnencryptedDataError):
            await allowed.aget_tuple(cfg("t"))


async def test_savers_without_encryption_and_tampered_ciphertext(make_saver: Any) -> None:
    async with make_saver(serde=AES) as vault, make_saver() as plain:
        await put_chain(plain, "plain", 1)
        tup = await plain.aget_tuple(cfg("plain"))
        assert tup is not None and tup.checkpoint["channel_values"]["count"] == 0
        stored = (await put_chain(vault, "sealed", 1))[0]
        tup = await vault.aget_tuple(stored)
        assert tup is not None
        field = value_field(escape(""), "count", tup.checkpoint["channel_versions"]["count"])
        key = vault._thread("sealed").all[4]
        blob = bytearray(await vault._redis.hget(key, field))
        blob[-1] ^= 1
        await vault._redis.hset(key, field, bytes(blob))
        with pytest.raises(CorruptedDataError) as caught:
            await vault.aget_tuple(stored)
        assert not isinstance(caught.value, UnencryptedDataError)
