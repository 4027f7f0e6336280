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
    ListQuery,
    PutOp,
    ScriptCall,
    WritesOp,
    logger,
    resolve_prefix,
    schema_version_bytes,
)
from aredis_ckpt._bridge import SaverMixin
from aredis_ckpt._compat import (
    ConnectionPool,
    Limiter,
    NoScriptError,
    Redis,
    RedisCluster,
)
from aredis_ckpt._config import (
    DEFAULT_COMPRESS_THRESHOLD,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_PAYLOAD_BYTES,
    DEFAULT_POOL_TIMEOUT,
    DEFAULT_WAIT_TIMEOUT_MS,
    LIST_PAGE,
    TTLConfig,
)
from aredis_ckpt._scripts import SCRIPTS, LuaScript
from aredis_ckpt._sync.connect import ScriptRunner, open_client
from aredis_ckpt._sync.server_facts import read_server_facts

__all__ = ["RedisSaver"]

# A thread script, its call, and (on a cluster) the shared-slot call that goes with it.
BatchCall = tuple[LuaScript, ScriptCall, ScriptCall | None]


class RedisSaver(SaverMixin):
    """LangGraph checkpoint saver on plain Redis 6.2+ / Valkey (no modules).

    Every ``put``, ``put_writes``, ``get_tuple`` and ``list`` page is one round trip; writes are
    atomic.  The first argument is a URL (the saver then owns its client: close it with
    ``aclose()`` or use the saver as a context manager), or a client or connection pool you
    own, which the saver never closes.  ``from_conn_string`` is the context-manager form.

    The keyword arguments of ``langgraph-checkpoint-redis`` are accepted too: ``redis_url``,
    ``redis_client``, ``connection_args``, ``ttl``, ``checkpoint_prefix`` (our ``key_prefix``)
    and ``checkpoint_write_prefix`` / ``checkpoint_blob_prefix`` (accepted; writes and values
    live with their thread under the one prefix, so reads and writes stay single atomic
    scripts).
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
        checkpoint_blob_prefix: str | None = None,
        ttl: TTLConfig | None = None,
        serde: SerializerProtocol | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT,
        cluster: bool = False,
        wait_replicas: int = 0,
        wait_timeout_ms: int = DEFAULT_WAIT_TIMEOUT_MS,
        compress_threshold: int | None = DEFAULT_COMPRESS_THRESHOLD,
        allow_plaintext: bool = False,
        max_payload_bytes: int | None = DEFAULT_MAX_PAYLOAD_BYTES,
        strict_server: bool = False,
    ) -> None:
        self._owned: builtins.list[Any] = []
        client = open_client(
            redis_url,
            redis_client,
            connection_pool,
            connection_args=connection_args,
            max_connections=max_connections,
            pool_timeout=pool_timeout,
            cluster=cluster,
            owned=self._owned,
            what="checkpointer",
        )
        super().__init__(
            key_prefix=resolve_prefix(
                key_prefix, checkpoint_prefix, checkpoint_write_prefix, checkpoint_blob_prefix
            ),
            ttl=ttl,
            serde=serde,
            cluster=isinstance(client, RedisCluster),
            wait_replicas=wait_replicas,
            wait_timeout_ms=wait_timeout_ms,
            compress_threshold=compress_threshold,
            allow_plaintext=allow_plaintext,
            max_payload_bytes=max_payload_bytes,
            strict_server=strict_server,
        )
        self._redis = client
        self._runner = ScriptRunner(client, keep_connections=any(c is client for c in self._owned))
        self._limiter = Limiter(max_connections)

    def close(self) -> None:
        """Close the clients the saver created; a client or pool passed in is left open."""
        self._runner.close()
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
        redis_url: str | None = None,
        *,
        redis_client: Redis | RedisCluster | ConnectionPool | None = None,
        ttl: TTLConfig | None = None,
        key_prefix: str | None = None,
        connection_args: Mapping[str, Any] | None = None,
        serde: SerializerProtocol | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT,
        checkpoint_prefix: str | None = None,
        checkpoint_write_prefix: str | None = None,
        checkpoint_blob_prefix: str | None = None,
        cluster: bool = False,
        wait_replicas: int = 0,
        wait_timeout_ms: int = DEFAULT_WAIT_TIMEOUT_MS,
        compress_threshold: int | None = DEFAULT_COMPRESS_THRESHOLD,
        allow_plaintext: bool = False,
        max_payload_bytes: int | None = DEFAULT_MAX_PAYLOAD_BYTES,
        strict_server: bool = False,
    ) -> Iterator[RedisSaver]:
        """A saver on its own client, closed when the context exits.

        URLs: ``redis://``, ``rediss://``, ``unix://``, and
        ``redis+sentinel://host:26379[,host:port...]/service_name[/db]``.  The client's pool
        holds at most ``max_connections`` connections; when all are busy a caller waits up to
        ``pool_timeout`` seconds (None: forever) instead of failing, so a graph fanning out to
        hundreds of tasks never runs out of connections.  ``cluster=True`` connects to a
        Redis Cluster through any of its nodes.  ``wait_replicas=N`` makes every write wait
        (up to ``wait_timeout_ms``) until N replicas have it, and raise ``ReplicationError``
        otherwise.  Channel values and pending writes of ``compress_threshold`` serialized
        bytes or more are stored zstd-compressed (None: never).  ``redis_client=`` (the
        official package's keyword) uses a client or pool you
        own instead, which is left open.

        Guard rails (docs/reliability.md): with a serializer that encrypts (LangGraph's
        ``EncryptedSerializer``) records stored unencrypted are refused with
        ``UnencryptedDataError`` unless ``allow_plaintext=True``; a ``put`` or ``put_writes``
        of more than ``max_payload_bytes`` (None: no limit) raises ``PayloadTooLargeError``
        before anything is sent; setup warns once about a server that may evict our keys
        or has no persistence, and raises ``ServerConfigError`` instead with
        ``strict_server=True``.
        """
        saver = cls(
            redis_url,
            redis_client=redis_client,
            ttl=ttl,
            key_prefix=key_prefix,
            connection_args=connection_args,
            serde=serde,
            max_connections=max_connections,
            pool_timeout=pool_timeout,
            checkpoint_prefix=checkpoint_prefix,
            checkpoint_write_prefix=checkpoint_write_prefix,
            checkpoint_blob_prefix=checkpoint_blob_prefix,
            cluster=cluster,
            wait_replicas=wait_replicas,
            wait_timeout_ms=wait_timeout_ms,
            compress_threshold=compress_threshold,
            allow_plaintext=allow_plaintext,
            max_payload_bytes=max_payload_bytes,
            strict_server=strict_server,
        )
        try:
            yield saver
        finally:
            saver.close()

    @classmethod
    @contextmanager
    def from_conn_info(
        cls, *, host: str = "localhost", port: int = 6379, db: int = 0, **kwargs: Any
    ) -> Iterator[RedisSaver]:
        """``from_conn_string`` for the reference savers' ``from_conn_info(host=, port=, db=)``."""
        with cls.from_conn_string(f"redis://{host}:{port}/{db}", **kwargs) as saver:
            yield saver

    # ------------------------------------------------------------------ plumbing

    def _eval(self, script: LuaScript, call: ScriptCall) -> Any:
        """EVALSHA, loading the script once if the server does not know it (NOSCRIPT)."""
        self._bind_loop()
        with self._limiter:
            return self._runner.evalsha(script, call.keys, call.args)

    def _eval_with_shared(
        self,
        script: LuaScript,
        call: ScriptCall,
        shared: ScriptCall | None = None,
        *,
        write: bool = False,
    ) -> Any:
        """A thread script, with the ``WAIT`` of ``wait_replicas`` and, on a cluster, the
        shared-slot update that goes with it.

        On one server ``WAIT`` rides in the same pipeline (one round trip).  On a cluster the
        thread's slot and the shared slot are on different nodes: the thread script runs first,
        then ``WAIT`` on the thread's node, then the shared-index script.
        """
        wait = write and self._wait_replicas > 0
        if isinstance(self._redis, RedisCluster):
            reply = self._eval(script, call)
            if wait:
                # redis-py hashes bytes keys as they are; its annotation says str
                node = self._redis.get_node_from_key(cast(str, call.keys[0]))
                with self._limiter:
                    acked = self._redis.execute_command(
                        "WAIT", self._wait_replicas, self._wait_timeout_ms, target_nodes=node
                    )
                self._check_replicas(script.name, int(acked))
            if shared is not None:
                self._eval(SCRIPTS.shared_apply, shared)
            return reply
        if not wait:
            return self._eval(script, call)
        self._bind_loop()
        for attempt in (1, 2):
            pipe = self._redis.pipeline(transaction=False)
            pipe.execute_command("EVALSHA", script.sha, len(call.keys), *call.keys, *call.args)
            pipe.execute_command("WAIT", self._wait_replicas, self._wait_timeout_ms)
            with self._limiter:
                replies = pipe.execute(raise_on_error=False)
            if attempt == 1 and isinstance(replies[0], NoScriptError):
                self._redis.script_load(script.source)
                continue
            for reply in replies:
                if isinstance(reply, Exception):
                    raise reply
            self._check_replicas(script.name, int(replies[1]))
            return replies[0]
        raise AssertionError("unreachable")  # pragma: no cover

    def _apply_shared(self, tag: bytes, reply: Any, op: str) -> None:
        """On a cluster, apply what a thread script reports for the shared indexes."""
        if not self._cluster:
            return
        members, runs = reply
        shared = self._shared_call(tag, op, members, runs)
        if shared is not None:
            self._eval(SCRIPTS.shared_apply, shared)

    def setup(self) -> None:
        """Load the scripts, record (or check) the schema version and check the server's
        eviction policy and persistence (see ``strict_server``); idempotent."""
        self._bind_loop()
        key = self._pk.schema
        pipe = self._redis.pipeline(transaction=False)
        pipe.execute_command("SET", key, schema_version_bytes(), "NX")
        pipe.execute_command("GET", key)
        with self._naming("setup", None):
            replies = pipe.execute()
        self._check_schema(replies[1])
        for script in SCRIPTS.all():
            self._redis.script_load(script.source)
        self._apply_server_facts(read_server_facts(self._redis))
        logger.debug("setup done for prefix %r", self.key_prefix)

    # ------------------------------------------------------------------ checkpoint API

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint named by ``config`` (the namespace's latest without a checkpoint_id)."""
        call, thread_id, ns, touch = self._get_tuple_call(config)
        with self._naming("get_tuple", thread_id):
            reply = self._eval_with_shared(SCRIPTS.get_tuple, call, touch)
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
        if self._cluster and query.mode == b"g":
            for item in self._alist_cluster_global(query):
                yield item
            return
        for items in self._list_pages(query):
            for item in items:
                yield self._decode_list_item(query, item)

    def _list_pages(self, query: ListQuery) -> Iterator[Sequence[Any]]:
        """The list script's raw items, a page (one round trip) at a time.

        Not for ``list(None)`` on a cluster (see ``_alist_cluster_global``).
        """
        while True:
            call = ScriptCall(query.keys, query.page_args(self._pk.prefix))
            cursor, items = self._eval(SCRIPTS.list, call)
            yield items
            if not query.advance(cursor, len(items)):
                return

    def _alist_cluster_global(self, query: ListQuery) -> Iterator[CheckpointTuple]:
        """list(None) on a cluster: a page of the shared index, then each entry in its slot.

        Two round trips per page (the entries' reads go to their nodes in parallel).
        """
        page = LIST_PAGE if query.remaining is None else min(query.remaining, LIST_PAGE)
        while True:
            with self._limiter:
                members = self._redis.execute_command(
                    "ZREVRANGEBYLEX",
                    query.keys[0],
                    query.max_bound,
                    query.min_bound,
                    "LIMIT",
                    0,
                    page,
                )
            if not members:
                return
            pipe = self._redis.pipeline(transaction=False)
            for member in members:
                call = self._fetch_member_call(query, member)
                pipe.execute_command(
                    "EVALSHA", SCRIPTS.list.sha, len(call.keys), *call.keys, *call.args
                )
            try:
                with self._limiter:
                    replies = pipe.execute()
            except NoScriptError:
                self._redis.script_load(SCRIPTS.list.source)
                continue
            found = 0
            for _, items in replies:
                for item in items:
                    found += 1
                    yield self._decode_list_item(query, item)
                    if query.remaining is not None and found >= query.remaining:
                        return
            if query.remaining is not None:
                query.remaining -= found
            if len(members) < page:
                return
            query.max_bound = b"(" + members[-1]

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint and the values of the channels in ``new_versions``, atomically."""
        call, next_config, shared = self._put_call(config, checkpoint, metadata, new_versions)
        with self._naming("put", next_config["configurable"]["thread_id"]):
            reply = self._eval_with_shared(SCRIPTS.put, call, shared, write=True)
            if self._shallow:
                self._apply_shared(cast(bytes, call.args[6]), reply, "remove")  # the tag
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
        call, touch = self._put_writes_call(config, writes, task_id, task_path)
        with self._naming("put_writes", config["configurable"]["thread_id"]):
            self._eval_with_shared(SCRIPTS.put_writes, call, touch, write=True)

    def _write_batch(self, ops: Sequence[PutOp | WritesOp]) -> None:
        """Many ``put`` / ``put_writes`` calls sent together (internal: migration, import).

        Each call is built by the same ``_put_call`` / ``_put_writes_call`` as ``aput`` /
        ``aput_writes`` and stays one atomic script; the batch costs one round trip on one
        server (see ``_eval_batch``).  The calls run in order.
        """
        self._send_batch(self._batch_calls(ops))

    def _batch_calls(self, ops: Sequence[PutOp | WritesOp]) -> builtins.list[BatchCall]:
        """The script calls of ``ops``, built (and serialized) now, sent by ``_send_batch``."""
        calls: builtins.list[BatchCall] = []
        for op in ops:
            if isinstance(op, PutOp):
                call, _, shared = self._put_call(
                    op.config, op.checkpoint, op.metadata, op.new_versions
                )
                calls.append((SCRIPTS.put, call, shared))
            elif op.writes:
                call, touch = self._put_writes_call(op.config, op.writes, op.task_id, op.task_path)
                calls.append((SCRIPTS.put_writes, call, touch))
        return calls

    def _send_batch(self, calls: Sequence[BatchCall]) -> None:
        """Send calls made by ``_batch_calls`` (see ``_write_batch``)."""
        with self._naming("a batch of put / put_writes", None):
            replies = self._eval_batch(calls, write=True)
            if self._shallow:
                for (script, call, _), reply in zip(calls, replies, strict=True):
                    if script is SCRIPTS.put:
                        self._apply_shared(cast(bytes, call.args[6]), reply, "remove")

    def _get_batch(
        self, configs: Sequence[RunnableConfig]
    ) -> builtins.list[CheckpointTuple | None]:
        """``get_tuple`` of many configs in one pipeline (internal: migration checks)."""
        calls = []
        names = []
        for config in configs:
            call, thread_id, ns, touch = self._get_tuple_call(config)
            calls.append((SCRIPTS.get_tuple, call, touch))
            names.append((thread_id, ns))
        with self._naming("get_tuple (batched)", None):
            replies = self._eval_batch(calls)
        return [
            self._decode_tuple(thread_id, ns, reply) if reply else None
            for (thread_id, ns), reply in zip(names, replies, strict=True)
        ]

    def _eval_batch(
        self,
        calls: Sequence[BatchCall],
        *,
        write: bool = False,
    ) -> builtins.list[Any]:
        """Thread scripts in one pipeline, with what ``_eval_with_shared`` adds to each.

        One round trip on one server or Sentinel (``WAIT`` rides at its end); on a cluster
        redis-py sends each node its part, and the shared-slot updates follow in a second
        pipeline.  Every script here is idempotent, so a NOSCRIPT reply (restart, failover)
        loads the scripts and sends the whole batch again.  A cluster with ``wait_replicas``
        takes the calls one by one.
        """
        if not calls:
            return []
        if write and self._cluster and self._wait_replicas > 0:
            return [
                self._eval_with_shared(script, call, shared, write=True)
                for script, call, shared in calls
            ]
        wait = write and self._wait_replicas > 0
        self._bind_loop()
        for attempt in (1, 2):
            pipe = self._redis.pipeline(transaction=False)
            for script, call, _ in calls:
                pipe.execute_command("EVALSHA", script.sha, len(call.keys), *call.keys, *call.args)
            if wait:
                pipe.execute_command("WAIT", self._wait_replicas, self._wait_timeout_ms)
            with self._limiter:
                replies = pipe.execute(raise_on_error=False)
            if attempt == 1 and any(isinstance(r, NoScriptError) for r in replies):
                for script in {script.name: script for script, _, _ in calls}.values():
                    self._redis.script_load(script.source)
                continue
            for reply in replies:
                if isinstance(reply, Exception):
                    raise reply
            if wait:
                self._check_replicas(calls[0][0].name, int(replies.pop()))
            shared = [(SCRIPTS.shared_apply, s, None) for _, _, s in calls if s is not None]
            if shared:
                self._eval_batch(shared)
            return replies
        raise AssertionError("unreachable")  # pragma: no cover

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint, value and write of the thread, in every namespace."""
        call = self._delete_thread_call(thread_id)
        with self._naming("delete_thread", thread_id):
            reply = self._eval_with_shared(SCRIPTS.delete_thread, call, write=True)
            self._apply_shared(self._thread(thread_id).tag, reply, "forget")

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint, value and write of one thread into another."""
        call = self._copy_thread_call(source_thread_id, target_thread_id)
        with self._naming("copy_thread", target_thread_id):
            if not self._cluster:
                self._eval_with_shared(SCRIPTS.copy_thread, call, write=True)
                return
            # On a cluster the two threads live in different slots: read one, write the other.
            exported = self._eval(
                SCRIPTS.export_thread, ScriptCall(self._thread(source_thread_id).all, [])
            )
            if not exported:
                return
            reply = self._eval_with_shared(
                SCRIPTS.import_thread, self._import_call(target_thread_id, exported), write=True
            )
            self._apply_shared(self._thread(target_thread_id).tag, reply, "add")

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints (and their writes) whose metadata ``run_id`` is in run_ids."""
        runs = self._run_keys(run_ids)
        if not runs:
            return
        pipe = self._redis.pipeline(transaction=False)
        for run in runs:
            pipe.execute_command("SMEMBERS", self._pk.run(run))
        members = pipe.execute()
        by_thread: dict[bytes, builtins.list[bytes]] = {}
        for run, tags in zip(runs, members, strict=True):
            for tag in tags:
                by_thread.setdefault(tag, []).append(run)
        for tag, thread_runs in by_thread.items():
            call = self._delete_runs_call(tag, thread_runs)
            with self._naming("delete_for_runs", None):
                reply = self._eval_with_shared(SCRIPTS.delete_runs, call, write=True)
                self._apply_shared(tag, reply, "remove")

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
                call = self._prune_call(thread_id, keep)
                with self._naming("prune", thread_id):
                    reply = self._eval_with_shared(SCRIPTS.prune, call, write=True)
                    self._apply_shared(self._thread(thread_id).tag, reply, "remove")

    def get_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """Writes and seed of each channel along the parent chain, in one round trip."""
        if not channels:
            return {}
        reply = self._eval(SCRIPTS.delta_history, self._delta_call(config, channels))
        return self._decode_delta(config, channels, reply)
