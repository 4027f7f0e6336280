"""Operator guard rails: what ``setup()`` checks in the server's configuration.

Pure: ``_async/server_facts.py`` reads the facts (``INFO memory``, ``INFO persistence``,
``CONFIG GET save``, ``CONFIG GET proto-max-bulk-len``); this module judges them, warns once
per (server, key prefix, finding) per process, or raises ``ServerConfigError`` with
``strict_server=True``.  What cannot be read (ACLs, managed services that rename ``CONFIG``)
is logged at DEBUG and skipped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import OutOfMemoryError, ResponseError

from aredis_ckpt.errors import ServerConfigError

__all__ = [
    "FACT_NAMES",
    "ServerFacts",
    "facts_from_replies",
    "is_out_of_memory",
    "judge",
    "report",
    "server_label",
]

logger = logging.getLogger("aredis_ckpt")

# What the reader asks each server, in this order.
FACT_NAMES = ("INFO memory", "INFO persistence", "CONFIG GET save", "CONFIG GET proto-max-bulk-len")

_warned: set[tuple[str, str, str, str]] = set()
_warned_lock = threading.Lock()


@dataclass
class ServerFacts:
    """What one server (one primary of a cluster) told us; None: could not be read."""

    server: str
    maxmemory: int | None = None
    policy: str | None = None
    aof: bool | None = None
    save: str | None = None
    bulk_limit: int | None = None
    unreadable: list[str] = field(default_factory=list)


def server_label(client: Any) -> str:
    """How log lines and errors name the server a (non-cluster) client talks to."""
    pool = getattr(client, "connection_pool", None)
    service = getattr(pool, "service_name", None)
    if service:
        return f"the primary of Sentinel service {service!r}"
    kwargs: Mapping[str, Any] = getattr(pool, "connection_kwargs", None) or {}
    if kwargs.get("path"):
        return f"unix:{kwargs['path']}"
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"


def _field(reply: Any, name: str) -> Any:
    if not isinstance(reply, Mapping):
        return None
    value = reply.get(name)
    return value.decode() if isinstance(value, bytes) else value


def facts_from_replies(server: str, replies: Sequence[Any]) -> ServerFacts:
    """The facts of one server from the replies (or exceptions) to ``FACT_NAMES``."""
    facts = ServerFacts(server)
    memory, persistence, save, bulk = replies
    for name, reply in zip(FACT_NAMES, replies, strict=True):
        if isinstance(reply, Exception):
            facts.unreadable.append(f"{name} ({reply})")
    policy = _field(memory, "maxmemory_policy")
    if policy is not None:
        facts.policy = str(policy)
        facts.maxmemory = int(_field(memory, "maxmemory") or 0)
    aof = _field(persistence, "aof_enabled")
    if aof is not None:
        facts.aof = bool(int(aof))
    save_value = _field(save, "save")
    if save_value is not None:
        facts.save = str(save_value).strip()
    bulk_value = _field(bulk, "proto-max-bulk-len")
    if bulk_value is not None:
        facts.bulk_limit = int(bulk_value)
    return facts


def _evicts(policy: str, expiring_keys: bool) -> bool:
    # noeviction evicts nothing; volatile-* only keys with an expiry; allkeys-* (and any
    # policy this code does not know) any key
    if policy == "noeviction":
        return False
    if policy.startswith("volatile-"):
        return expiring_keys
    return True


def judge(facts: ServerFacts, expiring_keys: bool) -> list[tuple[str, str]]:
    """The findings about one server: ``(kind, message)``; ``expiring_keys`` says whether our
    keys carry an expiry (a saver with a ``ttl``), which volatile-* policies may evict."""
    found: list[tuple[str, str]] = []
    if facts.policy is not None and _evicts(facts.policy, expiring_keys):
        limit = (
            f"maxmemory is {facts.maxmemory} bytes"
            if facts.maxmemory
            else "maxmemory is 0 (unlimited) for now, so nothing is evicted until it is set"
        )
        keys = (
            "keys with an expiry (ours have one: ttl is set)"
            if facts.policy.startswith("volatile-")
            else "any key"
        )
        found.append(
            (
                "eviction",
                f"{facts.server} has maxmemory-policy {facts.policy}, which evicts {keys} when "
                f"memory runs out ({limit}): threads would lose records one key at a time. "
                "Use maxmemory-policy noeviction (writes then fail with an out-of-memory error "
                "instead) and size maxmemory for the data",
            )
        )
    if facts.aof is False and facts.save == "":
        found.append(
            (
                "persistence",
                f"{facts.server} has no persistence (no RDB save points, appendonly no): a "
                "restart loses every checkpoint. Enable appendonly yes (or RDB save points) "
                "unless losing them is acceptable",
            )
        )
    return found


def report(
    facts_list: Sequence[ServerFacts],
    *,
    who: str,
    prefix: str,
    expiring_keys: bool,
    strict: bool,
) -> None:
    """Log what could not be checked (DEBUG), then warn once per (server, prefix, finding)
    per process, or raise ``ServerConfigError`` naming every finding when ``strict``."""
    problems: list[str] = []
    for facts in facts_list:
        for what in facts.unreadable:
            logger.debug(
                "%s setup: could not read %s from %s; that guard-rail check is skipped",
                who,
                what,
                facts.server,
            )
        if facts.aof is False and facts.save is None:
            logger.debug(
                "%s setup: %s has appendonly off and its RDB save points could not be read; "
                "persistence not checked",
                who,
                facts.server,
            )
        for kind, message in judge(facts, expiring_keys):
            if strict:
                problems.append(message)
                continue
            key = (who, facts.server, prefix, kind)
            with _warned_lock:
                if key in _warned:
                    continue
                _warned.add(key)
            logger.warning("%s under key prefix %r: %s", who, prefix, message)
    if problems:
        raise ServerConfigError(
            f"{who} under key prefix {prefix!r} refuses this server (strict_server=True): "
            + "; ".join(problems)
        )


def is_out_of_memory(exc: ResponseError) -> bool:
    """Whether the server refused a write for lack of memory.

    Redis 7+ keeps the ``OOM`` code of an error raised inside a script (redis-py maps it to
    ``OutOfMemoryError``); Redis 6.2 wraps it: ``Error running script ... -OOM command not
    allowed when used memory > 'maxmemory'``.
    """
    return isinstance(exc, OutOfMemoryError) or "OOM command not allowed" in str(exc)
