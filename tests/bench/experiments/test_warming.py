"""Warming and batches: warm() fills what it promises and buys hits; a batch sends one DEL for N writes."""

from __future__ import annotations

import pytest

from balance_bench.bench.experiments.spec import Estimate, exercise
from balance_bench.bench.experiments.warming import BATCH_WRITES, EXPERIMENT, popularity, read_loop

from .conftest import Spaces


@pytest.mark.services
def test_batches_send_one_del_and_warming_buys_hits(spaces: Spaces) -> None:
    """N single credits send N DELs of 10 keys, a batch one DEL of the distinct keys; warming raises the hit rate."""
    with spaces(EXPERIMENT, "with_012") as made:
        outcome = exercise(EXPERIMENT, made)
    counts = outcome.probes["guide.invalidations"]
    writes = counts["writes"]
    assert writes == BATCH_WRITES
    assert counts["single_del_commands"] == writes and counts["single_keys"] == 10 * writes
    assert counts["batch_del_commands"] == 1
    # Distinct keys: per balance its id, user list, user+token and user total (distinct users), one system total.
    assert counts["batch_keys"] == 2 * (4 * writes + 1)
    rates = outcome.probes["guide.hit_rate"]
    assert 0 < rates["warm_0"] < rates["warm_100"] <= 1
    assert set(rates) == {"warm_0", "warm_1", "warm_100"}  # tiny has 200 users: no 1,000 to warm
    assert {c for c in outcome.results if c.startswith("guide-warm")} == {"guide-warm-users-1", "guide-warm-users-100"}


def test_popularity_and_the_read_loop_are_seeded_and_skewed() -> None:
    """The same seed gives the same ranks and requests; the most popular user is asked most often."""
    users = list(range(1, 501))
    ranked = popularity(users, 42)
    assert ranked == popularity(users, 42) != popularity(users, 43) and sorted(ranked) == users
    loop = read_loop(ranked, 2000, 42)
    assert loop == read_loop(ranked, 2000, 42)
    assert loop.count(ranked[0]) > loop.count(ranked[250]) and loop.count(ranked[0]) > 100


def test_the_conclusion_quotes_hit_rates_and_dels() -> None:
    """Hit rates as percentages, the DEL counts and the batch's time ratio."""
    sentence = EXPERIMENT.conclude({
        "with_012.guide.hit_rate.warm_0": Estimate(0.5), "with_012.guide.hit_rate.warm_100": Estimate(0.8),
        "with_012.guide.invalidations.single_del_commands": Estimate(100),
        "with_012.batch_vs_single": Estimate(0.7, 0.6, 0.8)})
    assert "from 50% to 80%" in sentence and "1 DEL instead of 100" in sentence and "0.70x (95% CI" in sentence
