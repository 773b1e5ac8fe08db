"""The guide's claims judged against one run, per read question (query, scale, parameter kind), with confidence.

Each claim is judged by its own function into its own small record, from its own cases (all with the
optimized projection unless said), so a reader of one claim depends on no other claim's figures:

* ``judge_cache`` -> ``CacheVerdict``: the cache improvement = (cold - warm) / cold with migration 012
  applied, where ``cold`` is a cache miss (database read + cache fill) and ``warm`` a hit, computed within
  each trial and stated with its interval across trials, against the guide's improvement range; and the
  absolute cold and warm latencies against the guide's milliseconds. The guide's figures include a network
  hop to the servers; a local socket is far faster, so "below" is expected and said so in the text rather
  than scaled away;
* ``judge_consistency`` -> ``ConsistencyVerdict``: the same improvement against the range the table's own
  milliseconds imply (``guide_table``: three of its four rows state a range their milliseconds contradict);
* ``judge_guide_cache`` -> ``GuideCacheVerdict``: the same improvement for the guide's own cache design
  (``guide_cold``: a plain GET, then SET with TTL, against the same warm hit, which is a plain GET in both
  designs), and the price of our race-free fill per miss: ours-cold / guide-cold within each trial, with its
  interval;
* ``judge_migration`` -> ``MigrationVerdict``: migration 012's effect on the database path (``nocache``
  without / with, within each trial);
* ``judge_index`` -> ``IndexVerdict``: whether the with-012 plan uses the index the guide claims;
* ``judge_projection`` -> ``ProjectionVerdict``: explicit columns instead of ``balances.*`` (no cache, with
  012), legacy / explicit within each trial;
* ``network_verdict`` -> ``NetworkVerdict``: the cache claims (and 012's) re-judged with a network profile's
  round trips added to both sides, trial by trial.

``verdicts`` gathers them per question into a ``QueryVerdicts``: the question, the guide's row for it, one
record per claim (None where the run has nothing to judge that claim by) and the report's sentences about
them. Rendering (``claims``, ``claim_tables``, ``verdicts_frame``, the report's templates) only reads the
records, so a label is decided here once.

A figure is judged by its whole interval: ``met`` only when the interval lies
inside the guide's range, ``short`` only when it lies below, ``better`` above,
and ``inconclusive`` when it straddles a bound or there is no interval (a
single trial). Likewise 012 is ``faster`` only when its speedup's interval lies
above 1, and ``same plan`` when the plans without and with 012 have the same
node types and indexes, whatever the timings say: then the migration changed
nothing the query does, and any difference is drift. Within a run the plans
are stable: the run's private copies have autovacuum off, so no autoanalyze
changes the statistics between the capture and the trials.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from balance_bench.coordinates import LEGACY, OPTIMIZED, CacheState, Coordinates, Kind, Migration
from balance_bench.guide import IndexClaim, LatencyClaim, Range, index_claim, latency_claim
from balance_bench.network import Profile, projected_trials
from balance_bench.reports.guide_table import check_claim
from balance_bench.reports.runs import Run
from balance_bench.results import CaseResult
from balance_bench.statistics import Estimate, geometric_estimate, improvement_estimate, ratio_estimate

__all__ = [
    "APPROX_TOLERANCE",
    "BELOW",
    "WITHIN",
    "ABOVE",
    "MET",
    "BETTER",
    "SHORT",
    "INCONCLUSIVE",
    "FASTER",
    "SLOWER",
    "SAME_PLAN",
    "NOT_MEASURED",
    "QueryVerdicts",
    "CacheVerdict",
    "ConsistencyVerdict",
    "GuideCacheVerdict",
    "MigrationVerdict",
    "IndexVerdict",
    "ProjectionVerdict",
    "NetworkVerdict",
    "judge_cache",
    "judge_consistency",
    "judge_guide_cache",
    "judge_migration",
    "judge_index",
    "judge_projection",
    "network_verdict",
    "judged_range",
    "judge_interval",
    "straddled_bound",
    "improvement_verdict",
    "speedup_verdict",
    "migration_verdict",
    "verdicts",
    "verdicts_frame",
    "transport_floor",
    "format_estimate",
]

APPROX_TOLERANCE = 0.2
"""A single "~x" value in the guide is read as x +/- 20%: it states no spread, and exact equality would be absurd."""

BELOW, WITHIN, ABOVE = "below", "within", "above"
MET, BETTER, SHORT, INCONCLUSIVE = "met", "better", "short", "inconclusive"
FASTER, SLOWER, SAME_PLAN, NOT_MEASURED = "faster", "slower", "same plan", "not measured"
_IMPROVEMENT = {BELOW: SHORT, WITHIN: MET, ABOVE: BETTER, INCONCLUSIVE: INCONCLUSIVE}


def judged_range(expected: Range) -> Range:
    """The guide's range as every verdict judges it: as stated, or x +/- ``APPROX_TOLERANCE`` for a single "~x"."""
    low, high = expected
    if low == high:
        return low * (1 - APPROX_TOLERANCE), high * (1 + APPROX_TOLERANCE)
    return low, high


