"""Captures: the ledger survives JSON exactly, logs come back whole, and a foreign capture version is refused."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from balance_bench.bench.load.capture import Collector, Ledger, Recorder, read_capture
from balance_bench.errors import BenchError


def test_ledger_round_trip_is_exact() -> None:
    """Decimal sums travel as strings: 18 places and trailing zeros come back unchanged."""
    ledger = Ledger(Decimal("1.000000000000000010"), Decimal("0.5"), 3, 2, 1, 0)
    back = Ledger.from_json(json.loads(json.dumps(ledger.to_json())))
    assert back == ledger and str(back.credits) == "1.000000000000000010"


def test_capture_sums_ledgers_and_concatenates_logs(tmp_path: Path) -> None:
    """Two processes' ledgers add up and their read logs form one union."""
    collector = Collector()
    for worker, amount in (("w0", "1.5"), ("w1", "2.25")):
        recorder = Recorder()
        buffer = recorder.buffer(0)
        buffer.ledger.credits += Decimal(amount)
        buffer.ledger.credit_n += 1
        buffer.log("reads", 7, 100, 1.0)
        buffer.failure("find_by_id", RuntimeError("boom postgresql://u:secret@h/db"))
        collector.absorb(worker, 0, recorder.take(0, {"pid": 1}))
    collector.write(0, tmp_path, "s000", {"step": {"index": 0}})
    capture = read_capture(tmp_path / "s000.json")
    assert capture.ledger().credits == Decimal("3.75") and capture.ledger().credit_n == 2
    assert capture.log("reads")["id"].tolist() == [7, 7]
    assert capture.workers == ["w0", "w1"]
    assert "secret" not in (tmp_path / "s000.json").read_text()


def test_foreign_capture_version_is_refused(tmp_path: Path) -> None:
    """A capture written by another version is one clear error, not a misread."""
    path = tmp_path / "s000.json"
    path.write_text(json.dumps({"version": 7, "arrays": "s000.npz", "workers": {}}))
    with pytest.raises(BenchError, match="load capture version 7 is not supported by this balance-bench"):
        read_capture(path)
