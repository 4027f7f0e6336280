# This file is generated from tests/_async/test_migrate.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""Copying threads from other savers into ours, verifying the copy, exporting and importing.

Written once for the async API; scripts/unasync.py generates the sync twin.  Sources here are
LangGraph's InMemorySaver and our own saver under another prefix; SQLite and the official
Redis saver are in tests/test_migrate_sources.py.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from langgraph.checkpoint.base import ERROR, INTERRUPT, empty_checkpoint
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from aredis_ckpt import RedisSaver, ShallowRedisSaver, _serde
from aredis_ckpt._base import ListQuery
from aredis_ckpt._keys import escape, ns_member
from aredis_ckpt.migrate import (
    ExportFormatError,
    MigrationError,
    MigrationReport,
    copy_checkpoints,
    export_threads,
    import_threads,
    verify_checkpoints,
)
from flow_graph import flow
from pairs import skip_sync_interrupts

THREADS = ["plain", "", "a:b{c}", "é漢字 🙂", "\ud800", "x" * 200]


def cfg(thread_id: str, ns: str = "", checkpoint_id: str | None = None) -> dict[str, Any]:
    conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns}
    if checkpoint_id is not None:
        conf["checkpoint_id"] = checkpoint_id
    return {"configurable": conf}


def fill(saver: Any, thread_ids: list[str], depth: int = 3) -> None:
    """Each thread: ``depth`` root checkpoints and one in a subgraph namespace, pending writes
    on every one (ordinary, from two tasks with task paths, and special channels)."""
    for thread_id in thread_ids:
        for ns in ("", "child:1"):
            parent: str | None = None
            for step in range(depth if ns == "" else 1):
                cp = empty_checkpoint()
                cp["id"] = str(uuid6(clock_seq=step))
                cp["channel_values"] = {"messages": [f"m{i}" for i in range(step + 1)]}
                cp["channel_versions"] = {"messages": f"{step + 1:032}.0", "gone": "1"}
                if step == 0:
                    cp["channel_values"]["topic"] = {"name": thread_id, "n": step}
                    cp["channel_versions"]["topic"] = "1"
                meta = {"source": "loop", "step": step, "user": "alice", "score": 0.5}
                stored = saver.put(
                    cfg(thread_id, ns, parent), cp, meta, dict(cp["channel_versions"])
                )
                saver.put_writes(stored, [("messages", "w1"), ("x", 2)], "task-b", "~b")
                saver.put_writes(stored, [("messages", "w0")], "task-a", "~a")
                saver.put_writes(stored, [(ERROR, "boom"), (INTERRUPT, "q?")], "task-c")
                parent = stored["configurable"]["checkpoint_id"]


def tuples(saver: Any, thread_id: str, ns: str | None = None) -> list[Any]:
    """A thread's checkpoints newest first: every namespace, or only ``ns``."""
    conf = {"thread_id": thread_id} if ns is None else {"thread_id": thread_id, "checkpoint_ns": ns}
    return [t for t in saver.list({"configurable": conf})]


def raw_write_tasks(saver: RedisSaver, thread_id: str) -> list[Any]:
    """(namespace, checkpoint, sorted (task_path, task_id, idx) of its writes), stored."""
    query = saver._list_query({"configurable": {"thread_id": thread_id}}, None, None, None)
    assert isinstance(query, ListQuery)
    out = []
    for items in saver._list_pages(query):
        for item in items:
            tasks = sorted(_serde.write_task(b) for b in item[5] if b)
            out.append((item[6], item[0], tasks))
    return sorted(out)


def snapshot(saver: RedisSaver) -> dict[bytes, Any]:
    """Every key under the saver's prefix with its content (independent of the server's
    encoding: Valkey may serialize a rewritten hash in another order)."""
    found: dict[bytes, Any] = {}
    for key in saver._redis.scan_iter(match=saver.key_prefix + ":*", count=1000):
        kind = saver._redis.type(key)
        if kind == b"hash":
            found[key] = saver._redis.hgetall(key)
        elif kind == b"zset":
            found[key] = saver._redis.zrange(key, 0, -1, withscores=True)
        elif kind == b"set":
            found[key] = sorted(saver._redis.smembers(key))
        else:
            found[key] = saver._redis.get(key)
    return found


