"""The pure parts of the migration and of the operator commands' key arithmetic."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import ERROR, INTERRUPT, CheckpointTuple, empty_checkpoint

from aredis_ckpt._base import PutOp, WritesOp
from aredis_ckpt._inventory import glob_escape, key_kind, key_tag
from aredis_ckpt._keys import escape, key_part
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


def test_keys_under_a_prefix_are_told_apart() -> None:
    prefix = b"app*[1]"
    assert glob_escape(prefix) == rb"app\*\[1\]"
    kinds = {b"app*[1]:{" + escape(tid) + b"}:c": "thread" for tid in ("", "%", "%GX", "a:b", "%C")}
    kinds[b"app*[1]:{" + key_part("%" * 100) + b"}:c"] = "thread"  # a long id's digest
    kinds[b"app*[1]:{%G}:schema"] = "shared"
    kinds[b"app*[1]:{%B07.mk2}:ix"] = "shared"
    kinds[b"app*[1]:{%Sapp*[1]}:it"] = "store"
    kinds[b"app*[1]:{%Capp*[1]:3}:g"] = "cache"
    kinds[b"app*[1]:{%Z}:x"] = "other"
    kinds[b"app*[1]:plain"] = "other"
    assert {k: key_kind(key_tag(prefix, k)) for k in kinds} == kinds
