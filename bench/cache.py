"""Node cache latency: aredis-ckpt's caches beside LangGraph's InMemoryCache and RedisCache.

    python bench/cache.py            # about half a minute
    python bench/cache.py --quick    # a smoke run (a few seconds)

Compared: ``InMemoryCache`` (LangGraph, in-process), ``langgraph.cache.redis.RedisCache``
(LangGraph's Redis cache: sync only, on a ``redis.Redis`` client), aredis-ckpt's ``RedisCache``
(sync) and ``AsyncRedisCache`` (awaited on an asyncio loop).  All Redis caches talk to one
private ``redis-server`` (``$AREDIS_REDIS_SERVER`` or PATH) on a free loopback port, removed
afterwards.

Per cache: median and p95 latency of ``get`` / ``set`` with 1 and 100 keys (values are a
node's writes: one ~1 KB chat message), interleaved so that machine noise hits every cache
alike; server CPU per call from ``INFO commandstats``; and the wall time of a graph whose four
parallel nodes are all cache hits.  Last, a behaviour check of each cache against
``InMemoryCache``'s semantics.  Nothing is asserted: it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import redis
import redis.asyncio
from langchain_core.messages import AIMessage
from langgraph.cache.base import BaseCache
from langgraph.cache.memory import InMemoryCache
from langgraph.cache.redis import RedisCache as LangGraphRedisCache
from langgraph.graph import START, StateGraph
from langgraph.types import CachePolicy
from typing_extensions import TypedDict

from aredis_ckpt import AsyncRedisCache, RedisCache
from aredis_ckpt._server import RedisServer, find_redis_server

TEXT = ("Redis keeps the node cache next to the checkpoints. " * 20)[:1000]
ONE = [(("__pregel_ns_writes", "bench.node", "node"), "0" * 32)]
HUNDRED = [(("__pregel_ns_writes", "bench.node", f"node{i % 4}"), f"{i:032x}") for i in range(100)]


def writes(i: int) -> list[tuple[str, Any]]:
    return [("messages", [AIMessage(TEXT, id=f"msg-{i}")])]


class Impl:
    """One cache under test; ``is_async`` ones are called through their ``a*`` methods."""

    def __init__(self, label: str, cache: BaseCache[Any], is_async: bool, server_cmds: str):
        self.label = label
        self.cache = cache
        self.is_async = is_async
        self.server_cmds = server_cmds  # commandstats names this cache's calls show up as

    async def get(self, keys: list[Any]) -> Any:
        return await self.cache.aget(keys) if self.is_async else self.cache.get(keys)

    async def set(self, pairs: dict[Any, Any]) -> None:
        if self.is_async:
            await self.cache.aset(pairs)
        else:
            self.cache.set(pairs)


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def server_usec(admin: redis.Redis, names: str) -> tuple[int, int]:
    """(calls, usec) so far of the commands in ``names`` (comma separated)."""
    stats = admin.info("commandstats")
    calls = usec = 0
    for name in names.split(","):
        row = stats.get(f"cmdstat_{name}", {})
        calls += int(row.get("calls", 0))
        usec += int(row.get("usec", 0))
    return calls, usec


async def latency(
    impls: list[Impl], admin: redis.Redis, reps: int
) -> dict[str, dict[str, tuple[float, float, float]]]:
    """{op: {cache: (median us, p95 us, server us per call)}}, interleaved per repetition."""
    ops: dict[str, Callable[[Impl, int], Awaitable[Any]]] = {
        "get 1 key": lambda impl, i: impl.get(ONE),
        "get 100 keys": lambda impl, i: impl.get(HUNDRED),
        "set 1 key": lambda impl, i: impl.set({ONE[0]: (writes(i), 60)}),
        "set 100 keys": lambda impl, i: impl.set({k: (writes(i), 60) for k in HUNDRED}),
    }
    for impl in impls:  # fill, so that every get is a hit
        await impl.set({k: (writes(0), 3600) for k in [*ONE, *HUNDRED]})
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    for op, run in ops.items():
        n = reps if "100" not in op else max(10, reps // 4)
        samples: dict[str, list[float]] = {impl.label: [] for impl in impls}
        server: dict[str, list[int]] = {impl.label: [0, 0] for impl in impls}
        for i in range(n):
            for impl in impls:
                before = server_usec(admin, impl.server_cmds) if impl.server_cmds else (0, 0)
                started = time.perf_counter()
                await run(impl, i)
                samples[impl.label].append((time.perf_counter() - started) * 1e6)
                if impl.server_cmds:
                    after = server_usec(admin, impl.server_cmds)
                    server[impl.label][1] += after[1] - before[1]
        results[op] = {
            label: (statistics.median(xs), pct(xs, 0.95), server[label][1] / n)
            for label, xs in samples.items()
        }
    return results


class State(TypedDict, total=False):
    x: int
    a: list[Any]
    b: list[Any]
    c: list[Any]
    d: list[Any]


def graph_for(cache: BaseCache[Any], runs: Counter[str]) -> Any:
    def node(name: str) -> Callable[[State], dict[str, Any]]:
        def run(state: State) -> dict[str, Any]:
            runs[name] += 1
            return {name: [AIMessage(TEXT, id=f"{name}-{state['x']}")]}

        return run

    builder = StateGraph(State)
    for name in "abcd":
        builder.add_node(name, node(name), cache_policy=CachePolicy())
        builder.add_edge(START, name)
    return builder.compile(cache=cache)


async def graph_wall_time(impls: list[Impl], reps: int) -> dict[str, tuple[float, float, int]]:
    """{cache: (median ms, p95 ms, node runs)} of one invoke whose four nodes are all cache
    hits (node runs counts the nodes that ran during the timed invokes: 0 when they hit)."""
    runs: dict[str, Counter[str]] = {impl.label: Counter() for impl in impls}
    graphs = {impl.label: graph_for(impl.cache, runs[impl.label]) for impl in impls}
    for impl in impls:
        graph = graphs[impl.label]
        await graph.ainvoke({"x": 1}) if impl.is_async else graph.invoke({"x": 1})
    for counter in runs.values():
        counter.clear()
    samples: dict[str, list[float]] = {impl.label: [] for impl in impls}
    for _ in range(reps):
        for impl in impls:
            graph = graphs[impl.label]
            started = time.perf_counter()
            await graph.ainvoke({"x": 1}) if impl.is_async else graph.invoke({"x": 1})
            samples[impl.label].append((time.perf_counter() - started) * 1e3)
    return {
        label: (statistics.median(xs), pct(xs, 0.95), sum(runs[label].values()))
        for label, xs in samples.items()
    }


async def behaviour(cache: BaseCache[Any], is_async: bool) -> dict[str, str]:
    """What the cache answers where InMemoryCache's semantics are clear."""
    impl = Impl("", cache, is_async, "")
    found: dict[str, str] = {}
    await impl.set({(("a:b",), "c"): ("x", None)})
    found["(('a:b',), 'c') and (('a', 'b'), 'c') are two keys"] = str(
        not await impl.get([(("a", "b"), "c")])
    )
    await impl.set({(("a",), "k"): (1, None), (("a", "b"), "k"): (2, None)})
    if is_async:
        await cache.aclear([("a",)])
    else:
        cache.clear([("a",)])
    found["clear([('a',)]) keeps ('a', 'b')"] = str(bool(await impl.get([(("a", "b"), "k")])))
    await impl.set({(("t",), "k"): ("old", None)})
    await impl.set({(("t",), "k"): ("new", 0)})
    found["ttl=0 replaces the entry with an expired one"] = str(not await impl.get([(("t",), "k")]))
    await impl.set({(("t",), "f"): ("v", 0.5)})
    found["ttl=0.5 (seconds) is stored"] = str(bool(await impl.get([(("t",), "f")])))
    return found


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


