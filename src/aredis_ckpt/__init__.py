"""LangGraph checkpoint savers for plain Redis 6.2+ and Valkey.

``AsyncRedisSaver`` serves ``ainvoke``/``astream`` graphs and ``RedisSaver`` serves
``invoke``/``stream`` graphs.  Both store every thread under one Redis Cluster hash tag and do
each checkpoint operation in one round trip, with no Redis modules.  ``AsyncRedisStore`` /
``RedisStore`` are LangGraph's long-term memory store (``BaseStore``) on the same servers, with
semantic search.  ``AsyncRedisCache`` / ``RedisCache`` are LangGraph's node cache (``BaseCache``,
for ``CachePolicy`` on nodes and tasks).  ``aredis_ckpt.migrate`` copies threads in from any
LangGraph saver, and the ``aredis-ckpt`` command (``aredis_ckpt.cli``) inspects, exports,
imports, prunes and migrates them.
"""

from aredis_ckpt._async.cache import AsyncRedisCache
from aredis_ckpt._async.saver import AsyncRedisSaver
from aredis_ckpt._async.shallow import AsyncShallowRedisSaver
from aredis_ckpt._async.store import AsyncRedisStore
from aredis_ckpt._budget import ScriptBudget
from aredis_ckpt._config import TTLConfig
from aredis_ckpt._damage import ThreadDamage
from aredis_ckpt._sync.cache import RedisCache
from aredis_ckpt._sync.saver import RedisSaver
from aredis_ckpt._sync.shallow import ShallowRedisSaver
from aredis_ckpt._sync.store import RedisStore
from aredis_ckpt.errors import (
    AredisCheckpointError,
    CorruptedDataError,
    DamagedThreadError,
    PayloadTooLargeError,
    ReplicationError,
    SchemaVersionError,
    ServerConfigError,
    ServerOutOfMemoryError,
    UnencryptedDataError,
)

__all__ = [
    "AredisCheckpointError",
    "AsyncRedisCache",
    "AsyncRedisSaver",
    "AsyncRedisStore",
    "AsyncShallowRedisSaver",
    "CorruptedDataError",
    "DamagedThreadError",
    "PayloadTooLargeError",
    "RedisCache",
    "RedisSaver",
    "RedisStore",
    "ReplicationError",
    "SchemaVersionError",
    "ScriptBudget",
    "ServerConfigError",
    "ServerOutOfMemoryError",
    "ShallowRedisSaver",
    "TTLConfig",
    "ThreadDamage",
    "UnencryptedDataError",
]

__version__ = "0.1.0"

for _cls in (
    AsyncRedisSaver,
    RedisSaver,
    AsyncShallowRedisSaver,
    ShallowRedisSaver,
    AsyncRedisStore,
    RedisStore,
    AsyncRedisCache,
    RedisCache,
    ScriptBudget,
    ThreadDamage,
):
    _cls.__module__ = "aredis_ckpt"
del _cls
