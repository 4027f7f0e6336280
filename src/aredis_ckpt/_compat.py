"""Paired names: each async name here has a sync twin that ``scripts/unasync.py`` swaps in.

``_async/`` imports Redis classes only from this module, so generating ``_sync/`` is a pure
renaming (AsyncRedis -> Redis, AsyncBlockingConnectionPool -> BlockingConnectionPool, ...).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import queue
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import anyio
from langchain_core.embeddings import Embeddings
from redis import BlockingConnectionPool, ConnectionPool, Redis
from redis.asyncio import BlockingConnectionPool as AsyncBlockingConnectionPool
from redis.asyncio import ConnectionPool as AsyncConnectionPool
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.asyncio.retry import Retry as AsyncRetry
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.backoff import ExponentialBackoff
from redis.cluster import RedisCluster
from redis.exceptions import (
    AskError,
    ClusterDownError,
    ConnectionError,
    MovedError,
    NoScriptError,
    RedisClusterException,
    ResponseError,
    TimeoutError,
    TryAgainError,
)
from redis.retry import Retry
from redis.sentinel import Sentinel

from aredis_ckpt._wire import give_back

__all__ = [
    "AsyncBlockingConnectionPool",
    "AsyncConnectionPool",
    "AsyncLimiter",
    "AsyncRedis",
    "AsyncRedisCluster",
    "AsyncRetry",
    "AsyncSentinel",
    "BlockingConnectionPool",
    "ConnectionPool",
    "Limiter",
    "NoScriptError",
    "Redis",
    "RedisCluster",
    "Retry",
    "Sentinel",
    "aclose_iterator",
    "acluster_evalsha",
    "aconnection_from",
    "aembed_queries",
    "aembed_texts",
    "ainit_cluster",
    "anode_connection",
    "anode_release",
    "arelease_surely",
    "asleep",
    "async_default_retry",
    "close_iterator",
    "cluster_evalsha",
    "connection_from",
    "embed_queries",
    "embed_texts",
    "init_cluster",
    "node_connection",
    "node_release",
    "release_surely",
    "sleep",
]


class AsyncLimiter:
    """Caps a saver's Redis calls in flight, so callers past the cap wait instead of failing.

    redis-py's asyncio pools (and every cluster node pool) raise ``MaxConnectionsError`` when
    all connections are out; a graph fanning out to hundreds of tasks must wait instead.
    Waiters go in first come, first served; a slot freed while callers wait passes straight to
    the first of them.  (A counter and a queue of futures: entering and leaving with a slot
    free is a few attribute operations, where ``asyncio.Semaphore`` costs about 1 us per call
    and anyio's about 10 us and a trip through the loop.)
    """

    __slots__ = ("_free", "_waiters")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"max_connections must be >= 1, got {limit}")
        self._free = limit
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def __aenter__(self) -> None:
        if self._free and not self._waiters:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed a slot while being cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):  # a release may have dropped it
                    self._waiters.remove(waiter)
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        if self._waiters:
            self._release()
        else:
            self._free += 1

    def _release(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():  # a cancelled waiter is done: skip it
                waiter.set_result(None)
                return
        self._free += 1


class Limiter:
    """Caps a saver's Redis calls in flight across threads (see AsyncLimiter)."""

    __slots__ = ("_tokens",)

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"max_connections must be >= 1, got {limit}")
        # one token per call in flight: SimpleQueue's get and put are single C calls (about
        # 0.1 us each), where threading.BoundedSemaphore runs Python code (about 1.5 us)
        self._tokens: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(limit):
            self._tokens.put(None)

    def __enter__(self) -> None:
        self._tokens.get()

    def __exit__(self, *exc_info: object) -> None:
        self._tokens.put(None)


async def asleep(seconds: float) -> None:
    """Wait without blocking the event loop (the sync twin is ``sleep``)."""
    await anyio.sleep(seconds)


def sleep(seconds: float) -> None:
    """Wait, blocking the calling thread (the async twin is ``asleep``)."""
    time.sleep(seconds)


async def aclose_iterator(iterator: AsyncIterator[Any]) -> None:
    """Close an async generator (releasing what its ``finally`` blocks hold) before it is
    exhausted; other iterators have nothing to close (the sync twin is ``close_iterator``)."""
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


