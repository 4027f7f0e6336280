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
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from aredis_ckpt._base import ScriptCall, logger, schema_version_bytes
from aredis_ckpt._bridge import SaverMixin
from aredis_ckpt._compat import (
    BlockingConnectionPool,
    ConnectionPool,
    NoScriptError,
    Redis,
    RedisCluster,
)
from aredis_ckpt._config import (
    DEFAULT_KEY_PREFIX,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_POOL_TIMEOUT,
    TTLConfig,
)
from aredis_ckpt._scripts import SCRIPTS, LuaScript

__all__ = ["RedisSaver"]


class RedisSaver(SaverMixin):
    """LangGraph checkpoint saver on plain Redis 6.2+ / Valkey (no modules).

    Every ``put``, ``put_writes``, ``get_tuple`` and ``list`` page is one round trip; writes are
    atomic.  Pass a client you own as ``redis_client`` (the saver never closes it), or use
    ``from_conn_string`` to have the saver create and close its own.
    """

    def __init__(
        self,
        redis_client: Redis | RedisCluster | None = None,
        *,
        connection_pool: ConnectionPool | None = None,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        ttl: TTLConfig | None = None,
        serde: SerializerProtocol | None = None,
    ) -> None:
        if redis_client is None and connection_pool is None:
            raise ValueError(
                "pass redis_client= (or connection_pool=), or use "
                "from_conn_string(url) to let the saver manage its own client"
            )
        if redis_client is not None and connection_pool is not None:
            raise ValueError("pass either redis_client= or connection_pool=, not both")
        client: Redis | RedisCluster = (
            redis_client if redis_client is not None else Redis(connection_pool=connection_pool)
        )
        if not isinstance(client, (Redis, RedisCluster)):
            raise TypeError(
                "redis_client must be a redis-py Redis or RedisCluster client of the saver's "
                f"kind (asyncio or not), got {type(client).__module__}.{type(client).__name__}"
            )
        if client.get_encoder().decode_responses:
            raise ValueError(
                "the Redis client decodes responses (decode_responses=True), but checkpoints "
                "are binary: pass a client created with decode_responses=False"
            )
        super().__init__(
            key_prefix=key_prefix,
            ttl=ttl,
            serde=serde,
            cluster=isinstance(client, RedisCluster),
        )
        self._redis = client

    @classmethod
    @contextmanager
    def from_conn_string(
        cls,
        url: str,
        *,
        ttl: TTLConfig | None = None,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        connection_args: Mapping[str, Any] | None = None,
        serde: SerializerProtocol | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT,
    ) -> Iterator[RedisSaver]:
        """A saver on its own client for ``redis://``, ``rediss://`` or ``unix://`` URLs.

        The client's pool holds at most ``max_connections`` connections; when all are busy a
        caller waits up to ``pool_timeout`` seconds (None: forever) instead of failing, so a
        graph fanning out to hundreds of tasks never runs out of connections.  The client is
        closed when the context exits.
        """
        args = dict(connection_args or {})
        if args.get("decode_responses"):
            raise ValueError("connection_args: decode_responses must be False for a checkpointer")
        pool = BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=pool_timeout, **args
        )
        client = Redis.from_pool(pool)
        try:
            yield cls(client, key_prefix=key_prefix, ttl=ttl, serde=serde)
        finally:
            client.close()

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
