# This file is generated from tests/_async/test_encryption.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
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

from aredis_ckpt import CorruptedDataError, RedisSaver, UnencryptedDataError
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


def listed(saver: RedisSaver, config: Any) -> list[Any]:
    return [t for t in saver.list(config)]


def test_forged_plaintext_checkpoint_is_refused(make_saver: Any) -> None:
    with make_saver(serde=AES) as vault, make_saver() as forger:
        put_chain(vault, "victim", 2)
        # a whole checkpoint (and its values) written by a saver without the key
        latest = vault.get_tuple(cfg("victim"))
        assert latest is not None
        cp = make_checkpoint({"count": 99, "const": "evil"}, {"count": 99, "const": 2})
        forged = forger.put(latest.config, cp, md(2), {"count": 99, "const": 2})
        with pytest.raises(UnencryptedDataError) as caught:
            vault.get_tuple(cfg("victim"))
        message = str(caught.value)
        assert "'victim'" in message and forged["configurable"]["checkpoint_id"] in message
        assert "the checkpoint is not encrypted" in message and "allow_plaintext" in message
        assert isinstance(caught.value, CorruptedDataError)
        with pytest.raises(UnencryptedDataError, match="victim"):
            listed(vault, cfg("victim"))
        with pytest.raises(UnencryptedDataError, match="victim"):
            listed(vault, None)
        # the genuine checkpoints below it still read
        older = vault.get_tuple(latest.config)
        assert older is not None and older.checkpoint["channel_values"]["count"] == 1


def test_forged_channel_value_is_refused(make_saver: Any) -> None:
    with make_saver(serde=AES) as vault:
        stored = (put_chain(vault, "victim", 1))[0]
        tup = vault.get_tuple(stored)
        assert tup is not None
        version = tup.checkpoint["channel_versions"]["const"]
        field = value_field(escape(""), "const", version)
        # plaintext, and plaintext behind the compression tag
        for blob in (
            dump_value(JsonPlusSerializer(), "evil"),
            dump_value(JsonPlusSerializer(), "evil " * 1000, threshold=1),
        ):
            vault._redis.hset(vault._thread("victim").all[4], field, blob)
            with pytest.raises(UnencryptedDataError) as caught:
                vault.get_tuple(stored)
            assert "value of channel 'const' is not encrypted" in str(caught.value)
            assert "type tag 'msgpack'" in str(caught.value)
            with pytest.raises(UnencryptedDataError, match="channel 'const'"):
                listed(vault, cfg("victim"))


def test_forged_pending_write_is_refused(make_saver: Any) -> None:
    with make_saver(serde=AES) as vault, make_saver() as forger:
        stored = (put_chain(vault, "victim", 1))[0]
        vault.put_writes(stored, [("count", 5)], "honest")
        forger.put_writes(stored, [("count", 666)], "intruder")
        with pytest.raises(UnencryptedDataError) as caught:
            vault.get_tuple(stored)
        assert "pending write of task 'intruder' to channel 'count'" in str(caught.value)
        with pytest.raises(UnencryptedDataError, match="intruder"):
            listed(vault, cfg("victim", ""))
        # a raw command replacing the honest write's ciphertext with plaintext
        forger.delete_thread("victim")
        stored = (put_chain(vault, "victim", 1))[0]
        vault.put_writes(stored, [("count", 5)], "honest")
        wkey = vault._thread("victim").all[7]
        (name,) = vault._redis.hkeys(wkey)
        raw = dump_write(JsonPlusSerializer(), "honest", 0, "count", 666, "")
        vault._redis.hset(wkey, name, raw)
        with pytest.raises(UnencryptedDataError, match="task 'honest' to channel 'count'"):
            vault.get_tuple(stored)