def close_iterator(iterator: Iterator[Any]) -> None:
    """Close a generator before it is exhausted (the async twin is ``aclose_iterator``)."""
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


async def aembed_texts(embeddings: Embeddings, texts: list[str]) -> list[list[float]]:
    """Documents' vectors through LangChain's async hook (the sync twin is ``embed_texts``).

    ``embeddings`` comes from ``langgraph.store.base.ensure_embeddings``: a plain or async
    function works in both forms where LangGraph supports it (an async-only function has no
    synchronous form).
    """
    return await embeddings.aembed_documents(texts)


def embed_texts(embeddings: Embeddings, texts: list[str]) -> list[list[float]]:
    """Documents' vectors through LangChain's sync hook (the async twin is ``aembed_texts``)."""
    return embeddings.embed_documents(texts)


async def aembed_queries(embeddings: Embeddings, queries: list[str]) -> list[list[float]]:
    """Each query's vector, as InMemoryStore embeds them (``aembed_query`` per query)."""
    return [await embeddings.aembed_query(q) for q in queries]


def embed_queries(embeddings: Embeddings, queries: list[str]) -> list[list[float]]:
    """Each query's vector, as InMemoryStore embeds them (``embed_query`` per query)."""
    return [embeddings.embed_query(q) for q in queries]


def _command_name_required(get_connection: Any) -> bool:
    """Whether a pool's ``get_connection`` needs a command name (redis-py before 5.3)."""
    try:
        params = list(inspect.signature(get_connection).parameters.values())
    except (TypeError, ValueError):
        return False
    return (
        len(params) > 1
        and params[1].name == "command_name"
        and params[1].default is inspect.Parameter.empty
    )


# redis-py 5.3 dropped get_connection's command name (later versions warn when given one)
_GET_ARGS = ("EVALSHA",) if _command_name_required(ConnectionPool.get_connection) else ()
_AGET_ARGS = ("EVALSHA",) if _command_name_required(AsyncConnectionPool.get_connection) else ()


async def aconnection_from(pool: Any) -> Any:
    """A connection of an asyncio pool, as every redis-py version hands them out (the sync
    twin is ``connection_from``)."""
    return await pool.get_connection(*_AGET_ARGS)


def connection_from(pool: Any) -> Any:
    """A connection of a pool, as every redis-py version hands them out (the async twin is
    ``aconnection_from``)."""
    return pool.get_connection(*_GET_ARGS)


async def arelease_surely(pool: Any, conn: Any) -> None:
    """Give a connection back to its pool even if the caller is cancelled meanwhile.

    redis-py's asyncio pools take a lock to release: a second cancellation arriving there (a
    timeout racing a cancel) would lose the connection for good and shrink the pool.
    """
    await asyncio.shield(pool.release(conn))


def release_surely(pool: Any, conn: Any) -> None:
    """Give a connection back to its pool, its socket as redis-py left it (the async twin is
    ``arelease_surely``; see ``_wire.give_back``)."""
    give_back(conn)
    pool.release(conn)


def async_default_retry() -> dict[str, object]:
    """Retry settings for clients the async saver creates (every saver call is idempotent)."""
    return {
        "retry": AsyncRetry(ExponentialBackoff(cap=1.0, base=0.05), 3),
        "retry_on_error": [ConnectionError, TimeoutError],
    }


def default_retry() -> dict[str, object]:
    """Retry settings for clients the sync saver creates (every saver call is idempotent)."""
    return {
        "retry": Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
        "retry_on_error": [ConnectionError, TimeoutError],
    }


async def ainit_cluster(client: Any) -> None:
    """Discover an asyncio cluster client's nodes and slots (once; the sync client does it when
    it is created)."""
    await client.initialize()


def init_cluster(client: Any) -> None:
    """A sync cluster client knows its nodes from its creation (the async twin initializes)."""


async def anode_connection(node: Any) -> Any:
    """A connection of one asyncio cluster node (connected when first used)."""
    return node.acquire_connection()


def node_connection(node: Any) -> Any:
    """A connection of one sync cluster node's pool (connected when first used)."""
    return connection_from(node.redis_connection.connection_pool)


