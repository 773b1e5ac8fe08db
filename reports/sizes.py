"""The guide's claims as a function of dataset size: each claim per scale, and the size where its verdict changes.

Why: the report judges each scale on its own, but the guide's claims are about tables of some size, and a claim's
verdict can change as the table grows: on a tiny table PostgreSQL scans with or without 012's indexes, and a database
read grows dearer beside a cache hit that does not. A run of several scales (``run --scale tiny,small,medium``) holds
the evidence to say where a claim starts or stops holding; this module says it from the saved run only: each case's
median with its interval (``CaseResult.median_ci``), the claim verdicts ``claims.judge_run`` decided at each scale,
and the balances each dataset recorded (``environment["datasets"]``; a named scale's own count when none was).

* ``size_frame``: the tidy frame a notebook filters and plots, one row per figure per scale;
* ``crossover``: where a claim's verdict changes, a pure function of plain numbers (defined in its docstring);
* ``crossover_frame``: one row per claim, its trend and crossover;
* ``size_section``: the report's section (answers, a table, one chart per query); None with fewer than two sizes.

A size's verdict is the claim verdict's tone: *holds* when good (met, better, faster), *does not hold* when bad
(short, slower), and for 012's speedup also when the plan is the same both ways (012 changes nothing the query does
at that size); anything else (inconclusive) is undecided.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

import matplotlib
import pandas as pd
from markupsafe import Markup
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from balance_bench.coordinates import OPTIMIZED, CacheState, Kind, Migration
from balance_bench.guide import latency_claim
from balance_bench.network import LOCAL
from balance_bench.reports.charts import CACHE_COLOURS, LOG_SPAN, MIGRATION_STYLES, STYLE, figure_svg
from balance_bench.reports.claim_tables import Cell, Table
from balance_bench.reports.claims import DOES_NOT_HOLD, HOLDS, ClaimVerdict, Topic, judge_run, measured_text, tone
from balance_bench.reports.runs import Run
from balance_bench.reports.verdicts import INCONCLUSIVE, SAME_PLAN, judged_range
from balance_bench.scales import SCALES
from balance_bench.statistics import CONFIDENCE

__all__ = [
    "LATENCY",
    "SIZE_CACHE_STATES",
    "COLUMNS",
    "Trend",
    "SizePoint",
    "Crossover",
    "crossover",
    "rows_text",
    "holding",
    "threshold",
    "dataset_rows",
    "ClaimTrend",
    "claim_trends",
    "size_frame",
    "crossover_frame",
    "SizeAnswer",
    "SizeChart",
    "SizeSection",
    "size_section",
    "size_chart",
]

LATENCY = "latency"
"""The ``figure`` of a frame row that is a case's median latency; a claim's row has its topic (``cache`` ...)."""

SIZE_CACHE_STATES = (CacheState.NOCACHE, CacheState.COLD, CacheState.WARM)
"""The cache states whose latency is followed across sizes: the database path, a miss and a hit."""

COLUMNS = ("query", "param_kind", "figure", "claim", "title", "cache", "migration", "scale", "rows", "value", "low",
           "high", "unit", "trials", "guide_low", "guide_high", "threshold", "label", "state")
"""``size_frame``'s columns. ``cache``/``migration`` are set on latency rows; ``claim`` ... ``state`` on claim rows."""


class Trend(StrEnum):
    """What a claim does as the table grows, from its verdicts at each size."""

    STARTS = "starts to hold"
    STOPS = "stops holding"
    EVERYWHERE = "holds at every size"
    NOWHERE = "holds at no size"
    CHANGES = "changes more than once"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class SizePoint:
    """One size of a claim: the table's rows, the estimate with its interval (None: none), and its verdict there
    (``HOLDS``, ``DOES_NOT_HOLD`` or ``INCONCLUSIVE``)."""

    rows: float
    value: float
    low: float | None
    high: float | None
    state: str


