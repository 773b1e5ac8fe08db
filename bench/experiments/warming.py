"""Warming and batches: what ``model.warm(user_ids)`` costs and buys, and what ``model.batch()`` saves.

The guide recommends warming the cache for frequently accessed users and
invalidating once after bulk updates. One variant (``guide``: the cached model
on a copy with 012); the comparisons are between its cases and probes:

* timed ``warm`` of the ``WARM_SIZES`` most popular users (each round starts
  with their keys deleted, untimed): the price of warming;
* probe ``hit_rate``: a read loop of ``READS`` requests (the user's balances and
  total, as ``warm`` fills) over users drawn from a seeded Zipf(1.1)
  popularity, after warming the top K users, K in 0 and ``WARM_SIZES``: what
  warming buys. Popularity ranks are a seeded permutation of the user ids;
* timed ``credits`` of ``BATCH_WRITES`` balances one by one against the same in
  one ``batch()``, and probe ``invalidations`` counting the DEL commands and keys
  each sends, from a counting client (``bench.counting``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Engine, text

from balance_bench.bench.counting import CountingRedis
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
from balance_bench.coordinates import CacheState, Kind, Migration
from balance_model.cache import BalanceCache
from balance_model.model import BalanceModel

__all__ = ["EXPERIMENT", "WARM_SIZES", "BATCH_WRITES", "READS", "ZIPF_EXPONENT", "popularity", "read_loop",
           "hit_rate_after_warming", "count_invalidations"]

WARM_SIZES = (1, 100, 1000)
BATCH_WRITES = 100
READS = 2000
ZIPF_EXPONENT = 1.1
_CREDIT = Decimal("0.000000000001")
_WARMED_FAMILIES = ("by_user", "total_by_user")  # what warm() fills


def popularity(user_ids: list[int], seed: int) -> list[int]:
    """User ids from most to least popular: a seeded permutation (popularity is not tied to holdings)."""
    order = np.random.default_rng(seed).permutation(len(user_ids))
    return [user_ids[i] for i in order]


def read_loop(ranked: list[int], reads: int, seed: int) -> list[int]:
    """``reads`` user ids drawn with Zipf(``ZIPF_EXPONENT``) probabilities over the popularity ranks (seeded)."""
    weights = 1.0 / np.arange(1, len(ranked) + 1, dtype=np.float64) ** ZIPF_EXPONENT
    picks = np.random.default_rng(seed + 1).choice(len(ranked), size=reads, p=weights / weights.sum())
    return [ranked[i] for i in picks]


@dataclass
class WarmingState:
    """The cached model over the copy, with a counting client, the users by popularity and the credited balances."""

    variant: str
    url: str
    engine: Engine
    client: CountingRedis
    cache: BalanceCache
    model: BalanceModel
    ranked: list[int]
    balance_ids: list[int]
    seed: int

    def forget(self, user_ids: list[int]) -> None:
        """Delete the keys ``warm`` fills for these users (exact keys, untimed setup)."""
        keys = [self.cache.key_for(q, user_id=u) for u in user_ids
                for q in ("find_by_user_id", "total_balance_by_user")]
        for start in range(0, len(keys), 500):
            self.client.delete(*[k for k in keys[start:start + 500] if k is not None])

    def close(self) -> None:
        self.model.close()
        self.engine.dispose()


def _prepare(workspace: Workspace) -> WarmingState:
    engine = workspace.engine(pool_size=2)
    client = CountingRedis(connection_pool=workspace.redis.connection_pool)
    cache = BalanceCache(client, workspace.key_prefix)
    with engine.connect() as conn:
        users = list(conn.execute(text("SELECT id FROM users ORDER BY id")).scalars())
        # One balance for each of BATCH_WRITES users: the lowest id of each of the first users holding any.
        balance_ids = list(conn.execute(text(
            "SELECT min(id) FROM balances GROUP BY user_id ORDER BY user_id LIMIT :n"), {"n": BATCH_WRITES}).scalars())
    return WarmingState(workspace.variant, workspace.url, engine, client, cache, BalanceModel(engine, cache),
                        popularity(users, workspace.seed), balance_ids, workspace.seed)


def _warm_sizes(state: WarmingState) -> list[int]:
    return [k for k in WARM_SIZES if k <= len(state.ranked)]


def _cases(state: WarmingState) -> tuple[ExperimentCase, ...]:
    warm = [ExperimentCase(state.variant, "warm", f"users-{k}", {"users": k}, cache=CacheState.COLD)
            for k in _warm_sizes(state)]
    writes = [ExperimentCase(state.variant, "credits", f"{how}-{BATCH_WRITES}", {"writes": BATCH_WRITES}, Kind.WRITE,
                             CacheState.INVALIDATE) for how in ("single", "batch")]
    return (*warm, *writes)


def _credits(state: WarmingState, batched: bool) -> None:
    if batched:
        with state.model.batch():
            for balance_id in state.balance_ids:
                state.model.credit(balance_id, _CREDIT)
    else:
        for balance_id in state.balance_ids:
            state.model.credit(balance_id, _CREDIT)


def _call(state: WarmingState, case: ExperimentCase) -> Call:
    if case.operation == "warm":
        users = state.ranked[:int(case.params["users"])]
        return Call(lambda: state.model.warm(users), setup=lambda: state.forget(users))
    batched = case.param_kind.startswith("batch")
    return Call(lambda: _credits(state, batched))


def count_invalidations(state: WarmingState, batched: bool) -> tuple[int, int]:
    """(DEL commands, keys deleted) sent by ``BATCH_WRITES`` credits, one by one or in one batch."""
    state.client.reset_counts()
    _credits(state, batched)
    return state.client.commands["DEL"], state.client.deleted_keys


def hit_rate_after_warming(state: WarmingState, warmed: int, reads: int) -> float:
    """The hit rate of the read loop after warming the ``warmed`` most popular users (no key of theirs before)."""
    loop = read_loop(state.ranked, reads, state.seed)
    state.forget(sorted(set(loop) | set(state.ranked[:warmed])))
    state.model.warm(state.ranked[:warmed])
    state.cache.reset_stats()
    for user_id in loop:
        state.model.find_by_user_id(user_id)
        state.model.total_balance_by_user(user_id)
    stats = state.cache.stats()
    hits = sum(stats[f].hits for f in _WARMED_FAMILIES)
    misses = sum(stats[f].misses for f in _WARMED_FAMILIES)
    return hits / (hits + misses)


def _hit_rate(state: WarmingState, quick: bool) -> dict[str, float]:
    reads = READS // 5 if quick else READS
    return {f"warm_{k}": hit_rate_after_warming(state, k, reads) for k in (0, *_warm_sizes(state))}


def _invalidations(state: WarmingState, quick: bool) -> dict[str, float]:
    single_dels, single_keys = count_invalidations(state, batched=False)
    batch_dels, batch_keys = count_invalidations(state, batched=True)
    return {"writes": float(len(state.balance_ids)), "single_del_commands": float(single_dels),
            "single_keys": float(single_keys), "batch_del_commands": float(batch_dels),
            "batch_keys": float(batch_keys)}


def _check(states: Mapping[str, WarmingState]) -> None:
    for state in states.values():
        user = state.ranked[0]
        state.forget([user])
        state.model.warm([user])
        for query in ("find_by_user_id", "total_balance_by_user"):
            key = state.cache.key_for(query, user_id=user)
            if key is None or not state.client.exists(key):
                raise CheckFailed(f"warm() did not fill {query} for user {user}")
        dels, _ = count_invalidations(state, batched=True)
        if dels != 1:
            raise CheckFailed(f"a batch of {len(state.balance_ids)} credits sent {dels} DELs, not 1")


def _plan(state: WarmingState, case: ExperimentCase) -> PlanTarget | None:
    return None  # many statements per call: the matrix's plans of find_by_user_id and credit explain them


def _conclude(figures: Figures) -> str:
    def f(name: str) -> Any:
        return figures[figure_key(Migration.WITH_012, name)]

    cold, warm100 = f("guide.hit_rate.warm_0").value, f("guide.hit_rate.warm_100").value
    dels = f("guide.invalidations.single_del_commands").value
    batch_cost = f("batch_vs_single")
    return (f"Warming the 100 most popular users lifts the hit rate of a Zipf read loop from {cold:.0%} to "
            f"{warm100:.0%}; a batch of {BATCH_WRITES} credits sends 1 DEL instead of {dels:.0f} and takes "
            f"{times(batch_cost)} the time of single credits.")


EXPERIMENT: Experiment[WarmingState] = Experiment(
    name="warming",
    title="Cache warming and batched invalidation",
    question='"Cache Warming: for high-traffic endpoints, consider warming the cache" and "Batch Operations: '
             'invalidate cache once after all operations" (Best Practices)',
    variants=(Variant("guide", "the guide's cached model: warm() and batch()"),),
    migrations=(Migration.WITH_012,),
    prepare=_prepare,
    cases=_cases,
    call=_call,
    check=_check,
    plan=_plan,
    conclude=_conclude,
    probes=(
        Probe("hit_rate", "hit rate of a Zipf read loop after warming the top K users", _hit_rate),
        Probe("invalidations", "DEL commands and keys sent by single and batched credits", _invalidations),
    ),
    ratios=(
        Ratio("batch_vs_single", f"guide-credits-batch-{BATCH_WRITES}", f"guide-credits-single-{BATCH_WRITES}"),
        Ratio("warm_1000_vs_100", "guide-warm-users-1000", "guide-warm-users-100"),
    ),
)
