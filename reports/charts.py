"""The report's charts, drawn with matplotlib (Agg, no pyplot state) and returned as inline SVG text.

Inline SVG keeps the report one self-contained file that prints sharply. The
output is deterministic (fixed hash salt, fixed font, no date, text kept as
text) so the same run always renders the same bytes, and each SVG's ids are
prefixed so several charts can share one HTML page without clashing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter
from matplotlib.typing import RcKeyType

from balance_bench.coordinates import EXPLICIT_JOINED, LEGACY, OPTIMIZED, PROJECTIONS, CacheState, Kind, Migration
from balance_bench.guide import latency_claim
from balance_bench.matrix import READ_CACHE_STATES
from balance_bench.reports.runs import Run
from balance_bench.results import CaseResult, ExperimentResult

__all__ = ["STYLE", "query_chart", "distribution_chart", "write_cost_chart", "targets_chart", "experiment_chart",
           "figure_svg"]

CACHE_ORDER = READ_CACHE_STATES
MIGRATION_ORDER = tuple(Migration)
MIGRATION_COLOURS = {Migration.WITHOUT_012: "#9aa5b1", Migration.WITH_012: "#1f5fbf"}
CACHE_COLOURS = {CacheState.NOCACHE: "#4b5563", CacheState.COLD: "#c2410c", CacheState.GUIDE_COLD: "#7c3aed",
                 CacheState.WARM: "#047857"}
PROJECTION_LABELS = {LEGACY: "select *", EXPLICIT_JOINED: "cols+joins", OPTIMIZED: ""}
MIGRATION_STYLES = {Migration.WITHOUT_012: (0, (4, 2)), Migration.WITH_012: "solid"}
LOG_SPAN = 20.0  # use a log axis once the values span more than this factor
ECDF_POINTS = 400  # quantiles drawn per distribution: enough for the eye, small SVGs
PERCENTILES = ((0.50, "p50", "center"), (0.95, "p95", "top"), (0.99, "p99", "bottom"))  # p95/p99 labels apart

STYLE: dict[RcKeyType, Any] = {
    "svg.hashsalt": "balance-bench",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "path.simplify": True,
    "text.parse_math": False,  # labels carry run data: a "$" must print as itself, never be parsed as TeX
}


@contextmanager
def _style() -> Iterator[None]:
    with matplotlib.rc_context(STYLE):
        yield


_ID = re.compile(r'\bid="([^"]+)"')


def figure_svg(fig: Figure, prefix: str) -> str:
    """The figure as an ``<svg>`` element, ids prefixed with ``prefix`` so charts can share a page."""
    buffer = io.StringIO()
    with _style():
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)  # RDF boilerplate with URLs; not needed
    safe = re.sub(r"[^A-Za-z0-9_-]", "-", prefix)
    ids = set(_ID.findall(text))
    text = _ID.sub(lambda m: f'id="{safe}-{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{safe}-{m.group(1)})" if m.group(1) in ids else m.group(0), text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{safe}-{m.group(1)}"' if m.group(1) in ids else m.group(0),
                  text)
    return text.replace("<svg ", f'<svg role="img" aria-label="{safe}" ', 1)


def _spans_decades(values: Sequence[float]) -> bool:
    positive = [v for v in values if v > 0]
    return bool(positive) and max(positive) / min(positive) > LOG_SPAN


def _scale(ax: Axes, axis: str, values: Sequence[float]) -> None:
    """Log scale once the values span decades, labelled with plain numbers (0.1, 1, 10) rather than powers of ten."""
    if not _spans_decades(values):
        return
    target = ax.yaxis if axis == "y" else ax.xaxis
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    target.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    target.set_minor_formatter(NullFormatter())


def _bars(ax: Axes, labels: list[str], series: Mapping[Any, list[CaseResult | None]],
          colours: Mapping[Any, str] = MIGRATION_COLOURS) -> list[float]:
    """Grouped bars of medians with a whisker up to p95; returns every plotted value (for the scale choice)."""
    x = np.arange(len(labels))
    width = 0.8 / max(len(series), 1)
    plotted: list[float] = []
    for position, (migration, cases) in enumerate(series.items()):
        offsets = x - 0.4 + width * (position + 0.5)
        medians = [c.median_ms if c else np.nan for c in cases]
        upper = [c.stats.p95_ms - c.median_ms if c else np.nan for c in cases]
        ax.bar(offsets, medians, width * 0.92, color=colours.get(migration, "#777777"),
               label=migration.replace("_", " "), yerr=[np.zeros(len(cases)), upper],
               error_kw={"elinewidth": 0.9, "capsize": 2.5, "ecolor": "#111827"})
        plotted += [c.median_ms for c in cases if c] + [c.stats.p95_ms for c in cases if c]
    ax.set_xticks(x, labels)
    return plotted


def query_chart(run: Run, query: str, scale: str) -> str | None:
    """Median (whisker to p95) per parameter kind x cache state, without vs with 012, and the guide's ranges."""
    reads = [c for c in run.summary.cases if c.coords.kind is Kind.READ and c.coords.query == query
             and c.coords.scale == scale and not c.coords.experiment]
    if not reads:
        return None
    index = {(c.coords.param_kind, c.coords.cache, c.coords.projection, c.coords.migration): c for c in reads}
    param_kinds = list(dict.fromkeys(c.coords.param_kind for c in reads))
    columns: list[tuple[str, CacheState, str]] = []
    for kind in param_kinds:
        for cache in CACHE_ORDER:
            if any((kind, cache, OPTIMIZED, m) in index for m in MIGRATION_ORDER):
                columns.append((kind, cache, OPTIMIZED))
        for projection in PROJECTIONS:
            if projection != OPTIMIZED and any((kind, CacheState.NOCACHE, projection, m) in index
                                               for m in MIGRATION_ORDER):
                columns.append((kind, CacheState.NOCACHE, projection))
    labels = [f"{kind}\n{cache}" + (f"\n{PROJECTION_LABELS[projection]}" if projection != OPTIMIZED else "")
              for kind, cache, projection in columns]
    series = {m: [index.get((k, c, p, m)) for k, c, p in columns] for m in MIGRATION_ORDER}
    with _style():
        fig = Figure(figsize=(max(6.5, 0.95 * len(columns) + 3.5), 4.0), layout="constrained")
        ax = fig.add_subplot()
        plotted = _bars(ax, labels, series)
        claim = latency_claim(query)
        if claim is not None:
            for name, (low, high), colour in ((CacheState.COLD, claim.cold_ms, CACHE_COLOURS[CacheState.COLD]),
                                              (CacheState.WARM, claim.warm_ms, CACHE_COLOURS[CacheState.WARM])):
                label = f"guide {name} (network) ~{low:g}" + (f"-{high:g} ms" if high != low else " ms")
                if high > low:
                    ax.axhspan(low, high, color=colour, alpha=0.12, label=label, lw=0)
                else:
                    ax.axhline(low, color=colour, ls="--", lw=1.0, alpha=0.8, label=label)
                plotted += [low, high]
        _scale(ax, "y", plotted)
        ax.set_ylabel("latency per call (ms)")
        ax.set_xlabel("parameter kind / cache state")
        ax.set_title(f"{query} ({scale}): median per call, whisker to p95")
        fig.legend(fontsize=7.5, frameon=False, loc="outside right upper")
        return figure_svg(fig, f"q-{scale}-{query}")


