"""Paired names: each async name here has a sync twin that ``scripts/unasync.py`` swaps in.

``_async/`` imports Redis classes only from this module, so generating ``_sync/`` is a pure
renaming (AsyncRedis -> Redis, AsyncBlockingConnectionPool -> BlockingConnectionPool, ...).
"""

from __future__ import annotations

from redis import BlockingConnectionPool, ConnectionPool, Redis
from redis.asyncio import BlockingConnectionPool as AsyncBlockingConnectionPool
from redis.asyncio import ConnectionPool as AsyncConnectionPool
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.cluster import RedisCluster
from redis.exceptions import NoScriptError
from redis.sentinel import Sentinel

__all__ = [
    "AsyncBlockingConnectionPool",
    "AsyncConnectionPool",
    "AsyncRedis",
    "AsyncRedisCluster",
    "AsyncSentinel",
    "BlockingConnectionPool",
    "ConnectionPool",
    "NoScriptError",
    "Redis",
    "RedisCluster",
    "Sentinel",
]
