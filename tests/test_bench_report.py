"""The benchmark report's target table: what a target against a peer asks of the floor.

``bench/_report.py`` renders ``docs/benchmarks.md`` from a run's results.  These tests feed it
agent rates by hand (no Redis, no run) and check the arithmetic the report states.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import _report


def _results(rates: dict[tuple[str, bool], float]) -> dict[str, Any]:
    agent = [
        {
            "saver": family + ("-async" if is_async else ""),
            "label": family,
            "family": family,
            "async": is_async,
            "median": rate,
        }
        for (family, is_async), rate in rates.items()
    ]
    return {"config": {}, "agent": agent}


RATES = {
    ("aredis", False): 800.0,
    ("floor", False): 1000.0,
    ("pg", False): 500.0,  # the floor: 2.00x PostgreSQL
    ("official", False): 400.0,  # the floor: 2.50x the official saver
    ("aredis", True): 900.0,
    ("floor", True): 1000.0,
    ("pg", True): 400.0,  # 2.50x
    ("official", True): 500.0,  # 2.00x: the 2.5x target asks 1.25x the floor
}


def _by_target(r: _report.R) -> dict[str, dict[str, Any]]:
    return {t["target"]: t for t in _report.targets(r)}


def test_a_peer_target_carries_the_floors_own_ratio() -> None:
    ts = _by_target(_report.R(_results(RATES)))
    official_async = ts["agent async `ainvoke`: ≥ 2.50× langgraph-checkpoint-redis's steps/s"]
    assert official_async["ceiling"] == pytest.approx(2.0)
    assert official_async["measured"] == "900 vs 500 steps/s = 1.80× (the floor itself: 2.00×)"
    assert official_async["met"] is False
    pg_sync = ts["agent sync `invoke`: ≥ 2.00× PostgresSaver's steps/s"]
    assert pg_sync["ceiling"] == pytest.approx(2.0)
    # the floor target itself has no ceiling: it is the unit
    floor_sync = ts["agent sync `invoke`: ≥ 0.90× the floor's steps/s"]
    assert floor_sync["ceiling"] is None
    assert "the floor itself" not in floor_sync["measured"]


def test_the_report_says_what_each_peer_target_asks_of_the_floor() -> None:
    md = _report.section_targets(_report.R(_results(RATES)))
    rows = {line.split(" | ")[0].lstrip("| "): line for line in md.splitlines() if "|" in line}
    # 2.5 / 2.0 = 1.25 of the floor's rate: beyond what the floor itself does
    assert rows["agent async `ainvoke`: ≥ 2.50× langgraph-checkpoint-redis's steps/s"].endswith(
        "| 2.00× | 1.25× (beyond the floor) |"
    )
    # exactly the floor's own ratio asks 1.00x, which the floor does: not beyond it
    assert rows["agent sync `invoke`: ≥ 2.00× PostgresSaver's steps/s"].endswith(
        "| 2.00× | 1.00× |"
    )
    assert rows["agent async `ainvoke`: ≥ 2.00× PostgresSaver's steps/s"].endswith(
        "| 2.50× | 0.80× |"
    )


def test_without_the_floor_the_report_states_no_ceiling() -> None:
    rates = {k: v for k, v in RATES.items() if k[0] != "floor"}
    md = _report.section_targets(_report.R(_results(rates)))
    assert "the floor itself" not in md
    assert "asks of the floor's rate" not in md
    assert "floor not run" in md
