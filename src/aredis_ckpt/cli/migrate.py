"""``migrate``: copy threads from any LangGraph saver into aredis-ckpt, and verify the copy."""

from __future__ import annotations

import argparse
from typing import Any

from aredis_ckpt.cli._common import (
    EXIT_DIFFERENCES,
    EXIT_FAILED,
    EXIT_OK,
    Command,
    Context,
    UsageError,
    check_readable,
    show_id,
)
from aredis_ckpt.cli.inspect import _positive
from aredis_ckpt.cli.sources import SOURCE_HELP, open_source

__all__ = ["COMMANDS"]


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="source", required=True, metavar="SOURCE", help=f"the source: {SOURCE_HELP}"
    )
    parser.add_argument(
        "--to",
        metavar="URL",
        help="the target server (default: --url / $REDIS_URL); threads land under --prefix",
    )
    parser.add_argument(
        "--from-prefix",
        metavar="PREFIX",
        help="key prefix of an aredis+ source (default: aredis), or checkpoint_prefix of a "
        "langgraph-redis+ source",
    )
    parser.add_argument(
        "--threads", nargs="+", metavar="THREAD", help="copy these threads only (default: all)"
    )
    parser.add_argument(
        "--threads-file",
        metavar="FILE",
        help="copy the threads listed in FILE, one id per line ('-': standard input)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="read the source and report what would be copied; write nothing (with --verify: "
        "only compare)",
    )
    parser.add_argument(
        "--verify", action="store_true", help="then read both sides and report every difference"
    )
    parser.add_argument(
        "--no-skip",
        action="store_true",
        help="copy threads again even when the target already has their newest checkpoint",
    )
    parser.add_argument(
        "--batch", type=_positive, default=128, help="checkpoints per pipeline (default 128)"
    )


def _thread_ids(ctx: Context) -> list[str] | None:
    ids: list[str] | None = None
    if ctx.args.threads:
        ids = list(ctx.args.threads)
    if ctx.args.threads_file:
        if ids is not None:
            raise UsageError("pass --threads or --threads-file, not both")
        path = ctx.args.threads_file
        try:
            if path == "-":
                text = ctx.stdin.read()
            else:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
        except OSError as exc:
            raise UsageError(f"cannot read {path!r}: {exc.strerror}") from exc
        ids = [line for line in text.splitlines() if line]
    return ids


def _progress(ctx: Context, report: Any) -> None:
    ctx.progress_line(
        f"threads: {report.threads:,} copied, {report.skipped:,} skipped, "
        f"{len(report.failed):,} failed | checkpoints: {report.checkpoints:,} "
        f"({report.checkpoints_per_second:,.0f}/s)"
    )


def _run(ctx: Context) -> int:
    from aredis_ckpt import RedisSaver
    from aredis_ckpt.migrate import copy_checkpoints, verify_checkpoints

    ids = _thread_ids(ctx)
    target_url = ctx.args.to or ctx.url
    cluster = bool(getattr(ctx.args, "cluster", False))
    with open_source(ctx.args.source, prefix=ctx.args.from_prefix, cluster=cluster) as source:
        try:
            target = RedisSaver(target_url, key_prefix=ctx.prefix, cluster=cluster)
        except ValueError as exc:
            raise UsageError(f"--to: {exc}") from exc
        try:
            if (
                isinstance(source, RedisSaver)
                and source.key_prefix == target.key_prefix
                and ctx.args.source[len("aredis+") :] == target_url
            ):
                raise UsageError("the source and the target are the same saver")
            if ctx.args.dry_run:
                check_readable(target)
            else:
                target.setup()
            report = None
            if not (ctx.args.dry_run and ctx.args.verify):
                report = copy_checkpoints(
                    source,
                    target,
                    thread_ids=ids,
                    skip_complete=not ctx.args.no_skip,
                    dry_run=ctx.args.dry_run,
                    batch_size=ctx.args.batch,
                    progress=lambda r: _progress(ctx, r),
                )
                ctx.end_progress()
            verified = (
                verify_checkpoints(source, target, thread_ids=ids) if ctx.args.verify else None
            )
        finally:
            ctx.end_progress()
            target.close()
    return _report(ctx, report, verified)


def _report(ctx: Context, report: Any, verified: Any) -> int:
    if ctx.json:
        ctx.emit_json(
            {
                "copy": None if report is None else report.as_dict(),
                "verify": None if verified is None else verified.as_dict(),
            }
        )
    else:
        if report is not None:
            verb = "would copy" if report.dry_run else "copied"
            ctx.out(
                f"{verb} {report.threads:,} thread(s), {report.checkpoints:,} checkpoint(s), "
                f"{report.writes:,} pending write(s) in {report.seconds:.1f} s "
                f"({report.checkpoints_per_second:,.0f} checkpoints/s); "
                f"{report.skipped:,} thread(s) already complete on the target; "
                f"{len(report.failed):,} failed"
            )
        if verified is not None:
            ctx.out(
                f"verify: {verified.threads:,} thread(s), {verified.checkpoints:,} checkpoint(s) "
                f"compared, {len(verified.differences):,} difference(s)"
            )
            if verified.differences:
                ctx.table(
                    ["THREAD", "NAMESPACE", "CHECKPOINT", "DIFFERENCE", "DETAIL"],
                    [
                        [
                            show_id(d.thread_id),
                            show_id(d.checkpoint_ns) if d.checkpoint_ns else "",
                            d.checkpoint_id,
                            d.kind,
                            d.detail,
                        ]
                        for d in verified.differences
                    ],
                )
    failed = [*(report.failed if report else []), *(verified.failed if verified else [])]
    for failure in failed:
        ctx.err(f"thread {show_id(failure.thread_id)} could not be read: {failure.error}")
    if failed:
        return EXIT_FAILED
    if verified is not None and verified.differences:
        return EXIT_DIFFERENCES
    return EXIT_OK


COMMANDS = [
    Command(
        name="migrate",
        help="copy threads from any LangGraph saver into aredis-ckpt",
        description="Copy every thread (or --threads) of a LangGraph saver into aredis-ckpt "
        "under --prefix: checkpoints, namespaces, parents, metadata, channel values and "
        "pending writes.  Threads already complete on the target are skipped, so an "
        "interrupted run continues where it stopped.  --verify compares both sides.",
        configure=_configure,
        run=_run,
        writes=True,
    )
]
