"""Render ``results.json`` into ``benchmarks.md`` and the PNG plots (matplotlib, Agg)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

OPS = ("put", "put_writes", "get_tuple latest", "get_tuple by id", "list page of 10")
READS = ("get_tuple latest", "get_tuple by id", "list page of 10")
FAMILY_ORDER = ("mem", "floor", "aredis", "sqlite", "pg", "official")
FAMILY_LABEL = {
    "mem": "InMemorySaver",
    "floor": "floor",
    "aredis": "aredis-ckpt",
    "sqlite": "SQLite",
    "pg": "PostgreSQL",
    "official": "langgraph-checkpoint-redis",
}
PEERS = ("sqlite", "pg", "official")

# Issue #11's targets (benchmark figures, never timed tests)
AGENT_TARGET_FLOOR = 0.90
AGENT_TARGET_PG = 2.0
AGENT_TARGET_OFFICIAL = 2.5
#: per-operation median ÷ the floor's median, at most (both APIs)
OP_TARGET_FLOOR = {
    "put": 1.3,
    "put_writes": 1.3,
    "get_tuple latest": 1.25,
    "get_tuple by id": 1.25,
}
#: the depths the per-operation targets are read at (the measured ones among them)
OP_TARGET_DEPTHS = (10, 1_000)
DEPTH_TARGET = 1.2
KEYSPACE_TARGET = 1.1


# --------------------------------------------------------------------------- formatting


def fmt_us(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if x >= 10_000:
        return f"{x / 1000:.1f} ms"
    if x >= 1000:
        return f"{x / 1000:.2f} ms"
    return f"{x:.0f} µs"


def fmt_ratio(x: float | None) -> str:
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return "–"
    return f"{x:.2f}×"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "–"
    if abs(n) >= 1 << 20:
        return f"{n / (1 << 20):.2f} MiB"
    if abs(n) >= 1 << 10:
        return f"{n / (1 << 10):.1f} KiB"
    return f"{n:.0f} B"


def fmt_count(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def table(header: list[str], rows: Iterable[list[str]], align: str | None = None) -> str:
    rows = list(rows)
    align = align or ("l" + "r" * (len(header) - 1))
    sep = ["---:" if a == "r" else ":---:" if a == "c" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def yes_no(ok: bool | None) -> str:
    if ok is None:
        return "not measured"
    return "**yes**" if ok else "**no**"


# --------------------------------------------------------------------------- lookups


class R:
    """Indexes over results.json."""

    def __init__(self, res: dict[str, Any]) -> None:
        self.res = res
        self.cfg = res["config"]
        self.per_op = res.get("per_op", [])
        self.agent = res.get("agent", [])
        self.fanout = res.get("fanout", [])
        self.storage = res.get("storage", [])
        self.depths = sorted({r["depth"] for r in self.per_op})
        self.keyspaces = sorted({r["unrelated"] for r in self.per_op})
        self.families = [
            f
            for f in FAMILY_ORDER
            if any(r["family"] == f for r in self.per_op + self.agent + self.storage)
        ]

    def op(
        self, family: str, is_async: bool, depth: int, op: str, unrelated: int = 0
    ) -> dict[str, Any] | None:
        for r in self.per_op:
            if (
                r["family"] == family
                and r["async"] == is_async
                and r["depth"] == depth
                and r["op"] == op
                and r["unrelated"] == unrelated
            ):
                return r
        return None

    def med(self, *a: Any, **k: Any) -> float | None:
        r = self.op(*a, **k)
        return r["median"] if r else None

    def agent_row(self, family: str, is_async: bool) -> dict[str, Any] | None:
        for r in self.agent:
            if r["family"] == family and r["async"] == is_async:
                return r
        return None

    def label(self, family: str, is_async: bool) -> str:
        for r in self.per_op + self.agent:
            if r["family"] == family and r["async"] == is_async and "@" not in r["saver"]:
                return str(r["label"])
        return FAMILY_LABEL.get(family, family) + (" (async)" if is_async else "")


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
        return None
    return a / b


# --------------------------------------------------------------------------- targets


def op_target_depths(r: R) -> list[int]:
    """Depths of the per-operation targets: 10 and 1,000, or (quick runs) the two smallest."""
    return [d for d in r.depths if d in OP_TARGET_DEPTHS] or r.depths[:2]


def targets(r: R) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    peers = (
        ("floor", AGENT_TARGET_FLOOR, "the floor's", "floor not run"),
        ("pg", AGENT_TARGET_PG, "PostgresSaver's", "PostgreSQL not run"),
        ("official", AGENT_TARGET_OFFICIAL, "langgraph-checkpoint-redis's", "official not run"),
    )
    for fam, bound, whose, missing in peers:
        for is_async in (False, True):
            mode = "async `ainvoke`" if is_async else "sync `invoke`"
            a = r.agent_row("aredis", is_async)
            o = r.agent_row(fam, is_async)
            q = ratio(a and a["median"], o and o["median"])
            measured = (
                f"{a['median']:.0f} vs {o['median']:.0f} steps/s = {fmt_ratio(q)}"
                if a and o
                else missing
            )
            ceiling = None
            if fam != "floor":
                fl = r.agent_row("floor", is_async)
                ceiling = ratio(fl and fl["median"], o and o["median"])
                if ceiling is not None:
                    measured += f" (the floor itself: {fmt_ratio(ceiling)})"
            out.append(
                {
                    "target": f"agent {mode}: ≥ {bound:.2f}× {whose} steps/s",
                    "measured": measured,
                    "met": None if q is None else q >= bound,
                    "bound": bound,
                    "ceiling": ceiling,
                }
            )
    depths = op_target_depths(r)
    for op, bound in OP_TARGET_FLOOR.items():
        parts, ok, seen = [], True, False
        for is_async in (False, True):
            for d in depths:
                q = ratio(r.med("aredis", is_async, d, op), r.med("floor", is_async, d, op))
                if q is None:
                    ok = False
                    continue
                seen = True
                ok = ok and q <= bound
                parts.append(f"{'async' if is_async else 'sync'} d{d:,} {fmt_ratio(q)}")
        if r.per_op:
            out.append(
                {
                    "target": f"`{op}` median ≤ {bound:.2f}× the floor's (same API; depths "
                    + " and ".join(f"{d:,}" for d in depths)
                    + ")",
                    "measured": ", ".join(parts) or "floor not run",
                    "met": ok if seen else None,
                }
            )
    if r.depths:
        lo, hi = r.depths[0], r.depths[-1]
        for op in READS:
            parts, ok = [], True
            for is_async in (False, True):
                q = ratio(r.med("aredis", is_async, hi, op), r.med("aredis", is_async, lo, op))
                parts.append(f"{'async' if is_async else 'sync'} {fmt_ratio(q)}")
                ok = ok and q is not None and q <= DEPTH_TARGET
            out.append(
                {
                    "target": f"`{op}` flat in history depth: depth {hi:,} ≤ {DEPTH_TARGET}× "
                    f"depth {lo:,} (median)",
                    "measured": ", ".join(parts),
                    "met": ok,
                }
            )
    ks = [k for k in r.keyspaces if k]
    if ks and r.depths:
        top = ks[-1]
        for op in READS:
            parts, ok, seen = [], True, False
            for is_async in (False, True):
                qs = [
                    ratio(
                        r.med("aredis", is_async, d, op, unrelated=top),
                        r.med("aredis", is_async, d, op, unrelated=0),
                    )
                    for d in r.depths
                ]
                qs2 = [q for q in qs if q is not None]
                if not qs2:
                    ok = False
                    continue
                seen = True
                g = geomean(qs2)
                ok = ok and g <= KEYSPACE_TARGET
                parts.append(
                    f"{'async' if is_async else 'sync'} {fmt_ratio(g)} "
                    f"(depths: {', '.join(fmt_ratio(q) for q in qs2)})"
                )
            out.append(
                {
                    "target": f"`{op}` flat in keyspace size: {fmt_count(top)} unrelated keys ≤ "
                    f"{KEYSPACE_TARGET}× none (geometric mean over the depths of the median "
                    "ratios)",
                    "measured": "; ".join(parts) or "–",
                    "met": ok if seen else None,
                }
            )
    for n in (100, 1000):
        rows = [f for f in r.fanout if f["family"] == "aredis" and f["n"] == n]
        if not rows:
            continue
        errs = [e for f in rows for e in f["errors"]]
        conn = [e for e in errs if "connection" in e.lower() or "pool" in e.lower()]
        out.append(
            {
                "target": f"fan-out N={n} (`ainvoke`) without connection errors",
                "measured": (
                    f"{len(rows[0]['seconds'])} run(s), {len(errs)} error(s)"
                    + (f": {errs[0]}" if errs else f", median {rows[0]['median']:.2f} s")
                ),
                "met": not conn and not errs,
            }
        )
    st = {s["family"]: s for s in r.storage if s.get("compressed", True)}
    if "aredis" in st:
        a = bytes_per_checkpoint(st["aredis"])
        p = bytes_per_checkpoint(st["pg"]) if "pg" in st else None
        out.append(
            {
                "target": f"bytes per checkpoint after a {r.cfg['storage_turns']}-turn "
                "conversation ≤ PostgreSQL's",
                "measured": (
                    f"{fmt_bytes(a)} vs {fmt_bytes(p)} = {fmt_ratio(ratio(a, p))}"
                    if p
                    else "PostgreSQL not run"
                ),
                "met": None if p is None or a is None else a <= p,
            }
        )
    return out


def geomean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def bytes_per_checkpoint(s: dict[str, Any]) -> float | None:
    if s.get("store_delta") is None:
        payload = s.get("thread", {}).get("payload")
        return payload / s["checkpoints"] if payload else None
    return float(s["store_delta"]) / max(s["checkpoints"], 1)


# --------------------------------------------------------------------------- sections


def section_machine(res: dict[str, Any]) -> str:
    m = res["machine"]
    pk = m.get("packages", {})
    lb, la = m["load_before"], m["load_after"]
    rows = [
        ["CPUs (`nproc`)", str(m["nproc"])],
        ["CPU model (/proc/cpuinfo)", m["cpu"]],
        ["Python", m["python"]],
        ["OS", m["platform"]],
        ["Redis (INFO of the private server)", m["redis_version"]],
        ["Redis Stack for the official saver (INFO, MODULE LIST)", m.get("official_redis", "–")],
        ["PostgreSQL (SHOW server_version)", m["postgres_version"]],
        ["PostgreSQL settings", m.get("postgres_settings") or "–"],
        ["SQLite", m.get("sqlite_version", "?")],
        [
            "Packages",
            ", ".join(f"{k} {v}" for k, v in pk.items()),
        ],
        [
            "Load average (1/5/15 min)",
            f"before {lb[0]:.2f} / {lb[1]:.2f} / {lb[2]:.2f}; after {la[0]:.2f} / {la[1]:.2f} / "
            f"{la[2]:.2f}"
            + (
                f" (waited {m['waited_for_load_s']:.0f} s for it to drop)"
                if m.get("waited_for_load_s")
                else ""
            ),
        ],
        ["aredis-ckpt source measured", m.get("source") or "?"],
        ["Started (UTC)", res.get("started", "?")],
        [
            "Run time",
            f"{(res.get('total_seconds', 0) - m.get('waited_for_load_s', 0)) / 60:.1f} min "
            f"(`{res.get('command', '')}`), not counting the wait for a quiet machine",
        ],
    ]
    phases = res.get("phase_seconds", {})
    if phases:
        rows.append(["Phases", ", ".join(f"{k} {v:.0f} s" for k, v in phases.items())])
    return table(["", ""], rows, "ll")


def section_targets(r: R) -> str:
    ts = targets(r)
    rows = [[t["target"], t["measured"], yes_no(t["met"])] for t in ts]
    md = table(["Target", "Measured", "Met"], rows, "llc")
    # what a peer target asks in floor units: a saver at R x a peer runs at R / (floor / peer)
    # of the floor's rate; above 1.0 it must beat InMemorySaver's own work plus one round trip
    asks = [t for t in ts if t.get("ceiling")]
    if asks:
        md += (
            "\n\nWhat each target against a peer asks in units of the floor, in this run: a "
            "saver at R× a peer runs at R ÷ (floor ÷ peer) of the floor's rate. Above 1.00× it "
            "would have to be faster than the floor itself (InMemorySaver's own work plus one "
            "round trip per operation). The peers' speed against the floor moves with the "
            "machine: see the figures of earlier runs in docs/hot-path.md.\n\n"
            + table(
                ["Target", "floor ÷ peer", "asks of the floor's rate"],
                (
                    [
                        t["target"],
                        fmt_ratio(t["ceiling"]),
                        fmt_ratio(t["bound"] / t["ceiling"])
                        + (" (beyond the floor)" if t["bound"] > t["ceiling"] else ""),
                    ]
                    for t in asks
                ),
                "lrr",
            )
        )
    return md


def section_key_ratios(r: R) -> str:
    """aredis's relative speed against every other saver, same API (sync vs sync, async vs
    async): throughput ratio for the agent, inverse latency ratio for operations."""
    others = [f for f in r.families if f != "aredis"]
    header = ["Workload", "API", "aredis"] + [f"vs {FAMILY_LABEL[f]}" for f in others]
    rows: list[list[str]] = []
    for is_async in (False, True):
        api = "async" if is_async else "sync"
        a = r.agent_row("aredis", is_async)
        if a:
            row = ["agent steps/s", api, f"{a['median']:.0f}"]
            for f in others:
                o = r.agent_row(f, is_async)
                row.append(fmt_ratio(ratio(a["median"], o and o["median"])))
            rows.append(row)
    for op in OPS:
        for depth in op_target_depths(r):
            for is_async in (False, True):
                api = "async" if is_async else "sync"
                a_med = r.med("aredis", is_async, depth, op)
                row = [f"{op} (depth {depth:,})", api, fmt_us(a_med)]
                for f in others:
                    row.append(fmt_ratio(ratio(r.med(f, is_async, depth, op), a_med)))
                rows.append(row)
    st = {s["family"]: s for s in r.storage if s.get("compressed", True)}
    if "aredis" in st:
        a_b = bytes_per_checkpoint(st["aredis"])
        row = ["bytes per checkpoint (smaller is better)", "–", fmt_bytes(a_b)]
        for f in others:
            o_b = bytes_per_checkpoint(st[f]) if f in st else None
            row.append(fmt_ratio(ratio(o_b, a_b)))
        rows.append(row)
    return table(header, rows, "llr" + "r" * len(others))


AGENT_PEERS = ("mem", "floor", "pg", "official")


def section_agent(r: R) -> str:
    peers = [f for f in AGENT_PEERS if any(a["family"] == f for a in r.agent)]
    rows = []
    for is_async in (False, True):
        for f in r.families:
            a = r.agent_row(f, is_async)
            if not a:
                continue
            cells = []
            for peer in peers:
                o = r.agent_row(peer, is_async)
                cells.append(fmt_ratio(ratio(a["median"], o and o["median"])))
            rows.append(
                [
                    a["label"],
                    "ainvoke" if is_async else "invoke",
                    f"{a['median']:.0f}",
                    f"{a['p5']:.0f} – {a['p95']:.0f}",
                    *cells,
                    str(len(a["rates"])),
                ]
            )
    return table(
        [
            "Saver",
            "Call",
            "Median steps/s",
            "p5 – p95 of batches",
            *[f"vs {FAMILY_LABEL[p]}" for p in peers],
            "Batches",
        ],
        rows,
    )


def agent_explanation(r: R) -> str:
    """Per-step arithmetic: what a step costs with aredis against the floor."""
    lines = []
    depth = 1000 if 1000 in r.depths else (r.depths[-1] if r.depths else None)
    for is_async in (False, True):
        a, fl = r.agent_row("aredis", is_async), r.agent_row("floor", is_async)
        m = r.agent_row("mem", is_async)
        if not a or not fl:
            continue
        step_a, step_f = 1e6 / a["median"], 1e6 / fl["median"]
        text = (
            f"* {'`ainvoke`' if is_async else '`invoke`'}: a step takes {fmt_us(step_a)} with "
            f"aredis against {fmt_us(step_f)} on the floor ({fmt_us(step_a - step_f)} more)"
        )
        if m:
            text += f" and {fmt_us(1e6 / m['median'])} with InMemorySaver"
        if depth is not None:
            ap, aw = (
                r.med("aredis", is_async, depth, "put"),
                r.med("aredis", is_async, depth, "put_writes"),
            )
            fp, fw = (
                r.med("floor", is_async, depth, "put"),
                r.med("floor", is_async, depth, "put_writes"),
            )
            if None not in (ap, aw, fp, fw):
                text += (
                    f"; a step makes one `put` and at most one `put_writes`, which cost "
                    f"{fmt_us(ap)} + {fmt_us(aw)} alone against the floor's {fmt_us(fp)} + "
                    f"{fmt_us(fw)} (+{fmt_us(ap + aw - fp - fw)}, per-operation medians at "
                    f"depth {depth:,})"
                )
        lines.append(text + ".")
    if not lines:
        return ""
    fl_sync = r.agent_row("floor", False)
    tail = ""
    if fl_sync:
        budget = 1e6 / (AGENT_TARGET_FLOOR * fl_sync["median"]) - 1e6 / fl_sync["median"]
        tail = (
            f"\n\nAt {AGENT_TARGET_FLOOR}× the floor's sync rate aredis may spend "
            f"{fmt_us(budget)} per step more than the floor: everything the saver adds to "
            "InMemorySaver's work plus one round trip (script arguments, compression, digests, "
            "the client library's call path, the server's script work on the same CPUs). "
            "LangGraph overlaps the waits with the next step, not the CPU."
        )
    return "Per step (1 / median rate):\n\n" + "\n".join(lines) + tail


def section_agent_cpu(r: R) -> str:
    """CPU per agent step: the benchmark process's (client) and the Redis server's."""
    fl = {is_async: r.agent_row("floor", is_async) for is_async in (False, True)}

    def total(a: dict[str, Any]) -> float | None:
        c = a.get("cpu_per_step")
        if not c:
            return None
        sv = a.get("server") or {}
        return float(c["median"]) + float(sv.get("cpu_usec_per_step", 0.0))

    rows = []
    for is_async in (False, True):
        for f in r.families:
            a = r.agent_row(f, is_async)
            if not a or not a.get("cpu_per_step"):
                continue
            c = a["cpu_per_step"]
            sv = a.get("server")
            mine, floor = total(a), fl[is_async] and total(fl[is_async])
            rows.append(
                [
                    a["label"],
                    "ainvoke" if is_async else "invoke",
                    f"{c['median']:.0f} µs ({c['p5']:.0f} – {c['p95']:.0f})",
                    f"{sv['cpu_usec_per_step']:.0f} µs"
                    if sv and "cpu_usec_per_step" in sv
                    else "–",
                    f"{mine:.0f} µs" if mine is not None else "–",
                    fmt_ratio(ratio(floor, mine)) if sv or f in ("mem", "sqlite") else "–",
                ]
            )
    if not rows:
        return ""
    return table(
        [
            "Saver",
            "Call",
            "Client CPU / step (p5 – p95 of batches)",
            "Redis server CPU / step",
            "Client + server",
            "Floor's ÷ this (above 1: less CPU than the floor)",
        ],
        rows,
        "llrrrr",
    )


def section_server_time(r: R) -> str:
    """Redis server time per agent turn, for each Redis-backed saver."""
    rows = []
    for f in r.families:
        for is_async in (False, True):
            a = r.agent_row(f, is_async)
            if not a or not a.get("server"):
                continue
            sv = a["server"]
            top = ", ".join(
                f"{name.upper()} {v[0]:.1f}× {v[1] / max(v[0], 1e-9):.0f} µs"
                for name, v in list(sv["by_command"].items())[:4]
            )
            rows.append(
                [
                    a["label"],
                    f"{sv['usec_per_turn']:.0f} µs",
                    f"{sv['usec_per_step']:.0f} µs",
                    f"{sv['cpu_usec_per_turn']:.0f} µs",
                    f"{sv['commands_per_turn']:.1f}",
                    f"{sv['all_commands_per_turn']:.1f}",
                    top,
                ]
            )
    if not rows:
        return "_No Redis-backed saver ran the agent._"
    return table(
        [
            "Saver",
            "Command time / turn",
            "/ step",
            "Server CPU / turn",
            "Top-level commands / turn",
            "All commands / turn",
            "Largest (calls × µs per call, per turn)",
        ],
        rows,
        "lrrrrrl",
    )


def section_ops_depth(r: R, depth: int) -> str:
    rows = []
    for f in r.families:
        for is_async in (False, True):
            cells = []
            any_row = False
            for op in OPS:
                x = r.op(f, is_async, depth, op)
                if x:
                    any_row = True
                    cells.append(f"{fmt_us(x['median'])} / {fmt_us(x['p95'])}")
                else:
                    cells.append("–")
            if any_row:
                rows.append([r.label(f, is_async), *cells])
    return table(["Saver", *OPS], rows)


def section_ops_ratios(r: R, depth: int) -> str:
    """Per operation at one depth: every saver's median against the floor's and aredis's."""
    rows = []
    for f in r.families:
        for is_async in (False, True):
            cells = []
            for op in OPS:
                x = r.med(f, is_async, depth, op)
                m = r.med("floor", is_async, depth, op)
                a = r.med("aredis", is_async, depth, op)
                cells.append(
                    f"{fmt_ratio(ratio(x, m))} / {fmt_ratio(ratio(x, a))}" if x is not None else "–"
                )
            if any(c != "–" for c in cells):
                rows.append([r.label(f, is_async), *cells])
    return table(["Saver", *OPS], rows)


