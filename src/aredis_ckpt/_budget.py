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

__all__ = ["DEFAULT_SCRIPT_BUDGET", "ScriptBudget"]


@dataclass(frozen=True)
class ScriptBudget:
    """Entries (checkpoints, index members, writes, items) one script call may handle.

    ``entries``: the general slice size of the maintenance scripts.  Every field must be
    a positive int.
    """

    entries: int = 512

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
