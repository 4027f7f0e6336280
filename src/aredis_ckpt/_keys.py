"""Key schema: every Redis key name the savers use, built by escaping, never parsed back.

``P`` is the key prefix, ``T`` the escaped thread id, ``N`` an escaped namespace, ``cid`` a raw
checkpoint id, ``\\0`` a NUL byte.  A thread owns the fixed set of keys below, whatever its length
or number of namespaces (a key with nothing to hold does not exist: a thread whose checkpoints
carry no run id has no ``r``), all carrying the Redis Cluster hash tag ``{T}`` so that every
thread operation is one atomic script even on a cluster::

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

Keys shared by the threads of a prefix carry the tag ``{%G}``, which escaping cannot produce::

    P:{%G}:schema       STRING  schema version of the data under this prefix
    P:{%G}:ix           ZSET    cid\\0T\\0N for every checkpoint (``list(None)``)
    P:{%G}:run:<run>    SET     T of each thread holding checkpoints of the run

Escaping turns ``%``, ``{``, ``}``, ``:`` and control characters into ``%XX``, so an escaped
part never holds a separator, a brace or a NUL.  A raw id only ever stands first or last in a
name, or after its own length, so each name maps back to exactly one tuple of ids.
"""

from __future__ import annotations

import functools
import re

__all__ = [
    "PrefixKeys",
    "ThreadKeys",
    "escape",
    "ns_member",
    "validate_prefix",
    "value_field",
    "write_field_suffix",
]

_SPECIAL = re.compile(r"[%{}:\x00-\x1f\x7f]")
NUL = b"\x00"
GLOBAL_TAG = b"%G"


def encode(text: str) -> bytes:
    """UTF-8, keeping lone surrogates: every Python str is a valid id."""
    return text.encode("utf-8", "surrogatepass")


def decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogatepass")


@functools.lru_cache(maxsize=4096)
def escape(text: str) -> bytes:
    """Escape one id so it can sit between separators and inside a hash tag.

    The empty string becomes ``%`` (no non-empty string escapes to a lone ``%``), so an empty
    thread id still gives a non-empty hash tag.
    """
    if not text:
        return b"%"
    return encode(_SPECIAL.sub(lambda m: f"%{ord(m.group()):02X}", text))


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


class PrefixKeys:
    """Keys shared by all threads under one prefix."""

    __slots__ = ("global_base", "global_index", "prefix", "schema")

    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix
        self.global_base = prefix + b":{" + GLOBAL_TAG + b"}:"
        self.schema = self.global_base + b"schema"
        self.global_index = self.global_base + b"ix"

    def run(self, run_e: bytes) -> bytes:
        return self.global_base + b"run:" + run_e

    def thread(self, thread_id: str) -> ThreadKeys:
        return _thread_keys(self.prefix, thread_id)


@functools.lru_cache(maxsize=1024)
def _thread_keys(prefix: bytes, thread_id: str) -> ThreadKeys:
    # ThreadKeys is immutable; the threads a process works on repeat call after call
    return ThreadKeys(prefix, escape(thread_id))


class ThreadKeys:
    """The key names of one thread (the ones holding data exist); all of them hash to the same
    Redis Cluster slot."""

    __slots__ = ("all", "base", "tag")

    NAMES = (b"t", b"n", b"c", b"m", b"v", b"i", b"j", b"w", b"wx", b"r")

    def __init__(self, prefix: bytes, tag: bytes) -> None:
        self.tag = tag
        self.base = prefix + b":{" + tag + b"}:"
        # The order is the KEYS order every Lua script expects (see lua/lib.lua).
        self.all: tuple[bytes, ...] = tuple(self.base + name for name in self.NAMES)


def ns_member(ns_e: bytes, checkpoint_id: str) -> bytes:
    """Field of a checkpoint in ``c``/``m`` and member of ``i``: ``N\\0cid``."""
    return ns_e + NUL + encode(checkpoint_id)


def value_field(ns_e: bytes, channel: str, version: str | int | float) -> bytes:
    """Field of one stored channel value: ``N\\0<escaped channel>\\0<version>``."""
    return ns_e + NUL + escape(channel) + NUL + encode(str(version))


def write_field_suffix(idx: int, task_id: str) -> bytes:
    """The part of a pending write's name after its checkpoint: ``<idx>:<task_id>``."""
    return str(idx).encode() + b":" + encode(task_id)
