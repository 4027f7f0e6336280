# This file is generated from tests/_async/test_list_all.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""``list({})`` lists every thread, as InMemorySaver's and PostgresSaver's do (both test the
config for truth: ``if config:``).  Written once; scripts/unasync.py generates the sync twin.
"""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from aredis_ckpt import RedisSaver

from .test_saver import cfg, make_checkpoint, md


def chains(saver: Any) -> None:
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
            stored = saver.put(
                cfg(thread_id, ns, parent), cp, md(step, user=user), {"count": step + 1}
            )
            parent = stored["configurable"]["checkpoint_id"]


def seen(saver: Any, config: Any, **kwargs: Any) -> list[tuple[str, str, str]]:
    found = [t for t in saver.list(config, **kwargs)]
    return sorted(
        (
            t.config["configurable"]["thread_id"],
            t.config["configurable"]["checkpoint_ns"],
            t.checkpoint["id"],
        )
        for t in found
    )


def test_empty_config_lists_every_thread_like_in_memory_saver(
    saver: RedisSaver,
) -> None:
    model = InMemorySaver()
    for target in (saver, model):
        chains(target)
    everything = seen(model, {})
    assert len(everything) == 7
    assert seen(saver, {}) == everything
    assert seen(saver, None) == everything
    for kwargs in ({"filter": {"user": "u1"}}, {"filter": {"user": "nobody"}}):
        assert seen(saver, {}, **kwargs) == seen(model, {}, **kwargs)
    middle = {"configurable": {"checkpoint_id": everything[3][2]}}
    assert seen(saver, {}, before=middle) == seen(model, {}, before=middle)
    assert len([t for t in saver.list({}, limit=4)]) == 4


def test_configs_without_a_thread_are_still_refused(saver: RedisSaver) -> None:
    for config in ({"configurable": {}}, {"configurable": {"checkpoint_ns": ""}}):
        with pytest.raises(ValueError, match="thread_id"):
            [t for t in saver.list(config)]
    with pytest.raises(ValueError, match="configurable"):
        [t for t in saver.list({"tags": ["x"]})]
