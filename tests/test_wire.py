"""The script runner's short path on its kept connections (aredis_ckpt._wire).

The runner writes each packed EVALSHA straight to the connection's socket or stream and reads
the reply with the connection's own parser.  These tests pin what that must keep of redis-py's
behaviour: which connections take it (redis-py's own classes) and which get redis-py's path,
the socket timeout against a server that stops answering (async: one watchdog per runner, not
a timer per read), a caller's own cancellation, health checks, RESP2 and RESP3 (with push
messages), and redis-py's path as the fallback.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from redis import Redis
from redis.asyncio.connection import Connection as AsyncConnection
from redis.asyncio.connection import SSLConnection as AsyncSSLConnection
from redis.asyncio.connection import UnixDomainSocketConnection as AsyncUnixConnection
from redis.asyncio.sentinel import SentinelManagedConnection as AsyncSentinelConnection
from redis.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import DataError, ResponseError, TimeoutError
from redis.sentinel import SentinelManagedConnection

from aredis_ckpt import AsyncRedisSaver, RedisSaver, _wire
from aredis_ckpt._commands import Command
from aredis_ckpt._server import RedisServer, SentinelServers
from aredis_ckpt._wire import direct_path, pack_command
from test_roundtrips import AsyncCountingConnection, CountingConnection

# the runner keeps no connections of a cluster client (its calls go through redis-py's)
pytestmark = pytest.mark.skipif(
    os.environ.get("AREDIS_TEST_TOPOLOGY") == "cluster", reason="no kept connections on a cluster"
)

# redis-py 5 hands RESP3 push messages to its caller when hiredis parses (it does not
# recognize hiredis' PushNotification): the same on its own path and on the short path.
REDIS_PY = tuple(int(p) for p in redis.__version__.split(".")[:2])


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


MD: Any = {"source": "loop", "step": 1, "parents": {}}


@pytest.fixture
def admin(redis_server: RedisServer) -> Iterator[Redis]:
    """A client of the server the savers write to (with Sentinel: the primary)."""
    client = Redis.from_url(redis_server.url)
    yield client
    client.execute_command("CLIENT", "UNPAUSE")
    client.close()


@pytest.fixture(params=["short", "redis-py"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test on the short path and on redis-py's path (the fallback)."""
    if request.param == "redis-py":
        monkeypatch.setattr(_wire, "direct_path", lambda conn: False)
    return str(request.param)


def kept(saver: Any) -> Any:
    assert saver._runner._idle, "the runner keeps its connection between calls"
    return saver._runner._idle[-1]


def pings(admin: Redis) -> int:
    return int(admin.info("commandstats").get("cmdstat_ping", {}).get("calls", 0))


# ----------------------------------------------------------------------------- which path


def test_redis_py_connection_classes_take_the_short_path() -> None:
    for cls in (Connection, SSLConnection, UnixDomainSocketConnection):
        assert direct_path(cls()), cls
    for acls in (AsyncConnection, AsyncSSLConnection, AsyncUnixConnection):
        assert direct_path(acls()), acls
    assert direct_path(SentinelManagedConnection(connection_pool=None))
    assert direct_path(AsyncSentinelConnection(connection_pool=None))

    class Reading(Connection):
        def read_response(self, *args: Any, **kwargs: Any) -> Any:
            return super().read_response(*args, **kwargs)

    # a class that changes how commands go out or replies come in gets redis-py's path
    for other in (CountingConnection, AsyncCountingConnection, Reading):
        assert not direct_path(other()), other


def test_commands_pack_as_redis_py_packs_them() -> None:
    args = ("EVALSHA", "f" * 40, 2, b"k\x00{t}", "key é", b"\xff" * 3000, 7, -1, 2**70, 0.1, "")
    for conn in (Connection(), AsyncConnection()):
        assert pack_command(conn, args) == b"".join(conn.pack_command(*args))
        # what neither packs is refused with redis-py's error
        with pytest.raises(DataError):
            pack_command(conn, ("EVALSHA", "f" * 40, 0, [1]))


