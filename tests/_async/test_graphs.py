"""End-to-end LangGraph runs against the saver.

The async tests are the source and unasync generates their sync twin, so everything here
must read true (and run) in both forms: node functions are plain ``def`` (they run under
either invoke style) and any concurrency comes from LangGraph itself (parallel nodes,
``Send`` fan-out), never from the test.
"""

from __future__ import annotations

import operator
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Annotated, Any, Protocol

import pytest
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, Durability, Send, StateSnapshot, interrupt
from typing_extensions import TypedDict

from aredis_ckpt import AsyncRedisSaver
from pairs import skip_async_interrupts

Graph = CompiledStateGraph[Any, Any, Any, Any]


class _SaverContext(Protocol):
    async def __aenter__(self) -> AsyncRedisSaver: ...
    async def __aexit__(self, *exc_info: object) -> bool | None: ...


# `make_saver()` opens a NEW saver instance (own client) on the same server and prefix.
SaverFactory = Callable[[], _SaverContext]


def _cfg(thread_id: str, checkpoint_ns: str | None = None) -> RunnableConfig:
    configurable: dict[str, Any] = {"thread_id": thread_id}
    if checkpoint_ns is not None:
        configurable["checkpoint_ns"] = checkpoint_ns
    return {"configurable": configurable}


def _id(config: RunnableConfig) -> str:
    return str(config["configurable"]["checkpoint_id"])


def _parent_id(item: StateSnapshot | CheckpointTuple) -> str | None:
    return None if item.parent_config is None else _id(item.parent_config)


async def _tuples(saver: AsyncRedisSaver, config: RunnableConfig) -> list[CheckpointTuple]:
    return [t async for t in saver.alist(config)]


async def _history(graph: Graph, config: RunnableConfig, **kw: Any) -> list[StateSnapshot]:
    return [s async for s in graph.aget_state_history(config, **kw)]


# -- graphs -----------------------------------------------------------------------------


class LogState(TypedDict):
    log: Annotated[list[str], operator.add]


def _append(name: str) -> Callable[[LogState], dict[str, list[str]]]:
    def node(state: LogState) -> dict[str, list[str]]:
        return {"log": [name]}

    return node


def _linear(*names: str) -> StateGraph[LogState]:
    builder = StateGraph(LogState)
    previous = START
    for name in names:
        builder.add_node(name, _append(name))
        builder.add_edge(previous, name)
        previous = name
    builder.add_edge(previous, END)
    return builder


def _chat() -> StateGraph[MessagesState]:
    def bot(state: MessagesState) -> dict[str, list[AnyMessage]]:
        return {"messages": [AIMessage(content=f"echo: {state['messages'][-1].content}")]}

    builder = StateGraph(MessagesState)
    builder.add_node("bot", bot)
    builder.add_edge(START, "bot")
    return builder


class TopicState(TypedDict):
    topic: str
    answer: str


class ChildState(TopicState):
    steps: Annotated[list[str], operator.add]


def _nested(child_node: str = "child") -> StateGraph[TopicState]:
    """parent(prepare -> <child_node> -> finish); child(research -> grand); grand(draft)."""
    grand = StateGraph(TopicState)
    grand.add_node("draft", lambda s: {"answer": f"draft on {s['topic']}"})
    grand.add_edge(START, "draft")

    child = StateGraph(ChildState)
    child.add_node("research", lambda s: {"steps": ["research"]})
    child.add_node("grand", grand.compile())
    child.add_edge(START, "research")
    child.add_edge("research", "grand")

    parent = StateGraph(TopicState)
    parent.add_node("prepare", lambda s: {"topic": s["topic"].upper()})
    parent.add_node(child_node, child.compile())
    parent.add_node("finish", lambda s: {"answer": s["answer"] + "!"})
    parent.add_edge(START, "prepare")
    parent.add_edge("prepare", child_node)
    parent.add_edge(child_node, "finish")
    return parent


def _ask_twice(state: TopicState) -> dict[str, str]:
    # Re-executed from the top on every resume; earlier answers are replayed from writes.
    first = interrupt({"question": "first?"})
    second = interrupt({"question": "second?"})
    return {"answer": f"{state['topic']}:{first}+{second}"}


