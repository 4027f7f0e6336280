"""The long-term memory store, checked against LangGraph's InMemoryStore.

Written once for AsyncRedisStore; scripts/unasync.py generates the RedisStore twin.  Semantic
search uses a deterministic bag-of-words embedding (never a network model).  Whatever the
topology of the run (plain, Sentinel, Cluster), ``make_store`` connects the way the savers do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime
from langgraph.store.base import (
    BaseStore,
    GetOp,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    MatchCondition,
    PutOp,
    SearchOp,
)
from langgraph.store.memory import InMemoryStore
from redis import Redis
from typing_extensions import TypedDict

from aredis_ckpt import AsyncRedisStore, ScriptBudget
from aredis_ckpt._compat import asleep
from aredis_ckpt._server import RedisServer

StoreFactory = Callable[..., AbstractAsyncContextManager[AsyncRedisStore]]

DIMS = 16


def fake_embed(texts: Sequence[str]) -> list[list[float]]:
    """Bag of words hashed into DIMS buckets: equal texts get equal vectors, shared words
    similar ones, and every component is a small integer (so scores are exact)."""
    vectors = []
    for text in texts:
        v = [0.0] * DIMS
        for word in text.lower().split():
            v[zlib.crc32(word.encode()) % DIMS] += 1.0
        vectors.append(v)
    return vectors


INDEX = {"dims": DIMS, "embed": fake_embed, "fields": ["text"]}


@pytest.fixture
def make_store(redis_url: str, key_prefix: str, saver_kwargs: dict[str, Any]) -> StoreFactory:
    """A factory of new, set-up stores (each with its own client) on the test's prefix."""

    @asynccontextmanager
    async def factory(**kwargs: Any) -> AsyncIterator[AsyncRedisStore]:
        kwargs = {"key_prefix": key_prefix, **saver_kwargs, **kwargs}
        async with AsyncRedisStore.from_conn_string(redis_url, **kwargs) as store:
            await store.asetup()
            yield store

    return factory


@pytest.fixture
async def store(make_store: StoreFactory) -> AsyncIterator[AsyncRedisStore]:
    async with make_store() as s:
        yield s


# A store script reads at most this many items or namespaces (ScriptBudget.store_items), so
# every search, list_namespaces and sweep of these tests goes on over many calls (issue #13).
TINY = ScriptBudget(store_items=3)


@pytest.fixture(params=[None, TINY], ids=["one-script", "sliced"])
def budget(request: pytest.FixtureRequest) -> ScriptBudget | None:
    """The default budget, then a tiny one: the same tests must pass with both."""
    budget: ScriptBudget | None = request.param
    return budget


@pytest.fixture
async def sliced_store(
    make_store: StoreFactory, budget: ScriptBudget | None
) -> AsyncIterator[AsyncRedisStore]:
    async with make_store(script_budget=budget) as s:
        yield s


def count_calls(store: AsyncRedisStore) -> list[int]:
    """Count the store's script calls from now on (in the returned list's only element)."""
    counter = [0]
    inner = store._eval

    async def counted(*args: Any) -> Any:
        counter[0] += 1
        return await inner(*args)

    store._eval = counted  # type: ignore[method-assign]
    return counter


def view(items: Sequence[Item]) -> list[tuple[Any, ...]]:
    """What two stores must agree on (timestamps aside)."""
    out = []
    for i in items:
        score = getattr(i, "score", None)
        rounded = None if score is None else round(score, 12)
        out.append((tuple(i.namespace), i.key, i.value, rounded))
    return out


async def outcome(target: BaseStore, prefix: tuple[str, ...], **kwargs: Any) -> Any:
    """The view of a search's result, or the type of the exception it raised."""
    try:
        return view(await target.asearch(prefix, **kwargs))
    except (TypeError, ValueError) as exc:
        return type(exc)


async def same_semantic_searches(
    store: BaseStore,
    model: BaseStore,
    queries: Sequence[str],
    prefixes: Sequence[tuple[str, ...]],
    pages: Sequence[tuple[int, int]],
    filters: Sequence[dict[str, Any] | None],
) -> None:
    """Every combination of query, prefix, (limit, offset) and filter answers as the model."""
    for query in queries:
        for prefix in prefixes:
            for limit, offset in pages:
                for flt in filters:
                    kwargs: dict[str, Any] = {
                        "query": query, "filter": flt, "limit": limit, "offset": offset
                    }  # fmt: skip
                    ours = await outcome(store, prefix, **kwargs)
                    theirs = await outcome(model, prefix, **kwargs)
                    assert ours == theirs, (query, prefix, limit, offset, flt)


