"""Baseline comparison: medians' ratio plus a significance test, so noise is never called a regression."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from balance_bench.reports.compare import compare_runs, mann_whitney_p, regressions, unmatched
from balance_bench.reports.runs import load_run


def test_identical_runs_have_no_regression(make_run: Callable[..., Path]) -> None:
    """A run compared with itself matches every case and finds nothing significant."""
    run = load_run(make_run())
    comparisons = compare_runs(run, run)
    assert len(comparisons) == len(run.summary.cases)
    assert not any(c.significant for c in comparisons)
    assert regressions(comparisons, 0.0) == []


def test_noise_between_two_runs_is_not_a_regression(make_run: Callable[..., Path]) -> None:
    """Two runs drawn from the same distributions (different seeds) show no regression over 10%."""
    current, baseline = load_run(make_run(seed=1)), load_run(make_run(seed=2))
    assert regressions(compare_runs(current, baseline), 10.0) == []


def test_twice_as_slow_is_a_significant_regression(make_run: Callable[..., Path]) -> None:
    """Doubling one case's timings makes it a significant regression of about +100%, and only it."""
    slow = lambda case: 2.0 if case.query == "credit" and case.migration == "with_012" else 1.0  # noqa: E731
    current, baseline = load_run(make_run(slowdown=slow, seed=1)), load_run(make_run(seed=2))
    found = regressions(compare_runs(current, baseline), 10.0)
    assert [c.key[0] for c in found] == ["credit"]
    assert 80 < found[0].change_pct < 120 and found[0].p_value is not None and found[0].p_value < 1e-6
    assert regressions(compare_runs(current, baseline), 150.0) == []


def test_cases_match_by_coordinates_not_across_scales(make_run: Callable[..., Path]) -> None:
    """Runs of different scales share no case: nothing is compared and every key is listed as unmatched."""
    tiny, small = load_run(make_run(scales=("tiny",))), load_run(make_run(scales=("small",)))
    assert compare_runs(tiny, small) == []
    only_now, only_before = unmatched(tiny, small)
    assert len(only_now) == len(tiny.summary.cases) and len(only_before) == len(small.summary.cases)


def test_too_few_samples_are_not_tested() -> None:
    """One timing per side cannot be tested: no p-value rather than a misleading one."""
    assert mann_whitney_p([1.0], [2.0]) is None
    assert mann_whitney_p([1.0, 1.1, 1.2], [2.0, 2.1, 2.2]) is not None


def test_a_slower_machine_is_not_a_code_regression(make_run: Callable[..., Path]) -> None:
    """Everything 40% slower, the raw floors included, is significant but not a regression against the floor."""
    machine = lambda case: 1.4  # noqa: E731
    current, baseline = load_run(make_run(slowdown=machine, seed=1)), load_run(make_run(seed=2))
    comparisons = compare_runs(current, baseline)
    assert any(c.significant and c.change_pct > 25 for c in comparisons)
    assert regressions(comparisons, 25.0) == []
    checked = [c for c in comparisons if c.floor_change_pct is not None]
    assert checked and all(abs(c.floor_change_pct) < 20 for c in checked)


def test_a_case_slower_than_its_floor_is_still_a_regression(make_run: Callable[..., Path]) -> None:
    """A case that doubles while the machine slows by 20% is a regression, and its line names the floor."""
    slow = lambda case: 2.4 if case.query == "credit" and case.migration == "with_012" else 1.2  # noqa: E731
    current, baseline = load_run(make_run(slowdown=slow, seed=1)), load_run(make_run(seed=2))
    (found,) = regressions(compare_runs(current, baseline), 50.0)
    assert found.key[0] == "credit" and found.floor == "postgres"
    assert "against the postgres floor" in found.line()
