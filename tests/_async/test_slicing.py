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

from aredis_ckpt import AredisCheckpointError, AsyncRedisSaver, ScriptBudget
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


async def build(saver: Any, thread_id: str, n: int, tag: str = "") -> list[dict[str, Any]]:
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
        config = await saver.aput(
            cfg(thread_id, ns, parents[ns]),
            cp,
            meta,
            {c: versions[ns][c] for c in new},
        )
        await saver.aput_writes(config, [("log", f"w{i}"), ("step", i)], f"task{i}", "~p")
        parents[ns] = cp["id"]
        stored.append(config)
    await saver.aput_writes(cfg(thread_id, "", "no-such-checkpoint"), [("log", "x")], "orphan")
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


async def listed(saver: AsyncRedisSaver, thread_id: str, rename: str = "X") -> list[Any]:
    return [plain(t, rename) async for t in saver.alist({"configurable": {"thread_id": thread_id}})]


async def raw(saver: AsyncRedisSaver, thread_id: str) -> dict[bytes, Any]:
    """Contents of a thread's ten keys (``t`` aside): what the copy must reproduce."""
    r = saver._redis
    tk = saver._thread(thread_id)
    out: dict[bytes, Any] = {}
    for name, key in zip(tk.NAMES, tk.all, strict=True):
        if name == b"t":
            continue
        kind = await r.type(key)
        if kind == b"hash":
            out[name] = await r.hgetall(key)
        elif kind == b"zset":
            out[name] = await r.zrange(key, 0, -1)
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


async def staging_keys(saver: AsyncRedisSaver, thread_id: str) -> list[bytes]:
    base = saver._thread(thread_id).base
    found = []
    async for key in saver._redis.scan_iter(match=base + b"s.*", count=1000):
        found.append(key)
    return found


async def everywhere(saver: AsyncRedisSaver, thread_id: str) -> set[tuple[str, str]]:
    """(namespace, id) of the thread's checkpoints that list(None) names."""
    return {
        (t.config["configurable"]["checkpoint_ns"], t.config["configurable"]["checkpoint_id"])
        async for t in saver.alist(None)
        if t.config["configurable"]["thread_id"] == thread_id
    }


def count_scripts(saver: AsyncRedisSaver) -> Counter[str]:
    """Count the script calls the saver makes (by script name), from now on."""
    calls: Counter[str] = Counter()
    batch, evaluate = saver._batch, saver._eval

    async def counting_batch(commands: Any, **kwargs: Any) -> Any:
        for command in commands:
            if command.script is not None:
                calls[command.script.name] += 1
        return await batch(commands, **kwargs)

    async def counting_eval(script: Any, call: Any) -> Any:
        calls[script.name] += 1
        return await evaluate(script, call)

    saver._batch = counting_batch  # type: ignore[method-assign]
    saver._eval = counting_eval  # type: ignore[method-assign]
    return calls


def after_each(saver: AsyncRedisSaver, script: str, hook: Any) -> None:
    """Run ``await hook(n)`` after the n-th call (from 1) of ``script`` through ``_batch``."""
    batch = saver._batch
    seen = [0]

    async def hooked(commands: Any, **kwargs: Any) -> Any:
        reply = await batch(commands, **kwargs)
        if commands[0].script is not None and commands[0].script.name == script:
            seen[0] += 1
            await hook(seen[0])
        return reply

    saver._batch = hooked  # type: ignore[method-assign]


@pytest.fixture
async def tiny(make_saver: SaverFactory) -> Any:
    async with make_saver(script_budget=TINY) as s:
        yield s


async def test_copy_in_pages_reproduces_the_source(tiny: AsyncRedisSaver) -> None:
    await build(tiny, "src", 24)
    # on a cluster the copy reads one slot and writes another
    assert slot_of(tiny._thread("src").tag) != slot_of(tiny._thread("dst:{copy}").tag)
    calls = count_scripts(tiny)
    await tiny.acopy_thread("src", "dst:{copy}")
    assert calls["copy_write"] > 10 and calls["copy_publish"] == 1 and calls["bucket"] > 1
    assert await raw(tiny, "dst:{copy}") == await raw(tiny, "src")
    assert await listed(tiny, "dst:{copy}") == await listed(tiny, "src")
    for ns in NAMESPACES:
        async for t in tiny.alist(cfg("src", ns)):
            cid = t.config["configurable"]["checkpoint_id"]
            got = await tiny.aget_tuple(cfg("dst:{copy}", ns, cid))
            assert plain(got, "X") == plain(t, "X")
        assert plain(await tiny.aget_tuple(cfg("dst:{copy}", ns)), "X") == plain(
            await tiny.aget_tuple(cfg("src", ns)), "X"
        )
    assert await everywhere(tiny, "dst:{copy}") == await everywhere(tiny, "src")
    assert len(await everywhere(tiny, "src")) == 24
    assert await staging_keys(tiny, "dst:{copy}") == []
    assert await tiny._redis.pttl(tiny._thread("dst:{copy}").all[2]) == -1
    # the index across threads holds the copy: delete_for_runs reaches it
    await tiny.adelete_for_runs(["run-1"])
    assert await listed(tiny, "dst:{copy}") == await listed(tiny, "src")
    assert len(await listed(tiny, "src")) == 16
    # a missing source copies nothing and creates nothing
    await tiny.acopy_thread("no-such-thread", "never")
    assert await tiny._redis.exists(*tiny._thread("never").all) == 0


