"""Model-based test: ``RedisStore`` against LangGraph's ``InMemoryStore``, driven by Hypothesis.

A ``RuleBasedStateMachine`` runs random sequences of put / delete / get / search (filters,
pages, semantic queries) / list_namespaces and mixed batches on both stores, with namespaces
and keys from a nasty alphabet, and requires identical answers: values, order, scores,
namespaces.  After every step the whole content is compared (a search over everything and the
namespace list); at the end everything is deleted and only the prefix's bookkeeping may remain.

``ModelStore`` is ``InMemoryStore`` with three intended differences made explicit:

* a namespace exists while it holds items: ``InMemoryStore`` keeps every namespace it ever
  touched, even by a ``get`` or after its last delete, in ``list_namespaces`` and in its search
  order.  The model forgets empty namespaces after each batch (so a namespace emptied and
  refilled in one batch keeps its place, as in ours);
* a put replaces the item's vectors: ``InMemoryStore`` keeps vectors of paths the new value no
  longer has (or all of them with ``index=False``);
* equal texts in one batch: ``InMemoryStore`` pairs vectors with texts by position and fails
  when a batch repeats a text; the model pairs them by text.

Timestamps come from the server clock and are checked on their own (created == updated, as
``InMemoryStore`` sets both on every put).
"""

from __future__ import annotations

import os
import uuid
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from langgraph.store.base import (
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchOp,
)
from langgraph.store.memory import InMemoryStore
from redis.cluster import RedisCluster

from aredis_ckpt import RedisStore, ScriptBudget

# AREDIS_STORE_MODEL_EXAMPLES=2000 for a longer hunt
MAX_EXAMPLES = int(os.environ.get("AREDIS_STORE_MODEL_EXAMPLES") or 100)
STEPS = 30
DIMS = 8
WORDS = ["cat", "dog", "redis", "tea", "sun", "fox"]


def fake_embed(texts: Sequence[str]) -> list[list[float]]:
    vectors = []
    for text in texts:
        v = [0.0] * DIMS
        for word in text.lower().split():
            v[zlib.crc32(word.encode()) % DIMS] += 1.0
        vectors.append(v)
    return vectors


INDEX: Any = {"dims": DIMS, "embed": fake_embed, "fields": ["text"]}


class ModelStore(InMemoryStore):
    """InMemoryStore with the differences of the module docstring made explicit."""

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        try:
            return super().batch(list(ops))
        finally:
            for ns in [ns for ns, items in self._data.items() if not items]:
                del self._data[ns]
                self._vectors.pop(ns, None)

    def _prepare_ops(self, ops: Iterable[Op]) -> Any:
        # InMemoryStore's, except that a get does not create the namespace it reads
        results: list[Result] = []
        put_ops: dict[tuple[tuple[str, ...], str], PutOp] = {}
        search_ops: dict[int, Any] = {}
        for i, op in enumerate(ops):
            if isinstance(op, GetOp):
                items = self._data.get(op.namespace)
                results.append(items.get(op.key) if items else None)
            elif isinstance(op, SearchOp):
                search_ops[i] = (op, self._filter_items(op))
                results.append(None)
            elif isinstance(op, ListNamespacesOp):
                results.append(self._handle_list_namespaces(op))
            else:
                assert isinstance(op, PutOp)
                put_ops[(op.namespace, op.key)] = op
                results.append(None)
        return results, put_ops, search_ops

    def _apply_put_ops(self, put_ops: dict[tuple[tuple[str, ...], str], PutOp]) -> None:
        # InMemoryStore's, except that deleting a missing item does not create its namespace
        missing = {
            (ns, key)
            for (ns, key), op in put_ops.items()
            if op.value is None and ns not in self._data
        }
        super()._apply_put_ops({k: op for k, op in put_ops.items() if k not in missing})

    def _extract_texts(self, put_ops: Any) -> Any:
        for ns, key in put_ops:
            self._vectors[ns].pop(key, None)
        return super()._extract_texts(put_ops)

    def _insertinmem_store(self, to_embed: Any, embeddings: list[list[float]]) -> None:
        for vector, targets in zip(embeddings, to_embed.values(), strict=True):
            for ns, key, path in targets:
                self._vectors[ns][key][path] = vector


