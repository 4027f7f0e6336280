"""``aredis-ckpt demo``: a multi-turn graph that stops, resumes from Redis, and shows its
history.

With ``REDIS_URL`` (or ``--url``) the demo uses that server and deletes its demo thread
afterwards; otherwise it starts a throwaway ``redis-server`` on a free loopback port and
removes it at the end.  It needs ``langgraph`` (graphs are not a dependency of the savers).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import operator
import os
import uuid
from contextlib import ExitStack
from typing import Annotated, Any

from langchain_core.runnables import RunnableConfig
from typing_extensions import TypedDict

from aredis_ckpt import AsyncRedisSaver, RedisSaver
from aredis_ckpt.cli._common import EXIT_OK, Command, Context, Failure

__all__ = ["COMMANDS"]


class ChatState(TypedDict):
    messages: Annotated[list[str], operator.add]
    turns: int


def _reply(state: ChatState) -> dict[str, Any]:
    last = state["messages"][-1]
    turn = state.get("turns", 0) + 1
    return {"messages": [f"bot: I heard {last!r} (turn {turn})"], "turns": turn}


def _graph(checkpointer: Any) -> Any:
    from langgraph.graph import END, START, StateGraph

    builder = StateGraph(ChatState)
    builder.add_node("reply", _reply)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", END)
    return builder.compile(checkpointer=checkpointer)


def _show_history(saver: Any, config: RunnableConfig, out: Any) -> None:
    print("\nhistory (newest first), read back with saver.list():", file=out)
    for tup in saver.list(config):
        meta = tup.metadata
        n = len(tup.checkpoint["channel_values"].get("messages", []))
        print(
            f"  {tup.checkpoint['id']}  step={meta.get('step')!s:>2}  "
            f"source={meta.get('source'):<6}  messages={n}",
            file=out,
        )


def run_sync(url: str, thread_id: str, out: Any) -> None:
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    print(f"[1] RedisSaver on {url}: two turns on thread {thread_id!r}", file=out)
    with RedisSaver.from_conn_string(url, key_prefix="aredis-demo") as saver:
        saver.setup()
        graph = _graph(saver)
        for text in ("hello", "what is Redis?"):
            result = graph.invoke({"messages": [f"user: {text}"]}, config)
            print(f"    {result['messages'][-1]}", file=out)
    print("[2] saver closed. A new saver resumes the thread from Redis:", file=out)
    with RedisSaver.from_conn_string(url, key_prefix="aredis-demo") as saver:
        graph = _graph(saver)
        state = graph.get_state(config)
        print(f"    restored {len(state.values['messages'])} messages", file=out)
        result = graph.invoke({"messages": ["user: and after a restart?"]}, config)
        for line in result["messages"]:
            print(f"    | {line}", file=out)
        _show_history(saver, config, out)


async def run_async(url: str, thread_id: str, out: Any) -> None:
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    print(f"[1] AsyncRedisSaver on {url}: two turns on thread {thread_id!r}", file=out)
    async with AsyncRedisSaver.from_conn_string(url, key_prefix="aredis-demo") as saver:
        await saver.asetup()
        graph = _graph(saver)
        for text in ("hello", "what is Redis?"):
            result = await graph.ainvoke({"messages": [f"user: {text}"]}, config)
            print(f"    {result['messages'][-1]}", file=out)
    print("[2] saver closed. A new saver resumes the thread from Redis:", file=out)
    async with AsyncRedisSaver.from_conn_string(url, key_prefix="aredis-demo") as saver:
        graph = _graph(saver)
        state = await graph.aget_state(config)
        print(f"    restored {len(state.values['messages'])} messages", file=out)
        result = await graph.ainvoke({"messages": ["user: and after a restart?"]}, config)
        for line in result["messages"]:
            print(f"    | {line}", file=out)
        print("\nhistory (newest first), read back with saver.alist():", file=out)
        async for tup in saver.alist(config):
            n = len(tup.checkpoint["channel_values"].get("messages", []))
            print(
                f"  {tup.checkpoint['id']}  step={tup.metadata.get('step')!s:>2}  "
                f"source={tup.metadata.get('source'):<6}  messages={n}",
                file=out,
            )


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--async",
        dest="use_async",
        action="store_true",
        help="use AsyncRedisSaver with ainvoke instead of RedisSaver with invoke",
    )


def _run(ctx: Context) -> int:
    if importlib.util.find_spec("langgraph.graph") is None:
        raise Failure(
            "the demo runs a LangGraph graph and langgraph is not installed: pip install langgraph"
        )
    out = ctx.stdout
    thread_id = f"demo-{uuid.uuid4().hex[:8]}"
    given = getattr(ctx.args, "url", None) or os.environ.get("REDIS_URL")
    with ExitStack() as stack:
        if given:
            url = given
            print(f"using {ctx.shown_url()}", file=out)
        else:
            from aredis_ckpt._server import RedisServer

            try:
                # with an append-only file in its own folder, as a server that keeps
                # checkpoints should run (and as the saver's setup() checks)
                server = stack.enter_context(RedisServer(extra_args=["--appendonly", "yes"]))
            except RuntimeError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                raise Failure(
                    f"{first} Or set REDIS_URL=redis://host:6379/0 to run the demo on a "
                    "server you already have."
                ) from exc
            url = server.url
            print(
                f"no REDIS_URL set: started a throwaway redis-server {server.version()} "
                f"(pid {server.pid}) on {url}",
                file=out,
            )
        if ctx.args.use_async:
            asyncio.run(run_async(url, thread_id, out))
        else:
            run_sync(url, thread_id, out)
        with RedisSaver.from_conn_string(url, key_prefix="aredis-demo") as saver:
            saver.delete_thread(thread_id)
    print(
        f"\ndone: thread {thread_id!r} deleted" + ("" if given else ", throwaway server stopped"),
        file=out,
    )
    return EXIT_OK


COMMANDS = [
    Command(
        name="demo",
        help="run a multi-turn graph, resume it from Redis, show its history",
        description="Run a small multi-turn graph on REDIS_URL (or a throwaway redis-server), "
        "stop it, resume it from Redis with a new saver, and print its history.",
        configure=_configure,
        run=_run,
        writes=True,
    )
]
