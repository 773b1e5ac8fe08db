"""The load section and Run.load_mode: figures computed from saved load records, a load-only run loads and renders."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from balance_bench.load_records import LOAD_DIR, OperationResult, StepResult, write_load_record
from balance_bench.reports.load_section import (
    HARNESS_LIMIT,
    cache_effect_frame,
    harness_frame,
    knee_frame,
    pool_frame,
    render_load_page,
    write_load_report,
)
from balance_bench.reports.runs import read_run
from tests.test_load_records import record, step


def make_load_run(path: Path, steps: list[StepResult], reference_ms: float = 0.2) -> Path:
    """A load-only run directory: load.json plus each step's raw arrays (two processes)."""
    (path / LOAD_DIR).mkdir(parents=True)
    rng = np.random.default_rng(1)
    for s in steps:
        arrays = {f"samples.{op.operation}.w{w}": rng.lognormal(0, 0.3, 50) for op in s.operations for w in (0, 1)}
        np.savez(path / s.arrays, **arrays)  # type: ignore[arg-type]
    base = record()
    write_load_record(path, replace(base, steps=steps, reference={"before": {"median_ms": reference_ms},
                                                                     "after": {"median_ms": reference_ms}}))
    return path


def sweep_steps() -> list[StepResult]:
    """Cache off and on at 1 and 8 users, one trial each, plus a pool of 2 at 8 users."""
    out = []
    for i, (users, cache, connections, rps, calls, hit) in enumerate([
            (1, "off", "own", 100.0, 100.0, None), (1, "on", "own", 300.0, 30.0, 0.96),
            (8, "off", "own", 400.0, 400.0, None), (8, "on", "own", 900.0, 50.0, 0.95),
            (8, "on", "2", 700.0, 40.0, 0.95)]):
        out.append(step(i, users=users, cache=cache, connections=connections, throughput_rps=rps,
                        db_calls_per_s=calls, hit_rate=hit, arrays=f"{LOAD_DIR}/s{i:03d}.npz"))
    return out


def test_load_only_run_loads_with_no_cases(tmp_path: Path) -> None:
    """A directory with load.json and no summary.json is a run: no cases, load figures as DataFrames."""
    run = read_run(make_load_run(tmp_path, sweep_steps()))
    assert run.cases.empty and run.summary.cases == []
    assert run.load_mode is not None
    assert len(run.load_mode.steps) == 5 and set(run.load_mode.steps["cache"]) == {"on", "off"}
    assert set(run.load_mode.operations["operation"]) == {"find_by_id"}
    timings = run.load_mode.timings()
    assert len(timings) == 5 * 2 * 50 and set(timings["worker"]) == {"w0", "w1"}
    assert len(run.load_mode.timings(step=3)) == 100


@pytest.mark.services
@pytest.mark.slow
def test_a_matrix_run_has_no_load(real_run_dir: Path) -> None:
    """A run written by balance-bench run has cases and ``load`` is None."""
    run = read_run(real_run_dir)
    assert run.load_mode is None and not run.cases.empty


def test_knee_takes_medians_over_trials(tmp_path: Path) -> None:
    """Three trials of one setting: the knee shows their median throughput."""
    steps = [step(i, trial=i, throughput_rps=rps, arrays=f"{LOAD_DIR}/s{i:03d}.npz")
             for i, rps in enumerate([100.0, 300.0, 200.0])]
    knee = knee_frame(read_run(make_load_run(tmp_path, steps)).load_mode)  # type: ignore[arg-type]
    assert knee["throughput_rps"].tolist() == [200.0] and knee["trials"].tolist() == [3]


def test_cache_effect_compares_database_calls_with_the_hit_rate(tmp_path: Path) -> None:
    """At 8 users: calls fall from 400/s to 50/s (87.5%), at least the 95% hit rate? No; at 1 user 90% < 96%: no."""
    effect = cache_effect_frame(read_run(make_load_run(tmp_path, sweep_steps())).load_mode)  # type: ignore[arg-type]
    row = effect[(effect["users"] == 8) & (effect["connections"] == "own")].iloc[0]
    assert row["db reduction"] == pytest.approx(1 - 50 / 400)
    assert row["ratio on/off"] == pytest.approx(900 / 400)
    assert row["reduction ≥ hit rate"] == "no"
    assert row["throughput verdict"] == "one trial"
    assert len(effect) == 2  # the pool step has no cache-off partner


def test_cache_effect_reduction_at_least_the_hit_rate(tmp_path: Path) -> None:
    """Calls falling by 97% with a 95% hit rate meet the claim."""
    steps = sweep_steps()
    steps[3] = replace(steps[3], db_calls_per_s=12.0)
    effect = cache_effect_frame(read_run(make_load_run(tmp_path, steps)).load_mode)  # type: ignore[arg-type]
    assert effect[effect["users"] == 8].iloc[0]["reduction ≥ hit rate"] == "yes"


