"""The Lua-readable metadata record (``_serde.dump_meta``) is built from cached pieces; these
tests pin it to the record built from scratch, byte for byte, whatever the inputs and however
often the caches have seen them (no database needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from aredis_ckpt import _serde
from aredis_ckpt._keys import encode, escape, key_part, value_field


def reference_meta(
    parent: str,
    channels: Sequence[str],
    ns_e: bytes,
    versions: Mapping[str, Any],
    metadata: Mapping[str, Any],
    run: bytes,
) -> bytes:
    """The record as it was built before the caches: every piece packed anew."""
    out = bytearray(b"\x95")
    _serde.pack_str(out, encode(parent))
    _serde.pack_len(out, len(channels), 0x90, b"\xdc", b"\xdd")
    for c in channels:
        _serde.pack_str(out, encode(c))
    _serde.pack_len(out, len(channels), 0x90, b"\xdc", b"\xdd")
    for c in channels:
        _serde.pack_str(out, value_field(ns_e, c, versions[c]))
    _serde.pack_len(out, len(metadata), 0x80, b"\xde", b"\xdf")
    for k, v in metadata.items():
        _serde.pack_str(out, encode(str(k)))
        _serde.pack_str(out, _serde.filter_digest(v))
    _serde.pack_str(out, run)
    return bytes(out)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.text(min_size=257, max_size=300),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=4), inner, max_size=3),
    ),
    max_leaves=6,
)
# versions of one channel as LangGraph and tests hand them in: equal as keys, not as fields
versions_st = st.one_of(
    st.integers(min_value=0, max_value=3),
    st.sampled_from([1.0, True, False, 2.0]),
    st.text(alphabet="0123456789.", max_size=40),
)
names = st.one_of(
    st.sampled_from(["messages", "__start__", "branch:to:agent", "a:{b}%c", ""]),
    st.text(max_size=6),
    st.text(min_size=257, max_size=260),
)


@settings(max_examples=400, deadline=None)
@given(
    parent=st.text(max_size=40),
    ns=st.one_of(st.just(""), st.text(max_size=8), st.text(min_size=300, max_size=310)),
    versions=st.dictionaries(names, versions_st, max_size=6),
    metadata=st.dictionaries(
        st.one_of(st.text(max_size=6), st.text(min_size=257, max_size=260)), values, max_size=6
    ),
    run=st.text(max_size=20).map(escape),
)
def test_cached_record_equals_the_record_built_from_scratch(
    parent: str,
    ns: str,
    versions: dict[str, Any],
    metadata: dict[str, Any],
    run: bytes,
) -> None:
    ns_e = key_part(ns)
    channels = sorted(versions)
    expected = reference_meta(parent, channels, ns_e, versions, metadata, run)
    # twice: the second call is served by the caches the first one filled
    for _ in range(2):
        assert _serde.dump_meta(parent, channels, ns_e, versions, metadata, run) == expected


def test_equal_versions_of_different_types_keep_their_own_fields() -> None:
    # 1 == 1.0 == True as cache keys, but str() of each is another stored field
    ns_e = key_part("")
    for version in (1, 1.0, True, 1, True, 1.0):
        record = _serde.dump_meta("", ["c"], ns_e, {"c": version}, {}, b"")
        assert record == reference_meta("", ["c"], ns_e, {"c": version}, {}, b"")
        assert value_field(ns_e, "c", version) in record


def test_equal_metadata_values_of_different_types_digest_alike() -> None:
    # what list(filter=...) relies on: 1, 1.0 and True are one value to LangGraph's savers
    ns_e = key_part("")
    records = {
        _serde.dump_meta("", [], ns_e, {}, {"step": v}, b"") for v in (1, 1.0, True, 1, True)
    }
    assert len(records) == 1
    empties = {_serde.dump_meta("", [], ns_e, {}, {"p": v}, b"") for v in ({}, {}, [], ())}
    # {} and [] differ (canonical "{}" vs "[]"); [] and () are equal lists to the filter
    assert len(empties) == 2
