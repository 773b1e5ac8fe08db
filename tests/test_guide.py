"""The guide's claims are recorded once, as the guide states them (read from the guide itself), and consistently."""

from __future__ import annotations

import dataclasses

import pytest

from balance_bench.guide import (
    INDEX_CLAIMS,
    KEY_CLAIMS,
    LATENCY_CLAIMS,
    expected_index,
    index_claim,
    latency_claim,
)
from balance_model.cache import FAMILIES
from balance_model.schema import INDEX_012_NAMES, INDEXES_012
from tests.guide import (
    cache_keys,
    cache_ttls,
    guide_text,
    index_aware_queries,
    migration_indexes,
    performance_table,
    snake_case,
)


@pytest.fixture(scope="module")
def guide() -> str:
    """The guide's text (skipped locally, failed under CI, when it is not beside the repository)."""
    return guide_text()


def test_latency_claims_are_the_guides_performance_table(guide: str) -> None:
    """Every row of the guide's table, read from the guide, is a claim with the same name and ranges; no more."""
    table = performance_table(guide)
    assert len(table) == 4
    assert {snake_case(name): name for name in table} == {q: c.guide_name for q, c in LATENCY_CLAIMS.items()}
    for name, row in table.items():
        claim = LATENCY_CLAIMS[snake_case(name)]
        assert (claim.cold_ms, claim.warm_ms, claim.improvement_pct) == (
            row.cold_ms, row.warm_ms, row.improvement_pct), name


def test_index_claims_are_the_guides_index_aware_queries_and_migration(guide: str) -> None:
    """Methods use the index the guide's "Index-Aware Queries" names; the other two follow migration 012's notes."""
    aware = index_aware_queries(guide)
    assert len(aware) == 3
    named = {q: c for q, c in INDEX_CLAIMS.items() if c.guide_name is not None}
    assert {c.guide_name: c.index for c in named.values()} == aware
    assert all(snake_case(c.guide_name or "") == q and c.basis == "Index-Aware Queries" for q, c in named.items())
    notes = {name: note for name, (_, note) in migration_indexes(guide).items()}
    for query, claim in INDEX_CLAIMS.items():
        if claim.guide_name is None:
            assert claim.basis.lower() == f"migration 012: {notes[claim.index].lower()}", query


def test_migration_012_is_the_guides_five_indexes(guide: str) -> None:
    """The schema's migration 012 creates exactly the guide's indexes, on the guide's columns in its order."""
    assert {i.name: i.columns for i in INDEXES_012} == {
        name: columns for name, (columns, _) in migration_indexes(guide).items()}


GUIDE_PLACEHOLDERS = {"{userId}": "{user_id}", "{tokenId}": "{token_id}", "{id}": "{id}"}
TTL_NAMES = {  # the guide names a TTL per kind of key; this is which key each name is about
    "BALANCE_BY_ID": "balance:id:{id}",
    "BALANCE_BY_USER": "balance:user:{userId}",
    "BALANCE_BY_USER_TOKEN": "balance:user:{userId}:token:{tokenId}",
    "TOTAL_BALANCE": "balance:total",
}


def _python_pattern(guide_key: str) -> str:
    for theirs, ours in GUIDE_PLACEHOLDERS.items():
        guide_key = guide_key.replace(theirs, ours)
    return guide_key


def test_key_claims_are_the_guides_keys_and_ttls(guide: str) -> None:
    """KEY_CLAIMS has the guide's five keys and TTLs, read from the guide's text; the per-user total (no TTL in the
    guide) has the total's."""
    keys, ttls = cache_keys(guide), cache_ttls(guide)
    assert set(ttls) == set(TTL_NAMES) and set(TTL_NAMES.values()) <= set(keys)
    ttl_of_key = {_python_pattern(key): ttls[name] for name, key in TTL_NAMES.items()}
    ttl_of_key[_python_pattern("balance:total:user:{userId}")] = ttls["TOTAL_BALANCE"]
    assert {k.pattern: k.ttl_s for k in KEY_CLAIMS} == ttl_of_key
    assert {_python_pattern(k) for k in keys} == {k.pattern for k in KEY_CLAIMS}


def test_the_ports_key_families_are_the_guides_claims() -> None:
    """The system under test declares its own keys (balance_model.cache.FAMILIES); they are the claims, family by
    family: name, read, pattern and TTL."""
    assert [(f.name, f.query, f.pattern, f.ttl_s) for f in FAMILIES] == [
        (k.name, k.query, k.pattern, k.ttl_s) for k in KEY_CLAIMS]


@pytest.mark.parametrize("query", sorted(LATENCY_CLAIMS))
def test_latency_ranges_are_ordered_floats(query: str) -> None:
    """Every range is (low, high) floats with low <= high, and warm is never slower than cold."""
    claim = LATENCY_CLAIMS[query]
    for low, high in (claim.cold_ms, claim.warm_ms, claim.improvement_pct):
        assert isinstance(low, float) and isinstance(high, float)
        assert 0 < low <= high
    assert claim.warm_ms[1] <= claim.cold_ms[0]
    assert claim.improvement_pct[1] <= 100


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
