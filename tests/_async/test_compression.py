"""Large channel values and pending writes are stored compressed, and stay readable whatever
the reading saver's setting.  Written once; scripts/unasync.py generates the sync twin."""

from __future__ import annotations

import zlib
from typing import Any

import pytest
import zstandard
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

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


def serialized(value: Any) -> bytes:
    return JsonPlusSerializer().dumps_typed(value)[1]


def grown(n: int) -> list[str]:
    """The first n messages of a conversation that only ever appends."""
    return [f"message {i}: " + "lorem ipsum dolor " * (10 + i % 7) for i in range(n)]


async def test_a_growing_value_compresses_only_what_it_adds(make_saver: Any) -> None:
    # an agent's messages channel: every version is the previous list plus a message or two
    async with make_saver() as saver:
        config: dict[str, Any] = cfg("grow")
        stored = []
        for step in range(10):
            value = grown(12 + 2 * step)  # crosses msgpack's 15/16-item array header change
            cp = make_checkpoint({"messages": value}, {"messages": step + 1})
            config = await saver.aput(config, cp, md(step), {"messages": step + 1})
            stored.append((config, value))
        tags = await stored_tags(saver, "grow")
        # compressed whole once, then extended: the two new messages of a step as they are,
        # until the uncompressed tail would pass 1 KB (then that tail becomes one frame)
        assert tags.count("zstd+msgpack") == 1
        assert tags.count("zseg+msgpack") == 9
        raw = await saver._redis.hvals(saver._thread("grow").all[4])
        assert max(len(b) for b in raw) < len(serialized(grown(30))) / 2
        for config, value in stored:
            tup = await saver.aget_tuple(config)
            assert tup is not None and tup.checkpoint["channel_values"] == {"messages": value}
        listed = [
            t.checkpoint["channel_values"]["messages"] async for t in saver.alist(cfg("grow"))
        ]
        assert listed == [value for _, value in reversed(stored)]
    async with make_saver(compress_threshold=None) as reader:  # remembers nothing
        for config, value in stored:
            tup = await reader.aget_tuple(config)
            assert tup is not None and tup.checkpoint["channel_values"] == {"messages": value}


async def test_a_value_that_does_not_extend_the_last_one_is_compressed_whole(
    make_saver: Any,
) -> None:
    async with make_saver() as saver:
        first = await saver.aput(
            cfg("fork"), make_checkpoint({"m": grown(20)}, {"m": 1}), md(0), {"m": 1}
        )
        second = await saver.aput(
            first, make_checkpoint({"m": grown(22)}, {"m": 2}), md(1), {"m": 2}
        )
        # a fork from the first checkpoint: its list is not the last stored one plus more
        branch = [*grown(20), "another ending " * 30]
        forked = await saver.aput(first, make_checkpoint({"m": branch}, {"m": 3}), md(1), {"m": 3})
        # the same list again: stored as it was, nothing compressed twice
        again = await saver.aput(
            forked, make_checkpoint({"m": list(branch)}, {"m": 4}), md(2), {"m": 4}
        )
        assert await stored_tags(saver, "fork") == [
            "zseg+msgpack",
            "zseg+msgpack",
            "zstd+msgpack",
            "zstd+msgpack",
        ]
        for config, value in (
            (first, grown(20)),
            (second, grown(22)),
            (forked, branch),
            (again, branch),
        ):
            tup = await saver.aget_tuple(config)
            assert tup is not None and tup.checkpoint["channel_values"] == {"m": value}
        # another saver (another process) has no memory of these: it compresses whole
    async with make_saver() as other:
        await other.aput(
            again, make_checkpoint({"m": [*branch, "x" * 100]}, {"m": 5}), md(3), {"m": 5}
        )
        assert (await stored_tags(other, "fork")).count("zstd+msgpack") == 3


async def test_a_value_carrying_another_of_the_same_put_reuses_its_frames(
    make_saver: Any,
) -> None:
    # LangGraph's prebuilt agent sends its state to the tool node: __pregel_tasks then holds
    # the messages a second time, in the same put
    async with make_saver() as saver:
        config: dict[str, Any] = cfg("send")
        stored = []
        for step in range(3):
            state = grown(20 + step)
            packet = [{"node": "tools", "arg": {"messages": state}, "call": step}]
            values = {"messages": state, "__pregel_tasks": packet}
            cp = make_checkpoint(values, {"messages": step + 1, "__pregel_tasks": step + 1})
            config = await saver.aput(
                config, cp, md(step), {"messages": step + 1, "__pregel_tasks": step + 1}
            )
            stored.append((config, values))
        raw = await saver._redis.hgetall(saver._thread("send").all[4])
        by_channel: dict[bytes, list[bytes]] = {}
        for name, blob in raw.items():
            by_channel.setdefault(name.split(b"\0")[1], []).append(blob)
        packets = by_channel[b"__pregel_tasks"]
        assert all(blob[1 : 1 + blob[0]] == b"zseg+msgpack" for blob in packets)
        # each packet takes little more than the state it carries
        biggest_state = max(len(b) for b in by_channel[b"messages"])
        assert max(len(b) for b in packets) < biggest_state + 400
        for config, values in stored:
            tup = await saver.aget_tuple(config)
            assert tup is not None and tup.checkpoint["channel_values"] == values


async def test_a_pending_write_carrying_the_state_reuses_its_frames(make_saver: Any) -> None:
    # the agent node's writes: its new message, and a Send carrying the state with it
    async with make_saver() as saver:
        state = grown(30)
        cp = make_checkpoint({"messages": state}, {"messages": 1})
        stored = await saver.aput(cfg("w"), cp, md(0), {"messages": 1})
        new = "the answer, with a tool call " * 10
        packet = {"node": "tools", "arg": {"messages": [*state, new]}}
        await saver.aput_writes(stored, [("messages", new), ("__pregel_tasks", packet)], "agent")
        blobs = await saver._redis.hvals(saver._thread("w").all[7])
        (value,) = await saver._redis.hvals(saver._thread("w").all[4])
        biggest = max(blobs, key=len)
        assert b"zseg+msgpack" in biggest  # not compressed again: the state's frames and
        assert len(biggest) < len(value) + len(new) + 200  # the rest as it is
        tup = await saver.aget_tuple(stored)
        assert tup is not None
        assert tup.pending_writes == [
            ("agent", "messages", new),
            ("agent", "__pregel_tasks", packet),
        ]
    async with make_saver(compress_threshold=None) as reader:
        tup = await reader.aget_tuple(stored)
        assert tup is not None and tup.pending_writes[1] == ("agent", "__pregel_tasks", packet)
    # a saver that has not written the state compresses the write whole
    async with make_saver() as other:
        await other.aput_writes(stored, [("__pregel_tasks", packet)], "other")
        blobs = await other._redis.hvals(other._thread("w").all[7])
        assert sum(b"zstd+msgpack" in b for b in blobs) == 1