def _asking(in_subgraph: bool) -> StateGraph[TopicState]:
    builder = StateGraph(TopicState)
    if in_subgraph:
        builder.add_node("ask", _asking(in_subgraph=False).compile())
    else:
        builder.add_node("ask", _ask_twice)
    builder.add_node("done", lambda s: {"answer": s["answer"] + "."})
    builder.add_edge(START, "ask")
    builder.add_edge("ask", "done")
    return builder


# -- 1. multi-turn thread continued by a fresh saver instance ------------------------------


async def test_multi_turn_thread_resumed_by_fresh_saver(make_saver: SaverFactory) -> None:
    config = _cfg("chat")
    async with make_saver() as first:
        graph = _chat().compile(checkpointer=first)
        for turn in range(3):
            await graph.ainvoke({"messages": [HumanMessage(content=f"turn {turn}")]}, config)
        before = await graph.aget_state(config)
    assert [m.content for m in before.values["messages"]] == [
        text for t in range(3) for text in (f"turn {t}", f"echo: turn {t}")
    ]

    async with make_saver() as second:
        graph = _chat().compile(checkpointer=second)
        reloaded = await graph.aget_state(config)
        assert reloaded.values == before.values  # same messages, same ids
        assert _id(reloaded.config) == _id(before.config)
        assert reloaded.next == ()
        assert reloaded.metadata == before.metadata

        out = await graph.ainvoke({"messages": [HumanMessage(content="turn 3")]}, config)
        assert [type(m) for m in out["messages"]] == [HumanMessage, AIMessage] * 4
        assert out["messages"][:6] == before.values["messages"]
        assert out["messages"][-1].content == "echo: turn 3"
        older = await graph.aget_state(before.config)
        assert older.values == before.values


async def test_langgraph_hands_an_int_thread_id_to_the_saver_as_a_str(
    saver: AsyncRedisSaver,
) -> None:
    # The saver refuses a thread id that is not a str (test_saver.py); a graph never sends
    # one: LangGraph turns the configurable thread_id into a str first, for every saver.
    graph = _linear("a").compile(checkpointer=saver)
    await graph.ainvoke({"log": []}, {"configurable": {"thread_id": 42}})
    stored = await saver.aget_tuple(_cfg("42"))
    assert stored is not None and stored.config["configurable"]["thread_id"] == "42"


# -- 2. subgraph checkpoints live in their own namespaces -----------------------------------


async def test_subgraph_checkpoints_are_namespaced(saver: AsyncRedisSaver) -> None:
    graph = _nested().compile(checkpointer=saver)
    out = await graph.ainvoke({"topic": "redis", "answer": ""}, _cfg("nested"))
    assert out == {"topic": "REDIS", "answer": "draft on REDIS!"}

    tuples = await _tuples(saver, _cfg("nested"))
    by_ns: dict[str, list[CheckpointTuple]] = {}
    for t in tuples:
        by_ns.setdefault(t.config["configurable"]["checkpoint_ns"], []).append(t)
    root_ids = {_id(t.config) for t in by_ns[""]}
    child_ns = [ns for ns in by_ns if ns.startswith("child:") and "|" not in ns]
    grand_ns = [ns for ns in by_ns if "|grand:" in ns]
    assert len(child_ns) == 1
    assert len(grand_ns) == 1
    assert grand_ns[0].startswith(child_ns[0] + "|")
    assert set(by_ns) == {"", child_ns[0], grand_ns[0]}

    for ns, group in by_ns.items():
        assert all(t.config["configurable"]["thread_id"] == "nested" for t in group)
        # each namespace is its own chain: exactly one root, every parent is in the group
        ids = {_id(t.config) for t in group}
        assert sum(t.parent_config is None for t in group) == 1
        assert all(_parent_id(t) in ids for t in group if t.parent_config)
        if ns:
            # subgraph checkpoints point back at the root checkpoint that spawned them
            assert all(t.metadata["parents"][""] in root_ids for t in group)
        # filtering by namespace returns exactly that group
        assert {_id(t.config) for t in await _tuples(saver, _cfg("nested", ns))} == ids
        latest = await saver.aget_tuple(_cfg("nested", ns))
        assert latest is not None
        assert _id(latest.config) == max(ids)

    child_latest = await saver.aget_tuple(_cfg("nested", child_ns[0]))
    assert child_latest is not None
    assert child_latest.checkpoint["channel_values"]["steps"] == ["research"]
    assert child_latest.checkpoint["channel_values"]["answer"] == "draft on REDIS"


