"""Failover: the master holding a thread dies (SIGKILL) in the middle of a multi-step graph run;
the run continues once a replica is promoted, and no checkpoint acknowledged before the kill
is lost.  Each test starts its own servers (a Sentinel set-up or a 3+3 cluster).

The client rides over the failover with redis-py's retry settings, the configuration the
docs recommend for production (see RETRY_ARGS).
"""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest
from langgraph.graph import END, START, StateGraph
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.crc import key_slot
from redis.exceptions import ClusterDownError, ConnectionError, TimeoutError
from redis.retry import Retry
from typing_extensions import TypedDict

from aredis_ckpt import AsyncRedisSaver, RedisSaver
from aredis_ckpt._server import ClusterServers, RedisServer, SentinelServers

TOTAL = 24
KILL_AT = 10

RETRY_ARGS: dict[str, Any] = {
    "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=40),
    "retry_on_error": [ConnectionError, TimeoutError],
    "socket_timeout": 2.0,
    "socket_connect_timeout": 1.0,
}
# redis.asyncio takes its own Retry class
ASYNC_RETRY_ARGS: dict[str, Any] = {
    **RETRY_ARGS,
    "retry": AsyncRetry(ExponentialBackoff(cap=0.5, base=0.05), retries=40),
}


class Count(TypedDict):
    n: int


def build(saver: Any, on_step: Any) -> Any:
    def step(state: Count) -> dict[str, int]:
        on_step(state["n"])
        return {"n": state["n"] + 1}

    builder = StateGraph(Count)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    builder.add_conditional_edges("step", lambda s: "step" if s["n"] < TOTAL else END)
    return builder.compile(checkpointer=saver)


def info(server: RedisServer) -> dict[str, str]:
    return server.info("replication")


def wait_replicated(master: RedisServer, replicas: list[RedisServer]) -> None:
    """Until every replica has processed everything the master had written so far."""
    target = int(info(master)["master_repl_offset"])
    deadline = time.monotonic() + 10
    while not all(int(info(r).get("master_repl_offset", -1)) >= target for r in replicas):
        assert time.monotonic() < deadline, "replicas did not catch up"
        time.sleep(0.01)


def replicas_of(servers: list[RedisServer], master: RedisServer) -> list[RedisServer]:
    return [
        s for s in servers if s is not master and info(s).get("master_port") == str(master.port)
    ]


FAILOVER_ERRORS = (ConnectionError, ClusterDownError, TimeoutError)


def run_through_failover(graph: Any, config: Any) -> Any:
    """Run the graph; if the client's retries run out before the failover completes (redis-py's
    cluster client does not back off; a loaded machine slows Sentinel down), resume the thread
    from its last checkpoint, as a caller would."""
    run_config = {**config, "recursion_limit": 100}
    try:
        return graph.invoke({"n": 0}, run_config, durability="sync")
    except FAILOVER_ERRORS:
        deadline = time.monotonic() + 60
        while True:
            try:
                return graph.invoke(None, run_config, durability="sync")
            except FAILOVER_ERRORS:
                assert time.monotonic() < deadline, "no failover within 60 s"
                time.sleep(0.2)


async def arun_through_failover(graph: Any, config: Any) -> Any:
    """run_through_failover for ainvoke."""
    run_config = {**config, "recursion_limit": 100}
    try:
        return await graph.ainvoke({"n": 0}, run_config, durability="sync")
    except FAILOVER_ERRORS:
        deadline = time.monotonic() + 60
        while True:
            try:
                return await graph.ainvoke(None, run_config, durability="sync")
            except FAILOVER_ERRORS:
                assert time.monotonic() < deadline, "no failover within 60 s"
                await anyio.sleep(0.2)


class Crash:
    """Kills the thread's master at step KILL_AT, after making sure the replica has it all."""

    def __init__(self, saver: Any, config: Any, kill: Any) -> None:
        self.saver, self.config, self.kill = saver, config, kill
        self.acked: list[str] = []
        self.killed_at = 0.0
        self.recovered_at = 0.0

    def __call__(self, n: int) -> None:
        if n == KILL_AT and not self.killed_at:  # a resumed run may repeat this step
            self.acked = [t.checkpoint["id"] for t in self.saver.list(self.config)]
            self.kill()
            self.killed_at = time.monotonic()
        elif n == KILL_AT + 1 and not self.recovered_at:
            # this step only starts once the saver has stored the previous checkpoint again
            self.recovered_at = time.monotonic()


