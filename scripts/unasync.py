#!/usr/bin/env python3
"""Generate the synchronous twins from the async sources, or check that they are current.

    python scripts/unasync.py           # regenerate src/aredis_ckpt/_sync and tests/_sync
    python scripts/unasync.py --check   # exit 1 with a diff on stale, orphaned or bad output

Rules: ``src/aredis_ckpt/_async/`` -> ``src/aredis_ckpt/_sync/`` and ``tests/_async/`` ->
``tests/_sync/``.  Output is formatted with the project's ruff and starts with a header naming
its source.  The generator fails when a substitution in a table is never used (so the tables
cannot rot) and when async-only names survive into the output (``await asyncio.sleep`` would
otherwise become a never-awaited call).
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# This file is called unasync.py: run as a script, its own folder comes first on sys.path and
# `import unasync` would import this very file.  Drop that folder before importing the package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import unasync  # noqa: E402

ROOT = _HERE.parent

# Names of the checkpoint API and of paired helpers; shared by both rules.
COMMON = {
    "AsyncRedisSaver": "RedisSaver",
    "AsyncShallowRedisSaver": "ShallowRedisSaver",
    "AsyncSaverMixin": "SaverMixin",
    "AsyncRedisStore": "RedisStore",
    "AsyncStoreMixin": "StoreMixin",
    "AsyncRedisCache": "RedisCache",
    "AsyncCacheMixin": "CacheMixin",
    "acluster_evalsha": "cluster_evalsha",
    "aconnection_from": "connection_from",
    "aget": "get",
    "aset": "set",
    "aclear": "clear",
    "AsyncRedis": "Redis",
    "AsyncRedisCluster": "RedisCluster",
    "AsyncSentinel": "Sentinel",
    "AsyncLimiter": "Limiter",
    "AsyncScriptRunner": "ScriptRunner",
    "AsyncClusterRouter": "ClusterRouter",
    "ainit_cluster": "init_cluster",
    "anode_connection": "node_connection",
    "anode_release": "node_release",
    "aupgrade": "upgrade",
    "asleep": "sleep",
    "async_default_retry": "default_retry",
    "AsyncWire": "Wire",
    "arelease_surely": "release_surely",
    "AsyncConnectionPool": "ConnectionPool",
    "AsyncBlockingConnectionPool": "BlockingConnectionPool",
    "aget_tuple": "get_tuple",
    "alist": "list",
    "aput": "put",
    "aput_writes": "put_writes",
    "adelete_thread": "delete_thread",
    "acopy_thread": "copy_thread",
    "adelete_for_runs": "delete_for_runs",
    "aprune": "prune",
    "aresume_maintenance": "resume_maintenance",
    "asetup": "setup",
    "aget_delta_channel_history": "get_delta_channel_history",
    "aclose": "close",
    "abatch": "batch",
    "asweep_ttl": "sweep_ttl",
    "aembed_texts": "embed_texts",
    "aembed_queries": "embed_queries",
    "AbstractAsyncContextManager": "AbstractContextManager",
    "aclose_iterator": "close_iterator",
    "anext": "next",
    "acopy_checkpoints": "copy_checkpoints",
    "averify_checkpoints": "verify_checkpoints",
    "AsyncSourceReader": "SourceReader",
    "AsyncReader": "Reader",
    "amake_reader": "make_reader",
    "_AsyncTargetSink": "_TargetSink",
    "_AsyncFileSink": "_FileSink",
    "aexport_threads": "export_threads",
    "aimport_threads": "import_threads",
    "aiter_thread_ids": "iter_thread_ids",
    "athread_summaries": "thread_summaries",
    "aprefix_stats": "prefix_stats",
    "acheckpoint_ids": "checkpoint_ids",
    "acount_checkpoints": "count_checkpoints",
    "acheck_threads": "check_threads",
    "_async": "_sync",
}

RULES: list[tuple[str, str, dict[str, str]]] = [
    ("src/aredis_ckpt/_async", "src/aredis_ckpt/_sync", dict(COMMON)),
    (
        "tests/_async",
        "tests/_sync",
        {
            **COMMON,
            "ainvoke": "invoke",
            "aget_state": "get_state",
            "aget_state_history": "get_state_history",
            "aupdate_state": "update_state",
            "skip_async_interrupts": "skip_sync_interrupts",
            "skip_async_config": "skip_sync_config",
            "asearch": "search",
            "adelete": "delete",
            "alist_namespaces": "list_namespaces",
            "aclear_cache": "clear_cache",
        },
    ),
]

HEADER = (
    "# This file is generated from {source} -- do not change it.\n"
    "# Edit the async source, then run `python scripts/unasync.py`.\n"
)

# Names that must not survive into generated sync code.
LEFTOVER = re.compile(
    r"\b(await|async|asyncio|anyio|aiter|anext|asynccontextmanager|AsyncIterator|"
    r"AsyncGenerator|Sync[A-Z]\w*|Async[A-Z]\w*|a(?:get_tuple|list|put|put_writes|"
    r"delete_thread|copy_thread|delete_for_runs|prune|setup|get_delta_channel_history|"
    r"invoke|stream|get_state|get_state_history|update_state|"
    r"batch|get|search|delete|list_namespaces|sweep_ttl|embed_documents|embed_query|"
    r"release_surely|set|clear|clear_cache|cluster_evalsha|connection_from|check_threads))\b"
)


_FIELDS = re.compile(r"(?<!\{)\{([^{}]*)\}")


class GenerationError(Exception):
    pass


def _sources(fromdir: Path) -> list[Path]:
    return sorted(p for p in fromdir.rglob("*.py") if "__pycache__" not in p.parts)


def _used_names(files: list[Path]) -> set[str]:
    import tokenize_rt

    names: set[str] = set()
    for path in files:
        for tok in tokenize_rt.src_to_tokens(path.read_text(encoding="utf-8")):
            if tok.name == "NAME":
                names.add(tok.src)
    return names


def _strip_code(text: str) -> str:
    """The text without comments, docstrings and string literals (they are not renamed)."""
    import tokenize_rt

    kept = []
    for tok in tokenize_rt.src_to_tokens(text):
        if tok.name == "STRING":
            prefix = re.match(r"[A-Za-z]*", tok.src)
            if prefix and "f" in prefix.group().lower():
                # the replacement fields of an f-string are code (and are not renamed)
                kept.extend(f" {expr} " for expr in _FIELDS.findall(tok.src))
            continue
        if tok.name in ("COMMENT", "FSTRING_MIDDLE"):
            # FSTRING_MIDDLE (Python 3.12+): an f-string's literal text, not code
            continue
        if tok.name in ("FSTRING_START", "FSTRING_END"):
            kept.append(" ")
            continue
        kept.append(tok.src)
    return "".join(kept)


def generate(out_root: Path) -> dict[Path, str]:
    """Generate every rule's output under out_root; return {relative path: text}."""
    results: dict[Path, str] = {}
    used: set[str] = set()
    for fromdir, _, _ in RULES:
        used |= _used_names(_sources(ROOT / fromdir))
    every = set().union(*(table for _, _, table in RULES))
    unused = sorted(every - used)
    if unused:
        raise GenerationError(
            f"substitutions never used by any source: {', '.join(unused)} "
            "(remove them from the tables in scripts/unasync.py)"
        )
    for fromdir, todir, table in RULES:
        src_dir = ROOT / fromdir
        files = _sources(src_dir)
        if not files:
            raise GenerationError(f"no sources under {fromdir}")
        with tempfile.TemporaryDirectory() as tmp:
            tmp_from = Path(tmp) / "x" / "_async"
            tmp_to = Path(tmp) / "x" / "_sync"
            shutil.copytree(src_dir, tmp_from, ignore=shutil.ignore_patterns("__pycache__"))
            copies = [str(tmp_from / f.relative_to(src_dir)) for f in files]
            rule = unasync.Rule(str(tmp_from), str(tmp_to), additional_replacements=table)
            unasync.unasync_files(copies, rules=[rule])
            for f in files:
                rel = f.relative_to(src_dir)
                body = (tmp_to / rel).read_text(encoding="utf-8")
                source = f"{fromdir}/{rel.as_posix()}"
                bad = sorted(set(LEFTOVER.findall(_strip_code(body))))
                if bad:
                    raise GenerationError(
                        f"async-only names left in the sync output of {source}: {', '.join(bad)}"
                        " (use a paired name from aredis_ckpt._compat, or add a substitution)"
                    )
                target = out_root / todir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(HEADER.format(source=source) + body, encoding="utf-8")
                results[Path(todir) / rel] = ""
    _format(out_root, sorted(results))
    for rel in results:
        results[rel] = (out_root / rel).read_text(encoding="utf-8")
    return results


