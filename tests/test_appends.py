"""The append-aware value codec (``_appends.py``, ``zseg+`` in ``_serde.py``), without Redis."""

from __future__ import annotations

import os
import random

import pytest
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from aredis_ckpt import _appends, _serde
from aredis_ckpt._appends import _LITERAL, MAX_FRAMES, Appends, Key, Update, array_header

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


SCOPE = ("thread tag", b"namespace")


def dump(appends: Appends, value: object, key: object = "k", commit: bool = True) -> bytes:
    """A put of one channel value, as ``_base._put_call`` encodes it."""
    return put(appends, {key: value}, commit)[key]


def put(appends: Appends, values: dict[object, object], commit: bool = True) -> dict[object, bytes]:
    """A put of several channel values of one thread and namespace (``SCOPE``), each named by
    its channel (any hashable here)."""
    out: dict[object, bytes] = {}
    big: list[tuple[Key, str, bytes]] = []
    for key, value in values.items():
        tag, data = SERDE.dumps_typed(value)
        if len(data) >= 2048:
            big.append(((SCOPE, key), tag, data))  # type: ignore[arg-type]
        else:
            out[key] = _serde.framed(tag, data)
    updates: list[Update] = []
    for ((_, key), _, _), blob in zip(big, appends.encode(big, updates), strict=True):
        out[key] = blob
    if commit:
        appends.commit(updates)
    return out


def entry(appends: Appends, key: object) -> _appends._Entry:
    return appends._entries[(SCOPE, key)]  # type: ignore[index]


