"""Whole-graph workloads: the ReAct agent (steps per second, ``invoke`` and ``ainvoke``),
LangGraph's fan-out-to-subgraph shape under ``ainvoke``, and bytes stored per checkpoint after
a 50-turn conversation.
"""

from __future__ import annotations

import gc
import itertools
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from _graphs import build_agent, build_fanout, fanout_input, turn_input
from _savers import Backend, Loop, Saver, server_time


@dataclass
class AgentResult:
    saver: Saver
    rates: list[float] = field(default_factory=list)  # steps/s of each batch
    #: the benchmark process's CPU (all its threads) per step of each batch, µs: the client's
    #: whole work, LangGraph's included; steadier than the rates on a busy machine
    cpu: list[float] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    steps_per_conversation: int = 0
    #: what the saver's Redis did per batch (``_savers.server_time``), for Redis backends
    server: list[dict[str, Any]] = field(default_factory=list)


def _conversation_sync(graph: Any, thread: str, turns: int) -> None:
    config = {"configurable": {"thread_id": thread}}
    for turn in range(turns):
        graph.invoke(turn_input(turn), config)


async def _conversation_async(graph: Any, thread: str, turns: int) -> None:
    config = {"configurable": {"thread_id": thread}}
    for turn in range(turns):
        await graph.ainvoke(turn_input(turn), config)


def _count_steps(saver: Saver, loop: Loop, thread: str) -> int:
    """Checkpoints of the thread: the latest one's step + 2 (steps start at -1)."""
    config = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    if saver.is_async:
        tup = loop.run(saver.saver.aget_tuple(config))
    else:
        tup = saver.saver.get_tuple(config)
    assert tup is not None, (saver.key, thread)
    return int(tup.metadata["step"]) + 2


def agent(
    savers: list[Saver],
    loop: Loop,
    *,
    reps: int,
    conversations: int,
    turns: int,
    log: Callable[[str], None],
) -> list[AgentResult]:
    """Each repetition runs ``conversations`` fresh ``turns``-turn conversations per saver, the
    savers in rotated order; a batch's rate is its checkpoints (graph steps) per second."""
    results = [AgentResult(s) for s in savers]
    graphs = [build_agent(s.saver) for s in savers]
    # warm-up conversation (imports, connections, prepared statements); counts the steps
    for res, graph in zip(results, graphs, strict=True):
        thread = f"agent-warm-{res.saver.key}"
        if res.saver.is_async:
            loop.run(_conversation_async(graph, thread, turns))
        else:
            _conversation_sync(graph, thread, turns)
        res.steps_per_conversation = _count_steps(res.saver, loop, thread)
    # the server CPU that reading the counters itself costs, taken off every batch's figure
    idle_cpu: dict[str, float] = {}
    for res in results:
        b = res.saver.backend
        if b.key not in idle_cpu and b.server_stats() is not None:
            reads = [b.server_stats() for _ in range(4)]
            idle_cpu[b.key] = min(
                server_time(x, y)["cpu_usec"] for x, y in itertools.pairwise(reads)
            )
    count = len(results)
    for rep in range(reps):
        shift = (rep * count) // max(reps, 1)
        order = list(range(count))[shift:] + list(range(count))[:shift]
        for i in order:
            res, graph = results[i], graphs[i]
            gc.collect()
            threads = [f"agent-{res.saver.key}-{rep}-{c}" for c in range(conversations)]
            stats0 = res.saver.backend.server_stats()
            c0, t0 = time.process_time(), time.perf_counter()
            if res.saver.is_async:

                async def batch(graph: Any = graph, threads: list[str] = threads) -> None:
                    for thread in threads:
                        await _conversation_async(graph, thread, turns)

                loop.run(batch())
            else:
                for thread in threads:
                    _conversation_sync(graph, thread, turns)
            dt = time.perf_counter() - t0
            cpu = time.process_time() - c0
            if stats0 is not None:
                # only this batch ran meanwhile: the server's work is this saver's
                st = server_time(stats0, res.saver.backend.server_stats())
                st["cpu_usec"] = max(st["cpu_usec"] - idle_cpu[res.saver.backend.key], 0.0)
                res.server.append(st)
            steps = conversations * res.steps_per_conversation
            res.rates.append(steps / dt)
            res.cpu.append(cpu / steps * 1e6)
            res.steps += steps
            res.seconds += dt
        log(f"  repetition {rep + 1}/{reps} done")
    return results


# --------------------------------------------------------------------------- fan-out


@dataclass
class FanoutRun:
    saver: Saver
    n: int
    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    checkpoints: int = 0


