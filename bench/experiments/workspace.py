"""Private copies of the datasets an experiment's variants need, at one migration state, removed afterwards.

Each variant gets its own copy (``CREATE DATABASE ... TEMPLATE`` of the reusable
dataset in the variant's layout, built first if needed), so a variant's DDL
and writes never reach another variant or the reusable dataset. Cache keys go
under a prefix unique to the workspace, and only those keys are deleted at the
end. With a replica, the copies are waited for until the replica has replayed
their creation.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import redis
from sqlalchemy import create_engine

from balance_bench.bench.experiments.spec import Experiment, Workspace
from balance_bench.bench.world import REVISION_OF
from balance_bench.coordinates import Migration
from balance_bench.fixtures import migrate
from balance_bench.fixtures.databases import PREFIX, create_owned, drop_owned_together
from balance_bench.fixtures.datasets import ensure_dataset
from balance_bench.fixtures.layouts import get_layout
from balance_bench.fixtures.replica import Replica, wait_for_replay
from balance_bench.fixtures.services import Endpoints, connect_postgres
from balance_bench.scales import Scale

__all__ = ["experiment_workspaces", "delete_prefixed"]


def _migrate(url: str, migration: Migration) -> None:
    target = REVISION_OF[migration]
    engine = create_engine(url)
    try:
        if migrate.current_revision(engine) != target:
            (migrate.upgrade if target == migrate.HEAD else migrate.downgrade)(engine, target)
    finally:
        engine.dispose()


def delete_prefixed(client: redis.Redis, prefix: str) -> int:
    """Delete the keys under ``prefix`` (a prefix this suite made unique); returns how many."""
    escaped = "".join(f"\\{c}" if c in "*?[]\\" else c for c in prefix)
    keys = list(client.scan_iter(match=f"{escaped}*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start:start + 500])
    return len(keys)


@contextmanager
def experiment_workspaces(experiment: Experiment[Any], endpoints: Endpoints, scale: Scale, seed: int,
                          migration: Migration, client: redis.Redis, replica: Replica | None = None,
                          drops: list[str] | None = None) -> Iterator[dict[str, Workspace]]:
    """One workspace per variant of ``experiment`` at ``migration``; copies dropped and keys deleted on exit.

    With ``drops``, the copies' names are appended to it instead and the caller
    drops them (with others: ``drop_owned_together``, one checkpoint for all).
    """
    if experiment.needs_replica and replica is None:
        raise ValueError(f"experiment {experiment.name!r} needs a replica")
    run = uuid.uuid4().hex[:8]
    names: list[str] = drops if drops is not None else []
    with ExitStack() as stack:
        if drops is None:
            stack.callback(drop_owned_together, endpoints, names)
        spaces: dict[str, Workspace] = {}
        for variant in experiment.variants:
            dataset = ensure_dataset(endpoints, scale, seed, layout=get_layout(variant.layout))
            name = f"{PREFIX}x{run}_{experiment.name}_{variant.name}"[:63]
            names.append(name)  # before it exists: a failed CREATE leaves nothing, and a drop of nothing is fine
            create_owned(endpoints, name, template=dataset.database)
            url = endpoints.database_url(name)
            _migrate(url, migration)
            prefix = f"{endpoints.redis_prefix}x{run}:{variant.name}:"
            stack.callback(delete_prefixed, client, prefix)
            spaces[variant.name] = Workspace(variant.name, migration, dataset, url, client, prefix,
                                             replica if experiment.needs_replica else None, seed)
        if experiment.needs_replica and replica is not None:
            with connect_postgres(endpoints.pg_url) as primary, connect_postgres(replica.url) as standby:
                wait_for_replay(primary, standby, timeout_s=120)
        yield spaces