def judge_interval(estimate: Estimate, expected: Range) -> str:
    """``below``, ``within`` or ``above`` the guide's range when the whole interval is; else ``inconclusive``."""
    if estimate.low is None or estimate.high is None:
        return INCONCLUSIVE
    low, high = judged_range(expected)
    if estimate.high < low:
        return BELOW
    if estimate.low > high:
        return ABOVE
    if low <= estimate.low and estimate.high <= high:
        return WITHIN
    return INCONCLUSIVE


def straddled_bound(estimate: Estimate, expected: Range) -> float | None:
    """The bound of the guide's range (as judged, ``judged_range``) whose side the interval cannot decide.

    The interval leaves the lower bound undecided when it crosses it (``low < bound <= high``: neither wholly
    below nor wholly at or above), the upper bound when ``low <= bound < high``; of two, the one nearer the
    estimate (the lower on a tie). Its distance from the estimate is what more trials must resolve. None
    without an interval or when the interval decides both bounds.
    """
    if estimate.low is None or estimate.high is None:
        return None
    lower, upper = judged_range(expected)
    open_bounds = [b for b, undecided in ((lower, estimate.low < lower <= estimate.high),
                                          (upper, estimate.low <= upper < estimate.high)) if undecided]
    return min(open_bounds, key=lambda b: abs(b - estimate.value)) if open_bounds else None


def improvement_verdict(estimate: Estimate, expected: Range) -> str:
    """``short`` of the claimed improvement, ``met``, ``better`` than claimed, or ``inconclusive``."""
    return _IMPROVEMENT[judge_interval(estimate, expected)]


def speedup_verdict(speedup: Estimate) -> str:
    """``faster`` when the whole interval of a speedup lies above 1, ``slower`` below, else ``inconclusive``.

    A speedup's point estimate on one side of 1 is not enough: drift between trials moves it as far.
    """
    if speedup.low is not None and speedup.low > 1.0:
        return FASTER
    if speedup.high is not None and speedup.high < 1.0:
        return SLOWER
    return INCONCLUSIVE


def migration_verdict(speedup: Estimate, same_plan: bool | None) -> str:
    """``same plan`` when 012 left the plan alone, whatever the timings say; else ``speedup_verdict``'s label."""
    if same_plan:
        return SAME_PLAN
    return speedup_verdict(speedup)


def format_estimate(estimate: Estimate | None, fmt: str = "{:.3g}", unit: str = "") -> str:
    """``value unit [low, high]``, or the value alone when there is no interval."""
    if estimate is None:
        return "—"
    head = fmt.format(estimate.value) + unit
    if estimate.low is None or estimate.high is None:
        return f"{head} (no interval: {estimate.trials} trial{'s' if estimate.trials != 1 else ''})"
    return f"{head} [{fmt.format(estimate.low)}, {fmt.format(estimate.high)}]"


@dataclass(frozen=True)
class CacheVerdict:
    """Our cache against the guide's performance table: what a hit saves over a miss, and both latencies.

    Kept apart from the other claims because it is the guide's headline claim and the only one whose absolute
    figures a local socket cannot reproduce. Present when the run has a cold or a warm case for the question:
    a figure is None when its case is missing (the improvement also when no trial has both), a judgement None
    without the guide's row to judge it by.
    """

    cold: Estimate | None  # a miss (database read + cache fill), ms: geometric mean of the trial medians, interval
    warm: Estimate | None  # a hit, ms
    improvement: Estimate | None  # (cold - warm) / cold, percent, within each trial
    improvement_verdict: str | None  # met / better / short / inconclusive against the table's stated range
    cold_vs_guide: str | None  # below / within / above / inconclusive against the guide's cold milliseconds
    warm_vs_guide: str | None


