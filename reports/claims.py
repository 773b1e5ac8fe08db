"""The guide's claims judged one by one: the flat list every output renders, so no output spells a verdict twice.

``verdicts.verdicts`` judges each read question (query, scale, parameter kind)
into one record per claim (``QueryVerdicts``). A reader asks a different
question first, claim by claim, over all questions: "does the guide hold
here?". ``claim_verdicts`` reads the records into one ``ClaimVerdict`` per
claim of the guide and per way of judging it, deciding no label of its own
beyond folding per-kind labels into one:

* ``cache``: the performance table's improvement, per query and parameter
  kind, measured locally (headline) and re-judged at each network profile;
* ``index``: "query X uses index Y", per query over its parameter kinds
  (headline), from the with-012 plans: deterministic evidence, not timing;
* ``migration``: 012's speedup on the database path, per query and kind;
* ``columns``: explicit columns instead of ``balances.*``, per query and
  kind, and folded into one headline row;
* ``guide_cache``: the guide's own cache design (GET, then SET with TTL)
  against the same table, per query and kind, and folded into one headline
  row;
* ``consistency``: each table row's improvement judged against the range its
  own milliseconds imply.

The HTML report's headline and topic tables, ``verdicts.json``,
``verdicts.md``, the terminal table and the notebooks' claim frame all render
this one list. A folded row (index, columns, guide cache) is judged from its
per-kind verdicts by one rule: it holds when every part does, does not hold
when any part contradicts it, else it is inconclusive.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from balance_bench.guide import INDEX_CLAIMS, LatencyClaim, Range
from balance_bench.network import LOCAL, Profile
from balance_bench.reports.runs import Run
from balance_bench.reports.verdicts import (
    BETTER,
    FASTER,
    INCONCLUSIVE,
    MET,
    NOT_MEASURED,
    SAME_PLAN,
    SHORT,
    SLOWER,
    QueryVerdicts,
    format_estimate,
    straddled_bound,
    verdicts,
)
from balance_bench.statistics import Estimate, trials_to_resolve

__all__ = [
    "Topic",
    "HOLDS",
    "DOES_NOT_HOLD",
    "TONES",
    "tone",
    "ClaimVerdict",
    "claim_verdicts",
    "judge_run",
    "headline",
    "claims_frame",
    "measured_text",
    "label_counts",
    "fold",
    "Precision",
    "precision",
]

HOLDS, DOES_NOT_HOLD = "holds", "does not hold"
"""The labels of a claim judged from evidence that is not one interval (plans, or several per-kind verdicts)."""

TONES = {MET: "good", BETTER: "good", FASTER: "good", HOLDS: "good", SHORT: "bad", SLOWER: "bad",
         DOES_NOT_HOLD: "bad", INCONCLUSIVE: "neutral", SAME_PLAN: "neutral", NOT_MEASURED: "neutral"}
"""Every label's tone (good / bad / neutral): the colour of its badge in HTML, Markdown and the terminal."""


def tone(label: str) -> str:
    """``good``, ``bad`` or ``neutral`` for a label (an unknown label is neutral, never good)."""
    return TONES.get(label, "neutral")


class Topic(StrEnum):
    """Which of the guide's claims a verdict judges; the first part of every claim id."""

    CACHE = "cache"
    INDEX = "index"
    MIGRATION = "migration"
    COLUMNS = "columns"
    GUIDE_CACHE = "guide_cache"
    CONSISTENCY = "consistency"


@dataclass(frozen=True)
class ClaimVerdict:
    """One claim of the guide, judged once, with the figure, the guide's range and a sentence saying why.

    ``estimate`` is None where the evidence is not one interval (a folded row, an index seen in plans); then
    ``evidence`` says what was counted ("2 of 2 plans"). ``query`` and ``param_kind`` are None for a claim
    folded over queries or kinds.
    """

    claim_id: str
    topic: Topic
    title: str
    scale: str
    query: str | None
    param_kind: str | None
    profile: str
    guide: str  # the guide's statement, as a reader reads it: "90-95%", "idx_balances_user_token"
    guide_range: Range | None
    estimate: Estimate | None
    unit: str  # "%" or "x"; "" for a verdict without an estimate
    label: str
    why: str
    headline: bool = False
    evidence: str | None = None