async def keys_of(store: AsyncRedisStore) -> set[bytes]:
    found = set()
    pattern = store._sk.base + b"*"
    async for key in store._redis.scan_iter(match=pattern):
        found.add(key)
    return found


async def put_both(
    store: AsyncRedisStore, model: InMemoryStore, ns: tuple[str, ...], key: str, value: Any
) -> None:
    await store.aput(ns, key, value)
    await model.aput(ns, key, value)


# ---------------------------------------------------------------------- basics


async def test_put_get_delete(store: AsyncRedisStore) -> None:
    assert await store.aget(("users", "u1"), "prefs") is None
    await store.aput(("users", "u1"), "prefs", {"theme": "dark", "n": [1, 2.5, None, True]})
    item = await store.aget(("users", "u1"), "prefs")
    assert item is not None
    assert item.namespace == ("users", "u1") and item.key == "prefs"
    assert item.value == {"theme": "dark", "n": [1, 2.5, None, True]}
    assert item.created_at == item.updated_at
    assert item.created_at.tzinfo is not None
    await store.aput(("users", "u1"), "prefs", {"theme": "light"})
    again = await store.aget(("users", "u1"), "prefs")
    assert again is not None and again.value == {"theme": "light"}
    assert again.updated_at >= item.updated_at
    await store.adelete(("users", "u1"), "prefs")
    assert await store.aget(("users", "u1"), "prefs") is None
    assert await store.alist_namespaces() == []
    # nothing left but the prefix's bookkeeping
    base = store._sk.base
    assert await keys_of(store) <= {base + b"schema", base + b"vmode", base + b"seq"}


async def test_odd_namespaces_and_keys(store: AsyncRedisStore) -> None:
    model = InMemoryStore()
    odd = [
        (("a:b", "{c}", "%G", "%S"), "k:{1}"),
        (("ünïcödé", "日本"), "ключ"),
        (("x y", "*"), ""),
        (("a",), "\x00nul\x00"),
        (("a", "\x01"), "k"),
        (("a\x01",), "k"),
        (("tab\t", "new\nline"), "k"),
    ]
    for i, (ns, key) in enumerate(odd):
        await put_both(store, model, ns, key, {"i": i})
    for ns, key in odd:
        assert view([await store.aget(ns, key)]) == view([await model.aget(ns, key)])  # type: ignore[list-item]
    assert await store.alist_namespaces() == await model.alist_namespaces()
    assert view(await store.asearch((), limit=50)) == view(await model.asearch((), limit=50))
    assert view(await store.asearch(("a",))) == view(await model.asearch(("a",)))


@pytest.mark.parametrize(
    "namespace",
    [("a.b",), ("",), ("a", ""), ("a\x00",), ("a", 1)],
)
async def test_invalid_namespaces_are_rejected(store: AsyncRedisStore, namespace: Any) -> None:
    with pytest.raises(InvalidNamespaceError):
        await store.aput(namespace, "k", {"v": 1})
    with pytest.raises(InvalidNamespaceError):
        await store.abatch([GetOp(namespace, "k")])
    with pytest.raises(InvalidNamespaceError):
        await store.abatch([SearchOp(namespace)])
    with pytest.raises(InvalidNamespaceError):
        await store.abatch([PutOp(namespace, "k", {"v": 1})])
    with pytest.raises(InvalidNamespaceError):
        await store.alist_namespaces(prefix=namespace)


async def test_put_rejects_what_langgraph_rejects(store: AsyncRedisStore) -> None:
    with pytest.raises(InvalidNamespaceError):
        await store.aput((), "k", {"v": 1})
    with pytest.raises(InvalidNamespaceError):
        await store.aput(("langgraph", "x"), "k", {"v": 1})
    with pytest.raises(TypeError):
        await store.aput(("a",), "k", {"when": object()})
    with pytest.raises(TypeError):
        await store.aput(("a",), "k", {"nested": {1: "int key"}})
    with pytest.raises(ValueError):
        await store.abatch([SearchOp(("a",), limit=-1)])
    with pytest.raises(ValueError):
        await store.abatch([ListNamespacesOp(offset=-1)])
    with pytest.raises(ValueError):
        await store.abatch([ListNamespacesOp((MatchCondition("middle", ("a",)),))])  # type: ignore[arg-type]


