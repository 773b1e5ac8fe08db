"""``report.html``: one self-contained, printable file a reviewer reads top to bottom.

Order: the verdict table, then per query a chart, the latency distributions,
and the plans before and after migration 012; then what the indexes cost
writes, the transport floor, the baseline comparison when asked for, and the
environment, dataset and methodology. Charts are inline SVG and CSS is inline:
nothing is fetched, so it opens offline. Jinja2 autoescapes every value, pandas
escapes every table cell, and the finished page is passed through ``redact``
so no URL password can appear even if one slipped into the environment.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from balance_bench.errors import BenchError, redact
from balance_bench.reports.analyse import PlanAnalysis, analyse
from balance_bench.reports.charts import distribution_chart, query_chart, write_cost_chart
from balance_bench.reports.compare import (
    ALPHA,
    FLOORS,
    Comparison,
    compare_runs,
    comparisons_frame,
    floor_ratios,
    mann_whitney_p,
    regressions,
    unmatched,
)
from balance_bench.reports.expectations import INDEX_CLAIMS, latency_claim
from balance_bench.reports.plans import ExplainPlan, load_plan
from balance_bench.reports.runs import Run, load_run
from balance_bench.reports.verdicts import APPROX_TOLERANCE, Verdict, verdicts, verdicts_frame
from balance_bench.results import REPORT_FILE, CaseResult

__all__ = ["write_report", "render_report", "write_html"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "report.html.j2"
VERDICT_CLASSES = {"met": "good", "better": "good", "short": "bad", "yes": "good", "no": "bad",
                   "faster": "good", "slower": "bad", "no significant change": "neutral",
                   "same plan": "neutral"}


# --- tables -------------------------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _times(value: float) -> str:
    return f"{value:.2f}x"


def _pct(value: float) -> str:
    return f"{value:.1f}"


def _p(value: float) -> str:
    return f"{value:.2g}"


def _table(frame: pd.DataFrame, table_id: str, formats: Mapping[str, Callable[[Any], str]] | None = None,
           classes: pd.DataFrame | None = None) -> Markup:
    """An escaped HTML table from pandas; ``classes`` colours cells (same shape as ``frame``)."""
    if frame.empty:
        return Markup('<p class="note">No rows.</p>')
    formats = {k: v for k, v in (formats or {}).items() if k in frame.columns}
    styler = (frame.style.format(formatter=formats, na_rep="—", escape="html")
              .format_index(escape="html", axis=1)
              .hide(axis="index")
              .set_uuid(table_id)
              .set_table_attributes('class="data"'))
    if classes is not None:
        styler = styler.set_td_classes(classes)
    return Markup(styler.to_html())


def _with_guide(value: float | None, expected: str | None, fmt: Callable[[float], str]) -> str | None:
    if value is None:
        return None
    return f"{fmt(value)} ({expected})" if expected else fmt(value)


def _verdict_table(items: list[Verdict]) -> Markup:
    """The verdicts compactly: each measured figure with the guide's beside it in brackets."""
    frame = verdicts_frame(items)  # the numeric table notebooks get; shown here in a denser layout
    shown = pd.DataFrame({
        "query": frame["query"],
        "scale": frame["scale"],
        "params": frame["params"],
        "cold ms (guide)": [_with_guide(v.cold_ms, g, _ms) for v, g in zip(items, frame["guide cold"])],
        "warm ms (guide)": [_with_guide(v.warm_ms, g, _ms) for v, g in zip(items, frame["guide warm"])],
        "improvement % (guide)": [_with_guide(v.improvement_pct, g, _pct)
                                  for v, g in zip(items, frame["guide improvement"])],
        "improvement": frame["improvement verdict"],
        "ms vs guide": [f"{v.cold_vs_guide} / {v.warm_vs_guide}" if v.cold_vs_guide else None for v in items],
        "012 speedup, no cache": [_times(x) if x is not None else None for x in (v.migration_speedup for v in items)],
        "012 effect": frame["012 effect"],
        "claimed index": frame["claimed index"],
        "index used": frame["index used"],
    })
    shown = shown.astype(object).where(shown.notna(), None)
    classes = pd.DataFrame("", index=shown.index, columns=shown.columns)
    for column in ("improvement", "index used", "012 effect"):
        classes[column] = shown[column].map(lambda v: VERDICT_CLASSES.get(v, "") if isinstance(v, str) else "")
    classes["ms vs guide"] = shown["ms vs guide"].map(lambda v: "neutral" if v else "")
    return _table(shown, "verdicts", classes=classes)


