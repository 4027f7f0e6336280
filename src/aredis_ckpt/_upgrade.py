"""Schema 1 -> 2 migration: the calls it sends, built without I/O (``_async/upgrade.py`` runs them).

Version 1 kept every index across threads in one cluster slot (``P:{%G}:ix``, run sets, TTL
bookkeeping) and used a thread's escaped id as its key part whatever its length.  Version 2
splits those indexes into buckets and replaces long key parts by digests (see ``_keys.py``).

The migration walks the version-1 index (then its TTL bookkeeping, for threads left with no
checkpoint) in slices of ``SLICE`` entries.  For each thread of a slice it brings the thread to
the new layout (long namespaces renamed inside the thread; a long thread id's keys moved under
its digest), adds the thread's entries to its bucket, and only then drops them from the
version-1 index.  Every step is idempotent: a migration interrupted anywhere, or run by several
processes at once, ends in the same state when run again.  The schema record says ``2`` once
the version-1 index is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aredis_ckpt._commands import Arg, ScriptCall
from aredis_ckpt._keys import LONG_PART, NUL, PrefixKeys, ThreadKeys, part_of_escaped

__all__ = ["SLICE", "ThreadMove", "legacy_cleanup_call", "plan_slice", "plan_tags"]

# Version-1 index entries (or TTL records) handled per step.
SLICE = 200


@dataclass
class ThreadMove:
    """One thread's migration: its version-1 key part, its version-2 one, the namespaces to
    rename, and what the steps found."""

    old: bytes
    new: bytes
    renames: dict[bytes, bytes] = field(default_factory=dict)
    # version-1 index entries of this thread seen in the slice (removed whatever happens)
    seen: list[bytes] = field(default_factory=list)
    members: list[bytes] = field(default_factory=list)
    runs: list[bytes] = field(default_factory=list)
    old_members: list[bytes] = field(default_factory=list)
    pttl: int = -2
    alive: bool = False

    def rename(self, names: Sequence[bytes]) -> None:
        for name in names:
            self.renames[name] = part_of_escaped(name)

    def call(self, pk: PrefixKeys, cluster: bool) -> ScriptCall:
        old = ThreadKeys(pk.prefix, self.old)
        keys = old.all
        if self.new != self.old and not cluster:
            keys += ThreadKeys(pk.prefix, self.new).all
        args: list[Arg] = [self.old, self.new, LONG_PART]
        for n1, n2 in self.renames.items():
            args.extend((n1, n2))
        return ScriptCall(keys, args)


def plan_slice(members: Sequence[bytes]) -> dict[bytes, ThreadMove]:
    """The threads of a slice of version-1 index entries (``cid\\0T\\0N``)."""
    moves: dict[bytes, ThreadMove] = {}
    for member in members:
        rest, _, ns_e = member.rpartition(NUL)
        _, _, tag = rest.rpartition(NUL)
        move = moves.get(tag)
        if move is None:
            move = moves[tag] = ThreadMove(tag, part_of_escaped(tag))
        move.seen.append(member)
        if len(ns_e) > LONG_PART:
            move.rename([ns_e])
    return moves


def plan_tags(tags: Sequence[bytes]) -> dict[bytes, ThreadMove]:
    """The threads named by version-1 TTL records."""
    return {tag: ThreadMove(tag, part_of_escaped(tag)) for tag in tags}


def legacy_cleanup_call(pk: PrefixKeys, moves: Sequence[ThreadMove]) -> ScriptCall:
    """Drop the threads' entries from the version-1 indexes (one slot)."""
    args: list[Arg] = []
    for move in moves:
        gone = sorted(set(move.seen) | set(move.old_members))
        args.extend((move.old, len(gone), *gone, len(move.runs), *move.runs))
    return ScriptCall((pk.legacy_index,), args)
