"""Damage is named on an evicting server (docs/reliability.md, "Damage is named").

Private servers (of this run's topology) with ``maxmemory-policy allkeys-random`` hold many
small threads; filler writes then make Redis evict a random tenth or so of the keys.  Every
read of every thread then either returns the thread's full, correct state or raises
``DamagedThreadError``: never a raw Lua error, never a checkpoint with channel values or
pending writes missing, never None for a thread that still has keys.  ``list(None)`` raises;
with ``skip_damaged=True`` it lists exactly the intact threads and warns about each damaged
one; ``check_threads`` reports exactly the damaged threads.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.checkpoint.base import CheckpointTuple
from tests._sync.test_damage import Built, _named, build
from tests._sync.test_saver import cfg

from aredis_ckpt import CorruptedDataError, DamagedThreadError, RedisSaver
from aredis_ckpt._server import ClusterServers, RedisServer, SentinelServers

TOPOLOGY = os.environ.get("AREDIS_TEST_TOPOLOGY", "standalone")
THREADS = 150
# the keys a thread of `build` holds (no run ids: no r)
KEYS = ("t", "n", "c", "m", "v", "i", "j", "w", "wx")
# Groups of keys whose loss together leaves no trace inside the thread (docs/reliability.md):
# every pending write, or every checkpoint record.  Reads then see a thread without them.
WRITES = {"w", "wx"}
CHECKPOINTS = {"c", "m", "i", "j", "v"}
PREFIX = "evict"


@pytest.fixture
def evicting() -> Iterator[tuple[str, dict[str, Any], list[RedisServer]]]:
    """Fresh servers of this run's topology: (URL, saver options, the masters)."""
    binary = os.environ.get("AREDIS_REDIS_SERVER") or None
    if TOPOLOGY == "cluster":
        cluster = ClusterServers(binary, masters=3, replicas=0).start()
        try:
            yield cluster.url, {"cluster": True}, list(cluster.nodes)
        finally:
            cluster.stop()
    elif TOPOLOGY == "sentinel":
        servers = SentinelServers(binary).start()
        try:
            assert servers.master is not None
            yield servers.url, {}, [servers.master]
        finally:
            servers.stop()
    else:
        with RedisServer(binary) as server:
            yield server.url, {}, [server]


def _expected(b: Built, writes_lost: bool) -> dict[str, tuple[dict[str, Any], int]]:
    """checkpoint id -> (channel values, pending writes) of a thread built by `build`."""
    out = {
        b.cid(i): ({"count": i, "const": "same"}, 2 if i == 2 and not writes_lost else 0)
        for i in range(3)
    }
    out[b.sub["configurable"]["checkpoint_id"]] = ({"inner": 1}, 0)
    return out


def _whole(tup: CheckpointTuple, expected: dict[str, tuple[dict[str, Any], int]]) -> str:
    cid = tup.config["configurable"]["checkpoint_id"]
    values, writes = expected[cid]
    assert tup.checkpoint["channel_values"] == values, (cid, tup.checkpoint["channel_values"])
    assert len(tup.pending_writes or []) == writes, cid
    return str(cid)


def _missing_keys(saver: RedisSaver, tid: str) -> set[str]:
    keys = saver._thread(tid).all
    return {name for i, name in enumerate(KEYS) if not saver._redis.exists(keys[i])}


