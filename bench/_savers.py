"""The savers under comparison, opened side by side in one process.

A :class:`Backend` is one storage (a Redis key prefix, a SQLite file, a PostgreSQL database, the
in-memory dicts); it opens a sync and an async saver on that same storage, so data filled
through one is read through both, and it measures how many bytes a thread takes.

All async savers live on one event loop (:class:`Loop`), which runs only while an async batch
runs; the sync savers are called from the same thread in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from _infra import PostgresServer

T = TypeVar("T")

OFFICIAL_ENV = "AREDIS_BENCH_OFFICIAL_REDIS_URL"


class Loop:
    """One event loop for every async saver of the run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


@dataclass
class Saver:
    """One saver as the workloads see it."""

    key: str  # short id, e.g. "aredis-async"
    label: str  # e.g. "aredis AsyncRedisSaver"
    backend: Backend
    is_async: bool
    saver: Any

    @property
    def family(self) -> str:
        return self.backend.key


@dataclass
class Backend:
    key: str
    label: str
    sync_label: str
    async_label: str
    savers: list[Saver] = field(default_factory=list)
    #: whether the unrelated-keyspace dimension applies (Redis only)
    keyspace: bool = False
    #: unrelated keys in the database the saver uses
    unrelated: int = 0
    #: deepest history the per-operation workload loads (None: every depth)
    max_depth: int | None = None

    def open(self, stack: contextlib.ExitStack, loop: Loop) -> None:
        raise NotImplementedError

    def fill_saver(self, stack: contextlib.ExitStack) -> Any:
        """A sync saver on the same storage for bulk-loading history (may skip fsyncs)."""
        return self.sync_saver

    def storage(self, thread_id: str) -> dict[str, int]:
        """Bytes a thread takes, by whatever measure the store offers (see subclasses)."""
        return {}

    def storage_total(self) -> int | None:
        """A store-wide figure whose delta around a workload is the bytes it added."""
        return None

    def server_stats(self) -> dict[str, Any] | None:
        """The server's counters (see :func:`redis_server_stats`), for Redis backends."""
        return None

    def _add(self, saver: Any, is_async: bool) -> None:
        label = self.async_label if is_async else self.sync_label
        key = self.key + ("-async" if is_async else "")
        self.savers.append(Saver(key, label, self, is_async, saver))


async def _enter_async(stack: contextlib.AsyncExitStack, cm: Any) -> Any:
    return await stack.enter_async_context(cm)


class _AsyncStack:
    """An AsyncExitStack driven from sync code through the shared loop."""

    def __init__(self, loop: Loop) -> None:
        self.loop = loop
        self.stack = contextlib.AsyncExitStack()

    def enter(self, cm: Any) -> Any:
        return self.loop.run(_enter_async(self.stack, cm))

    def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        async def run() -> T:
            return await fn()

        return self.loop.run(run())

    def close(self) -> None:
        self.loop.run(self.stack.aclose())


# --------------------------------------------------------------------------- backends


class InMemoryBackend(Backend):
    def __init__(self) -> None:
        super().__init__("mem", "InMemorySaver", "InMemorySaver", "InMemorySaver (async API)")

    def open(self, stack: contextlib.ExitStack, loop: Loop) -> None:
        from langgraph.checkpoint.memory import InMemorySaver

        self.saver = InMemorySaver()
        self.sync_saver = self.saver
        self._add(self.saver, False)
        self._add(self.saver, True)

    def storage(self, thread_id: str) -> dict[str, int]:
        """Serialized payload bytes held for the thread (no container overhead)."""
        s = self.saver
        total = 0
        for ns_map in s.storage.get(thread_id, {}).values():
            for cp, meta, _parent in ns_map.values():
                total += len(cp[1]) + len(meta[1]) + 64
        for (tid, _ns, _ch, _v), (_t, data) in s.blobs.items():
            if tid == thread_id:
                total += len(data)
        for (tid, _ns, _cid), writes in s.writes.items():
            if tid == thread_id:
                total += sum(len(w[2][1]) for w in writes.values())
        return {"payload": total}


