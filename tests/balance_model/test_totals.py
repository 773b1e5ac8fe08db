"""Materialized totals: summary tables kept exact by every write, matviews stale until refreshed, SUM the default."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal, localcontext

import psycopg
import pytest
from sqlalchemy import Engine, text

from balance_bench.fixtures.services import psycopg_dsn
from balance_model import totals
from balance_model.errors import InsufficientFunds
from balance_model.model import BalanceModel
from balance_model.totals import TotalsSource

from .conftest import USER_IDS

pytestmark = pytest.mark.services


def oracle(engine: Engine, user_id: int | None) -> Decimal:
    """The total as Python adds up the stored usd_values (no SUM, no summary table)."""
    where = "" if user_id is None else f" WHERE user_id = {int(user_id)}"
    with engine.connect() as conn, localcontext() as exact:
        exact.prec = 80  # Decimal's default 28 digits would round the sum
        return sum((r[0] for r in conn.execute(text("SELECT usd_value FROM balances" + where))), Decimal(0))


def install(engine: Engine, source: TotalsSource) -> None:
    with psycopg.connect(psycopg_dsn(engine.url.render_as_string(hide_password=False)), autocommit=True) as conn:
        totals.install(conn, source)


def refresh(engine: Engine) -> None:
    with psycopg.connect(psycopg_dsn(engine.url.render_as_string(hide_password=False)), autocommit=True) as conn:
        totals.refresh(conn)


def assert_exact(model: BalanceModel, engine: Engine) -> None:
    for user_id in USER_IDS:
        assert model.total_balance_by_user(user_id) == oracle(engine, user_id), user_id
    assert model.total_balance() == oracle(engine, None)


@pytest.fixture()
def seeded(db: Engine, plain: BalanceModel) -> list[int]:
    """A few balances of users 1 and 2 (user 3 holds none), created before any aggregate exists."""
    return [plain.create(u, t, "0xabc", Decimal(f"{u}.{t}")).id for u in (1, 2) for t in (1, 2, 3)]


@pytest.fixture()
def summary(db: Engine, seeded: list[int]) -> Iterator[BalanceModel]:
    install(db, TotalsSource.SUMMARY)
    with BalanceModel(db, totals=TotalsSource.SUMMARY) as model:
        yield model


def test_summary_totals_follow_every_kind_of_write(summary: BalanceModel, db: Engine, seeded: list[int]) -> None:
    """After install, a create, credit, debit, delete and a refused debit, the summary equals the oracle's sums."""
    assert_exact(summary, db)
    created = summary.create(3, 1, "0xdef", Decimal("7.000000000000000001"))
    assert_exact(summary, db)
    summary.credit(seeded[0], Decimal("0.123456789012345678"))
    summary.debit(seeded[1], Decimal("0.5"))
    assert_exact(summary, db)
    with pytest.raises(InsufficientFunds):
        summary.debit(seeded[2], Decimal("1000"))
    assert summary.delete(created.id) and not summary.delete(created.id)
    assert_exact(summary, db)
    assert summary.total_balance_by_user(3) == 0  # its only balance is gone: zero, as SUM says


def test_summary_totals_are_exact_beyond_28_digits(summary: BalanceModel, db: Engine) -> None:
    """A usd_value of 16 integer and 18 decimal digits moves the totals exactly (no float, no 28-digit rounding)."""
    big = summary.create(3, 1, "0xdef", Decimal("999999999999.123456789012345678"))
    assert len(big.usd_value.as_tuple().digits) > 28
    summary.credit(big.id, Decimal("0.000000000000000001"))
    assert_exact(summary, db)


def test_summary_totals_stay_exact_under_concurrent_writers(summary: BalanceModel, db: Engine,
                                                             seeded: list[int]) -> None:
    """Four threads crediting the same users' balances: the row locks serialise the totals, nothing is lost."""
    def credit_many(balance_id: int) -> None:
        for _ in range(15):
            summary.credit(balance_id, Decimal("0.000000000000000007"))

    threads = [threading.Thread(target=credit_many, args=(b,)) for b in seeded[:4]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert_exact(summary, db)


def test_the_guides_sum_stays_the_default_and_writes_nothing_else(plain: BalanceModel, db: Engine,
                                                                  seeded: list[int]) -> None:
    """Without a totals option the model sums balances and creates no aggregate tables."""
    assert plain.totals is TotalsSource.SUM
    assert_exact(plain, db)
    with db.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('balance_user_totals')")).scalar() is None


def test_a_matview_is_stale_after_a_write_and_exact_after_refresh(db: Engine, seeded: list[int]) -> None:
    """Materialized totals equal the sum once refreshed, and are wrong between a write and the next refresh."""
    install(db, TotalsSource.MATVIEW)
    with BalanceModel(db, totals=TotalsSource.MATVIEW) as model:
        assert_exact(model, db)
        before = model.total_balance_by_user(1)
        model.credit(seeded[0], Decimal("1"))
        assert model.total_balance_by_user(1) == before != oracle(db, 1)
        assert model.total_balance() != oracle(db, None)
        refresh(db)
        assert_exact(model, db)
        assert model.total_balance_by_user(3) == 0


def test_read_sql_names_each_source_and_refuses_other_reads() -> None:
    """SUM keeps the model's own statement; the aggregates read their tables; other reads are not totals."""
    assert totals.read_sql(TotalsSource.SUM, "total_balance") is None
    assert "balance_user_totals_mv" in (totals.read_sql(TotalsSource.MATVIEW, "total_balance_by_user") or "")
    system = totals.read_sql(TotalsSource.SUMMARY, "total_balance")
    assert system is not None and "FROM balance_system_total " in system
    with pytest.raises(ValueError, match="not a total read"):
        totals.read_sql(TotalsSource.SUMMARY, "find_by_id")
