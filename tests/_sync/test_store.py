# This file is generated from tests/_async/test_store.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
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
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
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

from aredis_ckpt import RedisStore, ScriptBudget
from aredis_ckpt._compat import sleep
from aredis_ckpt._server import RedisServer

StoreFactory = Callable[..., AbstractContextManager[RedisStore]]

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

    @contextmanager
    def factory(**kwargs: Any) -> Iterator[RedisStore]:
        kwargs = {"key_prefix": key_prefix, **saver_kwargs, **kwargs}
        with RedisStore.from_conn_string(redis_url, **kwargs) as store:
            store.setup()
            yield store

    return factory


@pytest.fixture
def store(make_store: StoreFactory) -> Iterator[RedisStore]:
    with make_store() as s:
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
def sliced_store(make_store: StoreFactory, budget: ScriptBudget | None) -> Iterator[RedisStore]:
    with make_store(script_budget=budget) as s:
        yield s


def count_calls(store: RedisStore) -> list[int]:
    """Count the store's script calls from now on (in the returned list's only element)."""
    counter = [0]
    inner = store._eval

    def counted(*args: Any) -> Any:
        counter[0] += 1
        return inner(*args)

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


def outcome(target: BaseStore, prefix: tuple[str, ...], **kwargs: Any) -> Any:
    """The view of a search's result, or the type of the exception it raised."""
    try:
        return view(target.search(prefix, **kwargs))
    except (TypeError, ValueError) as exc:
        return type(exc)


