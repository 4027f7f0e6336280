"""The savers route cluster commands themselves: a slot that moves while they work is followed.

A slot is resharded from one master to another under a saver that already knows the old slot
table: during the migration a new thread of that slot is written (the old master answers ASK,
the saver resends to the importing master after ASKING); after it, an existing thread is read
(the old master answers MOVED, the saver refreshes its table).  Scripts flushed from every node
are loaded again where NOSCRIPT is answered.  Runs only with ``AREDIS_TEST_TOPOLOGY=cluster``.
"""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.base.id import uuid6
from redis import Redis
from redis.exceptions import AskError, TryAgainError

from aredis_ckpt import AsyncRedisSaver, RedisSaver
from aredis_ckpt._keys import slot_of


@pytest.fixture
def cluster(redis_cluster: Any) -> Any:
    if redis_cluster is None:
        pytest.skip("cluster routing: run with AREDIS_TEST_TOPOLOGY=cluster")
    return redis_cluster


def cfg(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}


def checkpoint(n: int) -> Any:
    cp = empty_checkpoint()
    cp["id"] = str(uuid6(clock_seq=-1))
    cp["channel_values"] = {"n": n}
    cp["channel_versions"] = {"n": n + 1}
    return cp


def text(reply: Any) -> str:
    return reply.decode() if isinstance(reply, bytes) else str(reply)


def exists(node: Any, *keys: bytes) -> int:
    direct = Redis(host="127.0.0.1", port=node.port)
    try:
        return int(direct.execute_command("EXISTS", *keys))
    finally:
        direct.close()


def present(direct: Redis, key: bytes) -> bool:
    try:
        return bool(direct.exists(key))
    except AskError:  # missing here, and the slot is migrating
        return False


def in_slot(node: Any, slot: int) -> int:
    return int(text(node.command("CLUSTER", "COUNTKEYSINSLOT", str(slot))))


def asking_calls(node: Any) -> int:
    stats = text(node.command("INFO", "commandstats"))
    for line in stats.splitlines():
        if line.startswith("cmdstat_asking:"):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


def twin(saver: Any, thread: str) -> str:
    """Another thread id whose keys hash to the same slot."""
    slot = slot_of(saver._thread(thread).tag)
    return next(
        f"twin-{i}" for i in range(1_000_000) if slot_of(saver._thread(f"twin-{i}").tag) == slot
    )


def test_a_resharded_slot_is_followed(cluster: Any, key_prefix: str) -> None:
    with RedisSaver.from_conn_string(cluster.url, cluster=True, key_prefix=key_prefix) as saver:
        saver.setup()
        first = saver.put(cfg("moving"), checkpoint(0), {}, {"n": 1})
        tk = saver._thread("moving")
        slot = slot_of(tk.tag)
        source = cluster.master_for_slot(slot)
        target = next(
            n for n in cluster.nodes if n is not source and "master" in text(n.command("ROLE")[0])
        )
        src_id, dst_id = (
            text(source.command("CLUSTER", "MYID")),
            text(target.command("CLUSTER", "MYID")),
        )
        before = in_slot(source, slot)
        target.command("CLUSTER", "SETSLOT", str(slot), "IMPORTING", src_id)
        source.command("CLUSTER", "SETSLOT", str(slot), "MIGRATING", dst_id)
        # a new thread of the migrating slot: the old master answers ASK, the saver asks the
        # importing one, which answers TRYAGAIN (a script's keys must all be there or all
        # missing): after its retries the write fails whole, nothing half-written anywhere
        newcomer = twin(saver, "moving")
        with pytest.raises(TryAgainError):
            saver.put(cfg(newcomer), checkpoint(0), {}, {"n": 1})
        assert asking_calls(target) > 0
        assert in_slot(source, slot) == before and in_slot(target, slot) == 0
        # move the old thread's keys and hand the slot over
        direct = Redis(host="127.0.0.1", port=source.port)
        keys = [k for k in tk.all if present(direct, k)]
        direct.execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", *keys)
        direct.close()
        for node in cluster.nodes:
            if "master" in text(node.command("ROLE")[0]):
                node.command("CLUSTER", "SETSLOT", str(slot), "NODE", dst_id)
        # the saver still has the old table: MOVED, refresh, resend
        tup = saver.get_tuple(cfg("moving"))
        assert tup is not None and tup.config == first
        written = saver.put(cfg(newcomer), checkpoint(0), {}, {"n": 1})
        assert exists(target, saver._thread(newcomer).all[0]) == 1
        got = saver.get_tuple(cfg(newcomer))
        assert got is not None and got.config == written
        listed = {t.config["configurable"]["checkpoint_id"] for t in saver.list(None)}
        assert listed == {
            first["configurable"]["checkpoint_id"],
            written["configurable"]["checkpoint_id"],
        }


async def test_scripts_flushed_everywhere_are_loaded_again(cluster: Any, key_prefix: str) -> None:
    async with AsyncRedisSaver.from_conn_string(
        cluster.url, cluster=True, key_prefix=key_prefix
    ) as saver:
        await saver.asetup()
        first = await saver.aput(cfg("t"), checkpoint(0), {}, {"n": 1})
        for node in cluster.nodes:
            if "master" in text(node.command("ROLE")[0]):
                node.command("SCRIPT", "FLUSH")
        stored = await saver.aput(first, checkpoint(1), {}, {"n": 2})
        tup = await saver.aget_tuple(cfg("t"))
        assert tup is not None and tup.config == stored
        listed = [t.config async for t in saver.alist(None)]
        assert listed == [stored, first]