# -- 3. interrupt() + Command(resume=...) with a fresh saver instance -----------------------


@skip_async_interrupts
@pytest.mark.parametrize("in_subgraph", [False, True], ids=["node", "subgraph"])
async def test_interrupt_resumed_by_fresh_saver(
    saver: AsyncRedisSaver, make_saver: SaverFactory, in_subgraph: bool
) -> None:
    config = _cfg(f"ask-{in_subgraph}")
    graph = _asking(in_subgraph).compile(checkpointer=saver)
    out = await graph.ainvoke({"topic": "t", "answer": ""}, config)
    assert [i.value for i in out["__interrupt__"]] == [{"question": "first?"}]
    state = await graph.aget_state(config, subgraphs=True)
    assert state.next == ("ask",)
    assert [i.value for i in state.tasks[0].interrupts] == [{"question": "first?"}]
    if in_subgraph:
        sub = state.tasks[0].state
        assert isinstance(sub, StateSnapshot)
        assert sub.config["configurable"]["checkpoint_ns"].startswith("ask:")
        assert sub.next == ("ask",)
        assert sub.values == {"topic": "t", "answer": ""}

    async with make_saver() as fresh:
        graph = _asking(in_subgraph).compile(checkpointer=fresh)
        out = await graph.ainvoke(Command(resume="A"), config)
        assert [i.value for i in out["__interrupt__"]] == [{"question": "second?"}]
    async with make_saver() as fresh:
        graph = _asking(in_subgraph).compile(checkpointer=fresh)
        out = await graph.ainvoke(Command(resume="B"), config)
        # "done" appends a dot, once per graph level
        assert out == {"topic": "t", "answer": "t:A+B" + ("." * (1 + in_subgraph))}
        assert (await graph.aget_state(config)).next == ()


# -- 4. Send fan-out: many parallel tasks writing against one checkpoint --------------------


class FanState(TypedDict):
    n: int
    results: Annotated[list[int], operator.add]


class Job(TypedDict):
    i: int


def _fan() -> StateGraph[FanState]:
    def worker(job: Job) -> dict[str, list[int]]:
        return {"results": [job["i"] * 7]}

    builder = StateGraph(FanState)
    builder.add_node("plan", lambda s: {})
    builder.add_node("worker", worker)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges(
        "plan", lambda s: [Send("worker", {"i": i}) for i in range(s["n"])], ["worker"]
    )
    builder.add_edge("worker", END)
    return builder


async def test_send_fan_out_writes_every_result_once(saver: AsyncRedisSaver) -> None:
    n = 200
    config = _cfg("fan")
    graph = _fan().compile(checkpointer=saver)
    out = await graph.ainvoke({"n": n, "results": []}, config)
    assert sorted(out["results"]) == [i * 7 for i in range(n)]
    assert (await graph.aget_state(config)).values == out

    history = await _history(graph, config)
    [fan_step] = [s for s in history if s.next and set(s.next) == {"worker"}]
    assert len(fan_step.next) == n
    # the planner's Send packets, saved by one task, keep their order
    assert fan_step.parent_config is not None
    planned = await saver.aget_tuple(fan_step.parent_config)
    assert planned is not None
    sends = [w[2] for w in planned.pending_writes or [] if isinstance(w[2], Send)]
    assert [s.arg["i"] for s in sends] == list(range(n))
    # the workers' results, saved by n separate tasks against the same checkpoint
    fanned = await saver.aget_tuple(fan_step.config)
    assert fanned is not None
    results = [w for w in fanned.pending_writes or [] if w[1] == "results"]
    assert len({w[0] for w in results}) == n
    assert Counter(v for w in results for v in w[2]) == Counter(i * 7 for i in range(n))


# -- 5. history order, replay and update_state forks ----------------------------------------