def section_depth_flatness(r: R) -> str:
    lo, hi = r.depths[0], r.depths[-1]
    rows = []
    for f in r.families:
        for is_async in (False, True):
            cells = []
            for op in OPS:
                cells.append(
                    fmt_ratio(ratio(r.med(f, is_async, hi, op), r.med(f, is_async, lo, op)))
                )
            if any(c != "–" for c in cells):
                rows.append([r.label(f, is_async), *cells])
    return table(["Saver", *OPS], rows)


def section_keyspace(r: R) -> str:
    ks = r.keyspaces
    rows = []
    for op in OPS:
        for is_async in (False, True):
            for depth in r.depths:
                vals = [r.med("aredis", is_async, depth, op, unrelated=k) for k in ks]
                if all(v is None for v in vals):
                    continue
                rows.append(
                    [
                        op,
                        "async" if is_async else "sync",
                        f"{depth:,}",
                        *[fmt_us(v) for v in vals],
                        fmt_ratio(ratio(vals[-1], vals[0])),
                    ]
                )
    header = [
        "Operation",
        "API",
        "Depth",
        *[f"{fmt_count(k)} keys" if k else "no unrelated keys" for k in ks],
        f"{fmt_count(ks[-1])} ÷ none",
    ]
    return table(header, rows, "llr" + "r" * (len(ks) + 1))


