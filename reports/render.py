"""``report.html``: one self-contained, printable file a reviewer reads top to bottom.

Order: the verdict table, the claims as the table grows (``sizes``, with two sizes or more), then per query a
chart, the latency distributions, and the plans before and after migration 012; then one section per experiment
that ran (``experiment_section``); then what the indexes cost writes, the
transport floor, the baseline comparison when asked for, and the environment,
dataset and methodology. Everything comes from the run's saved records (plan
facts included), through the one loader. Charts are inline SVG
and CSS is inline: nothing is fetched, so it opens offline. Jinja2 autoescapes
every value, pandas escapes every table cell, and the finished page is passed
through ``redact`` so no URL password can appear even if one slipped into the
environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from balance_bench.config import RUN_TRIALS
from balance_bench.coordinates import OPTIMIZED, PROJECTIONS, CacheState, Kind, Migration
from balance_bench.errors import redact
from balance_bench.guide import latency_claim
from balance_bench.network import FORMULA, Profile, is_local_server
from balance_bench.reports.charts import distribution_chart, query_chart, write_cost_chart
from balance_bench.reports.claim_tables import headline_rows, topic_tables
from balance_bench.reports.claims import ClaimVerdict, judge_run
from balance_bench.reports.counter_gate import BLOCKS_THRESHOLD_PCT, CounterComparison, compare_counters, counters_frame
from balance_bench.reports.experiment_section import experiment_sections, guide_table_html
from balance_bench.reports.gate import gate_regressions
from balance_bench.reports.guide_table import check_table
from balance_bench.reports.guide_table import conclusion as table_conclusion
from balance_bench.reports.load_section import load_section
from balance_bench.reports.projections import projections_frame
from balance_bench.reports.runs import Run, read_run
from balance_bench.reports.sizes import size_section
from balance_bench.reports.tables import (
    STAT_FORMATS,
    TRAFFIC_COLUMNS,
    datasets_frame,
    environment_frame,
    html_table,
    index_sizes_frame,
    ms,
    node_frame,
    overhead_frame,
    profiles_frame,
    projected_column,
    stats_frame,
    write_frame,
)
from balance_bench.reports.time_gate import (
    ALPHA,
    FLOORS,
    GATE_P,
    POWER,
    Comparison,
    compare_runs,
    comparisons_frame,
    unmatched,
)
from balance_bench.reports.top_up import trials_phrase
from balance_bench.reports.verdict_document import write_text, write_verdicts
from balance_bench.reports.verdicts import APPROX_TOLERANCE, QueryVerdicts, transport_floor
from balance_bench.results import ORDER_BLOCKS, REPORT_FILE, CaseResult, PlanFacts
from balance_bench.statistics import geometric_estimate

__all__ = ["write_report", "render_report", "write_html", "publish", "Publication"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class PlanView:
    """One plan as the report shows it: its facts and its node table."""

    title: str
    plan: PlanFacts
    nodes: Markup


@dataclass(frozen=True)
class QuerySection:
    """Everything the report shows about one read query at one scale."""

    anchor: str
    query: str
    guide_name: str | None
    scale: str
    verdicts: list[QueryVerdicts]
    chart: Markup | None
    distribution: Markup | None
    stats: Markup
    plan_pairs: list[tuple[str, PlanView | None, PlanView | None]]


def _anchor(*parts: str) -> str:
    return "-".join("".join(ch if ch.isalnum() or ch in "_-" else "-" for ch in part) for part in parts)


def _svg(text: str | None) -> Markup | None:
    return Markup(text) if text else None  # matplotlib escapes the text it draws


def _plan_view(case: CaseResult | None, title: str) -> PlanView | None:
    if case is None or case.plan is None:
        return None
    return PlanView(title=title, plan=case.plan, nodes=node_frame(case.plan, _anchor("plan", case.plan.file)))


def _formats(profiles: tuple[Profile, ...]) -> dict[str, Any]:
    return {**STAT_FORMATS, **{projected_column(p): ms for p in profiles}}


def _query_sections(run: Run, items: list[QueryVerdicts], profiles: tuple[Profile, ...]) -> list[QuerySection]:
    reads = [c for c in run.summary.cases if c.coords.kind is Kind.READ and not c.coords.experiment]
    sections = []
    for query, scale in dict.fromkeys((c.coords.query, c.coords.scale) for c in reads):
        cases = [c for c in reads if (c.coords.query, c.coords.scale) == (query, scale)]
        pairs = []
        for kind in dict.fromkeys(c.coords.param_kind for c in cases):
            nocache = cases[0].coords.with_(param_kind=kind, cache=CacheState.NOCACHE, projection=OPTIMIZED)
            before = _plan_view(run.case(nocache.with_(migration=Migration.WITHOUT_012)), "without 012")
            after = _plan_view(run.case(nocache.with_(migration=Migration.WITH_012)), "with 012")
            if before or after:
                pairs.append((kind, before, after))
        mine = [v for v in items if v.query == query and v.scale == scale]
        claim = latency_claim(query)
        sections.append(QuerySection(
            anchor=_anchor("q", scale, query),
            query=query,
            guide_name=claim.guide_name if claim else (mine[0].guide_name if mine else None),
            scale=scale,
            verdicts=mine,
            chart=_svg(query_chart(run, query, scale)),
            distribution=_svg(distribution_chart(run, query, scale)),
            stats=html_table(stats_frame(cases, ("params", "cache", "migration", "projection", "trials", "rounds",
                                                 "p50 ms", "p50 across trials", "p95 ms", "p99 ms", "IQR ms",
                                                 "cache hits", "cache misses", *TRAFFIC_COLUMNS), profiles),
                             _anchor("stats", scale, query), _formats(profiles)),
            plan_pairs=pairs,
        ))
    return sections


def _floor_moves(run: Run, baseline: Run) -> list[str]:
    moves = []
    for floor, query in FLOORS.items():
        for case in run.summary.cases:
            before = baseline.case(case.coords)
            if case.coords.kind is not Kind.REFERENCE or case.coords.query != query or before is None:
                continue
            now = geometric_estimate(list(case.trial_medians_ms.values())).value
            then = geometric_estimate(list(before.trial_medians_ms.values())).value
            moves.append(f"{case.coords.scale} {floor} floor ({query}) {(now / then - 1) * 100:+.1f}%")
    return moves


def _counter_context(counters: list[CounterComparison], blocks_pct: float) -> dict[str, Any]:
    """The counter findings beside the timings: the table of changed cases, and how many stayed the same."""
    frame = counters_frame(counters)
    classes = pd.DataFrame("", index=frame.index, columns=frame.columns)
    if not frame.empty:
        classes["counters"] = [("bad" if c.regression else "neutral") for c in
                               sorted((c for c in counters if c.changes or c.notes), key=lambda c: not c.regression)]
    return {
        "compared": len(counters),
        "same": sum(not c.changes and not c.notes for c in counters),
        "regressed": sum(c.regression for c in counters),
        "blocks_pct": blocks_pct,
        "table": html_table(frame, "counter-findings", classes=classes) if not frame.empty else None,
    }


def _comparison_context(run: Run, baseline: Run, comparisons: list[Comparison], pct: float | None,
                        counters: list[CounterComparison], blocks_pct: float) -> dict[str, Any]:
    only_now, only_before = unmatched(run, baseline)
    frame = comparisons_frame(comparisons, pct)
    classes = pd.DataFrame("", index=frame.index, columns=frame.columns)
    if not frame.empty:
        classes["verdict"] = frame["verdict"].map(
            {"regression": "bad", "slower": "bad", "faster": "good", "no significant change": "neutral"}).fillna("")
    signed = lambda v: f"{v:+.1f}"  # noqa: E731
    found = gate_regressions([c for c in comparisons if c.kind is not Kind.REFERENCE], counters, pct) \
        if pct is not None else None
    return {
        "baseline": redact(str(baseline.path)),
        "matched": len(comparisons),
        "slower": sum(c.verdict == "slower" for c in comparisons),
        "faster": sum(c.verdict == "faster" for c in comparisons),
        "untested": sum(c.p_value is None for c in comparisons),
        "regressions": None if found is None else [f"{r.kind}: {r.line}" for r in found],
        "pct": pct,
        "only_current": len(only_now),
        "only_baseline": len(only_before),
        "table": html_table(frame, "comparison", {"baseline median (ms)": ms, "current median (ms)": ms,
                                                  "change (%)": signed, "change vs floor (%)": signed,
                                                  "p (Welch, trials)": lambda v: f"{v:.2g}",
                                                  GATE_P: lambda v: f"{v:.2g}",
                                                  "detectable (%)": lambda v: f"{v:.1f}"}, classes),
        "floors": _floor_moves(run, baseline),
        "counters": _counter_context(counters, blocks_pct),
    }


def _network_context(run: Run, profiles: tuple[Profile, ...]) -> dict[str, Any]:
    """The network section: the profiles, the formula, and the floor's round trips when a server is remote."""
    services = run.environment.get("services")
    services = services if isinstance(services, dict) else {}
    remote = [name for name, key in (("PostgreSQL", "postgres"), ("Redis", "redis"))
              if isinstance(services.get(key), str) and not is_local_server(services[key])]
    floors = []
    if remote:
        names = {"raw_pg_select_1": "PostgreSQL SELECT 1", "raw_redis_get": "Redis GET"}
        for scale in dict.fromkeys(c.coords.scale for c in run.summary.cases):
            floor = transport_floor(run, scale)
            floors += [f"{label} {ms(floor[q])} ms (scale {scale})" for q, label in names.items() if q in floor]
    return {
        "formula": FORMULA,
        "profiles": html_table(profiles_frame(profiles), "profiles") if profiles else None,
        "traffic_recorded": any(c.traffic is not None for c in run.summary.cases),
        "remote": remote,
        "floors": floors,
    }


