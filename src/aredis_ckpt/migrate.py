"""Bring threads from any LangGraph checkpoint saver into aredis-ckpt, and check the copy.

``acopy_checkpoints(source, target)`` / ``copy_checkpoints(source, target)`` copy every thread
of ``source`` (any ``BaseCheckpointSaver``: the official ``langgraph-checkpoint-redis`` savers,
``PostgresSaver``, ``SqliteSaver``, ``InMemorySaver``, ours under another prefix) into
``target`` (an ``AsyncRedisSaver`` / ``RedisSaver``) and return a ``MigrationReport``;
``averify_checkpoints`` / ``verify_checkpoints`` read both sides and return a
``VerifyReport`` listing every ``Difference``.  ``aexport_threads`` / ``export_threads`` and
``aimport_threads`` / ``import_threads`` write and read the portable JSON-lines format
described in ``docs/export-format.md``.  See ``docs/migration.md``.
"""

from aredis_ckpt._async.exchange import aexport_threads, aimport_threads
from aredis_ckpt._async.migrate import acopy_checkpoints, averify_checkpoints
from aredis_ckpt._exchange import ExportFormatError
from aredis_ckpt._migration import (
    Difference,
    MigrationError,
    MigrationReport,
    ThreadFailure,
    VerifyReport,
)
from aredis_ckpt._sync.exchange import export_threads, import_threads
from aredis_ckpt._sync.migrate import copy_checkpoints, verify_checkpoints

__all__ = [
    "Difference",
    "ExportFormatError",
    "MigrationError",
    "MigrationReport",
    "ThreadFailure",
    "VerifyReport",
    "acopy_checkpoints",
    "aexport_threads",
    "aimport_threads",
    "averify_checkpoints",
    "copy_checkpoints",
    "export_threads",
    "import_threads",
    "verify_checkpoints",
]
