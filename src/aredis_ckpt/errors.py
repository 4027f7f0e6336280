"""Exceptions raised by the savers and the store (shared by the async and sync classes)."""

from __future__ import annotations

from redis.exceptions import OutOfMemoryError

__all__ = [
    "AredisCheckpointError",
    "CorruptedDataError",
    "DamagedThreadError",
    "PayloadTooLargeError",
    "ReplicationError",
    "SchemaVersionError",
    "ServerConfigError",
    "ServerOutOfMemoryError",
    "UnencryptedDataError",
]


class AredisCheckpointError(Exception):
    """Base class of the errors this package raises on its own."""


class SchemaVersionError(AredisCheckpointError):
    """The data under the key prefix was written by an incompatible version of aredis-ckpt."""


class CorruptedDataError(AredisCheckpointError):
    """A stored record could not be decoded; the message names the thread and checkpoint."""


class DamagedThreadError(CorruptedDataError):
    """A thread is missing some of the records it always holds together (evicted or partly
    deleted keys): reads never treat it as empty or as a shorter history.

    The message names the thread, namespace, checkpoint and what is missing; the same facts
    are attributes.  ``checkpoint_id`` is None when the damage is not one checkpoint's (the
    thread's checkpoint index is gone, say).  See docs/reliability.md, "Damage is named".
    """

    def __init__(
        self,
        message: str,
        *,
        thread_id: str,
        checkpoint_ns: str | None,
        checkpoint_id: str | None,
        missing: list[str],
    ) -> None:
        super().__init__(message)
        self.thread_id = thread_id
        self.checkpoint_ns = checkpoint_ns
        self.checkpoint_id = checkpoint_id
        self.missing = missing


class UnencryptedDataError(CorruptedDataError):
    """A record is stored without encryption although the saver's serializer encrypts.

    Either it was written by someone with access to Redis but not to the key (a forged
    record), or it predates the switch to encryption; ``allow_plaintext=True`` reads the
    latter while migrating.  The message names the thread, checkpoint and record.
    """


class PayloadTooLargeError(AredisCheckpointError, ValueError):
    """A request is larger than ``max_payload_bytes`` (or than the server accepts).

    Raised before anything is sent; the message names the operation, the thread and the
    largest records, with their sizes.
    """


class ServerConfigError(AredisCheckpointError):
    """``strict_server=True``: the server may evict our keys or has no persistence."""


class ServerOutOfMemoryError(AredisCheckpointError, OutOfMemoryError):
    """Redis refused a write for lack of memory (``maxmemory`` reached, nothing evictable).

    Nothing of the refused write was stored.  The message names the operation and thread; the
    server's own error is ``__cause__``.  A subclass of redis-py's ``OutOfMemoryError`` (so
    of ``ResponseError``): code catching those keeps working.
    """

    def __repr__(self) -> str:
        # redis-py's errors show only their class name in repr
        return f"{type(self).__name__}({str(self)!r})"


class ReplicationError(AredisCheckpointError):
    """Fewer replicas than ``wait_replicas`` acknowledged a write in time.

    The write is on the primary, but a failover before it replicates could lose it.
    """
