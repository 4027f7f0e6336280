"""Hand-written glue between the node caches' two APIs (kept out of ``_async/`` so generation
cannot touch it).

LangGraph's ``BaseCache`` has six abstract methods: ``get``/``set``/``clear`` and their ``a*``
twins.  Each cache writes one half (``AsyncRedisCache.aget``/``aset``/``aclear``,
``RedisCache.get``/``set``/``clear``); the mixins here supply the other:

* ``AsyncCacheMixin``'s sync names run the async call on the cache's own event loop from
  another thread (a sync node of an async graph runs in a worker thread; ``graph.clear_cache()``
  may be called from any thread).  On the loop's own thread they refuse with a clear error
  instead of deadlocking.
* ``CacheMixin``'s ``a*`` names run the sync call in a worker thread, as LangGraph's sync
  stores do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from langgraph.cache.base import FullKey, Namespace, ValueT

from aredis_ckpt._bridge import LoopBridge
from aredis_ckpt._cache_base import BaseRedisCache

__all__ = ["AsyncCacheMixin", "CacheMixin"]


class AsyncCacheMixin(LoopBridge, BaseRedisCache[ValueT]):
    """Synchronous entry points of the async cache, bridged onto its event loop."""

    _sync_twin = "RedisCache"

    def _loop_hint(self, name: str) -> str:
        return (
            "use the async methods (`await cache.aget(...)`, `aset`, `aclear`; "
            "`await graph.aclear_cache()`)"
        )

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        return self._bridge("get", self.aget(list(keys)))

    def set(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        self._bridge("set", self.aset(dict(pairs)))

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        self._bridge("clear", self.aclear(None if namespaces is None else list(namespaces)))


class CacheMixin(BaseRedisCache[ValueT]):
    """The ``a*`` entry points of the sync cache: the sync call, in a worker thread."""

    def _bind_loop(self) -> None:
        """Nothing to remember: the sync cache has no event loop."""

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        return await asyncio.get_running_loop().run_in_executor(None, self.get, list(keys))

    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.set, dict(pairs))

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        listed = None if namespaces is None else list(namespaces)
        await asyncio.get_running_loop().run_in_executor(None, self.clear, listed)
