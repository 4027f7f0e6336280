# This file is generated from src/aredis_ckpt/_async/__init__.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""The savers, the store and the node cache, written once with async I/O (the source of
``aredis_ckpt._sync``)."""

from aredis_ckpt._sync.cache import RedisCache
from aredis_ckpt._sync.saver import RedisSaver
from aredis_ckpt._sync.shallow import ShallowRedisSaver
from aredis_ckpt._sync.store import RedisStore

__all__ = ["RedisCache", "RedisSaver", "RedisStore", "ShallowRedisSaver"]
