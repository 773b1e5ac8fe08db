"""Running experiments untimed on private copies of the tiny datasets, as the engine will before timing them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
import redis
from sqlalchemy import create_engine

from balance_bench.bench.experiments.spec import Experiment, PlanTarget, Workspace
from balance_bench.bench.experiments.workspace import experiment_workspaces
from balance_bench.bench.plan_capture import explain
from balance_bench.coordinates import Migration
from balance_bench.fixtures.replica import Replica
from balance_bench.fixtures.services import Endpoints
from balance_bench.plans.parser import ExplainPlan, plan_from_json
from balance_bench.scales import SCALES

TINY = SCALES["tiny"]
SEED = 42

Spaces = Callable[..., AbstractContextManager[dict[str, Workspace]]]


@pytest.fixture()
def spaces(endpoints: Endpoints, redis_client: redis.Redis) -> Spaces:
    """``spaces(experiment, migration, replica=None, endpoints=None)``: its workspaces on tiny copies."""

    @contextmanager
    def make(experiment: Experiment[Any], migration: Migration | str,
             replica: tuple[Endpoints, Replica] | None = None) -> Iterator[dict[str, Workspace]]:
        server, standby = replica if replica is not None else (endpoints, None)
        client = redis.Redis.from_url(server.redis_url)
        try:
            with experiment_workspaces(experiment, server, TINY, SEED, Migration(migration), client,
                                       standby) as made:
                yield made
        finally:
            client.close()

    return make


def explain_target(target: PlanTarget) -> Any:
    """EXPLAIN (ANALYZE, BUFFERS) the target, as the engine's plan capture does."""
    engine = create_engine(target.url)
    try:
        return explain(engine, target.sql, dict(target.params))
    finally:
        engine.dispose()


def parsed(plan: Any) -> ExplainPlan:
    """A captured plan as the report reads it."""
    return plan_from_json(plan)


def relations(plan: Any) -> set[str]:
    """Every relation a captured plan's nodes read."""
    found: set[str] = set()
    stack = [parsed(plan).root]
    while stack:
        node = stack.pop()
        if node.relation:
            found.add(node.relation)
        stack.extend(node.plans)
    return found
