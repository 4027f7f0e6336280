"""TTL: every key of a thread expires together, and an expired thread leaves nothing behind.

Written once for AsyncRedisSaver; scripts/unasync.py generates the RedisSaver twin.  These
tests wait for real expiry (a few hundred milliseconds).
"""

from __future__ import annotations

from typing import Any

from aredis_ckpt import AsyncRedisSaver, ScriptBudget
from aredis_ckpt._commands import Command
from aredis_ckpt._compat import asleep

from .test_saver import cfg, keys_under, make_checkpoint, md, put_chain

TTL_MS = 400
TTL = {"default_ttl": TTL_MS / 60_000}


async def thread_ttls(saver: AsyncRedisSaver, thread_id: str) -> dict[bytes, int]:
    found = {}
    for key in saver._thread(thread_id).all:
        ttl = await saver._redis.pttl(key)
        if ttl != -2:  # -2: the key does not exist
            found[key] = ttl
    return found


async def test_every_key_of_a_thread_gets_the_expiry(make_saver: Any) -> None:
    async with make_saver(ttl=TTL) as saver:
        configs = await put_chain(saver, "t", 3, run_id="r")
        await put_chain(saver, "t", 2, ns="sub:1")
        await saver.aput_writes(configs[-1], [("a", 1)], "task")
        ttls = await thread_ttls(saver, "t")
        assert len(ttls) == 10  # t n c m v i j w wx r
        assert all(0 < ttl <= TTL_MS for ttl in ttls.values()), ttls


async def test_expired_thread_is_gone_everywhere(make_saver: Any) -> None:
    async with make_saver(ttl=TTL) as saver:
        configs = await put_chain(saver, "old", 3, run_id="run-old")
        await saver.aput_writes(configs[-1], [("a", 1)], "task")
        await asleep(TTL_MS / 1000 + 0.2)
        assert await saver.aget_tuple(cfg("old")) is None
        assert [t async for t in saver.alist({"configurable": {"thread_id": "old"}})] == []
        assert [t async for t in saver.alist(None)] == []
        assert await thread_ttls(saver, "old") == {}


def same_bucket(saver: AsyncRedisSaver, thread_id: str, stem: str) -> str:
    """A thread id sharing ``thread_id``'s bucket of the index across threads."""
    want = saver._thread(thread_id).bucket
    return next(
        f"{stem}-{i}" for i in range(100_000) if saver._thread(f"{stem}-{i}").bucket == want
    )


async def bucket_state(saver: AsyncRedisSaver, thread_id: str, run: str) -> dict[str, Any]:
    """What a thread's bucket holds: index entries, expiry records and one run's set."""
    bucket = saver._bucket(saver._thread(thread_id))
    run_set = bucket.run(run.encode())
    got = await saver._runner.batch(
        [
            Command(("ZRANGE", bucket.index, 0, -1), bucket.index),
            Command(("ZRANGE", bucket.exp, 0, -1), bucket.exp),
            Command(("SMEMBERS", run_set), run_set),
        ]
    )
    index, tags, runs = got.replies
    scores = [await saver._redis.zscore(bucket.exp, tag) for tag in tags]
    return {"index": index, "exp": dict(zip(tags, scores, strict=True)), "run": set(runs)}


async def test_expired_threads_bucket_entries_are_swept(make_saver: Any) -> None:
    async with make_saver(ttl=TTL) as saver:
        await put_chain(saver, "old", 3, run_id="run-old")
        old = saver._thread("old")
        assert len((await bucket_state(saver, "old", "run-old"))["index"]) == 3
        await asleep(TTL_MS / 1000 + 0.2)
        # the next put in the same bucket sweeps the expired thread's entries
        new = same_bucket(saver, "old", "new")
        fresh = await put_chain(saver, new, 1, run_id="run-old")
        state = await bucket_state(saver, "old", "run-old")
        member = fresh[0]["configurable"]["checkpoint_id"].encode()
        assert state["index"] == [member + b"\x00" + saver._thread(new).tag + b"\x00%"]
        assert list(state["exp"]) == [saver._thread(new).tag]
        assert state["run"] == {saver._thread(new).tag}
        assert await saver._redis.exists(saver._bucket(old).members(old.tag)) == 0