class FloorBackend(Backend):
    """The physical floor (``_floor.FloorSaver``): InMemorySaver plus one raw round trip per
    operation to database ``db`` of the private Redis.  Both APIs share one saver."""

    def __init__(self, server_url: str, db: int) -> None:
        import redis

        super().__init__(
            "floor",
            "floor",
            "floor: InMemorySaver + 1 raw round trip",
            "floor: InMemorySaver + 1 raw round trip (async)",
        )
        self.url = server_url.rsplit("/", 1)[0] + f"/{db}"
        self.db = db
        self.admin = redis.Redis.from_url(self.url)
        kw = self.admin.connection_pool.connection_kwargs
        self.host, self.port = str(kw["host"]), int(kw["port"])

    def open(self, stack: contextlib.ExitStack, loop: Loop) -> None:
        from _floor import FloorSaver

        stack.callback(self.admin.close)
        self.admin.flushdb()
        self.saver = FloorSaver(self.host, self.port, self.db)
        self.sync_saver = self.saver
        stack.callback(self.saver.close)
        stack.callback(lambda: loop.run(self.saver.aclose()))
        self._add(self.saver, False)
        self._add(self.saver, True)

    def server_stats(self) -> dict[str, Any]:
        return redis_server_stats(self.admin)


class ARedisBackend(Backend):
    """aredis-ckpt on database ``db`` of the private server (one database per keyspace size)."""

    def __init__(
        self, server_url: str, db: int = 0, unrelated: int = 0, *, compress: bool = True
    ) -> None:
        import redis

        suffix = "" if not unrelated else f"@{human_count(unrelated)}"
        label = ""
        if not compress:
            suffix, label = "@uncompressed", " (compression off)"
        super().__init__(
            "aredis" + suffix,
            "aredis-ckpt" + label,
            "aredis RedisSaver" + (label or suffix),
            "aredis AsyncRedisSaver" + (label or suffix),
            keyspace=True,
        )
        # compress_threshold=None stores every value as serialized (the pre-0.1 layout)
        self.saver_kwargs: dict[str, Any] = {} if compress else {"compress_threshold": None}
        self.url = server_url.rsplit("/", 1)[0] + f"/{db}"
        self.db = db
        self.unrelated = unrelated
        self.admin = redis.Redis.from_url(self.url)
        self.prefix = "aredis"

    def open(self, stack: contextlib.ExitStack, loop: Loop) -> None:
        from aredis_ckpt import AsyncRedisSaver, RedisSaver

        stack.callback(self.admin.close)
        kw = self.saver_kwargs
        sync = stack.enter_context(
            RedisSaver.from_conn_string(self.url, key_prefix=self.prefix, **kw)
        )
        sync.setup()
        astack = _AsyncStack(loop)
        stack.callback(astack.close)
        asaver = astack.enter(
            AsyncRedisSaver.from_conn_string(self.url, key_prefix=self.prefix, **kw)
        )
        astack.call(asaver.asetup)
        self._add(sync, False)
        self._add(asaver, True)
        self.sync_saver = sync

    def thread_keys(self, thread_id: str) -> list[bytes]:
        """The thread's own keys (the shared list(None)/run indexes are counted only in the
        used_memory delta)."""
        from aredis_ckpt._keys import PrefixKeys, encode

        keys = PrefixKeys(encode(self.prefix)).thread(thread_id).all
        return [k for k in keys if self.admin.exists(k)]

    def storage(self, thread_id: str) -> dict[str, int]:
        keys = self.thread_keys(thread_id)
        mem = sum(int(self.admin.memory_usage(k, samples=0) or 0) for k in keys)
        return {"memory_usage": mem, "keys": len(keys)}

    def storage_total(self) -> int | None:
        return int(self.admin.info("memory")["used_memory"])

    def server_stats(self) -> dict[str, Any]:
        return redis_server_stats(self.admin)


