"""What is stored under a key prefix, as the operator commands report it (no I/O).

``_async/inventory.py`` (and its generated twin) reads it from Redis with SCAN and pipelined
reads; this module holds the result types and the key-name arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from aredis_ckpt._keys import GLOBAL_TAG, key_part

__all__ = [
    "PrefixStats",
    "ThreadSummary",
    "glob_escape",
    "key_kind",
    "key_tag",
    "thread_tag_matches",
]

#: Keys per SCAN call and per pipelined batch of reads.
SCAN_COUNT: Final = 500
#: The store's keys under a prefix carry the tag ``{%S<prefix>}`` (see ``_store_base.py``).
STORE_TAG_START: Final = b"%S"
#: ... and a node cache's the tags ``{%C<prefix>:<bucket>}`` (see ``_cache_base.py``).
CACHE_TAG_START: Final = b"%C"
#: The buckets of the indexes across threads, and long ids' digests (see ``_keys.py``).
BUCKET_TAG_START: Final = b"%B"
DIGEST_TAG_START: Final = b"%H"

_ESCAPED = re.compile(rb"%[0-9A-F]{2}")

_GLOB_SPECIAL = re.compile(rb"([\\*?\[\]])")


def glob_escape(raw: bytes) -> bytes:
    """``raw`` as a literal inside a SCAN MATCH pattern."""
    return _GLOB_SPECIAL.sub(rb"\\\1", raw)


def key_tag(prefix: bytes, key: bytes) -> bytes | None:
    """The hash tag of a key named ``<prefix>:{<tag>}:...``, or None for any other key."""
    start = len(prefix) + 2
    if not key.startswith(prefix + b":{"):
        return None
    end = key.find(b"}:", start)
    return key[start:end] if end >= 0 else None


def thread_tag_matches(tag: bytes, thread_id: str) -> bool:
    """Whether ``tag`` really is the tag of ``thread_id`` (and not a store or shared tag)."""
    return key_part(thread_id) == tag


def key_kind(tag: bytes | None) -> str:
    """``thread``, ``shared`` (the prefix's indexes), ``store``, ``cache`` or ``other``.

    Escaping writes ``%`` only alone (the empty id) or before two hex digits, so the tags of
    the schema record and version 1's indexes (``%G``), the buckets of the indexes across
    threads (``%B...``), a store (``%S...``) and a node cache (``%C...``) under the same prefix
    are never a thread's; a long thread id's tag is its digest (``%H...``).
    """
    if tag is None:
        return "other"
    if tag == GLOBAL_TAG or tag.startswith(BUCKET_TAG_START):
        return "shared"
    if tag.startswith(DIGEST_TAG_START):
        return "thread"
    if tag.startswith(STORE_TAG_START):
        return "store"
    if tag.startswith(CACHE_TAG_START):
        return "cache"
    if tag.startswith(b"%") and tag != b"%" and not _ESCAPED.match(tag):
        return "other"
    return "thread"


@dataclass
class ThreadSummary:
    """One thread as ``aredis-ckpt threads`` shows it.

    ``last_step`` and ``last_update`` come from the newest checkpoint of the root graph
    (namespace ``""``): its metadata ``step`` and its ``ts``.  ``bytes`` is what Redis reports
    for the thread's keys (``MEMORY USAGE``, sampled for large hashes).
    """

    thread_id: str
    checkpoints: int
    namespaces: int
    last_step: int | None
    last_update: str | None
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id,
            "checkpoints": self.checkpoints,
            "namespaces": self.namespaces,
            "last_step": self.last_step,
            "last_update": self.last_update,
            "bytes": self.bytes,
        }


@dataclass
class PrefixStats:
    """Keys and memory under one prefix, by kind, and the largest threads."""

    prefix: str
    keys: int = 0
    bytes: int = 0
    threads: int = 0
    checkpoints: int = 0
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    largest: list[ThreadSummary] = field(default_factory=list)

    def add_key(self, kind: str, size: int) -> None:
        self.keys += 1
        self.bytes += size
        entry = self.by_kind.setdefault(kind, {"keys": 0, "bytes": 0})
        entry["keys"] += 1
        entry["bytes"] += size

    def as_dict(self) -> dict[str, Any]:
        return {
            "prefix": self.prefix,
            "keys": self.keys,
            "bytes": self.bytes,
            "threads": self.threads,
            "checkpoints": self.checkpoints,
            "by_kind": self.by_kind,
            "largest": [t.as_dict() for t in self.largest],
        }
