"""The structural assertions on synthetic evidence: nothing when every claim holds, and one named finding for each
claim broken on purpose, on both sides of every bound (no servers; the real faults are in
tests/bench/test_inspection.py).
"""

from __future__ import annotations

import pytest

from balance_bench.coordinates import LEGACY, CacheState, Coordinates, Migration
from balance_bench.errors import BenchError
from balance_bench.evidence import KeyEvidence
from balance_bench.reports.findings import (
    INDEX,
    INVALIDATION,
    MAX_SEQ_SCAN_ROWS,
    SEQ_SCAN,
    TRAFFIC,
    WARM,
    DesignTraffic,
    Finding,
    design_traffic,
    find,
)
from tests.reports.check_evidence import PER_CALL, changed, clean_evidence, node, plan, read, traffic, write

ADDRESS = read("find_by_address")
"""A claimed read (idx_balances_address) on its database path with 012."""


def test_a_check_where_every_claim_holds_finds_nothing() -> None:
    """The synthetic clean check: no finding of any kind."""
    assert find(clean_evidence()) == []


@pytest.mark.parametrize(("state", "expected"), [
    (CacheState.NOCACHE, (1, 0, 0)), (CacheState.COLD, (1, 3, 3)), (CacheState.GUIDE_COLD, (1, 2, 2)),
    (CacheState.WARM, (0, 1, 1)), (CacheState.INVALIDATE, (1, 1, 1))])
def test_the_design_per_call_is_the_documented_one(state: CacheState, expected: tuple[int, int, int]) -> None:
    """cache.py's design: a cold read is GET, token script, fill; the guide's GET and SET; a hit one GET; a write
    one DEL; each database call one round trip."""
    case = write("credit") if state is CacheState.INVALIDATE else read("find_by_id", state)
    design = design_traffic(case)
    assert (design.pg_round_trips, design.redis_commands, design.redis_round_trips) == expected


def test_a_read_the_guide_does_not_cache_is_its_statement_alone_in_any_state() -> None:
    """get_by_user is not cached: even a cold state would cost one round trip and nothing in Redis."""
    assert design_traffic(read("get_by_user").with_(cache=CacheState.COLD)) == DesignTraffic(1, 0, 0,
                                                                                           "the statement alone")


def test_a_claimed_read_on_another_index_is_an_index_finding_naming_both_indexes() -> None:
    """find_by_address on the primary key instead of idx_balances_address; with no index at all it says so."""
    other = changed(clean_evidence(), ADDRESS, plan=plan(node("Index Scan", index="balances_pkey")))
    assert find(other) == [Finding(INDEX, ADDRESS, "its plan uses balances_pkey; the guide claims idx_balances_address "
                                                   "(Migration 012: index for address lookups)")]
    bare = changed(clean_evidence(), ADDRESS, plan=plan(node("Seq Scan", rows=2, removed=10)))
    assert [f.message.split(";")[0] for f in find(bare)] == ["its plan uses no index"]
    two = plan(node("BitmapAnd", relation=None, children=(node("Bitmap Index Scan", index="idx_balances_user_usd"),
                                                          node("Bitmap Index Scan", index="balances_pkey"))))
    assert [f.message.split(";")[0] for f in find(changed(clean_evidence(), ADDRESS, plan=two))] == [
        "its plan uses balances_pkey, idx_balances_user_usd"]


@pytest.mark.parametrize("coords", [read("find_by_address", migration=Migration.WITHOUT_012),
                                    read("find_by_address", projection=LEGACY),
                                    read("find_by_user_id_and_token_id", CacheState.COLD),
                                    read("find_by_id")],
                         ids=["without-012", "legacy-projection", "cold-state", "unclaimed-read"])
def test_index_and_seq_scan_claims_are_judged_on_the_claimed_with_012_path_only(coords: Coordinates) -> None:
    """Without 012, another projection, a cache state (it shares the nocache plan) or an unclaimed read: no finding,
    however bad its plan."""
    bad = plan(node("Seq Scan", rows=1, removed=100_000))
    assert find(changed(clean_evidence(), coords, plan=bad), MAX_SEQ_SCAN_ROWS) == []


@pytest.mark.parametrize(("rows", "removed", "bound", "flagged"), [
    (1, 999, 1_000, False), (1, 1_000, 1_000, True), (1, 1_000, 1_001, False), (1, 0, 0, True),
    (0, 1_000, 1_000, False), (1_001, None, 1_000, True)])
def test_a_seq_scan_on_a_claimed_path_is_a_finding_only_beyond_its_bound(rows: int, removed: int | None, bound: int,
                                                                         flagged: bool) -> None:
    """Rows read = returned + filtered out (none printed: none filtered); exactly the bound is allowed, one more is
    not."""
    scan = node("Seq Scan", relation="users", rows=rows, removed=removed)
    nested = plan(node("Nested Loop", relation=None, children=(node("Index Scan", index="idx_balances_address"),
                                                               scan)))
    found = find(changed(clean_evidence(), ADDRESS, plan=nested), bound)
    read = rows + (removed or 0)
    expected = [Finding(SEQ_SCAN, ADDRESS, f"Seq Scan on users read {read:,} rows, more than {bound:,}")]
    assert found == (expected if flagged else [])


