"""``export`` (read-only) and ``import``: threads to and from the portable JSON-lines format
(``docs/export-format.md``)."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from typing import IO

from aredis_ckpt.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    Command,
    Context,
    UsageError,
    add_thread_ids,
    show_id,
    thread_ids_or_all,
)

__all__ = ["COMMANDS"]


def _configure_export(parser: argparse.ArgumentParser) -> None:
    add_thread_ids(parser, all_flag=True, what="export")
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE instead of standard output"
    )


def _configure_import(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="an export file ('-' for standard input)")


def _open(path: str, mode: str) -> IO[str]:
    try:
        return open(path, mode, encoding="ascii" if "w" in mode else "utf-8")
    except OSError as exc:
        raise UsageError(f"cannot open {path!r}: {exc.strerror}") from exc


def _export(ctx: Context) -> int:
    from aredis_ckpt._sync.exchange import export_threads

    with ExitStack() as stack:
        saver = stack.enter_context(ctx.saver())
        ids = thread_ids_or_all(ctx, saver)
        out = ctx.stdout
        if ctx.args.output and ctx.args.output != "-":
            out = stack.enter_context(_open(ctx.args.output, "w"))
        report = export_threads(saver, out, thread_ids=ids)
    missing = len(ids) - report.threads - len(report.failed)
    for failure in report.failed:
        ctx.err(f"thread {show_id(failure.thread_id)} could not be read: {failure.error}")
    if missing:
        ctx.err(f"{missing} of the {len(ids)} thread(s) named have no checkpoints")
    summary = (
        f"exported {report.threads} thread(s), {report.checkpoints:,} checkpoint(s), "
        f"{report.writes:,} pending write(s)"
    )
    # the export itself may be on stdout: the summary goes to stderr
    ctx.err(summary)
    return EXIT_FAILED if report.failed or missing else EXIT_OK


def _import(ctx: Context) -> int:
    from aredis_ckpt._sync.exchange import import_threads

    with ExitStack() as stack:
        if ctx.args.file == "-":
            lines: IO[str] = ctx.stdin
        else:
            lines = stack.enter_context(_open(ctx.args.file, "r"))
        saver = stack.enter_context(ctx.saver(setup=True))
        report = import_threads(saver, lines)
    if ctx.json:
        ctx.emit_json(report.as_dict())
    else:
        ctx.out(
            f"imported {report.threads} thread(s), {report.checkpoints:,} checkpoint(s), "
            f"{report.writes:,} pending write(s) into prefix {ctx.prefix!r}"
        )
    return EXIT_OK


COMMANDS = [
    Command(
        name="export",
        help="write threads to a portable JSON-lines file (read-only)",
        description="Write the named threads (or every thread with --all) in the portable, "
        "versioned JSON-lines format of docs/export-format.md, to standard output or -o FILE.",
        configure=_configure_export,
        run=_export,
    ),
    Command(
        name="import",
        help="store the threads of an export file",
        description="Store the threads of an export file under the prefix.  Importing the "
        "same file twice stores nothing new.",
        configure=_configure_import,
        run=_import,
        writes=True,
    ),
]
