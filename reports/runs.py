"""The one loader of run directories, shared by the HTML report and the notebooks.

A run directory holds ``summary.json`` (versioned records), pytest-benchmark's
``benchmarks.json`` (every raw timing) and ``plans/*.json``. Problems are one
``BenchError`` line naming the file; nothing here touches a live server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from balance_bench.errors import BenchError
from balance_bench.results import BENCHMARKS_FILE, COORDINATES, CaseResult, Summary, read_summary

__all__ = ["Run", "load_run", "COORDINATES"]


@dataclass(frozen=True)
class Run:
    """A loaded run: its summary records, tidy DataFrames of cases and raw timings, and its plans."""

    path: Path
    summary: Summary
    _raw: dict[str, list[float]] = field(repr=False)

    @property
    def environment(self) -> dict[str, Any]:
        return self.summary.environment

    @cached_property
    def cases(self) -> pd.DataFrame:
        """One row per case: coordinates, timing statistics (ms), cache counters and plan facts."""
        rows = []
        for case in self.summary.cases:
            row = {k: v for k, v in case.__dict__.items()}
            row["indexes_used"] = ", ".join(case.indexes_used)
            row["node_types"] = ", ".join(case.node_types)
            row["params"] = json.dumps(case.params, sort_keys=True, default=str)
            rows.append(row)
        frame = pd.DataFrame(rows)
        if frame.empty:
            return frame
        for column in COORDINATES:
            frame[column] = frame[column].astype("category")
        return frame

    @cached_property
    def timings(self) -> pd.DataFrame:
        """Every raw timing, one row per round: case name, coordinates and ``ms``."""
        frames = []
        for case in self.summary.cases:
            data = self._raw.get(case.name)
            if not data:
                continue
            frame = pd.DataFrame({"ms": [s * 1000.0 for s in data]})
            frame["round"] = range(len(data))
            frame["name"] = case.name
            for column in COORDINATES:
                frame[column] = getattr(case, column)
            frames.append(frame)
        if not frames:
            return pd.DataFrame(columns=["name", *COORDINATES, "round", "ms"])
        return pd.concat(frames, ignore_index=True)

    def raw_timings(self, case: CaseResult) -> list[float]:
        """The case's raw per-call timings in milliseconds (empty if benchmarks.json lacks them)."""
        return [s * 1000.0 for s in self._raw.get(case.name, [])]

    def plan_path(self, case: CaseResult) -> Path | None:
        """Where the case's plan file is, if it has one."""
        return self.path / case.plan_file if case.plan_file else None


def _raw_timings(path: Path) -> dict[str, list[float]]:
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return {b["name"]: list(b["stats"]["data"]) for b in doc["benchmarks"] if b.get("stats", {}).get("data")}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise BenchError(f"{path}: not a readable pytest-benchmark JSON file ({exc.__class__.__name__}: {exc})") from None


def load_run(path: str | Path) -> Run:
    """Load a run directory (or its ``summary.json``); refuses anything it cannot vouch for."""
    path = Path(path)
    if path.is_file():
        path = path.parent
    if not path.is_dir():
        raise BenchError(f"{path}: no such run directory")
    summary = read_summary(path / "summary.json")
    return Run(path=path, summary=summary, _raw=_raw_timings(path / BENCHMARKS_FILE))
