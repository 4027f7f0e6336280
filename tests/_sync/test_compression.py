# This file is generated from tests/_async/test_compression.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""Large channel values and pending writes are stored compressed, and stay readable whatever
the reading saver's setting.  Written once; scripts/unasync.py generates the sync twin."""

from __future__ import annotations

import zlib
from typing import Any

import pytest
import zstandard

from aredis_ckpt import RedisSaver

from .test_saver import cfg, make_checkpoint, md

BIG = {"messages": [f"message number {i}: " + "lorem ipsum " * 20 for i in range(40)]}


def stored_tags(saver: RedisSaver, thread_id: str) -> list[str]:
    values = saver._redis.hvals(saver._thread(thread_id).all[4])
    return sorted(blob[1 : 1 + blob[0]].decode() for blob in values)


def test_large_values_are_compressed_and_read_back_anywhere(make_saver: Any) -> None:
    with make_saver() as saver:
        cp = make_checkpoint({"big": BIG, "small": 1}, {"big": 1, "small": 1})
        stored = saver.put(cfg("t"), cp, md(), {"big": 1, "small": 1})
        saver.put_writes(stored, [("big", BIG)], "task")
        assert stored_tags(saver, "t") == ["msgpack", "zstd+msgpack"]
        raw = saver._redis.hvals(saver._thread("t").all[4])
        assert max(len(b) for b in raw) < 2500  # the payload alone is over 10 KB
        again = saver.get_tuple(stored)
        assert again is not None
        assert again.checkpoint["channel_values"] == {"big": BIG, "small": 1}
        assert again.pending_writes == [("task", "big", BIG)]
    with make_saver(compress_threshold=None) as plain:
        tup = plain.get_tuple(stored)
        assert tup is not None and tup.checkpoint["channel_values"]["big"] == BIG
        cp2 = make_checkpoint({"big": BIG}, {"big": 1})
        plain.put(cfg("u"), cp2, md(), {"big": 1})
        assert stored_tags(plain, "u") == ["msgpack"]
    with make_saver() as reader:
        tup = reader.get_tuple(cfg("u"))
        assert tup is not None and tup.checkpoint["channel_values"]["big"] == BIG


def test_zlib_values_of_earlier_versions_still_read(make_saver: Any) -> None:
    # values stored zlib-compressed (the tag "zlib+msgpack") before zstd became the codec
    with make_saver() as saver:
        cp = make_checkpoint({"big": BIG}, {"big": 1})
        stored = saver.put(cfg("z"), cp, md(), {"big": 1})
        key = saver._thread("z").all[4]
        for name, blob in (saver._redis.hgetall(key)).items():
            tag = blob[1 : 1 + blob[0]].decode()
            assert tag == "zstd+msgpack"
            payload = zstandard.ZstdDecompressor().decompress(blob[1 + blob[0] :])
            old = b"zlib+msgpack"
            saver._redis.hset(key, name, bytes((len(old),)) + old + zlib.compress(payload))
        tup = saver.get_tuple(stored)
        assert tup is not None and tup.checkpoint["channel_values"] == {"big": BIG}


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_compress_threshold_is_checked(make_saver: Any, bad: Any) -> None:
    with pytest.raises(ValueError, match="compress_threshold"):
        with make_saver(compress_threshold=bad):
            pass
