"""The guide-table experiment phrases the report's consistency figures: which rows contradict their milliseconds."""

from __future__ import annotations

import pytest

from balance_bench.bench.experiments.guide_table import EXPERIMENT
from balance_bench.bench.experiments.spec import Estimate
from balance_bench.reports.guide_table import check_table, figures


def _as_figures(values: dict[str, float]) -> dict[str, Estimate]:
    return {k: Estimate(v) for k, v in values.items()}


def test_the_guides_table_concludes_with_three_contradictions() -> None:
    """From the real table: findById, findByUserId and findByUserIdAndTokenId; totalBalanceByUser is consistent."""
    sentence = EXPERIMENT.conclude(_as_figures(figures(check_table())))
    assert sentence.startswith("3 of the guide's 4 rows contradict their own milliseconds")
    assert "findById states 90-95% where its milliseconds imply 80-95%" in sentence
    assert "findByUserIdAndTokenId states 85-90% where its milliseconds imply 83-90%" in sentence
    assert sentence.endswith("only totalBalanceByUser is consistent.")


def test_a_consistent_table_says_so_and_no_figures_is_an_error() -> None:
    """All rows following gives the all-clear; nothing to conclude from is refused, not glossed over."""
    consistent = [c for c in check_table() if c.follows]
    assert EXPERIMENT.conclude(_as_figures(figures(consistent))).startswith("All 1 row of")
    with pytest.raises(ValueError, match="no table figures"):
        EXPERIMENT.conclude({})


def test_it_runs_nothing() -> None:
    """No variants, no migrations: the engine has nothing to time for it."""
    assert EXPERIMENT.variants == () and EXPERIMENT.migrations == () and EXPERIMENT.ratios == ()