# ---------------------------------------------------------------------- batches


async def test_batch_reads_before_writes_and_last_put_wins(sliced_store: AsyncRedisStore) -> None:
    store = sliced_store
    model = InMemoryStore()
    await put_both(store, model, ("n",), "old", {"v": 0})
    ops = [
        PutOp(("n",), "a", {"v": 1}),
        GetOp(("n",), "a"),
        PutOp(("n",), "b", {"v": 2}),
        SearchOp(("n",)),
        PutOp(("n",), "a", {"v": 3}),
        PutOp(("n",), "old", None),
        ListNamespacesOp(),
        GetOp(("n",), "old"),
    ]
    ours = await store.abatch(ops)
    theirs = await model.abatch(ops)
    assert len(ours) == len(ops)
    assert ours[0] is None and ours[2] is None and ours[4] is None and ours[5] is None
    assert ours[1] is None  # the batch's own put is not visible to its reads
    assert view(ours[3]) == view(theirs[3]) == [(("n",), "old", {"v": 0}, None)]  # type: ignore[arg-type]
    assert ours[6] == theirs[6] == [("n",)]
    assert view([ours[7]]) == view([theirs[7]])  # type: ignore[list-item]
    # a is stored once, with the last value, at the place of its first put
    after = await store.asearch(("n",))
    assert view(after) == view(await model.asearch(("n",)))
    assert [i.key for i in after] == ["a", "b"]
    assert after[0].value == {"v": 3}
    assert await store.abatch([]) == []


async def test_emptying_and_refilling_a_namespace_in_one_batch_keeps_its_place(
    store: AsyncRedisStore,
) -> None:
    model = InMemoryStore()
    await put_both(store, model, ("first",), "k", {"v": 1})
    await put_both(store, model, ("second",), "k", {"v": 2})
    ops = [PutOp(("first",), "k", None), PutOp(("first",), "k2", {"v": 3})]
    await store.abatch(ops)
    await model.abatch(ops)
    assert view(await store.asearch(())) == view(await model.asearch(()))


async def test_search_order_is_namespace_then_insertion(sliced_store: AsyncRedisStore) -> None:
    store = sliced_store
    model = InMemoryStore()
    for ns, key in [
        (("b",), "z"),
        (("a", "x"), "k2"),
        (("b",), "a"),
        (("a",), "k1"),
        (("a", "x"), "k1"),
        (("b",), "z"),  # an update keeps its place
    ]:
        await put_both(store, model, ns, key, {"k": key})
    for prefix in [(), ("a",), ("b",), ("a", "x"), ("c",)]:
        assert view(await store.asearch(prefix)) == view(await model.asearch(prefix))
    # a namespace emptied and refilled moves to the end (it stops existing in between)
    await store.adelete(("b",), "z")
    await store.adelete(("b",), "a")
    await store.aput(("b",), "again", {"k": "again"})
    assert [i.namespace for i in await store.asearch(())][-1] == ("b",)


# ---------------------------------------------------------------------- filters

FILTER_ITEMS: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
    (("f",), "a", {"color": "red", "score": 4.5, "n": 1, "tags": ["x", "y"], "meta": {"k": 1}}),
    (("f",), "b", {"color": "blue", "score": 3, "n": True, "tags": [], "meta": {}}),
    (("f", "sub"), "c", {"color": "red", "score": "5", "n": 1.0, "tags": {}, "meta": []}),
    (("f",), "d", {"color": None, "score": 10, "tags": ["x"], "meta": {"k": 1, "j": [1, {}]}}),
    (("f",), "e", {"score": -1, "n": 0, "tags": [[]], "meta": {"k": "1"}}),
]

FILTERS: list[dict[str, Any]] = [
    {"color": "red"},
    {"color": {"$eq": "red"}},
    {"color": {"$ne": "red"}},
    {"color": None},
    {"color": {"$eq": None}},
    {"color": {"$ne": None}},
    {"score": {"$gt": 4}},
    {"score": {"$gte": 4.5}},
    {"score": {"$lt": 3}},
    {"score": {"$lte": "3"}},
    {"score": {"$gt": 0, "$lt": 5}},
    {"score": {"$gte": True}},
    {"n": 1},
    {"n": True},
    {"n": {"$eq": 1.0}},
    {"n": {"$ne": 1}},
    {"tags": []},
    {"tags": {}},
    {"tags": ["x", "y"]},
    {"tags": ["x"]},
    {"tags": [[]]},
    {"tags": {"$eq": []}},
    {"tags": {"$ne": []}},
    {"meta": {}},
    {"meta": []},
    {"meta": {"k": 1}},
    {"meta": {"k": {"$gte": 1}}},  # TypeError: float(None) for b, whose meta is {}
    {"score": {"$gte": 1}, "meta": {"k": {"$gte": 1}}},
    {"meta": {"$eq": {"k": 1}}},
    {"meta": {"j": [1, {}]}},
    {"meta": {"$eq": {"k": 1, "j": [1, {}]}}},
    {"color": "red", "n": 1},
    {"missing": None},
    {"missing": "x"},
]