def test_owned_client_talks_on_the_short_path(redis_url: str, key_prefix: str) -> None:
    with RedisSaver.from_conn_string(redis_url, key_prefix=key_prefix) as saver:
        saver.setup()
        saver.put(cfg("t"), checkpoint(1), MD, {"n": "1.0"})
        assert direct_path(kept(saver))


# ----------------------------------------------------------------------------- socket timeout


def _kernel_timeout(sock: socket.socket, option: int) -> float:
    sec, usec = struct.unpack("ll", sock.getsockopt(socket.SOL_SOCKET, option, 16))
    return float(sec + usec / 1e6)


linux_only = pytest.mark.skipif(sys.platform != "linux", reason="kernel socket timeouts: Linux")


@linux_only
def test_kept_socket_has_its_timeout_in_the_kernel(redis_url: str, key_prefix: str) -> None:
    """No poll() before each send and read: the kept socket blocks, and the kernel keeps
    the connection's socket_timeout for each send and each read."""
    args = {"socket_timeout": 0.3}
    with RedisSaver.from_conn_string(redis_url, key_prefix=key_prefix, connection_args=args) as s:
        s.setup()
        s.put(cfg("t"), checkpoint(1), MD, {"n": "1.0"})
        sock = kept(s)._sock
        if type(sock) is not socket.socket:
            pytest.skip("TLS sockets keep Python's timeout")
        assert sock.gettimeout() is None
        assert _kernel_timeout(sock, socket.SO_RCVTIMEO) == pytest.approx(0.3)
        assert _kernel_timeout(sock, socket.SO_SNDTIMEO) == pytest.approx(0.3)
        # redis-py set its own timeout again meanwhile (as its reads with a timeout do):
        # the next call switches back
        sock.settimeout(0.3)
        assert s.get_tuple(cfg("t")) is not None
        assert kept(s)._sock.gettimeout() is None


@linux_only
def test_connections_go_back_to_the_pool_as_redis_py_left_them(
    redis_url: str, key_prefix: str
) -> None:
    """What the runner hands back to the pool has Python's timeout again and no kernel
    timeout, so redis-py's own calls on it behave as they always do."""
    args = {"socket_timeout": 0.3}
    with RedisSaver.from_conn_string(redis_url, key_prefix=key_prefix, connection_args=args) as s:
        s.setup()
        s.put(cfg("t"), checkpoint(1), MD, {"n": "1.0"})
        conn = kept(s)
        sock = conn._sock
        if type(sock) is not socket.socket:
            pytest.skip("TLS sockets keep Python's timeout")
        assert sock.gettimeout() is None
        s._runner.close()  # hands the kept connections back
        assert not s._runner._idle
        assert sock.gettimeout() == pytest.approx(0.3)
        assert _kernel_timeout(sock, socket.SO_RCVTIMEO) == 0
        assert _kernel_timeout(sock, socket.SO_SNDTIMEO) == 0
        # a blocking call through redis-py on it times out as redis-py's calls do
        with pytest.raises(TimeoutError):
            s._runner._client.blpop(["aredis-test-never-filled"], timeout=2)
        # switched again, then redis-py's own timeout set back before the runner hands it
        # over: the kernel's timeout goes all the same
        s.put(cfg("t"), checkpoint(2), MD, {"n": "2.0"})
        conn = kept(s)
        sock = conn._sock
        assert _kernel_timeout(sock, socket.SO_RCVTIMEO) == pytest.approx(0.3)
        sock.settimeout(0.3)
        s._runner.close()
        assert _kernel_timeout(sock, socket.SO_RCVTIMEO) == 0
        assert _kernel_timeout(sock, socket.SO_SNDTIMEO) == 0


