# This file is generated from src/aredis_ckpt/_async/saver.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""The Redis checkpoint saver: the only module that sequences Redis I/O.

Written once; ``scripts/unasync.py`` generates the synchronous twin from it.  Each checkpoint
operation is one EVALSHA of a script from ``aredis_ckpt/lua`` (one network round trip), built
and decoded by the pure helpers of ``aredis_ckpt._base``.
"""

from __future__ import annotations

import builtins
import secrets
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
from redis.exceptions import ResponseError

from aredis_ckpt._base import (
    CopyPage,
    ListQuery,
    MaintenanceJob,
    PutOp,
    PutPlan,
    WritesOp,
    logger,
    resolve_prefix,
)
from aredis_ckpt._bridge import SaverMixin
from aredis_ckpt._budget import ScriptBudget
from aredis_ckpt._commands import Command, ScriptCall, checked, evalsha
from aredis_ckpt._compat import (
    ConnectionPool,
    Limiter,
    Redis,
    RedisCluster,
)
from aredis_ckpt._config import (
    COPY_STAGING_TTL_MS,
    DEFAULT_COMPRESS_THRESHOLD,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_PAYLOAD_BYTES,
    DEFAULT_POOL_TIMEOUT,
    DEFAULT_WAIT_TIMEOUT_MS,
    LIST_PAGE,
    TTLConfig,
)
from aredis_ckpt._damage import ThreadDamage, is_damage
from aredis_ckpt._keys import NUL, BucketKeys, ThreadKeys
from aredis_ckpt._scripts import SCRIPTS, LuaScript
from aredis_ckpt._sync.connect import ScriptRunner, open_client
from aredis_ckpt._sync.server_facts import read_server_facts
from aredis_ckpt._sync.upgrade import upgrade
from aredis_ckpt.errors import AredisCheckpointError

__all__ = ["RedisSaver"]

# A thread script and its call, with a put's plan (its bucket commands go with it) or None.
BatchCall = tuple[LuaScript, ScriptCall, PutPlan | None]


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
        global_index: bool = True,
        script_budget: ScriptBudget | None = None,
        skip_damaged: bool = False,
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
            global_index=global_index,
            script_budget=script_budget,
            skip_damaged=skip_damaged,
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
        global_index: bool = True,
        script_budget: ScriptBudget | None = None,
        skip_damaged: bool = False,
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
        bytes or more are stored zstd-compressed (None: never).  ``global_index=False`` keeps
        no index across threads: a write touches only its thread's keys (one cluster slot),
        and ``list(None)`` and ``delete_for_runs`` raise.  ``redis_client=`` (the official
        package's keyword) uses a client or pool you own instead, which is left open.

        Guard rails (docs/reliability.md): with a serializer that encrypts (LangGraph's
        ``EncryptedSerializer``) records stored unencrypted are refused with
        ``UnencryptedDataError`` unless ``allow_plaintext=True``; a ``put`` or ``put_writes``
        of more than ``max_payload_bytes`` (None: no limit) raises ``PayloadTooLargeError``
        before anything is sent; setup warns once about a server that may evict our keys
        or has no persistence, and raises ``ServerConfigError`` instead with
        ``strict_server=True``.  ``script_budget`` bounds the work of one maintenance script
        call (``ScriptBudget``; the defaults keep each call within a few milliseconds).
        A thread missing records it always holds together (evicted or partly deleted keys)
        raises ``DamagedThreadError`` on every read that touches the damage, never reads as
        empty; ``skip_damaged=True`` makes ``list`` skip damaged checkpoints instead, with one
        WARNING per damaged thread (``check_threads`` finds them all).
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
            global_index=global_index,
            script_budget=script_budget,
            skip_damaged=skip_damaged,
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

    def _ready(self) -> None:
        """Before the first call of a saver whose setup() did not run: check the schema."""
        self._bind_loop()
        if self._schema_ok:
            return
        reply = self._runner.batch(
            [
                Command(("GET", self._pk.schema), self._pk.schema),
                Command(("EXISTS", self._pk.legacy_index), self._pk.legacy_index),
            ]
        )
        stored, legacy = checked(reply.replies)
        self._check_current(stored, bool(legacy))  # reads write nothing: setup() records it
        self._schema_ok = True

    def _eval(self, script: LuaScript, call: ScriptCall) -> Any:
        """EVALSHA, loading the script once if the server does not know it (NOSCRIPT)."""
        if not self._schema_ok or not self._bound:
            self._ready()
            self._bound = True
        with self._limiter:
            return self._runner.evalsha(script, call.keys, call.args)

    def _write(self, script: LuaScript, call: ScriptCall, what: str) -> Any:
        """A write script's reply (an error reply raised); with ``wait_replicas``, after the
        replicas acknowledged it (see ``_batch``)."""
        if self._wait_replicas > 0:
            return (self._batch([evalsha(script, call)], write=True, what=what))[0]
        return self._eval(script, call)

    def _batch(
        self, commands: Sequence[Command], *, write: bool = False, what: str = ""
    ) -> builtins.list[Any]:
        """Replies of a batch (one round trip per node, in parallel), raising the first error
        reply once all are read; a write waits for ``wait_replicas`` on every node it touched."""
        replies = self._batch_raw(commands, write=write, what=what)
        return checked(replies)

    def _batch_raw(
        self, commands: Sequence[Command], *, write: bool = False, what: str = ""
    ) -> builtins.list[Any]:
        self._ready()
        wait = (
            (self._wait_replicas, self._wait_timeout_ms)
            if write and self._wait_replicas > 0
            else None
        )
        if wait is None and len(commands) == 1 and commands[0].call is not None:
            cmd = commands[0]
            with self._limiter:
                try:
                    call = cast(ScriptCall, cmd.call)
                    script = cast(LuaScript, cmd.script)
                    return [self._runner.evalsha(script, call.keys, call.args)]
                except ResponseError as exc:
                    return [exc]
        with self._limiter:
            result = self._runner.batch(commands, wait)
        if wait is not None:
            self._check_replicas(what, result.acked if result.acked is not None else 0)
        return result.replies

    def _apply_bucket(self, tk: ThreadKeys, reply: Any, op: str) -> None:
        """On a cluster, apply what a thread script reports for its bucket."""
        if not self._cluster:
            return
        members, runs = reply
        call = self._bucket_call(tk, op, remove=members, remove_runs=runs)
        if call is not None:
            self._batch([evalsha(SCRIPTS.bucket, call)], write=True, what=op)

    def _settle(self, bucket: BucketKeys, due: Sequence[bytes]) -> None:
        """Cluster, TTL: check the due threads a bucket named (are their keys gone?), then let
        the bucket drop or reschedule them.  Two round trips, only when threads fall due."""
        tags = [due[i] for i in range(0, len(due), 2)]
        keys = [ThreadKeys(self._pk.prefix, tag).all[0] for tag in tags]
        lefts = self._batch([Command(("PTTL", key), key) for key in keys])
        seen = [(tags[i], due[2 * i + 1], int(lefts[i])) for i in range(len(tags))]
        self._batch([evalsha(SCRIPTS.bucket, self._settle_call(bucket, seen))])

    def setup(self) -> None:
        """Load the scripts, record (or check) the schema version, migrate data written by an
        earlier version (see ``docs/schema.md``), and check the server's eviction policy and
        persistence (see ``strict_server``); idempotent, and safe to run from several
        processes at once."""
        self._bind_loop()
        for script in SCRIPTS.all():
            self._redis.script_load(script.source)
        with self._naming("setup", None):
            upgrade(self)
        self._schema_ok = True
        self.resume_maintenance()
        self._apply_server_facts(read_server_facts(self._redis))
        logger.debug("setup done for prefix %r", self.key_prefix)

    # ------------------------------------------------------------------ checkpoint API

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint named by ``config`` (the namespace's latest without a checkpoint_id).

        None when there is no such checkpoint; ``DamagedThreadError`` when the thread lost
        records the checkpoint (or finding the latest) needs, never None for it."""
        call, thread_id, ns = self._get_tuple_call(config)
        with self._naming("get_tuple", thread_id):
            reply = self._eval(SCRIPTS.get_tuple, call)
        return self._decode_got(thread_id, ns, reply)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first; each page of results is one round trip (``list(None)`` on
        a cluster: the buckets' nodes in parallel, then the entries' nodes in parallel).

        A damaged checkpoint or thread raises ``DamagedThreadError``; with ``skip_damaged=True``
        it is skipped, with one WARNING per damaged thread."""
        query = self._list_query(config, filter, before, limit)
        if query is None:
            return
        if self._cluster and query.mode == b"g":
            for item in self._alist_cluster_global(query):
                yield item
            return
        warned: set[str] = set()
        for items in self._list_pages(query):
            for item in items:
                if is_damage(item):
                    self._damaged_list_item(query, item, None, warned)
                else:
                    yield self._decode_list_item(query, item)

    def _list_pages(self, query: ListQuery) -> Iterator[Sequence[Any]]:
        """The list script's raw items, a page (one round trip) at a time.

        Not for ``list(None)`` on a cluster (see ``_alist_cluster_global``).
        """
        while True:
            call = ScriptCall(query.keys, query.page_args(self._pk.prefix))
            cursor, items = self._eval(SCRIPTS.list, call)
            yield items
            # damage items (raised, or skipped with skip_damaged) do not count toward a limit
            if not query.advance(cursor, sum(1 for item in items if not is_damage(item))):
                return

    def _alist_cluster_global(self, query: ListQuery) -> Iterator[CheckpointTuple]:
        """list(None) on a cluster: the newest entries across the buckets, then each entry
        read in its thread's slot."""
        page = LIST_PAGE if query.remaining is None else min(query.remaining, LIST_PAGE)
        warned: set[str] = set()
        while True:
            members = self._merged_page(query.max_bound, query.min_bound, page)
            if not members:
                return
            replies = self._batch(
                [evalsha(SCRIPTS.list, self._fetch_member_call(query, m)) for m in members]
            )
            found = 0
            for member, (_, items) in zip(members, replies, strict=True):
                for item in items:
                    if is_damage(item):
                        tag = member.rpartition(NUL)[0].rpartition(NUL)[2]
                        self._damaged_list_item(query, item, tag, warned)
                        continue
                    found += 1
                    yield self._decode_list_item(query, item)
                    if query.remaining is not None and found >= query.remaining:
                        return
            if query.remaining is not None:
                query.remaining -= found
            if len(members) < page:
                return
            query.max_bound = b"(" + members[-1]

    def _merged_page(self, high: bytes, low: bytes, page: int) -> builtins.list[bytes]:
        """The ``page`` newest index entries between the bounds across all buckets, exactly.

        A first batch asks each bucket for a few entries (one round trip to the buckets'
        nodes, in parallel).  If a bucket handed over all it was asked for and its last entry
        is still above the page's cut-off, it may hold more of the page: a second batch asks
        just those buckets for the rest above the cut-off.
        """
        buckets = self._pk.buckets
        ask = min(page, max(4, 2 * page // len(buckets) + 2))
        first = self._batch(
            [
                Command(("ZREVRANGEBYLEX", b.index, high, low, "LIMIT", 0, ask), b.index)
                for b in buckets
            ]
        )
        found: builtins.list[bytes] = [m for part in first for m in part]
        found.sort(reverse=True)
        cut = found[page - 1] if len(found) >= page else None
        more = [
            (b, part[-1])
            for b, part in zip(buckets, first, strict=True)
            if len(part) == ask and (cut is None or part[-1] > cut)
        ]
        if more:
            floor = low if cut is None else b"(" + cut
            second = self._batch(
                [
                    Command(
                        ("ZREVRANGEBYLEX", b.index, b"(" + last, floor, "LIMIT", 0, page), b.index
                    )
                    for b, last in more
                ]
            )
            found.extend(m for part in second for m in part)
            found.sort(reverse=True)
        return found[:page]

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint and the values of the channels in ``new_versions``, atomically."""
        plan = self._put_call(config, checkpoint, metadata, new_versions)
        with self._naming("put", plan.config["configurable"]["thread_id"]):
            if not plan.bucket:  # one script, whose reply reports nothing to apply
                self._write(SCRIPTS.put, plan.call, "put")
                self._appends.commit(plan.remember)
                return plan.config
            commands = [evalsha(SCRIPTS.put, plan.call), *plan.bucket]
            replies = self._batch_raw(commands, write=True, what="put")
            return self._finish_put(plan, replies)

    def _finish_put(self, plan: PutPlan, replies: Sequence[Any]) -> RunnableConfig:
        """After a put's batch: errors raised (its bucket entry taken back if only the thread
        script failed), a shallow put's other drops applied, due threads settled."""
        if isinstance(replies[0], Exception):
            if plan.bucket and not any(isinstance(r, Exception) for r in replies[1:]):
                self._undo_bucket_add(plan)
            raise replies[0]
        self._appends.commit(plan.remember)  # the thread script succeeded
        if not plan.bucket:
            return plan.config
        checked(list(replies))
        if self._shallow:
            dropped, emptied = replies[0]
            if emptied or set(dropped) - set(plan.superseded):
                self._apply_bucket(plan.thread, replies[0], "remove")
        if self._ttl_ms and replies[1]:
            self._settle(self._bucket(plan.thread), replies[1])
        return plan.config

    def _undo_bucket_add(self, plan: PutPlan) -> None:
        """A put whose thread script failed after its bucket entry was added (a cluster sends
        both at once): take the entry out again, so list(None) never names it."""
        undo = self._bucket_call(plan.thread, "remove", remove=[plan.member])
        try:
            if undo is not None:
                self._batch([evalsha(SCRIPTS.bucket, undo)])
        except Exception as exc:  # the put's own error is the one to report
            logger.debug("could not take back a bucket entry: %r", exc)

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
        call = self._put_writes_call(config, writes, task_id, task_path)
        with self._naming("put_writes", config["configurable"]["thread_id"]):
            self._write(SCRIPTS.put_writes, call, "put_writes")

    def _write_batch(self, ops: Sequence[PutOp | WritesOp]) -> None:
        """Many ``put`` / ``put_writes`` calls sent together (internal: migration, import).

        Each call is built by the same ``_put_call`` / ``_put_writes_call`` as ``aput`` /
        ``aput_writes`` and stays one atomic script; the batch costs one round trip (on a
        cluster one per node, in parallel; see ``_eval_batch``).  The calls of one thread
        run in order.
        """
        self._send_batch(self._batch_calls(ops))

    def _batch_calls(self, ops: Sequence[PutOp | WritesOp]) -> builtins.list[BatchCall]:
        """The script calls of ``ops``, built (and serialized) now, sent by ``_send_batch``."""
        calls: builtins.list[BatchCall] = []
        for op in ops:
            if isinstance(op, PutOp):
                plan = self._put_call(op.config, op.checkpoint, op.metadata, op.new_versions)
                calls.append((SCRIPTS.put, plan.call, plan))
            elif op.writes:
                call = self._put_writes_call(op.config, op.writes, op.task_id, op.task_path)
                calls.append((SCRIPTS.put_writes, call, None))
        return calls

    def _send_batch(self, calls: Sequence[BatchCall]) -> None:
        """Send calls made by ``_batch_calls`` (see ``_write_batch``)."""
        with self._naming("a batch of put / put_writes", None):
            self._eval_batch(calls, write=True)

    def _get_batch(
        self, configs: Sequence[RunnableConfig]
    ) -> builtins.list[CheckpointTuple | None]:
        """``get_tuple`` of many configs in one batch (internal: migration checks)."""
        calls: builtins.list[BatchCall] = []
        names = []
        for config in configs:
            call, thread_id, ns = self._get_tuple_call(config)
            calls.append((SCRIPTS.get_tuple, call, None))
            names.append((thread_id, ns))
        with self._naming("get_tuple (batched)", None):
            replies = self._eval_batch(calls)
        return [
            self._decode_got(thread_id, ns, reply)
            for (thread_id, ns), reply in zip(names, replies, strict=True)
        ]

    def _eval_batch(self, calls: Sequence[BatchCall], *, write: bool = False) -> builtins.list[Any]:
        """Thread scripts (with each put's bucket commands) in one batch; their replies.

        One round trip on one server or Sentinel (``WAIT`` rides at its end); on a cluster one
        per node, all sent before any reply is read.  Every script here is idempotent, so a
        NOSCRIPT reply loads the script and sends those calls again.
        """
        commands: builtins.list[Command] = []
        spans: builtins.list[tuple[int, int, PutPlan | None]] = []
        for script, call, plan in calls:
            start = len(commands)
            commands.append(evalsha(script, call))
            if plan is not None:
                commands.extend(plan.bucket)
            spans.append((start, len(commands), plan))
        if not commands:
            return []
        replies = self._batch_raw(commands, write=write, what=calls[0][0].name)
        out = []
        for start, end, plan in spans:
            part = replies[start:end]
            if plan is not None:
                self._finish_put(plan, part)
            else:
                checked(part)
            out.append(part[0])
        return out

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint, value and write of the thread, in every namespace.

        The thread vanishes at once (one O(1) script); its entries in the indexes across
        threads are then removed in bounded slices (see docs/reliability.md).
        """
        job = self._delete_job(thread_id)
        with self._naming("delete_thread", thread_id):
            self._run_jobs([job], "delete_thread")

    def _run_jobs(self, jobs: Sequence[MaintenanceJob], what: str) -> None:
        """Run maintenance jobs a slice at a time: each round sends one slice script per
        unfinished job in one batch; on a cluster the bucket changes the slices report follow
        in a second batch.  Every slice is idempotent, so an interrupted run is finished by
        the next one on the thread, or by ``resume_maintenance`` (setup runs it)."""
        track = self._cluster and self._global
        if track and jobs:
            self._batch([self._todo_command(job.tk, "SADD") for job in jobs], write=True, what=what)
        active = builtins.list(jobs)
        while active:
            calls = []
            for job in active:
                script, call = self._job_call(job)
                calls.append(evalsha(script, call))
            phases = [job.phases[0] for job in active]
            replies = self._batch(calls, write=True, what=what)
            bucket = []
            for job, phase, reply in zip(active, phases, replies, strict=True):
                members, runs = self._job_advance(job, reply)
                op = "forget" if phase == "delete" else "remove"
                apply = self._bucket_call(job.tk, op, remove=members, remove_runs=runs)
                if apply is not None:
                    bucket.append(evalsha(SCRIPTS.bucket, apply))
            if bucket:
                self._batch(bucket, write=True, what=what)
            active = [job for job in active if job.phases]
        if track and jobs:
            self._batch([self._todo_command(job.tk, "SREM") for job in jobs], write=True, what=what)
        logger.debug("%s: %d slice script(s)", what, sum(job.slices for job in jobs))

    def _todo_command(self, tk: ThreadKeys, op: str) -> Command:
        key = self._bucket(tk).todo
        return Command((op, key, tk.tag), key)

    def resume_maintenance(self) -> int:
        """Finish maintenance an interrupted ``delete_thread``, ``prune`` or
        ``delete_for_runs`` left behind (bucket entries of a deleted thread, a value GC);
        returns the number of threads it looked at.  ``setup`` runs it; without the index
        across threads nothing is recorded, and the next call on the thread finishes it."""
        if not self._global:
            return 0
        keys = [b.todo for b in self._pk.buckets]
        found = self._batch([Command(("SMEMBERS", key), key) for key in keys])
        jobs = [
            MaintenanceJob(ThreadKeys(self._pk.prefix, tag), ["drain", "gc"])
            for tags in found
            for tag in tags
        ]
        with self._naming("resume_maintenance", None):
            self._run_jobs(jobs, "resume_maintenance")
        return len(jobs)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint, value and write of one thread into another.

        Works in pages (``ScriptBudget.copy``), each one short script.  Into a thread that
        does not exist the pages fill a staging copy that one script then renames onto the
        target: readers see no thread, then the whole thread.  Into an existing thread the
        checkpoints are merged oldest first, each with its values in one script.  A source
        changed meanwhile: see docs/reliability.md ("Bounded server time").
        """
        src, dst = self._copy_threads(source_thread_id, target_thread_id)
        if src.tag == dst.tag:
            return
        with self._naming("copy_thread", target_thread_id):
            (exists,) = self._batch([Command(("EXISTS", *dst.all), dst.all[0])])
            if not exists:
                staging = dst.staging(secrets.token_hex(8).encode())
                page = self._copy_pages(src, staging, target_thread_id, dst, staged=True)
                if page.vanished:  # deleted meanwhile: copy nothing rather than a part
                    self._batch([Command(("UNLINK", *staging), staging[0])], write=True)
                if not page.found or page.vanished:
                    return
                publish = self._copy_publish_call(staging, dst, page)
                (reply,) = self._batch(
                    [evalsha(SCRIPTS.copy_publish, publish)], write=True, what="copy_thread"
                )
                if reply == b"ok":
                    self._copy_index(dst, page)
                    return
                if reply != b"busy":
                    raise AredisCheckpointError(
                        f"copy_thread into thread {target_thread_id!r}: the staging copy's "
                        f"{reply[1].decode()!r} key lost entries before it was published "
                        "(expired or evicted); the target was not written, copy again"
                    )
                logger.debug("copy_thread: the target appeared meanwhile, merging instead")
            self._copy_pages(src, dst.all, target_thread_id, dst, staged=False)

    def _copy_pages(
        self,
        src: ThreadKeys,
        keys: Sequence[bytes],
        target_thread_id: str,
        dst: ThreadKeys,
        *,
        staged: bool,
    ) -> CopyPage:
        """Read the source a page at a time (pending writes, then checkpoints oldest first)
        and write each page into ``keys``: a staging copy (``staged``: its index entries are
        left for after the publish) or the target itself (each page's index entries follow
        it)."""
        done = CopyPage()
        ttl = COPY_STAGING_TTL_MS if staged else self._ttl_ms
        wrote = False
        for phase in (b"w", b"c"):
            cursor = b"-"
            while cursor:
                read = self._eval(SCRIPTS.copy_read, self._copy_read_call(src, phase, cursor))
                if not read:  # no such source (or deleted meanwhile)
                    done.vanished = done.found
                    return done
                done.found = True
                cursor = read[0]
                if wrote and not read[2]:
                    continue
                wrote = True
                call = self._copy_write_call(keys, target_thread_id, dst.tag, ttl, phase, read)
                (reply,) = self._batch(
                    [evalsha(SCRIPTS.copy_write, call)], write=True, what="copy_thread"
                )
                if staged:
                    done.record(reply)
                else:
                    page = CopyPage()
                    page.record(reply)
                    self._copy_index(dst, page)
        return done

    def _copy_index(self, dst: ThreadKeys, page: CopyPage) -> None:
        """Add copied checkpoints to the target's bucket of the indexes across threads."""
        for call in self._copy_index_calls(dst, page):
            (due,) = self._batch([evalsha(SCRIPTS.bucket, call)], write=True, what="copy")
            if due:
                self._settle(self._bucket(dst), due)

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints (and their writes) whose metadata ``run_id`` is in run_ids.

        Works in bounded slices (whole checkpoints each; see docs/reliability.md) and also
        finishes maintenance an interrupted earlier call left.
        """
        runs = self._run_keys(run_ids)
        if not runs:
            return
        self._require_global("delete_for_runs")
        sets = [b.run(run) for run in runs for b in self._pk.buckets]
        # with the threads whose maintenance an interrupted call left unfinished (a value GC
        # of a thread already out of the runs' sets): a repeated call finishes it
        sets += [b.todo for b in self._pk.buckets]
        members = self._batch([Command(("SMEMBERS", key), key) for key in sets])
        by_thread: dict[bytes, builtins.list[bytes]] = {}
        width = len(self._pk.buckets)
        for i, tags in enumerate(members):
            for tag in tags:
                runs_of = by_thread.setdefault(tag, [])
                if i < len(runs) * width:
                    runs_of.append(runs[i // width])
        jobs = [self._delete_runs_job(tag, runs_of) for tag, runs_of in by_thread.items()]
        with self._naming("delete_for_runs", None):
            self._run_jobs(jobs, "delete_for_runs")

    def prune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: str = "keep_latest",
        keep_last: int | None = None,
    ) -> None:
        """Keep the latest checkpoint (or ``keep_last`` of them) per namespace, or delete all.

        Values no kept checkpoint references and writes of dropped checkpoints go too.  Works in
        bounded slices, oldest checkpoints first, whole checkpoints each; values go last, once
        no checkpoint references them (see docs/reliability.md, "Bounded server time").
        """
        keep = self._prune_keep(strategy, keep_last)
        ids = self._check_thread_ids(thread_ids, "prune")
        if not ids:
            return
        if keep == 0:
            jobs = [self._delete_job(tid) for tid in ids]
        else:
            jobs = [self._prune_job(tid, keep) for tid in ids]
        with self._naming("prune", ids[0] if len(ids) == 1 else None):
            self._run_jobs(jobs, "prune")

    def check_threads(self) -> builtins.list[ThreadDamage]:
        """Every damaged thread under the prefix: one ``ThreadDamage`` per damaged checkpoint
        (or per thread, for damage that is not one checkpoint's), naming the thread,
        namespace, checkpoint and the records missing; empty when every thread is whole.

        Reads only, in bounded slices (SCAN, at most ``script_budget.entries`` checkpoints
        per script call, the buckets of the index across threads a slice at a time), so it
        runs beside live traffic; a thread that looked damaged is checked twice, so a write
        or delete in flight is not reported.  Also finds threads whose every key is gone
        while the index across threads still names them (and no TTL accounts for it).
        """
        from aredis_ckpt._sync.damage import check_threads

        self._ready()
        return check_threads(self)

    def get_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """Writes and seed of each channel along the parent chain.

        One round trip per ``ScriptBudget.walk`` ancestors (plus their pending writes): each
        script call walks a slice of the chain and hands back where it stopped.
        ``DamagedThreadError`` for an ancestor missing records.
        """
        if not channels:
            return {}
        walk = self._delta_walk(config, channels)
        while True:
            reply = self._eval(SCRIPTS.delta_history, walk.call())
            if is_damage(reply):
                return self._decode_delta(config, channels, reply)  # raises
            if not walk.advance(reply):
                return self._decode_delta(config, channels, walk.ancestors)
