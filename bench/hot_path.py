#!/usr/bin/env python
"""Where aredis-ckpt's hot path spends its CPU, phase by phase, against the floor.

    python bench/hot_path.py                  # CPU µs per call of every phase, sync and async;
                                              # server µs per script; the agent's CPU per step
    python bench/hot_path.py --callgrind      # the same phases in instructions per call
                                              # (re-runs itself under valgrind's callgrind)
    python bench/hot_path.py --json FILE      # also write the figures as JSON

Feeds ``docs/hot-path.md``.  The machine this project is measured on is a shared 2-core VM,
so wall time is not what this reports: *CPU* is the calling thread's CPU time
(``time.thread_time``, which excludes waiting for the server), the median of interleaved
batches; *instructions* (``--callgrind``) are exact and repeatable, and rank the pure-Python
phases without noise (socket calls are counted on the client side only).  The server side is
``INFO commandstats`` (µs per script call) and ``INFO cpu`` (the server process).

Every phase runs on the benchmark's data (``_data.Template``: the agent's 20-message state,
about 9 KB serialized), against a private redis-server this script starts and stops.  Phases
reach into the saver's internals (``_put_call``, ``_runner`` ...): they name the code the
next cut would change.  Nothing here asserts anything.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

Fn = Callable[[int], Any]


@dataclass
class Case:
    """One phase: ``fn(i)`` is one call (a coroutine function for async cases)."""

    group: str
    name: str
    fn: Fn
    is_async: bool = False
    cpu: list[float] = field(default_factory=list)  # µs per call, one per batch
    wall: list[float] = field(default_factory=list)
    instructions: float | None = None

    def row(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "name": self.name,
            "async": self.is_async,
            "cpu_us": statistics.median(self.cpu) if self.cpu else None,
            "wall_us": statistics.median(self.wall) if self.wall else None,
            "instructions": self.instructions,
        }


# --------------------------------------------------------------------------- measuring


def _run_batch(case: Case, loop: asyncio.AbstractEventLoop, start: int, n: int) -> tuple[int, int]:
    fn = case.fn
    if case.is_async:

        async def batch() -> tuple[int, int]:
            c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
            for i in range(start, start + n):
                await fn(i)
            return time.thread_time_ns() - c0, time.perf_counter_ns() - w0

        return loop.run_until_complete(batch())
    c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
    for i in range(start, start + n):
        fn(i)
    return time.thread_time_ns() - c0, time.perf_counter_ns() - w0


def measure_cpu(cases: list[Case], loop: asyncio.AbstractEventLoop, n: int, batches: int) -> None:
    """``batches`` rounds; each round runs every case ``n`` times, in a rotated order."""
    for case in cases:  # warm: connections, caches, script cache
        _run_batch(case, loop, 0, 3)
    for b in range(batches):
        shift = b % len(cases)
        for case in cases[shift:] + cases[:shift]:
            gc.collect()
            cpu, wall = _run_batch(case, loop, 3 + b * n, n)
            case.cpu.append(cpu / n / 1e3)
            case.wall.append(wall / n / 1e3)


def _callgrind_counter() -> int:
    out = subprocess.run(
        ["callgrind_control", "-e", "Ir", str(os.getpid())],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    # "Totals:  Ir" then one "Th <n>  <count>" line per thread
    return sum(int(m.replace(",", "")) for m in re.findall(r"Th\s+\d+\s+([\d,]+)", out))


def _counter_overhead() -> int:
    """Instructions that reading the counter adds (a subprocess): the least of a few reads."""
    reads = [_callgrind_counter() for _ in range(6)]
    return min(b - a for a, b in itertools.pairwise(reads))


def measure_instructions(cases: list[Case], loop: asyncio.AbstractEventLoop, n: int) -> None:
    """Instructions per call under callgrind (all threads, client side), minus the cost of
    reading the counter itself (which varies by a few 100,000: use n >= 200)."""
    overhead = _counter_overhead()
    for case in cases:
        _run_batch(case, loop, 0, 3)
        gc.collect()
        c0 = _callgrind_counter()
        _run_batch(case, loop, 3, n)
        c1 = _callgrind_counter()
        case.instructions = (c1 - c0 - overhead) / n
        print(f"  {case.group:12s} {case.name:58s} {case.instructions:12,.0f} Ir", flush=True)


# --------------------------------------------------------------------------- the phases


def build_cases(env: Env) -> list[Case]:
    import hiredis
    from _data import conf
    from _floor import _AsyncConn, _Conn
    from langgraph.checkpoint.memory import InMemorySaver

    from aredis_ckpt import _serde
    from aredis_ckpt._scripts import SCRIPTS

    s, a, fl = env.sync_saver, env.async_saver, env.floor
    t = env.template
    serde = s.serde
    messages = t.messages
    n = env.pool_size
    puts = [env.writer.next_put() for _ in range(n)]
    for args in puts:  # a chain: each put's parent is the previous one
        env.writer.stored(
            {"configurable": {**args[0]["configurable"], "checkpoint_id": args[1]["id"]}}
        )
    put_calls = [s._put_call(*p).call for p in puts]
    writes = [env.writer.next_writes() for _ in range(n)]
    write_calls = [s._put_writes_call(*w, "") for w in writes]
    latest = conf(env.read_thread)
    g_call, g_tid, g_ns = s._get_tuple_call(latest)
    reply = s._runner.evalsha(SCRIPTS.get_tuple, g_call.keys, g_call.args)
    tag, data = serde.dumps_typed(messages)
    ztag, zdata = _serde.compress(tag, data, 1)
    cp_blob = reply[1]
    value_blob = max((b for b in reply[4] if b), key=len)  # the 9 KB messages
    write_blob = next(iter(reply[5]), None)
    cp = puts[0][1]
    md = {"source": "loop", "step": 3, "parents": {}}
    versions = cp["channel_versions"]
    channels = sorted(versions)
    from langgraph.checkpoint.base import get_checkpoint_metadata

    from aredis_ckpt._keys import escape, value_field

    ns_e = escape("")

    conn = _Conn("127.0.0.1", env.port, 0)
    env.closers.append(conn.close)

    def packed(script: Any, call: Any) -> bytes:
        return hiredis.pack_command(("EVALSHA", script.sha, len(call.keys), *call.keys, *call.args))

    put_packed = [packed(SCRIPTS.put, c) for c in put_calls]
    write_packed = [packed(SCRIPTS.put_writes, c) for c in write_calls]
    get_packed = packed(SCRIPTS.get_tuple, g_call)
    redis_conn = s._redis.connection_pool.get_connection()
    env.closers.append(lambda: s._redis.connection_pool.release(redis_conn))
    mem = InMemorySaver()
    mem_puts, _, mem_latest = _threads(t, mem, "mem", n)
    fl_puts, fl_writes, fl_latest = _threads(t, fl, "floor", n)

    def limiter(i: int) -> None:
        with s._limiter:
            pass

    cases = [
        # ---- put: the whole call, and its parts
        Case(
            "put", "floor put (InMemorySaver.put + MSET round trip)", lambda i: fl.put(*fl_puts[i])
        ),
        Case("put", "InMemorySaver.put", lambda i: mem.put(*mem_puts[i])),
        Case("put", "aredis put", lambda i: s.put(*puts[i])),
        Case("put", "  _put_call (all argument building)", lambda i: s._put_call(*puts[i])),
        Case("put", "    serde.dumps_typed(9 KB messages)", lambda i: serde.dumps_typed(messages)),
        Case("put", "    zstd-1 compress of it", lambda i: _serde.compress(tag, data, 1)),
        Case(
            "put",
            "    dump_checkpoint (2 dumps_typed + packb)",
            lambda i: _serde.dump_checkpoint(serde, cp, md),
        ),
        Case(
            "put",
            "    dump_meta (digests, Lua msgpack)",
            lambda i: _serde.dump_meta("x", channels, ns_e, versions, md, b""),
        ),
        Case(
            "put",
            "    value fields of every channel (sorted, value_field)",
            lambda i: [value_field(ns_e, c, versions[c]) for c in sorted(versions)],
        ),
        Case(
            "put",
            "    get_checkpoint_metadata(config, metadata)",
            lambda i: get_checkpoint_metadata(puts[i][0], puts[i][2]),
        ),
        Case(
            "put",
            "    filter digests of the metadata (filter_digest per key)",
            lambda i: {k: _serde.filter_digest(v) for k, v in md.items()},
        ),
        Case(
            "put",
            "  runner.evalsha(put) (redis-py, kept connection)",
            lambda i: s._runner.evalsha(SCRIPTS.put, put_calls[i].keys, put_calls[i].args),
        ),
        Case(
            "put",
            "  raw EVALSHA put (hiredis pack + socket + hiredis parse)",
            lambda i: conn.call(packed(SCRIPTS.put, put_calls[i])),
        ),
        Case(
            "put",
            "    hiredis.pack_command (EVALSHA put)",
            lambda i: packed(SCRIPTS.put, put_calls[i]),
        ),
        Case(
            "put",
            "    redis-py pack_command + join",
            lambda i: b"".join(
                redis_conn.pack_command(
                    "EVALSHA",
                    SCRIPTS.put.sha,
                    len(put_calls[i].keys),
                    *put_calls[i].keys,
                    *put_calls[i].args,
                )
            ),
        ),
        Case("put", "    raw send + recv + parse (pre-packed)", lambda i: conn.call(put_packed[i])),
        Case("put", "  limiter enter/exit", limiter),
        # ---- put_writes
        Case("put_writes", "floor put_writes", lambda i: fl.put_writes(*fl_writes[i])),
        Case("put_writes", "aredis put_writes", lambda i: s.put_writes(*writes[i])),
        Case("put_writes", "  _put_writes_call", lambda i: s._put_writes_call(*writes[i], "")),
        Case(
            "put_writes",
            "  runner.evalsha(put_writes)",
            lambda i: s._runner.evalsha(
                SCRIPTS.put_writes, write_calls[i].keys, write_calls[i].args
            ),
        ),
        Case(
            "put_writes",
            "  raw send + recv + parse (pre-packed)",
            lambda i: conn.call(write_packed[i]),
        ),
        # ---- get_tuple
        Case("get_tuple", "floor get_tuple latest", lambda i: fl.get_tuple(fl_latest)),
        Case("get_tuple", "InMemorySaver.get_tuple latest", lambda i: mem.get_tuple(mem_latest)),
        Case("get_tuple", "aredis get_tuple latest", lambda i: s.get_tuple(latest)),
        Case("get_tuple", "  _get_tuple_call", lambda i: s._get_tuple_call(latest)),
        Case(
            "get_tuple",
            "  runner.evalsha(get_tuple)",
            lambda i: s._runner.evalsha(SCRIPTS.get_tuple, g_call.keys, g_call.args),
        ),
        Case(
            "get_tuple", "  raw send + recv + parse (pre-packed)", lambda i: conn.call(get_packed)
        ),
        Case("get_tuple", "  _decode_tuple", lambda i: s._decode_tuple(g_tid, g_ns, reply)),
        Case(
            "get_tuple",
            "    load_checkpoint (unpackb + 2 loads_typed)",
            lambda i: _serde.load_checkpoint(serde, cp_blob),
        ),
        Case(
            "get_tuple",
            "    load_value (zstd decompress + loads_typed 9 KB)",
            lambda i: _serde.load_value(serde, value_blob),
        ),
        Case(
            "get_tuple",
            "      serde.loads_typed(9 KB) alone",
            lambda i: serde.loads_typed((tag, data)),
        ),
        Case("get_tuple", "      zstd decompress alone", lambda i: _serde.decompress(ztag, zdata)),
        Case(
            "get_tuple",
            "    load_write (one write)",
            lambda i: _serde.load_write(serde, write_blob),
        ),
    ]
    # ---- async
    aconn_holder: list[Any] = []

    async def araw(i: int) -> Any:
        if not aconn_holder:
            aconn_holder.append(await _AsyncConn.open("127.0.0.1", env.port, 0))
        return await aconn_holder[0].call(put_packed[i])

    env.async_closers.append(lambda: _aclose_all(aconn_holder))

    async def alimiter(i: int) -> None:
        async with a._limiter:
            pass

    async def aput(i: int) -> Any:
        return await a.aput(*puts[i])

    async def afloor_put(i: int) -> Any:
        return await fl.aput(*fl_puts[i])

    async def arunner(i: int) -> Any:
        c = put_calls[i]
        return await a._runner.evalsha(SCRIPTS.put, c.keys, c.args)

    async def aput_writes(i: int) -> Any:
        return await a.aput_writes(*writes[i])

    async def afloor_put_writes(i: int) -> Any:
        return await fl.aput_writes(*fl_writes[i])

    async def aget(i: int) -> Any:
        return await a.aget_tuple(latest)

    async def afloor_get(i: int) -> Any:
        return await fl.aget_tuple(fl_latest)

    async def arunner_get(i: int) -> Any:
        return await a._runner.evalsha(SCRIPTS.get_tuple, g_call.keys, g_call.args)

    cases += [
        Case("async put", "floor aput", afloor_put, True),
        Case("async put", "aredis aput", aput, True),
        Case("async put", "  runner.evalsha(put) (redis.asyncio, kept connection)", arunner, True),
        Case("async put", "  raw asyncio stream EVALSHA put (pre-packed)", araw, True),
        Case("async put", "  AsyncLimiter enter/exit", alimiter, True),
        Case("async put_writes", "floor aput_writes", afloor_put_writes, True),
        Case("async put_writes", "aredis aput_writes", aput_writes, True),
        Case("async get_tuple", "floor aget_tuple latest", afloor_get, True),
        Case("async get_tuple", "aredis aget_tuple latest", aget, True),
        Case("async get_tuple", "  runner.evalsha(get_tuple)", arunner_get, True),
    ]
    return cases


def _threads(template: Any, saver: Any, name: str, n: int) -> tuple[list[Any], list[Any], Any]:
    """A read thread of 20 checkpoints with one task's writes each (as an agent leaves them),
    and ``n`` puts and ``n`` put_writes for a separate write thread."""
    from _data import ThreadWriter, conf

    read = ThreadWriter(template, saver, f"{name}-read")
    read.fill(saver, 20, writes=True)
    write = ThreadWriter(template, saver, f"{name}-write")
    write.fill(saver, 1, writes=False)
    puts = [write.next_put() for _ in range(n)]
    writes = [write.next_writes() for _ in range(n)]
    return puts, writes, conf(read.thread_id)


async def _aclose_all(holder: list[Any]) -> None:
    for conn in holder:
        conn.close()


# --------------------------------------------------------------------------- server side


def server_scripts(env: Env, n: int) -> dict[str, dict[str, float]]:
    """µs per call the server spends in each hot-path script (commandstats), and its CPU."""
    from _data import conf

    s, admin = env.sync_saver, env.admin
    out: dict[str, dict[str, float]] = {}
    puts = [env.writer.next_put() for _ in range(n)]
    cases: dict[str, Callable[[int], Any]] = {
        "put": lambda i: env.writer.stored(s.put(*puts[i])),
        "put_writes": lambda i: s.put_writes(*env.writer.next_writes()),
        "get_tuple latest": lambda i: s.get_tuple(conf(env.read_thread)),
    }
    for name, fn in cases.items():
        admin.config_resetstat()
        c0 = _server_cpu(admin)
        for i in range(n):
            fn(i)
        cpu = _server_cpu(admin) - c0
        stats = admin.info("commandstats")
        st = stats["cmdstat_evalsha"]
        calls = int(st["calls"])
        inner = {
            k.removeprefix("cmdstat_"): (int(v["calls"]) / calls, float(v["usec"]) / calls)
            for k, v in stats.items()
            if k not in ("cmdstat_evalsha", "cmdstat_info", "cmdstat_config|resetstat")
        }
        out[name] = {
            "evalsha_us": float(st["usec"]) / calls,
            "server_cpu_us": cpu * 1e6 / n,
            # the commands the script calls: (calls, µs) per script call
            "inner": inner,  # type: ignore[dict-item]
            "inner_us": sum(u for _, u in inner.values()),
        }
    # the floor's commands, for scale
    fl = env.floor
    writer = type(env.writer)(env.template, fl, "floor-server")
    writer.fill(fl, 20)
    for name, cmd in (("floor put (MSET)", "mset"), ("floor get_tuple (MGET)", "mget")):
        admin.config_resetstat()
        c0 = _server_cpu(admin)
        for _ in range(n):
            if cmd == "mset":
                writer.stored(fl.put(*writer.next_put()))
            else:
                fl.get_tuple(conf("floor-server"))
        cpu = _server_cpu(admin) - c0
        st = admin.info("commandstats")[f"cmdstat_{cmd}"]
        out[name] = {
            "evalsha_us": float(st["usec"]) / int(st["calls"]),
            "server_cpu_us": cpu * 1e6 / n,
        }
    from _profile import server_micro

    for label, us in server_micro(admin, n=max(n, 500)).items():
        out[f"fixed: {label}"] = {"evalsha_us": us, "server_cpu_us": float("nan")}
    return out


def _put_as_transaction(call: Any, member: bytes) -> list[tuple[Any, ...]]:
    """The commands of the put script for a plain put (one server, the index across threads on,
    no ttl, not shallow) as one MULTI/EXEC: what a put without Lua would send.  For measuring
    only: aredis does not send this."""
    k, a = call.keys, call.args
    cid, c_blob, m_blob, ns_e, ns, tid, tag, run_e = a[:8]
    f = ns_e + b"\0" + cid
    pairs = a[12:]
    # the thread's GC candidates (SREM of an absent key is a no-op); a real put would name every
    # value its checkpoint references, this names the new ones
    gd = k[0][:-1] + b"gd"
    cmds: list[tuple[Any, ...]] = [
        ("MULTI",),
        ("SET", k[0], tid, "NX"),
        ("HSETNX", k[1], ns_e, ns),
        ("HSET", k[2], f, c_blob),
        ("HSET", k[3], f, m_blob),
        ("SREM", gd, *pairs[0::2]),
        ("HSET", k[4], *pairs),
        ("ZADD", k[5], 0, f),
        ("ZADD", k[6], 0, cid + b"\0" + ns_e),
    ]
    if run_e:
        cmds.append(("ZADD", k[9], 0, run_e + b"\0" + f))
    if len(k) > 10:
        cmds.append(("ZADD", k[10], 0, member))
        if run_e:
            cmds.append(("SADD", k[11], tag))
    cmds.append(("EXEC",))
    return cmds


def server_put_transaction(env: Env, n: int, reps: int = 6) -> dict[str, dict[str, float]]:
    """The put script against the same writes as plain commands in MULTI/EXEC, on one raw
    connection (hiredis packs and parses both), interleaved: server command time (EVALSHA's,
    EXEC's), server CPU, client CPU and wall time per put, each the median over ``reps``
    batches of ``n`` fresh puts (new checkpoints of a new thread)."""
    import hiredis
    from _data import ThreadWriter
    from _floor import _Conn

    from aredis_ckpt._scripts import SCRIPTS

    s, admin = env.sync_saver, env.admin
    conn = _Conn("127.0.0.1", env.port, 0)
    reader, sock = conn.reader, conn.sock

    def exchange(packed: bytes, replies: int) -> Any:
        sock.sendall(packed)
        got, last = 0, None
        while got < replies:
            r = reader.gets()
            if r is False:
                reader.feed(sock.recv(65536))
                continue
            got, last = got + 1, r
        # a failed write must not be timed as one: EXEC's reply holds each command's result
        for r in last if isinstance(last, list) else [last]:
            if isinstance(r, hiredis.ReplyError):
                raise r
        return last

    sha = SCRIPTS.put.sha
    admin.script_load(SCRIPTS.put.source)

    def as_script(plan: Any) -> None:
        c = plan.call
        exchange(hiredis.pack_command(("EVALSHA", sha, len(c.keys), *c.keys, *c.args)), 1)

    def as_transaction(plan: Any) -> None:
        cmds = _put_as_transaction(plan.call, plan.member)
        exchange(b"".join([hiredis.pack_command(c) for c in cmds]), len(cmds))

    variants = {
        "the script (EVALSHA)": (as_script, "evalsha"),
        "MULTI/EXEC": (as_transaction, "exec"),
    }
    got: dict[str, dict[str, list[float]]] = {v: {} for v in variants}
    for rep in range(reps):
        for name, (fn, cmd) in variants.items():
            w = ThreadWriter(env.template, s, f"hp-tx-{cmd}-{rep}")
            plans = []
            for _ in range(n):
                plan = s._put_call(*w.next_put())
                plans.append(plan)
                w.stored(plan.config)
            admin.config_resetstat()
            c0 = _server_cpu(admin)
            t0, w0 = time.process_time(), time.perf_counter()
            for plan in plans:
                fn(plan)
            cpu, wall = time.process_time() - t0, time.perf_counter() - w0
            scpu = _server_cpu(admin) - c0
            st = admin.info("commandstats")[f"cmdstat_{cmd}"]
            row = got[name]
            for key, value in (
                ("command_us", float(st["usec"]) / int(st["calls"])),
                ("server_cpu_us", scpu * 1e6 / n),
                ("client_cpu_us", cpu * 1e6 / n),
                ("wall_us", wall * 1e6 / n),
            ):
                row.setdefault(key, []).append(value)
    conn.close()
    return {name: {k: statistics.median(v) for k, v in row.items()} for name, row in got.items()}


_OPENERS = re.compile(r"\b(then|do|function|repeat)\b")
_CLOSERS = re.compile(r"\b(end|until|elseif)\b")


def _statement_ends(body: list[str]) -> list[int]:
    """Indices of the body's lines that end a top-level statement (a rough Lua block count:
    enough for this project's scripts, whose blocks open and close on their own lines)."""
    depth, ends = 0, []
    for i, line in enumerate(body):
        code = line.split("--", 1)[0]
        depth += len(_OPENERS.findall(code)) - len(_CLOSERS.findall(code))
        if code.strip() and depth == 0:
            ends.append(i)
    return ends


def server_lines(env: Env, n: int) -> dict[str, list[dict[str, Any]]]:
    """The server's time per line of the put, put_writes and get_tuple scripts.

    For every top-level statement of a script, a variant of the script that returns right
    after it is loaded and called ``n`` times with the arguments of a real call; its
    ``EVALSHA`` µs per call (commandstats) minus the previous variant's is that statement's
    cost.  The first row (``return`` before the body) is the fixed cost: the shared prelude,
    turning keys and arguments into Lua strings, the reply.  No DEBUG, no SLOWLOG.
    """
    import hashlib

    from _data import conf

    from aredis_ckpt._scripts import SCRIPTS

    s, admin = env.sync_saver, env.admin

    def fresh_puts(k: int) -> list[Any]:
        # a new checkpoint and a new 9 KB value per call, as the agent makes them: repeating
        # one call's arguments would spare Lua its string allocations and its GC
        calls = []
        for _ in range(k):
            args = env.writer.next_put()
            calls.append(s._put_call(*args).call)
            conf_ = {**args[0]["configurable"], "checkpoint_id": args[1]["id"]}
            env.writer.stored({"configurable": conf_})  # the next put's parent
        return calls

    def fresh_writes(k: int) -> list[Any]:
        return [s._put_writes_call(*env.writer.next_writes(), "") for _ in range(k)]

    get_call = s._get_tuple_call(conf(env.read_thread))[0]
    out: dict[str, list[dict[str, Any]]] = {}
    for script, make in (
        (SCRIPTS.put, fresh_puts),
        (SCRIPTS.put_writes, fresh_writes),
        (SCRIPTS.get_tuple, lambda k: [get_call] * k),
    ):
        lib, _, body_text = script.source.partition(b"\n-- " + script.name.encode())
        body = ("-- " + script.name + body_text.decode()).splitlines()
        rows: list[dict[str, Any]] = []
        previous = 0.0
        for end in [-1, *_statement_ends(body)]:
            kept = "\n".join(body[: end + 1])
            last = body[end].strip() if end >= 0 else ""
            tail = "" if last.startswith("return") else "\nreturn 0"
            source = lib + b"\n" + kept.encode() + tail.encode() + b"\n"
            sha = hashlib.sha1(source).hexdigest()
            admin.script_load(source)
            calls = make(n + 20)
            for call in calls[:20]:
                admin.execute_command("EVALSHA", sha, len(call.keys), *call.keys, *call.args)
            admin.config_resetstat()
            for call in calls[20:]:
                admin.execute_command("EVALSHA", sha, len(call.keys), *call.keys, *call.args)
            st = admin.info("commandstats")["cmdstat_evalsha"]
            us = float(st["usec"]) / int(st["calls"])
            line = body[end].strip() if end >= 0 else "(fixed: prelude, keys and arguments)"
            rows.append({"line": line[:90], "cumulative_us": us, "us": us - previous})
            previous = us
        out[script.name] = rows
    return out


def _server_cpu(admin: Any) -> float:
    cpu = admin.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


# --------------------------------------------------------------------------- the agent


def agent_per_step(
    env: Env, reps: int, turns: int = 5, *, instructions: bool = False
) -> list[dict[str, Any]]:
    """Per graph step of the agent: wall, the process's CPU (all threads), the main thread's
    CPU, and the server's CPU, for InMemorySaver, the floor and aredis, sync and async."""
    from _graphs import build_agent, turn_input
    from langgraph.checkpoint.memory import InMemorySaver

    savers = [
        ("InMemorySaver", InMemorySaver(), False),
        ("floor", env.floor, False),
        ("aredis RedisSaver", env.sync_saver, False),
        ("InMemorySaver (async API)", InMemorySaver(), True),
        ("floor (async)", env.floor, True),
        ("aredis AsyncRedisSaver", env.async_saver, True),
    ]
    graphs = [build_agent(s) for _, s, _ in savers]
    rows = [{"saver": label, "async": is_async, "samples": []} for label, _, is_async in savers]

    def conversation(graph: Any, thread: str, is_async: bool) -> None:
        cfg = {"configurable": {"thread_id": thread}}
        if is_async:

            async def run() -> None:
                for t in range(turns):
                    await graph.ainvoke(turn_input(t), cfg)

            env.loop.run_until_complete(run())
        else:
            for t in range(turns):
                graph.invoke(turn_input(t), cfg)

    for i, (_, _, is_async) in enumerate(savers):
        conversation(graphs[i], f"warm-{i}", is_async)
    # checkpoints (graph steps) per conversation: the latest one's step + 2 (steps start at -1)
    tup = savers[0][1].get_tuple({"configurable": {"thread_id": "warm-0", "checkpoint_ns": ""}})
    steps = int(tup.metadata["step"]) + 2
    if instructions:
        overhead = _counter_overhead()
        for i, row in enumerate(rows):
            counts = []
            for rep in range(reps):
                gc.collect()
                c0 = _callgrind_counter()
                conversation(graphs[i], f"cg-{rep}-{i}", savers[i][2])
                counts.append((_callgrind_counter() - c0 - overhead) / steps)
            row["instructions"] = statistics.median(counts)
            del row["samples"]
            print(
                f"  agent {row['saver']:28s} {row['instructions']:12,.0f} Ir per step", flush=True
            )
        return rows
    for rep in range(reps):
        order = list(range(len(savers)))
        shift = rep % len(order)
        for i in order[shift:] + order[:shift]:
            gc.collect()
            s0 = _server_cpu(env.admin)
            w0, p0, t0 = time.perf_counter(), time.process_time(), time.thread_time()
            conversation(graphs[i], f"hp-{rep}-{i}", savers[i][2])
            w1, p1, t1 = time.perf_counter(), time.process_time(), time.thread_time()
            s1 = _server_cpu(env.admin)
            rows[i]["samples"].append(
                {
                    "wall": (w1 - w0) / steps * 1e6,
                    "cpu": (p1 - p0) / steps * 1e6,
                    "main": (t1 - t0) / steps * 1e6,
                    "server": (s1 - s0) / steps * 1e6,
                }
            )
    for row in rows:
        for k in ("wall", "cpu", "main", "server"):
            row[k] = statistics.median(x[k] for x in row["samples"])
        del row["samples"]
    return rows


def agent_calls(env: Env, reps: int, turns: int = 5) -> dict[str, dict[str, float]]:
    """CPU per call inside the sync agent graph (LangGraph calls put and put_writes on its
    background thread): the calling thread's CPU of each call, median, for the floor and
    aredis, with aredis's argument building and script round trip on their own."""
    from _graphs import build_agent, turn_input

    out: dict[str, dict[str, float]] = {}

    class Timed:
        """Wraps ``obj.name`` on the instance, collecting thread CPU µs per call."""

        def __init__(self, obj: Any, name: str, sink: list[float]) -> None:
            self.obj, self.name = obj, name
            orig = getattr(obj, name)

            def timed(*a: Any, **k: Any) -> Any:
                c0 = time.thread_time_ns()
                try:
                    return orig(*a, **k)
                finally:
                    sink.append((time.thread_time_ns() - c0) / 1e3)

            setattr(obj, name, timed)

        def undo(self) -> None:
            delattr(self.obj, self.name)

    class RunnerProxy:
        def __init__(self, runner: Any, sink: list[float]) -> None:
            self.runner, self.sink = runner, sink

        def evalsha(self, *a: Any) -> Any:
            c0 = time.thread_time_ns()
            try:
                return self.runner.evalsha(*a)
            finally:
                self.sink.append((time.thread_time_ns() - c0) / 1e3)

    for label, saver in (("floor", env.floor), ("aredis RedisSaver", env.sync_saver)):
        sinks: dict[str, list[float]] = {}
        names = ["put", "put_writes", "get_tuple"]
        if label.startswith("aredis"):
            names += ["_put_call", "_put_writes_call", "_decode_tuple"]
        wraps = [Timed(saver, n, sinks.setdefault(n, [])) for n in names]
        runner = getattr(saver, "_runner", None)
        if runner is not None:
            saver._runner = RunnerProxy(runner, sinks.setdefault("script round trip", []))
        try:
            graph = build_agent(saver)
            for rep in range(reps):
                cfg = {"configurable": {"thread_id": f"calls-{label}-{rep}"}}
                for t in range(turns):
                    graph.invoke(turn_input(t), cfg)
        finally:
            for w in wraps:
                w.undo()
            if runner is not None:
                saver._runner = runner
        out[label] = {k: statistics.median(v) for k, v in sinks.items() if v}
    return out


# --------------------------------------------------------------------------- setup


@dataclass
class Env:
    port: int
    admin: Any
    sync_saver: Any
    async_saver: Any
    floor: Any
    loop: asyncio.AbstractEventLoop
    template: Any
    writer: Any
    read_thread: str
    pool_size: int
    closers: list[Callable[[], Any]] = field(default_factory=list)
    async_closers: list[Callable[[], Coroutine[Any, Any, Any]]] = field(default_factory=list)


def open_env(server_url: str, port: int, pool_size: int) -> Env:
    import redis
    from _data import Template, ThreadWriter
    from _floor import FloorSaver

    from aredis_ckpt import AsyncRedisSaver, RedisSaver

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    admin = redis.Redis.from_url(server_url)
    sync_saver = RedisSaver(server_url, key_prefix="hp")
    sync_saver.setup()

    async def make_async() -> Any:
        a = AsyncRedisSaver(server_url, key_prefix="hp")
        await a.asetup()
        return a

    async_saver = loop.run_until_complete(make_async())
    floor = FloorSaver("127.0.0.1", port, 14)
    template = Template.build(turns=5)
    read = ThreadWriter(template, sync_saver, "hp-read")
    read.fill(sync_saver, 20, writes=True)
    writer = ThreadWriter(template, sync_saver, "hp-write")
    writer.fill(sync_saver, 1, writes=False)
    env = Env(
        port, admin, sync_saver, async_saver, floor, loop, template, writer, "hp-read", pool_size
    )
    env.closers += [floor.close, sync_saver.close, admin.close]
    env.async_closers += [floor.aclose, async_saver.aclose]
    return env


def close_env(env: Env) -> None:
    for c in reversed(env.async_closers):
        env.loop.run_until_complete(c())
    for c in reversed(env.closers):
        c()
    env.loop.close()


# --------------------------------------------------------------------------- output


def print_cases(cases: list[Case]) -> None:
    print(f"{'group':16s} {'phase':62s} {'CPU µs':>8s} {'wall µs':>8s} {'Ir':>12s}")
    for c in cases:
        r = c.row()
        cpu = f"{r['cpu_us']:8.1f}" if r["cpu_us"] is not None else f"{'–':>8s}"
        wall = f"{r['wall_us']:8.1f}" if r["wall_us"] is not None else f"{'–':>8s}"
        ir = f"{r['instructions']:12,.0f}" if r["instructions"] is not None else f"{'–':>12s}"
        print(f"{c.group:16s} {c.name:62s} {cpu} {wall} {ir}")


def _matching(cases: list[Case], text: str | None) -> list[Case]:
    return [c for c in cases if text is None or text in c.name or text in c.group]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--callgrind", action="store_true", help="instructions per call (valgrind)")
    p.add_argument("--n", type=int, default=200, help="calls per batch (default 200)")
    p.add_argument("--batches", type=int, default=7, help="interleaved batches (default 7)")
    p.add_argument("--agent-reps", type=int, default=12, help="agent conversations per saver")
    p.add_argument("--only", nargs="+", choices=("phases", "server", "lines", "agent"))
    p.add_argument("--json", type=Path, help="write the figures here too")
    p.add_argument("--match", help="only the phases whose name contains this text")
    p.add_argument(
        "--patch",
        metavar="FILE",
        help="a Python file whose install() patches the saver before measuring (to measure "
        "a prototype cut without committing it)",
    )
    p.add_argument("--under-callgrind", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.callgrind and not args.under_callgrind:
        cmd = [
            "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
            sys.executable, __file__, "--under-callgrind", "--n", str(args.n),
        ]  # fmt: skip
        if args.only:
            cmd += ["--only", *args.only]
        if args.patch:
            cmd += ["--patch", args.patch]
        if args.match:
            cmd += ["--match", args.match]
        if args.json:
            cmd += ["--json", str(args.json)]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        return subprocess.run(cmd, env=env, check=False).returncode

    import signal

    from aredis_ckpt._server import RedisServer

    # a terminated run (`timeout`, Ctrl-C) still stops the server it started
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.patch:
        import runpy

        runpy.run_path(args.patch)["install"]()
    only = set(args.only or ("phases", "server", "lines", "agent"))
    out: dict[str, Any] = {"n": args.n, "batches": args.batches}
    server = RedisServer().start()
    try:
        env = open_env(server.url, server.port, args.n * (args.batches + 1) + 10)
        try:
            if args.under_callgrind:
                if "phases" in only:
                    cases = _matching(build_cases(env), args.match)
                    print(f"instructions per call (callgrind, {args.n} calls)", flush=True)
                    measure_instructions(cases, env.loop, args.n)
                    out["phases"] = [c.row() for c in cases]
                if "agent" in only:
                    print("instructions per agent step (callgrind)", flush=True)
                    out["agent"] = agent_per_step(env, 3, instructions=True)
            else:
                if "phases" in only:
                    cases = _matching(build_cases(env), args.match)
                    measure_cpu(cases, env.loop, args.n, args.batches)
                    print_cases(cases)
                    out["phases"] = [c.row() for c in cases]
                if "server" in only:
                    info = env.admin.info("server")
                    print(
                        "server: "
                        + (
                            f"valkey {info['valkey_version']}"
                            if "valkey_version" in info
                            else f"redis {info['redis_version']}"
                        )
                    )
                    out["server"] = server_scripts(env, args.n)
                    for name, v in out["server"].items():
                        inner = ""
                        if "inner" in v:
                            inner = f"; inside: {v['inner_us']:.1f} µs in " + ", ".join(
                                f"{k.upper()} {c:.0f}×{u / c:.1f}"
                                for k, (c, u) in v["inner"].items()
                            )
                        print(
                            f"server {name:70s} {v['evalsha_us']:7.1f} µs command, "
                            f"{v['server_cpu_us']:7.1f} µs server CPU per call{inner}"
                        )
                    out["put_transaction"] = server_put_transaction(env, args.n)
                    for name, v in out["put_transaction"].items():
                        print(
                            f"server put as {name:20s} {v['command_us']:6.1f} µs command, "
                            f"{v['server_cpu_us']:6.1f} µs server CPU, client CPU "
                            f"{v['client_cpu_us']:6.1f} µs, wall {v['wall_us']:6.1f} µs per put"
                        )
                if "lines" in only:
                    out["lines"] = server_lines(env, args.n)
                    for name, rows in out["lines"].items():
                        for row in rows:
                            print(
                                f"server {name:10s} {row['us']:6.1f} µs "
                                f"(cumulative {row['cumulative_us']:5.1f}) {row['line']}"
                            )
                if "agent" in only:
                    out["agent_calls"] = agent_calls(env, max(args.agent_reps // 2, 2))
                    for label, calls in out["agent_calls"].items():
                        print(
                            f"in the sync agent, {label}: "
                            + ", ".join(f"{k} {v:.0f} µs" for k, v in calls.items())
                            + " CPU per call (median)"
                        )
                    out["agent"] = agent_per_step(env, args.agent_reps)
                    for row in out["agent"]:
                        print(
                            f"agent {row['saver']:28s} per step: wall {row['wall']:6.0f} µs, "
                            f"client CPU {row['cpu']:6.0f} µs (main thread {row['main']:6.0f}), "
                            f"server CPU {row['server']:5.0f} µs"
                        )
        finally:
            close_env(env)
    finally:
        server.stop()
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
