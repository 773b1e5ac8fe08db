"""Experiment figures: ratios paired within trials with intervals, probe figures as measured, and the conclusion."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from balance_bench.bench.experiments import antipattern, pagination
from balance_bench.bench.experiments.summary import case_key, conclusion, experiment_results
from balance_bench.coordinates import CacheState, Coordinates, Kind, Migration
from balance_bench.results import CaseResult
from balance_bench.statistics import Estimate, TimingStats

STATS = TimingStats(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def _case(experiment: str, variant: str, query: str, kind: str, medians: dict[int, float],
          migration: Migration = Migration.WITH_012, scale: str = "tiny") -> CaseResult:
    coords = Coordinates(Kind.READ, query, CacheState.NOCACHE, migration, scale, "optimized", kind, experiment,
                         variant)
    return CaseResult(coords=coords, params={}, rounds=10, stats=replace(STATS, median_ms=1.0, p95_ms=1.2),
                      trial_medians_ms=medians)


def _record(name: str, migrations: dict[str, Any], scale: str = "tiny") -> dict[str, Any]:
    return {"selected": [name], "experiments": {name: {"scales": {scale: migrations}}}, "replica": None}


PAGES = [
    _case("pagination", "offset", "get_by_user", "page-1", {1: 1.0, 2: 1.1, 3: 0.9}),
    _case("pagination", "offset", "get_by_user", "page-last", {1: 3.0, 2: 3.3, 3: 2.7}),
    _case("pagination", "keyset", "get_by_user", "page-1", {1: 1.0, 2: 1.0, 3: 1.0}),
    _case("pagination", "keyset", "get_by_user", "page-last", {1: 1.1, 2: 1.2, 3: 1.0}),
]


def test_each_ratio_is_paired_within_trials_and_concluded() -> None:
    """OFFSET's last page is 3x its first in every trial; keyset's 1.0-1.2x; the sentence says so from those figures."""
    (result,) = experiment_results(_record("pagination", {"with_012": {"check": "passed", "probes": {}}}), PAGES)
    offset = result.figures["with_012.offset_depth"]
    assert offset.value == pytest.approx(3.0) and offset.low == pytest.approx(3.0) and offset.trials == 3
    keyset = result.figures["with_012.keyset_depth"]
    assert keyset.value == pytest.approx((1.1 * 1.2 * 1.0) ** (1 / 3), rel=0.02) and keyset.high is not None
    assert result.ratios["offset_depth"] == ("offset-get_by_user-page-last", "offset-get_by_user-page-1")
    assert "OFFSET is slower at depth" in result.conclusion and result.checks == {"with_012": "passed"}
    assert [v.name for v in result.variants] == ["offset", "keyset"]


def test_cases_of_other_scales_experiments_or_migrations_never_enter_a_ratio() -> None:
    """A without-012 or another scale's page-last cannot pair with this scale's with-012 page-1."""
    stray = [replace(c, coords=c.coords.with_(scale="small")) for c in PAGES[:2]]
    (result,) = experiment_results(_record("pagination", {"with_012": {"check": "passed"}}), [PAGES[0], *stray])
    assert "with_012.offset_depth" not in result.figures
    assert result.conclusion.startswith("Inconclusive: this run lacks the figure 'with_012.offset_depth'")


def test_probe_figures_are_kept_as_measured_without_an_interval() -> None:
    """The partial index's size arrives as a probe figure keyed migration.variant.probe.number."""
    cases = [_case("antipattern", "no_index", "find_by_auto_convert_threshold", "common", {1: 2.0, 2: 2.0}),
             _case("antipattern", "partial_index", "find_by_auto_convert_threshold", "common", {1: 0.5, 2: 0.5})]
    probes = {"partial_index.index_size": {"index_bytes": 16384.0, "table_bytes": 155648.0}}
    (result,) = experiment_results(_record("antipattern", {"with_012": {"check": "passed", "probes": probes}}),
                                   cases)
    size = result.figures["with_012.partial_index.index_size.index_bytes"]
    assert (size.value, size.low, size.high, size.trials) == (16384.0, None, None, 1)
    assert result.figures["with_012.partial_vs_no_index"].value == pytest.approx(0.25)
    assert "(16 kB)" in result.conclusion and "faster" in result.conclusion


def test_only_what_ran_is_summarised() -> None:
    """A name selected in an older run's record but no longer an experiment (guide_table) gives no record; nothing
    ran, nothing to summarise."""
    record = {"selected": ["guide_table", "pagination"], "experiments": {}, "replica": None}
    assert experiment_results(record, []) == []
    assert experiment_results({"selected": ["pagination"], "experiments": {}}, []) == []
    assert experiment_results(None, PAGES) == []


def test_a_conclusion_that_cannot_be_drawn_says_why() -> None:
    """Missing figures and impossible arithmetic give an 'Inconclusive: ...' sentence instead of an error."""
    assert conclusion(pagination.EXPERIMENT, {}).startswith("Inconclusive: this run lacks the figure")
    broken = replace(antipattern.EXPERIMENT, conclude=lambda figures: str(1 / 0))
    assert conclusion(broken, {}).startswith("Inconclusive: the figures do not allow a conclusion")


def test_a_case_is_named_as_its_experiment_names_it() -> None:
    """variant-operation-param_kind: the ids ratios use."""
    assert case_key(PAGES[1]) == "offset-get_by_user-page-last"


def test_estimates_carry_trials_for_the_report() -> None:
    """A ratio over three trials says so (the report prints intervals only when there are some)."""
    (result,) = experiment_results(_record("pagination", {"with_012": {}}), PAGES)
    assert all(isinstance(e, Estimate) and e.trials == 3 for k, e in result.figures.items() if k.endswith("depth"))
