"""What ``balance-bench check`` saw, as records: each case run once, untimed, and each write's invalidation.

Measurement (``bench.inspection``) gathers them and the judging side (``reports.findings``, ``reports.baseline``,
``reports.check``) reads them; they live in the core so that neither side imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from balance_bench.coordinates import Coordinates
from balance_bench.results import Traffic

__all__ = ["CaseEvidence", "KeyEvidence", "InvalidationEvidence", "Evidence", "SERVERS"]

SERVERS = {"postgres": "PostgreSQL", "redis": "Redis"}
"""The servers a check records the version of (``Evidence.servers``' keys), with their names in words."""

@dataclass(frozen=True)
class CaseEvidence:
    """One case, run untimed: its plan (None when it never reaches PostgreSQL), its traffic per call, and for a cached
    state the hits and misses its cache counted over the traffic pass's ``calls`` calls (warm-up included)."""

    coords: Coordinates
    plan: Any | None  # EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) as the server returned it
    traffic: Traffic
    calls: int
    cache_hits: int | None = None
    cache_misses: int | None = None


@dataclass(frozen=True)
class KeyEvidence:
    """One key a write must invalidate: its family (``KeyClaim.name``), whether its read filled it, and whether it
    was still in Redis after the write."""

    family: str
    filled: bool
    left: bool


@dataclass(frozen=True)
class InvalidationEvidence:
    """A write case's keys, each filled by its read before the write and looked up in Redis after it."""

    coords: Coordinates
    keys: tuple[KeyEvidence, ...]


@dataclass(frozen=True)
class Evidence:
    """Everything one check gathered on one scale: the dataset and servers it ran on, and every case."""

    scale: str
    dataset: dict[str, Any]  # Dataset.describe(): scale, seed, fingerprint, rows, versions
    servers: dict[str, str]  # each of SERVERS: its version
    settings: dict[str, str]  # the planner settings of the with-012 copy (bench.plan_capture.PLANNER_SETTINGS)
    cases: tuple[CaseEvidence, ...]
    invalidations: tuple[InvalidationEvidence, ...]
