"""``balance-bench compare``: incomparable runs refused in one line (exit 2), and two real targets in Chromium."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest

from balance_bench.config import Config
from tests.chromium import open_page, require_chromium, severe_console_entries
from tests.conftest import run_cli
from tests.prerequisites import missing
from tests.reports.conftest import build_run, environment

SYSTEM_PG15 = "postgresql://postgres@127.0.0.1:5432/postgres"


def _refusal(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("balance-bench: error: "), proc.stderr
    return lines[0]


def test_runs_at_different_seeds_or_scales_are_refused_with_one_line(tmp_path: Path) -> None:
    """Another seed or scale is exit 2 and one line naming it; the same datasets compare (exit 0, a page)."""
    base = build_run(tmp_path / "base", trials=2, rounds=5)
    other_seed = environment(("tiny",))["datasets"][0] | {"seed": 7}
    seeded = build_run(tmp_path / "seeded", trials=2, rounds=5, env={"datasets": [other_seed]})
    small = build_run(tmp_path / "small", scales=("small",), trials=2, rounds=5)
    assert "seed 7" in _refusal(run_cli("compare", str(base), str(seeded), "-o", str(tmp_path / "x.html")))
    assert "scale small" in _refusal(run_cli("compare", str(base), str(small), "-o", str(tmp_path / "x.html")))
    assert "at least 2" in _refusal(run_cli("compare", str(base), "-o", str(tmp_path / "x.html")))
    assert not (tmp_path / "x.html").exists()
    same = build_run(tmp_path / "same", trials=2, rounds=5, seed=3)
    proc = run_cli("compare", str(base), str(same), "-o", str(tmp_path / "ok.html"))
    assert proc.returncode == 0 and proc.stdout.strip() == str(tmp_path / "ok.html")


def _system_pg15() -> str:
    """The machine's own PostgreSQL 15 (127.0.0.1:5432), or a skip (a failure under CI) naming what is missing."""
    try:
        with psycopg.connect(SYSTEM_PG15, connect_timeout=3) as conn:
            version = conn.info.server_version
    except psycopg.OperationalError as exc:
        missing(f"the two-target check needs a PostgreSQL 15 at {SYSTEM_PG15} ({exc.__class__.__name__})")
    if version // 10000 != 15:
        missing(f"the two-target check needs PostgreSQL 15 at {SYSTEM_PG15}, found server version {version}")
    return SYSTEM_PG15


def _quick_run(out: Path, config: Config, *extra: str) -> Path:
    env = {k: v for k, v in os.environ.items() if k not in ("BALANCE_BENCH_DSN", "BALANCE_BENCH_REPLICA_DSN")}
    proc = run_cli("run", "--quick", "--out", str(out), "--cache-dir", str(config.cache_dir), *extra, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    line = next(line for line in proc.stdout.splitlines() if line.startswith("run directory: "))
    return Path(line.removeprefix("run directory: "))


@pytest.mark.slow
@pytest.mark.services
def test_embedded_and_system_postgresql_compare_in_chromium(tmp_path: Path, bench_config: Config,
                                                           request: pytest.FixtureRequest) -> None:
    """Quick runs on the embedded PostgreSQL and on the system's 15 render in Chromium without console errors,
    the version difference named at the top, a verdict table per target and per-query charts."""
    require_chromium()
    pg15 = _system_pg15()
    # A session on the embedded servers made its quick run there already (read only here: compare writes elsewhere).
    embedded = (request.getfixturevalue("real_run_dir") if bench_config.dsn is None
                else _quick_run(tmp_path / "embedded", bench_config))
    system = _quick_run(tmp_path / "system", bench_config, "--dsn", pg15)
    page = tmp_path / "comparison.html"
    proc = run_cli("compare", str(embedded), str(system), "-o", str(page))
    assert proc.returncode == 0, proc.stderr
    with open_page(page) as driver:
        from selenium.webdriver.common.by import By

        top = driver.find_element(By.ID, "headline").text
        assert top.startswith("What differs between the targets:")
        first = top.splitlines()[1]
        assert first.startswith("PostgreSQL version: ") and "15." in first, top
        assert driver.find_element(By.TAG_NAME, "header").find_element(By.ID, "headline") is not None
        assert len(driver.find_elements(By.CSS_SELECTOR, "#verdicts table.data")) == 2
        charts = driver.find_elements(By.CSS_SELECTOR, "#queries figure svg")
        assert len(charts) >= 8 and charts[0].size["width"] > 200
        assert severe_console_entries(driver) == []