# ---------------------------------------------------------------------- strategies

LABELS = ["a", "b", "a b", ":", "{x}", "*", "é", "漢🙂", "%S", "a\x01", "z"]
labels = st.sampled_from(LABELS)
namespaces = st.lists(labels, min_size=1, max_size=3).map(tuple)
prefixes = st.lists(labels, max_size=2).map(tuple)
patterns = st.lists(st.sampled_from([*LABELS[:4], "*"]), min_size=1, max_size=3).map(tuple)
keys = st.sampled_from(["k", "", "k:1", "\x00", "é", "K"])
texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)
numbers = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0.5, -1.5, 2.0, True, False, "3", " 2.5 ", "1_0", "-inf"]),
)
TAGS: list[Any] = ["x", "y", "", None, True, 1, 1.0, 0, [], {}, ["x"], {"k": 1}, [[]], [{}]]
tags = st.sampled_from(TAGS)
values = st.fixed_dictionaries(
    {"n": numbers},
    optional={
        "text": texts,
        "tag": tags,
        "tags": st.lists(st.sampled_from(WORDS), max_size=2),
        "nested": st.fixed_dictionaries({}, optional={"k": tags, "n": numbers}),
    },
)
indexes = st.sampled_from([None, None, False, ["tag"], ["text", "tags[*]"], ["nested.k"]])
COMPARE = ["$gt", "$gte", "$lt", "$lte"]
filter_entries = st.one_of(
    st.tuples(st.just("n"), numbers),
    st.tuples(st.just("n"), st.dictionaries(st.sampled_from(COMPARE), numbers, min_size=1)),
    st.tuples(st.just("n"), st.dictionaries(st.sampled_from(["$eq", "$ne"]), numbers)),
    st.tuples(st.sampled_from(["tag", "missing"]), tags),
    st.tuples(st.just("tag"), st.dictionaries(st.sampled_from(["$eq", "$ne"]), tags, min_size=1)),
    st.tuples(st.just("text"), st.one_of(texts, st.fixed_dictionaries({"$ne": texts}))),
    st.tuples(st.just("tags"), st.lists(st.sampled_from(WORDS), max_size=2)),
    st.tuples(st.just("nested"), st.fixed_dictionaries({}, optional={"k": tags})),
    st.tuples(
        st.just("nested"),
        st.fixed_dictionaries({"n": st.dictionaries(st.sampled_from(COMPARE), numbers)}),
    ),
)
filters = st.one_of(st.none(), st.lists(filter_entries, max_size=2).map(dict))
pages = st.tuples(st.integers(0, 6), st.integers(0, 6))
queries = st.one_of(st.none(), st.none(), texts, st.just("zzz"))

put_ops = st.builds(lambda n, k, v, i: PutOp(n, k, v, i), namespaces, keys, values, indexes)
delete_ops = st.builds(lambda n, k: PutOp(n, k, None), namespaces, keys)
get_ops = st.builds(lambda n, k: GetOp(n, k), namespaces, keys)
search_ops = st.builds(
    lambda p, f, page, q: SearchOp(p, f, page[0], page[1], q), prefixes, filters, pages, queries
)
conditions = st.lists(
    st.builds(lambda t, p: MatchCondition(t, p), st.sampled_from(["prefix", "suffix"]), patterns),
    max_size=2,
).map(tuple)
list_ops = st.builds(
    lambda c, d, page: ListNamespacesOp(c, d, page[0] + 1, page[1]),
    conditions,
    st.one_of(st.none(), st.integers(0, 3)),
    pages,
)
any_op = st.one_of(put_ops, put_ops, delete_ops, get_ops, search_ops, list_ops)


# ---------------------------------------------------------------------- comparison


def view(result: Any) -> Any:
    if isinstance(result, Item):
        score = getattr(result, "score", None)
        rounded = None if score is None else round(score, 12)
        return (tuple(result.namespace), result.key, result.value, rounded)
    if isinstance(result, list):
        return [view(r) for r in result]
    return result


def check_timestamps(result: Any) -> None:
    items = result if isinstance(result, list) else [result]
    for item in items:
        if isinstance(item, Item):
            assert item.created_at == item.updated_at


