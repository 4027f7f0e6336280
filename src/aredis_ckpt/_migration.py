"""What copying threads between savers computes without I/O: the write operations a source
checkpoint becomes, the comparison of two checkpoints, and the reports.

``_async/migrate.py`` (and its generated twin) only sequences the reads and writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import WRITES_IDX_MAP, CheckpointTuple
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.base import SerializerProtocol

from aredis_ckpt._base import PutOp, ScriptCall, WritesOp

__all__ = [
    "Difference",
    "MigrationError",
    "MigrationReport",
    "SourceCheckpoint",
    "ThreadFailure",
    "VerifyReport",
    "checkpoint_ops",
    "compare_checkpoints",
    "thread_id_list",
]

#: Checkpoints (with their writes) sent to the target per pipeline.
DEFAULT_BATCH: Final = 128
#: Threads whose newest checkpoint is looked up on the target in one pipeline.
CHECK_GROUP: Final = 64
#: Source checkpoints compared with the target per pipeline in ``verify``.
VERIFY_BATCH: Final = 64
#: The most results the official saver's search returns in one list() (RediSearch's
#: MAXSEARCHRESULTS default): a thread is listed with this limit, not the default 10,000.
OFFICIAL_MAX_LIST: Final = 1_000_000


@dataclass
class SourceCheckpoint:
    """A checkpoint as a source saver returns it, with the task path of each task that has
    pending writes (where the source keeps it; otherwise absent, written as ``""``)."""

    tuple: CheckpointTuple
    task_paths: Mapping[str, str] = field(default_factory=dict)

    @property
    def thread_id(self) -> str:
        return str(self.tuple.config["configurable"]["thread_id"])

    @property
    def checkpoint_ns(self) -> str:
        return str(self.tuple.config["configurable"].get("checkpoint_ns", ""))

    @property
    def checkpoint_id(self) -> str:
        return str(self.tuple.config["configurable"]["checkpoint_id"])


@dataclass
class ThreadFailure:
    """A thread the source could not hand over; the target may hold part of it."""

    thread_id: str
    error: str


@dataclass
class MigrationReport:
    """What one copy (or export, import) did.

    ``threads``: threads copied; ``checkpoints`` / ``writes``: checkpoints and pending writes
    copied; ``skipped``: threads whose newest checkpoint (with as many pending writes) was
    already on the target; ``failed``: threads the source could not read, with the error.
    With ``dry_run`` nothing was written and the counts say what would have been.
    """

    threads: int = 0
    checkpoints: int = 0
    writes: int = 0
    skipped: int = 0
    failed: list[ThreadFailure] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0
    _started: float = field(default_factory=time.perf_counter, repr=False, compare=False)

    @property
    def checkpoints_per_second(self) -> float:
        return self.checkpoints / self.seconds if self.seconds > 0 else 0.0

    def tick(self) -> None:
        self.seconds = time.perf_counter() - self._started

    def as_dict(self) -> dict[str, Any]:
        return {
            "threads": self.threads,
            "checkpoints": self.checkpoints,
            "writes": self.writes,
            "skipped": self.skipped,
            "failed": [{"thread_id": f.thread_id, "error": f.error} for f in self.failed],
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            "checkpoints_per_second": round(self.checkpoints_per_second, 1),
        }


class MigrationError(Exception):
    """Writing to the target failed: the run stopped.  ``report`` says what was copied;
    running the same copy again continues where it stopped."""

    def __init__(self, message: str, report: MigrationReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class Difference:
    """One way a thread on the target differs from the source.

    ``kind``: ``missing`` (on the target), ``extra`` (only on the target), ``parent``,
    ``metadata``, ``checkpoint`` (fields other than channel values), ``channel_values`` or
    ``pending_writes``; ``detail`` says which part.
    """

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    kind: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "thread_id": self.thread_id,
            "checkpoint_ns": self.checkpoint_ns,
            "checkpoint_id": self.checkpoint_id,
            "kind": self.kind,
            "detail": self.detail,
        }


@dataclass
class VerifyReport:
    """Both sides read and compared: every difference found, and what was compared."""

    threads: int = 0
    checkpoints: int = 0
    differences: list[Difference] = field(default_factory=list)
    failed: list[ThreadFailure] = field(default_factory=list)
    seconds: float = 0.0
    _started: float = field(default_factory=time.perf_counter, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.failed

    def tick(self) -> None:
        self.seconds = time.perf_counter() - self._started

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "threads": self.threads,
            "checkpoints": self.checkpoints,
            "differences": [d.as_dict() for d in self.differences],
            "failed": [{"thread_id": f.thread_id, "error": f.error} for f in self.failed],
            "seconds": round(self.seconds, 3),
        }


Progress = Callable[[MigrationReport], None]
VerifyProgress = Callable[[VerifyReport], None]


def describe(exc: BaseException) -> str:
    """An error as one line for reports."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def batch_bytes(calls: Iterable[tuple[Any, ScriptCall, Any]]) -> int:
    """Bytes of script arguments in a batch (what sizes a pipeline)."""
    return sum(len(a) for _, call, _ in calls for a in call.args if isinstance(a, bytes))


