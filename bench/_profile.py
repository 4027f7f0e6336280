"""Where an aredis operation spends its time (pyinstrument), against InMemorySaver's.

Each operation runs ``n`` times under pyinstrument; every sample's time is attributed to the
innermost frame that belongs to a known package (built-ins such as ``socket.recv`` count for
the package that called them):

* ``serde``: LangGraph's serializer, ormsgpack, langchain_core/pydantic object (re)building;
* ``redis-py``: the client library, including the socket wait for the server's reply;
* ``aredis-ckpt``: the saver's own Python (argument building, metadata digests, decoding);
* ``other``: everything else (LangGraph base classes, the benchmark loop).

The server's own share comes from ``INFO commandstats`` (``usec`` of ``EVALSHA``, i.e. the Lua
script including the commands it runs), reset before each operation's loop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from _data import Template, ThreadWriter, conf

CATEGORIES = ("serde", "redis-py", "aredis-ckpt", "other")


def _category(path: str | None) -> str | None:
    if not path:
        return None
    p = path.replace("\\", "/")
    if "/aredis_ckpt/" in p:
        return "aredis-ckpt"
    if "/langgraph/checkpoint/serde/" in p or "/ormsgpack/" in p:
        return "serde"
    if "/langchain_core/" in p or "/pydantic/" in p or "/pydantic_core/" in p:
        return "serde"
    if "/redis/" in p or "/hiredis/" in p:
        return "redis-py"
    if p.startswith("<"):
        return None  # built-in: attributed to the caller
    return "other"


def _attribute(frame: Any, inherited: str, out: dict[str, float]) -> None:
    cat = _category(frame.file_path) or inherited
    children = frame.children
    child_time = sum(c.time for c in children)
    out[cat] = out.get(cat, 0.0) + max(frame.time - child_time, 0.0)
    for c in children:
        _attribute(c, cat, out)


def profile_ops(
    aredis_saver: Any,
    mem_saver: Any,
    admin: Any,
    template: Template,
    n: int,
    log: Callable[[str], None],
) -> dict[str, Any]:
    from pyinstrument import Profiler

    result: dict[str, Any] = {"n": n, "ops": {}}
    for label, saver in (("aredis RedisSaver", aredis_saver), ("InMemorySaver", mem_saver)):
        thread = f"profile-{label.split()[0]}"
        writer = ThreadWriter(template, saver, thread)
        writer.fill(saver, 50)
        puts = [writer.next_put() for _ in range(n)]
        ops: list[tuple[str, Callable[[int], Any]]] = [
            ("put", lambda i, s=saver, p=puts: s.put(*p[i])),
            ("get_tuple latest", lambda i, s=saver, t=thread: s.get_tuple(conf(t))),
            ("list page of 10", lambda i, s=saver, t=thread: list(s.list(conf(t), limit=10))),
        ]
        for op, fn in ops:
            for i in range(min(20, n)):  # warm
                if op != "put":
                    fn(i)
            if admin is not None and label.startswith("aredis"):
                admin.config_resetstat()
            profiler = Profiler(interval=0.0002)
            t0 = time.perf_counter()
            profiler.start()
            for i in range(n):
                fn(i)
            profiler.stop()
            wall = time.perf_counter() - t0
            # unprofiled timing of the same operation, for the per-call figure
            if op == "put":
                extra = [writer.next_put() for _ in range(n)]
                t1 = time.perf_counter()
                for args in extra:
                    saver.put(*args)
                plain = (time.perf_counter() - t1) / n
            else:
                t1 = time.perf_counter()
                for i in range(n):
                    fn(i)
                plain = (time.perf_counter() - t1) / n
            shares: dict[str, float] = {}
            session = profiler.last_session
            assert session is not None
            root = session.root_frame()
            if root is not None:
                _attribute(root, "other", shares)
            total = sum(shares.values()) or 1.0
            entry: dict[str, Any] = {
                "us_per_call": plain * 1e6,
                "profiled_us_per_call": wall / n * 1e6,
                "shares": {c: shares.get(c, 0.0) / total for c in CATEGORIES},
            }
            if admin is not None and label.startswith("aredis"):
                stats = admin.info("commandstats").get("cmdstat_evalsha", {})
                calls = int(stats.get("calls", 0)) or 1
                entry["server_us_per_call"] = float(stats.get("usec", 0)) / calls
            if label.startswith("aredis"):
                entry["top"] = _top_functions(root, 10) if root is not None else []
            result["ops"].setdefault(op, {})[label] = entry
            log(
                f"  {label:18s} {op:17s} {plain * 1e6:7.0f} us/call; "
                + ", ".join(f"{c} {entry['shares'][c]:.0%}" for c in CATEGORIES)
                + (
                    f"; server {entry['server_us_per_call']:.0f} us"
                    if "server_us_per_call" in entry
                    else ""
                )
            )
    if admin is not None:
        result["components"] = components(aredis_saver, admin, template, n, log)
        result["server_micro"] = server_micro(admin)
        for label, us in result["server_micro"].items():
            log(f"  server: {label}: {us:.1f} us")
    return result


def components(
    saver: Any, admin: Any, template: Template, n: int, log: Callable[[str], None]
) -> dict[str, dict[str, float]]:
    """Each aredis operation taken apart without a profiler (µs per call, median of ``n``):
    the whole call; the client-side preparation (building the script call: serialization,
    metadata digests, key names); the EVALSHA alone, sent the way the saver sends it (its
    script runner: round trip plus server); the server's own time (commandstats); decoding the
    reply; and a PING round trip (redis-py's ``ping()``, through the pool).

    Uses the saver's internal helpers (``_put_call`` ...); returns {} if they changed.
    """
    import statistics

    from aredis_ckpt._scripts import SCRIPTS

    def med(fn: Callable[[int], Any]) -> float:
        out = []
        for i in range(n):
            t0 = time.perf_counter_ns()
            fn(i)
            out.append((time.perf_counter_ns() - t0) / 1e3)
        return statistics.median(out)

    def server(fn: Callable[[int], Any]) -> tuple[float, float]:
        admin.config_resetstat()
        wall = med(fn)
        st = admin.info("commandstats").get("cmdstat_evalsha", {})
        return wall, float(st.get("usec", 0)) / max(int(st.get("calls", 0)), 1)

    def evalsha(script: Any, call: Any) -> Any:
        return saver._runner.evalsha(script, call.keys, call.args)

    out: dict[str, dict[str, float]] = {}
    try:
        thread = "components"
        writer = ThreadWriter(template, saver, thread)
        writer.fill(saver, 50)
        ping = med(lambda i: admin.ping())
        messages = template.messages
        serde = med(lambda i: saver.serde.dumps_typed(messages))
        puts = [writer.next_put() for _ in range(3 * n)]
        prep = med(lambda i: saver._put_call(*puts[i]))
        calls = [saver._put_call(*puts[n + i]).call for i in range(n)]
        rt, srv = server(lambda i: evalsha(SCRIPTS.put, calls[i]))
        total = med(lambda i: saver.put(*puts[2 * n + i]))
        out["put"] = {
            "total": total, "prepare": prep, "serialize 9 KB messages": serde,
            "evalsha": rt, "server": srv, "ping": ping,
        }  # fmt: skip
        writes = [writer.next_writes() for _ in range(3 * n)]
        prep = med(lambda i: saver._put_writes_call(*writes[i], ""))
        wcalls = [saver._put_writes_call(*writes[n + i], "") for i in range(n)]
        rt, srv = server(lambda i: evalsha(SCRIPTS.put_writes, wcalls[i]))
        total = med(lambda i: saver.put_writes(*writes[2 * n + i]))
        out["put_writes"] = {
            "total": total, "prepare": prep, "evalsha": rt, "server": srv, "ping": ping,
        }  # fmt: skip
        config = conf(thread)
        gcall, tid, ns = saver._get_tuple_call(config)
        prep = med(lambda i: saver._get_tuple_call(config))
        rt, srv = server(lambda i: evalsha(SCRIPTS.get_tuple, gcall))
        reply = evalsha(SCRIPTS.get_tuple, gcall)
        decode = med(lambda i: saver._decode_tuple(tid, ns, reply))
        blob = saver.serde.dumps_typed(messages)
        deserialize = med(lambda i: saver.serde.loads_typed(blob))
        total = med(lambda i: saver.get_tuple(config))
        out["get_tuple latest"] = {
            "total": total, "prepare": prep, "evalsha": rt, "server": srv, "decode": decode,
            "deserialize 9 KB messages": deserialize, "ping": ping,
        }  # fmt: skip
    except (AttributeError, TypeError, ValueError) as exc:
        log(f"  components: skipped ({type(exc).__name__}: {exc})")
        return {}
    for op, parts in out.items():
        log(f"  components {op}: " + ", ".join(f"{k} {v:.0f} us" for k, v in parts.items()))
    return out


def client_cpu(
    savers: list[tuple[str, Any, bool]], loop: Any, template: Template, n: int
) -> dict[str, dict[str, dict[str, float]]]:
    """Wall time and this process's CPU time (user + system, all threads) per ``put`` and
    ``put_writes``.  Inside a graph LangGraph overlaps these calls with the next step, so the
    CPU they take from the graph's own thread(s) is what limits steps per second."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for label, saver, is_async in savers:
        writer = ThreadWriter(template, saver, f"cpu-{label.replace(' ', '-')}")
        res: dict[str, dict[str, float]] = {}
        if is_async:

            async def run_async(
                w: ThreadWriter = writer, s: Any = saver, res: dict[str, Any] = res
            ) -> None:
                for _ in range(5):
                    w.stored(await s.aput(*w.next_put()))
                puts = [w.next_put() for _ in range(n)]
                w0, c0 = time.perf_counter(), time.process_time()
                for args in puts:
                    w.stored(await s.aput(*args))
                w1, c1 = time.perf_counter(), time.process_time()
                res["put"] = {"wall": (w1 - w0) / n * 1e6, "cpu": (c1 - c0) / n * 1e6}
                writes = [w.next_writes() for _ in range(n)]
                w0, c0 = time.perf_counter(), time.process_time()
                for wr in writes:
                    await s.aput_writes(*wr)
                w1, c1 = time.perf_counter(), time.process_time()
                res["put_writes"] = {"wall": (w1 - w0) / n * 1e6, "cpu": (c1 - c0) / n * 1e6}

            loop.run(run_async())
        else:
            writer.fill(saver, 5, writes=False)
            puts = [writer.next_put() for _ in range(n)]
            w0, c0 = time.perf_counter(), time.process_time()
            for args in puts:
                writer.stored(saver.put(*args))
            w1, c1 = time.perf_counter(), time.process_time()
            res["put"] = {"wall": (w1 - w0) / n * 1e6, "cpu": (c1 - c0) / n * 1e6}
            writes = [writer.next_writes() for _ in range(n)]
            w0, c0 = time.perf_counter(), time.process_time()
            for wr in writes:
                saver.put_writes(*wr)
            w1, c1 = time.perf_counter(), time.process_time()
            res["put_writes"] = {"wall": (w1 - w0) / n * 1e6, "cpu": (c1 - c0) / n * 1e6}
        out[label] = res
    return out


def server_micro(admin: Any, n: int = 2000) -> dict[str, float]:
    """Server µs per EVALSHA of trivial scripts: the fixed costs every aredis script pays.

    ``return 1`` bare, with the put's argument shape (12 keys, 15 arguments, one 9 KB), and
    aredis's shared Lua prelude (``lua/lib.lua``, prepended to every script) before ``return 1``.
    Then what a large string costs on its way into Lua, either way: one 9 KB argument, and a
    9 KB field read with ``HGET`` inside the script (not returned), against a plain ``HGET``.
    Redis 7.0 and later (Valkey 8.0 too) hash every byte of a string that becomes a Lua string
    (redis/redis#9449); Redis 6.2 hashed a sample of it.  The minimum over three loops of ``n``
    calls; the key ``bench:{t}:lua-bytes`` is left behind.
    """
    from importlib import resources

    lib = (resources.files("aredis_ckpt") / "lua" / "lib.lua").read_bytes()
    bare = admin.script_load("return 1")
    with_lib = admin.script_load(lib + b"\nreturn 1")
    keys = [f"bench:{{t}}:{i}".encode() for i in range(12)]
    args = [b"x" * 10] * 14 + [b"x" * 9100]
    field = b"bench:{t}:lua-bytes"
    admin.hset(field, "f", b"x" * 9100)
    read = admin.script_load("redis.call('HGET', KEYS[1], 'f') return 1")
    cases = {
        "return 1": (bare, [], []),
        "return 1 + one 9 KB argument": (bare, [], [b"x" * 9100]),
        "HGET of a 9 KB field inside the script, not returned": (read, [field], []),
        "return 1 + put-shaped arguments (12 keys, 15 args, one 9 KB)": (bare, keys, args),
        "lib.lua prelude + return 1": (with_lib, [], []),
        "lib.lua prelude + return 1 + put-shaped arguments": (with_lib, keys, args),
    }
    out: dict[str, float] = {}
    for label, (sha, k, a) in cases.items():
        best = math.inf
        for _ in range(3):
            admin.config_resetstat()
            for _ in range(n):
                admin.execute_command("EVALSHA", sha, len(k), *k, *a)
            st = admin.info("commandstats")["cmdstat_evalsha"]
            best = min(best, float(st["usec"]) / int(st["calls"]))
        out[label] = best
    best = math.inf
    for _ in range(3):
        admin.config_resetstat()
        for _ in range(n):
            admin.hget(field, "f")
        st = admin.info("commandstats")["cmdstat_hget"]
        best = min(best, float(st["usec"]) / int(st["calls"]))
    out["plain HGET of the same field (no Lua; not an EVALSHA)"] = best
    return out


def _top_functions(root: Any, k: int) -> list[tuple[str, float]]:
    """The ``k`` functions with the most *self* time (built-ins included), as shares."""
    totals: dict[str, float] = {}
    whole = root.time or 1.0

    def name_of(frame: Any) -> str:
        where = (frame.file_path_short or "?").split("site-packages/")[-1]
        return f"{frame.function} ({where})" if where != "<built-in>" else frame.function

    def walk(frame: Any, parent: str) -> None:
        # pyinstrument records a function's own time in synthetic "[self]" children
        name = parent if frame.is_synthetic else name_of(frame)
        children = frame.children
        own = max(frame.time - sum(c.time for c in children), 0.0)
        if own:
            totals[name] = totals.get(name, 0.0) + own
        for c in children:
            walk(c, name)

    walk(root, "?")
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    return [(name, t / whole) for name, t in ranked[:k]]
