"""The report's load section: the knee, what the cache does to PostgreSQL, the pool sweep, correctness, the harness.

``load_section(run)`` is the HTML fragment ``report.html`` includes when a run
has load data; ``render_load_page``/``write_load_report`` make a complete page
for a load-only run directory (``balance-bench load`` writes it, ``balance-bench
report`` rebuilds it). Every figure comes from saved artifacts through
``Run.load_mode``; medians over trials where a sweep was repeated.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from matplotlib.figure import Figure
from scipy import stats

from balance_bench.coordinates import CacheUse, Migration
from balance_bench.errors import BenchError, redact
from balance_bench.reports.charts import STYLE, figure_svg
from balance_bench.reports.load_frames import LoadData
from balance_bench.reports.runs import Run, read_run
from balance_bench.results import REPORT_FILE

__all__ = ["load_section", "render_load_page", "write_load_report", "knee_frame", "cache_effect_frame",
           "pool_frame", "harness_frame", "HARNESS_LIMIT", "CONFIDENCE"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
HARNESS_LIMIT = 1.5
"""The Locust harness's one-user p50 of a warm find_by_id may be at most this multiple of the in-process median."""
WARM_HIT_RATE = 0.95
CONFIDENCE = 0.95
SETTING = ["migration", "cache", "connections", "users"]
CACHE_COLOURS: dict[str, str] = {CacheUse.OFF: "#4b5563", CacheUse.ON: "#047857"}
MIGRATION_STYLES: dict[str, Any] = {Migration.WITHOUT_012: (0, (4, 2)), Migration.WITH_012: "solid"}
_STYLE: Any = STYLE  # the report's chart style (matplotlib's stubs want literal keys)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.{digits}g}"
    return str(value)


def _pct(value: Any) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1%}"


def _table(frame: pd.DataFrame, formats: Mapping[str, Callable[[Any], str]] | None = None) -> Markup:
    """An escaped HTML table (every cell formatted as text first, then escaped by pandas)."""
    if frame.empty:
        return Markup('<p class="note">No rows.</p>')
    shown = frame.copy()
    for column in shown.columns:
        fmt = (formats or {}).get(str(column), _fmt)
        shown[column] = [fmt(v) for v in shown[column]]
    return Markup(shown.to_html(index=False, classes="data", escape=True, border=0))


# ---- figures: pure functions of LoadData, tested ----


def knee_frame(load: LoadData) -> pd.DataFrame:
    """Per setting (migration, cache, connections, users): median over trials of throughput, p50 and p99."""
    steps = load.steps
    if steps.empty:
        return pd.DataFrame(columns=[*SETTING, "trials", "throughput_rps", "p50_ms", "p99_ms", "hit_rate"])
    grouped = steps.groupby(SETTING, sort=True, dropna=False)
    return grouped.agg(trials=("trial", "count"), throughput_rps=("throughput_rps", "median"),
                       p50_ms=("p50_ms", "median"), p99_ms=("p99_ms", "median"),
                       hit_rate=("hit_rate", "median"), db_calls_per_s=("db_calls_per_s", "median")).reset_index()


def _interval(log_ratios: list[float]) -> tuple[float, float] | None:
    if len(log_ratios) < 3:
        return None
    mean = float(np.mean(log_ratios))
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, len(log_ratios) - 1) * np.std(log_ratios, ddof=1)
                 / math.sqrt(len(log_ratios)))
    return math.exp(mean - half), math.exp(mean + half)


