"""The scripts in ``examples/`` run end to end against the suite's private server.

Each example reproduces a variant of LangGraph's Redis checkpointer notebooks (sync or async,
on a connection pool or on a client passed in): a ReAct agent with the ``get_weather`` tool and
a deterministic fake chat model.  Each run gets ``REDIS_URL`` pointing at the private server,
must answer with the tool's result, print a non-empty history, leave its pool/client usable,
and leave the thread in Redis where a fresh saver can read it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.runnables import RunnableConfig

from aredis_ckpt import RedisSaver

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# script -> (the question's city, the tool's answer for it)
EXPECTED = {
    "sync_connection_pool.py": "It's always sunny in sf",
    "sync_client.py": "It's always sunny in sf",
    "async_connection_pool.py": "It might be cloudy in nyc",
    "async_client.py": "It might be cloudy in nyc",
}

pytestmark = pytest.mark.standalone


def _run(script: str, env_url: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    if env_url is not None:
        env["REDIS_URL"] = env_url
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_every_example_is_covered() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(EXPECTED)


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_runs_against_redis(script: str, redis_url: str) -> None:
    done = _run(script, redis_url)
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    out = done.stdout
    answer = EXPECTED[script]

    thread = re.search(r"^thread_id: (\S+)$", out, re.M)
    assert thread, out
    assert re.search(rf"^answer: .*{re.escape(answer)}", out, re.M), out
    # the latest checkpoint and the latest tuple were printed
    assert "== latest checkpoint (saver.get) ==" in out
    assert f"tool [get_weather]: {answer}" in out
    assert "== latest tuple (saver.get_tuple) ==" in out
    assert re.search(r"^  metadata: source=loop step=\d+$", out, re.M), out
    # the listed history: a count, then one line per checkpoint, newest (most messages) first
    history = re.search(r"^== history \(saver\.list\): (\d+) checkpoints ==$", out, re.M)
    assert history and int(history.group(1)) > 0, out
    rows = re.findall(r"^  step +(-?\d+) (\w+) +(\S+) messages=(\d+)$", out, re.M)
    assert len(rows) == int(history.group(1))
    steps = [int(r[0]) for r in rows]
    assert steps == sorted(steps, reverse=True) and steps[-1] == -1
    assert "still usable after the saver closed: yes" in out
    assert "Traceback" not in done.stderr, done.stderr

    # the thread is really in Redis: a fresh saver reads the same conversation
    with RedisSaver.from_conn_string(redis_url) as saver:
        config: RunnableConfig = {"configurable": {"thread_id": thread.group(1)}}
        tup = saver.get_tuple(config)
        assert tup is not None
        messages = tup.checkpoint["channel_values"]["messages"]
        assert [type(m).__name__ for m in messages] == [
            "HumanMessage",
            "AIMessage",
            "ToolMessage",
            "AIMessage",
        ]
        assert isinstance(messages[1], AIMessage) and messages[1].tool_calls[0]["name"] == (
            "get_weather"
        )
        assert isinstance(messages[2], ToolMessage) and messages[2].content == answer
        assert answer in str(messages[3].content)
        listed = [t.config["configurable"]["checkpoint_id"] for t in saver.list(config)]
        assert listed == [r[2] for r in rows]
        saver.delete_thread(thread.group(1))


@pytest.mark.parametrize(
    ("script", "value"),
    [(script, None) for script in sorted(EXPECTED)]
    + [("sync_client.py", ""), ("async_client.py", "  ")],
)
def test_example_without_redis_url_says_so(script: str, value: str | None) -> None:
    done = _run(script, value)
    report = f"rc={done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode != 0, report
    assert "REDIS_URL is not set" in done.stderr, report
    assert "Traceback" not in done.stderr, report
    assert done.stdout == "", report