@pytest.mark.parametrize("filter", FILTERS, ids=[repr(f) for f in FILTERS])
async def test_filters_match_in_memory_store(store: AsyncRedisStore, filter: Any) -> None:
    model = InMemoryStore()
    for ns, key, value in FILTER_ITEMS:
        await put_both(store, model, ns, key, value)
    for prefix in [(), ("f",), ("f", "sub")]:
        expected = await outcome(model, prefix, filter=filter, limit=100)
        assert await outcome(store, prefix, filter=filter, limit=100) == expected


@pytest.mark.parametrize(
    ("filter", "error"),
    [
        ({"color": {"$gt": 1}}, ValueError),  # float("red")
        ({"missing": {"$lt": 1}}, TypeError),  # float(None)
        ({"tags": {"$gt": 1}}, TypeError),  # float(list)
        ({"score": {"$gt": "high"}}, ValueError),  # float("high") of the filter's side
        ({"score": {"$in": [1]}}, ValueError),  # unsupported operator
    ],
)
async def test_filters_raise_as_in_memory_store(
    store: AsyncRedisStore, filter: Any, error: type[Exception]
) -> None:
    model = InMemoryStore()
    for ns, key, value in FILTER_ITEMS:
        await put_both(store, model, ns, key, value)
    with pytest.raises(error):
        await model.asearch((), filter=filter, limit=100)
    with pytest.raises(error):
        await store.asearch((), filter=filter, limit=100)


async def test_numeric_strings_compare_as_python_floats(store: AsyncRedisStore) -> None:
    model = InMemoryStore()
    texts = [" 1_000 ", "1e3", "+1000.0", "-inf", "nan", "Infinity", ".5", "5.", "0x10", "1__0"]
    for i, text in enumerate(texts):
        await put_both(store, model, ("s",), str(i), {"x": text})
    for op in ("$gt", "$gte", "$lt", "$lte"):
        flt = {"x": {op: 999}}
        expected = await outcome(model, ("s",), filter=flt, limit=100)
        assert expected is ValueError  # "0x10"
        assert await outcome(store, ("s",), filter=flt, limit=100) == expected
    ok = texts[:8]
    for i, text in enumerate(ok):
        await put_both(store, model, ("ok",), str(i), {"x": text})
    for op in ("$gt", "$gte", "$lt", "$lte"):
        flt = {"x": {op: 999}}
        assert view(await store.asearch(("ok",), filter=flt, limit=100)) == view(
            await model.asearch(("ok",), filter=flt, limit=100)
        )


# ---------------------------------------------------------------------- pagination


async def test_pagination_is_exact(sliced_store: AsyncRedisStore) -> None:
    store = sliced_store
    model = InMemoryStore()
    for n in range(7):
        for k in range(n % 3 + 1):
            await put_both(store, model, ("p", f"ns{n}"), f"k{k}", {"n": n, "k": k})
    for limit in (0, 1, 2, 5, 100):
        for offset in (0, 1, 3, 7, 13, 20):
            for flt in (None, {"k": 0}, {"n": {"$gte": 3}}):
                ours = await store.asearch(("p",), filter=flt, limit=limit, offset=offset)
                theirs = await model.asearch(("p",), filter=flt, limit=limit, offset=offset)
                assert view(ours) == view(theirs), (limit, offset, flt)


# ---------------------------------------------------------------------- namespaces

