"""Hand-written glue between the two APIs (kept out of ``_async/`` so generation cannot touch it).

* ``AsyncSaverMixin`` gives ``AsyncRedisSaver`` the synchronous names LangGraph may call
  (``get_tuple``, ``put``, ...), run on the saver's own event loop from another thread, the way
  LangGraph's async savers do.  On the loop's own thread they refuse with a clear error instead
  of deadlocking.
* ``SaverMixin`` gives ``RedisSaver`` ``a*`` names that raise ``NotImplementedError`` pointing at
  ``AsyncRedisSaver``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
)

from aredis_ckpt._base import BaseRedisSaver

__all__ = ["AsyncSaverMixin", "SaverMixin"]

T = TypeVar("T")


class LoopBridge:
    """Runs a coroutine on the event loop an async saver or store uses, from another thread.

    Shared by ``AsyncSaverMixin`` and the store's ``AsyncStoreMixin``; ``_loop_hint`` says
    what to do instead when called on the loop's own thread.
    """

    _loop: asyncio.AbstractEventLoop | None = None
    _sync_twin = "RedisSaver"

    def _bind_loop(self) -> None:
        # Called by every async operation: remembers the loop the client's connections live on.
        if self._loop is None:
            self._loop = asyncio.get_running_loop()

    def _loop_hint(self, name: str) -> str:
        return f"use `await saver.a{name}(...)` (and graph.ainvoke / graph.astream)"

    def _bridge(self, name: str, coro: Coroutine[Any, Any, T]) -> T:
        cls = type(self).__name__
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        loop = self._loop
        if running is not None and (loop is None or running is loop):
            coro.close()
            raise asyncio.InvalidStateError(
                f"{cls}.{name}() is synchronous and was called on the event loop's own thread, "
                f"where it would block the loop: {self._loop_hint(name)}, or call {name}() "
                "from another thread"
            )
        if loop is None or loop.is_closed():
            coro.close()
            raise RuntimeError(
                f"{cls}.{name}() runs on the event loop the {cls} uses, and it has not run on "
                f"one yet: await one of its async methods first (e.g. `await ...asetup()`), or "
                f"use {self._sync_twin} in synchronous code"
            )
        return asyncio.run_coroutine_threadsafe(coro, loop).result()


class AsyncSaverMixin(LoopBridge, BaseRedisSaver):
    """Synchronous entry points of the async saver, bridged onto its event loop."""

    async def _collect(
        self,
        config: RunnableConfig | None,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> list[CheckpointTuple]:
        return [t async for t in self.alist(config, filter=filter, before=before, limit=limit)]

    async def asetup(self) -> None:
        raise NotImplementedError

    async def aprune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: str = "keep_latest",
        keep_last: int | None = None,
    ) -> None:
        raise NotImplementedError

    async def aresume_maintenance(self) -> int:
        raise NotImplementedError

    def setup(self) -> None:
        self._bridge("setup", self.asetup())

    def resume_maintenance(self) -> int:
        return self._bridge("resume_maintenance", self.aresume_maintenance())

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self._bridge("get_tuple", self.aget_tuple(config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        yield from self._bridge("list", self._collect(config, filter, before, limit))

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self._bridge("put", self.aput(config, checkpoint, metadata, new_versions))

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self._bridge("put_writes", self.aput_writes(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        self._bridge("delete_thread", self.adelete_thread(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        self._bridge("delete_for_runs", self.adelete_for_runs(run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._bridge("copy_thread", self.acopy_thread(source_thread_id, target_thread_id))

    def prune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: str = "keep_latest",
        keep_last: int | None = None,
    ) -> None:
        self._bridge("prune", self.aprune(thread_ids, strategy=strategy, keep_last=keep_last))

    def get_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        return self._bridge(
            "get_delta_channel_history",
            self.aget_delta_channel_history(config=config, channels=channels),
        )


def _refuse(name: str) -> NotImplementedError:
    return NotImplementedError(
        f"RedisSaver is the synchronous saver and has no {name}(): use "
        f"aredis_ckpt.AsyncRedisSaver with graph.ainvoke / graph.astream"
    )


class SaverMixin(BaseRedisSaver):
    """The ``a*`` names on the sync saver: they point at ``AsyncRedisSaver``."""

    def _bind_loop(self) -> None:
        """Nothing to remember: the sync saver has no event loop."""

    def setup(self) -> None:
        raise NotImplementedError

    def prune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: str = "keep_latest",
        keep_last: int | None = None,
    ) -> None:
        raise NotImplementedError

    def resume_maintenance(self) -> int:
        raise NotImplementedError

    async def asetup(self) -> None:
        raise _refuse("asetup")

    async def aresume_maintenance(self) -> int:
        raise _refuse("aresume_maintenance")

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        raise _refuse("aget_tuple")

    def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        raise _refuse("alist")

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        raise _refuse("aput")

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        raise _refuse("aput_writes")

    async def adelete_thread(self, thread_id: str) -> None:
        raise _refuse("adelete_thread")

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        raise _refuse("adelete_for_runs")

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        raise _refuse("acopy_thread")

    async def aprune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: str = "keep_latest",
        keep_last: int | None = None,
    ) -> None:
        raise _refuse("aprune")

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        raise _refuse("aget_delta_channel_history")
