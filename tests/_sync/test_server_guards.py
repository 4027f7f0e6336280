# This file is generated from tests/_async/test_server_guards.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""Operator guard rails at setup, and writes refused for lack of memory.

``setup()`` warns once per (server, key prefix) about an eviction policy that can drop our keys
and about a server without persistence, or raises ``ServerConfigError`` with
``strict_server=True``; what an ACL or a managed service does not let it read is logged at DEBUG
and skipped.  A write Redis refuses with OOM raises ``ServerOutOfMemoryError`` naming the
operation and thread, and leaves no trace.  Servers are started with the settings under test.
Written once; scripts/unasync.py generates the sync twin.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis import Redis
from redis.exceptions import OutOfMemoryError, ResponseError

from aredis_ckpt import (
    AredisCheckpointError,
    RedisSaver,
    RedisStore,
    ServerConfigError,
    ServerOutOfMemoryError,
)
from aredis_ckpt._server import RedisServer

from .test_saver import cfg, make_checkpoint, md, put_chain

ServerFactory = Callable[..., RedisServer]
# The suite's servers run without persistence (tests/conftest.py, aredis_ckpt/_server.py).
NO_PERSISTENCE = "has no persistence"


@pytest.fixture(scope="module")
def server_with() -> Iterator[ServerFactory]:
    """Private servers started with the given command-line settings, one per setting list."""
    started: dict[tuple[str, ...], RedisServer] = {}

    def get(*args: str) -> RedisServer:
        if args not in started:
            server = RedisServer(os.environ.get("AREDIS_REDIS_SERVER") or None, extra_args=args)
            started[args] = server.start()
        return started[args]

    yield get
    for server in started.values():
        server.stop()


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "aredis_ckpt" and r.levelno == logging.WARNING
    ]


def debug_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "aredis_ckpt" and r.levelno == logging.DEBUG
    ]


def set_up(url: str, prefix: str, **kwargs: Any) -> None:
    with RedisSaver.from_conn_string(url, key_prefix=prefix, **kwargs) as saver:
        saver.setup()


def set_up_store(url: str, prefix: str, **kwargs: Any) -> None:
    with RedisStore.from_conn_string(url, key_prefix=prefix, **kwargs) as store:
        store.setup()


