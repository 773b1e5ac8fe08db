"""Partitioning: every read answers as on the plain table, writes work, and plans prune only for per-user reads."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from balance_bench.bench.experiments.partitioning import EXPERIMENT, read_calls
from balance_bench.bench.experiments.spec import CheckFailed, Estimate, exercise
from balance_bench.fixtures.layouts import HASH8
from balance_bench.plans.partitions import partition_access

from .conftest import Spaces, explain_target, parsed

PRUNED = {"find_by_user_id", "find_by_user_id_and_token_id", "get_by_user", "total_balance_by_user"}
EVERY_PARTITION = {"find_by_id", "find_by_address", "find_by_token_id", "total_balance"}


@pytest.mark.services
@pytest.mark.parametrize("migration", EXPERIMENT.migrations)
def test_partitioned_reads_equal_plain_reads_and_prune_only_by_user(spaces: Spaces, migration: str) -> None:
    """The check compares every read of the matrix; per-user plans visit one partition, the others all eight."""
    with spaces(EXPERIMENT, migration) as made:
        outcome = exercise(EXPERIMENT, made, explain=explain_target)  # the check runs first
        params = made["hash8"].dataset.params
    reads = read_calls(params)
    assert {query for query, _, _ in reads} == PRUNED | EVERY_PARTITION
    for query, kind, _ in reads:
        access = partition_access(parsed(outcome.plans[f"hash8-{query}-{kind}"]), HASH8.partitions)
        if query in PRUNED:
            assert access.pruned and len(access.visited) == 1, (query, kind, access)
        else:
            assert access.visited == tuple(f"balances_p{i}" for i in range(8)), (query, kind, access)
        assert not partition_access(parsed(outcome.plans[f"plain-{query}-{kind}"]), HASH8.partitions).visited
    assert outcome.probes["hash8.partition_rows"]["partitions"] == 8


@pytest.mark.services
def test_a_partitioned_copy_that_differs_fails_the_check(spaces: Spaces) -> None:
    """One balance changed in the partitioned copy only is caught by the read comparison."""
    with spaces(EXPERIMENT, "with_012") as made:
        states = {name: EXPERIMENT.prepare(space) for name, space in made.items()}
        try:
            hash8 = states["hash8"]
            with hash8.engine.begin() as conn:
                conn.execute(text("UPDATE balances SET amount = amount + 1 WHERE id = :i"),
                             {"i": hash8.params.balance_id})
            with pytest.raises(CheckFailed, match=r"find_by_id \(balance\) differs"):
                EXPERIMENT.check(states)
        finally:
            for state in states.values():
                state.close()


def test_the_conclusion_names_pruned_and_unpruned_reads() -> None:
    """Per-user ratios and the all-partition ratios appear in the sentence."""
    names = ("by_user_whale", "pair", "by_address", "by_token", "by_id", "credit")
    figures = {f"with_012.{n}": Estimate(1.0 + i / 10) for i, n in enumerate(names)}
    sentence = EXPERIMENT.conclude(figures)
    assert "1.00x (whale's balances)" in sentence and "find_by_address 1.20x" in sentence
