"""The report's tables: pandas frames of a run's records, and their escaped HTML.

Every frame here is also what a notebook would want, so the builders return
DataFrames; ``html_table`` turns one into markup with every cell and header
escaped by pandas.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd
from markupsafe import Markup

from balance_bench.coordinates import Kind, Migration
from balance_bench.errors import redact
from balance_bench.guide import INDEX_CLAIMS
from balance_bench.network import Profile, projected_ms
from balance_bench.reports.runs import Run
from balance_bench.reports.verdicts import format_estimate
from balance_bench.results import CaseResult, PlanFacts, Traffic
from balance_bench.sources import source_sentence
from balance_bench.statistics import ratio_estimate

__all__ = ["html_table", "stats_frame", "TRAFFIC_COLUMNS", "profiles_frame", "projected_column",
           "overhead_frame", "write_frame", "index_sizes_frame",
           "environment_frame", "datasets_frame", "node_frame", "STAT_FORMATS", "ms", "times"]


def ms(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def times(value: float) -> str:
    return f"{value:.2f}x"


def _p(value: float) -> str:
    return f"{value:.2g}"


def _count(value: float) -> str:
    return f"{value:,.0f}"



STAT_FORMATS: dict[str, Callable[[Any], str]] = {
    "p50 ms": ms, "p95 ms": ms, "p99 ms": ms, "IQR ms": ms, "min ms": ms, "max ms": ms, "mean ms": ms,
    "plan execution ms": ms, "ratio": times, "p": _p, "cache hits": _count, "cache misses": _count,
    "rounds": _count, "pairs": _count, "trials": _count, "model p50 ms": ms, "raw p50 ms": ms,
}


def html_table(frame: pd.DataFrame, table_id: str, formats: Mapping[str, Callable[[Any], str]] | None = None,
               classes: pd.DataFrame | None = None) -> Markup:
    """An escaped HTML table from pandas; ``classes`` colours cells (same shape as ``frame``)."""
    if frame.empty:
        return Markup('<p class="note">No rows.</p>')
    shown: dict[Any, Callable[[object], str] | str | None] = {
        k: v for k, v in (formats or {}).items() if k in frame.columns}
    styler = (frame.style.format(formatter=shown, na_rep="—", escape="html")
              .format_index(escape="html", axis=1)
              .hide(axis="index")
              .set_uuid(table_id)
              .set_table_attributes('class="data"'))
    if classes is not None:
        styler = styler.set_td_classes(classes)
    return Markup(styler.to_html())  # every cell and header escaped by pandas above


TRAFFIC_COLUMNS = ("PG round trips", "PG bytes out/in", "Redis commands", "Redis round trips", "Redis bytes out/in")
"""The per-call traffic columns ``stats_frame`` knows (counted from real traffic; empty for runs without it)."""


def _bytes(sent: float, received: float) -> str:
    return f"{sent:,.0f} / {received:,.0f}"


def _traffic_cells(traffic: Traffic | None) -> dict[str, Any]:
    if traffic is None:
        return dict.fromkeys(TRAFFIC_COLUMNS)
    pg, cache = traffic.postgres, traffic.redis
    return {"PG round trips": f"{pg.round_trips:g}", "PG bytes out/in": _bytes(pg.bytes_sent, pg.bytes_received),
            "Redis commands": f"{cache.commands:g}" if cache.commands is not None else None,
            "Redis round trips": f"{cache.round_trips:g}",
            "Redis bytes out/in": _bytes(cache.bytes_sent, cache.bytes_received)}


def projected_column(profile: Profile) -> str:
    """The header of a case's projected median under ``profile``."""
    return f"p50 ms at {profile.name} (projected)"


def stats_frame(cases: Iterable[CaseResult], columns: tuple[str, ...],
                profiles: Iterable[Profile] = ()) -> pd.DataFrame:
    """Timing statistics per case, with the columns asked for (see ``STAT_FORMATS`` for units).

    ``columns`` may name ``TRAFFIC_COLUMNS``; each of ``profiles`` adds the case's projected p50 at the end.
    """
    profiles = tuple(profiles)
    headers = [*columns, *(projected_column(p) for p in profiles)]
    rows = []
    for c in cases:
        k = c.coords
        row = {"query": k.query, "scale": k.scale, "params": k.param_kind, "cache": str(k.cache),
               "migration": str(k.migration), "projection": k.projection, "trials": c.trials, "rounds": c.rounds,
               "p50 ms": c.median_ms, "p50 across trials": format_estimate(c.median_ci, unit=" ms"),
               "p95 ms": c.stats.p95_ms, "p99 ms": c.stats.p99_ms, "IQR ms": c.stats.iqr_ms, "min ms": c.stats.min_ms,
               "max ms": c.stats.max_ms, "mean ms": c.stats.mean_ms, "cache hits": c.cache_hits,
               "cache misses": c.cache_misses, "plan execution ms": c.plan.execution_ms if c.plan else None,
               "indexes used": ", ".join(c.plan.indexes_used) if c.plan else "", **_traffic_cells(c.traffic)}
        for profile in profiles:
            row[projected_column(profile)] = (projected_ms(c.median_ms, c.traffic, profile) if c.traffic
                                              else None)
        rows.append({name: row[name] for name in headers})
    return pd.DataFrame(rows, columns=headers)


