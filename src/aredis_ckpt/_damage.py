"""Damaged threads (no I/O): what the read scripts report missing, as words and as reports.

A read script that finds a thread missing records it always holds together replies with a
damage reply instead of data (``lua/damage.lua``): ``{0, cid or '', {what...}}``, each
``what`` a code: ``K<key>`` a whole key of the thread, ``C``/``M`` a checkpoint's record /
metadata, ``I``/``J`` its index entries, ``N`` the namespace record, ``X`` the namespace's
checkpoints, ``Q`` the thread's checkpoint records and index entries disagree in number,
``V<field>`` a channel value, ``W<name>`` a pending write.  ``check_threads`` adds
``A`` (every key of a thread is gone while the index across threads still names it), ``B``
(an entry of the index across threads names a checkpoint its thread does not hold) and ``L``
(the index across threads lacks entries of a thread's checkpoints).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aredis_ckpt._keys import NUL, decode
from aredis_ckpt.errors import DamagedThreadError

__all__ = ["ThreadDamage", "describe", "is_damage", "unescape"]

_KEYS = {
    b"t": "the thread's id record (key t)",
    b"n": "the thread's namespace records (key n)",
    b"c": "the thread's checkpoint records (key c)",
    b"m": "the thread's checkpoint metadata (key m)",
    b"i": "the thread's checkpoint index (key i)",
    b"j": "the thread's index across namespaces (key j)",
    b"w": "the thread's pending writes (key w)",
    b"wx": "the thread's pending-write index (key wx)",
}
_RECORDS = {
    b"C": "the checkpoint record",
    b"M": "the checkpoint's metadata",
    b"I": "the checkpoint's entry in the thread's index (i)",
    b"J": "the checkpoint's entry in the thread's index across namespaces (j)",
    b"N": "the namespace record",
    b"X": "the namespace's checkpoints (only its namespace record is left)",
    b"B": "the checkpoint (the index across threads still names it)",
}
_ESCAPED = re.compile(rb"%([0-9A-F]{2})")


def unescape(part: bytes) -> str | None:
    """The id an escaped key part stands for (None for a long id's digest)."""
    if part == b"%":
        return ""
    if part.startswith(b"%H"):
        return None
    return decode(_ESCAPED.sub(lambda m: bytes([int(m.group(1), 16)]), part))


def is_damage(reply: Any) -> bool:
    """Whether a script reply (or list item) is a damage reply."""
    return isinstance(reply, list) and bool(reply) and isinstance(reply[0], int)


def _describe_one(code: bytes) -> str:
    kind, rest = code[:1], code[1:]
    if kind == b"K":
        return _KEYS.get(rest, f"the thread's key {decode(rest)!r}")
    if kind == b"V":
        # N\0<escaped channel>\0<version>
        parts = rest.split(NUL)
        if len(parts) >= 3:
            channel = unescape(parts[-2])
            return f"channel value {channel!r}@{decode(parts[-1])}"
        return f"channel value {rest!r}"
    if kind == b"W":
        # N\0<len(cid)>:<cid><idx>:<task_id>
        _, _, tail = rest.partition(NUL)
        size, _, body = tail.partition(b":")
        if size.isdigit():
            idx, _, task = body[int(size) :].partition(b":")
            return f"pending write {decode(task)}/{decode(idx)}"
        return f"pending write {rest!r}"
    if kind == b"Q":
        c, m, i, j = (decode(x) for x in rest.split(b" "))
        if c == "?":
            return (
                "some checkpoints' index entries (the thread's index i holds "
                f"{i} entries, its index across namespaces j {j})"
            )
        return (
            "some checkpoints' records or index entries (the thread holds "
            f"{c} checkpoint records, {m} metadata records, {i} + {j} index entries)"
        )
    if kind == b"L":
        return (
            f"the entries of {decode(rest)} of its checkpoints in the index across threads "
            "(list(None) does not see them)"
        )
    if kind == b"A":
        return (
            f"every record of the thread ({decode(rest)} entries of the index across threads "
            "remain)"
        )
    return _RECORDS.get(kind, f"record {code!r}")


def describe(codes: Sequence[bytes]) -> list[str]:
    """The missing records a damage reply names, in words."""
    return [_describe_one(code) for code in codes]


@dataclass(frozen=True)
class ThreadDamage:
    """One damaged thread (or checkpoint of it), as ``check_threads`` reports it.

    ``thread_id`` is None when the thread's id record is gone and its id could not be
    recovered from its key names (a long id's digest); ``tag`` is then the key part naming it.
    ``checkpoint_id`` is None for damage that is not one checkpoint's.
    """

    thread_id: str | None
    tag: str
    checkpoint_ns: str | None
    checkpoint_id: str | None
    missing: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id,
            "tag": self.tag,
            "checkpoint_ns": self.checkpoint_ns,
            "checkpoint_id": self.checkpoint_id,
            "missing": list(self.missing),
        }

    def message(self, prefix: str) -> str:
        who = (
            f"thread {self.thread_id!r}"
            if self.thread_id is not None
            else f"the thread with key part {self.tag!r}"
        )
        where = f" (namespace {self.checkpoint_ns!r})" if self.checkpoint_ns is not None else ""
        at = f"checkpoint {self.checkpoint_id!r}" if self.checkpoint_id else "its latest checkpoint"
        return (
            f"{who}{where} under prefix {prefix!r} is damaged at {at}: missing "
            f"{'; '.join(self.missing)}. Its keys were evicted or partly deleted; see "
            "docs/reliability.md, 'Damage is named' (aredis-ckpt check lists every damaged thread)"
        )

    def error(self, prefix: str) -> DamagedThreadError:
        return DamagedThreadError(
            self.message(prefix),
            thread_id=self.thread_id if self.thread_id is not None else self.tag,
            checkpoint_ns=self.checkpoint_ns,
            checkpoint_id=self.checkpoint_id,
            missing=list(self.missing),
        )


def damage_of(
    reply: Sequence[Any],
    thread_id: str | None,
    tag: bytes,
    ns: str | None,
) -> ThreadDamage:
    """A damage reply (``{0, cid, codes, ...}``) of a read of ``thread_id`` as a report."""
    cid = decode(reply[1]) if reply[1] else None
    tid = thread_id
    if tid is None:
        raw = reply[5] if len(reply) > 5 else None
        tid = decode(raw) if raw else unescape(tag)
    return ThreadDamage(
        thread_id=tid,
        tag=decode(tag),
        checkpoint_ns=ns,
        checkpoint_id=cid,
        missing=tuple(describe(reply[2])),
    )