STAT_FORMATS: dict[str, Callable[[Any], str]] = {
    "p50 ms": _ms, "p95 ms": _ms, "p99 ms": _ms, "IQR ms": _ms, "min ms": _ms, "max ms": _ms, "mean ms": _ms,
    "plan execution ms": _ms, "ratio": _times, "p": _p, "cache hits": lambda v: f"{v:,.0f}",
    "cache misses": lambda v: f"{v:,.0f}", "rounds": lambda v: f"{v:,.0f}", "pairs": lambda v: f"{v:,.0f}",
    "model p50 ms": _ms, "raw p50 ms": _ms,
}


def _stats_frame(cases: Iterable[CaseResult], columns: tuple[str, ...]) -> pd.DataFrame:
    rows = []
    for c in cases:
        row = {"query": c.query, "scale": c.scale, "params": c.param_kind, "cache": c.cache,
               "migration": c.migration, "projection": c.projection, "rounds": c.rounds,
               "p50 ms": c.median_ms, "p95 ms": c.p95_ms, "p99 ms": c.p99_ms, "IQR ms": c.iqr_ms,
               "min ms": c.min_ms, "max ms": c.max_ms, "mean ms": c.mean_ms,
               "cache hits": c.cache_hits, "cache misses": c.cache_misses,
               "plan execution ms": c.execution_ms, "indexes used": ", ".join(c.indexes_used)}
        rows.append({k: row[k] for k in columns})
    return pd.DataFrame(rows, columns=list(columns))


def _overhead_frame(references: Iterable[CaseResult]) -> pd.DataFrame:
    """The model against its raw twin, timed interleaved: what the port and the harness add per call."""
    rows = [{"model call": c.overhead["model"], "raw twin": c.query, "scale": c.scale,
             "model p50 ms": c.overhead["model_ms"], "raw p50 ms": c.overhead["raw_ms"],
             "ratio": c.overhead["ratio"], "pairs": c.overhead["pairs"]}
            for c in references if c.overhead]
    return pd.DataFrame(rows, columns=["model call", "raw twin", "scale", "model p50 ms", "raw p50 ms", "ratio",
                                       "pairs"])


def _write_frame(run: Run, scale: str) -> pd.DataFrame:
    writes = [c for c in run.summary.cases if c.kind == "write" and c.scale == scale]
    by = {(c.query, c.migration): c for c in writes}
    rows = []
    for query in dict.fromkeys(c.query for c in writes):
        before, after = by.get((query, "without_012")), by.get((query, "with_012"))
        rows.append({
            "write": query,
            "without 012 p50 ms": before.median_ms if before else None,
            "with 012 p50 ms": after.median_ms if after else None,
            "added ms": after.median_ms - before.median_ms if before and after else None,
            "ratio": after.median_ms / before.median_ms if before and after and before.median_ms else None,
            "p": mann_whitney_p(run.raw_timings(before), run.raw_timings(after)) if before and after else None,
        })
    return pd.DataFrame(rows)


def _size(value: Any) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return str(value)


def _index_sizes(environment: Mapping[str, Any], scale: str) -> pd.DataFrame | None:
    """``environment["index_sizes"][scale][index] = bytes``, when the run recorded it."""
    sizes = environment.get("index_sizes")
    if not isinstance(sizes, Mapping) or not isinstance(sizes.get(scale), Mapping):
        return None
    used_by = {claim.index: claim.query for claim in INDEX_CLAIMS.values()}
    return pd.DataFrame([{"index": name, "size": _size(value), "guide says it serves": used_by.get(name)}
                         for name, value in sizes[scale].items()])


def _flatten(value: Any, prefix: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and all(not isinstance(v, (Mapping, list)) for v in value):
        yield prefix, ", ".join(str(v) for v in value)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{position}]")
    else:
        yield prefix, "—" if value is None else str(value)


def _environment_frame(environment: Mapping[str, Any]) -> pd.DataFrame:
    skip = {"datasets", "index_sizes"}
    rows = [{"key": redact(k), "value": redact(v)}
            for k, v in _flatten({k: v for k, v in environment.items() if k not in skip})]
    return pd.DataFrame(rows)


