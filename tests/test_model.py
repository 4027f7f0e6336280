"""Model-based test: ``RedisSaver`` against LangGraph's ``InMemorySaver``, driven by Hypothesis.

A ``RuleBasedStateMachine`` runs random sequences of put / put_writes / get_tuple / list /
delete_thread / copy_thread / delete_for_runs / prune on both savers, with thread ids and
namespaces from a nasty alphabet, and requires identical observable results.  ``InMemorySaver``
has no copy_thread / delete_for_runs / prune: ``ModelSaver`` adds them on its dicts.

Known, intended differences that the comparison normalises:

* ``list`` order: ours is newest first by checkpoint id across namespaces and threads (ties, which
  only ``copy_thread`` creates, broken by the thread's then the namespace's key part, as the
  indexes sort them); ``InMemorySaver`` groups by thread, then namespace.  The model's unlimited
  answer is sorted that way and then cut to ``limit``.
* ``list(None, before=...)`` compares checkpoint ids across threads (both savers do).

Puts follow LangGraph: ``new_versions`` holds exactly the channels whose version changed, and a
child's other channel versions are its parent's (an existing checkpoint of the same namespace),
so a value that prune / delete_for_runs collected is never referenced again.  Versions are
LangGraph's strings, or (half the runs) the plain ints of older LangGraph, which repeat across
threads and forks.

After every step the whole state is compared (``list(None)``), and so are our shared indexes
and value/write counts against the model (no leaks); at the end every thread is deleted and
nothing but the schema record may remain.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from langgraph.checkpoint.base import ERROR, INTERRUPT, CheckpointTuple, empty_checkpoint
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.memory import InMemorySaver

from aredis_ckpt import RedisSaver, ScriptBudget
from aredis_ckpt._commands import Command
from aredis_ckpt._keys import encode, escape, key_part

# AREDIS_MODEL_EXAMPLES=2000 for a longer hunt
MAX_EXAMPLES = int(os.environ.get("AREDIS_MODEL_EXAMPLES") or 120)
STEPS = 40

NASTY_ALPHABET = [":", "{", "}", "*", "$", "%", " ", "\x00", "é", "漢", "🙂", "a"]
# "%" * 100 escapes to 300 bytes: its key part is a digest
ID_POOL = ["", ":", "{x}", "a b", "%", "\x00", "é漢🙂", "*$", "%3A", "%" * 100]
ids = st.one_of(st.sampled_from(ID_POOL), st.text(NASTY_ALPHABET, max_size=3))
CHANNELS = ["a", "b:c", "{d}", "é 漢"]
TASK_IDS = ["t1", "t:2", "{t}", "", "🙂"]
TASK_PATHS = ["", "~0", "~1:x", "é"]
# "x\x00" is stored as "x" (LangGraph strips NUL from metadata strings)
RUN_POOL = ["r1", "r:2", "{r}", "", "x\x00", "x", "é漢"]
# equal as Python sees them: True == 1 == 1.0, -0.0 == 0, [True, 2] == [1, 2], {"k": [1.0]} ...
FLAGS = [True, False, 1, 0, 1.0, -0.0, 2.5, "1", None, [1, 2], [True, 2], [2, 1], {"k": [1]}]
FLAGS += [{"k": [1.0]}, {"k": []}, "", "é:{x}"]

DELETED = object()  # a channel whose value goes away (version bumped, no value)
values = st.one_of(
    st.integers(-3, 3),
    st.text(max_size=3),
    st.lists(st.integers(0, 3), max_size=3),
    st.none(),
    st.binary(max_size=3),
    st.just(DELETED),
)
metadata = st.fixed_dictionaries(
    {"source": st.sampled_from(["loop", "input", "update"]), "step": st.integers(-1, 3)},
    optional={
        "run_id": st.sampled_from(RUN_POOL),
        "flag": st.sampled_from(FLAGS),
        "note": st.text(NASTY_ALPHABET, max_size=2),
        "é:{k} ": st.sampled_from(FLAGS),
    },
)
filters = st.dictionaries(
    st.sampled_from(["run_id", "flag", "step", "source", "note", "missing", "é:{k} "]),
    st.one_of(
        st.sampled_from(RUN_POOL),
        st.sampled_from(FLAGS),
        st.integers(-1, 3),
        st.sampled_from(["loop", "input"]),
    ),
    max_size=2,
)
index = st.integers(0, 1000)  # picks one of the existing things (mod their number)


def pick(items: Sequence[Any], i: int) -> Any:
    return items[i % len(items)]


def cfg(thread_id: str, ns: str | None = "", checkpoint_id: str | None = None) -> dict[str, Any]:
    conf: dict[str, Any] = {"thread_id": thread_id}
    if ns is not None:
        conf["checkpoint_ns"] = ns
    if checkpoint_id is not None:
        conf["checkpoint_id"] = checkpoint_id
    return {"configurable": conf}


class ModelSaver(InMemorySaver):
    """``InMemorySaver`` plus copy_thread / delete_for_runs / prune, on its own dicts."""

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        src, dst = source_thread_id, target_thread_id
        if src == dst:
            return
        for ns, checkpoints in list(self.storage.get(src, {}).items()):
            self.storage[dst][ns].update(checkpoints)
        for (tid, ns, cid), writes in list(self.writes.items()):
            if tid == src:
                self.writes[(dst, ns, cid)].update(writes)
        for (tid, ns, channel, version), blob in list(self.blobs.items()):
            if tid == src:
                self.blobs[(dst, ns, channel, version)] = blob

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        runs = set(run_ids)
        for tid, namespaces in self.storage.items():
            for ns, checkpoints in namespaces.items():
                for cid, (_, md, _) in list(checkpoints.items()):
                    if self.serde.loads_typed(md).get("run_id") in runs:
                        del checkpoints[cid]
                        self.writes.pop((tid, ns, cid), None)
            self.collect_values(tid)

    def prune(
        self, thread_ids: Sequence[str], *, strategy: str = "keep_latest", keep_last: int = 1
    ) -> None:
        for tid in thread_ids:
            if strategy == "delete":
                self.delete_thread(tid)
                continue
            kept = set()
            for ns, checkpoints in self.storage.get(tid, {}).items():
                for cid in sorted(checkpoints, reverse=True)[keep_last:]:
                    del checkpoints[cid]
                kept.update((tid, ns, cid) for cid in checkpoints)
            for key in [k for k in self.writes if k[0] == tid and k not in kept]:
                del self.writes[key]
            self.collect_values(tid)

    def collect_values(self, thread_id: str) -> None:
        """Drop the thread's values no checkpoint references any more (as ours does).

        Without this a later copy_thread would copy stale values over live ones of the
        target: with int versions, (namespace, channel, version) repeats across threads.
        """
        referenced = set()
        for ns, checkpoints in self.storage.get(thread_id, {}).items():
            for saved, _, _ in checkpoints.values():
                versions = self.serde.loads_typed(saved)["channel_versions"]
                referenced.update((thread_id, ns, ch, v) for ch, v in versions.items())
        for key in [k for k in self.blobs if k[0] == thread_id and k not in referenced]:
            del self.blobs[key]

    # ---------------------------------------------------------------- views for the test

    def locations(self) -> list[tuple[str, str, str]]:
        """Every stored checkpoint as (thread, namespace, id), in a stable order."""
        return sorted(
            (tid, ns, cid)
            for tid, namespaces in self.storage.items()
            for ns, checkpoints in namespaces.items()
            for cid in checkpoints
        )

    def namespaces(self) -> list[tuple[str, str]]:
        return sorted({(tid, ns) for tid, ns, _ in self.locations()})

    def threads(self) -> list[str]:
        return sorted({tid for tid, _, _ in self.locations()})


def order_key(t: CheckpointTuple) -> bytes:
    """Our order: checkpoint id, then the thread's and the namespace's key parts (newest first)."""
    conf = t.config["configurable"]
    return (
        encode(conf["checkpoint_id"])
        + b"\x00"
        + key_part(conf["thread_id"])
        + b"\x00"
        + key_part(conf["checkpoint_ns"])
    )


def plain(t: CheckpointTuple | None) -> Any:
    """A CheckpointTuple as comparable data (pending writes as tuples)."""
    if t is None:
        return None
    return {
        "config": t.config,
        "checkpoint": t.checkpoint,
        "metadata": t.metadata,
        "parent_config": t.parent_config,
        "pending_writes": [tuple(w) for w in t.pending_writes or []],
    }


def expected_list(model: ModelSaver, config: Any, limit: int | None, **kw: Any) -> list[Any]:
    found = sorted(model.list(config, **kw), key=order_key, reverse=True)
    if limit is not None:
        found = found[:limit]
    return [plain(t) for t in found]


def make_machine(url: str, saver_kwargs: dict[str, Any], stats: dict[str, int]) -> type:
    class SaverMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            stats["examples"] += 1
            self.prefix = f"model-{uuid.uuid4().hex[:12]}"
            self.saver = RedisSaver(url, key_prefix=self.prefix, **saver_kwargs)
            self.saver.setup()
            self.model = ModelSaver()
            self.touched: set[str] = set()
            self.last_writes: tuple[Any, int, str, str] | None = None
            self.int_versions = False

        def teardown(self) -> None:
            try:
                for tid in self.touched:
                    self.saver.delete_thread(tid)
                assert list(self.saver.list(None)) == []
                if not self.saver._cluster:
                    keys = sorted(self.saver._redis.scan_iter(match=self.prefix + ":*"))
                    assert keys == [self.saver._pk.schema], keys
            finally:
                self.saver.close()

        def step(self, name: str) -> None:
            stats["steps"] += 1
            stats[name] = stats.get(name, 0) + 1

        # ------------------------------------------------------------ writes

        def do_put(
            self,
            tid: str,
            ns: str,
            parent_id: str | None,
            changes: dict[str, Any],
            meta: dict[str, Any],
            config_meta: dict[str, Any] | None,
        ) -> None:
            self.step("put")
            self.touched.add(tid)
            versions: dict[str, Any] = {}
            channel_values: dict[str, Any] = {}
            if parent_id is not None:
                before = self.model.get_tuple(cfg(tid, ns, parent_id))
                assert before is not None
                versions = dict(before.checkpoint["channel_versions"])
                channel_values = dict(before.checkpoint["channel_values"])
            # as LangGraph does: new_versions holds the channels whose version changed
            new_versions = {}
            for channel, value in changes.items():
                current = versions.get(channel)
                if self.int_versions:  # older LangGraph: plain int versions
                    new_versions[channel] = (current or 0) + 1
                else:
                    new_versions[channel] = self.saver.get_next_version(current, None)
                if value is DELETED:
                    channel_values.pop(channel, None)
                else:
                    channel_values[channel] = value
            versions.update(new_versions)
            checkpoint = empty_checkpoint()
            checkpoint["id"] = str(uuid6(clock_seq=-1))
            checkpoint["channel_values"] = channel_values
            checkpoint["channel_versions"] = versions
            checkpoint["versions_seen"] = {"node": dict(new_versions)}
            checkpoint["updated_channels"] = sorted(new_versions)
            config = cfg(tid, ns, parent_id)
            if config_meta is not None:
                config["metadata"] = config_meta
            ours = self.saver.put(config, checkpoint, dict(meta), new_versions)
            theirs = self.model.put(config, checkpoint, dict(meta), new_versions)
            assert ours == theirs

        @initialize(
            places=st.lists(st.tuples(ids, ids, st.integers(1, 4)), min_size=1, max_size=3),
            changes=st.lists(
                st.dictionaries(st.sampled_from(CHANNELS), values, max_size=2), min_size=4
            ),
            meta=metadata,
            int_versions=st.booleans(),
            ttl=st.sampled_from([None, {"default_ttl": 5, "refresh_on_read": True}]),
            entries=st.sampled_from([None, 2, 3]),
        )
        def seed(
            self,
            places: list[tuple[str, str, int]],
            changes: list[dict[str, Any]],
            meta: dict[str, Any],
            int_versions: bool,
            ttl: dict[str, Any] | None,
            entries: int | None,
        ) -> None:
            """Start from a few short histories, each with a task's writes on its head.

            Half the runs use a TTL (minutes: nothing expires during the test), so every write
            and read also refreshes expiries.  Two thirds use tiny script budgets, so deletes,
            prunes and delete_for_runs run in many slices.
            """
            self.int_versions = int_versions
            if ttl is not None or entries is not None:
                # the sliced run's tiny budget, with the drawn slice size for delete and prune
                kwargs = dict(saver_kwargs)
                budget = kwargs.pop("script_budget", None)
                if entries is not None:
                    budget = dataclasses.replace(budget or ScriptBudget(), entries=entries)
                self.saver.close()
                self.saver = RedisSaver(
                    url, key_prefix=self.prefix, ttl=ttl, script_budget=budget, **kwargs
                )
            for tid, ns, n in places:
                for i in range(n):
                    latest = max(self.model.storage.get(tid, {}).get(ns, {}), default=None)
                    self.do_put(tid, ns, latest, pick(changes, i), {**meta, "step": i}, None)
                head = cfg(tid, ns, max(self.model.storage[tid][ns]))
                for target in (self.saver, self.model):
                    target.put_writes(head, [("a", n), (ERROR, "boom")], "seed", "~0")

        @rule(
            tid=ids,
            ns=ids,
            changes=st.dictionaries(st.sampled_from(CHANNELS), values, max_size=3),
            meta=metadata,
            config_meta=st.one_of(st.none(), st.sampled_from([{"user": "u:1"}, {"step": 9}])),
        )
        def put_new(
            self,
            tid: str,
            ns: str,
            changes: dict[str, Any],
            meta: dict[str, Any],
            config_meta: dict[str, Any] | None,
        ) -> None:
            """A checkpoint anywhere, as the child of the namespace's latest if there is one."""
            latest = max(self.model.storage.get(tid, {}).get(ns, {}), default=None)
            self.do_put(tid, ns, latest, changes, meta, config_meta)

        @precondition(lambda self: bool(self.model.locations()))
        @rule(
            i=index,
            fork=st.booleans(),
            changes=st.dictionaries(st.sampled_from(CHANNELS), values, max_size=3),
            meta=metadata,
        )
        def put_child(
            self, i: int, fork: bool, changes: dict[str, Any], meta: dict[str, Any]
        ) -> None:
            """A child of the latest checkpoint of an existing namespace, or of any (a fork)."""
            tid, ns, cid = pick(self.model.locations(), i)
            if not fork:
                cid = max(self.model.storage[tid][ns])
            self.do_put(tid, ns, cid, changes, meta, None)

        @precondition(lambda self: bool(self.model.locations()))
        @rule(
            i=index,
            changes=st.dictionaries(st.sampled_from(CHANNELS), values, max_size=3),
            meta=metadata,
        )
        def put_next(self, i: int, changes: dict[str, Any], meta: dict[str, Any]) -> None:
            tid, ns, _ = pick(self.model.locations(), i)
            self.do_put(tid, ns, max(self.model.storage[tid][ns]), changes, meta, None)

        @precondition(lambda self: bool(self.model.locations()))
        @rule(
            target_i=index,
            writes=st.lists(
                st.tuples(st.sampled_from([*CHANNELS, ERROR, INTERRUPT]), values), max_size=3
            ),
            task_id=st.sampled_from(TASK_IDS),
            task_path=st.sampled_from(TASK_PATHS),
        )
        def put_writes(
            self, target_i: int, writes: list[tuple[str, Any]], task_id: str, task_path: str
        ) -> None:
            self.step("put_writes")
            tid, ns, cid = pick(self.model.locations(), target_i)
            writes = [(c, "gone" if v is DELETED else v) for c, v in writes]
            self.saver.put_writes(cfg(tid, ns, cid), writes, task_id, task_path)
            self.model.put_writes(cfg(tid, ns, cid), writes, task_id, task_path)
            self.last_writes = (cfg(tid, ns, cid), len(writes), task_id, task_path)

        @precondition(lambda self: self.last_writes is not None)
        @rule(value=values, extra=st.booleans())
        def put_writes_retry(self, value: Any, extra: bool) -> None:
            """The same task writes again at the same checkpoint (other values; maybe more)."""
            self.step("put_writes_retry")
            assert self.last_writes is not None
            config, n, task_id, task_path = self.last_writes
            value = "gone" if value is DELETED else value
            writes = [(pick([*CHANNELS, ERROR], i), value) for i in range(n + extra)]
            self.saver.put_writes(config, writes, task_id, task_path)
            self.model.put_writes(config, writes, task_id, task_path)

        @precondition(lambda self: len(self.model.locations()) >= 3)
        @rule(tid=st.one_of(ids, index))
        def delete_thread(self, tid: str | int) -> None:
            self.step("delete_thread")
            if isinstance(tid, int):
                threads = self.model.threads()
                tid = pick(threads, tid) if threads else ""
            self.saver.delete_thread(tid)
            self.model.delete_thread(tid)

        @rule(src=st.one_of(ids, index), dst=st.one_of(ids, index))
        def copy_thread(self, src: str | int, dst: str | int) -> None:
            self.step("copy_thread")
            threads = self.model.threads() or [""]
            src = pick(threads, src) if isinstance(src, int) else src
            dst = pick(threads, dst) if isinstance(dst, int) else dst
            self.touched.add(dst)
            self.saver.copy_thread(src, dst)
            self.model.copy_thread(src, dst)

        @precondition(lambda self: len(self.model.locations()) >= 3)
        @rule(runs=st.lists(st.sampled_from(RUN_POOL), max_size=3))
        def delete_for_runs(self, runs: list[str]) -> None:
            self.step("delete_for_runs")
            self.saver.delete_for_runs(runs)
            self.model.delete_for_runs(runs)

        @precondition(lambda self: len(self.model.locations()) >= 3)
        @rule(
            picks=st.lists(st.one_of(ids, index), max_size=3),
            keep_last=st.one_of(st.none(), st.integers(1, 3), st.just("delete")),
        )
        def prune(self, picks: list[str | int], keep_last: int | str | None) -> None:
            self.step("prune")
            threads = self.model.threads() or [""]
            tids = [pick(threads, p) if isinstance(p, int) else p for p in picks]
            if keep_last == "delete":
                self.saver.prune(tids, strategy="delete")
                self.model.prune(tids, strategy="delete")
            else:
                assert not isinstance(keep_last, str)
                self.saver.prune(tids, strategy="keep_latest", keep_last=keep_last)
                self.model.prune(tids, strategy="keep_latest", keep_last=keep_last or 1)

        # ------------------------------------------------------------ reads

        @rule(
            how=st.sampled_from(["exact", "latest", "latest-no-ns", "unknown-id", "anywhere"]),
            i=index,
            tid=ids,
            ns=ids,
        )
        def get_tuple(self, how: str, i: int, tid: str, ns: str) -> None:
            self.step("get_tuple")
            locations = self.model.locations()
            if how == "exact" and locations:
                config = cfg(*pick(locations, i))
            elif how.startswith("latest") and locations:
                tid, ns, _ = pick(locations, i)
                config = cfg(tid, None if how == "latest-no-ns" and ns == "" else ns)
            elif how == "unknown-id" and locations:
                tid, ns, _ = pick(locations, i)
                config = cfg(tid, ns, str(uuid6(clock_seq=-1)))
            else:
                config = cfg(tid, ns)
            ours = plain(self.saver.get_tuple(config))
            stats["get_tuple_found"] = stats.get("get_tuple_found", 0) + (ours is not None)
            theirs = plain(self.model.get_tuple(config))
            assert ours == theirs, config

        @rule(
            scope=st.sampled_from(["none", "thread", "namespace", "exact", "exact-any-ns"]),
            i=index,
            tid=ids,
            flt=st.one_of(st.none(), filters),
            before=st.one_of(st.none(), index, st.just("fresh"), st.just("")),
            before_thread=st.booleans(),
            limit=st.one_of(st.none(), st.integers(0, 5)),
        )
        def list_checkpoints(
            self,
            scope: str,
            i: int,
            tid: str,
            flt: dict[str, Any] | None,
            before: int | str | None,
            before_thread: bool,
            limit: int | None,
        ) -> None:
            self.step("list")
            locations = self.model.locations()
            loc = pick(locations, i) if locations else (tid, "", str(uuid6(clock_seq=-1)))
            config: dict[str, Any] | None
            if scope == "none":
                config = None
            elif scope == "thread":
                config = {"configurable": {"thread_id": loc[0] if i % 4 else tid}}
            elif scope == "namespace":
                config = cfg(loc[0], loc[1])
            elif scope == "exact":
                config = cfg(*loc)
            else:
                config = {"configurable": {"thread_id": loc[0], "checkpoint_id": loc[2]}}
            before_cfg: dict[str, Any] | None = None
            if before is not None:
                if isinstance(before, int):
                    before_id = pick(locations, before)[2] if locations else ""
                else:
                    before_id = str(uuid6(clock_seq=-1)) if before == "fresh" else before
                before_conf: dict[str, Any] = {"checkpoint_id": before_id}
                if before_thread and config is not None:
                    before_conf["thread_id"] = config["configurable"]["thread_id"]
                before_cfg = {"configurable": before_conf}
            kw: dict[str, Any] = {"filter": flt, "before": before_cfg}
            ours = [plain(t) for t in self.saver.list(config, limit=limit, **kw)]
            stats["list_nonempty"] = stats.get("list_nonempty", 0) + bool(ours)
            theirs = expected_list(self.model, config, limit, **kw)
            assert ours == theirs, (config, kw, limit)

        # ------------------------------------------------------------ invariants

        @invariant()
        def same_state(self) -> None:
            ours = [plain(t) for t in self.saver.list(None)]
            assert ours == expected_list(self.model, None, None)
            stats["max_checkpoints"] = max(stats.get("max_checkpoints", 0), len(ours))

        @invariant()
        def indexes_and_counts_match(self) -> None:
            redis = self.saver._redis
            locations = self.model.locations()
            buckets = self.saver._pk.buckets
            run_names = sorted({r.replace("\x00", "") for r in RUN_POOL})
            runs: dict[str, set[bytes]] = {}
            referenced: dict[str, set[tuple[str, str, str]]] = {}
            for tid, ns, cid in locations:
                tup = self.model.get_tuple(cfg(tid, ns, cid))
                assert tup is not None
                run = tup.metadata.get("run_id")
                if run is not None:
                    runs.setdefault(run, set()).add(key_part(tid))
                refs = referenced.setdefault(tid, set())
                refs.update((ns, ch, v) for ch, v in tup.checkpoint["channel_versions"].items())
            # where each run's threads are: their buckets' run sets, and no other run set
            expected: dict[tuple[int, str], set[bytes]] = {}
            for run, tags in runs.items():
                for tag in tags:
                    expected.setdefault((self.saver._pk.bucket_of(tag).number, run), set()).add(tag)
            # every bucket's index size, number of run sets, and the expected sets: one round trip
            commands = [Command(("ZCARD", b.index), b.index) for b in buckets]
            commands += [
                Command(("EXISTS", *(b.run(escape(r)) for r in run_names)), b.index)
                for b in buckets
            ]
            wanted = sorted(expected)
            commands += [
                Command(("SMEMBERS", buckets[b].run(escape(r))), buckets[b].index)
                for b, r in wanted
            ]
            replies = self.saver._runner.batch(commands).replies
            n = len(buckets)
            assert sum(replies[:n]) == len(locations)
            per_bucket = [sum(1 for b, _ in wanted if b == i) for i in range(n)]
            assert replies[n : 2 * n] == per_bucket
            for key, members in zip(wanted, replies[2 * n :], strict=True):
                assert set(members) == expected[key], key
            for tid in self.touched:
                keys = self.saver._thread(tid).all
                writes = sum(len(w) for k, w in self.model.writes.items() if k[0] == tid)
                assert redis.hlen(keys[7]) == writes, tid
                assert redis.hlen(keys[4]) == len(referenced.get(tid, ())), tid
                if self.saver.ttl:  # every key a thread holds expires (none is left behind)
                    assert all(redis.pttl(k) != -1 for k in keys), tid

    return SaverMachine


def test_redis_saver_behaves_like_in_memory_saver(
    redis_url: str, saver_kwargs: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    stats = {"examples": 0, "steps": 0}
    machine = make_machine(redis_url, saver_kwargs, stats)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=MAX_EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    with capsys.disabled():
        ops = ", ".join(
            f"{k}={v}" for k, v in sorted(stats.items()) if k not in ("examples", "steps")
        )
        print(f"\nmodel test: {stats['examples']} examples, {stats['steps']} steps ({ops})")
    assert stats["steps"] > 0


def test_sliced_saver_behaves_like_in_memory_saver(
    redis_url: str, saver_kwargs: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """The same with every maintenance script sliced as small as it goes (#13): copies page by
    page, the delta walk and filtered lists a couple of entries per call."""
    stats = {"examples": 0, "steps": 0}
    tiny = ScriptBudget(entries=1, copy=1, copy_bytes=1, walk=1, list_scan=1)
    machine = make_machine(redis_url, {**saver_kwargs, "script_budget": tiny}, stats)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=max(10, MAX_EXAMPLES // 4),
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    with capsys.disabled():
        print(f"\nsliced model test: {stats['examples']} examples, {stats['steps']} steps")
    assert stats["steps"] > 0
