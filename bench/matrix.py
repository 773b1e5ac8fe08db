"""The benchmark matrix as data: which reads, writes and references run, with which arguments.

Adding a query to the suite is one entry in ``READS`` (or ``WRITES``): cases,
plans, summary rows, verdicts and charts all follow from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from balance_bench.results import COORDINATES

__all__ = [
    "Case",
    "ReadSpec",
    "READS",
    "WRITES",
    "REFERENCES",
    "CACHE_STATES",
    "MIGRATIONS",
    "read_cases",
    "write_cases",
    "reference_cases",
]

CACHE_STATES = ("nocache", "cold", "warm")
MIGRATIONS = ("without_012", "with_012")

Args = Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class ReadSpec:
    """A read of the balance model: its arguments per parameter kind, and what the guide says about it."""

    args: dict[str, Args]
    cached: bool
    legacy: bool = False


READS: dict[str, ReadSpec] = {
    "find_by_id": ReadSpec({"balance": lambda p: {"id": p.balance_id}}, cached=True, legacy=True),
    "find_by_user_id": ReadSpec(
        {"typical": lambda p: {"user_id": p.typical_user_id}, "whale": lambda p: {"user_id": p.whale_user_id}},
        cached=True, legacy=True,
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

# Writes run through the cached model so their price includes the invalidation.
WRITES: dict[str, Args] = {
    "create": lambda p: {"user_id": p.typical_user_id, "token_id": p.popular_token_id},
    "credit": lambda p: {"id": p.balance_id},
    "debit": lambda p: {"id": p.balance_id},
    "delete": lambda p: {"user_id": p.typical_user_id, "token_id": p.popular_token_id},
}

# The floor of this machine, measured in the same run: how much of a case is transport.
REFERENCES: tuple[str, ...] = ("raw_pg_select_1", "raw_pg_find_by_id", "raw_redis_get", "raw_redis_get_decode")


@dataclass(frozen=True)
class Case:
    """One point of the matrix. ``id`` is the pytest parameter id and the plan file's stem."""

    kind: str
    query: str
    cache: str
    migration: str
    scale: str
    projection: str
    param_kind: str

    @property
    def id(self) -> str:
        return "-".join((self.scale, self.migration, self.query, self.cache, self.projection, self.param_kind))

    @property
    def group(self) -> str:
        return f"{self.scale} {self.query} {self.param_kind}"

    def coordinates(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in COORDINATES}


def read_cases(scales: tuple[str, ...]) -> Iterator[Case]:
    """Every read x cache state x migration x scale, plus the legacy projection on the database path."""
    for scale in scales:
        for migration in MIGRATIONS:
            for query, spec in READS.items():
                for param_kind in spec.args:
                    for cache in CACHE_STATES if spec.cached else ("nocache",):
                        yield Case("read", query, cache, migration, scale, "optimized", param_kind)
                    if spec.legacy:
                        # The projection is a database-path concern: compare it without the cache.
                        yield Case("read", query, "nocache", migration, scale, "legacy", param_kind)


def write_cases(scales: tuple[str, ...]) -> Iterator[Case]:
    """Every write (with its cache invalidation) x migration x scale: what the indexes cost writes."""
    for scale in scales:
        for migration in MIGRATIONS:
            for query in WRITES:
                yield Case("write", query, "invalidate", migration, scale, "optimized", "balance")


def reference_cases(scales: tuple[str, ...]) -> Iterator[Case]:
    """Raw-client floors, measured once per scale with migration 012 applied."""
    for scale in scales:
        for query in REFERENCES:
            yield Case("reference", query, "raw", "with_012", scale, "optimized", "balance")
