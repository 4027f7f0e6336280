# This file is generated from src/aredis_ckpt/_async/__init__.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""The savers, written once with async I/O (the source of ``aredis_ckpt._sync``)."""

from aredis_ckpt._sync.saver import RedisSaver
from aredis_ckpt._sync.shallow import ShallowRedisSaver

__all__ = ["RedisSaver", "ShallowRedisSaver"]