@dataclass(frozen=True)
class Crossover:
    """Where a claim's verdict changes (``crossover``). ``rows`` is where its estimate meets the threshold, ``low`` and
    ``high`` the interval's ends; None where not located or open (``low`` None: "below high"; ``high`` None: "above
    low"). ``between`` holds the rows of the two sizes that bracket the change; all None without a change."""

    trend: Trend
    rows: float | None = None
    low: float | None = None
    high: float | None = None
    between: tuple[float, float] | None = None

    @property
    def changes(self) -> bool:
        """Whether the claim starts or stops holding between two sizes of the run."""
        return self.trend in (Trend.STARTS, Trend.STOPS)

    @property
    def digits(self) -> int:
        """Significant figures that keep the crossover and its interval's ends apart: 2, up to 4 for a narrow one."""
        located = [v for v in (self.low, self.rows, self.high) if v is not None]
        return next((d for d in (2, 3) if len({rows_text(v, d) for v in located}) == len(set(located))), 4)

    def point_text(self) -> str:
        """The crossover in one figure: "≈ 22,000 rows", "not located", or the trend when nothing crosses."""
        if not self.changes:
            return self.trend.value
        return f"≈ {rows_text(self.rows, self.digits)} rows" if self.rows is not None else "not located"

    def interval_text(self) -> str:
        """The crossover's interval: "12,000-40,000 rows", "below 40,000 rows", "above 12,000 rows", "not located"."""
        if not self.changes:
            return "—"
        digits = self.digits
        if self.low is not None and self.high is not None:
            return f"{rows_text(self.low, digits)}-{rows_text(self.high, digits)} rows"
        if self.high is not None:
            return f"below {rows_text(self.high, digits)} rows"
        if self.low is not None:
            return f"above {rows_text(self.low, digits)} rows"
        return "not located"


def rows_text(rows: float, digits: int = 2) -> str:
    """A row count to ``digits`` significant figures with thousands separators: 21,544.3 -> "22,000"."""
    return f"{float(f'{rows:.{digits}g}'):,.0f}"


def _reach(xs: Sequence[float], ys: Sequence[float], level: float, sign: float) -> float:
    """Where the line through (xs, ys) first reaches ``level`` from below (``sign`` 1) or above (-1): x by linear
    interpolation; -inf when the first point has reached it already, +inf when no point does."""
    gaps = [sign * (y - level) for y in ys]
    if gaps[0] >= 0:
        return -math.inf
    for k in range(len(gaps) - 1):
        if gaps[k + 1] >= 0:  # gaps[k] < 0 here: the first point at or past the level
            return xs[k] + (xs[k + 1] - xs[k]) * -gaps[k] / (gaps[k + 1] - gaps[k])
    return math.inf


def _bound(xs: Sequence[float], ys: Sequence[float | None], level: float, sign: float) -> float | None:
    """``_reach`` over the points that have this bound; None when none has it."""
    kept = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
    if not kept:
        return None
    return _reach([x for x, _ in kept], [y for _, y in kept], level, sign)


def _finite(x: float | None) -> float | None:
    return math.exp(x) if x is not None and math.isfinite(x) else None


