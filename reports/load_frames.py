"""Load-mode results as pandas DataFrames: what ``Run.load_mode`` gives the report and the notebooks.

Reads only saved artifacts (``load.json`` and the raw arrays beside it), like
everything in ``reports``::

    from balance_bench.reports import read_run
    load = read_run("runs/20261126-101500-small-load").load_mode
    load.steps        # one row per step: setting, throughput, p50/p95/p99, hit rate, database calls/s
    load.operations   # one row per step and operation, with Locust's own percentiles beside the exact ones
    load.timings()    # every measured request: step, operation, Locust process, ms
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from balance_bench.errors import BenchError
from balance_bench.load_records import LOAD_FILE, LoadRecord, StepResult, read_load_record

__all__ = ["LoadData", "read_load", "has_load", "STEP_COORDINATES"]

STEP_COORDINATES = ("index", "trial", "migration", "cache", "connections", "users")
"""What identifies a step within a load run."""


def has_load(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds load-mode results."""
    return (run_dir / LOAD_FILE).is_file()


def _coordinates(step: StepResult) -> dict[str, Any]:
    return {name: getattr(step, name) for name in STEP_COORDINATES}


@dataclass(frozen=True)
class LoadData:
    """A load run's record and its tidy DataFrames."""

    path: Path
    record: LoadRecord

    @property
    def environment(self) -> dict[str, Any]:
        return self.record.environment

    @cached_property
    def steps(self) -> pd.DataFrame:
        """One row per step: its setting, throughput, latency, cache hit rate, PostgreSQL and Redis deltas."""
        rows = []
        for step in self.record.steps:
            row = {k: v for k, v in asdict(step).items()
                   if k not in ("operations", "cache_families", "statements", "postgres", "redis", "errors")}
            row.update({f"pg_{k}": v for k, v in step.postgres.items()})
            row.update({f"redis_{k}": v for k, v in step.redis.items()})
            row["db_calls_per_request"] = step.db_calls_per_s / step.throughput_rps if step.throughput_rps else None
            rows.append(row)
        return pd.DataFrame(rows)

    @cached_property
    def operations(self) -> pd.DataFrame:
        """One row per step and operation: requests, failures, throughput, exact and Locust percentiles."""
        rows = [{**_coordinates(step), **asdict(op)} for step in self.record.steps for op in step.operations]
        return pd.DataFrame(rows)

    @cached_property
    def cache(self) -> pd.DataFrame:
        """One row per step and key family: the model's hits, misses, errors, rejected fills and hit rate."""
        rows = [{**_coordinates(step), **asdict(f)} for step in self.record.steps for f in step.cache_families]
        return pd.DataFrame(rows)

    @cached_property
    def statements(self) -> pd.DataFrame:
        """One row per step and statement from ``pg_stat_statements`` (empty when it was unavailable)."""
        rows = [{**_coordinates(step), **asdict(s)} for step in self.record.steps for s in (step.statements or [])]
        return pd.DataFrame(rows)

    @cached_property
    def conservation(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(c) for c in self.record.conservation])

    @cached_property
    def staleness(self) -> pd.DataFrame:
        return pd.DataFrame([{k: v for k, v in asdict(s).items() if k != "examples"} for s in self.record.staleness])

    def timings(self, step: int | None = None) -> pd.DataFrame:
        """Every measured request's latency (ms): step, operation, Locust process (``w0``...), ``ms``."""
        frames = []
        for result in self.record.steps:
            if step is not None and result.index != step:
                continue
            path = self.path / result.arrays
            try:
                with np.load(path) as data:
                    for key in data.files:
                        kind, operation, worker = key.split(".", 2)
                        if kind != "samples":
                            continue
                        frame = pd.DataFrame({"ms": data[key]})
                        frame["operation"], frame["worker"] = operation, worker
                        for name, value in _coordinates(result).items():
                            frame[name] = value
                        frames.append(frame)
            except (OSError, ValueError) as exc:
                raise BenchError(f"{path}: cannot read the raw latencies ({exc})") from None
        if not frames:
            return pd.DataFrame(columns=[*STEP_COORDINATES, "operation", "worker", "ms"])
        return pd.concat(frames, ignore_index=True)


def read_load(run_dir: Path) -> LoadData | None:
    """The run's load data, or None when it has no ``load.json``."""
    if not has_load(run_dir):
        return None
    return LoadData(run_dir, read_load_record(run_dir / LOAD_FILE))
