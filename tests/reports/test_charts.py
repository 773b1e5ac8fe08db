"""Charts: inline SVG, labelled with units, deterministic, and safe with any text in the run."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from balance_bench.reports.charts import distribution_chart, query_chart, write_cost_chart
from balance_bench.reports.runs import read_run


def test_query_chart_is_labelled_svg_with_the_guide_ranges(make_run: Callable[..., Path]) -> None:
    """The per-query chart is an <svg> with ms on the y axis, both migrations and the guide's bands."""
    svg = query_chart(read_run(make_run()), "find_by_user_id", "tiny")
    assert svg is not None and svg.startswith("<svg")
    assert "latency per call (ms)" in svg and "parameter kind / cache state" in svg
    assert "without 012" in svg and "with 012" in svg and "guide cold (network)" in svg


def test_distribution_and_write_charts_mark_percentiles_and_units(make_run: Callable[..., Path]) -> None:
    """The ECDF marks p50/p95/p99 and labels both axes; the write chart labels its units."""
    run = read_run(make_run())
    ecdf = distribution_chart(run, "get_by_user", "tiny")
    assert ecdf is not None and all(p in ecdf for p in ("p50", "p95", "p99"))
    assert "latency per call (ms)" in ecdf and "share of calls at or below" in ecdf
    writes = write_cost_chart(run, "tiny")
    assert writes is not None and "latency per call (ms)" in writes


def test_charts_are_deterministic(make_run: Callable[..., Path]) -> None:
    """The same run draws byte-identical SVG every time (stable report diffs and tests)."""
    run = read_run(make_run())
    assert query_chart(run, "total_balance_by_user", "tiny") == query_chart(run, "total_balance_by_user", "tiny")
    assert distribution_chart(run, "find_by_id", "tiny") == distribution_chart(run, "find_by_id", "tiny")


def test_charts_on_one_page_share_no_ids(make_run: Callable[..., Path]) -> None:
    """Each chart's ids carry its own prefix, so inlined charts cannot reference each other's clip paths."""
    run = read_run(make_run())
    ids = [set(re.findall(r'id="([^"]+)"', svg or "")) for svg in
           (query_chart(run, "find_by_id", "tiny"), query_chart(run, "get_by_user", "tiny"),
            distribution_chart(run, "find_by_id", "tiny"))]
    assert all(ids) and not (ids[0] & ids[1]) and not (ids[0] & ids[2])


def test_markup_and_dollars_in_run_data_are_drawn_as_text(make_run: Callable[..., Path]) -> None:
    """A parameter kind with <script> and $...$ is escaped in the SVG and not parsed as TeX."""
    svg = query_chart(read_run(make_run(evil=True)), "find_by_id", "tiny")
    assert svg is not None and "<script" not in svg
    assert "&lt;script&gt;" in svg and "$x^2$" in svg


def test_no_chart_without_cases(make_run: Callable[..., Path]) -> None:
    """Asking for a query or scale the run lacks gives None rather than an empty chart."""
    run = read_run(make_run())
    assert query_chart(run, "find_by_id", "huge") is None
    assert distribution_chart(run, "no_such_query", "tiny") is None
    assert write_cost_chart(run, "huge") is None
