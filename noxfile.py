"""Developer and CI sessions.  Run through the README's command (`scripts/quickstart test`),
which prepares `.venv` with the project and its dev tools and makes sure a redis-server exists.

The default `nox` run is everything a release needs: lint, the whole suite on every server
kind (Redis 6.2, 7.0, Valkey 8.0, Redis 8.0), on a Redis Cluster, through Sentinel, over TLS,
on every CPython 3.10-3.13 found on the machine, and the demo.  Server binaries come from
`scripts/redis-servers.py` (installed or built on first use, then cached under
~/.cache/aredis-ckpt); `tests_python` installs the project into one venv per interpreter.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

import nox

nox.options.sessions = ["lint", "tests", "cluster", "sentinel", "tls", "tests_python", "demo"]
nox.options.error_on_missing_interpreters = True

PY = sys.executable
SOURCES = ["src", "tests", "scripts", "examples", "bench", "noxfile.py"]
#: Server kinds of scripts/redis-servers.py (provisioned on first use, then cached).
REDIS_MATRIX = ["6.2", "7.0", "valkey-8.0", "8.0"]
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
#: The tests session that also runs the official saver's tests on Redis Stack (stack-7.4).
STACK_SESSION = "7.0"
#: pytest-xdist workers per suite run.  A suite run keeps about half a core busy (most of its
#: time is spent waiting on servers, expiries and failovers), so one worker more than there are
#: cores about halves its wall time on a 2-core machine.  AREDIS_TEST_WORKERS overrides it
#: (0: no workers, the plain sequential run).
WORKERS = os.environ.get("AREDIS_TEST_WORKERS") or str((os.cpu_count() or 1) + 1)


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """ruff, mypy --strict on the package (generated code included), generator up to date, no
    merge conflict markers."""
    session.run(PY, "-m", "ruff", "check", *SOURCES)
    session.run(PY, "-m", "ruff", "format", "--check", *SOURCES)
    session.run(PY, "-m", "mypy")
    session.run(PY, "scripts/unasync.py", "--check")
    _no_conflict_markers(session)


def _no_conflict_markers(session: nox.Session) -> None:
    """Merge conflict markers left in any tracked file (docstrings and Markdown included,
    where no linter would notice them)."""
    files = subprocess.run(["git", "ls-files", "-z"], capture_output=True, check=True).stdout.split(
        b"\0"
    )
    found = []
    for name in filter(None, files):
        try:
            with open(name, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        for number, line in enumerate(lines, 1):
            if line.startswith(("<<<<<<< ", ">>>>>>> ")) or line == "=======":
                found.append(f"{name.decode()}:{number}: {line[:60]}")
    if found:
        session.error("merge conflict markers:\n" + "\n".join(found))


@nox.session(venv_backend="none")
@nox.parametrize("redis", REDIS_MATRIX)
def tests(session: nox.Session, redis: str) -> None:
    """The whole suite (conformance included) against one server kind.

    One kind: `nox -s "tests(redis='6.2')"`.  The 7.0 session also provisions Redis Stack
    for the official langgraph-checkpoint-redis saver the migration tests copy from (one
    session is enough: those tests do not depend on the server kind under test).
    """
    _pytest(session, redis, stack=redis == STACK_SESSION)


@nox.session(venv_backend="none")
def quick(session: nox.Session) -> None:
    """A first check in a few minutes: lint, then the suite on Redis 7.0 without the long
    stress and model tests (the `slow` marker, tests/conftest.py).  Not part of the default
    run, which includes all of it."""
    lint(session)
    _pytest(session, "7.0", options=("-m", "not slow"))


@nox.session(venv_backend="none")
def cluster(session: nox.Session) -> None:
    """The suite and the conformance report with a RedisCluster client (3 masters + 3
    replicas); failover tests included."""
    _pytest(session, "7.0", topology="cluster")


@nox.session(venv_backend="none")
def sentinel(session: nox.Session) -> None:
    """The suite through a redis+sentinel:// URL (master, replica, Sentinel)."""
    _pytest(session, "7.0", topology="sentinel")


@nox.session(venv_backend="none")
def tls(session: nox.Session) -> None:
    """rediss:// with a throwaway CA, as an ACL user restricted to the saver's prefix."""
    _pytest(session, "7.0", "tests/test_tls.py")