def crossover(points: Sequence[SizePoint], level: float) -> Crossover:
    """Where a claim that holds above ``level`` starts or stops holding, from its verdicts and estimates per size.

    The sizes are taken in order of rows; undecided ones (``INCONCLUSIVE``) are skipped when comparing verdicts:

    * every size holds: ``EVERYWHERE``; none does: ``NOWHERE``; the decided sizes change more than once
      (holds, does not, holds): ``CHANGES``; otherwise, when no two decided sizes differ (some undecided):
      ``INCONCLUSIVE``. None of these has a crossover;
    * exactly one change, between the last decided size before it and the first after it (undecided sizes between
      them included): ``STARTS`` (does not hold, then holds) or ``STOPS``. Over those sizes each of three lines is
      drawn linearly in log(rows): the estimate and the two bounds of its interval. The crossover is where the
      estimate first reaches ``level`` (from below for STARTS, from above for STOPS); the interval runs from the
      bound that reaches it first (the upper for STARTS, the lower for STOPS) to the other. A line that is already
      at or past ``level`` at the first of those sizes cannot be placed within them: the estimate's crossover is
      then not located, a bound's end of the interval open ("below 40,000 rows"); likewise a line that has not
      reached ``level`` by the last of them ("above 12,000 rows"); with both ends open, or both on one side, the
      interval is not located. Nothing is extrapolated beyond the two bracketing sizes.

    With verdicts judged on the same intervals (as the report's are), the bracketing sizes' intervals lie wholly on
    either side of ``level``, so everything is located between them; an open end arises where a verdict does not
    rest on the interval alone (012's *same plan*, whatever its timings) or a size has no interval.
    """
    if not points:
        raise ValueError("a crossover needs at least one size")
    ordered = sorted(points, key=lambda p: p.rows)
    decided = [(i, p) for i, p in enumerate(ordered) if p.state != INCONCLUSIVE]
    changes = [(a, b) for a, b in pairwise(decided) if a[1].state != b[1].state]
    if not changes:
        states = {p.state for p in ordered}
        if states == {HOLDS}:
            return Crossover(Trend.EVERYWHERE)
        if states == {DOES_NOT_HOLD}:
            return Crossover(Trend.NOWHERE)
        return Crossover(Trend.INCONCLUSIVE)
    if len(changes) > 1:
        return Crossover(Trend.CHANGES)
    (first, before), (last, after) = changes[0]
    trend = Trend.STARTS if after.state == HOLDS else Trend.STOPS
    sign = 1.0 if trend is Trend.STARTS else -1.0
    span = ordered[first:last + 1]
    xs = [math.log(p.rows) for p in span]
    point = _reach(xs, [p.value for p in span], level, sign)
    ends = [b for b in (_bound(xs, [p.low for p in span], level, sign),
                        _bound(xs, [p.high for p in span], level, sign)) if b is not None]
    low, high = (min(ends), max(ends)) if len(ends) == 2 else (None, None)
    if low is not None and high is not None and math.isinf(low) and low == high:
        low = high = None  # both bounds past the level at the first size, or short of it at the last: no place
    return Crossover(trend, _finite(point), _finite(low), _finite(high), (before.rows, after.rows))


# ---- the claims per size ------------------------------------------------------------------------------------------


def holding(label: str) -> str:
    """A size's verdict of a claim: ``HOLDS`` for a good label, ``DOES_NOT_HOLD`` for a bad one or 012's *same plan*
    (012 changes nothing the query does at that size), else ``INCONCLUSIVE``."""
    if tone(label) == "good":
        return HOLDS
    if tone(label) == "bad" or label == SAME_PLAN:
        return DOES_NOT_HOLD
    return INCONCLUSIVE


def threshold(claim: ClaimVerdict) -> float | None:
    """The level a claim holds above: its guide range's lower bound as judged (``judged_range``), or 1 for a speedup
    (``x``); None for a claim judged on no estimate."""
    if claim.estimate is None:
        return None
    if claim.guide_range is not None:
        return judged_range(claim.guide_range)[0]
    return 1.0 if claim.unit == "x" else None


def dataset_rows(run: Run) -> dict[str, int]:
    """Balances per scale of the run's cases: as its dataset recorded them, else the named scale's (``SCALES``); a
    scale with neither is left out."""
    recorded: dict[str, int] = {}
    for item in run.environment.get("datasets") or []:
        counts = item.get("rows") if isinstance(item, Mapping) else None
        balances = counts.get("balances") if isinstance(counts, Mapping) else None
        if isinstance(balances, int) and not isinstance(balances, bool) and balances > 0:
            recorded.setdefault(str(item.get("scale")), balances)
    found: dict[str, int] = {}
    for scale in dict.fromkeys(c.coords.scale for c in run.summary.cases):
        count = recorded.get(scale) or (SCALES[scale].balances if scale in SCALES else None)
        if count:
            found[scale] = count
    return found


