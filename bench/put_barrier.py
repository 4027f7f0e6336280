"""Server time of ``put`` before and after the value GC barrier (issue #13).

put.lua gained the barrier: one EXISTS per put (the referenced fields leave the GC's candidates
only while a GC of the thread runs).  Both versions of the script are loaded into one private
server and called alternately (2,000 puts each, same arguments built by ``_put_call``, each on
its own thread), so load on the machine hits both alike; the server time of each call comes
from SLOWLOG (``slowlog-log-slower-than 0``).

    PYTHONPATH=src python bench/put_barrier.py OLD_LUA_DIR [rounds]

OLD_LUA_DIR holds the previous ``lib.lua`` and ``put.lua`` (e.g. from ``git archive main``).
"""

from __future__ import annotations

import hashlib
import statistics
import sys
from pathlib import Path
from typing import Any

import redis

from aredis_ckpt import RedisSaver
from aredis_ckpt._scripts import SCRIPTS
from aredis_ckpt._server import RedisServer

PUTS = 2000


def calls(saver: Any, thread: str) -> list[Any]:
    out = []
    parent = ""
    for i in range(PUTS):
        versions = {"messages": i + 1, "a": 1, "b": 1}
        checkpoint = {
            "v": 4,
            "id": f"1ef{i:012d}",
            "ts": "2024-01-01T00:00:00+00:00",
            "channel_values": {"messages": f"m{i}" * 50, "a": "x", "b": "y"},
            "channel_versions": versions,
            "versions_seen": {},
            "pending_sends": [],
        }
        new = {"messages": i + 1} if parent else dict(versions)
        conf = {"configurable": {"thread_id": thread, "checkpoint_ns": "", "checkpoint_id": parent}}
        meta = {"source": "loop", "step": i, "run_id": "r"}
        plan = saver._put_call(conf, checkpoint, meta, new)
        out.append(plan.call)
        parent = checkpoint["id"]
    return out


def main() -> None:
    old_dir = Path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    old_src = (old_dir / "lib.lua").read_bytes() + b"\n" + (old_dir / "put.lua").read_bytes()
    with RedisServer() as server:
        admin = redis.Redis.from_url(server.url)
        old_sha = admin.script_load(old_src)
        new_sha = admin.script_load(SCRIPTS.put.source)
        assert old_sha == hashlib.sha1(old_src).hexdigest()
        admin.config_set("slowlog-max-len", 1_000_000)
        times: dict[str, list[float]] = {"before": [], "after": []}
        with RedisSaver(server.url) as saver:
            saver.setup()
            for r in range(rounds):
                old_calls = calls(saver, f"old{r}")
                new_calls = calls(saver, f"new{r}")
                admin.config_set("slowlog-log-slower-than", 0)
                admin.slowlog_reset()
                for old, new in zip(old_calls, new_calls, strict=True):
                    admin.evalsha(old_sha, len(old.keys), *old.keys, *old.args)
                    admin.evalsha(new_sha, len(new.keys), *new.keys, *new.args)
                admin.config_set("slowlog-log-slower-than", 10_000)
                for entry in admin.slowlog_get(1_000_000):
                    parts = entry["command"].split(b" ")
                    if parts[0].upper() != b"EVALSHA":
                        continue
                    name = "before" if parts[1].decode() == old_sha else "after"
                    times[name].append(float(entry["duration"]))
    for name, values in times.items():
        values.sort()
        print(
            name,
            {
                "calls": len(values),
                "median_us": statistics.median(values),
                "mean_us": round(statistics.fmean(values), 2),
                "p90_us": values[int(0.9 * (len(values) - 1))],
            },
        )


if __name__ == "__main__":
    main()