def section_fanout(r: R) -> str:
    rows = []
    sizes = sorted({f["n"] for f in r.fanout})
    for n in sizes:
        mem = next((f for f in r.fanout if f["n"] == n and f["family"] == "mem"), None)
        for fam in r.families:
            for f in r.fanout:
                if f["n"] != n or f["family"] != fam:
                    continue
                ok = len(f["seconds"])
                errs = f["errors"]
                rows.append(
                    [
                        f"{n:,}",
                        f["label"],
                        f"{f['median']:.2f} s" if ok else "–",
                        f"{f['max']:.2f} s" if ok else "–",
                        fmt_ratio(ratio(mem and mem["median"], f["median"])) if ok else "–",
                        f"{ok}/{ok + len(errs)}",
                        "; ".join(sorted(set(errs)))[:200] or "none",
                    ]
                )
    return table(
        ["N", "Saver", "Median", "Slowest", "Speed vs InMemorySaver", "Completed", "Errors"],
        rows,
        "rlrrrrl",
    )


def section_storage(r: R) -> str:
    rows = []
    pg = next((s for s in r.storage if s["family"] == "pg"), None)
    pg_b = bytes_per_checkpoint(pg) if pg else None
    for fam in r.families:
        for s in r.storage:
            if s["family"] != fam:
                continue
            b = bytes_per_checkpoint(s)
            th = s.get("thread", {})
            if fam == "mem":
                how = "serialized payload bytes held for the thread (no container overhead)"
                thread = fmt_bytes(th.get("payload"))
            elif fam in ("aredis", "official"):
                how = "INFO used_memory delta; MEMORY USAGE summed over the thread's keys"
                thread = f"{fmt_bytes(th.get('memory_usage'))} in {th.get('keys', '?')} keys"
            elif fam == "pg":
                how = "pg_total_relation_size delta (heap+TOAST+indexes); rows' pg_column_size"
                thread = fmt_bytes(th.get("row_bytes"))
            else:
                how = "file size delta (WAL checkpointed into the file); rows' value lengths"
                thread = fmt_bytes(th.get("row_bytes"))
            rows.append(
                [
                    s["label"],
                    str(s["checkpoints"]),
                    fmt_bytes(s["store_delta"]) if s["store_delta"] is not None else "–",
                    thread,
                    fmt_bytes(b),
                    fmt_ratio(ratio(b, pg_b)),
                    how,
                ]
            )
    return table(
        [
            "Store",
            "Checkpoints",
            "Store growth",
            "Thread's own data",
            "Bytes / checkpoint",
            "vs PostgreSQL",
            "Measured as",
        ],
        rows,
        "lrrrrrl",
    )


