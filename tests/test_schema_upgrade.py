"""Schema 1 -> 2: data written by the released schema-1 code reads the same after ``setup()``.

``schema_v1.V1Writer`` lays the data down with version 1's own Lua and key names (long ids
under their full escaped form, one-slot shared indexes, TTL bookkeeping); every thread is also
written to an ``InMemorySaver``, the reference for what the migrated saver must return.  Runs
on every topology (on a cluster version 1 updated its shared slot with a second script).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.memory import InMemorySaver

from aredis_ckpt import RedisSaver, SchemaVersionError
from aredis_ckpt._keys import escape, key_part
from aredis_ckpt._sync.upgrade import _migrate
from aredis_ckpt._upgrade import plan_slice, plan_tags
from schema_v1 import V1Writer

LONG_THREAD = "L" * 300  # escaped longer than LONG_PART: version 2 keys it by digest
LONG_NS = "node:" + "x" * 300  # likewise for the namespace


def cfg(thread_id: str, ns: str = "", cid: str | None = None) -> dict[str, Any]:
    conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns}
    if cid:
        conf["checkpoint_id"] = cid
    return {"configurable": conf}


def chain(writers: list[Any], thread_id: str, n: int, ns: str = "", run: str | None = None) -> None:
    """n checkpoints with pending writes, each a child of the previous, on every writer."""
    parent: str | None = None
    for i in range(n):
        cp = empty_checkpoint()
        cp["id"] = str(uuid6(clock_seq=-1))
        cp["channel_values"] = {"count": i, "const": "same"}
        cp["channel_versions"] = {"count": i + 1, "const": 1}
        new_versions = {"count": i + 1, "const": 1} if i == 0 else {"count": i + 1}
        md: dict[str, Any] = {"source": "loop", "step": i, "parents": {}}
        if run is not None:
            md["run_id"] = run
        for w in writers:
            stored = w.put(cfg(thread_id, ns, parent), cp, md, new_versions)
            w.put_writes(stored, [("w", f"{thread_id[:8]}-{i}")], "task")
        parent = cp["id"]


def plain(t: Any) -> Any:
    if t is None:
        return None
    return (t.config, t.checkpoint["channel_values"], t.parent_config, list(t.pending_writes))


def check_same(saver: RedisSaver, model: InMemorySaver, threads: list[tuple[str, str]]) -> None:
    for tid, ns in threads:
        assert plain(saver.get_tuple(cfg(tid, ns))) == plain(model.get_tuple(cfg(tid, ns)))
        ours = [plain(t) for t in saver.list(cfg(tid, ns))]
        assert ours == [plain(t) for t in model.list(cfg(tid, ns))]
        assert ours
    everywhere = [t.checkpoint["id"] for t in saver.list(None)]
    expected = sorted((t.checkpoint["id"] for t in model.list(None)), reverse=True)
    assert everywhere == expected


def legacy_keys(saver: RedisSaver, runs: list[str]) -> int:
    base = saver._pk.legacy_base
    names = [base + b"ix", base + b"exp", *(base + b"run:" + r.encode() for r in runs)]
    return sum(int(saver._redis.exists(n)) for n in names)


def test_schema_1_data_migrates_on_setup(
    redis_url: str, key_prefix: str, saver_kwargs: dict[str, Any]
) -> None:
    cluster = bool(saver_kwargs.get("cluster"))
    with RedisSaver.from_conn_string(redis_url, key_prefix=key_prefix, **saver_kwargs) as saver:
        v1 = V1Writer(saver._redis, key_prefix, cluster=cluster)
        v1_ttl = V1Writer(saver._redis, key_prefix, cluster=cluster, ttl_ms=60_000)
        v1_short = V1Writer(saver._redis, key_prefix, cluster=cluster, ttl_ms=300)
        model = InMemorySaver()
        chain([v1, model], "plain", 3, run="r1")
        chain([v1, model], "plain", 2, ns="sub:1", run="r1")
        chain([v1, model], LONG_THREAD, 2, run="r2")
        chain([v1, model], "deep", 2, ns=LONG_NS, run="r2")
        chain([v1_ttl, model], "ttl-live", 2, run="r3")
        chain([v1_short], "ttl-gone", 2, run="r3")
        time.sleep(0.5)  # ttl-gone expires; version 1's index still names it
        threads = [("plain", ""), ("plain", "sub:1"), (LONG_THREAD, ""), ("deep", LONG_NS)]
        threads.append(("ttl-live", ""))

        # a version-2 saver refuses version-1 data until setup() migrated it
        with pytest.raises(SchemaVersionError, match=r"call setup\(\)"):
            saver.get_tuple(cfg("plain"))
        saver.setup()
        assert saver._redis.get(saver._pk.schema) == b"2"
        assert legacy_keys(saver, ["r1", "r2", "r3"]) == 0
        check_same(saver, model, threads)
        # long ids are keyed by digest now; their version-1 keys are gone
        assert not saver._redis.exists(*v1.thread_keys(LONG_THREAD))
        assert saver._redis.exists(*saver._thread(LONG_THREAD).all) >= 8
        assert all(len(k) < 120 for k in saver._thread(LONG_THREAD).all)
        deep = saver._thread("deep").all
        assert saver._redis.hkeys(deep[1]) == [key_part(LONG_NS)]
        # the TTL bookkeeping moved to the thread's bucket; the keys keep their expiry
        live = saver._thread("ttl-live")
        assert saver._redis.zscore(saver._bucket(live).exp, live.tag) is not None
        assert 0 < saver._redis.pttl(live.all[0]) <= 60_000
        setup_again_changes_nothing(saver, model, threads)

        # run indexes work across the migrated threads
        saver.delete_for_runs(["r2"])
        for tid in (LONG_THREAD, "deep"):
            model.delete_thread(tid)
        check_same(saver, model, [t for t in threads if t[0] not in (LONG_THREAD, "deep")])

        # a version-1 process still writing after the migration: the next setup() moves it
        chain([v1, model], "late", 2, run="r4")
        assert "late" not in {t.config["configurable"]["thread_id"] for t in saver.list(None)}
        saver.setup()
        check_same(saver, model, [("late", ""), ("plain", "")])
        assert legacy_keys(saver, ["r4"]) == 0


def setup_again_changes_nothing(saver: RedisSaver, model: InMemorySaver, threads: Any) -> None:
    saver.setup()
    check_same(saver, model, threads)


def test_an_interrupted_migration_completes(
    redis_url: str, key_prefix: str, saver_kwargs: dict[str, Any]
) -> None:
    cluster = bool(saver_kwargs.get("cluster"))
    with RedisSaver.from_conn_string(redis_url, key_prefix=key_prefix, **saver_kwargs) as saver:
        v1 = V1Writer(saver._redis, key_prefix, cluster=cluster)
        model = InMemorySaver()
        names = ["a", "b", LONG_THREAD, "c"]
        for tid in names:
            chain([v1, model], tid, 2, run="r")
        chain([v1, model], "c", 1, ns=LONG_NS)
        # a first process migrated some threads' entries and stopped
        members = saver._redis.zrange(saver._pk.legacy_index, 0, 2)
        _migrate(saver, plan_slice(members))
        # found through the TTL records: its long namespace is learnt from the thread itself
        _migrate(saver, plan_tags([escape("c")]))
        assert saver._redis.zcard(saver._pk.legacy_index) > 0
        saver.setup()
        check_same(saver, model, [(t, "") for t in names] + [("c", LONG_NS)])
        assert legacy_keys(saver, ["r"]) == 0
