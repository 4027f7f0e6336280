# This file is generated from tests/_async/test_slicing.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""Bounded server time (#13): copy_thread, the delta-history walk and filtered list pages work
in slices of a tiny ``ScriptBudget`` here, and must give what one unsliced call gives.

Written once for AsyncRedisSaver; scripts/unasync.py generates the RedisSaver twin.  Every
topology (standalone, cluster: source and target in different slots, sentinel).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from langgraph.checkpoint.base import CheckpointTuple, empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver

from aredis_ckpt import AredisCheckpointError, RedisSaver, ScriptBudget
from aredis_ckpt._config import COPY_STAGING_TTL_MS
from aredis_ckpt._keys import slot_of

from .conftest import SaverFactory

TINY = ScriptBudget(entries=3, copy=3, copy_bytes=300, walk=2, list_scan=3)
NAMESPACES = ["", "sub:1", "{x}"]


def cfg(thread_id: str, ns: str = "", checkpoint_id: str | None = None) -> dict[str, Any]:
    conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns}
    if checkpoint_id is not None:
        conf["checkpoint_id"] = checkpoint_id
    return {"configurable": conf}


def build(saver: Any, thread_id: str, n: int, tag: str = "") -> list[dict[str, Any]]:
    """``n`` checkpoints over three namespaces (a parent chain each, ids in put order), each
    with pending writes, run ids cycling over three runs, plus a write of no checkpoint."""
    parents: dict[str, str | None] = dict.fromkeys(NAMESPACES)
    values: dict[str, dict[str, Any]] = {ns: {} for ns in NAMESPACES}
    versions: dict[str, dict[str, Any]] = {ns: {} for ns in NAMESPACES}
    stored = []
    for i in range(n):
        ns = NAMESPACES[i % 3]
        new = {"log": f"{tag}{i}"} if i % 4 == 0 else {}
        new["step"] = i
        for channel, value in new.items():
            values[ns][channel] = value
            versions[ns][channel] = saver.get_next_version(versions[ns].get(channel), None)
        cp = empty_checkpoint()
        cp["id"] = f"1ef0{i:08d}-{tag}"
        cp["channel_values"] = dict(values[ns])
        cp["channel_versions"] = dict(versions[ns])
        meta = {"source": "loop", "step": i, "run_id": f"run-{i % 3}", "parity": i % 2}
        config = saver.put(
            cfg(thread_id, ns, parents[ns]),
            cp,
            meta,
            {c: versions[ns][c] for c in new},
        )
        saver.put_writes(config, [("log", f"w{i}"), ("step", i)], f"task{i}", "~p")
        parents[ns] = cp["id"]
        stored.append(config)
    saver.put_writes(cfg(thread_id, "", "no-such-checkpoint"), [("log", "x")], "orphan")
    return stored


def plain(t: CheckpointTuple | None, rename: str | None = None) -> Any:
    """A tuple as comparable data, its thread id replaced by ``rename``."""
    if t is None:
        return None

    def conf(c: Any) -> Any:
        if c is None:
            return None
        inner = dict(c["configurable"])
        if rename is not None:
            inner["thread_id"] = rename
        return inner

    return (
        conf(t.config),
        t.checkpoint,
        t.metadata,
        conf(t.parent_config),
        sorted(map(repr, t.pending_writes or [])),
    )


def listed(saver: RedisSaver, thread_id: str, rename: str = "X") -> list[Any]:
    return [plain(t, rename) for t in saver.list({"configurable": {"thread_id": thread_id}})]


def raw(saver: RedisSaver, thread_id: str) -> dict[bytes, Any]:
    """Contents of a thread's ten keys (``t`` aside): what the copy must reproduce."""
    r = saver._redis
    tk = saver._thread(thread_id)
    out: dict[bytes, Any] = {}
    for name, key in zip(tk.NAMES, tk.all, strict=True):
        if name == b"t":
            continue
        kind = r.type(key)
        if kind == b"hash":
            out[name] = r.hgetall(key)
        elif kind == b"zset":
            out[name] = r.zrange(key, 0, -1)
        else:
            assert kind == b"none", (name, kind)
    return out


def merged(old: dict[bytes, Any], new: dict[bytes, Any]) -> dict[bytes, Any]:
    """Raw contents of ``new`` copied over ``old`` (fields overwritten, members united)."""
    out: dict[bytes, Any] = {}
    for name in set(old) | set(new):
        a, b = old.get(name), new.get(name)
        if isinstance(a if a is not None else b, dict):
            out[name] = {**(a or {}), **(b or {})}
        else:
            out[name] = sorted(set(a or []) | set(b or []))
    return out