@dataclass(frozen=True)
class ConsistencyVerdict:
    """The guide's table against itself: the improvement its own cold and warm milliseconds imply, and ours judged
    against that reading too, since three of its four rows state a range their milliseconds contradict.

    Present whenever the guide has a row for the query (the implied range is the guide's own arithmetic);
    ``implied_verdict`` needs a measured improvement.
    """

    implied_pct: Range  # (cold - warm) / cold at the extremes of the row's milliseconds
    implied_verdict: str | None  # the measured improvement against ``implied_pct``


@dataclass(frozen=True)
class GuideCacheVerdict:
    """The guide's own cache design (a plain GET, then SET with TTL) judged against the guide's own table, and
    what our race-free fill (fill token, compare-and-set) costs per miss beside it: the guide's design saves a
    Redis round trip per miss but can let a stale fill overwrite a fresh value.

    Present when the run has a miss through the guide's design; the hit is the same plain GET in both designs.
    """

    cold: Estimate  # a miss through the guide's design, ms
    improvement: Estimate | None  # (guide cold - warm) / guide cold, percent, within each trial
    improvement_verdict: str | None  # against the table's stated range; None without the row or an improvement
    race_free_price: Estimate | None  # ours cold / guide cold within each trial; None without our cold case


@dataclass(frozen=True)
class MigrationVerdict:
    """Migration 012's effect on the database path (no cache): the without / with speedup within each trial, and
    whether the plan changed at all, since a speedup with the same plan both ways is drift, not the migration.

    Present only with a within-trial speedup; without one, 012's effect is not measured.
    """

    without_012: Estimate  # no-cache latency without 012, ms
    with_012: Estimate  # no-cache latency with 012, ms
    speedup: Estimate  # without / with, within each trial: above 1 means 012 helps
    same_plan: bool | None  # the plans without and with 012 have the same node types and indexes; None: one missing
    plan_indexes: tuple[str, ...]  # the with-012 plan's indexes (() without it): what a same plan both ways uses
    effect: str  # faster / slower / same plan / inconclusive (``migration_verdict``)


@dataclass(frozen=True)
class IndexVerdict:
    """The guide's "this query uses index X", checked in the with-012 plan (the no-cache one, else the cold one's):
    deterministic evidence from EXPLAIN, not timing, so it needs no interval.

    Present when the guide claims an index for the query.
    """

    claimed: str  # the index the guide names
    plan_indexes: tuple[str, ...]  # the indexes the with-012 plan uses; () without a plan
    used: bool | None  # whether ``claimed`` is among them; None: no with-012 plan was captured to check


@dataclass(frozen=True)
class ProjectionVerdict:
    """Explicit columns instead of ``balances.*`` with its joins (no cache, with 012): the guide's advice to name
    the columns, judged by the speedup's whole interval like 012's.

    Present when the run has both projections in a common trial.
    """

    speedup: Estimate  # legacy / explicit columns, within each trial: above 1 means explicit columns are faster
    effect: str  # faster / slower / inconclusive (``speedup_verdict``)


@dataclass(frozen=True)
class NetworkVerdict:
    """A query's cache claims re-judged under one network profile: cold and warm projected within each trial.

    ``missing`` says why there is no judgement (the run recorded no traffic for the cold or warm case).
    """

    profile: str
    cold: Estimate | None = None  # projected latency, ms
    warm: Estimate | None = None
    improvement: Estimate | None = None  # percent, from the projected sides within each trial
    improvement_verdict: str | None = None
    cold_vs_guide: str | None = None
    warm_vs_guide: str | None = None
    migration_speedup: Estimate | None = None  # no-cache without / with 012, both projected, within each trial
    migration_effect: str | None = None
    guide_improvement: Estimate | None = None  # the guide's cache design: (guide cold - warm) / guide cold, projected
    guide_improvement_verdict: str | None = None
    race_free_price: Estimate | None = None  # our miss / the guide's miss, both projected, within each trial
    missing: str | None = None

    def cell(self) -> str:
        """One table cell: the verdict, the improvement with its interval, the projected latencies."""
        if self.missing:
            return f"not projected: {self.missing}"
        head = self.improvement_verdict or "no claim"
        figures = format_estimate(self.improvement, "{:.1f}", "%")
        cold = f"{self.cold.value:.3g}" if self.cold else "—"
        warm = f"{self.warm.value:.3g}" if self.warm else "—"
        positions = f" ({self.cold_vs_guide} / {self.warm_vs_guide})" if self.cold_vs_guide else ""
        migration = (f"; 012 {self.migration_effect} {format_estimate(self.migration_speedup, '{:.3g}', 'x')}"
                     if self.migration_speedup and self.migration_effect else "")
        guide = (f"; guide's cache {self.guide_improvement_verdict or 'no claim'}: "
                 f"{format_estimate(self.guide_improvement, '{:.1f}', '%')}, race-free miss ours/guide "
                 f"{format_estimate(self.race_free_price, '{:.3g}', 'x')}" if self.guide_improvement else "")
        return f"{head}: {figures}; cold {cold} ms, warm {warm} ms{positions}{guide}{migration}"


