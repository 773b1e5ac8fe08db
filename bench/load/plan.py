"""The steps of a load sweep and the plan file the CLI hands to Locust's master (or single) process.

A step is one setting measured for one window: migration state, cache on/off,
connection mode (each user its own connection, or a shared pool of P per
process) and user count. Steps run in the order ``build_steps`` gives: within a
trial, for each user count and pool setting, the migration states and cache
settings follow each other in a seeded random order, so the alternatives being
compared are measured back to back and none is always first. The plan holds no
secret: server URLs reach each Locust process from its own environment or flags,
never through the plan or Locust's messages.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from balance_bench.bench.load.mix import KeyRow
from balance_bench.coordinates import CacheUse, Migration
from balance_bench.records import Fields, Kind, check_version, decode_json

__all__ = ["PLAN_VERSION", "LOAD_PLAN", "StepSpec", "LoadPlan", "build_steps", "conninfo", "OWN", "pool_label"]

PLAN_VERSION = 1
OWN = "own"
"""The connection setting where each user holds its own connection (pgbench's clients)."""
LOAD_PLAN = Kind(name="load plan", key="version", readable=(PLAN_VERSION,),
                 advice="the master and its workers must run the same balance-bench version")
"""The plan as ``balance_bench.records`` reads it."""


def pool_label(pool: int | None) -> str:
    """``own`` for per-user connections, else the pool size."""
    return OWN if pool is None else str(pool)


@dataclass(frozen=True)
class StepSpec:
    """One measured setting of the sweep."""

    index: int
    trial: int
    migration: Migration
    cache: CacheUse
    pool: int | None  # None: each user its own connection; P: a shared pool of P connections per process
    users: int
    database: str
    key_prefix: str  # this step's own cache namespace, so every cache-on step starts empty

    @property
    def label(self) -> str:
        """The step's name in Locust's statistics (its "method" column) and in file names."""
        return f"s{self.index:03d}"

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "step") -> StepSpec:
        """A step as the driver's message and a capture carry it (JSON: the coordinates as strings), each field
        checked and read back as its type, so ``cache`` is a ``CacheUse`` and not the string "on"."""
        return Fields(data, where).build(cls, refuse_unknown=True)

    def describe(self) -> str:
        return (f"{self.migration} cache={self.cache} connections={pool_label(self.pool)} "
                f"users={self.users}" + (f" trial={self.trial + 1}" if self.trial else ""))


def build_steps(users: Sequence[int], caches: Sequence[CacheUse], migrations: Sequence[Migration],
                pools: Sequence[int | None], trials: int, databases: dict[Migration, str], prefix: str,
                order_seed: int = 0) -> list[StepSpec]:
    """Every combination, alternatives adjacent: trial > users > pool, then (migration, cache) in a shuffled order."""
    rng = random.Random(order_seed)
    steps: list[StepSpec] = []
    for trial, n, pool in itertools.product(range(trials), users, pools):
        block = list(itertools.product(migrations, caches))
        rng.shuffle(block)
        for migration, cache in block:
            index = len(steps)
            steps.append(StepSpec(index=index, trial=trial, migration=migration, cache=cache, pool=pool, users=n,
                                  database=databases[migration], key_prefix=f"{prefix}s{index:03d}:"))
    return steps


@dataclass(frozen=True)
class LoadPlan:
    """Everything Locust's processes need besides the server URLs."""

    run_id: str
    seed: int
    mix: list[tuple[str, float]]
    warmup_s: float
    duration_s: float
    keys: list[KeyRow]
    steps: list[StepSpec]
    out_dir: str
    statements: bool  # whether pg_stat_statements can be read on the step databases
    stop_timeout_s: float = 30.0
    version: int = PLAN_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str, where: str = "load plan") -> LoadPlan:
        """The plan in ``text`` (``where`` names it in errors): every field of its type, none it does not have."""
        document = decode_json(text, where)
        check_version(document, where, LOAD_PLAN)
        return Fields(document, where).build(cls, refuse_unknown=True)

    def write(self, path: Path) -> Path:
        path.write_text(self.to_json(), encoding="utf-8")
        return path


def conninfo(server_url: str, database: str) -> str:
    """A libpq connection string for ``database`` on the server of ``server_url`` (any SQLAlchemy or libpq URL)."""
    url = make_url(server_url.replace("postgres://", "postgresql://", 1))
    return url.set(drivername="postgresql", database=database).render_as_string(hide_password=False)
