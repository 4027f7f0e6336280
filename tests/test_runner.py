"""The script runner's kept connections (aredis_ckpt._async.connect.AsyncScriptRunner).

A saver or store that created its own client keeps up to two connections of its pool between
calls (never the pool's last one).  These tests pin what that must never cost: a connection the
server dropped while it was kept is reconnected (or, with retries switched off, the call
raises: nothing is silently missing), a client passed in is never held, closing hands the
connections back, a small pool still serves the client's own commands, and a forked child
never talks on its parent's sockets.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from redis import ConnectionPool, Redis
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import ConnectionError

from aredis_ckpt import AsyncRedisSaver, RedisSaver
from aredis_ckpt._async.connect import IDLE_CONNECTIONS

pytestmark = pytest.mark.standalone


def cfg(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}


def checkpoint(i: int) -> dict[str, Any]:
    return {
        "v": 4,
        "id": f"1ef0000{i:04d}",
        "ts": "2024-01-01T00:00:00+00:00",
        "channel_values": {"n": i},
        "channel_versions": {"n": f"{i}.0"},
        "versions_seen": {},
        "pending_sends": [],
        "updated_channels": ["n"],
    }


def put(saver: RedisSaver, thread_id: str, i: int) -> Any:
    md: Any = {"source": "loop", "step": i, "parents": {}}
    return saver.put(cfg(thread_id), checkpoint(i), md, {"n": f"{i}.0"})


async def aput(saver: AsyncRedisSaver, thread_id: str, i: int) -> Any:
    md: Any = {"source": "loop", "step": i, "parents": {}}
    return await saver.aput(cfg(thread_id), checkpoint(i), md, {"n": f"{i}.0"})


@pytest.fixture
def admin(redis_url: str) -> Iterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    client.close()


def in_use(pool: Any) -> int:
    """Connections the pool counts as handed out (its two layouts in redis-py)."""
    if hasattr(pool, "_in_use_connections"):
        return len(pool._in_use_connections)
    return int(pool.max_connections - pool.pool.qsize())


def kill_other_clients(admin: Redis) -> int:
    return int(admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"))


def from_threads(saver: RedisSaver, threads: int, puts: int) -> None:
    """``threads`` threads at once, each putting ``puts`` checkpoints on a thread of its own and
    reading each back (a failure in any of them fails the caller)."""

    def work(t: int) -> None:
        for i in range(1, puts + 1):
            put(saver, f"t{t}", i)
            assert saver.get_tuple(cfg(f"t{t}")) is not None

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))


def test_kept_connections_are_bounded_and_handed_back(redis_url: str, key_prefix: str) -> None:
    saver = RedisSaver(redis_url, key_prefix=key_prefix)
    saver.setup()
    pool = saver._redis.connection_pool
    from_threads(saver, 8, 29)
    assert 1 <= len(saver._runner._idle) <= IDLE_CONNECTIONS
    assert in_use(pool) == len(saver._runner._idle)
    saver._runner.close()
    assert len(saver._runner._idle) == 0
    assert in_use(pool) == 0
    saver.close()


@pytest.mark.parametrize("pool", [1, 2])
def test_kept_connections_leave_the_client_one_of_its_pool(
    redis_url: str, key_prefix: str, pool: int
) -> None:
    """A small pool: after calls from several threads, the client's own commands (setup()'s
    pipeline, a script load after SCRIPT FLUSH) still find a connection at once.  Kept
    connections used to fill the pool: setup() waited out pool_timeout and failed."""
    saver = RedisSaver(redis_url, key_prefix=key_prefix, max_connections=pool, pool_timeout=2)
    try:
        saver.setup()
        from_threads(saver, 4, 14)
        assert len(saver._runner._idle) <= pool - 1
        saver.setup()  # a pipeline on the client's pool
        saver._redis.script_flush()
        put(saver, "t0", 99)  # NOSCRIPT: the script is loaded through the client
        assert saver.get_tuple(cfg("t0")).checkpoint["id"] == checkpoint(99)["id"]
        saver.delete_thread("t1")
        assert saver.get_tuple(cfg("t1")) is None
    finally:
        saver.close()


async def test_async_kept_connections_leave_the_client_one_of_its_pool(
    redis_url: str, key_prefix: str
) -> None:
    saver = AsyncRedisSaver(redis_url, key_prefix=key_prefix, max_connections=1, pool_timeout=2)
    try:
        await saver.asetup()
        await aput(saver, "t", 1)
        assert await saver.aget_tuple(cfg("t")) is not None
        assert not saver._runner._idle
        await saver.asetup()
        await saver._redis.script_flush()
        await aput(saver, "t", 2)
        tup = await saver.aget_tuple(cfg("t"))
        assert tup is not None and tup.checkpoint["id"] == checkpoint(2)["id"]
    finally:
        await saver.aclose()


def test_dropped_kept_connection_is_reconnected(
    redis_url: str, key_prefix: str, admin: Redis
) -> None:
    with RedisSaver.from_conn_string(redis_url, key_prefix=key_prefix) as saver:
        saver.setup()
        stored = put(saver, "t", 1)
        assert saver._runner._idle, "the runner keeps its connection between calls"
        assert kill_other_clients(admin) >= 1
        tup = saver.get_tuple(stored)
        assert tup is not None and tup.checkpoint["channel_values"] == {"n": 1}
        put(saver, "t", 2)
        assert saver.get_tuple(cfg("t")).checkpoint["channel_values"] == {"n": 2}  # type: ignore[union-attr]


def test_dropped_kept_connection_without_retries_raises(
    redis_url: str, key_prefix: str, admin: Redis
) -> None:
    with RedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, connection_args={"retry": None}
    ) as saver:
        saver.setup()
        put(saver, "t", 1)
        kill_other_clients(admin)
        with pytest.raises(ConnectionError):
            saver.get_tuple(cfg("t"))
        # the dead connection was dropped: the next call reconnects and sees everything
        tup = saver.get_tuple(cfg("t"))
        assert tup is not None and tup.checkpoint["channel_values"] == {"n": 1}


async def test_async_dropped_kept_connection_is_reconnected(
    redis_url: str, key_prefix: str, admin: Redis
) -> None:
    async with AsyncRedisSaver.from_conn_string(redis_url, key_prefix=key_prefix) as saver:
        await saver.asetup()
        stored = await aput(saver, "t", 1)
        assert saver._runner._idle
        assert kill_other_clients(admin) >= 1
        tup = await saver.aget_tuple(stored)
        assert tup is not None and tup.checkpoint["channel_values"] == {"n": 1}
        pool = saver._redis.connection_pool
        assert in_use(pool) == len(saver._runner._idle) == 1
        await saver._runner.aclose()
        assert in_use(pool) == 0


def test_client_passed_in_is_never_held(redis_url: str, key_prefix: str) -> None:
    pool = ConnectionPool.from_url(redis_url)
    client = Redis(connection_pool=pool)
    saver = RedisSaver(redis_client=client, key_prefix=key_prefix)
    saver.setup()
    put(saver, "t", 1)
    assert saver.get_tuple(cfg("t")) is not None
    assert saver._runner._pool is None
    assert in_use(pool) == 0
    client.close()


async def test_async_client_passed_in_is_never_held(redis_url: str, key_prefix: str) -> None:
    client = AsyncRedis.from_url(redis_url)
    saver = AsyncRedisSaver(redis_client=client, key_prefix=key_prefix)
    await saver.asetup()
    await aput(saver, "t", 1)
    assert await saver.aget_tuple(cfg("t")) is not None
    assert saver._runner._pool is None
    assert in_use(client.connection_pool) == 0
    await client.aclose()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
# under pytest-xdist the worker runs execnet's threads; the child only talks to Redis and exits
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_does_not_use_the_parents_connections(redis_url: str, key_prefix: str) -> None:
    with RedisSaver.from_conn_string(redis_url, key_prefix=key_prefix) as saver:
        saver.setup()
        put(saver, "t", 1)
        kept = list(saver._runner._idle)
        assert kept
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report, never return into pytest
            code = 1
            try:
                fresh = not saver._runner._idle
                tup = saver.get_tuple(cfg("t"))
                ok = tup is not None and tup.checkpoint["channel_values"] == {"n": 1}
                mine = all(c not in kept for c in saver._runner._idle)
                code = 0 if fresh and ok and mine else 2
            finally:
                os.write(write, bytes([code]))
                sys.stdout.flush()
                os._exit(0)
        os.close(write)
        _, status = os.waitpid(pid, 0)
        reported = os.read(read, 1)
        os.close(read)
        assert status == 0 and reported == b"\x00", reported
        # the parent's kept connection still works and was never used by the child
        assert saver.get_tuple(cfg("t")) is not None


def test_owned_client_sends_each_call_once(
    redis_url: str, key_prefix: str, server_evalsha: Any
) -> None:
    # the counting connection of the round-trip tests, in the saver's own pool
    from test_roundtrips import SENDS, CountingConnection

    with RedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, connection_args={"connection_class": CountingConnection}
    ) as saver:
        saver.setup()
        stored = put(saver, "t", 1)  # a 9 KB value: still one send
        before_sends, before_server = SENDS["n"], server_evalsha()
        big: Any = {"source": "loop", "step": 2, "parents": {}}
        cp = checkpoint(2)
        cp["channel_values"] = {"n": "x" * 9000}
        stored = saver.put(stored, cp, big, {"n": "2.0"})
        saver.put_writes(stored, [("n", "y")], "task")
        assert saver.get_tuple(stored) is not None
        assert SENDS["n"] - before_sends == 3
        assert server_evalsha() - before_server == 3
        assert saver._runner._pool is not None
