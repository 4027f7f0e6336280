"""How much work one maintenance script may do before it hands back a continuation.

Redis serves nobody else while a script runs, so the scripts whose work grows with a thread
(delete, copy, prune, delete-for-runs, the delta-history walk, filtered list pages, the store's
scans) work in slices: each call handles at most the entries below, then returns where it
stopped, and the client calls again.  Slices are sized so one call stays within a few
milliseconds on a 2-core VM (measured in ``bench/big_threads.py``; see docs/reliability.md).
Tests pass smaller budgets to exercise the slicing on small threads.
"""

from __future__ import annotations

from dataclasses import dataclass

from aredis_ckpt._config import LIST_SCAN_BUDGET

__all__ = ["DEFAULT_SCRIPT_BUDGET", "ScriptBudget"]


@dataclass(frozen=True)
class ScriptBudget:
    """Entries (checkpoints, index members, writes, items) one script call may handle.

    ``entries``: the general slice size of the maintenance scripts.
    ``sweep_entries``: the bucket entries (index members, run memberships) of expired threads
    one ``put`` (or, on a cluster, one settle call) removes at most; an expired thread with more
    is finished by the next puts of its bucket.
    ``store_items``: the items (or namespaces) one store script reads at most for a search, a
    ``list_namespaces`` or a TTL sweep before the client continues it; a ranked (query) search
    counts an item as ``1 + dims // 48`` (its cosine costs that much more), a filtered one
    adds a unit per KB of its record, an expired item swept counts 8.
    ``copy``: checkpoints plus channel values (or pending writes) one page of ``copy_thread``
    reads from the source and writes into the target.
    ``copy_bytes``: the most bytes of records one page of ``copy_thread`` carries.
    ``walk``: ancestors plus pending writes one call of the delta-history walk reads.
    ``list_scan``: index entries one filtered ``list`` call examines before it hands back a
    cursor (a page is never cut below its own size).
    Every field must be a positive int.
    """

    entries: int = 512
    sweep_entries: int = 256
    store_items: int = 1000
    copy: int = 256
    copy_bytes: int = 1 << 20
    walk: int = 256
    list_scan: int = LIST_SCAN_BUDGET

    @property
    def checkpoints(self) -> int:
        """Checkpoints one slice of prune / delete_for_runs drops (each costs about as much as
        eight entries: its records, index entries, writes and bucket entries)."""
        return max(1, self.entries // 8)

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ScriptBudget.{name} must be a positive int, got {value!r}")


DEFAULT_SCRIPT_BUDGET = ScriptBudget()