def cache_effect_frame(load: LoadData) -> pd.DataFrame:
    """Cache on against off at the same migration, connections and users, trial by trial, then summarised.

    The throughput ratio is the geometric mean over trials, with a 95% t-interval on the log ratios from three
    trials on; with fewer there is no interval and no verdict. ``db reduction`` is ``1 - calls_on / calls_off``
    per second; the guide's "reduces database load" is borne out when it is at least the cache's hit rate.
    """
    steps = load.steps
    if steps.empty or set(steps["cache"]) != set(CacheUse):
        return pd.DataFrame()
    key = ["migration", "connections", "users", "trial"]
    on = steps[steps["cache"] == CacheUse.ON].set_index(key)
    off = steps[steps["cache"] == CacheUse.OFF].set_index(key)
    pairs = on.join(off, lsuffix="_on", rsuffix="_off", how="inner").reset_index()
    rows = []
    for (migration, connections, users), group in pairs.groupby(["migration", "connections", "users"], sort=True):
        ratios = list(group["throughput_rps_on"] / group["throughput_rps_off"])
        logs = [math.log(r) for r in ratios if r > 0]
        interval = _interval(logs)
        calls_on, calls_off = float(group["db_calls_per_s_on"].median()), float(group["db_calls_per_s_off"].median())
        hit_rate = float(group["hit_rate_on"].median()) if group["hit_rate_on"].notna().any() else float("nan")
        reduction = 1 - calls_on / calls_off if calls_off else float("nan")
        if interval is None:
            verdict = "one trial" if len(ratios) == 1 else "inconclusive (fewer than 3 trials)"
        elif interval[0] > 1:
            verdict = "cache faster"
        elif interval[1] < 1:
            verdict = "cache slower"
        else:
            verdict = "inconclusive"
        rows.append({
            "migration": migration, "connections": connections, "users": users, "trials": len(ratios),
            "throughput off": float(group["throughput_rps_off"].median()),
            "throughput on": float(group["throughput_rps_on"].median()),
            "ratio on/off": math.exp(float(np.mean(logs))) if logs else float("nan"),
            "95% CI": f"{interval[0]:.2f} to {interval[1]:.2f}" if interval else "—", "throughput verdict": verdict,
            "db calls/s off": calls_off, "db calls/s on": calls_on, "db reduction": reduction, "hit rate": hit_rate,
            "reduction ≥ hit rate": ("yes" if reduction >= hit_rate else "no") if not math.isnan(hit_rate) else "—",
        })
    return pd.DataFrame(rows)


def pool_frame(load: LoadData) -> pd.DataFrame:
    """Per migration, cache and users: throughput and p99 for each connection setting (own, pool sizes)."""
    knee = knee_frame(load)
    if knee.empty or knee["connections"].nunique() < 2:
        return pd.DataFrame()
    return knee[[*SETTING, "throughput_rps", "p99_ms"]].sort_values(SETTING, key=_connection_order)


def _connection_order(column: pd.Series) -> pd.Series:
    if column.name != "connections":
        return column
    return column.map(lambda c: -1 if c == "own" else int(c))


def harness_frame(load: LoadData) -> pd.DataFrame:
    """One-user, cache-on steps with ``find_by_id``: Locust's p50 against the in-process warm median."""
    reference = load.record.reference or {}
    medians = [r["median_ms"] for r in reference.values() if isinstance(r, dict) and r.get("median_ms")]
    if not medians:
        return pd.DataFrame()
    in_process = float(np.mean(medians))
    ops, cache = load.operations, load.cache
    if ops.empty:
        return pd.DataFrame()
    rows = []
    chosen = ops[(ops["users"] == 1) & (ops["cache"] == CacheUse.ON) & (ops["operation"] == "find_by_id")]
    for op in chosen.to_dict("records"):
        family = cache[(cache["index"] == op["index"]) & (cache["family"] == "by_id")] if not cache.empty else cache
        hit_rate = float(family["hit_rate"].iloc[0]) if not family.empty and family["hit_rate"].notna().any() \
            else float("nan")
        p50 = float(op["p50_ms"]) if op["p50_ms"] is not None else float("nan")
        ratio = p50 / in_process
        warm = not math.isnan(hit_rate) and hit_rate >= WARM_HIT_RATE
        rows.append({"step": op["index"], "migration": op["migration"], "connections": op["connections"],
                     "requests": op["requests"], "by_id hit rate": hit_rate, "Locust p50 ms": p50,
                     "Locust's own p50 ms": op["locust_p50_ms"], "in-process median ms": in_process, "ratio": ratio,
                     f"within {HARNESS_LIMIT}x": ("yes" if ratio <= HARNESS_LIMIT else "no") if warm
                     else f"not warm (hit rate < {WARM_HIT_RATE:.0%})"})
    return pd.DataFrame(rows)


