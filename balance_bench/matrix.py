"""The benchmark matrix as data: which reads, writes and references run, with which arguments.

Adding a query to the suite is one entry in ``READS``: cases, plans, summary
records, verdicts and charts all follow from it. Every case is a
``Coordinates``; the trial it runs in is the engine's business (``conftest``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from balance_bench.coordinates import OPTIMIZED, PROJECTIONS, CacheState, Coordinates, Kind, Migration
from balance_model.queries import SCALAR_QUERIES

__all__ = [
    "ReadSpec",
    "READS",
    "WRITES",
    "REFERENCES",
    "READ_CACHE_STATES",
    "read_cases",
    "write_cases",
    "reference_cases",
    "all_cases",
    "REDUCED_SHARE",
    "budget_share",
]

READ_CACHE_STATES = (CacheState.NOCACHE, CacheState.COLD, CacheState.GUIDE_COLD, CacheState.WARM)
"""A cached read runs in each; a warm read is a plain GET in both cache designs, so only cold has a guide twin."""

Args = Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class ReadSpec:
    """A read of the balance model: its arguments per parameter kind, and what the guide says about it."""

    args: dict[str, Args]
    cached: bool


READS: dict[str, ReadSpec] = {
    "find_by_id": ReadSpec({"balance": lambda p: {"id": p.balance_id}}, cached=True),
    "find_by_user_id": ReadSpec(
        {"typical": lambda p: {"user_id": p.typical_user_id}, "whale": lambda p: {"user_id": p.whale_user_id}},
        cached=True,
    ),
    "find_by_user_id_and_token_id": ReadSpec(
        {"pair": lambda p: {"user_id": p.user_token[0], "token_id": p.user_token[1]}}, cached=True
    ),
    "get_by_user": ReadSpec(
        {
            "typical": lambda p: {"user_id": p.typical_user_id, "limit": 20, "offset": 0},
            "whale": lambda p: {"user_id": p.whale_user_id, "limit": 20, "offset": 0},
        },
        cached=False,
    ),
    "total_balance_by_user": ReadSpec(
        {"typical": lambda p: {"user_id": p.typical_user_id}, "whale": lambda p: {"user_id": p.whale_user_id}},
        cached=True,
    ),
    "total_balance": ReadSpec({"system": lambda p: {}}, cached=True),
    "find_by_address": ReadSpec({"address": lambda p: {"address": p.address}}, cached=False),
    "find_by_token_id": ReadSpec({"popular": lambda p: {"token_id": p.popular_token_id}}, cached=False),
}

WRITES: tuple[str, ...] = ("create", "credit", "debit", "delete")
"""Writes run through the cached model, so their price includes the invalidation. They touch only the run's
own write row and the rows they create (``world.WriteTarget``), never a row a read case asks for."""

REFERENCES: tuple[str, ...] = ("raw_pg_select_1", "raw_pg_find_by_id", "raw_redis_get", "raw_redis_get_decode")
"""The floor of this machine, measured in the same trials: how much of a case is transport."""


def read_cases(scales: tuple[str, ...]) -> Iterator[Coordinates]:
    """Every read x cache state x migration x scale, plus every row read's other projections on the database path."""
    for scale in scales:
        for migration in Migration:
            for query, spec in READS.items():
                for param_kind in spec.args:
                    for cache in READ_CACHE_STATES if spec.cached else (CacheState.NOCACHE,):
                        yield Coordinates(Kind.READ, query, cache, migration, scale, OPTIMIZED, param_kind)
                    if query in SCALAR_QUERIES:
                        continue  # a sum has no columns to choose
                    # The projection is a database-path concern: compare it without the cache.
                    for projection in PROJECTIONS:
                        if projection != OPTIMIZED:
                            yield Coordinates(Kind.READ, query, CacheState.NOCACHE, migration, scale, projection,
                                              param_kind)


def write_cases(scales: tuple[str, ...]) -> Iterator[Coordinates]:
    """Every write (with its cache invalidation) x migration x scale: what the indexes cost writes."""
    for scale in scales:
        for migration in Migration:
            for query in WRITES:
                yield Coordinates(Kind.WRITE, query, CacheState.INVALIDATE, migration, scale, OPTIMIZED, "balance")


def reference_cases(scales: tuple[str, ...]) -> Iterator[Coordinates]:
    """Raw-client floors, on the copy with migration 012 applied."""
    for scale in scales:
        for query in REFERENCES:
            yield Coordinates(Kind.REFERENCE, query, CacheState.RAW, Migration.WITH_012, scale, OPTIMIZED, "balance")


def all_cases(scales: tuple[str, ...]) -> list[Coordinates]:
    """The whole matrix for ``scales``."""
    return [*read_cases(scales), *write_cases(scales), *reference_cases(scales)]


REDUCED_SHARE = 0.5
"""The budget share of a case that decides no close verdict: writes, the other projections, the references."""


def budget_share(case: Coordinates) -> float:
    """The share of the per-case timing budget ``case`` gets: whole for the reads of the optimized projection,
    whose cache and 012 comparisons the verdicts and the gate judge closely; ``REDUCED_SHARE`` for writes
    (their index cost is a ratio of large effects), the other projections (explicit columns win or lose by
    large factors) and the raw references (floors quoted in a sentence). The top-up spends what this saves."""
    if case.kind is Kind.READ and case.projection == OPTIMIZED:
        return 1.0
    return REDUCED_SHARE