def _datasets_frame(environment: Mapping[str, Any]) -> pd.DataFrame:
    datasets = environment.get("datasets")
    if not isinstance(datasets, list):
        return pd.DataFrame()
    rows = []
    for item in datasets:
        if not isinstance(item, Mapping):
            continue
        row = {k: redact(json.dumps(v, sort_keys=True) if isinstance(v, (Mapping, list)) else str(v))
               for k, v in item.items() if k not in ("rows",)}
        rows_by_table = item.get("rows")
        if isinstance(rows_by_table, Mapping):
            row.update({f"{table} rows": f"{count:,}" if isinstance(count, int) else str(count)
                        for table, count in rows_by_table.items()})
        rows.append(row)
    return pd.DataFrame(rows)


# --- plans --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanView:
    """One plan as the report shows it: the case, its SQL, summary figures, node table and findings."""

    title: str
    sql: str | None
    analysis: PlanAnalysis
    nodes: Markup


def _node_frame(analysis: PlanAnalysis, table_id: str) -> Markup:
    total = analysis.total_ms or 0.0
    rows = []
    for node in analysis.nodes:
        role = f"{node.subplan_name}: " if node.subplan_name else ""
        rows.append({
            "node": "\u00a0\u00a0" * node.depth + role + node.label,
            "own ms": node.exclusive_ms,
            "share": f"{node.exclusive_ms / total:.0%}" if node.exclusive_ms is not None and total else None,
            "rows": node.actual_rows,
            "planned/loop": node.plan_rows,
            "loops": node.loops,
            "shared hit": node.shared_hit,
            "shared read": node.shared_read,
        })
    count = lambda v: f"{v:,.0f}"  # noqa: E731
    return _table(pd.DataFrame(rows), table_id,
                  {"own ms": lambda v: f"{v:.3f}", "rows": count, "planned/loop": count, "loops": count,
                   "shared hit": count, "shared read": count})


def _load_plans(run: Run) -> dict[str, ExplainPlan]:
    """Every plan file the run refers to, so a broken one is reported even if no section shows it."""
    plans: dict[str, ExplainPlan] = {}
    for case in run.summary.cases:
        path = run.plan_path(case)
        if path is not None and case.plan_file not in plans:
            plans[case.plan_file] = load_plan(path)  # type: ignore[index]
    return plans


def _plan_view(plans: Mapping[str, ExplainPlan], case: CaseResult | None, title: str) -> PlanView | None:
    if case is None or not case.plan_file:
        return None
    plan = plans[case.plan_file]
    analysis = analyse(plan, query=case.query)
    return PlanView(title=title, sql=redact(plan.sql) if plan.sql else None, analysis=analysis,
                    nodes=_node_frame(analysis, _anchor("plan", case.plan_file)))


# --- the page -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuerySection:
    """Everything the report shows about one read query at one scale."""

    anchor: str
    query: str
    guide_name: str | None
    scale: str
    verdicts: list[Verdict]
    chart: Markup | None
    distribution: Markup | None
    stats: Markup
    plan_pairs: list[tuple[str, PlanView | None, PlanView | None]]


def _anchor(*parts: str) -> str:
    return "-".join("".join(ch if ch.isalnum() or ch in "_-" else "-" for ch in part) for part in parts)


def _svg(text: str | None) -> Markup | None:
    return Markup(text) if text else None


def _query_sections(run: Run, items: list[Verdict], plans: Mapping[str, ExplainPlan]) -> list[QuerySection]:
    reads = [c for c in run.summary.cases if c.kind == "read"]
    sections = []
    for query, scale in dict.fromkeys((c.query, c.scale) for c in reads):
        cases = [c for c in reads if c.query == query and c.scale == scale]
        by = {(c.param_kind, c.cache, c.migration, c.projection): c for c in cases}
        pairs = []
        for kind in dict.fromkeys(c.param_kind for c in cases):
            before = _plan_view(plans, by.get((kind, "nocache", "without_012", "optimized")), "without 012")
            after = _plan_view(plans, by.get((kind, "nocache", "with_012", "optimized")), "with 012")
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
            stats=_table(_stats_frame(cases, ("params", "cache", "migration", "projection", "rounds", "p50 ms",
                                              "p95 ms", "p99 ms", "IQR ms", "cache hits", "cache misses")),
                         _anchor("stats", scale, query), STAT_FORMATS),
            plan_pairs=pairs,
        ))
    return sections


