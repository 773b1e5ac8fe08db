"""Experiments through the trials engine, end to end on real servers: timed in trials, planned, probed, reported."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psycopg
import pytest

from balance_bench.config import Config
from balance_bench.fixtures.services import Endpoints, psycopg_dsn
from balance_bench.plans.parser import read_plan
from balance_bench.results import SCHEMA_VERSION, Summary, read_summary
from tests.conftest import run_cli

pytestmark = [pytest.mark.services, pytest.mark.slow]

EXPERIMENTS = ("pagination", "antipattern")


@pytest.fixture(scope="module")
def experiment_run(tmp_path_factory: pytest.TempPathFactory, bench_config: Config,
                   endpoints: Endpoints) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """`balance-bench run --quick --experiments pagination,antipattern`, as a user runs it, on the session's servers."""
    out = tmp_path_factory.mktemp("experiments")
    proc = run_cli("run", "--quick", "--experiments", ",".join(EXPERIMENTS), "--out", str(out),
                   "--cache-dir", str(bench_config.cache_dir))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    line = next(line for line in proc.stdout.splitlines() if line.startswith("run directory: "))
    return Path(line.removeprefix("run directory: ")), proc


@pytest.fixture(scope="module")
def summary(experiment_run: tuple[Path, subprocess.CompletedProcess[str]]) -> Summary:
    return read_summary(experiment_run[0] / "summary.json")


def test_every_case_of_every_variant_is_timed_in_every_trial(summary: Summary) -> None:
    """Current format; only experiment cases: both pagination forms at pages 1 and last, in each of 3 trials."""
    assert summary.schema_version == SCHEMA_VERSION and summary.design.trials == 3
    assert {c.coords.experiment for c in summary.cases} == set(EXPERIMENTS)
    pages = {(str(c.coords.migration), c.coords.variant, c.coords.param_kind) for c in summary.cases
             if c.coords.experiment == "pagination"}
    assert pages == {(m, v, k) for m in ("without_012", "with_012") for v in ("offset", "keyset")
                     for k in ("page-1", "page-last")}  # the tiny whale's 75 rows: 8 pages, so no page 10 or 100
    assert all(set(c.trial_medians_ms) == {1, 2, 3} and c.rounds >= 3 * 3 for c in summary.cases)


def test_each_experiment_has_figures_with_intervals_and_a_conclusion(summary: Summary) -> None:
    """Ratios across 3 trials carry intervals, the probe figure is there, and each sentence was drawn from them."""
    by_name = {e.name: e for e in summary.experiments}
    assert list(by_name) == list(EXPERIMENTS)
    pagination, antipattern = by_name["pagination"], by_name["antipattern"]
    assert pagination.checks == {"without_012": "passed", "with_012": "passed"}
    for migration in ("without_012", "with_012"):
        for ratio in ("offset_depth", "keyset_depth", "keyset_vs_offset_last"):
            estimate = pagination.figures[f"{migration}.{ratio}"]
            assert estimate.trials == 3 and estimate.has_interval
    assert antipattern.figures["with_012.partial_index.index_size.index_bytes"].value > 0
    for result in (pagination, antipattern):
        assert result.conclusion and not result.conclusion.startswith("Inconclusive: this run lacks")
    assert pagination.conclusion.startswith("With 012, the whale's last page costs")


def test_every_case_has_the_plan_of_what_it_ran(summary: Summary,
                                                experiment_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """Each case's plan file parses and names the case; OFFSET's last page skips rows the keyset's never reads."""
    run_dir = experiment_run[0]
    for case in summary.cases:
        assert case.plan is not None and case.plan.execution_ms is not None, case.name
        plan = read_plan(run_dir / case.plan.file)
        assert plan.case is not None and plan.case.experiment == case.coords.experiment
        assert plan.case.variant == case.coords.variant
    offset = next(c for c in summary.cases if c.coords.variant == "offset" and c.coords.param_kind == "page-last"
                  and c.coords.migration == "with_012")
    assert offset.plan is not None and "OFFSET" in (offset.plan.sql or "").upper()


def test_items_take_shuffled_places_in_their_trials(
        experiment_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """Within each trial the variants' items hold the places 1..n, in an order that differs between trials."""
    doc = json.loads((experiment_run[0] / "benchmarks.json").read_text())
    order: dict[int, list[str]] = {}
    for bench in doc["benchmarks"]:
        info = bench["extra_info"]
        if info["slot"] == 1:  # one entry per item: its first case
            order.setdefault(info["trial"], []).append((info["position"], f"{info['migration']}-{info['variant']}"))
    items = {trial: [name for _, name in sorted(entries)] for trial, entries in order.items()}
    assert set(items) == {1, 2, 3} and all(sorted(p for p, _ in order[t]) == list(range(1, 7)) for t in order)
    assert len({tuple(names) for names in items.values()}) > 1


def test_the_report_has_a_section_per_experiment_and_no_matrix(
        experiment_run: tuple[Path, subprocess.CompletedProcess[str]], summary: Summary) -> None:
    """report.html shows each experiment's title, conclusion and chart, and no matrix verdicts it did not measure."""
    html = (experiment_run[0] / "report.html").read_text()
    for result in summary.experiments:
        assert f'id="x-{result.name}-tiny"' in html and result.title in html
    assert "page (depth)" in html and 'id="verdicts"' not in html


def test_the_run_leaves_no_copy_behind(experiment_run: tuple[Path, subprocess.CompletedProcess[str]],
                                       endpoints: Endpoints) -> None:
    """Every private copy the experiments made is dropped by the end of the run."""
    with psycopg.connect(psycopg_dsn(endpoints.pg_url)) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'balance_bench_x%'"
                            " AND (datname LIKE '%pagination%' OR datname LIKE '%antipattern%')").fetchall()
    assert left == []
