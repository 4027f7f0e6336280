"""``list({})`` lists every thread, as InMemorySaver's and PostgresSaver's do (both test the
config for truth: ``if config:``).  Written once; scripts/unasync.py generates the sync twin.
"""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from aredis_ckpt import AsyncRedisSaver

from .test_saver import cfg, make_checkpoint, md


async def chains(saver: Any) -> None:
    """The same checkpoints (same ids) in every saver: two threads, two namespaces."""
    n = 0
    for thread_id, ns, length, user in (
        ("a", "", 3, "u1"),
        ("b", "", 2, "u2"),
        ("b", "c", 2, "u1"),
    ):
        parent = None
        for step in range(length):
            n += 1
            cp = make_checkpoint({"count": step}, {"count": step + 1})
            cp["id"] = f"00000000-0000-0000-0000-{n:012d}"
            stored = await saver.aput(
                cfg(thread_id, ns, parent), cp, md(step, user=user), {"count": step + 1}
            )
            parent = stored["configurable"]["checkpoint_id"]


async def seen(saver: Any, config: Any, **kwargs: Any) -> list[tuple[str, str, str]]:
    found = [t async for t in saver.alist(config, **kwargs)]
    return sorted(
        (
            t.config["configurable"]["thread_id"],
            t.config["configurable"]["checkpoint_ns"],
            t.checkpoint["id"],
        )
        for t in found
    )


async def test_empty_config_lists_every_thread_like_in_memory_saver(
    saver: AsyncRedisSaver,
) -> None:
    model = InMemorySaver()
    for target in (saver, model):
        await chains(target)
    everything = await seen(model, {})
    assert len(everything) == 7
    assert await seen(saver, {}) == everything
    assert await seen(saver, None) == everything
    for kwargs in ({"filter": {"user": "u1"}}, {"filter": {"user": "nobody"}}):
        assert await seen(saver, {}, **kwargs) == await seen(model, {}, **kwargs)
    middle = {"configurable": {"checkpoint_id": everything[3][2]}}
    assert await seen(saver, {}, before=middle) == await seen(model, {}, before=middle)
    assert len([t async for t in saver.alist({}, limit=4)]) == 4


async def test_configs_without_a_thread_are_still_refused(saver: AsyncRedisSaver) -> None:
    for config in ({"configurable": {}}, {"configurable": {"checkpoint_ns": ""}}):
        with pytest.raises(ValueError, match="thread_id"):
            [t async for t in saver.alist(config)]
    with pytest.raises(ValueError, match="configurable"):
        [t async for t in saver.alist({"tags": ["x"]})]