def test_cache_effect_interval_needs_three_trials(tmp_path: Path) -> None:
    """Three consistent trials give an interval above 1 and the verdict "cache faster"."""
    steps: list[StepResult] = []
    for trial, (off, on) in enumerate([(100.0, 200.0), (110.0, 210.0), (90.0, 190.0)]):
        for cache, rps in (("off", off), ("on", on)):
            i = len(steps)
            steps.append(step(i, trial=trial, cache=cache, throughput_rps=rps, arrays=f"{LOAD_DIR}/s{i:03d}.npz"))
    effect = cache_effect_frame(read_run(make_load_run(tmp_path, steps)).load_mode)  # type: ignore[arg-type]
    assert effect.iloc[0]["throughput verdict"] == "cache faster" and effect.iloc[0]["trials"] == 3


def test_pool_frame_lists_each_connection_setting(tmp_path: Path) -> None:
    """With own connections and a pool of 2 at 8 users, both settings appear, own first."""
    pool = pool_frame(read_run(make_load_run(tmp_path, sweep_steps())).load_mode)  # type: ignore[arg-type]
    at8 = pool[(pool["users"] == 8) & (pool["cache"] == "on")]
    assert at8["connections"].tolist() == ["own", "2"]


@pytest.mark.parametrize(("p50", "verdict"), [(0.2 * (HARNESS_LIMIT - 0.1), "yes"),
                                              (0.2 * (HARNESS_LIMIT + 0.1), "no")])
def test_harness_verdict_on_both_sides_of_the_limit(tmp_path: Path, p50: float, verdict: str) -> None:
    """One user, warm cache: a p50 just under 1.5x the in-process median passes; just over fails."""
    s = step(0, users=1, operations=[OperationResult("find_by_id", 100, 0, 10.0, p50, p50, p50, p50, p50)],
             arrays=f"{LOAD_DIR}/s000.npz")
    s = replace(s, cache_families=[replace(s.cache_families[0], hit_rate=0.99)])
    frame = harness_frame(read_run(make_load_run(tmp_path, [s], reference_ms=0.2)).load_mode)  # type: ignore[arg-type]
    assert frame.iloc[0][f"within {HARNESS_LIMIT}x"] == verdict


def test_harness_refuses_to_judge_a_cold_step(tmp_path: Path) -> None:
    """A by_id hit rate under 95% is reported as not warm rather than judged."""
    s = step(0, users=1, arrays=f"{LOAD_DIR}/s000.npz")
    s = replace(s, cache_families=[replace(s.cache_families[0], hit_rate=0.5)])
    frame = harness_frame(read_run(make_load_run(tmp_path, [s])).load_mode)  # type: ignore[arg-type]
    assert frame.iloc[0][f"within {HARNESS_LIMIT}x"].startswith("not warm")


def test_load_only_report_renders_every_section(tmp_path: Path) -> None:
    """The load-only page has the knee, the cache effect, the pool sweep, correctness and the harness."""
    run_dir = make_load_run(tmp_path, sweep_steps())
    html = render_load_page(read_run(run_dir))
    for text in ("the knee", "reduces database load", "Connection pooling", "Money conservation",
                 "No stale reads", "The harness itself", "<svg"):
        assert text in html, text
    assert write_load_report(run_dir).read_text() == html


def test_report_command_rebuilds_a_load_only_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``balance-bench report`` on a load-only run writes its load page."""
    from balance_bench.cli import main

    run_dir = make_load_run(tmp_path, sweep_steps())
    assert main(["report", str(run_dir)]) == 0
    assert "The harness itself" in (run_dir / "report.html").read_text()


@pytest.mark.services
@pytest.mark.slow
def test_a_matrix_report_includes_the_load_section_when_the_run_has_load_data(real_run_dir: Path,
                                                                             tmp_path: Path) -> None:
    """A matrix run directory that also holds load.json gets the load section in its one report."""
    import shutil

    from balance_bench.reports.render import render_report

    combined = tmp_path / "combined"
    shutil.copytree(real_run_dir, combined)
    make_load_run(tmp_path / "load", sweep_steps())
    shutil.copy(tmp_path / "load" / "load.json", combined / "load.json")
    shutil.copytree(tmp_path / "load" / LOAD_DIR, combined / LOAD_DIR)
    html, _ = render_report(read_run(combined))
    assert "Load: the guide's claims under concurrent clients" in html and "Verdicts" in html
    plain, _ = render_report(read_run(real_run_dir))
    assert "Load: the guide's claims" not in plain
