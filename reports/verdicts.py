"""The guide's claims judged against one run, per read query, scale and parameter kind, with confidence.

What is judged, and from which cases (all with the optimized projection):

* cache improvement = (cold - warm) / cold with migration 012 applied, where
  ``cold`` is a cache miss (database read + cache fill) and ``warm`` a hit,
  computed within each trial and stated with its interval across trials,
  against the guide's improvement range, read two ways: as the table states
  it, and as the table's own milliseconds imply it (``guide_table``: three of
  its four rows state a range their milliseconds contradict);
* the absolute cold and warm latencies against the guide's milliseconds. The
  guide's figures include a network hop to the servers; a local socket is far
  faster, so "below" is expected and said so in the text rather than scaled away;
* migration 012's effect on the database path (``nocache`` without / with,
  within each trial);
* whether the with-012 plan uses the index the guide claims;
* the same cache improvement for the guide's own cache design (``guide_cold``:
  a plain GET, then SET with TTL, against the same warm hit, which is a plain
  GET in both designs), and the price of our race-free fill per miss: ours-cold
  / guide-cold within each trial, with its interval.

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
from dataclasses import dataclass, field, replace

import pandas as pd

from balance_bench.coordinates import LEGACY, OPTIMIZED, CacheState, Coordinates, Kind, Migration
from balance_bench.network import Profile, projected_trials
from balance_bench.reports.expectations import LatencyClaim, Range, index_claim, latency_claim
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
    "Verdict",
    "NetworkVerdict",
    "network_verdict",
    "judge_interval",
    "straddled_bound",
    "improvement_verdict",
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


def _bounds(expected: Range) -> Range:
    low, high = expected
    if low == high:
        return low * (1 - APPROX_TOLERANCE), high * (1 + APPROX_TOLERANCE)
    return low, high


def judge_interval(estimate: Estimate, expected: Range) -> str:
    """``below``, ``within`` or ``above`` the guide's range when the whole interval is; else ``inconclusive``."""
    if estimate.low is None or estimate.high is None:
        return INCONCLUSIVE
    low, high = _bounds(expected)
    if estimate.high < low:
        return BELOW
    if estimate.low > high:
        return ABOVE
    if low <= estimate.low and estimate.high <= high:
        return WITHIN
    return INCONCLUSIVE


def straddled_bound(estimate: Estimate, expected: Range) -> float | None:
    """The bound of the guide's range (as judged, ``_bounds``) whose side the interval cannot decide.

    The interval leaves the lower bound undecided when it crosses it (``low < bound <= high``: neither wholly
    below nor wholly at or above), the upper bound when ``low <= bound < high``; of two, the one nearer the
    estimate (the lower on a tie). Its distance from the estimate is what more trials must resolve. None
    without an interval or when the interval decides both bounds.
    """
    if estimate.low is None or estimate.high is None:
        return None
    lower, upper = _bounds(expected)
    open_bounds = [b for b, undecided in ((lower, estimate.low < lower <= estimate.high),
                                          (upper, estimate.low <= upper < estimate.high)) if undecided]
    return min(open_bounds, key=lambda b: abs(b - estimate.value)) if open_bounds else None


def improvement_verdict(estimate: Estimate, expected: Range) -> str:
    """``short`` of the claimed improvement, ``met``, ``better`` than claimed, or ``inconclusive``."""
    return _IMPROVEMENT[judge_interval(estimate, expected)]


def migration_verdict(speedup: Estimate | None, same_plan: bool | None) -> str:
    """``same plan`` when 012 left the plan alone; else ``faster``/``slower`` only when the interval excludes 1."""
    if speedup is None:
        return NOT_MEASURED
    if same_plan:
        return SAME_PLAN
    if speedup.low is not None and speedup.low > 1.0:
        return FASTER
    if speedup.high is not None and speedup.high < 1.0:
        return SLOWER
    return INCONCLUSIVE


def format_estimate(estimate: Estimate | None, fmt: str = "{:.3g}", unit: str = "") -> str:
    """``value unit [low, high]``, or the value alone when there is no interval."""
    if estimate is None:
        return "—"
    head = fmt.format(estimate.value) + unit
    if estimate.low is None or estimate.high is None:
        return f"{head} (no interval: {estimate.trials} trial{'s' if estimate.trials != 1 else ''})"
    return f"{head} [{fmt.format(estimate.low)}, {fmt.format(estimate.high)}]"


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


