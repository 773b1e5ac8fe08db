"""The benchmark's world: per scale, two private copies of the dataset, one per migration state, live at once.

Each run clones the reusable dataset database twice (``CREATE DATABASE ...
TEMPLATE``): one copy is taken back to the baseline revision by migration
012's real downgrade, the other stays at 012 as the dataset was built by its
real upgrade; each revision ANALYZEs. With both states live, a trial can
interleave without-012 and with-012 cases freely: no migration switch sits
between the two sides of a comparison. Writes and migration steps never alter
the reusable dataset, and two runs never step on each other.

Measurement hygiene on the copies: autovacuum is off (its timing is not ours
to choose, and an autoanalyze mid-run would change plans between trials), and
each trial starts with a plain ``VACUUM`` of ``balances`` so the dead rows of
the previous trial's writes do not pile up. Writes touch only the copy's
dedicated write row (``WriteTarget``) and rows they create, never a row a read
case asks for. Cache keys of the two copies live under different prefixes.

Everything is removed at the end: the copies (ours, marked) and the cache keys
this run wrote (by its own prefix), nothing else.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import psycopg
import redis
from sqlalchemy import Engine, create_engine, make_url, text

from balance_bench.bench.plan_capture import recording_engine
from balance_bench.bench.revision import CHECKOUT, Implementation
from balance_bench.bench.traffic import TrafficProbe
from balance_bench.config import Config
from balance_bench.coordinates import OPTIMIZED, CacheState, Migration
from balance_bench.fixtures import migrate
from balance_bench.fixtures.databases import PREFIX, create_owned, drop_owned
from balance_bench.fixtures.datasets import Dataset
from balance_bench.fixtures.services import Endpoints, psycopg_dsn
from balance_bench.scales import Scale
from balance_model.cache import BalanceCache
from balance_model.model import BalanceModel

__all__ = ["WriteTarget", "Copy", "ScaleWorld", "World", "REVISION_OF", "CacheFactory", "libpq_options"]

REVISION_OF = {Migration.WITHOUT_012: migrate.BASELINE, Migration.WITH_012: migrate.HEAD}
_COPY_SUFFIX = {Migration.WITHOUT_012: "b", Migration.WITH_012: "m"}

CacheFactory = Callable[..., BalanceCache]
"""How a copy's caches are made: ``BalanceCache`` itself, or (``check``'s tests) a cache with a fault built in."""


@dataclass(frozen=True)
class WriteTarget:
    """The balance write cases credit and debit, and the user and token they create rows for."""

    balance_id: int
    user_id: int
    token_id: int
    address: str


@dataclass
class Copy:
    """One private copy of a scale's dataset at one migration state, and the models over it."""

    migration: Migration
    database: str
    engine: Engine
    capture_engine: Engine
    cache: BalanceCache
    guide_cache: BalanceCache  # the guide's design (FillMode.GUIDE) over the same keys, for its cold cases
    traffic: TrafficProbe
    traffic_cache: BalanceCache  # ``cache`` and ``guide_cache`` again, through the probe's counting client
    traffic_guide_cache: BalanceCache
    model_class: type[BalanceModel] = BalanceModel  # the side's system under test (``revision``)
    models: dict[tuple[bool, bool, BalanceCache | None, str], BalanceModel] = field(default_factory=dict)

    def cache_for(self, cache: CacheState, traffic: bool = False) -> BalanceCache | None:
        """The cache a model in this state reads through: none, ours, or the guide's design (counted or not)."""
        if not cache.cached:
            return None
        if traffic:
            return self.traffic_guide_cache if cache.guide_design else self.traffic_cache
        return self.guide_cache if cache.guide_design else self.cache

    def model(self, cache: CacheState, projection: str = OPTIMIZED, *, capture: bool = False,
              traffic: bool = False) -> BalanceModel:
        """The model for a cache state (no cache unless the state is cached); ``capture`` records its SQL,
        ``traffic`` makes a twin whose PostgreSQL and Redis traffic ``self.traffic`` counts."""
        key = (capture, traffic, self.cache_for(cache, traffic), projection)
        if key not in self.models:
            engine = self.capture_engine if capture else self.traffic.engine if traffic else self.engine
            self.models[key] = self.model_class(engine, key[2], projection=projection)
        return self.models[key]

    def close(self) -> None:
        """Close every model and engine; each is closed even when closing another failed (the last error is
        raised once all are done)."""
        with ExitStack() as stack:
            stack.callback(self.traffic.close)
            stack.callback(self.capture_engine.dispose)
            stack.callback(self.engine.dispose)
            for model in self.models.values():
                stack.callback(model.close)


