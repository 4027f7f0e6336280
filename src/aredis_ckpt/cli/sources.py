"""``migrate --from`` specifications: which saver to read, opened for reading."""

from __future__ import annotations

import importlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from langgraph.checkpoint.base import BaseCheckpointSaver

from aredis_ckpt.cli._common import Failure, UsageError, check_readable

__all__ = ["SOURCE_HELP", "open_source"]

SOURCE_HELP = (
    "sqlite:PATH (SqliteSaver's file, opened read-only), postgresql://... (PostgresSaver), "
    "langgraph-redis+redis://... (langgraph-checkpoint-redis), aredis+redis://... (aredis-ckpt "
    "under --from-prefix), or module:factory (a function returning a saver or a context "
    "manager that yields one)"
)


def _needs(package: str, exc: ImportError) -> Failure:
    return Failure(f"this source needs {package}: pip install {package} ({exc})")


@contextmanager
def open_source(spec: str, *, prefix: str | None, cluster: bool) -> Iterator[Any]:
    """The saver a ``--from`` value names, open for the duration of the block."""
    if spec.startswith("sqlite:"):
        with _sqlite(spec[len("sqlite:") :]) as saver:
            yield saver
    elif spec.startswith(("postgres://", "postgresql://")):
        try:
            from langgraph.checkpoint.postgres import PostgresSaver
        except ImportError as exc:
            raise _needs("langgraph-checkpoint-postgres", exc) from exc
        with PostgresSaver.from_conn_string(spec) as saver:
            yield saver
    elif spec.startswith("langgraph-redis+"):
        try:
            from langgraph.checkpoint.redis import RedisSaver as OfficialRedisSaver
        except ImportError as exc:
            raise _needs("langgraph-checkpoint-redis", exc) from exc
        url = spec[len("langgraph-redis+") :]
        if prefix is None:
            opened = OfficialRedisSaver.from_conn_string(url)
        else:
            opened = OfficialRedisSaver.from_conn_string(url, checkpoint_prefix=prefix)
        with opened as saver:
            yield saver
    elif spec.startswith("aredis+"):
        from aredis_ckpt import RedisSaver
        from aredis_ckpt._config import DEFAULT_KEY_PREFIX

        try:
            saver = RedisSaver(
                spec[len("aredis+") :], key_prefix=prefix or DEFAULT_KEY_PREFIX, cluster=cluster
            )
        except ValueError as exc:
            raise UsageError(f"--from: {exc}") from exc
        try:
            check_readable(saver)
            yield saver
        finally:
            saver.close()
    elif ":" in spec and "://" not in spec:
        with _factory(spec) as saver:
            yield saver
    else:
        raise UsageError(f"--from {spec!r}: not a source this command knows; use {SOURCE_HELP}")


@contextmanager
def _sqlite(location: str) -> Iterator[Any]:
    # sqlite:PATH, or as SQLAlchemy writes it: sqlite:///relative, sqlite:////absolute
    path = location[3:] if location.startswith("///") else location
    if not path or (location.startswith("//") and not location.startswith("///")):
        raise UsageError(f"--from sqlite:{location}: give a file path (sqlite:PATH)")
    if not os.path.isfile(path):
        raise UsageError(f"--from sqlite:{location}: no such file {path!r}")
    try:
        from langgraph.checkpoint.sqlite import SqliteSaver
    except ImportError as exc:
        raise _needs("langgraph-checkpoint-sqlite", exc) from exc
    uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"  # read-only: nothing is written
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


@contextmanager
def _factory(spec: str) -> Iterator[Any]:
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"--from {spec}: cannot import {module_name!r} ({exc})") from exc
    try:
        factory = getattr(module, attr)
    except AttributeError:
        raise UsageError(f"--from {spec}: {module_name!r} has no {attr!r}") from None
    made = (
        factory() if callable(factory) and not isinstance(factory, BaseCheckpointSaver) else factory
    )
    if isinstance(made, BaseCheckpointSaver):
        yield made
        return
    if hasattr(made, "__enter__") and hasattr(made, "__exit__"):
        with made as saver:
            if not isinstance(saver, BaseCheckpointSaver):
                raise UsageError(
                    f"--from {spec}: the context manager yielded {saver!r}, not a saver"
                )
            yield saver
        return
    raise UsageError(
        f"--from {spec}: expected a checkpoint saver (or a context manager yielding one), "
        f"got {type(made).__name__}"
    )
