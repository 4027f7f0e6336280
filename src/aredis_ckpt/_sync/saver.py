# This file is generated from src/aredis_ckpt/_async/saver.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""The Redis checkpoint saver: the only module that sequences Redis I/O.

Written once; ``scripts/unasync.py`` generates the synchronous twin from it.  Each checkpoint
operation is one EVALSHA of a script from ``aredis_ckpt/lua`` (one network round trip), built
and decoded by the pure helpers of ``aredis_ckpt._base``.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from aredis_ckpt._base import (
    ScriptCall,
    logger,
    pick_connection_source,
    resolve_prefix,
    schema_version_bytes,
)
from aredis_ckpt._bridge import SaverMixin
from aredis_ckpt._compat import (
    BlockingConnectionPool,
    ConnectionPool,
    NoScriptError,
    Redis,
    RedisCluster,
    Sentinel,
)
from aredis_ckpt._config import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_POOL_TIMEOUT,
    TTLConfig,
)
from aredis_ckpt._scripts import SCRIPTS, LuaScript
from aredis_ckpt._urls import parse_url

__all__ = ["RedisSaver"]


class RedisSaver(SaverMixin):
    """LangGraph checkpoint saver on plain Redis 6.2+ / Valkey (no modules).

    Every ``put``, ``put_writes``, ``get_tuple`` and ``list`` page is one round trip; writes are
    atomic.  The first argument is a URL (the saver then owns its client: close it with
    ``aclose()`` or use the saver as a context manager), or a client or connection pool you
    own, which the saver never closes.  ``from_conn_string`` is the context-manager form.

    The keyword arguments of ``langgraph-checkpoint-redis`` are accepted too: ``redis_url``,
    ``redis_client``, ``connection_args``, ``ttl``, ``checkpoint_prefix`` (our ``key_prefix``)
    and ``checkpoint_write_prefix`` (accepted; writes live with their thread under the one
    prefix, so that reads and writes stay single atomic scripts).
    """

    def __init__(
        self,
        redis_url: str | Redis | RedisCluster | ConnectionPool | None = None,
        *,
        redis_client: Redis | RedisCluster | ConnectionPool | None = None,
        connection_pool: ConnectionPool | None = None,
        connection_args: Mapping[str, Any] | None = None,
        key_prefix: str | None = None,
        checkpoint_prefix: str | None = None,
        checkpoint_write_prefix: str | None = None,
        ttl: TTLConfig | None = None,
        serde: SerializerProtocol | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT,
    ) -> None:
        source = pick_connection_source(redis_url, redis_client, connection_pool)
        self._owned: builtins.list[Any] = []
        client: Redis | RedisCluster
        if isinstance(source, str):
            client = self._client_from_url(source, connection_args, max_connections, pool_timeout)
        elif isinstance(source, ConnectionPool):
            client = Redis(connection_pool=source)
        elif isinstance(source, (Redis, RedisCluster)):
            client = source
        else:
            raise TypeError(
                "expected a Redis URL, or a redis-py client or connection pool of the saver's "
                f"kind (asyncio or not), got {type(source).__module__}.{type(source).__name__}"
            )
        if client.get_encoder().decode_responses:
            raise ValueError(
                "the Redis client decodes responses (decode_responses=True), but checkpoints "
                "are binary: pass a client created with decode_responses=False"
            )
        super().__init__(
            key_prefix=resolve_prefix(key_prefix, checkpoint_prefix, checkpoint_write_prefix),
            ttl=ttl,
            serde=serde,
            cluster=isinstance(client, RedisCluster),
        )
        self._redis = client

    def _client_from_url(
        self,
        url: str,
        connection_args: Mapping[str, Any] | None,
        max_connections: int,
        pool_timeout: float | None,
    ) -> Redis:
        """A client the saver owns, on a pool whose callers wait for a free connection."""
        args = dict(connection_args or {})
        if args.get("decode_responses"):
            raise ValueError("connection_args: decode_responses must be False for a checkpointer")
        sentinel_url = parse_url(url)
        if sentinel_url is None:
            pool = BlockingConnectionPool.from_url(
                url, max_connections=max_connections, timeout=pool_timeout, **args
            )
            client = Redis.from_pool(pool)
        else:
            user, password = sentinel_url.username, sentinel_url.password
            # redis-py leaves the Sentinel constructor untyped
            sentinel: Any = cast(Any, Sentinel)(
                builtins.list(sentinel_url.hosts),
                sentinel_kwargs={"username": user, "password": password, "ssl": sentinel_url.ssl},
                **args,
            )
            self._owned.extend(sentinel.sentinels)
            client = sentinel.master_for(
                sentinel_url.service,
                redis_class=Redis,
                db=sentinel_url.db,
                ssl=sentinel_url.ssl,
                max_connections=max_connections,
                username=user,
                password=password,
            )
        self._owned.append(client)
        return client

    def close(self) -> None:
        """Close the clients the saver created; a client or pool passed in is left open."""
        owned, self._owned = self._owned, []
        for client in reversed(owned):
            client.close()

    def __enter__(self) -> RedisSaver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @classmethod
    @contextmanager
    def from_conn_string(
        cls,
        url: str,
        *,
        ttl: TTLConfig | None = None,
        key_prefix: str | None = None,
        connection_args: Mapping[str, Any] | None = None,
        serde: SerializerProtocol | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT,
        checkpoint_prefix: str | None = None,
        checkpoint_write_prefix: str | None = None,
    ) -> Iterator[RedisSaver]:
        """A saver on its own client, closed when the context exits.

        URLs: ``redis://``, ``rediss://``, ``unix://``, and
        ``redis+sentinel://host:26379[,host:port...]/service_name[/db]``.  The client's pool
        holds at most ``max_connections`` connections; when all are busy a caller waits up to
        ``pool_timeout`` seconds (None: forever) instead of failing, so a graph fanning out to
        hundreds of tasks never runs out of connections.
        """
        saver = cls(
            url,
            ttl=ttl,
            key_prefix=key_prefix,
            connection_args=connection_args,
            serde=serde,
            max_connections=max_connections,
            pool_timeout=pool_timeout,
            checkpoint_prefix=checkpoint_prefix,
            checkpoint_write_prefix=checkpoint_write_prefix,
        )
        try:
            yield saver
        finally:
            saver.close()

    # ------------------------------------------------------------------ plumbing

    def _eval(self, script: LuaScript, call: ScriptCall) -> Any:
        """EVALSHA, loading the script once if the server does not know it (NOSCRIPT)."""
        self._bind_loop()
        try:
            return self._redis.execute_command(
                "EVALSHA", script.sha, len(call.keys), *call.keys, *call.args
            )
        except NoScriptError:
            logger.debug("NOSCRIPT for %s: loading it", script.name)
            self._redis.script_load(script.source)
            return self._redis.execute_command(
                "EVALSHA", script.sha, len(call.keys), *call.keys, *call.args
            )

    def setup(self) -> None:
        """Load the scripts and record (or check) the schema version; idempotent."""
        self._bind_loop()
        key = self._pk.schema
        pipe = self._redis.pipeline(transaction=False)
        pipe.execute_command("SET", key, schema_version_bytes(), "NX")
        pipe.execute_command("GET", key)
        replies = pipe.execute()
        self._check_schema(replies[1])
        for script in SCRIPTS.all():
            self._redis.script_load(script.source)
        logger.debug("setup done for prefix %r", self.key_prefix)

    # ------------------------------------------------------------------ checkpoint API

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint named by ``config`` (the namespace's latest without a checkpoint_id)."""
        call, thread_id, ns = self._get_tuple_call(config)
        reply = self._eval(SCRIPTS.get_tuple, call)
        if not reply:
            return None
        return self._decode_tuple(thread_id, ns, reply)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first; each page of results is one round trip."""
        query = self._list_query(config, filter, before, limit)
        if query is None:
            return
        while True:
            call = ScriptCall(query.keys, query.page_args(self._pk.prefix))
            cursor, items = self._eval(SCRIPTS.list, call)
            for item in items:
                yield self._decode_list_item(query, item)
            if not query.advance(cursor, len(items)):
                return

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint and the values of the channels in ``new_versions``, atomically."""
        call, next_config = self._put_call(config, checkpoint, metadata, new_versions)
        self._eval(SCRIPTS.put, call)
        return next_config

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's pending writes against the checkpoint in ``config``, atomically."""
        if not writes:
            return
        self._eval(SCRIPTS.put_writes, self._put_writes_call(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint, value and write of the thread, in every namespace."""
        self._eval(SCRIPTS.delete_thread, self._delete_thread_call(thread_id))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint, value and write of one thread into another."""
        self._eval(SCRIPTS.copy_thread, self._copy_thread_call(source_thread_id, target_thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints (and their writes) whose metadata ``run_id`` is in run_ids."""
        runs = self._run_keys(run_ids)
        if not runs:
            return
        if self._cluster:
            raise NotImplementedError(
                "delete_for_runs is not available with a RedisCluster client yet"
            )
        pipe = self._redis.pipeline(transaction=False)
        for run in runs:
            pipe.execute_command("SMEMBERS", self._pk.run(run))
        members = pipe.execute()
        by_thread: dict[bytes, builtins.list[bytes]] = {}
        for run, tags in zip(runs, members, strict=True):
            for tag in tags:
                by_thread.setdefault(tag, []).append(run)
        for tag, thread_runs in by_thread.items():
            self._eval(SCRIPTS.delete_runs, self._delete_runs_call(tag, thread_runs))

    def prune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: str = "keep_latest",
        keep_last: int | None = None,
    ) -> None:
        """Keep the latest checkpoint (or ``keep_last`` of them) per namespace, or delete all.

        Values no kept checkpoint references and writes of dropped checkpoints go too.
        """
        keep = self._prune_keep(strategy, keep_last)
        for thread_id in self._check_thread_ids(thread_ids, "prune"):
            if keep == 0:
                self.delete_thread(thread_id)
            else:
                self._eval(SCRIPTS.prune, self._prune_call(thread_id, keep))

    def get_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """Writes and seed of each channel along the parent chain, in one round trip."""
        if not channels:
            return {}
        reply = self._eval(SCRIPTS.delta_history, self._delta_call(config, channels))
        return self._decode_delta(channels, reply)