@dataclass(frozen=True)
class ClaimTrend:
    """One claim (one query and parameter kind, judged locally) across the run's sizes, and its crossover."""

    claim_id: str
    title: str
    topic: Topic
    query: str
    param_kind: str
    guide: str
    level: float  # the claim holds above it (``threshold``)
    sizes: tuple[tuple[int, ClaimVerdict], ...]  # (rows, the claim verdict at that size), by rows
    crossover: Crossover


def claim_trends(claims: Iterable[ClaimVerdict], rows: Mapping[str, int]) -> list[ClaimTrend]:
    """Each locally judged claim with an estimate, measured at two sizes or more, in the claims' order."""
    grouped: dict[str, list[ClaimVerdict]] = {}
    for claim in claims:
        if (claim.profile == LOCAL.name and claim.query is not None and claim.param_kind is not None
                and threshold(claim) is not None and claim.scale in rows):
            grouped.setdefault(claim.claim_id, []).append(claim)
    trends = []
    for claim_id, found in grouped.items():
        sizes = tuple(sorted(((rows[c.scale], c) for c in found), key=lambda s: s[0]))
        if len({r for r, _ in sizes}) < 2:
            continue
        first = sizes[0][1]
        level = threshold(first)
        assert level is not None and first.query is not None and first.param_kind is not None  # kept above
        estimates = [(r, c.estimate) for r, c in sizes]
        points = [SizePoint(r, e.value, e.low, e.high, holding(c.label))
                  for (r, e), (_, c) in zip(estimates, sizes, strict=True) if e is not None]
        trends.append(ClaimTrend(claim_id, first.title, first.topic, first.query, first.param_kind,
                                 first.guide if first.guide_range is not None else f"> {level:g}x", level,
                                 sizes, crossover(points, level)))
    return trends


def size_frame(run: Run, claims: Sequence[ClaimVerdict] | None = None) -> pd.DataFrame:
    """The run's reads and claims per size, tidy: one row per figure per scale, by ``rows`` (balances).

    Latency rows (``figure`` ``latency``): per query x parameter kind x cache state (no cache, cold, warm) x migration
    x scale, the case's median across trials with its interval (``median_ci``, ms). Claim rows (``figure`` the claim's
    topic: ``cache``, ``migration``, ``columns``, ``guide_cache``, ``consistency``): per claim x scale, its estimate
    with its interval (``%`` or ``x``), the guide's range where it states one, the ``threshold`` it holds above, the
    verdict (``label``) and what it counts as here (``state``: holds / does not hold / inconclusive). ``claims`` are
    ``judge_run``'s; judged here when not given.
    """
    rows = dataset_rows(run)
    verdicts = judge_run(run)[1] if claims is None else claims
    reads = [case for case in run.summary.cases if case.coords.kind is Kind.READ and not case.coords.experiment
             and case.coords.projection == OPTIMIZED and case.coords.cache in SIZE_CACHE_STATES
             and case.coords.scale in rows]
    first = {key: i for i, key in enumerate(dict.fromkeys((c.coords.query, c.coords.param_kind) for c in reads))}
    migrations = list(Migration)
    reads.sort(key=lambda case: (first[case.coords.query, case.coords.param_kind],
                                 SIZE_CACHE_STATES.index(case.coords.cache), migrations.index(case.coords.migration),
                                 rows[case.coords.scale]))
    records = []
    for case in reads:
        c = case.coords
        ci = case.median_ci
        records.append({"query": c.query, "param_kind": c.param_kind, "figure": LATENCY, "cache": str(c.cache),
                        "migration": str(c.migration), "scale": c.scale, "rows": rows[c.scale], "value": ci.value,
                        "low": ci.low, "high": ci.high, "unit": "ms", "trials": ci.trials})
    for trend in claim_trends(verdicts, rows):
        for size, claim in trend.sizes:
            estimate, guide = claim.estimate, claim.guide_range
            assert estimate is not None  # claim_trends keeps claims with an estimate
            records.append({"query": trend.query, "param_kind": trend.param_kind, "figure": trend.topic.value,
                            "claim": trend.claim_id, "title": trend.title, "scale": claim.scale, "rows": size,
                            "value": estimate.value, "low": estimate.low, "high": estimate.high, "unit": claim.unit,
                            "trials": estimate.trials, "guide_low": guide[0] if guide else None,
                            "guide_high": guide[1] if guide else None, "threshold": trend.level,
                            "label": claim.label, "state": holding(claim.label)})
    frame = pd.DataFrame(records, columns=list(COLUMNS))
    for column in ("value", "low", "high", "guide_low", "guide_high", "threshold"):
        frame[column] = frame[column].astype(float)
    return frame


