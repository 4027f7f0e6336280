#!/usr/bin/env python
"""aredis-ckpt as of an older commit against this checkout, on the agent, beside the floor.

    python bench/versus.py e59596a             # the commit #11 was filed at, against now
    python bench/versus.py HEAD~3 --reps 30    # more batches

Before-and-after figures for a cut or a series of them, taken in one process on one private
redis-server: the floor (``_floor.FloorSaver``), the older saver and this checkout's run the
benchmark's ReAct agent (``_agent.agent``: fresh 5-turn conversations, the savers in rotated
order per repetition), sync savers first, then async ones.  Per saver: steps/s (median of the
batches) and its ratio to the floor's, the process's CPU per step and the Redis server's CPU
per step, each with what it adds to the floor's.  Machine drift between separate runs moved
the floor's own rate by 20% in a few minutes on this project's VM; interleaving in one run is
what makes the two versions comparable.

The older source comes from ``git archive <commit> src/aredis_ckpt``, copied as the package
``aredis_ckpt_base`` (every ``aredis_ckpt`` name in it renamed), so both versions load side by
side; each saver writes under its own key prefix in its own database.  Nothing here asserts.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import _agent  # noqa: E402
import _infra  # noqa: E402
import _savers  # noqa: E402

BASE_PACKAGE = "aredis_ckpt_base"


def extract_base(commit: str, into: Path) -> str:
    """The package as of ``commit``, importable as ``aredis_ckpt_base`` from ``into``; returns
    the commit's short hash."""
    short = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", commit],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "src/aredis_ckpt"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    package = into / BASE_PACKAGE
    (into / "src" / "aredis_ckpt").rename(package)
    name = re.compile(r"\baredis_ckpt\b")
    for path in package.rglob("*.py"):
        path.write_text(name.sub(BASE_PACKAGE, path.read_text()))
    return short


class BaseBackend(_savers.ARedisBackend):
    """The older saver (``aredis_ckpt_base``) on database ``db`` of the private server."""

    def __init__(self, server_url: str, db: int, short: str) -> None:
        super().__init__(server_url, db, 0)
        self.key = "base"
        self.sync_label = f"aredis {short} RedisSaver"
        self.async_label = f"aredis {short} AsyncRedisSaver"
        self.prefix = "base"

    def open(self, stack: contextlib.ExitStack, loop: _savers.Loop) -> None:
        base = __import__(BASE_PACKAGE)
        stack.callback(self.admin.close)
        sync = stack.enter_context(base.RedisSaver.from_conn_string(self.url, key_prefix="base"))
        sync.setup()
        astack = _savers._AsyncStack(loop)
        stack.callback(astack.close)
        asaver = astack.enter(base.AsyncRedisSaver.from_conn_string(self.url, key_prefix="base"))
        astack.call(asaver.asetup)
        self._add(sync, False)
        self._add(asaver, True)
        self.sync_saver = sync


def _server_cpu_per_step(r: Any, conversations: int) -> float:
    return statistics.median(s["cpu_usec"] for s in r.server) / (
        r.steps_per_conversation * conversations
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("commit", help="the older version (any git revision)")
    p.add_argument("--reps", type=int, default=20, help="batches per saver (default 20)")
    p.add_argument("--conversations", type=int, default=2, help="conversations per batch")
    p.add_argument("--turns", type=int, default=5, help="turns per conversation")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        short = extract_base(args.commit, Path(tmp))
        sys.path.insert(0, tmp)
        head = _infra.source_state(str(ROOT))  # with uncommitted changes to src/, if any
        loop = _savers.Loop()
        server = _infra.start_redis()
        try:
            backends: list[_savers.Backend] = [
                _savers.FloorBackend(server.url, 15),
                BaseBackend(server.url, 1, short),
                _savers.ARedisBackend(server.url, 0, 0),
            ]
            print(f"redis {server.version()}; {short} against this checkout ({head})")
            print(
                f"{'saver':48s} {'steps/s':>8s} {'÷ floor':>8s} "
                f"{'client CPU/step':>22s} {'server CPU/step':>20s}"
            )
            with contextlib.ExitStack() as stack:
                for b in backends:
                    b.open(stack, loop)
                for is_async in (False, True):
                    group = [s for b in backends for s in b.savers if s.is_async == is_async]
                    results = _agent.agent(
                        group,
                        loop,
                        reps=args.reps,
                        conversations=args.conversations,
                        turns=args.turns,
                        log=lambda _m: None,
                    )
                    floor = results[0]
                    f_rate = statistics.median(floor.rates)
                    f_cpu = statistics.median(floor.cpu)
                    f_srv = _server_cpu_per_step(floor, args.conversations)
                    for r in results:
                        rate = statistics.median(r.rates)
                        cpu = statistics.median(r.cpu)
                        srv = _server_cpu_per_step(r, args.conversations)
                        print(
                            f"{r.saver.label:48s} {rate:8.0f} {rate / f_rate:7.2f}× "
                            f"{cpu:9.0f} µs (+{cpu - f_cpu:4.0f} µs) "
                            f"{srv:7.0f} µs (+{srv - f_srv:4.0f} µs)",
                            flush=True,
                        )
        finally:
            server.stop()
            loop.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