def same_semantic_searches(
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
                    ours = outcome(store, prefix, **kwargs)
                    theirs = outcome(model, prefix, **kwargs)
                    assert ours == theirs, (query, prefix, limit, offset, flt)


def keys_of(store: RedisStore) -> set[bytes]:
    found = set()
    pattern = store._sk.base + b"*"
    for key in store._redis.scan_iter(match=pattern):
        found.add(key)
    return found


def put_both(
    store: RedisStore, model: InMemoryStore, ns: tuple[str, ...], key: str, value: Any
) -> None:
    store.put(ns, key, value)
    model.put(ns, key, value)


# ---------------------------------------------------------------------- basics


def test_put_get_delete(store: RedisStore) -> None:
    assert store.get(("users", "u1"), "prefs") is None
    store.put(("users", "u1"), "prefs", {"theme": "dark", "n": [1, 2.5, None, True]})
    item = store.get(("users", "u1"), "prefs")
    assert item is not None
    assert item.namespace == ("users", "u1") and item.key == "prefs"
    assert item.value == {"theme": "dark", "n": [1, 2.5, None, True]}
    assert item.created_at == item.updated_at
    assert item.created_at.tzinfo is not None
    store.put(("users", "u1"), "prefs", {"theme": "light"})
    again = store.get(("users", "u1"), "prefs")
    assert again is not None and again.value == {"theme": "light"}
    assert again.updated_at >= item.updated_at
    store.delete(("users", "u1"), "prefs")
    assert store.get(("users", "u1"), "prefs") is None
    assert store.list_namespaces() == []
    # nothing left but the prefix's bookkeeping
    base = store._sk.base
    assert keys_of(store) <= {base + b"schema", base + b"vmode", base + b"seq"}


def test_odd_namespaces_and_keys(store: RedisStore) -> None:
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
        put_both(store, model, ns, key, {"i": i})
    for ns, key in odd:
        assert view([store.get(ns, key)]) == view([model.get(ns, key)])  # type: ignore[list-item]
    assert store.list_namespaces() == model.list_namespaces()
    assert view(store.search((), limit=50)) == view(model.search((), limit=50))
    assert view(store.search(("a",))) == view(model.search(("a",)))


@pytest.mark.parametrize(
    "namespace",
    [("a.b",), ("",), ("a", ""), ("a\x00",), ("a", 1)],
)
def test_invalid_namespaces_are_rejected(store: RedisStore, namespace: Any) -> None:
    with pytest.raises(InvalidNamespaceError):
        store.put(namespace, "k", {"v": 1})
    with pytest.raises(InvalidNamespaceError):
        store.batch([GetOp(namespace, "k")])
    with pytest.raises(InvalidNamespaceError):
        store.batch([SearchOp(namespace)])
    with pytest.raises(InvalidNamespaceError):
        store.batch([PutOp(namespace, "k", {"v": 1})])
    with pytest.raises(InvalidNamespaceError):
        store.list_namespaces(prefix=namespace)


def test_put_rejects_what_langgraph_rejects(store: RedisStore) -> None:
    with pytest.raises(InvalidNamespaceError):
        store.put((), "k", {"v": 1})
    with pytest.raises(InvalidNamespaceError):
        store.put(("langgraph", "x"), "k", {"v": 1})
    with pytest.raises(TypeError):
        store.put(("a",), "k", {"when": object()})
    with pytest.raises(TypeError):
        store.put(("a",), "k", {"nested": {1: "int key"}})
    with pytest.raises(ValueError):
        store.batch([SearchOp(("a",), limit=-1)])
    with pytest.raises(ValueError):
        store.batch([ListNamespacesOp(offset=-1)])
    with pytest.raises(ValueError):
        store.batch([ListNamespacesOp((MatchCondition("middle", ("a",)),))])  # type: ignore[arg-type]


# ---------------------------------------------------------------------- batches


def test_batch_reads_before_writes_and_last_put_wins(sliced_store: RedisStore) -> None:
    store = sliced_store
    model = InMemoryStore()
    put_both(store, model, ("n",), "old", {"v": 0})
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
    ours = store.batch(ops)
    theirs = model.batch(ops)
    assert len(ours) == len(ops)
    assert ours[0] is None and ours[2] is None and ours[4] is None and ours[5] is None
    assert ours[1] is None  # the batch's own put is not visible to its reads
    assert view(ours[3]) == view(theirs[3]) == [(("n",), "old", {"v": 0}, None)]  # type: ignore[arg-type]
    assert ours[6] == theirs[6] == [("n",)]
    assert view([ours[7]]) == view([theirs[7]])  # type: ignore[list-item]
    # a is stored once, with the last value, at the place of its first put
    after = store.search(("n",))
    assert view(after) == view(model.search(("n",)))
    assert [i.key for i in after] == ["a", "b"]
    assert after[0].value == {"v": 3}
    assert store.batch([]) == []


def test_emptying_and_refilling_a_namespace_in_one_batch_keeps_its_place(
    store: RedisStore,
) -> None:
    model = InMemoryStore()
    put_both(store, model, ("first",), "k", {"v": 1})
    put_both(store, model, ("second",), "k", {"v": 2})
    ops = [PutOp(("first",), "k", None), PutOp(("first",), "k2", {"v": 3})]
    store.batch(ops)
    model.batch(ops)
    assert view(store.search(())) == view(model.search(()))


def test_search_order_is_namespace_then_insertion(sliced_store: RedisStore) -> None:
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
        put_both(store, model, ns, key, {"k": key})
    for prefix in [(), ("a",), ("b",), ("a", "x"), ("c",)]:
        assert view(store.search(prefix)) == view(model.search(prefix))
    # a namespace emptied and refilled moves to the end (it stops existing in between)
    store.delete(("b",), "z")
    store.delete(("b",), "a")
    store.put(("b",), "again", {"k": "again"})
    assert [i.namespace for i in store.search(())][-1] == ("b",)


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
def test_filters_match_in_memory_store(store: RedisStore, filter: Any) -> None:
    model = InMemoryStore()
    for ns, key, value in FILTER_ITEMS:
        put_both(store, model, ns, key, value)
    for prefix in [(), ("f",), ("f", "sub")]:
        expected = outcome(model, prefix, filter=filter, limit=100)
        assert outcome(store, prefix, filter=filter, limit=100) == expected


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
def test_filters_raise_as_in_memory_store(
    store: RedisStore, filter: Any, error: type[Exception]
) -> None:
    model = InMemoryStore()
    for ns, key, value in FILTER_ITEMS:
        put_both(store, model, ns, key, value)
    with pytest.raises(error):
        model.search((), filter=filter, limit=100)
    with pytest.raises(error):
        store.search((), filter=filter, limit=100)


def test_numeric_strings_compare_as_python_floats(store: RedisStore) -> None:
    model = InMemoryStore()
    texts = [" 1_000 ", "1e3", "+1000.0", "-inf", "nan", "Infinity", ".5", "5.", "0x10", "1__0"]
    for i, text in enumerate(texts):
        put_both(store, model, ("s",), str(i), {"x": text})
    for op in ("$gt", "$gte", "$lt", "$lte"):
        flt = {"x": {op: 999}}
        expected = outcome(model, ("s",), filter=flt, limit=100)
        assert expected is ValueError  # "0x10"
        assert outcome(store, ("s",), filter=flt, limit=100) == expected
    ok = texts[:8]
    for i, text in enumerate(ok):
        put_both(store, model, ("ok",), str(i), {"x": text})
    for op in ("$gt", "$gte", "$lt", "$lte"):
        flt = {"x": {op: 999}}
        assert view(store.search(("ok",), filter=flt, limit=100)) == view(
            model.search(("ok",), filter=flt, limit=100)
        )


# ---------------------------------------------------------------------- pagination


def test_pagination_is_exact(sliced_store: RedisStore) -> None:
    store = sliced_store
    model = InMemoryStore()
    for n in range(7):
        for k in range(n % 3 + 1):
            put_both(store, model, ("p", f"ns{n}"), f"k{k}", {"n": n, "k": k})
    for limit in (0, 1, 2, 5, 100):
        for offset in (0, 1, 3, 7, 13, 20):
            for flt in (None, {"k": 0}, {"n": {"$gte": 3}}):
                ours = store.search(("p",), filter=flt, limit=limit, offset=offset)
                theirs = model.search(("p",), filter=flt, limit=limit, offset=offset)
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
def test_list_namespaces_matches_in_memory_store(
    sliced_store: RedisStore, kwargs: dict[str, Any]
) -> None:
    store = sliced_store
    model = InMemoryStore()
    for i, ns in enumerate(NAMESPACES):
        put_both(store, model, ns, "k", {"i": i})
    assert store.list_namespaces(**kwargs) == model.list_namespaces(**kwargs)


def test_list_namespaces_pages_over_many(sliced_store: RedisStore) -> None:
    store = sliced_store
    ops = [PutOp(("users", f"u{i:04}", "memories"), "k", {"i": i}) for i in range(600)]
    ops += [PutOp(("docs", f"d{i}"), "k", {"i": i}) for i in range(5)]
    store.batch(ops)
    assert store.list_namespaces(max_depth=1) == [("docs",), ("users",)]
    page = store.list_namespaces(prefix=("users",), limit=10, offset=295)
    assert page == [("users", f"u{i:04}", "memories") for i in range(295, 305)]
    assert len(store.list_namespaces(suffix=("memories",), limit=1000)) == 600


# ---------------------------------------------------------------------- TTL

TTL_MS = 400


def test_default_ttl_expires_items_everywhere(
    make_store: StoreFactory, budget: ScriptBudget | None
) -> None:
    with make_store(ttl={"default_ttl": TTL_MS / 60_000}, script_budget=budget) as store:
        store.put(("t",), "gone", {"v": 1})
        store.put(("t",), "kept", {"v": 2}, ttl=None)
        store.put(("other",), "gone", {"v": 3})
        assert len(store.search(())) == 3
        sleep(TTL_MS / 1000 + 0.3)
        assert store.get(("t",), "gone") is None
        assert [i.key for i in store.search(())] == ["kept"]
        assert store.list_namespaces() == [("t",)]
        item = store.get(("t",), "kept")
        assert item is not None and item.value == {"v": 2}


def test_per_item_ttl_and_refresh_on_read(make_store: StoreFactory) -> None:
    with make_store(ttl={"refresh_on_read": True}) as store:
        minutes = TTL_MS / 60_000
        store.put(("t",), "read", {"v": 1}, ttl=minutes)
        store.put(("t",), "searched", {"v": 2}, ttl=minutes)
        store.put(("t",), "untouched", {"v": 3}, ttl=minutes)
        store.put(("t",), "not-refreshed", {"v": 4}, ttl=minutes)
        sleep(TTL_MS / 1000 / 2)
        assert store.get(("t",), "not-refreshed", refresh_ttl=False) is not None
        for _ in range(3):
            assert store.get(("t",), "read") is not None
            found = store.search(("t",), filter={"v": 2})
            assert [i.key for i in found] == ["searched"]
            sleep(TTL_MS / 1000 / 2)
        assert store.get(("t",), "untouched", refresh_ttl=False) is None
        assert store.get(("t",), "not-refreshed", refresh_ttl=False) is None
        assert {i.key for i in store.search(("t",))} == {"read", "searched"}


def test_put_without_ttl_clears_the_expiry(make_store: StoreFactory) -> None:
    with make_store() as store:
        store.put(("t",), "k", {"v": 1}, ttl=TTL_MS / 60_000)
        store.put(("t",), "k", {"v": 2})
        sleep(TTL_MS / 1000 + 0.2)
        item = store.get(("t",), "k")
        assert item is not None and item.value == {"v": 2}


def test_expired_items_leave_nothing_behind(
    make_store: StoreFactory, budget: ScriptBudget | None
) -> None:
    with make_store(index=INDEX, script_budget=budget) as store:
        store.batch(
            [
                PutOp(("t", f"n{i}"), f"k{j}", {"text": f"word{j} other"}, ttl=TTL_MS / 60_000)
                for i in range(5)
                for j in range(5)
            ]
        )
        sleep(TTL_MS / 1000 + 0.2)
        assert store.sweep_ttl() == 25
        base = store._sk.base
        assert keys_of(store) <= {base + b"schema", base + b"vmode", base + b"seq"}


def test_sliced_sweeps_and_listings_of_many_expired_items(make_store: StoreFactory) -> None:
    with make_store(script_budget=ScriptBudget(store_items=8)) as store:
        minutes = TTL_MS / 60_000
        store.batch([PutOp(("gone", f"n{i}"), "k", {"i": i}, ttl=minutes) for i in range(30)])
        store.batch([PutOp(("kept",), f"k{i}", {"i": i}) for i in range(5)])
        sleep(TTL_MS / 1000 + 0.2)
        calls = count_calls(store)
        # listing must not see a namespace whose items all expired: they are swept first, a few
        # per call (an expired item costs all 8 units), then the namespaces are listed
        assert store.list_namespaces() == [("kept",)]
        assert calls[0] >= 30
        assert store.sweep_ttl() == 0
    with make_store(script_budget=ScriptBudget(store_items=8)) as store:
        store.batch([PutOp(("gone", f"n{i}"), "k", {"i": i}, ttl=minutes) for i in range(30)])
        sleep(TTL_MS / 1000 + 0.2)
        calls = count_calls(store)
        assert store.sweep_ttl() == 30
        assert calls[0] > 1
        assert [i.key for i in store.search(())] == [f"k{i}" for i in range(5)]


def test_a_batch_over_the_budget_goes_on_in_slices(make_store: StoreFactory) -> None:
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
    model.batch(ops)
    expected = model.batch([*reads, *writes])
    for store_items, sliced in ((None, False), (1, True), (3, True), (50, True)):
        budget = ScriptBudget(store_items=store_items) if store_items else None
        with make_store(index=INDEX, script_budget=budget) as store:
            store.batch([PutOp(o.namespace, o.key, None) for o in [*ops, *writes]])
            store.batch(ops)
            calls = count_calls(store)
            got = store.batch([*reads, *writes])
            assert (calls[0] > 1) == sliced, (store_items, calls)
            for ours, theirs in zip(got, expected, strict=True):
                if isinstance(theirs, list) and theirs and isinstance(theirs[0], Item):
                    assert view(ours) == view(theirs), store_items  # type: ignore[arg-type]
                elif isinstance(theirs, Item):
                    assert isinstance(ours, Item) and ours.value == theirs.value
                else:
                    assert ours == theirs, store_items
            assert store.get(("ns", "n0"), "k0") is None
            assert store.list_namespaces(prefix=("new",)) == [("new",)]


def test_ttl_validation(make_store: StoreFactory) -> None:
    with pytest.raises(ValueError):
        with make_store(ttl={"default_ttl": -1}):
            pass
    with pytest.raises(ValueError):
        with make_store(ttl={"bogus": 1}):
            pass
    with make_store() as store:
        assert store.supports_ttl
        with pytest.raises(ValueError):
            store.put(("t",), "k", {"v": 1}, ttl=0)


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


def _fill_semantic(store: RedisStore, model: InMemoryStore) -> None:
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
    store.batch(ops)
    model.batch(ops)


@pytest.mark.parametrize("vector_sets", [False, True], ids=["exact-scan", "vector-sets-if-any"])
def test_semantic_search_ranks_as_in_memory_store(
    make_store: StoreFactory, vector_sets: bool, budget: ScriptBudget | None
) -> None:
    model = InMemoryStore(index=INDEX)  # type: ignore[arg-type]
    with make_store(index=INDEX, vector_sets=vector_sets, script_budget=budget) as store:
        _fill_semantic(store, model)
        same_semantic_searches(
            store,
            model,
            QUERIES,
            [(), ("memories",), ("memories", "u1"), ("docs",)],
            [(10, 0), (3, 0), (3, 2), (2, 7), (20, 5)],
            [None, {"i": {"$gte": 2}}],
        )


def test_reindexing_replaces_vectors(make_store: StoreFactory) -> None:
    with make_store(index=INDEX) as store:
        store.put(("d",), "k", {"text": "cat"})
        store.put(("d",), "other", {"text": "dog"})
        found = store.search(("d",), query="cat")
        assert found[0].key == "k"
        store.put(("d",), "k", {"text": "dog dog"})
        found = store.search(("d",), query="cat")
        assert all(i.score == 0.0 for i in found)
        store.put(("d",), "k", {"text": "cat"}, index=False)
        found = store.search(("d",), query="cat")
        assert [(i.key, i.score) for i in found] == [("other", 0.0), ("k", None)]


def test_query_without_index_is_a_plain_search(store: RedisStore) -> None:
    store.put(("d",), "a", {"text": "cat"})
    store.put(("d",), "b", {"text": "dog"})
    found = store.search(("d",), query="dog")
    assert [(i.key, i.score) for i in found] == [("a", None), ("b", None)]


def test_embedding_dimension_mismatch_is_an_error(make_store: StoreFactory) -> None:
    with make_store(index={**INDEX, "dims": DIMS + 1}) as store:
        with pytest.raises(ValueError, match="dimensions"):
            store.put(("d",), "a", {"text": "cat"})


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


def test_vector_sets_rank_as_in_memory_store(
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
    with RedisStore.from_conn_string(
        redis8.url,
        key_prefix=key_prefix,
        index=INDEX,  # type: ignore[arg-type]
        script_budget=budget,
    ) as store:
        store.setup()
        assert store.vector_sets is True
        store.batch(ops)  # one batch, many equal texts (embedded once each)
        for op in ops:  # InMemoryStore mismatches vectors when a batch repeats a text
            model.batch([op])
        before = vsim_calls(admin)
        same_semantic_searches(
            store,
            model,
            ["cat dog", "redis python vector", "tea", "sun fox memory"],
            [(), ("big",)],
            [(10, 0), (5, 10), (1, 0)],
            [None, {"i": {"$lt": 200}}],
        )
        assert vsim_calls(admin) > before  # the big namespace went through its vector set
        # deleting items takes their vectors out of the set
        vsets = {k for k in keys_of(store) if k.startswith(store._sk.base + b"vs:")}
        assert len(vsets) == 4  # one per namespace
        store.batch([PutOp(("big",), f"k{i}", None) for i in range(400) if i % 8])
        vsets = {k for k in keys_of(store) if k.startswith(store._sk.base + b"vs:")}
        assert len(vsets) == 3
    admin.close()


# ---------------------------------------------------------------------- graphs


class MemoryState(TypedDict):
    user: str
    remember: str
    recalled: list[str]


def write_memory(state: MemoryState, *, store: BaseStore) -> dict[str, Any]:
    if state["remember"]:
        text = state["remember"]
        store.put(("memories", state["user"]), text, {"text": text})
    return {}


def recall(state: MemoryState, runtime: Runtime[None]) -> dict[str, Any]:
    assert runtime.store is not None
    found = runtime.store.search(("memories", state["user"]), limit=50)
    return {"recalled": sorted(i.value["text"] for i in found)}


def test_graph_threads_share_memories(make_store: StoreFactory, make_saver: Any) -> None:
    builder = StateGraph(MemoryState)
    builder.add_node("write_memory", write_memory)
    builder.add_node("recall", recall)
    builder.add_edge(START, "write_memory")
    builder.add_edge("write_memory", "recall")
    with make_store() as store, make_saver() as saver:
        graph = builder.compile(checkpointer=saver, store=store)
        first = {"configurable": {"thread_id": "thread-1"}}
        out = graph.invoke({"user": "ann", "remember": "likes tea", "recalled": []}, first)
        assert out["recalled"] == ["likes tea"]
        second = {"configurable": {"thread_id": "thread-2"}}
        out = graph.invoke({"user": "ann", "remember": "", "recalled": []}, second)
        assert out["recalled"] == ["likes tea"]
        out = graph.invoke({"user": "bob", "remember": "", "recalled": []}, second)
        assert out["recalled"] == []
    # a new store instance (own client) sees the memory too
    with make_store() as other:
        item = other.get(("memories", "ann"), "likes tea")
        assert item is not None and item.value == {"text": "likes tea"}


# ---------------------------------------------------------------------- setup and options


def test_setup_is_idempotent_and_checks_the_schema(make_store: StoreFactory) -> None:
    from aredis_ckpt import SchemaVersionError

    with make_store() as store:
        store.setup()
        store._redis.set(store._sk.schema, b"99")
        with pytest.raises(SchemaVersionError):
            store.setup()


def test_store_and_saver_share_a_prefix(make_store: StoreFactory, make_saver: Any) -> None:
    with make_store() as store, make_saver() as saver:
        store.put(("a",), "k", {"v": 1})
        assert saver.get_tuple({"configurable": {"thread_id": "a"}}) is None
        item = store.get(("a",), "k")
        assert item is not None
