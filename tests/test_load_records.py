"""load.json: records round-trip, and a file of another version, a missing field or a wrong type is one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from balance_bench.errors import BenchError
from balance_bench.load_records import (
    LOAD_FILE,
    CacheFamily,
    ConservationResult,
    LoadRecord,
    OperationResult,
    StalenessResult,
    StepResult,
    read_load_record,
    write_load_record,
)


def step(index: int = 0, **changes: object) -> StepResult:
    values: dict[str, object] = {
        "index": index, "trial": 0, "migration": "with_012", "cache": "on", "connections": "own", "users": 4,
        "processes": 1, "window_s": 10.0, "requests": 1000, "failures": 0, "throughput_rps": 100.0, "mean_ms": 1.0,
        "p50_ms": 0.9, "p95_ms": 2.0, "p99_ms": 3.0, "max_ms": 9.0,
        "operations": [OperationResult("find_by_id", 1000, 0, 100.0, 1.0, 0.9, 2.0, 3.0, 9.0, 1.0, 2.0, 3.0)],
        "cache_families": [CacheFamily("by_id", 900, 100, 0, 0, 0.9)], "hit_rate": 0.9,
        "postgres": {"xact_commit": 100}, "db_calls_per_s": 10.0, "db_calls_source": "pg_stat_database.xact_commit",
        "redis": {"total_commands_processed": 2000}, "arrays": "load/s000.npz", "users_at_end": 4}
    values.update(changes)
    return StepResult(**values)  # type: ignore[arg-type]


def record() -> LoadRecord:
    return LoadRecord(
        environment={"captured_at": "now"}, settings={"users": [4]}, processes=[{"pid": 1}], steps=[step()],
        conservation=[ConservationResult("with_012", "10.5", "11.0", "1", "0.5", 1, 1, 0, 0, "0", "passed")],
        staleness=[StalenessResult("with_012", 10, 2, 5, 0, [], "passed")], reference={"before": {"median_ms": 0.1}})


def test_round_trip(tmp_path: Path) -> None:
    """What is written reads back equal, nested records included."""
    write_load_record(tmp_path, record())
    assert read_load_record(tmp_path / LOAD_FILE) == record()


def test_unknown_version_is_refused_with_what_to_do(tmp_path: Path) -> None:
    """schema_version 2 is one line naming the file, the version read and what to do."""
    doc = json.loads(record().to_json())
    doc["schema_version"] = 2
    (tmp_path / LOAD_FILE).write_text(json.dumps(doc))
    with pytest.raises(BenchError, match=r"load.json: load record schema_version 2 is not supported .* re-run") as info:
        read_load_record(tmp_path / LOAD_FILE)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("path", "value", "message"), [
    (("steps", 0, "throughput_rps"), "fast", r"steps\[0\]\.throughput_rps is not a number"),
    (("steps", 0, "users"), True, r"steps\[0\]\.users is not a whole number"),
    (("steps", 0, "operations", 0, "operation"), 5, r"operations\[0\]\.operation is not a string"),
    (("conservation",), {}, "conservation is not a list"),
])
def test_wrong_types_are_named(tmp_path: Path, path: tuple[object, ...], value: object, message: str) -> None:
    """A field of the wrong type is refused with its path in the record."""
    doc = json.loads(record().to_json())
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    (tmp_path / LOAD_FILE).write_text(json.dumps(doc))
    with pytest.raises(BenchError, match=message):
        read_load_record(tmp_path / LOAD_FILE)


def test_missing_field_and_foreign_files(tmp_path: Path) -> None:
    """A record without its steps, a file that is not a record, and no file at all: each one clear error."""
    doc = json.loads(record().to_json())
    del doc["steps"]
    (tmp_path / LOAD_FILE).write_text(json.dumps(doc))
    with pytest.raises(BenchError, match="lacks steps"):
        read_load_record(tmp_path / LOAD_FILE)
    (tmp_path / LOAD_FILE).write_text("[]")
    with pytest.raises(BenchError, match="not a balance-bench load record"):
        read_load_record(tmp_path / LOAD_FILE)
    with pytest.raises(BenchError, match="no such file"):
        read_load_record(tmp_path / "missing.json")


def test_passwords_never_reach_the_file(tmp_path: Path) -> None:
    """A URL password anywhere in the record is redacted on the way to disk."""
    leaky = LoadRecord(environment={"dsn": "postgresql://u:hunter2@h/db"}, settings={}, processes=[], steps=[],
                       conservation=[], staleness=[])
    write_load_record(tmp_path, leaky)
    assert "hunter2" not in (tmp_path / LOAD_FILE).read_text()