def section_compression(c: dict[str, Any]) -> str:
    ratio_z = c["raw_bytes"] / c["compressed_bytes"]
    rows = [
        [
            f"{c['codec']} level 1 (what aredis stores)",
            fmt_bytes(c["compressed_bytes"]),
            f"{ratio_z:.1f}×",
            f"{c['compress_us']:.1f} µs",
            f"{c['decompress_us']:.1f} µs",
        ],
        [
            "zlib level 1 (for comparison)",
            fmt_bytes(c["zlib_bytes"]),
            f"{c['raw_bytes'] / c['zlib_bytes']:.1f}×",
            f"{c['zlib_compress_us']:.1f} µs",
            f"{c['zlib_decompress_us']:.1f} µs",
        ],
    ]
    head = (
        f"CPU cost of compression, on the {c['messages']}-message state "
        f"({fmt_bytes(c['raw_bytes'])} serialized; LangGraph's serializer takes "
        f"{c['serialize_us']:.0f} µs to produce it), median per call:\n\n"
    )
    return head + table(["Codec", "Stored", "Smaller by", "Compress", "Decompress"], rows, "lrrrr")


def section_roundtrips(res: dict[str, Any]) -> str:
    rows = []
    for rt in res.get("roundtrips", []):
        if rt.get("note") and not rt["counts"]:
            rows.append([rt["saver"], "–", "–", "–", "–", rt["note"]])
            continue
        for op, c in rt["counts"].items():
            rows.append(
                [
                    rt["saver"],
                    op,
                    str(c["round_trips"]) if "SQLite" not in rt["saver"] else "0 (in-process)",
                    str(c.get("client_sends", "–")),
                    str(c["server_commands"]),
                    c.get("detail", ""),
                ]
            )
    return table(
        [
            "Saver",
            "Operation",
            "Round trips (wire)",
            "Client sends",
            "Server commands",
            "Which",
        ],
        rows,
        "llrrrl",
    )


