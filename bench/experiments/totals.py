"""Materialized totals: the totals from a materialized view or a write-kept summary table, against SUM and the cache.

Variants (each on its own copy, with 012): ``sum`` (the guide's SUM over
``balances``, the baseline), ``cache`` (the guide's cached totals, warm: what
the cache already buys), ``matview`` (``balance_model.totals`` MATVIEW, refreshed
concurrently) and ``summary`` (SUMMARY tables kept in each write's transaction).

Timed: the reads (typical user, whale, system total) of every variant; a credit
of ``sum`` and of ``summary`` (the summary's price per write); a refresh of
``matview`` (its price per refresh). Probes: ``staleness`` credits a balance and
measures how long until the variant's total is right again (the matview with a
refresher every ``REFRESH_EVERY_S``; summary and cache must be right at once),
and ``stale_before_refresh`` shows the matview wrong after a credit and right
after ``refresh()``.

The oracle is Python's sum of the ``usd_value`` column fetched row by row; the
check refreshes the matview first (materialized totals equal SUM after a
refresh, and only then).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

import psycopg
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
    interval,
    times,
)
from balance_bench.coordinates import CacheState, Kind, Migration
from balance_bench.fixtures.services import connect_postgres, psycopg_dsn
from balance_model import queries, totals
from balance_model.cache import BalanceCache
from balance_model.model import BalanceModel
from balance_model.totals import TotalsSource

__all__ = ["EXPERIMENT", "REFRESH_EVERY_S", "oracle_total", "measure_staleness", "refresh_seconds"]

REFRESH_EVERY_S = 1.0
"""How often the staleness probe's refresher refreshes the matview (a cron job's interval, scaled down)."""
_SOURCES = {"sum": TotalsSource.SUM, "cache": TotalsSource.SUM, "matview": TotalsSource.MATVIEW,
            "summary": TotalsSource.SUMMARY}
_CREDIT = Decimal("0.000001")
EXACT_DIGITS = 80
"""Decimal precision of the oracle's sum: more digits than any sum of NUMERIC(38, 18) values can have."""


def oracle_total(engine: Engine, user_id: int | None) -> Decimal:
    """The total computed in Python from the fetched ``usd_value``s (all balances when ``user_id`` is None).

    Exact: Decimal's default 28 digits would round a system total of 12 integer and 18 decimal digits.
    """
    sql = "SELECT usd_value FROM balances" + ("" if user_id is None else " WHERE user_id = :u")
    with engine.connect() as conn, localcontext() as exact:
        exact.prec = EXACT_DIGITS
        return sum((row[0] for row in conn.execute(text(sql), {"u": user_id})), Decimal(0))


@dataclass
class TotalsState:
    """One variant's model (and for matview a refresh connection) over its copy."""

    variant: str
    url: str
    engine: Engine
    model: BalanceModel
    typical: int
    whale: int
    balance_id: int  # what the credits change (the typical user's first balance)

    def refresh(self) -> None:
        with connect_postgres(self.url) as conn:
            totals.refresh(conn)

    def read(self, query: str, user_id: int | None) -> Decimal:
        if query == "total_balance":
            return self.model.total_balance()
        assert user_id is not None
        return self.model.total_balance_by_user(user_id)

    def close(self) -> None:
        self.model.close()
        self.engine.dispose()


def _prepare(workspace: Workspace) -> TotalsState:
    source = _SOURCES[workspace.variant]
    if source is not TotalsSource.SUM:
        with psycopg.connect(psycopg_dsn(workspace.url), autocommit=True) as conn:
            totals.install(conn, source)
    engine = workspace.engine(pool_size=2)
    cache = BalanceCache(workspace.redis, workspace.key_prefix) if workspace.variant == "cache" else None
    params = workspace.dataset.params
    model = BalanceModel(engine, cache, totals=source)
    with engine.connect() as conn:
        balance_id = conn.execute(text("SELECT min(id) FROM balances WHERE user_id = :u"),
                                  {"u": params.typical_user_id}).scalar_one()
    return TotalsState(workspace.variant, workspace.url, engine, model, params.typical_user_id,
                       params.whale_user_id, int(balance_id))


