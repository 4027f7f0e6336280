"""Per-operation latency: put, put_writes, get_tuple (latest, by id) and a list page of 10.

Each saver is measured on threads pre-filled to each depth:

* a *read* thread of ``depth`` checkpoints, each with one task's pending writes (as an agent
  leaves them), read by ``get_tuple latest``, ``get_tuple by id`` (ids spread over the whole
  thread) and ``list(limit=10)``;
* a *write* thread that starts at ``depth`` checkpoints and receives the measured ``put``
  (a 9 KB ``messages`` value, as the agent stores every step) and ``put_writes`` calls, so the
  read thread never changes depth.

History is loaded through a saver of the same storage that may skip fsyncs (PostgreSQL with
``synchronous_commit=off``, SQLite with ``synchronous=OFF``); measurement uses the savers as
their users get them.  For the keyspace dimension the aredis history is copied (``COPY ... DB``)
into databases 1 and 2 of the same server, which then get ``DEBUG POPULATE`` unrelated keys,
so all keyspace sizes are measured in the same repetitions.

A repetition gives every (saver, depth) subject one batch of ``n`` calls of each operation; the
order of subjects is rotated from one repetition to the next so drift hits all alike.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from _data import Template, ThreadWriter, conf
from _savers import ARedisBackend, Backend, Loop, Saver

OPS = ("put", "put_writes", "get_tuple latest", "get_tuple by id", "list page of 10")
READ_OPS = ("get_tuple latest", "get_tuple by id", "list page of 10")

ns = time.perf_counter_ns


@dataclass
class Subject:
    saver: Saver
    depth: int
    read: ThreadWriter
    write: ThreadWriter
    samples: dict[str, list[float]] = field(default_factory=lambda: {op: [] for op in OPS})
    cursor: int = 0

    def by_id_config(self) -> dict[str, Any]:
        ids = self.read.ids
        # walk the thread with a stride coprime to its length: every region gets read
        self.cursor = (self.cursor + 7919) % len(ids)
        return conf(self.read.thread_id, ids[self.cursor])


def _sync_batch(subj: Subject, n: int) -> None:
    s = subj.saver.saver
    out = subj.samples
    latest = conf(subj.read.thread_id)
    for _ in range(n):
        t0 = ns()
        s.get_tuple(latest)
        out["get_tuple latest"].append((ns() - t0) / 1e3)
    for _ in range(n):
        cfg = subj.by_id_config()
        t0 = ns()
        s.get_tuple(cfg)
        out["get_tuple by id"].append((ns() - t0) / 1e3)
    for _ in range(n):
        t0 = ns()
        page = list(s.list(latest, limit=10))
        out["list page of 10"].append((ns() - t0) / 1e3)
    assert len(page) == 10, (subj.saver.key, len(page))
    w = subj.write
    for _ in range(n):
        args = w.next_put()
        t0 = ns()
        stored = s.put(*args)
        out["put"].append((ns() - t0) / 1e3)
        w.stored(stored)
    for _ in range(n):
        args2 = w.next_writes()
        t0 = ns()
        s.put_writes(*args2)
        out["put_writes"].append((ns() - t0) / 1e3)


async def _async_batch(subj: Subject, n: int) -> None:
    s = subj.saver.saver
    out = subj.samples
    latest = conf(subj.read.thread_id)
    for _ in range(n):
        t0 = ns()
        await s.aget_tuple(latest)
        out["get_tuple latest"].append((ns() - t0) / 1e3)
    for _ in range(n):
        cfg = subj.by_id_config()
        t0 = ns()
        await s.aget_tuple(cfg)
        out["get_tuple by id"].append((ns() - t0) / 1e3)
    for _ in range(n):
        t0 = ns()
        page = [x async for x in s.alist(latest, limit=10)]
        out["list page of 10"].append((ns() - t0) / 1e3)
    assert len(page) == 10, (subj.saver.key, len(page))
    w = subj.write
    for _ in range(n):
        args = w.next_put()
        t0 = ns()
        stored = await s.aput(*args)
        out["put"].append((ns() - t0) / 1e3)
        w.stored(stored)
    for _ in range(n):
        args2 = w.next_writes()
        t0 = ns()
        await s.aput_writes(*args2)
        out["put_writes"].append((ns() - t0) / 1e3)


def fill(
    backends: list[Backend],
    depths: list[int],
    template: Template,
    stack: contextlib.ExitStack,
    log: Callable[[str], None],
) -> tuple[dict[tuple[str, int], tuple[ThreadWriter, ThreadWriter]], dict[str, float]]:
    """Load the read and write threads of every depth into every backend.

    Returns the writers by (backend key, depth) and the seconds each backend's load took.
    The aredis databases with unrelated keys get a copy of database 0's history.
    """
    threads: dict[tuple[str, int], tuple[ThreadWriter, ThreadWriter]] = {}
    seconds: dict[str, float] = {}
    primary = [b for b in backends if not b.unrelated]
    copies = [b for b in backends if b.unrelated]
    for b in primary:
        t0 = time.perf_counter()
        filler = b.fill_saver(stack)
        for depth in depths:
            if b.max_depth is not None and depth > b.max_depth:
                continue
            read = ThreadWriter(template, b.sync_saver, f"bench-d{depth}-read")
            read.fill(filler, depth, writes=True)
            write = ThreadWriter(template, b.sync_saver, f"bench-d{depth}-write")
            write.fill(filler, depth, writes=False)
            threads[(b.key, depth)] = (read, write)
        seconds[b.key] = time.perf_counter() - t0
        log(f"  loaded {b.label}: depths {depths} in {seconds[b.key]:.1f} s")
    if copies:
        source = next(b for b in primary if isinstance(b, ARedisBackend))
        keys = list(source.admin.scan_iter(match=f"{source.prefix}:*", count=1000))
        for b in copies:
            assert isinstance(b, ARedisBackend)
            t0 = time.perf_counter()
            for k in keys:
                source.admin.copy(k, k, destination_db=b.db, replace=True)
            b.admin.execute_command("DEBUG", "POPULATE", b.unrelated, "unrelated", 100)
            for depth in depths:
                read, write = threads[(source.key, depth)]
                threads[(b.key, depth)] = (_clone(read, b), _clone(write, b))
            seconds[b.key] = time.perf_counter() - t0
            log(
                f"  {b.label}: copied {len(keys)} keys to db {b.db}, DEBUG POPULATE "
                f"{b.unrelated} (dbsize {b.admin.dbsize()}) in {seconds[b.key]:.1f} s"
            )
    return threads, seconds


def _clone(writer: ThreadWriter, backend: Backend) -> ThreadWriter:
    out = copy.copy(writer)
    out.ids = list(writer.ids)
    out.saver = backend.sync_saver
    return out


def measure(
    subjects: list[Subject],
    loop: Loop,
    reps: int,
    n: int,
    log: Callable[[str], None],
) -> None:
    count = len(subjects)
    # one warm-up batch each (connections, prepared plans, script cache), discarded
    for subj in subjects:
        _run(subj, loop, 2)
        for v in subj.samples.values():
            v.clear()
    for rep in range(reps):
        shift = (rep * count) // max(reps, 1)
        order = subjects[shift:] + subjects[:shift]
        t0 = time.perf_counter()
        for subj in order:
            gc.collect()
            _run(subj, loop, n)
        log(f"  repetition {rep + 1}/{reps}: {time.perf_counter() - t0:.1f} s")


def _run(subj: Subject, loop: Loop, n: int) -> None:
    if subj.saver.is_async:
        loop.run(_async_batch(subj, n))
    else:
        _sync_batch(subj, n)
