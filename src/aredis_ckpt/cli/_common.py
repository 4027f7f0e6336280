"""What every ``aredis-ckpt`` command shares: the command registry, options, the connection,
confirmation, output, and the errors that become exit codes."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any, Final

__all__ = [
    "EXIT_DIFFERENCES",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Command",
    "Context",
    "Failure",
    "UsageError",
]

EXIT_OK: Final = 0
#: The command ran and something failed: Redis errors, threads that could not be copied,
#: a missing dependency, an answer of "no" at a confirmation.
EXIT_FAILED: Final = 1
#: Bad arguments or input (argparse also exits with 2).
EXIT_USAGE: Final = 2
#: ``migrate --verify`` found differences between source and target.
EXIT_DIFFERENCES: Final = 3
EXIT_INTERRUPTED: Final = 130


class UsageError(Exception):
    """A user mistake: printed as one line, exit status 2."""


class Failure(Exception):
    """The command could not do its job: printed as one line, exit status 1."""


@dataclass(frozen=True)
class Command:
    """One subcommand: ``configure`` adds its arguments, ``run`` does it and returns the
    exit status.  ``writes`` says whether it may change data (read-only ones never do)."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Context], int]
    writes: bool = False
    description: str = ""


@dataclass
class Context:
    """Parsed arguments and the streams a command talks to."""

    args: argparse.Namespace
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    stdin: IO[str] = field(default_factory=lambda: sys.stdin)

    # ------------------------------------------------------------------ options

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    @property
    def prefix(self) -> str:
        from aredis_ckpt._config import DEFAULT_KEY_PREFIX

        return str(getattr(self.args, "prefix", None) or DEFAULT_KEY_PREFIX)

    @property
    def url(self) -> str:
        url = getattr(self.args, "url", None) or os.environ.get("REDIS_URL")
        if not url:
            raise UsageError(
                "no Redis server named: pass --url redis://host:6379/0 or set REDIS_URL"
            )
        return str(url)

    def shown_url(self) -> str:
        from aredis_ckpt._urls import mask_url

        return mask_url(self.url)

    # ------------------------------------------------------------------ savers

    @contextmanager
    def saver(self, *, setup: bool = False, prefix: str | None = None) -> Iterator[Any]:
        """A ``RedisSaver`` on ``--url`` / ``--prefix``.

        Read-only commands leave ``setup`` off: nothing is written, and a schema record
        newer than this version understands still stops them.
        """
        from aredis_ckpt import RedisSaver

        try:
            saver = RedisSaver(
                self.url,
                key_prefix=prefix or self.prefix,
                cluster=bool(getattr(self.args, "cluster", False)),
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        try:
            if setup:
                saver.setup()
            else:
                check_readable(saver)
            yield saver
        finally:
            saver.close()

    # ------------------------------------------------------------------ output

    def out(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def err(self, text: str) -> None:
        print(text, file=self.stderr)

    def emit_json(self, value: Any) -> None:
        print(json.dumps(value, ensure_ascii=False, default=str), file=self.stdout)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
        for row in cells:
            line = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
            self.out(line.rstrip())

    def confirm(self, question: str) -> None:
        """Ask on stderr, read the answer from stdin; anything but y/yes stops the command.
        ``--yes`` answers for the user."""
        if getattr(self.args, "yes", False):
            return
        self.stderr.write(f"{question} [y/N] ")
        self.stderr.flush()
        answer = self.stdin.readline()
        if answer.strip().lower() not in ("y", "yes"):
            raise Failure("aborted: nothing was changed")

    def progress_line(self, text: str) -> None:
        """A status line redrawn in place when stderr is a terminal (silent otherwise)."""
        if self.stderr.isatty():
            self.stderr.write("\r\x1b[2K" + text)
            self.stderr.flush()

    def end_progress(self) -> None:
        if self.stderr.isatty():
            self.stderr.write("\r\x1b[2K")
            self.stderr.flush()


def check_readable(saver: Any) -> None:
    """Refuse data written by a newer schema, or by an older one that ``setup()`` must migrate
    first, without writing anything."""
    stored = saver._redis.get(saver._pk.schema)
    saver._check_current(stored, bool(saver._redis.exists(saver._pk.legacy_index)))


def show_id(text: str) -> str:
    """An id as tables print it: as is when printable, else Python's quoted form."""
    if text and text.isprintable() and text.strip() == text:
        return text
    return repr(text)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def add_thread_ids(parser: argparse.ArgumentParser, *, all_flag: bool, what: str) -> None:
    parser.add_argument("thread_ids", nargs="*", metavar="THREAD", help=f"thread ids to {what}")
    if all_flag:
        parser.add_argument(
            "--all", action="store_true", help=f"{what} every thread under the prefix"
        )


def thread_ids_or_all(ctx: Context, saver: Any) -> list[str]:
    """The THREAD arguments, or every thread under the prefix with ``--all``."""
    ids: list[str] = list(ctx.args.thread_ids)
    every = bool(getattr(ctx.args, "all", False))
    if every and ids:
        raise UsageError("pass thread ids or --all, not both")
    if every:
        from aredis_ckpt._sync.inventory import iter_thread_ids

        return sorted(set(iter_thread_ids(saver)))
    if not ids:
        hint = " (or pass --all)" if hasattr(ctx.args, "all") else ""
        raise UsageError(f"name at least one thread{hint}")
    return ids
