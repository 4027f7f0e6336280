"""Channel values that extend the one stored before them: compressing only what they add.

An agent keeps its conversation in one channel whose every new version is the previous list
plus a message or two, so compressing each version whole costs zstd time in proportion to the
whole conversation, on every step.  ``Appends`` remembers, per (thread, namespace, channel),
the last value a saver compressed: its serialized body and the zstd frames that hold it.  When
the next version's body starts with that body (LangGraph's msgpack list: a new array header,
then the old items, then the new ones), only the new bytes are compressed, as one more frame,
and the value is stored as the earlier frames plus the new one (``zseg+``, see ``_serde``).

Every stored value stays whole: it reads back without any other value, so nothing on the
server changes (no GC, copy or damage rule refers to another value).  Frames compressed apart
share no matches, so such a value takes a few per cent more bytes than one compressed whole;
after ``MAX_FRAMES`` frames the next version is compressed whole again.

Nothing here has to be current to be correct: a frame is reused only when the new body starts
with the very bytes it was compressed from, compared byte for byte.  A value written by
another process, a fork or a time-travelled update simply compresses whole.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Final, NamedTuple, TypeAlias

from aredis_ckpt._serde import ZSEG, ZSTD, _frame, _zstd_compress, seg_payload

__all__ = ["MAX_FRAMES", "Appends", "Update", "array_header"]

#: Most frames one stored value is split into (the first compressed whole, then one per step).
MAX_FRAMES: Final = 4
#: Bytes of bodies and frames remembered per saver (least recently written forgotten first).
DEFAULT_MAX_BYTES: Final = 32 << 20


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


class _Entry(NamedTuple):
    tag: str  # the serializer's type tag
    body: memoryview  # the serialized value after its array header (no copy of it)
    skip: int  # the array header's length in the first frame's value
    frames: tuple[bytes, ...]
    size: int  # bytes held: the serialized value and the frames


#: What ``Appends.dump`` encoded, for ``Appends.commit``: forget the key when None.
Update: TypeAlias = "tuple[Hashable, _Entry | None]"


class Appends:
    """The last compressed value of each (thread, namespace, channel), bounded in bytes.

    Thread-safe: LangGraph's background threads call a sync saver concurrently.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._max = max_bytes
        self._bytes = 0
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def held(self) -> int:
        """Bytes held (bodies and frames)."""
        return self._bytes

    def dump(self, key: Hashable, tag: str, data: bytes, updates: list[Update]) -> bytes:
        """The stored blob of a value that is to be compressed (``data`` is at least the
        saver's compression threshold): ``zseg+`` when it extends the value remembered under
        ``key``, else compressed whole (``zstd+``), or as serialized when that saves less
        than a tenth.

        What to remember of it is appended to ``updates``, for ``commit`` once the write
        succeeded: a failed write leaves the memory as it was, so the same call again stores
        the same bytes.
        """
        h = array_header(data)
        with self._lock:
            prev = self._entries.get(key)
        if (
            prev is not None
            and prev.tag == tag
            and len(data) - h >= len(prev.body)
            and data.startswith(prev.body, h)
            and (len(prev.frames) < MAX_FRAMES or len(data) - h == len(prev.body))
        ):
            frames = prev.frames
            if len(data) - h > len(prev.body):
                frames = (*frames, _zstd_compress(memoryview(data)[h + len(prev.body) :]))
            skip = prev.skip
            blob = _frame(ZSEG + tag, seg_payload(data[:h], skip, frames))
        else:
            packed = _zstd_compress(data)
            if len(packed) > len(data) * 0.9:
                updates.append((key, None))
                return _frame(tag, data)
            frames, skip = (packed,), h
            blob = _frame(ZSTD + tag, packed)
        body = memoryview(data)[h:]
        updates.append((key, _Entry(tag, body, skip, frames, len(data) + sum(map(len, frames)))))
        return blob

    def commit(self, updates: Sequence[Update]) -> None:
        """Remember what ``dump`` encoded, once it is stored."""
        for key, entry in updates:
            if entry is None:
                self._forget(key)
            else:
                self._remember(key, entry)

    def _remember(self, key: Hashable, entry: _Entry) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            if entry.size * 8 > self._max:
                return  # a value this large would push out everything else
            self._entries[key] = entry
            self._bytes += entry.size
            while self._bytes > self._max:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.size

    def _forget(self, key: Hashable) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size
