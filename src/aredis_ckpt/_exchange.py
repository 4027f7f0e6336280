"""The export file format (``aredis-ckpt export`` / ``import``): JSON lines, no I/O here.

Described for users in ``docs/export-format.md``.  Line 1 is a header naming the format and
its version; then, thread after thread, one ``checkpoint`` line per checkpoint followed by a
``writes`` line per task with pending writes on it; the last line is an ``end`` record with
the counts, so a truncated file is detected.  Every value, checkpoint and metadata is the
serializer's typed payload (``dumps_typed``: a type tag and bytes, base64 in the file), so
any LangGraph serializer configured alike reads it back.  Within a thread a channel value is
written once, with the first checkpoint that references it, and the thread's newest
checkpoint comes last (as the migration writes them).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Final, NoReturn, cast

from langgraph.checkpoint.base import Checkpoint, CheckpointMetadata
from langgraph.checkpoint.serde.base import SerializerProtocol

from aredis_ckpt._base import PutOp, WritesOp

__all__ = ["FORMAT", "VERSION", "Decoder", "ExportFormatError", "encode_op", "header", "trailer"]

FORMAT: Final = "aredis-ckpt-threads"
VERSION: Final = 1


class ExportFormatError(ValueError):
    """A line of an export file is not what the format says (names the line)."""


def _dumps(record: Mapping[str, Any]) -> str:
    # ASCII only: ids may hold any code point, lone surrogates included, and JSON escapes
    # keep them exact whatever the file's encoding
    return json.dumps(record, ensure_ascii=True, separators=(",", ":"))


def _typed(serde: SerializerProtocol, value: Any) -> list[str]:
    tag, data = serde.dumps_typed(value)
    return [tag, base64.b64encode(data).decode("ascii")]


def header(serde: SerializerProtocol, source: str, version: str) -> str:
    return _dumps(
        {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": datetime.now(timezone.utc).isoformat(),
            "source": source,
            "serializer": f"{type(serde).__module__}.{type(serde).__qualname__}",
            "aredis_ckpt": version,
        }
    )


def trailer(threads: int, checkpoints: int, writes: int) -> str:
    return _dumps({"kind": "end", "threads": threads, "checkpoints": checkpoints, "writes": writes})


def encode_op(op: PutOp | WritesOp, serde: SerializerProtocol) -> str:
    """One line for one put (a checkpoint) or one put_writes (a task's writes)."""
    conf = op.config["configurable"]
    if isinstance(op, WritesOp):
        return _dumps(
            {
                "kind": "writes",
                "thread_id": conf["thread_id"],
                "checkpoint_ns": conf.get("checkpoint_ns", ""),
                "checkpoint_id": conf["checkpoint_id"],
                "task_id": op.task_id,
                "task_path": op.task_path,
                "writes": [[channel, *_typed(serde, value)] for channel, value in op.writes],
            }
        )
    checkpoint = op.checkpoint
    values = checkpoint["channel_values"]
    body = {k: v for k, v in checkpoint.items() if k != "channel_values"}
    return _dumps(
        {
            "kind": "checkpoint",
            "thread_id": conf["thread_id"],
            "checkpoint_ns": conf.get("checkpoint_ns", ""),
            "checkpoint_id": checkpoint["id"],
            "parent_checkpoint_id": conf.get("checkpoint_id") or None,
            "checkpoint": _typed(serde, body),
            "metadata": _typed(serde, op.metadata),
            "values": {ch: _typed(serde, values[ch]) for ch in op.new_versions if ch in values},
            "empty": sorted(ch for ch in op.new_versions if ch not in values),
        }
    )


class Decoder:
    """Turns the lines of an export file back into put / put_writes calls, checking each."""

    def __init__(self, serde: SerializerProtocol) -> None:
        self.serde = serde
        self.threads = 0
        self.checkpoints = 0
        self.writes = 0
        self._line = 0
        self._thread: str | None = None
        self._ended = False

    def feed(self, text: str) -> list[PutOp | WritesOp]:
        self._line += 1
        if not text.strip():
            return []
        if self._ended:
            self._fail("content after the end record")
        try:
            record = json.loads(text)
        except ValueError as exc:
            self._fail(f"not JSON ({exc})")
        if not isinstance(record, dict):
            self._fail("not a JSON object")
        if self._line == 1:
            self._header(record)
            return []
        kind = record.get("kind")
        if kind == "checkpoint":
            return [self._checkpoint(record)]
        if kind == "writes":
            return [self._writes(record)]
        if kind == "end":
            self._end(record)
            return []
        self._fail(f"unknown record kind {kind!r}")

    def finish(self) -> None:
        """Raise unless the end record was read (a truncated or empty file)."""
        if self._line == 0:
            raise ExportFormatError("the file is empty")
        if not self._ended:
            raise ExportFormatError(f"no end record after line {self._line}: the file is truncated")

    # ------------------------------------------------------------------ records

    def _fail(self, message: str) -> NoReturn:
        raise ExportFormatError(f"line {self._line}: {message}")

    def _header(self, record: Mapping[str, Any]) -> None:
        if record.get("format") != FORMAT:
            self._fail(f'not an aredis-ckpt export (no "format": "{FORMAT}" header)')
        version = record.get("version")
        if not isinstance(version, int) or version < 1:
            self._fail(f"bad format version {version!r}")
        if version > VERSION:
            self._fail(
                f"format version {version} is newer than the {VERSION} this aredis-ckpt "
                "reads: upgrade aredis-ckpt"
            )

    def _str(self, record: Mapping[str, Any], name: str, optional: bool = False) -> Any:
        value = record.get(name)
        if value is None and optional:
            return None
        if not isinstance(value, str):
            self._fail(f"{name!r} must be a string, got {value!r}")
        return value

    def _load(self, typed: Any, what: str) -> Any:
        if (
            not isinstance(typed, list)
            or len(typed) != 2
            or not all(isinstance(x, str) for x in typed)
        ):
            self._fail(f"{what} must be [type tag, base64 data]")
        try:
            data = base64.b64decode(typed[1], validate=True)
        except (binascii.Error, ValueError) as exc:
            self._fail(f"{what}: bad base64 ({exc})")
        try:
            return self.serde.loads_typed((typed[0], data))
        except Exception as exc:
            self._fail(f"{what} could not be deserialized: {type(exc).__name__}: {exc}")

    def _count_thread(self, thread_id: str) -> None:
        if thread_id != self._thread:
            self._thread = thread_id
            self.threads += 1

    def _checkpoint(self, record: Mapping[str, Any]) -> PutOp:
        thread_id = self._str(record, "thread_id")
        ns = self._str(record, "checkpoint_ns")
        cid = self._str(record, "checkpoint_id")
        parent = self._str(record, "parent_checkpoint_id", optional=True)
        body = self._load(record.get("checkpoint"), "checkpoint")
        if not isinstance(body, dict) or body.get("id") != cid:
            self._fail("the checkpoint does not carry the record's checkpoint_id")
        metadata = self._load(record.get("metadata"), "metadata")
        if not isinstance(metadata, dict):
            self._fail("metadata must deserialize to a dict")
        raw_values = record.get("values")
        empty = record.get("empty")
        if not isinstance(raw_values, dict) or not isinstance(empty, list):
            self._fail("'values' must be an object and 'empty' a list")
        values = {
            str(ch): self._load(v, f"value of channel {ch!r}") for ch, v in raw_values.items()
        }
        versions = body.get("channel_versions")
        if not isinstance(versions, dict):
            self._fail("the checkpoint has no channel_versions")
        new_versions = {}
        for channel in [*values, *empty]:
            if channel not in versions:
                self._fail(f"channel {channel!r} has a value but no version")
            new_versions[channel] = versions[channel]
        conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns}
        if parent:
            conf["checkpoint_id"] = parent
        self._count_thread(thread_id)
        self.checkpoints += 1
        checkpoint = cast(Checkpoint, {**body, "channel_values": values})
        return PutOp(
            {"configurable": conf}, checkpoint, cast(CheckpointMetadata, metadata), new_versions
        )

    def _writes(self, record: Mapping[str, Any]) -> WritesOp:
        thread_id = self._str(record, "thread_id")
        conf = {
            "thread_id": thread_id,
            "checkpoint_ns": self._str(record, "checkpoint_ns"),
            "checkpoint_id": self._str(record, "checkpoint_id"),
        }
        raw = record.get("writes")
        if not isinstance(raw, list):
            self._fail("'writes' must be a list")
        writes = []
        for entry in raw:
            if not isinstance(entry, list) or len(entry) != 3 or not isinstance(entry[0], str):
                self._fail("each write must be [channel, type tag, base64 data]")
            writes.append((entry[0], self._load(entry[1:], f"write to {entry[0]!r}")))
        self._count_thread(thread_id)
        self.writes += len(writes)
        return WritesOp(
            {"configurable": conf},
            writes,
            self._str(record, "task_id"),
            self._str(record, "task_path"),
        )

    def _end(self, record: Mapping[str, Any]) -> None:
        counts = (record.get("threads"), record.get("checkpoints"), record.get("writes"))
        mine = (self.threads, self.checkpoints, self.writes)
        if counts != mine:
            self._fail(
                f"the end record counts threads/checkpoints/writes {counts}, the file holds "
                f"{mine}: lines are missing"
            )
        self._ended = True
