# This file is generated from tests/_async/test_shallow.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""The shallow saver keeps only the latest checkpoint per namespace, and interrupts still work.

Written once for AsyncShallowRedisSaver; scripts/unasync.py generates the sync twin.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt
from typing_extensions import TypedDict

from aredis_ckpt import ShallowRedisSaver
from aredis_ckpt._compat import RedisCluster
from pairs import skip_sync_interrupts

from .test_saver import cfg, keys_under, make_checkpoint, md, put_chain


@pytest.fixture
def shallow(
    redis_url: str, key_prefix: str, saver_kwargs: dict[str, Any]
) -> Iterator[ShallowRedisSaver]:
    with ShallowRedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, **saver_kwargs
    ) as saver:
        saver.setup()
        yield saver


def test_only_the_latest_checkpoint_per_namespace_is_kept(
    shallow: ShallowRedisSaver,
) -> None:
    root = []
    parent = None
    for i in range(5):
        cp = make_checkpoint({"count": i, "const": "same"}, {"count": i + 1, "const": 1})
        versions = {"count": i + 1, "const": 1} if i == 0 else {"count": i + 1}
        stored = shallow.put(cfg("t", "", parent), cp, md(i, run_id="r1"), versions)
        # as LangGraph does: the step's writes go to the checkpoint just saved
        shallow.put_writes(stored, [("w", cp["id"])], "task")
        parent = cp["id"]
        root.append(stored)
    sub = put_chain(shallow, "t", 3, ns="sub:1")
    listed = [t for t in shallow.list({"configurable": {"thread_id": "t"}})]
    assert sorted(t.config["configurable"]["checkpoint_id"] for t in listed) == sorted(
        [root[-1]["configurable"]["checkpoint_id"], sub[-1]["configurable"]["checkpoint_id"]]
    )
    latest = shallow.get_tuple(cfg("t"))
    assert latest is not None
    # "const" was written once, by the first put, and is still referenced: it must survive
    assert latest.checkpoint["channel_values"] == {"count": 4, "const": "same"}
    assert latest.pending_writes == [("task", "w", root[-1]["configurable"]["checkpoint_id"])]
    assert shallow.get_tuple(root[0]) is None
    keys = shallow._thread("t").all
    assert shallow._redis.hlen(keys[4]) == 4  # count and const, in each namespace
    assert shallow._redis.hlen(keys[7]) == 1
    everywhere = [t for t in shallow.list(None)]
    assert len(everywhere) == 2
    shallow.delete_thread("t")
    assert keys_under(shallow) == [shallow._pk.schema]


def thread_node_stats(saver: ShallowRedisSaver, thread_id: str) -> dict[str, Any]:
    """INFO commandstats of the server holding the thread (its cluster node on a cluster)."""
    client: Any = saver._redis
    key = saver._thread(thread_id).all[0]
    if isinstance(client, RedisCluster):
        node = client.get_node_from_key(key)
        stats = client.info("commandstats", target_nodes=node)
    else:
        stats = client.info("commandstats")
    return {name.lower(): row for name, row in stats.items()}


def test_a_put_costs_its_own_namespace_however_many_the_thread_has(
    shallow: ShallowRedisSaver,
) -> None:
    # subgraphs fanned out: many namespaces of one thread, each with its own values
    for i in range(40):
        put_chain(shallow, "fan", 2, ns=f"sub:{i}")
    keys = shallow._thread("fan").all
    assert shallow._redis.hlen(keys[4]) == 80  # count and const of each
    before = thread_node_stats(shallow, "fan")
    chain = put_chain(shallow, "fan", 3, ns="sub:7")
    after = thread_node_stats(shallow, "fan")
    # what the namespace's superseded checkpoints referenced went; nothing else was looked at
    scans = ("cmdstat_hkeys", "cmdstat_hgetall", "cmdstat_hscan", "cmdstat_hlen")
    for name in scans:
        calls = after.get(name, {}).get("calls", 0) - before.get(name, {}).get("calls", 0)
        assert calls == 0, name
    assert shallow._redis.hlen(keys[4]) == 80
    latest = shallow.get_tuple(chain[-1])
    assert latest is not None
    assert latest.checkpoint["channel_values"] == {"count": 2, "const": "same"}
    for i in (6, 8):
        other = shallow.get_tuple(cfg("fan", f"sub:{i}"))
        assert other is not None
        assert other.checkpoint["channel_values"] == {"count": 1, "const": "same"}


class State(TypedDict):
    answers: list[str]


def ask(state: State) -> dict[str, Any]:
    first = interrupt("first question?")
    second = interrupt("second question?")
    return {"answers": [*state["answers"], first, second]}


def build(checkpointer: Any) -> Any:
    inner = StateGraph(State)
    inner.add_node("ask", ask)
    inner.add_edge(START, "ask")
    inner.add_edge("ask", END)
    outer = StateGraph(State)
    outer.add_node("child", inner.compile())
    outer.add_node("done", lambda s: {"answers": [*s["answers"], "done"]})
    outer.add_edge(START, "child")
    outer.add_edge("child", "done")
    outer.add_edge("done", END)
    return outer.compile(checkpointer=checkpointer)


@skip_sync_interrupts
def test_interrupts_resume_across_fresh_shallow_savers(
    redis_url: str, key_prefix: str, saver_kwargs: dict[str, Any]
) -> None:
    config = {"configurable": {"thread_id": "interrupted"}}
    with ShallowRedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, **saver_kwargs
    ) as saver:
        saver.setup()
        first = build(saver).invoke({"answers": []}, config)
        assert first["__interrupt__"][0].value == "first question?"
    with ShallowRedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, **saver_kwargs
    ) as saver:
        second = build(saver).invoke(Command(resume="one"), config)
        assert second["__interrupt__"][0].value == "second question?"
    with ShallowRedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix, **saver_kwargs
    ) as saver:
        graph = build(saver)
        final = graph.invoke(Command(resume="two"), config)
        assert final == {"answers": ["one", "two", "done"]}
        state = graph.get_state(config)
        assert state.next == ()
        listed = [t for t in saver.list({"configurable": {"thread_id": "interrupted"}})]
        namespaces = [t.config["configurable"]["checkpoint_ns"] for t in listed]
        assert len(namespaces) == len(set(namespaces))  # one checkpoint per namespace