def _range(expected: Range, unit: str) -> str:
    low, high = expected
    return f"~{low:.3g}{unit}" if low == high else f"{low:.3g}-{high:.3g}{unit}"


def _pct(estimate: Estimate | None) -> str:
    return format_estimate(estimate, "{:.1f}", "%")


def _times(estimate: Estimate | None) -> str:
    return format_estimate(estimate, "{:.3g}", "x")


def measured_text(verdict: ClaimVerdict) -> str:
    """The measured cell: the estimate with its interval, or what was counted."""
    if verdict.estimate is not None:
        return _pct(verdict.estimate) if verdict.unit == "%" else _times(verdict.estimate)
    return verdict.evidence or "—"


@dataclass(frozen=True)
class Precision:
    """Why an interval left its verdict open: the bound it straddles, how far the estimate is from it, and how
    many trials would decide it if further trials spread like these (None: none would, or too many)."""

    bound: float
    distance: float
    trials: int
    needed: int | None

    def text(self, unit: str) -> str:
        """"the interval straddles the guide's 85% bound, 0.8 pp away: ~28 trials would decide it (20 ran)"."""
        points = " pp" if unit == "%" else unit
        more = (f"~{self.needed} trials would decide it" if self.needed is not None
                else "no affordable number of trials decides it")
        return (f"the interval straddles the guide's {self.bound:g}{unit} bound, {self.distance:.1f}{points} away: "
                f"{more} ({self.trials} ran)")


def _precision(estimate: Estimate | None, expected: Range | None) -> Precision | None:
    if estimate is None or expected is None:
        return None
    bound = straddled_bound(estimate, expected)
    if bound is None:
        return None
    distance = abs(estimate.value - bound)
    return Precision(bound, distance, estimate.trials, trials_to_resolve(estimate, distance))


def precision(claim: ClaimVerdict) -> Precision | None:
    """For an inconclusive claim judged on a linear interval against a range (an improvement in percent): its
    ``Precision``; None for any other claim, decided or not judged against a range."""
    if claim.label != INCONCLUSIVE or claim.unit != "%":
        return None
    return _precision(claim.estimate, claim.guide_range)


def _name(v: QueryVerdicts) -> str:
    return v.guide_name or v.query


def _title(v: QueryVerdicts, what: str, kinds: int) -> str:
    kind = f" ({v.param_kind})" if kinds > 1 else ""
    return f"{_name(v)}{kind}: {what}"


def _claim_id(topic: Topic, *parts: str | None) -> str:
    return ".".join([topic.value, *(p for p in parts if p)])


def _straddled(estimate: Estimate, expected: Range) -> str:
    if not estimate.has_interval:
        return f"no interval from {estimate.trials} trial{'s' if estimate.trials != 1 else ''}"
    found = _precision(estimate, expected)
    return found.text("%") if found is not None else "the interval reaches past the guide's range"


def _projection_clause(v: QueryVerdicts) -> str | None:
    """The nearest network profile asked for (the first): the others are in the report's per-profile table."""
    judged = [n for n in v.networks if n.improvement is not None and n.improvement_verdict]
    if not judged:
        return None
    first = judged[0]
    return f"at {first.profile} (projected): {_pct(first.improvement)}, {first.improvement_verdict}"