TARGET_COLOURS = ("#1f5fbf", "#c2410c", "#047857", "#7c3aed", "#b45309", "#be185d", "#4b5563", "#0e7490")
"""One colour per target of a comparison, in the order the runs were given (cycled past eight)."""


def targets_chart(runs: Mapping[str, Run], query: str, scale: str) -> str | None:
    """Median (whisker to p95) per parameter kind x cache state x projection with 012, one bar series per target."""
    index: dict[str, dict[tuple[str, CacheState, str], CaseResult]] = {
        name: {(c.coords.param_kind, c.coords.cache, c.coords.projection): c for c in run.summary.cases
               if c.coords.kind is Kind.READ and c.coords.query == query and c.coords.scale == scale
               and c.coords.migration is Migration.WITH_012 and not c.coords.experiment}
        for name, run in runs.items()}
    present = {key for cases in index.values() for key in cases}
    if not present:
        return None
    kinds = list(dict.fromkeys(k for cases in index.values() for k, _, _ in cases))
    columns = [(k, cache, p) for k in kinds for p in PROJECTIONS for cache in CACHE_ORDER if (k, cache, p) in present]
    labels = [f"{k}\n{cache}" + (f"\n{PROJECTION_LABELS[p]}" if p != OPTIMIZED else "") for k, cache, p in columns]
    series = {name: [cases.get(column) for column in columns] for name, cases in index.items()}
    colours = {name: TARGET_COLOURS[i % len(TARGET_COLOURS)] for i, name in enumerate(runs)}
    with _style():
        fig = Figure(figsize=(max(6.5, 0.8 * len(columns) * max(1, len(runs) / 2) + 3.5), 4.0), layout="constrained")
        ax = fig.add_subplot()
        plotted = _bars(ax, labels, series, colours)
        _scale(ax, "y", plotted)
        ax.set_ylabel("latency per call (ms)")
        ax.set_xlabel("parameter kind / cache state / projection, with 012")
        ax.set_title(f"{query} ({scale}): median per call per target, whisker to p95")
        fig.legend(fontsize=7.5, frameon=False, loc="outside right upper")
        return figure_svg(fig, f"t-{scale}-{query}")


