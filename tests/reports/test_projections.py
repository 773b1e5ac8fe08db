"""The three projections side by side: each ratio from the right pair of cases, within trials, aggregates left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from balance_bench.coordinates import EXPLICIT_JOINED, LEGACY, OPTIMIZED, CacheState, Coordinates, Kind, Migration
from balance_bench.reports.projections import projections_frame
from balance_bench.reports.runs import read_run
from tests.reports.conftest import trial_run


def _nocache(query: str, projection: str, kind: str = "balance") -> Coordinates:
    return Coordinates(Kind.READ, query, CacheState.NOCACHE, Migration.WITH_012, "tiny", projection, kind)


def test_each_ratio_divides_the_right_projections_within_each_trial(tmp_path: Path) -> None:
    """legacy 3 / explicit_joined 2 / optimized 1 in every trial: columns 1.5x, joins 2x, whole rewrite 3x."""
    drift = {1: 1.0, 2: 1.1, 3: 0.95}  # the same drift on every side: within-trial ratios stay exact
    run = trial_run(tmp_path, {
        _nocache("find_by_id", LEGACY): {t: 3.0 * d for t, d in drift.items()},
        _nocache("find_by_id", EXPLICIT_JOINED): {t: 2.0 * d for t, d in drift.items()},
        _nocache("find_by_id", OPTIMIZED): dict(drift),
        _nocache("total_balance", OPTIMIZED, "system"): dict(drift),  # an aggregate: one projection only
    })
    frame = projections_frame(run)
    assert list(frame["query"]) == ["find_by_id"]
    row = frame.iloc[0]
    assert row["columns: legacy / explicit_joined"].startswith("1.5x")
    assert row["joins: explicit_joined / optimized"].startswith("2x")
    assert row["whole rewrite: legacy / optimized"].startswith("3x")
    assert row["legacy p50 ms"] == pytest.approx(3.0)


def test_a_missing_projection_leaves_its_ratios_empty(tmp_path: Path) -> None:
    """A run from before explicit_joined existed still shows the whole rewrite, and no invented split."""
    run = trial_run(tmp_path, {
        _nocache("find_by_id", LEGACY): {1: 3.0, 2: 3.1},
        _nocache("find_by_id", OPTIMIZED): {1: 1.0, 2: 1.0},
    })
    row = projections_frame(run).iloc[0]
    assert row["columns: legacy / explicit_joined"] is None and row["joins: explicit_joined / optimized"] is None
    assert row["whole rewrite: legacy / optimized"].startswith("3.05x")


def test_every_row_read_of_the_matrix_has_all_three_projections(run_dir: Path) -> None:
    """The guide rewrites every row read: each one's table row is complete in any run, the sums have none."""
    frame = projections_frame(read_run(run_dir))
    assert set(frame["query"]) == {"find_by_id", "find_by_user_id", "find_by_user_id_and_token_id", "get_by_user",
                                   "find_by_address", "find_by_token_id"}
    assert frame.notna().all().all()
