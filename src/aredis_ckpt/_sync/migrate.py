# This file is generated from src/aredis_ckpt/_async/migrate.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""Copying checkpoints from any LangGraph saver into ours, and comparing the two sides.

Written once; ``scripts/unasync.py`` generates the synchronous twin.  The source is read
through its public API, thread by thread, newest first (``list`` streams), plus a few direct
reads for sources we know (their thread ids, and the task path of pending writes, which the
API does not return).  The target is one of our savers: checkpoints go out in pipelines of
``batch_size`` puts, each still one atomic, idempotent script.

Resuming: within each thread the newest checkpoint (with its pending writes) is written
last, so a thread whose newest checkpoint is on the target, with as many pending writes,
was copied whole, and the next run skips it after one read on each side.  A run stopped half
way (a crash, Ctrl-C, a failed write) therefore continues where it stopped when run again,
and a second run over unchanged data writes nothing.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple
from langgraph.checkpoint.memory import InMemorySaver

from aredis_ckpt import _serde
from aredis_ckpt._base import PutOp, WritesOp, logger
from aredis_ckpt._compat import close_iterator
from aredis_ckpt._migration import (
    CHECK_GROUP,
    DEFAULT_BATCH,
    OFFICIAL_MAX_LIST,
    VERIFY_BATCH,
    Difference,
    MigrationError,
    MigrationReport,
    Progress,
    SourceCheckpoint,
    ThreadFailure,
    VerifyProgress,
    VerifyReport,
    batch_bytes,
    checkpoint_ops,
    compare_checkpoints,
    describe,
    official_safe,
    official_unsafe,
    row_value,
    source_kind,
    thread_id_list,
)
from aredis_ckpt._readers import Reader, make_reader
from aredis_ckpt._sync.inventory import checkpoint_ids, count_checkpoints, iter_thread_ids
from aredis_ckpt._sync.saver import BatchCall, RedisSaver

__all__ = ["SourceReader", "copy_checkpoints", "verify_checkpoints"]

# Source checkpoints read per chunk (a chunk shares one task-path lookup).
_CHUNK = 64