async def test_copy_merges_into_an_existing_target(
    tiny: AsyncRedisSaver, make_saver: SaverFactory
) -> None:
    await build(tiny, "src", 15, tag="s")
    await build(tiny, "dst", 9, tag="d")
    before_src, before_dst = await raw(tiny, "src"), await raw(tiny, "dst")
    own = await everywhere(tiny, "dst")
    calls = count_scripts(tiny)
    await tiny.acopy_thread("src", "dst")
    assert calls["copy_publish"] == 0 and calls["copy_write"] > 5
    expected = merged(before_dst, before_src)
    assert await raw(tiny, "dst") == expected
    src_ids = await everywhere(tiny, "src")
    assert await everywhere(tiny, "dst") == src_ids | own
    assert len(await everywhere(tiny, "dst")) == 24
    # the same with the default budget (one page per phase)
    async with make_saver() as whole:
        await build(whole, "src2", 15, tag="s")
        await build(whole, "dst2", 9, tag="d")
        expected = merged(await raw(whole, "dst2"), await raw(whole, "src2"))
        await whole.acopy_thread("src2", "dst2")
        assert await raw(whole, "dst2") == expected


async def test_readers_never_see_a_partial_copy(tiny: AsyncRedisSaver) -> None:
    await build(tiny, "src", 18)
    seen: list[int] = []

    async def look(_: int) -> None:
        # an absent target stays absent until the staging copy is published
        assert await tiny.aget_tuple(cfg("dst")) is None
        assert await listed(tiny, "dst") == []
        seen.append(1)

    after_each(tiny, "copy_write", look)
    await tiny.acopy_thread("src", "dst")
    assert len(seen) > 5
    assert await listed(tiny, "dst") == await listed(tiny, "src")


async def test_merge_readers_see_whole_checkpoints_with_their_parents(
    tiny: AsyncRedisSaver,
) -> None:
    await build(tiny, "src", 18, tag="s")
    await build(tiny, "dst", 3, tag="d")
    source = {t[0]["checkpoint_id"]: t for t in await listed(tiny, "src", "dst")}
    pages: list[int] = []

    async def look(_: int) -> None:
        pages.append(1)
        for t in await listed(tiny, "dst", "dst"):
            cid = t[0]["checkpoint_id"]
            if cid.endswith("-s"):
                # every copied checkpoint reads as in the source, values and writes
                # included, and its parent is there too (copies go oldest first)
                assert t == source[cid]
                parent = t[3]
                if parent is not None:
                    assert await tiny.aget_tuple({"configurable": parent}) is not None

    after_each(tiny, "copy_write", look)
    await tiny.acopy_thread("src", "dst")
    assert len(pages) > 5
    assert set(source) <= {t[0]["checkpoint_id"] for t in await listed(tiny, "dst", "dst")}


async def test_an_interrupted_copy_leaves_no_target_and_a_retry_succeeds(
    tiny: AsyncRedisSaver,
) -> None:
    await build(tiny, "src", 15)
    batch = tiny._batch

    async def cut(n: int) -> None:
        if n == 4:
            raise ConnectionError("cut")

    after_each(tiny, "copy_write", cut)
    with pytest.raises(ConnectionError):
        await tiny.acopy_thread("src", "dst")
    assert await tiny._redis.exists(*tiny._thread("dst").all) == 0
    assert await everywhere(tiny, "dst") == set()
    left = await staging_keys(tiny, "dst")
    assert left, "the pages written so far stay in the staging copy"
    for key in left:
        assert 0 < await tiny._redis.pttl(key) <= COPY_STAGING_TTL_MS
    tiny._batch = batch  # type: ignore[method-assign]
    await tiny.acopy_thread("src", "dst")
    assert await raw(tiny, "dst") == await raw(tiny, "src")
    assert await everywhere(tiny, "dst") == await everywhere(tiny, "src")

    # cut after the publish, while the index across threads is filled: a retry completes it
    async def cut_index(n: int) -> None:
        if n == 2:
            raise ConnectionError("cut")

    after_each(tiny, "bucket", cut_index)
    with pytest.raises(ConnectionError):
        await tiny.acopy_thread("src", "dst2")
    assert await listed(tiny, "dst2") == await listed(tiny, "src")
    tiny._batch = batch  # type: ignore[method-assign]
    await tiny.acopy_thread("src", "dst2")
    assert await raw(tiny, "dst2") == await raw(tiny, "src")
    assert await everywhere(tiny, "dst2") == await everywhere(tiny, "src")