def fanout(
    savers: list[Saver],
    loop: Loop,
    sizes: list[int],
    reps: dict[int, int],
    log: Callable[[str], None],
) -> list[FanoutRun]:
    runs: list[FanoutRun] = []
    for n in sizes:
        group = [FanoutRun(s, n) for s in savers]
        graphs = [build_fanout(s.saver) for s in savers]
        inp = fanout_input(n)
        for rep in range(reps.get(n, 1)):
            shift = (rep * len(group)) // max(reps.get(n, 1), 1)
            order = list(range(len(group)))[shift:] + list(range(len(group)))[:shift]
            for i in order:
                run, graph = group[i], graphs[i]
                gc.collect()
                config = {
                    "configurable": {"thread_id": f"fanout-{n}-{run.saver.key}-{rep}"},
                    "recursion_limit": 1000,
                }
                t0 = time.perf_counter()
                try:
                    out = loop.run(graph.ainvoke(inp, config))
                    got = len(out["jokes"])
                    if got != n:
                        raise AssertionError(f"expected {n} jokes, got {got}")
                except Exception as exc:
                    run.errors.append(f"{type(exc).__name__}: {str(exc)[:300]}")
                    log(f"  fan-out N={n} {run.saver.label}: FAILED {run.errors[-1]}")
                    log("".join(traceback.format_exception(exc)[-3:]))
                    continue
                run.seconds.append(time.perf_counter() - t0)
            log(f"  fan-out N={n} repetition {rep + 1}/{reps.get(n, 1)} done")
        runs.extend(group)
    return runs


# --------------------------------------------------------------------------- storage


@dataclass
class StorageResult:
    backend: Backend
    checkpoints: int
    total_delta: int | None
    thread: dict[str, int]
    seconds: float


def storage(
    backends: list[Backend], loop: Loop, turns: int, log: Callable[[str], None]
) -> list[StorageResult]:
    """A ``turns``-turn conversation on a fresh thread of each backend (sync saver); the
    store's size before and after, and what it reports for the thread's own keys/rows."""
    out: list[StorageResult] = []
    for b in backends:
        saver = next(s for s in b.savers if not s.is_async)
        graph = build_agent(saver.saver)
        thread = f"storage-{turns}-turns"
        gc.collect()
        before = b.storage_total()
        t0 = time.perf_counter()
        _conversation_sync(graph, thread, turns)
        seconds = time.perf_counter() - t0
        after = b.storage_total()
        checkpoints = _count_steps(saver, loop, thread)
        thread_bytes = b.storage(thread)
        delta = None if before is None or after is None else after - before
        out.append(StorageResult(b, checkpoints, delta, thread_bytes, seconds))
        log(
            f"  {b.label}: {checkpoints} checkpoints, store delta {delta}, thread {thread_bytes}"
            f" ({seconds:.1f} s)"
        )
    return out


# --------------------------------------------------------------------------- compression


def compression_cost(template: Any, log: Callable[[str], None], n: int = 2000) -> dict[str, Any]:
    """CPU cost of the saver's value compression on the benchmark's 20-message state: the
    saver's own code path (``_serde.compress`` / ``decompress``: zstd level 1), zlib level 1
    for comparison, and LangGraph's serialization of the same value for scale."""
    import statistics
    import zlib

    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    from aredis_ckpt import _serde

    value = template.checkpoint["channel_values"]["messages"]
    serde = JsonPlusSerializer()
    tag, data = serde.dumps_typed(value)
    ztag, packed = _serde.compress(tag, data, 1)

    def per_call(fn: Callable[[], Any]) -> float:
        fn()
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n // 5):
                fn()
            runs.append((time.perf_counter() - t0) / (n // 5) * 1e6)
        return statistics.median(runs)

    zl = zlib.compress(data, 1)
    out = {
        "codec": ztag.split("+", 1)[0],
        "messages": len(value),
        "raw_bytes": len(data),
        "compressed_bytes": len(packed),
        "serialize_us": per_call(lambda: serde.dumps_typed(value)),
        "compress_us": per_call(lambda: _serde.compress(tag, data, 1)),
        "decompress_us": per_call(lambda: _serde.decompress(ztag, packed)),
        "zlib_bytes": len(zl),
        "zlib_compress_us": per_call(lambda: zlib.compress(data, 1)),
        "zlib_decompress_us": per_call(lambda: zlib.decompress(zl)),
    }
    log(
        f"  compression of a {out['messages']}-message state ({out['raw_bytes']} B): "
        f"{out['codec']} {out['compressed_bytes']} B, {out['compress_us']:.1f} us / "
        f"{out['decompress_us']:.1f} us; zlib-1 {out['zlib_bytes']} B, "
        f"{out['zlib_compress_us']:.1f} us / {out['zlib_decompress_us']:.1f} us; "
        f"serializing {out['serialize_us']:.1f} us"
    )
    return out
