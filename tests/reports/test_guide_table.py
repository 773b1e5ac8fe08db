"""The guide's table against its own milliseconds: known answers for every row, and the rule on both sides."""

from __future__ import annotations

import pytest

from balance_bench.guide import LatencyClaim
from balance_bench.reports.guide_table import check_claim, check_table, conclusion, implied_improvement


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


def test_the_guides_table_concludes_with_three_contradictions() -> None:
    """From the real table: findById, findByUserId and findByUserIdAndTokenId; totalBalanceByUser is consistent."""
    sentence = conclusion(check_table())
    assert sentence.startswith("3 of the guide's 4 rows contradict their own milliseconds")
    assert "findById states 90-95% where its milliseconds imply 80-95%" in sentence
    assert "findByUserIdAndTokenId states 85-90% where its milliseconds imply 83-90%" in sentence
    assert sentence.endswith("only totalBalanceByUser is consistent.")


def test_a_consistent_table_says_so_and_no_rows_is_an_error() -> None:
    """All rows following gives the all-clear (one row, singular); nothing to conclude from is refused."""
    consistent = [c for c in check_table() if c.follows]
    assert conclusion(consistent) == ("All 1 row of the guide's table state improvements that follow from their "
                                      "milliseconds.")
    assert conclusion(check_table()[-1:] * 2).startswith("All 2 rows of")
    with pytest.raises(ValueError, match="no rows"):
        conclusion([])


def test_two_consistent_rows_are_named_with_are() -> None:
    """With two consistent rows beside an inconsistent one, the tail names both."""
    rows = [*check_table()[:1], *[c for c in check_table() if c.follows] * 2]
    assert conclusion(rows).endswith("only totalBalanceByUser, totalBalanceByUser are consistent.")