@dataclass(frozen=True)
class QueryVerdicts:
    """Every claim of the guide about one read query, checked at one scale and parameter kind.

    One record per claim, None where the run has nothing to judge that claim by, so each output reads only the
    claims it shows; ``text`` is the report's sentences about them all, written once from the records.
    """

    query: str
    guide_name: str | None  # the guide's method name, from its table row or its index claim
    scale: str
    param_kind: str
    claim: LatencyClaim | None  # the guide's performance-table row: the ranges the cache claims are judged against
    cache: CacheVerdict | None
    consistency: ConsistencyVerdict | None
    guide_cache: GuideCacheVerdict | None
    migration: MigrationVerdict | None
    index: IndexVerdict | None
    projection: ProjectionVerdict | None
    networks: tuple[NetworkVerdict, ...]  # the cache claims per network profile asked for; () without a claim
    text: str


def _projected_speedup(before: CaseResult | None, after: CaseResult | None, profile: Profile) -> Estimate | None:
    if before is None or after is None or before.traffic is None or after.traffic is None:
        return None
    return ratio_estimate(projected_trials(before.trial_medians_ms, before.traffic, profile),
                          projected_trials(after.trial_medians_ms, after.traffic, profile))


def network_verdict(cold: CaseResult | None, warm: CaseResult | None, claim: LatencyClaim | None,
                    profile: Profile, nocache: tuple[CaseResult | None, CaseResult | None] = (None, None),
                    same_plan: bool | None = None, guide_cold: CaseResult | None = None) -> NetworkVerdict:
    """The improvement and absolute figures with ``profile``'s network added to both sides, trial by trial.

    ``nocache`` (without 012, with 012) re-judges migration 012 the same way: a network round trip on both sides
    shrinks its speedup towards 1. ``guide_cold`` (a miss through the guide's cache design, one Redis round trip
    fewer than ours) gives the guide's cache its improvement and race-freedom its price over that network.
    """
    if cold is None or warm is None:
        return NetworkVerdict(profile.name, missing="no cold and warm cases")
    if cold.traffic is None or warm.traffic is None:
        return NetworkVerdict(profile.name, missing="the run recorded no traffic (made before it was counted)")
    speedup = _projected_speedup(*nocache, profile)
    cold_trials = projected_trials(cold.trial_medians_ms, cold.traffic, profile)
    warm_trials = projected_trials(warm.trial_medians_ms, warm.traffic, profile)
    improvement = improvement_estimate(cold_trials, warm_trials)
    guide_trials = (projected_trials(guide_cold.trial_medians_ms, guide_cold.traffic, profile)
                    if guide_cold is not None and guide_cold.traffic is not None else None)
    guide_improvement = improvement_estimate(guide_trials, warm_trials) if guide_trials else None
    cold_ci = geometric_estimate([v for v in cold_trials.values() if v > 0])
    warm_ci = geometric_estimate([v for v in warm_trials.values() if v > 0])
    return NetworkVerdict(
        profile=profile.name, cold=cold_ci, warm=warm_ci, improvement=improvement,
        improvement_verdict=improvement_verdict(improvement, claim.improvement_pct) if claim and improvement else None,
        cold_vs_guide=judge_interval(cold_ci, claim.cold_ms) if claim else None,
        warm_vs_guide=judge_interval(warm_ci, claim.warm_ms) if claim else None,
        migration_speedup=speedup,
        migration_effect=migration_verdict(speedup, same_plan) if speedup else None,
        guide_improvement=guide_improvement,
        guide_improvement_verdict=(improvement_verdict(guide_improvement, claim.improvement_pct)
                                   if claim and guide_improvement else None),
        race_free_price=ratio_estimate(cold_trials, guide_trials) if guide_trials else None,
    )


