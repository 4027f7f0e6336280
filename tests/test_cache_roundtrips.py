"""Exact network round trips per node-cache operation, counted on the client's connections.

As in test_roundtrips.py: a connection class counting every packed send (a pipeline is one
send) is plugged into the client's pool, and the server's command statistics confirm how many
scripts ran.  On one server every operation is one send and one EVALSHA.  On a cluster (run
with AREDIS_TEST_TOPOLOGY=cluster) a batch is one EVALSHA per touched bucket (slot) and one
send per node serving them, with no other command on any node (redis-py's sync cluster
pipeline would add a ``COMMAND GETKEYS`` per EVALSHA).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis import BlockingConnectionPool, Connection, Redis
from redis.asyncio import BlockingConnectionPool as AsyncBlockingConnectionPool
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.asyncio.connection import Connection as AsyncConnection
from redis.cluster import RedisCluster

from aredis_ckpt import AsyncRedisCache, RedisCache
from aredis_ckpt._cache_base import bucket_of, ns_path
from aredis_ckpt._keys import encode

# the saver's counting connections (server_evalsha is a fixture of tests/conftest.py)
from test_roundtrips import SENDS, AsyncCountingConnection, CountingConnection, report

ONE = [(("ns", "node"), "k0")]
HUNDRED = [((f"ns{i % 5}", "node"), f"k{i}") for i in range(100)]
OPS = [
    "get 1 key (miss)",
    "set 1 key",
    "get 1 key (hit)",
    "set 100 keys (5 namespaces)",
    "get 100 keys",
    "clear 2 namespaces",
    "clear everything",
]


def _ops(cache: Any, prefix: str) -> list[tuple[str, Callable[[], Any]]]:
    """The measured operations, as calls of sync or async methods (``prefix`` "a" or "")."""

    def call(name: str, *args: Any) -> Callable[[], Any]:
        return lambda: getattr(cache, prefix + name)(*args)

    return [
        (OPS[0], call("get", ONE)),
        (OPS[1], call("set", {ONE[0]: ("v", 60)})),
        (OPS[2], call("get", ONE)),
        (OPS[3], call("set", {k: (i, None) for i, k in enumerate(HUNDRED)})),
        (OPS[4], call("get", HUNDRED)),
        (OPS[5], call("clear", [("ns1", "node"), ("ns2", "node")])),
        (OPS[6], call("clear")),
    ]


@pytest.mark.standalone
def test_sync_cache_uses_one_round_trip_per_operation(
    redis_server: Any, key_prefix: str, server_evalsha: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = BlockingConnectionPool(
        connection_class=CountingConnection, host="127.0.0.1", port=redis_server.port
    )
    cache: RedisCache[Any] = RedisCache(Redis(connection_pool=pool), key_prefix=key_prefix)
    for _, fn in _ops(cache, ""):
        fn()  # the first call of each script loads it (NOSCRIPT)
    counts: dict[str, int] = {}
    for op, fn in _ops(cache, ""):
        before_sends, before_server = SENDS["n"], server_evalsha()
        fn()
        counts[op] = SENDS["n"] - before_sends
        assert server_evalsha() - before_server == 1, op
    report(capsys, "RedisCache", counts, "cache round trips per operation")
    assert counts == dict.fromkeys(OPS, 1)
    cache.close()
    pool.disconnect()


@pytest.mark.standalone
async def test_async_cache_uses_one_round_trip_per_operation(
    redis_server: Any, key_prefix: str, server_evalsha: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = AsyncBlockingConnectionPool(
        connection_class=AsyncCountingConnection, host="127.0.0.1", port=redis_server.port
    )
    client = AsyncRedis(connection_pool=pool)
    cache: AsyncRedisCache[Any] = AsyncRedisCache(client, key_prefix=key_prefix)
    for _, fn in _ops(cache, "a"):
        await fn()
    counts: dict[str, int] = {}
    for op, fn in _ops(cache, "a"):
        before_sends, before_server = SENDS["n"], server_evalsha()
        await fn()
        counts[op] = SENDS["n"] - before_sends
        assert server_evalsha() - before_server == 1, op
    report(capsys, "AsyncRedisCache", counts, "cache round trips per operation")
    assert counts == dict.fromkeys(OPS, 1)
    await client.aclose()
    await pool.disconnect()


# ---------------------------------------------------------------------- cluster


@pytest.fixture
def cluster_stats(redis_cluster: Any) -> Iterator[Callable[[], dict[str, int]]]:
    """EVALSHA and COMMAND calls so far, summed over every node of the test cluster."""
    if redis_cluster is None:
        pytest.skip("needs AREDIS_TEST_TOPOLOGY=cluster")
    admins = [Redis(host="127.0.0.1", port=node.port) for node in redis_cluster.nodes]

    def stats() -> dict[str, int]:
        total = {"evalsha": 0, "command": 0}
        for admin in admins:
            for name, row in admin.info("commandstats").items():
                kind = name.removeprefix("cmdstat_").split("|")[0]
                if kind in total:
                    total[kind] += int(row["calls"])
        return total

    yield stats
    for admin in admins:
        admin.close()


def _expected(cache: Any, client: Any, keys: list[Any]) -> tuple[int, int]:
    """(buckets, nodes) a batch of ``keys`` touches."""
    buckets = {bucket_of(ns_path(tuple(ns)), encode(key)) for ns, key in keys}
    nodes = {client.get_node_from_key(cache._ck.generation[b]).name for b in buckets}
    return len(buckets), len(nodes)


def _cluster_expectations(cache: Any, client: Any) -> dict[str, tuple[int, int]]:
    every = (16, len({client.get_node_from_key(g).name for g in cache._ck.generation}))
    return {
        OPS[0]: _expected(cache, client, ONE),
        OPS[1]: _expected(cache, client, ONE),
        OPS[2]: _expected(cache, client, ONE),
        OPS[3]: _expected(cache, client, HUNDRED),
        OPS[4]: _expected(cache, client, HUNDRED),
        OPS[5]: every,
        OPS[6]: every,
    }


def _report_cluster(
    capsys: pytest.CaptureFixture[str], label: str, counts: dict[str, tuple[int, int]]
) -> None:
    report(capsys, label, {op: n for op, (n, _) in counts.items()}, "EVALSHA calls")
    report(capsys, label, {op: n for op, (_, n) in counts.items()}, "sends (one per node)")


def test_sync_cluster_cache_sends_once_per_node(
    redis_server: Any,
    key_prefix: str,
    cluster_stats: Callable[[], dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # redis-py's cluster client takes no connection class: count on the stock one
    original = Connection.send_packed_command

    def counting(self: Any, command: Any, check_health: bool = True) -> None:
        SENDS["n"] += 1
        original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counting)
    client = RedisCluster(host="127.0.0.1", port=redis_server.port)
    cache: RedisCache[Any] = RedisCache(client, key_prefix=key_prefix)
    for _, fn in _ops(cache, ""):
        fn()
    expected = _cluster_expectations(cache, client)
    assert expected[OPS[4]][0] > 1 and expected[OPS[4]][1] > 1  # several slots, several nodes
    counts: dict[str, tuple[int, int]] = {}
    for op, fn in _ops(cache, ""):
        before = cluster_stats()
        before_sends = SENDS["n"]
        fn()
        sends = SENDS["n"] - before_sends
        after = cluster_stats()
        counts[op] = (after["evalsha"] - before["evalsha"], sends)
        assert after["command"] == before["command"], op
    _report_cluster(capsys, "RedisCache on a cluster", counts)
    assert counts == expected
    client.close()


async def test_async_cluster_cache_sends_once_per_node(
    redis_server: Any,
    key_prefix: str,
    cluster_stats: Callable[[], dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    original = AsyncConnection.send_packed_command

    async def counting(self: Any, command: Any, check_health: bool = True) -> None:
        SENDS["n"] += 1
        await original(self, command, check_health)

    monkeypatch.setattr(AsyncConnection, "send_packed_command", counting)
    client = AsyncRedisCluster(host="127.0.0.1", port=redis_server.port)
    cache: AsyncRedisCache[Any] = AsyncRedisCache(client, key_prefix=key_prefix)
    for _, fn in _ops(cache, "a"):
        await fn()
    expected = _cluster_expectations(cache, client)
    counts: dict[str, tuple[int, int]] = {}
    for op, fn in _ops(cache, "a"):
        before = cluster_stats()
        before_sends = SENDS["n"]
        await fn()
        sends = SENDS["n"] - before_sends
        after = cluster_stats()
        counts[op] = (after["evalsha"] - before["evalsha"], sends)
        assert after["command"] == before["command"], op
    _report_cluster(capsys, "AsyncRedisCache on a cluster", counts)
    assert counts == expected
    await client.aclose()
