"""Commands as data: what a saver call sends, built without I/O and routed by ``_async``.

A ``ScriptCall`` is the keys and arguments of one EVALSHA; a ``Command`` is any command with the
key that routes it (the node serving that key's slot on a cluster) and, for EVALSHA, the
script to load on NOSCRIPT.  Several commands go out as one batch: one pipeline per node, all
of them sent before any reply is read, so a batch costs one round trip whatever the number of
nodes it touches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aredis_ckpt._scripts import LuaScript

__all__ = ["Arg", "Command", "ScriptCall", "checked", "evalsha"]

Arg = bytes | str | int | float


@dataclass
class ScriptCall:
    """Keys and arguments of one EVALSHA."""

    keys: Sequence[bytes]
    args: Sequence[Arg]


@dataclass(frozen=True)
class Command:
    """One command of a batch.

    ``key`` routes it (every key of a command shares one slot); ``script`` is the script an
    EVALSHA runs, loaded on the command's node when the node answers NOSCRIPT.
    """

    args: tuple[Arg, ...]
    key: bytes
    script: LuaScript | None = None
    call: ScriptCall | None = None


def evalsha(script: LuaScript, call: ScriptCall) -> Command:
    """The EVALSHA of ``call`` as a batch command (routed by its first key)."""
    return Command(
        ("EVALSHA", script.sha, len(call.keys), *call.keys, *call.args),
        call.keys[0],
        script,
        call,
    )


def checked(replies: list[Any]) -> list[Any]:
    """The replies of a batch, or the first error among them raised."""
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return replies