def _cache_why(v: QueryVerdicts, claim: LatencyClaim, improvement: Estimate, cold: Estimate, warm: Estimate,
               label: str) -> str:
    parts: list[str] = []
    if label == INCONCLUSIVE:
        parts.append(_straddled(improvement, claim.improvement_pct))
    local = f"cold {cold.value:.2g} ms, warm {warm.value:.2g} ms locally"
    if label == SHORT:
        parts.append(f"{local}; the guide's {_range(claim.cold_ms, ' ms')} cold includes a network hop")
    else:
        parts.append(local)
    projection = _projection_clause(v)
    if projection:
        parts.append(projection)
    implied = v.consistency
    if implied is not None and implied.implied_verdict and implied.implied_verdict != label:
        parts.append(f"vs the {_range(implied.implied_pct, '%')} its own ms imply: {implied.implied_verdict}")
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def _cache(v: QueryVerdicts, kinds: int) -> list[ClaimVerdict]:
    claim, cache = v.claim, v.cache
    if claim is None or cache is None or cache.improvement is None or cache.cold is None or cache.warm is None:
        return []
    guide = _range(claim.improvement_pct, "%")
    label = cache.improvement_verdict or INCONCLUSIVE
    local = ClaimVerdict(
        claim_id=_claim_id(Topic.CACHE, v.query, v.param_kind), topic=Topic.CACHE,
        title=_title(v, "cache improvement", kinds), scale=v.scale, query=v.query, param_kind=v.param_kind,
        profile=LOCAL.name, guide=guide, guide_range=claim.improvement_pct, estimate=cache.improvement, unit="%",
        label=label, why=_cache_why(v, claim, cache.improvement, cache.cold, cache.warm, label), headline=True)
    projected = [ClaimVerdict(
        claim_id=local.claim_id, topic=Topic.CACHE, title=local.title, scale=v.scale, query=v.query,
        param_kind=v.param_kind, profile=n.profile, guide=guide, guide_range=claim.improvement_pct,
        estimate=n.improvement, unit="%", label=n.improvement_verdict or INCONCLUSIVE,
        why=(f"Projected, not measured: cold {n.cold.value:.3g} ms, warm {n.warm.value:.3g} ms with the profile's "
             "network added to both sides within each trial" if n.cold and n.warm else "Projected, not measured"))
        for n in v.networks if n.improvement is not None]
    return [local, *projected]


def _migration(v: QueryVerdicts, kinds: int) -> list[ClaimVerdict]:
    migration = v.migration
    if migration is None:
        return []
    label = migration.effect
    why = (f"No cache: {migration.without_012.value:.3g} ms without 012, {migration.with_012.value:.3g} ms with it"
           + ("; the plan is the same both ways, so the difference is drift" if label == SAME_PLAN else ""))
    return [ClaimVerdict(
        claim_id=_claim_id(Topic.MIGRATION, v.query, v.param_kind), topic=Topic.MIGRATION,
        title=_title(v, "012 speedup, no cache", kinds), scale=v.scale, query=v.query, param_kind=v.param_kind,
        profile=LOCAL.name, guide=f"{v.index.claimed} serves it" if v.index else "no claim",
        guide_range=None, estimate=migration.speedup, unit="x", label=label, why=why)]


def _columns(v: QueryVerdicts, kinds: int) -> list[ClaimVerdict]:
    projection = v.projection
    if projection is None:
        return []
    return [ClaimVerdict(
        claim_id=_claim_id(Topic.COLUMNS, v.query, v.param_kind), topic=Topic.COLUMNS,
        title=_title(v, "explicit columns", kinds), scale=v.scale, query=v.query, param_kind=v.param_kind,
        profile=LOCAL.name, guide="faster than balances.*", guide_range=None, estimate=projection.speedup, unit="x",
        label=projection.effect, why="balances.* with the joins / explicit columns without them, no cache, with 012")]


def _guide_cache(v: QueryVerdicts, kinds: int) -> list[ClaimVerdict]:
    claim, guide = v.claim, v.guide_cache
    if claim is None or guide is None or guide.improvement is None:
        return []
    price = (f"; our race-free miss costs {_times(guide.race_free_price)} the guide's miss"
             if guide.race_free_price is not None else "")
    return [ClaimVerdict(
        claim_id=_claim_id(Topic.GUIDE_CACHE, v.query, v.param_kind), topic=Topic.GUIDE_CACHE,
        title=_title(v, "guide's cache improvement", kinds), scale=v.scale, query=v.query,
        param_kind=v.param_kind, profile=LOCAL.name, guide=_range(claim.improvement_pct, "%"),
        guide_range=claim.improvement_pct, estimate=guide.improvement, unit="%",
        label=guide.improvement_verdict or INCONCLUSIVE,
        why=f"A miss through the guide's GET, then SET with TTL: {format_estimate(guide.cold, unit=' ms')}{price}")]


