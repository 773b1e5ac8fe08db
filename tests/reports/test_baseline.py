"""The baseline file: written and read back unchanged, a tampered copy judged by the counter gate's rules on both sides
of each, findings new, known and resolved, and a file of another version, scale or dataset refused in one line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from balance_bench.coordinates import CacheState, Coordinates
from balance_bench.errors import BenchError
from balance_bench.evidence import Evidence
from balance_bench.reports.baseline import (
    FORMAT,
    KEPT,
    VERSION,
    Baseline,
    BaselineComparison,
    case_counters,
    compare_baseline,
    read_baseline,
    write_baseline,
)
from balance_bench.reports.counter_gate import COUNTERS
from balance_bench.reports.findings import INDEX, MAX_SEQ_SCAN_ROWS, Finding
from tests.reports.check_evidence import DATASET, FINGERPRINT, changed, clean_evidence, node, plan, read, traffic

FIND_BY_ID = read("find_by_id")
ACCEPTED = Finding(INDEX, read("get_by_user", param_kind="typical"), "its plan uses idx_balances_user_usd; the guide "
                   "claims idx_balances_user_created (Index-Aware Queries)")


@pytest.fixture()
def written(tmp_path: Path) -> Callable[..., Path]:
    """Write the clean evidence's baseline (with the findings given) to a file, edited by ``edit`` first."""

    def write(findings: tuple[Finding, ...] = (), edit: Callable[[dict[str, Any]], None] | None = None,
              evidence: Evidence | None = None) -> Path:
        evidence = evidence or clean_evidence()
        path = write_baseline(tmp_path / "baseline.json", evidence, findings, case_counters(evidence),
                              MAX_SEQ_SCAN_ROWS)
        if edit is not None:
            document = json.loads(path.read_text(encoding="utf-8"))
            edit(document)
            path.write_text(json.dumps(document), encoding="utf-8")
        return path

    return write


def _compare(baseline: Baseline, evidence: Evidence | None = None, findings: tuple[Finding, ...] = (),
             max_rows: int = MAX_SEQ_SCAN_ROWS) -> BaselineComparison:
    evidence = evidence or clean_evidence()
    return compare_baseline(baseline, evidence, findings, case_counters(evidence), max_rows)


