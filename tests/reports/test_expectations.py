"""The guide's claims are recorded once, completely and consistently."""

from __future__ import annotations

import dataclasses

import pytest

from balance_bench.reports.expectations import (
    INDEX_CLAIMS,
    LATENCY_CLAIMS,
    expected_index,
    index_claim,
    latency_claim,
)
from balance_model.schema import INDEX_012_NAMES


def test_latency_table_has_the_guides_four_rows_with_camel_case_names() -> None:
    """Each row of the performance table is keyed by the suite's name and keeps the guide's name."""
    assert {q: c.guide_name for q, c in LATENCY_CLAIMS.items()} == {
        "find_by_id": "findById",
        "find_by_user_id": "findByUserId",
        "find_by_user_id_and_token_id": "findByUserIdAndTokenId",
        "total_balance_by_user": "totalBalanceByUser",
    }


def test_latency_ranges_match_the_guide() -> None:
    """The numbers are the guide's, with "~0.5" stored as the degenerate range (0.5, 0.5)."""
    table = {q: (c.cold_ms, c.warm_ms, c.improvement_pct) for q, c in LATENCY_CLAIMS.items()}
    assert table == {
        "find_by_id": ((5.0, 10.0), (0.5, 1.0), (90.0, 95.0)),
        "find_by_user_id": ((10.0, 20.0), (1.0, 2.0), (85.0, 90.0)),
        "find_by_user_id_and_token_id": ((3.0, 5.0), (0.5, 0.5), (85.0, 90.0)),
        "total_balance_by_user": ((5.0, 10.0), (0.5, 0.5), (90.0, 95.0)),
    }


@pytest.mark.parametrize("query", sorted(LATENCY_CLAIMS))
def test_latency_ranges_are_ordered_floats(query: str) -> None:
    """Every range is (low, high) floats with low <= high, and warm is never slower than cold."""
    claim = LATENCY_CLAIMS[query]
    for low, high in (claim.cold_ms, claim.warm_ms, claim.improvement_pct):
        assert isinstance(low, float) and isinstance(high, float)
        assert 0 < low <= high
    assert claim.warm_ms[1] <= claim.cold_ms[0]
    assert claim.improvement_pct[1] <= 100


def test_index_claims_match_the_guide() -> None:
    """The five index claims point each query at its migration 012 index."""
    assert {q: c.index for q, c in INDEX_CLAIMS.items()} == {
        "find_by_user_id_and_token_id": "idx_balances_user_token",
        "get_by_user": "idx_balances_user_created",
        "total_balance_by_user": "idx_balances_user_usd",
        "find_by_address": "idx_balances_address",
        "find_by_token_id": "idx_balances_token_id",
    }


def test_every_claimed_index_exists_in_migration_012() -> None:
    """A claim can only name an index that the schema's migration 012 creates."""
    assert {c.index for c in INDEX_CLAIMS.values()} == set(INDEX_012_NAMES)


def test_lookups_find_claims_and_return_none_for_unknown_queries() -> None:
    """The lookup functions agree with the tables and say None rather than guess."""
    assert latency_claim("find_by_id") is LATENCY_CLAIMS["find_by_id"]
    assert index_claim("get_by_user") is INDEX_CLAIMS["get_by_user"]
    assert expected_index("total_balance_by_user") == "idx_balances_user_usd"
    assert latency_claim("get_by_user") is None
    assert index_claim("find_by_id") is None
    assert expected_index("no_such_query") is None


def test_claims_cannot_be_changed_at_run_time() -> None:
    """Claims are frozen and the tables read-only, so no report can drift from the guide."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        LATENCY_CLAIMS["find_by_id"].cold_ms = (0.0, 0.0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        INDEX_CLAIMS["get_by_user"] = INDEX_CLAIMS["find_by_address"]  # type: ignore[index]
