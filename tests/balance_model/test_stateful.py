"""Hypothesis stateful test: random reads and writes through the cached model never disagree with the database."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import ClassVar

import pytest
import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule, run_state_machine_as_test
from sqlalchemy import Engine, text

from balance_model.cache import BalanceCache
from balance_model.errors import InsufficientFunds
from balance_model.model import BalanceModel
from balance_model.queries import PROJECTIONS

from .conftest import READ_ARGS, TOKEN_PRICES, USER_IDS, assert_cache_consistent, read_directly, strict

pytestmark = pytest.mark.services

# Sized for the suite's ~90 s budget: 2 projections x 75 examples x up to 50 steps.
MAX_EXAMPLES, STEPS = 75, 50

TOKEN_IDS = tuple(TOKEN_PRICES)
ADDRESSES = ("0xa", "0xb", "0xc")
amounts = st.one_of(
    st.decimals(min_value=Decimal("1E-18"), max_value=Decimal(1000), places=18),
    st.integers(min_value=1, max_value=1000).map(Decimal),
)
users = st.sampled_from((*USER_IDS, 4))  # 4 has no balances (nor a row in users)
tokens = st.sampled_from(TOKEN_IDS)


def _read_rule(query: str) -> Callable[..., None]:
    """A rule that runs ``query`` with drawn arguments and checks it against the oracle."""

    @rule(data=st.data())
    def read(self: CachedModelMachine, data: st.DataObject) -> None:
        self._read(data, query)

    read.__name__ = f"read_{query}"
    return read


class CachedModelMachine(RuleBasedStateMachine):
    """Drives one cached model; every read is checked against the statement run directly (the oracle)."""

    engine: ClassVar[Engine]
    client: ClassVar[redis.Redis]
    prefix: ClassVar[str]
    projection: ClassVar[str]
    steps: ClassVar[Counter[str]]

    def __init__(self) -> None:
        super().__init__()
        self.steps["examples"] += 1
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM balances"))
        self.cache = BalanceCache(self.client, f"{self.prefix}{uuid.uuid4().hex[:6]}:")
        self.model = BalanceModel(self.engine, self.cache, self.projection)
        self.ids: list[int] = []

    @initialize(user=st.sampled_from(USER_IDS), token=tokens, amount=amounts)
    def first_balance(self, user: int, token: int, amount: Decimal) -> None:
        self.create(user, token, ADDRESSES[0], amount)

    @rule(user=st.sampled_from(USER_IDS), token=tokens, address=st.sampled_from(ADDRESSES), amount=amounts)
    def create(self, user: int, token: int, address: str, amount: Decimal) -> None:
        self.ids.append(self.model.create(user, token, address, amount).id)
        self.steps["create"] += 1

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), amount=amounts)
    def credit(self, data: st.DataObject, amount: Decimal) -> None:
        balance_id = data.draw(st.sampled_from(self.ids))
        if self._exists(balance_id):
            assert self.model.credit(balance_id, amount).amount == self._amount(balance_id)
            self.steps["credit"] += 1

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), amount=amounts)
    def debit(self, data: st.DataObject, amount: Decimal) -> None:
        balance_id = data.draw(st.sampled_from(self.ids))
        if not self._exists(balance_id):
            return
        before = self._amount(balance_id)
        if amount > before:
            with pytest.raises(InsufficientFunds):
                self.model.debit(balance_id, amount)
            assert self._amount(balance_id) == before
            self.steps["debit refused"] += 1
        else:
            assert self.model.debit(balance_id, amount).amount == before - amount
            self.steps["debit"] += 1

    @precondition(lambda self: self.ids)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        balance_id = data.draw(st.sampled_from(self.ids))
        existed = self._exists(balance_id)
        assert self.model.delete(balance_id) == existed
        self.steps["delete"] += 1

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), amount=amounts)
    def batch_of_credits(self, data: st.DataObject, amount: Decimal) -> None:
        chosen = data.draw(st.lists(st.sampled_from(self.ids), min_size=1, max_size=3))
        with self.model.batch():
            for balance_id in chosen:
                if self._exists(balance_id):
                    self.model.credit(balance_id, amount)
        self.steps["batch"] += 1

    def _read(self, data: st.DataObject, query: str) -> None:
        draw = {
            "id": lambda: data.draw(st.sampled_from([*self.ids, 10**9])),
            "user_id": lambda: data.draw(users),
            "token_id": lambda: data.draw(tokens),
            "limit": lambda: data.draw(st.integers(0, 4)),
            "offset": lambda: data.draw(st.integers(0, 3)),
            "address": lambda: data.draw(st.sampled_from(ADDRESSES)),
        }
        params = {name: draw[name]() for name in READ_ARGS[query]}
        for _ in range(2):  # the second is a hit when the first filled the cache
            assert strict(self.model.read(query, **params)) == \
                strict(read_directly(self.engine, query, self.projection, params)), (query, params)
        self.steps["reads"] += 2

    @rule()
    def every_cached_value_is_fresh(self) -> None:
        self.steps["full cache check"] += 1
        checked = assert_cache_consistent(self.model, self.client, self.engine, self.ids)
        self.steps["cached values checked"] += checked

    # One rule per read, so reads outnumber writes and every read is exercised.
    read_find_by_id = _read_rule("find_by_id")
    read_find_by_user_id = _read_rule("find_by_user_id")
    read_find_by_user_id_and_token_id = _read_rule("find_by_user_id_and_token_id")
    read_get_by_user = _read_rule("get_by_user")
    read_total_balance_by_user = _read_rule("total_balance_by_user")
    read_total_balance = _read_rule("total_balance")
    read_find_by_address = _read_rule("find_by_address")
    read_find_by_token_id = _read_rule("find_by_token_id")

    def teardown(self) -> None:
        stats = self.cache.stats()
        self.steps["cache hits"] += sum(s.hits for s in stats.values())
        self.steps["cache misses"] += sum(s.misses for s in stats.values())
        self.steps["cache errors"] += sum(s.errors for s in stats.values())
        self.model.close()
        keys = list(self.client.scan_iter(match=f"{self.cache.prefix}*"))
        if keys:
            self.client.delete(*keys)

    def _amount(self, balance_id: int) -> Decimal:
        return read_directly(self.engine, "find_by_id", "optimized", {"id": balance_id}).amount

    def _exists(self, balance_id: int) -> bool:
        return read_directly(self.engine, "find_by_id", "optimized", {"id": balance_id}) is not None




@pytest.mark.slow  # 20-30 s per projection
@pytest.mark.parametrize("projection", PROJECTIONS)
def test_random_reads_and_writes_agree_with_the_database(db: Engine, redis_client: redis.Redis, key_prefix: str,
                                                         projection: str) -> None:
    """No read through the cached model, hit or miss, ever differs from the database (exact digits and offsets)."""
    machine = type("Machine", (CachedModelMachine,), {
        "engine": db, "client": redis_client, "prefix": key_prefix, "projection": projection, "steps": Counter(),
    })
    run_state_machine_as_test(machine, settings=settings(
        max_examples=MAX_EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    ))
    print(f"\n{projection}: {dict(machine.steps)}")
    assert machine.steps["reads"] > 0 and machine.steps["cache hits"] > 0
