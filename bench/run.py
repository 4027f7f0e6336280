#!/usr/bin/env python
"""Benchmarks of aredis-ckpt against LangGraph's savers; regenerates ``docs/benchmarks.md``.

    python bench/run.py            # full run (about 10 minutes): docs/benchmarks.md, docs/bench/
    python bench/run.py --quick    # smoke run (about a minute) into bench/.quick/
    python bench/run.py --report-only [--out DIR]   # re-render from DIR/bench/results.json

Everything runs in one process against servers the run starts itself and removes afterwards:
a private redis-server (aredis-ckpt and the floor), a private Redis Stack server for the
official ``langgraph-checkpoint-redis`` (``scripts/redis-servers.py ensure stack-7.4``; or the
server $AREDIS_BENCH_OFFICIAL_REDIS_URL names, whose data it writes), a private PostgreSQL
(when its binaries exist), all on free loopback ports, and a SQLite file in a temporary
directory.  A saver that cannot run is skipped with the reason in the report.

Benchmarks are not tests: nothing here asserts on timings.  The report states whether each
target was met, with the numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

os.environ.setdefault("MPLBACKEND", "Agg")


@dataclass
class Config:
    depths: list[int]
    keyspaces: list[int]
    op_reps: int
    op_n: int
    agent_reps: int
    agent_conversations: int
    agent_turns: int
    fanout_sizes: list[int]
    fanout_reps: dict[int, int]
    storage_turns: int
    profile_n: int
    #: the official saver's put takes milliseconds: loading 10,000 checkpoints twice over
    #: would add minutes to the run, so its per-operation history stops here
    official_max_depth: int | None = None
    quick: bool = False
    workloads: list[str] = field(default_factory=list)


FULL = Config(
    depths=[10, 1_000, 10_000],
    keyspaces=[0, 200_000, 1_000_000],
    op_reps=10,
    op_n=16,
    agent_reps=20,
    agent_conversations=2,
    agent_turns=5,
    fanout_sizes=[10, 100, 1_000],
    fanout_reps={10: 5, 100: 2, 1_000: 1},
    storage_turns=50,
    profile_n=300,
    official_max_depth=1_000,
)
QUICK = Config(
    depths=[10, 200],
    keyspaces=[0, 20_000],
    op_reps=2,
    op_n=5,
    agent_reps=2,
    agent_conversations=1,
    agent_turns=5,
    fanout_sizes=[10, 30],
    fanout_reps={10: 1, 30: 1},
    storage_turns=10,
    profile_n=40,
    quick=True,
)
#: Database of the private Redis that the floor's round trips use (aredis uses 0, 15 and
#: one per keyspace size).
FLOOR_DB = 14
WORKLOADS = ("ops", "agent", "fanout", "storage", "roundtrips", "profile")

_T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[{time.monotonic() - _T0:7.1f}s] {msg}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small smoke run (about a minute)")
    p.add_argument(
        "--out",
        type=Path,
        help="report directory: <out>/benchmarks.md, <out>/bench/*.png, <out>/bench/results.json "
        "(default: docs/ for a full run, bench/.quick/ with --quick)",
    )
    p.add_argument(
        "--only",
        nargs="+",
        choices=WORKLOADS,
        help="run only these workloads (the report shows what ran)",
    )
    p.add_argument("--report-only", action="store_true", help="re-render from results.json")
    p.add_argument(
        "--max-wait",
        type=float,
        default=None,
        help="seconds to wait for the 1-minute load average to drop below --load-below "
        "(default 600 for a full run, 0 with --quick)",
    )
    p.add_argument("--load-below", type=float, default=1.0)
    p.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL even if present")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = QUICK if args.quick else FULL
    cfg.workloads = list(args.only or WORKLOADS)
    out = args.out or (HERE / ".quick" if args.quick else ROOT / "docs")
    out = out.resolve()
    results_path = out / "bench" / "results.json"

    import _report

    if args.report_only:
        results = json.loads(results_path.read_text())
        _report.write(results, out)
        log(f"re-rendered {out / 'benchmarks.md'}")
        return 0

    results = run(cfg, args)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results, indent=1, default=str) + "\n")
    _report.write(results, out)
    log(f"wrote {out / 'benchmarks.md'}, {results_path} and the plots in {out / 'bench'}")
    return 0


def run(cfg: Config, args: argparse.Namespace) -> dict[str, Any]:
    import _agent
    import _infra
    import _ops
    import _roundtrips
    import _savers
    import redis
    from _data import Template
    from _stats import summary

    started = dt.datetime.now(dt.timezone.utc)
    machine = _infra.machine()
    machine.source = _infra.source_state(str(ROOT))
    max_wait = args.max_wait if args.max_wait is not None else (0.0 if cfg.quick else 600.0)
    machine.waited_for_load_s = _infra.wait_for_quiet(args.load_below, max_wait, log)
    machine.load_before = os.getloadavg()
    log(f"load average {machine.load_before}; {machine.nproc} CPUs, {machine.cpu}")

    results: dict[str, Any] = {
        "config": asdict(cfg),
        "skipped": [],
        "errors": [],
        "phase_seconds": {},
    }
    skipped: list[dict[str, str]] = results["skipped"]

    template = Template.build(turns=5)
    loop = _savers.Loop()
    rserver = _infra.start_redis()
    machine.redis_version = rserver.version()
    pg: _infra.PostgresServer | None = None
    stack_holder: list[Any] = []  # the Redis Stack server the run started, if any
    workdir = _savers.temp_dir()
    try:
        backends: list[_savers.Backend] = [_savers.InMemoryBackend()]
        backends.append(_savers.FloorBackend(rserver.url, FLOOR_DB))
        backends.append(_savers.ARedisBackend(rserver.url, 0, 0))
        extra_dbs = [k for k in cfg.keyspaces if k] if "ops" in cfg.workloads else []
        for i, k in enumerate(extra_dbs, start=1):
            backends.append(_savers.ARedisBackend(rserver.url, i, k))
        backends.append(_savers.SqliteBackend(workdir))
        pg_bin = None if args.no_postgres else _infra.find_pg_bin()
        if pg_bin is None:
            reason = (
                "--no-postgres given"
                if args.no_postgres
                else "no PostgreSQL binaries (initdb, pg_ctl) found; set $AREDIS_BENCH_PG_BIN"
            )
            skipped.append({"saver": "PostgresSaver / AsyncPostgresSaver", "reason": reason})
            log(f"SKIP PostgreSQL: {reason}")
        else:
            try:
                pg = _infra.PostgresServer(pg_bin).start()
                machine.postgres_version = pg.version()
                machine.postgres_settings = _pg_settings(pg)
                backends.append(_savers.PostgresBackend(pg))
            except _infra.PostgresUnavailable as exc:
                skipped.append({"saver": "PostgresSaver / AsyncPostgresSaver", "reason": str(exc)})
                log(f"SKIP PostgreSQL: {exc}")
                pg = None
        off_backend = _official_backend(skipped, stack_holder)
        if off_backend is not None:
            off_backend.max_depth = cfg.official_max_depth
            backends.append(off_backend)
            deeper = [d for d in cfg.depths if d > (cfg.official_max_depth or d)]
            if deeper and "ops" in cfg.workloads:
                skipped.append(
                    {
                        "saver": "langgraph-checkpoint-redis (official), per-operation depths "
                        + ", ".join(f"{d:,}" for d in deeper),
                        "reason": "its put takes milliseconds: loading that history would "
                        "add minutes to the run",
                    }
                )
            machine.official_redis = _official_server(off_backend.admin)

        with contextlib.ExitStack() as stack:
            for b in backends:
                b.open(stack, loop)
            primary = [b for b in backends if not b.unrelated]
            sync_savers = [s for b in primary for s in b.savers if not s.is_async]
            async_savers = [s for b in primary for s in b.savers if s.is_async]
            results["savers"] = [
                {"key": s.key, "label": s.label, "backend": b.key, "async": s.is_async}
                for b in backends
                for s in b.savers
            ]

            def phase(name: str) -> Any:
                return _Phase(name, results)

            if "ops" in cfg.workloads:
                with phase("ops: load history"):
                    threads, fill_s = _ops.fill(backends, cfg.depths, template, stack, log)
                results["fill_seconds"] = fill_s
                # same depth and API side by side, so a rotation keeps the pairs compared
                # (aredis at each keyspace size, aredis and its peers) close in time
                subjects = [
                    _ops.Subject(s, d, *threads[(b.key, d)])
                    for d in cfg.depths
                    for is_async in (False, True)
                    for b in backends
                    for s in b.savers
                    if s.is_async == is_async and (b.key, d) in threads
                ]
                with phase("ops: measure"):
                    _ops.measure(subjects, loop, cfg.op_reps, cfg.op_n, log)
                results["per_op"] = [
                    {
                        "saver": subj.saver.key,
                        "label": subj.saver.label,
                        "backend": subj.saver.backend.key,
                        "family": _family(subj.saver.backend),
                        "async": subj.saver.is_async,
                        "depth": subj.depth,
                        "unrelated": subj.saver.backend.unrelated,
                        "op": op,
                        **summary(samples),
                    }
                    for subj in subjects
                    for op, samples in subj.samples.items()
                ]
                for b in backends:
                    if isinstance(b, _savers.ARedisBackend):
                        results.setdefault("redis_dbsize", {})[b.key] = b.admin.dbsize()

            if "agent" in cfg.workloads:
                with phase("agent"):
                    agent_rows = []
                    for group in (sync_savers, async_savers):
                        res = _agent.agent(
                            group,
                            loop,
                            reps=cfg.agent_reps,
                            conversations=cfg.agent_conversations,
                            turns=cfg.agent_turns,
                            log=log,
                        )
                        for r in res:
                            agent_rows.append(
                                {
                                    "saver": r.saver.key,
                                    "label": r.saver.label,
                                    "family": _family(r.saver.backend),
                                    "async": r.saver.is_async,
                                    "steps_per_conversation": r.steps_per_conversation,
                                    "steps": r.steps,
                                    "seconds": r.seconds,
                                    "rates": r.rates,
                                    **summary(r.rates),
                                    "cpu_per_step": summary(r.cpu),
                                    "cpu": r.cpu,
                                    "server": _server_per_turn(
                                        r.server,
                                        turns=cfg.agent_conversations * cfg.agent_turns,
                                        steps=cfg.agent_conversations * r.steps_per_conversation,
                                    ),
                                }
                            )
                    results["agent"] = agent_rows

            if "fanout" in cfg.workloads:
                with phase("fanout"):
                    runs = _agent.fanout(async_savers, loop, cfg.fanout_sizes, cfg.fanout_reps, log)
                results["fanout"] = [
                    {
                        "saver": r.saver.key,
                        "label": r.saver.label,
                        "family": _family(r.saver.backend),
                        "n": r.n,
                        "seconds": r.seconds,
                        "errors": r.errors,
                        **summary(r.seconds),
                    }
                    for r in runs
                ]

            if "storage" in cfg.workloads:
                with phase("storage"):
                    stored = [b for b in primary if not isinstance(b, _savers.FloorBackend)]
                    st = _agent.storage(stored, loop, cfg.storage_turns, log)
                    # the same conversation with compression off, in a database of its own
                    raw = _savers.ARedisBackend(rserver.url, 15, compress=False)
                    with contextlib.ExitStack() as raw_stack:
                        raw.open(raw_stack, loop)
                        st += _agent.storage([raw], loop, cfg.storage_turns, log)
                    results["compression"] = _agent.compression_cost(template, log)
                results["storage"] = [
                    {
                        "backend": r.backend.key,
                        "label": r.backend.label,
                        "family": _family(r.backend),
                        "checkpoints": r.checkpoints,
                        "store_delta": r.total_delta,
                        "thread": r.thread,
                        "seconds": r.seconds,
                        "compressed": r.backend.key != "aredis@uncompressed",
                    }
                    for r in st
                ]

            if "roundtrips" in cfg.workloads:
                with phase("roundtrips"):
                    rts = _roundtrips.aredis_counts(rserver.port, loop, template)
                    rts += _roundtrips.floor_counts(rserver.port, FLOOR_DB, loop, template)
                    if pg is not None:
                        rts += _roundtrips.postgres_counts(pg, loop, template)
                    rts += _roundtrips.sqlite_counts(
                        os.path.join(workdir, "roundtrips.sqlite"), loop, template
                    )
                    official = [b for b in backends if isinstance(b, _savers.OfficialRedisBackend)]
                    if official:
                        rts += _roundtrips.official_counts(official[0].url, loop, template)
                results["roundtrips"] = [asdict(r) for r in rts]

            if "profile" in cfg.workloads:
                import _profile

                with phase("profile"):
                    ar = next(b for b in primary if isinstance(b, _savers.ARedisBackend))
                    mem = next(b for b in primary if isinstance(b, _savers.InMemoryBackend))
                    results["profile"] = _profile.profile_ops(
                        ar.sync_saver, mem.sync_saver, ar.admin, template, cfg.profile_n, log
                    )
                    cpu_savers = [(s.label, s.saver, s.is_async) for b in primary for s in b.savers]
                    results["profile"]["client_cpu"] = _profile.client_cpu(
                        cpu_savers, loop, template, cfg.profile_n
                    )
                    for label, ops in results["profile"]["client_cpu"].items():
                        log(
                            f"  client CPU {label}: "
                            + ", ".join(
                                f"{op} {v['cpu']:.0f} us CPU / {v['wall']:.0f} us wall"
                                for op, v in ops.items()
                            )
                        )
            results["redis_info"] = _redis_memory(redis.Redis.from_url(rserver.url))
    except Exception as exc:
        results["errors"].append(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        log(f"ERROR {type(exc).__name__}: {exc}")
        raise
    finally:
        rserver.stop()
        for server in stack_holder:
            server.stop()
        if pg is not None:
            pg.stop()
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
        with contextlib.suppress(Exception):
            loop.close()

    machine.load_after = os.getloadavg()
    results["machine"] = machine.as_dict()
    results["started"] = started.isoformat(timespec="seconds")
    results["total_seconds"] = time.monotonic() - _T0
    results["command"] = "python bench/run.py" + (" --quick" if cfg.quick else "")
    log(f"done in {results['total_seconds']:.0f} s; load average now {machine.load_after}")
    return results


def _server_per_turn(
    batches: list[dict[str, Any]], *, turns: int, steps: int
) -> dict[str, Any] | None:
    """A Redis backend's server work per agent turn (and per step), over all batches of
    ``turns`` turns and ``steps`` steps each."""
    if not batches:
        return None
    n_turns = turns * len(batches)
    n_steps = steps * len(batches)
    by: dict[str, list[float]] = {}
    for b in batches:
        for name, (calls, usec) in b["by_command"].items():
            acc = by.setdefault(name, [0.0, 0.0])
            acc[0] += calls / n_turns
            acc[1] += usec / n_turns
    usec = sum(b["usec"] for b in batches)
    return {
        "turns": n_turns,
        "usec_per_turn": usec / n_turns,
        "usec_per_step": usec / max(n_steps, 1),
        "commands_per_turn": sum(b["commands"] for b in batches) / n_turns,
        "all_commands_per_turn": sum(b["all_commands"] for b in batches) / n_turns,
        "cpu_usec_per_turn": sum(b["cpu_usec"] for b in batches) / n_turns,
        "cpu_usec_per_step": sum(b["cpu_usec"] for b in batches) / max(n_steps, 1),
        "by_command": dict(sorted(by.items(), key=lambda kv: -kv[1][1])),
    }


def _official_server(admin: Any) -> str:
    """Version and modules of the official saver's server, as its INFO reports them."""
    version = admin.info("server").get("redis_version", "?")
    mods = ", ".join(
        f"{m[b'name'].decode()} {m[b'ver']}" for m in admin.module_list() if b"name" in m
    )
    return f"{version} ({mods})"


