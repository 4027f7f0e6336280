"""Server time of ``put`` (µs per script call, INFO commandstats) over 2,000 puts (issue #13).

put.lua gained the value GC barrier (one EXISTS per put; the referenced fields leave the GC's
candidates only while a GC runs).  Run this once with each version of the source on the path,
alternately, and compare the medians:

    PYTHONPATH=src python bench/put_barrier.py [rounds]
"""

from __future__ import annotations

import statistics
import sys

import redis

from aredis_ckpt import RedisSaver
from aredis_ckpt._server import RedisServer

PUTS = 2000


def one_round(url: str, thread: str) -> float:
    admin = redis.Redis.from_url(url)
    admin.config_resetstat()
    with RedisSaver(url) as saver:
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
            conf = {
                "configurable": {"thread_id": thread, "checkpoint_ns": "", "checkpoint_id": parent}
            }
            meta = {"source": "loop", "step": i, "run_id": "r"}
            parent = saver.put(conf, checkpoint, meta, new)["configurable"]["checkpoint_id"]  # type: ignore[arg-type]
    stats = admin.info("commandstats")["cmdstat_evalsha"]
    return float(stats["usec_per_call"])


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with RedisServer() as server:
        with RedisSaver(server.url) as saver:
            saver.setup()
        figures = [one_round(server.url, f"t{r}") for r in range(rounds)]
    print({"puts": PUTS, "rounds": figures, "median_usec_per_put": statistics.median(figures)})


if __name__ == "__main__":
    main()
