"""The sync names on AsyncRedisSaver (bridged onto its loop) and the a* names on RedisSaver."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import anyio
import pytest
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from aredis_ckpt import AsyncRedisSaver, RedisSaver

pytestmark = pytest.mark.standalone


class State(TypedDict):
    n: int


def _graph(saver: Any) -> Any:
    builder = StateGraph(State)
    builder.add_node("inc", lambda s: {"n": s["n"] + 1})
    builder.add_edge(START, "inc")
    builder.add_edge("inc", END)
    return builder.compile(checkpointer=saver)


async def test_sync_names_on_async_saver_run_from_another_thread(
    redis_url: str, key_prefix: str
) -> None:
    async with AsyncRedisSaver.from_conn_string(redis_url, key_prefix=key_prefix) as saver:
        await saver.asetup()
        graph = _graph(saver)
        config = {"configurable": {"thread_id": "bridged"}}
        # A sync graph run on a worker thread goes through the bridges onto this loop.
        result = await anyio.to_thread.run_sync(lambda: graph.invoke({"n": 1}, config))
        assert result == {"n": 2}
        tup = await anyio.to_thread.run_sync(lambda: saver.get_tuple(config))
        assert tup is not None and tup.checkpoint["channel_values"]["n"] == 2
        history = await anyio.to_thread.run_sync(lambda: list(saver.list(config)))
        assert len(history) == len([t async for t in saver.alist(config)]) >= 2
        await anyio.to_thread.run_sync(lambda: saver.prune(["bridged"], keep_last=1))
        assert len([t async for t in saver.alist(config)]) == 1
        await anyio.to_thread.run_sync(lambda: saver.delete_thread("bridged"))
        assert await saver.aget_tuple(config) is None


async def test_sync_names_refuse_on_the_loop_thread(redis_url: str, key_prefix: str) -> None:
    async with AsyncRedisSaver.from_conn_string(redis_url, key_prefix=key_prefix) as saver:
        await saver.asetup()
        with pytest.raises(asyncio.InvalidStateError, match=r"await saver\.asetup"):
            saver.setup()
        with pytest.raises(asyncio.InvalidStateError, match=r"aget_tuple"):
            saver.get_tuple({"configurable": {"thread_id": "t"}})
        with pytest.raises(asyncio.InvalidStateError, match=r"alist"):
            list(saver.list(None))


def test_sync_names_before_any_loop_explain_what_to_do(redis_url: str) -> None:
    from redis.asyncio import Redis as AsyncRedis

    saver = AsyncRedisSaver(AsyncRedis.from_url(redis_url))
    errors: list[BaseException] = []

    def call() -> None:
        try:
            saver.get_tuple({"configurable": {"thread_id": "t"}})
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    worker.join()
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
    assert "RedisSaver" in str(errors[0])


async def test_async_names_on_sync_saver_point_to_async_saver(redis_url: str) -> None:
    with RedisSaver.from_conn_string(redis_url) as saver:
        config = {"configurable": {"thread_id": "t"}}
        for call in (
            lambda: saver.aget_tuple(config),
            lambda: saver.aput(config, {}, {}, {}),  # type: ignore[arg-type]
            lambda: saver.aput_writes(config, [], "t"),
            lambda: saver.adelete_thread("t"),
            lambda: saver.acopy_thread("a", "b"),
            lambda: saver.adelete_for_runs([]),
            lambda: saver.aprune([]),
            lambda: saver.asetup(),
            lambda: saver.aget_delta_channel_history(config=config, channels=["a"]),
        ):
            with pytest.raises(NotImplementedError, match="AsyncRedisSaver"):
                await call()
        with pytest.raises(NotImplementedError, match="AsyncRedisSaver"):
            saver.alist(config)


def test_public_surface() -> None:
    import aredis_ckpt

    assert aredis_ckpt.AsyncRedisSaver.__module__ == "aredis_ckpt"
    assert aredis_ckpt.RedisSaver.__module__ == "aredis_ckpt"
    from importlib import resources

    assert (resources.files("aredis_ckpt") / "py.typed").is_file()