def test_stalled_server_times_out(redis_url: str, key_prefix: str, admin: Redis, path: str) -> None:
    args = {"socket_timeout": 0.3, "retry": None}
    with RedisSaver.from_conn_string(redis_url, key_prefix=key_prefix, connection_args=args) as s:
        s.setup()
        stored = s.put(cfg("t"), checkpoint(1), MD, {"n": "1.0"})
        admin.execute_command("CLIENT", "PAUSE", 5000, "WRITE")
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            s.get_tuple(cfg("t"))
        assert 0.25 < time.monotonic() - started < 3
        admin.execute_command("CLIENT", "UNPAUSE")
        tup = s.get_tuple(cfg("t"))  # on a fresh connection: no late reply is read
        assert tup is not None and tup.config == stored


async def test_async_stalled_server_times_out(
    redis_url: str, key_prefix: str, admin: Redis, path: str
) -> None:
    args = {"socket_timeout": 0.3, "retry": None}
    async with AsyncRedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, connection_args=args
    ) as saver:
        await saver.asetup()
        stored = await saver.aput(cfg("t"), checkpoint(1), MD, {"n": "1.0"})
        # calls that answer in time never trip the watchdog
        for i in range(2, 40):
            await saver.aput(cfg("t"), checkpoint(i), MD, {"n": f"{i}.0"})
        admin.execute_command("CLIENT", "PAUSE", 5000, "WRITE")
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await saver.aget_tuple(stored)
        assert 0.25 < time.monotonic() - started < 3
        admin.execute_command("CLIENT", "UNPAUSE")
        tup = await saver.aget_tuple(stored)
        assert tup is not None and tup.config == stored
        wire = saver._runner._wire
        assert wire._deadlines == {} and wire._expired == set()


async def test_async_concurrent_calls_on_a_stalled_server_all_time_out(
    redis_url: str, key_prefix: str, admin: Redis
) -> None:
    """One watchdog, several exchanges in flight: each times out, none hangs."""
    args = {"socket_timeout": 0.3, "retry": None}
    async with AsyncRedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, connection_args=args
    ) as saver:
        await saver.asetup()
        await saver.aput(cfg("t"), checkpoint(1), MD, {"n": "1.0"})
        admin.execute_command("CLIENT", "PAUSE", 5000, "WRITE")
        started = time.monotonic()
        results = await asyncio.gather(
            *(saver.aget_tuple(cfg("t")) for _ in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, TimeoutError) for r in results), results
        assert time.monotonic() - started < 3
        admin.execute_command("CLIENT", "UNPAUSE")
        assert await saver.aget_tuple(cfg("t")) is not None


async def test_async_caller_cancellation_is_not_a_timeout(
    redis_url: str, key_prefix: str, admin: Redis
) -> None:
    """A caller's own timeout cancels the call as usual (not redis' TimeoutError), and the
    connection it was on is not reused with the late reply."""
    async with AsyncRedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, connection_args={"socket_timeout": 5}
    ) as saver:
        await saver.asetup()
        await saver.aput(cfg("a"), checkpoint(1), MD, {"n": "1.0"})
        await saver.aput(cfg("b"), checkpoint(2), MD, {"n": "2.0"})
        admin.execute_command("CLIENT", "PAUSE", 400, "WRITE")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(saver.aget_tuple(cfg("a")), 0.1)
        wire = saver._runner._wire
        assert wire._deadlines == {}
        await asyncio.sleep(0.4)  # the pause ends; the reply to "a" reaches no one
        tup = await saver.aget_tuple(cfg("b"))
        assert tup is not None and tup.checkpoint["channel_values"] == {"n": 2}


# ----------------------------------------------------------------------------- health checks


@pytest.mark.standalone  # Sentinel PINGs the primary too
def test_health_checks_ping_a_kept_connection(
    redis_url: str, key_prefix: str, admin: Redis, path: str
) -> None:
    args = {"health_check_interval": 0.2}
    with RedisSaver.from_conn_string(redis_url, key_prefix=key_prefix, connection_args=args) as s:
        s.setup()
        s.put(cfg("t"), checkpoint(1), MD, {"n": "1.0"})
        before = pings(admin)
        for _ in range(5):
            assert s.get_tuple(cfg("t")) is not None
        busy = pings(admin) - before
        time.sleep(0.3)
        assert s.get_tuple(cfg("t")) is not None
        assert busy <= 1 and pings(admin) - before - busy == 1