def crossover_frame(run: Run, claims: Sequence[ClaimVerdict] | None = None) -> pd.DataFrame:
    """One row per claim measured at two sizes or more: what it does as the table grows and where (rows, the
    interval's ends; NaN where not located or open), the threshold it holds above, and the rows of the last decided
    size before the change and the first after it."""
    verdicts = judge_run(run)[1] if claims is None else claims
    columns = ["claim", "title", "query", "param_kind", "threshold", "trend", "crossover_rows", "low_rows",
               "high_rows", "last_before_rows", "first_after_rows"]
    records = [{"claim": t.claim_id, "title": t.title, "query": t.query, "param_kind": t.param_kind,
                "threshold": t.level, "trend": t.crossover.trend.value, "crossover_rows": t.crossover.rows,
                "low_rows": t.crossover.low, "high_rows": t.crossover.high,
                "last_before_rows": t.crossover.between[0] if t.crossover.between else None,
                "first_after_rows": t.crossover.between[1] if t.crossover.between else None}
               for t in claim_trends(verdicts, dataset_rows(run))]
    frame = pd.DataFrame(records, columns=columns)
    for column in columns[6:]:
        frame[column] = frame[column].astype(float)
    return frame


# ---- the report's section -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SizeAnswer:
    """One claim that changes with size, in a sentence: its title, and what it does where."""

    title: str
    text: str


@dataclass(frozen=True)
class SizeChart:
    """One query's chart: latency and its claims against the table's rows."""

    query: str
    name: str  # the guide's name for the query, else the query
    svg: Markup


@dataclass(frozen=True)
class SizeSection:
    """The report's section on size: the sizes, the answers, the table of every claim, and the charts."""

    sizes: str
    answers: tuple[SizeAnswer, ...]
    summary: str
    table: Table | None  # None without a claim measured at two sizes
    charts: tuple[SizeChart, ...]


def _figure(claim: ClaimVerdict) -> str:
    estimate = claim.estimate
    if estimate is None:
        return "—"
    return f"{estimate.value:.1f}%" if claim.unit == "%" else f"{estimate.value:.3g}x"


def _answer(trend: ClaimTrend) -> SizeAnswer:
    cross = trend.crossover
    (small, first), (large, last) = trend.sizes[0], trend.sizes[-1]
    level = f"{trend.level:g}%" if first.unit == "%" else f"{trend.level:g}x"
    if cross.trend is Trend.CHANGES:
        where = ", ".join(f"{c.label} at {rows_text(r)} rows ({_figure(c)})" for r, c in trend.sizes)
        return SizeAnswer(trend.title, f"changes more than once as the table grows: {where}.")
    verb = "starts to hold" if cross.trend is Trend.STARTS else "stops holding"
    before, after = cross.between or (small, large)
    if cross.rows is not None:
        head = f"{verb} at {cross.point_text()} (interval {cross.interval_text()})"
    else:
        head = (f"{verb} between {rows_text(before)} and {rows_text(after)} rows; its estimate does not cross "
                f"{level} there (interval {cross.interval_text()})")
    sides = dict(trend.sizes)  # by rows: the two decided sizes the change lies between are among them
    was, now = sides.get(int(before), first), sides.get(int(after), last)
    return SizeAnswer(trend.title, f"{head}: {was.label} at {rows_text(before)} rows ({_figure(was)}), "
                                   f"{now.label} at {rows_text(after)} ({_figure(now)}).")


