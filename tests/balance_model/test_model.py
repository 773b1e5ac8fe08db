"""The model's behaviour: typed reads in both projections, atomic exact writes, domain errors, batch and warm."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
import redis
from sqlalchemy import Engine, create_engine

from balance_model.cache import BalanceCache
from balance_model.errors import BalanceError, BalanceNotFound, InsufficientFunds, InvalidAmount, UnknownReference
from balance_model.model import BalanceModel
from balance_model.records import Balance, LegacyBalance

from .conftest import TOKEN_PRICES, db_balance, one_call_each

pytestmark = pytest.mark.services


def priced(amount: Decimal, token_id: int) -> Decimal:
    """usd_value as NUMERIC(38, 18) stores amount * price: rounded half away from zero at 18 places."""
    with localcontext() as ctx:
        ctx.prec = 80
        return (amount * TOKEN_PRICES[token_id]).quantize(Decimal("1E-18"), rounding=ROUND_HALF_UP)


def test_create_returns_the_committed_row_priced_at_the_token(plain: BalanceModel, db: Engine) -> None:
    """create values the balance at the token's price and returns exactly what the database holds."""
    balance = plain.create(1, 1, "0xabc", Decimal("1.123456789012345678"), auto_convert_threshold=10)
    assert balance == db_balance(db, balance.id)
    assert balance.usd_value == priced(Decimal("1.123456789012345678"), 1)
    assert balance.auto_convert_threshold == Decimal(10)
    assert balance.created_at.tzinfo is not None and balance.updated_at == balance.created_at


def test_credit_and_debit_keep_amount_usd_value_and_updated_at_consistent(plain: BalanceModel, db: Engine) -> None:
    """Each write moves amount exactly, reprices usd_value and advances updated_at."""
    balance = plain.create(1, 2, "0xabc", Decimal("1"))
    credited = plain.credit(balance.id, Decimal("0.000000000000000001"))
    assert credited.amount == Decimal("1.000000000000000001")
    assert credited.usd_value == priced(credited.amount, 2)
    assert credited.updated_at >= balance.updated_at and credited.created_at == balance.created_at
    debited = plain.debit(balance.id, Decimal("1.000000000000000001"))
    assert debited.amount == 0 and debited.usd_value == 0
    assert debited.updated_at >= credited.updated_at
    assert debited == db_balance(db, balance.id)


def test_a_debit_beyond_the_amount_fails_and_changes_nothing(plain: BalanceModel, db: Engine) -> None:
    """InsufficientFunds says what is available; the row, updated_at included, is untouched."""
    balance = plain.create(1, 1, "0xabc", Decimal("2"))
    with pytest.raises(InsufficientFunds) as info:
        plain.debit(balance.id, Decimal("2.000000000000000001"))
    assert info.value.available == Decimal("2") and info.value.requested == Decimal("2.000000000000000001")
    assert isinstance(info.value, BalanceError)
    assert db_balance(db, balance.id) == balance


@pytest.mark.parametrize("write", ["credit", "debit"])
def test_writes_to_a_missing_balance_raise_not_found(plain: BalanceModel, write: str) -> None:
    """credit and debit of an unknown id raise BalanceNotFound; delete returns False."""
    with pytest.raises(BalanceNotFound):
        getattr(plain, write)(999, Decimal("1"))
    assert plain.delete(999) is False


@pytest.mark.parametrize("amount", [1.5, Decimal("-1"), Decimal("0"), Decimal("1E-19"), Decimal("NaN"), "1"])
def test_amounts_that_are_not_exact_positive_money_are_refused(plain: BalanceModel, db: Engine,
                                                               amount: object) -> None:
    """floats, negatives, zero, a 19th decimal place, NaN and strings raise InvalidAmount before any SQL."""
    balance = plain.create(1, 1, "0xabc", Decimal("5"))
    for write in (plain.credit, plain.debit):
        with pytest.raises(InvalidAmount):
            write(balance.id, amount)  # type: ignore[arg-type]
    assert db_balance(db, balance.id) == balance


def test_overflowing_results_are_refused(plain: BalanceModel, db: Engine) -> None:
    """A credit past NUMERIC(38, 18) raises InvalidAmount and leaves the row as it was."""
    balance = plain.create(1, 3, "0xabc", Decimal("99999999999999999999"))
    with pytest.raises(InvalidAmount):
        plain.credit(balance.id, Decimal("1"))
    assert db_balance(db, balance.id) == balance


def test_create_with_unknown_user_or_token_raises(plain: BalanceModel) -> None:
    """A missing user or token is an UnknownReference, not a driver error."""
    with pytest.raises(UnknownReference, match="user"):
        plain.create(99, 1, "0xabc", Decimal("1"))
    with pytest.raises(UnknownReference, match="token"):
        plain.create(1, 99, "0xabc", Decimal("1"))


def test_delete_removes_the_row(plain: BalanceModel, db: Engine) -> None:
    """delete returns True once and the row is gone."""
    balance = plain.create(1, 1, "0xabc", Decimal("1"))
    assert plain.delete(balance.id) is True
    assert plain.delete(balance.id) is False
    assert db_balance(db, balance.id) is None