class SourceReader:
    """Reads one source saver through its async API.

    ``thread_ids`` lists the source's threads, ``newest`` a thread's newest checkpoint, and
    ``checkpoints`` a thread's checkpoints newest first, all namespaces, each with the task
    paths of its pending writes where the source keeps them.
    """

    def __init__(self, source: BaseCheckpointSaver[Any]) -> None:
        self.source = source
        self.kind = "aredis" if isinstance(source, RedisSaver) else source_kind(source)

    # ------------------------------------------------------------------ threads

    def thread_ids(self) -> Iterator[str]:
        source = self.source
        if isinstance(source, RedisSaver):
            for thread_id in iter_thread_ids(source):
                yield thread_id
        elif isinstance(source, InMemorySaver):
            for thread_id in sorted(source.storage):
                yield thread_id
        elif self.kind in ("sqlite", "postgres"):
            for thread_id in self._sql_thread_ids():
                yield thread_id
        elif self.kind == "official":
            for thread_id in self._official_thread_ids():
                yield thread_id
        else:
            # Any other saver: every checkpoint of list(None), ids collected first (a saver
            # may not allow another call while one of its list() iterators is open).
            seen: set[str] = set()
            for tup in source.list(None):
                seen.add(str(tup.config["configurable"]["thread_id"]))
            for thread_id in sorted(seen):
                yield thread_id

    def _sql(self, sql: str, params: Sequence[Any]) -> builtins.list[Any]:
        conn: Any = getattr(self.source, "conn")  # noqa: B009 - not on BaseCheckpointSaver
        if hasattr(conn, "getconn"):  # a psycopg pool
            with conn.connection() as pooled:
                cur = pooled.execute(sql, params)
                rows = cur.fetchall()
                cur.close()
                return builtins.list(rows)
        cur = conn.execute(sql, params)
        rows = cur.fetchall()
        cur.close()
        return builtins.list(rows)

    def _placeholder(self) -> str:
        return "?" if self.kind == "sqlite" else "%s"

    def _sql_thread_ids(self) -> Iterator[str]:
        # keyset pages: no cursor stays open while the caller reads the threads
        p = self._placeholder()
        last: str | None = None
        while True:
            if last is None:
                sql = f"SELECT DISTINCT thread_id FROM checkpoints ORDER BY thread_id LIMIT {p}"
                params: tuple[Any, ...] = (1000,)
            else:
                sql = (
                    f"SELECT DISTINCT thread_id FROM checkpoints WHERE thread_id > {p} "
                    f"ORDER BY thread_id LIMIT {p}"
                )
                params = (last, 1000)
            rows = self._sql(sql, params)
            for row in rows:
                last = str(row_value(row, 0, "thread_id"))
                yield last
            if len(rows) < 1000:
                return

    def _official_thread_ids(self) -> Iterator[str]:
        redis: Any = getattr(self.source, "_redis")  # noqa: B009
        index = getattr(self.source, "checkpoints_index").name  # noqa: B009
        reply = redis.execute_command(
            "FT.AGGREGATE", index, "*", "GROUPBY", 1, "@thread_id", "WITHCURSOR", "COUNT", 1000
        )
        while True:
            rows, cursor = reply
            for row in rows[1:]:
                fields = dict(zip(row[::2], row[1::2], strict=True))
                raw = fields.get(b"thread_id", fields.get("thread_id"))
                if raw is not None:
                    yield official_unsafe(raw, empty_id=True)
            if not int(cursor):
                return
            reply = redis.execute_command("FT.CURSOR", "READ", index, cursor, "COUNT", 1000)

    # ------------------------------------------------------------------ checkpoints

    def newest(self, thread_id: str) -> SourceCheckpoint | None:
        found = _first(self._tuples(thread_id, 1))
        if found is None and self.kind == "official":
            # its thread_id filter ignores case: the newest of a thread whose id differs
            # only in case may have hidden this one's
            found = _first(self._tuples(thread_id, None))
        return found

    def checkpoints(self, thread_id: str) -> Iterator[SourceCheckpoint]:
        return self._tuples(thread_id, None)

    def _tuples(self, thread_id: str, limit: int | None) -> Iterator[SourceCheckpoint]:
        source = self.source
        config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
        if isinstance(source, RedisSaver):
            query = source._list_query(config, None, None, limit)
            if query is None:
                return
            for items in source._list_pages(query):
                for raw in items:
                    tup = source._decode_list_item(query, raw)
                    paths = {}
                    for blob in raw[5]:
                        if blob:
                            task_path, task_id, _ = _serde.write_task(blob)
                            paths[task_id] = task_path
                    yield SourceCheckpoint(tup, paths)
            return
        if self.kind == "official" and limit is None:
            limit = OFFICIAL_MAX_LIST
        chunk: builtins.list[CheckpointTuple] = []
        found = 0
        stream = source.list(config, limit=limit)
        try:
            for tup in stream:
                if tup.config["configurable"].get("thread_id") != thread_id:
                    continue  # the official saver's tag filter ignores case
                found += 1
                chunk.append(tup)
                if len(chunk) >= _CHUNK:
                    for item in self._with_paths(thread_id, chunk):
                        yield item
                    chunk = []
        finally:
            close_iterator(stream)
        for item in self._with_paths(thread_id, chunk):
            yield item
        if self.kind == "official" and limit == OFFICIAL_MAX_LIST and found >= limit:
            raise RuntimeError(
                f"thread {thread_id!r} has {limit} checkpoints or more: the official saver "
                "lists at most that many, so it cannot be copied whole"
            )

    def _with_paths(
        self, thread_id: str, chunk: Sequence[CheckpointTuple]
    ) -> builtins.list[SourceCheckpoint]:
        """The chunk with the task path of each task with pending writes, where kept."""
        wanted = [t for t in chunk if t.pending_writes]
        paths: dict[tuple[str, str], dict[str, str]] = {}
        if wanted:
            if isinstance(self.source, InMemorySaver):
                paths = self._memory_paths(thread_id, wanted)
            elif self.kind in ("sqlite", "postgres"):
                paths = self._sql_paths(thread_id, wanted)
            elif self.kind == "official":
                paths = self._official_paths(thread_id, wanted)
        out = []
        for tup in chunk:
            conf = tup.config["configurable"]
            key = (str(conf.get("checkpoint_ns", "")), str(conf["checkpoint_id"]))
            out.append(SourceCheckpoint(tup, paths.get(key, {})))
        return out

    def _memory_paths(
        self, thread_id: str, chunk: Sequence[CheckpointTuple]
    ) -> dict[tuple[str, str], dict[str, str]]:
        assert isinstance(self.source, InMemorySaver)
        out: dict[tuple[str, str], dict[str, str]] = {}
        for tup in chunk:
            conf = tup.config["configurable"]
            ns, cid = str(conf.get("checkpoint_ns", "")), str(conf["checkpoint_id"])
            stored = self.source.writes.get((thread_id, ns, cid), {})
            out[(ns, cid)] = {w[0]: w[3] for w in stored.values()}
        return out

    def _sql_paths(
        self, thread_id: str, chunk: Sequence[CheckpointTuple]
    ) -> dict[tuple[str, str], dict[str, str]]:
        if self.kind == "sqlite" and not getattr(self.source, "_has_task_path", True):
            return {}  # a database from before task paths were stored
        p = self._placeholder()
        table = "writes" if self.kind == "sqlite" else "checkpoint_writes"
        ids = sorted({str(t.config["configurable"]["checkpoint_id"]) for t in chunk})
        sql = (
            f"SELECT checkpoint_ns, checkpoint_id, task_id, task_path FROM {table} "
            f"WHERE thread_id = {p} AND checkpoint_id IN ({', '.join([p] * len(ids))})"
        )
        out: dict[tuple[str, str], dict[str, str]] = {}
        for row in self._sql(sql, [thread_id, *ids]):
            key = (str(row_value(row, 0, "checkpoint_ns")), str(row_value(row, 1, "checkpoint_id")))
            task_id = str(row_value(row, 2, "task_id"))
            out.setdefault(key, {})[task_id] = str(row_value(row, 3, "task_path") or "")
        return out

    def _official_paths(
        self, thread_id: str, chunk: Sequence[CheckpointTuple]
    ) -> dict[tuple[str, str], dict[str, str]]:
        from redisvl.query import FilterQuery
        from redisvl.query.filter import Tag

        ids = sorted({str(t.config["configurable"]["checkpoint_id"]) for t in chunk})
        where = (Tag("thread_id") == official_safe(thread_id, empty_id=True)) & (
            Tag("checkpoint_id") == [official_safe(c, empty_id=True) for c in ids]
        )
        index: Any = getattr(self.source, "checkpoint_writes_index")  # noqa: B009
        out: dict[tuple[str, str], dict[str, str]] = {}
        offset = 0
        while True:
            query = FilterQuery(
                filter_expression=where,
                return_fields=["checkpoint_ns", "checkpoint_id", "task_id", "$.task_path"],
                num_results=1000,
            ).paging(offset, 1000)
            docs = (index.search(query)).docs
            for doc in docs:
                key = (
                    official_unsafe(getattr(doc, "checkpoint_ns", ""), empty_id=False),
                    official_unsafe(getattr(doc, "checkpoint_id", ""), empty_id=True),
                )
                task_path = getattr(doc, "$.task_path", "") or ""
                out.setdefault(key, {})[str(getattr(doc, "task_id", ""))] = str(task_path)
            if len(docs) < 1000:
                return out
            offset += 1000