# -- copying -------------------------------------------------------------------------------


@skip_sync_interrupts
def test_interrupted_graph_with_subgraph_and_send_resumes_on_the_target(
    make_saver: Any,
) -> None:
    source = InMemorySaver()
    graph = flow().compile(checkpointer=source)
    config = {"configurable": {"thread_id": "order-7"}}
    first = graph.invoke({"log": ["start"]}, config)
    assert "__interrupt__" in first
    namespaces = {t.config["configurable"]["checkpoint_ns"] for t in source.list(config)}
    assert any(ns.startswith("review:") for ns in namespaces)
    with make_saver() as target:
        report = copy_checkpoints(source, target)
        assert (report.threads, report.skipped, report.failed) == (1, 0, [])
        assert report.checkpoints == len(list(source.list(config)))
        assert (verify_checkpoints(source, target)).ok
        copied = flow().compile(checkpointer=target)
        assert (copied.get_state(config)).next == ("review",)
        resumed = copied.invoke(Command(resume="yes"), config)
    expected = graph.invoke(Command(resume="yes"), config)
    assert resumed == expected
    assert resumed["answer"] == "yes"
    assert sorted(resumed["log"]) == sorted(
        ["start", "plan", "worked item 0", "worked item 1", "worked item 2"]
    )


def test_copy_is_lossless_across_prefixes(make_saver: Any, key_prefix: str) -> None:
    with make_saver(key_prefix=key_prefix + "-src") as source, make_saver() as target:
        fill(source, THREADS)
        report = copy_checkpoints(source, target, batch_size=5)
        assert (report.threads, report.checkpoints, report.writes) == (6, 24, 120)
        verified = verify_checkpoints(source, target)
        assert verified.ok, verified.differences
        assert (verified.threads, verified.checkpoints) == (6, 24)
        for thread_id in THREADS:
            want, got = tuples(source, thread_id), tuples(target, thread_id)
            assert [t.config for t in got] == [t.config for t in want]
            assert [t.parent_config for t in got] == [t.parent_config for t in want]
            assert [t.checkpoint for t in got] == [t.checkpoint for t in want]
            assert [t.metadata for t in got] == [t.metadata for t in want]
            assert [t.pending_writes for t in got] == [t.pending_writes for t in want]
            # task paths (which the API does not return) and write indexes come along
            assert raw_write_tasks(target, thread_id) == raw_write_tasks(source, thread_id)


def test_copy_from_memory_keeps_task_paths(make_saver: Any) -> None:
    source = InMemorySaver()
    fill(source, ["t"], depth=2)
    with make_saver() as target:
        copy_checkpoints(source, target)
        stored = raw_write_tasks(target, "t")
    assert len(stored) == 3
    for _, _, tasks in stored:
        paths = {task_id: path for path, task_id, _ in tasks}
        assert paths == {"task-a": "~a", "task-b": "~b", "task-c": ""}


def test_second_run_writes_nothing_and_a_stopped_run_continues(
    make_saver: Any, key_prefix: str
) -> None:
    class Stop(Exception):
        pass

    def stop_after_first(report: MigrationReport) -> None:
        if report.threads + report.skipped == 1:
            raise Stop("operator pressed Ctrl-C")

    with make_saver(key_prefix=key_prefix + "-src") as source, make_saver() as target:
        fill(source, ["a", "b", "c"], depth=2)
        with pytest.raises(MigrationError, match="run it again") as stopped:
            copy_checkpoints(source, target, progress=stop_after_first)
        assert stopped.value.report.threads == 1
        assert isinstance(stopped.value.__cause__, Stop)
        resumed = copy_checkpoints(source, target)
        assert (resumed.threads, resumed.skipped) == (2, 1)
        assert (verify_checkpoints(source, target)).ok
        before = snapshot(target)
        again = copy_checkpoints(source, target)
        assert (again.threads, again.checkpoints, again.writes, again.skipped) == (0, 0, 0, 3)
        assert snapshot(target) == before
        forced = copy_checkpoints(source, target, skip_complete=False)
        assert (forced.threads, forced.skipped) == (3, 0)
        assert snapshot(target) == before