def test_forgeries_in_the_delta_history_are_refused(make_saver: Any) -> None:
    with make_saver(serde=AES) as vault, make_saver() as forger:
        configs = put_chain(vault, "victim", 3)
        vault.put_writes(configs[1], [("count", 1)], "honest")
        clean = vault.get_delta_channel_history(config=configs[2], channels=["count"])
        assert clean["count"]["writes"] == [("honest", "count", 1)]
        forger.put_writes(configs[1], [("count", 666)], "intruder")
        with pytest.raises(UnencryptedDataError) as caught:
            vault.get_delta_channel_history(config=configs[2], channels=["count"])
        message = str(caught.value)
        assert "pending write of task 'intruder'" in message and "'victim'" in message
        assert configs[2]["configurable"]["checkpoint_id"] in message
        # a forged seed (the stored value an ancestor's walk stops at)
        forger.delete_thread("victim")
        configs = put_chain(vault, "victim", 3)
        parent = vault.get_tuple(configs[1])
        assert parent is not None
        field = value_field(escape(""), "count", parent.checkpoint["channel_versions"]["count"])
        key = vault._thread("victim").all[4]
        vault._redis.hset(key, field, dump_value(JsonPlusSerializer(), 666))
        with pytest.raises(UnencryptedDataError, match="value of channel 'count'"):
            vault.get_delta_channel_history(config=cfg("victim"), channels=["count"])


def test_allow_plaintext_reads_legacy_records_while_migrating(make_saver: Any) -> None:
    with make_saver() as legacy:
        old = put_chain(legacy, "old", 2)
        legacy.put_writes(old[1], [("count", 7)], "task")
    with make_saver(serde=AES, allow_plaintext=True) as migrating:
        tup = migrating.get_tuple(cfg("old"))
        assert tup is not None
        assert tup.checkpoint["channel_values"] == {"count": 1, "const": "same"}
        assert tup.pending_writes == [("task", "count", 7)]
        assert len(listed(migrating, cfg("old"))) == 2
        history = migrating.get_delta_channel_history(config=cfg("old"), channels=["count"])
        assert history["count"]["seed"] == 0
        # new writes are encrypted, and read by a strict saver too (a channel left unchanged
        # keeps pointing at its plaintext value: this put rewrites both)
        cp = make_checkpoint({"count": 2, "const": "same"}, {"count": 3, "const": 2})
        new = migrating.put(tup.config, cp, md(2), {"count": 3, "const": 2})
    with make_saver(serde=AES) as strict:
        fresh = strict.get_tuple(new)
        assert fresh is not None and fresh.checkpoint["channel_values"]["count"] == 2
        with pytest.raises(UnencryptedDataError):
            strict.get_tuple(old[1])


def test_encryption_is_recognised_through_a_wrapper_and_allowlists(make_saver: Any) -> None:
    with make_saver(serde=Wrapped(AES)) as wrapped, make_saver() as forger:
        put_chain(forger, "t", 1)
        with pytest.raises(UnencryptedDataError):
            wrapped.get_tuple(cfg("t"))
    strict_msgpack = JsonPlusSerializer(allowed_msgpack_modules=None)
    serde = EncryptedSerializer.from_pycryptodome_aes(strict_msgpack, key=KEY)
    with make_saver(serde=serde) as vault:
        put_chain(vault, "mine", 1)
        assert vault.get_tuple(cfg("mine")) is not None
        allowed = vault.with_allowlist([("serde_types", "Ticket")])
        assert allowed is not vault
        assert allowed.get_tuple(cfg("mine")) is not None
        with pytest.raises(UnencryptedDataError):
            allowed.get_tuple(cfg("t"))


def test_savers_without_encryption_and_tampered_ciphertext(make_saver: Any) -> None:
    with make_saver(serde=AES) as vault, make_saver() as plain:
        put_chain(plain, "plain", 1)
        tup = plain.get_tuple(cfg("plain"))
        assert tup is not None and tup.checkpoint["channel_values"]["count"] == 0
        stored = (put_chain(vault, "sealed", 1))[0]
        tup = vault.get_tuple(stored)
        assert tup is not None
        field = value_field(escape(""), "count", tup.checkpoint["channel_versions"]["count"])
        key = vault._thread("sealed").all[4]
        blob = bytearray(vault._redis.hget(key, field))
        blob[-1] ^= 1
        vault._redis.hset(key, field, bytes(blob))
        with pytest.raises(CorruptedDataError) as caught:
            vault.get_tuple(stored)
        assert not isinstance(caught.value, UnencryptedDataError)
