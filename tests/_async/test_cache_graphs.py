"""LangGraph runs with the node cache: ``CachePolicy`` on nodes and ``@task``s, ``clear_cache``.

Written once for AsyncRedisCache (``ainvoke``); scripts/unasync.py generates the RedisCache
twin (``invoke``).  Node functions are plain ``def`` so they run under either invoke style.
Where LangGraph's own ``InMemoryCache`` is the reference, the same scenario runs on both and
the node counts must agree.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from langgraph.cache.base import BaseCache
from langgraph.cache.memory import InMemoryCache
from langgraph.func import entrypoint, task
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import CachePolicy
from typing_extensions import TypedDict

from aredis_ckpt._compat import asleep
from pairs import skip_async_config

Graph = CompiledStateGraph[Any, Any, Any, Any]


class State(TypedDict, total=False):
    x: int
    a: int
    b: int
    c: int


def _counted(calls: Counter[str], name: str, factor: int) -> Any:
    def node(state: State) -> dict[str, int]:
        calls[name] += 1
        return {name: state["x"] * factor}

    return node


def _fan_out(calls: Counter[str], cache: BaseCache[Any], ttl: float | None = None) -> Graph:
    """START -> a, b, c in parallel, each cached: one step asks the cache for three keys."""
    builder = StateGraph(State)
    for name, factor in (("a", 2), ("b", 3), ("c", 4)):
        builder.add_node(name, _counted(calls, name, factor), cache_policy=CachePolicy(ttl=ttl))  # type: ignore[arg-type]
        builder.add_edge(START, name)
    return builder.compile(cache=cache)


async def test_cached_nodes_run_once_per_input(cache: Any, make_cache: Any) -> None:
    calls: Counter[str] = Counter()
    graph = _fan_out(calls, cache)
    assert await graph.ainvoke({"x": 2}) == {"x": 2, "a": 4, "b": 6, "c": 8}
    assert await graph.ainvoke({"x": 2}) == {"x": 2, "a": 4, "b": 6, "c": 8}
    assert calls == {"a": 1, "b": 1, "c": 1}
    assert await graph.ainvoke({"x": 5}) == {"x": 5, "a": 10, "b": 15, "c": 20}
    assert calls == {"a": 2, "b": 2, "c": 2}
    # another cache instance on the same prefix (another process, say) finds the results
    async with make_cache() as other:
        again = _fan_out(calls, other)
        assert await again.ainvoke({"x": 5}) == {"x": 5, "a": 10, "b": 15, "c": 20}
    assert calls == {"a": 2, "b": 2, "c": 2}


async def test_cached_nodes_run_again_after_clear_cache(cache: Any) -> None:
    calls: Counter[str] = Counter()
    graph = _fan_out(calls, cache)
    await graph.ainvoke({"x": 1})
    await graph.aclear_cache(["a"])
    await graph.ainvoke({"x": 1})
    assert calls == {"a": 2, "b": 1, "c": 1}
    await graph.aclear_cache()
    await graph.ainvoke({"x": 1})
    assert calls == {"a": 3, "b": 2, "c": 2}


async def test_cached_nodes_run_again_after_their_ttl(cache: Any) -> None:
    calls: Counter[str] = Counter()
    ttl = 0.3
    for _ in range(5):
        calls.clear()
        await cache.aclear()
        graph = _fan_out(calls, cache, ttl=ttl)
        started = time.monotonic()
        await graph.ainvoke({"x": 3})
        written = time.monotonic()
        await graph.ainvoke({"x": 3})
        if time.monotonic() - started < ttl * 0.8:
            break
        ttl *= 2  # too slow a machine to run twice within the TTL: try a longer one
    assert calls == {"a": 1, "b": 1, "c": 1}
    await asleep(ttl - (time.monotonic() - written) + 0.05)
    assert await graph.ainvoke({"x": 3}) == {"x": 3, "a": 6, "b": 9, "c": 12}
    assert calls == {"a": 2, "b": 2, "c": 2}


@skip_async_config
async def test_task_results_are_cached_in_the_functional_api(cache: Any) -> None:
    calls: Counter[str] = Counter()

    @task(cache_policy=CachePolicy())
    def add(a: int, b: int) -> int:
        calls["add"] += 1
        return a + b

    @entrypoint(cache=cache)
    def workflow(inputs: dict[str, int]) -> int:
        return add(inputs["a"], inputs["b"]).result() * 10

    assert await workflow.ainvoke({"a": 1, "b": 2}) == 30
    assert await workflow.ainvoke({"a": 1, "b": 2}) == 30
    assert calls["add"] == 1
    assert await workflow.ainvoke({"a": 2, "b": 2}) == 40
    assert calls["add"] == 2
    await add.aclear_cache(cache)
    assert await workflow.ainvoke({"a": 1, "b": 2}) == 30
    assert calls["add"] == 3


async def _subgraph_scenario(cache: BaseCache[Any]) -> list[dict[str, int]]:
    """Counts after each stage of a parent graph with a cached node in a subgraph.

    LangGraph hands a graph's cache to nodes of that graph only: the subgraph is compiled
    with the cache too, and each graph's ``clear_cache`` clears its own nodes.
    """
    calls: Counter[str] = Counter()
    child = StateGraph(State)
    child.add_node("inner", _counted(calls, "a", 2), cache_policy=CachePolicy())
    child.add_edge(START, "inner")
    subgraph = child.compile(cache=cache)
    parent = StateGraph(State)
    parent.add_node("prep", _counted(calls, "b", 3), cache_policy=CachePolicy())
    parent.add_node("child", subgraph)
    parent.add_edge(START, "prep")
    parent.add_edge("prep", "child")
    graph = parent.compile(cache=cache)
    seen = []
    for stage in ("first", "again", "parent cleared", "subgraph cleared", "all cleared"):
        if stage == "parent cleared":
            await graph.aclear_cache()
        elif stage == "subgraph cleared":
            await subgraph.aclear_cache()
        elif stage == "all cleared":
            await cache.aclear()
        out = await graph.ainvoke({"x": 7})
        assert out == {"x": 7, "a": 14, "b": 21}
        seen.append(dict(calls))
    return seen


async def test_cached_nodes_in_subgraphs_match_in_memory_cache(cache: Any) -> None:
    ours = await _subgraph_scenario(cache)
    assert ours == await _subgraph_scenario(InMemoryCache())
    assert ours == [
        {"a": 1, "b": 1},
        {"a": 1, "b": 1},
        {"a": 1, "b": 2},
        {"a": 2, "b": 2},
        {"a": 3, "b": 3},
    ]


async def test_cache_beside_a_checkpointer(cache: Any, saver: Any) -> None:
    calls: Counter[str] = Counter()
    builder = StateGraph(State)
    builder.add_node("a", _counted(calls, "a", 2), cache_policy=CachePolicy(ttl=60))
    builder.add_edge(START, "a")
    graph = builder.compile(cache=cache, checkpointer=saver)
    for thread in ("t1", "t2"):
        out = await graph.ainvoke({"x": 4}, {"configurable": {"thread_id": thread}})
        assert out == {"x": 4, "a": 8}
    assert calls == {"a": 1}  # the cache is shared across threads
    state = await graph.aget_state({"configurable": {"thread_id": "t2"}})
    assert state.values == {"x": 4, "a": 8}