def _answers(trends: Sequence[ClaimTrend]) -> tuple[SizeAnswer, ...]:
    """One answer per kind of claim and direction of change: the same claim of several queries that all start (or
    stop) holding is one line with the span of their crossovers, naming the queries (the table gives each one's
    figures), not one line each; a lone one keeps its sentence with both sides' figures."""
    groups: dict[tuple[str, Trend], list[ClaimTrend]] = {}
    for trend in trends:
        if trend.crossover.trend in (Trend.STARTS, Trend.STOPS, Trend.CHANGES):
            what = trend.title.split(": ", 1)[-1]
            groups.setdefault((what, trend.crossover.trend), []).append(trend)
    answers: list[SizeAnswer] = []
    for (what, direction), members in groups.items():
        located = [t for t in members if t.crossover.rows is not None]
        if len(members) == 1 or direction is Trend.CHANGES or len(located) < len(members):
            answers.extend(_answer(t) for t in members)
            continue
        verb = "starts to hold" if direction is Trend.STARTS else "stops holding"
        points = sorted(t.crossover.rows for t in located if t.crossover.rows is not None)
        span = rows_text(points[0]) if rows_text(points[0]) == rows_text(points[-1]) else (
            f"{rows_text(points[0])}-{rows_text(points[-1])}")
        names = ", ".join(t.title.split(": ", 1)[0] for t in members)
        answers.append(SizeAnswer(what[:1].upper() + what[1:], f"{verb} at ≈ {span} rows for {len(members)} "
                                                               f"queries ({names}; each with its interval below)."))
    return tuple(answers)


_COUNTED = {Trend.STARTS: ("starts to hold", "start to hold"), Trend.STOPS: ("stops holding", "stop holding"),
            Trend.CHANGES: ("changes more than once", "change more than once"),
            Trend.EVERYWHERE: ("holds at every size", "hold at every size"),
            Trend.NOWHERE: ("holds at no size", "hold at no size"),
            Trend.INCONCLUSIVE: ("is inconclusive at some size", "are inconclusive at some size")}


def _summary(trends: Sequence[ClaimTrend], smallest: int, largest: int) -> str:
    counts: dict[Trend, int] = {}
    for t in trends:
        counts[t.crossover.trend] = counts.get(t.crossover.trend, 0) + 1
    parts = [f"{n} {_COUNTED[trend][n != 1]}" for trend in Trend if (n := counts.get(trend, 0))]
    span = f"between {rows_text(smallest)} and {rows_text(largest)} rows"
    if not trends:
        return f"No claim of the guide was measured at two of the sizes {span}."
    if not any(counts.get(t) for t in (Trend.STARTS, Trend.STOPS, Trend.CHANGES)):
        return f"No claim changes its verdict {span}: {', '.join(parts)}."
    return f"Of {len(trends)} claims measured {span}, {', '.join(parts)}."


def _size_cell(trend: ClaimTrend, rows: int) -> Cell:
    claim = next((c for r, c in trend.sizes if r == rows), None)
    if claim is None:
        return Cell("—")
    same = f"{SAME_PLAN}, " if claim.label == SAME_PLAN else ""  # grey, yet "does not hold": say why
    return Cell(same + measured_text(claim), tone(claim.label), f"{claim.scale}: {claim.label}")


def _table(trends: Sequence[ClaimTrend], scales: Sequence[tuple[str, int]]) -> Table | None:
    if not trends:
        return None
    (small_scale, smallest), (large_scale, largest) = scales[0], scales[-1]
    rows = tuple((Cell(t.title), Cell(t.guide), _size_cell(t, smallest), _size_cell(t, largest),
                  Cell(t.crossover.trend.value), Cell(t.crossover.point_text() if t.crossover.changes else "—"),
                  Cell(t.crossover.interval_text())) for t in trends)
    return Table("sizes-claims", "Each claim at the smallest and the largest size",
                 f"Each claim's estimate with its {CONFIDENCE:.0%} interval at the smallest and the largest size, "
                 "coloured by its verdict there (hover for it); where 012 left the plan alone, the speedup counts as "
                 "not holding.",
                 ("claim", "guide", f"{small_scale} ({rows_text(smallest)} rows)",
                  f"{large_scale} ({rows_text(largest)} rows)", "as the table grows", "crossover", "interval"), rows)