def _latency(case: CaseResult | None) -> Estimate | None:
    return case.median_ci if case is not None else None


def _ratio(a: CaseResult | None, b: CaseResult | None) -> Estimate | None:
    """``a / b`` within each trial; None without either case or a trial both were measured in."""
    if a is None or b is None:
        return None
    return ratio_estimate(a.trial_medians_ms, b.trial_medians_ms)


def _improvement(cold: CaseResult | None, warm: CaseResult | None) -> Estimate | None:
    """``(cold - warm) / cold`` in percent within each trial; None without either case or a common trial."""
    if cold is None or warm is None:
        return None
    return improvement_estimate(cold.trial_medians_ms, warm.trial_medians_ms)


def _same_plan(before: CaseResult | None, after: CaseResult | None) -> bool | None:
    if before is None or after is None or before.plan is None or after.plan is None:
        return None
    return before.plan.shape == after.plan.shape


def judge_cache(cold: CaseResult | None, warm: CaseResult | None, claim: LatencyClaim | None) -> CacheVerdict | None:
    """Our cache's improvement and latencies (cold and warm with 012) against ``claim``; None without either case.

    Each latency is judged on its own (a cold case alone is still placed against the guide's cold figure); the
    improvement needs both cases in a common trial.
    """
    if cold is None and warm is None:
        return None
    cold_ci, warm_ci = _latency(cold), _latency(warm)
    improvement = _improvement(cold, warm)
    return CacheVerdict(
        cold=cold_ci,
        warm=warm_ci,
        improvement=improvement,
        improvement_verdict=improvement_verdict(improvement, claim.improvement_pct) if claim and improvement else None,
        cold_vs_guide=judge_interval(cold_ci, claim.cold_ms) if claim and cold_ci else None,
        warm_vs_guide=judge_interval(warm_ci, claim.warm_ms) if claim and warm_ci else None,
    )


def judge_consistency(claim: LatencyClaim | None, improvement: Estimate | None) -> ConsistencyVerdict | None:
    """The range ``claim``'s own milliseconds imply, and ``improvement`` judged against it; None without a claim."""
    if claim is None:
        return None
    implied = check_claim(claim).implied_pct
    return ConsistencyVerdict(implied, improvement_verdict(improvement, implied) if improvement else None)


def judge_guide_cache(guide_cold: CaseResult | None, cold: CaseResult | None, warm: CaseResult | None,
                      claim: LatencyClaim | None) -> GuideCacheVerdict | None:
    """The guide's cache design against ``claim`` (its miss ``guide_cold`` against the shared ``warm`` hit), and our
    miss ``cold`` over its miss within each trial; None without a miss through the guide's design."""
    if guide_cold is None:
        return None
    improvement = _improvement(guide_cold, warm)
    return GuideCacheVerdict(
        cold=guide_cold.median_ci,
        improvement=improvement,
        improvement_verdict=improvement_verdict(improvement, claim.improvement_pct) if claim and improvement else None,
        race_free_price=_ratio(cold, guide_cold),
    )


def judge_migration(before: CaseResult | None, after: CaseResult | None) -> MigrationVerdict | None:
    """012's effect from the no-cache cases without (``before``) and with it (``after``); None without a trial
    that measured both."""
    if before is None or after is None:
        return None
    speedup = ratio_estimate(before.trial_medians_ms, after.trial_medians_ms)
    if speedup is None:
        return None
    same = _same_plan(before, after)
    return MigrationVerdict(
        without_012=before.median_ci,
        with_012=after.median_ci,
        speedup=speedup,
        same_plan=same,
        plan_indexes=after.plan.indexes_used if after.plan else (),
        effect=migration_verdict(speedup, same),
    )


def judge_index(claim: IndexClaim | None, after: CaseResult | None, cold: CaseResult | None) -> IndexVerdict | None:
    """``claim``'s index looked up in the with-012 plan: the no-cache case's (``after``), else the cold case's;
    None without a claim."""
    if claim is None:
        return None
    plan = next((c.plan for c in (after, cold) if c is not None and c.plan is not None), None)
    if plan is None:
        return IndexVerdict(claim.index, (), None)
    return IndexVerdict(claim.index, plan.indexes_used, claim.index in plan.indexes_used)


