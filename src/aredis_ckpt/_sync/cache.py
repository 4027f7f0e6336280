# This file is generated from src/aredis_ckpt/_async/cache.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""LangGraph's node cache (``BaseCache``) on plain Redis: the only cache module that does I/O.

Written once; ``scripts/unasync.py`` generates the synchronous twin.  Every ``get``/``set``
batch is one EVALSHA of a ``lua/cache_*.lua`` script on one server (one round trip), and one
per touched slot on a cluster, sent to all nodes at once; the layout, arguments and decoding
live in the pure ``aredis_ckpt._cache_base``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from langgraph.cache.base import FullKey, Namespace, ValueT
from langgraph.checkpoint.serde.base import SerializerProtocol
from redis.exceptions import ResponseError

from aredis_ckpt._cache_base import (
    BUCKETS,
    IN_PLACE,
    CacheCall,
    ErrorMode,
    is_out_of_memory,
    logger,
    new_generation,
)
from aredis_ckpt._cache_bridge import CacheMixin
from aredis_ckpt._compat import (
    ConnectionPool,
    Limiter,
    NoScriptError,
    Redis,
    RedisCluster,
    cluster_evalsha,
)
from aredis_ckpt._config import (
    DEFAULT_COMPRESS_THRESHOLD,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_PAYLOAD_BYTES,
    DEFAULT_POOL_TIMEOUT,
)
from aredis_ckpt._sync.connect import ScriptRunner, open_client

__all__ = ["RedisCache"]


