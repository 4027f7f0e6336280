"""Read-only commands: ``threads``, ``show``, ``stats``, ``check``.  None of them writes to
Redis (no ``setup()``, only reads and the read-only ``list`` / ``get_tuple`` /
``check_thread`` scripts)."""

from __future__ import annotations

import argparse
from typing import Any

from aredis_ckpt.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    Command,
    Context,
    human_bytes,
    show_id,
)

__all__ = ["COMMANDS"]

_SORTS = {
    "id": (lambda s: s.thread_id, False),
    "updated": (lambda s: s.last_update or "", True),
    "checkpoints": (lambda s: s.checkpoints, True),
    "bytes": (lambda s: s.bytes, True),
}


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


# ---------------------------------------------------------------------------- threads


def _configure_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sort",
        choices=sorted(_SORTS),
        default="id",
        help="order: id (default), updated (newest first), checkpoints or bytes (largest first)",
    )
    parser.add_argument("--limit", type=_positive, help="show at most this many threads")


def _threads(ctx: Context) -> int:
    from aredis_ckpt._sync.inventory import iter_thread_ids, thread_summaries

    with ctx.saver() as saver:
        ids = sorted(set(iter_thread_ids(saver)))
        summaries = thread_summaries(saver, ids)
    key, reverse = _SORTS[ctx.args.sort]
    summaries.sort(key=lambda s: s.thread_id)
    summaries.sort(key=key, reverse=reverse)
    total = len(summaries)
    if ctx.args.limit is not None:
        summaries = summaries[: ctx.args.limit]
    if ctx.json:
        for summary in summaries:
            ctx.emit_json(summary.as_dict())
        return EXIT_OK
    if not summaries:
        ctx.out(f"no threads under prefix {ctx.prefix!r} on {ctx.shown_url()}")
        return EXIT_OK
    ctx.table(
        ["THREAD", "CHECKPOINTS", "NAMESPACES", "LAST STEP", "LAST UPDATE", "SIZE"],
        [
            [
                show_id(s.thread_id),
                s.checkpoints,
                s.namespaces,
                s.last_step,
                s.last_update,
                human_bytes(s.bytes),
            ]
            for s in summaries
        ],
    )
    shown = f"{len(summaries)} of {total}" if len(summaries) < total else f"{total}"
    ctx.out(f"({shown} threads under prefix {ctx.prefix!r})")
    return EXIT_OK


# ---------------------------------------------------------------------------- show


