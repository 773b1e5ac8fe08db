"""Run artifacts as typed, validated records with a versioned JSON format.

``summary.json`` is the stable interface between the benchmark stage (which
writes it) and the reports and notebooks (which read it). A reader refuses a
``schema_version`` it does not know, saying what to do, rather than guessing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from balance_bench.errors import BenchError, redact

__all__ = [
    "SCHEMA_VERSION",
    "SUMMARY_FILE",
    "BENCHMARKS_FILE",
    "PLANS_DIR",
    "REPORT_FILE",
    "COORDINATES",
    "CaseResult",
    "Summary",
    "read_summary",
    "write_summary",
    "new_run_dir",
]

SCHEMA_VERSION = 1
SUMMARY_FILE = "summary.json"
BENCHMARKS_FILE = "benchmarks.json"
PLANS_DIR = "plans"
REPORT_FILE = "report.html"

KINDS = ("read", "write", "reference")
COORDINATES = ("kind", "query", "cache", "migration", "scale", "projection", "param_kind")
"""Where a case sits in the matrix: the fields shared by ``bench.matrix.Case`` and ``CaseResult``."""


@dataclass(frozen=True)
class CaseResult:
    """One benchmark case: its coordinates in the matrix, its timing statistics and its plan facts."""

    name: str
    kind: str
    query: str
    cache: str
    migration: str
    scale: str
    projection: str
    param_kind: str
    params: dict[str, Any]
    rounds: int
    min_ms: float
    median_ms: float
    mean_ms: float
    p95_ms: float
    p99_ms: float
    stddev_ms: float
    iqr_ms: float
    max_ms: float
    cache_hits: int | None = None
    cache_misses: int | None = None
    plan_file: str | None = None
    execution_ms: float | None = None
    planning_ms: float | None = None
    indexes_used: list[str] = field(default_factory=list)
    node_types: list[str] = field(default_factory=list)
    # Reference cases only: the model's twin call timed interleaved with the raw call (harness overhead).
    overhead: dict[str, Any] | None = None

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        """The case's coordinates, unique within a run."""
        return (self.query, self.cache, self.migration, self.scale, self.projection, self.param_kind)


@dataclass(frozen=True)
class Summary:
    """Everything a report needs about one run, apart from raw timings and plans (kept beside it)."""

    environment: dict[str, Any]
    cases: list[CaseResult]
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> str:
        doc = {"schema_version": self.schema_version, "environment": self.environment,
               "cases": [asdict(c) for c in self.cases]}
        # Belt and braces: nothing saved may carry a URL password.
        return redact(json.dumps(doc, indent=2, sort_keys=False, default=str))


def _required(f: Any) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


def _case(raw: Any, where: str, index: int) -> CaseResult:
    if not isinstance(raw, dict):
        raise BenchError(f"{where}: cases[{index}] is not an object")
    names = {f.name for f in fields(CaseResult)}
    missing = [f.name for f in fields(CaseResult) if f.name not in raw and _required(f)]
    if missing:
        raise BenchError(f"{where}: cases[{index}] lacks {', '.join(missing)}")
    case = CaseResult(**{k: v for k, v in raw.items() if k in names})
    if case.kind not in KINDS:
        raise BenchError(f"{where}: cases[{index}] has unknown kind {case.kind!r}")
    for name in ("min_ms", "median_ms", "mean_ms", "p95_ms", "p99_ms", "stddev_ms", "iqr_ms", "max_ms"):
        value = getattr(case, name)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise BenchError(f"{where}: cases[{index}].{name} is not a number")
    return case


def read_summary(path: Path) -> Summary:
    """Load and validate ``summary.json``; every problem is one BenchError line naming the file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchError(f"{path}: no such file (is this a balance-bench run directory?)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchError(f"{path}: cannot read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise BenchError(f"{path}: not valid JSON (truncated or corrupt?): {exc}") from None
    if not isinstance(doc, dict) or "schema_version" not in doc:
        raise BenchError(f"{path}: not a balance-bench summary (no schema_version)")
    version = doc["schema_version"]
    if version != SCHEMA_VERSION:
        raise BenchError(
            f"{path}: summary schema_version {version!r} is not supported by this balance-bench "
            f"(it reads version {SCHEMA_VERSION}); re-run the benchmarks with this version or use the "
            "balance-bench release that wrote it"
        )
    environment, cases = doc.get("environment"), doc.get("cases")
    if not isinstance(environment, dict) or not isinstance(cases, list):
        raise BenchError(f"{path}: summary needs an 'environment' object and a 'cases' list")
    return Summary(environment=environment, cases=[_case(c, str(path), i) for i, c in enumerate(cases)])


def write_summary(run_dir: Path, summary: Summary) -> Path:
    """Write ``summary.json`` atomically (a crash never leaves a truncated file behind)."""
    target = run_dir / SUMMARY_FILE
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(summary.to_json(), encoding="utf-8")
    tmp.replace(target)
    return target


def new_run_dir(out: Path, scale_names: Sequence[str]) -> Path:
    """A fresh, sortable run directory under ``out``: ``<timestamp>-<scales>``, suffixed if taken."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-{'-'.join(scale_names)}"
    path, suffix = out / base, 1
    while path.exists():
        suffix += 1
        path = out / f"{base}-{suffix}"
    path.mkdir(parents=True)
    return path