_READ_KINDS = (("total_balance_by_user", "typical"), ("total_balance_by_user", "whale"), ("total_balance", "system"))


def _user(state: TotalsState, kind: str) -> int | None:
    return {"typical": state.typical, "whale": state.whale}.get(kind)


def _cases(state: TotalsState) -> tuple[ExperimentCase, ...]:
    cache = CacheState.WARM if state.variant == "cache" else CacheState.NOCACHE
    cases = [ExperimentCase(state.variant, query, kind, {} if _user(state, kind) is None
                            else {"user_id": _user(state, kind)}, cache=cache) for query, kind in _READ_KINDS]
    if state.variant in ("sum", "summary"):
        cases.append(ExperimentCase(state.variant, "credit", "balance", {"id": state.balance_id}, Kind.WRITE))
    if state.variant == "matview":
        cases.append(ExperimentCase(state.variant, "refresh", "all", {}, Kind.WRITE))
    return tuple(cases)


def _call(state: TotalsState, case: ExperimentCase) -> Call:
    if case.operation == "credit":
        return Call(lambda: state.model.credit(state.balance_id, _CREDIT))
    if case.operation == "refresh":
        return Call(state.refresh)
    user = _user(state, case.param_kind)

    def read() -> Decimal:
        return state.read(case.operation, user)

    def fill() -> None:
        read()

    # The cache variant is timed warm: fill the key before each round (untimed), so every call is a hit.
    return Call(read, setup=fill if state.variant == "cache" else None)


def _check(states: Mapping[str, TotalsState]) -> None:
    for variant, state in states.items():
        if variant == "matview":
            state.refresh()
        for query, kind in _READ_KINDS:
            user = _user(state, kind)
            expected, got = oracle_total(state.engine, user), state.read(query, user)
            if got != expected:
                raise CheckFailed(f"{variant} {query} {kind}: {got}, the oracle's sum is {expected}")


def _plan(state: TotalsState, case: ExperimentCase) -> PlanTarget | None:
    if case.operation not in totals.TOTAL_READS:
        return None  # a credit's and a refresh's statements are not one read: their price is their time
    sql = totals.read_sql(_SOURCES[state.variant], case.operation) or queries.sql(case.operation)
    return PlanTarget(state.url, sql, dict(case.params))


def measure_staleness(state: TotalsState, samples: int, refresh_every_s: float = REFRESH_EVERY_S,
                      timeout_s: float = 30.0) -> list[float]:
    """Seconds from each credit's return until the variant's user total equals the oracle again.

    0 when the first read after the credit is already right. For the matview a
    background thread refreshes it every ``refresh_every_s`` meanwhile (as a
    scheduled job would), and the credits are spread over the refresh interval;
    polling is every millisecond, and the oracle's own query (about a
    millisecond) counts as stale time, so small figures are upper bounds.
    """
    stop = threading.Event()

    def refresher() -> None:
        while not stop.wait(refresh_every_s):
            state.refresh()

    worker = threading.Thread(target=refresher, name="matview-refresher", daemon=True)
    if state.variant == "matview":
        worker.start()
    lags: list[float] = []
    try:
        for i in range(samples):
            time.sleep(refresh_every_s * ((i * 0.37) % 1.0) if state.variant == "matview" else 0.0)
            state.model.credit(state.balance_id, _CREDIT)
            committed = time.perf_counter()
            expected = oracle_total(state.engine, state.typical)
            if state.read("total_balance_by_user", state.typical) == expected:
                lags.append(0.0)  # right at the first read after the credit: never stale
                continue
            while state.read("total_balance_by_user", state.typical) != expected:
                if time.perf_counter() - committed > timeout_s:
                    raise CheckFailed(f"{state.variant}: the total stayed wrong for {timeout_s:.0f} s after a credit")
                time.sleep(0.001)
            lags.append(time.perf_counter() - committed)
    finally:
        stop.set()
        if worker.is_alive():
            worker.join()
    return lags


