"""Bounded server time (#13): delete_thread, prune and delete_for_runs work in slices.

Tiny budgets (``ScriptBudget(entries=2..4)``) make every phase take many slices on small
threads.  Results are checked against a model of the unsliced semantics (which checkpoints,
writes and values remain, ``list(None)``, the run sets), after interruptions at every slice,
with readers and puts between slices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from langgraph.checkpoint.base import Checkpoint, CheckpointMetadata, empty_checkpoint
from langgraph.checkpoint.base.id import uuid6

from aredis_ckpt import AsyncRedisSaver, ScriptBudget
from aredis_ckpt._base import MaintenanceJob
from aredis_ckpt._keys import escape, key_part, value_field

from .conftest import SaverFactory

NAMESPACES = ("", "sub:1", "sub|2")
RUNS = ("r0", "r1", "r2")


class Interrupted(Exception):
    pass


def cfg(thread_id: str, ns: str = "", checkpoint_id: str | None = None) -> dict[str, Any]:
    conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns}
    if checkpoint_id is not None:
        conf["checkpoint_id"] = checkpoint_id
    return {"configurable": conf}


@dataclass
class Stored:
    """One checkpoint as the model knows it."""

    thread: str
    ns: str
    cid: str
    run: str
    values: dict[str, Any]
    versions: dict[str, int]
    writes: list[tuple[str, str, Any]] = field(default_factory=list)


@dataclass
class Model:
    """What a saver holds after the puts below, and after prune / delete_for_runs."""

    checkpoints: dict[tuple[str, str, str], Stored] = field(default_factory=dict)

    def prune(self, threads: list[str], keep: int) -> None:
        for tid in threads:
            for ns in NAMESPACES:
                cids = sorted(c for (t, n, c) in self.checkpoints if t == tid and n == ns)
                for cid in cids[: max(0, len(cids) - keep)]:
                    del self.checkpoints[(tid, ns, cid)]

    def delete_runs(self, runs: list[str]) -> None:
        for key, stored in list(self.checkpoints.items()):
            if stored.run in runs:
                del self.checkpoints[key]

    def delete_thread(self, tid: str) -> None:
        for key in [k for k in self.checkpoints if k[0] == tid]:
            del self.checkpoints[key]

    def of(self, tid: str) -> dict[tuple[str, str], Stored]:
        return {(n, c): s for (t, n, c), s in self.checkpoints.items() if t == tid}

    def fields(self, tid: str) -> set[bytes]:
        """Value fields the thread's checkpoints reference (what the GC must leave)."""
        out = set()
        for s in self.of(tid).values():
            ns_e = key_part(s.ns)
            out.update(value_field(ns_e, ch, v) for ch, v in s.versions.items())
        return out


def make_checkpoint(values: dict[str, Any], versions: dict[str, int]) -> Checkpoint:
    cp = empty_checkpoint()
    cp["id"] = str(uuid6(clock_seq=-1))
    cp["channel_values"] = dict(values)
    cp["channel_versions"] = dict(versions)  # type: ignore[typeddict-item]
    return cp


def md(step: int, run: str) -> CheckpointMetadata:
    return {"source": "loop", "step": step, "parents": {}, "run_id": run}  # type: ignore[typeddict-item]


