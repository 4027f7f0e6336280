"""Everything the two node caches share that does no I/O.

``AsyncRedisCache`` (``_async/cache.py``) and its generated twin ``RedisCache`` only sequence
Redis calls: validation, key names, the arguments of the ``lua/cache_*.lua`` scripts and the
decoding of their replies live here.

Layout.  ``P`` is the key prefix and ``p`` its escaped form.  A cache entry ``(namespace, key)``
lives in one of ``BUCKETS`` buckets, chosen by a CRC-32 of the namespace and the key; every key
of bucket ``b`` carries the hash tag ``{%C<p>:<b>}`` (``_keys.escape`` writes ``%`` only before
two hex digits, so no thread's tag can be one), so a bucket is one Redis Cluster slot and the
cache spreads over ``BUCKETS`` slots.  ``N`` is a namespace's labels, each escaped, joined by
``:`` (the empty namespace is empty); ``g`` is the bucket's current generation (random hex)::

    P:{%C<p>:<b>}:g          STRING  current generation of the bucket
    P:{%C<p>:<b>}:n          ZSET    N -> when its entries' keys expire (ms; +inf: never)
    P:{%C<p>:<b>}:e:<g>:<N>  HASH    key -> "<expiry ms or 0> <tag length><tag><payload>"
    P:{%C<p>:<b>}:x:<g>:<N>  ZSET    key -> expiry ms, for the entries that have one
    P:{%C<p>:<b>}:q          LIST    generations retired by clear(), oldest first
    P:{%C<p>:<b>}:o:<g>      ZSET    the registry ``n`` of retired generation g, being unlinked

Expiry.  A hit needs ``now < expiry`` on the server's clock, checked by the script on every
read (an expired entry is deleted as it is found), so an expired entry never reads as a hit
whatever became of the other keys.  Memory comes back three ways: when every entry of a
namespace has an expiry, its two keys carry the last one as their own Redis expiry (and the
registry records it, so the name is dropped once it passes); each write also removes up to
``WRITE_SWEEP`` + 2 per written entry of the namespace's expired entries (from ``x``); and each
write sweeps a few expired registry names and retired namespaces of its bucket.

Clearing.  ``clear(namespaces)`` unlinks the namespaces' two keys in every bucket (``UNLINK`` is
O(1) on the server's main thread whatever the hash holds).  ``clear()`` switches each bucket to
a new generation at once, so nothing older is visible from that moment, retires the old
registry to ``o:<g>`` and then unlinks it in slices of ``COLLECT_BUDGET`` namespaces per
script call; a clear that is interrupted leaves the rest to later writes.  No ``KEYS`` or
``SCAN`` anywhere.
"""

from __future__ import annotations

import functools
import logging
import math
import numbers
import os
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from langgraph.cache.base import BaseCache, FullKey, ValueT
from langgraph.checkpoint.serde.base import SerializerProtocol
from redis.exceptions import ResponseError

from aredis_ckpt._config import (
    DEFAULT_COMPRESS_THRESHOLD,
    DEFAULT_KEY_PREFIX,
    DEFAULT_MAX_PAYLOAD_BYTES,
)
from aredis_ckpt._guards import is_out_of_memory
from aredis_ckpt._keys import encode, escape, validate_prefix
from aredis_ckpt._limits import check_limit_option, check_request, size_of
from aredis_ckpt._scripts import CACHE_SCRIPTS, LuaScript
from aredis_ckpt._serde import compress, decompress
from aredis_ckpt.errors import CorruptedDataError, ServerOutOfMemoryError

__all__ = [
    "BUCKETS",
    "IN_PLACE",
    "BaseRedisCache",
    "CacheCall",
    "CacheKeys",
    "ErrorMode",
    "bucket_of",
    "is_out_of_memory",
    "ns_path",
]

logger = logging.getLogger("aredis_ckpt")

BUCKETS: Final = 16
CACHE_TAG: Final = b"%C"
# Longest TTL kept as given (about 35,000 years): expiry times stay exact in Lua's doubles.
MAX_TTL_MS: Final = 2**50

ErrorMode = Literal["raise", "miss"]
Arg = bytes | str | int | float
# The reset script's mode that unlinks namespaces in place (what a full server still allows).
IN_PLACE: Final = b"!"


class CacheKeys:
    """The generation key of each bucket under one prefix (scripts derive the rest)."""

    __slots__ = ("generation",)

    def __init__(self, prefix: bytes) -> None:
        tag = CACHE_TAG + escape(prefix.decode("utf-8", "surrogatepass")) + b":"
        self.generation: tuple[bytes, ...] = tuple(
            prefix + b":{" + tag + str(b).encode() + b"}:g" for b in range(BUCKETS)
        )


