"""Migration from real foreign savers: LangGraph's SQLite savers and the official
``langgraph-checkpoint-redis`` on Redis Stack (``stack_server``: skipped unless nox provides
it).  Each source runs a graph with a ``Send`` fan-out and an interrupted subgraph; the copy
must verify clean, keep the task paths the source stored, and resume on our saver.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.types import Command

from aredis_ckpt import AsyncRedisSaver, RedisSaver, _serde
from aredis_ckpt.migrate import (
    acopy_checkpoints,
    averify_checkpoints,
    copy_checkpoints,
    verify_checkpoints,
)
from flow_graph import flow
from pairs import skip_async_interrupts

pytestmark = pytest.mark.standalone

# Thread ids differing only in case: the official saver's search ignores case.
THREADS = ["Order-1", "order-1", "a:b{c} é"]


def _cfg(thread_id: str) -> Any:
    return {"configurable": {"thread_id": thread_id}}


def _stored_paths(saver: RedisSaver, thread_id: str) -> set[tuple[str, str, str]]:
    """(checkpoint id, task id, task path) of every pending write stored for the thread."""
    query = saver._list_query(_cfg(thread_id), None, None, None)
    assert query is not None
    out = set()
    for items in saver._list_pages(query):
        for item in items:
            for blob in item[5]:
                path, task_id, _ = _serde.write_task(blob)
                out.add((item[0].decode(), task_id, path))
    return out


def _run_and_copy(source: Any, target: RedisSaver) -> None:
    graph = flow().compile(checkpointer=source)
    for thread_id in THREADS:
        out = graph.invoke({"log": [thread_id]}, _cfg(thread_id))
        assert "__interrupt__" in out
    report = copy_checkpoints(source, target)
    assert (report.threads, report.skipped, report.failed) == (len(THREADS), 0, [])
    verified = verify_checkpoints(source, target)
    assert verified.ok, verified.differences
    listed = [  # the official saver's list() also returns threads whose id differs in case
        tup
        for t in THREADS
        for tup in source.list(_cfg(t))
        if tup.config["configurable"]["thread_id"] == t
    ]
    assert verified.checkpoints == report.checkpoints == len(listed)
    again = copy_checkpoints(source, target)
    assert (again.threads, again.skipped) == (0, len(THREADS))
    resumed = flow().compile(checkpointer=target).invoke(Command(resume="ok"), _cfg(THREADS[0]))
    assert resumed == graph.invoke(Command(resume="ok"), _cfg(THREADS[0]))
    assert resumed["answer"] == "ok"


def test_sqlite_saver(tmp_path: Path, redis_url: str, key_prefix: str) -> None:
    path = tmp_path / "checkpoints.db"
    with (
        SqliteSaver.from_conn_string(str(path)) as source,
        RedisSaver.from_conn_string(redis_url, key_prefix=key_prefix) as target,
    ):
        _run_and_copy(source, target)
        rows = source.conn.execute(
            "SELECT checkpoint_id, task_id, task_path FROM writes WHERE thread_id = ?",
            (THREADS[1],),
        ).fetchall()
        assert all(task_path for _, _, task_path in rows)
        assert _stored_paths(target, THREADS[1]) == {tuple(r) for r in rows}


@skip_async_interrupts
async def test_sync_sqlite_saver_read_on_worker_threads_and_async_sqlite(
    tmp_path: Path, redis_url: str, key_prefix: str
) -> None:
    path = str(tmp_path / "checkpoints.db")
    async with AsyncSqliteSaver.from_conn_string(path) as source:
        graph = flow().compile(checkpointer=source)
        for thread_id in THREADS:
            await graph.ainvoke({"log": [thread_id]}, _cfg(thread_id))
        async with AsyncRedisSaver.from_conn_string(redis_url, key_prefix=key_prefix) as target:
            report = await acopy_checkpoints(source, target)
            assert (report.threads, report.failed) == (len(THREADS), [])
            assert (await averify_checkpoints(source, target)).ok
            resumed = (
                await flow()
                .compile(checkpointer=target)
                .ainvoke(Command(resume="ok"), _cfg(THREADS[2]))
            )
            assert resumed["answer"] == "ok"
    # the synchronous SqliteSaver has no async methods: read on worker threads
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    async with AsyncRedisSaver.from_conn_string(
        redis_url, key_prefix=key_prefix + "-sync"
    ) as target:
        source = SqliteSaver(conn)
        report = await acopy_checkpoints(source, target)
        assert (report.threads, report.failed) == (len(THREADS), [])
        assert (await averify_checkpoints(source, target)).ok
    conn.close()


def _official_paths(source: Any, thread_id: str) -> set[tuple[str, str, str]]:
    from redisvl.query import FilterQuery
    from redisvl.query.filter import Tag

    query = FilterQuery(
        filter_expression=Tag("thread_id") == thread_id,
        return_fields=["checkpoint_id", "task_id", "$.task_path"],
        num_results=1000,
    )
    docs = source.checkpoint_writes_index.search(query).docs
    return {(d.checkpoint_id, d.task_id, getattr(d, "$.task_path")) for d in docs}


def test_official_redis_saver(stack_server: Any, key_prefix: str) -> None:
    from langgraph.checkpoint.redis import RedisSaver as OfficialRedisSaver

    with (
        OfficialRedisSaver.from_conn_string(
            stack_server.url,
            checkpoint_prefix=f"{key_prefix}-official",
            checkpoint_write_prefix=f"{key_prefix}-official-write",
        ) as source,
        RedisSaver.from_conn_string(stack_server.url, key_prefix=key_prefix) as target,
    ):
        source.setup()
        _run_and_copy(source, target)
        want = _official_paths(source, THREADS[2])
        assert want and all(path for _, _, path in want)
        assert _stored_paths(target, THREADS[2]) == want


@skip_async_interrupts
async def test_official_async_redis_saver(stack_server: Any, key_prefix: str) -> None:
    from langgraph.checkpoint.redis.aio import AsyncRedisSaver as OfficialAsyncRedisSaver

    async with (
        OfficialAsyncRedisSaver.from_conn_string(stack_server.url) as source,
        AsyncRedisSaver.from_conn_string(stack_server.url, key_prefix=key_prefix) as target,
    ):
        await source.asetup()
        graph = flow().compile(checkpointer=source)
        threads = [f"{key_prefix}-{t}" for t in THREADS]
        for thread_id in threads:
            await graph.ainvoke({"log": [thread_id]}, _cfg(thread_id))
        report = await acopy_checkpoints(source, target, thread_ids=threads)
        assert (report.threads, report.failed) == (len(threads), [])
        assert (await averify_checkpoints(source, target, thread_ids=threads)).ok
        resumed = (
            await flow()
            .compile(checkpointer=target)
            .ainvoke(Command(resume="ok"), _cfg(threads[0]))
        )
        assert resumed["answer"] == "ok"
