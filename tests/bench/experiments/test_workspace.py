"""Workspaces: one owned copy per variant at the asked migration state, keys under their own prefix, all removed."""

from __future__ import annotations

import pytest
import redis
from sqlalchemy import create_engine, text

from balance_bench.bench.experiments.partitioning import EXPERIMENT as PARTITIONING
from balance_bench.bench.experiments.replica import EXPERIMENT as REPLICA
from balance_bench.bench.experiments.workspace import delete_prefixed, experiment_workspaces
from balance_bench.coordinates import Migration
from balance_bench.fixtures import migrate
from balance_bench.fixtures.databases import exists, is_owned
from balance_bench.fixtures.services import Endpoints

from .conftest import SEED, TINY, Spaces

pytestmark = pytest.mark.services


def test_each_variant_gets_an_owned_copy_of_its_layout_at_the_migration(spaces: Spaces, endpoints: Endpoints,
                                                                       redis_client: redis.Redis) -> None:
    """plain and hash8 copies, baseline revision for without_012; dropped and their keys deleted afterwards."""
    with spaces(PARTITIONING, "without_012") as made:
        assert set(made) == {"plain", "hash8"}
        for name, space in made.items():
            assert is_owned(endpoints, space.database) and space.dataset.layout == name
            engine = create_engine(space.url)
            assert migrate.current_revision(engine) == migrate.BASELINE
            with engine.connect() as conn:
                partitions = conn.execute(text(
                    "SELECT count(*) FROM pg_inherits WHERE inhparent = 'balances'::regclass")).scalar()
            engine.dispose()
            assert partitions == (8 if name == "hash8" else 0)
            redis_client.set(space.key_prefix + "balance:total", b"1")
        prefixes = {space.key_prefix for space in made.values()}
        assert len(prefixes) == 2 and all(space.replica is None for space in made.values())
    assert not any(exists(endpoints, space.database) for space in made.values())
    assert not any(redis_client.exists(prefix + "balance:total") for prefix in prefixes)


def test_an_experiment_needing_a_replica_gets_none_without_one(endpoints: Endpoints,
                                                               redis_client: redis.Redis) -> None:
    """Asking for the replica experiment's workspaces without a replica is a programming error, caught early."""
    with pytest.raises(ValueError, match="needs a replica"), experiment_workspaces(
            REPLICA, endpoints, TINY, SEED, Migration.WITH_012, redis_client):
        pass


def test_delete_prefixed_deletes_only_under_the_prefix(redis_client: redis.Redis, key_prefix: str) -> None:
    """Keys under the prefix go, a key under a longer look-alike with glob characters stays."""
    redis_client.set(key_prefix + "a", b"1")
    redis_client.set(key_prefix + "b:c", b"1")
    other = key_prefix[:-1] + "*x:a"
    redis_client.set(other, b"1")
    try:
        assert delete_prefixed(redis_client, key_prefix) == 2
        assert redis_client.exists(other)
    finally:
        redis_client.delete(other)
