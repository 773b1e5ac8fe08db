"""The regression gate decides on trial-level data: drift alone passes, a real slowdown fails, and both
conditions (significant and beyond the threshold) are needed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from balance_bench.coordinates import CacheState, Coordinates, Kind, Migration
from balance_bench.reports.compare import ALPHA, compare_runs, regressions, unmatched
from balance_bench.reports.runs import load_run
from tests.reports.conftest import trial_run

CREDIT = Coordinates(Kind.WRITE, "credit", CacheState.INVALIDATE, Migration.WITH_012, "tiny", "optimized", "balance")
FLOOR = Coordinates(Kind.REFERENCE, "raw_pg_select_1", CacheState.RAW, Migration.WITH_012, "tiny", "optimized",
                    "balance")


def _medians(values: list[float]) -> dict[int, float]:
    return dict(enumerate(values, start=1))


def _gate(tmp_path: Path, before: list[float], after: list[float], pct: float = 10.0) -> tuple[bool, float, float]:
    """(regression?, change %, p) for one case whose per-trial medians move from ``before`` to ``after``."""
    baseline = trial_run(tmp_path / "a", {CREDIT: _medians(before)})
    current = trial_run(tmp_path / "b", {CREDIT: _medians(after)})
    (c,) = compare_runs(current, baseline)
    assert c.p_value is not None
    return c.is_regression(pct), c.change_pct, c.p_value


def test_large_but_not_significant_is_not_a_regression(tmp_path: Path) -> None:
    """+40% on trial values that scatter from 0.5 to 2 ms is not significant: no regression, however large."""
    regression, change, p = _gate(tmp_path, [0.5, 2.0, 0.6, 1.8, 1.0], [0.7, 2.8, 0.84, 2.52, 1.4])
    assert change == pytest.approx(40.0) and p > ALPHA and not regression


def test_significant_but_small_is_not_a_regression(tmp_path: Path) -> None:
    """+5% on tight trial values is significant, but under a 10% threshold it does not gate."""
    before = [1.00, 1.01, 0.99, 1.00, 1.01, 0.99]
    regression, change, p = _gate(tmp_path, before, [v * 1.05 for v in before])
    assert change == pytest.approx(5.0) and p < ALPHA and not regression


def test_large_and_significant_is_a_regression(tmp_path: Path) -> None:
    """+30% on tight trial values is both: a regression at 10%, not at 50%."""
    before = [1.00, 1.01, 0.99, 1.00, 1.01, 0.99]
    assert _gate(tmp_path, before, [v * 1.3 for v in before])[0]
    assert not _gate(tmp_path, before, [v * 1.3 for v in before], pct=50.0)[0]


def test_one_trial_a_side_is_not_tested(tmp_path: Path) -> None:
    """With a single trial there is no sample to test: no p-value, never a regression."""
    (c,) = compare_runs(trial_run(tmp_path / "b", {CREDIT: {1: 2.0}}), trial_run(tmp_path / "a", {CREDIT: {1: 1.0}}))
    assert c.p_value is None and c.verdict == "not tested" and not c.is_regression(10.0)


def test_the_floor_measured_in_the_same_trial_removes_drift(tmp_path: Path) -> None:
    """The machine 40% slower in the second run, floor included: plainly +40%, against the floor +0%."""
    drift_a, drift_b = [1.0, 1.1, 0.9, 1.05, 0.95], [1.4, 1.6, 1.2, 1.5, 1.3]
    baseline = trial_run(tmp_path / "a", {CREDIT: _medians([0.5 * d for d in drift_a]),
                                          FLOOR: _medians([0.05 * d for d in drift_a])})
    current = trial_run(tmp_path / "b", {CREDIT: _medians([0.5 * d for d in drift_b]),
                                         FLOOR: _medians([0.05 * d for d in drift_b])})
    credit = next(c for c in compare_runs(current, baseline) if c.coords == CREDIT)
    assert credit.change_pct > 30 and credit.floor_change_pct == pytest.approx(0.0, abs=1e-9)
    assert credit.floor == "postgres" and not credit.is_regression(10.0)


def test_reference_cases_never_gate(tmp_path: Path) -> None:
    """A floor three times slower is reported, but the machine is not a code regression."""
    baseline = trial_run(tmp_path / "a", {FLOOR: _medians([1.0, 1.01, 0.99, 1.0])})
    current = trial_run(tmp_path / "b", {FLOOR: _medians([3.0, 3.03, 2.97, 3.0])})
    (c,) = compare_runs(current, baseline)
    assert c.significant and c.change_pct > 150 and not c.is_regression(10.0)


def test_drift_alone_between_two_synthetic_runs_passes(make_run: Callable[..., Path]) -> None:
    """Two runs of the same code, each with its own per-trial drift, raise no regression at 10%."""
    current, baseline = load_run(make_run(seed=1, drift=0.08)), load_run(make_run(seed=2, drift=0.08))
    assert regressions(compare_runs(current, baseline), 10.0) == []


def test_a_real_slowdown_between_synthetic_runs_fails_and_only_there(make_run: Callable[..., Path]) -> None:
    """Doubling the with-012 credit is found, alone, at about +100%, and its line names the floor."""
    slow = lambda case: 2.0 if case.query == "credit" and case.migration == "with_012" else 1.0  # noqa: E731
    current, baseline = load_run(make_run(slowdown=slow, seed=1)), load_run(make_run(seed=2))
    (found,) = regressions(compare_runs(current, baseline), 10.0)
    assert found.coords.query == "credit" and 70 < found.change_pct < 130
    assert "against the postgres floor" in found.line()
    assert regressions(compare_runs(current, baseline), 150.0) == []


def test_cases_match_by_coordinates_not_across_scales(make_run: Callable[..., Path]) -> None:
    """Runs of different scales share no case: nothing is compared and every case is listed as unmatched."""
    tiny, small = load_run(make_run(scales=("tiny",))), load_run(make_run(scales=("small",)))
    assert compare_runs(tiny, small) == []
    only_now, only_before = unmatched(tiny, small)
    assert len(only_now) == len(tiny.summary.cases) and len(only_before) == len(small.summary.cases)
