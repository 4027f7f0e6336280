"""Commands that remove data: ``prune`` and ``delete``.  Both ask before they change anything
(``--yes`` answers for the user) and say what they did."""

from __future__ import annotations

import argparse

from aredis_ckpt.cli._common import (
    EXIT_OK,
    Command,
    Context,
    add_thread_ids,
    show_id,
    thread_ids_or_all,
)
from aredis_ckpt.cli.inspect import _positive

__all__ = ["COMMANDS"]


def _configure_prune(parser: argparse.ArgumentParser) -> None:
    add_thread_ids(parser, all_flag=True, what="prune")
    parser.add_argument(
        "--keep",
        type=_positive,
        default=1,
        help="checkpoints to keep per namespace, newest first (default 1)",
    )
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")


def _configure_delete(parser: argparse.ArgumentParser) -> None:
    add_thread_ids(parser, all_flag=False, what="delete")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")


def _describe(ids: list[str]) -> str:
    shown = ", ".join(show_id(t) for t in ids[:5])
    return f"{len(ids)} thread(s) ({shown}{', ...' if len(ids) > 5 else ''})"


def _counts(saver: object, ids: list[str]) -> dict[str, int]:
    from aredis_ckpt._sync.inventory import thread_summaries

    return {s.thread_id: s.checkpoints for s in thread_summaries(saver, ids)}  # type: ignore[arg-type]


def _prune(ctx: Context) -> int:
    keep = ctx.args.keep
    with ctx.saver() as saver:
        ids = thread_ids_or_all(ctx, saver)
        if not ids:
            ctx.out(f"no threads under prefix {ctx.prefix!r}: nothing to prune")
            return EXIT_OK
        ctx.confirm(
            f"prune {_describe(ids)} under prefix {ctx.prefix!r} on {ctx.shown_url()}, keeping "
            f"the newest {keep} checkpoint(s) of each namespace?"
        )
        before = _counts(saver, ids)
        saver.prune(ids, keep_last=keep)
        after = _counts(saver, ids)
    removed = sum(before.values()) - sum(after.values())
    if ctx.json:
        ctx.emit_json(
            {"threads": len(ids), "checkpoints_removed": removed, "checkpoints_left": after}
        )
    else:
        ctx.out(f"pruned {len(ids)} thread(s): {removed:,} checkpoint(s) removed")
    return EXIT_OK


def _delete(ctx: Context) -> int:
    with ctx.saver() as saver:
        ids = thread_ids_or_all(ctx, saver)
        ctx.confirm(
            f"delete {_describe(ids)} with every checkpoint, value and pending write, under "
            f"prefix {ctx.prefix!r} on {ctx.shown_url()}?"
        )
        before = _counts(saver, ids)
        for thread_id in ids:
            saver.delete_thread(thread_id)
    found = [t for t in ids if before.get(t)]
    missing = [t for t in ids if not before.get(t)]
    if ctx.json:
        ctx.emit_json(
            {"deleted": found, "not_found": missing, "checkpoints_removed": sum(before.values())}
        )
    else:
        ctx.out(
            f"deleted {len(found)} thread(s), {sum(before.values()):,} checkpoint(s)"
            + (f"; not found: {', '.join(show_id(t) for t in missing)}" if missing else "")
        )
    return EXIT_OK


COMMANDS = [
    Command(
        name="prune",
        help="keep only the newest checkpoints of threads (asks first)",
        description="Keep the newest --keep checkpoints of each namespace of the named "
        "threads (or of every thread with --all) and remove the rest, with their pending "
        "writes and the channel values nothing references any more.",
        configure=_configure_prune,
        run=_prune,
        writes=True,
    ),
    Command(
        name="delete",
        help="delete threads (asks first)",
        description="Delete the named threads: every namespace, checkpoint, value and write.",
        configure=_configure_delete,
        run=_delete,
        writes=True,
    ),
]
