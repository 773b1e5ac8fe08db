"""The check's evidence on real servers (tiny): every case gathered once, and each of three faults built into a copy
(a 012 index dropped, a fill that skips its SET, a write that forgets an invalidation) found, naming its query."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import text

from balance_bench.bench.inspection import gather
from balance_bench.bench.world import CacheFactory, World
from balance_bench.config import Config
from balance_bench.coordinates import CacheState, Migration
from balance_bench.evidence import Evidence
from balance_bench.fixtures.databases import PREFIX, list_owned
from balance_bench.fixtures.datasets import Dataset, ensure_dataset
from balance_bench.fixtures.services import Endpoints
from balance_bench.matrix import read_cases, write_cases
from balance_bench.reports.baseline import case_counters, compare_baseline, read_baseline, write_baseline
from balance_bench.reports.findings import INDEX, INVALIDATION, TRAFFIC, WARM, Finding, find
from balance_bench.scales import get_scale
from balance_model.cache import BalanceCache
from balance_model.codec import Codec

pytestmark = pytest.mark.services
T = TypeVar("T")
TINY = "tiny"


class _FillSkipsSet(BalanceCache):
    """A cache whose misses read the database and store nothing: our compare-and-set fill, the guide's SET, skipped."""

    def _store(self, counts: list[int], key: str, fill_key: str, token: bytes, raw: bytes, ttl_ms: int) -> None:
        return None

    def _guide_fill(self, key: str, load: Callable[[], T | None], codec: Codec[T], ttl_ms: int) -> T | None:
        return load()


class _ForgetsUserToken(BalanceCache):
    """A cache whose writes invalidate every key of a balance but its user+token entry."""

    def keys_for_balance(self, id: int, user_id: int, token_id: int) -> tuple[str, ...]:
        return tuple(key for key in super().keys_for_balance(id, user_id, token_id) if ":token:" not in key)


@pytest.fixture(scope="module")
def tiny(endpoints: Endpoints, bench_config: Config) -> Dataset:
    return ensure_dataset(endpoints, get_scale(TINY), bench_config.seed)


@pytest.fixture(scope="module")
def check(endpoints: Endpoints, bench_config: Config, tiny: Dataset) -> Callable[..., Evidence]:
    """Gather a check of tiny on fresh copies made by ``cache_factory``, with ``drop_index`` dropped from the with-012
    copy first; the copies are dropped afterwards, also when gathering fails."""
    config = dataclasses.replace(bench_config, scales=(get_scale(TINY),))

    def gathered(cache_factory: CacheFactory = BalanceCache, drop_index: str | None = None) -> Evidence:
        world = World(config, endpoints, {TINY: tiny}, cache_factory=cache_factory)
        try:
            world.scale(TINY)
            if drop_index is not None:
                with world.copy(TINY, Migration.WITH_012).engine.begin() as conn:
                    conn.execute(text(f"DROP INDEX {drop_index}"))
            return gather(world, TINY)
        finally:
            world.close()
            assert not [n for n in list_owned(endpoints) if n.startswith(f"{PREFIX}run_{world.run_id}")]

    return gathered


@pytest.fixture(scope="module")
def clean(check: Callable[..., Evidence]) -> Evidence:
    return check()


@pytest.fixture(scope="module")
def clean_findings(clean: Evidence) -> set[Finding]:
    return set(find(clean))


def _new(evidence: Evidence, clean_findings: set[Finding]) -> list[Finding]:
    return [f for f in find(evidence) if f not in clean_findings]


def test_every_case_is_gathered_once_with_a_plan_exactly_where_it_reaches_postgresql(clean: Evidence) -> None:
    """The matrix's reads then writes, in its order; a plan unless warm; every warm call a hit; every write's keys
    filled by their reads and gone after it (create has no by_id key to test)."""
    assert [c.coords for c in clean.cases] == [*read_cases((TINY,)), *write_cases((TINY,))]
    assert all((c.plan is None) == (c.coords.cache is CacheState.WARM) for c in clean.cases)
    warm = [c for c in clean.cases if c.coords.cache is CacheState.WARM]
    assert warm and all(c.cache_hits == c.calls > 0 and c.cache_misses == 0 for c in warm)
    assert [w.coords for w in clean.invalidations] == list(write_cases((TINY,)))
    assert all(k.filled and not k.left for w in clean.invalidations for k in w.keys)
    assert [len(w.keys) for w in clean.invalidations] == [4, 5, 5, 5] * 2
    assert clean.dataset["scale"] == TINY and clean.servers["postgres"] == clean.settings["server_version"]


