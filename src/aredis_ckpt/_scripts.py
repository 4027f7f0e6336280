"""Server-side Lua: each saver operation that must be atomic or single-round-trip is one script.

Sources live in ``lua/*.lua``; the helpers of ``lua/lib.lua`` a saver script uses are
prepended to it (and those of ``lua/damage.lua`` to the read scripts that check for damaged
threads): only those it names, directly or through another helper, because Redis runs a
script's whole source on every call, and defining all of lib.lua's helpers cost every call
about 2.3 us of server time (docs/hot-path.md).  ``lua/store_lib.lua`` is prepended whole to
each store script (``lua/store_*.lua``) and ``lua/cache_lib.lua`` to each node-cache script
(``lua/cache_*.lua``).  Scripts are called with EVALSHA; ``setup`` loads them all, and a NOSCRIPT
reply (a restarted or failed-over server) reloads the one script and retries.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

__all__ = ["CACHE_SCRIPTS", "SCRIPTS", "STORE_SCRIPTS", "LuaScript"]


@dataclass(frozen=True)
class LuaScript:
    name: str
    source: bytes
    sha: str


_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_LOCAL_FUNCTION = re.compile(rb"local function ([A-Za-z_][A-Za-z0-9_]*)\(")
_LOCAL_NAMES = re.compile(rb"local ([A-Za-z_][A-Za-z0-9_]*(?:, *[A-Za-z_][A-Za-z0-9_]*)*) *=")


def helpers(lib: bytes) -> list[tuple[frozenset[bytes], bytes]]:
    """A helper library's top-level definitions, in order: the names each defines, and its
    text (with the comment lines above it).

    The layout is kept simple so that this needs no Lua parser: at the top level only
    ``local function name(...)`` up to a line ``end``, one-line ``local a, b = ...``,
    comments and blank lines.  Anything else raises ``ValueError`` (at import: a helper
    written another way cannot be silently left out of a script)."""
    out: list[tuple[frozenset[bytes], bytes]] = []
    above: list[bytes] = []
    function: list[bytes] | None = None
    defined: frozenset[bytes] = frozenset()
    for line in lib.splitlines(keepends=True):
        if function is not None:
            function.append(line)
            if line.rstrip() == b"end":
                out.append((defined, b"".join(function)))
                function = None
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith(b"--"):
            above.append(line)
            continue
        fn = _LOCAL_FUNCTION.match(line)
        if fn is not None:
            defined, function, above = frozenset((fn.group(1),)), [*above, line], []
            continue
        names = _LOCAL_NAMES.match(line)
        if names is None:
            raise ValueError(f"Lua helper library: unexpected top-level line {line!r}")
        defined = frozenset(n.strip() for n in names.group(1).split(b","))
        out.append((defined, b"".join([*above, line])))
        above = []
    if function is not None:
        raise ValueError(f"Lua helper library: no 'end' for {b''.join(function[:1])!r}")
    return out


def used_helpers(lib: bytes, body: bytes) -> bytes:
    """The definitions of ``lib`` that ``body`` names, directly or through other helpers,
    in their order in ``lib``.  A name counts wherever it appears as a word (in a comment
    or a string too): a helper is sometimes kept without need, never dropped with one."""
    parts = helpers(lib)
    wanted = set(_IDENT.findall(body))
    keep = [False] * len(parts)
    grew = True
    while grew:
        grew = False
        for i, (defined, text) in enumerate(parts):
            if not keep[i] and not defined.isdisjoint(wanted):
                keep[i] = True
                wanted.update(_IDENT.findall(text))
                grew = True
    return b"".join(text for kept, (_, text) in zip(keep, parts, strict=True) if kept)


def _load(name: str, lib_name: str = "lib", *extra: str) -> LuaScript:
    folder = resources.files("aredis_ckpt") / "lua"
    lib = (folder / f"{lib_name}.lua").read_bytes()
    for more in extra:
        lib += b"\n" + (folder / f"{more}.lua").read_bytes()
    body = (folder / f"{name}.lua").read_bytes()
    if lib_name == "lib":
        lib = used_helpers(lib, body)
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
