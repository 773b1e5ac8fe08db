"""The matrix as data: every coordinate present once, cache states only where the guide caches."""

from __future__ import annotations

from collections import Counter

from balance_bench.coordinates import Migration
from balance_bench.matrix import (
    READ_CACHE_STATES,
    READS,
    REDUCED_SHARE,
    WRITES,
    all_cases,
    budget_share,
    read_cases,
    reference_cases,
    write_cases,
)


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


def test_every_row_read_the_guide_rewrites_runs_in_every_projection_without_the_cache() -> None:
    """The rewrite applies to every read returning rows: each runs legacy and explicit_joined too, the sums do not."""
    cases = list(read_cases(("tiny",)))
    row_reads = {"find_by_id", "find_by_user_id", "find_by_user_id_and_token_id", "get_by_user", "find_by_address",
                 "find_by_token_id"}
    for projection in ("legacy", "explicit_joined"):
        assert {c.query for c in cases if c.projection == projection} == row_reads
        assert {c.cache for c in cases if c.projection == projection} == {"nocache"}
    by_point = Counter((c.query, c.param_kind, c.migration) for c in cases if c.cache == "nocache")
    for (query, _, _), count in by_point.items():
        assert count == (3 if query in row_reads else 1), query


def test_the_guides_cache_design_runs_cold_beside_ours_for_every_cached_read() -> None:
    """guide_cold is a cold twin: every cached read and parameter kind has it next to cold, never for uncached."""
    cases = list(read_cases(("tiny",)))
    cold = {(c.query, c.param_kind, c.migration) for c in cases if c.cache == "cold"}
    guide = {(c.query, c.param_kind, c.migration) for c in cases if c.cache == "guide_cold"}
    assert guide == cold and {q for q, _, _ in guide} == {q for q, spec in READS.items() if spec.cached}


def test_whale_and_typical_users_both_for_per_user_reads() -> None:
    """Per-user reads are asked for a typical user and a whale."""
    for query in ("find_by_user_id", "get_by_user", "total_balance_by_user"):
        assert set(READS[query].args) == {"typical", "whale"}


def test_writes_cover_create_credit_debit_delete_per_migration() -> None:
    """All four writes run without and with migration 012."""
    assert {(c.query, c.migration) for c in write_cases(("tiny",))} == {
        (w, m) for w in WRITES for m in Migration
    }


def test_only_the_optimized_reads_get_the_whole_budget() -> None:
    """Every cache state and migration of an optimized read gets it whole; writes, the other projections and the
    references half: by hand, 2 migrations x (7 cached questions x 4 states + 4 uncached) = 64 of a scale's 108
    cases run at full share; 8 writes, 4 references and 2 x 8 row questions x 2 other projections at half."""
    shares = Counter((case.kind.value, case.projection, budget_share(case)) for case in all_cases(("tiny",)))
    assert REDUCED_SHARE == 0.5
    assert {key[2] for key in shares if key[:2] == ("read", "optimized")} == {1.0}
    assert {key[2] for key in shares if key[:2] != ("read", "optimized")} == {0.5}
    assert sum(n for key, n in shares.items() if key[2] == 1.0) == 64
    assert sum(n for key, n in shares.items() if key[2] == 0.5) == 8 + 4 + 32
