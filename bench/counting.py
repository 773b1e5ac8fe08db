"""Counting what the cache sends to Redis: a counting client, and the server's own INFO commandstats.

``CountingRedis`` is a redis-py client that counts each command it sends (Lua
scripts count as ``EVALSHA``) and the keys its ``DEL``s name; give it to a
``BalanceCache`` and it counts exactly that cache's traffic, on any Redis.
``commandstats`` reads the server's counters, which include every client: an
exact cross-check only on a Redis nobody else uses (the embedded one), where
the two must agree.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import redis

__all__ = ["CountingRedis", "commandstats", "commandstats_delta"]


class CountingRedis(redis.Redis):
    """A redis-py client counting the commands it executes (by upper-case name) and the keys its DELs delete.

    Share a pool with another client: ``CountingRedis(connection_pool=other.connection_pool)``.
    Pipelines are not counted (the cache does not use them).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._count_lock = threading.Lock()
        self.commands: Counter[str] = Counter()
        self.deleted_keys = 0

    def execute_command(self, *args: Any, **options: Any) -> Any:
        name = str(args[0]).upper()
        with self._count_lock:
            self.commands[name] += 1
            if name == "DEL":
                self.deleted_keys += len(args) - 1
        return super().execute_command(*args, **options)  # type: ignore[no-untyped-call]

    def reset_counts(self) -> None:
        """Forget what was counted so far."""
        with self._count_lock:
            self.commands.clear()
            self.deleted_keys = 0


def commandstats(client: redis.Redis) -> dict[str, int]:
    """Calls per command since the server started (or its last CONFIG RESETSTAT), lower-case names."""
    info = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(stats["calls"]) for name, stats in info.items()}


def commandstats_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """The calls made between two ``commandstats`` readings, commands with none left out."""
    return {name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)}
