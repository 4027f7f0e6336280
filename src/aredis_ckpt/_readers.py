"""How a migration reads its source: through the async API, or the sync one (hand-written).

``amake_reader`` (used by ``_async/migrate.py``) and ``make_reader`` (its generated twin's
name) are a pair like those of ``_compat``.  An async copy reads a source whose async methods
exist directly; one whose async methods raise ``NotImplementedError`` (``SqliteSaver``,
``PostgresSaver``, our ``RedisSaver`` and the other synchronous savers) is read through its
synchronous reader on worker threads, a chunk of results per hop.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import anyio.to_thread
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from aredis_ckpt._compat import aclose_iterator
from aredis_ckpt._migration import SourceCheckpoint

if TYPE_CHECKING:
    from aredis_ckpt._sync.migrate import SourceReader

__all__ = ["AsyncReader", "Reader", "ThreadedSourceReader", "amake_reader", "make_reader"]

T = TypeVar("T")

#: Thread ids and checkpoints fetched per worker-thread hop.
_IDS_PER_HOP = 500
_CHECKPOINTS_PER_HOP = 32


class AsyncReader(Protocol):
    """What the async copy needs from a source (see ``AsyncSourceReader``)."""

    def thread_ids(self) -> AsyncIterator[str]: ...
    async def newest(self, thread_id: str) -> SourceCheckpoint | None: ...
    def checkpoints(self, thread_id: str) -> AsyncIterator[SourceCheckpoint]: ...


class Reader(Protocol):
    """What the sync copy needs from a source (see ``SourceReader``)."""

    def thread_ids(self) -> Iterator[str]: ...
    def newest(self, thread_id: str) -> SourceCheckpoint | None: ...
    def checkpoints(self, thread_id: str) -> Iterator[SourceCheckpoint]: ...


class ThreadedSourceReader:
    """The async reader interface over a synchronous reader, run on worker threads.

    The wrapped iterators are advanced one chunk per hop and closed when the async iterator
    is (a SQLite saver holds its lock while one of its ``list`` iterators is open).
    """

    def __init__(self, inner: SourceReader) -> None:
        self._inner = inner

    async def thread_ids(self) -> AsyncIterator[str]:
        items = _chunked(self._inner.thread_ids(), _IDS_PER_HOP)
        try:
            async for item in items:
                yield item
        finally:
            await aclose_iterator(items)

    async def newest(self, thread_id: str) -> SourceCheckpoint | None:
        return await anyio.to_thread.run_sync(self._inner.newest, thread_id)

    async def checkpoints(self, thread_id: str) -> AsyncIterator[SourceCheckpoint]:
        items = _chunked(self._inner.checkpoints(thread_id), _CHECKPOINTS_PER_HOP)
        try:
            async for item in items:
                yield item
        finally:
            await aclose_iterator(items)


async def _chunked(iterator: Iterator[T], size: int) -> AsyncIterator[T]:
    take: Callable[[], list[T]] = lambda: list(islice(iterator, size))  # noqa: E731
    try:
        while True:
            chunk = await anyio.to_thread.run_sync(take)
            for item in chunk:
                yield item
            if len(chunk) < size:
                return
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            await anyio.to_thread.run_sync(close)


async def amake_reader(source: BaseCheckpointSaver[Any]) -> AsyncReader:
    """The reader an async copy uses for ``source`` (async API when it has one)."""
    from aredis_ckpt._async.migrate import AsyncSourceReader
    from aredis_ckpt._async.saver import AsyncRedisSaver
    from aredis_ckpt._sync.migrate import SourceReader

    _check_source(source)
    if isinstance(source, (AsyncRedisSaver, InMemorySaver)):
        return AsyncSourceReader(source)
    if type(source).aget_tuple is BaseCheckpointSaver.aget_tuple:
        return ThreadedSourceReader(SourceReader(source))
    probe = {"configurable": {"thread_id": f"aredis-ckpt-probe-{uuid.uuid4()}"}}
    try:
        await source.aget_tuple(probe)  # type: ignore[arg-type]
    except NotImplementedError:
        return ThreadedSourceReader(SourceReader(source))
    return AsyncSourceReader(source)


def make_reader(source: BaseCheckpointSaver[Any]) -> Reader:
    """The reader a sync copy uses for ``source`` (its synchronous API)."""
    from aredis_ckpt._sync.migrate import SourceReader

    _check_source(source)
    return SourceReader(source)


def _check_source(source: object) -> None:
    if not isinstance(source, BaseCheckpointSaver):
        raise TypeError(
            "the source must be a LangGraph checkpoint saver (a BaseCheckpointSaver), got "
            f"{type(source).__module__}.{type(source).__name__}"
        )