async def main_async(url: str, reps: int, graph_reps: int) -> None:
    admin = redis.Redis.from_url(url)
    tag = uuid.uuid4().hex[:8]
    ours_sync: RedisCache[Any] = RedisCache(url, key_prefix=f"bench-{tag}-s")
    ours_async: AsyncRedisCache[Any] = AsyncRedisCache(url, key_prefix=f"bench-{tag}-a")
    lg_client = redis.Redis.from_url(url)
    impls = [
        Impl("InMemoryCache", InMemoryCache(), False, ""),
        Impl(
            "LangGraph RedisCache",
            LangGraphRedisCache(lg_client, prefix=f"bench-{tag}-lg:"),
            False,
            "mget,setex,set",
        ),
        Impl("aredis RedisCache", ours_sync, False, "evalsha"),
        Impl("aredis AsyncRedisCache", ours_async, True, "evalsha"),
    ]
    print(f"... get/set latency, {reps} repetitions (100-key ops: {max(10, reps // 4)})")
    lat = await latency(impls, admin, reps)
    print(f"... graph wall time, {graph_reps} invokes")
    wall = await graph_wall_time(impls, graph_reps)
    checks: dict[str, dict[str, str]] = {}
    for impl in impls:
        fresh: BaseCache[Any]
        if isinstance(impl.cache, InMemoryCache):
            fresh = InMemoryCache()
        elif isinstance(impl.cache, LangGraphRedisCache):
            fresh = LangGraphRedisCache(lg_client, prefix=f"bench-{tag}-lgb:")
        elif impl.is_async:
            fresh = AsyncRedisCache(url, key_prefix=f"bench-{tag}-ab")
        else:
            fresh = RedisCache(url, key_prefix=f"bench-{tag}-sb")
        checks[impl.label] = await behaviour(fresh, impl.is_async)
        if isinstance(fresh, AsyncRedisCache):
            await fresh.aclose()
        elif isinstance(fresh, RedisCache):
            fresh.close()
    server = admin.info("server")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nRedis {server['redis_version']} on loopback, {os.cpu_count()} cores, load average "
        f"{load} at the end; median / p95 microseconds per call (server: CPU microseconds per "
        "call from INFO commandstats)\n"
    )
    labels = [impl.label for impl in impls]
    rows = []
    for op, per in lat.items():
        cells = [op]
        for label in labels:
            med, p95, usec = per[label]
            cells.append(f"{med:.0f} / {p95:.0f}" + (f" (server {usec:.0f})" if usec else ""))
        rows.append(cells)
    print(table(["operation", *labels], rows))
    print("\nGraph with four parallel cached nodes, every node a hit: median / p95 ms per invoke\n")
    rows = [
        ["invoke", *(f"{wall[x][0]:.2f} / {wall[x][1]:.2f}" for x in labels)],
        ["node runs while timed", *(str(wall[x][2]) for x in labels)],
    ]
    print(table(["", *labels], rows))
    print("\nBehaviour against InMemoryCache's semantics\n")
    rows = [[check, *(checks[x][check] for x in labels)] for check in checks[labels[0]]]
    print(table(["check", *labels], rows))
    ours_sync.close()
    await ours_async.aclose()
    lg_client.close()
    admin.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--graph-reps", type=int, default=500)
    opts = parser.parse_args()
    reps, graph_reps = (20, 10) if opts.quick else (opts.reps, opts.graph_reps)
    server = RedisServer(find_redis_server()).start()
    try:
        asyncio.run(main_async(server.url, reps, graph_reps))
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
