#!/usr/bin/env python
"""What compressing only the appended part of a growing value buys: zstd time and bytes.

    python bench/appends.py           # the conversation's versions alone, no Redis
    python bench/appends.py --agent   # the benchmark agent on a private Redis: zstd calls and
                                      # bytes per step, bytes per checkpoint

The benchmark agent's conversation (``_graphs.conversation_messages``) grows one message at a
time; every version of the list is serialized by LangGraph's serializer and stored as aredis
stores a channel value, once compressed whole each time (``zstd+``, the codec before
``_appends.py``) and once through ``Appends`` (``zseg+``: the earlier parts reused, the new
messages stored as they are while the uncompressed tail is short, then compressed as one more
frame).  Per version: the median CPU of the encoding (10 passes over the conversation,
serialization excluded) and the stored bytes, after 5, 20 and 50 turns.  No Redis involved;
feeds docs/hot-path.md ("Cut 11", "Cut 13").  Nothing here asserts.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _graphs import conversation_messages
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from aredis_ckpt import _serde
from aredis_ckpt._appends import Appends, Update

THRESHOLD = 2048


def _versions(turns: int) -> list[tuple[str, bytes]]:
    serde = JsonPlusSerializer()
    messages = conversation_messages(turns)
    return [serde.dumps_typed(messages[: k + 1]) for k in range(len(messages))]


def _whole(versions: list[tuple[str, bytes]]) -> tuple[float, int]:
    stored = 0
    t0 = time.process_time()
    for tag, data in versions:
        stored += len(_serde._frame(*_serde.compress(tag, data, THRESHOLD)))
    return time.process_time() - t0, stored


def _appended(versions: list[tuple[str, bytes]]) -> tuple[float, int]:
    appends = Appends()
    stored = 0
    t0 = time.process_time()
    for tag, data in versions:
        if len(data) < THRESHOLD:
            stored += len(_serde._frame(tag, data))
            continue
        updates: list[Update] = []
        stored += len(appends.encode([("messages", tag, data)], updates)[0])
        appends.commit(updates)
    return time.process_time() - t0, stored


def agent() -> None:
    """zstd calls and bytes per step of the benchmark agent, and bytes per checkpoint."""
    from _graphs import build_agent, turn_input
    from _infra import start_redis
    from _savers import ARedisBackend, Loop

    from aredis_ckpt import _appends

    counts = {"calls": 0, "bytes": 0}

    def counting(module: Any) -> None:
        real = module._zstd_compress

        def counted(data: bytes | memoryview) -> bytes:
            counts["calls"] += 1
            counts["bytes"] += len(data)
            return real(data)  # type: ignore[no-any-return]

        module._zstd_compress = counted

    counting(_appends)
    counting(_serde)
    server = start_redis()
    loop = Loop()
    print("turns  steps  zstd calls/step  bytes compressed/step  KiB/checkpoint (thread's keys)")
    try:
        for turns in (5, 20, 50):
            backend = ARedisBackend(server.url, 1)
            with contextlib.ExitStack() as stack:
                backend.open(stack, loop)
                backend.admin.flushdb()
                saver = backend.sync_saver
                graph = build_agent(saver)
                config = {"configurable": {"thread_id": f"appends-{turns}"}}
                counts.update(calls=0, bytes=0)
                for turn in range(turns):
                    graph.invoke(turn_input(turn), config)
                tup = saver.get_tuple(config)
                steps = int(tup.metadata["step"]) + 2
                memory = backend.storage(f"appends-{turns}")["memory_usage"]
                print(
                    f"{turns:5d}  {steps:5d}  {counts['calls'] / steps:15.2f}  "
                    f"{counts['bytes'] / steps:21,.0f}  {memory / steps / 1024:14.2f}"
                )
    finally:
        loop.close()
        server.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--agent", action="store_true", help="the benchmark agent on a private Redis")
    if p.parse_args().agent:
        agent()
        return 0
    print("turns  versions  last value   µs/version: whole -> appended   bytes/version: same")
    for turns in (5, 20, 50):
        versions = _versions(turns)
        runs: dict[str, list[tuple[float, int]]] = {"whole": [], "appended": []}
        for _ in range(10):
            runs["whole"].append(_whole(versions))
            runs["appended"].append(_appended(versions))
        n = len(versions)
        cpu = {k: statistics.median(r[0] for r in v) / n * 1e6 for k, v in runs.items()}
        size = {k: v[0][1] / n for k, v in runs.items()}
        print(
            f"{turns:5d}  {n:8d}  {len(versions[-1][1]):8,d} B   "
            f"{cpu['whole']:7.1f} -> {cpu['appended']:6.1f} ({cpu['appended'] / cpu['whole']:.2f}x)"
            f"      {size['whole']:7,.0f} -> {size['appended']:7,.0f} "
            f"({size['appended'] / size['whole']:.2f}x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
