"""The key schema's constants and bounds (pure: no server)."""

from __future__ import annotations

import random

from redis.crc import key_slot

from aredis_ckpt._keys import (
    BLOCK,
    BUCKET_TAGS,
    BUCKETS,
    LONG_PART,
    PrefixKeys,
    _escape_cached,
    _thread_keys,
    escape,
    key_part,
    slot_of,
)


def test_bucket_tags_sit_in_the_middle_of_their_slot_blocks() -> None:
    pk = PrefixKeys(b"any:prefix")
    assert len(BUCKET_TAGS) == BUCKETS == len(set(BUCKET_TAGS)) and BUCKETS * BLOCK == 16384
    for b, bucket in enumerate(pk.buckets):
        want = b * BLOCK + BLOCK // 2
        for key in (bucket.index, bucket.exp, bucket.run(b"r"), bucket.members(b"T")):
            assert key_slot(key) == want, (b, key)


def test_a_thread_belongs_to_the_bucket_of_its_slot_block() -> None:
    rng = random.Random(7)
    pk = PrefixKeys(b"p")
    for _ in range(500):
        tid = "".join(rng.choice("ab:{}%é\x00 ") for _ in range(rng.randrange(12)))
        tk = pk.thread(tid)
        slot = key_slot(tk.all[0])
        assert all(key_slot(k) == slot for k in tk.all)
        assert slot_of(tk.tag) == slot and tk.bucket == slot // BLOCK
        assert pk.bucket_of(tk.tag).number == tk.bucket


def test_long_ids_are_keyed_by_digest() -> None:
    for n in (LONG_PART - 1, LONG_PART, LONG_PART + 1, 1 << 20):
        part = key_part("x" * n)
        assert part == (b"x" * n if n <= LONG_PART else part)
        assert len(part) <= LONG_PART
    # the length that counts is the escaped one: 100 "%" escape to 300 bytes
    assert key_part("%" * 100).startswith(b"%H") and len(key_part("%" * 100)) == 66
    # escaping never makes a digest's, a bucket's or the shared slot's marker
    for text in ("%H", "%B00.7ta", "%G", "%", "%%H"):
        assert escape(text)[:2] not in (b"%H", b"%B", b"%G")
    assert len({key_part("y" * 300 + c) for c in "abc"}) == 3


def _lookups() -> tuple[int, int]:
    e, t = _escape_cached.cache_info(), _thread_keys.cache_info()
    return e.hits + e.misses, t.hits + t.misses


def test_client_caches_never_hold_long_ids() -> None:
    pk = PrefixKeys(b"p")
    before = _lookups()
    for i in range(5):
        pk.thread(f"{i}" + "z" * 10_000)
        escape(f"{i}" + "z" * 10_000)
    assert _lookups() == before  # never looked up, so never stored
    pk.thread("short")
    assert _lookups() != before
