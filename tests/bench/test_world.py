"""The run's world: two live copies per scale, and a close that removes them whatever else fails on the way."""

from __future__ import annotations

import dataclasses

import pytest

from balance_bench.bench.world import World
from balance_bench.config import Config
from balance_bench.coordinates import CacheState, Migration
from balance_bench.fixtures.databases import PREFIX, exists, list_owned
from balance_bench.fixtures.datasets import ensure_dataset
from balance_bench.fixtures.services import Endpoints
from balance_bench.scales import get_scale

pytestmark = pytest.mark.services


class _StuckModel(Exception):
    """A model that cannot be closed, as one whose statement a Ctrl-C interrupted could not."""


def test_close_drops_both_copies_even_when_closing_a_model_fails(bench_config: Config, endpoints: Endpoints,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing a model raises; close() still drops the run's two copies (and raises the error afterwards)."""
    tiny = get_scale("tiny")
    config = dataclasses.replace(bench_config, scales=(tiny,))
    world = World(config, endpoints, {"tiny": ensure_dataset(endpoints, tiny, config.seed)})
    copies = [world.copy("tiny", migration).database for migration in Migration]
    assert all(exists(endpoints, name) for name in copies)
    model = world.copy("tiny", Migration.WITH_012).model(CacheState.NOCACHE)

    def stuck() -> None:
        raise _StuckModel

    monkeypatch.setattr(model, "close", stuck)
    with pytest.raises(_StuckModel):
        world.close()
    assert not any(exists(endpoints, name) for name in copies)
    assert not [n for n in list_owned(endpoints) if n.startswith(f"{PREFIX}run_{world.run_id}")]


def test_a_sharing_world_uses_the_owners_copies_with_its_own_settings_and_keys_and_drops_nothing(
        bench_config: Config, endpoints: Endpoints) -> None:
    """Side b of an A/B on one server: the owner's two databases and write row, index scans off on b's connections
    only, b's cache keys under its own label; closing b leaves the copies, closing the owner drops them."""
    tiny = get_scale("tiny")
    config = dataclasses.replace(bench_config, scales=(tiny,))
    datasets = {"tiny": ensure_dataset(endpoints, tiny, config.seed)}
    owner = World(config, endpoints, datasets, label="a")
    sharing = World(config, endpoints, datasets, label="b", shares=owner, settings={"enable_indexscan": "off"})
    try:
        names = {m: sharing.copy("tiny", m).database for m in Migration}
        assert names == {m: owner.copy("tiny", m).database for m in Migration}
        assert sharing.scale("tiny").write_target == owner.scale("tiny").write_target
        with sharing.copy("tiny", Migration.WITH_012).engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW enable_indexscan").scalar() == "off"
        with owner.copy("tiny", Migration.WITH_012).engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW enable_indexscan").scalar() == "on"
        assert sharing.key_prefix.endswith("b:") and owner.key_prefix.endswith("a:")
        sharing.begin_trial("tiny", 1)
        assert owner.scale("tiny").trial == 1  # the owner vacuumed its copies for the trial
    finally:
        sharing.close()
        assert all(exists(endpoints, name) for name in names.values())
        owner.close()
    assert not any(exists(endpoints, name) for name in names.values())