def staging_keys(saver: RedisSaver, thread_id: str) -> list[bytes]:
    base = saver._thread(thread_id).base
    found = []
    for key in saver._redis.scan_iter(match=base + b"s.*", count=1000):
        found.append(key)
    return found


def everywhere(saver: RedisSaver, thread_id: str) -> set[tuple[str, str]]:
    """(namespace, id) of the thread's checkpoints that list(None) names."""
    return {
        (t.config["configurable"]["checkpoint_ns"], t.config["configurable"]["checkpoint_id"])
        for t in saver.list(None)
        if t.config["configurable"]["thread_id"] == thread_id
    }


def count_scripts(saver: RedisSaver) -> Counter[str]:
    """Count the script calls the saver makes (by script name), from now on."""
    calls: Counter[str] = Counter()
    batch, evaluate = saver._batch, saver._eval

    def counting_batch(commands: Any, **kwargs: Any) -> Any:
        for command in commands:
            if command.script is not None:
                calls[command.script.name] += 1
        return batch(commands, **kwargs)

    def counting_eval(script: Any, call: Any) -> Any:
        calls[script.name] += 1
        return evaluate(script, call)

    saver._batch = counting_batch  # type: ignore[method-assign]
    saver._eval = counting_eval  # type: ignore[method-assign]
    return calls


def after_each(saver: RedisSaver, script: str, hook: Any) -> None:
    """Run ``await hook(n)`` after the n-th call (from 1) of ``script`` through ``_batch``."""
    batch = saver._batch
    seen = [0]

    def hooked(commands: Any, **kwargs: Any) -> Any:
        reply = batch(commands, **kwargs)
        if commands[0].script is not None and commands[0].script.name == script:
            seen[0] += 1
            hook(seen[0])
        return reply

    saver._batch = hooked  # type: ignore[method-assign]


@pytest.fixture
def tiny(make_saver: SaverFactory) -> Any:
    with make_saver(script_budget=TINY) as s:
        yield s


def test_copy_in_pages_reproduces_the_source(tiny: RedisSaver) -> None:
    build(tiny, "src", 24)
    # on a cluster the copy reads one slot and writes another
    assert slot_of(tiny._thread("src").tag) != slot_of(tiny._thread("dst:{copy}").tag)
    calls = count_scripts(tiny)
    tiny.copy_thread("src", "dst:{copy}")
    assert calls["copy_write"] > 10 and calls["copy_publish"] == 1 and calls["bucket"] > 1
    assert raw(tiny, "dst:{copy}") == raw(tiny, "src")
    assert listed(tiny, "dst:{copy}") == listed(tiny, "src")
    for ns in NAMESPACES:
        for t in tiny.list(cfg("src", ns)):
            cid = t.config["configurable"]["checkpoint_id"]
            got = tiny.get_tuple(cfg("dst:{copy}", ns, cid))
            assert plain(got, "X") == plain(t, "X")
        assert plain(tiny.get_tuple(cfg("dst:{copy}", ns)), "X") == plain(
            tiny.get_tuple(cfg("src", ns)), "X"
        )
    assert everywhere(tiny, "dst:{copy}") == everywhere(tiny, "src")
    assert len(everywhere(tiny, "src")) == 24
    assert staging_keys(tiny, "dst:{copy}") == []
    assert tiny._redis.pttl(tiny._thread("dst:{copy}").all[2]) == -1
    # the index across threads holds the copy: delete_for_runs reaches it
    tiny.delete_for_runs(["run-1"])
    assert listed(tiny, "dst:{copy}") == listed(tiny, "src")
    assert len(listed(tiny, "src")) == 16
    # a missing source copies nothing and creates nothing
    tiny.copy_thread("no-such-thread", "never")
    assert tiny._redis.exists(*tiny._thread("never").all) == 0


