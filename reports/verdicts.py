"""The guide's claims judged against one run: per read query, scale and parameter kind.

What is judged, and from which cases (all with the optimized projection):

* cache improvement = (cold - warm) / cold with migration 012 applied, where
  ``cold`` is a cache miss (database read + cache fill) and ``warm`` a hit,
  against the guide's improvement range: ``met``, ``better`` or ``short``;
* the absolute cold and warm medians against the guide's milliseconds:
  ``below``, ``within`` or ``above``. The guide's figures include a network
  hop to the servers; a local socket is far faster, so "below" is expected and
  said so in the text rather than scaled away;
* migration 012's effect on the database path (``nocache`` without vs with,
  ratio and Mann-Whitney p on the raw timings);
* whether the with-012 plan uses the index the guide claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from balance_bench.reports.compare import ALPHA, mann_whitney_p
from balance_bench.reports.expectations import LatencyClaim, Range, index_claim, latency_claim
from balance_bench.reports.runs import Run
from balance_bench.results import CaseResult

__all__ = ["APPROX_TOLERANCE", "Verdict", "judge_range", "improvement_verdict", "verdicts", "verdicts_frame",
           "transport_floor"]

APPROX_TOLERANCE = 0.2
"""A single "~x" value in the guide is read as x +/- 20%: it states no spread, and exact equality would be absurd."""

WITH, WITHOUT = "with_012", "without_012"


def _bounds(expected: Range) -> Range:
    low, high = expected
    if low == high:
        return low * (1 - APPROX_TOLERANCE), high * (1 + APPROX_TOLERANCE)
    return low, high


def judge_range(value: float, expected: Range) -> str:
    """``below``, ``within`` or ``above`` the guide's range (a single "~x" value gets the tolerance)."""
    low, high = _bounds(expected)
    return "below" if value < low else "above" if value > high else "within"


def improvement_verdict(measured_pct: float, expected: Range) -> str:
    """``short`` of the claimed improvement, ``met`` it, or ``better`` than claimed."""
    return {"below": "short", "within": "met", "above": "better"}[judge_range(measured_pct, expected)]


@dataclass(frozen=True)
class Verdict:
    """The guide's claims about one query, checked at one scale and parameter kind."""

    query: str
    guide_name: str | None
    scale: str
    param_kind: str
    claim: LatencyClaim | None
    cold_ms: float | None
    warm_ms: float | None
    improvement_pct: float | None
    improvement: str | None  # met / better / short; None without a claim or without cold and warm cases
    cold_vs_guide: str | None  # below / within / above
    warm_vs_guide: str | None
    nocache_without_ms: float | None
    nocache_with_ms: float | None
    migration_p: float | None
    claimed_index: str | None
    indexes_used: tuple[str, ...]  # in the with-012 plan
    index_used: bool | None  # None: no claim, or no with-012 plan
    legacy_ms: float | None  # the `balances.*` projection, no cache, with 012
    text: str
    same_plan: bool | None = None  # the no-cache plans without and with 012 have the same shape and indexes

    @property
    def migration_speedup(self) -> float | None:
        """Without-012 median over with-012 median on the database path: above 1 means 012 helps."""
        if self.nocache_without_ms is None or not self.nocache_with_ms:
            return None
        return self.nocache_without_ms / self.nocache_with_ms

    @property
    def migration_significant(self) -> bool | None:
        return None if self.migration_p is None else self.migration_p < ALPHA

    @property
    def migration_effect(self) -> str:
        """``faster``, ``slower``, ``no significant change``, ``same plan`` or ``not measured``.

        ``same plan``: 012 did not change the plan, so any difference is run-to-run drift, not the migration.
        """
        speedup = self.migration_speedup
        if speedup is None:
            return "not measured"
        if self.same_plan:
            return "same plan"
        if self.migration_significant is False:
            return "no significant change"
        return "faster" if speedup > 1 else "slower"

    @property
    def projection_speedup(self) -> float | None:
        """Legacy ``balances.*`` median over explicit columns: above 1 means explicit columns help."""
        if self.legacy_ms is None or not self.nocache_with_ms:
            return None
        return self.legacy_ms / self.nocache_with_ms


def transport_floor(run: Run, scale: str) -> dict[str, float]:
    """Median of each raw-client reference case at ``scale``: the least any case can cost on this machine."""
    return {c.query: c.median_ms for c in run.summary.cases if c.kind == "reference" and c.scale == scale}


