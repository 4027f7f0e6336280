"""The ``aredis-ckpt`` command line: the parser built from the command registry, and the one
place where errors become messages and exit statuses."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import IO

from aredis_ckpt.cli._common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Command,
    Context,
    Failure,
    UsageError,
)

__all__ = ["COMMAND_MODULES", "build_parser", "commands", "main"]

#: Modules under ``aredis_ckpt.cli`` that define ``COMMANDS``, in the order ``--help`` lists
#: them.  A new command is a module with a ``COMMANDS`` list, named here.
COMMAND_MODULES = ("demo", "inspect", "exchange", "maintain", "migrate")

PROG = "aredis-ckpt"


def commands() -> list[Command]:
    found: list[Command] = []
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"aredis_ckpt.cli.{name}")
        found.extend(module.COMMANDS)
    return found


def _connection_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # The same options on the main parser and on every subcommand, so they may come before
    # or after the command name; on subcommands they default to "not given".
    default = None if top else argparse.SUPPRESS
    group = parser.add_argument_group("connection and output")
    group.add_argument(
        "--url",
        default=default,
        help="Redis URL (redis://, rediss://, unix://, redis+sentinel://); default $REDIS_URL",
    )
    group.add_argument(
        "--prefix", default=default, help="key prefix of the savers' data (default: aredis)"
    )
    group.add_argument(
        "--cluster",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="the URL names a node of a Redis Cluster",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="machine-readable output (JSON)",
    )


def build_parser() -> argparse.ArgumentParser:
    from aredis_ckpt import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Inspect, export, import, prune and migrate LangGraph checkpoints stored "
        "by aredis-ckpt in Redis.",
        epilog="Exit status: 0 success, 1 failure, 2 bad arguments or input, 3 differences "
        "found by migrate --verify.  Docs: docs/cli.md",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _connection_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in commands():
        child = sub.add_parser(
            command.name,
            help=command.help,
            description=command.description or command.help,
        )
        _connection_options(child, top=False)
        command.configure(child)
        child.set_defaults(_run=command.run)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    stdin: IO[str] | None = None,
) -> int:
    """Run one command; return its exit status (the console script exits with it)."""
    from redis.exceptions import RedisError

    from aredis_ckpt._exchange import ExportFormatError
    from aredis_ckpt._migration import MigrationError
    from aredis_ckpt.errors import AredisCheckpointError

    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code or 0)
    ctx = Context(args, stdout=out, stderr=err, stdin=stdin or sys.stdin)
    # the package logs only its setup() findings above DEBUG (a target server that may evict
    # or lose our keys): show them as warnings of the command
    handler = logging.StreamHandler(err)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter(f"{PROG}: warning: %(message)s"))
    package_logger = logging.getLogger("aredis_ckpt")
    package_logger.addHandler(handler)
    try:
        return int(args._run(ctx))
    except UsageError as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=err)
        return EXIT_USAGE
    except ExportFormatError as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=err)
        return EXIT_USAGE
    except (Failure, MigrationError, AredisCheckpointError) as exc:
        print(f"{PROG} {args.command}: {exc}", file=err)
        return EXIT_FAILED
    except RedisError as exc:
        where = _where(ctx)
        print(f"{PROG} {args.command}: Redis error{where}: {type(exc).__name__}: {exc}", file=err)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=err)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader of our output went away (`... | head`): nothing more to say
        return EXIT_FAILED
    finally:
        package_logger.removeHandler(handler)


def _where(ctx: Context) -> str:
    try:
        return f" on {ctx.shown_url()}"
    except UsageError:
        return ""


def run() -> None:
    """The console script's entry point."""
    status = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        # `aredis-ckpt threads | head`: stop writing where the reader stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = status or EXIT_FAILED
    sys.exit(status)
