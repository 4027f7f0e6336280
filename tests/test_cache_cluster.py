"""The node cache while a Redis Cluster moves a bucket's slot to another master.

A cache whose client still maps the slot to its old master gets ``MOVED`` for that bucket's
script: the call is retried through the cluster client, which follows the redirection and
refreshes its slot map, while the other buckets of the same batch are answered as usual.
Runs with AREDIS_TEST_TOPOLOGY=cluster; the slot is moved back afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest
from redis import Redis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.cluster import RedisCluster
from redis.crc import key_slot

from aredis_ckpt import AsyncRedisCache, RedisCache
from aredis_ckpt._cache_base import bucket_of, ns_path
from aredis_ckpt._keys import encode

KEYS = [((f"ns{i % 3}",), f"k{i}") for i in range(60)]


def _move_slot(cluster: Any, slot: int, target: Any) -> None:
    """Migrate ``slot`` (and its keys) to the master ``target``."""
    source = cluster.master_for_slot(slot)
    if source is target:
        return
    masters = [Redis(port=n.port) for n in cluster.nodes[: len(cluster.nodes) // 2]]
    src, dst = Redis(port=source.port), Redis(port=target.port)
    try:
        src_id = src.execute_command("CLUSTER", "MYID").decode()
        dst_id = dst.execute_command("CLUSTER", "MYID").decode()
        dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
        src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
        while keys := src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100):
            src.execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", *keys)
        for master in masters:
            master.execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
    finally:
        for client in (*masters, src, dst):
            client.close()


@pytest.fixture
def cluster(redis_cluster: Any) -> Any:
    if redis_cluster is None:
        pytest.skip("needs AREDIS_TEST_TOPOLOGY=cluster")
    return redis_cluster


def _moved_bucket(cluster: Any, cache: Any) -> tuple[int, Any, Any]:
    """A bucket the batch touches, its slot's master, and another master to move it to."""
    bucket = bucket_of(ns_path(KEYS[0][0]), encode(KEYS[0][1]))
    slot = key_slot(cache._ck.generation[bucket])
    home = cluster.master_for_slot(slot)
    other = next(n for n in cluster.nodes[: len(cluster.nodes) // 2] if n is not home)
    return slot, home, other


def _count_retries(client: Any, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The EVALSHA calls retried one by one through the cluster client (after a redirect)."""
    retried: list[Any] = []
    original = client.execute_command

    def counting(*args: Any, **kwargs: Any) -> Any:
        if args and args[0] == "EVALSHA":
            retried.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(client, "execute_command", counting)
    return retried


def test_sync_cache_follows_a_moved_slot(
    cluster: Any, redis_server: Any, key_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = RedisCluster(host="127.0.0.1", port=redis_server.port)
    cache: RedisCache[Any] = RedisCache(client, key_prefix=key_prefix)
    cache.set({k: (i, None) for i, k in enumerate(KEYS)})
    slot, home, other = _moved_bucket(cluster, cache)
    _move_slot(cluster, slot, other)
    retried = _count_retries(client, monkeypatch)
    try:
        assert cache.get(KEYS) == {k: i for i, k in enumerate(KEYS)}
        assert len(retried) == 1  # the moved bucket's call, and only it
        cache.set({KEYS[0]: ("moved", None)})
        assert cache.get([KEYS[0]]) == {KEYS[0]: "moved"}
        cache.clear()
        assert cache.get(KEYS) == {}
    finally:
        _move_slot(cluster, slot, home)
        client.close()


async def test_async_cache_follows_a_moved_slot(
    cluster: Any, redis_server: Any, key_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = AsyncRedisCluster(host="127.0.0.1", port=redis_server.port)
    cache: AsyncRedisCache[Any] = AsyncRedisCache(client, key_prefix=key_prefix)
    await cache.aset({k: (i, None) for i, k in enumerate(KEYS)})
    slot, home, other = _moved_bucket(cluster, cache)
    _move_slot(cluster, slot, other)
    retried = _count_retries(client, monkeypatch)
    try:
        assert await cache.aget(KEYS) == {k: i for i, k in enumerate(KEYS)}
        assert len(retried) == 1  # the moved bucket's call, and only it
        await cache.aset({KEYS[0]: ("moved", None)})
        assert await cache.aget([KEYS[0]]) == {KEYS[0]: "moved"}
        await cache.aclear()
        assert await cache.aget(KEYS) == {}
    finally:
        _move_slot(cluster, slot, home)
        await client.aclose()
