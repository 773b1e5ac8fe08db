"""Runs against different targets side by side: what is refused, what differs first, which plans differ."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from balance_bench.errors import BenchError
from balance_bench.reports.runs import Run, read_run
from balance_bench.reports.targets import (
    check_comparable,
    environment_differences,
    headline,
    plan_differences,
    render_comparison,
    targets,
)
from tests.reports.conftest import build_run


def _dataset(scale: str = "tiny", seed: int = 42, balances: int = 20000) -> dict[str, Any]:
    return {"scale": scale, "seed": seed, "rows": {"users": 1000, "tokens": 50, "balances": balances}}


def _pg15(run: Run) -> Run:
    """The same run as if measured on another server: version and work_mem differ, the capture time too."""
    settings = {**run.environment["postgres"]["settings"], "work_mem": "64MB"}
    env = {**run.environment, "captured_at": "2026-02-01T00:00:00+00:00",
           "postgres": {"version": "15.20", "settings": settings}}
    return Run(path=run.path.with_name(run.path.name + "-pg15"), summary=replace(run.summary, environment=env),
               _raw={})


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return read_run(build_run(tmp_path_factory.mktemp("cmp") / "base", trials=3, rounds=10))


def test_the_version_and_settings_that_differ_come_first_and_noise_is_left_out(base: Run) -> None:
    """postgres.version and work_mem head the differences; captured_at differs too but names no target."""
    runs = targets([base, _pg15(base)])
    frame = environment_differences(runs)
    assert list(frame["setting"]) == ["postgres.version", "postgres.settings.work_mem"]
    assert list(frame.iloc[0][1:]) == ["18.1", "15.20"]
    lines = headline(frame, runs)
    assert lines[0] == f"PostgreSQL version: 18.1 ({base.path.name}), 15.20 ({base.path.name}-pg15)"
    assert len(lines) == 2 and "64MB" in lines[1]


def test_identical_targets_have_no_differences(base: Run) -> None:
    """The same environment twice: nothing listed, and the two labels are made unique."""
    runs = targets([base, base])
    assert environment_differences(runs).empty and headline(environment_differences(runs), runs) == []
    assert [t.label for t in runs] == [f"{base.path.name} #1", f"{base.path.name} #2"]


@pytest.mark.parametrize(("change", "message"), [
    ({"datasets": [_dataset(seed=7)]}, "seed 7"),
    ({"datasets": [_dataset(scale="small")]}, "scale small"),
    ({"datasets": [_dataset(balances=999)]}, "999 balances"),
])
def test_runs_of_other_datasets_are_refused_with_one_line(base: Run, change: dict[str, Any], message: str) -> None:
    """A different scale, seed or row count is refused, naming both runs' datasets."""
    other = Run(path=base.path.with_name("other"), summary=replace(base.summary, environment={**base.environment,
                                                                                              **change}), _raw={})
    with pytest.raises(BenchError, match="not comparable") as error:
        check_comparable(targets([base, other]))
    assert message in str(error.value) and "\n" not in str(error.value)
    check_comparable(targets([base, _pg15(base)]))  # another server on the same data compares


def test_one_run_or_a_run_without_cases_is_refused(base: Run) -> None:
    """Comparing needs two matrix runs."""
    with pytest.raises(BenchError, match="at least 2"):
        check_comparable(targets([base]))
    empty = Run(path=base.path.with_name("load"), summary=replace(base.summary, cases=[]), _raw={})
    with pytest.raises(BenchError, match="no benchmark matrix cases"):
        check_comparable(targets([base, empty]))


def test_only_cases_planned_differently_are_listed(make_run: Callable[..., Path]) -> None:
    """A target whose get_by_user plan lost its index shows up for that query's cases only; equal plans do not."""
    same = read_run(make_run("a", trials=2, rounds=5))
    other = read_run(make_run("b", trials=2, rounds=5,
                              plans={"get_by_user": ("sort_spill.json", "sort_spill.json")}))
    assert plan_differences(targets([same, same])).empty
    frame = plan_differences(targets([same, other]))
    assert not frame.empty and all("get_by_user" in case for case in frame["case"])
    assert all("with_012" in case for case in frame["case"])  # without 012 both used sort_spill already
    first = frame.iloc[0]
    assert first.iloc[1] != first.iloc[2] and "Sort" in first.iloc[2]


def test_the_page_names_the_difference_at_the_top_and_holds_every_target(base: Run) -> None:
    """The headline (before the navigation) names the version difference; a verdict table and chart per target."""
    html = render_comparison([base, _pg15(base)])
    top = html[:html.index("<nav>")]
    assert "PostgreSQL version: 18.1" in top and "15.20" in top
    assert len(re.findall(r'<table class="data headline" id="verdicts-\d+-table"', html)) == 2
    assert "<svg" in html and "<script" not in html