def ns_path(namespace: tuple[str, ...]) -> bytes:
    """``N``: each label escaped (so it holds no ``:``), joined by ``:``."""
    return _namespace(namespace)[0]


@functools.lru_cache(maxsize=4096)
def _namespace(namespace: tuple[str, ...]) -> tuple[bytes, int]:
    """``N`` and the CRC-32 its entries' buckets start from (a cache: namespaces repeat)."""
    for label in namespace:
        if not isinstance(label, str):
            raise TypeError(
                f"cache namespace labels must be str, got {type(label).__name__} {label!r} in "
                f"{namespace!r}"
            )
    path = b":".join(escape(label) for label in namespace)
    return path, zlib.crc32(path + b"\x00")


def bucket_of(ns: bytes, key: bytes) -> int:
    """The bucket of an entry: fixed by the layout, the same in every process."""
    return zlib.crc32(key, zlib.crc32(ns + b"\x00")) % BUCKETS


def locate(full_key: Any) -> tuple[FullKey, bytes, bytes, int]:
    """``((namespace, key), N, key in UTF-8, bucket)`` of a ``(namespace, key)`` pair, checked."""
    try:
        namespace, key = full_key
    except (TypeError, ValueError):
        raise TypeError(f"a cache key must be a (namespace, key) pair, got {full_key!r}") from None
    if type(namespace) is not tuple:
        namespace = check_namespace(namespace)
    if not isinstance(key, str):
        raise TypeError(f"cache keys must be str, got {type(key).__name__} {key!r}")
    try:
        path, seed = _namespace(namespace)
    except TypeError:
        check_namespace(namespace)  # an unhashable label: say which
        raise
    raw = encode(key)
    return (namespace, key), path, raw, zlib.crc32(raw, seed) % BUCKETS


@dataclass(frozen=True)
class CacheCall:
    """One script call: its generation keys (one per bucket, ``buckets`` in the same order)."""

    script: LuaScript
    keys: tuple[bytes, ...]
    args: tuple[Arg, ...]
    buckets: tuple[int, ...]


# ---------------------------------------------------------------------- validation


def check_namespace(namespace: Any) -> tuple[str, ...]:
    if not isinstance(namespace, (tuple, list)):
        raise TypeError(
            f"a cache namespace must be a tuple of str, got {type(namespace).__name__} "
            f"{namespace!r}"
        )
    for label in namespace:
        if not isinstance(label, str):
            raise TypeError(
                f"cache namespace labels must be str, got {type(label).__name__} {label!r} in "
                f"{namespace!r}"
            )
    return tuple(namespace)


def ttl_arg(ttl: Any) -> bytes:
    """A TTL in seconds as the set script takes it: ``""`` none, ``"0"`` expired, else ms.

    As in ``InMemoryCache``, an entry with a TTL of 0 or less is expired as soon as it is set.
    """
    if ttl is None:
        return b""
    if type(ttl) is int and ttl > 0:
        return str(min(MAX_TTL_MS, ttl * 1000)).encode()
    if isinstance(ttl, bool) or not isinstance(ttl, numbers.Real):
        raise TypeError(f"a cache TTL must be a number of seconds or None, got {ttl!r}")
    seconds = float(ttl)
    if not math.isfinite(seconds):
        raise ValueError(f"a cache TTL must be finite, got {ttl!r}")
    if seconds <= 0:
        return b"0"
    return str(min(MAX_TTL_MS, max(1, math.ceil(seconds * 1000)))).encode()


def new_generation() -> bytes:
    return os.urandom(8).hex().encode()


# ---------------------------------------------------------------------- entries


def dump_entry(serde: SerializerProtocol, value: Any, threshold: int | None) -> bytes:
    """``<tag length><tag><payload>``: the script puts the expiry in front."""
    tag, data = compress(*serde.dumps_typed(value), threshold)
    return _tag_header(tag) + data


@functools.lru_cache(maxsize=64)
def _tag_header(tag: str) -> bytes:
    raw = tag.encode()
    if len(raw) > 255:
        raise ValueError(f"serializer type tag too long: {tag!r}")
    return bytes((len(raw),)) + raw


def load_entry(serde: SerializerProtocol, entry: bytes, full_key: FullKey) -> Any:
    try:
        space = entry.index(b" ")
        int(entry[:space])
        size = entry[space + 1]
        tag = entry[space + 2 : space + 2 + size].decode()
        payload = entry[space + 2 + size :]
        return serde.loads_typed(decompress(tag, payload))
    except Exception as exc:
        raise CorruptedDataError(
            f"cache entry {full_key!r} could not be decoded: {type(exc).__name__}: {exc}"
        ) from exc


# ---------------------------------------------------------------------- the shared base