# ---- charts ----


def _svg(fig: Figure, prefix: str) -> Markup:
    return Markup(figure_svg(fig, prefix))


def knee_chart(load: LoadData) -> Markup | None:
    """Throughput, p50 and p99 against users, one line per cache and migration setting (own connections first)."""
    knee = knee_frame(load)
    if knee.empty:
        return None
    connections = "own" if "own" in set(knee["connections"]) else str(knee["connections"].iloc[0])
    knee = knee[knee["connections"] == connections]
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(10, 3.6))
        left, right = fig.subplots(1, 2)
        for (migration, cache), unsorted in knee.groupby(["migration", "cache"], sort=True):
            group = unsorted.sort_values("users")
            style = {"color": CACHE_COLOURS.get(str(cache), "#1f5fbf"),
                     "linestyle": MIGRATION_STYLES.get(str(migration), "-")}
            label = f"cache {cache}, {migration}"
            left.plot(group["users"], group["throughput_rps"], marker="o", label=label, **style)
            right.plot(group["users"], group["p99_ms"], marker="o", label=f"p99, {label}", **style)
            right.plot(group["users"], group["p50_ms"], marker=".", alpha=0.5, label=f"p50, {label}", **style)
        left.set(title=f"Throughput (connections: {connections})", xlabel="users", ylabel="requests/s")
        right.set(title="Latency, all operations", xlabel="users", ylabel="ms")
        for ax in (left, right):
            ax.set_xscale("log", base=2)
            ax.set_xticks(sorted(set(knee["users"])), [str(u) for u in sorted(set(knee["users"]))])
        left.legend(fontsize=7)
        right.legend(fontsize=6, ncol=1)
        fig.tight_layout()
        return _svg(fig, "load-knee")


def db_calls_chart(load: LoadData) -> Markup | None:
    """PostgreSQL calls per second, cache off against on, per user count (the guide's "reduces database load")."""
    effect = cache_effect_frame(load)
    if effect.empty:
        return None
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(10, 3.2))
        ax = fig.subplots()
        labels = [f"{r['users']}u {r['migration']} {r['connections']}" for _, r in effect.iterrows()]
        x = np.arange(len(effect))
        ax.bar(x - 0.2, effect["db calls/s off"], 0.4, color=CACHE_COLOURS[CacheUse.OFF], label="cache off")
        ax.bar(x + 0.2, effect["db calls/s on"], 0.4, color=CACHE_COLOURS[CacheUse.ON], label="cache on")
        for i, (_, r) in enumerate(effect.iterrows()):
            if not math.isnan(r["db reduction"]):
                ax.annotate(f"-{r['db reduction']:.0%} (hit {_pct(r['hit rate'])})", (i, r["db calls/s off"]),
                            ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x, labels, rotation=20, ha="right", fontsize=7)
        ax.set(ylabel="PostgreSQL calls/s", title="Database calls per second, cache off vs on")
        ax.legend(fontsize=7)
        fig.tight_layout()
        return _svg(fig, "load-dbcalls")


def pool_chart(load: LoadData) -> Markup | None:
    """Throughput and p99 for each connection setting, one line per user count."""
    frame = pool_frame(load)
    if frame.empty:
        return None
    order = sorted(set(frame["connections"]), key=lambda c: -1 if c == "own" else int(c))
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(10, 3.2))
        left, right = fig.subplots(1, 2)
        for (migration, cache, users), rows in frame.groupby(["migration", "cache", "users"], sort=True):
            group = rows.set_index("connections").reindex(order)
            label = f"{users} users, cache {cache}, {migration}"
            left.plot(order, group["throughput_rps"], marker="o", label=label)
            right.plot(order, group["p99_ms"], marker="o", label=label)
        left.set(title="Throughput by connection setting", xlabel="connections (own, or pool size per process)",
                 ylabel="requests/s")
        right.set(title="p99 by connection setting", xlabel="connections", ylabel="ms")
        left.legend(fontsize=6)
        fig.tight_layout()
        return _svg(fig, "load-pool")


