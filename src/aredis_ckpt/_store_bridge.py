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
from collections.abc import Iterable
from typing import TypeVar

from langgraph.store.base import Op, Result

from aredis_ckpt._bridge import LoopBridge
from aredis_ckpt._store_base import BaseRedisStore

__all__ = ["AsyncStoreMixin", "StoreMixin"]

T = TypeVar("T")


class AsyncStoreMixin(LoopBridge, BaseRedisStore):
    """Synchronous entry points of the async store, bridged onto its event loop."""

    _sync_twin = "RedisStore"

    def _loop_hint(self, name: str) -> str:
        return (
            "use the async methods (`await store.aget(...)`, `aput`, `asearch`, `adelete`, "
            "`alist_namespaces`, `abatch`)"
        )

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