def judge_projection(legacy: CaseResult | None, explicit: CaseResult | None) -> ProjectionVerdict | None:
    """``balances.*`` (``legacy``) over explicit columns (``explicit``), no cache, with 012, within each trial; None
    without a trial that measured both."""
    speedup = _ratio(legacy, explicit)
    return ProjectionVerdict(speedup, speedup_verdict(speedup)) if speedup else None


def transport_floor(run: Run, scale: str) -> dict[str, float]:
    """Median of each raw-client reference case at ``scale``: the least any case can cost on this machine."""
    return {c.coords.query: c.median_ms for c in run.summary.cases
            if c.coords.kind is Kind.REFERENCE and c.coords.scale == scale}


def _fmt_ms(value: float) -> str:
    return f"{value:.3g} ms"


def _fmt_range(expected: Range, unit: str) -> str:
    low, high = expected
    return f"~{low:g}{unit}" if low == high else f"~{low:g}-{high:g}{unit}"


_IMPROVEMENT_TEXT = {MET: "met.", BETTER: "better than claimed.", SHORT: "short of the claim.",
                     INCONCLUSIVE: "inconclusive: the interval straddles a bound of the guide's range (or the run "
                                   "has too few trials for an interval)."}


def _implied_text(claim: LatencyClaim, consistency: ConsistencyVerdict | None) -> str | None:
    if consistency is None or consistency.implied_pct == claim.improvement_pct:
        return None
    low, high = consistency.implied_pct
    return (f"The guide's own {_fmt_range(claim.cold_ms, ' ms')} -> {_fmt_range(claim.warm_ms, ' ms')} imply "
            f"{low:.0f}-{high:.0f}%, not the stated range; against that reading: "
            f"{_IMPROVEMENT_TEXT[consistency.implied_verdict or INCONCLUSIVE]}")


def _latency_text(claim: LatencyClaim | None, cache: CacheVerdict | None, consistency: ConsistencyVerdict | None,
                  floor: dict[str, float]) -> list[str]:
    if claim is None:
        return ["The guide's performance table has no row for this query."]
    if cache is None or cache.improvement is None:  # an improvement needs both a cold and a warm case
        return ["The run has no cold and warm cases for this query, so the guide's table cannot be checked."]
    implied = _implied_text(claim, consistency)
    parts = [
        f"Cache improvement {format_estimate(cache.improvement, '{:.1f}', '%')} against the guide's "
        f"{_fmt_range(claim.improvement_pct, '%')}: {_IMPROVEMENT_TEXT[cache.improvement_verdict or INCONCLUSIVE]}",
        *([implied] if implied else []),
        f"Cold {format_estimate(cache.cold, unit=' ms')} (guide {_fmt_range(claim.cold_ms, 'ms')}), "
        f"warm {format_estimate(cache.warm, unit=' ms')} (guide {_fmt_range(claim.warm_ms, 'ms')}).",
    ]
    positions = {cache.cold_vs_guide, cache.warm_vs_guide}
    if positions == {BELOW}:
        parts.append(
            "Both are below the guide's milliseconds: this run reaches PostgreSQL and Redis over a local socket, "
            "with no network hop, so the guide's absolute figures do not transfer here; judge it by the improvement."
        )
        if cache.improvement_verdict == SHORT:
            parts.append("A local database read is already cheap, so a cache hit has less to save than over a network.")
    elif ABOVE in positions:
        which = " and ".join(n for n, p in ((CacheState.COLD, cache.cold_vs_guide),
                                            (CacheState.WARM, cache.warm_vs_guide)) if p == ABOVE)
        parts.append(f"The {which} latency is above the guide's figure even without a network hop.")
    else:
        parts.append("The absolute times fall within or below the guide's, although a local socket has no network hop.")
    if floor:
        names = {"raw_redis_get": "Redis GET", "raw_pg_select_1": "PostgreSQL SELECT 1"}
        shown = [f"{label} {_fmt_ms(floor[q])}" for q, label in names.items() if q in floor]
        if shown:
            parts.append(f"This machine's floor: {', '.join(shown)}.")
    return parts