def _consistency(v: QueryVerdicts, kinds: int) -> list[ClaimVerdict]:
    claim, implied = v.claim, v.consistency
    improvement = v.cache.improvement if v.cache else None
    if claim is None or implied is None or improvement is None:
        return []
    return [ClaimVerdict(
        claim_id=_claim_id(Topic.CONSISTENCY, v.query, v.param_kind), topic=Topic.CONSISTENCY,
        title=_title(v, "improvement vs the table's own ms", kinds), scale=v.scale, query=v.query,
        param_kind=v.param_kind, profile=LOCAL.name, guide=_range(implied.implied_pct, "%"),
        guide_range=implied.implied_pct, estimate=improvement, unit="%", label=implied.implied_verdict or INCONCLUSIVE,
        why=(f"The table states {_range(claim.improvement_pct, '%')}; its {_range(claim.cold_ms, ' ms')} cold and "
             f"{_range(claim.warm_ms, ' ms')} warm imply {_range(implied.implied_pct, '%')}"))]


def fold(labels: Sequence[str], good: Iterable[str], bad: Iterable[str]) -> str:
    """One label for a claim judged in parts: holds when every part is good, does not hold when any is bad."""
    if not labels:
        return NOT_MEASURED
    if any(label in set(bad) for label in labels):
        return DOES_NOT_HOLD
    if all(label in set(good) for label in labels):
        return HOLDS
    return INCONCLUSIVE


def _index(items: list[QueryVerdicts], scale: str, query: str) -> ClaimVerdict | None:
    claim = INDEX_CLAIMS.get(query)
    if claim is None or not items:
        return None
    seen = [(v.param_kind, v.index) for v in items if v.index is not None and v.index.used is not None]
    labels = [HOLDS if index.used else DOES_NOT_HOLD for _, index in seen]
    label = fold(labels, (HOLDS,), (DOES_NOT_HOLD,))
    used = sum(1 for _, index in seen if index.used)
    if not seen:
        why = "No with-012 plan was captured to check"
    elif label == HOLDS:
        why = f"The with-012 plan uses {claim.index}" + (
            f" for {', '.join(kind for kind, _ in seen)}" if len(seen) > 1 else "")
    else:
        why = "; ".join(f"{kind}: the with-012 plan uses {', '.join(index.plan_indexes) or 'no index'}"
                        for kind, index in seen if not index.used)
    speedups = [f"{v.param_kind} {v.migration.speedup.value:.3g}x" for v in items if v.migration is not None]
    if speedups:
        why += f"; 012 speedup without cache: {', '.join(speedups)}"
    return ClaimVerdict(
        claim_id=_claim_id(Topic.INDEX, query), topic=Topic.INDEX,
        title=f"{claim.guide_name or query}: uses its 012 index", scale=scale, query=query, param_kind=None,
        profile=LOCAL.name, guide=claim.index, guide_range=None, estimate=None, unit="", label=label, why=why,
        headline=True, evidence=f"{used} of {len(seen)} plans" if seen else "no plan")


def _folded(parts: list[ClaimVerdict], topic: Topic, title: str, guide: str, good: tuple[str, ...],
            bad: tuple[str, ...], scale: str, detail: str) -> ClaimVerdict | None:
    if not parts:
        return None
    label = fold([p.label for p in parts], good, bad)
    counts = ", ".join(f"{n} {lab}" for lab, n in label_counts(parts).items())
    return ClaimVerdict(
        claim_id=_claim_id(topic), topic=topic, title=title, scale=scale, query=None, param_kind=None,
        profile=LOCAL.name, guide=guide, guide_range=None, estimate=None, unit="", label=label,
        why=f"{counts} of {len(parts)}{detail}", headline=True,
        evidence=f"{sum(1 for p in parts if p.label in good)} of {len(parts)} {'/'.join(good)}")


