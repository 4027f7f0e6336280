"""The savers, written once with async I/O (the source of ``aredis_ckpt._sync``)."""

from aredis_ckpt._async.saver import AsyncRedisSaver
from aredis_ckpt._async.shallow import AsyncShallowRedisSaver

__all__ = ["AsyncRedisSaver", "AsyncShallowRedisSaver"]