@pytest.fixture
def zstd_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of what ``Appends`` hands to zstd, call by call."""
    calls: list[int] = []
    real = _appends._zstd_compress

    def counted(data: bytes | memoryview) -> bytes:
        calls.append(len(data))
        return real(data)

    monkeypatch.setattr(_appends, "_zstd_compress", counted)
    return calls


def tag(blob: bytes) -> str:
    return blob[1 : 1 + blob[0]].decode()


def test_array_header_lengths() -> None:
    for items, size in ((0, 1), (15, 1), (16, 3), (65535, 3), (65536, 5)):
        data = SERDE.dumps_typed([0] * items)[1]
        assert array_header(data) == size, items
    assert array_header(SERDE.dumps_typed({"a": 1})[1]) == 0
    assert array_header(b"") == 0


def test_each_version_reads_back_whole_and_frames_restart(zstd_calls: list[int]) -> None:
    appends = Appends()
    wholes = 0
    for n in range(8, 80):  # crosses the 15/16-item header change
        value = messages(n)
        blob = dump(appends, value)
        assert _serde.load_value(SERDE, blob) == value
        parts = entry(appends, "k").parts
        if tag(blob) == "zstd+msgpack":
            wholes += 1
        else:
            assert tag(blob) == "zseg+msgpack"
            assert sum(1 for kind, _, _ in parts if kind) <= MAX_FRAMES
            # only the last part is literal, and short
            assert all(kind for kind, _, _ in parts[:-1])
            assert parts[-1][0] == 1 or len(parts[-1][2]) <= _LITERAL
    # a message is ~350 bytes: a frame every few versions (not one per version, as before),
    # whole again after MAX_FRAMES frames
    assert 2 <= wholes <= 72 // (MAX_FRAMES * (_LITERAL // 400))
    assert len(zstd_calls) <= 72 * 400 // _LITERAL


def body(value: object) -> int:
    """Length of a serialized list after its array header."""
    data = SERDE.dumps_typed(value)[1]
    return len(data) - array_header(data)


def test_short_appends_are_stored_as_they_are(zstd_calls: list[int]) -> None:
    appends = Appends()
    dump(appends, messages(10))
    assert len(zstd_calls) == 1  # the first version, whole
    sizes = []
    n = 10
    while len(zstd_calls) == 1:
        n += 1
        blob = dump(appends, messages(n))
        assert tag(blob) == "zseg+msgpack" and _serde.load_value(SERDE, blob) == messages(n)
        sizes.append(len(entry(appends, "k").parts[-1][2]))
    # the literal tail grew message by message, then it and the new message became one frame
    assert sizes[:-1] == sorted(sizes[:-1]) and sizes[-2] <= _LITERAL
    new = body(messages(n)) - body(messages(n - 1))
    assert zstd_calls[1] == sizes[-2] + new > _LITERAL
    assert [kind for kind, _, _ in entry(appends, "k").parts] == [1, 1]


def test_frames_cost_little_more_than_compressing_whole() -> None:
    appends = Appends()
    for n in range(10, 30):
        blob = dump(appends, messages(n))
    whole = _serde.dump_value(SERDE, messages(29), 2048)
    parts = entry(appends, "k").parts
    assert tag(blob) == "zseg+msgpack" and [kind for kind, _, _ in parts][:3] == [1, 1, 1]
    literal = sum(len(raw) for kind, _, raw in parts if not kind)
    assert literal <= _LITERAL
    # frames share no matches: larger (on this small vocabulary by up to a third; on the
    # benchmark's chat, bench/appends.py, by a few per cent), and the short tail is stored as
    # it is: never by much
    assert len(whole) < len(blob) < len(whole) * 1.5 + literal


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
    # the index by thread and namespace holds exactly what is remembered
    assert list(appends._scopes) == [SCOPE]
    assert set(appends._scopes[SCOPE]) == set(appends._entries)
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


def test_malformed_parts_raise() -> None:
    frame = _serde._zstd_compress(b"ab")
    with pytest.raises(ValueError, match="skips more"):
        _serde.decompress("zseg+msgpack", _serde.seg_payload([(1, 5, frame)]))
    with pytest.raises(ValueError, match="unknown kind"):
        _serde.decompress("zseg+msgpack", _serde.seg_payload([(7, 0, b"x")]))
    with pytest.raises(ValueError, match="without parts"):
        _serde.decompress("zseg+msgpack", b"")


def test_nothing_is_remembered_until_the_write_succeeded() -> None:
    # a failed put leaves the memory as it was: the same put again stores the same bytes
    appends = Appends()
    dump(appends, messages(10))
    failed = dump(appends, messages(11), commit=False)
    again = dump(appends, messages(11))
    assert failed == again and tag(again) == "zseg+msgpack"
    assert tag(dump(appends, messages(12))) == "zseg+msgpack"  # extends the committed value


def send(state: list[dict[str, str]]) -> list[dict[str, object]]:
    """What a Send to a node stores in ``__pregel_tasks``: the state inside another value."""
    return [{"node": "tools", "arg": {"messages": state, "call": "search"}, "n": 1}]


def test_a_value_holding_another_of_the_same_put_reuses_its_frames() -> None:
    appends = Appends()
    state = messages(12)
    blobs = put(appends, {"messages": state, "tasks": send(state)})
    assert tag(blobs["messages"]) == "zstd+msgpack"
    assert tag(blobs["tasks"]) == "zseg+msgpack"
    # the state's frame is in both; the packet around it is stored as it is
    whole = _serde.dump_value(SERDE, send(state), 2048)
    assert len(blobs["tasks"]) < len(blobs["messages"]) + 300 < len(whole) + 300
    assert _serde.load_value(SERDE, blobs["tasks"]) == send(state)
    # next step: the state grew; the packet holds the new state, itself an extension
    state = messages(13)
    blobs = put(appends, {"tasks": send(state), "messages": state})
    assert [tag(blobs[k]) for k in ("messages", "tasks")] == ["zseg+msgpack"] * 2
    assert _serde.load_value(SERDE, blobs["tasks"]) == send(state)
    assert _serde.load_value(SERDE, blobs["messages"]) == state


def test_a_value_holding_one_not_in_its_put_is_compressed_whole() -> None:
    appends = Appends()
    state = messages(12)
    dump(appends, state, key="messages")
    blob = dump(appends, send(state), key="tasks")  # the state is not written by this put
    assert tag(blob) == "zstd+msgpack"
    assert _serde.load_value(SERDE, blob) == send(state)


def test_long_bytes_around_an_embedded_value_are_compressed() -> None:
    appends = Appends()
    state = messages(12)
    around = {"before": messages(8), "state": state, "after": messages(9)}
    blobs = put(appends, {"messages": state, "wrapper": around})
    assert tag(blobs["wrapper"]) == "zseg+msgpack"
    assert _serde.load_value(SERDE, blobs["wrapper"]) == around
    kinds = [p[0] for p in entry(appends, "wrapper").parts]
    assert kinds == [1, 1, 1]  # the long bytes before the state, its frame, those after it
    short = {"before": messages(1), "state": state, "after": messages(2)}
    blobs = put(appends, {"messages": state, "wrapper": short})
    assert [p[0] for p in entry(appends, "wrapper").parts] == [0, 1, 0]
    assert _serde.load_value(SERDE, blobs["wrapper"]) == short


def test_the_search_for_an_embedded_value_gives_up_after_a_few_false_starts() -> None:
    # a value repeating the first bytes of another many times before holding it whole: the
    # search compares a bounded number of places, then the value is compressed whole
    appends = Appends()
    state = messages(12)
    decoys = [state[:2]] * 9  # nine lists that start like the state and stop short
    found = put(appends, {"messages": state, "wrapper": [*decoys[:7], state]})
    assert tag(found["wrapper"]) == "zseg+msgpack"
    given_up = put(appends, {"messages": state, "other": [*decoys, state]})
    assert tag(given_up["other"]) == "zstd+msgpack"
    assert _serde.load_value(SERDE, given_up["other"]) == [*decoys, state]


def write(appends: Appends, value: object, scope: object = SCOPE) -> tuple[str, bytes] | None:
    """A pending write's value as ``_base._put_writes_call`` tries it first."""
    tag, data = SERDE.dumps_typed(value)
    return appends.embedded(scope, tag, data)


def test_a_write_holding_a_remembered_value_reuses_its_frames(zstd_calls: list[int]) -> None:
    appends = Appends()
    state = messages(12)
    dump(appends, state, key="messages")
    calls = len(zstd_calls)
    # the node returned a message and sent the state with it on: the write holds the
    # remembered body, then the new message
    sent = send([*state, *messages(13)[12:]])
    found = write(appends, sent)
    assert found is not None and len(zstd_calls) == calls  # no compression at all
    tag_, payload = found
    assert tag_ == "zseg+msgpack"
    assert SERDE.loads_typed(_serde.decompress(tag_, payload)) == sent
    # the remembered parts, the new message and the packet around them, as they are
    stored = len(dump(appends, state, key="messages", commit=False))
    assert len(payload) < stored + body(messages(13)) - body(state) + 100
    # nothing remembered for another thread or namespace, or a value that holds none
    assert write(appends, sent, scope=("other thread", b"namespace")) is None
    assert write(appends, send(messages(3))) is None
    # a write is not remembered: the channel's next version still extends the put's value
    assert tag(dump(appends, messages(13), key="messages")) == "zseg+msgpack"


def test_a_forgotten_value_is_no_candidate_for_writes() -> None:
    appends = Appends()
    state = messages(12)
    dump(appends, state, key="messages")
    assert write(appends, send(state)) is not None
    dump(appends, [os.urandom(3000)], key="messages")  # incompressible: forgotten
    assert write(appends, send(state)) is None and appends._scopes == {}