def profiles_frame(profiles: Iterable[Profile]) -> pd.DataFrame:
    """The network profiles a report projects at: each server's hop, and where the numbers come from."""
    return pd.DataFrame([{"profile": p.name, "PostgreSQL": p.pg.describe(), "Redis": p.redis.describe(),
                          "basis": p.basis} for p in profiles], columns=["profile", "PostgreSQL", "Redis", "basis"])


def overhead_frame(references: Iterable[CaseResult]) -> pd.DataFrame:
    """The model against its raw twin, timed interleaved: what the port and the harness add per call."""
    rows = [{"model call": c.overhead.model, "raw twin": c.coords.query, "scale": c.coords.scale,
             "model p50 ms": c.overhead.model_ms, "raw p50 ms": c.overhead.raw_ms,
             "ratio (within trials)": format_estimate(c.overhead.ratio, "{:.3g}", "x"), "pairs": c.overhead.pairs}
            for c in references if c.overhead]
    return pd.DataFrame(rows, columns=["model call", "raw twin", "scale", "model p50 ms", "raw p50 ms",
                                       "ratio (within trials)", "pairs"])


def write_frame(run: Run, scale: str) -> pd.DataFrame:
    """Each write without and with 012, and the indexes' price as a within-trial ratio with its interval."""
    writes = [c for c in run.summary.cases
              if c.coords.kind is Kind.WRITE and c.coords.scale == scale and not c.coords.experiment]
    by = {(c.coords.query, c.coords.migration): c for c in writes}
    rows = []
    for query in dict.fromkeys(c.coords.query for c in writes):
        before, after = by.get((query, Migration.WITHOUT_012)), by.get((query, Migration.WITH_012))
        ratio = ratio_estimate(after.trial_medians_ms, before.trial_medians_ms) if before and after else None
        rows.append({
            "write": query,
            "without 012 p50 ms": before.median_ms if before else None,
            "with 012 p50 ms": after.median_ms if after else None,
            "added ms": after.median_ms - before.median_ms if before and after else None,
            "with / without (within trials)": format_estimate(ratio, "{:.3g}", "x") if ratio else None,
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


def index_sizes_frame(environment: Mapping[str, Any], scale: str) -> pd.DataFrame | None:
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


def environment_frame(environment: Mapping[str, Any]) -> pd.DataFrame:
    """Every environment entry as one ``key``/``value`` row (passwords redacted)."""
    skip = {"datasets", "index_sizes"}
    rows = [{"key": redact(k), "value": redact(v)}
            for k, v in _flatten({k: v for k, v in environment.items() if k not in skip})]
    return pd.DataFrame(rows)


def datasets_frame(environment: Mapping[str, Any]) -> pd.DataFrame:
    """One row per dataset the run used: scale, seed, fingerprint, lookup parameters, row counts; a copy of the
    user's own data says where from in words ("data copied from ... at ..., N of M users (sample f)")."""
    datasets = environment.get("datasets")
    if not isinstance(datasets, list):
        return pd.DataFrame()
    rows = []
    for item in datasets:
        if not isinstance(item, Mapping):
            continue
        sentence = source_sentence(item.get("source"))
        row = {"data": redact(sentence)} if sentence is not None else {}
        row.update({k: redact(json.dumps(v, sort_keys=True) if isinstance(v, (Mapping, list)) else str(v))
                    for k, v in item.items() if k != "rows" and not (k == "source" and sentence is not None)})
        rows_by_table = item.get("rows")
        if isinstance(rows_by_table, Mapping):
            row.update({f"{table} rows": f"{count:,}" if isinstance(count, int) else str(count)
                        for table, count in rows_by_table.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def node_frame(plan: PlanFacts, table_id: str) -> Markup:
    """A plan's nodes: the tree with each node's own time and share, rows, loops and buffers."""
    total = plan.total_ms or 0.0
    rows = []
    for node in plan.nodes:
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
    return html_table(pd.DataFrame(rows), table_id,
                      {"own ms": lambda v: f"{v:.3f}", "rows": _count, "planned/loop": _count, "loops": _count,
                       "shared hit": _count, "shared read": _count})
