# This file is generated from src/aredis_ckpt/_async/shallow.py -- do not change it.
# Edit the async source, then run `python scripts/unasync.py`.
"""The shallow saver: only the latest checkpoint of each (thread, namespace) is kept."""

from __future__ import annotations

from aredis_ckpt._sync.saver import RedisSaver

__all__ = ["ShallowRedisSaver"]


class ShallowRedisSaver(RedisSaver):
    """Keeps only the latest checkpoint per (thread, namespace), its pending writes and the
    channel values it references.

    Each ``put`` removes the superseded checkpoint, its writes and the values nothing references
    any more inside the same atomic script, so storage stays flat however long a thread runs.
    History (``list``, time travel) then holds one checkpoint per namespace; interrupts and
    resumes work as with the full saver, because the interrupted checkpoint is the latest one
    until the resumed run writes its successor.
    """

    _shallow = True
