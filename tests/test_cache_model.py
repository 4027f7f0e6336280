"""Model-based test: ``RedisCache`` against LangGraph's ``InMemoryCache``, driven by Hypothesis.

A ``RuleBasedStateMachine`` runs random sequences of set batches (TTL None, long, fractional,
zero or negative), get batches, ``clear()`` and ``clear(namespaces)`` on both caches, with
namespaces and keys from a nasty alphabet (separators, braces, ``%`` escapes, NUL, the empty
namespace and empty labels), and requires identical answers.  After every step every key the
run has touched is read from both.  At the end ``clear()`` must leave nothing under the prefix
but the buckets' generation keys.

TTLs that would expire during the run are left to the TTL tests (they need real waiting);
here an entry either outlives the run or is expired when set (TTL <= 0).
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from langgraph.cache.memory import InMemoryCache

from aredis_ckpt import RedisCache

# AREDIS_CACHE_MODEL_EXAMPLES=2000 for a longer hunt
MAX_EXAMPLES = int(os.environ.get("AREDIS_CACHE_MODEL_EXAMPLES") or 40)
STEPS = 25

LABELS = ["", "a", "b", ":", "a:b", "{x}", "%C", "%3A", "\x00", "é漢🙂", "*", "a b"]
namespaces = st.lists(st.sampled_from(LABELS), max_size=3).map(tuple)
keys = st.sampled_from(["", "k", ":", "\x00", "%", "k:1", "é", "{k}"])
full_keys = st.tuples(namespaces, keys)
values = st.one_of(
    st.integers(-3, 3),
    st.text(max_size=4),
    st.binary(max_size=4),
    st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 2), max_size=2),
    st.none(),
)
ttls = st.sampled_from([None, None, 3600, 3600.5, 10**9, 0, -1, -0.25])


def make_machine(url: str, saver_kwargs: dict[str, Any], stats: dict[str, int]) -> type:
    class CacheMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            stats["examples"] += 1
            self.prefix = f"cmodel-{uuid.uuid4().hex[:12]}"
            self.cache: RedisCache[Any] = RedisCache(url, key_prefix=self.prefix, **saver_kwargs)
            # small slices, so that clears loop within the run
            self.cache.CLEAR_BUDGET = 48
            self.cache.COLLECT_BUDGET = 3
            self.model: InMemoryCache[Any] = InMemoryCache()
            self.touched: set[tuple[tuple[str, ...], str]] = set()

        def teardown(self) -> None:
            try:
                self.cache.clear()
                found = [
                    k for k in self.cache._redis.scan_iter(match=self.prefix + ":*", count=1000)
                ]
                assert all(k.endswith(b"}:g") for k in found), found
            finally:
                self.cache.close()

        @rule(pairs=st.dictionaries(full_keys, st.tuples(values, ttls), max_size=6))
        def set(self, pairs: dict[Any, Any]) -> None:
            stats["sets"] += 1
            self.cache.set(pairs)
            self.model.set(pairs)
            self.touched |= set(pairs)

        @rule(asked=st.lists(full_keys, max_size=6))
        def get(self, asked: list[Any]) -> None:
            stats["gets"] += 1
            assert self.cache.get(asked) == self.model.get(asked)

        @rule(spaces=st.one_of(st.none(), st.lists(namespaces, max_size=4)))
        def clear(self, spaces: list[tuple[str, ...]] | None) -> None:
            stats["clears"] += 1
            self.cache.clear(spaces)
            self.model.clear(spaces)

        @invariant()
        def same_content(self) -> None:
            everything = sorted(self.touched)
            assert self.cache.get(everything) == self.model.get(everything)

    return CacheMachine


def test_redis_cache_behaves_like_in_memory_cache(
    redis_url: str, saver_kwargs: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    stats = {"examples": 0, "sets": 0, "gets": 0, "clears": 0}
    machine = make_machine(redis_url, saver_kwargs, stats)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=MAX_EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    with capsys.disabled():
        print(
            f"\ncache model test: {stats['examples']} examples, {stats['sets']} sets, "
            f"{stats['gets']} gets, {stats['clears']} clears"
        )
    assert stats["sets"] > 0 and stats["clears"] > 0
