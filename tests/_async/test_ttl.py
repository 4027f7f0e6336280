"""TTL: every key of a thread expires together, and an expired thread leaves nothing behind.

Written once for AsyncRedisSaver; scripts/unasync.py generates the RedisSaver twin.  These
tests wait for real expiry (a few hundred milliseconds).
"""

from __future__ import annotations

from typing import Any

import pytest

from aredis_ckpt import AsyncRedisSaver
from aredis_ckpt._compat import asleep

from .test_saver import cfg, keys_under, put_chain

TTL_MS = 400
TTL = {"default_ttl": TTL_MS / 60_000}


async def thread_ttls(saver: AsyncRedisSaver, thread_id: str) -> dict[bytes, int]:
    found = {}
    for key in saver._thread(thread_id).all:
        ttl = await saver._redis.pttl(key)
        if ttl != -2:  # -2: the key does not exist
            found[key] = ttl
    return found


async def test_every_key_of_a_thread_gets_the_expiry(make_saver: Any) -> None:
    async with make_saver(ttl=TTL) as saver:
        configs = await put_chain(saver, "t", 3, run_id="r")
        await put_chain(saver, "t", 2, ns="sub:1")
        await saver.aput_writes(configs[-1], [("a", 1)], "task")
        ttls = await thread_ttls(saver, "t")
        assert len(ttls) == 10  # t n c m v i j w wx r
        assert all(0 < ttl <= TTL_MS for ttl in ttls.values()), ttls


async def test_expired_thread_is_gone_everywhere(make_saver: Any) -> None:
    async with make_saver(ttl=TTL) as saver:
        configs = await put_chain(saver, "old", 3, run_id="run-old")
        await saver.aput_writes(configs[-1], [("a", 1)], "task")
        await asleep(TTL_MS / 1000 + 0.2)
        assert await saver.aget_tuple(cfg("old")) is None
        assert [t async for t in saver.alist({"configurable": {"thread_id": "old"}})] == []
        assert [t async for t in saver.alist(None)] == []
        assert await thread_ttls(saver, "old") == {}


@pytest.mark.standalone
async def test_expired_threads_shared_entries_are_swept(make_saver: Any) -> None:
    async with make_saver(ttl=TTL) as saver:
        await put_chain(saver, "old", 3, run_id="run-old")
        await asleep(TTL_MS / 1000 + 0.2)
        # the next write under the prefix sweeps the expired thread's shared entries
        fresh = await put_chain(saver, "new", 1)
        keys = await keys_under(saver)
        base = saver._pk.global_base
        assert all(k.startswith(saver._thread("new").base) or k.startswith(base) for k in keys)
        assert not any(b"run:" in k for k in keys)
        members = await saver._redis.zrange(saver._pk.global_index, 0, -1)
        assert (
            len(members) == 1 and fresh[0]["configurable"]["checkpoint_id"].encode() in members[0]
        )
        assert await saver._redis.zrange(base + b"exp", 0, -1) == [saver._thread("new").tag]


async def test_writes_and_reads_extend_the_expiry(make_saver: Any) -> None:
    async with make_saver(ttl={**TTL, "refresh_on_read": True}) as saver:
        stored = (await put_chain(saver, "t", 2))[-1]
        for _ in range(4):
            await asleep(TTL_MS / 2000)
            assert await saver.aget_tuple(cfg("t")) is not None  # refreshes
        await saver.aput_writes(stored, [("a", 1)], "task")
        ttls = await thread_ttls(saver, "t")
        assert len(ttls) == 9 and min(ttls.values()) > TTL_MS / 2  # no run index: no run_id
    async with make_saver(ttl=TTL) as saver:
        await put_chain(saver, "u", 1)
        await asleep(TTL_MS / 2000)
        assert await saver.aget_tuple(cfg("u")) is not None  # does not refresh
        await asleep(TTL_MS / 2000 + 0.15)
        assert await saver.aget_tuple(cfg("u")) is None


async def test_delete_and_prune_clear_the_bookkeeping(make_saver: Any) -> None:
    async with make_saver(ttl=TTL) as saver:
        await put_chain(saver, "t", 4, run_id="r1")
        await saver.aprune(["t"], keep_last=1)
        await saver.adelete_thread("t")
        assert await keys_under(saver) == [saver._pk.schema]
