"""Fault injection: TCP connections cut at random points between the saver and Redis.

A small threaded proxy sits between a ``RedisSaver`` and the test's server and cuts a connection
after N bytes forwarded in one direction (N random: mid-handshake, mid-request, mid-reply), with
a FIN or a RST.  With a client that never retries, every operation either completes correctly or
raises ``ConnectionError``; reading the server directly then shows each write all-or-nothing
(the whole key space equals the state before or the state after the write), and sending the same
write again gives the state of a single success.

Because every saver write is one idempotent script (``put`` rewrites the same fields;
``put_writes`` is insert-if-absent, or an overwrite with the same value for special channels),
retrying a write whose reply was lost is safe.  Recommended client configuration (redis-py 8)::

    from redis import Redis
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError, TimeoutError
    from redis.retry import Retry

    from aredis_ckpt import RedisSaver

    client = Redis.from_url(
        "redis://localhost:6379/0",
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
        retry_on_error=[ConnectionError, TimeoutError],
    )
    saver = RedisSaver(client)

    # or let the saver own its client (the same two settings, through connection_args):
    with RedisSaver.from_conn_string(
        "redis://localhost:6379/0",
        connection_args={
            "retry": Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
            "retry_on_error": [ConnectionError, TimeoutError],
        },
    ) as saver:
        ...

    # asyncio: the same, with redis.asyncio.Redis and redis.asyncio.retry.Retry
    from redis.asyncio import Redis as AsyncRedis
    from redis.asyncio.retry import Retry as AsyncRetry

    client = AsyncRedis.from_url(
        "redis://localhost:6379/0",
        retry=AsyncRetry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
        retry_on_error=[ConnectionError, TimeoutError],
    )
    saver = AsyncRedisSaver(client)

``retries=3`` means up to four attempts; ``ExponentialBackoff`` waits ``min(cap, base * 2**n)``
seconds before attempt ``n + 1``.  Without this, clients made by ``Redis.from_url`` or a
connection pool (including the one ``from_conn_string`` creates) do not retry at all in
redis-py 8 (``Redis(host=...)`` does retry, 10 times, by default), so one dropped connection
fails the graph step.  A connection the server (or a load balancer) closed while it sat idle in
the pool is replaced transparently by the sync client even without retries, but NOT by
redis.asyncio's: there only the retry settings above save the call.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import os
import random
import selectors
import socket
import struct
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio
import pytest
import redis
from langgraph.checkpoint.base import ERROR, CheckpointTuple, empty_checkpoint
from langgraph.checkpoint.base.id import uuid6
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError
from redis.retry import Retry

from aredis_ckpt import AsyncRedisSaver, RedisSaver
from aredis_ckpt._wire import AsyncWire, direct_path

pytestmark = pytest.mark.standalone

CUTS_WANTED = 1200
CUTS_WANTED_ASYNC = 400
SEED = int(os.environ.get("AREDIS_FAULT_SEED") or random.randrange(2**32))
THREADS = ["t:1", "{t}", "é 漢🙂", ""]
NAMESPACES = ["", "sub:1|x"]
TASKS = ["task-a", "task:b", "{c}"]
RUNS = ["run-1", "run:2"]

C2S, S2C = 0, 1  # proxy directions: client to server, server to client


def recommended_retry() -> Retry:
    return Retry(ExponentialBackoff(cap=0.05, base=0.001), retries=3)


# ---------------------------------------------------------------------------------- proxy


@dataclass
class Cut:
    direction: int
    after: int  # forward this many bytes in `direction`, then cut
    reset: bool  # RST instead of FIN


@dataclass
class CutProxy:
    """Threaded TCP proxy to 127.0.0.1:upstream; each new connection takes the next planned Cut.

    Counts the bytes it forwards in each direction, and the cuts it made.
    """

    upstream: int
    plans: deque[Cut | None] = field(default_factory=deque)
    counts: list[int] = field(default_factory=lambda: [0, 0])
    cuts: int = 0
    connections: int = 0

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        # per live connection: the waker its pump thread listens to, and its "done" event
        self._live: dict[socket.socket, threading.Event] = {}
        self._closed = False
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def close(self) -> None:
        self._closed = True
        socket.create_connection(("127.0.0.1", self.port)).close()  # wakes accept()
        self._acceptor.join(5)
        self._listener.close()
        self.drop_all()

    def drop_all(self, reset: bool = False) -> None:
        """Cut every open connection now (idle ones included); returns once they are cut."""
        with self._lock:
            live = list(self._live.items())
        for waker, _ in live:
            with contextlib.suppress(OSError):  # its pump may have ended already
                waker.send(b"R" if reset else b"F")
        for _, done in live:
            done.wait(5)

    def reset_counts(self) -> None:
        self.counts = [0, 0]

    def _accept(self) -> None:
        while True:
            client, _ = self._listener.accept()
            if self._closed:
                client.close()
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            waker, wakee = socket.socketpair()
            done = threading.Event()
            with self._lock:
                self.connections += 1
                plan = self.plans.popleft() if self.plans else None
                self._live[waker] = done
            threading.Thread(
                target=self._pump, args=(client, upstream, wakee, plan, waker, done), daemon=True
            ).start()

    @staticmethod
    def _kill(sock: socket.socket, reset: bool) -> None:
        try:
            if reset:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def _pump(
        self,
        client: socket.socket,
        upstream: socket.socket,
        wakee: socket.socket,
        plan: Cut | None,
        waker: socket.socket,
        done: threading.Event,
    ) -> None:
        forwarded = [0, 0]
        sel = selectors.DefaultSelector()
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sel.register(sock, selectors.EVENT_READ)
        sel.register(wakee, selectors.EVENT_READ)
        reset = False
        try:
            while True:
                for key, _ in sel.select():
                    src: socket.socket = key.fileobj  # type: ignore[assignment]
                    if src is wakee:  # drop_all()
                        reset = wakee.recv(1) == b"R"
                        return
                    direction = C2S if src is client else S2C
                    try:
                        data = src.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        return
                    budget = None
                    if plan is not None and plan.direction == direction:
                        budget = plan.after - forwarded[direction]
                        data = data[:budget]
                    forwarded[direction] += len(data)
                    self.counts[direction] += len(data)
                    try:
                        if data:
                            (upstream if src is client else client).sendall(data)
                    except OSError:
                        return
                    if plan is not None and budget is not None and budget <= len(data):
                        with self._lock:
                            self.cuts += 1
                        reset = plan.reset
                        return
        finally:
            sel.close()
            with self._lock:
                del self._live[waker]
            for sock in (client, upstream):
                self._kill(sock, reset)
            waker.close()
            wakee.close()
            done.set()


# ---------------------------------------------------------------------------------- helpers


def cfg(thread_id: str, ns: str | None = "", checkpoint_id: str | None = None) -> dict[str, Any]:
    conf: dict[str, Any] = {"thread_id": thread_id}
    if ns is not None:
        conf["checkpoint_ns"] = ns
    if checkpoint_id is not None:
        conf["checkpoint_id"] = checkpoint_id
    return {"configurable": conf}


def plain(t: CheckpointTuple | None) -> Any:
    if t is None:
        return None
    return (
        t.config,
        t.checkpoint,
        t.metadata,
        t.parent_config,
        [tuple(w) for w in t.pending_writes or []],
    )


def dump(client: redis.Redis, prefix: str) -> dict[bytes, Any]:
    """Every key under the prefix with its content (the prefix cut off the names).

    A copy_thread cut short leaves its staging copy (``P:{T}:s.<nonce>:*``) behind: not part
    of the state (no reader looks at it), it must expire by itself.
    """
    keys = sorted(client.scan_iter(match=prefix + ":*", count=1000))
    staging = [key for key in keys if b"}:s." in key]
    assert all(client.pttl(key) > 0 for key in staging), "a staging copy that never expires"
    keys = [key for key in keys if b"}:s." not in key]
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
    types = pipe.execute()
    for key, kind in zip(keys, types, strict=True):
        if kind == b"string":
            pipe.get(key)
        elif kind == b"hash":
            pipe.hgetall(key)
        elif kind == b"zset":
            pipe.zrange(key, 0, -1, withscores=True)
        elif kind == b"set":
            pipe.smembers(key)
        else:
            raise AssertionError(f"unexpected {kind!r} key {key!r}")
    for key in keys:
        pipe.pttl(key)
    replies = pipe.execute()
    contents, ttls = replies[: len(keys)], replies[len(keys) :]
    assert all(t == -1 for t in ttls), "no key of these savers has a TTL"
    return {key[len(prefix) :]: content for key, content in zip(keys, contents, strict=True)}


def checkpoint(values: dict[str, Any], versions: dict[str, Any]) -> Any:
    cp = empty_checkpoint()
    cp["id"] = str(uuid6(clock_seq=-1))
    cp["channel_values"] = dict(values)
    cp["channel_versions"] = dict(versions)
    return cp


def blob(rng: random.Random) -> str:
    """A value of random size, so cut points fall anywhere in a request or a reply."""
    return "".join(rng.choice("ab:{}é漢 ") for _ in range(rng.choice([0, 5, 60, 700, 3000])))


@dataclass
class Op:
    """One saver call, runnable on a RedisSaver or (as its a-twin) on an AsyncRedisSaver."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    atomic: bool = True  # all-or-nothing on the server (one script)
    write: bool = True

    def run(self, saver: RedisSaver) -> Any:
        return self.shape(getattr(saver, self.name)(*self.args, **self.kwargs))

    async def arun(self, saver: AsyncRedisSaver) -> Any:
        if self.name == "list":
            return self.shape([t async for t in saver.alist(*self.args, **self.kwargs)])
        return self.shape(await getattr(saver, "a" + self.name)(*self.args, **self.kwargs))

    def shape(self, result: Any) -> Any:
        if self.name == "get_tuple":
            return plain(result)
        if self.name == "list":
            return [plain(t) for t in result]
        return result