async def test_history_replay_and_fork(saver: AsyncRedisSaver) -> None:
    config = _cfg("history")
    graph = _linear("a", "b", "c").compile(checkpointer=saver)
    assert await graph.ainvoke({"log": ["in"]}, config) == {"log": ["in", "a", "b", "c"]}

    history = await _history(graph, config)
    assert [s.metadata["step"] for s in history] == [3, 2, 1, 0, -1]
    assert [s.next for s in history] == [(), ("c",), ("b",), ("a",), ("__start__",)]
    ids = [_id(s.config) for s in history]
    assert ids == sorted(ids, reverse=True)  # newest first
    assert [_parent_id(s) for s in history] == [*ids[1:], None]
    assert await _history(graph, config, limit=2) == history[:2]
    assert await _history(graph, config, before=history[1].config) == history[2:]

    # replay: run again from the checkpoint taken after "a"
    after_a = history[2]
    assert after_a.values == {"log": ["in", "a"]}
    assert await graph.ainvoke(None, after_a.config) == {"log": ["in", "a", "b", "c"]}
    replayed = await _history(graph, config)
    new = [s for s in replayed if _id(s.config) not in set(ids)]
    assert new
    assert _parent_id(new[-1]) == _id(after_a.config)  # the branch starts at "a"
    assert _id(replayed[0].config) == _id(new[0].config)  # and is now the head
    assert (await graph.aget_state(history[0].config)).values == history[0].values

    # fork: update the checkpoint taken after "b", as if "b" had written something else
    after_b = history[1]
    fork_config = await graph.aupdate_state(after_b.config, {"log": ["edited"]})
    fork = await graph.aget_state(fork_config)
    assert _parent_id(fork) == _id(after_b.config)
    assert fork.metadata["source"] == "update"
    assert fork.values == {"log": ["in", "a", "b", "edited"]}
    assert fork.next == ("c",)
    updates = await _tuples(saver, config)
    assert [t for t in updates if t.metadata["source"] == "update"] == [
        t async for t in saver.alist(config, filter={"source": "update"})
    ]
    assert await graph.ainvoke(None, fork_config) == {"log": ["in", "a", "b", "edited", "c"]}
    head = await graph.aget_state(config)
    assert _parent_id(head) == _id(fork_config)
    assert (await graph.aget_state(after_b.config)).values == after_b.values


# -- 6. durability modes --------------------------------------------------------------------


def _two_step() -> StateGraph[LogState]:
    def second(state: LogState) -> dict[str, list[str]]:
        return {"log": [f"second:{interrupt('go?')}"]}

    builder = StateGraph(LogState)
    builder.add_node("first", _append("first"))
    builder.add_node("second", second)
    builder.add_edge(START, "first")
    builder.add_edge("first", "second")
    return builder


@skip_async_interrupts
@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
async def test_durability_modes_resume_from_fresh_saver(
    saver: AsyncRedisSaver, make_saver: SaverFactory, durability: Durability
) -> None:
    # the run under test, side by side with a reference run in "sync" mode
    runs: list[tuple[RunnableConfig, Durability]] = [
        (_cfg(f"run-{durability}"), durability),
        (_cfg("reference"), "sync"),
    ]
    graph = _two_step().compile(checkpointer=saver)
    for config, mode in runs:
        out = await graph.ainvoke({"log": ["in"]}, config, durability=mode)
        assert [i.value for i in out["__interrupt__"]] == ["go?"]

    finals: list[dict[str, Any]] = []
    lengths: list[int] = []
    async with make_saver() as fresh:
        graph = _two_step().compile(checkpointer=fresh)
        for config, mode in runs:
            assert (await graph.aget_state(config)).next == ("second",)
            finals.append(await graph.ainvoke(Command(resume="ok"), config, durability=mode))
            assert (await graph.aget_state(config)).next == ()
            lengths.append(len(await _history(graph, config)))
    assert finals[0] == finals[1] == {"log": ["in", "first", "second:ok"]}
    if durability == "exit":
        assert lengths[0] < lengths[1]  # only the checkpoint at each exit is kept
    else:
        assert lengths[0] == lengths[1]


# -- 7. writes of finished tasks survive a failure in the same step -------------------------

CALLS: Counter[tuple[str, str]] = Counter()


def _count(config: RunnableConfig, node: str) -> int:
    key = (config["configurable"]["thread_id"], node)
    CALLS[key] += 1
    return CALLS[key]


