"""Migration throughput: checkpoints per second copied into aredis-ckpt from each source.

    python bench/migrate.py [--threads 20] [--depth 50] [--rounds 3] [--json FILE]

Each source is filled with ``--threads`` threads of ``--depth`` checkpoints of the benchmark
agent's 20-message state (about 9 KB serialized, ``bench/_data.py``), each checkpoint with one
task's pending writes, then copied into a fresh prefix on a private redis-server with
``copy_checkpoints`` and ``acopy_checkpoints``, rounds interleaved; the copy is then verified.
Sources: SQLite (``SqliteSaver`` file), aredis-ckpt under another prefix (another server), and
the official ``langgraph-checkpoint-redis`` on Redis Stack when ``$AREDIS_STACK_SERVER`` names
its binary (``scripts/redis-servers.py ensure stack-7.4``).  Needs the ``bench`` extra and
``langgraph-checkpoint-redis``.  Not a test: nothing is asserted on timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import Template, ThreadWriter
from _infra import start_redis

from aredis_ckpt import AsyncRedisSaver, RedisSaver
from aredis_ckpt._server import RedisServer
from aredis_ckpt.migrate import (
    acopy_checkpoints,
    copy_checkpoints,
    verify_checkpoints,
)


def _fill(saver: Any, template: Template, threads: int, depth: int) -> None:
    for t in range(threads):
        ThreadWriter(template, saver, f"thread-{t}").fill(saver, depth)


@contextmanager
def _sqlite(stack: ExitStack, template: Template, threads: int, depth: int) -> Iterator[Any]:
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = os.path.join(stack.enter_context(tempfile.TemporaryDirectory()), "source.db")
    with SqliteSaver.from_conn_string(path) as saver:
        _fill(saver, template, threads, depth)
        yield saver, saver


@contextmanager
def _aredis(stack: ExitStack, template: Template, threads: int, depth: int) -> Iterator[Any]:
    server = stack.enter_context(RedisServer())
    with RedisSaver.from_conn_string(server.url, key_prefix="old") as saver:
        saver.setup()
        _fill(saver, template, threads, depth)
        yield saver, ("aredis", server.url)


@contextmanager
def _official(stack: ExitStack, template: Template, threads: int, depth: int) -> Iterator[Any]:
    from langgraph.checkpoint.redis import RedisSaver as OfficialRedisSaver

    server = stack.enter_context(RedisServer(os.environ["AREDIS_STACK_SERVER"]))
    with OfficialRedisSaver.from_conn_string(server.url) as saver:
        saver.setup()
        _fill(saver, template, threads, depth)
        yield saver, ("official", server.url)


SOURCES: dict[str, Callable[..., Any]] = {
    "SQLite (SqliteSaver)": _sqlite,
    "aredis-ckpt, another server": _aredis,
    "official langgraph-checkpoint-redis (Redis Stack 7.4)": _official,
}


async def _async_copy(source: Any, url: str, prefix: str) -> tuple[float, Any]:
    async with AsyncRedisSaver.from_conn_string(url, key_prefix=prefix) as target:
        await target.asetup()
        started = time.perf_counter()
        report = await acopy_checkpoints(source, target)
        return time.perf_counter() - started, report


def _run_async(spec: Any, url: str, prefix: str) -> tuple[float, Any]:
    async def main() -> tuple[float, Any]:
        if isinstance(spec, tuple) and spec[0] == "official":
            from langgraph.checkpoint.redis.aio import AsyncRedisSaver as OfficialAsync

            async with OfficialAsync.from_conn_string(spec[1]) as source:
                return await _async_copy(source, url, prefix)
        if isinstance(spec, tuple):
            source = AsyncRedisSaver(spec[1], key_prefix="old")
            try:
                return await _async_copy(source, url, prefix)
            finally:
                await source.aclose()
        return await _async_copy(spec, url, prefix)  # a sync saver, read on worker threads

    return asyncio.run(main())


def measure(
    threads: int, depth: int, rounds: int, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    template = Template.build()
    results = []
    target_server = start_redis()
    try:
        for name, opener in SOURCES.items():
            if "official" in name and not os.environ.get("AREDIS_STACK_SERVER"):
                log(f"skip {name}: $AREDIS_STACK_SERVER is not set")
                continue
            with ExitStack() as stack:
                started = time.perf_counter()
                saver, spec = stack.enter_context(opener(stack, template, threads, depth))
                log(f"{name}: filled {threads} x {depth} in {time.perf_counter() - started:.1f} s")
                sync_s, async_s, verify_s = [], [], []
                for r in range(rounds):
                    target_server.command("FLUSHALL")
                    with RedisSaver.from_conn_string(
                        target_server.url, key_prefix=f"s{r}"
                    ) as target:
                        target.setup()
                        t0 = time.perf_counter()
                        report = copy_checkpoints(saver, target)
                        sync_s.append(time.perf_counter() - t0)
                        assert report.checkpoints == threads * depth and not report.failed
                        t0 = time.perf_counter()
                        verified = verify_checkpoints(saver, target)
                        verify_s.append(time.perf_counter() - t0)
                        assert verified.ok, verified.differences[:3]
                    seconds, report = _run_async(spec, target_server.url, f"a{r}")
                    async_s.append(seconds)
                    assert report.checkpoints == threads * depth and not report.failed
                n = threads * depth
                row = {
                    "source": name,
                    "checkpoints": n,
                    "copy_sync_per_s": round(n / statistics.median(sync_s)),
                    "copy_async_per_s": round(n / statistics.median(async_s)),
                    "verify_per_s": round(n / statistics.median(verify_s)),
                }
                log(json.dumps(row))
                results.append(row)
    finally:
        target_server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    # private throwaway servers: setup()'s warning about their missing persistence is expected
    logging.getLogger("aredis_ckpt").setLevel(logging.ERROR)
    rows = measure(args.threads, args.depth, args.rounds, lambda m: print(m, file=sys.stderr))
    print("| source | checkpoints | copy, sync (checkpoints/s) | copy, async | verify |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['source']} | {row['checkpoints']:,} | {row['copy_sync_per_s']:,} | "
            f"{row['copy_async_per_s']:,} | {row['verify_per_s']:,} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
