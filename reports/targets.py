"""Several runs of the same matrix against different targets, side by side (``balance-bench compare``).

Not the baseline gate (``compare``), which asks whether one run regressed
against an earlier one of the same target. Here each run is a target (another
PostgreSQL version, other settings, another Redis, another host) measured on
the same dataset, and the page answers: what differs between the targets
(environment first, because it explains the rest), how each target judges the
guide's claims, how each read's latency differs per target, and where the
planner chose differently (node types and indexes per case).

Only runs of the same datasets compare: the same scales, seeds and row counts.
Anything else is refused with one line, never silently compared. Everything is
read from the saved run directories through the one loader.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from balance_bench.coordinates import Kind
from balance_bench.errors import BenchError, redact
from balance_bench.reports.charts import targets_chart
from balance_bench.reports.claim_tables import headline_rows
from balance_bench.reports.claims import judge_run
from balance_bench.reports.runs import Run
from balance_bench.reports.tables import environment_frame, html_table

__all__ = ["MIN_RUNS", "HEADLINE_KEYS", "NOISE_KEYS", "Target", "targets", "check_comparable",
           "environment_differences", "headline", "plan_differences", "render_comparison", "write_comparison"]

MIN_RUNS = 2
TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "comparison.html.j2"

HEADLINE_KEYS = ("postgres.version", "redis.version", "postgres.settings.", "services.", "machine.")
"""Environment keys (or key prefixes) that name what a target is: listed first, and named at the top."""
NOISE_KEYS = ("captured_at", "settings.key_prefix", "settings.order_seed", "placement.processes_pinned",
              "write_targets.")
"""Keys that differ between any two runs without saying anything about the target."""
_NAMES = {"postgres.version": "PostgreSQL version", "redis.version": "Redis version"}


@dataclass(frozen=True)
class Target:
    """One run as a target of the comparison: a unique label and the loaded run."""

    label: str
    run: Run


def targets(runs: Sequence[Run]) -> list[Target]:
    """Each run labelled by its directory name, made unique with its position when two share a name."""
    names = [run.path.name for run in runs]
    return [Target(name if names.count(name) == 1 else f"{name} #{i}", run)
            for i, (name, run) in enumerate(zip(names, runs, strict=True), start=1)]


def _datasets(run: Run) -> tuple[tuple[str, str, str], ...]:
    """(scale, seed, rows) of every dataset the run measured, from its environment."""
    found = []
    for item in run.environment.get("datasets") or []:
        if isinstance(item, Mapping):
            rows = item.get("rows")
            balances = rows.get("balances") if isinstance(rows, Mapping) else rows
            found.append((str(item.get("scale")), str(item.get("seed")), str(balances)))
    if not found:  # an environment without dataset records: the run's settings still name scales and seed
        settings = run.environment.get("settings") or {}
        found = [(str(scale), str(settings.get("seed")), "?") for scale in settings.get("scales") or []]
    return tuple(sorted(found))


def check_comparable(runs: Sequence[Target]) -> None:
    """Refuse (one BenchError line) fewer than two runs, runs without matrix cases, or different datasets."""
    if len(runs) < MIN_RUNS:
        raise BenchError(f"compare needs at least {MIN_RUNS} run directories, got {len(runs)}")
    first = runs[0]
    for target in runs:
        if not target.run.summary.cases:
            raise BenchError(f"{target.run.path}: no benchmark matrix cases (a load-only run?); compare takes runs "
                             "made by balance-bench run")
    reference = _datasets(first.run)
    for target in runs[1:]:
        mine = _datasets(target.run)
        if mine != reference:
            raise BenchError(f"{target.run.path} measured {_describe(mine)} but {first.run.path} measured "
                             f"{_describe(reference)}: runs at different scales or seeds are not comparable")


def _describe(datasets: tuple[tuple[str, str, str], ...]) -> str:
    return ", ".join(f"scale {scale} (seed {seed}, {rows} balances)" for scale, seed, rows in datasets) or "nothing"


def _priority(key: str) -> int:
    return next((i for i, prefix in enumerate(HEADLINE_KEYS) if key == prefix or key.startswith(prefix)),
                len(HEADLINE_KEYS))


def environment_differences(runs: Sequence[Target]) -> pd.DataFrame:
    """Every environment key whose value differs between targets (one column each), what names a target first."""
    values: dict[str, dict[str, str]] = {}
    for target in runs:
        for row in environment_frame(target.run.environment).itertuples(index=False):
            values.setdefault(str(row.key), {})[target.label] = str(row.value)
    rows = []
    for key, by_target in values.items():
        if any(key == noise or (noise.endswith(".") and key.startswith(noise)) for noise in NOISE_KEYS):
            continue
        cells = [by_target.get(t.label, "—") for t in runs]
        if len(set(cells)) > 1:
            rows.append({"setting": key, **dict(zip([t.label for t in runs], cells, strict=True))})
    rows.sort(key=lambda r: (_priority(str(r["setting"])), str(r["setting"])))
    return pd.DataFrame(rows, columns=["setting", *(t.label for t in runs)])


def headline(differences: pd.DataFrame, runs: Sequence[Target]) -> list[str]:
    """One sentence per difference that names what the targets are (versions, server settings, services, host)."""
    lines = []
    for row in differences.to_dict("records"):
        key = str(row["setting"])
        if _priority(key) == len(HEADLINE_KEYS):
            continue
        name = _NAMES.get(key, key)
        lines.append(f"{name}: " + ", ".join(f"{row[t.label]} ({t.label})" for t in runs))
    return lines


def _shape(run: Run, coords: Any) -> str | None:
    case = run.case(coords)
    if case is None or case.plan is None:
        return None
    nodes, indexes = case.plan.shape
    return f"{' > '.join(nodes) or 'no nodes'}; indexes: {', '.join(indexes) or 'none'}"


def plan_differences(runs: Sequence[Target]) -> pd.DataFrame:
    """The cases whose captured plans differ between targets in node types or indexes, with each target's plan."""
    rows = []
    seen: dict[Any, None] = {}
    for target in runs:
        for case in target.run.summary.cases:
            if case.plan is not None and case.coords.kind is not Kind.REFERENCE:
                seen.setdefault(case.coords)
    for coords in seen:
        shapes = [_shape(t.run, coords) for t in runs]
        if len(set(shapes)) > 1:
            rows.append({"case": coords.label, **{t.label: shape or "no plan" for t, shape in zip(runs, shapes,
                                                                                                    strict=True)}})
    return pd.DataFrame(rows, columns=["case", *(t.label for t in runs)])


