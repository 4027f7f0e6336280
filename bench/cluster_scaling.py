#!/usr/bin/env python
"""How the saver's load spreads over the masters of a Redis Cluster; writes docs/cluster-scaling.md.

    python bench/cluster_scaling.py --label after      # measure the installed code, re-render
    python bench/cluster_scaling.py --report-only      # re-render from the stored results

A private 3-master + 3-replica cluster (``aredis_ckpt._server.ClusterServers``) runs the
benchmark's ReAct agent (``bench/_graphs.py``) with the sync ``RedisSaver``: ``--threads``
conversations of ``--turns`` turns each, one after the other, once per configuration (no TTL,
TTL, TTL with ``refresh_on_read``), each on a fresh key prefix.  Per master it records the
EVALSHA calls and their server time (every command is logged by SLOWLOG with a threshold of 0,
so each script's time is attributed to the script by its SHA), the server's CPU
(``used_cpu_sys + used_cpu_user`` of INFO cpu) and the share of the conversation threads whose
slot the master serves.  Round trips per operation are the client's sends (a pipeline is one
send), counted on the connections; ``COMMAND`` calls are read from the servers' statistics.

The projection to N masters models the measured work as two parts: the thread scripts, which
follow their threads' slots (spread evenly over many threads), and the shared-index work
(``shared_apply`` in schema 1, the bucket scripts in schema 2), which lands on the nodes
serving the shared slots.  With N masters splitting the slots into N contiguous equal ranges
(as ``ClusterServers`` and ``redis-cli --cluster create`` do), a master's share of the work is
``(1 - s) * slots_i / 16384 + s * shared_i`` (``s``: the shared work's fraction of all script
time, ``shared_i``: the fraction of the shared work master i serves), and the cluster's
throughput relative to one node is ``1 / max_i share_i``.  Schema 1 keeps all shared work in
one slot (``shared_i = 1`` on one node: ``s + (1 - s) / N``, the issue's formula).

Results are kept per label (``before``: the code of ``main`` before schema 2, ``after``) in
``docs/bench/cluster_scaling.json``; nothing here asserts on timings.  The ``before`` figures
were measured with the same script on an export of that commit's ``src``::

    git archive 84658ca src | tar -x -C /tmp/main
    PYTHONPATH=/tmp/main/src python bench/cluster_scaling.py --label before --commit "main 84658ca"
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("MPLBACKEND", "Agg")

SLOTS = 16384
CONFIGS: dict[str, dict[str, Any] | None] = {
    "no TTL": None,
    "TTL": {"default_ttl": 60},
    "TTL + refresh_on_read": {"default_ttl": 60, "refresh_on_read": True},
}
#: scripts that update the shared indexes (schema 1: one slot; schema 2: the buckets)
SHARED_SCRIPTS = {"shared_apply", "bucket"}
PROJECT_N = [1, 3, 6, 10, 15, 20, 30, 50, 64]


def _slot_of(key: bytes) -> int:
    from redis.crc import key_slot

    return int(key_slot(key))


def _even_ranges(n: int) -> list[tuple[int, int]]:
    """Slot ranges of n masters as ClusterServers assigns them."""
    per = SLOTS // n
    return [(i * per, SLOTS - 1 if i == n - 1 else i * per + per - 1) for i in range(n)]


def _master_of(slot: int, ranges: list[tuple[int, int]]) -> int:
    for i, (lo, hi) in enumerate(ranges):
        if lo <= slot <= hi:
            return i
    raise ValueError(slot)


class Sends:
    """Counts packed sends on every redis-py connection (sync and asyncio)."""

    def __init__(self) -> None:
        self.n = 0
        from redis.asyncio.connection import AbstractConnection as AsyncConn
        from redis.connection import AbstractConnection

        counter = self
        sync_send = AbstractConnection.send_packed_command
        async_send = AsyncConn.send_packed_command

        def send(self: Any, *a: Any, **k: Any) -> Any:
            counter.n += 1
            return sync_send(self, *a, **k)

        async def asend(self: Any, *a: Any, **k: Any) -> Any:
            counter.n += 1
            return await async_send(self, *a, **k)

        AbstractConnection.send_packed_command = send  # type: ignore[method-assign]
        AsyncConn.send_packed_command = asend  # type: ignore[method-assign]


def _script_names() -> dict[str, str]:
    from aredis_ckpt._scripts import SCRIPTS

    return {s.sha: s.name for s in SCRIPTS.all()}


def _schema_version() -> int:
    from aredis_ckpt._config import SCHEMA_VERSION

    return int(SCHEMA_VERSION)


def _saver_kwargs(ttl: dict[str, Any] | None, prefix: str) -> dict[str, Any]:
    return {"cluster": True, "key_prefix": prefix, "ttl": ttl}


def run_config(
    cluster: Any, ttl: dict[str, Any] | None, threads: int, turns: int, log: Any
) -> dict[str, Any]:
    from _graphs import build_agent, turn_input
    from redis import Redis

    from aredis_ckpt import RedisSaver

    masters = cluster.nodes[:3]
    admins = [Redis(host="127.0.0.1", port=m.port) for m in masters]
    prefix = f"scale-{uuid.uuid4().hex[:8]}"
    names = _script_names()
    thread_ids = [f"agent-{i}" for i in range(threads)]
    ranges = [_node_ranges(a) for a in admins]
    owner = []
    for t in thread_ids:
        slot = _slot_of(f"{prefix}:{{{t}}}:t".encode())
        owner.append(
            next(i for i, rs in enumerate(ranges) if any(lo <= slot <= hi for lo, hi in rs))
        )
    with RedisSaver.from_conn_string(cluster.url, **_saver_kwargs(ttl, prefix)) as saver:
        saver.setup()
        graph = build_agent(saver)
        graph.invoke(turn_input(0), {"configurable": {"thread_id": "warm-up"}})
        for a in admins:
            a.config_set("slowlog-log-slower-than", 0)
            a.config_set("slowlog-max-len", 1_000_000)
            a.slowlog_reset()
            a.config_resetstat()
        cpu0 = [_cpu(a) for a in admins]
        t0 = time.perf_counter()
        for t in thread_ids:
            config = {"configurable": {"thread_id": t}}
            for turn in range(turns):
                graph.invoke(turn_input(turn), config)
        seconds = time.perf_counter() - t0
        cpu1 = [_cpu(a) for a in admins]
        per_master = []
        for i, a in enumerate(admins):
            durations: dict[str, list[int]] = defaultdict(list)
            other_usec = 0
            for entry in a.slowlog_get(-1):
                cmd = entry["command"]
                parts = cmd.split(b" ") if isinstance(cmd, bytes) else str(cmd).encode().split(b" ")
                name = parts[0].decode().upper()
                if name == "EVALSHA":
                    sha = parts[1].decode()
                    durations[names.get(sha, sha[:8])].append(entry["duration"])
                elif len(parts) > 1 and b"{%B" in parts[1]:
                    # a plain command on a bucket key (put without a ttl on a cluster)
                    durations[f"bucket {name}"].append(entry["duration"])
                elif name not in ("SLOWLOG", "CONFIG", "INFO"):
                    other_usec += entry["duration"]
            by_script = {
                k: {
                    "calls": len(v),
                    "usec": sum(v),
                    "median_usec": statistics.median(v),
                }
                for k, v in durations.items()
            }
            stats = a.info("commandstats")
            per_master.append(
                {
                    "port": masters[i].port,
                    "threads": owner.count(i),
                    "evalsha_calls": int(stats.get("cmdstat_evalsha", {}).get("calls", 0)),
                    "evalsha_usec": int(stats.get("cmdstat_evalsha", {}).get("usec", 0)),
                    "scripts": by_script,
                    "other_usec": other_usec,
                    "command_calls": sum(
                        int(v.get("calls", 0))
                        for k, v in stats.items()
                        if k.startswith("cmdstat_command")
                    ),
                    "cpu": cpu1[i] - cpu0[i],
                }
            )
            a.config_set("slowlog-log-slower-than", 10_000)
            a.slowlog_reset()
    for a in admins:
        a.close()
    log(f"  {threads} threads x {turns} turns in {seconds:.1f} s")
    return {"per_master": per_master, "seconds": seconds}


def _node_ranges(admin: Any) -> list[tuple[int, int]]:
    for line in admin.execute_command("CLUSTER", "NODES").decode().splitlines():
        fields = line.split()
        if "myself" in fields[2]:
            out = []
            for part in fields[8:]:
                lo, _, hi = part.partition("-")
                if lo.isdigit():
                    out.append((int(lo), int(hi or lo)))
            return out
    return []


def _cpu(admin: Any) -> float:
    info = admin.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def measure_roundtrips(cluster: Any, log: Any) -> dict[str, Any]:
    """Client sends and server COMMAND calls per operation on the cluster, both savers."""
    import anyio
    from langgraph.checkpoint.base import empty_checkpoint
    from langgraph.checkpoint.base.id import uuid6
    from redis import Redis

    from aredis_ckpt import AsyncRedisSaver, RedisSaver

    counter = Sends()
    admins = [Redis(host="127.0.0.1", port=m.port) for m in cluster.nodes[:3]]

    def commands() -> int:
        total = 0
        for a in admins:
            stats = a.info("commandstats")
            total += sum(
                int(v.get("calls", 0)) for k, v in stats.items() if k.startswith("cmdstat_command")
            )
        return total

    def checkpoint(i: int) -> Any:
        cp = empty_checkpoint()
        cp["id"] = str(uuid6(clock_seq=-1))
        cp["channel_values"] = {"messages": [f"m{j}" for j in range(i + 1)]}
        cp["channel_versions"] = {"messages": i + 1}
        return cp

    out: dict[str, Any] = {}

    def sync_ops(saver: Any) -> dict[str, list[int]]:
        res: dict[str, list[int]] = {}

        def measure(op: str, fn: Any) -> None:
            c0 = commands()
            s0 = counter.n
            fn()
            sends = counter.n - s0
            res[op] = [sends, commands() - c0]

        parent = None
        for i in range(3):
            for t in range(40):
                conf = {"configurable": {"thread_id": f"rt-{t}", "checkpoint_ns": ""}}
                saver.put(conf, checkpoint(i), {"step": i, "run_id": "r"}, {"messages": i + 1})
        conf = {"configurable": {"thread_id": "rt-0", "checkpoint_ns": ""}}
        stored = saver.put(conf, checkpoint(5), {"step": 5}, {"messages": 6})
        parent = stored
        measure("put", lambda: saver.put(parent, checkpoint(6), {"step": 6}, {"messages": 7}))
        measure("put_writes", lambda: saver.put_writes(stored, [("a", 1)], "task"))
        measure("get_tuple", lambda: saver.get_tuple(conf))
        measure("list(thread, limit=10)", lambda: list(saver.list(conf, limit=10)))
        measure("list(None, limit=100)", lambda: list(saver.list(None, limit=100)))
        return res

    async def async_ops(saver: Any) -> dict[str, list[int]]:
        res: dict[str, list[int]] = {}

        async def measure(op: str, coro: Any) -> None:
            c0 = commands()
            s0 = counter.n
            await coro
            sends = counter.n - s0
            res[op] = [sends, commands() - c0]

        for i in range(3):
            for t in range(40):
                conf = {"configurable": {"thread_id": f"rt-{t}", "checkpoint_ns": ""}}
                await saver.aput(conf, checkpoint(i), {"step": i}, {"messages": i + 1})
        conf = {"configurable": {"thread_id": "rt-0", "checkpoint_ns": ""}}
        stored = await saver.aput(conf, checkpoint(5), {"step": 5}, {"messages": 6})
        await measure("put", saver.aput(stored, checkpoint(6), {"step": 6}, {"messages": 7}))
        await measure("put_writes", saver.aput_writes(stored, [("a", 1)], "task"))
        await measure("get_tuple", saver.aget_tuple(conf))

        async def drain(it: Any) -> None:
            async for _ in it:
                pass

        await measure("list(thread, limit=10)", drain(saver.alist(conf, limit=10)))
        await measure("list(None, limit=100)", drain(saver.alist(None, limit=100)))
        return res

    prefix = f"rt-{uuid.uuid4().hex[:8]}"
    with RedisSaver.from_conn_string(cluster.url, cluster=True, key_prefix=prefix) as saver:
        saver.setup()
        out["sync"] = sync_ops(saver)

    async def run_async() -> dict[str, list[int]]:
        prefix2 = f"rt-{uuid.uuid4().hex[:8]}"
        async with AsyncRedisSaver.from_conn_string(
            cluster.url, cluster=True, key_prefix=prefix2
        ) as saver:
            await saver.asetup()
            return await async_ops(saver)

    out["async"] = anyio.run(run_async)
    for a in admins:
        a.close()
    log(f"  round trips: {out}")
    return out


# --------------------------------------------------------------------------- analysis


def shares(per_master: list[dict[str, Any]], key: str) -> list[float]:
    vals = [float(m[key]) for m in per_master]
    total = sum(vals) or 1.0
    return [v / total for v in vals]


def _puts(per_master: list[dict[str, Any]]) -> int:
    return max(1, sum(int(m["scripts"].get("put", {}).get("calls", 0)) for m in per_master))


def _work(rec: dict[str, Any]) -> float:
    """A script's (or command's) server time on one master: calls x median call time, so that
    the preemption spikes of a busy shared machine do not count as work (raw sums are in the
    JSON)."""
    if "median_usec" in rec:
        return float(rec["calls"]) * float(rec["median_usec"])
    return float(rec["usec"])


def script_usec(m: dict[str, Any]) -> float:
    return sum(_work(s) for s in m["scripts"].values())


def _shared(name: str) -> bool:
    return name in SHARED_SCRIPTS or name.startswith("bucket")


def shared_usec(m: dict[str, Any]) -> float:
    return sum(_work(s) for n, s in m["scripts"].items() if _shared(n))


def shared_fraction(per_master: list[dict[str, Any]]) -> float:
    total = sum(script_usec(m) for m in per_master) or 1.0
    return sum(shared_usec(m) for m in per_master) / total


def shared_distribution(schema: int, n: int) -> list[float]:
    """Fraction of the shared-index work each of n masters serves (many threads, even ranges)."""
    ranges = _even_ranges(n)
    if schema == 1:
        # one slot, {%G}
        out = [0.0] * n
        out[_master_of(_slot_of(b"{%G}"), ranges)] = 1.0
        return out
    from aredis_ckpt import _keys

    out = [0.0] * n
    for b in range(_keys.BUCKETS):
        # bucket b holds the threads whose slots fall in block b (1/BUCKETS of the threads)
        slot = _slot_of(b"{" + _keys.BUCKET_TAGS[b] + b"}")
        out[_master_of(slot, ranges)] += 1.0 / _keys.BUCKETS
    return out


def model_shares(schema: int, s: float, results: dict[str, Any]) -> list[float]:
    """The model's per-master share of script time for the measured workload (3 masters)."""
    ranges = _even_ranges(3)
    threads = [f"agent-{i}" for i in range(int(results.get("threads", 40)))]
    own = [0.0, 0.0, 0.0]
    shared = [0.0, 0.0, 0.0]
    for t in threads:
        slot = _slot_of(f"{{{t}}}".encode())
        own[_master_of(slot, ranges)] += 1 / len(threads)
        if schema == 1:
            where = _slot_of(b"{%G}")
        else:
            from aredis_ckpt import _keys

            tag = _keys.BUCKET_TAGS[slot // _keys.BLOCK]
            where = _slot_of(b"{" + tag + b"}")
        shared[_master_of(where, ranges)] += 1 / len(threads)
    return [(1 - s) * o + s * h for o, h in zip(own, shared, strict=True)]


def projection(schema: int, s: float, n: int) -> float:
    """Throughput of n masters relative to one node, for shared-work fraction s."""
    ranges = _even_ranges(n)
    dist = shared_distribution(schema, n)
    worst = max((1 - s) * (hi - lo + 1) / SLOTS + s * dist[i] for i, (lo, hi) in enumerate(ranges))
    return 1.0 / worst


# --------------------------------------------------------------------------- report


def fmt_share(xs: list[float]) -> str:
    return " / ".join(f"{x:.2f}" for x in xs)


def render(results: dict[str, Any], out: Path) -> None:
    md: list[str] = ["# Scaling out on Redis Cluster"]
    md.append(
        "_Generated by `python bench/cluster_scaling.py`; raw numbers in "
        "[`bench/cluster_scaling.json`](bench/cluster_scaling.json). Do not edit by hand._"
    )
    md.append(
        "A private 3-master + 3-replica Redis Cluster (loopback, Redis "
        f"{results.get('redis', '?')}, slots split in three equal contiguous ranges) runs "
        "LangGraph's prebuilt ReAct agent (`bench/_graphs.py`, a deterministic fake chat model) "
        "with the sync `RedisSaver`: each configuration runs "
        f"{results.get('threads', '?')} conversations (`agent-0` … `agent-"
        f"{results.get('threads', 1) - 1}`) of {results.get('turns', '?')} turns on a fresh key "
        "prefix. Per master: its share of the conversation threads (by slot), of the EVALSHA "
        "calls, of the scripts' server time (SLOWLOG at threshold 0: every call's time, "
        "attributed per script) and of the server process's CPU (`used_cpu_sys + "
        "used_cpu_user`). The workload's threads do not split evenly over three masters (that "
        "is the first column); an even spread of the work matches it."
    )
    md.append(
        "**Schema 1** (`before`, the code on `main` before this change) kept the shared indexes "
        "(all-threads index, run index, TTL bookkeeping) in one slot, `{%G}`, updated by a "
        "second script (`shared_apply`) after every `put` — and with a TTL after every "
        "`put_writes` (and `get_tuple` with `refresh_on_read`). **Schema 2** (`after`) splits "
        "them into 64 buckets, bucket *b* holding the threads whose slot falls in the *b*-th "
        "block of 256 slots, its keys tagged so that they hash into that same block: a "
        "thread's bucket is served by the thread's own master unless a master's range ends "
        "inside the block. `put` sends the thread script and the bucket update (plain "
        "`ZADD`/`SADD` without a TTL, the bucket script with one) in one pipeline per node "
        "(usually one node); `put_writes` and `get_tuple` write nothing shared."
    )
    for label in ("before", "after"):
        res = results.get(label)
        if not res:
            continue
        md.append(f"## {label}: schema {res['schema']} ({res.get('commit', '?')})")
        rows = []
        for name, cfg in _ordered(res["configs"]):
            pm = cfg["per_master"]
            thr = [m["threads"] / max(1, sum(x["threads"] for x in pm)) for m in pm]
            sc = [script_usec(m) for m in pm]
            tot = sum(sc) or 1.0
            rows.append(
                [
                    name,
                    fmt_share(thr),
                    fmt_share(shares(pm, "evalsha_calls")),
                    fmt_share([x / tot for x in sc]),
                    fmt_share(shares(pm, "cpu")),
                    f"{max(x / tot for x in sc):.2f}",
                    fmt_share(model_shares(res["schema"], shared_fraction(pm), results)),
                    f"{shared_fraction(pm):.3f}",
                    f"{sum(m['evalsha_calls'] for m in pm) / _puts(pm):.2f}",
                ]
            )
        md.append(
            _table(
                [
                    "config",
                    "threads",
                    "EVALSHA calls",
                    "script time",
                    "CPU",
                    "max script-time share",
                    "model's script time",
                    "shared fraction s",
                    "EVALSHA per put",
                ],
                rows,
            )
        )
        md.append(
            "Shares are per master (the three masters in slot order); *s* is the shared-index "
            "work's fraction of all script time (the bucket scripts and, without a TTL, the "
            "plain `ZADD`/`SADD` a cluster `put` sends to its bucket). *Model's script time* is "
            "what the projection's model (below) predicts for this very workload: "
            "`(1 − s)·threads_i + s·shared_i`, with `shared_i` the share of the 40 threads "
            "whose shared slot (`{%G}`, or the thread's bucket) master *i* serves. Script time "
            "is, per script and master, calls × median call time (SLOWLOG), so that the "
            "preemption spikes of a busy shared machine do not count as work; CPU is the "
            "server processes' own."
        )
        detail = []
        for name, cfg in _ordered(res["configs"]):
            for i, m in enumerate(cfg["per_master"]):
                scripts = ", ".join(
                    f"{k} {v['calls']}×{_work(v) / max(1, v['calls']):.0f} µs"
                    for k, v in sorted(m["scripts"].items())
                )
                detail.append([name, str(i + 1), scripts])
        md.append("<details><summary>Per-script calls × median server time</summary>\n")
        md.append(_table(["config", "master", "scripts"], detail))
        md.append("</details>")
        if res.get("roundtrips"):
            rt = res["roundtrips"]
            ops = list(rt["sync"])
            md.append(
                "Round trips per operation on the cluster (client sends; a pipeline to one node "
                "is one send, sends to several nodes go out before any reply is read) and "
                "`COMMAND` calls the client made the servers answer:"
            )
            md.append(
                _table(
                    ["operation", "RedisSaver sends", "COMMAND calls", "AsyncRedisSaver sends"],
                    [
                        [
                            op,
                            str(rt["sync"][op][0]),
                            str(rt["sync"][op][1]),
                            str(rt["async"][op][0]),
                        ]
                        for op in ops
                    ],
                )
            )
    md.append("## Projection to N masters")
    md.append(
        "Model (see the script's docstring): the thread scripts follow their threads, spread "
        "evenly over the slots when there are many threads; the shared-index work *s* lands "
        "where the shared slots are. With N masters on equal contiguous slot ranges, master "
        "*i* carries `(1 − s)·slots_i/16384 + s·shared_i` of the work and the cluster's "
        "throughput is `1 / max_i` of that, relative to one node. Schema 1: all shared work "
        "on one node (`s + (1 − s)/N`). Schema 2: bucket *b* carries the threads of slot "
        "block *b*, so `shared_i` is the number of buckets master *i* serves ÷ 64. *s* is "
        "each configuration's measured fraction; many threads are assumed (spread evenly "
        "over the slots), which the 40-thread workload above is not (its first column)."
    )
    proj_rows = []
    series = {}
    for label in ("before", "after"):
        res = results.get(label)
        if not res:
            continue
        for name, cfg in _ordered(res["configs"]):
            s = shared_fraction(cfg["per_master"])
            vals = [projection(res["schema"], s, n) for n in PROJECT_N]
            series[f"{label}: {name} (s={s:.3f})"] = vals
            proj_rows.append([label, name, f"{s:.3f}", *[f"{v:.1f}×" for v in vals]])
    md.append(_table(["code", "config", "s", *[f"N={n}" for n in PROJECT_N]], proj_rows))
    if series:
        png = _plot(series, out / "bench" / "cluster_scaling.png")
        if png:
            md.append("![projected throughput](bench/cluster_scaling.png)")
    md.append("## Targets")
    trows = []
    after = results.get("after")
    if after:
        for name, cfg in _ordered(after["configs"]):
            sc = [script_usec(m) for m in cfg["per_master"]]
            worst = max(sc) / (sum(sc) or 1)
            s = shared_fraction(cfg["per_master"])
            p30 = projection(after["schema"], s, 30)
            trows.append(
                [
                    f"{name}: max master share of script time ≤ 0.40",
                    f"{worst:.2f}",
                    "yes" if worst <= 0.40 else "**no**",
                ]
            )
            trows.append(
                [
                    f"{name}: projected throughput at 30 masters ≥ 24× one node",
                    f"{p30:.1f}×",
                    "yes" if p30 >= 24 else "**no**",
                ]
            )
        rt = after.get("roundtrips")
        if rt:
            for api in ("sync", "async"):
                for op in ("put", "put_writes", "get_tuple"):
                    n = rt[api][op][0]
                    trows.append(
                        [
                            f"{api} {op}: 1 round trip on a cluster",
                            str(n),
                            "yes" if n == 1 else "**no**",
                        ]
                    )
    md.append(_table(["target", "measured", "met"], trows))
    (out / "cluster-scaling.md").write_text("\n\n".join(md) + "\n")


def _ordered(configs: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(name, configs[name]) for name in CONFIGS if name in configs]


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _plot(series: dict[str, list[float]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(PROJECT_N, PROJECT_N, color="0.7", linestyle=":", label="linear")
    for name, vals in series.items():
        style = "--" if name.startswith("before") else "-"
        ax.plot(PROJECT_N, vals, style, marker="o", markersize=3, label=name)
    ax.set_xlabel("masters")
    ax.set_ylabel("throughput relative to one node")
    ax.set_title("Projected cluster throughput (agent workload)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--label", choices=["before", "after"], default="after")
    ap.add_argument("--threads", type=int, default=40)
    ap.add_argument("--turns", type=int, default=10)
    ap.add_argument("--out", default=str(ROOT / "docs"))
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--commit", help="what to call the measured code (default: git HEAD)")
    ap.add_argument(
        "--max-wait", type=float, default=300, help="seconds to wait for a quiet machine"
    )
    args = ap.parse_args()
    out = Path(args.out)
    store = out / "bench" / "cluster_scaling.json"
    results: dict[str, Any] = json.loads(store.read_text()) if store.exists() else {}
    if not args.report_only:
        from _infra import wait_for_quiet

        from aredis_ckpt._server import ClusterServers, RedisServer

        wait_for_quiet(1.5, args.max_wait)
        binary = os.environ.get("AREDIS_REDIS_SERVER") or None
        cluster = ClusterServers(binary).start()
        try:
            version = cluster.nodes[0].command("INFO", "server")
            assert isinstance(version, bytes)
            results["redis"] = next(
                line.split(":", 1)[1].strip()
                for line in version.decode().splitlines()
                if line.startswith("redis_version")
            )
            results["threads"], results["turns"] = args.threads, args.turns
            run: dict[str, Any] = {
                "schema": _schema_version(),
                "commit": args.commit or _commit(),
                "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "configs": {},
            }
            for name, ttl in CONFIGS.items():
                print(f"{args.label}: {name}", flush=True)
                cfg = run_config(cluster, ttl, args.threads, args.turns, print)
                cfg["steps"] = args.threads * args.turns * 4
                run["configs"][name] = cfg
            run["roundtrips"] = measure_roundtrips(cluster, print)
            results[args.label] = run
        finally:
            cluster.stop()
        del RedisServer
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    render(results, out)
    print(f"wrote {out / 'cluster-scaling.md'}")


def _commit() -> str:
    import subprocess

    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return head + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


if __name__ == "__main__":
    main()