def _evict(saver: RedisSaver, masters: list[RedisServer], built: dict[str, Built]) -> int:
    """Evict until a tenth of the threads' keys are gone; the number of keys evicted."""
    for master in masters:
        used = int(master.info("memory")["used_memory"])
        master.command("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
        master.command("CONFIG", "SET", "maxmemory", str(used))
    total = len(built) * len(KEYS)
    filler = 0
    for _ in range(400):
        pipe = saver._redis.pipeline(transaction=False)
        for _ in range(10):
            pipe.set(f"filler:{filler}", b"x" * 1024)
            filler += 1
        pipe.execute()
        gone = sum(len(_missing_keys(saver, tid)) for tid in built)
        if gone >= total // 10:
            break
    for master in masters:  # no more evictions while the test reads
        master.command("CONFIG", "SET", "maxmemory", "0")
    evicted = sum(int(m.info("stats")["evicted_keys"]) for m in masters)
    assert evicted > 0
    return evicted


def test_evicted_threads_are_named_never_silent(
    evicting: tuple[str, dict[str, Any], list[RedisServer]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, options, masters = evicting
    with RedisSaver.from_conn_string(url, key_prefix=PREFIX, **options) as saver:
        saver.setup()
        built = {f"thread-{n}": build(saver, f"thread-{n}") for n in range(THREADS)}
        _evict(saver, masters, built)

        missing = {tid: _missing_keys(saver, tid) for tid in built}
        bucket_alive = {
            tid: bool(saver._redis.exists(saver._bucket(saver._thread(tid)).index)) for tid in built
        }
        writes_lost = {tid for tid, gone in missing.items() if gone >= WRITES}
        checkpoints_lost = {tid for tid, gone in missing.items() if gone >= CHECKPOINTS}
        # what reads can tell: the keys lost beside the groups that leave no trace
        effective = {
            tid: gone - (WRITES if tid in writes_lost else set())
            - (CHECKPOINTS if tid in checkpoints_lost else set())
            for tid, gone in missing.items()
        }  # fmt: skip
        vanished = {tid for tid, gone in missing.items() if len(gone) == len(KEYS)}
        # Every checkpoint record gone still leaves the namespaces' records in `n`: a namespace
        # with neither checkpoints nor pending writes left is named as damage ('X').  build's
        # subgraph namespace never has pending writes, so such a thread is damaged there.
        whole = {tid for tid, gone in effective.items() if not gone} - vanished - checkpoints_lost
        partial = set(built) - whole - vanished
        assert partial, "the eviction left no partly evicted thread"
        assert whole, "the eviction left no whole thread"

        for tid, b in built.items():
            expected = _expected(b, tid in writes_lost)
            empty = tid in checkpoints_lost  # (or vanished): reads as a thread without any
            raised = 0
            for config in (cfg(tid), b.configs[1], b.sub):
                try:
                    got = saver.get_tuple(config)
                except DamagedThreadError as exc:
                    _named(exc, tid)
                    raised += 1
                    continue
                if empty:
                    assert got is None
                    continue
                assert got is not None, (tid, missing[tid])
                _whole(got, expected)
            for listed, count in ((cfg(tid), 3), ({"configurable": {"thread_id": tid}}, 4)):
                try:
                    items = list(saver.list(listed))
                except DamagedThreadError as exc:
                    _named(exc, tid)
                    raised += 1
                    continue
                if empty:
                    assert items == []
                    continue
                assert len({_whole(t, expected) for t in items}) == count, (tid, missing[tid])
            try:
                history = saver.get_delta_channel_history(
                    config=cfg(tid), channels=["count", "const"]
                )
                if not empty:
                    assert history["const"].get("seed") == "same"
                    assert history["count"].get("seed") == 1
            except DamagedThreadError as exc:
                _named(exc, tid)
                raised += 1
            if tid in whole:
                assert raised == 0, tid
            elif tid in partial:
                # listing the thread reads every one of its records
                assert raised > 0, (tid, missing[tid])

        # the index across threads: a damaged thread it still names makes list(None) raise
        reachable = {tid for tid in partial if bucket_alive[tid]}
        assert reachable, "no partly evicted thread is named by a surviving bucket"
        with pytest.raises(CorruptedDataError):
            list(saver.list(None))

        reported = {d.thread_id for d in saver.check_threads()}
        assert reported == (
            partial
            | {tid for tid in vanished if bucket_alive[tid]}
            # the index across threads lacks the entries of a whole thread
            | {tid for tid in whole if not bucket_alive[tid]}
        )

    with RedisSaver.from_conn_string(
        url, key_prefix=PREFIX, skip_damaged=True, **options
    ) as skipping:
        with caplog.at_level(logging.WARNING, logger="aredis_ckpt"):
            listed: dict[str, set[str]] = {}
            for tup in skipping.list(None):
                tid = tup.config["configurable"]["thread_id"]
                expected = _expected(built[tid], tid in writes_lost)
                listed.setdefault(tid, set()).add(_whole(tup, expected))
        intact = {tid for tid in whole if bucket_alive[tid]}
        assert set(listed) == intact, {t: missing[t] for t in set(listed) ^ intact}
        assert all(len(cids) == 4 for cids in listed.values())
        warned = {
            match.group(1)
            for r in caplog.records
            if (match := re.match(r"list skips a damaged thread: thread ('[^']*')", r.getMessage()))
        }
        assert warned == {repr(tid) for tid in reachable}
