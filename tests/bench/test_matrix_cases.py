"""The matrix as data: every coordinate present once, cache states only where the guide caches."""

from __future__ import annotations

from collections import Counter

from balance_bench.bench.matrix import (
    READ_CACHE_STATES,
    READS,
    WRITES,
    read_cases,
    reference_cases,
    write_cases,
)
from balance_bench.coordinates import Migration


def test_every_read_appears_in_every_migration_and_scale() -> None:
    """Each read of the model runs without and with 012 at each requested scale."""
    cases = list(read_cases(("tiny", "small")))
    seen = {(c.query, c.migration, c.scale) for c in cases}
    assert seen == {(q, m, s) for q in READS for m in Migration for s in ("tiny", "small")}


def test_case_ids_are_unique() -> None:
    """No two cases share an id (ids name plan files and pytest parameters)."""
    ids = [c.id for c in (*read_cases(("tiny",)), *write_cases(("tiny",)), *reference_cases(("tiny",)))]
    assert len(ids) == len(set(ids))


def test_cached_reads_get_all_cache_states_and_uncached_only_nocache() -> None:
    """Reads with a guide cache key run cold, warm and nocache; the others only nocache."""
    states = Counter((c.query, c.cache) for c in read_cases(("tiny",)) if c.projection == "optimized"
                     and c.migration == "with_012")
    for query, spec in READS.items():
        expected = READ_CACHE_STATES if spec.cached else ("nocache",)
        assert {cache for (q, cache) in states if q == query} == set(expected)


def test_legacy_projection_only_where_the_guide_shows_it() -> None:
    """The legacy `balances.*` projection is compared for find_by_id and find_by_user_id only."""
    legacy = {c.query for c in read_cases(("tiny",)) if c.projection == "legacy"}
    assert legacy == {"find_by_id", "find_by_user_id"}


def test_whale_and_typical_users_both_for_per_user_reads() -> None:
    """Per-user reads are asked for a typical user and a whale."""
    for query in ("find_by_user_id", "get_by_user", "total_balance_by_user"):
        assert set(READS[query].args) == {"typical", "whale"}


def test_writes_cover_create_credit_debit_delete_per_migration() -> None:
    """All four writes run without and with migration 012."""
    assert {(c.query, c.migration) for c in write_cases(("tiny",))} == {
        (w, m) for w in WRITES for m in Migration
    }
