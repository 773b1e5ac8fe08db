"""The guide's table against its own milliseconds: known answers for every row, and the rule on both sides."""

from __future__ import annotations

import pytest

from balance_bench.reports.expectations import LatencyClaim
from balance_bench.reports.guide_table import check_claim, check_table, figures, implied_improvement


def test_each_rows_implied_range_is_computed_from_its_extremes() -> None:
    """findById 5-10 -> 0.5-1 ms implies 80-95%; the pair row 3-5 -> 0.5 ms implies 83.3-90%."""
    assert implied_improvement((5.0, 10.0), (0.5, 1.0)) == pytest.approx((80.0, 95.0))
    assert implied_improvement((10.0, 20.0), (1.0, 2.0)) == pytest.approx((80.0, 95.0))
    assert implied_improvement((3.0, 5.0), (0.5, 0.5)) == pytest.approx((100 * (1 - 0.5 / 3), 90.0))
    assert implied_improvement((5.0, 10.0), (0.5, 0.5)) == pytest.approx((90.0, 95.0))


def test_the_guides_table_has_three_inconsistent_rows_and_one_consistent() -> None:
    """findById, findByUserId and findByUserIdAndTokenId do not follow; totalBalanceByUser does."""
    verdicts = {c.guide_name: c.follows for c in check_table()}
    assert verdicts == {"findById": False, "findByUserId": False, "findByUserIdAndTokenId": False,
                        "totalBalanceByUser": True}
    notes = {c.guide_name: c.note() for c in check_table()}
    assert notes["findById"] == "findById: 5 -> 1 ms is 80%, below 90%"
    assert notes["findByUserIdAndTokenId"] == "findByUserIdAndTokenId: 3 -> 0.5 ms is 83%, below 85%"
    assert "20 -> 1 ms is 95%, above 90%" in notes["findByUserId"]
    assert "within the stated 90-95%" in notes["totalBalanceByUser"]


@pytest.mark.parametrize(("stated", "follows"), [
    ((80.0, 95.0), True),  # exactly the implied range
    ((75.0, 100.0), True),  # wider
    ((80.1, 95.0), False),  # low bound just above the implied low
    ((80.0, 94.9), False),  # high bound just below the implied high
])
def test_a_row_follows_only_when_its_stated_range_covers_the_implied_one(stated: tuple[float, float],
                                                                         follows: bool) -> None:
    """Both bounds are checked, on both sides of the line."""
    claim = LatencyClaim("q", "q", (5.0, 10.0), (0.5, 1.0), stated)
    assert check_claim(claim).follows is follows


def test_unordered_or_non_positive_ranges_are_refused() -> None:
    """A cold range starting at zero or a reversed range has no improvement to derive."""
    with pytest.raises(ValueError, match="ordered and positive"):
        implied_improvement((0.0, 5.0), (0.5, 0.5))
    with pytest.raises(ValueError, match="ordered and positive"):
        implied_improvement((5.0, 3.0), (0.5, 0.5))


def test_figures_carry_both_readings_per_row() -> None:
    """Each row gives its stated and implied bounds and whether it follows, under table.<guideName>."""
    values = figures(check_table())
    assert values["table.findById.implied_low"] == pytest.approx(80.0)
    assert values["table.findById.stated_low"] == 90.0 and values["table.findById.follows"] == 0.0
    assert values["table.totalBalanceByUser.follows"] == 1.0
    assert len(values) == 4 * 5