def _template() -> Any:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["ms"] = lambda v: "—" if v is None else ms(v)
    return env.get_template(TEMPLATE)


def render_report(run: Run, baseline: Run | None = None, fail_on_regression: float | None = None,
                  profiles: tuple[Profile, ...] = (),
                  judged: tuple[list[QueryVerdicts], list[ClaimVerdict]] | None = None,
                  counters: list[CounterComparison] | None = None,
                  blocks_pct: float = BLOCKS_THRESHOLD_PCT) -> tuple[str, list[Comparison]]:
    """The report's HTML for ``run`` (compared with ``baseline`` when given), and the comparisons made.

    Each network profile re-judges the verdicts and adds projected latencies (from the saved traffic).
    ``judged`` is ``claims.judge_run``'s result when the caller already has it (to write verdicts.json from
    the same judgement); otherwise the run is judged here. ``counters`` are the counter comparisons with the
    baseline when the caller made them (at ``blocks_pct``); otherwise they are made here.
    """
    items, claims = judged if judged is not None else judge_run(run, profiles)
    scales = list(dict.fromkeys(c.coords.scale for c in run.summary.cases))
    environment = run.environment
    comparisons = compare_runs(run, baseline) if baseline is not None else []
    if counters is None:
        counters = compare_counters(run, baseline, blocks_pct) if baseline is not None else []
    references = [c for c in run.summary.cases if c.coords.kind is Kind.REFERENCE]
    context = {
        "run_name": run.path.name,
        "environment": environment,
        "design": run.design,
        "order_blocks": ORDER_BLOCKS,
        "run_trials": RUN_TRIALS,
        "trials_phrase": trials_phrase(run.design),
        "schema_version": run.summary.schema_version,
        "captured_at": str(environment.get("captured_at", "unknown")),
        "scales": scales,
        "case_count": len(run.summary.cases),
        "has_matrix": any(not c.coords.experiment for c in run.summary.cases),
        "experiments": experiment_sections(run),
        "has_raw": not run.timings.empty,
        "headline": headline_rows(claims),
        "topics": topic_tables(items, claims),
        "by_size": size_section(run, claims),  # None unless the run's reads cover two sizes or more
        "projections": html_table(projections_frame(run), "projections",
                                  {f"{p} p50 ms": ms for p in PROJECTIONS}) if items else Markup(""),
        "sections": _query_sections(run, items, profiles),
        "guide_table": {"conclusion": table_conclusion(check_table()), "table": guide_table_html("guide-table-rows"),
                        "notes": [c.note() for c in check_table() if not c.follows]},
        "network": _network_context(run, profiles),
        "writes": [{"scale": s, "chart": _svg(write_cost_chart(run, s)),
                    "table": html_table(write_frame(run, s), _anchor("writes", s),
                                        {"without 012 p50 ms": ms, "with 012 p50 ms": ms,
                                         "added ms": lambda v: f"{v:+.3g}"}),
                    "sizes": (lambda f: html_table(f, _anchor("sizes", s)) if f is not None else None)(
                        index_sizes_frame(environment, s))}
                   for s in scales],
        "references": html_table(stats_frame(references, ("query", "scale", "trials", "rounds", "p50 ms",
                                                          "p50 across trials", "p95 ms", "p99 ms")),
                                 "references", STAT_FORMATS),
        "overheads": html_table(overhead_frame(references), "overheads", STAT_FORMATS),
        "comparison": _comparison_context(run, baseline, comparisons, fail_on_regression, counters, blocks_pct)
        if baseline else None,
        "environment_table": html_table(environment_frame(environment), "environment"),
        "datasets_table": html_table(datasets_frame(environment), "datasets"),
        "all_cases": html_table(stats_frame(run.summary.cases, (
            "query", "scale", "params", "cache", "migration", "projection", "trials", "rounds", "p50 ms",
            "p50 across trials", "p95 ms", "p99 ms", "IQR ms", "plan execution ms", "indexes used",
            *TRAFFIC_COLUMNS), profiles), "cases", _formats(profiles)),
        "load_section": load_section(run),  # None unless the run also holds balance-bench load results
        "alpha": ALPHA,
        "power": POWER,
        "tolerance_pct": round(APPROX_TOLERANCE * 100),
    }
    html = _template().render(**context)
    return redact(html), comparisons


