"""The report's first section as data: the headline rows and one compact table per topic, a figure per cell.

The old verdict table put two to four figures and whole paragraphs into each of
its 18 cells. Here every table has at most seven columns, every cell holds one
figure (with its interval) and is coloured by its verdict's tone; long text is
the headline's one sentence, and the rest lives in the per-query sections. The
tables read the claim verdicts (``claims``) for every label, and the per-query
records (``verdicts``) only for the plain measured figures (milliseconds) beside them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from balance_bench.network import LOCAL
from balance_bench.reports.claims import ClaimVerdict, Topic, headline, measured_text, tone
from balance_bench.reports.verdicts import QueryVerdicts, format_estimate

__all__ = ["Cell", "Table", "HeadlineRow", "headline_rows", "topic_tables"]


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, its tone (good / bad / neutral / "") and a tooltip naming the verdict."""

    text: str
    tone: str = ""
    title: str = ""


@dataclass(frozen=True)
class Table:
    """A compact table with its heading, a one-line caption, column headers and rows of cells."""

    anchor: str
    heading: str
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class HeadlineRow:
    """A row of "Does the guide hold here?"."""

    claim: str
    guide: str
    measured: str
    label: str
    tone: str
    why: str
    trials: str = ""  # "20 trials": what the measured figure rests on, as the cell's tooltip


def headline_rows(claims: Sequence[ClaimVerdict]) -> list[HeadlineRow]:
    """The headline's rows; the scale is named in the claim only when the run has several."""
    rows = headline(claims)
    several = len({c.scale for c in rows}) > 1
    return [HeadlineRow(claim=c.title + (f" ({c.scale})" if several else ""), guide=c.guide,
                        measured=measured_text(c), label=c.label, tone=tone(c.label), why=c.why,
                        trials=f"{c.estimate.trials} trials" if c.estimate is not None else "") for c in rows]


def _cell(claim: ClaimVerdict | None) -> Cell:
    if claim is None:
        return Cell("—")
    return Cell(measured_text(claim), tone(claim.label), claim.label)


def _label(claim: ClaimVerdict) -> Cell:
    return Cell(claim.label, tone(claim.label), claim.why)


def _ms(value: float | None) -> Cell:
    return Cell("—" if value is None else f"{value:.3g}")


def _query(v: QueryVerdicts, several_scales: bool) -> Cell:
    return Cell((v.guide_name or v.query) + (f" ({v.scale})" if several_scales else ""))


def _find(claims: Sequence[ClaimVerdict], topic: Topic, v: QueryVerdicts,
          profile: str = LOCAL.name) -> ClaimVerdict | None:
    return next((c for c in claims if c.topic is topic and c.scale == v.scale and c.query == v.query
                 and c.param_kind == v.param_kind and c.profile == profile), None)


def _cache_table(items: Sequence[QueryVerdicts], claims: Sequence[ClaimVerdict], several: bool) -> Table | None:
    claimed = [v for v in items if _find(claims, Topic.CACHE, v) is not None]
    if not claimed:
        return None
    profiles = list(dict.fromkeys(c.profile for c in claims if c.topic is Topic.CACHE))[:5]
    rows = tuple((_query(v, several), Cell(v.param_kind), *(_cell(_find(claims, Topic.CACHE, v, p)) for p in profiles))
                 for v in claimed)
    return Table("topic-cache", "Cache improvement per network profile",
                 "(cold - warm) / cold with 012, within each trial; each profile other than local adds that network "
                 "to both sides: a projection, not a measurement.",
                 ("query", "params", *(f"{p} %" if p != LOCAL.name else "measured here %" for p in profiles)), rows)


def _guide_cache_table(items: Sequence[QueryVerdicts], claims: Sequence[ClaimVerdict], several: bool) -> Table | None:
    rows = tuple((_query(v, several), Cell(v.param_kind), _ms(v.guide_cache.cold.value),
                  _ms(v.cache.cold.value if v.cache and v.cache.cold else None),
                  Cell(format_estimate(v.guide_cache.race_free_price, "{:.3g}", "x")),
                  _cell(_find(claims, Topic.GUIDE_CACHE, v)))
                 for v in items if v.guide_cache is not None and _find(claims, Topic.GUIDE_CACHE, v) is not None)
    if not rows:
        return None
    return Table("topic-guide-cache", "The guide's own cache design",
                 "A miss through the guide's cache (GET, then SET with TTL) against ours (fill token, compare-and-set: "
                 "race-free), and the guide's design judged against its own table.",
                 ("query", "params", "guide miss ms", "our miss ms", "ours / guide", "guide's improvement"), rows)


def _migration_table(items: Sequence[QueryVerdicts], claims: Sequence[ClaimVerdict], several: bool) -> Table | None:
    rows = []
    for v in items:
        speedup = _find(claims, Topic.MIGRATION, v)
        if speedup is None or v.migration is None:
            continue
        claimed = v.index
        index = (Cell("—") if claimed is None or claimed.used is None
                 else Cell(claimed.claimed if claimed.used else ", ".join(claimed.plan_indexes) or "no index",
                           "good" if claimed.used else "bad", f"claimed: {claimed.claimed}"))
        rows.append((_query(v, several), Cell(v.param_kind), _ms(v.migration.without_012.value),
                     _ms(v.migration.with_012.value), _cell(speedup), index))
    if not rows:
        return None
    return Table("topic-012", "Migration 012 and its indexes",
                 "Database path, no cache: latency without and with 012 and the speedup within each trial; the index "
                 "the with-012 plan uses, where the guide claims one.",
                 ("query", "params", "without 012 ms", "with 012 ms", "speedup", "index used"), tuple(rows))


def _consistency_table(items: Sequence[QueryVerdicts], claims: Sequence[ClaimVerdict], several: bool) -> Table | None:
    rows = []
    for v in items:
        implied = _find(claims, Topic.CONSISTENCY, v)
        stated = _find(claims, Topic.CACHE, v)
        if implied is None or stated is None:
            continue
        rows.append((_query(v, several), Cell(v.param_kind), Cell(stated.guide), Cell(implied.guide),
                     Cell(measured_text(stated)), _label(stated), _label(implied)))
    if not rows:
        return None
    return Table("topic-consistency", "The guide's table against itself",
                 "Three of its four rows state an improvement their own cold and warm milliseconds do not imply; the "
                 "measured improvement is judged against both readings.",
                 ("query", "params", "stated", "implied by its ms", "measured here", "vs stated", "vs implied"),
                 tuple(rows))


def topic_tables(items: Sequence[QueryVerdicts], claims: Sequence[ClaimVerdict]) -> list[Table]:
    """The compact tables under the headline, in reading order; a topic the run has nothing for is left out."""
    several = len({v.scale for v in items}) > 1
    tables = (_cache_table(items, claims, several), _guide_cache_table(items, claims, several),
              _migration_table(items, claims, several), _consistency_table(items, claims, several))
    return [t for t in tables if t is not None]