def _network_text(cache: CacheVerdict | None, networks: Sequence[NetworkVerdict]) -> str | None:
    judged = [n for n in networks if n.improvement_verdict]
    if not judged or cache is None or cache.improvement_verdict is None:
        return None
    at = ", ".join(f"{n.improvement_verdict} at {n.profile}" for n in judged)
    return (f"Projected over a network ({'; '.join(n.profile for n in judged)}): {cache.improvement_verdict} "
            f"locally, {at}.")


def _guide_cache_text(claim: LatencyClaim | None, guide: GuideCacheVerdict | None) -> str | None:
    if guide is None:
        return None
    parts = ["With the guide's own cache (GET, then SET with TTL) a miss takes "
             f"{format_estimate(guide.cold, unit=' ms')}"]
    if guide.improvement is not None and claim is not None:
        verdict = _IMPROVEMENT_TEXT[guide.improvement_verdict or INCONCLUSIVE]
        parts.append(f", improvement {format_estimate(guide.improvement, '{:.1f}', '%')}: {verdict}")
    else:
        parts.append(".")
    if guide.race_free_price is not None:
        price = guide.race_free_price
        parts.append(f" Our race-free fill (fill token, compare-and-set) costs a miss "
                     f"{format_estimate(price, '{:.3g}', 'x')} the guide's ({_price_word(price)}).")
    return "".join(parts)


def _price_word(price: Estimate) -> str:
    if price.low is not None and price.low > 1.0:
        return "dearer"
    if price.high is not None and price.high < 1.0:
        return "cheaper"
    return "inconclusive: the interval includes 1"


def _migration_text(migration: MigrationVerdict | None) -> str:
    if migration is None:
        return "Migration 012's effect was not measured (no nocache case without and with it)."
    head = (f"Migration 012 on the database path: {_fmt_ms(migration.without_012.value)} without, "
            f"{_fmt_ms(migration.with_012.value)} with, speedup {format_estimate(migration.speedup, '{:.3g}', 'x')}")
    effect = migration.effect
    if effect == SAME_PLAN:
        return (f"{head}, but the plan is the same both ways ({', '.join(migration.plan_indexes) or 'no index'}): "
                "any difference is drift, not migration 012.")
    if effect == FASTER:
        return f"{head}: faster with 012."
    if effect == SLOWER:
        return f"{head}: slower with 012."
    return f"{head}: inconclusive, the interval includes 1."


def _index_text(index: IndexVerdict | None) -> str | None:
    if index is None:
        return None
    if index.used is None:
        return f"The guide says it uses {index.claimed}; no with-012 plan was captured to check."
    if index.used:
        return f"The with-012 plan uses {index.claimed}, as the guide claims."
    used = ", ".join(index.plan_indexes) if index.plan_indexes else "no index"
    return f"The guide says it uses {index.claimed}; the with-012 plan uses {used}."


def _projection_text(projection: ProjectionVerdict | None) -> str | None:
    if projection is None:
        return None
    return (f"Explicit columns instead of balances.* (no cache, with 012): "
            f"{format_estimate(projection.speedup, '{:.3g}', 'x')} faster.")


def _judge(run: Run, read: Coordinates, floor: dict[str, float], profiles: Sequence[Profile] = ()) -> QueryVerdicts:
    def case(cache: CacheState, migration: Migration, projection: str = OPTIMIZED) -> CaseResult | None:
        return run.case(read.with_(cache=cache, migration=migration, projection=projection))

    cold, warm = case(CacheState.COLD, Migration.WITH_012), case(CacheState.WARM, Migration.WITH_012)
    before, after = case(CacheState.NOCACHE, Migration.WITHOUT_012), case(CacheState.NOCACHE, Migration.WITH_012)
    legacy = case(CacheState.NOCACHE, Migration.WITH_012, LEGACY)
    guide_cold = case(CacheState.GUIDE_COLD, Migration.WITH_012)
    claim, claimed = latency_claim(read.query), index_claim(read.query)
    cache = judge_cache(cold, warm, claim)
    consistency = judge_consistency(claim, cache.improvement if cache else None)
    guide = judge_guide_cache(guide_cold, cold, warm, claim)
    migration = judge_migration(before, after)
    index = judge_index(claimed, after, cold)
    projection = judge_projection(legacy, after)
    networks = tuple(network_verdict(cold, warm, claim, p, (before, after), _same_plan(before, after), guide_cold)
                     for p in profiles) if claim else ()
    lines = [*_latency_text(claim, cache, consistency, floor), _network_text(cache, networks),
             _guide_cache_text(claim, guide), _migration_text(migration), _index_text(index),
             _projection_text(projection)]
    return QueryVerdicts(
        query=read.query,
        guide_name=claim.guide_name if claim else (claimed.guide_name if claimed else None),
        scale=read.scale,
        param_kind=read.param_kind,
        claim=claim,
        cache=cache,
        consistency=consistency,
        guide_cache=guide,
        migration=migration,
        index=index,
        projection=projection,
        networks=networks,
        text=" ".join(line for line in lines if line),
    )


