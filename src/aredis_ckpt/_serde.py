"""Encoding of what the savers store: checkpoints, metadata, channel values, pending writes.

Everything LangGraph hands us goes through the saver's ``serde`` (``dumps_typed`` /
``loads_typed``); this module only frames those typed payloads so they can be stored and so Lua
can read the few fields it needs (parents, channel versions, filterable metadata) without ever
decoding user data.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import struct
import threading
import zlib
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypeAlias, cast

import ormsgpack
import zstandard
from langgraph.checkpoint.base import Checkpoint, CheckpointMetadata
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer

from aredis_ckpt._keys import decode, encode, value_field

__all__ = [
    "EMPTY",
    "NotEncrypted",
    "canonical",
    "dump_checkpoint",
    "dump_meta",
    "dump_value",
    "dump_write",
    "filter_digest",
    "load_checkpoint",
    "load_value",
    "load_write",
    "pack_len",
    "pack_str",
    "pack_write",
    "serializer_encrypts",
    "write_task",
]


class _Empty:
    """A channel in ``new_versions`` that had no value: it reads back as absent."""

    def __repr__(self) -> str:
        return "EMPTY"


EMPTY: Final = _Empty()
EMPTY_BLOB: Final = b"\x05empty"


def _frame(tag: str, data: bytes) -> bytes:
    raw = tag.encode()
    if len(raw) > 255:
        raise ValueError(f"serializer type tag too long: {tag!r}")
    return bytes((len(raw),)) + raw + data


ZSTD = "zstd+"
ZLIB = "zlib+"  # written by aredis-ckpt before 0.1: still read
# A value stored as parts (see _appends.py): each part is <kind byte><skip byte><length
# (4 bytes, big-endian)><bytes>, kind 0 literal bytes, kind 1 a zstd frame; the value is the
# parts' outputs joined, each without its first `skip` bytes.
ZSEG = "zseg+"
_CODECS: Final = (ZSTD, ZSEG, ZLIB)
_PART: Final = struct.Struct(">BBI")
#: One part of a ``zseg+`` value: (kind, skip, bytes).
Part: TypeAlias = "tuple[int, int, bytes]"
# zstd level 1: on a 9 KB chat state about 2.5x faster than zlib level 1 both ways, and smaller.
_ZSTD_LEVEL: Final = 1
_zstd_local = threading.local()


def _zstd_compress(data: bytes | memoryview) -> bytes:
    # Zstd(De)Compressor objects are not thread-safe: one per thread, reused.
    try:
        return cast(bytes, _zstd_local.c.compress(data))
    except AttributeError:
        _zstd_local.c = zstandard.ZstdCompressor(level=_ZSTD_LEVEL)
        return cast(bytes, _zstd_local.c.compress(data))


def _zstd_decompress(data: bytes | memoryview) -> bytes:
    try:
        return cast(bytes, _zstd_local.d.decompress(data))
    except AttributeError:
        _zstd_local.d = zstandard.ZstdDecompressor()
        return cast(bytes, _zstd_local.d.decompress(data))


def compress(tag: str, data: bytes, threshold: int | None) -> tuple[str, bytes]:
    """Compress a payload of ``threshold`` bytes or more, recording it in the type tag.

    Kept only when it saves at least a tenth (encrypted payloads do not compress).  Reading
    looks at the tag, so stored data stays readable whatever the setting.
    """
    if threshold is None or len(data) < threshold:
        return tag, data
    packed = _zstd_compress(data)
    if len(packed) > len(data) * 0.9:
        return tag, data
    return ZSTD + tag, packed


def decompress(tag: str, data: bytes) -> tuple[str, bytes]:
    if tag.startswith(ZSTD):
        return tag[len(ZSTD) :], _zstd_decompress(data)
    if tag.startswith(ZSEG):
        return tag[len(ZSEG) :], _join_parts(data)
    if tag.startswith(ZLIB):
        return tag[len(ZLIB) :], zlib.decompress(data)
    return tag, data


def seg_payload(parts: Sequence[Part]) -> bytes:
    """The payload of a ``zseg+`` value (see ``ZSEG``)."""
    out: list[bytes] = []
    for kind, skip, raw in parts:
        out.append(_PART.pack(kind, skip, len(raw)))
        out.append(raw)
    return b"".join(out)


def _join_parts(data: bytes) -> bytes:
    view = memoryview(data)
    out: list[bytes] = []
    pos, end = 0, len(data)
    while pos < end:
        if pos + _PART.size > end:
            raise ValueError("truncated zseg+ value")
        kind, skip, n = _PART.unpack_from(data, pos)
        pos += _PART.size
        if pos + n > end:
            raise ValueError("truncated zseg+ value")
        if kind == 0:
            raw = data[pos : pos + n]
        elif kind == 1:
            raw = _zstd_decompress(view[pos : pos + n])
        else:
            raise ValueError(f"zseg+ value with a part of unknown kind {kind}")
        if len(raw) < skip:
            raise ValueError("zseg+ part skips more than it holds")
        out.append(raw[skip:] if skip else raw)
        pos += n
    if not out:
        raise ValueError("zseg+ value without parts")
    return b"".join(out)


class NotEncrypted(Exception):
    """A record whose type tag shows no encryption, read with encryption required."""

    def __init__(self, record: str, tag: str) -> None:
        super().__init__(f"{record} is not encrypted (type tag {tag!r})")
        self.record = record
        self.tag = tag


def _require_encrypted(record: str, tag: str) -> None:
    # LangGraph's EncryptedSerializer tags what it encrypts "<type>+<cipher>" and hands any tag
    # without "+" to the inner serializer as plaintext: exactly those are refused (checked
    # before decompressing, so a forged record costs no work).
    for codec in _CODECS:
        if tag.startswith(codec):
            tag = tag[len(codec) :]
            break
    if "+" not in tag:
        raise NotEncrypted(record, tag)


_PROBE: Final = {"aredis-ckpt": "does this serializer encrypt?"}


def serializer_encrypts(serde: SerializerProtocol) -> bool:
    """Whether ``serde`` encrypts what it stores, the way LangGraph's ``EncryptedSerializer``
    does: its type tags read ``<type>+<cipher>`` (``msgpack+aes``).

    An ``EncryptedSerializer`` is recognised by type; any other serializer (a wrapper around
    one, say) by the tag it gives a small probe value.
    """
    if isinstance(serde, EncryptedSerializer):
        return True
    try:
        tag, _ = serde.dumps_typed(_PROBE)
    except Exception:
        return False
    return isinstance(tag, str) and "+" in tag


def dump_value(serde: SerializerProtocol, value: Any, threshold: int | None = None) -> bytes:
    """A channel value: ``<tag length><tag><payload>`` (Lua recognises the ``empty`` tag).

    (``put`` compresses through ``_appends.Appends`` instead: see ``_base._put_call``.)
    """
    tag, data = serde.dumps_typed(value)
    return _frame(*compress(tag, data, threshold))


def framed(tag: str, data: bytes) -> bytes:
    """A channel value stored as serialized (``<tag length><tag><payload>``)."""
    return _frame(tag, data)


def load_value(serde: SerializerProtocol, blob: bytes, encrypted: bool = False) -> Any:
    """A channel value; with ``encrypted``, ``NotEncrypted`` for a plaintext one."""
    size = blob[0]
    tag = blob[1 : 1 + size].decode()
    if tag == "empty":
        return EMPTY
    if encrypted:
        _require_encrypted("value", tag)
    return serde.loads_typed(decompress(tag, blob[1 + size :]))


def dump_checkpoint(
    serde: SerializerProtocol, checkpoint: Checkpoint, metadata: CheckpointMetadata
) -> bytes:
    """The checkpoint without its channel values, and its metadata: what the client decodes."""
    body = {k: v for k, v in checkpoint.items() if k != "channel_values"}
    ck_tag, ck_data = serde.dumps_typed(body)
    md_tag, md_data = serde.dumps_typed(metadata)
    return ormsgpack.packb((ck_tag, ck_data, md_tag, md_data))


def load_checkpoint(
    serde: SerializerProtocol, blob: bytes, encrypted: bool = False
) -> tuple[Any, Any]:
    """The checkpoint (without channel values) and its metadata; with ``encrypted``,
    ``NotEncrypted`` when either is plaintext."""
    ck_tag, ck_data, md_tag, md_data = ormsgpack.unpackb(blob)
    if encrypted:
        _require_encrypted("checkpoint", ck_tag)
        _require_encrypted("metadata", md_tag)
    return serde.loads_typed((ck_tag, ck_data)), serde.loads_typed((md_tag, md_data))


def pack_str(out: bytearray, raw: bytes) -> None:
    n = len(raw)
    if n < 32:
        out.append(0xA0 | n)
    elif n < 0x100:
        out += b"\xd9" + struct.pack(">B", n)
    elif n < 0x10000:
        out += b"\xda" + struct.pack(">H", n)
    else:
        out += b"\xdb" + struct.pack(">I", n)
    out += raw


def pack_len(out: bytearray, n: int, fix: int, b16: bytes, b32: bytes) -> None:
    if n < 16:
        out.append(fix | n)
    elif n < 0x10000:
        out += b16 + struct.pack(">H", n)
    else:
        out += b32 + struct.pack(">I", n)


def _lua_pack(out: bytearray, obj: bytes | Sequence[bytes] | Mapping[bytes, bytes]) -> None:
    # Redis' Lua cmsgpack predates msgpack's bin type: strings only, packed as "str".
    if isinstance(obj, bytes):
        pack_str(out, obj)
    elif isinstance(obj, Mapping):
        pack_len(out, len(obj), 0x80, b"\xde", b"\xdf")
        for k, v in obj.items():
            pack_str(out, k)
            pack_str(out, v)
    else:
        pack_len(out, len(obj), 0x90, b"\xdc", b"\xdd")
        for item in obj:
            pack_str(out, item)


def dump_meta(
    parent: str,
    channels: Sequence[str],
    ns_e: bytes,
    versions: Mapping[str, Any],
    metadata: Mapping[str, Any],
    run: bytes,
) -> bytes:
    """What Lua reads: ``[parent, channels, value fields, {key: canonical value}, run]``.

    ``channels`` in stored order; the value field of each is ``value_field(ns_e, channel,
    versions[channel])``.  A step changes one or two channels and repeats its metadata keys,
    so the packed pieces (each channel, each value field, each scalar metadata entry) come
    from small bounded caches: a put packs only what is new.
    """
    out = bytearray(b"\x95")
    pack_str(out, encode(parent))
    pack_len(out, len(channels), 0x90, b"\xdc", b"\xdd")
    out += b"".join([_packed_channel(c) for c in channels])
    pack_len(out, len(channels), 0x90, b"\xdc", b"\xdd")
    out += b"".join([_packed_field(ns_e, c, versions[c]) for c in channels])
    pack_len(out, len(metadata), 0x80, b"\xde", b"\xdf")
    for k, v in metadata.items():
        out += _packed_entry(k, v)
    pack_str(out, run)
    return bytes(out)


def _packed(raw: bytes) -> bytes:
    out = bytearray()
    pack_str(out, raw)
    return bytes(out)


# Entries of the caches below are at most a few hundred bytes: longer names are packed anew.
_CACHED_NAME: Final = 256


@functools.lru_cache(maxsize=1024)
def _packed_channel_cached(channel: str) -> bytes:
    return _packed(encode(channel))


def _packed_channel(channel: str) -> bytes:
    if len(channel) > _CACHED_NAME:
        return _packed(encode(channel))
    return _packed_channel_cached(channel)


# typed: versions 1, 1.0 and True are equal keys but different fields ("1", "1.0", "True")
@functools.lru_cache(maxsize=4096, typed=True)
def _packed_field_cached(ns_e: bytes, channel: str, version: Any) -> bytes:
    return _packed(value_field(ns_e, channel, version))


def _packed_field(ns_e: bytes, channel: str, version: Any) -> bytes:
    if len(channel) > _CACHED_NAME or len(ns_e) > _CACHED_NAME:
        return _packed(value_field(ns_e, channel, version))
    return _packed_field_cached(ns_e, channel, version)


@functools.lru_cache(maxsize=4096)
def _packed_scalar_entry(key: str, value: Any, kind: str) -> bytes:
    # keyed by type too: 1, 1.0 and True are equal dict keys (they digest equally as well, but
    # the cache must not depend on it)
    return _packed(encode(key)) + _packed(_digest(value))


@functools.lru_cache(maxsize=256)
def _packed_empty_entry(key: str, kind: str) -> bytes:
    # `parents` is {} on every put of a root graph: its digest is the same every time
    empty: dict[str, Any] = {"dict": {}, "list": [], "tuple": ()}
    return _packed(encode(key)) + _packed(_digest(empty[kind]))


def _packed_entry(key: Any, value: Any) -> bytes:
    """One metadata entry as Lua reads it: the key, then the digest of its canonical value."""
    k = key if type(key) is str else str(key)
    kind = type(value)
    if kind in _SCALARS and len(k) <= _CACHED_NAME and not (kind is str and len(value) > 256):
        return _packed_scalar_entry(k, value, kind.__name__)
    if (kind is dict or kind is list or kind is tuple) and not value and len(k) <= _CACHED_NAME:
        return _packed_empty_entry(k, kind.__name__)
    return _packed(encode(k)) + _packed(filter_digest(value))


def dump_write(
    serde: SerializerProtocol,
    task_id: str,
    idx: int,
    channel: str,
    value: Any,
    task_path: str,
    threshold: int | None = None,
) -> bytes:
    """``<2-byte channel length><channel><msgpack payload>``: Lua reads the channel only."""
    tag, data = compress(*serde.dumps_typed(value), threshold)
    return pack_write(task_id, idx, channel, tag, data, task_path)


def pack_write(
    task_id: str, idx: int, channel: str, tag: str, data: bytes, task_path: str
) -> bytes:
    """A pending write of a value already serialized (and maybe compressed): see ``dump_write``."""
    raw = encode(channel)
    if len(raw) > 0xFFFF:
        raise ValueError(f"channel name too long: {channel[:50]!r}...")
    payload = ormsgpack.packb((encode(task_id), idx, tag, data, encode(task_path)))
    return struct.pack(">H", len(raw)) + raw + payload


def load_write(
    serde: SerializerProtocol, blob: bytes, encrypted: bool = False
) -> tuple[tuple[str, str, int], Any]:
    """A pending write as ``((task_path, task_id, idx), (task_id, channel, value))``; with
    ``encrypted``, ``NotEncrypted`` for a plaintext one."""
    (n,) = struct.unpack_from(">H", blob)
    channel = decode(blob[2 : 2 + n])
    task_raw, idx, tag, data, path_raw = ormsgpack.unpackb(blob[2 + n :])
    task_id, task_path = decode(task_raw), decode(path_raw)
    if encrypted:
        _require_encrypted(f"pending write of task {task_id!r} to channel {channel!r}", tag)
    return (task_path, task_id, idx), (task_id, channel, serde.loads_typed(decompress(tag, data)))


def write_task(blob: bytes) -> tuple[str, str, int]:
    """``(task_path, task_id, idx)`` of a stored pending write, without loading its value."""
    (n,) = struct.unpack_from(">H", blob)
    task_raw, idx, _, _, path_raw = ormsgpack.unpackb(blob[2 + n :])
    return decode(path_raw), decode(task_raw), idx


def _normalise(value: Any) -> Any:
    # Python equality is what LangGraph's own savers use for `filter`: True == 1 == 1.0, and
    # containers compare element-wise.  Normalise so equal values get equal canonical text.
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else value
    if isinstance(value, Mapping):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    return f"\x00{type(value).__module__}.{type(value).__qualname__}:{value!r}"


def filter_digest(value: Any) -> bytes:
    """What Lua compares for ``list(filter=...)``: a digest of the canonical text.

    Only digests are stored beside the serializer's (possibly encrypted) metadata, so metadata
    values never sit in Redis as plaintext; equal values still give equal digests.
    """
    if type(value) in _SCALARS and not (type(value) is str and len(value) > 256):
        # metadata repeats itself (source, step, run ids, user ids) from one put to the next
        return _scalar_digest(value)
    return _digest(value)


_SCALARS: Final = frozenset({str, int, float, bool, type(None)})


def _digest(value: Any) -> bytes:
    return hashlib.blake2b(encode(canonical(value)), digest_size=16).digest()


@functools.lru_cache(maxsize=4096)
def _scalar_digest_typed(value: Any, kind: str) -> bytes:
    return _digest(value)


def _scalar_digest(value: Any) -> bytes:
    # keyed by type too: 1, 1.0 and True are equal dict keys (they also digest equally, but
    # the cache must not depend on it)
    return _scalar_digest_typed(value, type(value).__name__)


def canonical(value: Any) -> str:
    """Text that is equal for two metadata values exactly when they compare equal.

    Exact for ``None``, strings, numbers, booleans and JSON-like containers of them; other
    objects compare by type and ``repr``.
    """
    return json.dumps(_normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
