"""Key schema (version 2): every Redis key name the savers use, built by escaping, never parsed.

``P`` is the key prefix, ``T`` a thread's *key part*, ``N`` a namespace's key part, ``cid`` a raw
checkpoint id, ``\\0`` a NUL byte.  A key part is the escaped id (see ``escape``), or, when that
is longer than ``LONG_PART`` bytes, ``%H`` and the SHA-256 of the escaped id in hex: a 1 MB
thread id costs 66 bytes per key name and index entry, and the full id is stored once, in the
thread's ``t`` record (a namespace's, in its ``n`` hash).  Escaping never produces ``%H``.

A thread owns the fixed set of keys below, whatever its length or number of namespaces (a key
with nothing to hold does not exist: a thread whose checkpoints carry no run id has no ``r``),
all carrying the Redis Cluster hash tag ``{T}`` so that every thread operation is one atomic
script even on a cluster::

    P:{T}:t    STRING  the thread id
    P:{T}:n    HASH    N -> namespace
    P:{T}:c    HASH    N\\0cid -> checkpoint and metadata, as the client decodes them
    P:{T}:m    HASH    N\\0cid -> parent, channel versions, filterable metadata, run (read by Lua)
    P:{T}:v    HASH    N\\0<channel>\\0<version> -> channel value, stored once per version
    P:{T}:i    ZSET    N\\0cid       (latest / before / paging inside one namespace)
    P:{T}:j    ZSET    cid\\0N       (newest first across the thread's namespaces)
    P:{T}:w    HASH    N\\0<len(cid)>:<cid><idx>:<task_id> -> pending write
    P:{T}:wx   ZSET    the same names as ``w``, to range over one checkpoint's writes
    P:{T}:r    ZSET    <run>\\0N\\0cid (checkpoints by run id)

Maintenance in slices (docs/reliability.md, "Bounded server time") adds, in the same slot::

    P:{T}:gd              SET     value GC candidates (fields of dropped checkpoints)
    P:{T}:gs              STRING  the value GC's progress (mark cursor, or sweeping)
    P:{T}:x               SET     nonces of deleted incarnations still draining
    P:{T}:x:<nonce>:j     ZSET    a deleted incarnation's j, renamed aside (drained by popping)
    P:{T}:x:<nonce>:r     ZSET    its r, likewise

The indexes across threads (``list(None)``, ``delete_for_runs``, TTL bookkeeping) are split into
``BUCKETS`` buckets.  A thread belongs to bucket ``slot(T) // BLOCK``: the block of ``BLOCK``
cluster slots its own slot falls in.  Bucket ``b``'s keys carry the tag ``BUCKET_TAGS[b]``,
chosen so that it hashes to the middle slot of block ``b``: the buckets' slots are evenly
spaced over 0..16383, and a master serving a contiguous slot range serves the buckets of (nearly
all) its own threads, so a ``put`` usually touches one node::

    P:{B}:ix          ZSET  cid\\0T\\0N for every checkpoint of the bucket's threads
    P:{B}:run:<run>   SET   T of each of the bucket's threads holding checkpoints of the run
    P:{B}:exp         ZSET  T -> expiry (ms, server clock) of threads written with a TTL
    P:{B}:gm:<T>      SET   the thread's entries in ix ("c" + member) and run sets ("r" + run)
    P:{B}:todo        SET   T of each of the bucket's threads with maintenance left unfinished
                            (a delete still draining, a value GC; see docs/reliability.md)

``exp`` is written by ``put`` only; a thread it names as due is removed from the bucket only
once its keys are really gone (a thread kept alive by reads or pending writes is rescheduled).

``copy_thread`` into a thread that does not exist yet fills a staging copy of its ten keys,
``P:{T}:s.<nonce>:<name>`` (same slot, expiring unless refreshed), then renames them onto the
thread's names in one script.

One key records the layout of the data under a prefix (``"2"``; the bucket count belongs to the
version)::

    P:{%G}:schema     STRING  schema version

Version 1 kept the shared indexes in that same slot (``P:{%G}:ix``, ``P:{%G}:run:<run>``,
``P:{%G}:exp``, ``P:{%G}:gm:<T>``) and used the escaped id as key part whatever its length;
``setup()`` migrates such data (see ``_upgrade.py``).

Escaping turns ``%``, ``{``, ``}``, ``:`` and control characters into ``%XX``, so an escaped
part never holds a separator, a brace or a NUL.  A raw id only ever stands first or last in a
name, or after its own length, so each name maps back to exactly one tuple of ids.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import re
from typing import Final

__all__ = [
    "BLOCK",
    "BUCKETS",
    "BUCKET_TAGS",
    "LONG_PART",
    "BucketKeys",
    "PrefixKeys",
    "ThreadKeys",
    "escape",
    "key_part",
    "ns_member",
    "slot_of",
    "validate_prefix",
    "value_field",
    "write_field_suffix",
]

_SPECIAL = re.compile(r"[%{}:\x00-\x1f\x7f]")
NUL = b"\x00"
GLOBAL_TAG = b"%G"
SLOTS: Final = 16384
# Escaped ids longer than this are replaced by their digest in key names and index entries.
LONG_PART: Final = 256
# Ids longer than this (in characters) are never cached by the client: the caches below hold
# at most (entries x this) characters of ids.
_CACHED_ID: Final = 512
BUCKETS: Final = 64
BLOCK: Final = SLOTS // BUCKETS
# Hash tag of bucket b: CRC16 slot b * BLOCK + BLOCK // 2 (tests check it against redis-py).
BUCKET_TAGS: Final[tuple[bytes, ...]] = (
    b"%B00.7ta", b"%B01.cz4", b"%B02.58c", b"%B03.a66", b"%B04.wl5", b"%B05.oc8", b"%B06.lo7",
    b"%B07.mk2", b"%B08.agb", b"%B09.qaw", b"%B10.hov", b"%B11.abk", b"%B12.sh4", b"%B13.kg9",
    b"%B14.dvz", b"%B15.e6w", b"%B16.7mo", b"%B17.zh2", b"%B18.ze7", b"%B19.adcj", b"%B20.isx",
    b"%B21.h3u", b"%B22.oy", b"%B23.bvo", b"%B24.afy", b"%B25.hkd", b"%B26.cd", b"%B27.bjv",
    b"%B28.bc3", b"%B29.cg6", b"%B30.zi7", b"%B31.7lj", b"%B32.g54", b"%B33.fu9", b"%B34.amb",
    b"%B35.qkw", b"%B36.kh0", b"%B37.jl5", b"%B38.ja0", b"%B39.ke5", b"%B40.xi6", b"%B41.ym3",
    b"%B42.cj4", b"%B43.bn1", b"%B44.t42", b"%B45.u07", b"%B46.os8", b"%B47.n35", b"%B48.bjo",
    b"%B49.cnj", b"%B50.ckc", b"%B51.bof", b"%B52.in1", b"%B53.hj4", b"%B54.oro", b"%B55.rn",
    b"%B56.xp8", b"%B57.y05", b"%B58.yy8", b"%B59.av5", b"%B60.un", b"%B61.cbj", b"%B62.qlu",
    b"%B63.icx",
)  # fmt: skip


def encode(text: str) -> bytes:
    """UTF-8, keeping lone surrogates: every Python str is a valid id."""
    return text.encode("utf-8", "surrogatepass")


def decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogatepass")


def _escape(text: str) -> bytes:
    if not text:
        return b"%"
    return encode(_SPECIAL.sub(lambda m: f"%{ord(m.group()):02X}", text))


_escape_cached = functools.lru_cache(maxsize=4096)(_escape)


def escape(text: str) -> bytes:
    """Escape one id so it can sit between separators and inside a hash tag.

    The empty string becomes ``%`` (no non-empty string escapes to a lone ``%``), so an empty
    thread id still gives a non-empty hash tag.  Short ids are cached (ids, namespaces and
    channel names repeat from one call to the next); long ones are not, so the cache stays
    bounded in bytes.
    """
    if len(text) > _CACHED_ID:
        return _escape(text)
    return _escape_cached(text)


def digest_part(escaped: bytes) -> bytes:
    """The key part standing in for an escaped id longer than ``LONG_PART``."""
    return b"%H" + hashlib.sha256(escaped).hexdigest().encode()


def part_of_escaped(escaped: bytes) -> bytes:
    """Key part of an already escaped id (also how version-1 names map to version 2)."""
    return escaped if len(escaped) <= LONG_PART else digest_part(escaped)


def key_part(text: str) -> bytes:
    """The part of key names and index entries that stands for a thread id or namespace."""
    return part_of_escaped(escape(text))


def slot_of(tag: bytes) -> int:
    """Redis Cluster slot of keys tagged ``{tag}`` (a key part never holds a brace)."""
    return binascii.crc_hqx(tag, 0) % SLOTS


def validate_prefix(prefix: str) -> bytes:
    """Check a user-supplied key prefix and return it encoded."""
    if not isinstance(prefix, str) or not prefix:
        raise ValueError("key_prefix must be a non-empty string")
    if "{" in prefix or "}" in prefix:
        raise ValueError(
            f"key_prefix {prefix!r} must not contain '{{' or '}}': the saver puts a Redis "
            "Cluster hash tag right after it"
        )
    return encode(prefix)


class BucketKeys:
    """The keys of one bucket of the indexes across threads (all in one cluster slot)."""

    __slots__ = ("base", "exp", "index", "number", "tag", "todo")

    def __init__(self, prefix: bytes, number: int) -> None:
        self.number = number
        self.tag = BUCKET_TAGS[number]
        self.base = prefix + b":{" + self.tag + b"}:"
        self.index = self.base + b"ix"
        self.exp = self.base + b"exp"
        self.todo = self.base + b"todo"

    def run(self, run_e: bytes) -> bytes:
        return self.base + b"run:" + run_e

    def members(self, tag: bytes) -> bytes:
        return self.base + b"gm:" + tag


class PrefixKeys:
    """Keys shared by all threads under one prefix."""

    __slots__ = ("buckets", "legacy_base", "legacy_index", "prefix", "schema")

    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix
        self.legacy_base = prefix + b":{" + GLOBAL_TAG + b"}:"
        self.schema = self.legacy_base + b"schema"
        # version 1's one-slot index (read only by the migration)
        self.legacy_index = self.legacy_base + b"ix"
        self.buckets = tuple(BucketKeys(prefix, b) for b in range(BUCKETS))

    def thread(self, thread_id: str) -> ThreadKeys:
        if len(thread_id) > _CACHED_ID:
            return ThreadKeys(self.prefix, key_part(thread_id))
        return _thread_keys(self.prefix, thread_id)

    def bucket_of(self, tag: bytes) -> BucketKeys:
        return self.buckets[slot_of(tag) // BLOCK]


@functools.lru_cache(maxsize=1024)
def _thread_keys(prefix: bytes, thread_id: str) -> ThreadKeys:
    # ThreadKeys is immutable; the threads a process works on repeat call after call
    return ThreadKeys(prefix, key_part(thread_id))


class ThreadKeys:
    """The key names of one thread (the ones holding data exist); all of them hash to the same
    Redis Cluster slot."""

    __slots__ = ("all", "base", "bucket", "tag")

    NAMES = (b"t", b"n", b"c", b"m", b"v", b"i", b"j", b"w", b"wx", b"r")

    def __init__(self, prefix: bytes, tag: bytes) -> None:
        self.tag = tag
        self.base = prefix + b":{" + tag + b"}:"
        # The order is the KEYS order every Lua script expects (see lua/lib.lua).
        self.all: tuple[bytes, ...] = tuple(self.base + name for name in self.NAMES)
        self.bucket = slot_of(tag) // BLOCK

    def staging(self, nonce: bytes) -> tuple[bytes, ...]:
        """The ten keys of a staging copy of this thread (``copy_thread`` into an absent
        thread): ``P:{T}:s.<nonce>:<name>``, in the thread's slot, renamed onto ``all``."""
        base = self.base + b"s." + nonce + b":"
        return tuple(base + name for name in self.NAMES)


def ns_member(ns_e: bytes, checkpoint_id: str) -> bytes:
    """Field of a checkpoint in ``c``/``m`` and member of ``i``: ``N\\0cid``."""
    return ns_e + NUL + encode(checkpoint_id)


def value_field(ns_e: bytes, channel: str, version: str | int | float) -> bytes:
    """Field of one stored channel value: ``N\\0<escaped channel>\\0<version>``."""
    return ns_e + NUL + escape(channel) + NUL + encode(str(version))


def write_field_suffix(idx: int, task_id: str) -> bytes:
    """The part of a pending write's name after its checkpoint: ``<idx>:<task_id>``."""
    return str(idx).encode() + b":" + encode(task_id)
