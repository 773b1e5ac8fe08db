"""``balance-bench seed --layout``: the partitioned dataset built and reported like the plain one; typos refused."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator

import pytest

from balance_bench.config import Config
from balance_bench.fixtures.databases import drop_owned, list_owned
from balance_bench.fixtures.services import Endpoints

from ..conftest import run_cli


@pytest.fixture()
def seed(endpoints: Endpoints) -> Iterator[int]:
    """A seed of this test's own; its datasets are dropped afterwards."""
    value = 3 * 10**8 + uuid.uuid4().int % 10**8
    yield value
    for name in list_owned(endpoints):
        if f"_s{value}_" in name:
            drop_owned(endpoints, name)


@pytest.mark.services
def test_seed_builds_the_hash8_layout_as_its_own_dataset(bench_config: Config, seed: int) -> None:
    """The JSON line names the _hash8 database and its layout; a second call reuses it."""
    args = ["seed", "--scale", "tiny", "--seed", str(seed), "--layout", "hash8",
            "--cache-dir", str(bench_config.cache_dir), *(["--dsn", bench_config.dsn] if bench_config.dsn else [])]
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    first, second = (run_cli(*args, env=env) for _ in range(2))
    assert first.returncode == second.returncode == 0, first.stderr
    built, reused = (json.loads(p.stdout.strip()) for p in (first, second))
    assert built["database"].endswith(f"_s{seed}_g1_hash8") and built["layout"] == "hash8" and not built["reused"]
    assert reused["reused"] and reused["fingerprint"] == built["fingerprint"]


def test_an_unknown_layout_is_a_usage_error() -> None:
    """argparse lists the layouts and exits 2, before any server starts."""
    proc = run_cli("seed", "--layout", "hash16")
    assert proc.returncode == 2 and "invalid choice: 'hash16'" in proc.stderr and "hash8" in proc.stderr
