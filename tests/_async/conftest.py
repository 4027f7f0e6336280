"""Saver and cache fixtures, written once for the async classes and generated for the sync ones."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest

from aredis_ckpt import AsyncRedisCache, AsyncRedisSaver

SaverFactory = Callable[..., AbstractAsyncContextManager[AsyncRedisSaver]]


@pytest.fixture
def make_saver(redis_url: str, key_prefix: str, saver_kwargs: dict[str, Any]) -> SaverFactory:
    """A factory of new, set-up savers (each with its own client) on the test's prefix."""

    @asynccontextmanager
    async def factory(**kwargs: Any) -> AsyncIterator[AsyncRedisSaver]:
        kwargs = {"key_prefix": key_prefix, **saver_kwargs, **kwargs}
        async with AsyncRedisSaver.from_conn_string(redis_url, **kwargs) as saver:
            await saver.asetup()
            yield saver

    return factory


@pytest.fixture
async def saver(make_saver: SaverFactory) -> AsyncIterator[AsyncRedisSaver]:
    async with make_saver() as s:
        yield s


CacheFactory = Callable[..., AbstractAsyncContextManager[AsyncRedisCache[Any]]]


@pytest.fixture
def make_cache(redis_url: str, key_prefix: str, saver_kwargs: dict[str, Any]) -> CacheFactory:
    """A factory of new node caches (each with its own client) on the test's prefix."""

    @asynccontextmanager
    async def factory(**kwargs: Any) -> AsyncIterator[AsyncRedisCache[Any]]:
        kwargs = {"key_prefix": key_prefix, **saver_kwargs, **kwargs}
        async with AsyncRedisCache.from_conn_string(redis_url, **kwargs) as cache:
            yield cache

    return factory


@pytest.fixture
async def cache(make_cache: CacheFactory) -> AsyncIterator[AsyncRedisCache[Any]]:
    async with make_cache() as c:
        yield c
