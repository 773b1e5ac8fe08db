"""Shared test fixtures: one real quick benchmark run, produced by the CLI, for every test that reads runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from balance_bench.config import Config
from balance_bench.fixtures.services import Endpoints

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