class World:
    """A faulty saver (through the proxy, no retries), a reference saver (through a counting
    proxy) and direct clients; random operations applied to both must give the same state."""

    def __init__(self, port: int, prefix: str, is_async: bool = False) -> None:
        self.direct = redis.Redis(host="127.0.0.1", port=port)
        self.proxy = CutProxy(port)
        self.ref_proxy = CutProxy(port)
        # same length: requests through both proxies have the same size
        self.fp, self.rp = prefix + "f", prefix + "r"
        self.loop = asyncio.new_event_loop() if is_async else None
        self.faulty: Any
        self.ref: Any
        if is_async:
            self.faulty_client: Any = AsyncRedis(
                host="127.0.0.1", port=self.proxy.port, retry=None, socket_timeout=10
            )
            self.ref_client: Any = AsyncRedis(
                host="127.0.0.1", port=self.ref_proxy.port, retry=None
            )
            self.faulty = AsyncRedisSaver(self.faulty_client, key_prefix=self.fp)
            self.ref = AsyncRedisSaver(self.ref_client, key_prefix=self.rp)
        else:
            self.faulty_client = redis.Redis(
                host="127.0.0.1", port=self.proxy.port, retry=None, socket_timeout=10
            )
            self.ref_client = redis.Redis(host="127.0.0.1", port=self.ref_proxy.port, retry=None)
            self.faulty = RedisSaver(self.faulty_client, key_prefix=self.fp)
            self.ref = RedisSaver(self.ref_client, key_prefix=self.rp)
        self.check = RedisSaver(self.direct, key_prefix=self.fp)  # reads the faulty data
        self.ref_direct = RedisSaver(self.direct, key_prefix=self.rp)
        self.check.setup()
        self.ref_direct.setup()
        self.stats = {"ops": 0, "failed": 0, "landed_anyway": 0, "timeouts": 0, "recovered": 0}
        self.before: dict[bytes, Any] | None = None  # the state both prefixes hold
        # bytes of redis-py's connection handshake (a fresh connection's PING, minus the PING)
        self.ref_proxy.reset_counts()
        self.wait(self.ref_client.ping())
        ping = (len(b"*1\r\n$4\r\nPING\r\n"), len(b"+PONG\r\n"))
        self.handshake = [self.ref_proxy.counts[d] - ping[d] for d in (C2S, S2C)]
        assert min(self.handshake) > 0

    def wait(self, result: Any) -> Any:
        """The result of a client call: awaited on the world's loop when it is async."""
        return self.loop.run_until_complete(result) if self.loop is not None else result

    def call(self, op: Op, saver: Any) -> Any:
        return self.wait(op.arun(saver)) if self.loop is not None else op.run(saver)

    def fresh_connection(self, client: Any) -> None:
        self.wait(client.connection_pool.disconnect())

    def close(self) -> None:
        for tid in THREADS:
            self.check.delete_thread(tid)
            self.ref_direct.delete_thread(tid)
        self.proxy.close()
        self.ref_proxy.close()
        for client in (self.faulty_client, self.ref_client):
            self.wait(client.aclose() if self.loop is not None else client.close())
        self.direct.close()
        if self.loop is not None:
            self.loop.close()

    def reset(self) -> None:
        self.before = None
        for tid in THREADS:
            self.check.delete_thread(tid)
            self.ref_direct.delete_thread(tid)

    # -------------------------------------------------------------- random operations

    def random_op(self, rng: random.Random) -> Op:
        existing = [(t.config["configurable"], t.checkpoint) for t in self.ref_direct.list(None)]
        kind = rng.choices(
            ["put", "put_writes", "get_tuple", "list", "delete_thread", "copy", "prune", "runs"],
            [35, 30, 12, 12, 2, 3, 3, 3],
        )[0]
        if not existing and kind != "list":
            kind = "put"
        if kind == "put":
            tid, ns = rng.choice(THREADS), rng.choice(NAMESPACES)
            latest = self.ref_direct.get_tuple(cfg(tid, ns))
            versions = dict(latest.checkpoint["channel_versions"]) if latest else {}
            values = dict(latest.checkpoint["channel_values"]) if latest else {}
            new_versions = {}
            for channel in rng.sample(["a", "b", "c:d"], rng.randint(1, 3)):
                new_versions[channel] = self.ref.get_next_version(versions.get(channel), None)
                values[channel] = blob(rng)
            versions.update(new_versions)
            cp = checkpoint(values, versions)
            parent = cfg(tid, ns, latest.checkpoint["id"] if latest else None)
            md = {
                "source": "loop",
                "step": len(versions),
                "parents": {},
                "run_id": rng.choice(RUNS),
            }
            return Op("put", (parent, cp, md, new_versions))
        if kind == "put_writes":
            conf, _ = rng.choice(existing)
            target = cfg(conf["thread_id"], conf["checkpoint_ns"], conf["checkpoint_id"])
            writes = [(rng.choice(["a", "b", ERROR]), blob(rng)) for _ in range(rng.randint(1, 4))]
            task = rng.choice(TASKS)
            return Op("put_writes", (target, writes, task, "~" + task))
        if kind == "get_tuple":
            conf, _ = rng.choice(existing)
            by_id = rng.random() < 0.5
            target = cfg(
                conf["thread_id"], conf["checkpoint_ns"], conf["checkpoint_id"] if by_id else None
            )
            return Op("get_tuple", (target,), write=False)
        if kind == "list":
            target = (
                None if rng.random() < 0.3 else {"configurable": {"thread_id": rng.choice(THREADS)}}
            )
            limit = rng.choice([None, 1, 3])
            return Op("list", (target,), {"limit": limit}, write=False)
        tid = rng.choice(existing)[0]["thread_id"]
        # delete_thread and prune run in bounded slices (docs/reliability.md): a cut may leave
        # them half done (whole checkpoints only); the retry below finishes them
        if kind == "delete_thread":
            return Op("delete_thread", (tid,), atomic=False)
        if kind == "copy":
            # (a copy onto itself sends nothing: no byte to cut)
            dst = rng.choice([t for t in THREADS if t != tid])
            # pages of short scripts, then a publish: a cut may leave it half done
            return Op("copy_thread", (tid, dst), atomic=False)
        if kind == "prune":
            return Op("prune", ([tid],), {"keep_last": 2}, atomic=False)
        runs = [rng.choice(RUNS)]
        # several scripts (one per thread holding the run): a cut may leave it half done
        return Op("delete_for_runs", (runs,), atomic=False)

    # -------------------------------------------------------------- one faulty round

    def round(self, rng: random.Random) -> None:
        op = self.random_op(rng)
        self.stats["ops"] += 1
        if self.before is None:
            self.before = dump(self.direct, self.rp)
            assert dump(self.direct, self.fp) == self.before
        before = self.before
        # the reference run: fresh connection, so the counts include the handshake
        self.fresh_connection(self.ref_client)
        self.ref_proxy.reset_counts()
        expected = self.call(op, self.ref)
        counts = list(self.ref_proxy.counts)
        after = self.before = dump(self.direct, self.rp)
        # the faulty run: cut its (fresh) connection at a random byte of the same exchange,
        # mostly after the handshake: inside the request, or inside the reply
        direction = rng.choice([C2S, S2C])
        handshake = self.handshake[direction]
        if rng.random() < 0.2:
            after_bytes = rng.randrange(handshake)
        else:
            after_bytes = rng.randrange(handshake, counts[direction])
        self.fresh_connection(self.faulty_client)
        self.proxy.plans.append(Cut(direction, after_bytes, rng.random() < 0.5))
        cuts = self.proxy.cuts
        try:
            result = self.call(op, self.faulty)
            failed = False
        except (ConnectionError, TimeoutError) as exc:
            failed = True
            self.stats["timeouts"] += isinstance(exc, TimeoutError)
        assert self.proxy.cuts == cuts + 1, "the planned cut did not happen"
        self.proxy.plans.clear()
        state = dump(self.direct, self.fp)
        if not failed:
            # the cut fell between the handshake and the request: the pool noticed the closed
            # connection and took a new one
            self.stats["recovered"] += 1
            assert result == expected, op.name
            assert state == after, op.name
            return
        self.stats["failed"] += 1
        if op.write:
            if op.atomic:
                assert state in (before, after), f"{op.name} half-written"
            landed = state == after and before != after
            self.stats["landed_anyway"] += landed
            self.check_semantics(op, landed)
        else:
            assert state == before
        # the same call again (no cut) gives the state of one success
        retried = self.call(op, self.faulty)
        assert retried == expected
        assert dump(self.direct, self.fp) == after, f"{op.name} retried"

    def check_semantics(self, op: Op, landed: bool) -> None:
        """What a reader sees after a failed write: all of it or none of it."""
        if op.name != "put":
            return
        newest = max(self.ref_direct.list(None), key=lambda t: t.checkpoint["id"])
        conf = newest.config["configurable"]
        found = self.check.get_tuple(newest.config)
        listed = [
            plain(t) for t in self.check.list({"configurable": {"thread_id": conf["thread_id"]}})
        ]
        everywhere = [t.checkpoint["id"] for t in self.check.list(None)]
        member = (
            conf["checkpoint_id"].encode()
            + b"\x00"
            + self.check._thread(conf["thread_id"]).tag
            + b"\x00"
        )
        indexed = any(
            m.startswith(member)
            for m in self.direct.zrange(
                self.check._bucket(self.check._thread(conf["thread_id"])).index, 0, -1
            )
        )
        if landed:
            assert plain(found) == plain(newest)
            assert plain(newest) in listed
            assert conf["checkpoint_id"] in everywhere and indexed
        else:
            assert found is None
            assert all(t[0] != newest.config for t in listed)
            assert conf["checkpoint_id"] not in everywhere and not indexed


