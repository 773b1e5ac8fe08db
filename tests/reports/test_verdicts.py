"""Verdicts: the guide's table and index claims judged against a run, honestly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from balance_bench.reports.expectations import LATENCY_CLAIMS
from balance_bench.reports.runs import load_run
from balance_bench.reports.verdicts import improvement_verdict, judge_range, verdicts, verdicts_frame


def test_improvement_verdict_boundaries() -> None:
    """Inside the range is met, above is better, below is short; the bounds themselves are met."""
    assert improvement_verdict(84.9, (85.0, 90.0)) == "short"
    assert improvement_verdict(85.0, (85.0, 90.0)) == "met"
    assert improvement_verdict(90.0, (85.0, 90.0)) == "met"
    assert improvement_verdict(90.1, (85.0, 90.0)) == "better"


def test_single_value_claim_gets_the_stated_tolerance() -> None:
    """The guide's "~0.5ms" is read as 0.4-0.6 ms, not as exactly 0.5."""
    assert judge_range(0.45, (0.5, 0.5)) == "within"
    assert judge_range(0.39, (0.5, 0.5)) == "below"
    assert judge_range(0.61, (0.5, 0.5)) == "above"


def test_every_claimed_query_is_judged_in_any_run(run_dir: Path) -> None:
    """Each query of the guide's table gets a met/better/short verdict at every scale the run has."""
    items = verdicts(load_run(run_dir))
    judged = {v.query for v in items if v.improvement in ("met", "better", "short")}
    assert set(LATENCY_CLAIMS) <= judged
    for v in items:
        if v.improvement_pct is not None:
            assert v.improvement_pct == pytest.approx((v.cold_ms - v.warm_ms) / v.cold_ms * 100)


def test_improvement_is_computed_from_the_with_012_cold_and_warm_medians(make_run: Callable[..., Path]) -> None:
    """cold and warm come from the with-012, optimized-projection cases of that parameter kind."""
    run = load_run(make_run())
    by = {c.key: c for c in run.summary.cases}
    cold = by[("find_by_user_id", "cold", "with_012", "tiny", "optimized", "whale")].median_ms
    warm = by[("find_by_user_id", "warm", "with_012", "tiny", "optimized", "whale")].median_ms
    v = next(v for v in verdicts(run) if (v.query, v.param_kind) == ("find_by_user_id", "whale"))
    assert (v.cold_ms, v.warm_ms) == (cold, warm)
    assert v.improvement_pct == pytest.approx((cold - warm) / cold * 100)


def test_local_socket_milliseconds_are_called_out_not_bent(make_run: Callable[..., Path]) -> None:
    """Sub-millisecond local times are reported as below the guide, with the reason, and unscaled."""
    run = load_run(make_run())
    v = next(v for v in verdicts(run) if v.query == "find_by_id")
    assert (v.cold_vs_guide, v.warm_vs_guide) == ("below", "below")
    assert "local socket" in v.text and "do not transfer" in v.text
    assert f"{v.cold_ms:.3g} ms" in v.text


def test_migration_effect_separates_real_speedups_from_noise(make_run: Callable[..., Path]) -> None:
    """A query that gains an index is significantly faster with 012; one whose plan 012 does not change is "same plan"."""
    items = {(v.query, v.param_kind): v for v in verdicts(load_run(make_run()))}
    pair = items[("find_by_user_id_and_token_id", "pair")]
    assert pair.migration_effect == "faster" and pair.migration_speedup == pytest.approx(8.0, rel=0.15)
    assert items[("find_by_id", "balance")].migration_effect == "same plan"


def test_claimed_index_used_yes_and_no(make_run: Callable[..., Path]) -> None:
    """The with-012 plan's indexes decide "index used"; a plan without the claimed index says which it used."""
    good = {v.query: v for v in verdicts(load_run(make_run()))}
    assert good["total_balance_by_user"].index_used is True
    assert good["find_by_id"].index_used is None  # the guide claims no index for it
    bad_run = make_run(plans={"total_balance_by_user": ("seq_scan_filter.json", "index_scan.json")})
    bad = {v.query: v for v in verdicts(load_run(bad_run))}
    assert bad["total_balance_by_user"].index_used is False
    assert "balances_pkey" in bad["total_balance_by_user"].text


def test_verdict_frame_has_one_row_per_verdict(make_run: Callable[..., Path]) -> None:
    """The table notebooks get carries every verdict with the guide's figures beside the measured ones."""
    items = verdicts(load_run(make_run()))
    frame = verdicts_frame(items)
    assert len(frame) == len(items)
    assert {"cold ms", "guide cold", "improvement verdict", "index used"} <= set(frame.columns)


def test_same_plan_both_ways_is_drift_not_the_migration(real_run_dir: Path) -> None:
    """find_by_id uses the primary key with and without 012, so its verdict blames drift, not the migration."""
    (verdict,) = [v for v in verdicts(load_run(real_run_dir)) if v.query == "find_by_id"]
    assert verdict.same_plan is True and verdict.migration_effect == "same plan"
    assert "drift, not migration 012" in verdict.text
    pair = next(v for v in verdicts(load_run(real_run_dir)) if v.query == "find_by_address")
    assert pair.same_plan is False and pair.migration_effect != "same plan"
