"""The generated sync code is current, and the generator refuses what would silently break."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "unasync.py"


def _load_generator() -> object:
    spec = importlib.util.spec_from_file_location("aredis_unasync_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_code_is_current() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_generated_files_carry_the_do_not_edit_header() -> None:
    for path in [
        *(ROOT / "src/aredis_ckpt/_sync").glob("*.py"),
        *(ROOT / "tests/_sync").glob("*.py"),
    ]:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert "generated from" in first and "do not change" in first, path


def test_leftover_async_names_are_rejected() -> None:
    gen = _load_generator()
    leftover = gen.LEFTOVER  # type: ignore[attr-defined]
    strip = gen._strip_code  # type: ignore[attr-defined]
    # what a plain token rewrite makes of `await asyncio.sleep(1)`: a never-awaited call
    assert leftover.findall(strip("asyncio.sleep(1)\n")) == ["asyncio"]
    assert leftover.findall(strip("x = SyncThing()\n")) == ["SyncThing"]
    assert leftover.findall(strip("saver.aget_tuple(c)\n")) == ["aget_tuple"]
    assert leftover.findall(strip("store.asearch(ns)\nstore.aget(ns, k)\n")) == ["asearch", "aget"]
    assert leftover.findall(strip("store.get(ns, k)\n")) == []
    # unasync does not rename inside f-strings (one token before Python 3.12)
    assert leftover.findall(strip('f"{AsyncRedis.__module__}"\n')) == ["AsyncRedis"]
    # words in docstrings and comments are not code
    assert leftover.findall(strip('"""await the asyncio loop"""  # async\n')) == []


def test_unused_substitution_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gen = _load_generator()
    rules = gen.RULES  # type: ignore[attr-defined]
    src, dst, table = rules[0]
    monkeypatch.setattr(gen, "RULES", [(src, dst, {**table, "NeverUsedName": "Other"})])
    with pytest.raises(gen.GenerationError, match="NeverUsedName"):  # type: ignore[attr-defined]
        gen.generate(tmp_path)  # type: ignore[attr-defined]


def test_script_imports_the_package_not_itself() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT / "scripts",
    )
    assert done.returncode == 0, done.stderr
