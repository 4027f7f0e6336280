"""What a checkpoint call costs *inside* the sync agent, and how the agent's speed answers to
the server's script time.  Feeds docs/hot-path.md ("Inside the agent").

    python bench/in_graph.py                 # both parts (about 3 minutes)
    python bench/in_graph.py --only calls    # CPU per call inside the graph
    python bench/in_graph.py --only server   # steps/s of the floor with the server slowed

``calls``: the benchmark's ReAct agent (``_graphs.build_agent``) runs on the floor and on
aredis-ckpt's ``RedisSaver``, each on a private Redis.  Every ``put``, ``put_writes`` and
``get_tuple`` (and, on aredis, the phases inside them) is wrapped to record the calling
thread's CPU time (``time.thread_time``: kernel time included, waiting excluded).  LangGraph
runs ``put`` and ``put_writes`` on its background thread, which shares the GIL with the
graph, so this is the CPU the step pays for them; in a hot loop the same calls cost about half
(``bench/hot_path.py``).  Nested phases include the timers of the phases inside them (about
1 us each).

``server``: the floor (``_floor.FloorSaver``) against itself with every round trip also running
a Lua loop on the server (the same loop, pipelined in the same write: the client's work is
unchanged, only the server's time per call grows), interleaved, steps/s per variant.  The
slope says what a microsecond of script time per step costs the sync agent's wall clock.

Nothing here asserts anything.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import hiredis  # noqa: E402
from _agent import agent  # noqa: E402
from _floor import FloorSaver, _Conn  # noqa: E402
from _graphs import build_agent, turn_input  # noqa: E402
from _infra import start_redis  # noqa: E402
from _savers import ARedisBackend, FloorBackend, Loop  # noqa: E402

# --------------------------------------------------------------------------- calls

CPU: dict[tuple[str, str], list[float]] = collections.defaultdict(list)


def _timed(owner: Any, name: str, label: str, saver: str) -> Callable[[], None]:
    """Wrap ``owner.name`` to record its thread CPU per call; returns the undo."""
    fn = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            CPU[(saver, label)].append(time.thread_time() - start)

    setattr(owner, name, wrapper)
    return lambda: setattr(owner, name, fn)


def _aredis_phases(saver: str) -> list[Callable[[], None]]:
    import aredis_ckpt._appends as appends
    import aredis_ckpt._base as base
    import aredis_ckpt._serde as serde
    from aredis_ckpt import _wire
    from aredis_ckpt._sync import connect

    return [
        _timed(base.BaseRedisSaver, "_put_call", "  building the put call", saver),
        _timed(appends.Appends, "encode", "    compressing the put's large values", saver),
        # _appends imported the compressor by name: both places are wrapped, one label
        _timed(serde, "_zstd_compress", "      a zstd call", saver),
        _timed(appends, "_zstd_compress", "      a zstd call", saver),
        _timed(serde, "dump_meta", "    dump_meta", saver),
        _timed(base.BaseRedisSaver, "_put_writes_call", "  building the put_writes call", saver),
        _timed(connect.ScriptRunner, "evalsha", "  script call (pack, send, read)", saver),
        _timed(_wire.Wire, "exchange", "    send and read", saver),
    ]


def _floor_phases(saver: str) -> list[Callable[[], None]]:
    from langgraph.checkpoint.memory import InMemorySaver

    return [
        _timed(InMemorySaver, "put", "  InMemorySaver.put", saver),
        _timed(InMemorySaver, "put_writes", "  InMemorySaver.put_writes", saver),
        _timed(FloorSaver, "_roundtrip", "  round trip (send and read)", saver),
    ]


def calls(conversations: int) -> None:
    server = start_redis()
    loop = Loop()
    try:
        backends = [FloorBackend(server.url, 1), ARedisBackend(server.url, 2)]
        with contextlib.ExitStack() as stack:
            for b in backends:
                b.open(stack, loop)
            for b in backends:
                saver = b.sync_saver
                graph = build_agent(saver)
                for c in range(2):  # warm-up
                    for turn in range(5):
                        graph.invoke(turn_input(turn), {"configurable": {"thread_id": f"w{c}"}})
                undo = [_timed(saver, op, op, b.key) for op in ("put", "put_writes", "get_tuple")]
                undo += _floor_phases(b.key) if b.key == "floor" else _aredis_phases(b.key)
                steps = 0
                for c in range(conversations):
                    config = {"configurable": {"thread_id": f"t{c}"}}
                    for turn in range(5):
                        graph.invoke(turn_input(turn), config)
                    tup = saver.get_tuple({"configurable": {"thread_id": f"t{c}"}})
                    steps += int(tup.metadata["step"]) + 2
                for u in reversed(undo):
                    u()
                print(f"\n{b.label}, {steps} agent steps (CPU of the calling thread)")
                print(f"  {'':38s} {'calls/step':>10s} {'µs/call':>9s} {'µs/step':>9s}")
                for (key, label), values in CPU.items():
                    if key != b.key:
                        continue
                    med = statistics.median(values) * 1e6
                    total = sum(values) * 1e6 / steps
                    print(f"  {label:38s} {len(values) / steps:10.2f} {med:9.1f} {total:9.1f}")
    finally:
        loop.close()
        server.stop()


# --------------------------------------------------------------------------- server


def _spin_backend(url: str, db: int, iters: int) -> FloorBackend:
    spin = hiredis.pack_command(
        ("EVAL", "local x=0 for i=1,tonumber(ARGV[1]) do x=x+i end return 1", 0, iters)
    )

    class SpinFloor(FloorSaver):
        def _roundtrip(self, packed: bytes) -> Any:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = _Conn(*self._addr)
            reply = conn.call(packed + spin)
            second = conn.reader.gets()
            while second is False:
                conn.reader.feed(conn.sock.recv(65536))
                second = conn.reader.gets()
            with self._lock:
                self._idle.append(conn)
            return reply

    class SpinBackend(FloorBackend):
        def open(self, stack: contextlib.ExitStack, loop: Loop) -> None:
            super().open(stack, loop)
            saver = SpinFloor(self.host, self.port, self.db)
            stack.callback(saver.close)
            self.savers.clear()
            self.saver = self.sync_saver = saver
            self._add(saver, False)

    b = SpinBackend(url, db)
    b.key = b.label = f"floor + Lua loop of {iters} per call"
    return b


def server(reps: int, conversations: int, spins: list[int]) -> None:
    srv = start_redis()
    loop = Loop()
    try:
        backends = [FloorBackend(srv.url, 1)]
        backends += [_spin_backend(srv.url, 2 + i, n) for i, n in enumerate(spins)]
        with contextlib.ExitStack() as stack:
            for b in backends:
                b.open(stack, loop)
            savers = [s for b in backends for s in b.savers if not s.is_async]
            results = agent(
                savers, loop, reps=reps, conversations=conversations, turns=5, log=lambda m: None
            )
        base = statistics.median(results[0].rates)
        base_usec = statistics.median(s["usec"] for s in results[0].server)
        print("\nsync agent, steps/s (median of batches) and script time per step")
        for r in results:
            rate = statistics.median(r.rates)
            steps = conversations * r.steps_per_conversation
            usec = statistics.median(s["usec"] for s in r.server) / steps
            extra = usec - base_usec / steps
            slope = (base / rate - 1) * 1e6 / base / extra if extra > 0.5 else float("nan")
            print(
                f"  {r.saver.backend.label:36s} {rate:8.1f} steps/s  {rate / base:.3f}x  "
                f"command time {usec:6.1f} µs/step  wall µs per µs of script: {slope:.2f}"
            )
    finally:
        loop.close()
        srv.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", nargs="+", choices=("calls", "server"))
    p.add_argument("--conversations", type=int, default=20)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--spins", type=int, nargs="+", default=[2500, 8000])
    args = p.parse_args()
    only = set(args.only or ("calls", "server"))
    if "calls" in only:
        calls(args.conversations)
    if "server" in only:
        server(args.reps, 3, args.spins)
    return 0


if __name__ == "__main__":
    sys.exit(main())
