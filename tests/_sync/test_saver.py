# This file is generated from tests/_async/test_saver.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""Behaviour of the saver's operations against a real Redis, beyond the conformance suite.

Written once for AsyncRedisSaver; scripts/unasync.py generates the RedisSaver twin.
"""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.base import (
    ERROR,
    Checkpoint,
    CheckpointMetadata,
    empty_checkpoint,
)
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.memory import InMemorySaver

from aredis_ckpt import CorruptedDataError, RedisSaver, SchemaVersionError
from aredis_ckpt._commands import Command
from aredis_ckpt._compat import Redis

NASTY_IDS = [
    "",
    "plain",
    ":",
    "a:b",
    "{",
    "}",
    "{tag}",
    "a}b{c",
    "*",
    "$",
    " ",
    "with space",
    "é漢字🙂",
    "%",
    "%3A",
    "%%",
    "\x00",
    "a\x00b",
    "\n\t",
    "\ud800",
    "x" * 300,
]


def cfg(thread_id: str, ns: str = "", checkpoint_id: str | None = None) -> dict[str, Any]:
    conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns}
    if checkpoint_id is not None:
        conf["checkpoint_id"] = checkpoint_id
    return {"configurable": conf}


def make_checkpoint(values: dict[str, Any], versions: dict[str, Any]) -> Checkpoint:
    cp = empty_checkpoint()
    cp["id"] = str(uuid6(clock_seq=-1))
    cp["channel_values"] = dict(values)
    cp["channel_versions"] = dict(versions)
    return cp


def md(step: int = 0, **extra: Any) -> CheckpointMetadata:
    return {"source": "loop", "step": step, "parents": {}, **extra}  # type: ignore[typeddict-item]


def put_chain(
    saver: Any, thread_id: str, n: int, ns: str = "", **meta: Any
) -> list[dict[str, Any]]:
    """n checkpoints, each a child of the previous; channel "count" changes every step."""
    configs = []
    parent: str | None = None
    for i in range(n):
        cp = make_checkpoint({"count": i, "const": "same"}, {"count": i + 1, "const": 1})
        new_versions = {"count": i + 1, "const": 1} if i == 0 else {"count": i + 1}
        stored = saver.put(cfg(thread_id, ns, parent), cp, md(i, **meta), new_versions)
        parent = stored["configurable"]["checkpoint_id"]
        configs.append(stored)
    return configs


def keys_under(saver: RedisSaver) -> list[bytes]:
    found = []
    for key in saver._redis.scan_iter(match=saver.key_prefix + ":*", count=1000):
        found.append(key)
    return sorted(found)


def test_put_and_get_roundtrip(saver: RedisSaver) -> None:
    cp = make_checkpoint({"messages": ["hi", {"role": "ai"}], "n": 3}, {"messages": 1, "n": 1})
    config = cfg("t1")
    config["metadata"] = {"user": "alice"}
    stored = saver.put(config, cp, md(0, score=1.5), {"messages": 1, "n": 1})
    assert stored == cfg("t1", "", cp["id"])

    latest = saver.get_tuple(cfg("t1"))
    by_id = saver.get_tuple(cfg("t1", "", cp["id"]))
    assert latest is not None and by_id is not None
    for tup in (latest, by_id):
        assert tup.config == stored
        assert tup.checkpoint["channel_values"] == {"messages": ["hi", {"role": "ai"}], "n": 3}
        assert tup.checkpoint["channel_versions"] == {"messages": 1, "n": 1}
        assert tup.metadata["score"] == 1.5
        assert tup.metadata["user"] == "alice"
        assert tup.parent_config is None
        assert tup.pending_writes == []
    assert saver.get_tuple(cfg("t1", "", "no-such-id")) is None
    assert saver.get_tuple(cfg("no-such-thread")) is None
    assert saver.get_tuple(cfg("t1", "other-ns")) is None


def test_unchanged_channels_are_never_rewritten(saver: RedisSaver) -> None:
    first = make_checkpoint({"big": "original", "small": 1}, {"big": 1, "small": 1})
    c1 = saver.put(cfg("t"), first, md(0), {"big": 1, "small": 1})
    # The second checkpoint claims a different "big" value, but "big" is not in new_versions:
    # the saver must not write it, and must read "big" back from version 1.
    second = make_checkpoint({"big": "NOT STORED", "small": 2}, {"big": 1, "small": 2})
    c2 = saver.put(cfg("t", "", c1["configurable"]["checkpoint_id"]), second, md(1), {"small": 2})
    tup = saver.get_tuple(c2)
    assert tup is not None
    assert tup.checkpoint["channel_values"] == {"big": "original", "small": 2}
    assert tup.parent_config == c1
    values_key = saver._thread("t").all[4]
    assert saver._redis.hlen(values_key) == 3  # big@1, small@1, small@2


def test_channel_in_new_versions_without_value_reads_absent(saver: RedisSaver) -> None:
    cp = make_checkpoint({"a": 1}, {"a": 1, "gone": 1})
    stored = saver.put(cfg("t"), cp, md(), {"a": 1, "gone": 1})
    tup = saver.get_tuple(stored)
    assert tup is not None
    assert tup.checkpoint["channel_values"] == {"a": 1}
    assert tup.checkpoint["channel_versions"] == {"a": 1, "gone": 1}


def test_pending_writes_follow_langgraph(saver: RedisSaver) -> None:
    stored = (put_chain(saver, "t", 1))[0]
    saver.put_writes(stored, [("a", 1), ("b", 2)], "task-b", "~path/2")
    saver.put_writes(stored, [("c", 3)], "task-a", "~path/1")
    # ordinary writes are insert-if-absent: a retry with other values changes nothing
    saver.put_writes(stored, [("a", "retry"), ("b", "retry")], "task-b", "~path/2")
    # special channels overwrite
    saver.put_writes(stored, [(ERROR, "first")], "task-c", "~path/0")
    saver.put_writes(stored, [(ERROR, "second")], "task-c", "~path/0")
    saver.put_writes(stored, [], "task-d")
    tup = saver.get_tuple(stored)
    assert tup is not None
    # sorted by (task_path, task_id, idx)
    assert tup.pending_writes == [
        ("task-c", ERROR, "second"),
        ("task-a", "c", 3),
        ("task-b", "a", 1),
        ("task-b", "b", 2),
    ]


def test_list_matches_in_memory_saver(saver: RedisSaver) -> None:
    """Same filter / before / limit answers as LangGraph's InMemorySaver.

    Order: newest first by checkpoint id, across namespaces and threads (InMemorySaver groups
    by thread and namespace instead, so its answer is re-sorted before comparing).
    """
    model = InMemorySaver()
    chains = [
        ("t1", "", 5, {"run_id": "r1", "tags": {"x": [1, 2]}, "flag": True}),
        ("t1", "child:1", 3, {"run_id": "r2", "flag": 1.0}),
        ("t2", "", 4, {"run_id": "r3", "flag": False}),
    ]
    for thread_id, ns, n, meta in chains:
        parent: str | None = None
        for i in range(n):
            cp = make_checkpoint({"count": i}, {"count": i + 1})
            for target in (saver, model):
                target.put(cfg(thread_id, ns, parent), cp, md(i, **meta), {"count": i + 1})
            parent = cp["id"]

    def ids(target: Any, config: Any, **kw: Any) -> list[tuple[str, str, str]]:
        return [
            (
                t.config["configurable"]["thread_id"],
                t.config["configurable"]["checkpoint_ns"],
                t.checkpoint["id"],
            )
            for t in target.list(config, **kw)
        ]

    def expected(config: Any, **kw: Any) -> list[tuple[str, str, str]]:
        limit = kw.pop("limit", None)
        found = sorted(ids(model, config, **kw), key=lambda e: e[2], reverse=True)
        return found if limit is None else found[:limit]

    t1 = {"configurable": {"thread_id": "t1"}}
    t1_all = expected(t1)
    cases: list[tuple[Any, dict[str, Any]]] = [
        (t1, {}),
        (cfg("t1"), {}),
        (cfg("t1", "child:1"), {}),
        (t1, {"limit": 3}),
        (t1, {"filter": {"run_id": "r2"}}),
        (t1, {"filter": {"flag": True}}),  # True == 1 == 1.0, as in Python
        (t1, {"filter": {"tags": {"x": [1, 2]}}}),
        (t1, {"filter": {"tags": {"x": [2, 1]}}}),
        (t1, {"filter": {"missing": None}}),
        (t1, {"filter": {"step": 2, "run_id": "r1"}}),
        (t1, {"before": cfg("t1", "", t1_all[2][2])}),
        (cfg("t1"), {"before": cfg("t1", "", t1_all[2][2]), "limit": 1}),
        (cfg("t1", "", t1_all[3][2]), {}),
        ({"configurable": {"thread_id": "t1", "checkpoint_id": t1_all[3][2]}}, {}),
        (cfg("t2"), {"filter": {"flag": 0}}),
        (cfg("nobody"), {}),
        (None, {}),
        (None, {"limit": 2}),
        (None, {"filter": {"run_id": "r3"}}),
        (None, {"before": cfg("t2", "", t1_all[3][2]), "limit": 4}),
    ]
    for config, kw in cases:
        assert ids(saver, config, **kw) == expected(config, **kw), (config, kw)
    assert len(ids(saver, None)) == 12


def test_list_pages_through_long_histories(saver: RedisSaver) -> None:
    configs = put_chain(saver, "long", 250)
    listed = [t.checkpoint["id"] for t in saver.list(cfg("long"))]
    assert listed == [c["configurable"]["checkpoint_id"] for c in reversed(configs)]
    # a filter matching one checkpoint deep in history still finds it
    found = [t.metadata["step"] for t in saver.list(cfg("long"), filter={"step": 3})]
    assert found == [3]


@pytest.mark.parametrize("thread_id", NASTY_IDS)
def test_any_string_is_a_thread_id_and_namespace(saver: RedisSaver, thread_id: str) -> None:
    namespaces = ["", thread_id, "child:" + thread_id, "a|b:c"]
    stored = {}
    for ns in namespaces:
        stored[ns] = (put_chain(saver, thread_id, 2, ns=ns))[-1]
        saver.put_writes(stored[ns], [("w", repr(ns))], "task:" + thread_id, thread_id)
    for ns in namespaces:
        tup = saver.get_tuple(cfg(thread_id, ns))
        assert tup is not None
        assert tup.config == stored[ns]
        assert tup.pending_writes == [("task:" + thread_id, "w", repr(ns))]
    listed = [t for t in saver.list({"configurable": {"thread_id": thread_id}})]
    assert {t.config["configurable"]["checkpoint_ns"] for t in listed} == set(namespaces)
    assert all(t.config["configurable"]["thread_id"] == thread_id for t in listed)
    everywhere = [t for t in saver.list(None)]
    assert {t.config["configurable"]["thread_id"] for t in everywhere} == {thread_id}
    saver.delete_thread(thread_id)
    assert [t for t in saver.list(None)] == []


def test_similar_ids_never_collide(saver: RedisSaver) -> None:
    ids = ["a:b", "a%3Ab", "a", "a:", ":b", "a\x00b", "a%00b", "%", "", "{a}", "%7Ba%7D"]
    for i, tid in enumerate(ids):
        for j, ns in enumerate(ids):
            cp = make_checkpoint({"who": (i, j)}, {"who": 1})
            saver.put(cfg(tid, ns), cp, md(), {"who": 1})
    for i, tid in enumerate(ids):
        for j, ns in enumerate(ids):
            tup = saver.get_tuple(cfg(tid, ns))
            assert tup is not None
            assert tup.checkpoint["channel_values"] == {"who": [i, j]}, (tid, ns)


def test_delete_thread_leaves_nothing_behind(saver: RedisSaver) -> None:
    for tid in ("x", "y:z", ""):
        configs = put_chain(saver, tid, 3, run_id="run-" + tid)
        put_chain(saver, tid, 2, ns="sub:1")
        saver.put_writes(configs[-1], [("a", 1)], "task")
    for tid in ("x", "y:z", ""):
        saver.delete_thread(tid)
    assert keys_under(saver) == [saver._pk.schema]


def test_prune_keeps_latest_and_collects_garbage(saver: RedisSaver) -> None:
    configs = put_chain(saver, "t", 5, run_id="r")
    put_chain(saver, "t", 3, ns="sub:1")
    for c in configs:
        saver.put_writes(c, [("w", c["configurable"]["checkpoint_id"])], "task")
    put_chain(saver, "other", 3)
    saver.prune(["t"], strategy="keep_latest")
    remaining = [t for t in saver.list({"configurable": {"thread_id": "t"}})]
    assert len(remaining) == 2
    latest = saver.get_tuple(cfg("t"))
    assert latest is not None and latest.config == configs[-1]
    assert latest.checkpoint["channel_values"] == {"count": 4, "const": "same"}
    assert latest.pending_writes == [("task", "w", configs[-1]["configurable"]["checkpoint_id"])]
    keys = saver._thread("t").all
    # values: count@5 and const@1 in each namespace; writes: only the kept checkpoint's
    assert saver._redis.hlen(keys[4]) == 4
    assert saver._redis.hlen(keys[7]) == 1
    assert len([t for t in saver.list(cfg("other"))]) == 3
    saver.prune(["t"], strategy="keep_latest", keep_last=3)
    assert len([t for t in saver.list({"configurable": {"thread_id": "t"}})]) == 2
    saver.prune(["t", "other"], strategy="delete")
    assert [t for t in saver.list(None)] == []


def test_copy_thread_is_independent_of_the_source(saver: RedisSaver) -> None:
    configs = put_chain(saver, "src", 3, run_id="run-1")
    put_chain(saver, "src", 2, ns="sub:1")
    saver.put_writes(configs[-1], [("a", 1)], "task")
    saver.copy_thread("src", "dst:copy")
    saver.delete_thread("src")
    listed = [t for t in saver.list({"configurable": {"thread_id": "dst:copy"}})]
    assert len(listed) == 5
    assert all(t.config["configurable"]["thread_id"] == "dst:copy" for t in listed)
    tup = saver.get_tuple(cfg("dst:copy"))
    assert tup is not None
    assert tup.pending_writes == [("task", "a", 1)]
    assert tup.checkpoint["channel_values"] == {"count": 2, "const": "same"}
    everywhere = {t.config["configurable"]["thread_id"] for t in saver.list(None)}
    assert everywhere == {"dst:copy"}
    saver.delete_for_runs(["run-1"])
    assert len([t for t in saver.list({"configurable": {"thread_id": "dst:copy"}})]) == 2


def test_delete_for_runs_removes_checkpoints_writes_and_values(
    saver: RedisSaver,
) -> None:
    first = put_chain(saver, "t", 2, run_id="run-a")
    second_cp = make_checkpoint({"count": 99, "const": "same"}, {"count": 99, "const": 1})
    second = saver.put(
        cfg("t", "", first[-1]["configurable"]["checkpoint_id"]),
        second_cp,
        md(5, run_id="run-b"),
        {"count": 99},
    )
    saver.put_writes(first[0], [("w", 1)], "task")
    put_chain(saver, "u", 2, run_id="run-a")
    saver.delete_for_runs(["run-a", "never-ran"])
    listed = [t for t in saver.list(None)]
    assert [t.config for t in listed] == [second]
    tup = saver.get_tuple(second)
    assert tup is not None
    assert tup.checkpoint["channel_values"] == {"count": 99, "const": "same"}
    keys = saver._thread("t").all
    assert saver._redis.hlen(keys[4]) == 2  # count@99 and const@1 only
    assert saver._redis.hlen(keys[7]) == 0
    assert saver._redis.exists(*saver._thread("u").all) == 0


def test_delta_channel_history_matches_in_memory_saver(saver: RedisSaver) -> None:
    model = InMemorySaver()
    results = []
    for target in (saver, model):
        parent = None
        last = None
        for step in range(6):
            values: dict[str, Any] = {"other": step}
            versions: dict[str, Any] = {"log": step + 1, "other": step + 1}
            if step % 3 == 0:
                values["log"] = f"snapshot-{step}"
            cp = make_checkpoint(values, versions)
            cp["id"] = f"00000000-0000-0000-0000-{step:012d}"
            last = target.put(cfg("t", "", parent), cp, md(step), versions)
            parent = last["configurable"]["checkpoint_id"]
            target.put_writes(last, [("log", f"w{step}-b"), ("other", 0)], f"tb{step}", "~b")
            target.put_writes(last, [("log", f"w{step}-a")], f"ta{step}", "~a")
        assert last is not None
        results.append(
            target.get_delta_channel_history(config=last, channels=["log", "other", "absent"])
        )
        results.append(target.get_delta_channel_history(config=cfg("t"), channels=["log"]))
    assert results[0] == results[2]
    assert results[1] == results[3]
    assert results[0]["log"]["seed"] == "snapshot-3"
    assert "seed" not in results[0]["absent"]
    assert saver.get_delta_channel_history(config=cfg("t"), channels=[]) == {}


def test_get_next_version_format(saver: RedisSaver) -> None:
    v1 = saver.get_next_version(None, None)
    v2 = saver.get_next_version(v1, None)
    assert v1.startswith("0" * 31 + "1.") and len(v1.split(".")[0]) == 32
    assert v2 > v1 and v2.startswith("0" * 31 + "2.")
    assert saver.get_next_version(7, None).startswith("0" * 31 + "8.")  # type: ignore[arg-type]


def test_setup_is_idempotent_and_refuses_future_schema(saver: RedisSaver) -> None:
    saver.setup()
    saver.setup()
    assert saver._redis.get(saver._pk.schema) == b"2"
    saver._redis.set(saver._pk.schema, b"99")
    with pytest.raises(SchemaVersionError, match="schema version 99"):
        saver.setup()


def test_bad_input_is_refused_and_writes_nothing(saver: RedisSaver) -> None:
    cp = make_checkpoint({"a": 1}, {"a": 1})
    with pytest.raises(ValueError, match="thread_id"):
        saver.put({"configurable": {}}, cp, md(), {"a": 1})
    with pytest.raises(TypeError, match="thread_id must be a str"):
        saver.put({"configurable": {"thread_id": 42}}, cp, md(), {"a": 1})
    with pytest.raises(ValueError, match="checkpoint_id"):
        saver.put_writes(cfg("t"), [("a", 1)], "task")
    with pytest.raises(ValueError, match="unknown strategy"):
        saver.prune(["t"], strategy="everything")
    with pytest.raises(ValueError, match="keep_last"):
        saver.prune(["t"], keep_last=0)
    with pytest.raises(ValueError, match="negative"):
        _ = [t for t in saver.list(cfg("t"), limit=-1)]
    with pytest.raises(ValueError, match="names thread"):
        _ = [t for t in saver.list(cfg("t"), before=cfg("other", "", "x"))]
    with pytest.raises(TypeError, match="list of thread ids"):
        saver.prune("t")  # type: ignore[arg-type]
    assert keys_under(saver) == [saver._pk.schema]
    assert [t for t in saver.list(cfg("t"), limit=0)] == []


@pytest.mark.parametrize("bad", [42, b"42", None], ids=["int", "bytes", "None"])
def test_a_thread_id_that_is_not_a_str_is_refused_by_every_method(
    saver: RedisSaver, bad: Any
) -> None:
    # The type says str: 42 is refused rather than stored as "42" (LangGraph itself turns a
    # graph's configurable thread_id into a str before any saver sees it).
    cp = make_checkpoint({"a": 1}, {"a": 1})
    stored = saver.put(cfg("42"), cp, md(), {"a": 1})
    before = keys_under(saver)
    bad_cfg = {"configurable": {"thread_id": bad, "checkpoint_ns": ""}}
    with_id = {"configurable": {**bad_cfg["configurable"], "checkpoint_id": cp["id"]}}

    def listed(config: Any, **kw: Any) -> list[Any]:
        return [t for t in saver.list(config, **kw)]

    calls = {
        "put": lambda: saver.put(bad_cfg, cp, md(), {"a": 1}),
        "put_writes": lambda: saver.put_writes(with_id, [("a", 2)], "task"),
        "get_tuple": lambda: saver.get_tuple(bad_cfg),
        "list": lambda: listed(bad_cfg),
        "list before": lambda: listed(cfg("42"), before=with_id),
        "delete_thread": lambda: saver.delete_thread(bad),
        "copy_thread source": lambda: saver.copy_thread(bad, "copy"),
        "copy_thread target": lambda: saver.copy_thread("42", bad),
        "prune": lambda: saver.prune([bad]),
        "get_delta_channel_history": lambda: saver.get_delta_channel_history(
            config=bad_cfg, channels=["a"]
        ),
    }
    if bad is None:
        del calls["list before"]  # before= need not name the thread
    for call in calls.values():
        with pytest.raises(TypeError, match=r"must be (a )?str"):
            call()
    assert keys_under(saver) == before
    kept = saver.get_tuple(stored)
    assert kept is not None and kept.checkpoint["channel_values"] == {"a": 1}


def test_damaged_record_raises_named_error_and_spares_other_threads(
    saver: RedisSaver,
) -> None:
    put_chain(saver, "good", 2)
    bad = (put_chain(saver, "bad", 1))[0]
    keys = saver._thread("bad").all
    field = b"%\x00" + bad["configurable"]["checkpoint_id"].encode()
    saver._redis.hset(keys[2], field, b"garbage written by something else")
    with pytest.raises(CorruptedDataError, match="thread 'bad'"):
        saver.get_tuple(cfg("bad"))
    good = saver.get_tuple(cfg("good"))
    assert good is not None and good.checkpoint["channel_values"]["count"] == 1


@pytest.mark.standalone
def test_client_ownership(redis_url: str, key_prefix: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        saver = RedisSaver(client, key_prefix=key_prefix)
        saver.setup()
        put_chain(saver, "t", 1)
        assert client.ping()
    finally:
        client.close()
    decoding = Redis.from_url(redis_url, decode_responses=True)
    try:
        with pytest.raises(ValueError, match="decode_responses"):
            RedisSaver(decoding)
    finally:
        decoding.close()
    with pytest.raises(ValueError, match="key_prefix"):
        RedisSaver(client, key_prefix="bad{prefix}")
    with pytest.raises(ValueError, match="redis_client"):
        RedisSaver()


def test_a_fresh_saver_sees_the_same_threads(make_saver: Any) -> None:
    with make_saver() as first:
        configs = put_chain(first, "t", 3)
    with make_saver() as second:
        tup = second.get_tuple(cfg("t"))
        assert tup is not None and tup.config == configs[-1]


def bucket_keys_in_use(saver: RedisSaver, runs: list[str]) -> int:
    """How many keys of the buckets (index, TTL records, the runs' sets) exist."""
    commands = []
    for b in saver._pk.buckets:
        keys = (b.index, b.exp, *(b.run(r.encode()) for r in runs))
        commands.append(Command(("EXISTS", *keys), b.index))
    return sum((saver._runner.batch(commands)).replies)


def test_without_the_index_across_threads_writes_stay_in_the_thread(
    make_saver: Any,
) -> None:
    with make_saver(global_index=False, ttl={"default_ttl": 60}) as saver:
        configs = put_chain(saver, "t", 3, run_id="r")
        saver.put_writes(configs[-1], [("a", 1)], "task")
        tup = saver.get_tuple(cfg("t"))
        assert tup is not None and tup.pending_writes == [("task", "a", 1)]
        assert len([x for x in saver.list(cfg("t"))]) == 3
        saver.copy_thread("t", "u")
        saver.prune(["u"])
        assert len([x for x in saver.list(cfg("u"))]) == 1
        assert bucket_keys_in_use(saver, ["r"]) == 0
        with pytest.raises(ValueError, match="global_index=False"):
            _ = [x for x in saver.list(None)]
        with pytest.raises(ValueError, match="global_index=False"):
            saver.delete_for_runs(["r"])
        saver.delete_thread("t")
        assert saver.get_tuple(cfg("t")) is None
    with make_saver() as indexed:  # the same data seen by a saver keeping the index
        put_chain(indexed, "v", 1, run_id="r")
        assert bucket_keys_in_use(indexed, ["r"]) == 2


def test_long_ids_are_stored_once(saver: RedisSaver) -> None:
    tid, ns = "t" * 100_000, "n:" * 50_000
    configs = put_chain(saver, tid, 3, ns=ns, run_id="r")
    saver.put_writes(configs[-1], [("a", 1)], "task")
    tup = saver.get_tuple(cfg(tid, ns))
    assert tup is not None and tup.config == configs[-1]
    listed = [t.config for t in saver.list(None)]
    assert listed == list(reversed(configs))
    tk = saver._thread(tid)
    assert all(len(k) < 100 for k in tk.all)
    # the index entries and field names carry 66-byte digests, the ids are stored once each
    bucket = saver._bucket(tk)
    (members,) = (
        saver._runner.batch([Command(("ZRANGE", bucket.index, 0, -1), bucket.index)])
    ).replies
    assert len(members) == 3 and all(len(m) < 200 for m in members)
    assert saver._redis.strlen(tk.all[0]) == 100_000
    assert [len(f) for f in saver._redis.hkeys(tk.all[2])] == [66 + 1 + 36] * 3


def test_list_everywhere_is_newest_first_across_buckets(saver: RedisSaver) -> None:
    # one busy thread and a few quiet ones, in different buckets: a page of the busy thread's
    # newest checkpoints must not skip the others' entries sorted between them
    busy = put_chain(saver, "busy", 30)
    quiet = [(put_chain(saver, f"quiet-{i}", 1))[0] for i in range(6)]
    busy += put_chain(saver, "busy-2", 5)
    assert len({saver._thread(t).bucket for t in ("busy", "busy-2", "quiet-0")}) > 1
    everything = sorted(busy + quiet, key=lambda c: c["configurable"]["checkpoint_id"])[::-1]
    for limit in (1, 7, 20, None):
        listed = [t.config for t in saver.list(None, limit=limit)]
        assert listed == everything[:limit]
    before = everything[12]
    listed = [t.config for t in saver.list(None, before=before, limit=9)]
    assert listed == everything[13:22]
