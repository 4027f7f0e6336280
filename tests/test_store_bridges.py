"""The stores' hand-written bridges (aredis_ckpt._store_bridge).

``AsyncRedisStore``'s synchronous methods run on its event loop from other threads (a sync node
of an async graph runs in a worker thread) and refuse on the loop's own thread;
``RedisStore``'s ``a*`` methods run the synchronous call in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aredis_ckpt import AsyncRedisStore, RedisStore


async def test_async_store_sync_methods_work_from_other_threads(
    redis_url: str, key_prefix: str, saver_kwargs: dict[str, Any]
) -> None:
    async with AsyncRedisStore.from_conn_string(
        redis_url, key_prefix=key_prefix, **saver_kwargs
    ) as store:
        await store.asetup()

        def work() -> Any:
            store.put(("t",), "k", {"v": 1})
            store.setup()
            return store.get(("t",), "k"), store.search(("t",)), store.list_namespaces()

        item, found, spaces = await asyncio.get_running_loop().run_in_executor(None, work)
        assert item is not None and item.value == {"v": 1}
        assert [i.key for i in found] == ["k"]
        assert spaces == [("t",)]
        with pytest.raises(asyncio.InvalidStateError, match="aget"):
            store.get(("t",), "k")


def test_async_store_sync_methods_need_its_loop(redis_url: str, key_prefix: str) -> None:
    store = AsyncRedisStore(redis_url, key_prefix=key_prefix)
    with pytest.raises(RuntimeError, match="asetup"):
        store.get(("t",), "k")


async def test_sync_store_async_methods_run_in_a_worker_thread(
    redis_url: str, key_prefix: str, saver_kwargs: dict[str, Any]
) -> None:
    with RedisStore.from_conn_string(redis_url, key_prefix=key_prefix, **saver_kwargs) as store:
        await store.asetup()
        await store.aput(("t",), "k", {"v": 2})
        item = await store.aget(("t",), "k")
        assert item is not None and item.value == {"v": 2}
        assert [i.key for i in await store.asearch(("t",))] == ["k"]
        assert await store.alist_namespaces() == [("t",)]
        await store.adelete(("t",), "k")
        assert await store.aget(("t",), "k") is None
        assert await store.asweep_ttl() == 0