def random_cuts(world: World, wanted: int) -> str:
    rng = random.Random(SEED)
    started = time.monotonic()
    rounds = 0
    while world.proxy.cuts < wanted:
        rounds += 1
        if rounds % 40 == 0:
            world.reset()
        try:
            world.round(rng)
        except AssertionError:
            print(f"fault test: AREDIS_FAULT_SEED={SEED}", file=sys.stderr)
            raise
    stats = world.stats
    assert stats["timeouts"] == 0
    assert stats["failed"] > wanted // 2
    return (
        f"{world.proxy.cuts} cuts in {stats['ops']} operations "
        f"({stats['failed']} raised ConnectionError, {stats['landed_anyway']} of them writes "
        f"that landed; {stats['recovered']} completed on a new pooled connection; "
        f"{stats['timeouts']} timeouts) in {time.monotonic() - started:.1f}s, "
        f"AREDIS_FAULT_SEED={SEED}"
    )


@pytest.mark.parametrize(
    ("is_async", "wanted"), [(False, CUTS_WANTED), (True, CUTS_WANTED_ASYNC)], ids=["sync", "async"]
)
def test_random_cuts_never_half_write(
    redis_server: Any,
    key_prefix: str,
    is_async: bool,
    wanted: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = World(redis_server.port, key_prefix, is_async)
    try:
        summary = random_cuts(world, wanted)
    finally:
        world.close()
    with capsys.disabled():
        print(f"\nfault injection ({'async' if is_async else 'sync'}): {summary}")


# ---------------------------------------------------------------------------------- retries


def measure(proxy: CutProxy, client: redis.Redis, call: Callable[[], Any]) -> list[int]:
    """Bytes one call exchanges on a fresh connection, in each direction."""
    client.connection_pool.disconnect()
    proxy.reset_counts()
    call()
    return list(proxy.counts)


@pytest.mark.parametrize("how", ["client", "from_conn_string"])
def test_recommended_retry_survives_cuts(redis_server: Any, key_prefix: str, how: str) -> None:
    """With the documented retry settings, K <= 3 cuts in a row are invisible to the caller."""
    proxy = CutProxy(redis_server.port)
    direct = redis.Redis(host="127.0.0.1", port=redis_server.port)
    rng = random.Random(7)
    if how == "client":
        client = redis.Redis.from_url(
            proxy.url, retry=recommended_retry(), retry_on_error=[ConnectionError, TimeoutError]
        )
        saver = RedisSaver(client, key_prefix=key_prefix)
    else:
        saver = RedisSaver(
            proxy.url,
            key_prefix=key_prefix,
            connection_args={
                "retry": recommended_retry(),
                "retry_on_error": [ConnectionError, TimeoutError],
            },
        )
        client = saver._redis
    check = RedisSaver(direct, key_prefix=key_prefix)
    try:
        saver.setup()
        parent: str | None = None
        for k in (1, 2, 3, 1, 2, 3):
            values = {"a": blob(rng), "b": k}
            cp = checkpoint(values, {"a": f"{k}.1", "b": f"{k}.2"})
            versions = {"a": f"{k}.1", "b": f"{k}.2"}
            md = {"source": "loop", "step": k, "parents": {}}
            # the same exchange on a throwaway thread ("u": as long as "t") gives its size
            sizes = measure(
                proxy, client, partial(saver.put, cfg("u", "", parent), cp, md, versions)
            )
            saver.delete_thread("u")
            client.connection_pool.disconnect()
            cuts = proxy.cuts
            for _ in range(k):
                d = rng.choice([C2S, S2C])
                proxy.plans.append(Cut(d, rng.randrange(sizes[d]), rng.random() < 0.5))
            stored = saver.put(cfg("t", "", parent), cp, md, versions)
            assert proxy.cuts == cuts + k
            parent = stored["configurable"]["checkpoint_id"]
            got = check.get_tuple(stored)
            assert got is not None and got.checkpoint["channel_values"] == values

            writes = [("a", blob(rng)), ("b", k)]
            probe = cfg("u", "", parent)
            sizes = measure(proxy, client, partial(saver.put_writes, probe, writes, "w"))
            saver.delete_thread("u")
            client.connection_pool.disconnect()
            for _ in range(k):
                d = rng.choice([C2S, S2C])
                proxy.plans.append(Cut(d, rng.randrange(sizes[d]), rng.random() < 0.5))
            saver.put_writes(stored, writes, "w")
            assert proxy.cuts == cuts + 2 * k

            for read in (
                lambda: plain(saver.get_tuple(cfg("t"))),
                lambda: [plain(t) for t in saver.list(cfg("t"))],
            ):
                expected = read()
                sizes = measure(proxy, client, read)
                client.connection_pool.disconnect()
                for _ in range(k):
                    d = rng.choice([C2S, S2C])
                    proxy.plans.append(Cut(d, rng.randrange(sizes[d]), rng.random() < 0.5))
                assert read() == expected
        latest = check.get_tuple(cfg("t"))
        assert latest is not None and latest.config["configurable"]["checkpoint_id"] == parent
        assert latest.pending_writes == [("w", "a", writes[0][1]), ("w", "b", 3)]
        assert len(list(check.list(cfg("t")))) == 6
        assert proxy.plans == deque()
    finally:
        check.delete_thread("t")
        saver.close()
        if how == "client":
            client.close()
        direct.close()
        proxy.close()


def test_without_retries_one_cut_fails_the_call(redis_server: Any, key_prefix: str) -> None:
    """With retries switched off (``connection_args={"retry": None}``) a cut surfaces.

    The put below reaches Redis and is applied; only its reply is lost.  The caller gets a
    ConnectionError, and calling again (what a retry does) changes nothing more.
    """
    proxy = CutProxy(redis_server.port)
    direct = redis.Redis(host="127.0.0.1", port=redis_server.port)
    try:
        with RedisSaver.from_conn_string(
            proxy.url, key_prefix=key_prefix, connection_args={"retry": None}
        ) as saver:
            saver.setup()
            md = {"source": "loop", "step": 0, "parents": {}}
            cp = checkpoint({"a": "x" * 100}, {"a": "1.0"})
            put = partial(saver.put, cfg("t"), cp, md, {"a": "1.0"})
            sizes = measure(proxy, saver._redis, partial(saver.put, cfg("u"), cp, md, {"a": "1.0"}))
            saver._redis.connection_pool.disconnect()
            before = dump(direct, key_prefix)
            proxy.plans.append(Cut(S2C, sizes[S2C] - 1, False))  # all but the reply's last byte
            with pytest.raises(ConnectionError):
                put()
            landed = dump(direct, key_prefix)
            assert landed != before
            assert put() == cfg("t", "", cp["id"])
            assert dump(direct, key_prefix) == landed
            saver.delete_thread("t")
            saver.delete_thread("u")
    finally:
        direct.close()
        proxy.close()


@pytest.mark.parametrize("reset", [False, True])
def test_idle_connection_cut_is_replaced_without_retries(
    redis_server: Any, key_prefix: str, reset: bool
) -> None:
    """A pooled connection dropped while idle (server timeout, load balancer) is reconnected."""
    proxy = CutProxy(redis_server.port)
    try:
        with RedisSaver.from_conn_string(proxy.url, key_prefix=key_prefix) as saver:
            saver.setup()
            cp = checkpoint({"a": 1}, {"a": "1.0"})
            stored = saver.put(
                cfg("t"), cp, {"source": "loop", "step": 0, "parents": {}}, {"a": "1.0"}
            )
            for _ in range(20):
                proxy.drop_all(reset=reset)
                time.sleep(0.002)
                got = saver.get_tuple(cfg("t"))
                assert got is not None and got.config == stored
            saver.delete_thread("t")
    finally:
        proxy.close()


async def idle_cuts(saver: AsyncRedisSaver, proxy: CutProxy, reset: bool) -> None:
    await saver.asetup()
    cp = checkpoint({"a": 1}, {"a": "1.0"})
    md = {"source": "loop", "step": 0, "parents": {}}
    stored = await saver.aput(cfg("t"), cp, md, {"a": "1.0"})
    try:
        for _ in range(20):
            proxy.drop_all(reset=reset)
            await asyncio.sleep(0.002)
            got = await saver.aget_tuple(cfg("t"))
            assert got is not None and got.config == stored
    finally:
        await saver.adelete_thread("t")


@pytest.mark.parametrize("reset", [False, True])
async def test_idle_connection_cut_async_with_recommended_retry(
    redis_server: Any, key_prefix: str, reset: bool
) -> None:
    proxy = CutProxy(redis_server.port)
    args = {
        "retry": AsyncRetry(ExponentialBackoff(cap=0.05, base=0.001), retries=3),
        "retry_on_error": [ConnectionError, TimeoutError],
    }
    try:
        async with AsyncRedisSaver.from_conn_string(
            proxy.url, key_prefix=key_prefix, connection_args=args
        ) as saver:
            await idle_cuts(saver, proxy, reset)
    finally:
        proxy.close()


async def test_idle_connection_cut_async_default_client(  # retried by default
    redis_server: Any, key_prefix: str
) -> None:
    proxy = CutProxy(redis_server.port)
    try:
        async with AsyncRedisSaver.from_conn_string(proxy.url, key_prefix=key_prefix) as saver:
            await idle_cuts(saver, proxy, False)
    finally:
        proxy.close()


async def test_recommended_retry_async(redis_server: Any, key_prefix: str) -> None:
    proxy = CutProxy(redis_server.port)
    rng = random.Random(7)
    client = AsyncRedis.from_url(
        proxy.url,
        retry=AsyncRetry(ExponentialBackoff(cap=0.05, base=0.001), retries=3),
        retry_on_error=[ConnectionError, TimeoutError],
    )
    saver = AsyncRedisSaver(client, key_prefix=key_prefix)
    try:
        await saver.asetup()
        parent: str | None = None
        for k in (1, 2, 3):
            cp = checkpoint({"a": blob(rng)}, {"a": f"{k}.0"})
            await client.connection_pool.disconnect()
            for _ in range(k):
                # before the request's end, so each attempt is cut
                proxy.plans.append(Cut(C2S, rng.randrange(40), rng.random() < 0.5))
            cuts = proxy.cuts
            md = {"source": "loop", "step": k, "parents": {}}
            stored = await saver.aput(cfg("t", "", parent), cp, md, {"a": f"{k}.0"})
            assert proxy.cuts == cuts + k
            parent = stored["configurable"]["checkpoint_id"]
            got = await saver.aget_tuple(cfg("t"))
            assert got is not None and got.checkpoint["id"] == cp["id"]
        assert len([t async for t in saver.alist(cfg("t"))]) == 3
        await saver.adelete_thread("t")
    finally:
        await client.aclose()
        proxy.close()


# ---------------------------------------------------------------------------------- cancellation


async def test_cancelled_calls_never_leave_a_wrong_answer_behind(
    redis_url: str,
    key_prefix: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Async calls cancelled at random moments (timeouts), on a pool of 4 connections.

    A cancelled call must not leave its reply on a pooled connection for the next caller to
    read: every call that completes returns its own thread's data, and a cancelled write is
    all-or-nothing.
    """
    rng = random.Random(SEED)
    threads = [f"c:{i}:{{é}}" for i in range(12)]
    cancelled = completed = 0
    async with AsyncRedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, max_connections=4
    ) as saver:
        await saver.asetup()
        # the saver owns its client, so its scripts go out on the runner's kept connections
        assert saver._runner._pool is not None
        inner = AsyncWire.exchange
        mid_command = 0
        # A third of the round trips get a timeout of their own, so that cancellations land
        # inside the request/reply exchange however fast or loaded the machine is; the outer
        # timeouts of the rounds cancel calls anywhere else (limiter, pool, serialization).
        inner_limit = {"s": 0.0}

        async def counting(
            wire: AsyncWire, conn: Any, packed: Any, count: int | None = None
        ) -> Any:
            nonlocal mid_command
            assert direct_path(conn), "the saver's own connections take the short path"
            try:
                if inner_limit["s"] and rng.random() < 0.3:
                    # a cancel scope in the caller's own task (asyncio.wait_for would run the
                    # round trip in a task of its own before Python 3.12)
                    with anyio.fail_after(rng.uniform(0, inner_limit["s"])):
                        return await inner(wire, conn, packed, count)
                return await inner(wire, conn, packed, count)
            except (asyncio.CancelledError, asyncio.TimeoutError, builtins.TimeoutError):
                mid_command += 1
                raise

        monkeypatch.setattr(AsyncWire, "exchange", counting)
        heads = {}
        for tid in threads:
            cp = checkpoint({"who": tid, "pad": blob(rng)}, {"who": "1.0", "pad": "1.0"})
            md = {"source": "loop", "step": 0, "parents": {}, "owner": tid}
            heads[tid] = await saver.aput(cfg(tid), cp, md, {"who": "1.0", "pad": "1.0"})
        batches: dict[tuple[str, str], int] = {}  # (thread, task) -> writes in the batch

        async def one(i: int, limit: float) -> None:
            nonlocal cancelled, completed
            tid = rng.choice(threads)
            kind = rng.choice(["get", "list", "writes", "put"])
            if kind == "get":
                call: Any = saver.aget_tuple(cfg(tid))
            elif kind == "list":
                call = _alist(saver, tid)
            elif kind == "writes":
                n = rng.randint(1, 3)
                task = f"task-{i}"
                batches[(tid, task)] = n
                call = saver.aput_writes(heads[tid], [("w", (tid, j)) for j in range(n)], task)
            else:
                values = {"who": tid, "pad": blob(rng)}
                cp = checkpoint(values, {"who": "1.0", "pad": f"{i}.0"})
                md = {"source": "loop", "step": i, "parents": {}, "owner": tid}
                call = saver.aput(cfg(tid), cp, md, {"pad": f"{i}.0"})
            try:
                result = await asyncio.wait_for(call, timeout=rng.uniform(0, limit))
            except (asyncio.TimeoutError, builtins.TimeoutError):  # distinct before Python 3.11
                cancelled += 1
                return
            completed += 1
            if kind == "get":
                assert result is not None
                assert result.config["configurable"]["thread_id"] == tid
                assert result.checkpoint["channel_values"]["who"] == tid
                assert result.metadata["owner"] == tid
                assert all(w[2][0] == tid for w in result.pending_writes)
            elif kind == "list":
                assert result and all(t.metadata["owner"] == tid for t in result)

        durations = []
        for tid in threads:
            t0 = time.perf_counter()
            await saver.aget_tuple(cfg(tid))
            durations.append(time.perf_counter() - t0)
        typical = sorted(durations)[len(durations) // 2]
        inner_limit["s"] = typical
        r = 0
        while r < 150 or (r < 3000 and (mid_command <= 100 or completed <= 100)):
            r += 1
            # more callers than connections, or fewer: cancelled waiting, or mid-command
            # narrow rounds: room for a reconnection (a cancelled call drops its connection),
            # so that calls also complete and reuse connections
            width, limit = (100, 0.0015) if r % 3 == 0 else (4, 0.002 + 10 * typical)
            await asyncio.gather(*(one(r * 100 + i, limit) for i in range(width)))
        inner_limit["s"] = 0.0  # the checks below run undisturbed
        # afterwards: every write batch whole or absent, every checkpoint whole
        for tid in threads:
            async for t in saver.alist(cfg(tid)):
                assert t.checkpoint["channel_values"]["who"] == tid
                assert set(t.checkpoint["channel_values"]) == {"who", "pad"}
                counts = Counter(w[0] for w in t.pending_writes)
                for task, n in counts.items():
                    assert batches[(tid, task)] == n, (tid, task)
            await saver.adelete_thread(tid)
    with capsys.disabled():
        print(
            f"\ncancellation: {r} rounds, {cancelled} calls cancelled ({mid_command} of them "
            f"inside a Redis command), {completed} completed"
        )
    assert mid_command > 100 and completed > 100


async def _alist(saver: AsyncRedisSaver, tid: str) -> list[CheckpointTuple]:
    return [t async for t in saver.alist(cfg(tid))]
