"""The guide's claims as data, in one place, so every report checks against the same numbers.

Three kinds of claim come from ``balance-query-optimization-guide.md``:

* the "Performance Improvements" table (cold cache, warm cache, improvement);
* which migration 012 index each query pattern uses ("Index-Aware Queries",
  plus the two indexes whose purpose the migration names: address lookups and
  token_id joins);
* the cache's keys and TTLs ("Cache Keys", "Cache TTLs"): what the harness expects the cache to set. The port
  (``balance_model.cache.FAMILIES``) declares its own; the doctor and ``check`` judge it against these, so a port
  that drifts from the guide cannot vouch for itself.

Ranges are ``(low, high)`` floats, in milliseconds or percent. The guide writes
most figures as "~5-10ms"; the "~" (approximately) is dropped and the bounds are
kept as written. A single approximate value such as "~0.5ms" becomes the
degenerate range ``(0.5, 0.5)``: the guide gives no spread, and inventing one
would put words in its mouth. Whoever compares a measurement against it decides
the tolerance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "Range",
    "LatencyClaim",
    "IndexClaim",
    "KeyClaim",
    "KEY_CLAIMS",
    "LATENCY_CLAIMS",
    "INDEX_CLAIMS",
    "latency_claim",
    "index_claim",
    "expected_index",
]

Range = tuple[float, float]
"""An inclusive ``(low, high)`` range as the guide states it; low == high for a single "~x" value."""


@dataclass(frozen=True)
class LatencyClaim:
    """One row of the guide's "Performance Improvements" table."""

    query: str  # the suite's Python name, e.g. "find_by_id"
    guide_name: str  # the guide's camelCase method name, e.g. "findById"
    cold_ms: Range
    warm_ms: Range
    improvement_pct: Range


@dataclass(frozen=True)
class IndexClaim:
    """The guide's statement that a query pattern is served by one migration 012 index."""

    query: str  # the suite's Python name
    index: str  # the index name, one of balance_model.schema.INDEX_012_NAMES
    guide_name: str | None  # the guide's method name, where the guide names one
    basis: str  # where in the guide the claim is made


_LATENCY: tuple[LatencyClaim, ...] = (
    LatencyClaim("find_by_id", "findById", (5.0, 10.0), (0.5, 1.0), (90.0, 95.0)),
    LatencyClaim("find_by_user_id", "findByUserId", (10.0, 20.0), (1.0, 2.0), (85.0, 90.0)),
    LatencyClaim("find_by_user_id_and_token_id", "findByUserIdAndTokenId", (3.0, 5.0), (0.5, 0.5), (85.0, 90.0)),
    LatencyClaim("total_balance_by_user", "totalBalanceByUser", (5.0, 10.0), (0.5, 0.5), (90.0, 95.0)),
)

_INDEXES: tuple[IndexClaim, ...] = (
    IndexClaim(
        "find_by_user_id_and_token_id", "idx_balances_user_token", "findByUserIdAndTokenId", "Index-Aware Queries"
    ),
    IndexClaim("get_by_user", "idx_balances_user_created", "getByUser", "Index-Aware Queries"),
    IndexClaim("total_balance_by_user", "idx_balances_user_usd", "totalBalanceByUser", "Index-Aware Queries"),
    IndexClaim("find_by_address", "idx_balances_address", None, "Migration 012: index for address lookups"),
    IndexClaim("find_by_token_id", "idx_balances_token_id", None, "Migration 012: index for token_id JOIN operations"),
)

LATENCY_CLAIMS: Mapping[str, LatencyClaim] = MappingProxyType({claim.query: claim for claim in _LATENCY})
"""The performance table, keyed by the suite's query name."""

INDEX_CLAIMS: Mapping[str, IndexClaim] = MappingProxyType({claim.query: claim for claim in _INDEXES})
"""Which index the guide says each query uses, keyed by the suite's query name."""


@dataclass(frozen=True)
class KeyClaim:
    """A cache key the guide names: the read it caches, its pattern (the guide's placeholders in the suite's
    snake_case, ``{userId}`` -> ``{user_id}``) and how long it lives."""

    name: str
    query: str
    pattern: str
    ttl_s: int


KEY_CLAIMS: tuple[KeyClaim, ...] = (
    KeyClaim("by_id", "find_by_id", "balance:id:{id}", 5 * 60),  # BALANCE_BY_ID: 5 minutes
    KeyClaim("by_user", "find_by_user_id", "balance:user:{user_id}", 60),  # BALANCE_BY_USER: 1 minute
    KeyClaim("by_user_token", "find_by_user_id_and_token_id", "balance:user:{user_id}:token:{token_id}",
             5 * 60),  # BALANCE_BY_USER_TOKEN: 5 minutes
    KeyClaim("total", "total_balance", "balance:total", 2 * 60),  # TOTAL_BALANCE: 2 minutes
    # The guide names the per-user total's key but gives it no TTL of its own: the total's is the one it means.
    KeyClaim("total_by_user", "total_balance_by_user", "balance:total:user:{user_id}", 2 * 60),
)
"""The cache's keys and TTLs as the guide states them, one per cached read."""


def latency_claim(query: str) -> LatencyClaim | None:
    """The guide's latency claim for ``query``, or None where the table has no row for it."""
    return LATENCY_CLAIMS.get(query)


def index_claim(query: str) -> IndexClaim | None:
    """The guide's index claim for ``query``, or None where the guide claims no index for it."""
    return INDEX_CLAIMS.get(query)


def expected_index(query: str) -> str | None:
    """The index name the guide says ``query`` uses, or None."""
    claim = index_claim(query)
    return claim.index if claim is not None else None