def write_html(run_dir: Path, html: str) -> Path:
    """Write ``report.html`` atomically: a reader never sees half a file."""
    return write_text(run_dir / REPORT_FILE, html, "the report")


@dataclass(frozen=True)
class Publication:
    """What ``publish`` wrote for a run, and the claim verdicts it wrote them from."""

    report: Path
    verdicts_json: Path
    verdicts_md: Path
    claims: list[ClaimVerdict]
    environment: dict[str, Any]  # the run's as read for it, so a caller need not read the run again


def publish(run_dir: Path, profiles: tuple[Profile, ...] = (), baseline: Path | None = None) -> Publication:
    """Write ``report.html`` (compared with ``baseline`` when given), ``verdicts.json`` and ``verdicts.md`` into
    ``run_dir``, all from one judgement."""
    run = read_run(run_dir)
    judged = judge_run(run, profiles)
    html, _ = render_report(run, read_run(baseline) if baseline is not None else None, profiles=profiles,
                            judged=judged)
    verdicts_json, verdicts_md = write_verdicts(run, judged[1])
    return Publication(write_html(run.path, html), verdicts_json, verdicts_md, judged[1], run.environment)


def write_report(run_dir: Path, baseline: Path | None = None, profiles: tuple[Profile, ...] = ()) -> Path:
    """Build the report (and the verdict files beside it) in ``run_dir``, projected at ``profiles``; its path."""
    return publish(run_dir, profiles, baseline).report