class _TargetSink:
    """Collects the target's script calls and sends them a pipeline at a time."""

    def __init__(self, target: RedisSaver, batch_size: int, dry_run: bool) -> None:
        self.target = target
        self.batch_size = batch_size
        self.dry_run = dry_run
        self.calls: builtins.list[BatchCall] = []
        self.puts = 0
        self.size = 0

    def add(self, ops: Sequence[PutOp | WritesOp]) -> None:
        calls = self.target._batch_calls(ops)
        if self.dry_run:
            return
        self.calls.extend(calls)
        self.puts += sum(1 for op in ops if isinstance(op, PutOp))
        self.size += batch_bytes(calls)
        if self.puts >= self.batch_size or self.size >= 8 * 1024 * 1024:
            self.flush()

    def flush(self) -> None:
        calls, self.calls, self.puts, self.size = self.calls, [], 0, 0
        if calls:
            self.target._send_batch(calls)


def _check_target(target: object, what: str) -> RedisSaver:
    if not isinstance(target, RedisSaver):
        raise TypeError(
            f"{what}: the target must be an AsyncRedisSaver (RedisSaver for the synchronous "
            f"function), got {type(target).__module__}.{type(target).__name__}"
        )
    return target


def _check_batch(batch_size: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    return batch_size


def _first(stream: Iterator[SourceCheckpoint]) -> SourceCheckpoint | None:
    try:
        for item in stream:
            return item
        return None
    finally:
        close_iterator(stream)


def copy_checkpoints(
    source: BaseCheckpointSaver[Any],
    target: RedisSaver,
    *,
    thread_ids: Iterable[str] | None = None,
    skip_complete: bool = True,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> MigrationReport:
    """Copy every checkpoint (all namespaces, parents, metadata, channel values, pending
    writes with their task paths) of the source's threads into ``target``.

    ``source`` is any LangGraph ``BaseCheckpointSaver``; one whose async methods are not
    implemented (``SqliteSaver``, ``PostgresSaver``, the synchronous savers) is read through
    its synchronous methods on a worker thread.  ``thread_ids`` limits the copy to those
    threads (default: every thread of the source).  A thread already complete on the target
    is skipped (``skip_complete=False`` copies it again; every write is idempotent).
    ``dry_run`` reads everything and writes nothing.  ``progress`` is called with the report
    after each thread.  A thread the source cannot read is recorded in ``report.failed`` and
    the copy goes on; a failed write stops it with ``MigrationError`` (its ``report`` says
    how far it got; running the copy again continues from there).
    """
    target = _check_target(target, "copy_checkpoints")
    ids = None if thread_ids is None else thread_id_list(thread_ids, "copy_checkpoints")
    batch_size = _check_batch(batch_size)
    report = MigrationReport(dry_run=dry_run)
    reader = make_reader(source)
    sink = _TargetSink(target, batch_size, dry_run)
    check = target if skip_complete else None
    try:
        _copy_all(reader, sink, ids, report, progress, check, target._shallow)
    except Exception as exc:
        report.tick()
        raise MigrationError(
            f"the copy stopped after {report.threads} threads ({report.checkpoints} "
            f"checkpoints): {describe(exc)}; run it again to continue",
            report,
        ) from exc
    report.tick()
    logger.debug("copy_checkpoints: %s", report.as_dict())
    return report


def _copy_all(
    reader: Reader,
    sink: Any,
    ids: Sequence[str] | None,
    report: MigrationReport,
    progress: Progress | None,
    check: RedisSaver | None,
    shallow: bool,
) -> None:
    """Copy each thread into ``sink`` (a target saver's sink, or an export file's).

    When the copy stops on an error (or Ctrl-C), what is queued for threads already read is
    still sent, so the next run finds them complete.
    """
    try:
        _copy_threads(reader, sink, ids, report, progress, check, shallow)
    except BaseException:
        try:
            sink.flush()
        except Exception as exc:  # the target is what failed: the first error says it
            logger.debug("flush after a stopped copy failed too: %r", exc)
        raise
    sink.flush()


def _copy_threads(
    reader: Reader,
    sink: Any,
    ids: Sequence[str] | None,
    report: MigrationReport,
    progress: Progress | None,
    check: RedisSaver | None,
    shallow: bool,
) -> None:
    if ids is not None:
        for start in range(0, len(ids), CHECK_GROUP):
            group = ids[start : start + CHECK_GROUP]
            _copy_group(reader, sink, group, report, progress, check, shallow)
        return
    group = []
    threads = reader.thread_ids()
    try:
        for thread_id in threads:
            group.append(thread_id)
            if len(group) >= CHECK_GROUP:
                _copy_group(reader, sink, group, report, progress, check, shallow)
                group = []
    finally:
        close_iterator(threads)
    _copy_group(reader, sink, group, report, progress, check, shallow)


def _copy_group(
    reader: Reader,
    sink: Any,
    group: Sequence[str],
    report: MigrationReport,
    progress: Progress | None,
    check: RedisSaver | None,
    shallow: bool,
) -> None:
    newest: dict[str, SourceCheckpoint | None] = {}
    for thread_id in group:
        try:
            newest[thread_id] = reader.newest(thread_id)
        except Exception as exc:
            report.failed.append(ThreadFailure(thread_id, describe(exc)))
    complete: set[str] = set()
    present = [(t, item) for t, item in newest.items() if item is not None]
    if check is not None and present:
        found = check._get_batch([item.tuple.config for _, item in present])
        for (thread_id, item), tup in zip(present, found, strict=True):
            if tup is not None and len(tup.pending_writes or ()) == len(
                item.tuple.pending_writes or ()
            ):
                complete.add(thread_id)
    for thread_id, newest_item in newest.items():
        if newest_item is None:
            continue  # no checkpoint (any more): nothing to copy
        if thread_id in complete:
            report.skipped += 1
        else:
            _copy_thread(reader, sink, thread_id, report, shallow)
        report.tick()
        if progress is not None:
            progress(report)


def _copy_thread(
    reader: Reader, sink: Any, thread_id: str, report: MigrationReport, shallow: bool
) -> None:
    written: dict[tuple[str, str, str], bool] = {}
    namespaces: set[str] = set()
    first: SourceCheckpoint | None = None
    stream = reader.checkpoints(thread_id)
    try:
        while True:
            try:
                item = next(stream)
            except StopIteration:
                break
            except Exception as exc:
                report.failed.append(ThreadFailure(thread_id, describe(exc)))
                return
            if shallow:
                if item.checkpoint_ns in namespaces:
                    continue  # a shallow target keeps the newest of each namespace
                namespaces.add(item.checkpoint_ns)
            if first is None:
                first = item  # written last: its presence marks the thread complete
                continue
            _add(sink, item, written, report)
    finally:
        close_iterator(stream)
    if first is not None:
        _add(sink, first, written, report)
        report.threads += 1


def _add(
    sink: Any,
    item: SourceCheckpoint,
    written: dict[tuple[str, str, str], bool],
    report: MigrationReport,
) -> None:
    ops = checkpoint_ops(item, written)
    sink.add(ops)
    report.checkpoints += 1
    report.writes += sum(len(op.writes) for op in ops if isinstance(op, WritesOp))


def verify_checkpoints(
    source: BaseCheckpointSaver[Any],
    target: RedisSaver,
    *,
    thread_ids: Iterable[str] | None = None,
    progress: VerifyProgress | None = None,
) -> VerifyReport:
    """Read both sides and report every difference, thread by thread.

    Each source checkpoint is looked up on the target (pipelined) and compared: parent,
    metadata, checkpoint fields, channel values, pending writes (per task, in order).
    Checkpoints the target holds beyond the source's are reported as ``extra``.  Threads:
    ``thread_ids``, or every thread of the source (other threads on the target are not
    looked at).  Nothing is written.
    """
    target = _check_target(target, "verify_checkpoints")
    ids = None if thread_ids is None else thread_id_list(thread_ids, "verify_checkpoints")
    report = VerifyReport()
    reader = make_reader(source)
    if ids is not None:
        for thread_id in ids:
            _verify_thread(reader, target, thread_id, report)
            report.tick()
            if progress is not None:
                progress(report)
        return report
    threads = reader.thread_ids()
    try:
        for thread_id in threads:
            _verify_thread(reader, target, thread_id, report)
            report.tick()
            if progress is not None:
                progress(report)
    finally:
        close_iterator(threads)
    report.tick()
    return report


def _verify_thread(
    reader: Reader, target: RedisSaver, thread_id: str, report: VerifyReport
) -> None:
    seen: set[tuple[str, str]] = set()
    namespaces: set[str] = set()
    chunk: builtins.list[SourceCheckpoint] = []
    missing = 0
    stream = reader.checkpoints(thread_id)
    try:
        while True:
            try:
                item = next(stream)
            except StopIteration:
                break
            except Exception as exc:
                report.failed.append(ThreadFailure(thread_id, describe(exc)))
                return
            if target._shallow:
                if item.checkpoint_ns in namespaces:
                    continue
                namespaces.add(item.checkpoint_ns)
            seen.add((item.checkpoint_ns, item.checkpoint_id))
            chunk.append(item)
            if len(chunk) >= VERIFY_BATCH:
                missing += _compare(target, chunk, report)
                chunk = []
    finally:
        close_iterator(stream)
    missing += _compare(target, chunk, report)
    report.threads += 1
    if count_checkpoints(target, thread_id) != len(seen) - missing:
        for ns, cid in sorted(checkpoint_ids(target, thread_id) - seen):
            report.differences.append(Difference(thread_id, ns, cid, "extra"))


def _compare(target: RedisSaver, chunk: Sequence[SourceCheckpoint], report: VerifyReport) -> int:
    """Compare a chunk with the target; return how many were missing there."""
    if not chunk:
        return 0
    found = target._get_batch([item.tuple.config for item in chunk])
    missing = 0
    for item, tup in zip(chunk, found, strict=True):
        report.checkpoints += 1
        missing += tup is None
        report.differences.extend(compare_checkpoints(item, tup, target.serde))
    return missing
