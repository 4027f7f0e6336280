"""Saver fixtures, written once for the async saver and generated for the sync one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest

from aredis_ckpt import AsyncRedisSaver

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
