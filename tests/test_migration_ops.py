"""The pure part of the migration: which values a source checkpoint's put carries."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import ERROR, INTERRUPT, CheckpointTuple, empty_checkpoint

from aredis_ckpt._base import PutOp, WritesOp
from aredis_ckpt._migration import SourceCheckpoint, checkpoint_ops


def _item(cid: str, values: dict[str, Any], writes: list[Any] | None = None) -> SourceCheckpoint:
    cp = empty_checkpoint()
    cp["id"] = cid
    cp["channel_versions"] = {"a": "1", "b": "2"}
    cp["channel_values"] = values
    conf = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": cid}}
    tup = CheckpointTuple(conf, cp, {"step": 1}, None, writes or [])  # type: ignore[arg-type]
    return SourceCheckpoint(tup, {"task-1": "~path"})


def test_a_value_is_sent_once_and_replaces_an_earlier_no_value_marker() -> None:
    written: dict[tuple[str, str, str], bool] = {}
    first = checkpoint_ops(_item("c2", {"b": 1}), written)[0]
    assert isinstance(first, PutOp) and first.new_versions == {"a": "1", "b": "2"}
    # "a" had no value in c2 (stored as "empty"); c1, read next, has one: it is sent after all
    second = checkpoint_ops(_item("c1", {"a": "x", "b": 1}), written)[0]
    assert isinstance(second, PutOp) and second.new_versions == {"a": "1"}
    third = checkpoint_ops(_item("c0", {"b": 1}), written)[0]
    assert isinstance(third, PutOp) and third.new_versions == {}


def test_writes_go_one_call_per_task_with_special_channels_apart() -> None:
    pending = [
        ("task-1", "x", 1),
        ("task-1", ERROR, "boom"),
        ("task-2", "x", 2),
        ("task-1", "y", 3),
        ("task-1", INTERRUPT, "q"),
    ]
    ops = checkpoint_ops(_item("c", {}, pending), {})[1:]
    assert all(isinstance(op, WritesOp) for op in ops)
    got = [(op.task_id, list(op.writes), op.task_path) for op in ops if isinstance(op, WritesOp)]
    assert got == [
        ("task-1", [("x", 1), ("y", 3)], "~path"),
        ("task-1", [(ERROR, "boom"), (INTERRUPT, "q")], "~path"),
        ("task-2", [("x", 2)], ""),
    ]
