"""Server time of every call on one big thread (2k / 20k / 100k checkpoints) and a big store.

    python bench/big_threads.py                          # 2k, 20k and 100k checkpoints
    python bench/big_threads.py --sizes 2000,20000 --json docs/bench/big_threads.json

Measures the ``aredis_ckpt`` it imports (``PYTHONPATH=src``, or an exported older tree).

Issue #13 ("bounded server time"): Redis serves nobody else while one script runs, so the
figure that matters for the other clients of a server is the longest single command a call
causes, not only the call's wall time.  For each thread size this starts a private
``redis-server`` (loopback, free port, no persistence), builds one thread of that many
checkpoints with the saver's own batched writes (``_write_batch``: the exact scripts ``put`` and
``put_writes`` run), snapshots the prefix's keys with DUMP, and measures each operation on the
sync API: the wall time of the whole call, and from SLOWLOG (``slowlog-log-slower-than 0``,
reset before each operation) the longest server command it caused, their total and their
number.  Destructive operations (delete_thread, copy_thread, prune, delete_for_runs) each start
from the snapshot, restored with RESTORE.

The store part fills one namespace with N items (N = the thread size) and N/10 one-item
namespaces, then measures ``search`` (a plain page, a filter matching nothing, a query ranked by
an exact scan without vector sets), ``list_namespaces`` (a suffix matching nothing) and the TTL
sweep of the N/10 items once expired (their expiry entries are rewritten to the past: nobody
waits minutes).  The put TTL sweep part writes a thread of N checkpoints with a TTL, lets its
keys expire, and measures the worst ``put`` of another thread of the same bucket while the
bookkeeping of the expired one is removed.

Works on any version of the saver with the same public API (the "before" and "after" of #13):
``script_budget=`` is passed only where the saver accepts it.  Nothing is asserted.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import redis
from langgraph.checkpoint.base.id import uuid6
from langgraph.store.base import PutOp as StorePutOp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _infra import source_state, start_redis  # noqa: E402

import aredis_ckpt  # noqa: E402
from aredis_ckpt import RedisSaver, RedisStore  # noqa: E402
from aredis_ckpt._base import PutOp, WritesOp  # noqa: E402
from aredis_ckpt._store_base import StoreKeys  # noqa: E402

PREFIX = "big"
STORE_PREFIX = "bigstore"
THREAD = "big-thread"
RUN_BIG = "run-big"
RUN_TAIL = "run-tail"
# The share of the thread's checkpoints carrying RUN_BIG (delete_for_runs removes them).
RUN_SHARE = 0.7
BATCH = 500
MAX_PUTS = 2000
DIMS = 8
SKIP = {b"SLOWLOG", b"CONFIG", b"DUMP", b"RESTORE", b"SCAN", b"FLUSHALL", b"INFO", b"PING"}


def checkpoint(cid: str, step: int, early: bool) -> dict[str, Any]:
    versions = {"messages": f"{step:032d}"}
    if early:
        versions["early"] = f"{step:032d}"
    return {
        "v": 4,
        "id": cid,
        "ts": "2026-11-29T00:00:00+00:00",
        "channel_values": {},
        "channel_versions": versions,
        "versions_seen": {"agent": {"messages": versions["messages"]}},
        "updated_channels": list(versions),
    }


def build_thread(saver: RedisSaver, thread: str, n: int) -> list[str]:
    """n checkpoints, one new channel value each, a pending write on every fourth; the first
    also writes the channel ``early`` (never written again: the delta walk goes to the root)."""
    cids: list[str] = []
    parent: str | None = None
    ops: list[PutOp | WritesOp] = []
    for step in range(n):
        cid = str(uuid6(clock_seq=step))
        conf: dict[str, Any] = {"thread_id": thread, "checkpoint_ns": ""}
        if parent is not None:
            conf["checkpoint_id"] = parent
        cp = checkpoint(cid, step, early=step == 0)
        values = {"messages": [f"message {step} " + "x" * 200]}
        if step == 0:
            values["early"] = ["seed"]
        cp["channel_values"] = values
        meta = {"source": "loop", "step": step, "run_id": RUN_BIG if step < n * RUN_SHARE
                else RUN_TAIL}  # fmt: skip
        ops.append(PutOp({"configurable": conf}, cp, meta, dict(cp["channel_versions"])))  # type: ignore[arg-type]
        if step % 4 == 0:
            wconf = {"configurable": {"thread_id": thread, "checkpoint_ns": "",
                                      "checkpoint_id": cid}}  # fmt: skip
            ops.append(WritesOp(wconf, [("messages", f"write {step}")], f"task-{step}"))  # type: ignore[arg-type]
        cids.append(cid)
        parent = cid
        if len(ops) >= BATCH:
            saver._write_batch(ops)
            ops = []
    if ops:
        saver._write_batch(ops)
    return cids


class Probe:
    """SLOWLOG of every command, reset before each operation."""

    def __init__(self, client: redis.Redis) -> None:
        self.r = client
        self.r.config_set("slowlog-log-slower-than", 0)
        self.r.config_set("slowlog-max-len", 10_000_000)

    def reset(self) -> None:
        self.r.slowlog_reset()

    def read(self) -> dict[str, Any]:
        entries = self.r.execute_command("SLOWLOG", "GET", -1)
        durations = []
        worst = ""
        top = -1
        for e in entries:
            args = e[3]
            name = bytes(args[0]).upper() if args else b""
            # commands a script runs are logged too (Redis 7: client "?:0"): inside its time
            if name in SKIP or (len(e) > 4 and bytes(e[4]).startswith(b"?")):
                continue
            durations.append(int(e[2]))
            if int(e[2]) > top:
                top = int(e[2])
                worst = name.decode(errors="replace")
        self.reset()
        return {
            "max_ms": round(max(durations, default=0) / 1000, 3),
            "total_ms": round(sum(durations) / 1000, 3),
            "commands": len(durations),
            "worst": worst,
        }


class Snapshot:
    """DUMP of every key of a prefix, restored exactly (keys created since are deleted)."""

    def __init__(self, client: redis.Redis, prefixes: Sequence[str]) -> None:
        self.r = client
        self.prefixes = prefixes
        self.saved: dict[bytes, tuple[bytes, int]] = {}
        for key in self._keys():
            pttl = int(self.r.pttl(key))
            self.saved[key] = (self.r.dump(key), max(pttl, 0))  # type: ignore[arg-type]

    def _keys(self) -> list[bytes]:
        keys: list[bytes] = []
        for p in self.prefixes:
            keys.extend(self.r.scan_iter(match=p + ":*", count=1000))  # type: ignore[arg-type]
        return keys

    def restore(self) -> None:
        stale = self._keys()
        for i in range(0, len(stale), 500):
            self.r.unlink(*stale[i : i + 500])
        pipe = self.r.pipeline(transaction=False)
        for key, (blob, pttl) in self.saved.items():
            pipe.restore(key, pttl, blob, replace=True)
        pipe.execute()


def measure(probe: Probe, fn: Callable[[], Any]) -> dict[str, Any]:
    probe.reset()
    start = time.perf_counter()
    fn()
    wall = (time.perf_counter() - start) * 1000
    out = probe.read()
    out["wall_ms"] = round(wall, 2)
    return out


Case = tuple[str, bool, Callable[[], Any]]  # name, whether it changes the data, the call


def run_cases(
    probe: Probe, snap: Snapshot, cases: Sequence[Case], log: Callable[[str], None]
) -> dict[str, Any]:
    """Each case measured in turn; the data restored after each one that changes it."""
    rows: dict[str, Any] = {}
    for name, destructive, fn in cases:
        rows[name] = measure(probe, fn)
        log(f"  {name}: {rows[name]}")
        if destructive:
            snap.restore()
    return rows


def exhaust(it: Any) -> int:
    return sum(1 for _ in it)


def thread_ops(saver: RedisSaver, cids: list[str]) -> list[Case]:
    conf = {"configurable": {"thread_id": THREAD, "checkpoint_ns": ""}}
    old = {"configurable": {"thread_id": THREAD, "checkpoint_ns": "", "checkpoint_id": cids[1]}}
    latest = {"configurable": {"thread_id": THREAD, "checkpoint_ns": "", "checkpoint_id": cids[-1]}}
    n = len(cids)

    def put() -> None:
        cid = str(uuid6(clock_seq=n + 1))
        cp = checkpoint(cid, n, early=False)
        cp["channel_values"] = {"messages": ["one more"]}
        saver.put(latest, cp, {"source": "loop", "step": n}, dict(cp["channel_versions"]))  # type: ignore[arg-type]

    return [
        ("get_tuple (latest)", False, lambda: saver.get_tuple(conf)),  # type: ignore[arg-type]
        ("get_tuple (old id)", False, lambda: saver.get_tuple(old)),  # type: ignore[arg-type]
        ("put", True, put),
        ("list first page (limit 10)", False, lambda: exhaust(saver.list(conf, limit=10))),  # type: ignore[arg-type]
        (
            "list, filter matching nothing (whole thread)",
            False,
            lambda: exhaust(saver.list(conf, filter={"source": "nowhere"})),  # type: ignore[arg-type]
        ),
        (
            "list(None), filter matching nothing",
            False,
            lambda: exhaust(saver.list(None, filter={"source": "nowhere"})),
        ),
        (
            "get_delta_channel_history (no seed until the root)",
            False,
            lambda: saver.get_delta_channel_history(config=latest, channels=["early"]),  # type: ignore[arg-type]
        ),
        ("delete_thread", True, lambda: saver.delete_thread(THREAD)),
        ("copy_thread", True, lambda: saver.copy_thread(THREAD, THREAD + "-copy")),
        ("prune(keep_last=1)", True, lambda: saver.prune([THREAD], keep_last=1)),
        (
            f"delete_for_runs ({int(RUN_SHARE * 100)}% of the thread)",
            True,
            lambda: saver.delete_for_runs([RUN_BIG]),
        ),
    ]


def bench_thread(n: int, log: Callable[[str], None]) -> dict[str, Any]:
    server = start_redis()
    try:
        client = redis.Redis(host=server.host, port=server.port)
        with RedisSaver(f"redis://{server.host}:{server.port}", key_prefix=PREFIX) as saver:
            saver.setup()
            t0 = time.perf_counter()
            cids = build_thread(saver, THREAD, n)
            build_s = time.perf_counter() - t0
            log(f"  built {n} checkpoints in {build_s:.1f} s")
            snap = Snapshot(client, [PREFIX])
            probe = Probe(client)
            rows = run_cases(probe, snap, thread_ops(saver, cids), log)
        return {"build_s": round(build_s, 1), "ops": rows}
    finally:
        server.stop()


def fake_embed(texts: Sequence[str]) -> list[list[float]]:
    out = []
    for text in texts:
        h = abs(hash(text))
        out.append([((h >> (4 * i)) % 16) - 7.5 for i in range(DIMS)])
    return out


def bench_store(n: int, log: Callable[[str], None]) -> dict[str, Any]:
    server = start_redis()
    try:
        client = redis.Redis(host=server.host, port=server.port)
        url = f"redis://{server.host}:{server.port}"
        index = {"dims": DIMS, "embed": fake_embed, "fields": ["text"]}
        with RedisStore(url, key_prefix=STORE_PREFIX, index=index,  # type: ignore[arg-type]
                        ttl={"default_ttl": None}) as store:  # type: ignore[typeddict-item]  # fmt: skip
            store.setup()
            t0 = time.perf_counter()
            ops: list[StorePutOp] = []
            for i in range(n):
                ops.append(StorePutOp(("big",), f"k{i}", {"text": f"item {i}", "n": i}))
                if i % 10 == 0:
                    ops.append(StorePutOp(("many", f"ns{i}"), "only", {"text": f"t {i}"},
                                          ttl=60.0))  # fmt: skip
                if len(ops) >= BATCH:
                    store.batch(ops)
                    ops = []
            if ops:
                store.batch(ops)
            build_s = time.perf_counter() - t0
            log(f"  store: {n} items + {n // 10} namespaces in {build_s:.1f} s")
            snap = Snapshot(client, [STORE_PREFIX])
            probe = Probe(client)

            def expire_all() -> None:
                exp = StoreKeys(STORE_PREFIX.encode()).base + b"exp"
                client.eval(
                    "local m = redis.call('ZRANGE', KEYS[1], 0, -1) "
                    "for i = 1, #m, 1000 do local a = {} "
                    "for j = i, math.min(i + 999, #m) do a[#a + 1] = 1; a[#a + 1] = m[j] end "
                    "redis.call('ZADD', KEYS[1], unpack(a)) end return #m",
                    1,
                    exp,
                )

            cases: list[tuple[str, bool, Callable[[], Any]]] = [
                ("store search, plain page", False, lambda: store.search(("big",), limit=10)),
                (
                    "store search, filter matching nothing",
                    False,
                    lambda: store.search(("big",), filter={"n": -1}, limit=10),
                ),
                (
                    "store search, query (exact scan)",
                    False,
                    lambda: store.search(("big",), query="item 7", limit=10),
                ),
                (
                    "store list_namespaces, suffix matching nothing",
                    False,
                    lambda: store.list_namespaces(suffix=("nowhere",), limit=10),
                ),
                ("store list_namespaces (10% expired)", True,
                 lambda: (expire_all(), probe.reset(), store.list_namespaces(limit=10))),
                ("store sweep_ttl (10% expired)", True,
                 lambda: (expire_all(), probe.reset(), store.sweep_ttl())),
            ]  # fmt: skip
            rows = run_cases(probe, snap, cases, log)
        return {"build_s": round(build_s, 1), "ops": rows}
    finally:
        server.stop()


def bench_ttl_sweep(n: int, log: Callable[[str], None]) -> dict[str, Any]:
    """The worst put of a live thread while an expired n-checkpoint thread of its bucket is
    removed from the bucket (put sweeps due threads of its own bucket): puts until it is gone
    (at least 50, at most MAX_PUTS)."""
    server = start_redis()
    try:
        client = redis.Redis(host=server.host, port=server.port)
        url = f"redis://{server.host}:{server.port}"
        # ttl in minutes; the expired thread's keys are made to expire by PEXPIRE below
        with RedisSaver(url, key_prefix=PREFIX, ttl={"default_ttl": 60}) as saver:
            saver.setup()
            t0 = time.perf_counter()
            build_thread(saver, THREAD, n)
            log(f"  ttl: built {n} checkpoints in {time.perf_counter() - t0:.1f} s")
            # a live thread in the same bucket as THREAD
            tk = saver._thread(THREAD)
            bucket = saver._bucket(tk)
            live = next(
                f"live-{i}" for i in range(100_000)
                if saver._bucket(saver._thread(f"live-{i}")).index == bucket.index
            )  # fmt: skip
            for key in tk.all:
                client.pexpire(key, 1)
            exp = bucket.index[:-2] + b"exp"
            client.zadd(exp, {tk.tag: 1})
            time.sleep(0.05)
            probe = Probe(client)
            probe.reset()
            worst: list[float] = []
            clean_after: int | None = None
            gm = bucket.index[:-2] + b"gm:" + tk.tag
            parent: str | None = None
            step = 0
            # puts of the live thread until the expired one is forgotten (at most MAX_PUTS)
            while step < MAX_PUTS and (clean_after is None or step < 50):
                cid = str(uuid6(clock_seq=step))
                conf: dict[str, Any] = {"thread_id": live, "checkpoint_ns": ""}
                if parent:
                    conf["checkpoint_id"] = parent
                cp = checkpoint(cid, step, early=False)
                cp["channel_values"] = {"messages": [f"m {step}"]}
                saver.put({"configurable": conf}, cp, {"step": step}, dict(cp["channel_versions"]))  # type: ignore[arg-type]
                worst.append(probe.read()["max_ms"])
                if clean_after is None and not client.exists(gm):
                    clean_after = step + 1
                parent = cid
                step += 1
            left = int(client.zcard(bucket.index)) - step
        return {
            "worst_put_ms": max(worst),
            "first_put_ms": worst[0],
            "puts_until_clean": clean_after,
            "puts": step,
            "bucket_entries_left": left,
        }
    finally:
        server.stop()


def bench_put_cost(n: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Server time of put (INFO commandstats, usec per EVALSHA) over n puts, with and without a
    TTL: 20 threads of n / 20 checkpoints, as the issue's probe (nothing due: the sweep's cost on
    every put is the lookup of due threads)."""
    out: dict[str, Any] = {}
    for label, ttl in (("no ttl", None), ("ttl", {"default_ttl": 60})):
        server = start_redis()
        try:
            client = redis.Redis(host=server.host, port=server.port)
            url = f"redis://{server.host}:{server.port}"
            with RedisSaver(url, key_prefix=PREFIX, ttl=ttl) as saver:  # type: ignore[arg-type]
                saver.setup()
                parents: dict[str, str | None] = {}
                client.config_resetstat()
                for step in range(n):
                    thread = f"t{step % 20}"
                    cid = str(uuid6(clock_seq=step))
                    conf: dict[str, Any] = {"thread_id": thread, "checkpoint_ns": ""}
                    if parents.get(thread):
                        conf["checkpoint_id"] = parents[thread]
                    cp = checkpoint(cid, step, early=False)
                    cp["channel_values"] = {"messages": [f"m {step}"]}
                    saver.put(
                        {"configurable": conf},  # type: ignore[arg-type]
                        cp,  # type: ignore[arg-type]
                        {"step": step, "run_id": "r"},  # type: ignore[typeddict-unknown-key]
                        dict(cp["channel_versions"]),
                    )
                    parents[thread] = cid
                stats = client.info("commandstats")["cmdstat_evalsha"]
                out[label] = {"calls": stats["calls"], "usec_per_call": stats["usec_per_call"]}
                log(f"  put x{n} ({label}): {out[label]}")
        finally:
            server.stop()
    return out


