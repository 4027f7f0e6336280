#!/usr/bin/env python
"""Server memory and client caches for very long thread ids and namespaces.

    python bench/long_ids.py [--label before|after]

On a private redis-server: ``used_memory`` grown by 10 checkpoints (and a pending write each)
of one thread whose id is 1 MB, the same for a 1 MB namespace, and for comparison a 36-character
id; then the growth of the client's traced memory (``tracemalloc``) after 30 different 1 MB ids
went through put / get_tuple, with the reference to each id dropped.  Results are kept per
label in ``docs/bench/long_ids.json``.  Nothing here asserts.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MB = 1 << 20


def _checkpoint(i: int) -> Any:
    from langgraph.checkpoint.base import empty_checkpoint
    from langgraph.checkpoint.base.id import uuid6

    cp = empty_checkpoint()
    cp["id"] = str(uuid6(clock_seq=-1))
    cp["channel_values"] = {"messages": [f"message {i}"], "step": i}
    cp["channel_versions"] = {"messages": i + 1, "step": i + 1}
    return cp


def _fill(saver: Any, thread_id: str, ns: str, n: int) -> None:
    parent: str | None = None
    for i in range(n):
        conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns}
        if parent:
            conf["checkpoint_id"] = parent
        stored = saver.put(
            {"configurable": conf},
            _checkpoint(i),
            {"step": i, "source": "loop"},
            {"messages": i + 1, "step": i + 1},
        )
        saver.put_writes(stored, [("messages", f"w{i}")], "task")
        parent = stored["configurable"]["checkpoint_id"]


def measure(url: str) -> dict[str, Any]:
    from redis import Redis

    from aredis_ckpt import RedisSaver

    admin = Redis.from_url(url)
    out: dict[str, Any] = {}
    cases = {
        "36-char thread id": (str(uuid.uuid4()), ""),
        "1 MB thread id": ("t" * MB, ""),
        "1 MB namespace": (str(uuid.uuid4()), "n" * MB),
    }
    for name, (tid, ns) in cases.items():
        prefix = f"long-{uuid.uuid4().hex[:8]}"
        with RedisSaver.from_conn_string(url, key_prefix=prefix) as saver:
            saver.setup()
            gc.collect()
            before = int(admin.info("memory")["used_memory"])
            _fill(saver, tid, ns, 10)
            after = int(admin.info("memory")["used_memory"])
            keys = list(admin.scan_iter(match=prefix + ":*", count=1000))
            out[name] = {
                "server_bytes": after - before,
                "keys": len(keys),
                "longest_key": max(len(k) for k in keys),
            }
            print(name, out[name], flush=True)
    prefix = f"long-{uuid.uuid4().hex[:8]}"
    with RedisSaver.from_conn_string(url, key_prefix=prefix) as saver:
        saver.setup()
        tracemalloc.start()
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        for i in range(30):
            tid = f"{i:04d}" + "x" * MB
            conf = {"configurable": {"thread_id": tid, "checkpoint_ns": ""}}
            saver.put(conf, _checkpoint(0), {"step": 0}, {"messages": 1, "step": 1})
            saver.get_tuple(conf)
            del tid, conf
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
    out["client memory kept after 30 ids of 1 MB"] = grown
    print("client", grown, flush=True)
    admin.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--label", choices=["before", "after"], default="after")
    ap.add_argument("--out", default=str(ROOT / "docs"))
    args = ap.parse_args()
    from aredis_ckpt._server import RedisServer

    server = RedisServer(os.environ.get("AREDIS_REDIS_SERVER") or None).start()
    try:
        res = measure(server.url)
    finally:
        server.stop()
    store = Path(args.out) / "bench" / "long_ids.json"
    data = json.loads(store.read_text()) if store.exists() else {}
    data[args.label] = res
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(json.dumps(data, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
