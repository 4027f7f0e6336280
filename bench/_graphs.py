"""The benchmark's graphs and data: a ReAct-style agent with a deterministic fake chat model,
LangGraph's fan-out-to-subgraph shape, and realistic chat messages (about 450 bytes each once
serialized, so a 20-message state is about 9 KB).

The text is real English prose (passages of the Python reference manual that ships with the
standard library, ``pydoc_data.topics``) picked with a seeded RNG: it compresses like chat text
does (PostgreSQL's TOAST compression gets neither an unrealistic advantage from repetitive
filler nor a handicap from random bytes), and every run stores the same bytes.
"""

from __future__ import annotations

import operator
import random
import warnings
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send
from typing_extensions import TypedDict


def _corpus() -> str:
    """Real English prose: the Python reference manual's topics shipped with the stdlib."""
    from pydoc_data.topics import topics

    return " ".join(" ".join(v.split()) for _, v in sorted(topics.items()))


CORPUS = _corpus()

#: Messages per conversation turn: human, AI tool call, tool result, AI answer.
MESSAGES_PER_TURN = 4
#: Checkpoints per turn of the agent: input, agent, tools, agent.
STEPS_PER_TURN = 4


def text(rng: random.Random, n_bytes: int) -> str:
    """``n_bytes`` characters of prose from a random place of :data:`CORPUS`."""
    start = rng.randrange(len(CORPUS) - n_bytes - 200)
    start = CORPUS.find(" ", start) + 1
    return CORPUS[start : start + n_bytes]


def human_text(turn: int, seed: int = 0) -> str:
    rng = random.Random(seed * 100_003 + turn)
    return f"Question {turn}: " + text(rng, 180)


# --------------------------------------------------------------------------- the agent


@tool
def search(query: str) -> str:
    """Search the knowledge base."""
    rng = random.Random(len(query) * 7919 + sum(map(ord, query[:32])))
    return text(rng, 450)


class FakeToolCallingModel(BaseChatModel):
    """A deterministic tool-calling chat model: a human question gets one ``search`` call; a tool
    result gets a text answer of about 250 characters."""

    @property
    def _llm_type(self) -> str:
        return "bench-fake"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        n = len(messages)
        rng = random.Random(n * 31 + 7)
        last = messages[-1] if messages else None
        if isinstance(last, ToolMessage):
            msg = AIMessage(content=text(rng, 250), id=f"ai-{n}-{rng.getrandbits(48):x}")
        else:
            msg = AIMessage(
                content="",
                id=f"ai-{n}-{rng.getrandbits(48):x}",
                tool_calls=[
                    {
                        "name": "search",
                        "args": {"query": text(rng, 100)},
                        "id": f"call_{n}_{rng.getrandbits(32):x}",
                        "type": "tool_call",
                    }
                ],
            )
        return ChatResult(generations=[ChatGeneration(message=msg)])


def build_agent(checkpointer: BaseCheckpointSaver[Any] | None) -> Any:
    """LangGraph's prebuilt ReAct agent (model node + ToolNode loop)."""
    from langgraph.prebuilt import create_react_agent

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return create_react_agent(FakeToolCallingModel(), tools=[search], checkpointer=checkpointer)


def turn_input(turn: int, seed: int = 0) -> dict[str, Any]:
    return {"messages": [HumanMessage(content=human_text(turn, seed), id=f"h-{seed}-{turn}")]}


def conversation_messages(turns: int, seed: int = 0) -> list[BaseMessage]:
    """The messages an agent conversation of ``turns`` turns ends with (no saver involved)."""
    graph = build_agent(None)
    state: dict[str, Any] = {"messages": []}
    for turn in range(turns):
        state = graph.invoke({"messages": state["messages"] + turn_input(turn, seed)["messages"]})
    return list(state["messages"])


# --------------------------------------------------------------------------- fan-out


class Overall(TypedDict):
    subjects: list[str]
    jokes: Annotated[list[str], operator.add]


class JokeInput(TypedDict):
    subject: str


class JokeOutput(TypedDict):
    jokes: list[str]


class JokeState(JokeInput, JokeOutput): ...


def build_fanout(checkpointer: BaseCheckpointSaver[Any]) -> Any:
    """LangGraph's fan-out-to-subgraph benchmark shape: the parent ``Send``s every subject to a
    subgraph (edit -> generate -> bump until ten bumps), which inherits the checkpointer, so
    each of the N subgraph runs checkpoints every step in its own namespace."""

    async def edit(state: JokeInput) -> dict[str, Any]:
        return {"subject": f"{state['subject']} - edited"}

    async def generate(state: JokeInput) -> dict[str, Any]:
        return {"jokes": [f"A joke about {state['subject']}"]}

    async def bump(state: JokeOutput) -> dict[str, Any]:
        return {"jokes": [state["jokes"][0] + " a"]}

    def bump_loop(state: JokeOutput) -> str:
        return END if state["jokes"][0].endswith(" a" * 10) else "bump"

    def fan_out(state: Overall) -> list[Send]:
        return [Send("generate_joke", {"subject": s}) for s in state["subjects"]]

    sub = StateGraph(JokeState, input_schema=JokeInput, output_schema=JokeOutput)
    sub.add_node("edit", edit)
    sub.add_node("generate", generate)
    sub.add_node("bump", bump)
    sub.add_edge(START, "edit")
    sub.add_edge("edit", "generate")
    sub.add_edge("generate", "bump")
    sub.add_conditional_edges("bump", bump_loop)
    parent = StateGraph(Overall)
    parent.add_node("generate_joke", sub.compile())
    parent.add_conditional_edges(START, fan_out)
    parent.add_edge("generate_joke", END)
    return parent.compile(checkpointer=checkpointer)


def fanout_input(n: int) -> dict[str, Any]:
    rng = random.Random(n)
    return {"subjects": [text(rng, 40) for _ in range(n)]}


Factory = Callable[[BaseCheckpointSaver[Any]], Any]
