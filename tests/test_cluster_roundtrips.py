"""Round trips on a Redis Cluster, counted on the wire, with both clients.

Every send and every reply read on any redis-py connection (sync and asyncio) is logged in
order.  A *round* is a run of sends followed by the reads of their replies: a batch sent to
three nodes before any reply is read is one round, three sends.  ``COMMAND`` calls (redis-py's
cluster pipelines used to ask a server for each EVALSHA's keys) are read from the servers'
statistics.  Topology-specific: runs only with ``AREDIS_TEST_TOPOLOGY=cluster``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.base.id import uuid6
from redis import Redis
from redis.asyncio.connection import AbstractConnection as AsyncConn
from redis.connection import AbstractConnection

from aredis_ckpt import AsyncRedisSaver, RedisSaver, ShallowRedisSaver
from aredis_ckpt._keys import BLOCK, PrefixKeys, encode, slot_of

EVENTS: list[str] = []


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch, redis_cluster: Any) -> Iterator[list[str]]:
    if redis_cluster is None:
        pytest.skip("cluster round trips: run with AREDIS_TEST_TOPOLOGY=cluster")
    send, asend = AbstractConnection.send_packed_command, AsyncConn.send_packed_command
    read, aread = AbstractConnection.read_response, AsyncConn.read_response

    def log_send(self: Any, *a: Any, **k: Any) -> Any:
        EVENTS.append("s")
        return send(self, *a, **k)

    async def alog_send(self: Any, *a: Any, **k: Any) -> Any:
        EVENTS.append("s")
        return await asend(self, *a, **k)

    def log_read(self: Any, *a: Any, **k: Any) -> Any:
        EVENTS.append("r")
        return read(self, *a, **k)

    async def alog_read(self: Any, *a: Any, **k: Any) -> Any:
        EVENTS.append("r")
        return await aread(self, *a, **k)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", log_send)
    monkeypatch.setattr(AsyncConn, "send_packed_command", alog_send)
    monkeypatch.setattr(AbstractConnection, "read_response", log_read)
    monkeypatch.setattr(AsyncConn, "read_response", alog_read)
    EVENTS.clear()
    yield EVENTS
    EVENTS.clear()


def rounds(events: list[str]) -> tuple[int, int]:
    """(rounds, sends) of a logged exchange."""
    n, prev = 0, "r"
    for e in events:
        if e == "s" and prev == "r":
            n += 1
        prev = e
    return n, events.count("s")


def cfg(thread: str, cid: str | None = None) -> dict[str, Any]:
    conf: dict[str, Any] = {"thread_id": thread, "checkpoint_ns": ""}
    if cid:
        conf["checkpoint_id"] = cid
    return {"configurable": conf}


def checkpoint(i: int) -> Any:
    cp = empty_checkpoint()
    cp["id"] = str(uuid6(clock_seq=-1))
    cp["channel_values"] = {"messages": [f"m{j}" for j in range(i + 1)]}
    cp["channel_versions"] = {"messages": i + 1}
    return cp


def masters(cluster: Any) -> list[tuple[int, int, int]]:
    """(first slot, last slot, port) of each master."""
    out = []
    for node in cluster.nodes:
        for line in node.command("CLUSTER", "NODES").decode().splitlines():
            fields = line.split()
            if "myself" in fields[2] and "master" in fields[2]:
                for part in fields[8:]:
                    lo, _, hi = part.partition("-")
                    if lo.isdigit():
                        out.append((int(lo), int(hi or lo), node.port))
    return out


def threads(cluster: Any, prefix: str) -> tuple[str, str]:
    """A thread whose bucket is on its own master, and one whose bucket is on another."""
    pk = PrefixKeys(encode(prefix))
    ranges = masters(cluster)

    def port(slot: int) -> int:
        return next(p for lo, hi, p in ranges if lo <= slot <= hi)

    local = remote = None
    for i in range(100_000):
        tk = pk.thread(f"t{i}")
        same = port(slot_of(tk.tag)) == port(tk.bucket * BLOCK + BLOCK // 2)
        if same and local is None:
            local = f"t{i}"
        if not same and remote is None:
            remote = f"t{i}"
        if local and remote:
            return local, remote
    raise AssertionError("no thread found")


def command_calls(cluster: Any) -> int:
    total = 0
    for node in cluster.nodes:
        client = Redis(host="127.0.0.1", port=node.port)
        stats = client.info("commandstats")
        total += sum(int(v["calls"]) for k, v in stats.items() if k.startswith("cmdstat_command"))
        client.close()
    return total


def test_sync_saver_round_trips_on_a_cluster(
    wire: list[str], redis_cluster: Any, key_prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    counts: dict[str, tuple[int, int]] = {}
    local, remote = threads(redis_cluster, key_prefix)
    with RedisSaver.from_conn_string(
        redis_cluster.url, cluster=True, key_prefix=key_prefix
    ) as saver:
        saver.setup()
        for t in range(30):
            saver.put(cfg(f"fill-{t}"), checkpoint(0), {"run_id": "r"}, {"messages": 1})
        stored = {
            tid: saver.put(cfg(tid), checkpoint(0), {}, {"messages": 1}) for tid in (local, remote)
        }
        commands = command_calls(redis_cluster)

        def measure(op: str, fn: Any) -> None:
            wire.clear()
            fn()
            counts[op] = rounds(wire)

        measure(
            "put (bucket on the thread's node)",
            lambda: saver.put(stored[local], checkpoint(1), {}, {"messages": 2}),
        )
        measure(
            "put (bucket on another node)",
            lambda: saver.put(stored[remote], checkpoint(1), {}, {"messages": 2}),
        )
        measure("put_writes", lambda: saver.put_writes(stored[local], [("a", 1)], "task"))
        measure("get_tuple", lambda: saver.get_tuple(cfg(local)))
        measure("list(thread) page", lambda: list(saver.list(cfg(local), limit=10)))
        measure("list(None) page of 10", lambda: list(saver.list(None, limit=10)))
        measure(
            "get_delta_channel_history",
            lambda: saver.get_delta_channel_history(config=cfg(local), channels=["messages"]),
        )
        assert command_calls(redis_cluster) == commands
    _check(counts, capsys, "RedisSaver")


async def test_async_saver_round_trips_on_a_cluster(
    wire: list[str], redis_cluster: Any, key_prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    counts: dict[str, tuple[int, int]] = {}
    local, remote = threads(redis_cluster, key_prefix)
    async with AsyncRedisSaver.from_conn_string(
        redis_cluster.url, cluster=True, key_prefix=key_prefix
    ) as saver:
        await saver.asetup()
        for t in range(30):
            await saver.aput(cfg(f"fill-{t}"), checkpoint(0), {"run_id": "r"}, {"messages": 1})
        stored = {
            tid: await saver.aput(cfg(tid), checkpoint(0), {}, {"messages": 1})
            for tid in (local, remote)
        }
        commands = command_calls(redis_cluster)

        async def measure(op: str, coro: Any) -> None:
            wire.clear()
            await coro
            counts[op] = rounds(wire)

        async def drain(it: Any) -> None:
            async for _ in it:
                pass

        await measure(
            "put (bucket on the thread's node)",
            saver.aput(stored[local], checkpoint(1), {}, {"messages": 2}),
        )
        await measure(
            "put (bucket on another node)",
            saver.aput(stored[remote], checkpoint(1), {}, {"messages": 2}),
        )
        await measure("put_writes", saver.aput_writes(stored[local], [("a", 1)], "task"))
        await measure("get_tuple", saver.aget_tuple(cfg(local)))
        await measure("list(thread) page", drain(saver.alist(cfg(local), limit=10)))
        await measure("list(None) page of 10", drain(saver.alist(None, limit=10)))
        await measure(
            "get_delta_channel_history",
            saver.aget_delta_channel_history(config=cfg(local), channels=["messages"]),
        )
        assert command_calls(redis_cluster) == commands
    _check(counts, capsys, "AsyncRedisSaver")


def _check(counts: dict[str, tuple[int, int]], capsys: Any, label: str) -> None:
    with capsys.disabled():
        print(f"\n  cluster round trips (rounds, sends), {label}:")
        for op, n in counts.items():
            print(f"    {op:45s} {n}")
    for op, (n, sends) in counts.items():
        if op.startswith("list(None)"):
            # the buckets' nodes, then the entries' nodes: each round at most one send per master
            assert n <= 3 and sends <= 3 * n, (op, n, sends)
        elif op == "put (bucket on another node)":
            assert (n, sends) == (1, 2), op
        else:
            assert (n, sends) == (1, 1), op


def test_shallow_put_on_a_cluster_is_one_round(
    wire: list[str], redis_cluster: Any, key_prefix: str
) -> None:
    local, _ = threads(redis_cluster, key_prefix)
    with ShallowRedisSaver.from_conn_string(
        redis_cluster.url, cluster=True, key_prefix=key_prefix
    ) as saver:
        saver.setup()
        stored = saver.put(cfg(local), checkpoint(0), {"run_id": "r"}, {"messages": 1})
        wire.clear()
        stored = saver.put(stored, checkpoint(1), {"run_id": "r"}, {"messages": 2})
        assert rounds(wire) == (1, 1)
        # the superseded checkpoint's entry left the bucket in the same round
        assert [t.config for t in saver.list(None)] == [stored]
        bucket = saver._bucket(saver._thread(local))
        assert saver._redis.zcard(bucket.index) == 1