# ---------------------------------------------------------------------------- sources


def source_kind(source: object) -> str:
    """How a source saver is read beyond its public API.

    ``memory`` (LangGraph's ``InMemorySaver``), ``sqlite`` / ``postgres`` (LangGraph's SQL
    savers: thread ids and task paths by SQL), ``official`` (``langgraph-checkpoint-redis``:
    thread ids and task paths by search), ``generic`` (the public API only).
    """
    if isinstance(source, InMemorySaver):
        return "memory"
    module = type(source).__module__
    if module.startswith("langgraph.checkpoint.sqlite") and hasattr(source, "conn"):
        return "sqlite"
    if module.startswith("langgraph.checkpoint.postgres") and hasattr(source, "conn"):
        return "postgres"
    if module.startswith("langgraph.checkpoint.redis") and all(
        hasattr(source, a) for a in ("_redis", "checkpoints_index", "checkpoint_writes_index")
    ):
        return "official"
    return "generic"


def row_value(row: Any, index: int, name: str) -> Any:
    """A column of a SQL row: a tuple (sqlite3, aiosqlite) or a dict (psycopg's dict_row)."""
    return row[name] if isinstance(row, Mapping) else row[index]


def official_safe(value: str, *, empty_id: bool) -> str:
    """How ``langgraph-checkpoint-redis`` stores an id (it cannot index empty strings)."""
    from langgraph.checkpoint.redis.util import to_storage_safe_id, to_storage_safe_str

    return to_storage_safe_id(value) if empty_id else to_storage_safe_str(value)


def official_unsafe(raw: str | bytes, *, empty_id: bool) -> str:
    """The id ``langgraph-checkpoint-redis`` stored as ``raw``."""
    from langgraph.checkpoint.redis.util import from_storage_safe_id, from_storage_safe_str

    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return from_storage_safe_id(text) if empty_id else from_storage_safe_str(text)


def thread_id_list(thread_ids: Iterable[str], what: str) -> list[str]:
    """Thread ids given by a caller: a collection of str (one str is refused)."""
    if isinstance(thread_ids, (str, bytes)):
        raise TypeError(f"{what}: pass a list of thread ids, not a single {type(thread_ids)!r}")
    ids = list(thread_ids)
    for tid in ids:
        if not isinstance(tid, str):
            raise TypeError(f"{what}: thread ids must be str, got {type(tid).__name__} {tid!r}")
    return ids


# ---------------------------------------------------------------------------- copying


def checkpoint_ops(
    item: SourceCheckpoint, written: dict[tuple[str, str, str], bool]
) -> list[PutOp | WritesOp]:
    """The ``put`` and ``put_writes`` calls that store one source checkpoint on our saver.

    ``written`` maps the (namespace, channel, version) values already sent for this thread to
    whether a value was sent (or the "no value" marker): a value is sent once, with the first
    checkpoint that references it (values are stored once per version on our side, as in
    LangGraph's own savers, so later checkpoints only reference it).  A source that stores
    values inline with each checkpoint may give a value for a version another checkpoint had
    none for: the value is then sent too, replacing the marker.  Pending writes go one call
    per task, in the source's order, special channels (errors, interrupts, resumes) apart from
    ordinary ones so each keeps its index.
    """
    tup = item.tuple
    thread_id, ns, cid = item.thread_id, item.checkpoint_ns, item.checkpoint_id
    conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns}
    if tup.parent_config is not None:
        parent = tup.parent_config["configurable"].get("checkpoint_id")
        if parent:
            conf["checkpoint_id"] = parent
    versions = tup.checkpoint["channel_versions"]
    values = tup.checkpoint["channel_values"]
    new_versions = {}
    for channel, version in versions.items():
        key = (ns, channel, str(version))
        has_value = channel in values
        if key not in written or (has_value and not written[key]):
            written[key] = has_value
            new_versions[channel] = version
    ops: list[PutOp | WritesOp] = [
        PutOp({"configurable": conf}, tup.checkpoint, tup.metadata, new_versions)
    ]
    target: RunnableConfig = {
        "configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": cid}
    }
    for task_id, writes in _task_groups(tup.pending_writes or ()):
        ops.append(WritesOp(target, writes, task_id, item.task_paths.get(task_id, "")))
    return ops