class RedisCache(CacheMixin[ValueT]):
    """LangGraph ``BaseCache`` on plain Redis 6.2+ / Valkey / Cluster / Sentinel (no modules).

    Pass it as ``builder.compile(cache=...)`` or ``@entrypoint(cache=...)``; nodes and tasks
    with a ``CachePolicy`` then reuse earlier results.  Entries are ``(namespace, key)`` with a
    TTL in seconds (None: no expiry) and behave as in LangGraph's ``InMemoryCache``:
    ``clear()`` empties the whole cache under ``key_prefix``, ``clear(namespaces)`` exactly
    those namespaces.  Every ``get``/``set`` batch is one round trip on one server, and one
    per touched slot on a cluster, with every node asked at once.

    The first argument is a URL (the cache then owns its client: close the cache when done,
    or use ``from_conn_string``), or a client or connection pool you own, which is never
    closed.
    ``errors="miss"`` turns failures of ``get`` and ``set`` (an unreachable server, an entry
    that cannot be decoded, a full server, a batch over ``max_payload_bytes``) into misses,
    logged at WARNING once per kind of failure and then at DEBUG; ``clear`` always raises,
    since a failed clear would keep entries the caller wanted gone.
    """

    def __init__(
        self,
        redis_url: str | Redis | RedisCluster | ConnectionPool | None = None,
        *,
        redis_client: Redis | RedisCluster | ConnectionPool | None = None,
        connection_pool: ConnectionPool | None = None,
        connection_args: Mapping[str, Any] | None = None,
        key_prefix: str | None = None,
        serde: SerializerProtocol | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT,
        cluster: bool = False,
        compress_threshold: int | None = DEFAULT_COMPRESS_THRESHOLD,
        errors: ErrorMode = "raise",
        max_payload_bytes: int | None = DEFAULT_MAX_PAYLOAD_BYTES,
    ) -> None:
        super().__init__(
            key_prefix=key_prefix,
            serde=serde,
            cluster=cluster,
            compress_threshold=compress_threshold,
            errors=errors,
            max_payload_bytes=max_payload_bytes,
        )
        self._owned: list[Any] = []
        client = open_client(
            redis_url,
            redis_client,
            connection_pool,
            connection_args=connection_args,
            max_connections=max_connections,
            pool_timeout=pool_timeout,
            cluster=cluster,
            owned=self._owned,
            what="cache",
        )
        # on a cluster each bucket is its own call; a client passed in decides
        self._cluster = isinstance(client, RedisCluster)
        self._redis = client
        self._runner = ScriptRunner(client, keep_connections=any(c is client for c in self._owned))
        self._limiter = Limiter(max_connections)

    def close(self) -> None:
        """Close the clients the cache created; a client or pool passed in is left open."""
        self._runner.close()
        owned, self._owned = self._owned, []
        for client in reversed(owned):
            client.close()

    def __enter__(self) -> RedisCache[ValueT]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @classmethod
    @contextmanager
    def from_conn_string(
        cls,
        redis_url: str | None = None,
        *,
        redis_client: Redis | RedisCluster | ConnectionPool | None = None,
        connection_args: Mapping[str, Any] | None = None,
        key_prefix: str | None = None,
        serde: SerializerProtocol | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT,
        cluster: bool = False,
        compress_threshold: int | None = DEFAULT_COMPRESS_THRESHOLD,
        errors: ErrorMode = "raise",
        max_payload_bytes: int | None = DEFAULT_MAX_PAYLOAD_BYTES,
    ) -> Iterator[RedisCache[Any]]:
        """A cache on its own client, closed when the context exits.

        The URLs and connection options are the savers': ``redis://``, ``rediss://``,
        ``unix://``, ``redis+sentinel://...``, ``cluster=True`` with any node's URL.
        """
        cache: RedisCache[Any] = cls(
            redis_url,
            redis_client=redis_client,
            connection_args=connection_args,
            key_prefix=key_prefix,
            serde=serde,
            max_connections=max_connections,
            pool_timeout=pool_timeout,
            cluster=cluster,
            compress_threshold=compress_threshold,
            errors=errors,
            max_payload_bytes=max_payload_bytes,
        )
        try:
            yield cache
        finally:
            cache.close()

    # ------------------------------------------------------------------ plumbing

    def _run(self, calls: Sequence[CacheCall]) -> list[Any]:
        """The calls' replies: on one server each call is one round trip (callers pass one);
        on a cluster each node gets its calls in one send, every node at once."""
        self._bind_loop()
        with self._limiter:
            if not isinstance(self._redis, RedisCluster):
                return [self._runner.evalsha(c.script, c.keys, c.args) for c in calls]
            replies = cluster_evalsha(self._redis, [(c.script.sha, c.keys, c.args) for c in calls])
            unknown = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
            if unknown:
                # a node that never ran the script (new, restarted or failed over)
                for source in {calls[i].script.source for i in unknown}:
                    self._redis.script_load(source)
                again = cluster_evalsha(
                    self._redis,
                    [(calls[i].script.sha, calls[i].keys, calls[i].args) for i in unknown],
                )
                for i, reply in zip(unknown, again, strict=True):
                    replies[i] = reply
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return replies

    # ------------------------------------------------------------------ cache API

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """The entries found among ``keys`` that have not expired."""
        calls, orders = self._get_calls(keys)
        if not calls:
            return {}
        try:
            replies = self._run(calls)
        except Exception as exc:
            self._failed("get", exc)
            return {}
        return self._decode_get(orders, replies)

    def set(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        """Store each ``(namespace, key): (value, ttl seconds or None)``; a TTL of 0 or less
        stores an entry that is already expired (it removes the key's entry)."""
        checked = self._check_pairs(pairs)
        if not checked:
            return
        try:
            self._run(self._set_calls(checked))
        except Exception as exc:
            self._failed("set", self._named(exc, "set"))

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Remove every entry (``None``), or every entry of exactly these namespaces.

        Each script call unlinks at most ``CLEAR_BUDGET`` namespace keys; larger clears loop.
        """
        if namespaces is not None:
            for calls in self._clear_rounds(namespaces):
                self._run(calls)
            return
        pending: list[int] = list(range(BUCKETS))
        mode = new_generation()
        while pending:
            calls = self._reset_calls(pending, mode)
            try:
                replies = self._run(calls)
            except ResponseError as exc:
                if mode == IN_PLACE or not is_out_of_memory(exc):
                    raise
                # a full server refuses the new generation: unlink in place, slice by slice
                logger.debug("cache clear: Redis is out of memory, unlinking in place")
                mode, pending = IN_PLACE, list(range(BUCKETS))
                continue
            pending = self._still_collecting(calls, replies)
            mode = IN_PLACE if mode == IN_PLACE else b""
        logger.debug("cache cleared under prefix %r", self.key_prefix)
