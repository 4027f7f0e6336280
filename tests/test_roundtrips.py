"""Exact network round trips per operation, counted on the client's connections.

A connection class that counts every packed send (a pipeline is one send) is plugged into the
client's pool; the server's own command statistics confirm that each operation ran as a single
EVALSHA.  Speed itself is for the benchmarks; these counts are exact, so they are asserted.
"""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.base.id import uuid6
from redis import BlockingConnectionPool, Connection, Redis
from redis.asyncio import BlockingConnectionPool as AsyncBlockingConnectionPool
from redis.asyncio import Connection as AsyncConnection
from redis.asyncio import Redis as AsyncRedis

from aredis_ckpt import AsyncRedisSaver, RedisSaver

pytestmark = pytest.mark.standalone

SENDS = {"n": 0}


class CountingConnection(Connection):
    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        SENDS["n"] += 1
        super().send_packed_command(command, check_health)


class AsyncCountingConnection(AsyncConnection):
    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        SENDS["n"] += 1
        await super().send_packed_command(command, check_health)


def _conf(thread: str, ns: str = "", cid: str | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {"thread_id": thread, "checkpoint_ns": ns}
    if cid:
        c["checkpoint_id"] = cid
    return {"configurable": c}


def _checkpoint(i: int) -> Any:
    cp = empty_checkpoint()
    cp["id"] = str(uuid6(clock_seq=-1))
    cp["channel_values"] = {"messages": [f"message {j}" for j in range(i + 1)], "step": i}
    cp["channel_versions"] = {"messages": i + 1, "step": i + 1}
    return cp


OPS = [
    "put",
    "put_writes",
    "get_tuple latest",
    "get_tuple by id",
    "list page (limit=10 of 60)",
    "list page with filter",
    "list(None) page (limit=10, 64 buckets merged)",
    "get_delta_channel_history (walks 61 ancestors)",
]


def report(
    capsys: pytest.CaptureFixture[str],
    label: str,
    counts: dict[str, int],
    what: str = "round trips per operation",
) -> None:
    """Print the counts of one saver or store (shown in the test run's output)."""
    with capsys.disabled():
        print(f"\n  {what}, {label}:")
        for op, n in counts.items():
            print(f"    {op:45s} {n}")


def test_sync_saver_uses_one_round_trip_per_operation(
    redis_server: Any, key_prefix: str, server_evalsha: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = BlockingConnectionPool(
        connection_class=CountingConnection, host="127.0.0.1", port=redis_server.port
    )
    client = Redis(connection_pool=pool)
    saver = RedisSaver(client, key_prefix=key_prefix)
    saver.setup()
    parent = None
    for i in range(60):
        stored = saver.put(
            _conf("t", "", parent), _checkpoint(i), {"step": i}, {"messages": i + 1, "step": i + 1}
        )
        saver.put_writes(stored, [("messages", "w")], "task")
        parent = stored["configurable"]["checkpoint_id"]
    counts: dict[str, int] = {}

    def measure(op: str, fn: Any) -> None:
        before_sends, before_server = SENDS["n"], server_evalsha()
        fn()
        counts[op] = SENDS["n"] - before_sends
        assert server_evalsha() - before_server == 1, op

    # (both channels changed: a checkpoint whose value of "messages" was never stored would
    # read as damaged)
    new = {"messages": 62, "step": 62}
    measure("put", lambda: saver.put(_conf("t", "", parent), _checkpoint(61), {}, new))
    latest = saver.get_tuple(_conf("t"))
    assert latest is not None
    measure("put_writes", lambda: saver.put_writes(latest.config, [("a", 1), ("b", 2)], "x"))
    measure("get_tuple latest", lambda: saver.get_tuple(_conf("t")))
    measure("get_tuple by id", lambda: saver.get_tuple(_conf("t", "", parent)))
    measure("list page (limit=10 of 60)", lambda: list(saver.list(_conf("t"), limit=10)))
    measure(
        "list page with filter",
        lambda: list(saver.list(_conf("t"), filter={"step": 5}, limit=1)),
    )
    measure(
        "list(None) page (limit=10, 64 buckets merged)", lambda: list(saver.list(None, limit=10))
    )
    measure(
        "get_delta_channel_history (walks 61 ancestors)",
        lambda: saver.get_delta_channel_history(
            config=latest.config, channels=["messages", "never-written"]
        ),
    )
    report(capsys, "RedisSaver", counts)
    assert counts == dict.fromkeys(OPS, 1)
    client.close()
    pool.disconnect()


async def test_async_saver_uses_one_round_trip_per_operation(
    redis_server: Any, key_prefix: str, server_evalsha: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = AsyncBlockingConnectionPool(
        connection_class=AsyncCountingConnection, host="127.0.0.1", port=redis_server.port
    )
    client = AsyncRedis(connection_pool=pool)
    saver = AsyncRedisSaver(client, key_prefix=key_prefix)
    await saver.asetup()
    parent = None
    for i in range(60):
        stored = await saver.aput(
            _conf("t", "", parent), _checkpoint(i), {"step": i}, {"messages": i + 1, "step": i + 1}
        )
        await saver.aput_writes(stored, [("messages", "w")], "task")
        parent = stored["configurable"]["checkpoint_id"]
    latest = await saver.aget_tuple(_conf("t"))
    assert latest is not None
    counts: dict[str, int] = {}
    ops: list[tuple[str, Any]] = [
        (
            "put",
            lambda: saver.aput(
                _conf("t", "", parent), _checkpoint(61), {}, {"messages": 62, "step": 62}
            ),
        ),
        ("put_writes", lambda: saver.aput_writes(latest.config, [("a", 1), ("b", 2)], "x")),
        ("get_tuple latest", lambda: saver.aget_tuple(_conf("t"))),
        ("get_tuple by id", lambda: saver.aget_tuple(_conf("t", "", parent))),
        ("list page (limit=10 of 60)", lambda: _drain(saver.alist(_conf("t"), limit=10))),
        (
            "list page with filter",
            lambda: _drain(saver.alist(_conf("t"), filter={"step": 5}, limit=1)),
        ),
        (
            "list(None) page (limit=10, 64 buckets merged)",
            lambda: _drain(saver.alist(None, limit=10)),
        ),
        (
            "get_delta_channel_history (walks 61 ancestors)",
            lambda: saver.aget_delta_channel_history(
                config=latest.config, channels=["messages", "never-written"]
            ),
        ),
    ]
    for op, make in ops:
        before_sends, before_server = SENDS["n"], server_evalsha()
        await make()
        counts[op] = SENDS["n"] - before_sends
        assert server_evalsha() - before_server == 1, op
    report(capsys, "AsyncRedisSaver", counts)
    assert counts == dict.fromkeys(OPS, 1)
    await client.aclose()
    await pool.disconnect()


async def _drain(it: Any) -> list[Any]:
    return [x async for x in it]


def _memory_source(threads: int, depth: int) -> Any:
    from langgraph.checkpoint.memory import InMemorySaver

    source = InMemorySaver()
    for t in range(threads):
        parent = None
        for i in range(depth):
            stored = source.put(_conf(f"t{t}", "", parent), _checkpoint(i), {"step": i}, {})
            source.put_writes(stored, [("messages", "w")], "task")
            parent = stored["configurable"]["checkpoint_id"]
    return source


def test_copy_sends_a_pipeline_per_batch(
    redis_server: Any, key_prefix: str, server_evalsha: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from aredis_ckpt.migrate import copy_checkpoints, verify_checkpoints

    source = _memory_source(threads=3, depth=10)
    pool = BlockingConnectionPool(
        connection_class=CountingConnection, host="127.0.0.1", port=redis_server.port
    )
    client = Redis(connection_pool=pool)
    target = RedisSaver(client, key_prefix=key_prefix)
    target.setup()
    counts: dict[str, int] = {}
    for label, batch in (("copy 30 checkpoints, batch_size=8", 8), ("second run (skips)", 8)):
        before_sends, before_server = SENDS["n"], server_evalsha()
        copy_checkpoints(source, target, batch_size=batch)
        counts[label] = SENDS["n"] - before_sends
        counts[label + ": scripts"] = server_evalsha() - before_server
    report(capsys, "copy_checkpoints", counts, "round trips (and scripts run)")
    # one pipeline looks up the 3 threads' newest checkpoints on the target; the 30 puts and
    # 30 put_writes go in ceil(30 / 8) = 4 pipelines
    assert counts == {
        "copy 30 checkpoints, batch_size=8": 1 + 4,
        "copy 30 checkpoints, batch_size=8: scripts": 3 + 30 + 30,
        "second run (skips)": 1,
        "second run (skips): scripts": 3,
    }
    assert verify_checkpoints(source, target).ok
    client.close()
    pool.disconnect()