def _set(coords_id: str, counter: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        case = next(c for c in document["cases"] if c["case"] == coords_id)
        case["counters"][counter] = value

    return edit


def test_a_baseline_reads_back_as_written_and_compares_equal_with_its_own_check(
        written: Callable[..., Path]) -> None:
    """Every case's kept counters and the accepted finding survive the file; against itself: nothing differs."""
    evidence = clean_evidence()
    baseline = read_baseline(written((ACCEPTED,)))
    assert baseline.counters == case_counters(evidence) and len(baseline.counters) == len(evidence.cases)
    assert baseline.findings == (ACCEPTED,) and baseline.scale == "tiny" and baseline.max_seq_scan_rows == 1_000
    assert set(KEPT) == set(COUNTERS) - {"shared_hit", "shared_read"}
    comparison = _compare(baseline, findings=(ACCEPTED,))
    assert comparison == BaselineComparison(baseline.source, (), (), (ACCEPTED,), (), ())


def test_a_changed_plan_is_a_regression_naming_what_changed(written: Callable[..., Path]) -> None:
    """The baseline's find_by_id used the primary key, this check's plan a Seq Scan: another plan."""
    baseline = read_baseline(written(edit=_set(FIND_BY_ID.id, "signature", "Seq Scan on balances")))
    (difference,) = _compare(baseline).differences
    assert difference.coords == FIND_BY_ID and difference.regression
    assert difference.line == f"{FIND_BY_ID.label}: Seq Scan on balances → Index Scan using balances_pkey on balances"


@pytest.mark.parametrize(("baseline_blocks", "shown", "regression"), [(100, False, False), (99, True, True),
                                                                      (130, True, False)],
                         ids=["exactly-10pct-more", "beyond-10pct", "fewer"])
def test_blocks_regress_only_beyond_the_threshold(written: Callable[..., Path], baseline_blocks: int, shown: bool,
                                                  regression: bool) -> None:
    """This check reads 110 shared blocks: 100 in the baseline is exactly 10% more (not shown), 99 beyond it (a
    regression); 130 is a fall, shown and not failing."""
    evidence = changed(clean_evidence(), FIND_BY_ID, plan=plan(node("Index Scan", index="balances_pkey", blocks=110)))
    baseline = read_baseline(written(evidence=evidence, edit=_set(FIND_BY_ID.id, "shared_blocks", baseline_blocks)))
    differences = _compare(baseline, evidence).differences
    assert len(differences) == shown
    if shown:
        assert differences[0].regression is regression
        assert differences[0].line == f"{FIND_BY_ID.label}: shared blocks {baseline_blocks} → 110"


@pytest.mark.parametrize(("counter", "before", "regression"), [
    ("pg_round_trips", 0, True), ("redis_commands", 0, True), ("redis_round_trips", 0, True),
    ("pg_round_trips", 2, False), ("rows", 3, False)])
def test_an_added_round_trip_or_command_regresses_and_fewer_or_other_rows_only_change(
        written: Callable[..., Path], counter: str, before: int, regression: bool) -> None:
    """find_by_id (cold) now makes 1 PostgreSQL round trip and 3 Redis commands in 3 round trips, and returns 1 row."""
    cold = read("find_by_id", CacheState.COLD)
    baseline = read_baseline(written(edit=_set(cold.id, counter, before)))
    (difference,) = _compare(baseline).differences
    assert (difference.coords, difference.regression) == (cold, regression)
    assert [change.counter for change in difference.changes] == [counter]


def test_findings_are_new_known_or_resolved_by_value(written: Callable[..., Path]) -> None:
    """A finding the baseline lists is known, one it does not is new, one only it lists is resolved."""
    resolved = Finding(INDEX, read("find_by_address"), "its plan uses no index; the guide claims idx_balances_address")
    new = Finding(INDEX, ACCEPTED.coords, "its plan uses no index; the guide claims idx_balances_user_created")
    comparison = _compare(read_baseline(written((ACCEPTED, resolved))), findings=(ACCEPTED, new))
    assert (comparison.new_findings, comparison.known_findings, comparison.resolved_findings) == (
        (new,), (ACCEPTED,), (resolved,))


def test_what_cannot_be_compared_is_a_note(written: Callable[..., Path]) -> None:
    """Another server version, a case only one side has, another Seq Scan bound: each said, none failing."""
    def edit(document: dict[str, Any]) -> None:
        document["servers"]["postgres"] = "15.4"
        document["cases"] = [c for c in document["cases"] if c["case"] != FIND_BY_ID.id]
        document["cases"].append({**document["cases"][0], "case": "x", "coordinates": {
            **document["cases"][0]["coordinates"], "scale": "gone"}})

    comparison = _compare(read_baseline(written(edit=edit)), max_rows=50)
    assert comparison.differences == () and len(comparison.notes) == 4
    assert comparison.notes[0] == f"1 case(s) not in the baseline, not compared: {FIND_BY_ID.label}"
    assert comparison.notes[1].startswith("1 case(s) of the baseline this check no longer has: gone ")
    assert comparison.notes[2] == ("the baseline ran on postgres 15.4, this check on 18.6: a plan may differ for that "
                                   "reason alone")
    assert comparison.notes[3] == "the baseline flagged Seq Scans over 1,000 rows, this check over 50"


def _document(**changes: Any) -> dict[str, Any]:
    return {"format": FORMAT, "schema_version": VERSION, **changes}


@pytest.mark.parametrize(("document", "message"), [
    (_document(schema_version=2), "check baseline schema_version 2 is not supported by this balance-bench (it reads "
                                    "version 1); write the baseline again"),
    (_document(schema_version=None), "check baseline schema_version None is not supported by this balance-bench"),
    ({"format": "balance-bench-gate", "schema_version": 1}, "not a balance-bench check baseline"),
    ([1, 2], "not a balance-bench check baseline"),
    (_document(), "lacks cases"),
    (_document(cases=[{"coordinates": {}, "counters": {}}]), ": cases[0].coordinates lacks kind"),
])
def test_an_unknown_version_or_a_broken_file_is_refused_in_one_line(tmp_path: Path, document: Any,
                                                                    message: str) -> None:
    """Another format or version, or a missing field: one BenchError naming the file and what is wrong."""
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(BenchError, match="^" + str(path)) as raised:
        read_baseline(path)
    assert message in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize(("counter", "value", "message"), [
    ("pg_round_trips", "1", "pg_round_trips is not a number: '1'"),
    ("shared_blocks", -1, "shared_blocks is not a count: -1"),
    ("redis_commands", True, "redis_commands is not a number: True"),
    ("signature", "", "signature is not a plan signature: ''"),
])
def test_a_bad_counter_is_named_with_its_case(written: Callable[..., Path], counter: str, value: Any,
                                              message: str) -> None:
    """A counter of the wrong type or sign: the error names the case's place in the file and the counter."""
    with pytest.raises(BenchError, match=r": cases\[\d+\]\.counters\." + message.replace("(", r"\(")):
        read_baseline(written(edit=_set(FIND_BY_ID.id, counter, value)))


def test_a_missing_file_or_not_json_is_one_line(tmp_path: Path) -> None:
    """An unreadable file and a file that is not JSON each say so, with the path."""
    with pytest.raises(BenchError, match=r"absent\.json: no such file"):
        read_baseline(tmp_path / "absent.json")
    (tmp_path / "text.json").write_text("not json", encoding="utf-8")
    with pytest.raises(BenchError, match=r"text\.json: not valid JSON: Expecting value at line 1 column 1"):
        read_baseline(tmp_path / "text.json")


def test_a_baseline_of_another_scale_or_dataset_is_refused(written: Callable[..., Path]) -> None:
    """Another scale is refused before anything runs, another fingerprint once the dataset is known; the same passes."""
    baseline = read_baseline(written())
    baseline.refuse_other_scale("tiny")
    baseline.refuse_other_dataset(DATASET)
    with pytest.raises(BenchError, match="is a baseline of scale tiny; this check runs scale small"):
        baseline.refuse_other_scale("small")
    with pytest.raises(BenchError, match=f"another tiny dataset \\(fingerprint {FINGERPRINT}, seed 42; this one is "
                                         "ffff, seed 7\\)"):
        baseline.refuse_other_dataset({**DATASET, "fingerprint": "ffff", "seed": 7})
    with pytest.raises(BenchError, match="scale tiny; this check runs scale small"):
        baseline.refuse_other_dataset({**DATASET, "scale": "small"})


def test_the_file_keeps_whole_counts_whole_and_cases_in_coordinate_order(written: Callable[..., Path]) -> None:
    """Counts are written as integers and cases in coordinate order, so a rewrite diffs line by line; a fraction (an
    average over the traffic pass's calls) stays one."""
    document = json.loads(written().read_text(encoding="utf-8"))
    counters = document["cases"][0]["counters"]
    assert isinstance(counters["pg_round_trips"], int) and isinstance(counters["shared_blocks"], int)
    order = [Coordinates.from_dict(c["coordinates"]) for c in document["cases"]]
    assert order == sorted(c.coords for c in clean_evidence().cases)
    evidence = changed(clean_evidence(), FIND_BY_ID, traffic=traffic(1, 0.5, 0))
    assert read_baseline(written(evidence=evidence)).counters[FIND_BY_ID]["redis_commands"] == 0.5


def _break(path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize(("where", "value", "message"), [
    ("scale", 5, ": scale is not a string: 5"),
    ("dataset", [], ": dataset is not an object: []"),
    ("servers", "x", ": servers is not an object: 'x'"),
    ("max_seq_scan_rows", True, ": max_seq_scan_rows is not a whole number: True"),
    ("max_seq_scan_rows", 1.5, ": max_seq_scan_rows is not a whole number: 1.5"),
    ("findings", {}, ": findings is not a list: {}"),
    ("cases", "x", ": cases is not a list: 'x'"),
])
def test_each_top_level_field_of_the_wrong_type_is_named_in_full(written: Callable[..., Path], where: str,
                                                                 value: Any, message: str) -> None:
    """The whole message: the file, the field, the type it must have, the value found (a bool is not a number)."""
    path = written((ACCEPTED,))
    _break(path, lambda document: document.__setitem__(where, value))
    with pytest.raises(BenchError) as raised:
        read_baseline(path)
    assert str(raised.value) == f"{path}{message}"


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["findings"].__setitem__(0, 3), ": findings[0] is not an object: 3"),
    (lambda d: d["findings"][0].__setitem__("assertion", "speed"),
     ": findings[0].assertion 'speed' is none of index, traffic, warm, invalidation, seq-scan"),
    (lambda d: d["findings"][0].__setitem__("assertion", 3), ": findings[0].assertion is not a string: 3"),
    (lambda d: d["findings"][0].pop("message"), ": findings[0] lacks message"),
    (lambda d: d["findings"][0].__setitem__("coordinates", []), ": findings[0].coordinates is not an object: []"),
    (lambda d: d["findings"][0]["coordinates"].pop("kind"), ": findings[0].coordinates lacks kind"),
    (lambda d: d["cases"].__setitem__(0, None), ": cases[0] is not an object: None"),
    (lambda d: d["cases"][0].__setitem__("coordinates", 1), ": cases[0].coordinates is not an object: 1"),
    (lambda d: d["cases"][0].__setitem__("counters", []), ": cases[0].counters is not an object: []"),
    (lambda d: d["cases"][0]["counters"].pop("rows"), ": cases[0].counters lacks rows"),
    (lambda d: d["cases"][0]["counters"].__setitem__("signature", 7), ": cases[0].counters.signature is not a plan "
                                                                      "signature: 7"),
], ids=["finding", "assertion", "assertion-type", "message", "coordinates", "kind", "case", "case-coordinates",
        "counters", "counter", "signature"])