def _fmt_ms(value: float) -> str:
    return f"{value:.3g} ms"


def _fmt_range(expected: Range, unit: str) -> str:
    low, high = expected
    return f"~{low:g}{unit}" if low == high else f"~{low:g}-{high:g}{unit}"


def _latency_text(v: Verdict, floor: dict[str, float]) -> list[str]:
    claim = v.claim
    if claim is None:
        return ["The guide's performance table has no row for this query."]
    if v.cold_ms is None or v.warm_ms is None or v.improvement_pct is None:
        return ["The run has no cold and warm cases for this query, so the guide's table cannot be checked."]
    parts = [
        f"Cache improvement {v.improvement_pct:.1f}% against the guide's {_fmt_range(claim.improvement_pct, '%')}: "
        + {"met": "met.", "better": "better than claimed.", "short": "short of the claim."}[v.improvement or "short"],
        f"Cold {_fmt_ms(v.cold_ms)} (guide {_fmt_range(claim.cold_ms, 'ms')}), "
        f"warm {_fmt_ms(v.warm_ms)} (guide {_fmt_range(claim.warm_ms, 'ms')}).",
    ]
    positions = {v.cold_vs_guide, v.warm_vs_guide}
    if positions == {"below"}:
        parts.append(
            "Both are below the guide's milliseconds: this run reaches PostgreSQL and Redis over a local socket, "
            "with no network hop, so the guide's absolute figures do not transfer here; judge it by the improvement."
        )
        if v.improvement == "short":
            parts.append("A local database read is already cheap, so a cache hit has less to save than over a network.")
    elif "above" in positions:
        which = " and ".join(n for n, p in (("cold", v.cold_vs_guide), ("warm", v.warm_vs_guide)) if p == "above")
        parts.append(f"The {which} median is above the guide's figure even without a network hop.")
    else:
        parts.append("The absolute times fall within or below the guide's, although a local socket has no network hop.")
    if floor:
        names = {"raw_redis_get": "Redis GET", "raw_pg_select_1": "PostgreSQL SELECT 1"}
        shown = [f"{label} {_fmt_ms(floor[q])}" for q, label in names.items() if q in floor]
        if shown:
            parts.append(f"This machine's floor: {', '.join(shown)}.")
    return parts


def _migration_text(v: Verdict) -> str:
    speedup = v.migration_speedup
    if speedup is None:
        return "Migration 012's effect was not measured (no nocache case without and with it)."
    p = "p n/a" if v.migration_p is None else f"p={v.migration_p:.2g}"
    head = (f"Migration 012 on the database path: {_fmt_ms(v.nocache_without_ms or 0)} without, "
            f"{_fmt_ms(v.nocache_with_ms or 0)} with")
    effect = v.migration_effect
    if effect == "same plan":
        return (f"{head} ({speedup:.2f}x, {p}), but the plan is the same both ways "
                f"({', '.join(v.indexes_used) or 'no index'}): the difference is drift, not migration 012.")
    if effect == "no significant change":
        return f"{head}: no significant difference ({speedup:.2f}x, {p})."
    if effect == "faster":
        return f"{head}: {speedup:.2f}x faster ({p})."
    if effect == "slower":
        return f"{head}: {1 / speedup:.2f}x slower ({p})."
    return f"{head} ({speedup:.2f}x; too few raw timings to test)."


def _index_text(v: Verdict) -> str | None:
    if v.claimed_index is None:
        return None
    if v.index_used is None:
        return f"The guide says it uses {v.claimed_index}; no with-012 plan was captured to check."
    if v.index_used:
        return f"The with-012 plan uses {v.claimed_index}, as the guide claims."
    used = ", ".join(v.indexes_used) if v.indexes_used else "no index"
    return f"The guide says it uses {v.claimed_index}; the with-012 plan uses {used}."


def _projection_text(v: Verdict) -> str | None:
    speedup = v.projection_speedup
    if speedup is None:
        return None
    return (f"Explicit columns instead of balances.* (no cache, with 012): {_fmt_ms(v.legacy_ms or 0)} -> "
            f"{_fmt_ms(v.nocache_with_ms or 0)} ({speedup:.2f}x).")