def _task_groups(
    pending: Iterable[tuple[str, str, Any]],
) -> list[tuple[str, list[tuple[str, Any]]]]:
    groups: dict[tuple[str, bool], list[tuple[str, Any]]] = {}
    for task_id, channel, value in pending:
        groups.setdefault((task_id, channel in WRITES_IDX_MAP), []).append((channel, value))
    return [(task, writes) for (task, _), writes in groups.items()]


# ---------------------------------------------------------------------------- verifying


def compare_checkpoints(
    source: SourceCheckpoint, target: CheckpointTuple | None, serde: SerializerProtocol
) -> list[Difference]:
    """Every difference between a source checkpoint and the target's copy of it.

    Values compare with ``==``, or, where that fails or is not a plain bool, by their
    serialized form.  Pending writes compare per task: ordinary writes in order, special
    channels (error, interrupt, resume, ...) by channel.  Savers disagree on the order of
    tasks, and of a task's special writes; the order LangGraph relies on is the order of a
    task's ordinary writes.
    """
    tid, ns, cid = source.thread_id, source.checkpoint_ns, source.checkpoint_id

    def diff(kind: str, detail: str = "") -> Difference:
        return Difference(tid, ns, cid, kind, detail)

    if target is None:
        return [diff("missing")]
    out: list[Difference] = []
    src, dst = source.tuple, target
    if _parent(src) != _parent(dst):
        out.append(diff("parent", f"source {_parent(src)!r}, target {_parent(dst)!r}"))
    if not _same(dict(src.metadata), dict(dst.metadata), serde):
        keys = sorted(
            {
                str(k)
                for k in set(src.metadata) | set(dst.metadata)
                if not _same(src.metadata.get(k), dst.metadata.get(k), serde)
            }
        )
        out.append(diff("metadata", f"keys {keys}"))
    body_s = {k: v for k, v in src.checkpoint.items() if k != "channel_values"}
    body_d = {k: v for k, v in dst.checkpoint.items() if k != "channel_values"}
    if not _same(body_s, body_d, serde):
        keys = sorted(
            k for k in set(body_s) | set(body_d) if not _same(body_s.get(k), body_d.get(k), serde)
        )
        out.append(diff("checkpoint", f"fields {keys}"))
    vals_s, vals_d = src.checkpoint["channel_values"], dst.checkpoint["channel_values"]
    channels = sorted(
        c for c in set(vals_s) | set(vals_d) if c not in vals_s or c not in vals_d
    ) + sorted(c for c in set(vals_s) & set(vals_d) if not _same(vals_s[c], vals_d[c], serde))
    if channels:
        out.append(diff("channel_values", f"channels {sorted(channels)}"))
    writes_s, writes_d = _by_task(src.pending_writes), _by_task(dst.pending_writes)
    tasks = sorted(
        t
        for t in set(writes_s) | set(writes_d)
        if not _same(writes_s.get(t), writes_d.get(t), serde)
    )
    if tasks:
        out.append(diff("pending_writes", f"tasks {tasks}"))
    return out


def _parent(tup: CheckpointTuple) -> str | None:
    if tup.parent_config is None:
        return None
    return tup.parent_config["configurable"].get("checkpoint_id") or None


def _by_task(pending: Sequence[tuple[str, str, Any]] | None) -> dict[str, Any]:
    # per task: ordinary writes in order, and the special channels (one write each: their
    # index is fixed), whose relative order savers do not agree on
    out: dict[str, tuple[list[Any], dict[str, Any]]] = {}
    for task_id, channel, value in pending or ():
        ordinary, special = out.setdefault(task_id, ([], {}))
        if channel in WRITES_IDX_MAP:
            special[channel] = value
        else:
            ordinary.append((channel, value))
    return out


def _same(a: Any, b: Any, serde: SerializerProtocol) -> bool:
    try:
        equal = a == b
        if isinstance(equal, bool) and equal:
            return True
    except Exception:  # an __eq__ that raises: compare the serialized forms
        pass
    try:
        return serde.dumps_typed(a) == serde.dumps_typed(b)
    except Exception:
        return False
