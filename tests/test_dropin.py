"""Drop-in behaviour for users of ``langgraph-checkpoint-redis`` and of LangGraph's Redis notebooks.

Every saver test runs against both savers: the ``flavor`` fixture hands a test the sync or the
async saver class with the matching redis-py classes, and ``flavor.call(obj, "name", ...)``
runs ``obj.name(...)`` on the sync saver and ``await obj.aname(...)`` on the async one.  The
tests are ``async def`` so that the async saver runs on the test's event loop; the sync saver's
calls simply block it.  Redis is inspected with a plain synchronous ``admin`` client.

Covered: the official constructor keywords (``redis_url``, ``redis_client``,
``connection_args``, ``ttl``, ``checkpoint_prefix``, ``checkpoint_write_prefix``) plus our
``connection_pool``; who closes what; the URL schemes (``redis://``, ``unix://``, ``rediss://``,
``redis+sentinel://`` against a real Sentinel) and malformed URLs; ``prune(keep_last=N)``
against a pure-Python model; ``setup()`` idempotence and its guard on the event loop.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
import pytest
import redis
import redis.asyncio
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple, empty_checkpoint
from langgraph.graph import END, START, StateGraph
from redis.asyncio.sentinel import SentinelConnectionPool as AsyncSentinelConnectionPool
from redis.sentinel import SentinelConnectionPool
from typing_extensions import TypedDict

from aredis_ckpt import AsyncRedisSaver, RedisSaver
from aredis_ckpt._keys import PrefixKeys, escape, value_field
from aredis_ckpt._server import RedisServer, SentinelServers
from aredis_ckpt._urls import SentinelURL, parse_url
from aredis_ckpt.migrate import copy_checkpoints

# ---------------------------------------------------------------------------------- flavors


pytestmark = pytest.mark.standalone


@dataclass(frozen=True)
class Flavor:
    """One saver class with the redis-py classes of its kind, and how to call its methods."""

    name: str
    saver_cls: Any
    redis_cls: Any
    pool_cls: Any
    sentinel_pool_cls: Any
    is_async: bool

    async def call(self, obj: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        """``obj.name(...)`` on the sync saver, ``await obj.aname(...)`` on the async one."""
        if self.is_async:
            return await getattr(obj, "a" + name)(*args, **kwargs)
        return getattr(obj, name)(*args, **kwargs)

    async def list(self, saver: Any, config: RunnableConfig | None) -> list[CheckpointTuple]:
        if self.is_async:
            return [t async for t in saver.alist(config)]
        return list(saver.list(config))

    async def enter(self, stack: AsyncExitStack, cm: Any) -> Any:
        """``with cm`` / ``async with cm`` held open by ``stack``."""
        if self.is_async:
            return await stack.enter_async_context(cm)
        return stack.enter_context(cm)

    async def close_client(self, client: Any) -> None:
        if self.is_async:
            await client.aclose()
        else:
            client.close()

    async def close_pool(self, pool: Any) -> None:
        if self.is_async:
            await pool.aclose()
        else:
            pool.disconnect()


SYNC = Flavor("sync", RedisSaver, redis.Redis, redis.ConnectionPool, SentinelConnectionPool, False)
ASYNC = Flavor(
    "async",
    AsyncRedisSaver,
    redis.asyncio.Redis,
    redis.asyncio.ConnectionPool,
    AsyncSentinelConnectionPool,
    True,
)


@pytest.fixture(params=[SYNC, ASYNC], ids=lambda f: f.name)
def flavor(request: pytest.FixtureRequest) -> Flavor:
    return request.param  # type: ignore[no-any-return]


async def maybe(value: Any) -> Any:
    """Await ``value`` if the (asyncio) client returned an awaitable."""
    if inspect.isawaitable(value):
        return await value
    return value


@pytest.fixture
def admin(redis_url: str) -> Iterator[redis.Redis]:
    """A plain sync client for inspecting the server, whatever the flavor under test."""
    client = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        client.close()


def cfg(thread_id: str, ns: str = "", checkpoint_id: str | None = None) -> RunnableConfig:
    conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns}
    if checkpoint_id is not None:
        conf["checkpoint_id"] = checkpoint_id
    return {"configurable": conf}


async def put_one(
    flavor: Flavor, saver: Any, thread_id: str, value: Any = "v", ns: str = ""
) -> RunnableConfig:
    """One checkpoint (channel ``ch`` = value) with one pending write."""
    cp = empty_checkpoint()
    cp["id"] = f"cp-{uuid.uuid4().hex}"
    cp["channel_values"] = {"ch": value}
    cp["channel_versions"] = {"ch": saver.get_next_version(None, None)}
    stored = await flavor.call(
        saver,
        "put",
        cfg(thread_id, ns),
        cp,
        {"source": "loop", "step": 0, "parents": {}},
        dict(cp["channel_versions"]),
    )
    await flavor.call(saver, "put_writes", stored, [("out", f"w-{value}")], "task-1")
    return stored  # type: ignore[no-any-return]


async def read_back(flavor: Flavor, saver: Any, thread_id: str) -> Any:
    tup = await flavor.call(saver, "get_tuple", cfg(thread_id))
    assert tup is not None
    return tup.checkpoint["channel_values"]["ch"]


def named_connections(admin: redis.Redis, name: str) -> int:
    return sum(1 for c in admin.client_list() if c.get("name") == name)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# ------------------------------------------------------------ the official Getting Started


class GreetState(TypedDict):
    messages: Annotated[list[str], lambda a, b: a + b]


def _greet(state: GreetState) -> dict[str, list[str]]:
    return {"messages": ["Hello! How can I help you?"]}


def _farewell(state: GreetState) -> dict[str, list[str]]:
    return {"messages": ["Goodbye!"]}


def greeting_builder() -> StateGraph[GreetState, Any, Any, Any]:
    builder = StateGraph(GreetState)
    builder.add_node("greet", _greet)
    builder.add_node("farewell", _farewell)
    builder.add_edge(START, "greet")
    builder.add_edge("greet", "farewell")
    builder.add_edge("farewell", END)
    return builder


async def test_official_getting_started_runs_unchanged(
    flavor: Flavor, redis_url: str, key_prefix: str
) -> None:
    """Steps 1-4 of the official tutorial, with only the import changed."""
    config: RunnableConfig = {"configurable": {"thread_id": f"my-first-thread-{key_prefix}"}}
    async with AsyncExitStack() as stack:
        saver = await flavor.enter(stack, flavor.saver_cls.from_conn_string(redis_url))
        await flavor.call(saver, "setup")
        graph = greeting_builder().compile(checkpointer=saver)
        if flavor.is_async:
            result = await graph.ainvoke({"messages": ["Hi there"]}, config)
        else:
            result = graph.invoke({"messages": ["Hi there"]}, config)
        assert result["messages"] == ["Hi there", "Hello! How can I help you?", "Goodbye!"]
    async with AsyncExitStack() as stack:  # Step 3 and 4 open a new saver on the same URL
        saver = await flavor.enter(stack, flavor.saver_cls.from_conn_string(redis_url))
        await flavor.call(saver, "setup")
        tup = await flavor.call(saver, "get_tuple", config)
        assert tup is not None and tup.metadata["step"] == 2
        assert tup.checkpoint["channel_values"]["messages"] == result["messages"]
        steps = [t.metadata.get("step") for t in await flavor.list(saver, config)]
        assert steps == [2, 1, 0, -1]
        await flavor.call(saver, "delete_thread", config["configurable"]["thread_id"])


# --------------------------------------------------------------- clients and pools you own

SOURCES = [
    "client-positional",
    "client-redis_client",
    "pool-positional",
    "pool-redis_client",
    "pool-connection_pool",
]


def _make_source(flavor: Flavor, kind: str, redis_url: str, name: str) -> Any:
    cls = flavor.redis_cls if kind.startswith("client") else flavor.pool_cls
    return cls.from_url(redis_url, client_name=name)


def _construct(flavor: Flavor, kind: str, source: Any, key_prefix: str) -> Any:
    how = kind.split("-", 1)[1]
    if how == "positional":
        return flavor.saver_cls(source, key_prefix=key_prefix)
    return flavor.saver_cls(**{how: source}, key_prefix=key_prefix)


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("ending", ["close", "context"])
async def test_saver_never_closes_a_client_or_pool_passed_in(
    flavor: Flavor, kind: str, ending: str, redis_url: str, key_prefix: str, admin: redis.Redis
) -> None:
    name = f"mine-{uuid.uuid4().hex[:12]}"
    source = _make_source(flavor, kind, redis_url, name)
    # on a pool, look through a client of our own (which leaves the pool open when closed)
    probe = source if kind.startswith("client") else flavor.redis_cls(connection_pool=source)
    try:
        before = await maybe(probe.client_id())
        saver = _construct(flavor, kind, source, key_prefix)
        if ending == "close":
            await flavor.call(saver, "setup")
            await put_one(flavor, saver, "t", "one")
            await flavor.call(saver, "close")
            await flavor.call(saver, "close")  # twice is harmless
        else:
            async with AsyncExitStack() as stack:
                entered = await flavor.enter(stack, saver)
                assert entered is saver
                await flavor.call(saver, "setup")
                await put_one(flavor, saver, "t", "one")
        # the connection the saver used is still open: same server-side id, still named ours
        assert named_connections(admin, name) >= 1
        assert await maybe(probe.client_id()) == before
        assert await maybe(probe.ping())
        # and a new saver on the same source still works
        again = _construct(flavor, kind, source, key_prefix)
        assert await read_back(flavor, again, "t") == "one"
    finally:
        if probe is not source:
            await flavor.close_client(probe)
        if kind.startswith("client"):
            await flavor.close_client(source)
        else:
            await flavor.close_pool(source)
    assert wait_until(lambda: named_connections(admin, name) == 0)


URL_ENDINGS = ["positional-close", "redis_url-close", "redis_url-context", "from_conn_string"]


@pytest.mark.parametrize("ending", URL_ENDINGS)
async def test_saver_closes_the_client_it_made_from_a_url(
    flavor: Flavor, ending: str, redis_url: str, key_prefix: str, admin: redis.Redis
) -> None:
    name = f"owned-{uuid.uuid4().hex[:12]}"
    args = {"client_name": name, "socket_timeout": 5}
    kwargs: dict[str, Any] = {"key_prefix": key_prefix, "connection_args": args}
    if ending == "from_conn_string":
        async with AsyncExitStack() as stack:
            saver = await flavor.enter(
                stack, flavor.saver_cls.from_conn_string(redis_url, **kwargs)
            )
            await flavor.call(saver, "setup")
            await put_one(flavor, saver, "t")
            assert named_connections(admin, name) >= 1
    else:
        how, end = ending.split("-")
        if how == "positional":
            saver = flavor.saver_cls(redis_url, **kwargs)
        else:
            saver = flavor.saver_cls(redis_url=redis_url, **kwargs)
        # connection_args reach the client the saver builds
        assert saver._redis.connection_pool.connection_kwargs["socket_timeout"] == 5
        if end == "close":
            await flavor.call(saver, "setup")
            await put_one(flavor, saver, "t")
            assert named_connections(admin, name) >= 1
            await flavor.call(saver, "close")
            await flavor.call(saver, "close")
        else:
            async with AsyncExitStack() as stack:
                await flavor.enter(stack, saver)
                await flavor.call(saver, "setup")
                await put_one(flavor, saver, "t")
                assert named_connections(admin, name) >= 1
    assert wait_until(lambda: named_connections(admin, name) == 0), "owned client left open"


async def test_connection_args_reach_the_client(
    flavor: Flavor, redis_url: str, key_prefix: str
) -> None:
    async with AsyncExitStack() as stack:
        saver = await flavor.enter(
            stack,
            flavor.saver_cls.from_conn_string(
                redis_url,
                key_prefix=key_prefix,
                connection_args={"socket_timeout": 5, "socket_connect_timeout": 3},
            ),
        )
        kwargs = saver._redis.connection_pool.connection_kwargs
        assert kwargs["socket_timeout"] == 5 and kwargs["socket_connect_timeout"] == 3
        await flavor.call(saver, "setup")
        await put_one(flavor, saver, "t", 7)
        assert await read_back(flavor, saver, "t") == 7
    with pytest.raises(ValueError, match="decode_responses"):
        flavor.saver_cls(redis_url, connection_args={"decode_responses": True})


async def test_only_one_connection_source(flavor: Flavor, redis_url: str) -> None:
    client = flavor.redis_cls.from_url(redis_url)
    try:
        with pytest.raises(ValueError, match="only one"):
            flavor.saver_cls(redis_url, redis_client=client)
        with pytest.raises(ValueError, match="redis_client"):
            flavor.saver_cls()
        other = SYNC if flavor.is_async else ASYNC
        foreign = other.redis_cls.from_url(redis_url)
        try:
            with pytest.raises(TypeError, match="asyncio or not"):
                flavor.saver_cls(foreign)
        finally:
            await other.close_client(foreign)
    finally:
        await flavor.close_client(client)


# ------------------------------------------------------------------------ ttl and prefixes


async def test_ttl_expires_every_key_of_the_thread_and_refreshes_on_read(
    flavor: Flavor, redis_url: str, key_prefix: str, admin: redis.Redis
) -> None:
    ttl = {"default_ttl": 1, "refresh_on_read": True}
    async with AsyncExitStack() as stack:
        saver = await flavor.enter(
            stack, flavor.saver_cls(redis_url, ttl=ttl, checkpoint_prefix=key_prefix)
        )
        await flavor.call(saver, "setup")
        await put_one(flavor, saver, "t")
        keys = [k for k in saver._thread("t").all if admin.exists(k)]
        assert len(keys) >= 8
        for key in keys:
            assert 0 < admin.pttl(key) <= 60_000, key
        for key in keys:
            admin.pexpire(key, 5_000)
        assert await read_back(flavor, saver, "t") == "v"
        for key in keys:
            assert admin.pttl(key) > 50_000, key  # refreshed by the read
    # without refresh_on_read a read leaves the expiry alone
    async with AsyncExitStack() as stack:
        saver = await flavor.enter(
            stack, flavor.saver_cls(redis_url, ttl={"default_ttl": 1}, key_prefix=key_prefix)
        )
        for key in keys:
            admin.pexpire(key, 5_000)
        assert await read_back(flavor, saver, "t") == "v"
        assert all(0 < admin.pttl(key) <= 5_000 for key in keys)
    with pytest.raises(ValueError, match="default_ttl"):
        flavor.saver_cls(redis_url, ttl={"default_ttl": -1})
    with pytest.raises(ValueError, match="unknown ttl"):
        flavor.saver_cls(redis_url, ttl={"default": 1})


def _keys_under(admin: redis.Redis, prefix: str) -> list[bytes]:
    return sorted(admin.scan_iter(match=prefix.encode() + b"*", count=1000))


async def test_checkpoint_prefix_is_where_the_data_lands(
    flavor: Flavor, redis_url: str, admin: redis.Redis
) -> None:
    prefix = f"cp-{uuid.uuid4().hex[:10]}"
    write_prefix = f"cw-{uuid.uuid4().hex[:10]}"
    thread = f"t-{uuid.uuid4().hex[:8]}"
    async with AsyncExitStack() as stack:
        saver = await flavor.enter(
            stack,
            flavor.saver_cls.from_conn_string(
                redis_url, checkpoint_prefix=prefix, checkpoint_write_prefix=write_prefix
            ),
        )
        assert saver.key_prefix == prefix
        await flavor.call(saver, "setup")
        stored = await put_one(flavor, saver, thread)
        tup = await flavor.call(saver, "get_tuple", stored)
        assert tup.pending_writes == [("task-1", "out", "w-v")]
        keys = _keys_under(admin, prefix + ":")
        thread_keys = {k for k in saver._thread(thread).all if admin.exists(k)}
        assert len(thread_keys) >= 8 and thread_keys <= set(keys)
        bucket = saver._bucket(saver._thread(thread))
        assert all(
            k in thread_keys or k == saver._pk.schema or k.startswith(bucket.base) for k in keys
        )
        # checkpoint_write_prefix is accepted and has no effect: the writes live with the thread
        assert _keys_under(admin, write_prefix) == []
        assert admin.hlen(saver._thread(thread).all[7]) == 1
        # the default prefix saw nothing of this thread
        default_keys = PrefixKeys(b"aredis").thread(thread).all
        assert not any(admin.exists(k) for k in default_keys)
        await flavor.call(saver, "delete_thread", thread)


async def test_prefix_keywords(flavor: Flavor, redis_url: str, key_prefix: str) -> None:
    same = flavor.saver_cls(redis_url, key_prefix=key_prefix, checkpoint_prefix=key_prefix)
    assert same.key_prefix == key_prefix
    await flavor.call(same, "close")
    with pytest.raises(ValueError, match="checkpoint_prefix"):
        flavor.saver_cls(redis_url, key_prefix="a", checkpoint_prefix="b")
    with pytest.raises(TypeError, match="checkpoint_write_prefix"):
        flavor.saver_cls(redis_url, checkpoint_write_prefix=3)
    alone = flavor.saver_cls(redis_url, checkpoint_write_prefix="checkpoint_write")
    assert alone.key_prefix == "aredis"
    await flavor.call(alone, "close")


# -------------------------------------------------------------------------------- setup


async def test_setup_is_idempotent(flavor: Flavor, redis_url: str, key_prefix: str) -> None:
    async with AsyncExitStack() as stack:
        saver = await flavor.enter(
            stack, flavor.saver_cls.from_conn_string(redis_url, key_prefix=key_prefix)
        )
        await flavor.call(saver, "setup")
        await flavor.call(saver, "setup")
        await put_one(flavor, saver, "t", "kept")
        await flavor.call(saver, "setup")
        assert await read_back(flavor, saver, "t") == "kept"
    async with AsyncExitStack() as stack:  # another saver, another setup: same data
        saver = await flavor.enter(
            stack, flavor.saver_cls.from_conn_string(redis_url, key_prefix=key_prefix)
        )
        await flavor.call(saver, "setup")
        assert await read_back(flavor, saver, "t") == "kept"


async def test_sync_setup_on_the_async_saver_names_asetup(redis_url: str, key_prefix: str) -> None:
    async with AsyncRedisSaver.from_conn_string(redis_url, key_prefix=key_prefix) as saver:
        # before the saver ever ran on a loop, and after: both refuse on the loop's thread
        with pytest.raises(asyncio.InvalidStateError, match="asetup"):
            saver.setup()
        await saver.asetup()
        with pytest.raises(asyncio.InvalidStateError, match="asetup"):
            saver.setup()
        with pytest.raises(asyncio.InvalidStateError, match="aget_tuple"):
            saver.get_tuple(cfg("t"))
        # from another thread the sync names are bridged onto the saver's loop
        await anyio.to_thread.run_sync(saver.setup)
        await put_one(ASYNC, saver, "t", "bridged")
        tup = await anyio.to_thread.run_sync(saver.get_tuple, cfg("t"))
        assert tup is not None and tup.checkpoint["channel_values"]["ch"] == "bridged"


async def test_async_names_on_the_sync_saver_point_at_async_redis_saver(
    redis_url: str, key_prefix: str
) -> None:
    with RedisSaver.from_conn_string(redis_url, key_prefix=key_prefix) as saver:
        with pytest.raises(NotImplementedError, match="AsyncRedisSaver"):
            await saver.asetup()
        saver.setup()


# ----------------------------------------------------------------------------- URL schemes


@pytest.fixture(scope="module")
def unix_server() -> Iterator[tuple[RedisServer, str]]:
    # AF_UNIX paths are limited to ~107 bytes: keep it short, outside pytest's tmp_path
    workdir = tempfile.mkdtemp(prefix="ardi-")
    path = os.path.join(workdir, "redis.sock")
    server = RedisServer(
        os.environ.get("AREDIS_REDIS_SERVER") or None,
        extra_args=["--unixsocket", path, "--unixsocketperm", "700"],
    )
    server.start()
    try:
        yield server, path
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("db", [None, 2])
async def test_unix_socket_url(
    flavor: Flavor, unix_server: tuple[RedisServer, str], key_prefix: str, db: int | None
) -> None:
    _, path = unix_server
    url = f"unix://{path}" + (f"?db={db}" if db is not None else "")
    async with AsyncExitStack() as stack:
        saver = await flavor.enter(
            stack, flavor.saver_cls.from_conn_string(url, key_prefix=key_prefix)
        )
        await flavor.call(saver, "setup")
        await put_one(flavor, saver, "t", "over a socket")
        assert await read_back(flavor, saver, "t") == "over a socket"
        thread_keys = saver._thread("t").all
    inspector = redis.Redis(unix_socket_path=path, db=db or 0)
    try:
        assert inspector.exists(*thread_keys) >= 8
    finally:
        inspector.close()


@pytest.mark.parametrize("via", ["constructor", "from_conn_string"])
async def test_rediss_url_builds_a_tls_client_without_connecting(flavor: Flavor, via: str) -> None:
    # No TLS server here: construction must not connect, and must pick TLS connections.
    url = "rediss://user:pw@127.0.0.1:6390/3"
    args = {"ssl_cert_reqs": "none"}
    async with AsyncExitStack() as stack:
        if via == "constructor":
            saver = flavor.saver_cls(url, connection_args=args)
            stack.push_async_callback(flavor.call, saver, "close")
        else:
            saver = await flavor.enter(
                stack, flavor.saver_cls.from_conn_string(url, connection_args=args)
            )
        pool = saver._redis.connection_pool
        assert "SSL" in pool.connection_class.__name__
        kwargs = pool.connection_kwargs
        assert kwargs["db"] == 3 and kwargs["port"] == 6390 and kwargs["ssl_cert_reqs"] == "none"


async def test_sentinel_url_builds_a_sentinel_client_without_connecting(flavor: Flavor) -> None:
    saver = flavor.saver_cls(
        "rediss+sentinel://us%40er:p%3Aw@127.0.0.1:1,[::1]:2/my%20master/3",
        connection_args={"socket_timeout": 4},
    )
    try:
        pool = saver._redis.connection_pool
        assert isinstance(pool, flavor.sentinel_pool_cls)
        assert pool.service_name == "my master"
        assert "SSL" in pool.connection_class.__name__
        kwargs = pool.connection_kwargs
        assert kwargs["db"] == 3 and kwargs["socket_timeout"] == 4
        assert kwargs["username"] == "us@er" and kwargs["password"] == "p:w"
    finally:
        await flavor.call(saver, "close")


SENTINEL_CASES: list[tuple[str, SentinelURL]] = [
    (
        "redis+sentinel://host:26379/mymaster/0",
        SentinelURL((("host", 26379),), "mymaster", 0, None, None, False),
    ),
    (
        "redis+sentinel://host/mymaster",  # default port and db
        SentinelURL((("host", 26379),), "mymaster", 0, None, None, False),
    ),
    (
        "redis+sentinel://a:26379,b:26380,c/svc/5",
        SentinelURL((("a", 26379), ("b", 26380), ("c", 26379)), "svc", 5, None, None, False),
    ),
    (
        "redis+sentinel://[::1]:26380,[fe80::1]/svc/1",
        SentinelURL((("::1", 26380), ("fe80::1", 26379)), "svc", 1, None, None, False),
    ),
    (
        "redis+sentinel://user:secret@host:26379/svc/2",
        SentinelURL((("host", 26379),), "svc", 2, "user", "secret", False),
    ),
    (
        "redis+sentinel://:secret@host/svc",  # password only
        SentinelURL((("host", 26379),), "svc", 0, None, "secret", False),
    ),
    (
        "redis+sentinel://user@host/svc",  # username only
        SentinelURL((("host", 26379),), "svc", 0, "user", None, False),
    ),
    (
        "redis+sentinel://us%40er:p%3Aw%2F@host/my%20svc/",  # percent-encoded, trailing slash
        SentinelURL((("host", 26379),), "my svc", 0, "us@er", "p:w/", False),
    ),
    (
        "rediss+sentinel://host:26379/svc/0",
        SentinelURL((("host", 26379),), "svc", 0, None, None, True),
    ),
    (
        "REDIS+SENTINEL://host/svc",  # schemes are case-insensitive
        SentinelURL((("host", 26379),), "svc", 0, None, None, False),
    ),
]


@pytest.mark.parametrize(("url", "expected"), SENTINEL_CASES, ids=[c[0] for c in SENTINEL_CASES])
def test_parse_sentinel_urls(url: str, expected: SentinelURL) -> None:
    assert parse_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["redis://h:6379/0", "rediss://h/1", "unix:///tmp/r.sock?db=1", "redis://"],
)
def test_plain_urls_are_left_to_redis_py(url: str) -> None:
    assert parse_url(url) is None


SECRET = "pw-Very-Secret"

BAD_URLS: list[tuple[str, str]] = [
    ("http://x", "scheme must be one of"),
    (f"http://user:{SECRET}@x", "scheme must be one of"),
    ("redis+sentinel://host:26379", "no service name"),
    ("redis+sentinel://host:26379/", "no service name"),
    ("redis+sentinel:///svc", "no Sentinel host"),
    ("redis+sentinel://host:99999/svc", "not a number from 1 to 65535"),
    ("redis+sentinel://host:0/svc", "not a number from 1 to 65535"),
    ("redis+sentinel://host:abc/svc", "port 'abc'"),
    (f"redis+sentinel://user:{SECRET}@host:bad/svc", "port 'bad'"),
    ("redis+sentinel://a,,b/svc", "empty host"),
    ("redis+sentinel://[::1]x/svc", "unexpected text after IPv6 host"),
    ("redis+sentinel://host/svc/abc", "database 'abc' is not a number"),
    (f"redis+sentinel://:{SECRET}@host/svc/-1", "database '-1' is not a number"),
    ("redis+sentinel://host/svc/0/extra", "/service_name or /service_name/db"),
    (f"redis+sentinel://u:{SECRET}@host/a/b/c", "/service_name or /service_name/db"),
    ("", "non-empty"),
]


@pytest.mark.parametrize(("url", "why"), BAD_URLS, ids=[u or "<empty>" for u, _ in BAD_URLS])
def test_parse_url_rejects_malformed_urls(url: str, why: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_url(url)
    message = str(info.value)
    assert why in message
    assert SECRET not in message


@pytest.mark.parametrize(("url", "why"), BAD_URLS, ids=[u or "<empty>" for u, _ in BAD_URLS])
async def test_savers_reject_malformed_urls_before_connecting(
    flavor: Flavor, url: str, why: str
) -> None:
    with pytest.raises(ValueError) as info:
        flavor.saver_cls(url)
    assert why in str(info.value) and SECRET not in str(info.value)
    with pytest.raises(ValueError) as info:
        async with AsyncExitStack() as stack:
            await flavor.enter(stack, flavor.saver_cls.from_conn_string(url))
    assert why in str(info.value) and SECRET not in str(info.value)
    with pytest.raises(ValueError):
        flavor.saver_cls(redis_url=url)


# Gaps found while building the drop-in, fixed since; kept as regression tests.


@pytest.mark.parametrize("sep", ["/", "?", "#"])
def test_password_with_reserved_characters_is_not_echoed(sep: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_url(f"redis+sentinel://user:{SECRET}{sep}rest@host:26379/svc")
    assert SECRET not in str(info.value)


def test_password_in_query_string_is_not_echoed() -> None:
    with pytest.raises(ValueError) as info:
        parse_url(f"redis+sentinel://host/svc/abc?password={SECRET}")
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("url", ["redis://h/abc", "redis://h/1/2", "rediss://h/0/x"])
def test_plain_url_with_bad_db_path_is_rejected(url: str) -> None:
    with pytest.raises(ValueError, match=r"db|database|path"):
        parse_url(url)


@pytest.mark.parametrize("keyword", ["redis_url", "redis_client"])
async def test_from_conn_string_takes_the_official_keywords(
    flavor: Flavor, redis_url: str, keyword: str
) -> None:
    source: Any = redis_url if keyword == "redis_url" else flavor.redis_cls.from_url(redis_url)
    try:
        async with AsyncExitStack() as stack:
            saver = await flavor.enter(
                stack, flavor.saver_cls.from_conn_string(**{keyword: source})
            )
            await flavor.call(saver, "setup")
        if keyword == "redis_client":  # a client passed in stays open
            assert await maybe(source.ping())
    finally:
        if keyword == "redis_client":
            await flavor.close_client(source)


async def test_checkpoint_blob_prefix_is_accepted(flavor: Flavor, redis_url: str) -> None:
    saver = flavor.saver_cls(redis_url, checkpoint_blob_prefix="checkpoint_blob")
    await flavor.call(saver, "close")


# --------------------------------------------------------------------- a real Sentinel


@pytest.fixture(scope="module")
def sentinel_url() -> Iterator[str]:
    """A private master, replica and Sentinel monitoring them as ``mymaster``."""
    with SentinelServers(os.environ.get("AREDIS_REDIS_SERVER") or None) as servers:
        yield servers.url


async def test_sentinel_url_end_to_end(flavor: Flavor, sentinel_url: str, key_prefix: str) -> None:
    async with AsyncExitStack() as stack:
        saver = await flavor.enter(
            stack, flavor.saver_cls.from_conn_string(sentinel_url, key_prefix=key_prefix)
        )
        await flavor.call(saver, "setup")
        await put_one(flavor, saver, "t", "via sentinel")
        assert await read_back(flavor, saver, "t") == "via sentinel"
        graph = greeting_builder().compile(checkpointer=saver)
        config: RunnableConfig = {"configurable": {"thread_id": "g"}}
        if flavor.is_async:
            result = await graph.ainvoke({"messages": ["Hi"]}, config)
        else:
            result = graph.invoke({"messages": ["Hi"]}, config)
        assert result["messages"][-1] == "Goodbye!"
        owned = list(saver._owned)
        assert len(owned) == 2  # the Sentinel's client and the master's
    assert saver._owned == []


# ----------------------------------------------------------------------- prune, vs a model

NAMESPACES = ["", "sub:1", "tools|{x}"]
CHANNELS = ["messages", "a:b", "{tag}", "é"]


@dataclass
class Cp:
    ns: str
    cid: str
    parent: str | None
    values: dict[str, Any]
    versions: dict[str, str]
    writes: list[tuple[str, str, Any]] = field(default_factory=list)


@dataclass
class ThreadModel:
    thread_id: str
    checkpoints: list[Cp] = field(default_factory=list)

    def in_ns(self, ns: str) -> list[Cp]:
        return [c for c in self.checkpoints if c.ns == ns]

    def kept(self, keep: int) -> dict[str, list[str]]:
        """The model of prune: the newest ``keep`` checkpoint ids of each namespace."""
        return {
            ns: sorted((c.cid for c in self.in_ns(ns)), reverse=True)[:keep]
            for ns in {c.ns for c in self.checkpoints}
        }


async def build_thread(
    flavor: Flavor, saver: Any, thread_id: str, rng: random.Random, counter: Iterator[int]
) -> ThreadModel:
    """Random-length chains with forks in several namespaces, put interleaved, with writes."""
    model = ThreadModel(thread_id)
    budget = {ns: rng.randint(1, 8) for ns in NAMESPACES}
    while any(budget.values()):
        ns = rng.choice([n for n, left in budget.items() if left])
        budget[ns] -= 1
        earlier = model.in_ns(ns)
        # mostly continue the newest checkpoint, sometimes fork from an older one
        parent = None
        if earlier:
            parent = earlier[-1] if rng.random() < 0.7 else rng.choice(earlier)
        values = dict(parent.values) if parent else {}
        versions = dict(parent.versions) if parent else {}
        changed = CHANNELS if parent is None else rng.sample(CHANNELS, rng.randint(0, 2))
        for ch in changed:
            versions[ch] = saver.get_next_version(versions.get(ch), None)
            values[ch] = {"ns": ns, "ch": ch, "n": next(counter), "r": rng.random()}
        cid = f"{next(counter):06d}-{rng.choice(['a', 'b:c', '{d}', 'é'])}"
        cp = empty_checkpoint()
        cp["id"] = cid
        cp["channel_values"] = dict(values)
        cp["channel_versions"] = dict(versions)
        step = len(earlier)
        stored = await flavor.call(
            saver,
            "put",
            cfg(thread_id, ns, parent.cid if parent else None),
            cp,
            {"source": "loop", "step": step, "parents": {}},
            {ch: versions[ch] for ch in changed},
        )
        rec = Cp(ns, cid, parent.cid if parent else None, values, versions)
        for t in range(rng.choice([0, 0, 1, 2])):
            task = f"task-{t}"
            writes = [(f"out{i}", f"{cid}/{task}/{i}") for i in range(rng.randint(1, 3))]
            await flavor.call(saver, "put_writes", stored, writes, task)
            rec.writes.extend((task, ch, v) for ch, v in writes)
        model.checkpoints.append(rec)
    return model


async def check_pruned(
    flavor: Flavor, saver: Any, admin: redis.Redis, model: ThreadModel, keep: int
) -> None:
    tid = model.thread_id
    kept = model.kept(keep)
    kept_ids = {cid for ids in kept.values() for cid in ids}
    # what list() shows, per namespace and across the thread
    for ns, ids in kept.items():
        listed = [
            t.config["configurable"]["checkpoint_id"]
            for t in await flavor.list(saver, cfg(tid, ns))
        ]
        assert listed == ids, f"namespace {ns!r}"
    whole = await flavor.list(saver, {"configurable": {"thread_id": tid}})
    assert {t.config["configurable"]["checkpoint_id"] for t in whole} == kept_ids
    everywhere = [
        t for t in await flavor.list(saver, None) if t.config["configurable"]["thread_id"] == tid
    ]
    assert {t.config["configurable"]["checkpoint_id"] for t in everywhere} == kept_ids
    # each kept checkpoint reads back whole; each dropped one is gone
    for cp in model.checkpoints:
        tup = await flavor.call(saver, "get_tuple", cfg(tid, cp.ns, cp.cid))
        if cp.cid not in kept_ids:
            assert tup is None, cp.cid
            continue
        assert tup is not None, cp.cid
        assert tup.checkpoint["channel_values"] == cp.values
        assert tup.checkpoint["channel_versions"] == cp.versions
        assert sorted(tup.pending_writes) == sorted(cp.writes)
        parent = tup.parent_config["configurable"]["checkpoint_id"] if tup.parent_config else None
        assert parent == cp.parent
    # Redis itself: only the kept checkpoints' records, writes and values remain
    keys = saver._thread(tid).all
    remaining = [cp for cp in model.checkpoints if cp.cid in kept_ids]
    referenced = {
        value_field(escape(cp.ns), ch, ver) for cp in remaining for ch, ver in cp.versions.items()
    }
    stored_fields = set(admin.hkeys(keys[4]))
    assert stored_fields - referenced == set(), "values no remaining checkpoint references"
    assert referenced - stored_fields == set(), "values a remaining checkpoint needs"
    assert admin.hlen(keys[2]) == admin.hlen(keys[3]) == len(remaining)
    assert admin.zcard(keys[5]) == admin.zcard(keys[6]) == len(remaining)
    n_writes = sum(len(cp.writes) for cp in remaining)
    assert admin.hlen(keys[7]) == admin.zcard(keys[8]) == n_writes
    assert admin.hlen(keys[1]) == len(kept)
    assert {admin.hget(keys[1], escape(ns)) for ns in kept} == {ns.encode() for ns in kept}


@pytest.mark.parametrize("keep_last", [1, 2, 3, 4, 5])
async def test_prune_keep_last_matches_the_model(
    flavor: Flavor, keep_last: int, redis_url: str, key_prefix: str, admin: redis.Redis
) -> None:
    counter = iter(range(1, 1_000_000))
    async with AsyncExitStack() as stack:
        saver = await flavor.enter(
            stack, flavor.saver_cls.from_conn_string(redis_url, key_prefix=key_prefix)
        )
        await flavor.call(saver, "setup")
        for seed in range(4):
            rng = random.Random(f"{keep_last}-{seed}")
            pruned = [
                await build_thread(flavor, saver, f"t{seed}-{i}:{{x}}", rng, counter)
                for i in range(2)
            ]
            bystander = await build_thread(flavor, saver, f"b{seed}", rng, counter)
            await flavor.call(saver, "prune", [m.thread_id for m in pruned], keep_last=keep_last)
            for model in pruned:
                await check_pruned(flavor, saver, admin, model, keep_last)
            # pruning again changes nothing; a larger keep_last brings nothing back
            await flavor.call(saver, "prune", [pruned[0].thread_id], keep_last=keep_last)
            await flavor.call(saver, "prune", [pruned[0].thread_id], keep_last=keep_last + 3)
            await check_pruned(flavor, saver, admin, pruned[0], keep_last)
            # the thread that was not named keeps everything
            await check_pruned(flavor, saver, admin, bystander, 1_000)


async def test_prune_default_and_delete_strategy(
    flavor: Flavor, redis_url: str, key_prefix: str, admin: redis.Redis
) -> None:
    counter = iter(range(1, 1_000_000))
    async with AsyncExitStack() as stack:
        saver = await flavor.enter(
            stack, flavor.saver_cls.from_conn_string(redis_url, key_prefix=key_prefix)
        )
        await flavor.call(saver, "setup")
        rng = random.Random("default")
        model = await build_thread(flavor, saver, "t", rng, counter)
        other = await build_thread(flavor, saver, "o", rng, counter)
        await flavor.call(saver, "prune", ["t"])  # official default: keep the latest one
        await check_pruned(flavor, saver, admin, model, 1)
        await flavor.call(saver, "prune", ["t", "o"], strategy="delete")
        assert await flavor.list(saver, {"configurable": {"thread_id": "t"}}) == []
        assert await flavor.list(saver, {"configurable": {"thread_id": "o"}}) == []
        assert not any(admin.exists(k) for k in saver._thread("t").all + saver._thread("o").all)
        assert other.checkpoints  # built, then deleted
        with pytest.raises(ValueError, match="keep_last"):
            await flavor.call(saver, "prune", ["t"], keep_last=0)
        with pytest.raises(ValueError, match="strategy"):
            await flavor.call(saver, "prune", ["t"], strategy="oldest")


# ------------------------------------------- moving a thread in (docs/migrating.md, migrate)


class AskState(TypedDict):
    messages: Annotated[list[str], lambda a, b: a + b]


def _ask(state: AskState) -> dict[str, list[str]]:
    from langgraph.types import interrupt

    answer = interrupt("continue?")
    return {"messages": [f"human said {answer}"]}


def interrupted_graph(checkpointer: Any) -> Any:
    inner = StateGraph(AskState)
    inner.add_node("ask", _ask)
    inner.add_edge(START, "ask")
    outer = StateGraph(AskState)
    outer.add_node("greet", _greet)
    outer.add_node("sub", inner.compile())  # a subgraph: checkpoints in a second namespace
    outer.add_edge(START, "greet")
    outer.add_edge("greet", "sub")
    outer.add_edge("sub", END)
    return outer.compile(checkpointer=checkpointer)


def test_migration_recipe_moves_an_interrupted_thread(redis_url: str, key_prefix: str) -> None:
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.types import Command

    old = InMemorySaver()  # stands in for any BaseCheckpointSaver you migrate from
    config: RunnableConfig = {"configurable": {"thread_id": "moving"}}
    interrupted_graph(old).invoke({"messages": ["Hi"]}, config)
    with RedisSaver.from_conn_string(redis_url, key_prefix=key_prefix) as new:
        new.setup()
        copied = copy_checkpoints(old, new).checkpoints
        assert copied == len(list(old.list(config))) > 0
        assert len({t.config["configurable"]["checkpoint_ns"] for t in new.list(config)}) == 2

        # InMemorySaver lists namespace by namespace; ours newest first across namespaces
        def by_id(saver: Any) -> dict[str, CheckpointTuple]:
            return {t.config["configurable"]["checkpoint_id"]: t for t in saver.list(config)}

        olds, news = by_id(old), by_id(new)
        assert olds.keys() == news.keys()
        for cid, before in olds.items():
            after = news[cid]
            assert after.config == before.config
            assert after.parent_config == before.parent_config
            assert after.metadata == before.metadata
            assert after.checkpoint["channel_values"] == before.checkpoint["channel_values"]
            assert sorted(map(repr, after.pending_writes or [])) == sorted(
                map(repr, before.pending_writes or [])
            )
        graph = interrupted_graph(new)
        assert graph.get_state(config).next == ("sub",)
        result = graph.invoke(Command(resume="yes"), config)
        assert "human said yes" in result["messages"]
        # resuming on the copy behaves exactly as resuming on the original
        assert result == interrupted_graph(old).invoke(Command(resume="yes"), config)


async def test_from_conn_info_like_the_reference_savers(
    flavor: Flavor, redis_server: RedisServer, key_prefix: str
) -> None:
    async with AsyncExitStack() as stack:
        saver = await flavor.enter(
            stack,
            flavor.saver_cls.from_conn_info(
                host="127.0.0.1", port=redis_server.port, db=0, key_prefix=key_prefix
            ),
        )
        await flavor.call(saver, "setup")
