"""A graph with a ``Send`` fan-out and a subgraph that interrupts, for the migration tests:
interrupted, its thread holds pending sends, writes with task paths, and subgraph namespaces.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send, interrupt
from typing_extensions import TypedDict


class Review(TypedDict, total=False):
    answer: str


class Flow(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    answer: str


def _ask(state: Review) -> dict[str, Any]:
    return {"answer": interrupt({"question": "approve?"})}


def _plan(state: Flow) -> dict[str, Any]:
    return {"log": ["plan"]}


def _fan_out(state: Flow) -> list[Send]:
    return [Send("work", {"log": [f"item {i}"]}) for i in range(3)]


def _work(state: Flow) -> dict[str, Any]:
    return {"log": [f"worked {state['log'][-1]}"]}


def flow() -> Any:
    """plan -> Send x3 -> work -> review (a subgraph that asks for approval)."""
    review = StateGraph(Review)
    review.add_node("ask", _ask)
    review.add_edge(START, "ask")
    builder = StateGraph(Flow)
    builder.add_node("plan", _plan)
    builder.add_node("work", _work)
    builder.add_node("review", review.compile())
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", _fan_out, ["work"])
    builder.add_edge("work", "review")
    builder.add_edge("review", END)
    return builder