NAMESPACES = [
    ("a", "b", "c"),
    ("a", "b", "d", "e"),
    ("a", "b", "d", "i"),
    ("a", "b", "f"),
    ("a", "c", "f"),
    ("b", "a", "f"),
    ("users", "123"),
    ("users", "456", "settings"),
    ("admin", "users", "789"),
    ("a",),
]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"prefix": ("a",)},
        {"prefix": ("a", "b")},
        {"prefix": ("a", "*", "f")},
        {"prefix": ("*", "users")},
        {"suffix": ("f",)},
        {"suffix": ("*", "f")},
        {"prefix": ("a",), "suffix": ("f",)},
        {"prefix": ("a", "b"), "max_depth": 3},
        {"max_depth": 1},
        {"max_depth": 2},
        {"max_depth": 0},
        {"prefix": ("a",), "max_depth": 2, "limit": 2},
        {"max_depth": 2, "limit": 3, "offset": 2},
        {"limit": 3, "offset": 4},
        {"offset": 100},
        {"limit": 0},
        {"prefix": ("nope",)},
        {"suffix": ("a", "b", "c", "d", "e")},
    ],
    ids=repr,
)
async def test_list_namespaces_matches_in_memory_store(
    sliced_store: AsyncRedisStore, kwargs: dict[str, Any]
) -> None:
    store = sliced_store
    model = InMemoryStore()
    for i, ns in enumerate(NAMESPACES):
        await put_both(store, model, ns, "k", {"i": i})
    assert await store.alist_namespaces(**kwargs) == await model.alist_namespaces(**kwargs)


async def test_list_namespaces_pages_over_many(sliced_store: AsyncRedisStore) -> None:
    store = sliced_store
    ops = [PutOp(("users", f"u{i:04}", "memories"), "k", {"i": i}) for i in range(600)]
    ops += [PutOp(("docs", f"d{i}"), "k", {"i": i}) for i in range(5)]
    await store.abatch(ops)
    assert await store.alist_namespaces(max_depth=1) == [("docs",), ("users",)]
    page = await store.alist_namespaces(prefix=("users",), limit=10, offset=295)
    assert page == [("users", f"u{i:04}", "memories") for i in range(295, 305)]
    assert len(await store.alist_namespaces(suffix=("memories",), limit=1000)) == 600


# ---------------------------------------------------------------------- TTL

TTL_MS = 400


async def test_default_ttl_expires_items_everywhere(
    make_store: StoreFactory, budget: ScriptBudget | None
) -> None:
    async with make_store(ttl={"default_ttl": TTL_MS / 60_000}, script_budget=budget) as store:
        await store.aput(("t",), "gone", {"v": 1})
        await store.aput(("t",), "kept", {"v": 2}, ttl=None)
        await store.aput(("other",), "gone", {"v": 3})
        assert len(await store.asearch(())) == 3
        await asleep(TTL_MS / 1000 + 0.3)
        assert await store.aget(("t",), "gone") is None
        assert [i.key for i in await store.asearch(())] == ["kept"]
        assert await store.alist_namespaces() == [("t",)]
        item = await store.aget(("t",), "kept")
        assert item is not None and item.value == {"v": 2}


async def test_per_item_ttl_and_refresh_on_read(make_store: StoreFactory) -> None:
    async with make_store(ttl={"refresh_on_read": True}) as store:
        minutes = TTL_MS / 60_000
        await store.aput(("t",), "read", {"v": 1}, ttl=minutes)
        await store.aput(("t",), "searched", {"v": 2}, ttl=minutes)
        await store.aput(("t",), "untouched", {"v": 3}, ttl=minutes)
        await store.aput(("t",), "not-refreshed", {"v": 4}, ttl=minutes)
        await asleep(TTL_MS / 1000 / 2)
        assert await store.aget(("t",), "not-refreshed", refresh_ttl=False) is not None
        for _ in range(3):
            assert await store.aget(("t",), "read") is not None
            found = await store.asearch(("t",), filter={"v": 2})
            assert [i.key for i in found] == ["searched"]
            await asleep(TTL_MS / 1000 / 2)
        assert await store.aget(("t",), "untouched", refresh_ttl=False) is None
        assert await store.aget(("t",), "not-refreshed", refresh_ttl=False) is None
        assert {i.key for i in await store.asearch(("t",))} == {"read", "searched"}


async def test_put_without_ttl_clears_the_expiry(make_store: StoreFactory) -> None:
    async with make_store() as store:
        await store.aput(("t",), "k", {"v": 1}, ttl=TTL_MS / 60_000)
        await store.aput(("t",), "k", {"v": 2})
        await asleep(TTL_MS / 1000 + 0.2)
        item = await store.aget(("t",), "k")
        assert item is not None and item.value == {"v": 2}


