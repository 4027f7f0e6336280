"""The node cache on its own: entries, TTLs, clears, housekeeping, input checks, failures.

Written once for AsyncRedisCache; scripts/unasync.py generates the RedisCache twin.  TTL tests
wait for real expiry with sub-second TTLs.  ``InMemoryCache`` is the reference for semantics
(tests/test_cache_model.py compares the two at length).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.cache.memory import InMemoryCache
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from redis import Redis
from redis.exceptions import ConnectionError

from aredis_ckpt import (
    AsyncRedisCache,
    CorruptedDataError,
    PayloadTooLargeError,
    ServerOutOfMemoryError,
)
from aredis_ckpt._cache_base import BUCKETS, bucket_of, ns_path
from aredis_ckpt._compat import asleep
from aredis_ckpt._keys import encode
from aredis_ckpt._server import RedisServer

NAMESPACES: list[tuple[str, ...]] = [
    (),
    ("",),
    ("", ""),
    (":",),
    ("a:b",),
    ("a", "b"),
    ("a",),
    ("{x}",),
    ("%C",),
    ("%3A",),
    ("é漢🙂",),
    ("\x00",),
    ("a\x01", "*"),
]
KEYS = ["", "k", ":", "b:c", "\x00", "é", "{x}", "%3A"]


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def keys_under(cache: AsyncRedisCache[Any]) -> list[bytes]:
    found = []
    async for key in cache._redis.scan_iter(match=cache.key_prefix + ":*", count=1000):
        found.append(key)
    return sorted(found)


async def entry_keys(cache: AsyncRedisCache[Any], ns: tuple[str, ...], key: str) -> list[bytes]:
    """The two keys holding the entries of ``ns`` in the bucket of ``key`` (current generation)."""
    path = ns_path(ns)
    gkey = cache._ck.generation[bucket_of(path, encode(key))]
    g = await cache._redis.get(gkey)
    assert g is not None
    base = gkey[:-1]
    return [base + b"e:" + g + b":" + path, base + b"x:" + g + b":" + path]


async def set_within_ttl(
    cache: AsyncRedisCache[Any], pairs: dict[Any, Any], ttl: float, read: list[Any]
) -> tuple[dict[Any, Any], float, float]:
    """Set ``pairs`` with ``ttl`` and read ``read`` back before it passes: a machine too slow
    to do both within the TTL tries again with twice the TTL.  Returns (what the read found,
    the TTL used, when the set returned)."""
    for _ in range(5):
        started = time.monotonic()
        await cache.aset({k: (v, ttl) for k, v in pairs.items()})
        written = time.monotonic()
        found = await cache.aget(read)
        if time.monotonic() - started < ttl * 0.8:
            return found, ttl, written
        ttl *= 2
    raise AssertionError("the machine never managed a set and a get within the TTL")


async def test_entries_round_trip_under_nasty_namespaces_and_keys(cache: Any) -> None:
    pairs = {
        (ns, key): ({"ns": list(ns), "key": key, "n": i}, None)
        for i, (ns, key) in enumerate((ns, key) for ns in NAMESPACES for key in KEYS)
    }
    await cache.aset(pairs)
    assert await cache.aget(list(pairs)) == {k: v for k, (v, _) in pairs.items()}
    # (("a:b",), "c"), (("a", "b"), "c") and (("a",), "b:c") are three entries
    await cache.aset({(("a:b",), "c"): (1, None), (("a", "b"), "c"): (2, None)})
    await cache.aset({(("a",), "b:c"): (3, None)})
    assert await cache.aget([(("a:b",), "c"), (("a", "b"), "c"), (("a",), "b:c")]) == {
        (("a:b",), "c"): 1,
        (("a", "b"), "c"): 2,
        (("a",), "b:c"): 3,
    }


async def test_missing_keys_and_empty_batches(cache: Any) -> None:
    assert await cache.aget([]) == {}
    await cache.aset({})
    await cache.aclear([])
    assert await cache.aget([(("n",), "k")]) == {}
    await cache.aset({(("n",), "k"): ("v", None)})
    assert await cache.aget([(("n",), "k"), (("n",), "other"), (("m",), "k")]) == {
        (("n",), "k"): "v"
    }
    # a namespace given as a list reads the same entry (results are keyed by tuples)
    assert await cache.aget([(["n"], "k")]) == {(("n",), "k"): "v"}


async def test_langgraph_writes_round_trip(cache: Any) -> None:
    from langchain_core.messages import AIMessage, HumanMessage

    writes = [("messages", [HumanMessage("hi", id="1"), AIMessage("hello", id="2")]), ("n", 3)]
    await cache.aset({(("__pregel_ns_writes", "mod.node", "node"), "abc"): (writes, None)})
    got = await cache.aget([(("__pregel_ns_writes", "mod.node", "node"), "abc")])
    # the serializer's round trip, as in InMemoryCache (tuples come back as lists)
    reference = InMemoryCache()
    reference.set({(("__pregel_ns_writes", "mod.node", "node"), "abc"): (writes, None)})
    assert got == reference.get([(("__pregel_ns_writes", "mod.node", "node"), "abc")])
    assert got[(("__pregel_ns_writes", "mod.node", "node"), "abc")][0][1][1].content == "hello"


async def test_entries_expire_after_their_ttl(cache: Any) -> None:
    key = (("t",), "k")
    found, ttl, written = await set_within_ttl(cache, {key: "v"}, 0.3, [key])
    assert found == {key: "v"}
    await cache.aset({(("t",), "forever"): ("f", None)})
    await asleep(ttl - (time.monotonic() - written) + 0.05)
    assert await cache.aget([key, (("t",), "forever")]) == {(("t",), "forever"): "f"}


async def test_ttl_of_zero_or_less_removes_the_entry(cache: Any) -> None:
    for ttl in (0, -1, -0.5):
        await cache.aset({(("t",), "k"): ("v", None)})
        assert await cache.aget([(("t",), "k")]) == {(("t",), "k"): "v"}
        await cache.aset({(("t",), "k"): ("new", ttl)})
        assert await cache.aget([(("t",), "k")]) == {}
    assert await keys_under(cache) == sorted(
        {cache._ck.generation[bucket_of(ns_path(("t",)), b"k")]}
    )


async def test_a_namespace_whose_entries_all_expire_leaves_nothing(cache: Any) -> None:
    # every entry has a TTL: the namespace's keys carry the last expiry
    await cache.aset({(("long",), f"k{i}"): (i, 60) for i in range(20)})
    for i in range(20):
        for name in await entry_keys(cache, ("long",), f"k{i}"):
            assert 0 < await cache._redis.pttl(name) <= 60_000
    await cache.aclear([("long",)])
    pairs = {(("t",), f"k{i}"): i for i in range(20)}
    found, ttl, written = await set_within_ttl(cache, pairs, 0.3, list(pairs))
    assert found == pairs
    await asleep(ttl - (time.monotonic() - written) + 0.05)
    # only the buckets' generation keys and registries are left: Redis dropped the entries
    left = await keys_under(cache)
    assert all(name.endswith(b"}:g") or name.endswith(b"}:n") for name in left), left
    # and the next write in a bucket forgets registry names whose time has passed
    await cache.aset({(("t",), f"k{i}"): (i, 0) for i in range(20)})
    assert all(name.endswith(b"}:g") for name in await keys_under(cache))


async def test_an_entry_without_ttl_keeps_its_namespace(cache: Any) -> None:
    await cache.aset({(("t",), "k"): ("a", 100), (("t",), "k2"): ("b", 100)})
    e, _ = await entry_keys(cache, ("t",), "k")
    assert await cache._redis.pttl(e) > 0
    same_bucket = next(
        key
        for key in (f"p{i}" for i in range(1000))
        if bucket_of(ns_path(("t",)), encode(key)) == bucket_of(ns_path(("t",)), b"k")
    )
    await cache.aset({(("t",), same_bucket): ("c", None)})
    assert await cache._redis.pttl(e) == -1
    await cache.aset({(("t",), same_bucket): ("c", 0)})
    assert 0 < await cache._redis.pttl(e) <= 100_000


async def test_writes_sweep_expired_entries(cache: Any) -> None:
    key = (("t",), "k")
    await cache.aset({key: ("kept", None)})
    e, x = await entry_keys(cache, *key)
    same_bucket = [
        k
        for k in (f"p{i}" for i in range(2000))
        if bucket_of(ns_path(("t",)), encode(k)) == bucket_of(ns_path(("t",)), b"k")
    ][:30]
    found, ttl, written = await set_within_ttl(
        cache, {(("t",), k): k for k in same_bucket}, 0.2, [key]
    )
    assert found == {key: "kept"}
    assert await cache._redis.hlen(e) == 31
    await asleep(ttl - (time.monotonic() - written) + 0.05)
    await cache.aset({key: ("kept", None)})
    assert await cache._redis.hlen(e) == 1
    assert await cache._redis.exists(x) == 0


async def test_clear_takes_exactly_the_namespaces_given(cache: Any) -> None:
    pairs = {(ns, key): (f"{ns}{key}", None) for ns in NAMESPACES for key in KEYS}
    await cache.aset(pairs)
    gone = [("a",), (), ("%C",), ("never-used",)]
    await cache.aclear(gone)
    assert await cache.aget(list(pairs)) == {
        k: v for k, (v, _) in pairs.items() if k[0] not in gone
    }
    # ("a", "b") is nested under ("a",) and stays; so does ("a:b",)
    assert (("a", "b"), "k") in await cache.aget([(("a", "b"), "k")])
    await cache.aclear()
    assert await cache.aget(list(pairs)) == {}
    await cache.aset({(("a",), "k"): ("back", None)})
    assert await cache.aget([(("a",), "k")]) == {(("a",), "k"): "back"}


async def test_clear_of_everything_leaves_only_generation_keys(cache: Any) -> None:
    await cache.aset({((f"n{i}",), f"k{j}"): (j, None) for i in range(10) for j in range(10)})
    await cache.aset({((f"n{i}",), "t"): (i, 3600) for i in range(10)})
    assert len(await keys_under(cache)) > BUCKETS * 2
    await cache.aclear()
    assert all(name.endswith(b"}:g") for name in await keys_under(cache))
    assert await cache.aget([(("n1",), "k1")]) == {}


async def test_large_clears_run_in_slices(make_cache: Any) -> None:
    async with make_cache() as cache:
        cache.CLEAR_BUDGET = 64
        cache.COLLECT_BUDGET = 5
        spaces = [(f"n{i}", "x") for i in range(70)]
        await cache.aset({(ns, "k"): (1, None) for ns in spaces})
        await cache.aclear(spaces[:60])
        assert await cache.aget([(ns, "k") for ns in spaces]) == {
            (ns, "k"): 1 for ns in spaces[60:]
        }
        await cache.aset({(ns, "k"): (1, None) for ns in spaces})
        await cache.aclear()
        assert all(name.endswith(b"}:g") for name in await keys_under(cache))


async def test_an_interrupted_clear_is_finished_by_later_writes(make_cache: Any) -> None:
    async with make_cache() as cache:
        spaces = [(f"n{i}",) for i in range(40)]
        await cache.aset({(ns, "k"): (1, None) for ns in spaces})
        # only the switch to new generations, as if the process died before collecting
        cache.COLLECT_BUDGET = 0
        await cache._run(cache._reset_calls(range(BUCKETS), b"00c0ffee"))
        assert await cache.aget([(ns, "k") for ns in spaces]) == {}
        left = await keys_under(cache)
        assert any(b"}:e:" in name for name in left)
        cache.WRITE_COLLECT = 100
        await cache.aset({((str(i),), str(j)): (1, 0) for i in range(40) for j in range(4)})
        assert all(name.endswith(b"}:g") for name in await keys_under(cache))


async def test_scripts_the_server_forgot_are_loaded_again(cache: Any) -> None:
    await cache.aset({(("f",), f"k{i}"): (i, None) for i in range(40)})
    await cache._redis.script_flush()  # a restart or failover to a server without the scripts
    assert await cache.aget([(("f",), f"k{i}") for i in range(40)]) == {
        (("f",), f"k{i}"): i for i in range(40)
    }
    await cache._redis.script_flush()
    await cache.aclear()
    assert await cache.aget([(("f",), "k1")]) == {}


async def test_caches_on_one_prefix_share_entries_and_prefixes_are_apart(
    make_cache: Any, key_prefix: str
) -> None:
    async with (
        make_cache() as one,
        make_cache() as two,
        make_cache(key_prefix=key_prefix + ":other") as other,
    ):
        await one.aset({(("n",), "k"): ("one", None)})
        await other.aset({(("n",), "k"): ("other", None)})
        assert await two.aget([(("n",), "k")]) == {(("n",), "k"): "one"}
        await two.aclear()
        assert await one.aget([(("n",), "k")]) == {}
        assert await other.aget([(("n",), "k")]) == {(("n",), "k"): "other"}


async def test_large_values_are_compressed(make_cache: Any) -> None:
    value = "word " * 2000
    async with make_cache() as cache, make_cache(compress_threshold=None) as plain:
        await cache.aset({(("z",), "k"): (value, None)})
        e, _ = await entry_keys(cache, ("z",), "k")
        stored = await cache._redis.hget(e, b"k")
        assert stored is not None and b"zstd+" in stored[:16] and len(stored) < 1000
        assert await plain.aget([(("z",), "k")]) == {(("z",), "k"): value}
        await plain.aset({(("z",), "k"): (value, None)})
        stored = await cache._redis.hget(e, b"k")
        assert stored is not None and b"zstd+" not in stored[:16] and len(stored) > 10_000
        assert await cache.aget([(("z",), "k")]) == {(("z",), "k"): value}


async def test_a_custom_serde_is_used(make_cache: Any) -> None:
    serde = EncryptedSerializer.from_pycryptodome_aes(key=b"0123456789abcdef")
    async with make_cache(serde=serde) as cache:
        await cache.aset({(("s",), "k"): ({"secret": "plaintext-canary"}, None)})
        e, _ = await entry_keys(cache, ("s",), "k")
        stored = await cache._redis.hget(e, b"k")
        assert stored is not None and b"plaintext-canary" not in stored
        assert await cache.aget([(("s",), "k")]) == {(("s",), "k"): {"secret": "plaintext-canary"}}


async def test_bad_input_is_refused_before_anything_is_stored(cache: Any) -> None:
    good = (("n",), "k")
    bad_pairs: list[Any] = [
        {good: (1, None), (("n",), 3): (2, None)},
        {good: (1, None), ("n", "k"): (2, None)},
        {good: (1, None), (("n", 1), "k"): (2, None)},
        {good: (1, "10")},
        {good: (1, True)},
        {good: 1},
    ]
    for pairs in bad_pairs:
        with pytest.raises(TypeError):
            await cache.aset(pairs)
    for ttl in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite"):
            await cache.aset({good: (1, ttl)})
    assert await cache.aget([good]) == {}
    with pytest.raises(TypeError):
        await cache.aget([("n", "k")])
    with pytest.raises(TypeError):
        await cache.aget([(("n",), b"k")])
    with pytest.raises(TypeError):
        await cache.aclear("n")
    with pytest.raises(TypeError):
        await cache.aclear([("n", 1)])


def test_construction_is_checked(redis_url: str) -> None:
    with pytest.raises(ValueError, match="errors"):
        AsyncRedisCache(redis_url, errors="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="compress_threshold"):
        AsyncRedisCache(redis_url, compress_threshold=0)
    with pytest.raises(ValueError, match="key_prefix"):
        AsyncRedisCache(redis_url, key_prefix="a{b}")
    with pytest.raises(ValueError, match="one of"):
        AsyncRedisCache(redis_url, redis_client=redis_url)  # type: ignore[arg-type]


async def test_failures_raise_by_default_and_are_misses_on_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"redis://127.0.0.1:{unused_port()}"  # nothing listens there
    args = {"retry": None, "socket_connect_timeout": 1}
    async with AsyncRedisCache.from_conn_string(url, connection_args=args) as cache:
        with pytest.raises(ConnectionError):
            await cache.aget([(("n",), "k")])
        with pytest.raises(ConnectionError):
            await cache.aset({(("n",), "k"): (1, None)})
    async with AsyncRedisCache.from_conn_string(url, connection_args=args, errors="miss") as miss:
        with caplog.at_level(logging.DEBUG, logger="aredis_ckpt"):
            assert await miss.aget([(("n",), "k")]) == {}
            assert await miss.aget([(("n",), "k")]) == {}
            await miss.aset({(("n",), "k"): (1, None)})
            await miss.aset({(("n",), "k"): (1, None)})
        levels = [
            (r.levelno, r.getMessage().split(",")[0])
            for r in caplog.records
            if r.name == "aredis_ckpt"
        ]
        assert levels == [
            (logging.WARNING, "cache get failed"),
            (logging.DEBUG, "cache get failed"),
            (logging.WARNING, "cache set failed"),
            (logging.DEBUG, "cache set failed"),
        ]
        # a clear that failed would leave entries behind: it always raises
        with pytest.raises(ConnectionError):
            await miss.aclear()
        # bad input is the caller's bug, not a cache failure
        with pytest.raises(TypeError):
            await miss.aget([("n", "k")])


async def test_an_entry_that_cannot_be_decoded(
    make_cache: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_cache() as cache, make_cache(errors="miss") as miss:
        await cache.aset({(("c",), "bad"): (1, None), (("c",), "good"): (2, None)})
        e, _ = await entry_keys(cache, ("c",), "bad")
        await cache._redis.hset(e, b"bad", b"0 \x07msgpack\xc1garbage")
        with pytest.raises(CorruptedDataError, match="'bad'"):
            await cache.aget([(("c",), "bad"), (("c",), "good")])
        with caplog.at_level(logging.WARNING, logger="aredis_ckpt"):
            got = await miss.aget([(("c",), "bad"), (("c",), "good")])
        assert got == {(("c",), "good"): 2}
        assert "could not be decoded" in caplog.text
        await cache._redis.hset(e, b"bad", b"no header at all")
        with pytest.raises(CorruptedDataError):
            await cache.aget([(("c",), "bad")])


async def test_a_client_you_pass_is_left_open(redis_url: str, make_cache: Any) -> None:
    async with make_cache() as owner:
        client = owner._redis
        cache: AsyncRedisCache[Any] = AsyncRedisCache(client, key_prefix=owner.key_prefix)
        await cache.aset({(("o",), "k"): (1, None)})
        await cache.aclose()
        assert await owner.aget([(("o",), "k")]) == {(("o",), "k"): 1}


async def test_batches_over_max_payload_bytes_are_refused(
    make_cache: Any, caplog: pytest.LogCaptureFixture
) -> None:
    big = "x" * 5000
    async with make_cache(max_payload_bytes=4000, compress_threshold=None) as cache:
        await cache.aset({(("p",), "small"): ("ok", None)})
        with pytest.raises(
            PayloadTooLargeError, match=r"^set on cache prefix .* \(\('p',\), 'big'\)"
        ):
            await cache.aset({(("p",), "big"): (big, None), (("p",), "small"): ("new", None)})
        assert await cache.aget([(("p",), "big"), (("p",), "small")]) == {(("p",), "small"): "ok"}
    async with make_cache(max_payload_bytes=4000, compress_threshold=None, errors="miss") as miss:
        with caplog.at_level(logging.WARNING, logger="aredis_ckpt"):
            await miss.aset({(("p",), "big"): (big, None)})
        assert "PayloadTooLargeError" in caplog.text
        assert await miss.aget([(("p",), "big")]) == {}


@pytest.fixture(scope="module")
def full_server() -> Iterator[RedisServer]:
    """A private server that refuses writes once its memory is over maxmemory."""
    server = RedisServer(
        os.environ.get("AREDIS_REDIS_SERVER") or None,
        extra_args=("--maxmemory-policy", "noeviction"),
    )
    server.start()
    yield server
    server.stop()


@pytest.mark.standalone
async def test_a_full_server_refuses_sets_but_reads_and_clears_go_on(
    full_server: RedisServer, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    admin = Redis.from_url(full_server.url)
    spaces = [(f"n{i}",) for i in range(30)]
    entries = {(ns, f"k{j}"): (j, 3600 if j % 2 else None) for ns in spaces for j in range(4)}
    try:
        async with AsyncRedisCache.from_conn_string(
            full_server.url, key_prefix=key_prefix
        ) as cache:
            await cache.aset(entries)
            before = sorted(admin.scan_iter(match=key_prefix + ":*"))
            admin.config_set("maxmemory", 1)  # anything in use is now over the limit
            with pytest.raises(
                ServerOutOfMemoryError, match=r"^a cache set under prefix"
            ) as caught:
                await cache.aset({(("n1",), "new"): (1, None), (("n2",), "k1"): (9, 60)})
            assert "nothing of it was written" in str(caught.value)
            assert sorted(admin.scan_iter(match=key_prefix + ":*")) == before
            assert await cache.aget(list(entries)) == {k: v for k, (v, _) in entries.items()}
            await cache.aclear([("n0",)])  # unlinking needs no memory
            assert await cache.aget([(("n0",), "k0"), (("n1",), "k0")]) == {(("n1",), "k0"): 0}
            cache.COLLECT_BUDGET = 7  # in place, several calls
            with caplog.at_level(logging.DEBUG, logger="aredis_ckpt"):
                await cache.aclear()
            assert "out of memory, unlinking in place" in caplog.text
            assert all(k.endswith(b"}:g") for k in admin.scan_iter(match=key_prefix + ":*"))
            assert await cache.aget(list(entries)) == {}
        async with AsyncRedisCache.from_conn_string(
            full_server.url, key_prefix=key_prefix, errors="miss"
        ) as miss:
            with caplog.at_level(logging.WARNING, logger="aredis_ckpt"):
                await miss.aset({(("n1",), "new"): (1, None)})
            assert "ServerOutOfMemoryError" in caplog.text
            admin.config_set("maxmemory", 0)
            await miss.aset({(("n1",), "new"): (1, None)})
            assert await miss.aget([(("n1",), "new")]) == {(("n1",), "new"): 1}
    finally:
        admin.config_set("maxmemory", 0)
        admin.close()
