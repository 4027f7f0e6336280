#!/usr/bin/env python
"""Server time of copy_thread, the delta-history walk and filtered list pages on big threads.

    python bench/bounded_copy.py [--sizes 20000,100000] [--label before|after]

On a private redis-server: one thread grown to each size (batched puts, a pending write per
checkpoint, two namespaces, run ids), then per operation the longest call of each script
(SLOWLOG), the number of script calls and their summed server time (INFO commandstats), and
the client's wall time.  Run it with the code to measure first on ``PYTHONPATH``.  Results go
to ``docs/bench/bounded_copy.json`` per label.  Nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))


def _checkpoint(i: int, cid: str) -> Any:
    from langgraph.checkpoint.base import empty_checkpoint

    cp = empty_checkpoint()
    cp["id"] = cid
    cp["channel_values"] = {"messages": [f"message {i}"], "step": i}
    cp["channel_versions"] = {"messages": i + 1, "step": i + 1}
    return cp


def build(saver: Any, thread_id: str, n: int) -> dict[str, Any]:
    """``n`` checkpoints in two namespaces (a parent chain each), a pending write each."""
    from langgraph.checkpoint.base.id import uuid6

    from aredis_ckpt._base import PutOp, WritesOp

    parents: dict[str, str | None] = {"": None, "sub": None}
    last: dict[str, Any] = {}
    ops: list[Any] = []
    for i in range(n):
        ns = "" if i % 4 else "sub"
        conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns}
        if parents[ns]:
            conf["checkpoint_id"] = parents[ns]
        cid = str(uuid6(clock_seq=-1))
        meta = {"step": i, "source": "loop", "run_id": f"run-{i // 1000}"}
        ops.append(PutOp({"configurable": conf}, _checkpoint(i, cid), meta, {"messages": i + 1}))
        stored = {
            "configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": cid}
        }
        ops.append(WritesOp(stored, [("messages", f"w{i}")], "task"))  # type: ignore[arg-type]
        parents[ns] = cid
        last[ns] = stored
        if len(ops) >= 1000:
            saver._write_batch(ops)
            ops = []
    if ops:
        saver._write_batch(ops)
    return last


def timed(admin: Any, fn: Any) -> dict[str, Any]:
    """Wall time; scripts' calls and server time (INFO commandstats); the longest call of
    each script (SLOWLOG, whose threshold is SLOW_US: commands run by scripts are logged too,
    and logging every one of them would slow the scripts down)."""
    admin.slowlog_reset()
    admin.config_resetstat()
    start = time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    stats = admin.info("commandstats")
    evalsha = stats.get("cmdstat_evalsha", {"calls": 0, "usec": 0})
    per: dict[str, float] = {}
    for e in admin.slowlog_get(-1):
        words = e["command"].split(b" ")
        if words[0].upper() != b"EVALSHA":
            continue
        name = NAMES.get(words[1].decode(), words[1][:8].decode())
        per[name] = max(per.get(name, 0.0), round(e["duration"] / 1000, 2))
    return {
        "wall_ms": round(wall * 1000, 1),
        "script_calls": int(evalsha["calls"]),
        "script_ms": round(int(evalsha["usec"]) / 1000, 1),
        "mean_call_ms": round(int(evalsha["usec"]) / max(1, int(evalsha["calls"])) / 1000, 2),
        "max_call_ms": per,
    }


SLOW_US = 500
NAMES: dict[str, str] = {}


def reads(admin: Any, saver: Any, latest: Any) -> dict[str, Any]:
    """The delta-history walk of the whole chain (no seed) and lists matching nothing."""
    nothing = {"source": "nothing-matches"}
    thread = {"configurable": {"thread_id": "big"}}
    return {
        "delta_history": timed(
            admin,
            lambda: saver.get_delta_channel_history(config=latest, channels=["never-written"]),
        ),
        "list_thread_filtered": timed(admin, lambda: list(saver.list(thread, filter=nothing))),
        "list_all_filtered": timed(admin, lambda: list(saver.list(None, filter=nothing))),
    }


def run(sizes: list[int]) -> dict[str, Any]:
    from _infra import start_redis
    from redis import Redis

    from aredis_ckpt import RedisSaver
    from aredis_ckpt._scripts import SCRIPTS

    NAMES.update({s.sha: s.name for s in SCRIPTS.all()})
    out: dict[str, Any] = {}
    with start_redis() as server:
        admin = Redis.from_url(server.url)
        admin.config_set("slowlog-max-len", 1_000_000)
        for n in sizes:
            admin.flushall()
            with RedisSaver.from_conn_string(server.url, key_prefix="big") as saver:
                saver.setup()
                t0 = time.perf_counter()
                last = build(saver, "big", n)
                built = time.perf_counter() - t0
                admin.config_set("slowlog-log-slower-than", SLOW_US)
                row: dict[str, Any] = {"build_s": round(built, 1)}
                row["copy_thread"] = timed(admin, lambda: saver.copy_thread("big", "copy"))
                row.update(reads(admin, saver, last[""]))
                admin.config_set("slowlog-log-slower-than", 10_000)
                out[str(n)] = row
                print(n, json.dumps(row), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20000")
    parser.add_argument("--label", default="after")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    result = run(sizes)
    path = ROOT / "docs" / "bench" / "bounded_copy.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault(args.label, {}).update(result)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
