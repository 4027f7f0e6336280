"""Large channel values and pending writes are stored compressed, and stay readable whatever
the reading saver's setting.  Written once; scripts/unasync.py generates the sync twin."""

from __future__ import annotations

import zlib
from typing import Any

import pytest
import zstandard

from aredis_ckpt import AsyncRedisSaver

from .test_saver import cfg, make_checkpoint, md

BIG = {"messages": [f"message number {i}: " + "lorem ipsum " * 20 for i in range(40)]}


async def stored_tags(saver: AsyncRedisSaver, thread_id: str) -> list[str]:
    values = await saver._redis.hvals(saver._thread(thread_id).all[4])
    return sorted(blob[1 : 1 + blob[0]].decode() for blob in values)


async def test_large_values_are_compressed_and_read_back_anywhere(make_saver: Any) -> None:
    async with make_saver() as saver:
        cp = make_checkpoint({"big": BIG, "small": 1}, {"big": 1, "small": 1})
        stored = await saver.aput(cfg("t"), cp, md(), {"big": 1, "small": 1})
        await saver.aput_writes(stored, [("big", BIG)], "task")
        assert await stored_tags(saver, "t") == ["msgpack", "zstd+msgpack"]
        raw = await saver._redis.hvals(saver._thread("t").all[4])
        assert max(len(b) for b in raw) < 2500  # the payload alone is over 10 KB
        again = await saver.aget_tuple(stored)
        assert again is not None
        assert again.checkpoint["channel_values"] == {"big": BIG, "small": 1}
        assert again.pending_writes == [("task", "big", BIG)]
    async with make_saver(compress_threshold=None) as plain:
        tup = await plain.aget_tuple(stored)
        assert tup is not None and tup.checkpoint["channel_values"]["big"] == BIG
        cp2 = make_checkpoint({"big": BIG}, {"big": 1})
        await plain.aput(cfg("u"), cp2, md(), {"big": 1})
        assert await stored_tags(plain, "u") == ["msgpack"]
    async with make_saver() as reader:
        tup = await reader.aget_tuple(cfg("u"))
        assert tup is not None and tup.checkpoint["channel_values"]["big"] == BIG


async def test_zlib_values_of_earlier_versions_still_read(make_saver: Any) -> None:
    # values stored zlib-compressed (the tag "zlib+msgpack") before zstd became the codec
    async with make_saver() as saver:
        cp = make_checkpoint({"big": BIG}, {"big": 1})
        stored = await saver.aput(cfg("z"), cp, md(), {"big": 1})
        key = saver._thread("z").all[4]
        for name, blob in (await saver._redis.hgetall(key)).items():
            tag = blob[1 : 1 + blob[0]].decode()
            assert tag == "zstd+msgpack"
            payload = zstandard.ZstdDecompressor().decompress(blob[1 + blob[0] :])
            old = b"zlib+msgpack"
            await saver._redis.hset(key, name, bytes((len(old),)) + old + zlib.compress(payload))
        tup = await saver.aget_tuple(stored)
        assert tup is not None and tup.checkpoint["channel_values"] == {"big": BIG}


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
async def test_compress_threshold_is_checked(make_saver: Any, bad: Any) -> None:
    with pytest.raises(ValueError, match="compress_threshold"):
        async with make_saver(compress_threshold=bad):
            pass