@nox.session(venv_backend="none")
def tests_python(session: nox.Session) -> None:
    """The suite on every other CPython 3.10-3.13 found on the machine (one venv each); nox's
    own interpreter is the one every `tests` session runs on."""
    found = {v: exe for v in PYTHONS if (exe := _find_python(v))}
    session.log(f"interpreters: {found}")
    if not found:
        session.error("no CPython 3.10-3.13 found")
    server = _server(session, "7.0")
    own = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if found.pop(own, None):
        session.log(f"{own}: nox's own interpreter, which the `tests` sessions run on")
    for version, exe in found.items():
        venv = os.path.join(".nox", f"py{version}")
        if not os.path.exists(os.path.join(venv, "bin", "python")):
            session.run(exe, "-m", "venv", venv, external=True)
        python = os.path.join(venv, "bin", "python")
        session.run(python, "-m", "pip", "install", "-q", "-e", ".[dev]", external=True)
        session.run(
            python, "-m", "pytest", *(session.posargs or ["-q"]), *_workers(),
            env={**_env(), "AREDIS_REDIS_SERVER": server},
            external=True,
        )  # fmt: skip


@nox.session(venv_backend="none")
def demo(session: nox.Session) -> None:
    """The README's demo, sync and async, on a throwaway server."""
    env = _env()
    env["REDIS_URL"] = ""
    session.run(PY, "-m", "aredis_ckpt", "demo", env=env)
    session.run(PY, "-m", "aredis_ckpt", "demo", "--async", env=env)


@nox.session(venv_backend="none")
def bench(session: nox.Session) -> None:
    """Benchmarks against InMemorySaver, the floor (InMemorySaver + one raw round trip), SQLite,
    PostgreSQL and the official langgraph-checkpoint-redis on Redis Stack (not a test: no
    timing assertions); rewrites docs/benchmarks.md.  `-- --quick` for the smoke run.  Needs
    the `bench` extra; not part of the default run."""
    session.run(PY, "-m", "pip", "install", "-q", "-e", ".[bench]", external=True)
    try:  # the official saver's server; without it the report says why its rows are missing
        session.run(PY, "scripts/redis-servers.py", "ensure", "stack-7.4")
    except nox.command.CommandFailed:
        session.warn("Redis Stack (stack-7.4) unavailable: the official saver will be skipped")
    env = _env()
    for name in ("AREDIS_BENCH_OFFICIAL_REDIS_URL", "AREDIS_BENCH_PG_BIN"):
        if name in os.environ:
            env[name] = os.environ[name]
    env["MPLBACKEND"] = "Agg"
    session.run(PY, "bench/run.py", *session.posargs, env=env)


def _server(session: nox.Session, kind: str) -> str:
    """The absolute path of a server binary of `kind`, provisioned if missing."""
    session.run(PY, "scripts/redis-servers.py", "ensure", kind)
    found = session.run(PY, "scripts/redis-servers.py", "path", kind, silent=True)
    path = str(found).strip().splitlines()[-1] if found else ""
    if not os.path.isabs(path):
        session.error(f"scripts/redis-servers.py path {kind} printed {found!r}")
    return path


def _pytest(
    session: nox.Session,
    kind: str,
    *paths: str,
    topology: str = "standalone",
    stack: bool = False,
    options: tuple[str, ...] = (),
) -> None:
    env = {
        **_env(),
        "AREDIS_REDIS_SERVER": _server(session, kind),
        "AREDIS_TEST_TOPOLOGY": topology,
    }
    if stack:
        env["AREDIS_STACK_SERVER"] = _server(session, "stack-7.4")
    workers = _workers() if not paths else []
    session.run(
        PY, "-m", "pytest", *(session.posargs or ["-q"]), *workers, *options, *paths, env=env
    )


def _workers() -> list[str]:
    return ["-n", WORKERS] if WORKERS != "0" else []


def _find_python(version: str) -> str | None:
    """An interpreter that really is CPython `version` (pyenv shims may only pretend)."""
    candidates = [shutil.which(f"python{version}") or ""]
    home = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(f"{home}/versions/{version}.*/bin/python{version}"))
    for exe in candidates:
        if not exe:
            continue
        try:
            out = subprocess.run(
                [exe, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True, timeout=30, check=False,
            )  # fmt: skip
        except OSError:
            continue
        if out.returncode == 0 and out.stdout.strip() == version:
            return exe
    return None


def _env() -> dict[str, str]:
    return {"PYTHONDONTWRITEBYTECODE": "1"}