def _pair() -> StateGraph[LogState]:
    def a_steady(state: LogState, config: RunnableConfig) -> dict[str, list[str]]:
        _count(config, "a_steady")
        return {"log": ["steady"]}

    def b_flaky(state: LogState, config: RunnableConfig) -> dict[str, list[str]]:
        if _count(config, "b_flaky") == 1:
            raise RuntimeError("flaky failure")
        return {"log": ["flaky"]}

    builder = StateGraph(LogState)
    builder.add_node("a_steady", a_steady)
    builder.add_node("b_flaky", b_flaky)
    builder.add_node("join", _append("join"))
    builder.add_edge(START, "a_steady")
    builder.add_edge(START, "b_flaky")
    builder.add_edge(["a_steady", "b_flaky"], "join")
    return builder


async def test_pending_writes_on_failure(saver: AsyncRedisSaver, make_saver: SaverFactory) -> None:
    tid = f"pending-{uuid.uuid4()}"
    # One task at a time, in node-name order: "a_steady" has finished (and its writes
    # have been handed to the saver) before "b_flaky" starts, with no timing involved.
    config: RunnableConfig = {**_cfg(tid), "max_concurrency": 1}
    graph = _pair().compile(checkpointer=saver)
    with pytest.raises(RuntimeError, match="flaky failure"):
        await graph.ainvoke({"log": ["in"]}, config)

    state = await graph.aget_state(config)
    assert state.next == ("b_flaky",)
    tasks = {t.name: t for t in state.tasks}
    assert tasks["a_steady"].result == {"log": ["steady"]}
    assert "flaky failure" in str(tasks["b_flaky"].error)
    saved = await saver.aget_tuple(state.config)
    assert saved is not None
    assert ("log", ["steady"]) in [(w[1], w[2]) for w in saved.pending_writes or []]

    async with make_saver() as fresh:
        graph = _pair().compile(checkpointer=fresh)
        out = await graph.ainvoke(None, config)
    assert sorted(out["log"]) == ["flaky", "in", "join", "steady"]
    assert CALLS[(tid, "a_steady")] == 1  # not re-executed: its saved writes were reused
    assert CALLS[(tid, "b_flaky")] == 2


# -- 8. awkward thread ids and node names ---------------------------------------------------

NASTY_THREADS = ["a:b{c}*$ \u00e9\u6f22", "a:b{c}*$ \u00e9\u6f22*", "*", "[ab]?\\x", "\t\n\u2028"]
NASTY_NODE = "sub {x}*?[ab]$ \\ \u00e9\u6f22"


async def test_awkward_ids_and_namespaces(saver: AsyncRedisSaver) -> None:
    graph = _nested(child_node=NASTY_NODE).compile(checkpointer=saver)
    counts: dict[str, int] = {}
    for tid in NASTY_THREADS:
        out = await graph.ainvoke({"topic": tid, "answer": ""}, _cfg(tid))
        assert out == {"topic": tid.upper(), "answer": f"draft on {tid.upper()}!"}

    for tid in NASTY_THREADS:
        tuples = await _tuples(saver, _cfg(tid))
        counts[tid] = len(tuples)
        assert {t.config["configurable"]["thread_id"] for t in tuples} == {tid}
        namespaces = {t.config["configurable"]["checkpoint_ns"] for t in tuples}
        [sub_ns] = [ns for ns in namespaces if ns.startswith(NASTY_NODE + ":") and "|" not in ns]
        for ns in ("", sub_ns):
            scoped = await _tuples(saver, _cfg(tid, ns))
            assert scoped
            assert {t.config["configurable"]["checkpoint_ns"] for t in scoped} == {ns}
        root = await saver.aget_tuple(_cfg(tid, ""))
        assert root is not None
        state = await graph.aget_state(_cfg(tid))
        assert _id(root.config) == _id(state.config)
        assert state.values["topic"] == tid.upper()
    assert len(set(counts.values())) == 1  # same graph, same number of checkpoints

    # deleting one thread leaves the others, including look-alike ids, untouched
    await saver.adelete_thread("*")
    assert await _tuples(saver, _cfg("*")) == []
    assert await saver.aget_tuple(_cfg("*")) is None
    for tid in NASTY_THREADS:
        if tid != "*":
            assert len(await _tuples(saver, _cfg(tid))) == counts[tid]
