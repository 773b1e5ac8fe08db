"""The guide's performance table checked against itself: does each row's stated % follow from its own milliseconds?

A row says a query takes ``cold_ms`` uncached and ``warm_ms`` cached, and that
caching improves it by ``improvement_pct``. The improvement is
``(cold - warm) / cold``; with cold anywhere in its range and warm anywhere in
its range, it is anywhere in::

    implied = (1 - warm_high / cold_low, 1 - warm_low / cold_high)

A row's stated range *follows* when it covers the implied range: every pair of
its own figures gives an improvement it states. findById's 5 -> 1 ms is 80%,
below the stated 90-95%; findByUserIdAndTokenId's 3 -> 0.5 ms is 83%, below
85-90%; findByUserId's 10 -> 2 ms (80%) and 20 -> 1 ms (95%) both fall outside
85-90%. Only totalBalanceByUser (90-95% stated and implied) is consistent.

These are pure functions of the guide's claims (``balance_bench.guide.LATENCY_CLAIMS``): the report
shows the table checked in a section of its own, and judges measurements against both readings, the
stated range and the implied one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from balance_bench.guide import LATENCY_CLAIMS, LatencyClaim, Range

__all__ = ["TableCheck", "implied_improvement", "check_claim", "check_table", "conclusion", "TOLERANCE_PCT"]

TOLERANCE_PCT = 1e-9
"""Float slack when comparing percentages: the rule is exact, the arithmetic is binary."""


@dataclass(frozen=True)
class TableCheck:
    """One row of the guide's table: its stated improvement and the one its own milliseconds imply."""

    query: str
    guide_name: str
    cold_ms: Range
    warm_ms: Range
    stated_pct: Range
    implied_pct: Range

    @property
    def follows(self) -> bool:
        """True when the stated range covers every improvement the row's own milliseconds allow."""
        return (self.stated_pct[0] <= self.implied_pct[0] + TOLERANCE_PCT
                and self.implied_pct[1] <= self.stated_pct[1] + TOLERANCE_PCT)

    def note(self) -> str:
        """Why the row does not follow (the extreme pairs outside the stated range), or that it does."""
        (c_lo, c_hi), (w_lo, w_hi), (s_lo, s_hi) = self.cold_ms, self.warm_ms, self.stated_pct
        lo, hi = self.implied_pct
        outside = []
        if lo < s_lo - TOLERANCE_PCT:
            outside.append(f"{c_lo:g} -> {w_hi:g} ms is {lo:.0f}%, below {s_lo:g}%")
        if hi > s_hi + TOLERANCE_PCT:
            outside.append(f"{c_hi:g} -> {w_lo:g} ms is {hi:.0f}%, above {s_hi:g}%")
        if not outside:
            return f"{self.guide_name}: its milliseconds imply {lo:.0f}-{hi:.0f}%, within the stated {s_lo:g}-{s_hi:g}%"
        return f"{self.guide_name}: " + "; ".join(outside)


def implied_improvement(cold_ms: Range, warm_ms: Range) -> Range:
    """The improvement range in percent that any cold in ``cold_ms`` and warm in ``warm_ms`` give."""
    (c_lo, c_hi), (w_lo, w_hi) = cold_ms, warm_ms
    if not 0 < c_lo <= c_hi or not 0 <= w_lo <= w_hi:
        raise ValueError(f"ranges must be ordered and positive: cold {cold_ms}, warm {warm_ms}")
    return (100.0 * (1.0 - w_hi / c_lo), 100.0 * (1.0 - w_lo / c_hi))


def check_claim(claim: LatencyClaim) -> TableCheck:
    """The consistency of one row of the table."""
    return TableCheck(claim.query, claim.guide_name, claim.cold_ms, claim.warm_ms, claim.improvement_pct,
                      implied_improvement(claim.cold_ms, claim.warm_ms))


def check_table(claims: Iterable[LatencyClaim] | None = None) -> tuple[TableCheck, ...]:
    """Every row of the guide's table (or of ``claims``), checked, in the table's order."""
    return tuple(check_claim(c) for c in (LATENCY_CLAIMS.values() if claims is None else claims))


def conclusion(checks: Iterable[TableCheck]) -> str:
    """One sentence for the report: which rows' stated improvement does not follow from their own milliseconds."""
    rows = tuple(checks)
    if not rows:
        raise ValueError("no rows of the guide's table to conclude from")
    bad = [c for c in rows if not c.follows]
    if not bad:
        return (f"All {len(rows)} row{'s' if len(rows) != 1 else ''} of the guide's table state improvements that "
                "follow from their milliseconds.")
    detail = "; ".join(f"{c.guide_name} states {c.stated_pct[0]:g}-{c.stated_pct[1]:g}% where its milliseconds imply "
                       f"{c.implied_pct[0]:.0f}-{c.implied_pct[1]:.0f}%" for c in bad)
    good = [c.guide_name for c in rows if c.follows]
    tail = f"; only {', '.join(good)} {'is' if len(good) == 1 else 'are'} consistent" if good else ""
    return f"{len(bad)} of the guide's {len(rows)} rows contradict their own milliseconds: {detail}{tail}."