def test_a_bad_finding_or_case_is_named_by_its_place_in_full(written: Callable[..., Path],
                                                             edit: Callable[[dict[str, Any]], None],
                                                             message: str) -> None:
    """Each problem inside a finding or a case names the file, the list, the index and the field."""
    path = _break(written((ACCEPTED,)), edit)
    with pytest.raises(BenchError) as raised:
        read_baseline(path)
    assert str(raised.value) == f"{path}{message}"


def test_the_refusals_say_what_to_do(tmp_path: Path, written: Callable[..., Path]) -> None:
    """Not a baseline, an unreadable file, another dataset: each message in full, with the way out."""
    other = tmp_path / "gate.json"
    other.write_text(json.dumps({"format": "balance-bench-gate"}), encoding="utf-8")
    with pytest.raises(BenchError) as raised:
        read_baseline(other)
    assert str(raised.value) == (f'{other}: not a balance-bench check baseline (no "format": '
                                 '"balance-bench-check-baseline"); write one with balance-bench check '
                                 "--write-baseline FILE")
    with pytest.raises(BenchError) as raised:
        read_baseline(tmp_path / "absent.json")
    assert str(raised.value) == (f"{tmp_path / 'absent.json'}: no such file (write one with balance-bench check "
                                 "--write-baseline FILE)")
    path = written()
    baseline = read_baseline(path)
    with pytest.raises(BenchError) as raised:
        baseline.refuse_other_dataset({**DATASET, "fingerprint": "ffff"})
    assert str(raised.value) == (f"{path} was written on another tiny dataset (fingerprint {FINGERPRINT}, "
                                 "seed 42; this one is ffff, seed 42): its counters are not comparable; write the "
                                 "baseline again on this dataset")