async def test_a_big_expired_thread_is_forgotten_a_slice_per_put(make_saver: Any) -> None:
    # 10 checkpoints in two runs: 12 bucket entries, forgotten at most 5 per put
    async with make_saver(ttl=TTL, script_budget=ScriptBudget(sweep_entries=5)) as saver:
        await put_chain(saver, "old", 6, run_id="run-a")
        await put_chain(saver, "old", 4, ns="sub", run_id="run-b")
        old = saver._thread("old")
        gm = saver._bucket(old).members(old.tag)
        assert await saver._redis.scard(gm) == 12
        await asleep(TTL_MS / 1000 + 0.2)
        new = same_bucket(saver, "old", "new")
        parent: str | None = None
        left = [12]
        for _ in range(4):
            stored = await saver.aput(
                cfg(new, "", parent), make_checkpoint({"n": 1}, {"n": 1}), md(0), {"n": 1}
            )
            parent = stored["configurable"]["checkpoint_id"]
            # the expired thread is never listed while its entries are being removed
            assert {t.config["configurable"]["thread_id"] async for t in saver.alist(None)} == {new}
            state = await bucket_state(saver, "old", "run-a")
            mine = [m for m in state["index"] if m.split(b"\x00")[1] == old.tag]
            recorded = await saver._redis.smembers(gm)
            # what is left of its bookkeeping still names exactly its index entries left
            assert {e for e in recorded if e.startswith(b"c")} == {b"c" + m for m in mine}
            left.append(len(recorded))
            assert left[-2] - left[-1] <= 5
            if not await saver._redis.exists(gm):
                break
        assert left == [12, 7, 2, 0]
        state = await bucket_state(saver, "old", "run-a")
        assert [m for m in state["index"] if m.split(b"\x00")[1] == old.tag] == []
        assert state["run"] == set()
        assert await saver._redis.smembers(saver._bucket(old).run(b"run-b")) == set()
        assert list(state["exp"]) == [saver._thread(new).tag]


async def test_a_thread_kept_alive_by_reads_stays_listed(make_saver: Any) -> None:
    async with make_saver(ttl={**TTL, "refresh_on_read": True}) as saver:
        (stored,) = await put_chain(saver, "live", 1, run_id="r")
        before = await bucket_state(saver, "live", "r")
        for _ in range(4):  # past the expiry the put recorded, kept alive by reads and writes
            await asleep(TTL_MS / 2000)
            assert await saver.aget_tuple(cfg("live")) is not None
            await saver.aput_writes(stored, [("a", 1)], "task")
        # reads and pending writes never write to the bucket
        assert await bucket_state(saver, "live", "r") == before
        await put_chain(saver, same_bucket(saver, "live", "other"), 1)
        after = await bucket_state(saver, "live", "r")
        assert set(before["index"]) <= set(after["index"])
        assert saver._thread("live").tag in after["run"]
        # rescheduled, not dropped: due again when its keys would expire
        tag = saver._thread("live").tag
        assert after["exp"][tag] > before["exp"][tag]
        listed = [t.config async for t in saver.alist(None)]
        assert stored in listed


async def test_writes_and_reads_extend_the_expiry(make_saver: Any) -> None:
    async with make_saver(ttl={**TTL, "refresh_on_read": True}) as saver:
        stored = (await put_chain(saver, "t", 2))[-1]
        for _ in range(4):
            await asleep(TTL_MS / 2000)
            assert await saver.aget_tuple(cfg("t")) is not None  # refreshes
        await saver.aput_writes(stored, [("a", 1)], "task")
        ttls = await thread_ttls(saver, "t")
        assert len(ttls) == 9 and min(ttls.values()) > TTL_MS / 2  # no run index: no run_id
    async with make_saver(ttl=TTL) as saver:
        await put_chain(saver, "u", 1)
        await asleep(TTL_MS / 2000)
        assert await saver.aget_tuple(cfg("u")) is not None  # does not refresh
        await asleep(TTL_MS / 2000 + 0.15)
        assert await saver.aget_tuple(cfg("u")) is None


async def test_delete_and_prune_clear_the_bookkeeping(make_saver: Any) -> None:
    async with make_saver(ttl=TTL) as saver:
        await put_chain(saver, "t", 4, run_id="r1")
        await saver.aprune(["t"], keep_last=1)
        await saver.adelete_thread("t")
        assert await keys_under(saver) == [saver._pk.schema]


async def test_a_write_without_ttl_leaves_no_record_behind_when_the_thread_expires(
    make_saver: Any,
) -> None:
    # the thread's and namespace's records are written once: a later write by a saver with
    # no TTL does not rewrite them, so they keep the thread's expiry like its other keys
    # (keys it creates itself have none: here every key exists before it writes)
    async with make_saver(ttl=TTL) as with_ttl, make_saver() as without:
        configs = await put_chain(with_ttl, "mixed", 2)
        await with_ttl.aput_writes(configs[-1], [("a", 0)], "first")
        await without.aput_writes(configs[-1], [("a", 1)], "task")
        await without.aput(configs[-1], make_checkpoint({}, {}), md(2), {})
        ttls = await thread_ttls(with_ttl, "mixed")
        assert all(0 < ttl <= TTL_MS for ttl in ttls.values()), ttls
        await asleep(TTL_MS / 1000 + 0.2)
        assert await thread_ttls(with_ttl, "mixed") == {}
        assert await without.aget_tuple(cfg("mixed")) is None
