"""Session-wide test infrastructure: private redis-servers on free loopback ports.

Tests never use a server somebody else started (nor port 6379).  ``AREDIS_REDIS_SERVER`` picks
the binary (the nox matrix sets it per server version); otherwise ``redis-server`` from PATH.
``AREDIS_TEST_TOPOLOGY=cluster`` runs the suite against a 3-master + 3-replica Redis Cluster,
``AREDIS_TEST_TOPOLOGY=sentinel`` through a ``redis+sentinel://`` URL (master, replica,
Sentinel); tests that need a plain server then skip.  Each test gets its own key prefix, so
tests never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis

from aredis_ckpt._server import ClusterServers, RedisServer, SentinelServers

TOPOLOGY = os.environ.get("AREDIS_TEST_TOPOLOGY", "standalone")
if TOPOLOGY not in ("standalone", "cluster", "sentinel"):
    raise ValueError(f"AREDIS_TEST_TOPOLOGY must be standalone, cluster or sentinel: {TOPOLOGY!r}")
CLUSTER = TOPOLOGY == "cluster"
SENTINEL = TOPOLOGY == "sentinel"


# The long stress and model tests (minutes each run); `nox -s quick` leaves them out.
SLOW_MODULES = frozenset(
    {
        "test_concurrency.py",
        "test_examples.py",
        "test_failover.py",
        "test_faults.py",
        "test_model.py",
        "test_store_model.py",
    }
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "standalone: needs a plain (non-cluster) server")
    config.addinivalue_line("markers", "slow: a long stress or model test (see SLOW_MODULES)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
    if CLUSTER or SENTINEL:
        skip = pytest.mark.skip(reason=f"needs a plain server; this run is on {TOPOLOGY}")
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
def redis_sentinel() -> Iterator[SentinelServers | None]:
    if not SENTINEL:
        yield None
        return
    servers = SentinelServers(os.environ.get("AREDIS_REDIS_SERVER") or None)
    servers.start()
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture(scope="session")
def redis_server(
    redis_cluster: ClusterServers | None, redis_sentinel: SentinelServers | None
) -> Iterator[RedisServer]:
    """A plain server (on a cluster run: its first node; with Sentinel: the master)."""
    if redis_cluster is not None:
        yield redis_cluster.nodes[0]
        return
    if redis_sentinel is not None:
        assert redis_sentinel.master is not None
        yield redis_sentinel.master
        return
    server = RedisServer(os.environ.get("AREDIS_REDIS_SERVER") or None)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def stack_server() -> Iterator[RedisServer]:
    """Redis Stack (RediSearch + RedisJSON) for the official ``langgraph-checkpoint-redis``.

    ``AREDIS_STACK_SERVER`` names its binary; nox sets it for one session (see noxfile.py).
    """
    binary = os.environ.get("AREDIS_STACK_SERVER")
    if not binary:
        pytest.skip(
            "AREDIS_STACK_SERVER is not set: the official saver needs Redis Stack "
            "(`scripts/redis-servers.py ensure stack-7.4` gives one; nox sets it for "
            "tests(redis='7.0'))"
        )
    pytest.importorskip("langgraph.checkpoint.redis", reason="langgraph-checkpoint-redis")
    server = RedisServer(binary)
    try:
        server.start()
    except RuntimeError as exc:
        pytest.skip(f"Redis Stack at {binary} could not start: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer, redis_sentinel: SentinelServers | None) -> str:
    """The URL savers connect with (``redis+sentinel://`` on a Sentinel run)."""
    return redis_sentinel.url if redis_sentinel is not None else redis_server.url


@pytest.fixture
def saver_kwargs() -> dict[str, object]:
    """Extra from_conn_string arguments for this run's topology."""
    return {"cluster": True} if CLUSTER else {}


@pytest.fixture
def key_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def server_evalsha(redis_url: str) -> Iterator[Any]:
    """Calls of the server's EVALSHA so far (INFO commandstats), for round-trip tests."""
    admin = Redis.from_url(redis_url)

    def calls() -> int:
        stats = admin.info("commandstats")
        return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))

    yield calls
    admin.close()
