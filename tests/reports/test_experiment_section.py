"""Experiment sections: the conclusion, the right chart, figures, plans; the guide's table flagged row by row."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from balance_bench.bench.experiments.summary import experiment_results
from balance_bench.reports.experiment_section import experiment_sections, figures_frame, guide_table_frame
from balance_bench.reports.render import render_report
from balance_bench.reports.runs import Run
from balance_bench.results import Design, Summary
from tests.bench.experiments.test_summary import PAGES, _case, _record

RECORD = _record("pagination", {"with_012": {"check": "passed", "probes": {}}})


def _run(tmp_path: Path, cases: list, record: dict) -> Run:  # type: ignore[type-arg]
    summary = Summary(environment={}, design=Design(3, 1, 0.06), cases=cases,
                      experiments=experiment_results(record, cases))
    return Run(path=tmp_path, summary=summary, _raw={})


def test_paged_cases_get_a_depth_chart_with_a_line_per_variant(tmp_path: Path) -> None:
    """Pagination's section: its conclusion, a latency-against-depth chart (x: 1, last), both variants named."""
    (section,) = experiment_sections(_run(tmp_path, PAGES, RECORD))
    assert section.result.name == "pagination" and section.anchor == "x-pagination-tiny"
    assert section.chart is not None and "page (depth)" in section.chart
    assert "offset, with 012" in section.chart and "keyset, with 012" in section.chart
    assert section.figures is not None and "offset_depth" in section.figures


def test_other_cases_get_bars_per_case(tmp_path: Path) -> None:
    """Cases that are not pages (the anti-pattern's) are drawn as one bar per case, not as a depth line."""
    cases = [_case("antipattern", "no_index", "find_by_auto_convert_threshold", "common", {1: 2.0}),
             _case("antipattern", "partial_index", "find_by_auto_convert_threshold", "common", {1: 0.5})]
    (section,) = experiment_sections(_run(tmp_path, cases, _record("antipattern", {"with_012": {}})))
    assert section.chart is not None and "page (depth)" not in section.chart and "partial_index" in section.chart


def test_figures_list_ratios_with_what_they_divide_then_probes() -> None:
    """Ratios say numerator / denominator within each trial; probes say they were measured once."""
    cases = [_case("antipattern", "no_index", "find_by_auto_convert_threshold", "common", {1: 2.0, 2: 2.2}),
             _case("antipattern", "partial_index", "find_by_auto_convert_threshold", "common", {1: 0.5, 2: 0.6})]
    probes = {"partial_index.index_size": {"index_bytes": 16384.0}}
    (result,) = experiment_results(_record("antipattern", {"with_012": {"probes": probes}}), cases)
    frame = figures_frame(result)
    assert list(frame["kind"]) == ["probe", "ratio"]
    ratio = frame[frame["kind"] == "ratio"].iloc[0]
    assert ratio["what"].startswith("partial_index-find_by_auto_convert_threshold-common / no_index")
    assert ratio["migration"] == "with_012" and ratio["figure"] == "partial_vs_no_index"


def test_the_guide_table_flags_the_rows_whose_percent_does_not_follow() -> None:
    """findById (5 -> 1 ms is 80%, not 90-95%) is flagged; totalBalanceByUser follows."""
    frame = guide_table_frame().set_index("query")
    assert frame.loc["findById", "follows"] == "no" and frame.loc["findById", "implied by its ms %"] == "80-95"
    assert frame.loc["totalBalanceByUser", "follows"] == "yes"
    assert (frame["follows"] == "no").sum() == 3
    assert (frame.loc["findById", "cold ms"], frame.loc["findByUserIdAndTokenId", "warm ms"]) == ("5-10", "0.5")


def test_an_experiment_only_run_renders_its_sections_and_no_matrix(tmp_path: Path) -> None:
    """No matrix cases: no verdict table, write costs or guide's table (it is about the matrix's claims), but the
    experiment's section, conclusion and chart; a run that selected the former guide_table "experiment" renders the
    rest."""
    record = {**RECORD, "selected": ["pagination", "guide_table"]}
    html, _ = render_report(_run(tmp_path, PAGES, record))
    assert 'id="verdicts"' not in html and 'id="writes"' not in html and 'id="guide-table"' not in html
    assert 'id="x-pagination-tiny"' in html and "Experiment: Pagination depth" in html
    assert "OFFSET is slower at depth" in html and 'id="x-guide_table"' not in html


def test_a_matrix_run_with_experiments_keeps_its_matrix_sections(tmp_path: Path, run_dir: Path) -> None:
    """Experiment sections come in addition to a matrix run's verdicts, never instead."""
    from balance_bench.reports.runs import read_run

    base = read_run(run_dir)
    summary = replace(base.summary, cases=[*base.summary.cases, *PAGES],
                      experiments=experiment_results(RECORD, PAGES))
    html, _ = render_report(Run(path=base.path, summary=summary, _raw={}))
    assert 'id="T_headline"' in html and 'id="x-pagination-tiny"' in html and "implied by its ms" in html
    assert 'id="guide-table"' in html and "3 of the guide&#39;s 4 rows contradict their own milliseconds" in html


def test_a_summary_from_when_the_guides_table_was_an_experiment_still_renders_it(tmp_path: Path,
                                                                                run_dir: Path) -> None:
    """A version 3-4 summary may hold a "guide_table" experiment with no variants: its section shows the table."""
    from balance_bench.reports.runs import read_run
    from balance_bench.results import ExperimentResult

    base = read_run(run_dir)
    old = ExperimentResult(name="guide_table", title="The guide's performance table, checked against itself",
                           question="", scale="", variants=(), migrations=(), checks={}, figures={}, ratios={},
                           conclusion="3 of the guide's 4 rows contradict their own milliseconds.", notes={})
    html, _ = render_report(Run(path=base.path, summary=replace(base.summary, experiments=[old]), _raw={}))
    assert 'id="x-guide_table"' in html and 'id="T_xtable-guide_table"' in html
