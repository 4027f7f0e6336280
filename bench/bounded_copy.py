#!/usr/bin/env python
"""Server time of copy_thread, the delta-history walk and filtered list pages on big threads.

    python bench/bounded_copy.py [--sizes 20000,100000] [--label before|after]

On a private redis-server (SLOWLOG at threshold 0, so every command's server time is logged):
one thread grown to each size (batched puts, a pending write per checkpoint, two namespaces
with a run id each), then per operation the longest single command (script) and the sum of
their server times, the number of script calls, and the client's wall time.  Run it with the
code to measure first on ``PYTHONPATH``.  Results go to ``docs/bench/bounded_copy.json`` per
label.  Nothing here asserts.
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
        stored = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": cid}}
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
    admin.slowlog_reset()
    start = time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    entries = [e for e in admin.slowlog_get(-1) if e["command"].split(b" ")[0].upper()
               not in (b"SLOWLOG", b"CONFIG", b"INFO")]
    scripts = [e for e in entries if e["command"].split(b" ")[0].upper() in (b"EVALSHA", b"EVAL")]
    return {
        "wall_ms": round(wall * 1000, 1),
        "max_command_ms": round(max((e["duration"] for e in entries), default=0) / 1000, 2),
        "script_ms": round(sum(e["duration"] for e in scripts) / 1000, 1),
        "script_calls": len(scripts),
    }


def run(sizes: list[int]) -> dict[str, Any]:
    from redis import Redis

    from _infra import start_redis
    from aredis_ckpt import RedisSaver

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
                admin.config_set("slowlog-log-slower-than", 0)
                row: dict[str, Any] = {"build_s": round(built, 1)}
                row["copy_thread"] = timed(admin, lambda: saver.copy_thread("big", "copy"))
                row["delta_history"] = timed(
                    admin,
                    lambda: saver.get_delta_channel_history(
                        config=last[""], channels=["never-written"]
                    ),
                )
                nothing = {"source": "nothing-matches"}
                thread = {"configurable": {"thread_id": "big"}}
                row["list_thread_filtered"] = timed(
                    admin, lambda: list(saver.list(thread, filter=nothing))
                )
                row["list_all_filtered"] = timed(
                    admin, lambda: list(saver.list(None, filter=nothing))
                )
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