def render(results: dict[str, Any]) -> str:
    sizes = list(results["threads"])
    names: list[str] = []
    for part in ("threads", "store"):
        for size in sizes:
            for name in results[part][size]["ops"]:
                if name not in names:
                    names.append(name)
    lines = [
        "Per call: wall ms / longest single server command ms (number of commands).",
        "",
        "| call | " + " | ".join(f"{int(s):,}" for s in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for name in names:
        cells = []
        for size in sizes:
            row = results["threads"][size]["ops"].get(name) or results["store"][size]["ops"].get(
                name
            )
            cells.append(
                f"{row['wall_ms']:,.1f} / **{row['max_ms']:,.2f}** ({row['commands']})"
                if row
                else "—"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if results.get("put_cost"):
        lines.append("")
        for label, row in results["put_cost"].items():
            lines.append(f"put server time ({label}): {row['usec_per_call']} us per call "
                         f"over {row['calls']} puts")  # fmt: skip
    if results.get("ttl"):
        lines.append("")
        for size, row in results["ttl"].items():
            lines.append(
                f"TTL sweep, expired thread of {int(size):,} checkpoints: worst put "
                f"{row['worst_put_ms']} ms (first {row['first_put_ms']} ms); its bucket entries "
                f"all gone after {row['puts_until_clean']} puts of another thread "
                f"(left after {row.get('puts', 50)}: "
                f"{row.get('bucket_entries_left', row.get('bucket_entries_left_after_50_puts'))})"
            )
    return "\n".join(lines)


def compare(before: dict[str, Any], after: dict[str, Any]) -> str:
    """Longest single server command per call, before -> after, per thread size (ms)."""
    sizes = [s for s in before["threads"] if s in after["threads"]]
    lines = [
        "| call (longest single script, ms) | "
        + " | ".join(f"{int(s):,}: before → after" for s in sizes)
        + " |",
        "|---|" + "---|" * len(sizes),
    ]
    names: list[str] = []
    for part in ("threads", "store"):
        for size in sizes:
            for name in before[part].get(size, {}).get("ops", {}):
                if name not in names:
                    names.append(name)

    def ms(x: float) -> str:
        return f"{x:,.2f}" if x < 10 else f"{x:,.0f}"

    def cell(res: dict[str, Any], size: str, name: str) -> str:
        for part in ("threads", "store"):
            row = res[part].get(size, {}).get("ops", {}).get(name)
            if row:
                return f"{ms(row['max_ms'])} ({row['commands']})"
        return "—"

    for name in names:
        cells = [f"{cell(before, s, name)} → {cell(after, s, name)}" for s in sizes]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for size in sizes:
        b, a = before.get("ttl", {}).get(size), after.get("ttl", {}).get(size)
        if b and a:
            lines.append(
                f"| put while an expired thread of {int(size):,} checkpoints is forgotten "
                f"(worst put) | " + " | ".join(
                    f"{ms(b['worst_put_ms'])} → {ms(a['worst_put_ms'])}" if s == size else ""
                    for s in sizes
                ) + " |"
            )  # fmt: skip
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2000,20000,100000")
    parser.add_argument("--json", help="write the results here (e.g. docs/bench/big_threads.json)")
    parser.add_argument("--label", default="", help="a label stored in the JSON (before/after)")
    parser.add_argument("--skip", default="", help="parts to skip: threads,store,ttl,putcost")
    parser.add_argument("--puts", type=int, default=2000, help="puts for the put cost part")
    parser.add_argument(
        "--compare", nargs=2, metavar=("BEFORE", "AFTER"),
        help="print the before -> after table of two JSON results and exit",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.compare:
        before, after = (json.loads(Path(p).read_text()) for p in args.compare)
        print(compare(before, after))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    skip = set(args.skip.split(",")) - {""}
    results: dict[str, Any] = {
        "label": args.label,
        "source": source_state(str(ROOT)),
        "package": str(Path(aredis_ckpt.__file__).parent),
        "redis_server": os.environ.get("AREDIS_REDIS_SERVER", "redis-server"),
        "nproc": os.cpu_count(),
        "load_before": os.getloadavg(),
        "script_budget_keyword": "script_budget" in inspect.signature(RedisSaver).parameters,
        "threads": {},
        "store": {},
        "ttl": {},
    }
    for n in sizes:
        print(f"== {n:,} checkpoints", flush=True)
        if "threads" not in skip:
            results["threads"][str(n)] = bench_thread(n, print)
        if "store" not in skip:
            results["store"][str(n)] = bench_store(n, print)
        if "ttl" not in skip:
            results["ttl"][str(n)] = bench_ttl_sweep(n, print)
    if "putcost" not in skip:
        print("== put server time", flush=True)
        results["put_cost"] = bench_put_cost(args.puts, print)
    results["load_after"] = os.getloadavg()
    for part in ("threads", "store"):
        for n in sizes:
            results[part].setdefault(str(n), {"ops": {}})
    print()
    print(render(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