@pytest.mark.standalone
async def test_async_health_checks_ping_a_kept_connection(
    redis_url: str, key_prefix: str, admin: Redis, path: str
) -> None:
    args = {"health_check_interval": 0.2}
    async with AsyncRedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, connection_args=args
    ) as saver:
        await saver.asetup()
        await saver.aput(cfg("t"), checkpoint(1), MD, {"n": "1.0"})
        before = pings(admin)
        for _ in range(5):
            assert await saver.aget_tuple(cfg("t")) is not None
        busy = pings(admin) - before
        await asyncio.sleep(0.3)
        assert await saver.aget_tuple(cfg("t")) is not None
        assert busy <= 1 and pings(admin) - before - busy == 1


# ----------------------------------------------------------------------------- RESP2 / RESP3


@pytest.mark.parametrize("protocol", [2, 3])
def test_both_protocols(
    redis_url: str, key_prefix: str, path: str, protocol: int, admin: Redis
) -> None:
    args = {"protocol": protocol}
    with RedisSaver.from_conn_string(redis_url, key_prefix=key_prefix, connection_args=args) as s:
        s.setup()
        stored = s.put(cfg("t"), checkpoint(1), MD, {"n": "1.0"})
        s.put_writes(stored, [("n", 5), ("m", None)], "task")
        tup = s.get_tuple(cfg("t"))
        assert tup is not None and tup.pending_writes == [("task", "n", 5), ("task", "m", None)]
        assert [t.config for t in s.list(cfg("t"))] == [stored]
        assert kept(s).protocol in (protocol, str(protocol))


@pytest.mark.parametrize("protocol", [2, 3])
async def test_async_both_protocols(
    redis_url: str, key_prefix: str, path: str, protocol: int
) -> None:
    args = {"protocol": protocol}
    async with AsyncRedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, connection_args=args
    ) as saver:
        await saver.asetup()
        stored = await saver.aput(cfg("t"), checkpoint(1), MD, {"n": "1.0"})
        await saver.aput_writes(stored, [("n", 5), ("m", None)], "task")
        tup = await saver.aget_tuple(cfg("t"))
        assert tup is not None and tup.pending_writes == [("task", "n", 5), ("task", "m", None)]
        assert [t.config async for t in saver.alist(cfg("t"))] == [stored]


@pytest.mark.skipif(REDIS_PY < (6, 0), reason="redis-py 5 returns hiredis push messages as replies")
async def test_async_resp3_push_message_before_a_reply(
    redis_url: str, key_prefix: str, admin: Redis, path: str
) -> None:
    """A push message (here: a client-tracking invalidation) waiting on the kept connection
    is handled by redis-py's parser, and the exchange returns the reply behind it."""
    async with AsyncRedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, connection_args={"protocol": 3}
    ) as saver:
        await saver.asetup()
        stored = await saver.aput(cfg("t"), checkpoint(1), MD, {"n": "1.0"})
        conn = kept(saver)
        wire = saver._runner._wire
        key = f"{key_prefix}:tracked"
        assert await wire.exchange(conn, pack_command(conn, ("CLIENT", "TRACKING", "ON"))) == b"OK"
        assert await wire.exchange(conn, pack_command(conn, ("GET", key))) is None
        admin.set(key, "changed")  # the server pushes an invalidation to the kept connection
        await asyncio.sleep(0.05)
        tup = await saver.aget_tuple(cfg("t"))
        assert tup is not None and tup.config == stored
        assert kept(saver) is conn