def section_profile(res: dict[str, Any]) -> str:
    prof = res.get("profile")
    if not prof:
        return "_Not run._"
    rows = []
    for op, by in prof["ops"].items():
        for label, e in by.items():
            sh = e["shares"]
            us = e["us_per_call"]
            rows.append(
                [
                    op,
                    label,
                    fmt_us(us),
                    f"{sh['serde']:.0%} ({fmt_us(sh['serde'] * us)})",
                    f"{sh['redis-py']:.0%} ({fmt_us(sh['redis-py'] * us)})"
                    if sh["redis-py"]
                    else "–",
                    f"{sh['aredis-ckpt']:.0%} ({fmt_us(sh['aredis-ckpt'] * us)})"
                    if sh["aredis-ckpt"]
                    else "–",
                    f"{sh['other']:.0%}",
                    fmt_us(e.get("server_us_per_call")) if "server_us_per_call" in e else "–",
                ]
            )
    intro = (
        f"**pyinstrument** over {prof['n']} calls of each operation (sync savers, thread of 50 "
        "checkpoints; the profiler's overhead inflates pure-Python parts, so shares are "
        "approximate); each sample is attributed to the innermost frame of a known "
        "package (`serde`: LangGraph's serializer, ormsgpack, langchain_core/pydantic "
        "object building; `redis-py` includes the wait for the reply). *Per call* is timed "
        "without the profiler. The server column is `INFO commandstats` µs per EVALSHA "
        "(the Lua script and the commands it runs)."
    )
    pyi = [
        intro,
        table(
            [
                "Operation",
                "Saver",
                "Per call",
                "serde",
                "redis-py (incl. waiting for the reply)",
                "aredis-ckpt Python",
                "other",
                "Server: EVALSHA µs/call",
            ],
            rows,
            "llrrrrrr",
        ),
    ]
    out: list[str] = []
    comp = prof.get("components") or {}
    if comp:
        crow = []
        for op, c in comp.items():
            parts = [c.get("prepare", 0.0), c.get("evalsha", 0.0), c.get("decode", 0.0)]
            crow.append(
                [
                    op,
                    fmt_us(c["total"]),
                    fmt_us(c.get("prepare")),
                    fmt_us(c.get("serialize 9 KB messages")),
                    fmt_us(c.get("evalsha")),
                    fmt_us(c.get("ping")),
                    fmt_us(c.get("server")),
                    fmt_us(c.get("decode")) if "decode" in c else "–",
                    fmt_us(c.get("deserialize 9 KB messages"))
                    if "deserialize 9 KB messages" in c
                    else "–",
                    fmt_us(c["total"] - sum(parts)),
                ]
            )
        out.append(
            "**aredis `RedisSaver`, taken apart** (no profiler; medians of "
            f"{prof['n']} calls each): *prepare* builds the script call (serialization, "
            "metadata digests, key names); *EVALSHA* sends that prepared call the way the "
            "saver does, on a kept connection (round trip + server); *PING* is redis-py's "
            "`ping()` through the pool; *server* is the "
            "script's own time from `INFO commandstats`; *decode* turns the reply into a "
            "`CheckpointTuple`; *rest* is the whole call minus those parts measured on their "
            "own (the saver's call path and limiter, and the cache and "
            "allocation effects of running the parts back to back — on a busy machine it "
            "carries most of the noise)."
        )
        out.append(
            table(
                [
                    "Operation",
                    "Whole call",
                    "Prepare",
                    "of which: serialize the 9 KB messages",
                    "EVALSHA",
                    "PING",
                    "Server",
                    "Decode",
                    "of which: deserialize the 9 KB messages",
                    "Rest",
                ],
                crow,
            )
        )
    cpu = prof.get("client_cpu") or {}
    if cpu:
        crow = []
        for label, ops in cpu.items():
            crow.append(
                [
                    label,
                    *[
                        f"{fmt_us(ops[op]['cpu'])} / {fmt_us(ops[op]['wall'])}"
                        if op in ops
                        else "–"
                        for op in ("put", "put_writes")
                    ],
                ]
            )
        out.append(
            "**Client CPU per call** (this process's user + system CPU time, all threads, over "
            f"{prof['n']} calls; then the wall time). In a graph, LangGraph runs `put` and "
            "`put_writes` in the background while the next step computes, so the wait for the "
            "server is mostly hidden; the CPU the calls take from the graph's process is not."
        )
        out.append(table(["Saver", "put: CPU / wall", "put_writes: CPU / wall"], crow))
    out.extend(pyi)
    findings = []
    for op, by in prof["ops"].items():
        a = by.get("aredis RedisSaver")
        m = by.get("InMemorySaver")
        if not a or not m:
            continue
        au, mu = a["us_per_call"], m["us_per_call"]
        sa, sm = a["shares"], m["shares"]
        findings.append(
            f"* `{op}`: aredis {fmt_us(au)} per call against InMemorySaver's {fmt_us(mu)} "
            f"({fmt_us(au - mu)} more). Serialization {fmt_us(sa['serde'] * au)} "
            f"(InMemorySaver: {fmt_us(sm['serde'] * mu)}); redis-py including the wait for the "
            f"reply {fmt_us(sa['redis-py'] * au)}, of which the server runs the script for "
            f"{fmt_us(a.get('server_us_per_call'))}; aredis-ckpt's own Python "
            f"{fmt_us(sa['aredis-ckpt'] * au)}."
        )
    micro = prof.get("server_micro")
    if micro:
        vals = list(micro.values())
        findings.append(
            "* Fixed server cost of a script call (µs per EVALSHA, best of 3×2000): "
            + "; ".join(f"{k}: {v:.1f}" for k, v in micro.items())
            + f". The shared prelude adds {vals[2] - vals[0]:.1f} µs to every call and the "
            f"put-shaped arguments {vals[1] - vals[0]:.1f} µs (each argument becomes a Lua "
            "string: the 9 KB value is copied, and copied again into the hash by HSET)."
        )
    if findings:
        out.append("\n".join(findings))
    for op, by in prof["ops"].items():
        for label, e in by.items():
            if e.get("top"):
                items = "; ".join(f"`{name}` {share:.0%}" for name, share in e["top"])
                out.append(f"* {label} `{op}`, functions by own (self) time: {items}")
    return "\n\n".join(out)


