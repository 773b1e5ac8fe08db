"""The sweep's steps and the plan file: every combination once, alternatives adjacent, no secret, version checked."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from balance_bench.bench.load.plan import LoadPlan, StepSpec, build_steps, conninfo
from balance_bench.coordinates import CacheUse, Migration
from balance_bench.errors import BenchError

DATABASES = {Migration.WITHOUT_012: "balance_bench_load_x_without_012",
             Migration.WITH_012: "balance_bench_load_x_with_012"}
CACHES = (CacheUse.OFF, CacheUse.ON)


def test_every_combination_once_with_alternatives_adjacent() -> None:
    """users x pool x migration x cache x trials, with cache and migration varying fastest, in a seeded order."""
    steps = build_steps((1, 4), CACHES, tuple(Migration), (None, 2), 2, DATABASES, "p:", 3)
    assert len(steps) == 2 * 2 * 2 * 2 * 2
    assert [s.index for s in steps] == list(range(len(steps)))
    combos = {(s.trial, s.users, s.pool, s.migration, s.cache) for s in steps}
    assert len(combos) == len(steps)
    first = steps[:4]
    assert {(s.migration, s.cache) for s in first} == {(m, c) for m in DATABASES for c in CACHES}
    assert all(s.users == 1 and s.pool is None and s.trial == 0 for s in first)
    assert all(s.database == DATABASES[s.migration] for s in steps)
    assert len({s.key_prefix for s in steps}) == len(steps)  # each cache-on step starts empty
    blocks = [tuple((s.migration, s.cache) for s in steps[i:i + 4]) for i in range(0, len(steps), 4)]
    assert all(sorted(b) == sorted(blocks[0]) for b in blocks)
    assert len(set(blocks)) > 1  # shuffled per block, so no setting is always measured first
    again = build_steps((1, 4), CACHES, tuple(Migration), (None, 2), 2, DATABASES, "p:", 3)
    assert again == steps  # the order seed decides the order


def test_plan_round_trips_and_refuses_another_version(tmp_path: Path) -> None:
    """A plan reads back equal; a plan of another version is refused with what to do."""
    steps = build_steps((2,), (CacheUse.ON,), (Migration.WITH_012,), (None,), 1, DATABASES, "p:")
    plan = LoadPlan(run_id="abc", seed=42, mix=[("find_by_id", 1.0)], warmup_s=1, duration_s=2,
                    keys=[(1, 2, 3, "0xa")], steps=steps, out_dir=str(tmp_path), statements=False)
    path = plan.write(tmp_path / "plan.json")
    again = LoadPlan.from_json(path.read_text())
    assert again == plan and again.steps[0].cache is CacheUse.ON and again.steps[0].migration is Migration.WITH_012
    doc = json.loads(path.read_text())
    doc["version"] = 99
    with pytest.raises(BenchError, match="load plan version 99 is not supported by this balance-bench"):
        LoadPlan.from_json(json.dumps(doc))
    with pytest.raises(BenchError, match="not valid JSON"):
        LoadPlan.from_json("{")


def test_plan_and_steps_carry_no_server_url() -> None:
    """Server URLs (and their passwords) never enter the plan: only database names do."""
    steps = build_steps((1,), (True,), ("with_012",), (None,), 1, DATABASES, "p:")
    plan = LoadPlan(run_id="abc", seed=1, mix=[], warmup_s=0, duration_s=1, keys=[], steps=steps, out_dir="/x",
                    statements=False)
    assert "postgresql" not in plan.to_json() and "redis:" not in plan.to_json()


def test_conninfo_names_the_database_on_the_given_server() -> None:
    """Any of the suite's URL forms becomes a libpq URL for the step's database, password kept for libpq."""
    assert conninfo("postgresql+psycopg://u:pw@db:5433/postgres", "balance_bench_x") == \
        "postgresql://u:pw@db:5433/balance_bench_x"
    assert conninfo("postgres://u@h/postgres", "d") == "postgresql://u@h/d"


def test_a_step_from_a_message_has_its_coordinates_as_enums_and_refuses_a_bad_one() -> None:
    """The driver's message and a capture carry a step as JSON strings: read back, cache and migration are the enums
    (a plain "off" string would be truthy, and ``is CacheUse.ON`` false for "on"); a misspelt one is one line."""
    (step,) = build_steps((1,), (CacheUse.ON,), (Migration.WITH_012,), (None,), 1, DATABASES, "p:")
    again = StepSpec.from_dict(json.loads(json.dumps(asdict(step))))
    assert again == step and again.cache is CacheUse.ON and again.migration is Migration.WITH_012
    with pytest.raises(BenchError, match=r"^step: cache is not one of off, on: 'yes'$"):
        StepSpec.from_dict({**asdict(step), "cache": "yes"})
