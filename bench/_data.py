"""Checkpoints, metadata and writes for the per-operation workload, shaped like a real agent's.

:class:`Template` runs the benchmark agent for five turns (20 messages, about 9 KB serialized)
with an ``InMemorySaver`` and keeps its latest checkpoint; :class:`ThreadWriter` then produces
checkpoints from it for any saver: a fresh id, the ``messages`` and ``branch:to:agent``
versions bumped through that saver's own ``get_next_version``, and the 20-message list as the
new ``messages`` value, so every ``put`` stores a 9 KB value as the agent would.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from _graphs import build_agent, text, turn_input
from langchain_core.messages import AIMessage
from langgraph.checkpoint.base import copy_checkpoint
from langgraph.checkpoint.base.id import uuid6

CHANGED = ("messages", "branch:to:agent")


@dataclass
class Template:
    checkpoint: dict[str, Any]
    messages: list[Any]
    write_message: Any

    @classmethod
    def build(cls, turns: int = 5) -> Template:
        from langgraph.checkpoint.memory import InMemorySaver

        saver = InMemorySaver()
        graph = build_agent(saver)
        config = {"configurable": {"thread_id": "template"}}
        for turn in range(turns):
            graph.invoke(turn_input(turn), config)
        tup = saver.get_tuple(config)
        assert tup is not None
        cp = copy_checkpoint(tup.checkpoint)
        messages = list(cp["channel_values"]["messages"])
        import random

        write_message = AIMessage(content=text(random.Random(1), 250), id="ai-write")
        return cls(cp, messages, write_message)


def conf(thread_id: str, checkpoint_id: str | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
    if checkpoint_id is not None:
        c["checkpoint_id"] = checkpoint_id
    return {"configurable": c}


@dataclass
class ThreadWriter:
    """Appends checkpoints (and one task's writes each) to one thread of one saver."""

    template: Template
    saver: Any  # any saver of the backend, used only for get_next_version
    thread_id: str
    step: int = 0
    version: str | None = None
    last_config: dict[str, Any] | None = None
    ids: list[str] = field(default_factory=list)

    def next_put(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
        """(config, checkpoint, metadata, new_versions) of the next put."""
        self.version = self.saver.get_next_version(self.version, None)
        cp = copy_checkpoint(self.template.checkpoint)
        cp["id"] = str(uuid6(clock_seq=self.step))
        cp["channel_values"] = {"messages": self.template.messages}
        versions = dict(cp["channel_versions"])
        for ch in CHANGED:
            versions[ch] = self.version
        cp["channel_versions"] = versions
        metadata = {"source": "loop", "step": self.step, "parents": {}}
        new_versions = dict.fromkeys(CHANGED, self.version)
        if self.step == 0:
            # the thread's first put stores every version its checkpoint references (a version
            # never stored would read as a damaged thread, docs/reliability.md)
            new_versions = {**versions, **new_versions}
        config = self.last_config or conf(self.thread_id)
        self.step += 1
        return config, cp, metadata, new_versions

    def stored(self, config: dict[str, Any]) -> None:
        self.last_config = config
        self.ids.append(config["configurable"]["checkpoint_id"])

    def next_writes(self) -> tuple[dict[str, Any], list[tuple[str, Any]], str]:
        """(config, writes, task_id): the agent node's output against the latest checkpoint."""
        assert self.last_config is not None
        writes = [("messages", [self.template.write_message]), ("branch:to:tools", None)]
        return self.last_config, writes, str(uuid.uuid4())

    # ---------------------------------------------------------------- filling (sync API)

    def fill(self, sync_saver: Any, depth: int, *, writes: bool = True) -> None:
        for _ in range(depth):
            config, cp, md, nv = self.next_put()
            self.stored(sync_saver.put(config, cp, md, nv))
            if writes:
                wc, w, task = self.next_writes()
                sync_saver.put_writes(wc, w, task)