def test_resp3_push_message_before_a_reply(
    redis_url: str, key_prefix: str, admin: Redis, path: str
) -> None:
    if REDIS_PY < (6, 0):
        pytest.skip("redis-py 5 returns hiredis push messages as replies")
    with RedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, connection_args={"protocol": 3}
    ) as saver:
        saver.setup()
        stored = saver.put(cfg("t"), checkpoint(1), MD, {"n": "1.0"})
        conn = kept(saver)
        wire = saver._runner._wire
        key = f"{key_prefix}:tracked"
        assert wire.exchange(conn, pack_command(conn, ("CLIENT", "TRACKING", "ON"))) == b"OK"
        assert wire.exchange(conn, pack_command(conn, ("GET", key))) is None
        admin.set(key, "changed")
        time.sleep(0.05)
        tup = saver.get_tuple(cfg("t"))
        assert tup is not None and tup.config == stored


# ----------------------------------------------------------------------------- Sentinel


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_sentinel_connection_on_a_demoted_primary_finds_the_new_one(
    redis_sentinel: SentinelServers | None, key_prefix: str, path: str, is_async: bool
) -> None:
    """A kept Sentinel-managed connection that ends up on a replica (its primary was demoted)
    gets READONLY for a write: like redis-py, the connection is dropped, and the retry asks
    Sentinel for the primary again, so the write lands."""
    if redis_sentinel is None:
        pytest.skip("needs the Sentinel topology (AREDIS_TEST_TOPOLOGY=sentinel)")
    replica = ("127.0.0.1", redis_sentinel.replica.port)
    if is_async:
        async with AsyncRedisSaver.from_conn_string(
            redis_sentinel.url, key_prefix=key_prefix
        ) as asaver:
            await asaver.asetup()
            await asaver.aput(cfg("t"), checkpoint(1), MD, {"n": "1.0"})
            conn = kept(asaver)
            await conn.disconnect()
            await conn.connect_to(replica)  # as if the primary it talked to was demoted
            stored = await asaver.aput(cfg("t"), checkpoint(2), MD, {"n": "2.0"})
            tup = await asaver.aget_tuple(cfg("t"))
            assert tup is not None and tup.config == stored
            assert kept(asaver).port == redis_sentinel.master.port
        return
    with RedisSaver.from_conn_string(redis_sentinel.url, key_prefix=key_prefix) as saver:
        saver.setup()
        saver.put(cfg("t"), checkpoint(1), MD, {"n": "1.0"})
        conn = kept(saver)
        conn.disconnect()
        conn.connect_to(replica)
        stored = saver.put(cfg("t"), checkpoint(2), MD, {"n": "2.0"})
        tup = saver.get_tuple(cfg("t"))
        assert tup is not None and tup.config == stored
        assert kept(saver).port == redis_sentinel.master.port


# ----------------------------------------------------------------------------- batches


def test_batches_on_the_kept_connection(redis_url: str, key_prefix: str, path: str) -> None:
    """A batch is one write and its replies in order, an error reply in its place; an empty
    batch sends and reads nothing."""
    with RedisSaver.from_conn_string(redis_url, key_prefix=key_prefix) as saver:
        saver.setup()
        key = f"{key_prefix}:k".encode()
        runner = saver._runner
        assert runner.batch([]).replies == []
        result = runner.batch(
            [
                Command(("SET", key, "x"), key),
                Command(("INCR", key), key),
                Command(("GET", key), key),
            ]
        )
        ok, error, value = result.replies
        assert ok is True or ok == b"OK"
        assert isinstance(error, ResponseError) and value == b"x"
        assert runner.batch([]).replies == []
        assert kept(saver) is not None


async def test_async_batches_on_the_kept_connection(
    redis_url: str, key_prefix: str, path: str
) -> None:
    async with AsyncRedisSaver.from_conn_string(redis_url, key_prefix=key_prefix) as saver:
        await saver.asetup()
        key = f"{key_prefix}:k".encode()
        runner = saver._runner
        assert (await runner.batch([])).replies == []
        result = await runner.batch(
            [
                Command(("SET", key, "x"), key),
                Command(("INCR", key), key),
                Command(("GET", key), key),
            ]
        )
        ok, error, value = result.replies
        assert ok is True or ok == b"OK"
        assert isinstance(error, ResponseError) and value == b"x"
        assert kept(saver) is not None
