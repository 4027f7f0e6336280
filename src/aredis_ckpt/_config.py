"""Option types shared by both savers."""

from __future__ import annotations

from typing import Final, TypedDict

__all__ = [
    "DEFAULT_COMPRESS_THRESHOLD",
    "DEFAULT_KEY_PREFIX",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "DEFAULT_POOL_TIMEOUT",
    "DEFAULT_WAIT_TIMEOUT_MS",
    "SCHEMA_VERSION",
    "TTLConfig",
    "ttl_milliseconds",
]

DEFAULT_KEY_PREFIX: Final = "aredis"
# Connections in the pool of a client the saver creates itself; callers past it wait.
DEFAULT_MAX_CONNECTIONS: Final = 64
# Seconds a caller waits for a free pooled connection before ConnectionError.
DEFAULT_POOL_TIMEOUT: Final = 60.0
# How long a write with wait_replicas waits for replica acknowledgements (keep it below the
# client's socket timeout).
DEFAULT_WAIT_TIMEOUT_MS: Final = 1000
# Layout version of the data under a prefix (see _keys.py); bumped on incompatible change.
SCHEMA_VERSION: Final = 2
# Channel values and pending writes of this many serialized bytes or more are stored
# zstd-compressed (as PostgreSQL's TOAST compresses values over 2 KB).
DEFAULT_COMPRESS_THRESHOLD: Final = 2048
# The largest request (all its arguments together) a saver or store sends: a put of a bigger
# state is refused before anything is sent.  An eighth of Redis' default proto-max-bulk-len
# (512 MB, past which the server drops the connection) and a quarter of the default hard
# replica output-buffer limit (256 MB, past which every replica is cut off and resyncs); a
# 64 MB put already holds the server for about a quarter of a second (docs/reliability.md).
DEFAULT_MAX_PAYLOAD_BYTES: Final = 64 * 1024 * 1024
# Checkpoints per list() page when no limit is given, and the most index entries one list
# call examines while filtering before it hands back a cursor (ScriptBudget.list_scan).
LIST_PAGE: Final = 100
LIST_SCAN_BUDGET: Final = 256
# How long a staging copy of copy_thread lives without a new page (each page refreshes it).
COPY_STAGING_TTL_MS: Final = 120_000


class TTLConfig(TypedDict, total=False):
    """Expiry of a thread's keys, the same shape ``langgraph-checkpoint-redis`` takes.

    ``default_ttl``: minutes after the thread's last write (or read, with ``refresh_on_read``)
    at which all of its keys expire together.
    """

    default_ttl: float
    refresh_on_read: bool


def ttl_milliseconds(ttl: TTLConfig | None) -> tuple[int, bool]:
    """Validate a TTL config; return (milliseconds or 0, refresh_on_read)."""
    if ttl is None:
        return 0, False
    if not isinstance(ttl, dict):
        raise TypeError(f"ttl must be a dict like {{'default_ttl': 60}}, got {ttl!r}")
    unknown = set(ttl) - {"default_ttl", "refresh_on_read"}
    if unknown:
        raise ValueError(f"unknown ttl option(s): {sorted(unknown)}")
    minutes = ttl.get("default_ttl")
    if minutes is None:
        return 0, False
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes <= 0:
        raise ValueError(
            f"ttl['default_ttl'] must be a positive number of minutes, got {minutes!r}"
        )
    return max(1, round(minutes * 60_000)), bool(ttl.get("refresh_on_read", False))
