"""The report's datasets table: a copy of the user's data says where it came from in one sentence; a run recorded
before copies existed renders as it always did."""

from __future__ import annotations

from typing import Any

from balance_bench.reports.tables import datasets_frame

GENERATED: dict[str, Any] = {"scale": "tiny", "seed": 42, "database": "balance_bench_tiny_s42_g1",
                             "rows": {"users": 200, "tokens": 100, "balances": 1000}, "fingerprint": "f" * 32,
                             "params": {"whale_user_id": 7}, "generator_version": 1, "schema_version": "012-x",
                             "layout": "plain"}
SOURCE = {"url": "postgresql://me:s3cret@db.example:5432/prod", "database": "prod",
          "copied_at": "2026-01-02T03:04:05+00:00", "rows_in_source": {"users": 2000, "tokens": 5, "balances": 9000},
          "rows_copied": {"users": 990, "tokens": 5, "balances": 4400}, "sample": 0.5, "mapping": None}


def test_a_copied_dataset_says_where_its_data_came_from() -> None:
    """One "data" cell: masked source, time, N of M users and the sample; the record itself is not repeated."""
    frame = datasets_frame({"datasets": [{**GENERATED, "scale": "source", "source": SOURCE}]})
    assert list(frame["data"]) == ["data copied from postgresql://me:***@db.example:5432/prod at "
                                   "2026-01-02T03:04:05+00:00, 990 of 2,000 users (sample 0.5)"]
    assert "source" not in frame.columns and "s3cret" not in frame.to_string()


def test_a_run_without_copies_renders_as_before() -> None:
    """A generated dataset's row has no data cell; a damaged source record is shown as recorded (redacted)."""
    frame = datasets_frame({"datasets": [GENERATED]})
    assert "data" not in frame.columns and frame.loc[0, "users rows"] == "200"
    damaged = datasets_frame({"datasets": [{**GENERATED, "source": {"url": SOURCE["url"]}}]})
    assert "data" not in damaged.columns and "s3cret" not in damaged.loc[0, "source"]
