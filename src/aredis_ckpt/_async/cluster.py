"""Commands routed on a Redis Cluster by the savers themselves: one pipeline per node, in parallel.

Written once; ``scripts/unasync.py`` generates the synchronous twin.  redis-py's cluster
pipelines work out each command's keys by asking a server (``COMMAND GETKEYS``, one hidden
round trip per command with the sync client); here every command names its routing key, its
slot comes from the client's slot table, and each node's commands are packed into one send.
Every node's send goes out before any reply is read, so a batch costs one round trip however
many nodes it touches.

A reply ``MOVED`` (resharding, failover) refreshes the slot table and resends the command;
``ASK`` resends it to the importing node after ``ASKING``; ``NOSCRIPT`` loads the script on that
node; ``TRYAGAIN``, ``CLUSTERDOWN``, ``READONLY`` and dropped connections back off, refresh the
table and resend, up to the client's retry count.  Every command the savers send is
idempotent, so a resent command can never apply twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.crc import key_slot
from redis.exceptions import (
    AskError,
    ClusterDownError,
    ConnectionError,
    MovedError,
    NoScriptError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    ResponseError,
    TimeoutError,
    TryAgainError,
)

from aredis_ckpt._base import logger
from aredis_ckpt._commands import Command
from aredis_ckpt._compat import (
    AsyncRedisCluster,
    ainit_cluster,
    anode_connection,
    anode_release,
    asleep,
)

__all__ = ["AsyncClusterRouter", "BatchResult"]

DEFAULT_RETRIES = 3
# Resends that do not count as failures (NOSCRIPT loads, ASK redirections) are capped too.
MAX_REDIRECTS = 16
_RESEND = (MovedError, AskError, NoScriptError, TryAgainError, ClusterDownError, ReadOnlyError)


@dataclass
class BatchResult:
    """Replies in command order (an error reply as its exception) and, with ``wait``, the
    fewest replicas any touched node reported for ``WAIT``."""

    replies: list[Any]
    acked: int | None = None


class AsyncClusterRouter:
    """Sends batches of commands to the nodes serving their keys."""

    __slots__ = ("_client", "_retries")

    def __init__(self, client: AsyncRedisCluster) -> None:
        self._client = client
        retry = getattr(client, "retry", None)
        get_retries = getattr(retry, "get_retries", None)
        self._retries = int(get_retries()) if get_retries is not None else DEFAULT_RETRIES

    async def run(
        self, commands: Sequence[Command], wait: tuple[int, int] | None = None
    ) -> BatchResult:
        """Send ``commands`` (with ``wait`` = (replicas, timeout ms): then ``WAIT`` on every
        node touched) and collect the replies."""
        result = BatchResult([None] * len(commands))
        todo = list(range(len(commands)))
        asking: dict[int, Any] = {}
        failures = redirects = 0
        while True:
            await ainit_cluster(self._client)
            groups: dict[str, tuple[Any, list[int]]] = {}
            unrouted: dict[int, BaseException] = {}
            for i in todo:
                try:
                    node = asking.get(i) or self._node(commands[i].key)
                except RedisClusterException as exc:  # a slot no master serves (failover)
                    unrouted[i] = exc
                    continue
                groups.setdefault(node.name, (node, []))[1].append(i)
            broken = await self._exchange(commands, groups, asking, wait, result)
            broken.update(unrouted)
            where = {i: node for node, ids in groups.values() for i in ids}
            again: list[int] = []
            refresh = backoff = False
            last: BaseException | None = None
            loaded: set[tuple[str, str]] = set()
            for i in todo:
                reply = result.replies[i]
                if i in broken:
                    again.append(i)
                    refresh = backoff = True
                    last = broken[i]
                    continue
                asking.pop(i, None)
                if not isinstance(reply, _RESEND):
                    continue
                again.append(i)
                last = reply
                node, script = where[i], commands[i].script
                if isinstance(reply, NoScriptError) and script is not None:
                    if (node.name, script.sha) not in loaded:
                        logger.debug("NOSCRIPT for %s on %s: loading it", script.name, node.name)
                        await self._node_command(node, "SCRIPT", "LOAD", script.source)
                        loaded.add((node.name, script.sha))
                        redirects += 1
                elif isinstance(reply, MovedError):
                    refresh = True
                elif isinstance(reply, AskError):
                    target = self._client.nodes_manager.get_node(host=reply.host, port=reply.port)
                    if target is None:
                        refresh = True
                    else:
                        asking[i] = target
                        redirects += 1
                else:  # TRYAGAIN, CLUSTERDOWN, READONLY: wait for the cluster to settle
                    refresh = backoff = True
            if not again:
                return result
            if refresh or backoff:
                failures += 1
            if failures > self._retries or redirects > MAX_REDIRECTS:
                if isinstance(last, (ConnectionError, TimeoutError, RedisClusterException)):
                    raise last
                return result  # the error replies stand; the caller raises them
            if backoff:
                await asleep(min(1.0, 0.05 * 2 ** (failures - 1)))
            if refresh:
                logger.debug("cluster: refreshing the slot table (%r)", last)
                try:
                    await self._client.nodes_manager.initialize()
                except (RedisError, RedisClusterException) as exc:  # no node answers yet
                    logger.debug("cluster: slot table refresh failed: %r", exc)
            todo = again

    def _node(self, key: bytes) -> Any:
        return self._client.nodes_manager.get_node_from_slot(key_slot(key))

    async def _exchange(
        self,
        commands: Sequence[Command],
        groups: dict[str, tuple[Any, list[int]]],
        asking: dict[int, Any],
        wait: tuple[int, int] | None,
        result: BatchResult,
    ) -> dict[int, BaseException]:
        """One round trip: every node's pipeline sent, then every reply read.  Returns the
        commands whose node connection failed (their replies are unknown)."""
        broken: dict[int, BaseException] = {}
        sent: list[tuple[Any, Any, list[int]]] = []
        try:
            for node, ids in groups.values():
                try:  # a sync pool connects here
                    conn = await anode_connection(node)
                except (ConnectionError, TimeoutError) as exc:
                    broken.update(dict.fromkeys(ids, exc))
                    continue
                sent.append((node, conn, ids))
                packed: list[tuple[Any, ...]] = []
                for i in ids:
                    if i in asking:
                        packed.append(("ASKING",))
                    packed.append(commands[i].args)
                if wait is not None:
                    packed.append(("WAIT", *wait))
                try:
                    await conn.send_packed_command(conn.pack_commands(packed))
                except (ConnectionError, TimeoutError) as exc:
                    await conn.disconnect()
                    broken.update(dict.fromkeys(ids, exc))
            for _node, conn, ids in sent:
                if ids[0] in broken:
                    continue
                try:
                    await self._read(conn, ids, asking, wait, result)
                except (ConnectionError, TimeoutError) as exc:
                    await conn.disconnect()
                    broken.update(dict.fromkeys(ids, exc))
        except BaseException:
            # cancelled or failed in the middle of a reply: no connection may carry it on
            for _node, conn, _ in sent:
                await conn.disconnect()
            raise
        finally:
            for node, conn, _ in sent:
                await anode_release(node, conn)
        return broken

    @staticmethod
    async def _read(
        conn: Any,
        ids: list[int],
        asking: dict[int, Any],
        wait: tuple[int, int] | None,
        result: BatchResult,
    ) -> None:
        for i in ids:
            if i in asking:
                with contextlib.suppress(ResponseError):
                    await conn.read_response()
            try:
                result.replies[i] = await conn.read_response()
            except ResponseError as exc:
                result.replies[i] = exc
        if wait is not None:
            acked = int(await conn.read_response())
            result.acked = acked if result.acked is None else min(result.acked, acked)

    async def _node_command(self, node: Any, *args: Any) -> Any:
        conn = await anode_connection(node)
        try:
            await conn.send_packed_command(conn.pack_command(*args))
            return await conn.read_response()
        except BaseException:
            await conn.disconnect()
            raise
        finally:
            await anode_release(node, conn)
