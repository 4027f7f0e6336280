"""A deterministic stand-in for the notebooks' ``ChatOpenAI``: no network, no API key.

``FakeWeatherModel`` behaves like a tool-calling chat model in a ReAct loop:

* when the last message is a tool result, it answers in text quoting that result;
* otherwise, if ``get_weather`` is bound and the last human message names ``sf`` or ``nyc``,
  it asks for the tool (one tool call, with a stable id);
* otherwise it answers in text that it can only tell the weather in those two cities.

It supports ``bind_tools`` (as ``create_react_agent`` requires) and both ``invoke`` and
``ainvoke`` (the async path runs the same code).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

__all__ = ["FakeWeatherModel"]

CITIES = ("sf", "nyc")


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(
        part if isinstance(part, str) else str(part.get("text", "")) for part in content
    )


def _bound_tool_names(tools: Sequence[Any]) -> set[str]:
    names: set[str] = set()
    for tool in tools:
        if isinstance(tool, dict) and isinstance(tool.get("function"), dict):
            names.add(str(tool["function"].get("name")))
    return names


class FakeWeatherModel(BaseChatModel):
    """Calls ``get_weather`` for the city in the question, then answers with its result."""

    @property
    def _llm_type(self) -> str:
        return "fake-weather"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        # OpenAI-style tool schemas, as a real provider integration binds them.
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self._reply(messages, _bound_tool_names(kwargs.get("tools") or []))
        return ChatResult(generations=[ChatGeneration(message=reply)])

    @staticmethod
    def _reply(messages: list[BaseMessage], tools: set[str]) -> AIMessage:
        if not messages:
            return AIMessage(content="Ask me about the weather in sf or nyc.")
        last = messages[-1]
        if isinstance(last, ToolMessage):
            return AIMessage(content=f"Here is the weather: {_text(last)}")
        question = next(
            (_text(m).lower() for m in reversed(messages) if isinstance(m, HumanMessage)), ""
        )
        city = next((c for c in CITIES if c in question.replace("?", " ").split()), None)
        if city is None or "get_weather" not in tools:
            return AIMessage(content="I can only tell the weather in sf or nyc.")
        n_calls = sum(1 for m in messages if isinstance(m, AIMessage) and m.tool_calls)
        return AIMessage(
            content="",
            tool_calls=[
                {
                    "name": "get_weather",
                    "args": {"city": city},
                    "id": f"call_get_weather_{n_calls + 1}",
                    "type": "tool_call",
                }
            ],
        )
