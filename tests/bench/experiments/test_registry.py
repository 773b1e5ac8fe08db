"""The registry: seven experiments with well-formed declarations, selected by --experiments."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from balance_bench.bench.experiments import EXPERIMENTS, registry, select
from balance_bench.bench.experiments.registry import with_experiments
from balance_bench.config import Config
from balance_bench.coordinates import Migration
from balance_bench.errors import BenchError
from balance_bench.fixtures.layouts import LAYOUTS


def test_the_six_experiments_in_report_order() -> None:
    """Names are the CLI's; the order is the report's (the guide's table, which times nothing, is a report section)."""
    assert tuple(EXPERIMENTS) == ("pagination", "totals", "partitioning", "replica", "antipattern", "warming")


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_declarations_are_consistent(name: str) -> None:
    """Unique variant names on known layouts, known migrations, ratios between variants it has, probes on them."""
    experiment = EXPERIMENTS[name]
    names = [v.name for v in experiment.variants]
    assert len(names) == len(set(names)) and all(v.layout in LAYOUTS for v in experiment.variants)
    assert set(experiment.migrations) <= set(Migration)
    for ratio in experiment.ratios:
        for case in (ratio.numerator, ratio.denominator):
            assert case.split("-")[0] in names, (ratio, case)
    for probe in experiment.probes:
        assert set(probe.variants) <= set(names)
    assert experiment.title and experiment.question
    assert experiment.variants and experiment.migrations  # every experiment times something


def test_select_parses_all_and_lists_in_registry_order() -> None:
    """"all" is every experiment; a list comes back in registry order, without duplicates."""
    assert select("all") == tuple(EXPERIMENTS.values())
    assert [e.name for e in select("warming, pagination,warming")] == ["pagination", "warming"]


@pytest.mark.parametrize(("value", "message"), [("", "needs 'all'"), ("pagination,partition", "'partition'")])
def test_select_refuses_empty_and_unknown_names(value: str, message: str) -> None:
    """A typo names the unknown experiment and lists the known ones."""
    with pytest.raises(BenchError, match=message):
        select(value)


def test_with_experiments_names_them_as_the_registry_does_in_its_order() -> None:
    """The names config kept as given come back as the registry's, in its order; all is every one; none stays none."""
    nowhere = Path("/nowhere")
    assert with_experiments(Config(cache_dir=nowhere)).experiments == ()
    assert with_experiments(Config(cache_dir=nowhere, experiments=("replica", "pagination"))).experiments == (
        "pagination", "replica")
    settled = with_experiments(Config(cache_dir=nowhere, experiments=("all",)))
    assert settled.experiments == tuple(EXPERIMENTS) and settled.describe()["experiments"] == list(EXPERIMENTS)
    assert with_experiments(settled) == settled


@pytest.mark.parametrize(("names", "message"), [
    (("nope",), "unknown experiment 'nope'; known: pagination"),
    (("pagination", "Replica"), "unknown experiment 'Replica'"),
])
def test_with_experiments_refuses_unknown_names_in_one_line(names: tuple[str, ...], message: str) -> None:
    """An unknown name (names are case-sensitive) is one BenchError line listing the known ones."""
    with pytest.raises(BenchError, match=message) as err:
        with_experiments(Config(cache_dir=Path("/nowhere"), experiments=names))
    assert "\n" not in str(err.value)


def test_with_experiments_refuses_experiments_that_time_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Experiments without a variant to time are refused on their own, and pass beside one that times something."""
    idle = replace(EXPERIMENTS["pagination"], name="idle", variants=(), migrations=())
    monkeypatch.setattr(registry, "EXPERIMENTS", {**EXPERIMENTS, "idle": idle})
    with pytest.raises(BenchError, match=r"^idle times nothing on its own; add an experiment that does"):
        with_experiments(Config(cache_dir=Path("/nowhere"), experiments=("idle",)))
    assert with_experiments(Config(cache_dir=Path("/nowhere"), experiments=("idle", "pagination"))).experiments == (
        "pagination", "idle")