def _comparison_context(run: Run, baseline: Run, comparisons: list[Comparison], pct: float | None) -> dict[str, Any]:
    only_now, only_before = unmatched(run, baseline)
    frame = comparisons_frame(comparisons, pct)
    classes = pd.DataFrame("", index=frame.index, columns=frame.columns)
    if not frame.empty:
        classes["verdict"] = frame["verdict"].map(
            {"regression": "bad", "slower": "bad", "faster": "good", "no significant change": "neutral"}).fillna("")
    return {
        "baseline": redact(str(baseline.path)),
        "matched": len(comparisons),
        "slower": sum(c.verdict == "slower" for c in comparisons),
        "faster": sum(c.verdict == "faster" for c in comparisons),
        "regressions": [c.line() for c in regressions(comparisons, pct)] if pct is not None else None,
        "pct": pct,
        "only_current": len(only_now),
        "only_baseline": len(only_before),
        "table": _table(frame, "comparison", {"baseline median (ms)": _ms, "current median (ms)": _ms,
                                               "ratio": _times, "change (%)": lambda v: f"{v:+.1f}",
                                               "change vs floor (%)": lambda v: f"{v:+.1f}",
                                               "p (Mann-Whitney U)": _p}, classes),
        "floors": [f"{scale} {floor} floor ({FLOORS[floor]}) {(ratio - 1) * 100:+.1f}%"
                   for (scale, floor), ratio in sorted(floor_ratios(run, baseline).items())],
    }


def _template() -> Any:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["ms"] = lambda v: "—" if v is None else _ms(v)
    return env.get_template(TEMPLATE)


def render_report(run: Run, baseline: Run | None = None,
                  fail_on_regression: float | None = None) -> tuple[str, list[Comparison]]:
    """The report's HTML for ``run`` (compared with ``baseline`` when given), and the comparisons made."""
    plans = _load_plans(run)
    items = verdicts(run)
    scales = list(dict.fromkeys(c.scale for c in run.summary.cases))
    environment = run.environment
    comparisons = compare_runs(run, baseline) if baseline is not None else []
    references = [c for c in run.summary.cases if c.kind == "reference"]
    context = {
        "run_name": run.path.name,
        "environment": environment,
        "captured_at": str(environment.get("captured_at", "unknown")),
        "scales": scales,
        "case_count": len(run.summary.cases),
        "has_raw": not run.timings.empty,
        "verdict_table": _verdict_table(items),
        "verdicts": items,
        "sections": _query_sections(run, items, plans),
        "writes": [{"scale": s, "chart": _svg(write_cost_chart(run, s)),
                    "table": _table(_write_frame(run, s), _anchor("writes", s),
                                    {"without 012 p50 ms": _ms, "with 012 p50 ms": _ms,
                                     "added ms": lambda v: f"{v:+.3g}", "ratio": _times, "p": _p}),
                    "sizes": (lambda f: _table(f, _anchor("sizes", s)) if f is not None else None)(
                        _index_sizes(environment, s))}
                   for s in scales],
        "references": _table(_stats_frame(references, ("query", "scale", "rounds", "p50 ms", "p95 ms", "p99 ms")),
                             "references", STAT_FORMATS),
        "overheads": _table(_overhead_frame(references), "overheads", STAT_FORMATS),
        "comparison": _comparison_context(run, baseline, comparisons, fail_on_regression) if baseline else None,
        "environment_table": _table(_environment_frame(environment), "environment"),
        "datasets_table": _table(_datasets_frame(environment), "datasets"),
        "all_cases": _table(_stats_frame(run.summary.cases, (
            "query", "scale", "params", "cache", "migration", "projection", "rounds", "p50 ms", "p95 ms", "p99 ms",
            "IQR ms", "plan execution ms", "indexes used")), "cases", STAT_FORMATS),
        "alpha": ALPHA,
        "tolerance_pct": round(APPROX_TOLERANCE * 100),
    }
    html = _template().render(**context)
    return redact(html), comparisons


def write_html(run_dir: Path, html: str) -> Path:
    """Write ``report.html`` atomically: a reader never sees half a file."""
    target = run_dir / REPORT_FILE
    tmp = target.with_name(f".{REPORT_FILE}.{os.getpid()}.tmp")
    try:
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BenchError(f"{target}: cannot write the report ({exc.strerror or exc.__class__.__name__})") from None
    return target


def write_report(run_dir: Path, baseline: Path | None = None) -> Path:
    """Build ``report.html`` in ``run_dir`` (atomically: a reader never sees half a file) and return its path."""
    run = load_run(run_dir)
    html, _ = render_report(run, load_run(baseline) if baseline is not None else None)
    return write_html(run.path, html)