# ---- the fragment and the page ----


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def _context(load: LoadData) -> dict[str, Any]:
    record = load.record
    steps = load.steps.copy()
    step_columns = ["index", "trial", "migration", "cache", "connections", "users", "processes", "window_s",
                    "requests", "failures", "throughput_rps", "p50_ms", "p95_ms", "p99_ms", "hit_rate",
                    "db_calls_per_s", "db_calls_source", "redis_total_commands_processed"]
    ops = load.operations
    op_columns = ["index", "migration", "cache", "connections", "users", "operation", "requests", "failures",
                  "throughput_rps", "p50_ms", "p95_ms", "p99_ms", "max_ms", "locust_p50_ms", "locust_p99_ms"]
    percent = {"hit_rate": _pct, "db reduction": _pct, "hit rate": _pct, "by_id hit rate": _pct}
    statements = load.statements
    return {
        "settings": record.settings,
        "knee_chart": knee_chart(load),
        "knee_table": _table(knee_frame(load), percent),
        "cache_effect": _table(cache_effect_frame(load), percent),
        "db_chart": db_calls_chart(load),
        "pool_chart": pool_chart(load),
        "pool_table": _table(pool) if not (pool := pool_frame(load)).empty else None,
        "harness": _table(harness_frame(load), percent),
        "harness_limit": HARNESS_LIMIT,
        "reference": record.reference or {},
        "conservation": _table(load.conservation),
        "staleness": _table(load.staleness),
        "stale_examples": [e for s in record.staleness for e in s.examples],
        "steps_table": _table(steps[[c for c in step_columns if c in steps.columns]], percent),
        "operations_table": _table(ops[[c for c in op_columns if c in ops.columns]]) if not ops.empty
        else _table(ops),
        "statements_table": _table(statements) if not statements.empty else None,
        "statements_note": record.statements_note,
        "processes": _table(pd.DataFrame(record.processes)),
        "db_calls_sources": sorted(set(steps["db_calls_source"])) if not steps.empty else [],
        "errors": [e for s in record.steps for e in s.errors][:20],
    }


def load_section(run: Run) -> Markup | None:
    """The load section's HTML, or None when the run has no load data."""
    load = run.load_mode
    if load is None:
        return None
    html = _environment().get_template("load_section.html.j2").render(**_context(load))
    return Markup(redact(html))


def render_load_page(run: Run) -> str:
    """A complete, self-contained report page for a load-only run."""
    section = load_section(run)
    if section is None:
        raise BenchError(f"{run.path}: no load.json: not a balance-bench load run")
    environment = run.load_mode.environment if run.load_mode else {}
    frame = pd.DataFrame(sorted(_flatten(environment)), columns=["setting", "value"])
    html = _environment().get_template("load_report.html.j2").render(
        run_name=run.path.name, environment=environment, section=section, environment_table=_table(frame))
    return redact(html)


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _flatten(v, f"{prefix}{k}.")]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [item for i, v in enumerate(value) for item in _flatten(v, f"{prefix}{i}.")]
    return [(prefix.rstrip("."), str(value))]


def write_load_report(run_dir: Path) -> Path:
    """Write ``report.html`` for a load-only run atomically and return its path."""
    run = read_run(run_dir)
    target = run.path / REPORT_FILE
    tmp = target.with_name(f".{REPORT_FILE}.{os.getpid()}.tmp")
    try:
        tmp.write_text(render_load_page(run), encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BenchError(f"{target}: cannot write the report ({exc.strerror or exc.__class__.__name__})") from None
    return target
