"""Partitioning: ``balances`` hash-partitioned by user_id (the ``hash8`` dataset) against the plain table.

The ``hash8`` dataset holds the same rows as the plain one (same scale and
seed, so the same lookup parameters), in 8 partitions with 012's indexes on
each. Timed: every read of the matrix (``balance_bench.matrix.READS``, with the same
arguments per parameter kind) and a credit, on both layouts, without the cache (``nocache``).
Expected from the plans: per-user reads prune to one partition; ``find_by_id``
(the key is ``(id, user_id)``), ``find_by_address``, ``find_by_token_id`` and
``total_balance`` visit all eight (``plans.partitions`` reads this from the
captured plans). The probe ``partition_rows`` reports how evenly the rows
spread (the whales make it uneven at small scales).

The correctness check runs every read with every parameter kind on both
layouts and requires identical answers (exact Decimals and timestamps), then
checks that writes work on the partitioned copy: a create lands in the
partition of its user, a credit moves the user's total by exactly the
credited value, a delete removes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import Engine, text

from balance_bench.bench.experiments.spec import (
    Call,
    CheckFailed,
    Experiment,
    ExperimentCase,
    Figures,
    PlanTarget,
    Probe,
    Ratio,
    Variant,
    Workspace,
    figure_key,
    times,
)
from balance_bench.coordinates import Kind, Migration
from balance_bench.fixtures.layouts import HASH8, PLAIN
from balance_bench.matrix import READS
from balance_model import queries
from balance_model.model import BalanceModel
from balance_model.partitioning import partition_name

__all__ = ["EXPERIMENT", "read_calls", "partition_of"]

_CREDIT = Decimal("0.000001")


def read_calls(params: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (read, parameter kind, arguments) of the matrix for these lookup parameters."""
    return [(query, kind, args(params)) for query, spec in READS.items() for kind, args in spec.args.items()]


def partition_of(engine: Engine, balance_id: int) -> str | None:
    """The table the row ``balance_id`` is stored in (a partition's name, or ``balances``)."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT tableoid::regclass::text FROM balances WHERE id = :i"),
                            {"i": balance_id}).scalar()


@dataclass
class PartitionState:
    """One layout's model over its copy."""

    variant: str
    url: str
    engine: Engine
    model: BalanceModel
    params: Any  # the dataset's LookupParams (equal for both layouts: same scale and seed)

    def close(self) -> None:
        self.model.close()
        self.engine.dispose()


def _prepare(workspace: Workspace) -> PartitionState:
    engine = workspace.engine(pool_size=2)
    return PartitionState(workspace.variant, workspace.url, engine, BalanceModel(engine), workspace.dataset.params)


def _cases(state: PartitionState) -> tuple[ExperimentCase, ...]:
    reads = [ExperimentCase(state.variant, query, kind, args) for query, kind, args in read_calls(state.params)]
    return (*reads, ExperimentCase(state.variant, "credit", "balance", {"id": state.params.balance_id}, Kind.WRITE))


def _call(state: PartitionState, case: ExperimentCase) -> Call:
    if case.operation == "credit":
        return Call(lambda: state.model.credit(state.params.balance_id, _CREDIT))
    args = dict(case.params)
    return Call(lambda: state.model.read(case.operation, **args))


def _check_writes(state: PartitionState) -> None:
    user_id, token_id = state.params.user_token
    before = state.model.total_balance_by_user(user_id)
    created = state.model.create(user_id, token_id, "0x" + "ab" * 20, Decimal("2.5"))
    with state.engine.connect() as conn:
        remainder = conn.execute(text("SELECT satisfies_hash_partition('balances'::regclass, :m, r, CAST(:u AS bigint))"
                                      " FROM generate_series(0, :m - 1) r ORDER BY r"),
                                 {"u": user_id, "m": HASH8.partitions}).scalars().all()
    home = partition_name(remainder.index(True))
    if (where := partition_of(state.engine, created.id)) != home:
        raise CheckFailed(f"a balance of user {user_id} was stored in {where}, not in {home}")
    credited = state.model.credit(created.id, _CREDIT)
    with localcontext() as exact:
        exact.prec = 80  # exact: the default 28 digits could round the sum
        moved = before + credited.usd_value
    if state.model.total_balance_by_user(user_id) != moved:
        raise CheckFailed("a credit on the partitioned table did not move the user's total by the credited value")
    if not state.model.delete(created.id) or state.model.find_by_id(created.id) is not None:
        raise CheckFailed("a delete on the partitioned table did not remove the balance")
    if state.model.total_balance_by_user(user_id) != before:
        raise CheckFailed("create, credit and delete did not leave the user's total as it was")