def _ecdf(values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    data = np.sort(np.asarray(values, dtype=float))
    if data.size > ECDF_POINTS:
        levels = np.linspace(0.0, 1.0, ECDF_POINTS)
        return np.quantile(data, levels), levels
    return data, np.arange(1, data.size + 1) / data.size


def distribution_chart(run: Run, query: str, scale: str) -> str | None:
    """ECDF of every raw timing per cache state and migration, with p50/p95/p99 marked; one panel per parameter kind."""
    reads = [c for c in run.summary.cases if c.coords.kind is Kind.READ and c.coords.query == query
             and c.coords.scale == scale and c.coords.projection == OPTIMIZED and not c.coords.experiment
             and run.raw_timings(c)]
    if not reads:
        return None
    param_kinds = list(dict.fromkeys(c.coords.param_kind for c in reads))
    with _style():
        fig = Figure(figsize=(4.2 * len(param_kinds) + 2.2, 3.6), layout="constrained")
        axes = fig.subplots(1, len(param_kinds), squeeze=False, sharey=True)[0]
        for ax, kind in zip(axes, param_kinds, strict=True):
            values: list[float] = []
            for cache in CACHE_ORDER:
                for migration in MIGRATION_ORDER:
                    case = next((c for c in reads if (c.coords.param_kind, c.coords.cache, c.coords.migration)
                                 == (kind, cache, migration)), None)
                    if case is None:
                        continue
                    raw = run.raw_timings(case)
                    xs, ys = _ecdf(raw)
                    ax.step(xs, ys, where="post", color=CACHE_COLOURS[cache], ls=MIGRATION_STYLES[migration], lw=1.2,
                            label=f"{cache}, {migration.replace('_', ' ')}")
                    values += [float(xs[0]), float(xs[-1])]
            _scale(ax, "x", values)
            for level, name, align in PERCENTILES:
                ax.axhline(level, color="#6b7280", lw=0.6, ls=":")
                ax.annotate(name, (1.0, level), xycoords=("axes fraction", "data"), fontsize=7, color="#374151",
                            xytext=(2, 0), textcoords="offset points", va=align)
            ax.set_ylim(0, 1.02)
            ax.set_title(f"parameter: {kind}", fontsize=9)
            ax.set_xlabel("latency per call (ms)")
        axes[0].set_ylabel("share of calls at or below")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, fontsize=7, frameon=False, loc="outside lower center", ncols=3)
        fig.suptitle(f"{query} ({scale}): distribution of every timed call", fontsize=10)
        return figure_svg(fig, f"d-{scale}-{query}")


def write_cost_chart(run: Run, scale: str) -> str | None:
    """Median (whisker to p95) of each write with its cache invalidation, without vs with 012's indexes."""
    writes = [c for c in run.summary.cases
              if c.coords.kind is Kind.WRITE and c.coords.scale == scale and not c.coords.experiment]
    if not writes:
        return None
    queries = list(dict.fromkeys(c.coords.query for c in writes))
    index = {(c.coords.query, c.coords.migration): c for c in writes}
    series = {m: [index.get((q, m)) for q in queries] for m in MIGRATION_ORDER}
    with _style():
        fig = Figure(figsize=(max(6.0, 1.2 * len(queries) + 3.0), 3.6), layout="constrained")
        ax = fig.add_subplot()
        plotted = _bars(ax, queries, series)
        _scale(ax, "y", plotted)
        ax.set_ylabel("latency per call (ms)")
        ax.set_xlabel("write (with cache invalidation)")
        ax.set_title(f"Writes ({scale}): median per call, whisker to p95")
        fig.legend(fontsize=7.5, frameon=False, loc="outside right upper")
        return figure_svg(fig, f"w-{scale}")