def check_history(saver: Any, config: Any, crash: Crash, capsys: Any, label: str) -> None:
    listed = list(saver.list(config))
    ids = [t.checkpoint["id"] for t in listed]
    assert len(crash.acked) >= KILL_AT
    assert set(crash.acked) <= set(ids), "a checkpoint acknowledged before the kill was lost"
    by_id = {t.checkpoint["id"]: t for t in listed}
    chain, cur = 0, by_id[ids[0]]
    while cur is not None:
        chain += 1
        parent = cur.parent_config
        cur = by_id[parent["configurable"]["checkpoint_id"]] if parent else None
    assert chain == len(ids), "the parent chain has a gap"
    with capsys.disabled():
        print(
            f"\n  {label}: writes resumed {crash.recovered_at - crash.killed_at:.2f} s after "
            f"SIGKILL of the master; {len(crash.acked)} acknowledged checkpoints all kept, "
            f"{len(ids)} in history"
        )


def test_sentinel_failover_sync(capsys: pytest.CaptureFixture[str]) -> None:
    with SentinelServers() as servers:
        old_port = servers.master_port()
        config = {"configurable": {"thread_id": "failover"}}
        with RedisSaver.from_conn_string(
            servers.url, key_prefix="fo", connection_args=RETRY_ARGS
        ) as saver:
            saver.setup()

            def kill() -> None:
                assert servers.master is not None and servers.replica is not None
                wait_replicated(servers.master, [servers.replica])
                servers.master.kill()

            crash = Crash(saver, config, kill)
            result = run_through_failover(build(saver, crash), config)
            assert result == {"n": TOTAL}
            assert servers.master_port() != old_port
            check_history(saver, config, crash, capsys, "sentinel, RedisSaver")


async def test_sentinel_failover_async(capsys: pytest.CaptureFixture[str]) -> None:
    with SentinelServers() as servers:
        config = {"configurable": {"thread_id": "failover"}}
        async with AsyncRedisSaver.from_conn_string(
            servers.url, key_prefix="fo", connection_args=ASYNC_RETRY_ARGS
        ) as saver:
            await saver.asetup()

            def kill() -> None:
                assert servers.master is not None and servers.replica is not None
                wait_replicated(servers.master, [servers.replica])
                servers.master.kill()

            crash = Crash(saver, config, kill)  # sync names: bridged from the node's thread
            result = await arun_through_failover(build(saver, crash), config)
            assert result == {"n": TOTAL}
            listed = [t async for t in saver.alist(config)]
            assert set(crash.acked) <= {t.checkpoint["id"] for t in listed}
            with capsys.disabled():
                print(
                    f"\n  sentinel, AsyncRedisSaver: writes resumed "
                    f"{crash.recovered_at - crash.killed_at:.2f} s after SIGKILL"
                )


def test_sentinel_wait_replicas(capsys: pytest.CaptureFixture[str]) -> None:
    with (
        SentinelServers() as servers,
        RedisSaver.from_conn_string(servers.url, key_prefix="w", wait_replicas=1) as saver,
    ):
        saver.setup()
        result = build(saver, lambda n: None).invoke(
            {"n": 0}, {"configurable": {"thread_id": "w"}, "recursion_limit": 100}
        )
        assert result == {"n": TOTAL}


def test_cluster_failover_sync(capsys: pytest.CaptureFixture[str]) -> None:
    with ClusterServers() as cluster:
        config = {"configurable": {"thread_id": "failover"}}
        with RedisSaver.from_conn_string(
            cluster.url, key_prefix="fo", cluster=True, connection_args=RETRY_ARGS
        ) as saver:
            saver.setup()
            slot = key_slot(saver._thread("failover").all[0])
            victim = cluster.master_for_slot(slot)

            def kill() -> None:
                wait_replicated(victim, replicas_of(cluster.nodes, victim))
                victim.kill()

            crash = Crash(saver, config, kill)
            result = run_through_failover(build(saver, crash), config)
            assert result == {"n": TOTAL}
            assert cluster.master_for_slot(slot) is not victim
            check_history(saver, config, crash, capsys, "cluster, RedisSaver")


def test_cluster_wait_replicas() -> None:
    with (
        ClusterServers() as cluster,
        RedisSaver.from_conn_string(
            cluster.url, key_prefix="w", cluster=True, wait_replicas=1
        ) as saver,
    ):
        saver.setup()
        result = build(saver, lambda n: None).invoke(
            {"n": 0}, {"configurable": {"thread_id": "w"}, "recursion_limit": 100}
        )
        assert result == {"n": TOTAL}
        assert len(list(saver.list(None))) >= TOTAL
