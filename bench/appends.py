#!/usr/bin/env python
"""What compressing only the appended part of a growing value buys: zstd time and bytes.

    python bench/appends.py

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

import statistics
import sys
import time
from pathlib import Path

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


def main() -> int:
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