def test_copy_merges_into_an_existing_target(tiny: RedisSaver, make_saver: SaverFactory) -> None:
    build(tiny, "src", 15, tag="s")
    build(tiny, "dst", 9, tag="d")
    before_src, before_dst = raw(tiny, "src"), raw(tiny, "dst")
    own = everywhere(tiny, "dst")
    calls = count_scripts(tiny)
    tiny.copy_thread("src", "dst")
    assert calls["copy_publish"] == 0 and calls["copy_write"] > 5
    expected = merged(before_dst, before_src)
    assert raw(tiny, "dst") == expected
    src_ids = everywhere(tiny, "src")
    assert everywhere(tiny, "dst") == src_ids | own
    assert len(everywhere(tiny, "dst")) == 24
    # the same with the default budget (one page per phase)
    with make_saver() as whole:
        build(whole, "src2", 15, tag="s")
        build(whole, "dst2", 9, tag="d")
        expected = merged(raw(whole, "dst2"), raw(whole, "src2"))
        whole.copy_thread("src2", "dst2")
        assert raw(whole, "dst2") == expected


def test_readers_never_see_a_partial_copy(tiny: RedisSaver) -> None:
    build(tiny, "src", 18)
    seen: list[int] = []

    def look(_: int) -> None:
        # an absent target stays absent until the staging copy is published
        assert tiny.get_tuple(cfg("dst")) is None
        assert listed(tiny, "dst") == []
        seen.append(1)

    after_each(tiny, "copy_write", look)
    tiny.copy_thread("src", "dst")
    assert len(seen) > 5
    assert listed(tiny, "dst") == listed(tiny, "src")


def test_merge_readers_see_whole_checkpoints_with_their_parents(
    tiny: RedisSaver,
) -> None:
    build(tiny, "src", 18, tag="s")
    build(tiny, "dst", 3, tag="d")
    source = {t[0]["checkpoint_id"]: t for t in listed(tiny, "src", "dst")}
    pages: list[int] = []

    def look(_: int) -> None:
        pages.append(1)
        for t in listed(tiny, "dst", "dst"):
            cid = t[0]["checkpoint_id"]
            if cid.endswith("-s"):
                # every copied checkpoint reads as in the source, values and writes
                # included, and its parent is there too (copies go oldest first)
                assert t == source[cid]
                parent = t[3]
                if parent is not None:
                    assert tiny.get_tuple({"configurable": parent}) is not None

    after_each(tiny, "copy_write", look)
    tiny.copy_thread("src", "dst")
    assert len(pages) > 5
    assert set(source) <= {t[0]["checkpoint_id"] for t in listed(tiny, "dst", "dst")}


def test_an_interrupted_copy_leaves_no_target_and_a_retry_succeeds(
    tiny: RedisSaver,
) -> None:
    build(tiny, "src", 15)
    batch = tiny._batch

    def cut(n: int) -> None:
        if n == 4:
            raise ConnectionError("cut")

    after_each(tiny, "copy_write", cut)
    with pytest.raises(ConnectionError):
        tiny.copy_thread("src", "dst")
    assert tiny._redis.exists(*tiny._thread("dst").all) == 0
    assert everywhere(tiny, "dst") == set()
    left = staging_keys(tiny, "dst")
    assert left, "the pages written so far stay in the staging copy"
    for key in left:
        assert 0 < tiny._redis.pttl(key) <= COPY_STAGING_TTL_MS
    tiny._batch = batch  # type: ignore[method-assign]
    tiny.copy_thread("src", "dst")
    assert raw(tiny, "dst") == raw(tiny, "src")
    assert everywhere(tiny, "dst") == everywhere(tiny, "src")

    # cut after the publish, while the index across threads is filled: a retry completes it
    def cut_index(n: int) -> None:
        if n == 2:
            raise ConnectionError("cut")

    after_each(tiny, "bucket", cut_index)
    with pytest.raises(ConnectionError):
        tiny.copy_thread("src", "dst2")
    assert listed(tiny, "dst2") == listed(tiny, "src")
    tiny._batch = batch  # type: ignore[method-assign]
    tiny.copy_thread("src", "dst2")
    assert raw(tiny, "dst2") == raw(tiny, "src")
    assert everywhere(tiny, "dst2") == everywhere(tiny, "src")


def test_a_target_written_during_the_copy_is_merged_into(tiny: RedisSaver) -> None:
    build(tiny, "src", 12, tag="s")
    mine = build(tiny, "other", 2, tag="o")

    def meddle(n: int) -> None:
        if n == 2:
            tiny.copy_thread("other", "dst")

    after_each(tiny, "copy_write", meddle)
    calls = count_scripts(tiny)
    tiny.copy_thread("src", "dst")
    # the copy of "other" published first; ours found the target taken, and merged instead
    assert calls["copy_publish"] == 2
    ids = {t[0]["checkpoint_id"] for t in listed(tiny, "dst")}
    assert ids == {t[0]["checkpoint_id"] for t in listed(tiny, "src")} | {
        c["configurable"]["checkpoint_id"] for c in mine
    }
    assert staging_keys(tiny, "dst") == []


