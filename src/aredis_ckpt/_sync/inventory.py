# This file is generated from src/aredis_ckpt/_async/inventory.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""Reading what a saver stores under its prefix: thread ids, per-thread summaries, key counts.

Written once; ``scripts/unasync.py`` generates the synchronous twin.  Used by the migration
(to enumerate a saver's threads) and by the ``aredis-ckpt`` operator commands.  Nothing here
writes: SCAN, GET, ZCARD, HLEN, MEMORY USAGE and the read-only ``list`` script.
"""

from __future__ import annotations

import builtins
import heapq
from collections.abc import Iterator, Sequence
from typing import Any

from aredis_ckpt import _serde
from aredis_ckpt._base import ScriptCall
from aredis_ckpt._inventory import (
    SCAN_COUNT,
    PrefixStats,
    ThreadSummary,
    glob_escape,
    key_kind,
    key_tag,
    thread_tag_matches,
)
from aredis_ckpt._keys import NUL, ThreadKeys, decode
from aredis_ckpt._scripts import SCRIPTS
from aredis_ckpt._sync.saver import RedisSaver

__all__ = ["checkpoint_ids", "iter_thread_ids", "prefix_stats", "thread_summaries"]

_N = ThreadKeys.NAMES.index(b"n")
_J = ThreadKeys.NAMES.index(b"j")
_T = ThreadKeys.NAMES.index(b"t")


def _pipeline(saver: RedisSaver, commands: Sequence[Sequence[Any]]) -> list[Any]:
    if not commands:
        return []
    pipe = saver._redis.pipeline(transaction=False)
    for command in commands:
        pipe.execute_command(*command)
    with saver._limiter:
        return builtins.list(pipe.execute())


def _scan(saver: RedisSaver, pattern: bytes) -> Iterator[builtins.list[bytes]]:
    """Keys matching ``pattern``, in batches (every primary of a cluster)."""
    batch: builtins.list[bytes] = []
    for key in saver._redis.scan_iter(match=pattern, count=SCAN_COUNT):
        batch.append(key)
        if len(batch) >= SCAN_COUNT:
            yield batch
            batch = []
    if batch:
        yield batch


def iter_thread_ids(saver: RedisSaver) -> Iterator[str]:
    """Every thread id under the saver's prefix, in no particular order.

    SCAN walks the keyspace without blocking the server; a thread created or deleted during
    the walk may or may not be listed, and one may come twice if Redis resizes its table
    meanwhile.
    """
    pattern = glob_escape(saver._pk.prefix) + b":{*}:t"
    for keys in _scan(saver, pattern):
        values = _pipeline(saver, [("GET", key) for key in keys])
        for key, raw in zip(keys, values, strict=True):
            tag = key_tag(saver._pk.prefix, key)
            if raw is None or tag is None:
                continue
            thread_id = decode(raw)
            if thread_tag_matches(tag, thread_id):
                yield thread_id


def thread_summaries(saver: RedisSaver, thread_ids: Sequence[str]) -> builtins.list[ThreadSummary]:
    """A summary of each thread (two pipelined round trips per hundred threads)."""
    out: builtins.list[ThreadSummary] = []
    for start in range(0, len(thread_ids), 100):
        out.extend(_summaries(saver, thread_ids[start : start + 100]))
    return out


def _summaries(saver: RedisSaver, ids: Sequence[str]) -> builtins.list[ThreadSummary]:
    width = len(ThreadKeys.NAMES)
    commands: builtins.list[tuple[Any, ...]] = []
    calls = []
    for thread_id in ids:
        keys = saver._thread(thread_id).all
        commands.append(("ZCARD", keys[_J]))
        commands.append(("HLEN", keys[_N]))
        commands.extend(("MEMORY", "USAGE", key) for key in keys)
        query = saver._list_query(
            {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}, None, None, 1
        )
        assert query is not None
        calls.append(
            (SCRIPTS.list, ScriptCall(query.keys, query.page_args(saver._pk.prefix)), None)
        )
    counts = _pipeline(saver, commands)
    newest = saver._eval_batch(calls)
    out = []
    for i, thread_id in enumerate(ids):
        row = counts[i * (width + 2) : (i + 1) * (width + 2)]
        step: int | None = None
        updated: str | None = None
        items = newest[i][1]
        if items:
            try:
                body, metadata = _serde.load_checkpoint(saver.serde, items[0][1])
                raw_step = metadata.get("step")
                step = raw_step if isinstance(raw_step, int) else None
                updated = str(body.get("ts")) if body.get("ts") is not None else None
            except Exception:  # a damaged record: the summary stays partial
                step, updated = None, None
        out.append(
            ThreadSummary(
                thread_id=thread_id,
                checkpoints=int(row[0]),
                namespaces=int(row[1]),
                last_step=step,
                last_update=updated,
                bytes=sum(int(size or 0) for size in row[2:]),
            )
        )
    return out


def checkpoint_ids(saver: RedisSaver, thread_id: str) -> set[tuple[str, str]]:
    """The (namespace, checkpoint id) of every checkpoint of a thread, without reading them."""
    keys = saver._thread(thread_id).all
    with saver._limiter:
        names: dict[bytes, bytes] = saver._redis.execute_command("HGETALL", keys[_N])
    namespaces = {k: decode(v) for k, v in names.items()}
    out: set[tuple[str, str]] = set()
    start = 0
    while True:
        with saver._limiter:
            members: builtins.list[bytes] = saver._redis.execute_command(
                "ZRANGE", keys[_J], start, start + SCAN_COUNT - 1
            )
        for member in members:
            cid, _, ns_e = member.rpartition(NUL)
            out.add((namespaces.get(ns_e, decode(ns_e)), decode(cid)))
        if len(members) < SCAN_COUNT:
            return out
        start += SCAN_COUNT


def count_checkpoints(saver: RedisSaver, thread_id: str) -> int:
    """How many checkpoints a thread holds, in every namespace."""
    with saver._limiter:
        return int(saver._redis.zcard(saver._thread(thread_id).all[_J]))


def prefix_stats(saver: RedisSaver, *, top: int = 10) -> PrefixStats:
    """Keys and memory under the prefix by kind, thread and checkpoint counts, and the
    ``top`` largest threads.  Walks every key under the prefix (SCAN, MEMORY USAGE)."""
    prefix = saver._pk.prefix
    stats = PrefixStats(prefix=saver.key_prefix)
    per_thread: dict[bytes, int] = {}
    thread_keys: dict[bytes, bytes] = {}
    for keys in _scan(saver, glob_escape(prefix) + b":*"):
        sizes = _pipeline(saver, [("MEMORY", "USAGE", key) for key in keys])
        for key, size in zip(keys, sizes, strict=True):
            tag = key_tag(prefix, key)
            kind = key_kind(tag)
            stats.add_key(kind, int(size or 0))
            if kind == "thread" and tag is not None:
                per_thread[tag] = per_thread.get(tag, 0) + int(size or 0)
                if key.endswith(b"}:t"):
                    thread_keys[tag] = key
    tags = [tag for tag in per_thread if tag in thread_keys]
    stats.threads = len(tags)
    for start in range(0, len(tags), SCAN_COUNT):
        part = tags[start : start + SCAN_COUNT]
        counts = _pipeline(saver, [("ZCARD", ThreadKeys(prefix, t).all[_J]) for t in part])
        stats.checkpoints += sum(int(c) for c in counts)
    largest = heapq.nlargest(top, tags, key=lambda t: per_thread[t])
    raw_ids = _pipeline(saver, [("GET", ThreadKeys(prefix, t).all[_T]) for t in largest])
    ids = [decode(raw) for raw in raw_ids if raw is not None]
    stats.largest = sorted(thread_summaries(saver, ids), key=lambda s: -s.bytes)
    return stats
