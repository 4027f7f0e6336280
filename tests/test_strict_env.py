"""LANGGRAPH_STRICT_MSGPACK=true (read by LangGraph at import) with the default serializer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.standalone

SCRIPT = """
import sys
from langgraph.checkpoint.base import empty_checkpoint
from aredis_ckpt import RedisSaver
from serde_types import Ticket

with RedisSaver.from_conn_string(sys.argv[1], key_prefix=sys.argv[2]) as saver:
    saver.setup()
    cp = empty_checkpoint()
    cp["channel_values"] = {"ticket": Ticket(1, "x")}
    cp["channel_versions"] = {"ticket": 1}
    conf = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    stored = saver.put(conf, cp, {}, {"ticket": 1})
    plain = saver.get_tuple(stored).checkpoint["channel_values"]["ticket"]
    allowed = saver.with_allowlist([("serde_types", "Ticket")])
    revived = allowed.get_tuple(stored).checkpoint["channel_values"]["ticket"]
    print(type(plain).__name__, type(revived).__name__, allowed._redis is saver._redis)
"""


def test_strict_mode_blocks_unlisted_types_until_allowlisted(
    redis_url: str, key_prefix: str
) -> None:
    env = {**os.environ, "LANGGRAPH_STRICT_MSGPACK": "true"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, redis_url, key_prefix],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["dict", "Ticket", "True"]
