"""Payload limits: a request too large for the server is refused before anything is sent.

Without this, a request past the server's ``proto-max-bulk-len`` makes Redis drop the
connection while the client is still writing; the client's retry policy then sends it again,
three more times, and the caller finally sees "Connection reset by peer".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aredis_ckpt.errors import PayloadTooLargeError

__all__ = ["check_limit_option", "check_request", "mib", "size_of"]

# How many of the largest records an error names.
_NAMED = 3


def check_limit_option(value: Any) -> int | None:
    """``max_payload_bytes``: a positive int, or None for no limit of our own."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"max_payload_bytes must be a positive int or None, got {value!r}")
    return value


def size_of(part: object) -> int:
    """Bytes of one script argument as sent (numbers go as their decimal text)."""
    return len(part) if isinstance(part, bytes) else len(str(part))


def mib(n: int) -> str:
    """A byte count for people: ``70.0 MiB``, or ``175 bytes`` below a MiB."""
    return f"{n / 1048576:.1f} MiB" if n >= 1048576 else f"{n} bytes"


def check_request(
    limit: int | None,
    bulk_limit: int | None,
    op: str,
    subject: str,
    parts: Sequence[Any],
    records: Callable[[], Sequence[tuple[str, int]]],
) -> None:
    """Raise ``PayloadTooLargeError`` when the request's arguments ``parts`` add up to more
    than ``limit`` bytes, or one of them is over the server's ``bulk_limit``.

    ``subject`` says what the request is about (``thread 'x' (namespace '')``); ``records``
    lists its records with their sizes, and is only called to word the error.
    """
    if limit is None and bulk_limit is None:
        return
    total = largest = 0
    for part in parts:
        n = len(part) if type(part) is bytes else len(str(part))
        total += n
        if n > largest:
            largest = n
    if limit is not None and total > limit:
        why = f"is {mib(total)}, over max_payload_bytes ({mib(limit)})"
        knob = "raise max_payload_bytes (None switches this limit off)"
    elif bulk_limit is not None and largest > bulk_limit:
        why = (
            f"has an argument of {mib(largest)}, over the server's proto-max-bulk-len "
            f"({mib(bulk_limit)}), past which Redis drops the connection"
        )
        knob = "raise the server's proto-max-bulk-len"
    else:
        return
    named = sorted(records(), key=lambda r: r[1], reverse=True)[:_NAMED]
    biggest = ", ".join(f"{name}: {mib(size)}" for name, size in named)
    raise PayloadTooLargeError(
        f"{op} on {subject} {why}; nothing was sent. Largest records: {biggest}. Keep large "
        f"data outside the state (store a reference to it), or {knob}"
    )