def test_a_thread_with_new_checkpoints_is_copied_again(make_saver: Any) -> None:
    source = InMemorySaver()
    fill(source, ["a", "b"], depth=2)
    with make_saver() as target:
        copy_checkpoints(source, target)
        newest = (tuples(source, "a"))[0]
        source.put_writes(newest.config, [("late", 1)], "task-z")
        report = copy_checkpoints(source, target)
        assert (report.threads, report.skipped) == (1, 1)
        assert (verify_checkpoints(source, target)).ok


def test_dry_run_and_thread_selection(make_saver: Any) -> None:
    source = InMemorySaver()
    fill(source, ["a", "b", "c"], depth=2)
    with make_saver() as target:
        empty = snapshot(target)
        dry = copy_checkpoints(source, target, dry_run=True)
        assert dry.dry_run and (dry.threads, dry.checkpoints) == (3, 9)
        assert snapshot(target) == empty
        some = copy_checkpoints(source, target, thread_ids=["b", "missing"])
        assert (some.threads, some.checkpoints) == (1, 3)
        assert [t.config["configurable"]["thread_id"] for t in tuples(target, "a")] == []
        assert len(tuples(target, "b")) == 3
        verified = verify_checkpoints(source, target, thread_ids=["b"])
        assert verified.ok and verified.threads == 1
        with pytest.raises(TypeError, match="not a single"):
            copy_checkpoints(source, target, thread_ids="b")
        with pytest.raises(TypeError, match="thread ids must be str"):
            copy_checkpoints(source, target, thread_ids=[7])  # type: ignore[list-item]
        with pytest.raises(TypeError, match="target must be"):
            copy_checkpoints(source, InMemorySaver())  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="source must be"):
            copy_checkpoints(object(), target)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="batch_size"):
            copy_checkpoints(source, target, batch_size=0)


def test_a_thread_the_source_cannot_read_is_reported_and_the_rest_copied(
    make_saver: Any, key_prefix: str
) -> None:
    with make_saver(key_prefix=key_prefix + "-src") as source, make_saver() as target:
        fill(source, ["good", "bad"], depth=2)
        newest = (tuples(source, "bad"))[0]
        conf = newest.config["configurable"]
        field = ns_member(escape(conf["checkpoint_ns"]), conf["checkpoint_id"])
        source._redis.hset(source._thread("bad").all[2], field, b"garbage")
        report = copy_checkpoints(source, target)
        assert report.threads == 1
        assert [f.thread_id for f in report.failed] == ["bad"]
        assert "CorruptedDataError" in report.failed[0].error
        assert len(tuples(target, "good")) == 3
        verified = verify_checkpoints(source, target, thread_ids=["good", "bad"])
        assert [f.thread_id for f in verified.failed] == ["bad"] and not verified.ok


def test_shallow_target_gets_the_newest_checkpoint_of_each_namespace(
    make_saver: Any,
) -> None:
    source = InMemorySaver()
    fill(source, ["a"], depth=3)
    with make_saver() as plain:
        target = ShallowRedisSaver(plain._redis, key_prefix=plain.key_prefix + "-shallow")
        report = copy_checkpoints(source, target)
        assert (report.threads, report.checkpoints) == (1, 2)
        got = {t.config["configurable"]["checkpoint_ns"]: t for t in tuples(target, "a")}
        for ns in ("", "child:1"):
            newest = (tuples(source, "a", ns))[0]
            assert got[ns].config == newest.config
            assert got[ns].checkpoint == newest.checkpoint
            assert got[ns].pending_writes == newest.pending_writes
        assert (verify_checkpoints(source, target)).ok