def test_the_written_file_is_indented_utf8_json_with_every_field(written: Callable[..., Path], tmp_path: Path) -> None:
    """One-space indents, non-ASCII kept as is, every top-level field, each finding with its case id; a NaN is refused
    (not JSON) and an unwritable target is one line."""
    accented = Finding(INDEX, ACCEPTED.coords, "its plan uses índice_ü")
    path = written((accented,))
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n "format": "balance-bench-check-baseline",\n "schema_version": 1,\n "generator": '
                           '"balance-bench ') and "índice_ü" in text and text.endswith("}\n")
    document = json.loads(text)
    assert list(document) == ["format", "schema_version", "generator", "scale", "dataset", "servers", "settings",
                              "max_seq_scan_rows", "findings", "cases"]
    assert document["settings"] == {"server_version": "18.6"} and document["findings"][0]["case"] == ACCEPTED.coords.id
    nan = changed(clean_evidence(), FIND_BY_ID, traffic=traffic(float("nan"), 0, 0))
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        write_baseline(tmp_path / "nan.json", nan, (), case_counters(nan), MAX_SEQ_SCAN_ROWS)
    with pytest.raises(BenchError, match="cannot write the baseline"):
        write_baseline(tmp_path, clean_evidence(), (), case_counters(clean_evidence()), MAX_SEQ_SCAN_ROWS)


