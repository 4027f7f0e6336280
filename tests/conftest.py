"""Session-wide test infrastructure: private redis-servers on free loopback ports.

Tests never use a server somebody else started (nor port 6379).  ``AREDIS_REDIS_SERVER`` picks
the binary (the nox matrix sets it per server version); otherwise ``redis-server`` from PATH.
``AREDIS_TEST_TOPOLOGY=cluster`` runs the suite against a 3-master + 3-replica Redis Cluster
(tests that need a plain server then skip).  Each test gets its own key prefix, so tests never
see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from aredis_ckpt._server import ClusterServers, RedisServer

TOPOLOGY = os.environ.get("AREDIS_TEST_TOPOLOGY", "standalone")
CLUSTER = TOPOLOGY == "cluster"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "standalone: needs a plain (non-cluster) server")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CLUSTER:
        skip = pytest.mark.skip(reason="needs a plain server; this run is on a cluster")
        for item in items:
            if "standalone" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    # redis.asyncio runs on asyncio only.
    return "asyncio"


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[ClusterServers | None]:
    if not CLUSTER:
        yield None
        return
    cluster = ClusterServers(os.environ.get("AREDIS_REDIS_SERVER") or None)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def redis_server(redis_cluster: ClusterServers | None) -> Iterator[RedisServer]:
    """A plain server (on a cluster run: the cluster's first node)."""
    if redis_cluster is not None:
        yield redis_cluster.nodes[0]
        return
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
def saver_kwargs() -> dict[str, object]:
    """Extra from_conn_string arguments for this run's topology."""
    return {"cluster": True} if CLUSTER else {}


@pytest.fixture
def key_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"