# --------------------------------------------------------------------------- plots


def plots(r: R, outdir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    made: list[str] = []
    outdir.mkdir(parents=True, exist_ok=True)
    colors = {
        "mem": "#555555",
        "floor": "#ff7f0e",
        "aredis": "#d62728",
        "sqlite": "#1f77b4",
        "pg": "#2ca02c",
        "official": "#9467bd",
    }
    plot_ops = ("get_tuple latest", "get_tuple by id", "list page of 10", "put")
    if len(r.depths) > 1:
        fig, axes = plt.subplots(2, 2, figsize=(11, 8), constrained_layout=True)
        for ax, op in zip(axes.flat, plot_ops, strict=True):
            for f in r.families:
                for is_async in (False, True):
                    pts = [(d, r.med(f, is_async, d, op)) for d in r.depths]
                    pts = [(d, y) for d, y in pts if y is not None]
                    if not pts:
                        continue
                    ax.plot(
                        [d for d, _ in pts],
                        [y / 1000 for _, y in pts],  # type: ignore[operator]
                        marker="o",
                        linestyle="--" if is_async else "-",
                        color=colors.get(f, "black"),
                        label=r.label(f, is_async),
                    )
            ax.set_xscale("log")
            ax.set_yscale("log")
            plain = FuncFormatter(lambda v, _: f"{v:g}")
            ax.yaxis.set_major_formatter(plain)
            ax.yaxis.set_minor_formatter(plain)
            ax.tick_params(axis="y", which="minor", labelsize=7)
            ax.set_title(f"{op}: median latency vs thread depth")
            ax.set_xlabel("checkpoints in the thread")
            ax.set_ylabel("ms (log)")
            ax.grid(True, which="both", alpha=0.3)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=8)
        path = outdir / "latency_vs_depth.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path.name)
    ks = r.keyspaces
    if len(ks) > 1:
        fig, axes = plt.subplots(2, 2, figsize=(11, 8), constrained_layout=True)
        xs = list(range(len(ks)))
        for ax, op in zip(axes.flat, plot_ops, strict=True):
            for is_async in (False, True):
                for i, depth in enumerate(r.depths):
                    ys = [r.med("aredis", is_async, depth, op, unrelated=k) for k in ks]
                    if any(y is None for y in ys):
                        continue
                    ax.plot(
                        xs,
                        [y / 1000 for y in ys],  # type: ignore[operator]
                        marker="o",
                        linestyle="--" if is_async else "-",
                        color=plt.cm.Reds(0.4 + 0.6 * i / max(len(r.depths) - 1, 1)),
                        label=f"{'async' if is_async else 'sync'}, depth {depth:,}",
                    )
            ax.set_xticks(xs, [fmt_count(k) if k else "0" for k in ks])
            ax.set_ylim(bottom=0)
            ax.set_title(f"aredis {op}: median latency vs unrelated keys")
            ax.set_xlabel("unrelated keys in the database")
            ax.set_ylabel("ms")
            ax.grid(True, alpha=0.3)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=8)
        path = outdir / "latency_vs_keyspace.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path.name)
    if r.agent:
        fig, ax = plt.subplots(figsize=(9, 4.5), constrained_layout=True)
        fams = [f for f in r.families if any(a["family"] == f for a in r.agent)]
        width = 0.38
        for j, is_async in enumerate((False, True)):
            vals = []
            for f in fams:
                a = r.agent_row(f, is_async)
                vals.append(a["median"] if a else 0)
            pos = [i + (j - 0.5) * width for i in range(len(fams))]
            bars = ax.bar(
                pos,
                vals,
                width,
                label="ainvoke" if is_async else "invoke",
                color=[colors.get(f, "black") for f in fams],
                alpha=1.0 if not is_async else 0.55,
                edgecolor="black",
            )
            ax.bar_label(bars, fmt="%.0f", fontsize=8)
        ax.set_xticks(range(len(fams)), [FAMILY_LABEL[f] for f in fams])
        ax.set_ylabel("graph steps per second (median)")
        ax.set_title("ReAct agent, fake chat model: solid = invoke, light = ainvoke")
        ax.grid(True, axis="y", alpha=0.3)
        path = outdir / "agent_throughput.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path.name)
    return made


