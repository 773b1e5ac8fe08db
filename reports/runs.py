"""The one loader of run directories, shared by the HTML report and the notebooks.

A run directory holds ``summary.json`` (versioned records, see
``balance_bench.results``), pytest-benchmark's ``benchmarks.json`` (every raw
timing, tagged with its trial) and ``plans/*.json``. Problems are one
``BenchError`` line naming the file; nothing here touches a live server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from balance_bench.coordinates import FIELDS, Coordinates, Migration
from balance_bench.errors import BenchError
from balance_bench.reports.load_frames import LoadData, read_load
from balance_bench.results import BENCHMARKS_FILE, SUMMARY_FILE, CaseResult, Design, Summary, read_summary

__all__ = ["Run", "read_run", "FIELDS"]

RawTimings = dict[Coordinates, dict[int, list[float]]]
"""Seconds per round, per trial, per case."""


@dataclass(frozen=True)
class Run:
    """A loaded run: its summary records, tidy DataFrames of cases, trials and raw timings, and its plans."""

    path: Path
    summary: Summary
    _raw: RawTimings = field(repr=False)

    @property
    def environment(self) -> dict[str, Any]:
        return self.summary.environment

    @property
    def design(self) -> Design:
        return self.summary.design

    @cached_property
    def by_coords(self) -> dict[Coordinates, CaseResult]:
        """Each case by its coordinates."""
        return {case.coords: case for case in self.summary.cases}

    def case(self, coords: Coordinates) -> CaseResult | None:
        """The case at ``coords``, if the run has it."""
        return self.by_coords.get(coords)

    @cached_property
    def cases(self) -> pd.DataFrame:
        """One row per case: coordinates, timing statistics (ms), trials, the median's interval, plan facts, and
        the traffic per call (``pg_round_trips`` ... ``redis_bytes_received``; empty when the run has none)."""
        rows = []
        for case in self.summary.cases:
            ci = case.median_ci
            plan = case.plan
            traffic = case.traffic
            rows.append({
                "name": case.name, **case.coords.as_dict(), "rounds": case.rounds, "trials": case.trials,
                **vars(case.stats), "median_ci_low_ms": ci.low, "median_ci_high_ms": ci.high,
                "cache_hits": case.cache_hits, "cache_misses": case.cache_misses,
                "plan_file": plan.file if plan else None,
                "execution_ms": plan.execution_ms if plan else None,
                "indexes_used": ", ".join(plan.indexes_used) if plan else "",
                "node_types": ", ".join(plan.node_types) if plan else "",
                "findings": ", ".join(sorted({f.code for f in plan.findings})) if plan else "",
                "params": json.dumps(case.params, sort_keys=True, default=str),
                **{f"{prefix}_{name}": getattr(server, name) if traffic else None
                   for prefix, server in (("pg", traffic.postgres if traffic else None),
                                          ("redis", traffic.redis if traffic else None))
                   for name in ("round_trips", "bytes_sent", "bytes_received")},
                "redis_commands": traffic.redis.commands if traffic else None,
            })
        frame = pd.DataFrame(rows)
        if not frame.empty:
            for column in FIELDS:
                frame[column] = frame[column].astype("category")
        return frame

    @cached_property
    def trials(self) -> pd.DataFrame:
        """One row per case and trial: the trial's median (ms), the unit every interval is computed on."""
        rows = [{"name": case.name, **case.coords.as_dict(), "trial": trial, "median_ms": median}
                for case in self.summary.cases for trial, median in sorted(case.trial_medians_ms.items())]
        return pd.DataFrame(rows, columns=["name", *FIELDS, "trial", "median_ms"])

    @cached_property
    def timings(self) -> pd.DataFrame:
        """Every raw timing, one row per round: case name, coordinates, trial, round within the trial, ``ms``."""
        frames = []
        for case in self.summary.cases:
            for trial, seconds in sorted(self._raw.get(case.coords, {}).items()):
                # one constructor per block: inserting the columns one by one cost seconds per report
                frames.append(pd.DataFrame({"ms": [s * 1000.0 for s in seconds], "round": range(len(seconds)),
                                            "trial": trial, "name": case.name, **case.coords.as_dict()}))
        if not frames:
            return pd.DataFrame(columns=["name", *FIELDS, "trial", "round", "ms"])
        return pd.concat(frames, ignore_index=True)

    def raw_timings(self, case: CaseResult) -> list[float]:
        """The case's raw per-call timings in milliseconds, every trial (empty if benchmarks.json lacks them)."""
        return [s * 1000.0 for _, seconds in sorted(self._raw.get(case.coords, {}).items()) for s in seconds]

    def plan_path(self, case: CaseResult) -> Path | None:
        """Where the case's plan file is, if it has one."""
        return self.path / case.plan.file if case.plan else None

    @cached_property
    def experiments(self) -> pd.DataFrame:
        """One row per experiment figure: experiment, scale, migration, figure, kind, value, low, high, trials, and
        the experiment's conclusion (the same on each of its rows). Empty when the run timed no experiment."""
        columns = ["experiment", "scale", "migration", "figure", "kind", "value", "low", "high", "trials",
                   "conclusion"]
        rows = []
        for result in self.summary.experiments:
            for key, estimate in result.figures.items():
                migration, _, name = key.partition(".")
                if migration not in set(Migration):  # an old run's guide_table figures belong to none
                    migration, name = "", key
                ratio = name in result.ratios
                rows.append({"experiment": result.name, "scale": result.scale, "migration": migration,
                             "figure": name,
                             "kind": "ratio" if ratio else "probe", "value": estimate.value, "low": estimate.low,
                             "high": estimate.high, "trials": estimate.trials, "conclusion": result.conclusion})
        return pd.DataFrame(rows, columns=columns)

    @cached_property
    def load_mode(self) -> LoadData | None:
        """Load-mode results (``balance-bench load``) as DataFrames, or None when the run has none."""
        return read_load(self.path)


def _raw_timings(path: Path) -> RawTimings:
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        raw: RawTimings = {}
        for bench in doc["benchmarks"]:
            info, data = bench.get("extra_info") or {}, (bench.get("stats") or {}).get("data")
            if "query" not in info or not data:
                continue
            coords = Coordinates.from_dict(info, f"{path}: {bench.get('name', '?')}")
            raw.setdefault(coords, {}).setdefault(int(info.get("trial") or 1), []).extend(data)
        return raw
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise BenchError(f"{path}: not a readable pytest-benchmark JSON file ({exc.__class__.__name__}: {exc})"
                         ) from None


def read_run(path: str | Path) -> Run:
    """Load a run directory (or its ``summary.json``); refuses anything it cannot vouch for."""
    path = Path(path)
    if path.is_file():
        path = path.parent
    if not path.is_dir():
        raise BenchError(f"{path}: no such run directory")
    load = None if (path / SUMMARY_FILE).exists() else read_load(path)
    if load is not None:  # a load-only run (balance-bench load): its environment, no matrix cases
        design = Design(trials=0, order_seed=None, budget_s=None)
        return Run(path=path, summary=Summary(environment=load.environment, design=design, cases=[]), _raw={})
    summary = read_summary(path / SUMMARY_FILE)
    return Run(path=path, summary=summary, _raw=_raw_timings(path / BENCHMARKS_FILE))