@dataclass(frozen=True)
class Verdict:
    """The guide's claims about one query, checked at one scale and parameter kind."""

    query: str
    guide_name: str | None
    scale: str
    param_kind: str
    claim: LatencyClaim | None
    cold: Estimate | None  # latency in ms: geometric mean of the trial medians, with its interval
    warm: Estimate | None
    improvement: Estimate | None  # percent, within each trial
    improvement_verdict: str | None  # met / better / short / inconclusive; None without a claim or cases
    cold_vs_guide: str | None  # below / within / above / inconclusive
    warm_vs_guide: str | None
    nocache_without: Estimate | None
    nocache_with: Estimate | None
    migration_speedup: Estimate | None  # without / with, within each trial: above 1 means 012 helps
    same_plan: bool | None  # the no-cache plans without and with 012 have the same node types and indexes
    claimed_index: str | None
    indexes_used: tuple[str, ...]  # in the with-012 plan
    index_used: bool | None  # None: no claim, or no with-012 plan
    projection_speedup: Estimate | None  # legacy `balances.*` / explicit columns, no cache, with 012
    text: str
    guide_cold: Estimate | None = None  # a miss through the guide's cache design (GET, SET with TTL), ms
    guide_improvement: Estimate | None = None  # (guide cold - warm) / guide cold, percent, within each trial
    guide_improvement_verdict: str | None = None
    race_free_price: Estimate | None = None  # ours cold / guide cold within each trial: what race-freedom costs
    implied_pct: Range | None = None  # the improvement the claim's own cold and warm milliseconds imply
    implied_verdict: str | None = None  # the improvement judged against ``implied_pct``
    networks: tuple[NetworkVerdict, ...] = field(default=())  # one per network profile asked for

    @property
    def cold_ms(self) -> float | None:
        return self.cold.value if self.cold else None

    @property
    def warm_ms(self) -> float | None:
        return self.warm.value if self.warm else None

    @property
    def improvement_pct(self) -> float | None:
        return self.improvement.value if self.improvement else None

    @property
    def migration_effect(self) -> str:
        """``faster``, ``slower``, ``same plan``, ``inconclusive`` or ``not measured``."""
        return migration_verdict(self.migration_speedup, self.same_plan)


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


def _implied_text(v: Verdict) -> str | None:
    if v.implied_pct is None or v.claim is None or v.implied_pct == v.claim.improvement_pct:
        return None
    low, high = v.implied_pct
    return (f"The guide's own {_fmt_range(v.claim.cold_ms, ' ms')} -> {_fmt_range(v.claim.warm_ms, ' ms')} imply "
            f"{low:.0f}-{high:.0f}%, not the stated range; against that reading: "
            f"{_IMPROVEMENT_TEXT[v.implied_verdict or INCONCLUSIVE]}")


def _latency_text(v: Verdict, floor: dict[str, float]) -> list[str]:
    claim = v.claim
    if claim is None:
        return ["The guide's performance table has no row for this query."]
    if v.cold is None or v.warm is None or v.improvement is None:
        return ["The run has no cold and warm cases for this query, so the guide's table cannot be checked."]
    implied = _implied_text(v)
    parts = [
        f"Cache improvement {format_estimate(v.improvement, '{:.1f}', '%')} against the guide's "
        f"{_fmt_range(claim.improvement_pct, '%')}: {_IMPROVEMENT_TEXT[v.improvement_verdict or INCONCLUSIVE]}",
        *([implied] if implied else []),
        f"Cold {format_estimate(v.cold, unit=' ms')} (guide {_fmt_range(claim.cold_ms, 'ms')}), "
        f"warm {format_estimate(v.warm, unit=' ms')} (guide {_fmt_range(claim.warm_ms, 'ms')}).",
    ]
    positions = {v.cold_vs_guide, v.warm_vs_guide}
    if positions == {BELOW}:
        parts.append(
            "Both are below the guide's milliseconds: this run reaches PostgreSQL and Redis over a local socket, "
            "with no network hop, so the guide's absolute figures do not transfer here; judge it by the improvement."
        )
        if v.improvement_verdict == SHORT:
            parts.append("A local database read is already cheap, so a cache hit has less to save than over a network.")
    elif ABOVE in positions:
        which = " and ".join(n for n, p in ((CacheState.COLD, v.cold_vs_guide), (CacheState.WARM, v.warm_vs_guide))
                             if p == ABOVE)
        parts.append(f"The {which} latency is above the guide's figure even without a network hop.")
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
    if speedup is None or v.nocache_without is None or v.nocache_with is None:
        return "Migration 012's effect was not measured (no nocache case without and with it)."
    head = (f"Migration 012 on the database path: {_fmt_ms(v.nocache_without.value)} without, "
            f"{_fmt_ms(v.nocache_with.value)} with, speedup {format_estimate(speedup, '{:.3g}', 'x')}")
    effect = v.migration_effect
    if effect == SAME_PLAN:
        return (f"{head}, but the plan is the same both ways ({', '.join(v.indexes_used) or 'no index'}): "
                "any difference is drift, not migration 012.")
    if effect == FASTER:
        return f"{head}: faster with 012."
    if effect == SLOWER:
        return f"{head}: slower with 012."
    return f"{head}: inconclusive, the interval includes 1."


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
    if v.projection_speedup is None:
        return None
    return (f"Explicit columns instead of balances.* (no cache, with 012): "
            f"{format_estimate(v.projection_speedup, '{:.3g}', 'x')} faster.")


