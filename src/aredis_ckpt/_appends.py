"""Compressing only what a channel value adds to values already compressed.

An agent keeps its conversation in one channel whose every new version is the previous list
plus a message or two, so compressing each version whole costs zstd time in proportion to the
whole conversation, on every step.  And a graph that sends its state to a node (``Send``, as
LangGraph's prebuilt ReAct agent does for each tool call) stores that state a second time, in
``__pregel_tasks``, in the same step.

``Appends`` remembers, per (thread, namespace, channel), the last value a saver compressed:
its serialized body (after msgpack's array header) and the parts that hold it, zstd frames and
literal bytes.  A value is then stored from parts (``zseg+``, see ``_serde``):

* when its body starts with the body remembered for its own channel (the old items, then new
  ones), as the remembered parts plus the new bytes: literal while the value's literal tail
  stays short (``_LITERAL``), else that tail compressed into one more frame;
* when it holds the whole body of another value of the same ``put`` (the state inside a
  ``Send``), or of a value remembered for its thread and namespace (the same state sent in a
  pending write, ``embedded``), as the bytes before it, that value's parts, and the bytes
  after it;
* else compressed whole (``zstd+``), as before.

Every stored value stays whole: it carries its parts' bytes and reads back without any other
value, so nothing on the server changes (no GC, copy or damage rule refers to another value).
Frames compressed apart share no matches, so such a value takes a few per cent more bytes;
after ``MAX_FRAMES`` frames a value is compressed whole again.

Nothing here has to be current to be correct: parts are reused only for the very bytes they
decode to, compared byte for byte.  A value written by another process, a fork or a
time-travelled update simply compresses whole.  What a ``put`` would remember is kept apart
until its script succeeded (``commit``), so the same call again stores the same bytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Final, NamedTuple, TypeAlias

from aredis_ckpt._serde import ZSEG, ZSTD, Part, _zstd_compress, framed, seg_payload

__all__ = ["MAX_FRAMES", "Appends", "Key", "Scope", "Update", "array_header"]

#: Most zstd frames one stored value is made of (then it is compressed whole again).
MAX_FRAMES: Final = 4
#: Bytes of values and parts remembered per saver (least recently written forgotten first).
DEFAULT_MAX_BYTES: Final = 32 << 20
#: Most bytes stored as they are, uncompressed: the new bytes at the end of an appended value
#: (past this its literal tail is compressed into one more frame) and the bytes on either side
#: of an embedded value.  A step adds a message or two, and zstd called once inside a running
#: graph costs about five times what it costs in a hot loop (cold caches): such short runs of
#: bytes are cheaper stored than compressed (docs/hot-path.md, "Cut 13").
_LITERAL: Final = 1024
#: An embedded value is looked for only when its body is at least this long.
_EMBEDDED: Final = 1024
#: Bytes of a body compared to find where it is embedded.
_PROBE: Final = 64
#: Places where those bytes match that are compared in full, at most (each compare may run the
#: body's length: unbounded, a value repeating the body's first bytes would cost quadratic time).
_TRIES: Final = 8


def array_header(data: bytes) -> int:
    """Length of the msgpack array header ``data`` starts with (0 when it is no array)."""
    if not data:
        return 0
    first = data[0]
    if 0x90 <= first <= 0x9F:
        return 1
    if first == 0xDC:
        return 3
    if first == 0xDD:
        return 5
    return 0


#: (thread, namespace): the values remembered for one are candidates for each other's writes.
Scope: TypeAlias = Hashable
#: What a value is remembered under: its scope and its channel.
Key: TypeAlias = "tuple[Scope, str]"


class _Entry(NamedTuple):
    tag: str  # the serializer's type tag
    body: memoryview  # the serialized value after its array header (no copy of it)
    parts: tuple[Part, ...]  # decode to exactly ``body``
    frames: int  # zstd frames among the parts
    size: int  # bytes held: the serialized value and the parts


#: What ``Appends.encode`` produced, for ``Appends.commit``: forget the key when None.
Update: TypeAlias = "tuple[Key, _Entry | None]"


def _frames(parts: Sequence[Part]) -> int:
    return sum(1 for kind, _, _ in parts if kind)


def _around(raw: memoryview) -> list[Part]:
    """Bytes beside an embedded value: as they are when short, else one zstd frame."""
    if not raw:
        return []
    if len(raw) <= _LITERAL:
        return [(0, 0, bytes(raw))]
    return [(1, 0, _zstd_compress(raw))]


def _payload(data: bytes, h: int, parts: Sequence[Part]) -> bytes:
    """The ``zseg+`` payload of ``data``: its array header (``h`` bytes) as it is, then the
    parts that hold its body."""
    return seg_payload([(0, 0, data[:h]), *parts] if h else parts)


def _appended(parts: Sequence[Part], new: memoryview) -> list[Part] | None:
    """``parts`` followed by ``new``: kept as literal bytes while the literal tail stays within
    ``_LITERAL`` bytes, else the tail and ``new`` compressed into one more frame (None past
    ``MAX_FRAMES`` frames: the value is then compressed whole)."""
    out = list(parts)
    if not new:
        return out
    tail = b""
    if out and out[-1][0] == 0 and out[-1][1] == 0:
        tail = out.pop()[2]
    if len(tail) + len(new) <= _LITERAL:
        out.append((0, 0, tail + bytes(new)))
        return out
    if _frames(out) >= MAX_FRAMES:
        return None
    out.append((1, 0, _zstd_compress(tail + bytes(new))))
    return out


class Appends:
    """The last compressed value of each (thread, namespace, channel), bounded in bytes.

    Thread-safe: LangGraph's background threads call a sync saver concurrently.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._max = max_bytes
        self._bytes = 0
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        # the keys remembered per scope (for ``embedded``)
        self._scopes: dict[Scope, dict[Key, None]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def held(self) -> int:
        """Bytes held (values and parts)."""
        return self._bytes

    def encode(
        self, values: Sequence[tuple[Key, str, bytes]], updates: list[Update]
    ) -> list[bytes]:
        """The stored blobs of one put's values that are to be compressed (each ``(key, type
        tag, serialized bytes)``, at least the saver's threshold), in the same order.

        The smaller values are encoded first, so that a larger one holding a smaller one
        (a ``Send`` carrying the state) finds it.  What to remember goes to ``updates``.
        """
        blobs: list[bytes] = [b""] * len(values)
        done: list[_Entry] = []
        for i in sorted(range(len(values)), key=lambda i: len(values[i][2])):
            key, tag, data = values[i]
            blob, entry = self._encode(key, tag, data, done)
            blobs[i] = blob
            updates.append((key, entry))
            if entry is not None:
                done.append(entry)
        return blobs

    def embedded(self, scope: Scope, tag: str, data: bytes) -> tuple[str, bytes] | None:
        """``(type tag, payload)`` of a value holding the whole body of a value remembered for
        ``scope`` (a pending write carrying the state a ``Send`` passes on), stored from that
        value's parts; None when it holds none."""
        with self._lock:
            keys = self._scopes.get(scope)
            held = [self._entries[k] for k in keys] if keys else []
        if not held:
            return None
        held.sort(key=lambda e: len(e.body))
        h = array_header(data)
        parts = self._embedding(data, h, held)
        if parts is None:
            return None
        return ZSEG + tag, _payload(data, h, parts)

    def _encode(
        self, key: Key, tag: str, data: bytes, done: Sequence[_Entry]
    ) -> tuple[bytes, _Entry | None]:
        h = array_header(data)
        view = memoryview(data)
        body = view[h:]
        with self._lock:
            prev = self._entries.get(key)
        parts: list[Part] | None = None
        if (
            prev is not None
            and prev.tag == tag
            and len(body) >= len(prev.body)
            and data.startswith(prev.body, h)
        ):
            parts = _appended(prev.parts, body[len(prev.body) :])
        if parts is None:
            parts = self._embedding(data, h, done)
        if parts is None:
            packed = _zstd_compress(data)
            if len(packed) > len(data) * 0.9:
                return framed(tag, data), None
            entry = _Entry(tag, body, ((1, h, packed),), 1, len(data) + len(packed))
            return framed(ZSTD + tag, packed), entry
        size = len(data) + sum(len(p) for _, _, p in parts)
        entry = _Entry(tag, body, tuple(parts), _frames(parts), size)
        return framed(ZSEG + tag, _payload(data, h, parts)), entry

    @staticmethod
    def _embedding(data: bytes, h: int, done: Sequence[_Entry]) -> list[Part] | None:
        """Parts of a value's body holding the whole body of one of ``done`` (smallest first)."""
        for other in reversed(done):  # the largest first
            n = len(other.body)
            if n < _EMBEDDED or n > len(data) - h:
                continue
            probe = other.body[:_PROBE]
            at = data.find(probe, h)
            tries = 1
            while at >= 0 and not data.startswith(other.body, at):
                at = data.find(probe, at + 1) if tries < _TRIES else -1
                tries += 1
            if at < 0:
                continue
            parts = [*_around(memoryview(data)[h:at]), *other.parts]
            parts += _around(memoryview(data)[at + n :])
            if _frames(parts) > MAX_FRAMES + 2:
                continue
            return parts
        return None

    def commit(self, updates: Sequence[Update]) -> None:
        """Remember what ``encode`` produced, once it is stored."""
        for key, entry in updates:
            if entry is None:
                self._forget(key)
            else:
                self._remember(key, entry)

    def _remember(self, key: Key, entry: _Entry) -> None:
        with self._lock:
            self._drop(key)
            if entry.size * 8 > self._max:
                return  # a value this large would push out everything else
            self._entries[key] = entry
            self._scopes.setdefault(key[0], {})[key] = None
            self._bytes += entry.size
            while self._bytes > self._max:
                self._drop(next(iter(self._entries)))

    def _forget(self, key: Key) -> None:
        with self._lock:
            self._drop(key)

    def _drop(self, key: Key) -> None:
        # with the lock held
        old = self._entries.pop(key, None)
        if old is None:
            return
        self._bytes -= old.size
        keys = self._scopes[key[0]]
        del keys[key]
        if not keys:
            del self._scopes[key[0]]
