"""The guide's explicit-columns rewrite taken apart: the three projections of each row read side by side.

The rewrite does two things at once: it lists the balance's own columns instead
of ``balances.*`` plus joined user and token columns, and it drops the joins.
The ``explicit_joined`` projection does only the first, so within each trial
(database path, no cache, one migration state)::

    legacy / explicit_joined      what narrowing the columns buys
    explicit_joined / optimized   what dropping the joins buys
    legacy / optimized            the whole rewrite

each a ratio of the two cases' trial medians, stated with its interval across
trials (``statistics.ratio_estimate``): above 1 means the right-hand side is faster.
"""

from __future__ import annotations

import pandas as pd

from balance_bench.coordinates import EXPLICIT_JOINED, LEGACY, OPTIMIZED, PROJECTIONS, CacheState, Kind
from balance_bench.reports.runs import Run
from balance_bench.reports.verdicts import format_estimate
from balance_bench.results import CaseResult
from balance_bench.statistics import ratio_estimate

__all__ = ["RATIOS", "projections_frame"]

RATIOS: tuple[tuple[str, str, str], ...] = (
    ("columns: legacy / explicit_joined", LEGACY, EXPLICIT_JOINED),
    ("joins: explicit_joined / optimized", EXPLICIT_JOINED, OPTIMIZED),
    ("whole rewrite: legacy / optimized", LEGACY, OPTIMIZED),
)
"""Each ratio's column name, numerator projection and denominator projection."""


def _ratio(slower: CaseResult | None, faster: CaseResult | None) -> str | None:
    if slower is None or faster is None:
        return None
    return format_estimate(ratio_estimate(slower.trial_medians_ms, faster.trial_medians_ms), "{:.3g}", "x")


def projections_frame(run: Run) -> pd.DataFrame:
    """One row per row read, scale, parameter kind and migration that has more than one projection."""
    by: dict[tuple[str, str, str, str], dict[str, CaseResult]] = {}
    for case in run.summary.cases:
        c = case.coords
        if c.kind is Kind.READ and c.cache is CacheState.NOCACHE and not c.experiment:
            by.setdefault((c.query, c.scale, c.param_kind, str(c.migration)), {})[c.projection] = case
    rows = []
    for (query, scale, params, migration), cases in by.items():
        if len(cases) < 2:
            continue  # an aggregate: one statement whatever the projection
        row: dict[str, object] = {"query": query, "scale": scale, "params": params, "migration": migration}
        for projection in PROJECTIONS:
            found = cases.get(projection)
            row[f"{projection} p50 ms"] = found.median_ms if found else None
        for name, slower, faster in RATIOS:
            row[name] = _ratio(cases.get(slower), cases.get(faster))
        rows.append(row)
    columns = ["query", "scale", "params", "migration", *(f"{p} p50 ms" for p in PROJECTIONS),
               *(name for name, _, _ in RATIOS)]
    return pd.DataFrame(rows, columns=columns)