def _staleness(state: TotalsState, quick: bool) -> dict[str, float]:
    every = REFRESH_EVERY_S / 5 if quick else REFRESH_EVERY_S
    lags = sorted(measure_staleness(state, 3 if quick else 10, every))
    return {"median_s": lags[len(lags) // 2], "max_s": lags[-1], "samples": float(len(lags)),
            "refresh_every_s": every if state.variant == "matview" else 0.0}


def _stale_before_refresh(state: TotalsState, quick: bool) -> dict[str, float]:
    """1/0 figures: the matview total is wrong right after a credit and right after a refresh."""
    state.refresh()
    state.model.credit(state.balance_id, _CREDIT)
    expected = oracle_total(state.engine, state.typical)
    stale = state.read("total_balance_by_user", state.typical) != expected
    state.refresh()
    fresh = state.read("total_balance_by_user", state.typical) == expected
    return {"stale_before_refresh": float(stale), "equal_after_refresh": float(fresh)}


def refresh_seconds(state: TotalsState) -> float:
    """One refresh of both views, timed once (the engine times ``refresh`` cases properly)."""
    started = time.perf_counter()
    state.refresh()
    return time.perf_counter() - started


RATIOS = (
    Ratio("matview_vs_sum_whale", "matview-total_balance_by_user-whale", "sum-total_balance_by_user-whale"),
    Ratio("matview_vs_sum_system", "matview-total_balance-system", "sum-total_balance-system"),
    Ratio("summary_vs_sum_system", "summary-total_balance-system", "sum-total_balance-system"),
    Ratio("summary_vs_cache_whale", "summary-total_balance_by_user-whale", "cache-total_balance_by_user-whale"),
    Ratio("summary_credit_vs_sum_credit", "summary-credit-balance", "sum-credit-balance"),
    Ratio("refresh_vs_sum_system", "matview-refresh-all", "sum-total_balance-system"),
)


def _conclude(figures: Figures) -> str:
    def f(name: str) -> Any:
        return figures[figure_key(Migration.WITH_012, name)]

    stale = f("matview.staleness.median_s")
    return (f"Read from a materialized aggregate, the system total takes {times(f('matview_vs_sum_system'))} the "
            f"SUM's time (summary table {times(f('summary_vs_sum_system'))}); the price is "
            f"{times(f('summary_credit_vs_sum_credit'))} per credit for the summary table, or for the matview a "
            f"refresh costing {times(f('refresh_vs_sum_system'))} a SUM and totals wrong for a median "
            f"{stale.value:.2f} s{interval(stale)} after a credit at a refresh every "
            f"{f('matview.staleness.refresh_every_s').value:g} s.")


EXPERIMENT: Experiment[TotalsState] = Experiment(
    name="totals",
    title="Materialized totals: materialized view and summary table against SUM and the cache",
    question='"Add materialized views for complex aggregations" (Future Optimizations); '
             '"totalBalanceByUser: Uses idx_balances_user_usd for aggregations"',
    variants=(
        Variant("sum", "the guide's SUM(usd_value), no cache"),
        Variant("cache", "the guide's cached totals, warm"),
        Variant("matview", "materialized views refreshed concurrently", schema="balance_model.totals MATVIEW DDL"),
        Variant("summary", "summary tables kept by each write's transaction", schema="balance_model.totals "
                "SUMMARY DDL; the model's writes keep it"),
    ),
    migrations=(Migration.WITH_012,),
    prepare=_prepare,
    cases=_cases,
    call=_call,
    check=_check,
    plan=_plan,
    conclude=_conclude,
    probes=(
        Probe("staleness", "seconds from a credit until the user's total is right again", _staleness,
              ("cache", "matview", "summary")),
        Probe("stale_before_refresh", "the matview is wrong after a credit and right after a refresh",
              _stale_before_refresh, ("matview",)),
    ),
    ratios=RATIOS,
)