def verdicts(run: Run, profiles: Sequence[Profile] = ()) -> list[QueryVerdicts]:
    """One ``QueryVerdicts`` per read (query, scale, param_kind) of the guide's matrix in the run, in the run's order.

    With ``profiles``, each question with a claim is also re-judged per network profile (``networks``).
    """
    questions: dict[tuple[str, str, str], Coordinates] = {}
    for case in run.summary.cases:
        c = case.coords
        if c.kind is Kind.READ and not c.experiment:
            questions.setdefault((c.query, c.scale, c.param_kind),
                                 c.with_(cache=CacheState.NOCACHE, migration=Migration.WITH_012, projection=OPTIMIZED))
    floors: dict[str, dict[str, float]] = {}
    return [_judge(run, read, floors.setdefault(read.scale, transport_floor(run, read.scale)), profiles)
            for read in questions.values()]


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _value(estimate: Estimate | None) -> float | None:
    return estimate.value if estimate else None


def _low(estimate: Estimate | None) -> float | None:
    return estimate.low if estimate else None


def _high(estimate: Estimate | None) -> float | None:
    return estimate.high if estimate else None


def verdicts_frame(items: Sequence[QueryVerdicts]) -> pd.DataFrame:
    """The verdict table: one row per question, intervals and the guide's figures beside the measured ones."""
    rows = []
    for v in items:
        claim, cache, guide, consistency, migration = v.claim, v.cache, v.guide_cache, v.consistency, v.migration
        improvement = cache.improvement if cache else None
        guide_improvement = guide.improvement if guide else None
        price = guide.race_free_price if guide else None
        speedup = migration.speedup if migration else None
        rows.append({
            "query": v.guide_name or v.query,
            "scale": v.scale,
            "params": v.param_kind,
            "cold ms": _value(cache.cold) if cache else None,
            "guide cold": _fmt_range(claim.cold_ms, " ms") if claim else None,
            "warm ms": _value(cache.warm) if cache else None,
            "guide warm": _fmt_range(claim.warm_ms, " ms") if claim else None,
            "improvement %": _value(improvement),
            "improvement low %": _low(improvement),
            "improvement high %": _high(improvement),
            "guide improvement": _fmt_range(claim.improvement_pct, "%") if claim else None,
            "improvement verdict": cache.improvement_verdict if cache else None,
            "guide-cache cold ms": guide.cold.value if guide else None,
            "guide-cache improvement %": _value(guide_improvement),
            "guide-cache improvement low %": _low(guide_improvement),
            "guide-cache improvement high %": _high(guide_improvement),
            "guide-cache improvement verdict": guide.improvement_verdict if guide else None,
            "race-free price (ours/guide cold)": _value(price),
            "race-free price low": _low(price),
            "race-free price high": _high(price),
            "implied improvement": (f"~{consistency.implied_pct[0]:.0f}-{consistency.implied_pct[1]:.0f}%"
                                    if consistency else None),
            "implied verdict": consistency.implied_verdict if consistency else None,
            "absolute ms vs guide": (f"cold {cache.cold_vs_guide}, warm {cache.warm_vs_guide}"
                                     if cache and cache.cold_vs_guide and cache.warm_vs_guide else None),
            "012 speedup (no cache)": _value(speedup),
            "012 speedup low": _low(speedup),
            "012 speedup high": _high(speedup),
            "012 effect": migration.effect if migration else NOT_MEASURED,
            "claimed index": v.index.claimed if v.index else None,
            "index used": _yes_no(v.index.used) if v.index else None,
            "trials": improvement.trials if improvement else (speedup.trials if speedup else None),
            **{f"{n.profile}: improvement verdict": n.improvement_verdict for n in v.networks},
            **{f"{n.profile}: improvement %": _value(n.improvement) for n in v.networks},
        })
    return pd.DataFrame(rows)
