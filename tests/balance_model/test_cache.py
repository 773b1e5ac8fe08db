"""The cache layer: the guide's keys and TTLs, exact values, invalidation per family and write, and Redis outages."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, text

from balance_model.cache import FAMILIES, FILL_TOKEN_TTL_MS, TTLS, BalanceCache, FillMode
from balance_model.codec import DecimalCodec, RecordCodec
from balance_model.model import BalanceModel
from balance_model.records import Balance, LegacyBalance
from balance_model.routing import FillSource

from .conftest import StoppableRedis, db_balance

pytestmark = pytest.mark.services

CACHED_READS = {  # family -> (read, arguments) for user 1, token 1
    "by_id": ("find_by_id", {"id": None}),
    "by_user": ("find_by_user_id", {"user_id": 1}),
    "by_user_token": ("find_by_user_id_and_token_id", {"user_id": 1, "token_id": 1}),
    "total": ("total_balance", {}),
    "total_by_user": ("total_balance_by_user", {"user_id": 1}),
}


def _fill_all(model: BalanceModel, balance_id: int) -> dict[str, str]:
    """Read every cached family for user 1 / token 1 / this id; return family -> key."""
    keys = {}
    for family, (query, template) in CACHED_READS.items():
        params = {k: balance_id if v is None else v for k, v in template.items()}
        model.read(query, **params)
        keys[family] = model.cache.key_for(query, **params)
    return keys


def test_keys_are_the_guides_under_the_prefix() -> None:
    """Each family's key is the guide's pattern with the configured prefix in front."""
    cache = BalanceCache(redis.Redis(), "pfx:")
    assert cache.key_for("find_by_id", id=7) == "pfx:balance:id:7"
    assert cache.key_for("find_by_user_id", user_id=3) == "pfx:balance:user:3"
    assert cache.key_for("find_by_user_id_and_token_id", user_id=3, token_id=9) == "pfx:balance:user:3:token:9"
    assert cache.key_for("total_balance") == "pfx:balance:total"
    assert cache.key_for("total_balance_by_user", user_id=3) == "pfx:balance:total:user:3"
    assert BalanceCache(redis.Redis()).key_for("find_by_id", id=7) == "balance:id:7"


def test_uncached_reads_have_no_key_and_unknown_reads_are_refused() -> None:
    """get_by_user, find_by_address and find_by_token_id are not cached, as in the guide."""
    cache = BalanceCache(redis.Redis())
    assert cache.key_for("get_by_user", user_id=1, limit=20, offset=0) is None
    assert cache.key_for("find_by_address", address="0x") is None
    assert cache.key_for("find_by_token_id", token_id=1) is None
    with pytest.raises(ValueError):
        cache.key_for("find_everything")


def test_ttls_are_one_table_with_the_guides_values() -> None:
    """5 min by id, 1 min by user, 5 min by user+token, 2 min for both totals."""
    assert dict(TTLS) == {"by_id": 300, "by_user": 60, "by_user_token": 300, "total": 120, "total_by_user": 120}
    assert {f.name for f in FAMILIES} == set(TTLS)


def test_read_through_sets_each_key_with_its_ttl(model: BalanceModel, redis_client: redis.Redis) -> None:
    """A miss reads the database and stores the value; PTTL shows the family's TTL (and the fill token's)."""
    balance = model.create(1, 1, "0xabc", Decimal("2.5"))
    keys = _fill_all(model, balance.id)
    for family, key in keys.items():
        pttl = redis_client.pttl(key)
        assert TTLS[family] * 1000 - 5000 < pttl <= TTLS[family] * 1000, family
        assert 0 < redis_client.pttl(model.cache.fill_key(key)) <= FILL_TOKEN_TTL_MS


def test_absent_rows_are_not_cached(model: BalanceModel, redis_client: redis.Redis) -> None:
    """A read finding nothing stores nothing, so a later create needs no negative-cache handling."""
    assert model.find_by_id(12345) is None
    assert model.find_by_user_id_and_token_id(1, 1) is None
    assert not redis_client.exists(model.cache.key_for("find_by_id", id=12345))
    assert model.find_by_user_id(1) == []  # an empty list is a value: cached
    assert redis_client.exists(model.cache.key_for("find_by_user_id", user_id=1))


@pytest.mark.parametrize("amount", [Decimal("0.000000000000000001"), Decimal("1.500000000000000000"),
                                    Decimal("99999999999999999999.999999999999999999"), Decimal("0"), 7])
def test_money_round_trips_exactly_through_redis(model: BalanceModel, amount: Decimal) -> None:
    """A hit returns the same Decimal digits and exponent as the database: all 18 places, trailing zeros included."""
    balance = model.create(1, 3, "0xdec", amount)
    fresh = model.find_by_id(balance.id)  # miss: from the database
    cached = model.find_by_id(balance.id)  # hit: from Redis
    assert model.cache.stats()["by_id"].hits == 1
    for field in ("amount", "usd_value"):
        assert str(getattr(cached, field)) == str(getattr(fresh, field)) == str(getattr(balance, field))
    assert str(model.total_balance_by_user(1)) == str(model.total_balance_by_user(1)) == str(fresh.usd_value)


def test_timestamps_keep_their_offset_through_the_codec() -> None:
    """Aware datetimes come back at the same instant, offset and microsecond."""
    india = timezone(timedelta(hours=5, minutes=30))
    b = Balance(1, 2, 3, "0x", Decimal("1E-18"), Decimal("0E-18"), None,
                datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=india), datetime(2024, 3, 1, tzinfo=UTC))
    back = RecordCodec(Balance).decode(RecordCodec(Balance).encode(b))
    assert back == b
    assert back.created_at.utcoffset() == timedelta(hours=5, minutes=30)
    assert back.created_at.microsecond == 999999
    assert str(back.amount) == "1E-18" and str(back.usd_value) == "0E-18"
    assert DecimalCodec().decode(DecimalCodec().encode(Decimal("12.340000000000000000"))).as_tuple() == \
        Decimal("12.340000000000000000").as_tuple()


WRITES: dict[str, Callable[[BalanceModel, Balance], Any]] = {
    "create": lambda m, b: m.create(b.user_id, b.token_id, "0xnew", Decimal("1")),
    "credit": lambda m, b: m.credit(b.id, Decimal("1")),
    "debit": lambda m, b: m.debit(b.id, Decimal("1")),
    "delete": lambda m, b: m.delete(b.id),
}


@pytest.mark.parametrize("write", WRITES)
def test_each_write_invalidates_every_family_and_nothing_else(model: BalanceModel, redis_client: redis.Redis,
                                                              write: str) -> None:
    """Each write drops every key it can make stale (create: all but another balance's by-id); others stay."""
    balance = model.create(1, 1, "0xabc", Decimal("5"))
    other = model.create(2, 1, "0xdef", Decimal("5"))
    keys = _fill_all(model, balance.id)
    model.find_by_user_id(2)
    model.find_by_id(other.id)
    untouched = [model.cache.key_for("find_by_user_id", user_id=2), model.cache.key_for("find_by_id", id=other.id)]
    if write == "create":  # a new balance: balance 1's own entry is still right
        untouched.append(keys.pop("by_id"))
    assert all(redis_client.exists(k) for k in [*keys.values(), *untouched])
    WRITES[write](model, balance)
    for family, key in keys.items():
        assert not redis_client.exists(key), f"{write} left {family} cached"
        assert not redis_client.exists(model.cache.fill_key(key))
    assert all(redis_client.exists(k) for k in untouched)


def test_stats_count_hits_misses_and_hit_rate_per_family(model: BalanceModel) -> None:
    """hit_rate = hits / (hits + misses) for each family; reset_stats zeroes them."""
    balance = model.create(1, 1, "0xabc", Decimal("5"))
    assert model.cache.stats()["by_id"].hit_rate is None
    for _ in range(4):
        model.find_by_id(balance.id)
    model.total_balance()
    stats = model.cache.stats()
    assert (stats["by_id"].hits, stats["by_id"].misses, stats["by_id"].errors) == (3, 1, 0)
    assert stats["by_id"].hit_rate == 0.75
    assert (stats["total"].hits, stats["total"].misses) == (0, 1)
    model.cache.reset_stats()
    assert all(s.hits == s.misses == 0 for s in model.cache.stats().values())


def test_a_value_of_another_projection_is_a_miss_and_overwritten(db: Engine, cache: BalanceCache) -> None:
    """Sharing a prefix across projections never returns the wrong record type; the value is replaced."""
    with BalanceModel(db, cache, "legacy") as legacy, BalanceModel(db, cache, "optimized") as optimized:
        balance = optimized.create(1, 1, "0xabc", Decimal("5"))
        assert type(legacy.find_by_id(balance.id)) is LegacyBalance
        assert type(optimized.find_by_id(balance.id)) is Balance
        assert type(optimized.find_by_id(balance.id)) is Balance
        assert cache.stats()["by_id"].hits == 1


def test_redis_stopped_mid_test_reads_and_writes_use_the_database(
        db: Engine, own_redis: StoppableRedis, caplog: pytest.LogCaptureFixture) -> None:
    """With Redis down reads come from the database, writes commit, failures are counted and logged once."""
    cache = BalanceCache(own_redis.client(), "t:", retry_interval_s=0.05)
    with BalanceModel(db, cache) as model:
        balance = model.create(1, 1, "0xabc", Decimal("5"))
        model.find_by_id(balance.id)
        model.find_by_user_id(1)
        own_redis.stop()
        with caplog.at_level(logging.INFO, logger="balance_model.cache"):
            for _ in range(20):
                credited = model.credit(balance.id, Decimal("1"))
                assert model.find_by_id(balance.id) == credited == db_balance(db, balance.id)
                assert model.find_by_user_id(1) == [credited]
                assert model.total_balance_by_user(1) == credited.usd_value
            assert credited.amount == Decimal("25")
            warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
            assert len(warnings) == 1 and "Redis unavailable" in warnings[0].getMessage()
            assert cache.stats()["by_id"].errors >= 20
            assert cache.unsent_invalidations == 5

            own_redis.start()  # back, empty
            time.sleep(0.06)  # past the retry interval
            assert model.find_by_id(balance.id) == db_balance(db, balance.id)
            assert model.find_by_id(balance.id) == db_balance(db, balance.id)
            assert cache.stats()["by_id"].hits >= 1
            assert cache.unsent_invalidations == 0
            assert any("reachable again" in r.getMessage() for r in caplog.records)
            assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


class FlakyRedis(redis.Redis):
    """A client that can be cut off while the server keeps its data: the case where an invalidation is lost."""

    cut = False

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if self.cut:
            raise redis.ConnectionError("cut by the test")
        return super().execute_command(*args, **options)


def test_invalidations_lost_in_an_outage_are_replayed_before_the_cache_is_used_again(
        db: Engine, own_redis: StoppableRedis) -> None:
    """A write whose DEL failed leaves a stale key in a surviving Redis; it is deleted before any later GET."""
    client = FlakyRedis(unix_socket_path=str(own_redis.socket), socket_timeout=0.5)
    cache = BalanceCache(client, "t:", retry_interval_s=0.0)
    with BalanceModel(db, cache) as model:
        balance = model.create(1, 1, "0xabc", Decimal("5"))
        model.find_by_id(balance.id)  # cached: amount 5
        client.cut = True
        credited = model.credit(balance.id, Decimal("1"))  # committed; its DEL could not be sent
        assert cache.unsent_invalidations == 5
        client.cut = False
        assert client.get(cache.key_for("find_by_id", id=balance.id)) is not None  # the stale value survived
        assert model.find_by_id(balance.id) == credited
        assert cache.unsent_invalidations == 0


def test_invalidation_leaves_no_marker_unless_a_recent_write_window_is_set(
        db: Engine, redis_client: redis.Redis, key_prefix: str) -> None:
    """The guide's cache invalidates with a plain DEL; with recent_write_ms each key gets a marker for that long."""
    plain = BalanceCache(redis_client, key_prefix)
    windowed = BalanceCache(redis_client, key_prefix + "w:", recent_write_ms=5000)
    for cache in (plain, windowed):
        with BalanceModel(db, cache) as model:
            balance = model.create(1, 1, "0xabc", 1)
            keys = _fill_all(model, balance.id)
            model.credit(balance.id, 1)
            for key in keys.values():
                assert not redis_client.exists(key) and not redis_client.exists(cache.fill_key(key))
                marker = redis_client.pttl(cache.recent_key(key))
                if cache is plain:
                    assert marker == -2  # no such key
                else:
                    assert 4000 < marker <= 5000


def test_a_miss_within_the_window_loads_with_load_recent_and_after_it_with_load(
        redis_client: redis.Redis, key_prefix: str) -> None:
    """load_recent serves misses on keys invalidated less than recent_write_ms ago; other misses use load."""
    cache = BalanceCache(redis_client, key_prefix, recent_write_ms=200)
    codec = DecimalCodec()
    key = cache.key_for("total_balance")
    assert key is not None

    def read() -> Decimal | None:
        return cache.read_through("total_balance", {}, lambda: Decimal(1), codec, load_recent=lambda: Decimal(2))

    assert read() == 1  # never written: load
    cache.invalidate([key])
    assert read() == 2  # within the window: load_recent, and that value is stored
    assert read() == 2  # a hit
    cache.invalidate([key])
    time.sleep(0.3)
    assert read() == 1  # the marker expired: load again
    assert BalanceCache(redis_client, key_prefix).read_through(
        "total_balance", {}, lambda: Decimal(3), codec, load_recent=lambda: Decimal(4)) == 1  # no window: a hit


def test_a_window_must_be_positive_and_primary_after_write_needs_one(db: Engine, redis_client: redis.Redis) -> None:
    """recent_write_ms <= 0 is refused; the model refuses PRIMARY_AFTER_WRITE on a cache without a window."""
    with pytest.raises(ValueError, match="positive"):
        BalanceCache(redis_client, recent_write_ms=0)
    with pytest.raises(ValueError, match="recent_write_ms"):
        BalanceModel(db, BalanceCache(redis_client), fill_source=FillSource.PRIMARY_AFTER_WRITE)
    with pytest.raises(ValueError, match="recent_write_ms"):
        BalanceModel(db, None, fill_source=FillSource.PRIMARY_AFTER_WRITE)


def test_no_fill_while_an_invalidation_is_pending_after_an_outage(
        db: Engine, own_redis: StoppableRedis, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader holding a fill token while Redis restarts (data kept) and a write's DEL is lost stores nothing.

    The reader misses and takes its fill token, then reads the database (the old row). Meanwhile
    Redis stops, keeping its data on disk, so the token survives; a writer commits and its
    invalidation cannot be sent; Redis comes back. The token still matches, so only the pending
    invalidation stops the reader from caching the old row for the key's whole TTL.
    """
    cache = BalanceCache(own_redis.client(), "t:", retry_interval_s=0.05)
    with BalanceModel(db, cache) as reader, BalanceModel(db, cache) as writer:
        balance = writer.create(1, 1, "0xabc", Decimal("5"))
        key = cache.key_for("find_by_id", id=balance.id)
        fetch = reader._fetch
        credited: list[Balance] = []

        def read_during_an_outage(*args: Any) -> Any:
            old = fetch(*args)  # the reader's database read, after it took its fill token
            own_redis.stop(keep_data=True)
            credited.append(writer.credit(balance.id, Decimal("1")))  # committed; its DEL fails
            own_redis.start()  # back, with the reader's fill token
            time.sleep(0.06)  # past the retry interval, before any probe
            return old

        monkeypatch.setattr(reader, "_fetch", read_during_an_outage)
        stale = reader.find_by_id(balance.id)
        monkeypatch.undo()
        assert stale is not None and stale.amount == Decimal("5")  # what it read before the write
        assert cache.unsent_invalidations == 5
        probe = own_redis.client()
        assert probe.exists(cache.fill_key(key)), "the reader's fill token did not survive the restart"
        assert probe.get(key) is None, "the old row was cached although an invalidation was pending"
        assert reader.find_by_id(balance.id) == credited[0] == db_balance(db, balance.id)
        assert cache.unsent_invalidations == 0


# --- the guide's cache as written (FillMode.GUIDE): plain GET, then SET with TTL ------------------------------


@pytest.fixture()
def guide_model(db: Engine, redis_client: redis.Redis, key_prefix: str) -> Iterator[BalanceModel]:
    """The model over the guide's own cache design, under this test's prefix."""
    with BalanceModel(db, BalanceCache(redis_client, key_prefix, fill=FillMode.GUIDE)) as m:
        yield m


def test_the_token_fill_is_the_default_and_the_guide_mode_takes_no_window(redis_client: redis.Redis) -> None:
    """Ours is what a cache is unless asked; the guide's mode has no recent-write markers to combine with."""
    assert BalanceCache(redis_client).fill is FillMode.TOKEN
    with pytest.raises(ValueError, match="recent_write_ms"):
        BalanceCache(redis_client, fill=FillMode.GUIDE, recent_write_ms=100)


def test_guide_mode_fills_each_key_with_its_ttl_and_no_fill_token(guide_model: BalanceModel,
                                                                 redis_client: redis.Redis) -> None:
    """A guide miss stores the value under the guide's key for the family's TTL, and leaves no token behind."""
    balance = guide_model.create(1, 1, "0xabc", Decimal("2.5"))
    keys = _fill_all(guide_model, balance.id)
    for family, key in keys.items():
        assert TTLS[family] * 1000 - 5000 < redis_client.pttl(key) <= TTLS[family] * 1000, family
        assert not redis_client.exists(guide_model.cache.fill_key(key)), family
    hit = guide_model.find_by_id(balance.id)
    assert hit == balance and guide_model.cache.stats()["by_id"].hits == 1


def test_guide_mode_refills_once_its_ttl_has_run_out(guide_model: BalanceModel, redis_client: redis.Redis,
                                                     db: Engine) -> None:
    """Until the key expires a hit serves the old value; after it expires the next read misses and refills."""
    balance = guide_model.create(1, 1, "0xabc", Decimal("2.5"))
    key = guide_model.cache.key_for("find_by_id", id=balance.id)
    guide_model.find_by_id(balance.id)
    with db.begin() as conn:  # behind the cache's back: only the TTL can bring the new amount
        conn.execute(text("UPDATE balances SET amount = 9 WHERE id = :id"), {"id": balance.id})
    assert guide_model.find_by_id(balance.id).amount == Decimal("2.5")
    redis_client.pexpire(key, 1)  # the TTL running out, without waiting five minutes
    time.sleep(0.01)
    assert not redis_client.exists(key)
    assert guide_model.find_by_id(balance.id).amount == Decimal("9")
    assert redis_client.pttl(key) > (TTLS["by_id"] - 5) * 1000
    assert guide_model.cache.stats()["by_id"].misses == 2


@pytest.mark.parametrize("write", WRITES)
def test_guide_mode_writes_invalidate_every_family(guide_model: BalanceModel, redis_client: redis.Redis, db: Engine,
                                                   write: str) -> None:
    """The guide's invalidation (a plain DEL) drops every key a write can make stale, the next read is fresh."""
    balance = guide_model.create(1, 1, "0xabc", Decimal("5"))
    keys = _fill_all(guide_model, balance.id)
    if write == "create":
        keys.pop("by_id")
    assert all(redis_client.exists(k) for k in keys.values())
    WRITES[write](guide_model, balance)
    for family, key in keys.items():
        assert not redis_client.exists(key), f"{write} left {family} cached"
    assert guide_model.find_by_id(balance.id) == db_balance(db, balance.id)


def _read_with_a_write_in_between(cache: BalanceCache, db: Engine, balance: Balance) -> None:
    """A find_by_id miss whose database read is followed, before its fill, by a committed write and its DEL."""
    def load() -> Balance | None:
        with db.connect() as conn:  # the reader's read: the old amount
            row = conn.execute(text("SELECT * FROM balances WHERE id = :id"), {"id": balance.id}).one()
        with db.begin() as conn:  # then a writer commits and invalidates, before the reader's fill
            conn.execute(text("UPDATE balances SET amount = 9 WHERE id = :id"), {"id": balance.id})
        cache.invalidate(cache.keys_for_balance(balance.id, balance.user_id, balance.token_id))
        return Balance(*row)

    cache.read_through("find_by_id", {"id": balance.id}, load, RecordCodec(Balance))


@pytest.mark.parametrize("fill", list(FillMode))
def test_only_the_guides_fill_can_store_a_value_older_than_an_invalidation(
        db: Engine, redis_client: redis.Redis, key_prefix: str, fill: FillMode) -> None:
    """The race: the guide's SET after an invalidation stores the old row for a TTL; our token refuses it."""
    cache = BalanceCache(redis_client, key_prefix, fill=fill)
    with BalanceModel(db, cache) as model:
        balance = model.create(1, 1, "0xabc", Decimal("5"))
        _read_with_a_write_in_between(cache, db, balance)
        served = model.find_by_id(balance.id)
    assert served is not None
    if fill is FillMode.GUIDE:
        assert served.amount == Decimal("5")  # stale: the database says 9 and will for a whole TTL
        assert cache.stats()["by_id"].hits == 1
    else:
        assert served.amount == Decimal("9")
        assert cache.stats()["by_id"].rejected_fills == 1
# --- the breaker and the counters, step by step on a clock the test sets (real Redis, a client it can cut) ---


class Clock:
    """The cache's monotonic clock, set by the test so each retry boundary is hit exactly."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


class CountingRedis(FlakyRedis):
    """A FlakyRedis that records the name of every command it was asked to send, cut or not."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[str] = []

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.sent.append(str(args[0]))
        return super().execute_command(*args, **options)


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    import balance_model.cache as cache_module

    fake = Clock()
    monkeypatch.setattr(cache_module, "time", fake)
    return fake


def _breaker(redis_client: redis.Redis, key_prefix: str) -> tuple[CountingRedis, BalanceCache]:
    client = CountingRedis(connection_pool=redis_client.connection_pool)
    return client, BalanceCache(client, key_prefix, retry_interval_s=10.0)


def _total(cache: BalanceCache, value: int = 1) -> Decimal | None:
    return cache.read_through("total_balance", {}, lambda: Decimal(value), DecimalCodec())


def test_the_breaker_skips_redis_until_the_retry_time_and_probes_exactly_then(
        redis_client: redis.Redis, key_prefix: str, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    """A failure at t=100 skips Redis until t=110; a failed probe there skips it until 120; at 120 it is back."""
    client, cache = _breaker(redis_client, key_prefix)
    client.cut = True
    with caplog.at_level(logging.INFO, logger="balance_model.cache"):
        assert _total(cache) == 1  # GET fails: from the database, breaker open until 110
        assert [r.getMessage() for r in caplog.records] == [
            "Redis unavailable (ConnectionError: cut by the test); serving from the database, retrying every 10.0 s"]
        client.sent.clear()
        clock.now = 109.999
        assert _total(cache) == 1 and client.sent == []  # skipped, not even a probe
        clock.now = 110.0
        assert _total(cache) == 1 and client.sent == ["PING"]  # the probe, exactly at the retry time; it fails
        client.sent.clear()
        clock.now = 119.0
        assert _total(cache) == 1 and client.sent == []  # the failed probe moved the retry to 120
        client.cut = False
        clock.now = 120.0
        assert _total(cache) == 1 and client.sent[0] == "PING" and "GET" in client.sent
    assert cache.stats()["total"].errors == 4  # the failed GET, two skipped reads and the failed probe's read
    assert [r.getMessage() for r in caplog.records][1:] == [
        "Redis is reachable again; cache back in use (0 invalidations replayed)"]


def test_each_outage_is_logged_once_and_counted(redis_client: redis.Redis, key_prefix: str, clock: Clock,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """Four outages, each one warning and one "back" line; only reads that failed or skipped Redis count errors."""
    client, cache = _breaker(redis_client, key_prefix)
    key = cache.key_for("total_balance")
    assert key is not None
    with caplog.at_level(logging.INFO, logger="balance_model.cache"):
        for round_ in range(2):
            client.cut = True
            cache.invalidate([key])  # this outage's first failure is an invalidation: no read, no error
            assert cache.stats()["total"].errors == round_ and cache.unsent_invalidations == 1
            clock.now += 10.0
            client.cut = False
            assert _total(cache) == 1 and cache.unsent_invalidations == 0  # replayed, then read
            client.cut = True
            assert _total(cache) == 1  # the next outage starts with a read: one error
            assert cache.stats()["total"].errors == round_ + 1
            clock.now += 10.0
            client.cut = False
            assert _total(cache) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["Redis unavailable (ConnectionError: cut by the test); serving from the database, "
                        "retrying every 10.0 s"] * 4
    back = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert back == [f"Redis is reachable again; cache back in use ({n} invalidations replayed)"
                    for n in (1, 0, 1, 0)]


def test_invalidation_talks_to_redis_only_when_it_may(redis_client: redis.Redis, key_prefix: str,
                                                      clock: Clock) -> None:
    """Healthy: one command (the DEL). Open breaker: none, the keys are remembered; a failed DEL keeps it open."""
    client, cache = _breaker(redis_client, key_prefix)
    cache.invalidate([key_prefix + "a", key_prefix + "b"])
    assert client.sent == ["DEL"]
    client.cut = True
    cache.invalidate([key_prefix + "c"])  # the DEL fails at t=100: open until 110
    client.sent.clear()
    clock.now = 105.0
    cache.invalidate([key_prefix + "d"])
    assert client.sent == [] and cache.unsent_invalidations == 2
    assert _total(cache) == 1 and client.sent == []  # reads skip Redis too


def test_unsent_invalidations_are_capped(redis_client: redis.Redis, key_prefix: str, clock: Clock,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond MAX_UNSENT keys nothing more is remembered (those keys expire with their TTL)."""
    import balance_model.cache as cache_module

    monkeypatch.setattr(cache_module, "MAX_UNSENT", 3)
    client, cache = _breaker(redis_client, key_prefix)
    client.cut = True
    cache.invalidate([key_prefix + "k1", key_prefix + "k2"])
    assert cache.unsent_invalidations == 2
    cache.invalidate([key_prefix + k for k in ("k3", "k4", "k5")])
    assert cache.unsent_invalidations == 3
    cache.invalidate([key_prefix + "k6"])
    assert cache.unsent_invalidations == 3


def test_counters_hit_rate_rejected_fills_and_reset(redis_client: redis.Redis, key_prefix: str) -> None:
    """One miss and one hit: hit rate 0.5; a fill whose key was invalidated meanwhile is counted as rejected."""
    cache = BalanceCache(redis_client, key_prefix)
    codec = DecimalCodec()
    key = cache.key_for("total_balance")
    assert key is not None

    def invalidated_meanwhile() -> Decimal:
        cache.invalidate([key])  # a writer between the reader's token and its fill
        return Decimal(1)

    assert cache.read_through("total_balance", {}, invalidated_meanwhile, codec) == 1
    assert redis_client.get(key) is None
    assert cache.read_through("total_balance", {}, lambda: Decimal(2), codec) == 2  # miss, stored
    assert cache.read_through("total_balance", {}, lambda: Decimal(3), codec) == 2  # hit
    total = cache.stats()["total"]
    assert (total.hits, total.misses, total.errors, total.rejected_fills) == (1, 2, 0, 1)
    assert total.hit_rate == pytest.approx(1 / 3)
    cache.reset_stats()
    assert cache.read_through("total_balance", {}, lambda: Decimal(3), codec) == 2
    cache.invalidate([key])
    assert cache.read_through("total_balance", {}, lambda: Decimal(4), codec) == 4
    assert cache.stats()["total"].hit_rate == 0.5  # one hit, one miss
    assert cache.stats()["total"].rejected_fills == 0  # that miss's fill was stored, not rejected
    client, flaky = _breaker(redis_client, key_prefix)
    client.cut = True
    _total(flaky)
    assert flaky.stats()["total"].errors == 1
    flaky.reset_stats()
    assert all((s.hits, s.misses, s.errors, s.rejected_fills) == (0, 0, 0, 0) for s in flaky.stats().values())
    with pytest.raises(ValueError, match=r"^unknown read 'nope'$"):
        cache.key_for("nope")


def test_keys_remembered_while_a_probe_runs_are_replayed_by_the_very_next_call(
        redis_client: redis.Redis, key_prefix: str, clock: Clock) -> None:
    """An invalidation that found the breaker open while the probe was running is sent by the next call."""
    client, cache = _breaker(redis_client, key_prefix)
    client.cut = True
    assert _total(cache) == 1  # open until 110
    client.cut = False
    late = key_prefix + "late"
    redis_client.set(late, b"stale")
    ping = client.ping

    def another_thread_invalidates_meanwhile(**options: Any) -> Any:
        clock.now = 109.0  # as that thread saw it: before the retry time, so the key is only remembered
        cache.invalidate([late])
        clock.now = 110.0
        return ping(**options)

    clock.now = 110.0
    client.ping = another_thread_invalidates_meanwhile  # type: ignore[method-assign]
    assert _total(cache) == 1 and cache.unsent_invalidations == 1 and redis_client.exists(late)
    client.ping = ping  # type: ignore[method-assign]
    assert _total(cache) == 1
    assert cache.unsent_invalidations == 0 and not redis_client.exists(late)


def test_a_fill_that_fails_opens_the_breaker_with_its_reason(redis_client: redis.Redis, key_prefix: str,
                                                             clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    """Redis lost between the token and the fill: the value is still returned, the warning names the error, and
    nothing is counted as a read error (the read itself was served); Redis is skipped for the default 1 s."""
    client = CountingRedis(connection_pool=redis_client.connection_pool)
    cache = BalanceCache(client, key_prefix)

    def lost_meanwhile() -> Decimal:
        client.cut = True
        return Decimal(7)

    with caplog.at_level(logging.WARNING, logger="balance_model.cache"):
        assert cache.read_through("total_balance", {}, lost_meanwhile, DecimalCodec()) == 7
    assert [r.getMessage() for r in caplog.records] == [
        "Redis unavailable (ConnectionError: cut by the test); serving from the database, retrying every 1.0 s"]
    assert cache.stats()["total"].errors == 0
    client.cut = False
    client.sent.clear()
    clock.now = 100.999
    assert _total(cache) == 1 and client.sent == []
    clock.now = 101.0
    assert _total(cache) == 1 and client.sent[0] == "PING"


def test_prefix_braces_are_literal_and_the_shortest_window_is_allowed(redis_client: redis.Redis) -> None:
    """A prefix may contain format braces; a recent-write window of 1 ms is valid (only <= 0 is refused)."""
    cache = BalanceCache(redis_client, "a{b}:", recent_write_ms=1)
    assert cache.key_for("find_by_id", id=7) == "a{b}:balance:id:7"
    assert cache.keys_for_balance(7, 3, 9)[0] == "a{b}:balance:id:7"
    from balance_model.cache import FillMode

    with pytest.raises(ValueError, match=r"^the guide's fill mode has no recent-write markers: recent_write_ms needs "
                                         r"FillMode\.TOKEN$"):
        BalanceCache(redis_client, recent_write_ms=1, fill=FillMode.GUIDE)


def test_the_guides_fill_sets_the_familys_ttl_and_a_failed_set_names_its_reason(
        redis_client: redis.Redis, key_prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    """FillMode.GUIDE: SET with the family's TTL in seconds (120 s for the total); a SET lost to an outage still
    returns the value and logs the error by name."""
    from balance_model.cache import FillMode

    client = CountingRedis(connection_pool=redis_client.connection_pool)
    cache = BalanceCache(client, key_prefix, fill=FillMode.GUIDE)
    key = cache.key_for("total_balance")
    assert key is not None
    assert _total(cache, 5) == 5
    assert 119_000 < redis_client.pttl(key) <= 120_000

    def lost_meanwhile() -> Decimal:
        client.cut = True
        return Decimal(7)

    redis_client.delete(key)
    with caplog.at_level(logging.WARNING, logger="balance_model.cache"):
        assert cache.read_through("total_balance", {}, lost_meanwhile, DecimalCodec()) == 7
    assert [r.getMessage() for r in caplog.records] == [
        "Redis unavailable (ConnectionError: cut by the test); serving from the database, retrying every 1.0 s"]