async def test_a_target_written_during_the_copy_is_merged_into(tiny: AsyncRedisSaver) -> None:
    await build(tiny, "src", 12, tag="s")
    mine = await build(tiny, "other", 2, tag="o")

    async def meddle(n: int) -> None:
        if n == 2:
            await tiny.acopy_thread("other", "dst")

    after_each(tiny, "copy_write", meddle)
    calls = count_scripts(tiny)
    await tiny.acopy_thread("src", "dst")
    # the copy of "other" published first; ours found the target taken, and merged instead
    assert calls["copy_publish"] == 2
    ids = {t[0]["checkpoint_id"] for t in await listed(tiny, "dst")}
    assert ids == {t[0]["checkpoint_id"] for t in await listed(tiny, "src")} | {
        c["configurable"]["checkpoint_id"] for c in mine
    }
    assert await staging_keys(tiny, "dst") == []


async def test_a_staging_copy_that_lost_keys_is_not_published(tiny: AsyncRedisSaver) -> None:
    await build(tiny, "src", 12)

    async def evict(n: int) -> None:
        if n == 3:
            for key in await staging_keys(tiny, "dst"):
                if key.endswith(b":wx"):
                    await tiny._redis.delete(key)

    after_each(tiny, "copy_write", evict)
    with pytest.raises(AredisCheckpointError, match="staging copy's 'wx' key lost entries"):
        await tiny.acopy_thread("src", "dst")
    assert await tiny._redis.exists(*tiny._thread("dst").all) == 0
    assert await staging_keys(tiny, "dst") == []


async def test_copy_with_a_ttl_gives_the_target_the_ttl(make_saver: SaverFactory) -> None:
    async with make_saver(script_budget=TINY, ttl={"default_ttl": 5}) as saver:
        await build(saver, "src", 9)
        await saver.acopy_thread("src", "dst")
        for key in saver._thread("dst").all:
            if await saver._redis.exists(key):
                assert 0 < await saver._redis.pttl(key) <= 300_000
        assert await listed(saver, "dst") == await listed(saver, "src")


async def test_delta_history_in_slices_matches_in_memory_saver(tiny: AsyncRedisSaver) -> None:
    model = InMemorySaver()
    configs = {}
    for target in (tiny, model):
        configs[id(target)] = await build(target, "t", 30)
    calls = count_scripts(tiny)
    for pick in (29, 28, 16, 3, 0):
        for channels in (["log"], ["step", "log", "absent"], ["absent"]):
            ours = await tiny.aget_delta_channel_history(
                config=configs[id(tiny)][pick], channels=channels
            )
            theirs = await model.aget_delta_channel_history(
                config=configs[id(model)][pick], channels=channels
            )
            assert ours == theirs, (pick, channels)
    assert calls["delta_history"] > 15 * 2
    latest = await tiny.aget_delta_channel_history(config=cfg("t", "sub:1"), channels=["absent"])
    assert latest == await model.aget_delta_channel_history(
        config=cfg("t", "sub:1"), channels=["absent"]
    )
    assert len(latest["absent"]["writes"]) == 0


async def test_filtered_list_pages_with_a_tiny_scan_budget(
    tiny: AsyncRedisSaver, make_saver: SaverFactory
) -> None:
    await build(tiny, "t", 24)
    await build(tiny, "u", 6, tag="u")
    async with make_saver() as whole:
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
            ours = [plain(t) async for t in tiny.alist(config, **kwargs)]
            theirs = [plain(t) async for t in whole.alist(config, **kwargs)]
            assert ours == theirs, (config, kwargs)
            if config is not None or not tiny._cluster:
                assert calls["list"] > 1, (config, kwargs)
        assert [plain(t) async for t in tiny.alist(None, filter={"source": "nothing"})] == []


async def test_a_source_deleted_during_a_copy_into_a_new_thread_copies_nothing(
    tiny: AsyncRedisSaver,
) -> None:
    await build(tiny, "src", 12)

    async def delete_source(n: int) -> None:
        if n == 2:
            await tiny.adelete_thread("src")

    after_each(tiny, "copy_write", delete_source)
    await tiny.acopy_thread("src", "dst")
    assert await tiny._redis.exists(*tiny._thread("dst").all) == 0
    assert await staging_keys(tiny, "dst") == []
    assert await everywhere(tiny, "dst") == set()