class OfficialRedisBackend(Backend):
    """``langgraph-checkpoint-redis`` on Redis Stack: the run's own server, or the one named by
    $AREDIS_BENCH_OFFICIAL_REDIS_URL."""

    def __init__(self, url: str) -> None:
        import redis

        super().__init__(
            "official",
            "langgraph-checkpoint-redis",
            "official RedisSaver",
            "official AsyncRedisSaver",
        )
        self.url = url
        self.admin = redis.Redis.from_url(self.url)

    def open(self, stack: contextlib.ExitStack, loop: Loop) -> None:
        from langgraph.checkpoint.redis import RedisSaver
        from langgraph.checkpoint.redis.aio import AsyncRedisSaver

        stack.callback(self.admin.close)
        sync = stack.enter_context(RedisSaver.from_conn_string(self.url))
        sync.setup()
        astack = _AsyncStack(loop)
        stack.callback(astack.close)
        asaver = astack.enter(AsyncRedisSaver.from_conn_string(self.url))
        astack.call(asaver.asetup)
        self._add(sync, False)
        self._add(asaver, True)
        self.sync_saver = sync

    def thread_keys(self, thread_id: str) -> list[bytes]:
        return [k for k in self.admin.scan_iter(match=f"*{thread_id}*", count=1000)]

    def storage(self, thread_id: str) -> dict[str, int]:
        keys = self.thread_keys(thread_id)
        mem = sum(int(self.admin.memory_usage(k, samples=0) or 0) for k in keys)
        return {"memory_usage": mem, "keys": len(keys)}

    def storage_total(self) -> int | None:
        return int(self.admin.info("memory")["used_memory"])

    def server_stats(self) -> dict[str, Any]:
        return redis_server_stats(self.admin)


