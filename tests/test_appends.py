"""The append-aware value codec (``_appends.py``, ``zseg+`` in ``_serde.py``), without Redis."""

from __future__ import annotations

import os
import random

import pytest
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from aredis_ckpt import _serde
from aredis_ckpt._appends import MAX_FRAMES, Appends, Update, array_header

SERDE = JsonPlusSerializer()


WORDS = [
    "the",
    "a",
    "saver",
    "thread",
    "checkpoint",
    "value",
    "graph",
    "node",
    "redis",
    "agent",
    "tool",
    "call",
    "answer",
]


def messages(n: int) -> list[dict[str, str]]:
    """Chat-like messages: varied words, repeated structure (what an agent's state holds)."""
    out = []
    for i in range(n):
        rng = random.Random(i)
        out.append({"role": "user", "content": " ".join(rng.choices(WORDS, k=60))})
    return out


def dump(appends: Appends, value: object, key: object = "k", commit: bool = True) -> bytes:
    updates: list[Update] = []
    blob = _serde.dump_value(SERDE, value, 2048, appends, key, updates)
    if commit:
        appends.commit(updates)
    return blob


def tag(blob: bytes) -> str:
    return blob[1 : 1 + blob[0]].decode()


def test_array_header_lengths() -> None:
    for items, size in ((0, 1), (15, 1), (16, 3), (65535, 3), (65536, 5)):
        data = SERDE.dumps_typed([0] * items)[1]
        assert array_header(data) == size, items
    assert array_header(SERDE.dumps_typed({"a": 1})[1]) == 0
    assert array_header(b"") == 0


def test_each_version_reads_back_whole_and_frames_restart() -> None:
    appends = Appends()
    tags = []
    for n in range(8, 8 + 3 * MAX_FRAMES):  # crosses the 15/16-item header change
        value = messages(n)
        blob = dump(appends, value)
        tags.append(tag(blob))
        assert _serde.load_value(SERDE, blob) == value
    assert tags == (["zstd+msgpack"] + ["zseg+msgpack"] * (MAX_FRAMES - 1)) * 3


def test_frames_cost_little_more_than_compressing_whole() -> None:
    appends = Appends()
    for n in range(10, 14):
        blob = dump(appends, messages(n))
    whole = _serde.dump_value(SERDE, messages(13), 2048)
    assert tag(blob) == "zseg+msgpack"
    # four frames share no matches: a little larger, never by much
    assert len(whole) < len(blob) < len(whole) * 1.3


def test_what_does_not_extend_the_last_value_is_compressed_whole() -> None:
    appends = Appends()
    dump(appends, messages(10))
    assert tag(dump(appends, messages(9))) == "zstd+msgpack"  # shorter
    assert tag(dump(appends, list(reversed(messages(10))))) == "zstd+msgpack"  # reordered
    assert tag(dump(appends, {"not": "a list", "x": "y" * 3000})) == "zstd+msgpack"
    # another key remembers its own value
    dump(appends, messages(10), key="other")
    blob = dump(appends, messages(11), key="other")
    assert tag(blob) == "zseg+msgpack" and _serde.load_value(SERDE, blob) == messages(11)


def test_the_same_value_again_adds_no_frame() -> None:
    appends = Appends()
    first = dump(appends, messages(10))
    second = dump(appends, messages(10))
    assert tag(second) == "zseg+msgpack" and len(second) - len(first) < 16
    assert _serde.load_value(SERDE, second) == messages(10)


def test_incompressible_values_are_stored_as_serialized_and_forgotten() -> None:
    appends = Appends()
    noise = [os.urandom(3000)]
    blob = dump(appends, noise)
    assert tag(blob) == "msgpack" and len(appends) == 0
    assert _serde.load_value(SERDE, blob) == noise


def test_memory_is_bounded_in_bytes() -> None:
    appends = Appends(max_bytes=200_000)
    for key in range(100):
        dump(appends, messages(20), key=key)
        assert appends.held <= 200_000
    assert 0 < len(appends) < 100
    # a value larger than an eighth of the bound is not remembered at all
    small = Appends(max_bytes=20_000)
    dump(small, messages(20))
    assert len(small) == 0 and small.held == 0


def test_plaintext_behind_the_codec_is_refused_when_encryption_is_required() -> None:
    appends = Appends()
    dump(appends, messages(10))
    blob = dump(appends, messages(11))
    with pytest.raises(_serde.NotEncrypted):
        _serde.load_value(SERDE, blob, encrypted=True)


@pytest.mark.parametrize("cut", [1, 3, 8, 20])
def test_a_truncated_value_raises(cut: int) -> None:
    appends = Appends()
    dump(appends, messages(10))
    blob = dump(appends, messages(12))
    with pytest.raises(Exception):  # noqa: B017 - zstd's or ours: never a silent wrong value
        _serde.load_value(SERDE, blob[:-cut])


def test_a_value_whose_skip_exceeds_its_first_frame_raises() -> None:
    frame = _serde._zstd_compress(b"ab")
    payload = _serde.seg_payload(b"\x91", 5, [frame])
    with pytest.raises(ValueError, match="skips more"):
        _serde.decompress("zseg+msgpack", payload)
    with pytest.raises(ValueError, match="without frames"):
        _serde.decompress("zseg+msgpack", _serde.seg_payload(b"", 0, []))


def test_nothing_is_remembered_until_the_write_succeeded() -> None:
    # a failed put leaves the memory as it was: the same put again stores the same bytes
    appends = Appends()
    dump(appends, messages(10))
    failed = dump(appends, messages(11), commit=False)
    again = dump(appends, messages(11))
    assert failed == again and tag(again) == "zseg+msgpack"
    assert tag(dump(appends, messages(12))) == "zseg+msgpack"  # extends the committed value
