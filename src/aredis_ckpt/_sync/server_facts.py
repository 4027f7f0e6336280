# This file is generated from src/aredis_ckpt/_async/server_facts.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""Reading the server settings ``setup()`` checks (judged by ``aredis_ckpt._guards``).

Written once; ``scripts/unasync.py`` generates the synchronous twin.  One pipeline per server
(on a cluster: per primary); a command the server refuses (ACLs, a renamed ``CONFIG``) comes
back as its error in place of the reply, and only that check is skipped.
"""

from __future__ import annotations

from typing import Any

from redis.exceptions import ResponseError

from aredis_ckpt._compat import Redis, RedisCluster
from aredis_ckpt._guards import ServerFacts, facts_from_replies, server_label

__all__ = ["read_server_facts"]

# The commands of aredis_ckpt._guards.FACT_NAMES, as client methods.
_COMMANDS = (
    ("info", "memory"),
    ("info", "persistence"),
    ("config_get", "save"),
    ("config_get", "proto-max-bulk-len"),
)


def read_server_facts(client: Redis | RedisCluster) -> list[ServerFacts]:
    """The facts of the server behind ``client`` (of every primary of a cluster)."""
    if isinstance(client, RedisCluster):
        found = []
        primaries = client.get_primaries()
        if not primaries:  # an asyncio cluster client learns its nodes on its first command
            client.ping()
            primaries = client.get_primaries()
        for node in primaries:
            replies: list[Any] = []
            for method, arg in _COMMANDS:
                call: Any = getattr(client, method)
                try:
                    replies.append(call(arg, target_nodes=node))
                except ResponseError as exc:
                    replies.append(exc)
            found.append(facts_from_replies(node.name, replies))
        return found
    pipe = client.pipeline(transaction=False)
    for method, arg in _COMMANDS:
        getattr(pipe, method)(arg)
    return [facts_from_replies(server_label(client), pipe.execute(raise_on_error=False))]