async def build(saver: AsyncRedisSaver, model: Model, tid: str, n: int) -> None:
    """n checkpoints spread over the namespaces and runs: "count" changes every step, "tick"
    every sixth (unchanged in between: referenced, not rewritten), "const" never; every
    checkpoint gets a pending write, some two."""
    parents: dict[str, str | None] = {ns: None for ns in NAMESPACES}
    seen: dict[str, dict[str, int]] = {ns: {} for ns in NAMESPACES}
    for i in range(n):
        ns = NAMESPACES[i % len(NAMESPACES)]
        run = RUNS[(i // 4) % len(RUNS)]
        parent = parents[ns]
        versions = {"count": i + 1, "tick": i // 6 + 1, "const": 1}
        values = {"count": i, "tick": f"tick{i // 6}", "const": "same"}
        new = {ch: v for ch, v in versions.items() if seen[ns].get(ch) != v}
        seen[ns] = versions
        cp = make_checkpoint(values, versions)
        stored = await saver.aput(cfg(tid, ns, parent), cp, md(i, run), new)  # type: ignore[arg-type]
        cid = stored["configurable"]["checkpoint_id"]
        parents[ns] = cid
        s = Stored(tid, ns, cid, run, values, versions)
        writes = [("w", f"{tid}/{i}")] if i % 2 else [("w", i), ("x", [i])]
        await saver.aput_writes(stored, writes, f"task{i}")
        s.writes = [(f"task{i}", ch, v) for ch, v in writes]
        model.checkpoints[(tid, ns, cid)] = s


async def check(saver: AsyncRedisSaver, model: Model, threads: list[str], exact: bool) -> None:
    """Every checkpoint the saver lists is one the model has (or had, mid-way), whole: its
    values and writes; with ``exact``, the saver holds exactly the model (values included)."""
    for tid in threads:
        want = model.of(tid)
        listed = [t async for t in saver.alist({"configurable": {"thread_id": tid}})]
        for tup in listed:
            conf = tup.config["configurable"]
            key = (tid, conf["checkpoint_ns"], conf["checkpoint_id"])
            stored = model.checkpoints.get(key) or model_history[key]
            assert tup.checkpoint["channel_values"] == stored.values, key
            assert sorted(tup.pending_writes or []) == sorted(stored.writes), key
        if exact:
            assert {
                (
                    t.config["configurable"]["checkpoint_ns"],
                    t.config["configurable"]["checkpoint_id"],
                )
                for t in listed
            } == set(want)
            for ns in NAMESPACES:
                latest = await saver.aget_tuple(cfg(tid, ns))
                cids = sorted(c for (n, c) in want if n == ns)
                assert (latest.config["configurable"]["checkpoint_id"] if latest else None) == (
                    cids[-1] if cids else None
                )
            keys = saver._thread(tid).all
            assert set(await saver._redis.hkeys(keys[4])) == model.fields(tid)
            assert await saver._redis.hlen(keys[7]) == sum(len(s.writes) for s in want.values())
            assert set(await saver._redis.hkeys(keys[1])) == {key_part(n) for (n, _) in want}
    if exact:
        everywhere = {
            (
                t.config["configurable"]["thread_id"],
                t.config["configurable"]["checkpoint_ns"],
                t.config["configurable"]["checkpoint_id"],
            )
            async for t in saver.alist(None)
        }
        assert everywhere == set(model.checkpoints)
        for run in RUNS:
            holders = {b.decode() for b in await run_members(saver, run)}
            assert holders == {
                key_part(s.thread).decode() for s in model.checkpoints.values() if s.run == run
            }


# every checkpoint ever built, for the mid-way checks (a checkpoint not yet dropped)
model_history: dict[tuple[str, str, str], Stored] = {}


async def run_members(saver: AsyncRedisSaver, run: str) -> set[bytes]:
    out: set[bytes] = set()
    for bucket in saver._pk.buckets:
        out |= set(await saver._redis.smembers(bucket.run(escape(run))))
    return out


async def leftovers(saver: AsyncRedisSaver) -> list[bytes]:
    """Keys of maintenance in progress (trash, GC state, todo sets)."""
    found = []
    async for key in saver._redis.scan_iter(match=saver.key_prefix + ":*", count=1000):
        tail = key.rsplit(b"}:", 1)[-1]
        if tail in (b"gd", b"gs", b"x", b"todo") or tail.startswith(b"x:"):
            found.append(key)
    return found


def interrupt_at(saver: AsyncRedisSaver, slice_no: int) -> Callable[[], int]:
    """Make the saver raise before its ``slice_no``-th slice script (0-based); returns a
    counter of the slices started."""
    calls = [0]
    real = saver._job_call

    def job_call(job: MaintenanceJob) -> Any:
        if calls[0] == slice_no:
            raise Interrupted(f"slice {slice_no} ({job.phases[0]})")
        calls[0] += 1
        return real(job)

    saver._job_call = job_call  # type: ignore[method-assign]
    return lambda: calls[0]


def restore(saver: AsyncRedisSaver) -> None:
    del saver._job_call


async def setup_threads(saver: AsyncRedisSaver, n: int = 18) -> Model:
    model = Model()
    for tid in ("a", "b:{x}", ""):
        await build(saver, model, tid, n)
    model_history.update(model.checkpoints)
    return model


@pytest.mark.parametrize("entries", [2, 4])
async def test_prune_in_slices_matches_the_model(make_saver: SaverFactory, entries: int) -> None:
    async with make_saver(script_budget=ScriptBudget(entries=entries)) as saver:
        model = await setup_threads(saver)
        await check(saver, model, ["a", "b:{x}", ""], exact=True)
        # an orphan write (its checkpoint never existed): prune drops it, as before
        await saver.aput_writes(cfg("a", "sub:1", "1ef-missing"), [("w", 0)], "ghost")
        await saver.aprune(["a", "b:{x}"], keep_last=2)
        model.prune(["a", "b:{x}"], 2)
        await check(saver, model, ["a", "b:{x}", ""], exact=True)
        await saver.aprune(["a", "b:{x}"], keep_last=2)  # idempotent
        await check(saver, model, ["a", "b:{x}", ""], exact=True)
        await saver.aprune(["a", ""])
        model.prune(["a", ""], 1)
        await check(saver, model, ["a", "b:{x}", ""], exact=True)
        assert await leftovers(saver) == []


@pytest.mark.parametrize("entries", [2, 3])
async def test_delete_for_runs_in_slices_matches_the_model(
    make_saver: SaverFactory, entries: int
) -> None:
    async with make_saver(script_budget=ScriptBudget(entries=entries)) as saver:
        model = await setup_threads(saver)
        await saver.adelete_for_runs(["r1", "nope"])
        model.delete_runs(["r1"])
        await check(saver, model, ["a", "b:{x}", ""], exact=True)
        await saver.adelete_for_runs(["r1"])  # idempotent
        await check(saver, model, ["a", "b:{x}", ""], exact=True)
        await saver.adelete_for_runs(["r0", "r2"])
        model.delete_runs(["r0", "r2"])
        await check(saver, model, ["a", "b:{x}", ""], exact=True)
        assert await leftovers(saver) == []
        found = []
        async for key in saver._redis.scan_iter(match=saver.key_prefix + ":*", count=1000):
            found.append(key)
        assert found == [saver._pk.schema]  # every thread emptied, deleted outright


async def test_delete_thread_in_slices(make_saver: SaverFactory) -> None:
    async with make_saver(script_budget=ScriptBudget(entries=2)) as saver:
        model = await setup_threads(saver)
        counter = interrupt_at(saver, 10**6)  # counts only
        await saver.adelete_thread("a")
        restore(saver)
        assert counter() > 10  # many slices
        model.delete_thread("a")
        await check(saver, model, ["a", "b:{x}", ""], exact=True)
        await saver.aprune(["b:{x}", ""], strategy="delete")
        found = []
        async for key in saver._redis.scan_iter(match=saver.key_prefix + ":*", count=1000):
            found.append(key)
        assert found == [saver._pk.schema]


@pytest.mark.parametrize("op", ["prune", "delete_for_runs", "delete_thread"])
async def test_interrupted_at_any_slice_readers_see_whole_checkpoints_and_resume_finishes(
    make_saver: SaverFactory, op: str
) -> None:
    async with make_saver(script_budget=ScriptBudget(entries=3)) as saver:
        model = await setup_threads(saver, 12)
        total = interrupt_at(saver, 10_000)
        await run_op(saver, op)
        restore(saver)
        slices = total()
        assert slices > 8
    for at in range(0, slices, 3):
        async with make_saver(script_budget=ScriptBudget(entries=3)) as saver:
            await saver.aprune(["a", "b:{x}", ""], strategy="delete")
            model = await setup_threads(saver, 12)
            interrupt_at(saver, at)
            with pytest.raises(Interrupted):
                await run_op(saver, op)
            restore(saver)
            # a reader in between: never a checkpoint without its values or writes
            await check(saver, model, ["a", "b:{x}", ""], exact=False)
            # and maintenance left half done is not damage
            assert await saver.acheck_threads() == []
            if op == "delete_thread":
                # the thread vanished at once for readers
                assert at == 0 or await saver.aget_tuple(cfg("a")) is None
            if at % 2:
                await run_op(saver, op)  # the next call finishes it ...
            else:
                await saver.aresume_maintenance()  # ... or the maintenance call
                if op != "delete_thread" or at == 0:
                    await run_op(saver, op)
            apply_op(model, op)
            await check(saver, model, ["a", "b:{x}", ""], exact=True)
            assert await leftovers(saver) == []


async def run_op(saver: AsyncRedisSaver, op: str) -> None:
    if op == "prune":
        await saver.aprune(["a", "b:{x}"], keep_last=2)
    elif op == "delete_for_runs":
        await saver.adelete_for_runs(["r0", "r2"])
    else:
        await saver.adelete_thread("a")


def apply_op(model: Model, op: str) -> None:
    if op == "prune":
        model.prune(["a", "b:{x}"], 2)
    elif op == "delete_for_runs":
        model.delete_runs(["r0", "r2"])
    else:
        model.delete_thread("a")


async def test_a_put_during_the_value_gc_keeps_its_values(make_saver: SaverFactory) -> None:
    """The GC barrier: a checkpoint put while the GC sweeps references a candidate value (an
    unchanged channel of an old version, as a fork does); it survives the sweep."""
    async with make_saver(script_budget=ScriptBudget(entries=2)) as saver:
        model = await setup_threads(saver, 15)
        old = next(s for s in model.of("a").values() if s.ns == "" and s.versions["count"] == 4)
        # stop at the value GC, with every drop done
        calls = [0]
        real = saver._job_call

        def job_call(job: MaintenanceJob) -> Any:
            if job.phases[0] == "gc":
                raise Interrupted("gc")
            calls[0] += 1
            return real(job)

        saver._job_call = job_call  # type: ignore[method-assign]
        with pytest.raises(Interrupted):
            await saver.aprune(["a"], keep_last=1)
        restore(saver)
        gd = saver._thread("a").base + b"gd"
        gs = saver._thread("a").base + b"gs"
        field = value_field(b"%", "count", 4)
        assert await saver._redis.sismember(gd, field)
        # mark to the end (the GC's own slices), not a single value swept yet
        from aredis_ckpt._scripts import SCRIPTS

        job = MaintenanceJob(saver._thread("a"), ["gc"])
        while await saver._redis.get(gs) != b"s":
            script, call = saver._job_call(job)
            await saver._eval(script, call)
        assert await saver._redis.sismember(gd, field)
        assert script is SCRIPTS.gc
        # a fork of the dropped checkpoint: nothing new written, count@4 referenced
        fork = make_checkpoint(old.values, old.versions)
        forked = await saver.aput(cfg("a", "", old.cid), fork, md(99, "r9"), {})
        await saver.aresume_maintenance()
        tup = await saver.aget_tuple(forked)
        assert tup is not None
        assert tup.checkpoint["channel_values"] == old.values
        assert await leftovers(saver) == []
        model.prune(["a"], 1)
        # the garbage did go: what remains is what the kept checkpoints and the fork reference
        referenced = model.fields("a") | {
            value_field(b"%", ch, v) for ch, v in old.versions.items()
        }
        assert set(await saver._redis.hkeys(saver._thread("a").all[4])) == referenced


async def test_a_thread_rewritten_while_its_delete_drains_keeps_its_entries(
    make_saver: SaverFactory,
) -> None:
    """copy_thread brings back the same checkpoint ids under the deleted id mid-drain: the
    drain leaves their bucket entries and run sets alone."""
    async with make_saver(script_budget=ScriptBudget(entries=2)) as saver:
        model = await setup_threads(saver, 12)
        await saver.acopy_thread("a", "backup")
        interrupt_at(saver, 2)  # the delete, then one drain slice
        with pytest.raises(Interrupted):
            await saver.adelete_thread("a")
        restore(saver)
        assert await saver.aget_tuple(cfg("a")) is None
        await saver.acopy_thread("backup", "a")
        await saver.aresume_maintenance()
        await saver.adelete_thread("backup")
        await check(saver, model, ["a", "b:{x}", ""], exact=True)
        assert await leftovers(saver) == []
        await saver.adelete_for_runs(list(RUNS))
        model.delete_runs(list(RUNS))
        await check(saver, model, ["a", "b:{x}", ""], exact=True)


async def test_shallow_saver_prunes_and_deletes_in_slices(make_saver: SaverFactory) -> None:
    from aredis_ckpt import AsyncShallowRedisSaver

    async with make_saver(script_budget=ScriptBudget(entries=2)) as base:
        kwargs = {"key_prefix": base.key_prefix, "script_budget": ScriptBudget(entries=2)}
        if base._cluster:
            kwargs["cluster"] = True
        url = base._redis  # the same server: share the client
        shallow = AsyncShallowRedisSaver(url, **kwargs)
        await shallow.asetup()
        model = Model()
        await build(shallow, model, "s", 9)
        latest = {ns: max(c for (t, n, c) in model.checkpoints if n == ns) for ns in NAMESPACES}
        model.checkpoints = {k: v for k, v in model.checkpoints.items() if k[2] == latest[k[1]]}
        model_history.update(model.checkpoints)
        await saver_prune_check(shallow, model)
        await shallow.adelete_for_runs(list(RUNS))
        model.delete_runs(list(RUNS))
        await check(shallow, model, ["s"], exact=True)
        await shallow.aclose()


async def saver_prune_check(saver: AsyncRedisSaver, model: Model) -> None:
    await check(saver, model, ["s"], exact=True)
    await saver.aprune(["s"])
    await check(saver, model, ["s"], exact=True)


async def test_a_copy_into_a_thread_mid_gc_restarts_the_mark(make_saver: SaverFactory) -> None:
    """copy_thread merges checkpoints (and their values) into a thread whose GC already marked
    them as unreferenced: the mark restarts, so the copied checkpoints keep their values."""
    async with make_saver(script_budget=ScriptBudget(entries=2)) as saver:
        model = await setup_threads(saver, 12)
        await saver.acopy_thread("a", "backup")
        real = saver._job_call

        def job_call(job: MaintenanceJob) -> Any:
            if job.phases[0] == "gc":
                raise Interrupted("gc")
            return real(job)

        saver._job_call = job_call  # type: ignore[method-assign]
        with pytest.raises(Interrupted):
            await saver.aprune(["a"], keep_last=1)
        restore(saver)
        gs = saver._thread("a").base + b"gs"
        job = MaintenanceJob(saver._thread("a"), ["gc"])
        while await saver._redis.get(gs) != b"s":  # marked to the end: sweeping next
            await saver._eval(*saver._job_call(job))
        await saver.acopy_thread("backup", "a")  # every dropped checkpoint comes back
        await saver.aresume_maintenance()
        await saver.adelete_thread("backup")
        await check(saver, model, ["a", "b:{x}", ""], exact=True)
        assert await leftovers(saver) == []


async def test_slices_without_the_index_across_threads(make_saver: SaverFactory) -> None:
    async with make_saver(script_budget=ScriptBudget(entries=2), global_index=False) as saver:
        model = Model()
        for tid in ("a", "b"):
            await build(saver, model, tid, 12)
        model_history.update(model.checkpoints)
        await saver.aprune(["a"], keep_last=2)
        model.prune(["a"], 2)
        for tid in ("a", "b"):
            want = model.of(tid)
            listed = [t async for t in saver.alist({"configurable": {"thread_id": tid}})]
            assert {
                (
                    t.config["configurable"]["checkpoint_ns"],
                    t.config["configurable"]["checkpoint_id"],
                )
                for t in listed
            } == set(want)
            for tup in listed:
                conf = tup.config["configurable"]
                assert (
                    tup.checkpoint["channel_values"]
                    == want[(conf["checkpoint_ns"], conf["checkpoint_id"])].values
                )
            keys = saver._thread(tid).all
            assert set(await saver._redis.hkeys(keys[4])) == model.fields(tid)
        await saver.adelete_thread("a")
        await saver.adelete_thread("b")
        found = []
        async for key in saver._redis.scan_iter(match=saver.key_prefix + ":*", count=1000):
            found.append(key)
        assert found == [saver._pk.schema]