# --- experiments ----------------------------------------------------------------------------------------------

_PAGE = re.compile(r"^page-(\d+|last)$")
_VARIANT_MARKERS = ("o", "s", "^", "D", "v", "P")


def _depth(param_kind: str) -> float:
    match = _PAGE.match(param_kind)
    if match is None:
        raise ValueError(param_kind)
    return float("inf") if match[1] == "last" else float(match[1])


def _depth_chart(result: ExperimentResult, cases: list[CaseResult]) -> str:
    kinds = sorted(dict.fromkeys(c.coords.param_kind for c in cases), key=_depth)
    plotted: list[float] = []
    with _style():
        fig = Figure(figsize=(7.5, 3.8), layout="constrained")
        ax = fig.add_subplot()
        x = np.arange(len(kinds))
        variants = list(dict.fromkeys(c.coords.variant for c in cases))
        for migration in MIGRATION_ORDER:
            for index, variant in enumerate(variants):
                line = {c.coords.param_kind: c for c in cases
                        if c.coords.variant == variant and c.coords.migration is migration}
                if not line:
                    continue
                estimates = [line[k].median_ci if k in line else None for k in kinds]
                medians = [e.value if e else np.nan for e in estimates]
                # Interval arms, never below zero (identical trials give low == value up to rounding).
                low = [max(0.0, e.value - (e.low if e.low is not None else e.value)) if e else np.nan
                       for e in estimates]
                high = [max(0.0, (e.high if e.high is not None else e.value) - e.value) if e else np.nan
                        for e in estimates]
                ax.errorbar(x, medians, yerr=[low, high], color=MIGRATION_COLOURS[migration],
                            linestyle=MIGRATION_STYLES[migration], marker=_VARIANT_MARKERS[index % 6], capsize=2.5,
                            linewidth=1.3, markersize=4.5, label=f"{variant}, {migration.replace('_', ' ')}")
                plotted += [m for m in medians if m == m]
        ax.set_xticks(x, [k.removeprefix("page-") for k in kinds])
        _scale(ax, "y", plotted)
        ax.set_xlabel("page (depth)")
        ax.set_ylabel("latency per call (ms)")
        ax.set_title(f"{result.title} ({result.scale}): median across trials, 95% interval")
        fig.legend(fontsize=7.5, frameon=False, loc="outside right upper")
        return figure_svg(fig, f"x-{result.name}-{result.scale}")


def _case_chart(result: ExperimentResult, cases: list[CaseResult]) -> str:
    labels = list(dict.fromkeys(f"{c.coords.variant}\n{c.coords.query}\n{c.coords.param_kind}" for c in cases))
    index = {(f"{c.coords.variant}\n{c.coords.query}\n{c.coords.param_kind}", c.coords.migration): c for c in cases}
    series = {m: [index.get((label, m)) for label in labels] for m in MIGRATION_ORDER
              if any((label, m) in index for label in labels)}
    with _style():
        fig = Figure(figsize=(max(6.5, 1.0 * len(labels) + 3.0), 4.2), layout="constrained")
        ax = fig.add_subplot()
        plotted = _bars(ax, labels, series)
        ax.tick_params(axis="x", labelsize=6.5)
        _scale(ax, "y", plotted)
        ax.set_ylabel("latency per call (ms)")
        ax.set_title(f"{result.title} ({result.scale}): median per call, whisker to p95", fontsize=9)
        fig.legend(fontsize=7.5, frameon=False, loc="outside right upper")
        return figure_svg(fig, f"x-{result.name}-{result.scale}")


def experiment_chart(run: Run, result: ExperimentResult) -> str | None:
    """Latency against depth for paged cases, else every case's median per migration state; None without cases."""
    cases = result.cases(run.summary.cases)
    if not cases:
        return None
    if all(_PAGE.match(c.coords.param_kind) for c in cases):
        return _depth_chart(result, cases)
    return _case_chart(result, cases)
