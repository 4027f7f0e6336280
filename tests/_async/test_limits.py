"""Payload limits: a request over ``max_payload_bytes`` (or over the server's
``proto-max-bulk-len``, learned at setup) is refused before anything is sent, and so is never
retried.  Written once; scripts/unasync.py generates the sync twin.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from redis import Redis

from aredis_ckpt import (
    AsyncRedisSaver,
    AsyncShallowRedisSaver,
    PayloadTooLargeError,
    UnencryptedDataError,
)
from aredis_ckpt._server import RedisServer

from .test_saver import cfg, make_checkpoint, md, put_chain
from .test_store import make_store  # noqa: F401  (the store fixture)

BIG = b"x" * 30_000


def received(url: str) -> tuple[int, int]:
    """Bytes the server has read from clients, and connections it accepted, so far."""
    with Redis.from_url(url) as admin:
        stats = admin.info("stats")
    return int(stats["total_net_input_bytes"]), int(stats["total_connections_received"])


async def test_a_put_over_the_limit_is_refused_and_stores_nothing(make_saver: Any) -> None:
    async with make_saver(max_payload_bytes=20_000, compress_threshold=None) as saver:
        stored = (await put_chain(saver, "t", 1))[0]
        cp = make_checkpoint({"big": BIG, "small": 1}, {"big": 1, "small": 2})
        with pytest.raises(PayloadTooLargeError) as caught:
            await saver.aput(stored, cp, md(1), {"big": 1, "small": 2})
        message = str(caught.value)
        assert message.startswith("put on thread 't' (namespace '')")
        assert "over max_payload_bytes (20000 bytes)" in message
        assert "channel 'big': 30006 bytes" in message and "nothing was sent" in message
        assert isinstance(caught.value, ValueError)
        assert len([t async for t in saver.alist(cfg("t"))]) == 1
        with pytest.raises(PayloadTooLargeError) as caught:
            await saver.aput_writes(stored, [("small", 1), ("big", BIG)], "task-7")
        assert "put_writes on thread 't'" in str(caught.value)
        assert "write of task 'task-7' to channel 'big'" in str(caught.value)
        tup = await saver.aget_tuple(stored)
        assert tup is not None and tup.pending_writes == []
    async with make_saver(max_payload_bytes=None, compress_threshold=None) as unlimited:
        await unlimited.aput(stored, cp, md(1), {"big": 1, "small": 2})
        await unlimited.aput_writes(stored, [("big", BIG)], "task-7")
        assert len([t async for t in unlimited.alist(cfg("t"))]) == 2


@pytest.mark.standalone
async def test_nothing_reaches_the_server(make_saver: Any, redis_url: str) -> None:
    async with make_saver(max_payload_bytes=20_000, compress_threshold=None) as saver:
        stored = (await put_chain(saver, "t", 1))[0]
        cp = make_checkpoint({"big": BIG}, {"big": 1})
        before = received(redis_url)
        for _ in range(3):
            with pytest.raises(PayloadTooLargeError):
                await saver.aput(stored, cp, md(1), {"big": 1})
        after = received(redis_url)
        # only `received` itself in between: its connection handshake and INFO
        assert after[0] - before[0] < 1000
        assert after[1] - before[1] == 1


async def test_the_default_limit_is_64_mib(make_saver: Any) -> None:
    async with make_saver(compress_threshold=None) as saver:
        cp = make_checkpoint({"huge": b"x" * (65 << 20)}, {"huge": 1})
        with pytest.raises(PayloadTooLargeError, match=r"over max_payload_bytes \(64\.0 MiB\)"):
            await saver.aput(cfg("t"), cp, md(), {"huge": 1})
        assert await saver.aget_tuple(cfg("t")) is None


async def test_the_shallow_saver_has_the_same_guard_rails(
    make_saver: Any, redis_url: str, key_prefix: str, saver_kwargs: dict[str, Any]
) -> None:
    aes = EncryptedSerializer.from_pycryptodome_aes(key=b"0123456789abcdef")
    async with (
        AsyncShallowRedisSaver.from_conn_string(
            redis_url, key_prefix=key_prefix, serde=aes, max_payload_bytes=20_000, **saver_kwargs
        ) as shallow,
        make_saver() as plain,
    ):
        await shallow.asetup()
        await put_chain(plain, "t", 1)
        with pytest.raises(UnencryptedDataError, match="'t'"):
            await shallow.aget_tuple(cfg("t"))
        cp = make_checkpoint({"big": BIG}, {"big": 1})
        with pytest.raises(PayloadTooLargeError, match="channel 'big'"):
            await shallow.aput(cfg("u"), cp, md(), {"big": 1})


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "64mb"])
async def test_max_payload_bytes_is_checked(make_saver: Any, bad: Any) -> None:
    with pytest.raises(ValueError, match="max_payload_bytes"):
        async with make_saver(max_payload_bytes=bad):
            pass


async def test_a_store_batch_over_the_limit_is_refused(make_store: Any) -> None:  # noqa: F811
    async with make_store(max_payload_bytes=20_000) as store:
        await store.aput(("docs",), "small", {"text": "hi"})
        with pytest.raises(PayloadTooLargeError) as caught:
            await store.aput(("docs",), "big", {"text": "y" * 30_000})
        assert "item 'big' of namespace ('docs',)" in str(caught.value)
        assert await store.aget(("docs",), "big") is None
    async with make_store(max_payload_bytes=None) as unlimited:
        await unlimited.aput(("docs",), "big", {"text": "y" * 30_000})
        item = await unlimited.aget(("docs",), "big")
        assert item is not None and len(item.value["text"]) == 30_000


@pytest.fixture(scope="module")
def small_bulk_server() -> Iterator[RedisServer]:
    """A server that drops any request argument over 1 MB (proto-max-bulk-len 1mb)."""
    server = RedisServer(
        os.environ.get("AREDIS_REDIS_SERVER") or None, extra_args=["--proto-max-bulk-len", "1mb"]
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.standalone
async def test_the_servers_bulk_limit_is_learned_at_setup(
    small_bulk_server: RedisServer, key_prefix: str
) -> None:
    # Without the limit this request is sent, the server drops the connection mid-request,
    # and the client's retry policy sends all of it again three times.
    url = small_bulk_server.url
    cp = make_checkpoint({"big": b"x" * 1_500_000}, {"big": 1})
    async with AsyncRedisSaver.from_conn_string(
        url, key_prefix=key_prefix, max_payload_bytes=None, compress_threshold=None
    ) as saver:
        await saver.asetup()
        before = received(url)
        with pytest.raises(PayloadTooLargeError) as caught:
            await saver.aput(cfg("t"), cp, md(), {"big": 1})
        assert "over the server's proto-max-bulk-len (1.0 MiB)" in str(caught.value)
        after = received(url)
        assert after[0] - before[0] < 1000 and after[1] - before[1] == 1
        assert await saver.aget_tuple(cfg("t")) is None