def test_a_looser_blocks_threshold_lets_more_blocks_pass(written: Callable[..., Path]) -> None:
    """30% more blocks regress at the default 10% and pass at 50%."""
    evidence = changed(clean_evidence(), FIND_BY_ID, plan=plan(node("Index Scan", index="balances_pkey", blocks=130)))
    baseline = read_baseline(written(evidence=evidence, edit=_set(FIND_BY_ID.id, "shared_blocks", 100)))
    counters = case_counters(evidence)
    assert compare_baseline(baseline, evidence, (), counters, MAX_SEQ_SCAN_ROWS).regressions != ()
    assert compare_baseline(baseline, evidence, (), counters, MAX_SEQ_SCAN_ROWS, blocks_pct=50).differences == ()


def test_notes_name_three_cases_then_count_the_rest_and_a_server_the_baseline_lacks_is_no_note(
        written: Callable[..., Path]) -> None:
    """Four cases missing from the baseline: three named (in the check's order), "and 1 more"; exactly three: all
    named; a baseline without a Redis version says nothing about Redis."""
    cases = [c.coords for c in clean_evidence().cases]

    def drop(n: int) -> Callable[[dict[str, Any]], None]:
        def edit(document: dict[str, Any]) -> None:
            document["cases"] = [c for c in document["cases"] if c["case"] not in {x.id for x in cases[:n]}]
            del document["servers"]["redis"]
        return edit

    four = _compare(read_baseline(written(edit=drop(4)))).notes
    assert four == (f"4 case(s) not in the baseline, not compared: {cases[0].label}, {cases[1].label}, "
                    f"{cases[2].label} and 1 more",)
    three = _compare(read_baseline(written(edit=drop(3)))).notes
    assert three == ("3 case(s) not in the baseline, not compared: " + ", ".join(c.label for c in cases[:3]),)


def test_a_plan_that_is_not_one_is_an_error_naming_its_case() -> None:
    """Counting a case whose plan is not EXPLAIN output: one BenchError that names the case."""
    with pytest.raises(BenchError, match=f"^{FIND_BY_ID.id}: "):
        case_counters(changed(clean_evidence(), FIND_BY_ID, plan=[{"no": "plan"}]))
