# This file was generated from src/aredis_ckpt/_async/__init__.py by scripts/unasync.py -- do not change it.
# Edit the async source and run `python scripts/unasync.py` instead.
"""The savers, written once with async I/O (the source of ``aredis_ckpt._sync``)."""

from aredis_ckpt._sync.saver import RedisSaver

__all__ = ["RedisSaver"]
