"""Round trips and server commands per operation.

* **Round trips** are counted on the wire by :class:`CountingProxy`, a loopback TCP relay
  between a saver and its server: a round trip is a client-to-server transmission that follows
  server data (or opens the connection), however many commands it carries.  The same measure
  applies to Redis and PostgreSQL.
* For aredis the client side is also counted as ``tests/test_roundtrips.py`` does: a
  ``Connection`` subclass counting ``send_packed_command`` calls (a pipeline is one send).
* **Server commands**: Redis ``INFO commandstats`` deltas (commands run inside a Lua script are
  counted too, and listed after the ``EVALSHA``); PostgreSQL statements from the server log
  (``log_statement=all`` switched on for this phase only); SQLite statements from
  ``sqlite3``'s trace callback.
"""

from __future__ import annotations

import contextlib
import re
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from _data import Template, ThreadWriter, conf
from _infra import LOOPBACK, free_port

OPS = ("put", "put_writes", "get_tuple latest", "get_tuple by id", "list page of 10")


class CountingProxy:
    """Relays 127.0.0.1:<port> to a target; counts client->server round trips."""

    def __init__(self, target_port: int, target_host: str = LOOPBACK) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.round_trips = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server((LOOPBACK, self.port))
        self._listener.setblocking(False)
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._listener, selectors.EVENT_READ, None)
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        # per client socket: [peer socket, is_client_side, last direction was server->client]
        while not self._stop:
            for key, _ in self._sel.select(timeout=0.1):
                sock = key.fileobj
                if key.data is None:
                    client, _ = self._listener.accept()
                    server = socket.create_connection(self.target)
                    for s in (client, server):
                        s.setblocking(False)
                        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    state = {"server_spoke": True}
                    self._sel.register(client, selectors.EVENT_READ, (server, True, state))
                    self._sel.register(server, selectors.EVENT_READ, (client, False, state))
                    continue
                peer, from_client, state = key.data
                try:
                    data = sock.recv(1 << 20)  # type: ignore[union-attr]
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    for s in (sock, peer):
                        with contextlib.suppress(Exception):
                            self._sel.unregister(s)
                        with contextlib.suppress(Exception):
                            s.close()  # type: ignore[union-attr]
                    continue
                if from_client:
                    if state["server_spoke"]:
                        with self._lock:
                            self.round_trips += 1
                    state["server_spoke"] = False
                else:
                    state["server_spoke"] = True
                peer.setblocking(True)
                try:
                    peer.sendall(data)
                finally:
                    peer.setblocking(False)

    def count(self) -> int:
        time.sleep(0.002)  # let the relay thread forward anything in flight
        with self._lock:
            return self.round_trips

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        for key in list(self._sel.get_map().values()):
            with contextlib.suppress(Exception):
                key.fileobj.close()  # type: ignore[union-attr]
        self._sel.close()


@dataclass
class OpCounts:
    saver: str
    counts: dict[str, dict[str, Any]] = field(default_factory=dict)
    note: str = ""


# --------------------------------------------------------------------------- helpers


def _commandstats(admin: Any) -> dict[str, int]:
    stats = admin.info("commandstats")
    return {k.removeprefix("cmdstat_"): int(v.get("calls", 0)) for k, v in stats.items()}