def test_a_staging_copy_that_lost_keys_is_not_published(tiny: RedisSaver) -> None:
    build(tiny, "src", 12)

    def evict(n: int) -> None:
        if n == 3:
            for key in staging_keys(tiny, "dst"):
                if key.endswith(b":wx"):
                    tiny._redis.delete(key)

    after_each(tiny, "copy_write", evict)
    with pytest.raises(AredisCheckpointError, match="staging copy's 'wx' key lost entries"):
        tiny.copy_thread("src", "dst")
    assert tiny._redis.exists(*tiny._thread("dst").all) == 0
    assert staging_keys(tiny, "dst") == []


def test_copy_with_a_ttl_gives_the_target_the_ttl(make_saver: SaverFactory) -> None:
    with make_saver(script_budget=TINY, ttl={"default_ttl": 5}) as saver:
        build(saver, "src", 9)
        saver.copy_thread("src", "dst")
        for key in saver._thread("dst").all:
            if saver._redis.exists(key):
                assert 0 < saver._redis.pttl(key) <= 300_000
        assert listed(saver, "dst") == listed(saver, "src")


def test_delta_history_in_slices_matches_in_memory_saver(tiny: RedisSaver) -> None:
    model = InMemorySaver()
    configs = {}
    for target in (tiny, model):
        configs[id(target)] = build(target, "t", 30)
    calls = count_scripts(tiny)
    for pick in (29, 28, 16, 3, 0):
        for channels in (["log"], ["step", "log", "absent"], ["absent"]):
            ours = tiny.get_delta_channel_history(config=configs[id(tiny)][pick], channels=channels)
            theirs = model.get_delta_channel_history(
                config=configs[id(model)][pick], channels=channels
            )
            assert ours == theirs, (pick, channels)
    assert calls["delta_history"] > 15 * 2
    latest = tiny.get_delta_channel_history(config=cfg("t", "sub:1"), channels=["absent"])
    assert latest == model.get_delta_channel_history(config=cfg("t", "sub:1"), channels=["absent"])
    assert len(latest["absent"]["writes"]) == 0


def test_filtered_list_pages_with_a_tiny_scan_budget(
    tiny: RedisSaver, make_saver: SaverFactory
) -> None:
    build(tiny, "t", 24)
    build(tiny, "u", 6, tag="u")
    with make_saver() as whole:
        queries: list[tuple[Any, dict[str, Any]]] = [
            (cfg("t"), {"filter": {"source": "nothing"}}),
            ({"configurable": {"thread_id": "t"}}, {"filter": {"parity": 1}}),
            ({"configurable": {"thread_id": "t"}}, {"filter": {"run_id": "run-2"}, "limit": 3}),
            (cfg("t", "sub:1"), {"filter": {"parity": 0}, "before": cfg("t", "", "1ef000000020-")}),
            (None, {"filter": {"source": "nothing"}}),
            (None, {"filter": {"parity": 1, "run_id": "run-0"}}),
            (None, {"filter": {"step": 5}, "limit": 1}),
        ]
        for config, kwargs in queries:
            calls = count_scripts(tiny)
            ours = [plain(t) for t in tiny.list(config, **kwargs)]
            theirs = [plain(t) for t in whole.list(config, **kwargs)]
            assert ours == theirs, (config, kwargs)
            if config is not None or not tiny._cluster:
                assert calls["list"] > 1, (config, kwargs)
        assert [plain(t) for t in tiny.list(None, filter={"source": "nothing"})] == []


def test_a_source_deleted_during_a_copy_into_a_new_thread_copies_nothing(
    tiny: RedisSaver,
) -> None:
    build(tiny, "src", 12)

    def delete_source(n: int) -> None:
        if n == 2:
            tiny.delete_thread("src")

    after_each(tiny, "copy_write", delete_source)
    tiny.copy_thread("src", "dst")
    assert tiny._redis.exists(*tiny._thread("dst").all) == 0
    assert staging_keys(tiny, "dst") == []
    assert everywhere(tiny, "dst") == set()
