# This file is generated from src/aredis_ckpt/_async/damage.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""Finding damaged threads: every thread under a saver's prefix checked, in bounded slices.

Written once; ``scripts/unasync.py`` generates the synchronous twin.  Reads only: SCAN for the
threads' keys, the ``check_thread`` script (at most ``script_budget.entries`` checkpoints per
call), and the buckets of the index across threads read a slice at a time.  What counts as
damage is documented in ``lua/damage.lua`` and docs/reliability.md.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from aredis_ckpt._commands import ScriptCall
from aredis_ckpt._damage import ThreadDamage, describe, unescape
from aredis_ckpt._inventory import SCAN_COUNT, glob_escape, key_kind, key_tag
from aredis_ckpt._keys import NUL, ThreadKeys, decode
from aredis_ckpt._scripts import SCRIPTS
from aredis_ckpt._sync.inventory import _pipeline, _scan
from aredis_ckpt._sync.saver import BatchCall, RedisSaver

__all__ = ["check_threads"]

#: Threads whose check slices go out in one batch (one round trip per node).
_THREADS_PER_BATCH = 100

_C = ThreadKeys.NAMES.index(b"c")
_M = ThreadKeys.NAMES.index(b"m")


def check_threads(saver: RedisSaver) -> builtins.list[ThreadDamage]:
    """Every damaged thread under the saver's prefix (see ``AsyncRedisSaver.acheck_threads``)."""
    prefix = saver._pk.prefix
    tags: set[bytes] = set()
    # threads with maintenance under way (a delete draining its index entries, a value GC, a
    # copy's staging keys): their index entries are settled by it, so not judged here
    busy: set[bytes] = set()
    for keys in _scan(saver, glob_escape(prefix) + b":{*}:*"):
        for key in keys:
            tag = key_tag(prefix, key)
            if tag is not None and key_kind(tag) == "thread":
                tags.add(tag)
                if _is_maintenance(key[len(prefix) + len(tag) + 4 :]):
                    busy.add(tag)
    if saver._global:
        todo = _pipeline(saver, [("SMEMBERS", b.todo) for b in saver._pk.buckets])
        busy.update(tag for members in todo for tag in members)
    found = _check_all(saver, tags, None, busy)
    if not found:
        return []
    # A thread written, pruned or deleted during the walk may have looked damaged for a moment
    # (on a cluster the buckets are updated beside the thread): check those threads again.
    again = {d.tag.encode("utf-8", "surrogatepass") for d in found}
    confirmed = _check_all(saver, tags, again, busy)
    # set(): HSCAN may hand a namespace back twice while the hash is rehashed
    return sorted(
        set(confirmed), key=lambda d: (d.tag, d.checkpoint_ns or "", d.checkpoint_id or "")
    )


def _is_maintenance(name: bytes) -> bool:
    """Whether a thread's key (its name after ``P:{T}:``) belongs to maintenance under way:
    a delete's trash (``x``, ``x:<nonce>:j|r``), a value GC (``gd``, ``gs``), a copy's
    staging keys (``s.<random>:<name>``)."""
    return name in (b"x", b"gd", b"gs") or name.startswith((b"x:", b"s."))


def _check_all(
    saver: RedisSaver, tags: set[bytes], only: set[bytes] | None, busy: set[bytes]
) -> builtins.list[ThreadDamage]:
    checkpoints: dict[bytes, int] = {}
    found = _check_tags(saver, sorted(tags if only is None else tags & only), checkpoints)
    if saver._global:
        found.extend(_check_buckets(saver, tags, only, checkpoints, busy))
    return found