class BaseRedisCache(BaseCache[ValueT]):
    """Construction, validation, script arguments and reply decoding of the node caches."""

    # Namespace keys a clear() or clear(namespaces) script call unlinks at most; a call that
    # unlinks a few thousand keys stays around a millisecond of server time.
    CLEAR_BUDGET = 2048
    COLLECT_BUDGET = 2048
    # Housekeeping every set does in each bucket it writes (see the module docstring).
    WRITE_SWEEP = 64
    WRITE_REGISTRY_SWEEP = 16
    WRITE_COLLECT = 8

    def __init__(
        self,
        *,
        key_prefix: str | None,
        serde: SerializerProtocol | None,
        cluster: bool,
        compress_threshold: int | None = DEFAULT_COMPRESS_THRESHOLD,
        errors: ErrorMode = "raise",
        max_payload_bytes: int | None = DEFAULT_MAX_PAYLOAD_BYTES,
    ) -> None:
        super().__init__(serde=serde)
        if compress_threshold is not None and (
            isinstance(compress_threshold, bool)
            or not isinstance(compress_threshold, int)
            or compress_threshold < 1
        ):
            raise ValueError(
                f"compress_threshold must be a positive int or None, got {compress_threshold!r}"
            )
        if errors not in ("raise", "miss"):
            raise ValueError(f"errors must be 'raise' or 'miss', got {errors!r}")
        self.key_prefix = DEFAULT_KEY_PREFIX if key_prefix is None else key_prefix
        self.errors: ErrorMode = errors
        self._compress = compress_threshold
        self._max_payload = check_limit_option(max_payload_bytes)
        self._ck = CacheKeys(validate_prefix(self.key_prefix))
        # On a cluster each bucket is its own script call (its own slot); on one server one
        # call covers every bucket a batch touches.
        self._cluster = cluster
        self._failures_seen: set[tuple[str, str]] = set()

    # ------------------------------------------------------------------ failures

    def _failed(self, op: str, exc: Exception) -> None:
        """Raise ``exc`` (``errors="raise"``), or log it as a miss: at WARNING the first time
        this operation fails with this kind of error, at DEBUG afterwards."""
        if self.errors == "raise":
            raise exc
        kind = (op, type(exc).__name__)
        if kind in self._failures_seen:
            logger.debug("cache %s failed, treated as a miss: %r", op, exc)
            return
        self._failures_seen.add(kind)
        logger.warning(
            "cache %s failed, treated as a miss (errors='miss'; further %s failures of %s "
            "are logged at DEBUG): %r",
            op,
            op,
            type(exc).__name__,
            exc,
        )

    def _named(self, exc: Exception, op: str) -> Exception:
        """``exc``, or the ``ServerOutOfMemoryError`` it stands for."""
        if not isinstance(exc, ResponseError) or not is_out_of_memory(exc):
            return exc
        named = ServerOutOfMemoryError(
            f"a cache {op} under prefix {self.key_prefix!r} was refused: Redis is out of memory "
            "(used memory over maxmemory, nothing it may evict); nothing of it was written. "
            f"Server said: {exc}"
        )
        named.__cause__ = exc
        return named

    # ------------------------------------------------------------------ script calls

    def _calls(
        self,
        script: LuaScript,
        head: Sequence[Arg],
        groups: Mapping[int, Mapping[bytes, Sequence[tuple[FullKey, Sequence[Arg]]]]],
    ) -> tuple[list[CacheCall], list[list[FullKey]]]:
        """Calls for per-bucket, per-namespace groups of entries; and the keys whose replies
        each call lists, in order."""
        parts = sorted(groups.items())
        chunks = [[part] for part in parts] if self._cluster else [parts]
        calls: list[CacheCall] = []
        orders: list[list[FullKey]] = []
        for chunk in chunks:
            args: list[Arg] = list(head)
            order: list[FullKey] = []
            for _, spaces in chunk:
                args.append(len(spaces))
                for path, entries in spaces.items():
                    args += (path, len(entries))
                    for full, entry_args in entries:
                        args += entry_args
                        order.append(full)
            buckets = tuple(b for b, _ in chunk)
            keys = tuple(self._ck.generation[b] for b in buckets)
            calls.append(CacheCall(script, keys, tuple(args), buckets))
            orders.append(order)
        return calls, orders

    def _get_calls(self, keys: Iterable[FullKey]) -> tuple[list[CacheCall], list[list[FullKey]]]:
        groups: dict[int, dict[bytes, list[tuple[FullKey, Sequence[Arg]]]]] = {}
        seen: set[FullKey] = set()
        for item in keys:
            full, path, raw, bucket = locate(item)
            if full in seen:
                continue
            seen.add(full)
            spaces = groups.get(bucket)
            if spaces is None:
                spaces = groups[bucket] = {}
            entries = spaces.get(path)
            if entries is None:
                entries = spaces[path] = []
            entries.append((full, (raw,)))
        return self._calls(CACHE_SCRIPTS.get, (), groups)

    def _check_pairs(
        self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]
    ) -> list[tuple[FullKey, bytes, bytes, int, Any, bytes]]:
        """``(full key, N, key, bucket, value, ttl argument)`` of each pair (bad input raises
        here, before anything is sent)."""
        if not isinstance(pairs, Mapping):
            raise TypeError(
                f"set takes a mapping {{(namespace, key): (value, ttl)}}, got {pairs!r}"
            )
        checked = []
        for item, pair in pairs.items():
            full, path, raw, bucket = locate(item)
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"set: the value of {item!r} must be (value, ttl), got {pair!r}")
            value, ttl = pair
            checked.append((full, path, raw, bucket, value, ttl_arg(ttl)))
        return checked

    def _set_calls(
        self, checked: Sequence[tuple[FullKey, bytes, bytes, int, Any, bytes]]
    ) -> list[CacheCall]:
        groups: dict[int, dict[bytes, list[tuple[FullKey, Sequence[Arg]]]]] = {}
        for full, path, raw, bucket, value, ttl in checked:
            entry = (raw, ttl, dump_entry(self.serde, value, self._compress))
            groups.setdefault(bucket, {}).setdefault(path, []).append((full, entry))
        head = (
            new_generation(),
            self.WRITE_SWEEP,
            self.WRITE_REGISTRY_SWEEP,
            self.WRITE_COLLECT,
        )
        calls, orders = self._calls(CACHE_SCRIPTS.set, head, groups)

        def records(order: Sequence[FullKey]) -> list[tuple[str, int]]:
            # the sizes of a call's values, only to word an error
            sizes = {
                full: size_of(entry[2])
                for spaces in groups.values()
                for entries in spaces.values()
                for full, entry in entries
            }
            return [(repr(full), int(sizes[full])) for full in order]

        for call, order in zip(calls, orders, strict=True):
            check_request(
                self._max_payload,
                None,
                "set",
                f"cache prefix {self.key_prefix!r} ({len(order)} entries)",
                call.args,
                lambda order=order: records(order),  # type: ignore[misc]
            )
        return calls

    def _clear_rounds(self, namespaces: object) -> list[list[CacheCall]]:
        """Calls unlinking exactly these namespaces, in rounds of at most one call per bucket
        (each call unlinks at most ``CLEAR_BUDGET`` namespace keys)."""
        if isinstance(namespaces, (str, bytes)) or not isinstance(namespaces, Iterable):
            raise TypeError(f"clear takes a sequence of namespaces, got {namespaces!r}")
        paths = list(dict.fromkeys(ns_path(check_namespace(ns)) for ns in namespaces))
        if not paths:
            return []
        everything = tuple(range(BUCKETS))
        per_call = max(1, self.CLEAR_BUDGET // (1 if self._cluster else BUCKETS))
        rounds = []
        for start in range(0, len(paths), per_call):
            part = tuple(paths[start : start + per_call])
            if self._cluster:
                rounds.append(
                    [
                        CacheCall(CACHE_SCRIPTS.clear, (self._ck.generation[b],), part, (b,))
                        for b in everything
                    ]
                )
            else:
                rounds.append(
                    [CacheCall(CACHE_SCRIPTS.clear, self._ck.generation, part, everything)]
                )
        return rounds

    def _reset_calls(self, buckets: Sequence[int], mode: bytes) -> list[CacheCall]:
        """Calls switching ``buckets`` to generation ``mode`` (``b""``: only collecting;
        ``IN_PLACE``: unlinking the current generation's namespaces in place)."""
        args = (mode, self.COLLECT_BUDGET)
        if self._cluster:
            return [
                CacheCall(CACHE_SCRIPTS.reset, (self._ck.generation[b],), args, (b,))
                for b in buckets
            ]
        keys = tuple(self._ck.generation[b] for b in buckets)
        return [CacheCall(CACHE_SCRIPTS.reset, keys, args, tuple(buckets))]

    @staticmethod
    def _still_collecting(calls: Sequence[CacheCall], replies: Sequence[Any]) -> list[int]:
        left = []
        for call, reply in zip(calls, replies, strict=True):
            left += [b for b, more in zip(call.buckets, reply, strict=True) if int(more)]
        return left

    # ------------------------------------------------------------------ replies

    def _decode_get(
        self, orders: Sequence[Sequence[FullKey]], replies: Sequence[Any]
    ) -> dict[FullKey, ValueT]:
        found: dict[FullKey, ValueT] = {}
        for order, reply in zip(orders, replies, strict=True):
            for full, entry in zip(order, reply, strict=True):
                if entry is None:
                    continue
                try:
                    found[full] = load_entry(self.serde, entry, full)
                except CorruptedDataError as exc:
                    self._failed("get", exc)
        return found
