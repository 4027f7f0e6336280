# This file is generated from tests/_async/test_ttl.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""TTL: every key of a thread expires together, and an expired thread leaves nothing behind.

Written once for AsyncRedisSaver; scripts/unasync.py generates the RedisSaver twin.  These
tests wait for real expiry (a few hundred milliseconds).
"""

from __future__ import annotations

from typing import Any

import pytest

from aredis_ckpt import RedisSaver
from aredis_ckpt._compat import sleep

from .test_saver import cfg, keys_under, put_chain

TTL_MS = 400
TTL = {"default_ttl": TTL_MS / 60_000}


def thread_ttls(saver: RedisSaver, thread_id: str) -> dict[bytes, int]:
    found = {}
    for key in saver._thread(thread_id).all:
        ttl = saver._redis.pttl(key)
        if ttl != -2:  # -2: the key does not exist
            found[key] = ttl
    return found


def test_every_key_of_a_thread_gets_the_expiry(make_saver: Any) -> None:
    with make_saver(ttl=TTL) as saver:
        configs = put_chain(saver, "t", 3, run_id="r")
        put_chain(saver, "t", 2, ns="sub:1")
        saver.put_writes(configs[-1], [("a", 1)], "task")
        ttls = thread_ttls(saver, "t")
        assert len(ttls) == 10  # t n c m v i j w wx r
        assert all(0 < ttl <= TTL_MS for ttl in ttls.values()), ttls


def test_expired_thread_is_gone_everywhere(make_saver: Any) -> None:
    with make_saver(ttl=TTL) as saver:
        configs = put_chain(saver, "old", 3, run_id="run-old")
        saver.put_writes(configs[-1], [("a", 1)], "task")
        sleep(TTL_MS / 1000 + 0.2)
        assert saver.get_tuple(cfg("old")) is None
        assert [t for t in saver.list({"configurable": {"thread_id": "old"}})] == []
        assert [t for t in saver.list(None)] == []
        assert thread_ttls(saver, "old") == {}


@pytest.mark.standalone
def test_expired_threads_shared_entries_are_swept(make_saver: Any) -> None:
    with make_saver(ttl=TTL) as saver:
        put_chain(saver, "old", 3, run_id="run-old")
        sleep(TTL_MS / 1000 + 0.2)
        # the next write under the prefix sweeps the expired thread's shared entries
        fresh = put_chain(saver, "new", 1)
        keys = keys_under(saver)
        base = saver._pk.global_base
        assert all(k.startswith(saver._thread("new").base) or k.startswith(base) for k in keys)
        assert not any(b"run:" in k for k in keys)
        members = saver._redis.zrange(saver._pk.global_index, 0, -1)
        assert (
            len(members) == 1 and fresh[0]["configurable"]["checkpoint_id"].encode() in members[0]
        )
        assert saver._redis.zrange(base + b"exp", 0, -1) == [saver._thread("new").tag]


def test_writes_and_reads_extend_the_expiry(make_saver: Any) -> None:
    with make_saver(ttl={**TTL, "refresh_on_read": True}) as saver:
        stored = (put_chain(saver, "t", 2))[-1]
        for _ in range(4):
            sleep(TTL_MS / 2000)
            assert saver.get_tuple(cfg("t")) is not None  # refreshes
        saver.put_writes(stored, [("a", 1)], "task")
        ttls = thread_ttls(saver, "t")
        assert len(ttls) == 9 and min(ttls.values()) > TTL_MS / 2  # no run index: no run_id
    with make_saver(ttl=TTL) as saver:
        put_chain(saver, "u", 1)
        sleep(TTL_MS / 2000)
        assert saver.get_tuple(cfg("u")) is not None  # does not refresh
        sleep(TTL_MS / 2000 + 0.15)
        assert saver.get_tuple(cfg("u")) is None


def test_delete_and_prune_clear_the_bookkeeping(make_saver: Any) -> None:
    with make_saver(ttl=TTL) as saver:
        put_chain(saver, "t", 4, run_id="r1")
        saver.prune(["t"], keep_last=1)
        saver.delete_thread("t")
        assert keys_under(saver) == [saver._pk.schema]
