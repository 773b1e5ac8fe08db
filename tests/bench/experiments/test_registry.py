"""The registry: seven experiments with well-formed declarations, selected by --experiments."""

from __future__ import annotations

import pytest

from balance_bench.bench.experiments import EXPERIMENTS, select
from balance_bench.coordinates import Migration
from balance_bench.errors import BenchError
from balance_bench.fixtures.layouts import LAYOUTS


def test_the_seven_experiments_of_issue_14_in_report_order() -> None:
    """Names are the CLI's; the order is the report's."""
    assert tuple(EXPERIMENTS) == ("pagination", "totals", "partitioning", "replica", "antipattern", "warming",
                                  "guide_table")


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
    assert bool(experiment.variants) == bool(experiment.migrations)  # guide_table runs nothing at all


def test_select_parses_all_and_lists_in_registry_order() -> None:
    """"all" is every experiment; a list comes back in registry order, without duplicates."""
    assert select("all") == tuple(EXPERIMENTS.values())
    assert [e.name for e in select("warming, pagination,warming")] == ["pagination", "warming"]


@pytest.mark.parametrize(("value", "message"), [("", "needs 'all'"), ("pagination,partition", "'partition'")])
def test_select_refuses_empty_and_unknown_names(value: str, message: str) -> None:
    """A typo names the unknown experiment and lists the known ones."""
    with pytest.raises(BenchError, match=message):
        select(value)
