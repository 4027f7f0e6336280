# This file is generated from src/aredis_ckpt/_async/exchange.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""Export threads to the portable JSON-lines format and import them back.

Written once; ``scripts/unasync.py`` generates the synchronous twin.  The format lives in
``aredis_ckpt._exchange`` (and ``docs/export-format.md``); exporting is a copy whose target is
a file, importing a copy whose source is one, both through the migration's code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.base import SerializerProtocol

from aredis_ckpt._base import PutOp, WritesOp
from aredis_ckpt._exchange import Decoder, encode_op, header, trailer
from aredis_ckpt._migration import DEFAULT_BATCH, MigrationReport, Progress, thread_id_list
from aredis_ckpt._readers import make_reader
from aredis_ckpt._sync.migrate import _check_batch, _check_target, _copy_all, _TargetSink
from aredis_ckpt._sync.saver import RedisSaver

__all__ = ["export_threads", "import_threads"]


class TextOut(Protocol):
    def write(self, text: str, /) -> Any: ...


class _FileSink:
    """Writes each put / put_writes as a line of the export format."""

    def __init__(self, out: TextOut, serde: SerializerProtocol) -> None:
        self.out = out
        self.serde = serde
        self.threads = 0
        self.checkpoints = 0
        self.writes = 0
        self._thread: object = None

    def add(self, ops: Sequence[PutOp | WritesOp]) -> None:
        for op in ops:
            thread_id = op.config["configurable"]["thread_id"]
            if thread_id != self._thread:
                self._thread = thread_id
                self.threads += 1
            if isinstance(op, PutOp):
                self.checkpoints += 1
            else:
                self.writes += len(op.writes)
            self.out.write(encode_op(op, self.serde) + "\n")

    def flush(self) -> None:
        """Lines are written as they come."""


def export_threads(
    saver: BaseCheckpointSaver[Any],
    out: TextOut,
    *,
    thread_ids: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> MigrationReport:
    """Write threads of ``saver`` (``thread_ids``, or all) to ``out`` in the export format.

    ``saver`` is normally one of ours, but any LangGraph saver works (it is read as
    ``copy_checkpoints`` reads a source).  Values are written with ``saver.serde``; a thread
    the saver cannot read is listed in ``report.failed`` and the lines written for it so far
    stay in the file (the end record counts them).
    """
    from aredis_ckpt import __version__

    ids = None if thread_ids is None else thread_id_list(thread_ids, "export_threads")
    reader = make_reader(saver)
    report = MigrationReport()
    source = getattr(saver, "key_prefix", type(saver).__name__)
    out.write(header(saver.serde, f"{type(saver).__name__}:{source}", __version__) + "\n")
    sink = _FileSink(out, saver.serde)
    _copy_all(reader, sink, ids, report, progress, None, False)
    out.write(trailer(sink.threads, sink.checkpoints, sink.writes) + "\n")
    report.tick()
    return report


def import_threads(
    saver: RedisSaver,
    lines: Iterable[str],
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> MigrationReport:
    """Store the threads of an export file (its lines) with ``saver``, in pipelines.

    Every line is checked before its calls are queued; a bad line raises
    ``ExportFormatError`` naming it, after the lines before it were stored.  Importing the
    same file again stores nothing new (every write is idempotent).
    """
    target = _check_target(saver, "import_threads")
    batch_size = _check_batch(batch_size)
    decoder = Decoder(target.serde)
    sink = _TargetSink(target, batch_size, False)
    report = MigrationReport()
    threads = 0
    for line in lines:
        ops = decoder.feed(line)
        if ops:
            sink.add(ops)
        report.threads, report.checkpoints, report.writes = (
            decoder.threads,
            decoder.checkpoints,
            decoder.writes,
        )
        if progress is not None and decoder.threads != threads:
            threads = decoder.threads
            report.tick()
            progress(report)
    sink.flush()
    decoder.finish()
    report.tick()
    return report