@pytest.mark.parametrize("state", [CacheState.NOCACHE, CacheState.COLD, CacheState.GUIDE_COLD, CacheState.WARM])
@pytest.mark.parametrize("counter", ["pg", "commands", "trips"])
def test_one_round_trip_or_command_off_the_design_is_a_traffic_finding(state: CacheState, counter: str) -> None:
    """Each of the three figures one more than the design, in each read state: one finding naming the figure, except
    a warm read's PostgreSQL round trip, which is the warm assertion's."""
    coords = read("find_by_id", state)
    pg, commands, trips = PER_CALL[state]
    seen = {"pg": (pg + 1, commands, trips), "commands": (pg, commands + 1, trips), "trips": (pg, commands, trips + 1)}
    found = find(changed(clean_evidence(), coords, traffic=traffic(*seen[counter])))
    words = {"pg": "PostgreSQL round trips", "commands": "Redis commands", "trips": "Redis round trips"}[counter]
    if state is CacheState.WARM and counter == "pg":
        assert [f.assertion for f in found] == [WARM]
        return
    design = PER_CALL[state][["pg", "commands", "trips"].index(counter)]
    assert [(f.assertion, f.coords) for f in found] == [(TRAFFIC, coords)]
    assert found[0].message.startswith(f"{words} {design + 1} per call, the design says {design} ({state}: ")


def test_a_write_with_a_second_del_is_a_traffic_finding() -> None:
    """A write whose invalidation takes two commands in two round trips: both figures named."""
    credit = write("credit")
    found = find(changed(clean_evidence(), credit, traffic=traffic(1, 2, 2)))
    assert [f.message.split(" (")[0] for f in found] == [
        "Redis commands 2 per call, the design says 1; Redis round trips 2 per call, the design says 1"]


@pytest.mark.parametrize(("pg", "hits", "misses", "message"), [
    (1.0, 0, 5, "1 PostgreSQL round trip per call; 0 of 5 calls were cache hits"),
    (0.4, 3, 2, "0.40 PostgreSQL round trips per call; 3 of 5 calls were cache hits"),
    (0.0, 4, 0, "0 PostgreSQL round trips per call; 4 of 5 calls were cache hits"),
    (0.0, 5, 1, "0 PostgreSQL round trips per call; 5 of 5 calls were cache hits"),
])
def test_a_warm_read_that_reaches_postgresql_or_misses_is_a_warm_finding(pg: float, hits: int, misses: int,
                                                                         message: str) -> None:
    """Any PostgreSQL round trip, a call the cache did not count a hit, or a miss: one warm finding."""
    warm = read("total_balance", CacheState.WARM)
    found = find(changed(clean_evidence(), warm, traffic=traffic(pg, 1, 1), cache_hits=hits, cache_misses=misses))
    assert found == [Finding(WARM, warm, message)]


def test_a_key_left_after_a_write_is_one_invalidation_finding_naming_the_write_and_the_read() -> None:
    """The debit left the user+token key: the finding names the key's pattern, its read and the write."""
    debit = write("debit", Migration.WITHOUT_012)
    keys = tuple(KeyEvidence(k.family, True, k.family in ("by_user_token", "total")) for k in
                 next(w for w in clean_evidence().invalidations if w.coords == debit).keys)
    assert find(changed(clean_evidence(), debit, keys=keys)) == [Finding(
        INVALIDATION, debit, "balance:user:{user_id}:token:{token_id} (find_by_user_id_and_token_id), balance:total "
                             "(total_balance) still in Redis after the debit")]


def test_keys_no_read_filled_are_one_finding_saying_the_invalidation_was_not_tested() -> None:
    """A key its read never filled proves nothing about the write: said once per write, never counted as gone."""
    create = write("create")
    keys = tuple(KeyEvidence(k.family, k.family != "total", k.family == "total") for k in
                 next(w for w in clean_evidence().invalidations if w.coords == create).keys)
    assert find(changed(clean_evidence(), create, keys=keys)) == [Finding(
        INVALIDATION, create, "not filled by a read: balance:total (total_balance), so the create's invalidation of it "
                              "could not be tested")]
    two = tuple(KeyEvidence(k.family, k.family not in ("total", "by_user"), False) for k in keys)
    assert [f.message for f in find(changed(clean_evidence(), create, keys=two))] == [
        "not filled by a read: balance:user:{user_id} (find_by_user_id), balance:total (total_balance), so the "
        "create's invalidation of them could not be tested"]


def test_a_plan_that_is_not_one_is_an_error_naming_its_case() -> None:
    """A case's plan that is not EXPLAIN output: one BenchError that names the case."""
    with pytest.raises(BenchError, match=f"^{ADDRESS.id}: "):
        find(changed(clean_evidence(), ADDRESS, plan={"not": "a plan"}))


def test_a_finding_line_names_the_assertion_and_the_case() -> None:
    """The line every output shows: assertion, case label, message."""
    finding = Finding(INDEX, ADDRESS, "its plan uses no index")
    assert finding.line == ("index: tiny find_by_address [nocache, with_012, optimized, address]: "
                            "its plan uses no index")
