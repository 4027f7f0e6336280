"""wait_replicas: each write waits for N replicas, in the same round trip, or raises."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.checkpoint.base import empty_checkpoint
from redis import BlockingConnectionPool, Redis

from aredis_ckpt import AsyncRedisSaver, RedisSaver, ReplicationError
from aredis_ckpt._server import RedisServer
from test_roundtrips import SENDS, CountingConnection

pytestmark = pytest.mark.standalone


@pytest.fixture
def replica(redis_server: RedisServer) -> Iterator[RedisServer]:
    server = RedisServer(
        redis_server.binary, extra_args=["--replicaof", "127.0.0.1", str(redis_server.port)]
    )
    server.start()
    try:
        for _ in range(400):
            if "master_link_status:up" in str(server.command("INFO", "replication")):
                break
            time.sleep(0.025)
        yield server
    finally:
        server.stop()


def _put(saver: Any, thread: str) -> Any:
    cp = empty_checkpoint()
    cp["channel_values"] = {"a": 1}
    cp["channel_versions"] = {"a": 1}
    return saver.put({"configurable": {"thread_id": thread, "checkpoint_ns": ""}}, cp, {}, {"a": 1})


def test_writes_wait_for_replicas_in_one_round_trip(
    redis_server: RedisServer, replica: RedisServer, key_prefix: str
) -> None:
    pool = BlockingConnectionPool(
        connection_class=CountingConnection, host="127.0.0.1", port=redis_server.port
    )
    saver = RedisSaver(Redis(connection_pool=pool), key_prefix=key_prefix, wait_replicas=1)
    saver.setup()
    _put(saver, "warm")
    before = SENDS["n"]
    stored = _put(saver, "t")
    saver.put_writes(stored, [("a", 2)], "task")
    assert SENDS["n"] - before == 2  # put + WAIT, put_writes + WAIT: pipelined
    # the replica has the checkpoint the moment put returned
    follower = RedisSaver(Redis(port=replica.port), key_prefix=key_prefix)
    tup = follower.get_tuple(stored)
    assert tup is not None and tup.pending_writes == [("task", "a", 2)]
    pool.disconnect()


def test_too_few_replicas_raise(redis_url: str, key_prefix: str) -> None:
    with RedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, wait_replicas=2, wait_timeout_ms=50
    ) as saver:
        with pytest.raises(ReplicationError, match="put: 0 of the 2 replicas"):
            _put(saver, "t")
        # the write itself happened on the primary
        assert saver.get_tuple({"configurable": {"thread_id": "t"}}) is not None


async def test_async_saver_waits_too(redis_url: str, replica: RedisServer, key_prefix: str) -> None:
    async with AsyncRedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, wait_replicas=1
    ) as saver:
        cp = empty_checkpoint()
        stored = await saver.aput(
            {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}, cp, {}, {}
        )
        await saver.aput_writes(stored, [("x", 1)], "task")
        await saver.adelete_thread("t")
    async with AsyncRedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, wait_replicas=3, wait_timeout_ms=50
    ) as saver:
        with pytest.raises(ReplicationError, match="put_writes"):
            await saver.aput_writes(stored, [("x", 1)], "task")


def test_wait_options_are_checked(redis_url: str) -> None:
    with pytest.raises(ValueError, match="wait_replicas"):
        RedisSaver(redis_url, wait_replicas=-1)