def test_no_persistence_is_warned_once_per_prefix(
    make_saver: Any,
    redis_url: str,
    key_prefix: str,
    saver_kwargs: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # any topology: a cluster warns for each of its primaries
    caplog.set_level(logging.DEBUG, logger="aredis_ckpt")
    with make_saver() as saver:
        saver.setup()
    first = warnings_of(caplog)
    assert first and all(NO_PERSISTENCE in w and repr(key_prefix) in w for w in first)
    assert all(w.startswith("checkpointer under key prefix") for w in first)
    caplog.clear()
    with make_saver():
        pass
    assert warnings_of(caplog) == []
    set_up_store(redis_url, key_prefix, **saver_kwargs)
    store_warnings = warnings_of(caplog)
    assert len(store_warnings) == len(first)
    assert all(w.startswith("store under key prefix") for w in store_warnings)
    caplog.clear()
    with make_saver(key_prefix=key_prefix + "-other"):
        pass
    assert len(warnings_of(caplog)) == len(first)


@pytest.mark.standalone
def test_an_evicting_server_is_warned_about_and_refused_when_strict(
    server_with: ServerFactory, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = server_with("--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru").url
    caplog.set_level(logging.DEBUG, logger="aredis_ckpt")
    set_up(url, key_prefix)
    (eviction,) = [w for w in warnings_of(caplog) if "maxmemory-policy" in w]
    assert "allkeys-lru, which evicts any key" in eviction
    assert "maxmemory is 67108864 bytes" in eviction and "noeviction" in eviction
    caplog.clear()
    set_up_store(url, key_prefix)
    assert len([w for w in warnings_of(caplog) if "allkeys-lru" in w]) == 1
    for setup in (set_up, set_up_store):
        with pytest.raises(ServerConfigError) as caught:
            setup(url, key_prefix + "-strict", strict_server=True)
        assert "allkeys-lru" in str(caught.value) and NO_PERSISTENCE in str(caught.value)


@pytest.mark.standalone
def test_volatile_policies_matter_only_for_keys_with_a_ttl(
    server_with: ServerFactory, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = server_with("--maxmemory-policy", "volatile-lru", "--appendonly", "yes").url
    caplog.set_level(logging.DEBUG, logger="aredis_ckpt")
    set_up(url, key_prefix, strict_server=True)
    set_up_store(url, key_prefix, strict_server=True)
    assert warnings_of(caplog) == []
    set_up(url, key_prefix + "-ttl", ttl={"default_ttl": 60})
    (warning,) = warnings_of(caplog)
    assert "volatile-lru, which evicts keys with an expiry (ours have one: ttl is set)" in warning
    assert "maxmemory is 0 (unlimited) for now" in warning
    with pytest.raises(ServerConfigError, match="volatile-lru"):
        set_up(url, key_prefix + "-ttl", ttl={"default_ttl": 60}, strict_server=True)


@pytest.mark.standalone
@pytest.mark.parametrize(
    "persistence", [("--appendonly", "yes"), ("--save", "3600", "1")], ids=["aof", "rdb"]
)
def test_a_durable_server_passes_strict_setup(
    server_with: ServerFactory,
    key_prefix: str,
    persistence: tuple[str, ...],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = server_with(*persistence).url
    caplog.set_level(logging.DEBUG, logger="aredis_ckpt")
    set_up(url, key_prefix, strict_server=True, ttl={"default_ttl": 5})
    set_up_store(url, key_prefix, strict_server=True)
    assert warnings_of(caplog) == []


@pytest.mark.standalone
def test_without_config_or_info_permission_setup_goes_on(
    server_with: ServerFactory, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = server_with("--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")
    with Redis.from_url(server.url) as admin:
        for user, denied in (("noconfig", ["-config"]), ("noinfo", ["-config", "-info"])):
            admin.acl_setuser(
                user,
                enabled=True,
                passwords=["+pw"],
                keys=["*"],
                channels=["*"],
                commands=["+@all", *denied],
            )
    address = f"127.0.0.1:{server.port}/0"
    caplog.set_level(logging.DEBUG, logger="aredis_ckpt")
    # INFO still shows the policy; the RDB save points stay unknown
    set_up(f"redis://noconfig:pw@{address}", key_prefix)
    assert [w for w in warnings_of(caplog) if "allkeys-lru" in w]
    assert not [w for w in warnings_of(caplog) if NO_PERSISTENCE in w]
    assert [d for d in debug_of(caplog) if "could not read CONFIG GET save" in d]
    assert [d for d in debug_of(caplog) if "persistence not checked" in d]
    caplog.clear()
    for setup in (set_up, set_up_store):
        setup(f"redis://noinfo:pw@{address}", key_prefix + "-blind", strict_server=True)
    assert warnings_of(caplog) == []
    skipped = [d for d in debug_of(caplog) if "that guard-rail check is skipped" in d]
    assert len(skipped) == 8  # four reads, by the saver and by the store
    assert any("INFO memory" in d and "permission" in d for d in skipped)


@pytest.mark.standalone
def test_a_server_evicting_threads_was_warned_about_at_setup(
    server_with: ServerFactory, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = server_with("--maxmemory", "3mb", "--maxmemory-policy", "allkeys-lru")
    caplog.set_level(logging.WARNING, logger="aredis_ckpt")
    with RedisSaver.from_conn_string(
        server.url, key_prefix=key_prefix, compress_threshold=None
    ) as saver:
        saver.setup()
        (warning,) = [w for w in warnings_of(caplog) if "maxmemory-policy" in w]
        assert "allkeys-lru" in warning and "maxmemory is 3145728 bytes" in warning
        for i in range(150):
            cp = make_checkpoint({"blob": os.urandom(20_000)}, {"blob": 1})
            saver.put(cfg(f"thread-{i}"), cp, md(), {"blob": 1})
    with Redis.from_url(server.url) as admin:
        assert int(admin.info("stats")["evicted_keys"]) > 0


def key_space(client: Any, prefix: str) -> dict[bytes, bytes]:
    return {key: client.dump(key) for key in client.scan_iter(match=prefix + ":*")}


@pytest.mark.standalone
def test_out_of_memory_names_the_operation_and_thread_and_writes_nothing(
    server_with: ServerFactory, key_prefix: str
) -> None:
    server = server_with("--maxmemory-policy", "noeviction", "--appendonly", "yes")
    with Redis.from_url(server.url) as admin:
        try:
            run_out_of_memory(server.url, key_prefix, admin)
        finally:
            admin.config_set("maxmemory", 0)


def run_out_of_memory(url: str, prefix: str, admin: Redis) -> None:
    with (
        RedisSaver.from_conn_string(url, key_prefix=prefix) as saver,
        RedisStore.from_conn_string(url, key_prefix=prefix) as store,
    ):
        saver.setup()
        store.setup()
        configs = put_chain(saver, "full", 2)
        store.put(("docs",), "kept", {"text": "hi"})
        before = key_space(saver._redis, prefix)
        admin.config_set("maxmemory", 1)  # anything in use is now over the limit
        cp = make_checkpoint({"count": 9, "const": "same"}, {"count": 9, "const": 1})
        with pytest.raises(ServerOutOfMemoryError) as caught:
            saver.put(configs[-1], cp, md(2), {"count": 9})
        error = caught.value
        assert str(error).startswith(f"put on thread 'full' under prefix {prefix!r} was refused")
        assert "nothing was written" in str(error)
        assert isinstance(error, OutOfMemoryError) and isinstance(error, ResponseError)
        assert isinstance(error, AredisCheckpointError)
        assert isinstance(error.__cause__, ResponseError) and "maxmemory" in str(error.__cause__)
        with pytest.raises(ServerOutOfMemoryError, match=r"^put_writes on thread 'full'"):
            saver.put_writes(configs[-1], [("count", 5)], "task")
        with pytest.raises(ServerOutOfMemoryError, match=r"^copy_thread on thread 'copy'"):
            saver.copy_thread("full", "copy")
        with pytest.raises(ServerOutOfMemoryError, match=r"^a store batch under prefix"):
            store.put(("docs",), "new", {"text": "refused"})
        assert key_space(saver._redis, prefix) == before
        tup = saver.get_tuple(cfg("full"))
        assert tup is not None and tup.config == configs[-1] and tup.pending_writes == []
        assert len([t for t in saver.list(None)]) == 2
        assert store.get(("docs",), "new") is None
        admin.config_set("maxmemory", 0)
        saver.put(configs[-1], cp, md(2), {"count": 9})
        store.put(("docs",), "new", {"text": "stored"})
        assert len([t for t in saver.list(cfg("full"))]) == 3