def _check(states: Mapping[str, PartitionState]) -> None:
    plain, partitioned = states[PLAIN.name], states[HASH8.name]
    for query, kind, args in read_calls(plain.params):
        a, b = plain.model.read(query, **args), partitioned.model.read(query, **args)
        if _exact(a) != _exact(b):
            raise CheckFailed(f"{query} ({kind}) differs between the plain and the partitioned table")
    _check_writes(partitioned)


def _exact(value: Any) -> Any:
    """Compare Decimals by their exact string (``==`` ignores trailing zeros) and records field by field."""
    if isinstance(value, list):
        return [_exact(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        return tuple(_exact(getattr(value, name)) for name in value.__dataclass_fields__)
    return value


def _plan(state: PartitionState, case: ExperimentCase) -> PlanTarget | None:
    if case.operation == "credit":
        return None
    return PlanTarget(state.url, queries.sql(case.operation), dict(case.params))


def _partition_rows(state: PartitionState, quick: bool) -> dict[str, float]:
    with state.engine.connect() as conn:
        counts = [int(n) for n in conn.execute(text(
            "SELECT count(*) FROM balances GROUP BY tableoid ORDER BY 1")).scalars()]
    total = sum(counts)
    return {"partitions": float(len(counts)), "largest_share": max(counts) / total if total else 0.0,
            "smallest_share": min(counts) / total if total else 0.0}


RATIOS = tuple(
    Ratio(name, f"{HASH8.name}-{case}", f"{PLAIN.name}-{case}")
    for name, case in (
        ("by_user_whale", "find_by_user_id-whale"),
        ("pair", "find_by_user_id_and_token_id-pair"),
        ("total_by_user_whale", "total_balance_by_user-whale"),
        ("by_id", "find_by_id-balance"),
        ("by_address", "find_by_address-address"),
        ("by_token", "find_by_token_id-popular"),
        ("total", "total_balance-system"),
        ("credit", "credit-balance"),
    )
)


def _conclude(figures: Figures) -> str:
    def f(name: str) -> Any:
        return figures[figure_key(Migration.WITH_012, name)]

    return (f"With 012 on each of 8 hash partitions, per-user reads take {times(f('by_user_whale'))} (whale's "
            f"balances) and {times(f('pair'))} (user and token) the plain table's time, pruned to one partition; "
            f"reads that cannot prune visit all 8: find_by_address {times(f('by_address'))}, find_by_token_id "
            f"{times(f('by_token'))}, find_by_id {times(f('by_id'))}; a credit takes {times(f('credit'))}.")


EXPERIMENT: Experiment[PartitionState] = Experiment(
    name="partitioning",
    title="Partitioning: balances hash-partitioned by user_id",
    question='"Consider partitioning for very large balance tables" (Future Optimizations)',
    variants=(
        Variant(PLAIN.name, PLAIN.description),
        Variant(HASH8.name, HASH8.description, layout=HASH8.name,
                schema="the hash8 dataset: primary key (id, user_id), 012's indexes on each partition"),
    ),
    migrations=(Migration.WITHOUT_012, Migration.WITH_012),
    prepare=_prepare,
    cases=_cases,
    call=_call,
    check=_check,
    plan=_plan,
    conclude=_conclude,
    probes=(Probe("partition_rows", "how evenly the rows spread over the partitions", _partition_rows,
                  (HASH8.name,)),),
    ratios=RATIOS,
)
