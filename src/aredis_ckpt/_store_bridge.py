"""Hand-written glue between the stores' two APIs (kept out of ``_async/`` so generation cannot
touch it).

LangGraph's ``BaseStore`` builds every convenience method on two abstract ones: ``batch`` under
``get``/``put``/``search``/``delete``/``list_namespaces`` and ``abatch`` under their ``a*``
twins.  Each store writes one of them (``AsyncRedisStore.abatch``, ``RedisStore.batch``); the
mixins here supply the other:

* ``AsyncStoreMixin.batch`` runs ``abatch`` on the store's own event loop from another thread,
  as LangGraph's async stores do (a sync node of an async graph runs in a worker thread).  On
  the loop's own thread it refuses with a clear error instead of deadlocking.
* ``StoreMixin.abatch`` runs ``batch`` in a worker thread, as LangGraph's sync stores do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

from langgraph.store.base import Op, Result

from aredis_ckpt._store_base import BaseRedisStore

__all__ = ["AsyncStoreMixin", "StoreMixin"]

T = TypeVar("T")


class AsyncStoreMixin(BaseRedisStore):
    """Synchronous entry points of the async store, bridged onto its event loop."""

    _loop: asyncio.AbstractEventLoop | None = None

    def _bind_loop(self) -> None:
        # Called by every async operation: remembers the loop the client's connections live on.
        if self._loop is None:
            self._loop = asyncio.get_running_loop()

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
                f"where it would block the loop: use the async methods (`await store.aget(...)`,"
                f" `aput`, `asearch`, `adelete`, `alist_namespaces`, `abatch`), or call the "
                f"synchronous ones from another thread"
            )
        if loop is None or loop.is_closed():
            coro.close()
            raise RuntimeError(
                f"{cls}.{name}() runs on the event loop the store uses, and the store has not "
                f"run on one yet: await one of its async methods first (e.g. `await "
                f"store.asetup()`), or use RedisStore in synchronous code"
            )
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    async def asetup(self) -> None:
        raise NotImplementedError

    async def asweep_ttl(self) -> int:
        raise NotImplementedError

    def setup(self) -> None:
        self._bridge("setup", self.asetup())

    def sweep_ttl(self) -> int:
        return self._bridge("sweep_ttl", self.asweep_ttl())

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return self._bridge("batch", self.abatch(list(ops)))


class StoreMixin(BaseRedisStore):
    """The ``a*`` entry points of the sync store: the sync call, in a worker thread."""

    def _bind_loop(self) -> None:
        """Nothing to remember: the sync store has no event loop."""

    def setup(self) -> None:
        raise NotImplementedError

    def sweep_ttl(self) -> int:
        raise NotImplementedError

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return await asyncio.get_running_loop().run_in_executor(None, self.batch, list(ops))

    async def asetup(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.setup)

    async def asweep_ttl(self) -> int:
        return await asyncio.get_running_loop().run_in_executor(None, self.sweep_ttl)