def _span(estimates: Iterable[Estimate | None]) -> str:
    values = sorted(e.value for e in estimates if e is not None)
    if not values:
        return ""
    low, high = values[0], values[-1]
    return f"{low:.3g}x" if f"{low:.3g}" == f"{high:.3g}" else f"{low:.3g}-{high:.3g}x"


def label_counts(items: Iterable[ClaimVerdict]) -> dict[str, int]:
    """How many verdicts carry each label, in first-seen order."""
    counts: dict[str, int] = {}
    for item in items:
        counts[item.label] = counts.get(item.label, 0) + 1
    return counts


def claim_verdicts(items: Sequence[QueryVerdicts]) -> list[ClaimVerdict]:
    """Every claim verdict of a run's verdicts: per scale, the headline rows first, then the topic rows."""
    result: list[ClaimVerdict] = []
    for scale in dict.fromkeys(v.scale for v in items):
        mine = [v for v in items if v.scale == scale]
        kinds = {q: sum(1 for v in mine if v.query == q) for q in dict.fromkeys(v.query for v in mine)}
        cache = [c for v in mine for c in _cache(v, kinds[v.query])]
        migration = [c for v in mine for c in _migration(v, kinds[v.query])]
        columns = [c for v in mine for c in _columns(v, kinds[v.query])]
        guide_cache = [c for v in mine for c in _guide_cache(v, kinds[v.query])]
        consistency = [c for v in mine for c in _consistency(v, kinds[v.query])]
        indexes = [i for q in kinds if (i := _index([v for v in mine if v.query == q], scale, q)) is not None]
        columns_span = _span(c.estimate for c in columns)
        price_span = _span(v.guide_cache.race_free_price if v.guide_cache else None for v in mine)
        folded = [f for f in (
            _folded(columns, Topic.COLUMNS, "Explicit columns instead of balances.*", "faster", (FASTER,),
                    (SLOWER,), scale, f"; balances.* with joins / explicit columns: {columns_span}"
                    if columns_span else ""),
            _folded(guide_cache, Topic.GUIDE_CACHE, "The guide's cache design meets its table", "table's ranges",
                    (MET, BETTER), (SHORT,), scale,
                    f" rows; our race-free miss costs {price_span} the guide's" if price_span else " rows"),
        ) if f is not None]
        result += [*[c for c in cache if c.headline], *indexes, *folded]
        result += [*[c for c in cache if not c.headline], *migration, *columns, *guide_cache, *consistency]
    return result


def judge_run(run: Run, profiles: Sequence[Profile] = ()) -> tuple[list[QueryVerdicts], list[ClaimVerdict]]:
    """The one judging step: the run's per-question verdicts and, from them, its claim verdicts."""
    items = verdicts(run, profiles)
    return items, claim_verdicts(items)


def headline(items: Iterable[ClaimVerdict]) -> list[ClaimVerdict]:
    """The rows of "Does the guide hold here?": the local judgement of each claim, in order."""
    return [c for c in items if c.headline]


def claims_frame(items: Iterable[ClaimVerdict]) -> pd.DataFrame:
    """One row per claim verdict, numbers as numbers: what a notebook filters and plots."""
    rows = [{
        "claim": c.claim_id, "topic": c.topic.value, "title": c.title, "scale": c.scale, "query": c.query,
        "params": c.param_kind, "profile": c.profile, "guide": c.guide,
        "estimate": c.estimate.value if c.estimate else None,
        "low": c.estimate.low if c.estimate else None, "high": c.estimate.high if c.estimate else None,
        "unit": c.unit, "label": c.label, "headline": c.headline, "why": c.why,
    } for c in items]
    return pd.DataFrame(rows, columns=["claim", "topic", "title", "scale", "query", "params", "profile", "guide",
                                       "estimate", "low", "high", "unit", "label", "headline", "why"])
