"""Connection URLs the savers accept, checked before any connection is made.

``redis://``, ``rediss://`` and ``unix://`` go to redis-py's ``from_url``;
``redis+sentinel://[user:password@]host[:port][,host[:port]...]/service_name[/db]`` (and
``rediss+sentinel://``) names Sentinel nodes, the monitored service and the database, as
``langgraph-checkpoint-redis`` documents it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = ["SentinelURL", "mask_url", "parse_url"]

PLAIN_SCHEMES = ("redis", "rediss", "unix")
SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
DEFAULT_SENTINEL_PORT = 26379


@dataclass(frozen=True)
class SentinelURL:
    hosts: tuple[tuple[str, int], ...]
    service: str
    db: int
    username: str | None
    password: str | None
    ssl: bool


def mask_url(url: str) -> str:
    """The URL to show in messages: no credentials, query or fragment."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rpartition("@")[2]
    rest = rest.split("?")[0].split("#")[0]
    return f"{scheme}{sep}{rest}" if sep else "<not a URL>"


def _bad(url: str, why: str) -> ValueError:
    # Never echo credentials: drop everything up to the last '@' and any query or fragment.
    return ValueError(f"invalid Redis URL {mask_url(url)!r}: {why}")


def _host_port(url: str, item: str) -> tuple[str, int]:
    if item.startswith("["):  # [IPv6]:port
        host, sep, rest = item[1:].partition("]")
        if not sep:
            raise _bad(url, f"unclosed '[' in host {item!r}")
        port_text = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            raise _bad(url, f"unexpected text after IPv6 host in {item!r}")
    else:
        host, _, port_text = item.partition(":")
    if not host:
        raise _bad(url, f"empty host in {item!r}")
    if not port_text:
        return host, DEFAULT_SENTINEL_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise _bad(url, f"port {port_text!r} of {host!r} is not a number from 1 to 65535")
    return host, int(port_text)


def parse_url(url: str) -> SentinelURL | None:
    """Validate a connection URL; return the Sentinel parts for a ``*+sentinel`` URL."""
    if not isinstance(url, str) or not url:
        raise ValueError(f"a Redis URL must be a non-empty str, got {url!r}")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if "@" in parts.path or "@" in parts.query or "@" in parts.fragment:
        raise _bad(
            url,
            "an '@' outside the host part: percent-encode '/', '?', '#' and '@' in the "
            "username and password",
        )
    if scheme in ("redis", "rediss"):
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) > 1 or (segments and not segments[0].isdigit()):
            raise _bad(url, "the path must be empty or /<database number>")
        return None
    if scheme in PLAIN_SCHEMES:
        return None
    if scheme not in SENTINEL_SCHEMES:
        raise _bad(
            url,
            "the scheme must be one of redis://, rediss://, unix://, redis+sentinel:// or "
            "rediss+sentinel://",
        )
    creds, at, hostlist = parts.netloc.rpartition("@")
    if not hostlist:
        raise _bad(url, "no Sentinel host (redis+sentinel://host:26379/service_name/db)")
    hosts = tuple(_host_port(url, h) for h in hostlist.split(","))
    username: str | None = None
    password: str | None = None
    if at:
        user, has_pw, pw = creds.partition(":")
        username = unquote(user) or None
        password = unquote(pw) if has_pw else None
    if parts.query or parts.fragment:
        raise _bad(url, "query parameters are not read from a Sentinel URL: pass connection_args")
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        raise _bad(url, "no service name (redis+sentinel://host:26379/service_name/db)")
    if len(segments) > 2:
        raise _bad(url, "the path must be /service_name or /service_name/db")
    db = 0
    if len(segments) == 2:
        if not segments[1].isdigit():
            raise _bad(url, f"database {segments[1]!r} is not a number")
        db = int(segments[1])
    return SentinelURL(
        hosts, unquote(segments[0]), db, username, password, scheme.startswith("rediss")
    )