def _official_backend(skipped: list[dict[str, str]], servers: list[Any]) -> Any:
    """The official saver's backend on $AREDIS_BENCH_OFFICIAL_REDIS_URL or on a Redis Stack
    server of its own (appended to ``servers``); None, with the reason in ``skipped``."""
    import _infra
    import _savers

    what = "langgraph-checkpoint-redis (official)"
    reason = _savers.official_package_missing()
    url = _savers.official_url()
    if reason is None and url is None:
        try:
            server = _infra.start_stack()
        except _infra.StackUnavailable as exc:
            reason = str(exc)
        else:
            servers.append(server)
            url = server.url
    if reason is None and url is not None:
        reason = _savers.official_server_problem(url)
    if reason is not None:
        skipped.append({"saver": what, "reason": reason})
        log(f"SKIP {what}: {reason}")
        return None
    assert url is not None
    return _savers.OfficialRedisBackend(url)


class _Phase:
    def __init__(self, name: str, results: dict[str, Any]) -> None:
        self.name = name
        self.results = results

    def __enter__(self) -> None:
        log(f"== {self.name}")
        self.t0 = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        self.results["phase_seconds"][self.name] = time.monotonic() - self.t0


def _family(backend: Any) -> str:
    key: str = backend.key
    return key.split("@", 1)[0]


def _pg_settings(pg: Any) -> str:
    import psycopg

    names = ("fsync", "synchronous_commit", "shared_buffers", "wal_level")
    with psycopg.connect(pg.url) as conn:
        vals = [f"{n}={conn.execute(f'SHOW {n}').fetchone()[0]}" for n in names]  # type: ignore[index]
    return ", ".join(vals)


def _redis_memory(client: Any) -> dict[str, Any]:
    try:
        info = client.info("memory")
        return {"used_memory_human": info.get("used_memory_human")}
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