def test_a_clean_check_finds_nothing_but_the_data_contradicting_a_getbyuser_claim(
        clean_findings: set[Finding]) -> None:
    """Traffic as designed, warm reads never reaching PostgreSQL, every key invalidated, no large Seq Scan; the one
    finding a clean tiny dataset may have is real: for the typical user (a handful of rows) the planner prefers
    idx_balances_user_usd to the idx_balances_user_created the guide claims for getByUser (PostgreSQL 15 and 18)."""
    assert all(f.assertion == INDEX and f.coords.query == "get_by_user" for f in clean_findings), clean_findings


def test_a_dropped_012_index_is_an_index_finding_naming_its_query(check: Callable[..., Evidence],
                                                                  clean_findings: set[Finding]) -> None:
    """idx_balances_user_token dropped from the with-012 copy: find_by_user_id_and_token_id's plan uses another."""
    new = _new(check(drop_index="idx_balances_user_token"), clean_findings)
    assert [(f.assertion, f.coords.query, f.coords.migration) for f in new] == [
        (INDEX, "find_by_user_id_and_token_id", Migration.WITH_012)]
    assert new[0].message.endswith("the guide claims idx_balances_user_token (Index-Aware Queries)")


def test_a_fill_that_skips_its_set_is_a_traffic_and_a_warm_finding_naming_each_cached_read(
        check: Callable[..., Evidence], clean_findings: set[Finding]) -> None:
    """With no SET, a cold miss is one command short, and a warm read is a miss that reaches PostgreSQL."""
    new = _new(check(cache_factory=_FillSkipsSet), clean_findings)
    by_id = [f for f in new if f.coords.query == "find_by_id" and f.coords.migration is Migration.WITH_012]
    assert [(f.assertion, f.coords.cache) for f in by_id] == [
        (TRAFFIC, CacheState.COLD), (TRAFFIC, CacheState.GUIDE_COLD), (TRAFFIC, CacheState.WARM),
        (WARM, CacheState.WARM)]
    assert by_id[0].message.startswith("Redis commands 2 per call, the design says 3")
    assert by_id[3].message == "1 PostgreSQL round trip per call; 0 of 5 calls were cache hits"
    cached = {"find_by_id", "find_by_user_id", "find_by_user_id_and_token_id", "total_balance_by_user",
              "total_balance"}
    assert {f.coords.query for f in new if f.assertion == WARM} == cached


def test_a_write_that_forgets_an_invalidation_is_a_finding_naming_the_write_and_the_read(
        check: Callable[..., Evidence], clean_findings: set[Finding]) -> None:
    """Every write leaves the user+token key behind: one finding per write, naming find_by_user_id_and_token_id."""
    new = _new(check(cache_factory=_ForgetsUserToken), clean_findings)
    assert [(f.assertion, f.coords) for f in new] == [(INVALIDATION, c) for c in write_cases((TINY,))]
    assert all(f.message == "balance:user:{user_id}:token:{token_id} (find_by_user_id_and_token_id) still in Redis "
                            f"after the {f.coords.query}" for f in new)


def test_two_checks_of_one_commit_agree_through_a_baseline_file(check: Callable[..., Evidence], clean: Evidence,
                                                               clean_findings: set[Finding], tmp_path: Path) -> None:
    """A baseline written from one check and read back: a second check on fresh copies differs in nothing."""
    counters = case_counters(clean)
    baseline = read_baseline(write_baseline(tmp_path / "baseline.json", clean, tuple(clean_findings), counters, 1000))
    again = check()
    comparison = compare_baseline(baseline, again, find(again), case_counters(again), 1000)
    assert (comparison.differences, comparison.new_findings, comparison.notes) == ((), (), ())
    assert set(comparison.known_findings) == clean_findings
