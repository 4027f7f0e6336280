"""Private servers for the benchmarks, and a description of the machine they ran on.

* Redis: :class:`aredis_ckpt._server.RedisServer` (loopback, free port, no persistence) with
  ``--enable-debug-command yes`` so ``DEBUG POPULATE`` can fill the unrelated keyspace.
* PostgreSQL: :class:`PostgresServer` runs ``initdb`` into a temporary directory and starts
  ``postgres`` on a free loopback port (and a private Unix socket directory) with the
  distribution's default durability settings; as root it runs the binaries as the ``postgres``
  user (root cannot run postgres).  Nothing listens on 6379 or 5432.
"""

from __future__ import annotations

import contextlib
import glob
import os
import platform
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aredis_ckpt._server import LOOPBACK, RedisServer

PG_BIN_GLOBS = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin")


def free_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((LOOPBACK, 0))
            port = int(sock.getsockname()[1])
        if port not in (6379, 5432):
            return port


def start_redis() -> RedisServer:
    """A private redis-server that accepts DEBUG (for DEBUG POPULATE)."""
    return RedisServer(extra_args=["--enable-debug-command", "yes"]).start()


class StackUnavailable(RuntimeError):
    pass


STACK_KIND = "stack-7.4"


def find_stack_server() -> str:
    """The Redis Stack wrapper ``scripts/redis-servers.py`` provisions (RediSearch + RedisJSON
    loaded), as that script reports it; it is never provisioned from here."""
    script = Path(__file__).resolve().parent.parent / "scripts" / "redis-servers.py"
    try:
        proc = subprocess.run(
            [sys.executable, str(script), "path", STACK_KIND],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        raise StackUnavailable(f"{script.name} path {STACK_KIND} failed: {exc}") from exc
    lines = proc.stdout.strip().splitlines()
    path = lines[-1].strip() if lines else ""
    if proc.returncode != 0 or not os.path.isabs(path) or not os.access(path, os.X_OK):
        raise StackUnavailable(
            f"Redis Stack is not provisioned (`python scripts/redis-servers.py ensure "
            f"{STACK_KIND}` installs it): {(proc.stdout + proc.stderr).strip()[-300:]}"
        )
    return path


def start_stack() -> RedisServer:
    """A private Redis Stack server for the official langgraph-checkpoint-redis."""
    binary = find_stack_server()
    try:
        return RedisServer(binary).start()
    except Exception as exc:
        raise StackUnavailable(
            f"Redis Stack ({binary}) did not start: {type(exc).__name__}: {exc}"
        ) from exc


# --------------------------------------------------------------------------- PostgreSQL


def find_pg_bin() -> str | None:
    """Directory holding initdb/pg_ctl/postgres: $AREDIS_BENCH_PG_BIN, PATH, or Debian's."""
    configured = os.environ.get("AREDIS_BENCH_PG_BIN", "")
    candidates = [configured] if configured else []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(os.path.dirname(on_path))
    for pattern in PG_BIN_GLOBS:
        candidates.extend(sorted(glob.glob(pattern), reverse=True))
    for cand in candidates:
        if cand and all(os.access(os.path.join(cand, b), os.X_OK) for b in ("initdb", "pg_ctl")):
            return cand
    return None


class PostgresUnavailable(RuntimeError):
    pass


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1:<free port>, removed by :meth:`stop`."""

    def __init__(self, bin_dir: str, *, settings: dict[str, str] | None = None) -> None:
        self.bin_dir = bin_dir
        self.settings = dict(settings or {})
        self.port = 0
        self.dir: str | None = None
        self._user: str | None = None
        self.dbname = "bench"
        self.role = "bench"

    @property
    def url(self) -> str:
        return f"postgresql://{self.role}@{LOOPBACK}:{self.port}/{self.dbname}?sslmode=disable"

    @property
    def logfile(self) -> str:
        assert self.dir is not None
        return os.path.join(self.dir, "postgres.log")

    def _prefix(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        user = self._user
        assert user is not None
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", user, "--"]
        setpriv = shutil.which("setpriv")
        if setpriv:
            pw = pwd.getpwnam(user)
            return [setpriv, f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups"]
        raise PostgresUnavailable("running as root without runuser/setpriv to drop privileges")

    def _run(self, *args: str, timeout: float = 120.0) -> str:
        proc = subprocess.run(
            [*self._prefix(), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.dir,
        )
        if proc.returncode != 0:
            raise PostgresUnavailable(
                f"{os.path.basename(args[0])} failed ({proc.returncode}): "
                f"{(proc.stdout + proc.stderr).strip()[-800:]}"
            )
        return proc.stdout

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PostgresUnavailable(
                    "running as root and there is no 'postgres' user"
                ) from exc
            self._user = "postgres"
        self.dir = tempfile.mkdtemp(prefix="aredis-bench-pg-")
        os.chmod(self.dir, 0o700)
        data = os.path.join(self.dir, "data")
        if self._user:
            pw = pwd.getpwnam(self._user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        try:
            self._run(
                os.path.join(self.bin_dir, "initdb"),
                "-D", data, "-U", self.role, "-A", "trust", "-E", "UTF8", "--no-sync",
                "--locale=C",
            )  # fmt: skip
            for attempt in range(3):
                self.port = free_port()
                opts = [
                    f"-p {self.port}",
                    f"-c listen_addresses={LOOPBACK}",
                    f"-c unix_socket_directories={self.dir}",
                    *(f"-c {k}={v}" for k, v in self.settings.items()),
                ]
                try:
                    self._run(
                        os.path.join(self.bin_dir, "pg_ctl"),
                        "-D", data, "-l", self.logfile, "-w", "-t", "60",
                        "-o", " ".join(opts), "start",
                    )  # fmt: skip
                    break
                except PostgresUnavailable:
                    if attempt == 2:
                        raise
            self._psql_admin(f"CREATE DATABASE {self.dbname}")
        except BaseException:
            self.stop()
            raise
        return self

    def _psql_admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            f"postgresql://{self.role}@{LOOPBACK}:{self.port}/postgres?sslmode=disable",
            autocommit=True,
        ) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def version(self) -> str:
        import psycopg

        with psycopg.connect(self.url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"

    def stop(self) -> None:
        if self.dir is None:
            return
        data = os.path.join(self.dir, "data")
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            with contextlib.suppress(Exception):
                self._run(
                    os.path.join(self.bin_dir, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"
                )
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None


# --------------------------------------------------------------------------- the machine


@dataclass
class Machine:
    nproc: int
    cpu: str
    python: str
    platform: str
    packages: dict[str, str]
    redis_version: str = "?"
    official_redis: str = "not run"
    postgres_version: str = "not run"
    postgres_settings: str = ""
    sqlite_version: str = ""
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    waited_for_load_s: float = 0.0
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in (
        "aredis-ckpt",
        "langgraph",
        "langgraph-checkpoint",
        "langgraph-checkpoint-sqlite",
        "langgraph-checkpoint-postgres",
        "langgraph-checkpoint-redis",
        "langchain-core",
        "redis",
        "hiredis",
        "psycopg",
        "aiosqlite",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def source_state(root: str) -> str:
    """The commit measured, and whether src/ had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--", "src"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    if dirty:
        return f"{head} + uncommitted changes in src/ ({len(dirty.splitlines())} files)"
    return head


def machine() -> Machine:
    import sqlite3

    return Machine(
        nproc=os.cpu_count() or 0,
        cpu=cpu_model(),
        python=f"{platform.python_implementation()} {platform.python_version()}",
        platform=platform.platform(),
        packages=package_versions(),
        sqlite_version=sqlite3.sqlite_version,
        load_before=os.getloadavg(),
    )


def wait_for_quiet(threshold: float, max_wait: float, log: Any = print) -> float:
    """Poll the 1-minute load average until it is below ``threshold`` (at most ``max_wait`` s)."""
    start = time.monotonic()
    load = os.getloadavg()[0]
    if load < threshold or max_wait <= 0:
        return 0.0
    log(f"load average {load:.2f} >= {threshold}: waiting up to {max_wait:.0f} s for it to drop")
    while time.monotonic() - start < max_wait:
        time.sleep(15)
        load = os.getloadavg()[0]
        if load < threshold:
            break
    waited = time.monotonic() - start
    log(f"load average now {load:.2f} after {waited:.0f} s; going ahead")
    return waited


def python_exe() -> str:
    return sys.executable