def _diff(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    out = {}
    for k, v in after.items():
        d = v - before.get(k, 0)
        if d and k != "info":
            out[k] = d
    return out


def _describe_redis(diff: dict[str, int]) -> str:
    top = [k for k in ("evalsha", "eval", "fcall") if k in diff]
    inner = {k: v for k, v in diff.items() if k not in top}
    parts = [f"{k.upper()} {diff[k]}" for k in top]
    desc = ", ".join(parts)
    if inner:
        body = ", ".join(f"{k.upper()} {v}" for k, v in sorted(inner.items()))
        desc = f"{desc} [{body}]" if desc else body
    return desc


def _ops(
    saver: Any,
    is_async: bool,
    loop: Any,
    template: Template,
    thread: str,
) -> list[tuple[str, Callable[[], Any]]]:
    """The five operations against a thread already holding 20 checkpoints."""
    writer = ThreadWriter(template, saver, thread)
    if is_async:

        async def fill() -> None:
            for _ in range(20):
                cfg, cp, md, nv = writer.next_put()
                writer.stored(await saver.aput(cfg, cp, md, nv))
                await saver.aput_writes(*writer.next_writes())

        loop.run(fill())
        mid = writer.ids[10]

        async def alist() -> list[Any]:
            return [x async for x in saver.alist(conf(thread), limit=10)]

        async def aput() -> None:
            writer.stored(await saver.aput(*writer.next_put()))

        return [
            ("put", lambda: loop.run(aput())),
            ("put_writes", lambda: loop.run(saver.aput_writes(*writer.next_writes()))),
            ("get_tuple latest", lambda: loop.run(saver.aget_tuple(conf(thread)))),
            ("get_tuple by id", lambda: loop.run(saver.aget_tuple(conf(thread, mid)))),
            ("list page of 10", lambda: loop.run(alist())),
        ]
    writer.fill(saver, 20)
    mid = writer.ids[10]
    return [
        ("put", lambda: writer.stored(saver.put(*writer.next_put()))),
        ("put_writes", lambda: saver.put_writes(*writer.next_writes())),
        ("get_tuple latest", lambda: saver.get_tuple(conf(thread))),
        ("get_tuple by id", lambda: saver.get_tuple(conf(thread, mid))),
        ("list page of 10", lambda: list(saver.list(conf(thread), limit=10))),
    ]


# --------------------------------------------------------------------------- per store


def aredis_counts(redis_port: int, loop: Any, template: Template) -> list[OpCounts]:
    import redis
    import redis.asyncio as aredis_py
    from redis import BlockingConnectionPool, Connection
    from redis.asyncio import BlockingConnectionPool as ABlockingPool
    from redis.asyncio import Connection as AConnection

    from aredis_ckpt import AsyncRedisSaver, RedisSaver

    sends = {"n": 0}

    class CountingConnection(Connection):
        def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            sends["n"] += 1
            super().send_packed_command(command, check_health)

    class ACountingConnection(AConnection):
        async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            sends["n"] += 1
            await super().send_packed_command(command, check_health)

    proxy = CountingProxy(redis_port)
    admin = redis.Redis(host=LOOPBACK, port=redis_port)
    out = []
    try:
        for is_async in (False, True):
            if is_async:
                pool: Any = ABlockingPool(
                    connection_class=ACountingConnection, host=LOOPBACK, port=proxy.port
                )
                client: Any = aredis_py.Redis(connection_pool=pool)
                saver: Any = AsyncRedisSaver(client, key_prefix="aredis-rt")
                loop.run(saver.asetup())
            else:
                pool = BlockingConnectionPool(
                    connection_class=CountingConnection, host=LOOPBACK, port=proxy.port
                )
                client = redis.Redis(connection_pool=pool)
                saver = RedisSaver(client, key_prefix="aredis-rt")
                saver.setup()
            label = "aredis AsyncRedisSaver" if is_async else "aredis RedisSaver"
            res = OpCounts(label)
            for op, fn in _ops(saver, is_async, loop, template, f"rt-{int(is_async)}"):
                fn()  # warm: connection established, script cached
                s0, p0, c0 = sends["n"], proxy.count(), _commandstats(admin)
                fn()
                diff = _diff(c0, _commandstats(admin))
                res.counts[op] = {
                    "round_trips": proxy.count() - p0,
                    "client_sends": sends["n"] - s0,
                    "server_commands": sum(diff.values()),
                    "top_level_commands": sum(
                        v for k, v in diff.items() if k in ("evalsha", "eval", "fcall")
                    )
                    or sum(diff.values()),
                    "detail": _describe_redis(diff),
                }
            out.append(res)
            if is_async:
                loop.run(client.aclose())
                loop.run(pool.disconnect())
            else:
                client.close()
                pool.disconnect()
    finally:
        admin.close()
        proxy.close()
    return out


def floor_counts(redis_port: int, db: int, loop: Any, template: Template) -> list[OpCounts]:
    """The floor's round trips (one per operation by construction: this checks it)."""
    import redis
    from _floor import FloorSaver

    proxy = CountingProxy(redis_port)
    admin = redis.Redis(host=LOOPBACK, port=redis_port, db=db)
    saver = FloorSaver(LOOPBACK, proxy.port, db)
    out = []
    try:
        for is_async in (False, True):
            res = OpCounts("floor (async)" if is_async else "floor")
            for op, fn in _ops(saver, is_async, loop, template, f"rt-floor-{int(is_async)}"):
                fn()
                p0, c0 = proxy.count(), _commandstats(admin)
                fn()
                diff = _diff(c0, _commandstats(admin))
                res.counts[op] = {
                    "round_trips": proxy.count() - p0,
                    "server_commands": sum(diff.values()),
                    "top_level_commands": sum(diff.values()),
                    "detail": _describe_redis(diff),
                }
            out.append(res)
    finally:
        saver.close()
        loop.run(saver.aclose())
        admin.close()
        proxy.close()
    return out


def official_counts(url: str, loop: Any, template: Template) -> list[OpCounts]:
    import redis
    import redis.asyncio as aredis_py
    from langgraph.checkpoint.redis import RedisSaver
    from langgraph.checkpoint.redis.aio import AsyncRedisSaver

    parsed = redis.Redis.from_url(url).connection_pool.connection_kwargs
    host, port = parsed.get("host", LOOPBACK), int(parsed.get("port", 6379))
    proxy = CountingProxy(port, host)
    admin = redis.Redis.from_url(url)
    # redis-py 8 keeps pool internals in connection_kwargs: pass on what names the server only
    proxied = {k: v for k, v in parsed.items() if k in ("db", "username", "password")}
    out = []
    try:
        for is_async in (False, True):
            label = "official AsyncRedisSaver" if is_async else "official RedisSaver"
            res = OpCounts(label)
            try:
                if is_async:
                    client: Any = aredis_py.Redis(host=LOOPBACK, port=proxy.port, **proxied)
                    saver: Any = AsyncRedisSaver(redis_client=client)
                    loop.run(saver.asetup())
                else:
                    client = redis.Redis(host=LOOPBACK, port=proxy.port, **proxied)
                    saver = RedisSaver(redis_client=client)
                    saver.setup()
                for op, fn in _ops(saver, is_async, loop, template, f"rt-off-{int(is_async)}"):
                    fn()
                    p0, c0 = proxy.count(), _commandstats(admin)
                    fn()
                    diff = _diff(c0, _commandstats(admin))
                    res.counts[op] = {
                        "round_trips": proxy.count() - p0,
                        "server_commands": sum(diff.values()),
                        "top_level_commands": sum(diff.values()),
                        "detail": _describe_redis(diff),
                    }
            except Exception as exc:
                res.note = f"{type(exc).__name__}: {exc}"
            out.append(res)
    finally:
        admin.close()
        proxy.close()
    return out


_PG_STATEMENT = re.compile(r"LOG:\s+(?:statement|execute [^:]*):\s*(\w+)")


def postgres_counts(server: Any, loop: Any, template: Template) -> list[OpCounts]:
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg.rows import dict_row

    proxy = CountingProxy(server.port)
    url = server.url.replace(f":{server.port}/", f":{proxy.port}/")
    admin = psycopg.connect(server.url, autocommit=True)
    admin.execute("ALTER SYSTEM SET log_statement = 'all'")
    admin.execute("SELECT pg_reload_conf()")
    time.sleep(0.3)
    out = []

    def log_size() -> int:
        with open(server.logfile, "rb") as fh:
            return fh.seek(0, 2)

    def statements(since: int) -> tuple[int, str]:
        time.sleep(0.05)
        with open(server.logfile, "rb") as fh:
            fh.seek(since)
            text = fh.read().decode(errors="replace")
        kinds: dict[str, int] = {}
        found = 0
        for m in _PG_STATEMENT.finditer(text):
            found += 1
            word = m.group(1).upper()
            kinds[word] = kinds.get(word, 0) + 1
        return found, ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))

    kwargs: dict[str, Any] = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
    try:
        for is_async in (False, True):
            label = "AsyncPostgresSaver" if is_async else "PostgresSaver"
            res = OpCounts(label)
            if is_async:

                async def connect() -> tuple[Any, Any]:
                    c = await psycopg.AsyncConnection.connect(url, **kwargs)
                    return c, AsyncPostgresSaver(c)

                conn, saver = loop.run(connect())
            else:
                conn = psycopg.connect(url, **kwargs)
                saver: Any = PostgresSaver(conn)
            for op, fn in _ops(saver, is_async, loop, template, f"rt-pg-{int(is_async)}"):
                fn()
                p0, l0 = proxy.count(), log_size()
                fn()
                n, detail = statements(l0)
                res.counts[op] = {
                    "round_trips": proxy.count() - p0,
                    "server_commands": n,
                    "top_level_commands": n,
                    "detail": detail,
                }
            out.append(res)
            if is_async:
                loop.run(conn.close())
            else:
                conn.close()
    finally:
        admin.execute("ALTER SYSTEM RESET log_statement")
        admin.execute("SELECT pg_reload_conf()")
        admin.close()
        proxy.close()
    return out


def sqlite_counts(path: str, loop: Any, template: Template) -> list[OpCounts]:
    import sqlite3

    from langgraph.checkpoint.sqlite import SqliteSaver

    traced: list[str] = []
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.set_trace_callback(traced.append)
    saver = SqliteSaver(conn)
    saver.setup()
    res = OpCounts("SqliteSaver", note="in-process: no network round trips")
    try:
        for op, fn in _ops(saver, False, loop, template, "rt-sqlite"):
            fn()
            traced.clear()
            fn()
            kinds: dict[str, int] = {}
            for stmt in traced:
                word = stmt.strip().split(None, 1)[0].upper() if stmt.strip() else "?"
                kinds[word] = kinds.get(word, 0) + 1
            res.counts[op] = {
                "round_trips": 0,
                "server_commands": len(traced),
                "top_level_commands": len(traced),
                "detail": ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())),
            }
    finally:
        conn.close()
    return [res]