@dataclass(frozen=True)
class _QueryCharts:
    anchor: str
    query: str
    scale: str
    chart: Markup | None


def _anchor(*parts: str) -> str:
    return "-".join("".join(ch if ch.isalnum() or ch in "_-" else "-" for ch in part) for part in parts)


def _targets_frame(runs: Sequence[Target]) -> pd.DataFrame:
    rows = []
    for t in runs:
        env = t.run.environment
        rows.append({"target": t.label, "run directory": str(t.run.path),
                     "PostgreSQL": (env.get("postgres") or {}).get("version"),
                     "Redis": (env.get("redis") or {}).get("version"),
                     "servers": ", ".join(f"{k} {v}" for k, v in (env.get("services") or {}).items()),
                     "trials": t.run.design.trials, "cases": len(t.run.summary.cases),
                     "captured": env.get("captured_at")})
    return pd.DataFrame(rows)


def render_comparison(runs: Sequence[Run]) -> str:
    """The comparison page's HTML (self-contained: inline CSS and SVG), passwords redacted."""
    labelled = targets(runs)
    check_comparable(labelled)
    differences = environment_differences(labelled)
    reads = [(c.coords.query, c.coords.scale) for t in labelled for c in t.run.summary.cases
             if c.coords.kind is Kind.READ and not c.coords.experiment]
    by_label = {t.label: t.run for t in labelled}
    charts = [_QueryCharts(_anchor("t", scale, query), query, scale, _svg(targets_chart(by_label, query, scale)))
              for query, scale in dict.fromkeys(reads)]
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    html = env.get_template(TEMPLATE).render(
        targets=labelled,
        datasets=_describe(_datasets(labelled[0].run)),
        headline=headline(differences, labelled),
        targets_table=html_table(_targets_frame(labelled), "targets"),
        differences=html_table(differences, "differences"),
        difference_count=len(differences),
        verdict_tables=[(t.label, _anchor("verdicts", str(i)), headline_rows(judge_run(t.run)[1]))
                        for i, t in enumerate(labelled, start=1)],
        charts=charts,
        plans=html_table(plan_differences(labelled), "plans"),
    )
    return redact(html)


def _svg(text: str | None) -> Markup | None:
    return Markup(text) if text else None  # matplotlib escapes the text it draws


def write_comparison(runs: Sequence[Run], target: Path) -> Path:
    """Write the comparison page to ``target`` atomically and return its path."""
    html = render_comparison(runs)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BenchError(f"{target}: cannot write the comparison ({exc.strerror or exc.__class__.__name__})"
                         ) from None
    return target
