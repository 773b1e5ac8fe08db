"""The registry: every experiment by name, in the order the report shows them, and ``--experiments`` parsing."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from balance_bench.bench.experiments import antipattern, guide_table, pagination, partitioning, replica, totals, warming
from balance_bench.bench.experiments.spec import Experiment
from balance_bench.errors import BenchError

__all__ = ["EXPERIMENTS", "select"]

_ALL: tuple[Experiment[Any], ...] = (
    pagination.EXPERIMENT,
    totals.EXPERIMENT,
    partitioning.EXPERIMENT,
    replica.EXPERIMENT,
    antipattern.EXPERIMENT,
    warming.EXPERIMENT,
    guide_table.EXPERIMENT,
)

EXPERIMENTS: Mapping[str, Experiment[Any]] = MappingProxyType({e.name: e for e in _ALL})
"""Every experiment by name, in the order the report shows them."""


def select(names: str) -> tuple[Experiment[Any], ...]:
    """The experiments a ``--experiments`` value names: ``all`` or a comma list, in registry order."""
    wanted = {n.strip() for n in names.split(",") if n.strip()}
    if not wanted:
        raise BenchError("--experiments needs 'all' or at least one experiment name")
    if "all" in wanted:
        return tuple(EXPERIMENTS.values())
    unknown = sorted(wanted - set(EXPERIMENTS))
    if unknown:
        raise BenchError(f"unknown experiment {', '.join(map(repr, unknown))}; known: {', '.join(EXPERIMENTS)}, all")
    return tuple(e for e in EXPERIMENTS.values() if e.name in wanted)