def size_section(run: Run, claims: Sequence[ClaimVerdict]) -> SizeSection | None:
    """The report's section on dataset size, from ``judge_run``'s claims; None unless the run's reads cover two sizes
    or more (distinct row counts)."""
    rows = dataset_rows(run)
    if len(set(rows.values())) < 2:
        return None  # one size (a single-scale run pays nothing more)
    frame = size_frame(run, claims)
    latency = frame[frame["figure"] == LATENCY]
    if latency["rows"].nunique() < 2:
        return None
    scales = sorted(((s, rows[s]) for s in dict.fromkeys(latency["scale"])), key=lambda s: s[1])
    trends = claim_trends(claims, rows)
    charts = []
    for query in dict.fromkeys(latency["query"]):
        svg = size_chart(frame, query, trends)
        if svg is not None:
            claim = latency_claim(query)
            charts.append(SizeChart(query, claim.guide_name if claim else query, Markup(svg)))
    return SizeSection(
        sizes=", ".join(f"{scale} ({rows_text(count)} balances)" for scale, count in scales),
        answers=_answers(trends),
        summary=_summary(trends, scales[0][1], scales[-1][1]),
        table=_table(trends, scales),
        charts=tuple(charts),
    )


# ---- the chart ----------------------------------------------------------------------------------------------------

_PANEL_IN = (3.6, 2.5)  # one panel, inches: width, height
_MARGINS_IN = {"left": 0.65, "right": 0.2, "top": 0.55, "bottom": 0.55, "legend": 0.45, "wspace": 0.75, "hspace": 0.6}
_CLAIM_COLOURS = {Topic.CACHE: "#1f5fbf", Topic.MIGRATION: "#c2410c"}
_PANELS = ((Topic.CACHE, "cache improvement, %"), (Topic.MIGRATION, "012 speedup, no cache, x"))


def _rows_axis(ax: Axes, sizes: Sequence[int]) -> None:
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(list(sizes), [_short(r) for r in sizes])
    ax.set_xlim(min(sizes) / 1.6, max(sizes) * 1.6)


def _short(rows: float) -> str:
    """1,000 -> "1k", 1,000,000 -> "1M": a tick label."""
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if rows >= size:
            return f"{rows / size:g}{unit}"
    return f"{rows:g}"


def _line(ax: Axes, part: pd.DataFrame, colour: str, style: object, label: str) -> None:
    part = part.sort_values("rows")
    ax.plot(part["rows"], part["value"], color=colour, linestyle=style, marker="o", markersize=3.5, linewidth=1.3,
            label=label)
    bands = part.dropna(subset=["low", "high"])
    if not bands.empty:
        ax.fill_between(bands["rows"], bands["low"], bands["high"], color=colour, alpha=0.13, linewidth=0)


def _latency_panel(ax: Axes, part: pd.DataFrame) -> None:
    for cache in SIZE_CACHE_STATES:
        for migration in Migration:
            line = part[(part["cache"] == cache) & (part["migration"] == migration)]
            if not line.empty:
                _line(ax, line, CACHE_COLOURS[cache], MIGRATION_STYLES[migration],
                      f"{cache}, {migration.replace('_', ' ')}")
    _log_y(ax)


