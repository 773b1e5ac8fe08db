"""The benchmark's world: one private copy of each scale's dataset, its migration state, and the models.

Each run works on a clone of the reusable dataset database (``CREATE DATABASE
... TEMPLATE``), so write benchmarks and migration switches never alter the
dataset, and two runs never step on each other. Cache keys go under a per-run
prefix on an external Redis. Everything is removed at the end: the clones
(ours, marked) and the keys this run wrote (by its own prefix), nothing else.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import redis
from sqlalchemy import Engine, create_engine

from balance_bench.bench.plans import recording_engine
from balance_bench.config import Config
from balance_bench.fixtures import migrate
from balance_bench.fixtures.databases import PREFIX, create_owned, drop_owned
from balance_bench.fixtures.datasets import Dataset
from balance_bench.fixtures.services import Endpoints
from balance_bench.scales import Scale
from balance_model.cache import BalanceCache
from balance_model.model import BalanceModel

__all__ = ["ScaleState", "World", "REVISION_OF"]

REVISION_OF = {"without_012": migrate.BASELINE, "with_012": migrate.HEAD}


@dataclass
class ScaleState:
    """A scale's private database copy and the models over it."""

    scale: Scale
    dataset: Dataset
    engine: Engine
    capture_engine: Engine
    cache: BalanceCache
    redis: redis.Redis
    migration: str | None = None
    index_sizes: dict[str, int] = field(default_factory=dict)
    models: dict[tuple[bool, str, str], BalanceModel] = field(default_factory=dict)

    def model(self, cache: str, projection: str = "optimized", *, capture: bool = False) -> BalanceModel:
        """The model for a cache state (none for ``nocache``); ``capture`` runs it on the recording engine."""
        cached = cache != "nocache"
        key = (capture, "cached" if cached else "nocache", projection)
        if key not in self.models:
            engine = self.capture_engine if capture else self.engine
            self.models[key] = BalanceModel(engine, self.cache if cached else None, projection=projection)
        return self.models[key]

    def close(self) -> None:
        for model in self.models.values():
            model.close()
        self.engine.dispose()
        self.capture_engine.dispose()


class World:
    """Prepares scales lazily and switches their migration state only when a case needs another one."""

    def __init__(self, config: Config, endpoints: Endpoints, datasets: dict[str, Dataset]) -> None:
        self.config = config
        self.endpoints = endpoints
        self.datasets_by_scale = datasets
        self.run_id = uuid.uuid4().hex[:10]
        # The embedded Redis is private to this process; an external one is shared, so isolate this run.
        self.key_prefix = endpoints.redis_prefix if endpoints.redis_embedded else (
            f"{endpoints.redis_prefix}run-{self.run_id}:"
        )
        self.redis = redis.Redis.from_url(endpoints.redis_url)
        self.states: dict[str, ScaleState] = {}
        self.clones: list[str] = []

    def ready(self, scale_name: str, migration: str) -> ScaleState:
        """The scale's state at ``migration`` (``without_012`` or ``with_012``), ANALYZEd by the migration."""
        state = self.states.get(scale_name) or self._prepare(scale_name)
        if state.migration != migration:
            target = REVISION_OF[migration]
            if migrate.current_revision(state.engine) != target:
                if target == migrate.HEAD:
                    migrate.upgrade(state.engine, target)
                else:
                    migrate.downgrade(state.engine, target)
            state.migration = migration
            if migration == "with_012" and not state.index_sizes:
                state.index_sizes = {ix.name: ix.size_bytes for ix in migrate.index_status(state.engine)}
        return state

    def _prepare(self, scale_name: str) -> ScaleState:
        scale = next(s for s in self.config.scales if s.name == scale_name)
        dataset = self.datasets_by_scale[scale_name]
        clone = f"{PREFIX}run_{self.run_id}_{scale.name}"[:63]
        create_owned(self.endpoints, clone, template=dataset.database)
        self.clones.append(clone)
        url = self.endpoints.database_url(clone)
        state = ScaleState(scale, dataset, create_engine(url, pool_size=4), recording_engine(url),
                           BalanceCache(self.redis, prefix=self.key_prefix), self.redis)
        self.states[scale_name] = state
        return state

    def datasets(self) -> list[dict[str, Any]]:
        """What each prepared scale's dataset is, for the run's environment record."""
        return [s.dataset.describe() for s in self.states.values()]

    def index_sizes(self) -> dict[str, dict[str, int]]:
        """Bytes of each migration 012 index per scale, as measured with 012 applied."""
        return {name: dict(s.index_sizes) for name, s in self.states.items() if s.index_sizes}

    def close(self) -> None:
        """Drop this run's clones and delete the cache keys it wrote (by its own prefix only)."""
        for state in self.states.values():
            state.close()
        for clone in self.clones:
            drop_owned(self.endpoints, clone)
        if not self.endpoints.redis_embedded:
            keys = list(self.redis.scan_iter(match=f"{_glob_escape(self.key_prefix)}*", count=1000))
            for start in range(0, len(keys), 500):
                self.redis.delete(*keys[start:start + 500])
        self.redis.close()


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)