async def test_expired_items_leave_nothing_behind(
    make_store: StoreFactory, budget: ScriptBudget | None
) -> None:
    async with make_store(index=INDEX, script_budget=budget) as store:
        await store.abatch(
            [
                PutOp(("t", f"n{i}"), f"k{j}", {"text": f"word{j} other"}, ttl=TTL_MS / 60_000)
                for i in range(5)
                for j in range(5)
            ]
        )
        await asleep(TTL_MS / 1000 + 0.2)
        assert await store.asweep_ttl() == 25
        base = store._sk.base
        assert await keys_of(store) <= {base + b"schema", base + b"vmode", base + b"seq"}


async def test_sliced_sweeps_and_listings_of_many_expired_items(make_store: StoreFactory) -> None:
    async with make_store(script_budget=ScriptBudget(store_items=8)) as store:
        minutes = TTL_MS / 60_000
        await store.abatch(
            [PutOp(("gone", f"n{i}"), "k", {"i": i}, ttl=minutes) for i in range(30)]
        )
        await store.abatch([PutOp(("kept",), f"k{i}", {"i": i}) for i in range(5)])
        await asleep(TTL_MS / 1000 + 0.2)
        calls = count_calls(store)
        # listing must not see a namespace whose items all expired: they are swept first, a few
        # per call (an expired item costs all 8 units), then the namespaces are listed
        assert await store.alist_namespaces() == [("kept",)]
        assert calls[0] >= 30
        assert await store.asweep_ttl() == 0
    async with make_store(script_budget=ScriptBudget(store_items=8)) as store:
        await store.abatch(
            [PutOp(("gone", f"n{i}"), "k", {"i": i}, ttl=minutes) for i in range(30)]
        )
        await asleep(TTL_MS / 1000 + 0.2)
        calls = count_calls(store)
        assert await store.asweep_ttl() == 30
        assert calls[0] > 1
        assert [i.key for i in await store.asearch(())] == [f"k{i}" for i in range(5)]


async def test_a_batch_over_the_budget_goes_on_in_slices(make_store: StoreFactory) -> None:
    model = InMemoryStore(index=INDEX)  # type: ignore[arg-type]
    ops = [
        PutOp(("ns", f"n{i % 4}"), f"k{i}", {"text": f"word{i % 3} cat n{i}", "i": i})
        for i in range(40)
    ]
    reads = [
        SearchOp(("ns",), filter={"i": {"$gte": 30}}, limit=5, offset=2),
        ListNamespacesOp(match_conditions=(MatchCondition("suffix", ("n3",)),), limit=10),
        SearchOp(("ns",), query="word1 cat", limit=4, offset=3),
        GetOp(("ns", "n1"), "k1"),
        SearchOp((), limit=100),
    ]
    # writes after the reads: a sliced read never sees them, they land with the last slice
    writes = [PutOp(("ns", "n0"), "k0", None), PutOp(("new",), "x", {"text": "cat", "i": 99})]
    await model.abatch(ops)
    expected = await model.abatch([*reads, *writes])
    for store_items, sliced in ((None, False), (1, True), (3, True), (50, True)):
        budget = ScriptBudget(store_items=store_items) if store_items else None
        async with make_store(index=INDEX, script_budget=budget) as store:
            await store.abatch([PutOp(o.namespace, o.key, None) for o in [*ops, *writes]])
            await store.abatch(ops)
            calls = count_calls(store)
            got = await store.abatch([*reads, *writes])
            assert (calls[0] > 1) == sliced, (store_items, calls)
            for ours, theirs in zip(got, expected, strict=True):
                if isinstance(theirs, list) and theirs and isinstance(theirs[0], Item):
                    assert view(ours) == view(theirs), store_items  # type: ignore[arg-type]
                elif isinstance(theirs, Item):
                    assert isinstance(ours, Item) and ours.value == theirs.value
                else:
                    assert ours == theirs, store_items
            assert await store.aget(("ns", "n0"), "k0") is None
            assert await store.alist_namespaces(prefix=("new",)) == [("new",)]


async def test_ttl_validation(make_store: StoreFactory) -> None:
    with pytest.raises(ValueError):
        async with make_store(ttl={"default_ttl": -1}):
            pass
    with pytest.raises(ValueError):
        async with make_store(ttl={"bogus": 1}):
            pass
    async with make_store() as store:
        assert store.supports_ttl
        with pytest.raises(ValueError):
            await store.aput(("t",), "k", {"v": 1}, ttl=0)