def _configure_show(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("thread_id", metavar="THREAD", help="the thread id")
    parser.add_argument(
        "--ns", dest="namespace", help="only this namespace ('' for the root graph)"
    )
    parser.add_argument("--limit", type=_positive, help="the newest N checkpoints only")


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return repr(value)


def _show(ctx: Context) -> int:
    configurable: dict[str, Any] = {"thread_id": ctx.args.thread_id}
    if ctx.args.namespace is not None:
        configurable["checkpoint_ns"] = ctx.args.namespace
    rows = []
    with ctx.saver() as saver:
        for tup in saver.list({"configurable": configurable}, limit=ctx.args.limit):
            conf = tup.config["configurable"]
            parent = (
                tup.parent_config["configurable"]["checkpoint_id"] if tup.parent_config else None
            )
            meta = tup.metadata
            writes = tup.pending_writes or []
            if ctx.json:
                ctx.emit_json(
                    {
                        "thread_id": conf["thread_id"],
                        "checkpoint_ns": conf["checkpoint_ns"],
                        "checkpoint_id": conf["checkpoint_id"],
                        "parent_checkpoint_id": parent,
                        "created": tup.checkpoint.get("ts"),
                        "metadata": _jsonable(dict(meta)),
                        "channels": sorted(tup.checkpoint["channel_values"]),
                        "pending_writes": [
                            {"task_id": task, "channel": channel} for task, channel, _ in writes
                        ],
                    }
                )
            rows.append(
                [
                    conf["checkpoint_id"],
                    show_id(conf["checkpoint_ns"]) if conf["checkpoint_ns"] else "",
                    meta.get("step"),
                    meta.get("source"),
                    tup.checkpoint.get("ts"),
                    len(writes),
                    parent,
                ]
            )
    if not rows:
        where = "" if ctx.args.namespace is None else f" in namespace {ctx.args.namespace!r}"
        ctx.err(
            f"thread {ctx.args.thread_id!r} has no checkpoints{where} under prefix "
            f"{ctx.prefix!r} on {ctx.shown_url()}"
        )
        return EXIT_FAILED
    if not ctx.json:
        ctx.table(
            ["CHECKPOINT", "NAMESPACE", "STEP", "SOURCE", "CREATED", "WRITES", "PARENT"], rows
        )
    return EXIT_OK


# ---------------------------------------------------------------------------- stats


def _configure_stats(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--top", type=_positive, default=10, help="largest threads to list (default 10)"
    )


def _stats(ctx: Context) -> int:
    from aredis_ckpt._sync.inventory import prefix_stats

    with ctx.saver() as saver:
        stats = prefix_stats(saver, top=ctx.args.top)
    if ctx.json:
        ctx.emit_json(stats.as_dict())
        return EXIT_OK
    kinds = ", ".join(f"{kind} {entry['keys']:,}" for kind, entry in sorted(stats.by_kind.items()))
    ctx.out(f"prefix       {stats.prefix!r} on {ctx.shown_url()}")
    ctx.out(f"threads      {stats.threads:,}")
    ctx.out(f"checkpoints  {stats.checkpoints:,}")
    ctx.out(f"keys         {stats.keys:,}" + (f" ({kinds})" if kinds else ""))
    ctx.out(f"memory       {human_bytes(stats.bytes)}")
    if stats.largest:
        ctx.out("")
        ctx.out("largest threads:")
        ctx.table(
            ["THREAD", "CHECKPOINTS", "SIZE", "LAST UPDATE"],
            [
                [show_id(s.thread_id), s.checkpoints, human_bytes(s.bytes), s.last_update]
                for s in stats.largest
            ],
        )
    return EXIT_OK


# ---------------------------------------------------------------------------- check


def _configure_check(parser: argparse.ArgumentParser) -> None:
    del parser  # only the connection and output options


def _check(ctx: Context) -> int:
    with ctx.saver() as saver:
        found = saver.check_threads()
    if ctx.json:
        for damage in found:
            ctx.emit_json(damage.as_dict())
        return EXIT_FAILED if found else EXIT_OK
    if not found:
        ctx.out(f"no damaged threads under prefix {ctx.prefix!r} on {ctx.shown_url()}")
        return EXIT_OK
    ctx.table(
        ["THREAD", "NAMESPACE", "CHECKPOINT", "MISSING"],
        [
            [
                show_id(d.thread_id) if d.thread_id is not None else f"(key part {d.tag})",
                show_id(d.checkpoint_ns) if d.checkpoint_ns else "",
                d.checkpoint_id or "",
                "; ".join(d.missing),
            ]
            for d in found
        ],
    )
    threads = len({d.tag for d in found})
    ctx.err(
        f"{threads} damaged thread(s) under prefix {ctx.prefix!r} ({len(found)} finding(s)); "
        "see docs/reliability.md, 'Damage is named'"
    )
    return EXIT_FAILED


COMMANDS = [
    Command(
        name="threads",
        help="list every thread under the prefix (read-only)",
        description="List every thread under the prefix with its checkpoint and namespace "
        "counts, the step and time of its newest checkpoint, and its size in Redis.",
        configure=_configure_threads,
        run=_threads,
    ),
    Command(
        name="show",
        help="a thread's history as a table (read-only)",
        description="Show a thread's checkpoints, newest first, across its namespaces.",
        configure=_configure_show,
        run=_show,
    ),
    Command(
        name="stats",
        help="keys, memory and the largest threads under the prefix (read-only)",
        description="Count the keys under the prefix and their memory (MEMORY USAGE), the "
        "threads and checkpoints, and list the largest threads.",
        configure=_configure_stats,
        run=_stats,
    ),
    Command(
        name="check",
        help="find damaged threads (read-only; exit status 1 when any is found)",
        description="Check every thread under the prefix for missing records (evicted or "
        "partly deleted keys) and list each damaged thread with its namespace, checkpoint "
        "and what is missing.  Reads in bounded slices, beside live traffic.  Exit status 1 "
        "when damage is found.",
        configure=_configure_check,
        run=_check,
    ),
]