def _same_plan(before: CaseResult | None, after: CaseResult | None) -> bool | None:
    if before is None or after is None or not (before.plan_file and after.plan_file):
        return None
    return (before.node_types, before.indexes_used) == (after.node_types, after.indexes_used)


def _judge(run: Run, query: str, scale: str, param_kind: str, cases: dict[tuple[str, str, str], CaseResult],
           floor: dict[str, float]) -> Verdict:
    def case(cache: str, migration: str, projection: str = "optimized") -> CaseResult | None:
        return cases.get((cache, migration, projection))

    cold, warm = case("cold", WITH), case("warm", WITH)
    before, after, legacy = case("nocache", WITHOUT), case("nocache", WITH), case("nocache", WITH, "legacy")
    claim = latency_claim(query)
    cold_ms = cold.median_ms if cold else None
    warm_ms = warm.median_ms if warm else None
    improvement = (cold_ms - warm_ms) / cold_ms * 100 if cold_ms and warm_ms is not None else None
    planned = [c for c in (after, cold) if c is not None and c.plan_file]
    indexes = tuple(planned[0].indexes_used) if planned else ()
    claimed = index_claim(query)
    verdict = Verdict(
        query=query,
        guide_name=claim.guide_name if claim else (claimed.guide_name if claimed else None),
        scale=scale,
        param_kind=param_kind,
        claim=claim,
        cold_ms=cold_ms,
        warm_ms=warm_ms,
        improvement_pct=improvement,
        improvement=improvement_verdict(improvement, claim.improvement_pct) if claim and improvement is not None else None,
        cold_vs_guide=judge_range(cold_ms, claim.cold_ms) if claim and cold_ms is not None else None,
        warm_vs_guide=judge_range(warm_ms, claim.warm_ms) if claim and warm_ms is not None else None,
        nocache_without_ms=before.median_ms if before else None,
        nocache_with_ms=after.median_ms if after else None,
        migration_p=mann_whitney_p(run.raw_timings(before), run.raw_timings(after)) if before and after else None,
        claimed_index=claimed.index if claimed else None,
        indexes_used=indexes,
        index_used=(claimed.index in indexes) if claimed and planned else None,
        legacy_ms=legacy.median_ms if legacy else None,
        text="",
        same_plan=_same_plan(before, after),
    )
    lines = [*_latency_text(verdict, floor), _migration_text(verdict), _index_text(verdict), _projection_text(verdict)]
    return replace(verdict, text=" ".join(line for line in lines if line))


def verdicts(run: Run) -> list[Verdict]:
    """One verdict per read (query, scale, param_kind) of the run, in the run's order."""
    groups: dict[tuple[str, str, str], dict[tuple[str, str, str], CaseResult]] = {}
    for case in run.summary.cases:
        if case.kind != "read":
            continue
        groups.setdefault((case.query, case.scale, case.param_kind), {})[
            (case.cache, case.migration, case.projection)] = case
    floors: dict[str, dict[str, float]] = {}
    result = []
    for (query, scale, param_kind), cases in groups.items():
        floor = floors.setdefault(scale, transport_floor(run, scale))
        result.append(_judge(run, query, scale, param_kind, cases, floor))
    return result


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def verdicts_frame(items: Sequence[Verdict]) -> pd.DataFrame:
    """The verdict table: one row per verdict, guide figures beside the measured ones."""
    rows = []
    for v in items:
        claim = v.claim
        rows.append({
            "query": v.guide_name or v.query,
            "scale": v.scale,
            "params": v.param_kind,
            "cold ms": v.cold_ms,
            "guide cold": _fmt_range(claim.cold_ms, " ms") if claim else None,
            "warm ms": v.warm_ms,
            "guide warm": _fmt_range(claim.warm_ms, " ms") if claim else None,
            "improvement %": v.improvement_pct,
            "guide improvement": _fmt_range(claim.improvement_pct, "%") if claim else None,
            "improvement verdict": v.improvement,
            "absolute ms vs guide": (f"cold {v.cold_vs_guide}, warm {v.warm_vs_guide}"
                                     if v.cold_vs_guide and v.warm_vs_guide else None),
            "012 speedup (no cache)": v.migration_speedup,
            "012 effect": v.migration_effect,
            "claimed index": v.claimed_index,
            "index used": _yes_no(v.index_used),
        })
    return pd.DataFrame(rows)
