"""The physical floor: LangGraph's ``InMemorySaver`` plus one raw round trip per operation.

:class:`FloorSaver` is an ``InMemorySaver`` doing all its own work (serializing what it stores,
deserializing what it returns: its answers are InMemorySaver's, so graphs run on it) plus
exactly one round trip to a private Redis per ``put``, ``put_writes``, ``get_tuple`` and
``list`` page, carrying the bytes a real remote saver must carry:

* ``put``: one ``MSET`` of the serialized checkpoint, its metadata and the new channel values
  (the very bytes InMemorySaver just produced, each under a key of its own);
* ``put_writes``: one ``MSET`` of the serialized writes;
* ``get_tuple``: one ``MGET`` of the checkpoint, its metadata, the channel values it references
  and its pending writes, so the reply is as large as what the answer is decoded from (a
  thread without checkpoints still asks once);
* ``list``: one ``MGET`` per page of up to ``LIST_PAGE`` checkpoints, as above.

No client library: commands are packed by ``hiredis.pack_command`` and replies parsed by a
``hiredis.Reader``.  The sync API talks on blocking sockets, the async API on asyncio streams;
each connection serves one caller at a time (a small pool: a lock guards the sync one, since
LangGraph's background threads call the saver concurrently).  Nothing here is tuned for
anything but being the least a saver on a remote Redis can do; errors simply raise.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import hiredis
import ormsgpack
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.memory import InMemorySaver

#: Checkpoints per ``list`` round trip when no limit is given (aredis-ckpt's page size).
LIST_PAGE = 100

_pack = hiredis.pack_command


def _key(*parts: Any) -> bytes:
    """A binary-safe key for any tuple of ids (msgpack keeps every str distinct)."""
    return b"floor:" + ormsgpack.packb(parts)


def _raise_if_error(reply: Any) -> Any:
    if isinstance(reply, hiredis.ReplyError):
        raise reply
    return reply


class _Conn:
    """One blocking socket with its own reply parser."""

    __slots__ = ("reader", "sock")

    def __init__(self, host: str, port: int, db: int) -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = hiredis.Reader()
        if db:
            self.call(_pack(("SELECT", db)))

    def call(self, packed: bytes) -> Any:
        self.sock.sendall(packed)
        reader, recv = self.reader, self.sock.recv
        while True:
            data = recv(65536)
            if not data:
                raise ConnectionError("floor: the server closed the connection")
            reader.feed(data)
            reply = reader.gets()
            if reply is not False:
                return _raise_if_error(reply)

    def close(self) -> None:
        self.sock.close()


class _AsyncConn:
    """One asyncio stream with its own reply parser."""

    __slots__ = ("reader", "stream", "writer")

    def __init__(self, stream: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stream = stream
        self.writer = writer
        self.reader = hiredis.Reader()

    @classmethod
    async def open(cls, host: str, port: int, db: int) -> _AsyncConn:
        stream, writer = await asyncio.open_connection(host, port)  # asyncio sets TCP_NODELAY
        conn = cls(stream, writer)
        if db:
            await conn.call(_pack(("SELECT", db)))
        return conn

    async def call(self, packed: bytes) -> Any:
        self.writer.write(packed)
        await self.writer.drain()
        reader, read = self.reader, self.stream.read
        while True:
            data = await read(65536)
            if not data:
                raise ConnectionError("floor: the server closed the connection")
            reader.feed(data)
            reply = reader.gets()
            if reply is not False:
                return _raise_if_error(reply)

    def close(self) -> None:
        self.writer.close()


class FloorSaver(InMemorySaver):
    """``InMemorySaver`` + one raw round trip per operation to Redis at ``host:port``/``db``."""

    def __init__(self, host: str, port: int, db: int = 0) -> None:
        super().__init__()
        self._addr = (host, port, db)
        self._idle: list[_Conn] = []
        self._lock = threading.Lock()
        self._aidle: deque[_AsyncConn] = deque()

    # ------------------------------------------------------------------ connections

    def _roundtrip(self, packed: bytes) -> Any:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = _Conn(*self._addr)
        try:
            reply = conn.call(packed)
        except BaseException:
            conn.close()
            raise
        with self._lock:
            self._idle.append(conn)
        return reply

    async def _aroundtrip(self, packed: bytes) -> Any:
        conn = self._aidle.pop() if self._aidle else await _AsyncConn.open(*self._addr)
        try:
            reply = await conn.call(packed)
        except BaseException:
            conn.close()
            raise
        self._aidle.append(conn)
        return reply

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    async def aclose(self) -> None:
        while self._aidle:
            conn = self._aidle.pop()
            conn.close()
            await conn.writer.wait_closed()

    # ------------------------------------------------------------------ commands

    def _put_command(
        self, config: RunnableConfig, checkpoint: Checkpoint, new_versions: ChannelVersions
    ) -> bytes:
        conf = config["configurable"]
        tid, ns, cid = conf["thread_id"], conf["checkpoint_ns"], checkpoint["id"]
        cp, md, _parent = self.storage[tid][ns][cid]
        args: list[Any] = ["MSET", _key(tid, ns, cid, "c"), cp[1], _key(tid, ns, cid, "m"), md[1]]
        for channel, version in new_versions.items():
            args.append(_key(tid, ns, channel, version))
            args.append(self.blobs[(tid, ns, channel, version)][1])
        return _pack(tuple(args))

    def _put_writes_command(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str
    ) -> bytes:
        conf = config["configurable"]
        tid, ns, cid = conf["thread_id"], conf.get("checkpoint_ns", ""), conf["checkpoint_id"]
        stored = self.writes[(tid, ns, cid)]
        args: list[Any] = ["MSET"]
        for i, (channel, _value) in enumerate(writes):
            idx = WRITES_IDX_MAP.get(channel, i)
            args.append(_key(tid, ns, cid, task_id, idx))
            args.append(stored[(task_id, idx)][2][1])
        return _pack(tuple(args))

    def _tuple_keys(self, tup: CheckpointTuple, out: list[Any]) -> None:
        conf = tup.config["configurable"]
        tid, ns = conf["thread_id"], conf.get("checkpoint_ns", "")
        cid = tup.checkpoint["id"]
        out.append(_key(tid, ns, cid, "c"))
        out.append(_key(tid, ns, cid, "m"))
        blobs = self.blobs
        for channel, version in tup.checkpoint["channel_versions"].items():
            if (tid, ns, channel, version) in blobs:
                out.append(_key(tid, ns, channel, version))
        for task_id, idx in self.writes.get((tid, ns, cid), {}):
            out.append(_key(tid, ns, cid, task_id, idx))

    def _read_command(
        self, config: RunnableConfig | None, tuples: Sequence[CheckpointTuple]
    ) -> bytes:
        args: list[Any] = ["MGET"]
        for tup in tuples:
            self._tuple_keys(tup, args)
        if len(args) == 1:  # nothing found: the question still costs a round trip
            conf = (config or {}).get("configurable", {})
            args.append(_key(conf.get("thread_id"), conf.get("checkpoint_ns", ""), "latest"))
        return _pack(tuple(args))

    # ------------------------------------------------------------------ sync API

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        out = InMemorySaver.put(self, config, checkpoint, metadata, new_versions)
        self._roundtrip(self._put_command(config, checkpoint, new_versions))
        return out

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        if not writes:
            return
        InMemorySaver.put_writes(self, config, writes, task_id, task_path)
        self._roundtrip(self._put_writes_command(config, writes, task_id))

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        tup = InMemorySaver.get_tuple(self, config)
        self._roundtrip(self._read_command(config, [tup] if tup else []))
        return tup

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        page: list[CheckpointTuple] = []
        asked = False
        for tup in InMemorySaver.list(self, config, filter=filter, before=before, limit=limit):
            page.append(tup)
            if len(page) == LIST_PAGE:
                self._roundtrip(self._read_command(config, page))
                asked = True
                yield from page
                page = []
        if page or not asked:
            self._roundtrip(self._read_command(config, page))
            yield from page

    # ------------------------------------------------------------------ async API

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        out = InMemorySaver.put(self, config, checkpoint, metadata, new_versions)
        await self._aroundtrip(self._put_command(config, checkpoint, new_versions))
        return out

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        if not writes:
            return
        InMemorySaver.put_writes(self, config, writes, task_id, task_path)
        await self._aroundtrip(self._put_writes_command(config, writes, task_id))

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        tup = InMemorySaver.get_tuple(self, config)
        await self._aroundtrip(self._read_command(config, [tup] if tup else []))
        return tup

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        page: list[CheckpointTuple] = []
        asked = False
        for tup in InMemorySaver.list(self, config, filter=filter, before=before, limit=limit):
            page.append(tup)
            if len(page) == LIST_PAGE:
                await self._aroundtrip(self._read_command(config, page))
                asked = True
                for item in page:
                    yield item
                page = []
        if page or not asked:
            await self._aroundtrip(self._read_command(config, page))
            for item in page:
                yield item
