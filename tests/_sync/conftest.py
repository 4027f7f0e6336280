# This file is generated from tests/_async/conftest.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""Saver and cache fixtures, written once for the async classes and generated for the sync ones."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from aredis_ckpt import RedisCache, RedisSaver

SaverFactory = Callable[..., AbstractContextManager[RedisSaver]]


@pytest.fixture
def make_saver(redis_url: str, key_prefix: str, saver_kwargs: dict[str, Any]) -> SaverFactory:
    """A factory of new, set-up savers (each with its own client) on the test's prefix."""

    @contextmanager
    def factory(**kwargs: Any) -> Iterator[RedisSaver]:
        kwargs = {"key_prefix": key_prefix, **saver_kwargs, **kwargs}
        with RedisSaver.from_conn_string(redis_url, **kwargs) as saver:
            saver.setup()
            yield saver

    return factory


@pytest.fixture
def saver(make_saver: SaverFactory) -> Iterator[RedisSaver]:
    with make_saver() as s:
        yield s


CacheFactory = Callable[..., AbstractContextManager[RedisCache[Any]]]


@pytest.fixture
def make_cache(redis_url: str, key_prefix: str, saver_kwargs: dict[str, Any]) -> CacheFactory:
    """A factory of new node caches (each with its own client) on the test's prefix."""

    @contextmanager
    def factory(**kwargs: Any) -> Iterator[RedisCache[Any]]:
        kwargs = {"key_prefix": key_prefix, **saver_kwargs, **kwargs}
        with RedisCache.from_conn_string(redis_url, **kwargs) as cache:
            yield cache

    return factory


@pytest.fixture
def cache(make_cache: CacheFactory) -> Iterator[RedisCache[Any]]:
    with make_cache() as c:
        yield c