@pytest.mark.parametrize("projection", ["legacy", "optimized"])
def test_reads_return_typed_records_and_read_dispatches_by_name(db: Engine, cache: BalanceCache,
                                                                projection: str) -> None:
    """Each of the eight reads, by method and by read(name), cached and not, agree and have the right types."""
    with BalanceModel(db, projection=projection) as plain, BalanceModel(db, cache, projection) as cached:
        a = plain.create(1, 1, "0xaaa", Decimal("1.5"))
        b = plain.create(1, 2, "0xbbb", Decimal("2"))
        plain.create(2, 1, "0xaaa", Decimal("3"))
        calls = one_call_each(a.id)
        for query, params in calls.items():
            by_method = getattr(plain, query)(**params)
            assert plain.read(query, **params) == by_method
            assert cached.read(query, **params) == by_method == cached.read(query, **params), query
        record = LegacyBalance if projection == "legacy" else Balance
        found = plain.find_by_id(a.id)
        assert type(found) is record and isinstance(found.amount, Decimal) and isinstance(found.created_at, datetime)
        if projection == "legacy":
            assert (found.user_email, found.token_symbol, found.token_price_usd) == \
                ("user1@example.com", "T1", TOKEN_PRICES[1])
        assert [x.id for x in plain.find_by_user_id(1)] == [a.id, b.id]
        assert plain.find_by_user_id_and_token_id(1, 2).id == b.id
        assert plain.total_balance_by_user(1) == a.usd_value + b.usd_value
        assert plain.total_balance_by_user(3) == 0
        assert [x.id for x in plain.find_by_address("0xaaa")] == [a.id, a.id + 2]
        with pytest.raises(ValueError):
            plain.read("find_all")


class RecordingCache(BalanceCache):
    """Remembers each invalidate() call's keys."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        super().__init__(client, prefix)
        self.sent: list[set[str]] = []

    def invalidate(self, keys: Iterable[str]) -> None:
        keys = set(keys)
        self.sent.append(keys)
        super().invalidate(keys)


def test_batch_invalidates_once_at_the_end_even_when_the_block_raises(db: Engine, redis_client: redis.Redis,
                                                                      key_prefix: str) -> None:
    """Writes in a batch commit at once; their keys are deleted together when the batch ends."""
    cache = RecordingCache(redis_client, key_prefix)
    model = BalanceModel(db, cache)
    a = model.create(1, 1, "0xaaa", Decimal("5"))
    b = model.create(1, 2, "0xbbb", Decimal("5"))
    cache.sent.clear()
    sent = cache.sent
    model.find_by_user_id(1)
    with pytest.raises(RuntimeError), model.batch():
        model.credit(a.id, Decimal("1"))
        model.debit(b.id, Decimal("1"))
        with model.batch():  # nested: joins the outer batch
            model.credit(a.id, Decimal("1"))
        assert model.find_by_id(a.id).amount == Decimal("7")  # this thread reads the database meanwhile
        assert sent == [] and redis_client.exists(model.cache.key_for("find_by_user_id", user_id=1))
        raise RuntimeError("the block fails after committing writes")
    assert len(sent) == 1
    assert sent[0] == set(model.cache.keys_for_balance(a.id, 1, 1)) | set(model.cache.keys_for_balance(b.id, 1, 2))
    assert [x.amount for x in model.find_by_user_id(1)] == [Decimal("7"), Decimal("4")]
    model.close()


def test_warm_fills_each_users_list_and_total(model: BalanceModel, redis_client: redis.Redis) -> None:
    """warm(user_ids) makes the next find_by_user_id and total_balance_by_user hits."""
    model.create(1, 1, "0xaaa", Decimal("5"))
    model.warm([1, 2])
    for user_id in (1, 2):
        assert redis_client.exists(model.cache.key_for("find_by_user_id", user_id=user_id))
        assert redis_client.exists(model.cache.key_for("total_balance_by_user", user_id=user_id))
    model.cache.reset_stats()
    model.find_by_user_id(1)
    model.total_balance_by_user(2)
    stats = model.cache.stats()
    assert stats["by_user"].hit_rate == 1.0 and stats["total_by_user"].hit_rate == 1.0


def test_the_model_needs_psycopg_and_a_known_projection(db: Engine) -> None:
    """Misconfiguration fails at construction, not on the first call."""
    with pytest.raises(ValueError, match="projection"):
        BalanceModel(db, projection="fast")
    with pytest.raises(ValueError, match="postgresql\\+psycopg"):
        BalanceModel(create_engine("sqlite://"))


def test_the_threshold_filter_returns_exactly_the_rows_with_that_threshold(plain: BalanceModel) -> None:
    """The anti-pattern read matches equal thresholds only (10 and 10.0 alike), never NULLs; floats are refused."""
    ten = {plain.create(1, 1, "0xa", 1, auto_convert_threshold=10).id,
           plain.create(2, 2, "0xb", 1, auto_convert_threshold=Decimal("10.000")).id}
    twenty = plain.create(3, 1, "0xc", 1, auto_convert_threshold=20).id
    plain.create(1, 3, "0xd", 1)
    assert {b.id for b in plain.find_by_auto_convert_threshold(10)} == ten
    assert [b.id for b in plain.find_by_auto_convert_threshold(Decimal(20))] == [twenty]
    assert plain.find_by_auto_convert_threshold(30) == []
    with pytest.raises(InvalidAmount):
        plain.find_by_auto_convert_threshold(1.5)  # type: ignore[arg-type]
