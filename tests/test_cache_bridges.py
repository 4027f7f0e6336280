"""The node caches' hand-written bridges (aredis_ckpt._cache_bridge).

``AsyncRedisCache``'s synchronous methods run on its event loop from other threads (a sync
node of an async graph, ``graph.clear_cache()`` from a worker) and refuse on the loop's own
thread; ``RedisCache``'s ``a*`` methods run the synchronous call in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aredis_ckpt import AsyncRedisCache, RedisCache


async def test_async_cache_sync_methods_work_from_other_threads(
    redis_url: str, key_prefix: str, saver_kwargs: dict[str, Any]
) -> None:
    async with AsyncRedisCache.from_conn_string(
        redis_url, key_prefix=key_prefix, **saver_kwargs
    ) as cache:
        await cache.aset({(("t",), "k"): (1, None)})

        def work() -> Any:
            cache.set({(("t",), "k2"): (2, None), (("u",), "k"): (3, None)})
            found = cache.get([(("t",), "k"), (("t",), "k2"), (("u",), "k")])
            cache.clear([("t",)])
            after = cache.get([(("t",), "k"), (("u",), "k")])
            cache.clear()
            return found, after, cache.get([(("u",), "k")])

        found, after, empty = await asyncio.get_running_loop().run_in_executor(None, work)
        assert found == {(("t",), "k"): 1, (("t",), "k2"): 2, (("u",), "k"): 3}
        assert after == {(("u",), "k"): 3}
        assert empty == {}
        with pytest.raises(asyncio.InvalidStateError, match="aget"):
            cache.get([(("t",), "k")])


def test_async_cache_sync_methods_need_its_loop(redis_url: str, key_prefix: str) -> None:
    cache: AsyncRedisCache[Any] = AsyncRedisCache(redis_url, key_prefix=key_prefix)
    with pytest.raises(RuntimeError, match="RedisCache"):
        cache.get([(("t",), "k")])


async def test_sync_cache_async_methods_run_in_a_worker_thread(
    redis_url: str, key_prefix: str, saver_kwargs: dict[str, Any]
) -> None:
    with RedisCache.from_conn_string(redis_url, key_prefix=key_prefix, **saver_kwargs) as cache:
        await cache.aset({(("t",), "k"): ("v", None), (("u",), "k"): ("w", None)})
        assert await cache.aget([(("t",), "k")]) == {(("t",), "k"): "v"}
        await cache.aclear([("t",)])
        assert await cache.aget([(("t",), "k"), (("u",), "k")]) == {(("u",), "k"): "w"}
        await cache.aclear()
        assert await cache.aget([(("u",), "k")]) == {}
