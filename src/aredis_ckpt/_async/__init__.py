"""The savers, the store and the node cache, written once with async I/O (the source of
``aredis_ckpt._sync``)."""

from aredis_ckpt._async.cache import AsyncRedisCache
from aredis_ckpt._async.saver import AsyncRedisSaver
from aredis_ckpt._async.shallow import AsyncShallowRedisSaver
from aredis_ckpt._async.store import AsyncRedisStore

__all__ = ["AsyncRedisCache", "AsyncRedisSaver", "AsyncRedisStore", "AsyncShallowRedisSaver"]
