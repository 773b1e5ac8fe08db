"""The anti-pattern: ``where("auto_convert_threshold", value)`` unindexed, and the partial index a reviewer proposes.

The guide warns against filtering on a column no index covers and shows this
very filter. It is the model's ``find_by_auto_convert_threshold`` read (the
guide's shape: no ORDER BY), asked for the most common threshold value (the
worst case an index has to beat). Variants, each on its own copy with 012:

* ``no_index``: the guide's schema. The plan is a Seq Scan whose filter throws
  away nearly every row (the ``slow-seq-scan`` finding);
* ``partial_index``: ``PARTIAL_INDEX``, an index on ``auto_convert_threshold``
  restricted to ``IS NOT NULL`` rows (92% of the column is NULL, so it indexes
  8% of the table; an equality on a strict operator implies IS NOT NULL, so
  the planner may use it for any value). Its price: its size (``index_size``).

The check requires both variants to return the same rows as an oracle that
filters the non-NULL thresholds in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

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
from balance_bench.coordinates import Migration
from balance_model import queries
from balance_model.model import BalanceModel

__all__ = ["EXPERIMENT", "PARTIAL_INDEX", "INDEX_NAME", "common_threshold"]

INDEX_NAME = "idx_balances_auto_convert_threshold"
PARTIAL_INDEX = (f"CREATE INDEX {INDEX_NAME} ON balances (auto_convert_threshold)"
                 " WHERE auto_convert_threshold IS NOT NULL")
"""The reviewer's remedy, variant DDL for a private copy (not a migration of the guide's)."""


def common_threshold(engine: Engine) -> Decimal:
    """The most common non-NULL threshold (lowest on ties): the lookup an index has the hardest time with."""
    with engine.connect() as conn:
        value = conn.execute(text(
            "SELECT auto_convert_threshold FROM balances WHERE auto_convert_threshold IS NOT NULL"
            " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")).scalar()
    if value is None:
        raise CheckFailed("the dataset has no auto_convert_threshold at all")
    return Decimal(value)


@dataclass
class AntipatternState:
    """One variant's model over its copy and the threshold it asks for."""

    variant: str
    url: str
    engine: Engine
    model: BalanceModel
    threshold: Decimal

    def close(self) -> None:
        self.model.close()
        self.engine.dispose()


def _prepare(workspace: Workspace) -> AntipatternState:
    engine = workspace.engine(pool_size=2)
    if workspace.variant == "partial_index":
        with engine.begin() as conn:
            conn.execute(text(PARTIAL_INDEX))
            conn.execute(text("ANALYZE balances"))
    return AntipatternState(workspace.variant, workspace.url, engine, BalanceModel(engine), common_threshold(engine))


def _cases(state: AntipatternState) -> tuple[ExperimentCase, ...]:
    return (ExperimentCase(state.variant, "find_by_auto_convert_threshold", "common",
                           {"auto_convert_threshold": state.threshold}),)


def _call(state: AntipatternState, case: ExperimentCase) -> Call:
    return Call(lambda: state.model.find_by_auto_convert_threshold(state.threshold))


def _oracle(engine: Engine, value: Decimal) -> list[int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, auto_convert_threshold FROM balances"
                                 " WHERE auto_convert_threshold IS NOT NULL")).all()
    return sorted(row_id for row_id, threshold in rows if threshold == value)


def _check(states: Mapping[str, AntipatternState]) -> None:
    for variant, state in states.items():
        expected = _oracle(state.engine, state.threshold)
        got = sorted(b.id for b in state.model.find_by_auto_convert_threshold(state.threshold))
        if not expected or got != expected:
            raise CheckFailed(f"{variant}: threshold {state.threshold} matched {len(got)} rows, the oracle "
                              f"{len(expected)}")


def _plan(state: AntipatternState, case: ExperimentCase) -> PlanTarget:
    return PlanTarget(state.url, queries.sql("find_by_auto_convert_threshold"), dict(case.params))


def _index_size(state: AntipatternState, quick: bool) -> dict[str, float]:
    with state.engine.connect() as conn:
        size = conn.execute(text("SELECT pg_relation_size(to_regclass(:i))"), {"i": INDEX_NAME}).scalar()
        table = conn.execute(text("SELECT pg_relation_size('balances')")).scalar_one()
    return {"index_bytes": float(size or 0), "table_bytes": float(table)}


def _conclude(figures: Figures) -> str:
    ratio = figures[figure_key(Migration.WITH_012, "partial_vs_no_index")]
    size = figures[figure_key(Migration.WITH_012, "partial_index.index_size.index_bytes")].value
    verdict = {True: "slower", False: "faster", None: "no clearly different"}[ratio.above(1.0)]
    return (f"The guide's where(auto_convert_threshold) scans the whole table; the partial index on the 8% non-NULL "
            f"thresholds ({size / 1024:,.0f} kB) makes it {verdict}: {times(ratio)} the unindexed time.")


EXPERIMENT: Experiment[AntipatternState] = Experiment(
    name="antipattern",
    title="The anti-pattern: a filter on auto_convert_threshold, and a partial index",
    question='"Avoid: Queries without indexed columns: db("balances").where("auto_convert_threshold", value)"',
    variants=(
        Variant("no_index", "the guide's schema: no index covers auto_convert_threshold"),
        Variant("partial_index", "the reviewer's partial index on the non-NULL thresholds", schema=PARTIAL_INDEX),
    ),
    migrations=(Migration.WITH_012,),
    prepare=_prepare,
    cases=_cases,
    call=_call,
    check=_check,
    plan=_plan,
    conclude=_conclude,
    probes=(Probe("index_size", "bytes of the partial index and of the table", _index_size, ("partial_index",)),),
    ratios=(Ratio("partial_vs_no_index", "partial_index-find_by_auto_convert_threshold-common",
                  "no_index-find_by_auto_convert_threshold-common"),),
)
