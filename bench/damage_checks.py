"""Server time of the read scripts before and after the damage checks (docs/reliability.md).

Loads the read scripts of two versions side by side into one private Redis (the "before" ones
from a git ref, ``--before``, default ``main``; the "after" ones from this checkout) and calls
each with the same keys and arguments, alternating rounds of ``--n`` calls, reading the
EVALSHA time from ``INFO commandstats``; prints the medians as a markdown table.  Interleaving
keeps a loaded machine's drift out of the comparison.

    python bench/damage_checks.py --before 7d18298
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import empty_checkpoint

from aredis_ckpt import RedisSaver
from aredis_ckpt._commands import ScriptCall
from aredis_ckpt._server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "src" / "aredis_ckpt" / "lua"


def _before(ref: str, name: str) -> bytes | None:
    try:
        return subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{ref}:src/aredis_ckpt/lua/{name}.lua"],
            check=True,
            capture_output=True,
        ).stdout
    except subprocess.CalledProcessError:
        return None


def _source(read: Any, name: str) -> bytes:
    lib = read("lib")
    damage = read("damage")
    if damage is not None:
        lib += b"\n" + damage
    return bytes(lib + b"\n" + read(name))


def _fill(saver: RedisSaver, thread_id: str, writes_on_latest: bool) -> dict[str, Any]:
    """10 checkpoints of four channels; pending writes on each, or on all but the latest."""
    config: Any = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
    versions: dict[str, str] = {}
    for i in range(10):
        cp = empty_checkpoint()
        new = {}
        for ch in ("messages", "a", "b", "c"):
            versions[ch] = saver.get_next_version(versions.get(ch), None)
            new[ch] = versions[ch]
        cp["channel_versions"] = dict(versions)
        cp["channel_values"] = {"messages": ["x" * 50] * 3, "a": i, "b": "v", "c": [i]}
        if i and not writes_on_latest:
            saver.put_writes(config, [("a", 1), ("b", 2)], f"task{i}")
        config = saver.put(config, cp, {"step": i, "source": "loop"}, new)
        if writes_on_latest:
            saver.put_writes(config, [("a", 1), ("b", 2)], f"task{i}")
    return dict(config)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--before", default="main", help="git ref of the 'before' scripts")
    p.add_argument("--n", type=int, default=400, help="calls per round (default 400)")
    p.add_argument("--rounds", type=int, default=12, help="rounds per version (default 12)")
    args = p.parse_args()

    def after(name: str) -> bytes | None:
        path = LUA / f"{name}.lua"
        return path.read_bytes() if path.exists() else None

    with RedisServer(os.environ.get("AREDIS_REDIS_SERVER")) as server:
        with RedisSaver.from_conn_string(server.url, key_prefix="bench-damage") as saver:
            saver.setup()
            r = saver._redis
            last = _fill(saver, "t1", True)
            _fill(saver, "t2", False)

            def conf(tid: str, ns: str = "") -> Any:
                return {"configurable": {"thread_id": tid, "checkpoint_ns": ns}}

            def get(config: Any) -> tuple[str, ScriptCall]:
                return "get_tuple", saver._get_tuple_call(config)[0]

            def page(config: Any) -> tuple[str, ScriptCall]:
                query = saver._list_query(config, None, None, 10)
                assert query is not None
                return "list", ScriptCall(query.keys, query.page_args(saver._pk.prefix))

            cases = {
                "`get_tuple` latest, checkpoint with pending writes": get(conf("t1")),
                "`get_tuple` latest, checkpoint without pending writes": get(conf("t2")),
                "`get_tuple` by id": get(last),
                "`get_tuple`, thread that does not exist": get(conf("nobody")),
                "`get_tuple`, namespace that does not exist": get(conf("t1", "sub:1")),
                "`list` of the thread, 10 checkpoints": page({"configurable": {"thread_id": "t1"}}),
                "`list(None)`, 10 checkpoints": page(None),
                "`get_delta_channel_history`": (
                    "delta_history",
                    saver._delta_call(conf("t1"), ["a"]),
                ),
            }
            shas = {
                (version, name): r.script_load(_source(read, name))
                for version, read in (
                    ("before", lambda n: _before(args.before, n)),
                    ("after", after),
                )
                for name in ("get_tuple", "list", "delta_history")
            }
            print("| Call | Before (us) | After (us) | Difference |")
            print("|---|---|---|---|")
            for label, (name, call) in cases.items():
                got: dict[str, list[float]] = {"before": [], "after": []}
                for _ in range(args.rounds):
                    for version in ("before", "after"):
                        r.config_resetstat()
                        for _ in range(args.n):
                            r.evalsha(shas[version, name], len(call.keys), *call.keys, *call.args)
                        stats = r.info("commandstats")["cmdstat_evalsha"]
                        got[version].append(stats["usec"] / stats["calls"])
                b, a = statistics.median(got["before"]), statistics.median(got["after"])
                print(f"| {label} | {b:.2f} | {a:.2f} | {a - b:+.2f} ({(a - b) / b * 100:+.0f}%) |")


if __name__ == "__main__":
    main()
