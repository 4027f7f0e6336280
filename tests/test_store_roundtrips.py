"""Exact network round trips per store operation, counted on the client's connections.

As in test_roundtrips.py: a connection class counting every packed send (a pipeline is one
send) is plugged into the client's pool, and the server's command statistics confirm that each
operation ran as a single EVALSHA.  A whole batch of mixed ops is one round trip too.
"""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.store.base import GetOp, ListNamespacesOp, PutOp, SearchOp
from redis import BlockingConnectionPool, Redis
from redis.asyncio import BlockingConnectionPool as AsyncBlockingConnectionPool
from redis.asyncio import Redis as AsyncRedis

from aredis_ckpt import AsyncRedisStore, RedisStore

# the saver's counting connections (server_evalsha is a fixture of tests/conftest.py)
from test_roundtrips import SENDS, AsyncCountingConnection, CountingConnection, report

pytestmark = pytest.mark.standalone


def embed(texts: Any) -> list[list[float]]:
    return [[float(len(t)), float(t.count("a")), 1.0, 0.0] for t in texts]


INDEX: Any = {"dims": 4, "embed": embed, "fields": ["text"]}

BATCH = [
    *(PutOp(("batch", str(i % 5)), f"k{i}", {"text": f"item {i}", "i": i}) for i in range(40)),
    GetOp(("docs", "u1"), "k3"),
    SearchOp(("docs",), filter={"i": {"$gte": 10}}, limit=5),
    SearchOp(("docs",), query="item", limit=5),
    ListNamespacesOp(max_depth=1),
    PutOp(("docs", "u1"), "k1", None),
]

OPS = [
    "put",
    "put (new namespace)",
    "get",
    "delete",
    "search page (10 of 200)",
    "search page with filter",
    "search with query (exact scan of 200)",
    "list_namespaces page",
    "batch of 45 mixed ops",
]


def _fill() -> list[PutOp]:
    return [
        PutOp(("docs", f"u{i % 4}"), f"k{i}", {"text": "a" * (i % 7) + " item", "i": i})
        for i in range(200)
    ]


def test_sync_store_uses_one_round_trip_per_operation(
    redis_server: Any, key_prefix: str, server_evalsha: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = BlockingConnectionPool(
        connection_class=CountingConnection, host="127.0.0.1", port=redis_server.port
    )
    store = RedisStore(Redis(connection_pool=pool), key_prefix=key_prefix, index=INDEX)
    store.setup()
    store.batch(_fill())
    counts: dict[str, int] = {}

    def measure(op: str, fn: Any) -> None:
        before_sends, before_server = SENDS["n"], server_evalsha()
        fn()
        counts[op] = SENDS["n"] - before_sends
        assert server_evalsha() - before_server == 1, op

    measure(OPS[0], lambda: store.put(("docs", "u1"), "k1", {"text": "new"}))
    measure(OPS[1], lambda: store.put(("docs", "new"), "k", {"text": "x"}))
    measure(OPS[2], lambda: store.get(("docs", "u1"), "k1"))
    measure(OPS[3], lambda: store.delete(("docs", "new"), "k"))
    measure(OPS[4], lambda: store.search(("docs",), limit=10, offset=50))
    measure(OPS[5], lambda: store.search(("docs",), filter={"i": {"$gt": 100}}, limit=10))
    measure(OPS[6], lambda: store.search(("docs",), query="aaa", limit=10))
    measure(OPS[7], lambda: store.list_namespaces(prefix=("docs",), limit=2))
    measure(OPS[8], lambda: store.batch(BATCH))
    report(capsys, "RedisStore", counts, "store round trips per operation")
    assert all(n == 1 for n in counts.values()), counts
    pool.disconnect()


async def test_async_store_uses_one_round_trip_per_operation(
    redis_server: Any, key_prefix: str, server_evalsha: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = AsyncBlockingConnectionPool(
        connection_class=AsyncCountingConnection, host="127.0.0.1", port=redis_server.port
    )
    client = AsyncRedis(connection_pool=pool)
    store = AsyncRedisStore(client, key_prefix=key_prefix, index=INDEX)
    await store.asetup()
    await store.abatch(_fill())
    counts: dict[str, int] = {}

    async def measure(op: str, coro: Any) -> None:
        before_sends, before_server = SENDS["n"], server_evalsha()
        await coro
        counts[op] = SENDS["n"] - before_sends
        assert server_evalsha() - before_server == 1, op

    await measure(OPS[0], store.aput(("docs", "u1"), "k1", {"text": "new"}))
    await measure(OPS[1], store.aput(("docs", "new"), "k", {"text": "x"}))
    await measure(OPS[2], store.aget(("docs", "u1"), "k1"))
    await measure(OPS[3], store.adelete(("docs", "new"), "k"))
    await measure(OPS[4], store.asearch(("docs",), limit=10, offset=50))
    await measure(OPS[5], store.asearch(("docs",), filter={"i": {"$gt": 100}}, limit=10))
    await measure(OPS[6], store.asearch(("docs",), query="aaa", limit=10))
    await measure(OPS[7], store.alist_namespaces(prefix=("docs",), limit=2))
    await measure(OPS[8], store.abatch(BATCH))
    report(capsys, "AsyncRedisStore", counts, "store round trips per operation")
    assert all(n == 1 for n in counts.values()), counts
    await client.aclose()
    await pool.disconnect()
