"""The registry: every experiment by name, in the order the report shows them, and the judge of ``--experiments``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from balance_bench.bench.experiments import antipattern, pagination, partitioning, replica, totals, warming
from balance_bench.bench.experiments.spec import Experiment
from balance_bench.config import Config
from balance_bench.errors import BenchError

__all__ = ["EXPERIMENTS", "select", "with_experiments"]

_ALL: tuple[Experiment[Any], ...] = (
    pagination.EXPERIMENT,
    totals.EXPERIMENT,
    partitioning.EXPERIMENT,
    replica.EXPERIMENT,
    antipattern.EXPERIMENT,
    warming.EXPERIMENT,
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


def with_experiments(config: Config) -> Config:
    """``config`` with its ``--experiments`` (as given: ``all`` or names) as the registry names them, in its order.

    The registry is their one judge, before any work: ``balance-bench run`` asks before it starts a server, and
    ``pytest bench/`` as the session is configured. An unknown name, or experiments that time nothing, is one
    BenchError line.
    """
    if not config.experiments:
        return config
    chosen = select(",".join(config.experiments))
    if not any(e.variants for e in chosen):
        raise BenchError(f"{', '.join(e.name for e in chosen)} times nothing on its own; add an experiment that does "
                         "(or all)")
    return replace(config, experiments=tuple(e.name for e in chosen))
