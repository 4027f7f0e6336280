# This file is generated from src/aredis_ckpt/_async/connect.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""Redis clients from the constructor arguments the savers and the store share.

Written once; ``scripts/unasync.py`` generates the synchronous twin.  This is the client
construction of ``AsyncRedisSaver.__init__`` / ``_client_from_url`` as functions, so that every
class taking ``redis_url`` / ``redis_client`` / ``connection_pool`` builds its client the same
way.
"""

from __future__ import annotations

import os
import weakref
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, cast

from aredis_ckpt._base import logger, pick_connection_source
from aredis_ckpt._commands import Command
from aredis_ckpt._compat import (
    BlockingConnectionPool,
    ConnectionPool,
    NoScriptError,
    Redis,
    RedisCluster,
    Sentinel,
    connection_from,
    default_retry,
    release_surely,
)
from aredis_ckpt._scripts import LuaScript
from aredis_ckpt._sync.cluster import BatchResult, ClusterRouter
from aredis_ckpt._urls import parse_url
from aredis_ckpt._wire import Wire, kept_at_most, pack_command, reusable

__all__ = ["ScriptRunner", "client_from_url", "open_client"]

# Connections a runner keeps between calls (see AsyncScriptRunner).
IDLE_CONNECTIONS = 2
_RUNNERS: weakref.WeakSet[ScriptRunner] = weakref.WeakSet()


def _forget_connections_after_fork() -> None:
    # a forked child must not talk on its parent's sockets; redis-py's pools reset themselves
    for runner in list(_RUNNERS):
        runner._idle.clear()
        runner._wire.reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_connections_after_fork)


class ScriptRunner:
    """Runs the Lua scripts of one client: ``EVALSHA``, loading the script on ``NOSCRIPT``.

    With ``keep_connections`` (a client the saver or store created itself, on one server or a
    Sentinel-managed primary) the runner keeps up to ``IDLE_CONNECTIONS`` connections of the
    client's pool between calls and talks on them directly (``aredis_ckpt._wire``): the whole
    command packed into one buffer (one ``send`` even with a 9 KB value in it), the reply read
    straight off the connection, under the connection's own retry policy.  Going through the
    pool and
    ``execute_command`` on every call cost about 40-60 us of CPU more per call with redis-py 8
    on this project's benchmark machine, a third of a call's client-side cost.  The kept
    connections stay counted as in use by the pool, so only clients the caller cannot share
    are eligible; clients passed in and clients pinned to one connection go through
    ``execute_command`` and redis-py's pipelines.  The runner keeps at most all but one of the
    pool's ``max_connections``: the client's own commands (``setup()``'s pipeline, a script
    load) need a connection of the same pool, and kept connections they cannot reach would
    make them wait out the pool's timeout and fail (``max_connections=1``: none is kept).  On a
    cluster every call goes through an ``AsyncClusterRouter`` (no hidden ``COMMAND GETKEYS``
    round trips).  ``aclose()`` hands the kept connections back.
    """

    __slots__ = ("__weakref__", "_client", "_idle", "_keep", "_pool", "_router", "_wire")

    def __init__(self, client: Redis | RedisCluster, keep_connections: bool) -> None:
        self._client = client
        self._pool: ConnectionPool | None = None
        self._idle: deque[Any] = deque()
        self._wire = Wire()
        self._router = ClusterRouter(client) if isinstance(client, RedisCluster) else None
        self._keep = 0
        if keep_connections and isinstance(client, Redis) and client.connection is None:
            self._pool = client.connection_pool
            self._keep = kept_at_most(self._pool, IDLE_CONNECTIONS)
            _RUNNERS.add(self)

    @property
    def cluster(self) -> bool:
        return self._router is not None

    def evalsha(self, script: LuaScript, keys: Sequence[bytes], args: Sequence[Any]) -> Any:
        """The script's reply; a script the server does not know (restart, failover, SCRIPT
        FLUSH) is loaded and run again."""
        if self._router is not None:
            cmd = Command(("EVALSHA", script.sha, len(keys), *keys, *args), keys[0], script)
            reply = (self._router.run([cmd])).replies[0]
            if isinstance(reply, Exception):
                raise reply
            return reply
        try:
            return self._evalsha(script.sha, keys, args)
        except NoScriptError:
            logger.debug("NOSCRIPT for %s: loading it", script.name)
            self._client.script_load(script.source)
            return self._evalsha(script.sha, keys, args)

    def _evalsha(self, sha: str, keys: Sequence[bytes], args: Sequence[Any]) -> Any:
        pool = self._pool
        if pool is None:
            return self._client.execute_command("EVALSHA", sha, len(keys), *keys, *args)
        try:
            conn = self._idle.pop()
        except IndexError:
            conn = connection_from(pool)
        try:
            packed = pack_command(conn, ("EVALSHA", sha, len(keys), *keys, *args))
            # A dropped connection (idle timeout, restart, failover) is reconnected and the
            # call retried: every script call is idempotent.  Any other error leaves the
            # connection clean (an error reply was read whole) or disconnected.
            wire = self._wire
            reply = conn.retry.call_with_retry(
                lambda: wire.exchange(conn, packed), lambda _error: conn.disconnect()
            )
        except BaseException:
            release_surely(pool, conn)
            raise
        if len(self._idle) < self._keep and reusable(conn):
            self._idle.append(conn)
        else:
            release_surely(pool, conn)
        return reply

    def batch(
        self, commands: Sequence[Command], wait: tuple[int, int] | None = None
    ) -> BatchResult:
        """Replies of ``commands`` (an error reply as its exception), sent as one pipeline (on a
        cluster: one per node, in parallel); with ``wait`` = (replicas, timeout ms), ``WAIT``
        follows on every node.  Scripts a server does not know are loaded and run again."""
        if self._router is not None:
            return self._router.run(commands, wait)
        result = self._pipeline([c.args for c in commands], wait)
        again = [
            i
            for i, reply in enumerate(result.replies)
            if isinstance(reply, NoScriptError) and commands[i].script is not None
        ]
        if again:
            for source in {cast(LuaScript, commands[i].script).source for i in again}:
                self._client.script_load(source)
            second = self._pipeline([commands[i].args for i in again], wait)
            for i, reply in zip(again, second.replies, strict=True):
                result.replies[i] = reply
            if second.acked is not None:
                result.acked = second.acked
        return result

    def _pipeline(
        self, commands: list[tuple[Any, ...]], wait: tuple[int, int] | None
    ) -> BatchResult:
        if wait is not None:
            commands = [*commands, ("WAIT", *wait)]
        pool = self._pool
        if pool is None:
            pipe = self._client.pipeline(transaction=False)
            for args in commands:
                pipe.execute_command(*args)
            replies = list(pipe.execute(raise_on_error=False))
        else:
            try:
                conn = self._idle.pop()
            except IndexError:
                conn = connection_from(pool)
            try:
                packed = b"".join(pack_command(conn, args) for args in commands)
                wire, count = self._wire, len(commands)
                replies = conn.retry.call_with_retry(
                    lambda: wire.exchange(conn, packed, count),
                    lambda _error: conn.disconnect(),
                )
            except BaseException:
                release_surely(pool, conn)
                raise
            if len(self._idle) < self._keep and reusable(conn):
                self._idle.append(conn)
            else:
                release_surely(pool, conn)
        if wait is None:
            return BatchResult(replies)
        acked = replies.pop()
        if isinstance(acked, Exception):
            raise acked
        return BatchResult(replies, int(acked))

    def close(self) -> None:
        """Hand the kept connections back to the pool (before the client is closed)."""
        pool = self._pool
        while pool is not None and self._idle:
            release_surely(pool, self._idle.pop())


def open_client(
    redis_url: object,
    redis_client: object,
    connection_pool: object,
    *,
    connection_args: Mapping[str, Any] | None,
    max_connections: int,
    pool_timeout: float | None,
    cluster: bool,
    owned: list[Any],
    what: str,
) -> Redis | RedisCluster:
    """The client of one connection source; clients created here are appended to ``owned``
    (the caller closes them), a client or pool passed in is used as it is."""
    source = pick_connection_source(redis_url, redis_client, connection_pool)
    client: Redis | RedisCluster
    if isinstance(source, str):
        client = client_from_url(
            source, connection_args, max_connections, pool_timeout, cluster, owned, what
        )
    elif isinstance(source, ConnectionPool):
        client = Redis(connection_pool=source)
    elif isinstance(source, (Redis, RedisCluster)):
        client = source
    else:
        raise TypeError(
            f"expected a Redis URL, or a redis-py client or connection pool of the {what}'s "
            f"kind (asyncio or not), got {type(source).__module__}.{type(source).__name__}"
        )
    if client.get_encoder().decode_responses:
        raise ValueError(
            f"the Redis client decodes responses (decode_responses=True), but the {what} "
            "stores binary records: pass a client created with decode_responses=False"
        )
    return client


def client_from_url(
    url: str,
    connection_args: Mapping[str, Any] | None,
    max_connections: int,
    pool_timeout: float | None,
    cluster: bool,
    owned: list[Any],
    what: str,
) -> Redis | RedisCluster:
    """A client of ``url`` on a pool whose callers wait for a free connection.

    A dropped connection (idle timeout, restart, failover) must not surface as an error when a
    retry would do: every saver call is idempotent, and so are a store batch's writes (a batch
    repeated after a connection dropped mid-reply may read its own writes).  A "retry" entry
    in connection_args (None switches retries off) replaces this default.
    """
    args = dict(connection_args or {})
    if "retry" not in args:
        args = {**default_retry(), **args}
    if args.get("decode_responses"):
        raise ValueError(f"connection_args: decode_responses must be False for a {what}")
    sentinel_url = parse_url(url)
    client: Redis | RedisCluster
    if cluster:
        if sentinel_url is not None:
            raise ValueError("cluster=True takes a redis:// or rediss:// URL of any node")
        client = RedisCluster.from_url(url, **args)
    elif sentinel_url is None:
        pool = BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=pool_timeout, **args
        )
        client = Redis.from_pool(pool)
    else:
        user, password = sentinel_url.username, sentinel_url.password
        # redis-py leaves the Sentinel constructor untyped
        sentinel: Any = cast(Any, Sentinel)(
            list(sentinel_url.hosts),
            sentinel_kwargs={"username": user, "password": password, "ssl": sentinel_url.ssl},
            **args,
        )
        owned.extend(sentinel.sentinels)
        client = sentinel.master_for(
            sentinel_url.service,
            redis_class=Redis,
            db=sentinel_url.db,
            ssl=sentinel_url.ssl,
            max_connections=max_connections,
            username=user,
            password=password,
        )
    owned.append(client)
    return client
