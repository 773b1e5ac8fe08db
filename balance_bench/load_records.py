"""Load-mode results as typed, validated records with a versioned JSON format (``load.json``).

``load.json`` is the interface between ``balance-bench load`` (which writes it)
and the report and notebooks (which read it through ``reports.runs.read_run``),
as ``summary.json`` is for the benchmark matrix. Raw per-request latencies stay
beside it (``load/sNNN.npz``, one array per operation and Locust process), so
every percentile can be recomputed from the exact union of samples. The reader
(``balance_bench.records``) checks every field by its dataclass's type hint and
refuses a ``schema_version`` it does not know, saying what to do. Money is
stored as decimal strings, never floats.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from balance_bench.coordinates import CacheUse, Migration
from balance_bench.errors import redact
from balance_bench.records import Kind, read_record

__all__ = [
    "LOAD_SCHEMA_VERSION",
    "LOAD_FILE",
    "LOAD_DIR",
    "OperationResult",
    "CacheFamily",
    "StatementResult",
    "StepResult",
    "ConservationResult",
    "StalenessResult",
    "LoadRecord",
    "LOAD",
    "read_load_record",
    "write_load_record",
]

LOAD_SCHEMA_VERSION = 1
LOAD_FILE = "load.json"
LOAD_DIR = "load"
"""Beside ``load.json``: per-step captures and raw arrays, Locust's CSV and logs."""


@dataclass(frozen=True)
class OperationResult:
    """One operation in one step: what the clients saw (exact, from raw samples) and Locust's own estimates."""

    operation: str
    requests: int
    failures: int
    throughput_rps: float
    mean_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    locust_p50_ms: float | None = None  # Locust rounds response times into buckets: approximate
    locust_p95_ms: float | None = None
    locust_p99_ms: float | None = None


@dataclass(frozen=True)
class CacheFamily:
    """The model's cache counters (``BalanceCache.stats()``) of one key family over a step's window, all users."""

    family: str
    hits: int
    misses: int
    errors: int
    rejected_fills: int
    hit_rate: float | None


@dataclass(frozen=True)
class StatementResult:
    """One statement in ``pg_stat_statements`` over a step's window."""

    query: str
    calls: int
    calls_per_s: float
    mean_ms: float


@dataclass(frozen=True)
class StepResult:
    """One measured setting: migration, cache, connections (``own`` or a pool size) and user count."""

    index: int
    trial: int
    migration: Migration
    cache: CacheUse
    connections: str  # "own" (each user its own connection) or the shared pool's size per process
    users: int
    processes: int
    window_s: float
    requests: int
    failures: int
    throughput_rps: float
    mean_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    operations: list[OperationResult]
    cache_families: list[CacheFamily]
    hit_rate: float | None
    postgres: dict[str, int]  # pg_stat_database deltas of the step's database
    db_calls_per_s: float
    db_calls_source: str  # "pg_stat_statements" or "pg_stat_database.xact_commit"
    redis: dict[str, int]  # INFO stats deltas (server-wide)
    arrays: str  # the raw per-request latencies, relative to the run directory
    users_at_end: int
    statements: list[StatementResult] | None = None
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ConservationResult:
    """Money on one database copy: the sum after equals the sum before plus credits minus debits that committed."""

    migration: Migration
    sum_before: str
    sum_after: str
    credits: str
    debits: str
    credit_n: int
    debit_n: int
    rejected_n: int
    ambiguous_n: int
    difference: str
    status: str  # passed | failed | inconclusive

    @property
    def difference_decimal(self) -> Decimal:
        return Decimal(self.difference)


@dataclass(frozen=True)
class StalenessResult:
    """Reads of key-pool balances on one copy compared with the writes whose invalidation finished before them."""

    migration: Migration
    reads: int
    writes: int
    checked: int
    violations: int
    examples: list[dict[str, Any]]
    status: str  # passed | failed


@dataclass(frozen=True)
class LoadRecord:
    """Everything ``balance-bench load`` measured, checked and ran on."""

    environment: dict[str, Any]
    settings: dict[str, Any]
    processes: list[dict[str, Any]]  # per Locust process: host, pid, psycopg wait function, overlap check
    steps: list[StepResult]
    conservation: list[ConservationResult]
    staleness: list[StalenessResult]
    reference: dict[str, Any] | None = None  # the warm find_by_id timed in-process, before the swarm
    statements_note: str | None = None  # why pg_stat_statements figures are missing, if they are
    schema_version: int = LOAD_SCHEMA_VERSION

    def to_json(self) -> str:
        # Belt and braces: nothing saved may carry a URL password.
        return redact(json.dumps(asdict(self), indent=1, default=str))


LOAD = Kind(name="load record", readable=(LOAD_SCHEMA_VERSION,),
            advice="re-run balance-bench load with this version or use the release that wrote it",
            missing="is this a balance-bench load run directory?", finite=False)
"""``load.json`` as ``balance_bench.records`` reads it: every field of its dataclasses by its type hint."""


def read_load_record(path: Path) -> LoadRecord:
    """Load and validate ``load.json``; every problem is one BenchError line naming the file."""
    doc, _ = read_record(path, LOAD)
    return doc.build(LoadRecord)


def write_load_record(run_dir: Path, record: LoadRecord) -> Path:
    """Write ``load.json`` atomically (a crash never leaves a truncated file)."""
    target = run_dir / LOAD_FILE
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(record.to_json(), encoding="utf-8")
    tmp.replace(target)
    return target