class SqliteBackend(Backend):
    def __init__(self, workdir: str) -> None:
        super().__init__("sqlite", "SQLite", "SqliteSaver", "AsyncSqliteSaver")
        self.path = os.path.join(workdir, "checkpoints.sqlite")

    def open(self, stack: contextlib.ExitStack, loop: Loop) -> None:
        from langgraph.checkpoint.sqlite import SqliteSaver
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        sync = stack.enter_context(SqliteSaver.from_conn_string(self.path))
        sync.setup()
        astack = _AsyncStack(loop)
        stack.callback(astack.close)
        asaver = astack.enter(AsyncSqliteSaver.from_conn_string(self.path))
        astack.call(asaver.setup)
        self._add(sync, False)
        self._add(asaver, True)
        self.sync_saver = sync

    def fill_saver(self, stack: contextlib.ExitStack) -> Any:
        from langgraph.checkpoint.sqlite import SqliteSaver

        conn = stack.enter_context(
            contextlib.closing(sqlite3.connect(self.path, check_same_thread=False))
        )
        conn.execute("PRAGMA synchronous=OFF")
        saver = SqliteSaver(conn)
        saver.setup()
        return saver

    def storage(self, thread_id: str) -> dict[str, int]:
        """Bytes of the thread's rows: the lengths of every column's value."""
        total = 0
        with contextlib.closing(sqlite3.connect(self.path)) as conn:
            for table in ("checkpoints", "writes"):
                cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
                expr = " + ".join(f"coalesce(length(CAST({c} AS BLOB)), 0)" for c in cols)
                row = conn.execute(
                    f"SELECT coalesce(sum({expr}), 0) FROM {table} WHERE thread_id = ?",
                    (thread_id,),
                ).fetchone()
                total += int(row[0])
        return {"row_bytes": total}

    def storage_total(self) -> int | None:
        # fold the WAL into the main file first, so the file size is the whole database
        with contextlib.closing(sqlite3.connect(self.path)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = os.path.getsize(self.path)
        wal = self.path + "-wal"
        if os.path.exists(wal):
            size += os.path.getsize(wal)
        return size


class PostgresBackend(Backend):
    TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")

    def __init__(self, server: PostgresServer) -> None:
        super().__init__("pg", "PostgreSQL", "PostgresSaver", "AsyncPostgresSaver")
        self.server = server

    def open(self, stack: contextlib.ExitStack, loop: Loop) -> None:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        sync = stack.enter_context(PostgresSaver.from_conn_string(self.server.url))
        sync.setup()
        astack = _AsyncStack(loop)
        stack.callback(astack.close)
        asaver = astack.enter(AsyncPostgresSaver.from_conn_string(self.server.url))
        astack.call(asaver.setup)
        self._add(sync, False)
        self._add(asaver, True)
        self.sync_saver = sync
        self.admin = stack.enter_context(psycopg.connect(self.server.url, autocommit=True))

    def fill_saver(self, stack: contextlib.ExitStack) -> Any:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row

        conn = stack.enter_context(
            psycopg.connect(
                self.server.url,
                autocommit=True,
                prepare_threshold=0,
                row_factory=dict_row,
                options="-c synchronous_commit=off",
            )
        )
        return PostgresSaver(conn)

    def storage_total(self) -> int | None:
        # pg_total_relation_size: heap + TOAST + indexes + FSM/VM of the saver's tables
        row = self.admin.execute(
            "SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c "
            "WHERE c.relname = ANY(%s) AND c.relkind = 'r'",
            (list(self.TABLES),),
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def thread_bytes(self, thread_id: str) -> int:
        """Bytes of the thread's rows (pg_column_size of each row, TOASTed size)."""
        total = 0
        for table in self.TABLES:
            row = self.admin.execute(
                f"SELECT coalesce(sum(pg_column_size(t.*)), 0)::bigint FROM {table} t "
                "WHERE thread_id = %s",
                (thread_id,),
            ).fetchone()
            total += int(row[0]) if row else 0
        return total

    def storage(self, thread_id: str) -> dict[str, int]:
        return {"row_bytes": self.thread_bytes(thread_id)}


def human_count(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def official_url() -> str | None:
    return os.environ.get(OFFICIAL_ENV, "").strip() or None


def official_package_missing() -> str | None:
    """Why the official saver cannot run in this environment, or None."""
    try:
        import langgraph.checkpoint.redis  # noqa: F401
    except ImportError as exc:
        return (
            f"langgraph-checkpoint-redis is not installed ({exc}); it comes with the `bench` "
            "extra: pip install -e '.[bench]'"
        )
    return None


def official_server_problem(url: str) -> str | None:
    """Why the server at ``url`` cannot hold the official saver's data, or None."""
    try:
        import redis

        client = redis.Redis.from_url(url)
        try:
            modules = {_text(m.get(b"name") or m.get("name") or b"") for m in client.module_list()}
        finally:
            client.close()
    except Exception as exc:
        return f"{url}: cannot query MODULE LIST ({type(exc).__name__}: {exc})"
    lowered = {m.lower() for m in modules}
    if not ({"search", "ft", "searchlight"} & lowered) or not ({"rejson", "redisjson"} & lowered):
        return f"{url} lacks RediSearch/RedisJSON (modules: {sorted(modules)})"
    return None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# --------------------------------------------------------------------------- server time


#: Commands that run Lua: the commands a script calls are counted in commandstats too (and
#: their time is inside the script's), so where a backend runs scripts only these count.
SCRIPT_COMMANDS = frozenset({"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"})


def redis_server_stats(admin: Any) -> dict[str, Any]:
    """``INFO commandstats`` (calls and usec per command) and the server's CPU seconds."""
    stats = admin.info("commandstats")
    cpu = admin.info("cpu")
    return {
        "commands": {
            k.removeprefix("cmdstat_"): (int(v.get("calls", 0)), int(v.get("usec", 0)))
            for k, v in stats.items()
        },
        "cpu": float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]),
    }


def server_time(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What the server did between two :func:`redis_server_stats`: command time (µs, the
    top-level commands only), top-level commands, and the server process's CPU (µs, which
    also counts reading requests and writing replies)."""
    diff: dict[str, tuple[int, int]] = {}
    for name, (calls, usec) in after["commands"].items():
        c0, u0 = before["commands"].get(name, (0, 0))
        if calls - c0 and name not in ("info", "config|resetstat"):
            diff[name] = (calls - c0, usec - u0)
    scripted = SCRIPT_COMMANDS & diff.keys()
    top = {k: v for k, v in diff.items() if k in scripted} if scripted else diff
    return {
        "usec": sum(u for _, u in top.values()),
        "commands": sum(c for c, _ in top.values()),
        "all_commands": sum(c for c, _ in diff.values()),
        "cpu_usec": (after["cpu"] - before["cpu"]) * 1e6,
        "by_command": {k: list(v) for k, v in sorted(diff.items(), key=lambda kv: -kv[1][1])},
    }


def temp_dir() -> str:
    return tempfile.mkdtemp(prefix="aredis-bench-")
