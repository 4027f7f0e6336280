"""LangGraph's long-term memory store on plain Redis: the only store module that does I/O.

Written once; ``scripts/unasync.py`` generates the synchronous twin.  A batch of any ops is one
EVALSHA of ``lua/store_batch.lua`` (one network round trip), built and decoded by the pure
helpers of ``aredis_ckpt._store_base``; embeddings are computed before it, through LangGraph's
embedding hooks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from langgraph.store.base import IndexConfig, Op, Result, TTLConfig
from redis.exceptions import ResponseError

from aredis_ckpt._async.connect import AsyncScriptRunner, open_client
from aredis_ckpt._async.server_facts import read_server_facts
from aredis_ckpt._base import logger
from aredis_ckpt._budget import ScriptBudget
from aredis_ckpt._compat import (
    AsyncConnectionPool,
    AsyncLimiter,
    AsyncRedis,
    AsyncRedisCluster,
    aembed_queries,
    aembed_texts,
)
from aredis_ckpt._config import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_PAYLOAD_BYTES,
    DEFAULT_POOL_TIMEOUT,
)
from aredis_ckpt._scripts import STORE_SCRIPTS, LuaScript
from aredis_ckpt._store_base import BatchCall, out_of_memory, script_error
from aredis_ckpt._store_bridge import AsyncStoreMixin

__all__ = ["AsyncRedisStore"]


class AsyncRedisStore(AsyncStoreMixin):
    """LangGraph ``BaseStore`` on plain Redis 6.2+ / Valkey / Cluster (no modules).

    Every batch (and so every ``aget``, ``aput``, ``asearch``, ``adelete``,
    ``alist_namespaces``) is one atomic script and one round trip; filters, ``limit`` and
    ``offset`` are applied server-side.  Results match LangGraph's ``InMemoryStore``.

    The first argument is a URL (the store then owns its client: close it with ``aclose()`` or
    use ``from_conn_string``), or a client or connection pool you own, which is never closed.
    ``index={"dims": ..., "embed": ..., "fields": [...]}`` enables semantic search;
    ``ttl={"default_ttl": minutes, "refresh_on_read": bool}`` expiry.  ``vector_sets=False``
    ranks queries by an exact scan even where Redis 8 vector sets are available.

    Guard rails, as the savers': a batch of more than ``max_payload_bytes`` (None: no limit)
    raises ``PayloadTooLargeError`` before anything is sent; setup warns once about a server
    that may evict the store's keys or has no persistence (``strict_server=True``: raises
    ``ServerConfigError``); a write refused for lack of memory raises
    ``ServerOutOfMemoryError``.

    Bounded server time: one script reads at most ``script_budget.store_items`` items (or
    namespaces; ``ScriptBudget``) for a search, ``list_namespaces`` or TTL sweep; a read that
    needs more goes on in further calls from where the previous one stopped (same results),
    and the batch's writes are applied by the call that answers its last read.  A batch
    within the budget stays one atomic script and one round trip.
    """

    def __init__(
        self,
        redis_url: str | AsyncRedis | AsyncRedisCluster | AsyncConnectionPool | None = None,
        *,
        redis_client: AsyncRedis | AsyncRedisCluster | AsyncConnectionPool | None = None,
        connection_pool: AsyncConnectionPool | None = None,
        connection_args: Mapping[str, Any] | None = None,
        key_prefix: str | None = None,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT,
        cluster: bool = False,
        vector_sets: bool = True,
        max_payload_bytes: int | None = DEFAULT_MAX_PAYLOAD_BYTES,
        strict_server: bool = False,
        script_budget: ScriptBudget | None = None,
    ) -> None:
        super().__init__(
            key_prefix=key_prefix,
            index=index,
            ttl=ttl,
            vector_sets=vector_sets,
            max_payload_bytes=max_payload_bytes,
            strict_server=strict_server,
            script_budget=script_budget,
        )
        self._owned: list[Any] = []
        self._redis = open_client(
            redis_url,
            redis_client,
            connection_pool,
            connection_args=connection_args,
            max_connections=max_connections,
            pool_timeout=pool_timeout,
            cluster=cluster,
            owned=self._owned,
            what="store",
        )
        self._runner = AsyncScriptRunner(
            self._redis, keep_connections=any(c is self._redis for c in self._owned)
        )
        self._limiter = AsyncLimiter(max_connections)

    async def aclose(self) -> None:
        """Close the clients the store created; a client or pool passed in is left open."""
        await self._runner.aclose()
        owned, self._owned = self._owned, []
        for client in reversed(owned):
            await client.aclose()

    async def __aenter__(self) -> AsyncRedisStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls,
        redis_url: str | None = None,
        *,
        redis_client: AsyncRedis | AsyncRedisCluster | AsyncConnectionPool | None = None,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        key_prefix: str | None = None,
        connection_args: Mapping[str, Any] | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT,
        cluster: bool = False,
        vector_sets: bool = True,
        max_payload_bytes: int | None = DEFAULT_MAX_PAYLOAD_BYTES,
        strict_server: bool = False,
        script_budget: ScriptBudget | None = None,
    ) -> AsyncIterator[AsyncRedisStore]:
        """A store on its own client, closed when the context exits.

        The URLs and connection options are the savers': ``redis://``, ``rediss://``,
        ``unix://``, ``redis+sentinel://...``, ``cluster=True`` with any node's URL.
        """
        store = cls(
            redis_url,
            redis_client=redis_client,
            index=index,
            ttl=ttl,
            key_prefix=key_prefix,
            connection_args=connection_args,
            max_connections=max_connections,
            pool_timeout=pool_timeout,
            cluster=cluster,
            vector_sets=vector_sets,
            max_payload_bytes=max_payload_bytes,
            strict_server=strict_server,
            script_budget=script_budget,
        )
        try:
            yield store
        finally:
            await store.aclose()

    # ------------------------------------------------------------------ plumbing

    async def _eval(self, script: LuaScript, keys: Sequence[bytes], args: Sequence[Any]) -> Any:
        """EVALSHA, loading the script once if the server does not know it (NOSCRIPT)."""
        self._bind_loop()
        async with self._limiter:
            try:
                return await self._runner.evalsha(script, keys, args)
            except ResponseError as exc:
                raised = script_error(str(exc))
                if raised is not None:
                    raise raised from None
                oom = out_of_memory(exc, self.key_prefix)
                if oom is not None:
                    raise oom from exc
                raise

    async def asetup(self) -> None:
        """Load the scripts, record (or check) the store's schema version and find out whether
        the server has vector sets; idempotent."""
        self._bind_loop()
        for script in STORE_SCRIPTS.all():
            await self._redis.script_load(script.source)
        keys, args = self._setup_args()
        version, vector_sets = await self._eval(STORE_SCRIPTS.setup, keys, args)
        self._check_store_schema(version)
        self.vector_sets = bool(vector_sets)
        self._apply_server_facts(await read_server_facts(self._redis))
        logger.debug("store setup done for prefix %r", self.key_prefix)

    # ------------------------------------------------------------------ store API

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run the ops in one round trip: reads in order, then the writes (InMemoryStore's
        semantics: a read never sees a write of its own batch)."""
        plan = self._plan(ops)
        if not plan.reads and not plan.puts:
            return [None] * plan.size
        query_vectors: list[list[float]] = []
        text_vectors: list[list[float]] = []
        if self.embeddings is not None:
            if plan.queries:
                query_vectors = await aembed_queries(self.embeddings, plan.queries)
            if plan.texts:
                text_vectors = await aembed_texts(self.embeddings, list(plan.texts))
        call = self._batch_call(plan, query_vectors, text_vectors)
        await self._run(call)
        return self._results(plan, call.answers)

    async def _run(self, call: BatchCall) -> None:
        """Call ``store_batch.lua`` until the batch is done: one call unless a read outgrows
        the script budget (then the reads go on in slices; the writes are applied with the
        last one)."""
        while True:
            reply = await self._eval(STORE_SCRIPTS.batch, call.keys, call.args)
            if self._advance(call, reply):
                break
        if call.calls > 1:
            logger.debug("store batch answered in %d budget-bounded calls", call.calls)

    async def asweep_ttl(self) -> int:
        """Delete every expired item now; return how many.  Batches already sweep a few expired
        items each and never return expired ones, so this is only needed to reclaim memory of
        a store nobody writes to."""
        call = self._sweep_call()
        await self._run(call)
        return int(call.answers[0])