# ---------------------------------------------------------------------- semantic search

DOCS = [
    ("memories", "u1"),
    ("memories", "u2"),
    ("memories", "u1", "work"),
    ("docs",),
]
TEXTS = [
    "the cat sat on the mat",
    "dogs chase cats",
    "python programming language",
    "redis is an in memory database",
    "the quick brown fox",
    "cats and dogs living together",
    "vector search in redis",
    "memory of the cat",
    "",
    "programming redis with python",
]
QUERIES = ["cat", "redis python", "dogs and cats", "nothing matches zzz", "the"]


async def _fill_semantic(store: AsyncRedisStore, model: InMemoryStore) -> None:
    ops: list[PutOp] = []
    for i, text in enumerate(TEXTS):
        ns = DOCS[i % len(DOCS)]
        if i == 4:
            value: dict[str, Any] = {"title": "no text field", "i": i}
        elif i == 5:
            value = {"text": text, "extra": ["a cat", "a dog"], "i": i}
        else:
            value = {"text": text, "i": i}
        index: Any = None
        if i == 5:
            index = ["text", "extra[*]"]
        elif i == 6:
            index = False
        ops.append(PutOp(ns, f"doc{i}", value, index=index))
    await store.abatch(ops)
    await model.abatch(ops)


@pytest.mark.parametrize("vector_sets", [False, True], ids=["exact-scan", "vector-sets-if-any"])
async def test_semantic_search_ranks_as_in_memory_store(
    make_store: StoreFactory, vector_sets: bool, budget: ScriptBudget | None
) -> None:
    model = InMemoryStore(index=INDEX)  # type: ignore[arg-type]
    async with make_store(index=INDEX, vector_sets=vector_sets, script_budget=budget) as store:
        await _fill_semantic(store, model)
        await same_semantic_searches(
            store,
            model,
            QUERIES,
            [(), ("memories",), ("memories", "u1"), ("docs",)],
            [(10, 0), (3, 0), (3, 2), (2, 7), (20, 5)],
            [None, {"i": {"$gte": 2}}],
        )


async def test_reindexing_replaces_vectors(make_store: StoreFactory) -> None:
    async with make_store(index=INDEX) as store:
        await store.aput(("d",), "k", {"text": "cat"})
        await store.aput(("d",), "other", {"text": "dog"})
        found = await store.asearch(("d",), query="cat")
        assert found[0].key == "k"
        await store.aput(("d",), "k", {"text": "dog dog"})
        found = await store.asearch(("d",), query="cat")
        assert all(i.score == 0.0 for i in found)
        await store.aput(("d",), "k", {"text": "cat"}, index=False)
        found = await store.asearch(("d",), query="cat")
        assert [(i.key, i.score) for i in found] == [("other", 0.0), ("k", None)]


async def test_query_without_index_is_a_plain_search(store: AsyncRedisStore) -> None:
    await store.aput(("d",), "a", {"text": "cat"})
    await store.aput(("d",), "b", {"text": "dog"})
    found = await store.asearch(("d",), query="dog")
    assert [(i.key, i.score) for i in found] == [("a", None), ("b", None)]


async def test_embedding_dimension_mismatch_is_an_error(make_store: StoreFactory) -> None:
    async with make_store(index={**INDEX, "dims": DIMS + 1}) as store:
        with pytest.raises(ValueError, match="dimensions"):
            await store.aput(("d",), "a", {"text": "cat"})