async def anode_release(node: Any, conn: Any) -> None:
    """Give a connection back to its asyncio cluster node."""
    release = getattr(node, "release", None)
    if release is not None:
        release(conn)
    else:  # redis-py before 5.3
        node._free.append(conn)


def node_release(node: Any, conn: Any) -> None:
    """Give a connection back to its sync cluster node's pool."""
    node.redis_connection.connection_pool.release(conn)


# An EVALSHA to send to the slot of its first key: (sha, keys, args).
ScriptCallArgs = tuple[str, Sequence[bytes], Sequence[Any]]
# Replies that a retry through the cluster client resolves (it follows redirections and
# refreshes its slot map).
_REDIRECTS = (MovedError, AskError, TryAgainError, ClusterDownError)


async def acluster_evalsha(client: AsyncRedisCluster, calls: Sequence[ScriptCallArgs]) -> list[Any]:
    """Each call's reply, or the error it raised, in order (the sync twin is
    ``cluster_evalsha``).

    redis.asyncio's cluster pipeline groups the calls by the node serving their slot, sends
    each node's calls in one write, talks to the nodes concurrently, and retries a redirected
    call through the client.  It takes an EVALSHA's keys from its arguments (no server
    round trip).
    """
    pipe = client.pipeline(transaction=False)
    for sha, keys, args in calls:
        pipe.execute_command("EVALSHA", sha, len(keys), *keys, *args)
    return await pipe.execute(raise_on_error=False)


def cluster_evalsha(client: RedisCluster, calls: Sequence[ScriptCallArgs]) -> list[Any]:
    """Each call's reply, or the error it raised, in order (the async twin is
    ``acluster_evalsha``).

    The calls are grouped by the node serving their slot; each node's calls go out in one
    write, and every node is written to before any reply is read, so the nodes work in
    parallel.  A call answered by a redirection, or lost with its connection, is retried
    through the client, which follows redirections and refreshes its slot map.  (redis-py's
    own sync cluster pipeline asks the server for the keys of every EVALSHA first, with
    ``COMMAND GETKEYS``: a hidden round trip per call, which this avoids.)
    """
    cluster: Any = client  # redis-py leaves most of the sync cluster client untyped
    results: list[Any] = [None] * len(calls)
    by_node: dict[str, tuple[Any, list[int]]] = {}
    retry: list[int] = []
    for i, (_, keys, _) in enumerate(calls):
        try:
            node = cluster.get_node_from_key(keys[0])
        except RedisClusterException:
            retry.append(i)
            continue
        by_node.setdefault(node.name, (node, []))[1].append(i)
    sent: list[tuple[Any, Any, Any, list[int]]] = []
    try:
        for node, todo in by_node.values():
            redis_node = cluster.get_redis_connection(node)
            pool = redis_node.connection_pool
            try:
                conn = connection_from(pool)
            except (ConnectionError, TimeoutError):
                retry += todo  # the node is gone: the client finds its successor
                continue
            try:
                conn.send_packed_command(
                    conn.pack_commands(
                        [
                            ("EVALSHA", calls[i][0], len(calls[i][1]), *calls[i][1], *calls[i][2])
                            for i in todo
                        ]
                    )
                )
            except (ConnectionError, TimeoutError):
                conn.disconnect()
                pool.release(conn)
                retry += todo
                continue
            sent.append((redis_node, pool, conn, todo))
        while sent:
            redis_node, pool, conn, todo = sent[0]
            for done, i in enumerate(todo):
                try:
                    results[i] = redis_node.parse_response(conn, "EVALSHA")
                except (ConnectionError, TimeoutError):
                    conn.disconnect()
                    retry += todo[done:]
                    break
                except ResponseError as exc:
                    results[i] = exc
                    if isinstance(exc, _REDIRECTS):
                        retry.append(i)
            sent.pop(0)
            pool.release(conn)
    finally:
        for _, pool, conn, _ in sent:
            conn.disconnect()  # written to and not read: its replies must not reach another call
            pool.release(conn)
    for i in sorted(retry):
        sha, keys, args = calls[i]
        try:
            results[i] = cluster.execute_command("EVALSHA", sha, len(keys), *keys, *args)
        except ResponseError as exc:
            results[i] = exc
    return results