def make_machine(url: str, saver_kwargs: dict[str, Any], stats: dict[str, int]) -> type:
    """The state machine; ``saver_kwargs`` may carry a ``script_budget`` for the store."""

    class StoreMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            stats["examples"] += 1
            self.prefix = f"smodel-{uuid.uuid4().hex[:12]}"
            self.store = RedisStore(url, key_prefix=self.prefix, index=INDEX, **saver_kwargs)
            self.store.setup()
            self.model = ModelStore(index=INDEX)

        def teardown(self) -> None:
            try:
                items = self.store.search((), limit=10_000)
                self.store.batch([PutOp(i.namespace, i.key, None) for i in items])
                assert self.store.search((), limit=10) == []
                assert self.store.list_namespaces() == []
                if not isinstance(self.store._redis, RedisCluster):
                    found = set(self.store._redis.scan_iter(match=self.prefix + ":*"))
                    base = self.store._sk.base
                    assert found <= {base + b"schema", base + b"vmode", base + b"seq"}, found
            finally:
                self.store.close()

        def run(self, ops: list[Op]) -> None:
            stats["steps"] += 1
            for op in ops:
                stats[type(op).__name__] = stats.get(type(op).__name__, 0) + 1
            try:
                expected: Any = view(self.model.batch(ops))
            except (TypeError, ValueError) as exc:
                expected = type(exc)
            raised: type[Exception] | None = None
            try:
                got = self.store.batch(ops)
            except (TypeError, ValueError) as exc:
                raised = type(exc)
            if raised is not None:
                assert raised is expected, ops
                return
            if expected in (TypeError, ValueError):
                # InMemoryStore evaluates a filter on every item of the prefix; ours stops once
                # the page is full, so an item the filter cannot compare (float(None)) past the
                # page raises there only.  Our batch went through: apply its writes to the model.
                assert any(isinstance(op, SearchOp) and op.filter for op in ops), ops
                key = "filter errors past the page"
                stats[key] = stats.get(key, 0) + 1
                self.model.batch([op for op in ops if isinstance(op, PutOp)])
                return
            for result in got:
                check_timestamps(result)
            assert view(got) == expected, ops

        @rule(op=put_ops)
        def put(self, op: PutOp) -> None:
            self.run([op])

        @rule(op=delete_ops)
        def delete(self, op: PutOp) -> None:
            self.run([op])

        @rule(op=get_ops)
        def get(self, op: GetOp) -> None:
            self.run([op])

        @rule(op=search_ops)
        def search(self, op: SearchOp) -> None:
            self.run([op])

        @rule(op=list_ops)
        def list_namespaces(self, op: ListNamespacesOp) -> None:
            self.run([op])

        @rule(ops=st.lists(any_op, min_size=1, max_size=6))
        def batch(self, ops: list[Op]) -> None:
            self.run(ops)

        @invariant()
        def same_content(self) -> None:
            everything = SearchOp((), limit=10_000)
            spaces = ListNamespacesOp(limit=10_000)
            assert view(self.store.batch([everything, spaces])) == view(
                self.model.batch([everything, spaces])
            )

    return StoreMachine


# None: the default budget (every step fits one script); 2: a store script reads at most two
# items or namespaces, so searches and list_namespaces go on over many calls (issue #13)
@pytest.mark.parametrize("store_items", [None, 2], ids=["one-script", "sliced"])
def test_redis_store_behaves_like_in_memory_store(
    redis_url: str,
    saver_kwargs: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    store_items: int | None,
) -> None:
    stats = {"examples": 0, "steps": 0}
    kwargs = dict(saver_kwargs)
    if store_items is not None:
        kwargs["script_budget"] = ScriptBudget(store_items=store_items)
    machine = make_machine(redis_url, kwargs, stats)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=MAX_EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    with capsys.disabled():
        ops = ", ".join(
            f"{k}={v}" for k, v in sorted(stats.items()) if k not in ("examples", "steps")
        )
        print(f"\nstore model test: {stats['examples']} examples, {stats['steps']} steps ({ops})")
    assert stats["steps"] > 0