def test_verify_reports_every_difference(make_saver: Any) -> None:
    source = InMemorySaver()
    fill(source, ["a", "b", "gone"], depth=3)
    with make_saver() as target:
        copy_checkpoints(source, target)
        newest, middle, oldest = tuples(target, "a", "")
        assert middle.parent_config is not None
        # metadata changed in place
        target.put(middle.parent_config, middle.checkpoint, {**middle.metadata, "step": 99}, {})
        # a checkpoint re-parented
        target.put(cfg("a", "", newest.config["configurable"]["checkpoint_id"]),
                          oldest.checkpoint, oldest.metadata, {})  # fmt: skip
        # a value overwritten, a write added, a checkpoint added, a thread deleted
        b = (tuples(target, "b", ""))[0]
        changed = {**b.checkpoint, "channel_values": {"messages": ["tampered"]}}
        target.put(b.parent_config, changed, b.metadata,
                          {"messages": b.checkpoint["channel_versions"]["messages"]})  # fmt: skip
        target.put_writes(b.config, [("extra", 1)], "task-x")
        extra = empty_checkpoint()
        extra["id"] = str(uuid6(clock_seq=50))
        target.put(b.config, extra, {}, {})
        target.delete_thread("gone")
        report = verify_checkpoints(source, target)
    found = {(d.thread_id, d.checkpoint_id, d.kind) for d in report.differences}
    ids = {t: [x.config["configurable"]["checkpoint_id"] for x in source.list(cfg(t))]
           for t in ("a", "b", "gone")}  # fmt: skip
    a_newest, a_middle, a_oldest = ids["a"]
    assert ("a", a_middle, "metadata") in found
    assert ("a", a_oldest, "parent") in found
    assert ("b", ids["b"][0], "channel_values") in found
    assert ("b", ids["b"][0], "pending_writes") in found
    assert ("b", extra["id"], "extra") in found
    gone = {
        x.config["configurable"]["checkpoint_id"]
        for x in source.list({"configurable": {"thread_id": "gone"}})
    }
    assert {(t, c) for t, c, k in found if k == "missing"} == {("gone", c) for c in gone}
    assert not report.ok
    assert not any(d.thread_id == "a" and d.checkpoint_id == a_newest for d in report.differences)
    details = {d.kind: d.detail for d in report.differences if d.thread_id == "a"}
    assert "step" in details["metadata"]


# -- export and import ---------------------------------------------------------------------


def test_export_then_import_round_trips_exactly(make_saver: Any, key_prefix: str) -> None:
    with make_saver(key_prefix=key_prefix + "-src") as source, make_saver() as target:
        fill(source, THREADS)
        out = io.StringIO()
        exported = export_threads(source, out)
        assert (exported.threads, exported.checkpoints, exported.writes) == (6, 24, 120)
        text = out.getvalue()
        assert text.isascii()
        lines = text.splitlines()
        imported = import_threads(target, lines)
        assert (imported.threads, imported.checkpoints, imported.writes) == (6, 24, 120)
        assert (verify_checkpoints(source, target)).ok
        for thread_id in THREADS:
            assert raw_write_tasks(target, thread_id) == raw_write_tasks(source, thread_id)
        before = snapshot(target)
        import_threads(target, lines)
        assert snapshot(target) == before
        partial = io.StringIO()
        some = export_threads(source, partial, thread_ids=["plain", "absent"])
        assert (some.threads, some.checkpoints) == (1, 4)


def test_import_refuses_a_damaged_file_naming_the_line(make_saver: Any) -> None:
    source = InMemorySaver()
    fill(source, ["a"], depth=2)
    out = io.StringIO()
    export_threads(source, out)
    lines = out.getvalue().splitlines()
    with make_saver() as target:
        with pytest.raises(ExportFormatError, match="truncated"):
            import_threads(target, lines[:-1])
        with pytest.raises(ExportFormatError, match="line 3: not JSON"):
            import_threads(target, [*lines[:2], "{oops", *lines[3:]])
        with pytest.raises(ExportFormatError, match="line 1: not an aredis-ckpt export"):
            import_threads(target, ['{"hello": 1}'])
        newer = lines[0].replace('"version":1', '"version":99')
        with pytest.raises(ExportFormatError, match="newer"):
            import_threads(target, [newer, *lines[1:]])
        with pytest.raises(ExportFormatError, match="lines are missing"):
            import_threads(target, [lines[0], *lines[2:]])
        with pytest.raises(ExportFormatError, match="empty"):
            import_threads(target, [])
        bad_value = lines[1].replace('"checkpoint":["msgpack","', '"checkpoint":["msgpack","!!')
        with pytest.raises(ExportFormatError, match="line 2: checkpoint: bad base64"):
            import_threads(target, [lines[0], bad_value, *lines[2:]])
