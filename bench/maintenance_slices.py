"""Server time of the maintenance operations on one big thread (issue #13, bounded server time).

Builds one thread of N checkpoints (two namespaces, ten runs, a pending write per checkpoint,
one channel changing every step and two unchanged ones) with the saver's batched writes, then
times ``delete_thread``, ``prune(keep_last=1)`` and ``delete_for_runs`` (half the runs), each on
a freshly built thread: the longest single script (SLOWLOG with ``slowlog-log-slower-than 0``),
the number of scripts, and the wall time of the call.

    PYTHONPATH=src python bench/maintenance_slices.py 20000 100000 [--ops prune,delete_thread]
"""

from __future__ import annotations

import sys
import time
from typing import Any

import redis

from aredis_ckpt import RedisSaver
from aredis_ckpt._base import PutOp, WritesOp
from aredis_ckpt._scripts import SCRIPTS
from aredis_ckpt._server import RedisServer

THREAD = "big"
RUNS = 10
BATCH = 1000


def build(saver: Any, n: int) -> None:
    parents: dict[str, str] = {"": "", "sub": ""}
    ops: list[Any] = []
    for i in range(n):
        ns = "sub" if i % 4 == 3 else ""
        cid = f"1ef{i:012d}"
        config = {
            "configurable": {"thread_id": THREAD, "checkpoint_ns": ns, "checkpoint_id": parents[ns]}
        }
        versions = {"messages": i + 1, "a": 1, "b": 1}
        checkpoint = {
            "v": 4,
            "id": cid,
            "ts": "2024-01-01T00:00:00+00:00",
            "channel_values": {"messages": f"m{i}", "a": "x", "b": "y"},
            "channel_versions": versions,
            "versions_seen": {},
            "pending_sends": [],
        }
        new = {"messages": i + 1} if parents[ns] else dict(versions)
        meta = {"source": "loop", "step": i, "run_id": f"run{i % RUNS}"}
        ops.append(PutOp(config, checkpoint, meta, new))  # type: ignore[arg-type]
        wconf = {"configurable": {"thread_id": THREAD, "checkpoint_ns": ns, "checkpoint_id": cid}}
        ops.append(WritesOp(wconf, [("messages", f"w{i}")], f"task{i}"))  # type: ignore[arg-type]
        parents[ns] = cid
        if len(ops) >= BATCH:
            saver._write_batch(ops)
            ops = []
    if ops:
        saver._write_batch(ops)


def measure(url: str, n: int, op: str) -> dict[str, Any]:
    admin = redis.Redis.from_url(url)
    admin.flushall()
    with RedisSaver(url) as saver:
        saver.setup()
        t0 = time.perf_counter()
        build(saver, n)
        built = time.perf_counter() - t0
        admin.config_set("slowlog-max-len", 1_000_000)
        admin.config_set("slowlog-log-slower-than", 0)
        admin.slowlog_reset()
        t0 = time.perf_counter()
        if op == "delete_thread":
            saver.delete_thread(THREAD)
        elif op == "prune":
            saver.prune([THREAD], keep_last=1)
        else:
            saver.delete_for_runs([f"run{r}" for r in range(0, RUNS, 2)])
        wall = time.perf_counter() - t0
        admin.config_set("slowlog-log-slower-than", 10_000)
        log = admin.slowlog_get(1_000_000)
        scripts = [e for e in log if e["command"].split(b" ")[0].upper() in (b"EVALSHA", b"EVAL")]
        left = admin.dbsize()
        shas = {script.sha.encode(): script.name for script in SCRIPTS.all()}
        by_script: dict[str, list[float]] = {}
        for e in scripts:
            parts = e["command"].split(b" ")
            name = shas.get(parts[1], "?") if len(parts) > 1 else "?"
            by_script.setdefault(name, []).append(e["duration"] / 1000)
    return {
        "n": n,
        "op": op,
        "build_s": round(built, 1),
        "scripts": len(scripts),
        "max_script_ms": round(max((e["duration"] for e in scripts), default=0) / 1000, 2),
        "sum_script_ms": round(sum(e["duration"] for e in scripts) / 1000, 1),
        "wall_ms": round(wall * 1000, 1),
        "keys_left": left,
        # per script: calls, mean ms, 99th percentile ms, max ms
        "by_script": {
            k: (
                len(v),
                round(sum(v) / len(v), 2),
                round(sorted(v)[int(0.99 * (len(v) - 1))], 2),
                round(max(v), 2),
            )
            for k, v in sorted(by_script.items())
        },
    }


def main() -> None:
    args = sys.argv[1:]
    ops = ["delete_thread", "prune", "delete_for_runs"]
    if "--ops" in args:
        at = args.index("--ops")
        ops = args[at + 1].split(",")
        del args[at : at + 2]
    sizes = [int(a) for a in args] or [20000]
    with RedisServer() as server:
        for n in sizes:
            for op in ops:
                print(measure(server.url, n, op), flush=True)


if __name__ == "__main__":
    main()
