"""Every Python snippet of the README runs as pasted, against a private server (only the URL
``redis://localhost:6379/0`` is replaced by the test server's)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

pytestmark = pytest.mark.standalone

README = Path(__file__).resolve().parent.parent / "README.md"
SNIPPETS = [
    textwrap.dedent(body)
    for body in re.findall(
        r"^ *```python\n(.*?)^ *```", README.read_text(encoding="utf-8"), re.S | re.M
    )
]


def test_the_readme_has_snippets() -> None:
    assert len(SNIPPETS) >= 4
    assert all("redis://localhost:6379/0" in s for s in SNIPPETS if "from_conn_string" in s)


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_readme_snippet_runs_as_pasted(
    index: int, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = SNIPPETS[index].replace("redis://localhost:6379/0", redis_url)
    namespace: dict[str, Any] = {"__name__": f"readme_snippet_{index}"}
    try:
        exec(compile(code, f"README.md snippet {index + 1}", "exec", dont_inherit=True), namespace)
    finally:
        client = Redis.from_url(redis_url)
        for key in client.scan_iter(match="aredis:*", count=1000):
            client.delete(key)
        client.close()
    if "print(" in code:
        assert capsys.readouterr().out.strip()