def _check_tags(
    saver: RedisSaver, tags: Sequence[bytes], checkpoints: dict[bytes, int]
) -> builtins.list[ThreadDamage]:
    """The damage check script over each thread, a slice per call, many threads per batch;
    ``checkpoints`` gets each thread's number of checkpoints."""
    budget = saver._budget.entries
    found: builtins.list[ThreadDamage] = []
    pending: builtins.list[tuple[bytes, bytes]] = [(tag, b"") for tag in tags]
    while pending:
        part, pending = pending[:_THREADS_PER_BATCH], pending[_THREADS_PER_BATCH:]
        calls: builtins.list[BatchCall] = [
            (
                SCRIPTS.check_thread,
                ScriptCall(ThreadKeys(saver._pk.prefix, tag).all, [cursor, budget]),
                None,
            )
            for tag, cursor in part
        ]
        replies = saver._eval_batch(calls)
        for (tag, _), (cursor, raw_id, items, count) in zip(part, replies, strict=True):
            checkpoints[tag] = int(count)
            thread_id = decode(raw_id) if raw_id else unescape(tag)
            for cid, codes, ns_e, ns in items:
                found.append(
                    ThreadDamage(
                        thread_id=thread_id,
                        tag=decode(tag),
                        checkpoint_ns=(
                            decode(ns) if ns else (unescape(ns_e) if ns_e or cid else None)
                        ),
                        checkpoint_id=decode(cid) if cid else None,
                        missing=tuple(describe(codes)),
                    )
                )
            if cursor:
                pending.append((tag, cursor))
    return found


def _check_buckets(
    saver: RedisSaver,
    tags: set[bytes],
    only: set[bytes] | None,
    checkpoints: dict[bytes, int],
    busy: set[bytes],
) -> builtins.list[ThreadDamage]:
    """Entries of the index across threads naming checkpoints that are gone from a thread
    that is not (B), threads with no key left that no TTL accounts for (A), and threads
    with fewer entries there than checkpoints (L); threads in ``busy`` are left out."""
    budget = saver._budget.entries
    found: builtins.list[ThreadDamage] = []
    indexed: dict[bytes, int] = {}
    for bucket in saver._pk.buckets:
        orphans: dict[bytes, int] = {}
        low = b"-"
        while True:
            (members,) = _pipeline(
                saver, [("ZRANGEBYLEX", bucket.index, low, "+", "LIMIT", 0, budget)]
            )
            _check_members(saver, members, tags, only, busy, orphans, indexed, found)
            if len(members) < budget:
                break
            low = b"(" + members[-1]
        if orphans:
            tracked = _pipeline(saver, [("ZSCORE", bucket.exp, tag) for tag in orphans])
            for (tag, count), score in zip(orphans.items(), tracked, strict=True):
                if score is None:  # a thread written with a TTL expires before its entries go
                    found.append(_thread_finding(tag, b"A" + str(count).encode()))
    for tag, count in checkpoints.items():
        if tag not in busy and indexed.get(tag, 0) < count:
            found.append(_thread_finding(tag, b"L" + str(count - indexed.get(tag, 0)).encode()))
    return found


def _thread_finding(tag: bytes, code: bytes) -> ThreadDamage:
    """Damage of a whole thread (not of one checkpoint) found in the index across threads."""
    return ThreadDamage(
        thread_id=unescape(tag),
        tag=decode(tag),
        checkpoint_ns=None,
        checkpoint_id=None,
        missing=tuple(describe([code])),
    )


def _check_members(
    saver: RedisSaver,
    members: Sequence[bytes],
    tags: set[bytes],
    only: set[bytes] | None,
    busy: set[bytes],
    orphans: dict[bytes, int],
    indexed: dict[bytes, int],
    found: builtins.list[ThreadDamage],
) -> None:
    probes: builtins.list[tuple[bytes, bytes, bytes]] = []
    commands: builtins.list[tuple[Any, ...]] = []
    for member in members:
        rest, _, ns_e = member.rpartition(NUL)
        cid, _, tag = rest.rpartition(NUL)
        if (only is not None and tag not in only) or tag in busy:
            continue
        if tag not in tags:
            orphans[tag] = orphans.get(tag, 0) + 1
            continue
        indexed[tag] = indexed.get(tag, 0) + 1
        keys = ThreadKeys(saver._pk.prefix, tag).all
        field = ns_e + NUL + cid
        probes.append((tag, cid, ns_e))
        commands.append(("HEXISTS", keys[_C], field))
        commands.append(("HEXISTS", keys[_M], field))
    for start in range(0, len(commands), 2 * SCAN_COUNT):
        replies = _pipeline(saver, commands[start : start + 2 * SCAN_COUNT])
        for i in range(0, len(replies), 2):
            if not replies[i] and not replies[i + 1]:
                tag, cid, ns_e = probes[(start + i) // 2]
                found.append(
                    ThreadDamage(
                        thread_id=unescape(tag),
                        tag=decode(tag),
                        checkpoint_ns=unescape(ns_e),
                        checkpoint_id=decode(cid),
                        missing=tuple(describe([b"B"])),
                    )
                )