def _redis8_binary() -> str | None:
    """A Redis 8 server binary (vector sets), if scripts/redis-servers.py has one."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "redis-servers.py"
    try:
        done = subprocess.run(
            [sys.executable, str(script), "path", "8.0"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.strip().splitlines()
    path = lines[-1] if done.returncode == 0 and lines else ""
    return path if os.path.isabs(path) and os.access(path, os.X_OK) else None


@pytest.fixture(scope="module")
def redis8() -> Iterator[RedisServer]:
    binary = _redis8_binary()
    if binary is None:
        pytest.skip("no Redis 8 binary (python scripts/redis-servers.py ensure 8.0)")
    server = RedisServer(binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def vsim_calls(admin: Redis) -> int:
    # Redis 8 reports its built-in module commands in capitals ("cmdstat_VSIM")
    stats = {k.lower(): v for k, v in admin.info("commandstats").items()}
    return int(stats.get("cmdstat_vsim", {}).get("calls", 0))


async def test_vector_sets_rank_as_in_memory_store(
    redis8: RedisServer, key_prefix: str, budget: ScriptBudget | None
) -> None:
    admin = Redis.from_url(redis8.url)
    model = InMemoryStore(index=INDEX)  # type: ignore[arg-type]
    words = ["cat", "dog", "redis", "python", "memory", "fox", "vector", "search", "tea", "sun"]
    ops = []
    for i in range(400):
        text = " ".join(words[(i * p) % len(words)] for p in (1, 3, 7) if (i // p) % 2 == 0)
        ns = ("big",) if i % 8 else ("small", str(i % 3))
        ops.append(PutOp(ns, f"k{i}", {"text": text or "empty", "i": i}))
    async with AsyncRedisStore.from_conn_string(
        redis8.url,
        key_prefix=key_prefix,
        index=INDEX,  # type: ignore[arg-type]
        script_budget=budget,
    ) as store:
        await store.asetup()
        assert store.vector_sets is True
        await store.abatch(ops)  # one batch, many equal texts (embedded once each)
        for op in ops:  # InMemoryStore mismatches vectors when a batch repeats a text
            await model.abatch([op])
        before = vsim_calls(admin)
        await same_semantic_searches(
            store,
            model,
            ["cat dog", "redis python vector", "tea", "sun fox memory"],
            [(), ("big",)],
            [(10, 0), (5, 10), (1, 0)],
            [None, {"i": {"$lt": 200}}],
        )
        assert vsim_calls(admin) > before  # the big namespace went through its vector set
        # deleting items takes their vectors out of the set
        vsets = {k for k in await keys_of(store) if k.startswith(store._sk.base + b"vs:")}
        assert len(vsets) == 4  # one per namespace
        await store.abatch([PutOp(("big",), f"k{i}", None) for i in range(400) if i % 8])
        vsets = {k for k in await keys_of(store) if k.startswith(store._sk.base + b"vs:")}
        assert len(vsets) == 3
    admin.close()


# ---------------------------------------------------------------------- graphs


class MemoryState(TypedDict):
    user: str
    remember: str
    recalled: list[str]


async def write_memory(state: MemoryState, *, store: BaseStore) -> dict[str, Any]:
    if state["remember"]:
        text = state["remember"]
        await store.aput(("memories", state["user"]), text, {"text": text})
    return {}


def recall(state: MemoryState, runtime: Runtime[None]) -> dict[str, Any]:
    assert runtime.store is not None
    found = runtime.store.search(("memories", state["user"]), limit=50)
    return {"recalled": sorted(i.value["text"] for i in found)}


async def test_graph_threads_share_memories(make_store: StoreFactory, make_saver: Any) -> None:
    builder = StateGraph(MemoryState)
    builder.add_node("write_memory", write_memory)
    builder.add_node("recall", recall)
    builder.add_edge(START, "write_memory")
    builder.add_edge("write_memory", "recall")
    async with make_store() as store, make_saver() as saver:
        graph = builder.compile(checkpointer=saver, store=store)
        first = {"configurable": {"thread_id": "thread-1"}}
        out = await graph.ainvoke({"user": "ann", "remember": "likes tea", "recalled": []}, first)
        assert out["recalled"] == ["likes tea"]
        second = {"configurable": {"thread_id": "thread-2"}}
        out = await graph.ainvoke({"user": "ann", "remember": "", "recalled": []}, second)
        assert out["recalled"] == ["likes tea"]
        out = await graph.ainvoke({"user": "bob", "remember": "", "recalled": []}, second)
        assert out["recalled"] == []
    # a new store instance (own client) sees the memory too
    async with make_store() as other:
        item = await other.aget(("memories", "ann"), "likes tea")
        assert item is not None and item.value == {"text": "likes tea"}


# ---------------------------------------------------------------------- setup and options


async def test_setup_is_idempotent_and_checks_the_schema(make_store: StoreFactory) -> None:
    from aredis_ckpt import SchemaVersionError

    async with make_store() as store:
        await store.asetup()
        await store._redis.set(store._sk.schema, b"99")
        with pytest.raises(SchemaVersionError):
            await store.asetup()


async def test_store_and_saver_share_a_prefix(make_store: StoreFactory, make_saver: Any) -> None:
    async with make_store() as store, make_saver() as saver:
        await store.aput(("a",), "k", {"v": 1})
        assert await saver.aget_tuple({"configurable": {"thread_id": "a"}}) is None
        item = await store.aget(("a",), "k")
        assert item is not None
