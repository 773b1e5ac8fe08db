"""The correctness checks can fail: money that does not add up, and a read older than a finished invalidation."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal

import numpy as np
import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from balance_bench.bench.load.capture import Ledger, version_us
from balance_bench.bench.load.correctness import FAILED, INCONCLUSIVE, PASSED, conservation, staleness
from balance_model.cache import BalanceCache
from balance_model.model import BalanceModel
from tests.balance_model.conftest import seed_users_and_tokens


def test_conservation_passes_when_every_committed_write_is_accounted_for() -> None:
    """before + credits - debits == after, exactly, with all 18 decimal places."""
    ledger = Ledger(credits=Decimal("1.000000000000000001"), debits=Decimal("0.5"), credit_n=2, debit_n=1)
    outcome = conservation(Decimal("100"), Decimal("100.500000000000000001"), ledger)
    assert outcome.status == PASSED and outcome.difference == 0


def test_conservation_fails_on_one_unrecorded_wei() -> None:
    """A single 1e-18 that no recorded write explains fails the check (Decimal, never float)."""
    ledger = Ledger(credits=Decimal("1"), debits=Decimal("0"), credit_n=1)
    outcome = conservation(Decimal("100"), Decimal("101.000000000000000001"), ledger)
    assert outcome.status == FAILED
    assert outcome.difference == Decimal("1E-18")


def test_conservation_with_unknown_outcomes_is_inconclusive_not_passed() -> None:
    """Sums that match while a write's outcome is unknown cannot pass; sums that differ still fail."""
    ledger = Ledger(credits=Decimal("1"), credit_n=1, ambiguous_n=1)
    assert conservation(Decimal("0"), Decimal("1"), ledger).status == INCONCLUSIVE
    assert conservation(Decimal("0"), Decimal("2"), ledger).status == FAILED


def log(rows: list[tuple[int, int, float]]) -> dict[str, np.ndarray]:
    ids, versions, times = zip(*rows, strict=True) if rows else ((), (), ())
    return {"id": np.array(ids, dtype=np.int64), "version": np.array(versions, dtype=np.int64),
            "t": np.array(times, dtype=np.float64)}


def test_a_read_older_than_a_finished_write_is_stale() -> None:
    """Balance 1 written to version 20 at t=10; a read starting at t=11 that returns version 10 is a violation."""
    writes = log([(1, 20, 10.0)])
    outcome = staleness(log([(1, 10, 11.0)]), writes)
    assert outcome.violations == 1 and outcome.status == FAILED
    assert outcome.examples == [{"id": 1, "read_version_us": 10, "newest_before_us": 20, "read_started": 11.0}]


def test_reads_that_overlap_or_precede_the_write_or_see_a_newer_version_are_fine() -> None:
    """Old values before the invalidation finished, at the same instant, of another balance, or newer: no violation."""
    writes = log([(1, 20, 10.0), (2, 50, 1.0)])
    reads = log([(1, 10, 9.0), (1, 10, 10.0), (1, 20, 11.0), (1, 30, 12.0), (3, 1, 50.0), (2, 50, 2.0)])
    outcome = staleness(reads, writes)
    assert outcome.violations == 0 and outcome.status == PASSED
    assert outcome.checked == 3  # (1, t=11), (1, t=12) and (2, t=2); t=10 is not strictly after the write
    assert outcome.reads == 6 and outcome.writes == 2


def brute_force(reads: list[tuple[int, int, float]], writes: list[tuple[int, int, float]]) -> int:
    stale = 0
    for rid, version, t in reads:
        before = [v for wid, v, wt in writes if wid == rid and wt < t]
        stale += bool(before) and version < max(before)
    return stale


events = st.lists(st.tuples(st.integers(1, 4), st.integers(0, 30), st.integers(0, 40).map(float)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(reads=events, writes=events)
def test_staleness_matches_a_brute_force_oracle(reads: list[tuple[int, int, float]],
                                                writes: list[tuple[int, int, float]]) -> None:
    """For any logs, the violations counted equal a nested-loop count of reads older than an earlier write."""
    assert staleness(log(reads), log(writes)).violations == brute_force(reads, writes)


def test_many_balances_and_times_interleave_correctly() -> None:
    """A grid of balances and times: only the planted stale reads are found."""
    writes = [(b, 100 * t, float(t)) for b, t in itertools.product(range(1, 6), range(1, 10))]
    reads = [(b, 100 * (t - 1), t + 0.5) for b, t in itertools.product(range(1, 6), range(1, 10))]
    reads[7] = (reads[7][0], 0, reads[7][2] + 3)  # an old version read well after newer writes
    outcome = staleness(log(reads), log(writes))
    assert outcome.violations == brute_force(reads, writes) >= 1


@pytest.mark.services
def test_the_check_catches_a_real_stale_read(schema_db: Engine, redis_client: redis.Redis, key_prefix: str) -> None:
    """On real servers: a write that skips invalidation leaves a cached old version, and the check flags the read
    that follows; the model's own write (which invalidates) leaves the same sequence clean."""
    seed_users_and_tokens(schema_db)
    cached = BalanceModel(schema_db, BalanceCache(redis_client, key_prefix))
    careless = BalanceModel(schema_db)  # writes without touching the cache: its invalidation is "lost"
    balance = cached.create(1, 1, "0xabc", Decimal("10"))
    reads: list[tuple[int, int, float]] = []
    writes: list[tuple[int, int, float]] = []

    def read() -> None:
        started = time.time()
        found = cached.find_by_id(balance.id)
        assert found is not None
        reads.append((found.id, version_us(found), started))

    def write(model: BalanceModel) -> None:
        written = model.credit(balance.id, Decimal("1"))
        writes.append((written.id, version_us(written), time.time()))
        time.sleep(0.002)

    read()  # fills the cache
    write(careless)
    read()  # a hit on the old value
    assert staleness(log(reads), log(writes)).violations == 1
    reads.clear()
    writes.clear()
    cached.cache.invalidate(cached.cache.keys_for_balance(balance.id, 1, 1))  # type: ignore[union-attr]
    read()
    write(cached)
    read()
    assert staleness(log(reads), log(writes)).violations == 0 and len(reads) == 2
    cached.close()
    careless.close()