def _log_y(ax: Axes) -> None:
    """A log y axis labelled with plain numbers (0.1, 1, 10), without minor ticks (drawing them cost most of the
    chart's time)."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 3.0), numticks=8))  # 0.1, 0.3, 1, 3: a label within any decade
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_locator(NullLocator())


def _claim_panel(ax: Axes, part: pd.DataFrame, topic: Topic, trend: ClaimTrend | None) -> None:
    colour = _CLAIM_COLOURS[topic]
    first = part.iloc[0]
    if topic is Topic.CACHE and pd.notna(first["guide_low"]):
        low, high = judged_range((float(first["guide_low"]), float(first["guide_high"])))
        ax.axhspan(low, high, color="#047857", alpha=0.12, lw=0, label=f"guide {low:g}-{high:g}%")
    else:
        ax.axhline(float(first["threshold"]), color="#047857", lw=1.0, ls="--", label="holds above")
    _line(ax, part, colour, "solid", f"measured, {CONFIDENCE:.0%} interval")
    same = part[part["label"] == SAME_PLAN]
    if not same.empty:  # no speedup to judge there, whatever the timings: hollow
        ax.plot(same["rows"], same["value"], linestyle="none", marker="o", markersize=5.5, markerfacecolor="white",
                markeredgecolor=colour, label="same plan both ways")
    values = [v for v in part[["value", "low", "high"]].to_numpy().ravel() if v > 0]
    if topic is not Topic.CACHE and values and max(values) / min(values) > LOG_SPAN:
        _log_y(ax)  # a speedup spanning decades: 0.9x and 20x both readable, 1x in the middle
    if trend is not None and trend.crossover.rows is not None:
        ax.axvline(trend.crossover.rows, color="#111827", lw=0.9, ls=":",
                   label=f"crossover ≈ {rows_text(trend.crossover.rows)}")
    ax.legend(fontsize=6.5, frameon=False, loc="best")


def size_chart(frame: pd.DataFrame, query: str, trends: Sequence[ClaimTrend] = ()) -> str | None:
    """One figure for ``query``: per parameter kind (a row of panels) its latency against rows, log-log, no cache /
    cold / warm x without / with 012 with interval bands; and its cache improvement and 012 speedup against rows,
    the guide's range (or the threshold) shaded, the crossover marked. None without two sizes of its latency."""
    mine = frame[frame["query"] == query]
    latency = mine[mine["figure"] == LATENCY]
    sizes = sorted(set(latency["rows"]))
    if len(sizes) < 2:
        return None
    kinds = list(dict.fromkeys(latency["param_kind"]))
    panels = [(topic, title) for topic, title in _PANELS if (mine["figure"] == topic.value).any()]
    by_claim = {t.claim_id: t for t in trends}
    ncols, nrows = 1 + len(panels), len(kinds)
    margins = _MARGINS_IN
    width = margins["left"] + margins["right"] + ncols * _PANEL_IN[0] + (ncols - 1) * margins["wspace"]
    height = margins["top"] + margins["bottom"] + margins["legend"] + nrows * _PANEL_IN[1] \
        + (nrows - 1) * margins["hspace"]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height))
        fig.subplots_adjust(left=margins["left"] / width, right=1 - margins["right"] / width,
                            top=1 - margins["top"] / height,
                            bottom=(margins["bottom"] + margins["legend"]) / height,
                            wspace=margins["wspace"] / _PANEL_IN[0], hspace=margins["hspace"] / _PANEL_IN[1])
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for row, kind in zip(axes, kinds, strict=True):
            _latency_panel(row[0], latency[latency["param_kind"] == kind])
            row[0].set_title(f"{kind}: latency per call, ms", fontsize=9)
            _rows_axis(row[0], sizes)
            for ax, (topic, title) in zip(row[1:], panels, strict=True):
                part = mine[(mine["figure"] == topic.value) & (mine["param_kind"] == kind)]
                if part.empty:
                    ax.set_visible(False)
                    continue
                _claim_panel(ax, part, topic, by_claim.get(str(part.iloc[0]["claim"])))
                ax.set_title(f"{kind}: {title}", fontsize=9)
                _rows_axis(ax, sizes)
        for ax in axes[-1]:
            ax.set_xlabel("balances (rows), log scale")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, fontsize=7.5, frameon=False, loc="lower center", ncols=min(len(labels), 6),
                   bbox_to_anchor=(0.5, 0.0))
        claim = latency_claim(query)
        fig.suptitle(f"{claim.guide_name if claim else query} ({query}): as the table grows", fontsize=10)
        return figure_svg(fig, f"size-{query}")
