"""Shared test fixtures: one real quick benchmark run, produced by the CLI, and read replicas with their primary."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from balance_bench.config import Config
from balance_bench.fixtures.replica import Replica, embedded_replica, running_replica
from balance_bench.fixtures.services import Endpoints, running_services

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``balance-bench`` in a fresh process, as a user would."""
    return subprocess.run([sys.executable, "-m", "balance_bench.cli", *args], capture_output=True, text=True,
                          cwd=REPO, env=env or dict(os.environ), timeout=timeout)


@pytest.fixture(scope="session")
def real_run_output(tmp_path_factory: pytest.TempPathFactory, bench_config: Config,
                    endpoints: Endpoints) -> subprocess.CompletedProcess[str]:
    """`balance-bench run --quick` with the session's configuration (embedded by default), as a user runs it."""
    out = tmp_path_factory.mktemp("runs")
    proc = run_cli("run", "--quick", "--out", str(out), "--cache-dir", str(bench_config.cache_dir))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="session")
def real_run_dir(real_run_output: subprocess.CompletedProcess[str]) -> Path:
    """The run directory of the session's real quick run (read-only: copy before changing it)."""
    line = next(line for line in real_run_output.stdout.splitlines() if line.startswith("run directory: "))
    return Path(line.removeprefix("run directory: "))


REPLICA_TEST_DELAY_MS = 1500
"""The apply delay of ``delayed_replica``: long enough that a test's next statement surely sees the old value."""


@pytest.fixture(scope="session")
def embedded_primary(bench_config: Config, endpoints: Endpoints) -> Iterator[Endpoints]:
    """A primary the suite can make replicas of: the session's when embedded, else an embedded one for these tests.

    CI's second pass runs against an external server that has no replica, so the
    replica tests run on an embedded primary (with the session's Redis) there.
    """
    if endpoints.pg_embedded:
        yield endpoints
        return
    with running_services(dataclasses.replace(bench_config, dsn=None, replica_dsn=None)) as embedded:
        yield embedded


@pytest.fixture(scope="session")
def replica(bench_config: Config, endpoints: Endpoints,
            embedded_primary: Endpoints) -> Iterator[tuple[Endpoints, Replica]]:
    """A streaming replica with no added delay and its primary: --replica-dsn's, else an embedded pair."""
    if bench_config.replica_dsn is not None:
        with running_replica(bench_config, endpoints) as given:
            yield endpoints, given
        return
    with embedded_replica(bench_config.cache_dir) as made:
        yield embedded_primary, made


@pytest.fixture(scope="session")
def delayed_replica(bench_config: Config, embedded_primary: Endpoints) -> Iterator[tuple[Endpoints, Replica]]:
    """An embedded replica applying each commit REPLICA_TEST_DELAY_MS late, and its primary: lag on demand."""
    with embedded_replica(bench_config.cache_dir, REPLICA_TEST_DELAY_MS) as made:
        yield embedded_primary, made
