"""Server-side Lua: each saver operation that must be atomic or single-round-trip is one script.

Sources live in ``lua/*.lua``; ``lua/lib.lua`` is prepended to each saver script (and
``lua/damage.lua`` after it to the read scripts that check for damaged threads),
``lua/store_lib.lua`` to each store script (``lua/store_*.lua``) and ``lua/cache_lib.lua`` to
each node-cache script (``lua/cache_*.lua``).  Scripts are called with
EVALSHA; ``setup`` loads them all, and a NOSCRIPT reply (a restarted or failed-over server)
reloads the one script and retries.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

__all__ = ["CACHE_SCRIPTS", "SCRIPTS", "STORE_SCRIPTS", "LuaScript"]


@dataclass(frozen=True)
class LuaScript:
    name: str
    source: bytes
    sha: str


def _load(name: str, lib_name: str = "lib", *extra: str) -> LuaScript:
    folder = resources.files("aredis_ckpt") / "lua"
    lib = (folder / f"{lib_name}.lua").read_bytes()
    for more in extra:
        lib += b"\n" + (folder / f"{more}.lua").read_bytes()
    body = (folder / f"{name}.lua").read_bytes()
    source = lib + b"\n" + body
    return LuaScript(name, source, hashlib.sha1(source).hexdigest())


class _Scripts:
    """The saver's scripts, by name."""

    def __init__(self) -> None:
        self.put = _load("put")
        self.put_writes = _load("put_writes")
        self.get_tuple = _load("get_tuple", "lib", "damage")
        self.list = _load("list", "lib", "damage")
        self.delta_history = _load("delta_history", "lib", "damage")
        self.check_thread = _load("check_thread", "lib", "damage")
        self.delete_thread = _load("delete_thread")
        self.prune = _load("prune")
        self.delete_runs = _load("delete_runs")
        self.copy_read = _load("copy_read")
        self.copy_write = _load("copy_write")
        self.copy_publish = _load("copy_publish")
        self.drain = _load("drain")
        self.gc = _load("gc")
        self.export_thread = _load("export_thread")
        self.import_thread = _load("import_thread")
        self.bucket = _load("bucket")
        self.upgrade_thread = _load("upgrade_thread")
        self.upgrade_legacy = _load("upgrade_legacy")

    def all(self) -> tuple[LuaScript, ...]:
        return tuple(v for v in vars(self).values() if isinstance(v, LuaScript))


SCRIPTS = _Scripts()


class _StoreScripts:
    """The store's scripts (``AsyncRedisStore`` / ``RedisStore``), by name."""

    def __init__(self) -> None:
        self.setup = _load("store_setup", "store_lib")
        self.batch = _load("store_batch", "store_lib")

    def all(self) -> tuple[LuaScript, ...]:
        return tuple(v for v in vars(self).values() if isinstance(v, LuaScript))


STORE_SCRIPTS = _StoreScripts()


class _CacheScripts:
    """The node cache's scripts (``AsyncRedisCache`` / ``RedisCache``), by name."""

    def __init__(self) -> None:
        self.get = _load("cache_get", "cache_lib")
        self.set = _load("cache_set", "cache_lib")
        self.clear = _load("cache_clear", "cache_lib")
        self.reset = _load("cache_reset", "cache_lib")

    def all(self) -> tuple[LuaScript, ...]:
        return tuple(v for v in vars(self).values() if isinstance(v, LuaScript))


CACHE_SCRIPTS = _CacheScripts()
