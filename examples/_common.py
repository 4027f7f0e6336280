"""What the four examples share: the notebooks' tool and agent, the URL, and the printing.

The agent is the one from LangGraph's "custom checkpointer using Redis" notebooks
(``create_react_agent`` with a ``get_weather`` tool), with ``ChatOpenAI`` replaced by the
deterministic ``FakeWeatherModel`` so the examples need no network and no API key.
"""

from __future__ import annotations

import os
import sys
import uuid
import warnings
from collections.abc import Sequence
from typing import Any, Literal

from _fake_model import FakeWeatherModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.base import BaseCheckpointSaver, Checkpoint, CheckpointTuple
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import create_react_agent
from langgraph.warnings import LangGraphDeprecationWarning

__all__ = [
    "build_agent",
    "final_answer",
    "new_thread_config",
    "print_checkpoint",
    "print_history",
    "print_tuple",
    "redis_url_from_env",
]


@tool
def get_weather(city: Literal["nyc", "sf"]) -> str:
    """Use this to get weather information."""
    if city == "nyc":
        return "It might be cloudy in nyc"
    elif city == "sf":
        return "It's always sunny in sf"
    else:
        raise AssertionError("Unknown city")


def redis_url_from_env() -> str:
    """``$REDIS_URL``, or exit with a message saying how to set it."""
    url = os.environ.get("REDIS_URL", "").strip()
    if not url:
        sys.exit(
            "REDIS_URL is not set: point it at a Redis 6.2+ server, e.g.\n"
            "    REDIS_URL=redis://localhost:6379/0 python " + os.path.basename(sys.argv[0])
        )
    return url


def build_agent(checkpointer: BaseCheckpointSaver[Any]) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The notebooks' ReAct agent: a chat model that may call ``get_weather``."""
    # LangGraph 1.0 deprecated create_react_agent in favour of langchain's create_agent; the
    # notebooks use it and it still works, so keep its deprecation notice off the output.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LangGraphDeprecationWarning)
        return create_react_agent(
            FakeWeatherModel(), tools=[get_weather], checkpointer=checkpointer
        )


def new_thread_config(label: str) -> RunnableConfig:
    """A config for a fresh thread (the notebooks use "1".."4"; a unique id keeps reruns apart)."""
    return {"configurable": {"thread_id": f"{label}-{uuid.uuid4().hex[:8]}"}}


def final_answer(result: dict[str, Any]) -> str:
    messages: list[BaseMessage] = result["messages"]
    return str(messages[-1].content)


def _describe(message: BaseMessage) -> str:
    if isinstance(message, AIMessage) and message.tool_calls:
        calls = ", ".join(f"{c['name']}({c['args']})" for c in message.tool_calls)
        return f"{message.type}: tool call {calls}"
    if isinstance(message, ToolMessage):
        return f"{message.type} [{message.name}]: {message.content}"
    return f"{message.type}: {message.content}"


def _print_messages(values: dict[str, Any], indent: str) -> None:
    for message in values.get("messages", []):
        print(f"{indent}{_describe(message)}")


def print_checkpoint(checkpoint: Checkpoint | None) -> None:
    """What ``saver.get(config)`` returned: the latest checkpoint of the thread."""
    print("== latest checkpoint (saver.get) ==")
    if checkpoint is None:
        print("  none")
        return
    print(f"  id: {checkpoint['id']}")
    print(f"  ts: {checkpoint['ts']}")
    print(f"  channel_versions: {sorted(checkpoint['channel_versions'])}")
    print("  messages:")
    _print_messages(checkpoint["channel_values"], "    ")


def print_tuple(tup: CheckpointTuple | None) -> None:
    """What ``saver.get_tuple(config)`` returned: checkpoint, metadata, parent, writes."""
    print("== latest tuple (saver.get_tuple) ==")
    if tup is None:
        print("  none")
        return
    print(f"  config: {tup.config['configurable']}")
    parent = tup.parent_config["configurable"] if tup.parent_config else None
    print(f"  parent_config: {parent}")
    print(f"  metadata: source={tup.metadata.get('source')} step={tup.metadata.get('step')}")
    print(f"  pending_writes: {len(tup.pending_writes or [])}")


def print_history(history: Sequence[CheckpointTuple]) -> None:
    """What ``saver.list(config)`` returned: the thread's checkpoints, newest first."""
    print(f"== history (saver.list): {len(history)} checkpoints ==")
    for tup in history:
        values = tup.checkpoint["channel_values"]
        print(
            f"  step {tup.metadata.get('step')!s:>2} {tup.metadata.get('source')!s:<6} "
            f"{tup.config['configurable']['checkpoint_id']} "
            f"messages={len(values.get('messages', []))}"
        )