def _guide_cache_text(v: Verdict) -> str | None:
    if v.guide_cold is None:
        return None
    parts = ["With the guide's own cache (GET, then SET with TTL) a miss takes "
             f"{format_estimate(v.guide_cold, unit=' ms')}"]
    if v.guide_improvement is not None and v.claim is not None:
        verdict = _IMPROVEMENT_TEXT[v.guide_improvement_verdict or INCONCLUSIVE]
        parts.append(f", improvement {format_estimate(v.guide_improvement, '{:.1f}', '%')}: {verdict}")
    else:
        parts.append(".")
    if v.race_free_price is not None:
        price = v.race_free_price
        parts.append(f" Our race-free fill (fill token, compare-and-set) costs a miss "
                     f"{format_estimate(price, '{:.3g}', 'x')} the guide's ({_price_word(price)}).")
    return "".join(parts)


def _price_word(price: Estimate) -> str:
    if price.low is not None and price.low > 1.0:
        return "dearer"
    if price.high is not None and price.high < 1.0:
        return "cheaper"
    return "inconclusive: the interval includes 1"


def _same_plan(before: CaseResult | None, after: CaseResult | None) -> bool | None:
    if before is None or after is None or before.plan is None or after.plan is None:
        return None
    return before.plan.shape == after.plan.shape


def _latency(case: CaseResult | None) -> Estimate | None:
    return case.median_ci if case is not None else None


def _within(a: CaseResult | None, b: CaseResult | None, how: str) -> Estimate | None:
    if a is None or b is None:
        return None
    if how == "ratio":
        return ratio_estimate(a.trial_medians_ms, b.trial_medians_ms)
    return improvement_estimate(a.trial_medians_ms, b.trial_medians_ms)


def _network_text(v: Verdict) -> str | None:
    judged = [n for n in v.networks if n.improvement_verdict]
    if not judged or v.improvement_verdict is None:
        return None
    at = ", ".join(f"{n.improvement_verdict} at {n.profile}" for n in judged)
    return f"Projected over a network ({'; '.join(n.profile for n in judged)}): {v.improvement_verdict} locally, {at}."