@dataclass
class ScaleWorld:
    """A scale's dataset, its two live copies and the write target they share."""

    scale: Scale
    dataset: Dataset
    copies: dict[Migration, Copy]
    write_target: WriteTarget
    index_sizes: dict[str, int]
    trial: int | None = None


class World:
    """Prepares each scale's two copies on first use and starts every trial from a vacuumed table.

    ``cache_factory`` makes every cache of the copies: the implementation's ``BalanceCache``, or in ``check``'s
    tests one with a fault built in, so a test proves the check catches it without a test-only branch anywhere in
    the library. An in-run A/B has one world per side: ``implementation`` is the side's model (``revision``),
    ``settings`` PostgreSQL settings every connection of its copies starts with, and ``label`` keeps its cache
    keys apart from the other side's. A side on the same server ``shares`` the other side's copies: both sides then
    read the same pages in the same buffer cache, so no difference between two copies' physical state lands in
    their ratio (measured: with a copy each, an in-run A/A put one side's full-table sum 5-7% behind the other's
    at ``small``, where four copies outgrow shared_buffers). Only the sharing world's connections, models and
    cache keys are its own; the copies are prepared, vacuumed and dropped by the world that made them.
    """

    def __init__(self, config: Config, endpoints: Endpoints, datasets: dict[str, Dataset], *,
                 cache_factory: CacheFactory | None = None, implementation: Implementation = CHECKOUT,
                 settings: dict[str, str] | None = None, label: str = "", shares: World | None = None) -> None:
        self.config = config
        self.shares = shares
        self.implementation = implementation
        self.cache_factory: CacheFactory = cache_factory or implementation.cache
        self.settings = dict(settings or {})
        self.endpoints = endpoints
        self.datasets_by_scale = datasets
        self.run_id = uuid.uuid4().hex[:10]
        # The embedded Redis is private to this process; an external one is shared, so isolate this run.
        run = endpoints.redis_prefix if endpoints.redis_embedded else f"{endpoints.redis_prefix}run-{self.run_id}:"
        self.key_prefix = run + (f"{label}:" if label else "")
        self.redis = redis.Redis.from_url(endpoints.redis_url)
        self.scales: dict[str, ScaleWorld] = {}
        self._databases: list[str] = []
        # Untimed work of the matrix by stage, for the run's record, always in this order.
        self.stage_seconds: dict[str, float] = dict.fromkeys(("copies", "plans", "traffic"), 0.0)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Add the seconds of the ``with`` block to stage ``name`` (copies, plans, traffic): where a run's time
        goes besides its timed rounds."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stage_seconds[name] = round(self.stage_seconds.get(name, 0.0) + time.perf_counter() - started, 3)

    def copy(self, scale_name: str, migration: Migration) -> Copy:
        """The scale's live copy at ``migration``."""
        return self.scale(scale_name).copies[migration]

    def scale(self, scale_name: str) -> ScaleWorld:
        """The scale's world, prepared on first use."""
        return self.scales.get(scale_name) or self._prepare(scale_name)

    def begin_trial(self, scale_name: str, trial: int) -> None:
        """VACUUM both copies once at the start of each trial (outside any timing)."""
        if self.shares is not None:
            self.scale(scale_name)
            self.shares.begin_trial(scale_name, trial)
            return
        world = self.scale(scale_name)
        if world.trial == trial:
            return
        for copy in world.copies.values():
            with psycopg.connect(psycopg_dsn(copy.engine.url.render_as_string(hide_password=False)),
                                 autocommit=True) as conn:
                conn.execute("VACUUM balances")
        world.trial = trial

    def _prepare(self, scale_name: str) -> ScaleWorld:
        scale = next(s for s in self.config.scales if s.name == scale_name)
        dataset = self.datasets_by_scale[scale_name]
        copies: dict[Migration, Copy] = {}
        owner = self.shares.scale(scale_name) if self.shares is not None else None
        for migration in Migration:
            if owner is not None:
                name = owner.copies[migration].database
                url = self._url(name)
                engine = create_engine(url, pool_size=4)
            else:
                name = f"{PREFIX}run_{self.run_id}_{scale.name}"[:61] + f"_{_COPY_SUFFIX[migration]}"
                with self.stage("copies"):
                    create_owned(self.endpoints, name, template=dataset.database)
                    self._databases.append(name)
                    url = self._url(name)
                    engine = create_engine(url, pool_size=4)
                    if migrate.current_revision(engine) != REVISION_OF[migration]:
                        migrate.downgrade(engine, REVISION_OF[migration])  # the real revision, which ANALYZEs
                    with engine.begin() as conn:
                        conn.execute(text("ALTER TABLE balances SET (autovacuum_enabled = false)"))
            prefix = f"{self.key_prefix}{migration}:"
            probe = TrafficProbe.open(url, self.endpoints.redis_url)
            cache = self.cache_factory
            guide = self.implementation.guide_fill
            copies[migration] = Copy(migration, name, engine, recording_engine(url), cache(self.redis, prefix),
                                     cache(self.redis, prefix, fill=guide), probe,
                                     cache(probe.redis, prefix), cache(probe.redis, prefix, fill=guide),
                                     model_class=self.implementation.model)
        with_012 = copies[Migration.WITH_012].engine
        target = owner.write_target if owner is not None else _write_target(with_012, dataset)
        world = ScaleWorld(scale, dataset, copies, target,
                           {ix.name: ix.size_bytes for ix in migrate.index_status(with_012)})
        self.scales[scale_name] = world
        return world

    def _url(self, database: str) -> str:
        """The copy's URL; with ``settings``, libpq's ``options`` sets them on every connection made from it."""
        url = self.endpoints.database_url(database)
        if not self.settings:
            return url
        options = libpq_options(self.settings)
        return make_url(url).update_query_dict({"options": options}).render_as_string(hide_password=False)

    def datasets(self) -> list[dict[str, object]]:
        """What each prepared scale's dataset is, for the run's environment record."""
        return [w.dataset.describe() for w in self.scales.values()]

    def index_sizes(self) -> dict[str, dict[str, int]]:
        """Bytes of each migration 012 index per scale, as measured on the with-012 copy."""
        return {name: dict(w.index_sizes) for name, w in self.scales.items()}

    def close(self) -> None:
        """Drop this run's copies and delete the cache keys it wrote (by its own prefix only).

        Each step runs even when an earlier one failed: after a Ctrl-C mid-statement, closing a model may fail,
        and the copies must be dropped all the same (their connections are ended by the forced drop).
        """
        with ExitStack() as stack:
            stack.callback(self.redis.close)
            stack.callback(self._delete_keys)
            stack.callback(self._drop_databases)
            for world in self.scales.values():
                for copy in world.copies.values():
                    stack.callback(copy.close)

    def _drop_databases(self) -> None:
        for name in self._databases:
            drop_owned(self.endpoints, name)

    def _delete_keys(self) -> None:
        if not self.endpoints.redis_embedded:
            keys = list(self.redis.scan_iter(match=f"{_glob_escape(self.key_prefix)}*", count=1000))
            for start in range(0, len(keys), 500):
                self.redis.delete(*keys[start:start + 500])


def libpq_options(settings: dict[str, str]) -> str:
    """PostgreSQL settings as libpq's ``options`` string: ``-c name=value`` each (values need no quoting)."""
    return " ".join(f"-c {name}={value}" for name, value in settings.items())


def _write_target(engine: Engine, dataset: Dataset) -> WriteTarget:
    """The highest-id balance of a user no read case asks about: the write cases' own row."""
    p = dataset.params
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, user_id, token_id, address FROM balances"
                 " WHERE user_id NOT IN (:typical, :whale, :pair_user) AND id <> :balance AND amount > 1"
                 " ORDER BY id DESC LIMIT 1"),
            {"typical": p.typical_user_id, "whale": p.whale_user_id, "pair_user": p.user_token[0],
             "balance": p.balance_id},
        ).one()
    return WriteTarget(balance_id=row[0], user_id=row[1], token_id=row[2], address=row[3])


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)
