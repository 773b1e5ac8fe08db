"""Materialized totals: equal to the sum after a refresh, stale before it; the summary table never stale."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from balance_bench.bench.experiments.spec import CheckFailed, Estimate, exercise
from balance_bench.bench.experiments.totals import EXPERIMENT, oracle_total

from .conftest import Spaces, explain_target, relations


@pytest.mark.services
def test_every_source_agrees_with_the_oracle_and_only_the_matview_goes_stale(spaces: Spaces) -> None:
    """The check (matview refreshed first) passes; after a credit only the matview is wrong, until refreshed."""
    with spaces(EXPERIMENT, "with_012") as made:
        outcome = exercise(EXPERIMENT, made, explain=explain_target)
    assert outcome.probes["matview.stale_before_refresh"] == {"stale_before_refresh": 1.0, "equal_after_refresh": 1.0}
    for variant in ("cache", "summary"):
        assert outcome.probes[f"{variant}.staleness"]["max_s"] == 0.0
    matview = outcome.probes["matview.staleness"]
    assert 0 < matview["median_s"] <= matview["max_s"] < 5 * matview["refresh_every_s"] + 1
    assert {c for c in outcome.results if "credit" in c or "refresh" in c} == {
        "sum-credit-balance", "summary-credit-balance", "matview-refresh-all"}
    assert relations(outcome.plans["matview-total_balance_by_user-whale"]) == {"balance_user_totals_mv"}
    assert relations(outcome.plans["summary-total_balance-system"]) == {"balance_system_total"}
    assert relations(outcome.plans["sum-total_balance_by_user-whale"]) == {"balances"}


@pytest.mark.services
def test_a_summary_that_drifted_from_the_balances_fails_the_check(spaces: Spaces) -> None:
    """One cent added to a summary row behind the model's back is caught against Python's sum."""
    with spaces(EXPERIMENT, "with_012") as made:
        states = {name: EXPERIMENT.prepare(space) for name, space in made.items()}
        try:
            summary = states["summary"]
            assert summary.read("total_balance_by_user", summary.whale) == oracle_total(summary.engine, summary.whale)
            with summary.engine.begin() as conn:
                conn.execute(text("UPDATE balance_user_totals SET total = total + 0.01 WHERE user_id = :u"),
                             {"u": summary.whale})
            with pytest.raises(CheckFailed, match="summary total_balance_by_user whale"):
                EXPERIMENT.check(states)
        finally:
            for state in states.values():
                state.close()


def test_the_conclusion_quotes_read_write_and_refresh_prices() -> None:
    """Every figure the sentence reads appears in it, with its interval."""
    figures = {f"with_012.{name}": Estimate(v, v * 0.9, v * 1.1) for name, v in (
        ("matview_vs_sum_system", 0.02), ("summary_vs_sum_system", 0.03), ("summary_credit_vs_sum_credit", 2.5),
        ("refresh_vs_sum_system", 4.0))}
    figures["with_012.matview.staleness.median_s"] = Estimate(0.51)
    figures["with_012.matview.staleness.refresh_every_s"] = Estimate(1.0)
    sentence = EXPERIMENT.conclude(figures)
    assert "0.02x (95% CI 0.02-0.02)" in sentence and "2.50x" in sentence and "4.00x" in sentence
    assert "median 0.51 s" in sentence and "every 1 s" in sentence