# --------------------------------------------------------------------------- document


def write(res: dict[str, Any], out: Path) -> None:
    r = R(res)
    bench_dir = out / "bench"
    made = plots(r, bench_dir)
    cfg = res["config"]
    quick = cfg.get("quick")
    md: list[str] = []
    md.append("# Benchmarks")
    md.append(
        "_Generated by `python bench/run.py`"
        + (
            " **--quick** (a smoke run: small depths, few repetitions — not for conclusions)"
            if quick
            else ""
        )
        + f" on {res.get('started', '?')}. Do not edit by hand: rerun the script. Raw numbers: "
        "[`bench/results.json`](bench/results.json)._"
    )
    md.append(
        "aredis-ckpt's `RedisSaver` / `AsyncRedisSaver` against LangGraph's `InMemorySaver` (the "
        "no-I/O ceiling: it still serializes every checkpoint); the **floor** (InMemorySaver "
        "doing all its own work plus exactly one raw round trip per `put` / `put_writes` / "
        "`get_tuple` / list page to the same private Redis, carrying the bytes a remote saver "
        "must carry, packed and parsed by hiredis with no client library: "
        "[`bench/_floor.py`](../bench/_floor.py)); `SqliteSaver` / `AsyncSqliteSaver` on a "
        "file; `PostgresSaver` / `AsyncPostgresSaver` on a private PostgreSQL; and the "
        "official `langgraph-checkpoint-redis` on a private Redis Stack (RediSearch + "
        "RedisJSON; or the server `$AREDIS_BENCH_OFFICIAL_REDIS_URL` names). All savers run in "
        "one process and are interleaved: each repetition visits them in a rotated order "
        "(A B C, B C A, …) so that drift of a shared, busy machine hits all of them alike."
    )
    md.append("## Machine")
    md.append(section_machine(res))
    load = res["machine"]["load_before"][0]
    if load >= 1.0:
        md.append(
            f"> The 1-minute load average was {load:.2f} when the run started (2 CPUs shared "
            "with other work): absolute numbers are noisier and lower than on an idle machine; "
            "the interleaving keeps the ratios comparable."
        )
    if res.get("skipped"):
        md.append(
            "**Skipped:**\n\n" + "\n".join(f"* {s['saver']}: {s['reason']}" for s in res["skipped"])
        )
    if res.get("errors"):
        md.append("**Errors:**\n\n" + "\n".join(f"* `{e.splitlines()[0]}`" for e in res["errors"]))

    md.append("## Targets")
    md.append(section_targets(r))
    md.append("## Key ratios")
    md.append(
        "aredis's relative speed against each saver through the same API (sync against sync, "
        "async against async): for throughput aredis ÷ other, for latencies other ÷ aredis, "
        "for storage other ÷ aredis. **Above 1: aredis is faster (or smaller).**"
    )
    md.append(section_key_ratios(r))

    if r.agent:
        md.append("## End-to-end agent")
        steps = r.agent[0]["steps_per_conversation"]
        md.append(
            f"LangGraph's prebuilt ReAct agent (`create_react_agent`: a model node and a "
            f"`ToolNode` in a loop) with a deterministic fake tool-calling chat model. A "
            f"conversation is {cfg['agent_turns']} turns on a fresh thread (each turn: human "
            f"question → tool call → tool result → answer), {steps} checkpoints (graph steps), "
            f"ending with 20 messages ≈ 9 KB of state. A batch is "
            f"{cfg['agent_conversations']} conversation(s); {cfg['agent_reps']} batches per "
            "saver, interleaved. Rate = checkpoints written ÷ wall time."
        )
        md.append(section_agent(r))
        md.append(agent_explanation(r))
        if "agent_throughput.png" in made:
            md.append("![agent throughput](bench/agent_throughput.png)")
        cpu = section_agent_cpu(r)
        if cpu:
            md.append("### CPU per agent step")
            md.append(
                "What a step cost in CPU rather than in time: the benchmark process's CPU (all "
                "its threads: LangGraph, the saver's client, SQLite's engine for SqliteSaver; "
                "`time.process_time` around each batch, divided by its steps, median of the "
                "batches) and, for the Redis-backed savers, the server's (`INFO cpu`, as below). "
                "PostgreSQL's server CPU is not measured (–). On a 2-core machine shared "
                "by the client, the server and whatever else runs, steps/s also depend on "
                "scheduling; CPU per step is the steadier figure and ranks the savers' own work. "
                "The last column compares client + server with the floor's (same API); the "
                "official saver's server runs RediSearch and RedisJSON in the same process."
            )
            md.append(cpu)
        md.append("### Redis server time per agent turn")
        md.append(
            "What the saver's Redis did for the agent, from `INFO commandstats` and `INFO cpu` "
            "read around every batch (nothing else runs meanwhile), divided by the batches' "
            "turns (a turn: one `invoke` — question, tool call, tool result, answer). *Command "
            "time* sums `usec` over the top-level commands: where scripts run, the script "
            "calls only (the commands a script calls are counted again under their own names, "
            "inside the script's time). *Server CPU* is the server process's user + system "
            "CPU (`used_cpu_user` + `used_cpu_sys`), which also counts reading requests and "
            "writing replies: it decides how many agents one Redis core serves. aredis and the "
            "floor share one Redis "
            f"{res['machine'].get('redis_version', '?')} server; the official saver runs on "
            "Redis Stack."
        )
        md.append(section_server_time(r))

    if r.per_op:
        md.append("## Per-operation latency")
        md.append(
            "Each checkpoint carries a realistic agent state (20 `langchain_core` messages, "
            "≈ 9 KB serialized; `put` stores it as a new `messages` version as the agent does). "
            "Threads are loaded to each depth first; every checkpoint of the *read* thread has a "
            "task's pending writes. `get_tuple by id` walks ids spread over the whole thread; "
            "`list page of 10` is `list(config, limit=10)`; `put` / `put_writes` append to a "
            "separate *write* thread that starts at the same depth (and grows by the measured "
            "puts, ≤ "
            f"{2 * cfg['op_reps'] * cfg['op_n'] + 4} checkpoints). Per (saver, depth) and "
            f"repetition a batch of {cfg['op_n']} calls of each operation; "
            f"{cfg['op_reps']} repetitions, rotated, after one discarded warm-up batch: "
            f"{cfg['op_reps'] * cfg['op_n']} samples per cell. Cells: **median / p95**."
        )
        for depth in r.depths:
            md.append(f"### Depth {depth:,}")
            md.append(section_ops_depth(r, depth))
        mid = 1000 if 1000 in r.depths else r.depths[len(r.depths) // 2]
        md.append(f"### Ratios at depth {mid:,}")
        md.append("Median latency ÷ the floor's / ÷ aredis's (same API): below 1 is faster.")
        md.append(section_ops_ratios(r, mid))
        if len(r.depths) > 1:
            md.append(f"### History depth: depth {r.depths[-1]:,} ÷ depth {r.depths[0]:,}")
            md.append("Median latency ratio; 1.00× is perfectly flat.")
            md.append(section_depth_flatness(r))
            if "latency_vs_depth.png" in made:
                md.append("![latency vs depth](bench/latency_vs_depth.png)")
        if len(r.keyspaces) > 1:
            md.append("### Keyspace size (aredis)")
            md.append(
                "The aredis history of database 0 is copied (`COPY … DB n`) into one database "
                "per keyspace size, which is then filled with `DEBUG POPULATE <n> unrelated 100`"
                "; all sizes are measured in the same interleaved repetitions on the same "
                "server. Medians."
            )
            md.append(section_keyspace(r))
            if "latency_vs_keyspace.png" in made:
                md.append("![latency vs keyspace](bench/latency_vs_keyspace.png)")
        fill = res.get("fill_seconds", {})
        if fill:
            md.append(
                "History loading took "
                + ", ".join(f"{k} {v:.0f} s" for k, v in fill.items())
                + " (PostgreSQL loaded with `synchronous_commit=off`, SQLite with "
                "`synchronous=OFF`; the measured savers use the defaults)."
            )

    if r.fanout:
        md.append("## Fan-out to subgraphs")
        md.append(
            "LangGraph's `fanout_to_subgraph` benchmark shape under `ainvoke`: the parent "
            "`Send`s each of N subjects to a subgraph (edit → generate → bump ×10) that "
            "inherits the checkpointer, so N subgraph runs checkpoint every step concurrently "
            "in their own namespaces. Runs per N: "
            + ", ".join(
                f"N={n}: {k}" for n, k in sorted((int(a), b) for a, b in cfg["fanout_reps"].items())
            )
            + ". Every saver as users open it (`from_conn_string`)."
        )
        md.append(section_fanout(r))

    if r.storage:
        md.append("## Bytes stored per checkpoint")
        md.append(
            f"A {cfg['storage_turns']}-turn conversation of the agent on a fresh thread (sync "
            "saver), the store measured before and after. LangGraph's default `messages` "
            "channel stores the whole list at every step, so state grows with the "
            "conversation; every saver stores each new version once. PostgreSQL compresses "
            "large values (TOAST, pglz); aredis compresses values of 2 KB or more (zstd, "
            "recorded in the stored type tag; the row with compression off is the same "
            "conversation with `compress_threshold=None`); SQLite stores them as they are."
        )
        md.append(section_storage(r))
        comp = res.get("compression")
        if comp:
            md.append(section_compression(comp))

    if res.get("roundtrips"):
        md.append("## Round trips and commands per operation")
        md.append(
            "On a thread of 20 checkpoints, after one warm-up call. Round trips are counted on "
            "the wire by a loopback TCP relay (a client transmission that follows server data); "
            "for aredis also by a counting `Connection` subclass, as in "
            "`tests/test_roundtrips.py`. Server commands: Redis `INFO commandstats` deltas "
            "(the commands a Lua script runs are counted too, in brackets); PostgreSQL "
            "statements logged with `log_statement=all`; SQLite statements traced by "
            "`sqlite3`."
        )
        md.append(section_roundtrips(res))

    if res.get("profile"):
        md.append("## Where the time goes (profile)")
        md.append(section_profile(res))

    md.append("## Method and caveats")
    md.append(
        "\n".join(
            [
                "* Durability differs by default and the savers are measured as configured "
                "out of the box: the private Redis runs without persistence (no RDB, no AOF; "
                "with `appendfsync everysec` a write is not fsynced either), PostgreSQL with "
                "its defaults (`fsync=on`, `synchronous_commit=on`: every commit waits for a "
                "WAL flush), SQLite in WAL mode with Python's default `synchronous=FULL`.",
                "* PostgreSQL, Redis and the benchmark share the machine's CPUs: a server's "
                "work is part of every measured call, as with a co-located server; there is "
                "no network latency beyond loopback.",
                "* `InMemorySaver (async API)` is the same `InMemorySaver` driven through its "
                "`a*` methods (which call the sync ones).",
                "* The fake chat model and tool do almost no work, so the agent numbers are "
                "dominated by LangGraph itself plus the saver; with a real model the saver's "
                "share of a step is far smaller.",
                "* No timing is asserted anywhere: these are measurements, not tests. "
                "`python bench/run.py --quick` is the smoke version (seconds per workload).",
            ]
        )
    )
    md.append("## See also")
    md.append(
        "* [Scaling out on Redis Cluster](cluster-scaling.md) (`python "
        "bench/cluster_scaling.py`): per-master shares of calls, script time and CPU on a "
        "3-master cluster under the agent workload, with and without TTL, before and after "
        "schema 2, and the projection to N masters."
    )
    (out / "benchmarks.md").write_text("\n\n".join(md) + "\n")
