"""The one loader: experiments as one row per figure, and each case's traffic per call in the cases frame."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from balance_bench.bench.experiments.summary import experiment_results
from balance_bench.reports.runs import read_run
from balance_bench.results import Design, Summary, write_summary
from tests.bench.experiments.test_summary import PAGES, _record
from tests.reports.conftest import traffic

TRAFFIC_COLUMNS = ["pg_round_trips", "pg_bytes_sent", "pg_bytes_received", "redis_round_trips", "redis_bytes_sent",
                   "redis_bytes_received", "redis_commands"]


def test_the_cases_frame_has_the_traffic_the_run_recorded(make_run: Callable[..., Path]) -> None:
    """Each row's traffic columns are its case's recorded figures; a run made before traffic has them empty."""
    frame = read_run(make_run()).cases
    row = frame[(frame["query"] == "find_by_id") & (frame["cache"] == "cold")].iloc[0]
    recorded = traffic(read_run(make_run()).summary.cases[0].coords.with_(cache="cold"))
    assert row["pg_round_trips"] == recorded["postgres"]["round_trips"] == 1
    assert row["redis_round_trips"] == row["redis_commands"] == recorded["redis"]["round_trips"] == 3
    assert row["redis_bytes_sent"] == recorded["redis"]["bytes_sent"]
    bare = read_run(make_run(counted=False)).cases
    assert bare[TRAFFIC_COLUMNS].isna().all().all()


def test_experiments_load_as_a_dataframe_through_the_one_loader(tmp_path: Path) -> None:
    """A saved run's experiments come back as rows the notebooks can filter: migration, figure, kind, interval."""
    record = {**_record("pagination", {"with_012": {"probes": {"offset.pages": {"last": 8.0}}}}),
              "selected": ["pagination", "guide_table"]}
    write_summary(tmp_path, Summary(environment={}, design=Design(3, 1, 0.06), cases=PAGES,
                                    experiments=experiment_results(record, PAGES)))
    frame = read_run(tmp_path).experiments
    depth = frame[(frame["experiment"] == "pagination") & (frame["figure"] == "offset_depth")].iloc[0]
    assert (depth["migration"], depth["kind"], depth["trials"]) == ("with_012", "ratio", 3)
    assert depth["value"] == pytest.approx(3.0) and depth["conclusion"].startswith("With 012")
    probe = frame[frame["figure"] == "offset.pages.last"].iloc[0]
    assert (probe["kind"], probe["value"], probe["migration"]) == ("probe", 8.0, "with_012")
    assert set(frame["experiment"]) == {"pagination"}  # the guide's table is a report section, not an experiment


def test_a_run_without_experiments_has_an_empty_frame_with_the_columns(tmp_path: Path) -> None:
    """No experiments: an empty frame, its columns still there for code that filters it."""
    write_summary(tmp_path, Summary(environment={}, design=Design(3, 1, 0.06), cases=PAGES))
    frame = read_run(tmp_path).experiments
    assert frame.empty and {"experiment", "figure", "value", "low", "high", "conclusion"} <= set(frame.columns)
