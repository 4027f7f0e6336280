"""The README's node-cache example runs as printed, against the suite's private server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"

pytestmark = pytest.mark.standalone


def _example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Node cache") :]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "no python block in the README's node-cache section"
    return found.group(1)


def test_readme_cache_example_runs(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    code = compile(_example(), "README.md (node cache example)", "exec")
    for _ in range(2):  # run as a script twice: the second run starts from a cleared cache
        exec(code, {"__name__": "__main__"})
        lines = capsys.readouterr().out.splitlines()
        assert lines[:3] == ["{'question': 'why redis?', 'answer': 'WHY REDIS?'}"] * 3
        assert lines[3:] == ["the node ran 1 time(s)", "after clear_cache: 2"]
