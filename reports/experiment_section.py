"""The report's experiment sections: per experiment that ran, its question, conclusion, chart, figures and plans.

Everything comes from the run's saved records (``summary.json``'s experiment
records and cases, through the one loader). The chart is latency against depth
when the experiment's cases are pages (pagination: one line per variant and
migration state), otherwise each case's median with a whisker to p95, per
migration state. The guide-table experiment shows the guide's rows with the
improvement they state beside the one their own milliseconds imply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
from markupsafe import Markup

from balance_bench.coordinates import Migration
from balance_bench.reports.charts import experiment_chart
from balance_bench.reports.guide_table import check_table
from balance_bench.reports.runs import Run
from balance_bench.reports.tables import html_table, ms, node_frame
from balance_bench.reports.verdicts import format_estimate
from balance_bench.results import CaseResult, ExperimentResult

__all__ = ["ExperimentPlan", "ExperimentSection", "experiment_sections", "figures_frame", "guide_table_frame",
           "guide_table_html"]


@dataclass(frozen=True)
class ExperimentPlan:
    """One case's plan as an experiment section shows it."""

    title: str
    case: CaseResult
    nodes: Markup


@dataclass(frozen=True)
class ExperimentSection:
    """Everything the report shows about one experiment at one scale."""

    anchor: str
    result: ExperimentResult
    chart: Markup | None
    chart_caption: str
    variants: Markup | None
    figures: Markup | None
    cases: Markup | None
    plans: list[ExperimentPlan]
    table: Markup | None  # the guide-table experiment's rows


def _anchor(*parts: str) -> str:
    return "-".join(re.sub(r"[^A-Za-z0-9_-]", "-", part) for part in parts if part)


def figures_frame(result: ExperimentResult) -> pd.DataFrame:
    """Every figure of an experiment: ratios (within trials, with their interval) first, then probe figures."""
    rows = []
    for key, estimate in result.figures.items():
        migration, _, name = key.partition(".")
        ratio = result.ratios.get(name)
        rows.append({
            "migration": migration if migration in set(Migration) else "",
            "figure": name if migration in set(Migration) else key,
            "kind": "ratio" if ratio else "probe",
            "value": format_estimate(estimate, "{:.3g}", "x") if ratio else f"{estimate.value:,.6g}",
            "what": f"{ratio[0]} / {ratio[1]}, within each trial" if ratio else "measured once, untimed",
        })
    frame = pd.DataFrame(rows, columns=["migration", "figure", "kind", "value", "what"])
    return frame.sort_values(["kind", "migration", "figure"], kind="stable", ignore_index=True)


def _span(low: float, high: float) -> str:
    """A range as the guide writes it: "5-10", or one figure where it gives one ("~0.5ms" is (0.5, 0.5))."""
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


def guide_table_frame() -> pd.DataFrame:
    """The guide's table, each row's stated improvement beside the range its own milliseconds imply."""
    rows = [{"query": c.guide_name, "cold ms": _span(*c.cold_ms), "warm ms": _span(*c.warm_ms),
             "stated improvement %": _span(*c.stated_pct),
             "implied by its ms %": f"{c.implied_pct[0]:.0f}-{c.implied_pct[1]:.0f}",
             "follows": "yes" if c.follows else "no"} for c in check_table()]
    return pd.DataFrame(rows)


def guide_table_html(table_id: str) -> Markup:
    """The guide's table checked against itself, a row that does not follow marked bad (why: ``TableCheck.note``)."""
    frame = guide_table_frame()
    styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
    styles["follows"] = frame["follows"].map({"yes": "good", "no": "bad"})
    return html_table(frame, table_id, classes=styles)


def _cases_frame(cases: list[CaseResult]) -> pd.DataFrame:
    rows = [{"variant": c.coords.variant, "migration": str(c.coords.migration), "case": c.coords.query,
             "params": c.coords.param_kind, "kind": str(c.coords.kind), "trials": c.trials, "rounds": c.rounds,
             "p50 ms": c.median_ms, "p50 across trials": format_estimate(c.median_ci, unit=" ms"),
             "p95 ms": c.stats.p95_ms, "plan execution ms": c.plan.execution_ms if c.plan else None,
             "indexes used": ", ".join(c.plan.indexes_used) if c.plan else ""} for c in cases]
    return pd.DataFrame(rows)


def _section(run: Run, result: ExperimentResult) -> ExperimentSection:
    anchor = _anchor("x", result.name, result.scale)
    cases = result.cases(run.summary.cases)
    variants = pd.DataFrame([vars(v) for v in result.variants], columns=["name", "description", "layout", "schema"])
    plans = [ExperimentPlan(f"{c.coords.variant} {c.coords.query} {c.coords.param_kind} ({c.coords.migration})", c,
                            node_frame(c.plan, _anchor("xplan", c.plan.file)))
             for c in cases if c.plan is not None]
    table = None
    if not result.variants:  # a run from before the guide's table had its own section: it was an "experiment"
        table = guide_table_html(_anchor("xtable", result.name))
    paged = bool(cases) and all(c.coords.param_kind.startswith("page-") for c in cases)
    caption = ("Latency per call against depth: the central value of the per-trial medians with its 95% interval "
               "across trials, one line per variant and migration state (dashed grey without 012, blue with it)."
               if paged else
               "Median latency per call (bars) with a whisker up to p95, per case (variant, operation, parameters), "
               "without (grey) and with (blue) migration 012.")
    return ExperimentSection(
        anchor=anchor, result=result,
        chart=Markup(chart) if (chart := experiment_chart(run, result)) else None, chart_caption=caption,
        variants=html_table(variants, _anchor("xvariants", result.name, result.scale)) if result.variants else None,
        figures=html_table(figures_frame(result), _anchor("xfigures", result.name, result.scale))
        if result.figures and result.variants else None,
        cases=html_table(_cases_frame(cases), _anchor("xcases", result.name, result.scale),
                         {"p50 ms": ms, "p95 ms": ms, "plan execution ms": ms}) if cases else None,
        plans=plans, table=table)


def experiment_sections(run: Run) -> list[ExperimentSection]:
    """One section per experiment (and scale) the run holds, in the registry's order."""
    return [_section(run, result) for result in run.summary.experiments]
