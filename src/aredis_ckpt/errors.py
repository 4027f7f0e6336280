"""Exceptions raised by the savers (shared by the async and sync classes)."""

from __future__ import annotations

__all__ = [
    "AredisCheckpointError",
    "CorruptedDataError",
    "ReplicationError",
    "SchemaVersionError",
]


class AredisCheckpointError(Exception):
    """Base class of the errors this package raises on its own."""


class SchemaVersionError(AredisCheckpointError):
    """The data under the key prefix was written by an incompatible version of aredis-ckpt."""


class CorruptedDataError(AredisCheckpointError):
    """A stored record could not be decoded; the message names the thread and checkpoint."""


class ReplicationError(AredisCheckpointError):
    """Fewer replicas than ``wait_replicas`` acknowledged a write in time.

    The write is on the primary, but a failover before it replicates could lose it.
    """