def _judge(run: Run, read: Coordinates, floor: dict[str, float], profiles: Sequence[Profile] = ()) -> Verdict:
    def case(cache: CacheState, migration: Migration, projection: str = OPTIMIZED) -> CaseResult | None:
        return run.case(read.with_(cache=cache, migration=migration, projection=projection))

    cold, warm = case(CacheState.COLD, Migration.WITH_012), case(CacheState.WARM, Migration.WITH_012)
    before, after = case(CacheState.NOCACHE, Migration.WITHOUT_012), case(CacheState.NOCACHE, Migration.WITH_012)
    legacy = case(CacheState.NOCACHE, Migration.WITH_012, LEGACY)
    guide_cold = case(CacheState.GUIDE_COLD, Migration.WITH_012)
    guide_improvement = _within(guide_cold, warm, "improvement")
    claim = latency_claim(read.query)
    improvement = _within(cold, warm, "improvement")
    planned = [c for c in (after, cold) if c is not None and c.plan is not None]
    indexes = planned[0].plan.indexes_used if planned and planned[0].plan else ()
    claimed = index_claim(read.query)
    cold_ci, warm_ci = _latency(cold), _latency(warm)
    verdict = Verdict(
        query=read.query,
        guide_name=claim.guide_name if claim else (claimed.guide_name if claimed else None),
        scale=read.scale,
        param_kind=read.param_kind,
        claim=claim,
        cold=cold_ci,
        warm=warm_ci,
        improvement=improvement,
        improvement_verdict=improvement_verdict(improvement, claim.improvement_pct) if claim and improvement else None,
        cold_vs_guide=judge_interval(cold_ci, claim.cold_ms) if claim and cold_ci else None,
        warm_vs_guide=judge_interval(warm_ci, claim.warm_ms) if claim and warm_ci else None,
        nocache_without=_latency(before),
        nocache_with=_latency(after),
        migration_speedup=_within(before, after, "ratio"),
        same_plan=_same_plan(before, after),
        claimed_index=claimed.index if claimed else None,
        indexes_used=indexes,
        index_used=(claimed.index in indexes) if claimed and planned else None,
        projection_speedup=_within(legacy, after, "ratio"),
        text="",
        guide_cold=_latency(guide_cold),
        guide_improvement=guide_improvement,
        guide_improvement_verdict=(improvement_verdict(guide_improvement, claim.improvement_pct)
                                   if claim and guide_improvement else None),
        race_free_price=_within(cold, guide_cold, "ratio"),
        implied_pct=check_claim(claim).implied_pct if claim else None,
        implied_verdict=(improvement_verdict(improvement, check_claim(claim).implied_pct)
                         if claim and improvement else None),
        networks=tuple(network_verdict(cold, warm, claim, p, (before, after), _same_plan(before, after), guide_cold)
                       for p in profiles) if claim else (),
    )
    lines = [*_latency_text(verdict, floor), _network_text(verdict), _guide_cache_text(verdict),
             _migration_text(verdict), _index_text(verdict), _projection_text(verdict)]
    return replace(verdict, text=" ".join(line for line in lines if line))


def verdicts(run: Run, profiles: Sequence[Profile] = ()) -> list[Verdict]:
    """One verdict per read (query, scale, param_kind) of the guide's matrix in the run, in the run's order.

    With ``profiles``, each verdict with a claim is also re-judged per network profile (``networks``).
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


def verdicts_frame(items: Sequence[Verdict]) -> pd.DataFrame:
    """The verdict table: one row per verdict, intervals and the guide's figures beside the measured ones."""
    rows = []
    for v in items:
        claim = v.claim
        rows.append({
            "query": v.guide_name or v.query,
            "scale": v.scale,
            "params": v.param_kind,
            "cold ms": _value(v.cold),
            "guide cold": _fmt_range(claim.cold_ms, " ms") if claim else None,
            "warm ms": _value(v.warm),
            "guide warm": _fmt_range(claim.warm_ms, " ms") if claim else None,
            "improvement %": _value(v.improvement),
            "improvement low %": _low(v.improvement),
            "improvement high %": _high(v.improvement),
            "guide improvement": _fmt_range(claim.improvement_pct, "%") if claim else None,
            "improvement verdict": v.improvement_verdict,
            "guide-cache cold ms": _value(v.guide_cold),
            "guide-cache improvement %": _value(v.guide_improvement),
            "guide-cache improvement low %": _low(v.guide_improvement),
            "guide-cache improvement high %": _high(v.guide_improvement),
            "guide-cache improvement verdict": v.guide_improvement_verdict,
            "race-free price (ours/guide cold)": _value(v.race_free_price),
            "race-free price low": _low(v.race_free_price),
            "race-free price high": _high(v.race_free_price),
            "implied improvement": (f"~{v.implied_pct[0]:.0f}-{v.implied_pct[1]:.0f}%"
                                    if v.implied_pct is not None else None),
            "implied verdict": v.implied_verdict,
            "absolute ms vs guide": (f"cold {v.cold_vs_guide}, warm {v.warm_vs_guide}"
                                     if v.cold_vs_guide and v.warm_vs_guide else None),
            "012 speedup (no cache)": _value(v.migration_speedup),
            "012 speedup low": _low(v.migration_speedup),
            "012 speedup high": _high(v.migration_speedup),
            "012 effect": v.migration_effect,
            "claimed index": v.claimed_index,
            "index used": _yes_no(v.index_used),
            "trials": v.improvement.trials if v.improvement else (v.migration_speedup.trials
                                                                    if v.migration_speedup else None),
            **{f"{n.profile}: improvement verdict": n.improvement_verdict for n in v.networks},
            **{f"{n.profile}: improvement %": _value(n.improvement) for n in v.networks},
        })
    return pd.DataFrame(rows)
