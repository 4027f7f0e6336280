"""Session-wide test infrastructure: a private redis-server on a free loopback port.

Tests never use a server somebody else started (nor port 6379).  ``AREDIS_REDIS_SERVER`` picks
the binary (the nox matrix sets it per server version); otherwise ``redis-server`` from PATH.
Each test gets its own key prefix, so tests never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from aredis_ckpt._server import RedisServer


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    # redis.asyncio runs on asyncio only.
    return "asyncio"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer(os.environ.get("AREDIS_REDIS_SERVER") or None)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture
def key_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"
