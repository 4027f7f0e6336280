"""How the saver's Lua scripts are assembled (aredis_ckpt._scripts): each gets the helpers of
lua/lib.lua (and lua/damage.lua) that it names, directly or through another helper, and no
others, since Redis runs a script's whole source on every call."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from aredis_ckpt._scripts import SCRIPTS, helpers, used_helpers

LUA = resources.files("aredis_ckpt") / "lua"
LIB = (LUA / "lib.lua").read_bytes() + b"\n" + (LUA / "damage.lua").read_bytes()
IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


def defined_in(source: bytes) -> set[bytes]:
    return {n for names, _ in helpers(source) for n in names}


def test_every_helper_of_the_library_is_seen() -> None:
    # the parser sees each top-level definition once, and everything of the file
    parts = helpers(LIB)
    names = [n for defined, _ in parts for n in defined]
    assert len(names) == len(set(names))
    assert set(re.findall(rb"^local function ([A-Za-z_]\w*)", LIB, re.M)) <= set(names)
    code = b"".join(text for _, text in parts)
    assert code.count(b"\nend") == LIB.count(b"\nend")


@pytest.mark.parametrize("script", SCRIPTS.all(), ids=lambda s: s.name)
def test_a_script_defines_every_helper_it_names(script: object) -> None:
    source: bytes = script.source  # type: ignore[attr-defined]
    body = (LUA / f"{script.name}.lua").read_bytes()  # type: ignore[attr-defined]
    prelude = source[: len(source) - len(body)]
    kept = defined_in(prelude)
    every = defined_in(LIB)
    # every library name that appears anywhere in the script is defined in it
    assert set(IDENT.findall(source)) & every <= kept
    # and the prelude is the library's text, in its order, minus whole definitions
    it = iter(text for _, text in helpers(LIB))
    for _, text in helpers(prelude):
        assert any(text == other for other in it)


def test_scripts_carry_only_what_they_use() -> None:
    # put_writes needs four of the library's ~37 definitions: the others would cost every
    # call server time
    body = (LUA / "put_writes.lua").read_bytes()
    prelude = SCRIPTS.put_writes.source[: -len(body)]
    assert [sorted(names) for names, _ in helpers(prelude)] == [
        [b"NUL"],
        sorted(b"K_T K_N K_C K_M K_V K_I K_J K_W K_WX K_R".split()),
        [b"writes_prefix"],
        [b"touch"],
    ]
    assert b"local function drop_checkpoint" in SCRIPTS.put.source  # its shallow branch


def test_unknown_library_layout_is_refused() -> None:
    with pytest.raises(ValueError, match="unexpected top-level line"):
        helpers(b"local function f()\n  return 1\nend\nredis.call('SET', 'x', 1)\n")
    with pytest.raises(ValueError, match="no 'end'"):
        helpers(b"local function f()\n  return 1\n")
    with pytest.raises(ValueError, match="unexpected top-level line"):
        helpers(b"local T = {\n  1,\n}\n")
    # comments and blank lines belong to the next definition; a name in a comment keeps it
    lib = b"-- f doubles\nlocal function f(x)\n  return 2 * x\nend\n\nlocal G = 3\n"
    assert (
        used_helpers(lib, b"return f(1)")
        == b"-- f doubles\nlocal function f(x)\n  return 2 * x\nend\n"
    )
    assert used_helpers(lib, b"-- G\nreturn 1") == b"\nlocal G = 3\n"
    assert used_helpers(lib, b"return 1") == b""