def _format(out_root: Path, rels: list[Path]) -> None:
    ruff = shutil.which(
        "ruff", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    )
    if ruff is None:
        raise GenerationError("ruff is needed to format generated code: pip install -e '.[dev]'")
    paths = [str(out_root / r) for r in rels]
    config = ["--config", str(ROOT / "pyproject.toml")]
    subprocess.run([ruff, "check", "--fix-only", "--quiet", *config, *paths], check=False, cwd=ROOT)
    subprocess.run([ruff, "format", "--quiet", *config, *paths], check=True, cwd=ROOT)


def _existing_outputs() -> set[Path]:
    found: set[Path] = set()
    for _, todir, _ in RULES:
        for p in (ROOT / todir).rglob("*.py"):
            if "__pycache__" not in p.parts:
                found.add(p.relative_to(ROOT))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail on stale or orphaned output")
    opts = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            fresh = generate(Path(tmp))
        except GenerationError as exc:
            print(f"unasync: {exc}", file=sys.stderr)
            return 2
    existing = _existing_outputs()
    orphans = sorted(existing - set(fresh))
    if opts.check:
        problems = 0
        for rel, text in sorted(fresh.items()):
            path = ROOT / rel
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != text:
                problems += 1
                sys.stdout.writelines(
                    difflib.unified_diff(
                        current.splitlines(keepends=True),
                        text.splitlines(keepends=True),
                        f"{rel} (committed)",
                        f"{rel} (generated)",
                    )
                )
        for rel in orphans:
            problems += 1
            print(f"orphaned generated file (its async source is gone): {rel}")
        if problems:
            print(
                f"unasync --check: {problems} generated file(s) out of date; "
                "run `python scripts/unasync.py`",
                file=sys.stderr,
            )
            return 1
        print(f"unasync --check: {len(fresh)} generated file(s) up to date")
        return 0
    for rel, text in fresh.items():
        path = ROOT / rel
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {rel}")
    for rel in orphans:
        (ROOT / rel).unlink()
        print(f"removed orphan {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
