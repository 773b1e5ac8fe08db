"""The regression gate written down: gate.json, gate.md and JUnit XML fail exactly the cases slowed by construction,
nothing on an A/A pair, never a reference case; ``report --junit-xml`` writes them where told, or nothing at all.

The oracle is the construction, never ``Comparison.is_regression``: a synthetic current run has ``SLOWED`` (and
one reference case) 60% slower than its baseline, with a per-trial spread of a few percent, so at a 10% threshold
exactly those non-reference cases regressed, and at 100% none did.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from balance_bench.coordinates import OPTIMIZED, CacheState, Coordinates, Kind, Migration
from balance_bench.matrix import all_cases
from balance_bench.reports.counter_gate import CounterComparison, compare_counters
from balance_bench.reports.gate_document import MAX_MD_ROWS, gate_document, gate_markdown, junit_xml, write_gate
from balance_bench.reports.runs import Run, read_run
from balance_bench.reports.time_gate import Comparison, compare_runs
from tests.reports.conftest import EVIL, build_run, trial_run

SLOWDOWN = 1.6
CREDIT = Coordinates(Kind.WRITE, "credit", CacheState.INVALIDATE, Migration.WITH_012, "tiny", OPTIMIZED, "balance")
SLOWED = frozenset({
    CREDIT,
    CREDIT.with_(query="delete", migration=Migration.WITHOUT_012),
    Coordinates(Kind.READ, "find_by_user_id", CacheState.WARM, Migration.WITH_012, "tiny", OPTIMIZED, "whale"),
    Coordinates(Kind.READ, "find_by_address", CacheState.NOCACHE, Migration.WITH_012, "tiny", "legacy", "address"),
})
"""Non-reference cases 60% slower in the current run: on both floors (PostgreSQL and, for the warm read, Redis)."""
SLOWED_REFERENCE = Coordinates(Kind.REFERENCE, "raw_pg_find_by_id", CacheState.RAW, Migration.WITH_012, "tiny",
                               OPTIMIZED, "balance")
"""A reference case 60% slower too (not a floor): the machine, never a test case nor a regression."""
TINY = all_cases(("tiny",))
GATED_LABELS = sorted(c.label for c in TINY if c.kind is not Kind.REFERENCE)
REFERENCE_LABELS = {c.label for c in TINY if c.kind is Kind.REFERENCE}
SLOWED_LABELS = sorted(c.label for c in SLOWED)
TIGHT = (1.00, 1.01, 0.99, 1.00, 1.01, 0.99)
"""Six per-trial values with 1% spread: doubling them is shown beyond 10%; leaving them is shown nothing."""
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _slow(case: Coordinates) -> float:
    return SLOWDOWN if case in SLOWED or case == SLOWED_REFERENCE else 1.0


def _reject(constant: str) -> None:
    raise AssertionError(f"{constant} in a JSON document")


def _json(text: str) -> dict[str, Any]:
    """Strict JSON: NaN and Infinity, which Python writes by default, are not JSON."""
    document: dict[str, Any] = json.loads(text, parse_constant=_reject)
    return document


def _testcases(xml: str) -> tuple[ET.Element, list[ET.Element]]:
    """The one test suite of a JUnit document, and its test cases."""
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    return suite, suite.findall("testcase")


def _failed(testcases: list[ET.Element]) -> list[str]:
    return sorted(str(t.get("name")) for t in testcases if t.find("failure") is not None)


def _table_rows(markdown: str) -> list[list[str]]:
    """The cells of each row of gate.md's table, split on unescaped pipes only (header and rule left out)."""
    rows = [line for line in markdown.splitlines() if line.startswith("| ")][1:]
    return [[cell.strip() for cell in UNESCAPED_PIPE.split(row)[1:-1]] for row in rows]


@pytest.fixture(scope="module")
def slowed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Run, list[Comparison]]:
    """A current run with ``SLOWED`` and ``SLOWED_REFERENCE`` 60% slower than its baseline, and their comparisons."""
    base = tmp_path_factory.mktemp("slowed")
    current, baseline = read_run(build_run(base / "current", seed=1, slowdown=_slow)), read_run(
        build_run(base / "baseline", seed=2))
    return current, baseline, compare_runs(current, baseline)


@pytest.fixture(scope="module")
def same(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Run, list[Comparison]]:
    """An A/A pair: the same synthetic code measured twice, each run with its own drift and noise."""
    base = tmp_path_factory.mktemp("same")
    current, baseline = read_run(build_run(base / "current", seed=3)), read_run(build_run(base / "baseline", seed=4))
    return current, baseline, compare_runs(current, baseline)


def test_the_construction_is_what_the_tests_assume() -> None:
    """The slowed cases are real cases of the tiny matrix, none a reference, and the reference case is one."""
    assert set(TINY) >= SLOWED and all(c.kind is not Kind.REFERENCE for c in SLOWED)
    assert SLOWED_REFERENCE in TINY and SLOWED_REFERENCE.kind is Kind.REFERENCE
    assert len(GATED_LABELS) == len(set(GATED_LABELS)) == len(TINY) - len(REFERENCE_LABELS) > MAX_MD_ROWS


# --- JUnit XML -------------------------------------------------------------------------------------------------


def test_junit_has_one_testcase_per_gated_case_and_fails_exactly_the_slowed(
        slowed: tuple[Run, Run, list[Comparison]]) -> None:
    """Every matched non-reference case is one test case; the ones slowed 60% fail at 10%, nothing else does."""
    current, _, comparisons = slowed
    suite, testcases = _testcases(junit_xml(current, comparisons, 10.0))
    assert sorted(str(t.get("name")) for t in testcases) == GATED_LABELS
    assert _failed(testcases) == SLOWED_LABELS
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == (
        str(len(GATED_LABELS)), str(len(SLOWED)), "0")
    assert {t.get("classname") for t in testcases} == {"balance_bench.gate.tiny"}
    for test in testcases:
        failure = test.find("failure")
        if failure is not None:
            assert failure.get("type") == "regression" and failure.get("message") == "slower by more than 10%"
            assert (failure.text or "").startswith(f"{test.get('name')}: ")
        else:
            assert (test.findtext("system-out") or "").startswith(f"{test.get('name')}: ")
        assert float(str(test.get("time"))) > 0


def test_a_slowed_reference_case_is_never_a_testcase(slowed: tuple[Run, Run, list[Comparison]]) -> None:
    """The reference case 60% slower is compared (it is in the comparisons) but is no test case, failed or not."""
    current, _, comparisons = slowed
    assert SLOWED_REFERENCE in {c.coords for c in comparisons}
    _, testcases = _testcases(junit_xml(current, comparisons, 10.0))
    assert not REFERENCE_LABELS & {str(t.get("name")) for t in testcases}


def test_junit_passes_every_case_above_the_slowdown(slowed: tuple[Run, Run, list[Comparison]]) -> None:
    """At a 100% threshold the 60% slowdown is no regression: the same cases, no failure."""
    current, _, comparisons = slowed
    suite, testcases = _testcases(junit_xml(current, comparisons, 100.0))
    assert len(testcases) == len(GATED_LABELS) and _failed(testcases) == [] and suite.get("failures") == "0"


def test_an_aa_pair_has_no_failure(same: tuple[Run, Run, list[Comparison]]) -> None:
    """Two runs of the same code, with different drift and noise, fail no test case at 10%."""
    current, _, comparisons = same
    suite, testcases = _testcases(junit_xml(current, comparisons, 10.0))
    assert len(testcases) == len(GATED_LABELS) and _failed(testcases) == [] and suite.get("failures") == "0"


def test_markup_in_a_case_name_survives_the_xml(make_run: Callable[..., Path]) -> None:
    """A parameter kind full of markup parses back as the very same text, and its case fails when slowed."""
    evil = lambda case: SLOWDOWN if case.query == "find_by_id" else 1.0  # noqa: E731
    current = read_run(make_run(evil=True, seed=1, slowdown=evil))
    comparisons = compare_runs(current, read_run(make_run(evil=True, seed=2)))
    _, testcases = _testcases(junit_xml(current, comparisons, 10.0))
    expected = sorted(c.coords.label for c in current.summary.cases if c.coords.query == "find_by_id")
    assert expected and all(EVIL in label for label in expected)
    assert _failed(testcases) == expected


# --- gate.json --------------------------------------------------------------------------------------------------


def test_gate_json_names_exactly_the_slowed_cases(slowed: tuple[Run, Run, list[Comparison]]) -> None:
    """Failed, with the slowed cases as its regressions, every gated case counted and listed once, flagged alike."""
    current, baseline, comparisons = slowed
    document = _json(json.dumps(gate_document(current, baseline, comparisons, 10.0), allow_nan=False))
    assert (document["passed"], sorted(r["case"] for r in document["regressions"]), document["gated"]) == (
        False, SLOWED_LABELS, len(GATED_LABELS))
    assert {r["kind"] for r in document["regressions"]} == {"time"}
    assert all(r["cause"].startswith("slower by more than 10%: ") and r["line"].startswith(f"{r['case']}: ")
               for r in document["regressions"])
    assert sorted(case["case"] for case in document["cases"]) == GATED_LABELS
    assert sorted(case["case"] for case in document["cases"] if case["regression"]) == SLOWED_LABELS
    assert {case["verdict"] for case in document["cases"] if case["regression"]} == {"regression"}
    assert all(40 < case["change_pct"] < 80 for case in document["cases"] if case["regression"])
    assert (document["format"], document["schema_version"], document["threshold_pct"],
            document["blocks_threshold_pct"], document["run"]) == ("balance-bench-gate", 2, 10.0, 10.0,
                                                                   current.path.name)


def test_gate_json_passes_above_the_slowdown_and_on_an_aa_pair(slowed: tuple[Run, Run, list[Comparison]],
                                                               same: tuple[Run, Run, list[Comparison]]) -> None:
    """At 100% the slowed pair passes, and so does the A/A pair at 10%: no regression, every case still gated."""
    for (current, baseline, comparisons), pct in ((slowed, 100.0), (same, 10.0)):
        document = gate_document(current, baseline, comparisons, pct)
        assert (document["passed"], document["regressions"], document["gated"]) == (True, [], len(GATED_LABELS))
        assert not any(case["regression"] for case in document["cases"])


def test_write_gate_puts_both_files_into_the_current_run(make_run: Callable[..., Path]) -> None:
    """gate.json (strict JSON) and gate.md land in the current run's directory and agree with each other."""
    current, baseline = read_run(make_run(seed=1, slowdown=_slow)), read_run(make_run(seed=2))
    json_path, md_path = write_gate(current, baseline, compare_runs(current, baseline), 10.0)
    assert (json_path, md_path) == (current.path / "gate.json", current.path / "gate.md")
    document = _json(json_path.read_text(encoding="utf-8"))
    assert sorted(r["case"] for r in document["regressions"]) == SLOWED_LABELS and document["passed"] is False
    assert f"{len(SLOWED)} regression(s)" in md_path.read_text(encoding="utf-8")


def test_a_change_that_cannot_be_formed_is_null_not_a_crash(tmp_path: Path) -> None:
    """A baseline whose medians are all zero makes the change infinite: gate.json says null and stays strict JSON;
    the finite case beside it keeps its number."""
    steady = {1: 1.0, 2: 1.1, 3: 0.9}
    cold = CREDIT.with_(query="debit")
    current = trial_run(tmp_path / "current", {CREDIT: steady, cold: steady})
    baseline = trial_run(tmp_path / "baseline", {CREDIT: {1: 0.0, 2: 0.0, 3: 0.0}, cold: steady})
    current.path.mkdir()
    comparisons = compare_runs(current, baseline)
    assert math.isinf(comparisons[0].change_pct)  # the premise
    json_path, md_path = write_gate(current, baseline, comparisons, 10.0)
    cases = {case["case"]: case for case in _json(json_path.read_text(encoding="utf-8"))["cases"]}
    assert cases[CREDIT.label]["change_pct"] is None and cases[CREDIT.label]["regression"] is False
    assert cases[cold.label]["change_pct"] == pytest.approx(0.0)
    assert CREDIT.label in md_path.read_text(encoding="utf-8")
    _testcases(junit_xml(current, comparisons, 10.0))  # still parses


# --- gate.md ----------------------------------------------------------------------------------------------------


def _comparison(param_kind: str, ratio: float) -> Comparison:
    """A write case whose six tight per-trial values move by exactly ``ratio``: at 10%, 2.0 regressed, 1.0x did not."""
    return Comparison(CREDIT.with_(param_kind=param_kind), 1.0, ratio, 6, 6, ratio, None, None, None, TIGHT,
                      tuple(v * ratio for v in TIGHT))


def test_gate_md_says_which_way_it_went(slowed: tuple[Run, Run, list[Comparison]],
                                        same: tuple[Run, Run, list[Comparison]]) -> None:
    """"N regression(s)" when cases regressed, "No regression" when none did; never both."""
    current, baseline, comparisons = slowed
    failed = gate_markdown(current, baseline, comparisons, 10.0)
    assert f"❌ **{len(SLOWED)} regression(s)**: {len(SLOWED)} slower by more than 10%. " in failed
    assert "No regression" not in failed and "by counters" not in failed
    assert f"{len(GATED_LABELS)} cases judged (time: one-sided test at p < 0.01)." in failed
    for current, baseline, comparisons, pct in (*same, 10.0), (*slowed, 100.0):
        passed = gate_markdown(current, baseline, comparisons, pct)
        assert f"**No regression**: no case shown slower by more than {pct:g}%" in passed
        assert "regression(s)" not in passed and "| regression (" not in passed


def test_gate_md_lists_the_regressions_first_then_the_largest_changes_up_to_the_cap(
        slowed: tuple[Run, Run, list[Comparison]]) -> None:
    """Four regressions among 104 cases: they open the table, MAX_MD_ROWS rows in all, the rest counted."""
    current, baseline, comparisons = slowed
    markdown = gate_markdown(current, baseline, comparisons, 10.0)
    rows = _table_rows(markdown)
    assert len(rows) == MAX_MD_ROWS and all(len(row) == 7 for row in rows)
    assert sorted(row[0] for row in rows[:len(SLOWED)]) == SLOWED_LABELS
    assert {row[6] for row in rows[:len(SLOWED)]} == {"regression (time)"}
    assert not any(row[6].startswith("regression") for row in rows[len(SLOWED):])
    assert {row[5] for row in rows} == {"not compared"}  # no counter comparisons given
    changes = [float(row[3].rstrip("%")) for row in rows[len(SLOWED):]]
    assert changes == sorted(changes, reverse=True)
    assert f"_{len(GATED_LABELS) - MAX_MD_ROWS} more cases, none a regression, in `gate.json`._" in markdown


def test_gate_md_lists_every_regression_even_beyond_the_cap(tmp_path: Path) -> None:
    """More regressions than MAX_MD_ROWS: every one is a row (and no other case is); the others are counted."""
    regressed = [_comparison(f"r{i:02d}", 2.0) for i in range(MAX_MD_ROWS + 3)]
    others = [_comparison(f"o{i:02d}", 1.0) for i in range(7)]
    run = trial_run(tmp_path / "run", {CREDIT: {1: 1.0}})
    markdown = gate_markdown(run, run, [*others, *regressed], 10.0)
    rows = _table_rows(markdown)
    assert sorted(row[0] for row in rows) == sorted(c.label for c in regressed)
    assert f"**{MAX_MD_ROWS + 3} regression(s)**" in markdown and "_7 more cases, none a regression" in markdown


def test_gate_md_shows_the_largest_changes_and_counts_only_what_it_left_out(tmp_path: Path) -> None:
    """Exactly MAX_MD_ROWS cases: all shown, no "more" line; one more: the smallest change is the one left out."""
    run = trial_run(tmp_path / "run", {CREDIT: {1: 1.0}})
    fits = [_comparison(f"c{i:02d}", 1.0 + i / 1000) for i in range(MAX_MD_ROWS)]
    markdown = gate_markdown(run, run, fits, 10.0)
    assert len(_table_rows(markdown)) == MAX_MD_ROWS and "more cases" not in markdown
    smallest = _comparison("smallest", 0.99)
    markdown = gate_markdown(run, run, [smallest, *fits], 10.0)
    rows = _table_rows(markdown)
    assert [row[0] for row in rows] == [c.label for c in reversed(fits)]
    assert smallest.label not in markdown and "_1 more cases, none a regression" in markdown


def test_gate_md_escapes_a_pipe_in_a_case_label(tmp_path: Path) -> None:
    """A parameter kind with "|" (and a backslash) stays inside its cell: six cells per row, the label intact."""
    odd = CREDIT.with_(param_kind="a|b\\c")
    current = trial_run(tmp_path / "current", {odd: {1: 2.0, 2: 2.02, 3: 1.98}})
    baseline = trial_run(tmp_path / "baseline", {odd: {1: 1.0, 2: 1.01, 3: 0.99}})
    markdown = gate_markdown(current, baseline, compare_runs(current, baseline), 10.0)
    ((label, *rest),) = _table_rows(markdown)
    assert len(rest) == 6 and label == odd.label.replace("\\", "\\\\").replace("|", "\\|")
    assert "a\\|b\\\\c" in markdown


# --- counters beside time ---------------------------------------------------------------------------------------

SEQ_PLAN = {"find_by_user_id_and_token_id": ("find_by_user_id_and_token_id_baseline.json",
                                             "find_by_user_id_and_token_id_baseline.json")}
"""The current run's plans of find_by_user_id_and_token_id with 012 are its sequential scan without the index."""
REPLANNED = sorted(c.label for c in TINY if c.query == "find_by_user_id_and_token_id"
                   and c.migration is Migration.WITH_012 and c.cache.reaches_database)
"""The cases whose plan the construction changed: with 012, every cache state that reaches PostgreSQL."""
BOTH = Coordinates(Kind.READ, "find_by_user_id_and_token_id", CacheState.NOCACHE, Migration.WITH_012, "tiny",
                   OPTIMIZED, "pair")
"""One of them also 60% slower: a regression in time and in counters."""
CAUSE = "Index Scan using idx_balances_user_token on balances → Seq Scan on balances"


@pytest.fixture(scope="module")
def replanned(tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[Run, Run, list[Comparison], list[CounterComparison]]:
    """A current run whose find_by_user_id_and_token_id plans with 012 lost their index, BOTH also slowed."""
    base = tmp_path_factory.mktemp("replanned")
    slow = lambda case: SLOWDOWN if case == BOTH else 1.0  # noqa: E731
    current = read_run(build_run(base / "current", seed=5, plans=SEQ_PLAN, slowdown=slow))
    baseline = read_run(build_run(base / "baseline", seed=6))
    return current, baseline, compare_runs(current, baseline), compare_counters(current, baseline)


def test_the_replanned_construction_is_what_the_tests_assume() -> None:
    """Five cases reach PostgreSQL with that query and 012 (cold, the guide's cold, and nocache in three
    projections), and the slowed one is among them."""
    assert len(REPLANNED) == 5 and BOTH.label in REPLANNED


def test_gate_json_names_each_regression_with_its_kind_and_cause(
        replanned: tuple[Run, Run, list[Comparison], list[CounterComparison]]) -> None:
    """Every replanned case is a counter regression naming its plan change; BOTH is a time regression too, time
    first; the case entries carry their counters; nothing else regressed."""
    current, baseline, comparisons, counters = replanned
    document = _json(json.dumps(gate_document(current, baseline, comparisons, 10.0, counters, 25.0),
                                allow_nan=False))
    found = [(r["case"], r["kind"]) for r in document["regressions"]]
    assert sorted(case for case, kind in found if kind == "counters") == REPLANNED
    assert [case for case, kind in found if kind == "time"] == [BOTH.label]
    assert found.index((BOTH.label, "time")) + 1 == found.index((BOTH.label, "counters"))
    assert all(r["cause"].startswith(CAUSE) and r["line"].startswith(f"{r['case']}: {CAUSE}")
               for r in document["regressions"] if r["kind"] == "counters")
    assert document["passed"] is False and document["blocks_threshold_pct"] == 25.0
    entries = {case["case"]: case for case in document["cases"]}
    assert sorted(label for label, case in entries.items() if case["regression"]) == REPLANNED
    assert entries[REPLANNED[0]]["counters"]["verdict"] == "regression"
    assert entries[REPLANNED[0]]["counters"]["changes"][0] == {
        "counter": "signature", "before": "Index Scan using idx_balances_user_token on balances",
        "after": "Seq Scan on balances", "regression": True, "text": CAUSE}
    assert {case["counters"]["verdict"] for label, case in entries.items() if label not in REPLANNED} == {"same"}
    assert entries[BOTH.label]["verdict"] == "regression"
    assert {entries[label]["verdict"] for label in REPLANNED if label != BOTH.label} <= {
        "no significant change", "slower", "faster"}


def test_counters_fail_the_gate_whatever_the_time_threshold(
        replanned: tuple[Run, Run, list[Comparison], list[CounterComparison]]) -> None:
    """At a 1000% time threshold no case is slower by that much, and the replanned cases still fail."""
    current, baseline, comparisons, counters = replanned
    document = gate_document(current, baseline, comparisons, 1000.0, counters)
    assert sorted(r["case"] for r in document["regressions"]) == REPLANNED and document["passed"] is False
    assert {r["kind"] for r in document["regressions"]} == {"counters"}


def test_junit_fails_a_counter_regression_with_its_cause(
        replanned: tuple[Run, Run, list[Comparison], list[CounterComparison]]) -> None:
    """The replanned cases fail; the message says counters and the cause; BOTH's says both, time first; a passed
    case's output carries its counter line too."""
    current, _, comparisons, counters = replanned
    suite, testcases = _testcases(junit_xml(current, comparisons, 10.0, counters))
    assert _failed(testcases) == REPLANNED and suite.get("failures") == str(len(REPLANNED))
    failures = {str(t.get("name")): f for t in testcases if (f := t.find("failure")) is not None}
    assert (failures[BOTH.label].get("message") or "").startswith(f"slower by more than 10%; counters: {CAUSE}")
    assert all((f.get("message") or "").startswith(f"counters: {CAUSE}")
               for label, f in failures.items() if label != BOTH.label)
    assert len((failures[BOTH.label].text or "").splitlines()) == 2
    passed = next(t for t in testcases if t.find("failure") is None)
    assert "counters unchanged" in (passed.findtext("system-out") or "")


def test_gate_md_shows_counters_beside_time(
        replanned: tuple[Run, Run, list[Comparison], list[CounterComparison]]) -> None:
    """The verdict line counts both kinds; the regressed rows come first with their counter change and kind."""
    current, baseline, comparisons, counters = replanned
    markdown = gate_markdown(current, baseline, comparisons, 10.0, counters)
    assert (f"❌ **{len(REPLANNED)} regression(s)**: 1 slower by more than 10%; {len(REPLANNED)} by counters "
            "(another plan, more blocks, an added round trip or Redis command). ") in markdown
    rows = _table_rows(markdown)
    first = rows[:len(REPLANNED)]
    assert sorted(row[0] for row in first) == REPLANNED and all(row[5].startswith(CAUSE) for row in first)
    assert {row[6] for row in first} == {"regression (counters)", "regression (time, counters)"}
    assert {row[5] for row in rows[len(REPLANNED):]} == {"same"}


def test_an_aa_pair_passes_the_counter_gate_too(same: tuple[Run, Run, list[Comparison]]) -> None:
    """Two runs of the same code with the same plans: no counter changed, the gate passes, gate.md says so."""
    current, baseline, comparisons = same
    counters = compare_counters(current, baseline)
    assert counters and all(c.verdict == "same" for c in counters)
    assert gate_document(current, baseline, comparisons, 10.0, counters)["passed"] is True
    assert "no plan, blocks, round trip or Redis command count regressed" in gate_markdown(
        current, baseline, comparisons, 10.0, counters)


# --- the CLI ----------------------------------------------------------------------------------------------------


def _report(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``balance-bench report`` in a fresh process, as CI calls it."""
    return subprocess.run([sys.executable, "-m", "balance_bench.cli", "report", *map(str, args)],
                          capture_output=True, text=True, timeout=180, check=False)


def _files(run: Path) -> set[str]:
    return {p.name for p in run.iterdir()}


def test_cli_gate_fails_on_the_slowdown_and_writes_every_file(make_run: Callable[..., Path], tmp_path: Path) -> None:
    """Exit 1; gate.json and gate.md in the run, the JUnit XML at PATH failing exactly the slowed cases; stdout is
    the report's path alone, and each regression is one line on stderr."""
    current, baseline = make_run(seed=1, slowdown=_slow), make_run(seed=2)
    target = tmp_path / "ci" / "junit.xml"
    target.parent.mkdir()
    result = _report(current, "--baseline", baseline, "--fail-on-regression", "10", "--junit-xml", target)
    assert result.returncode == 1, result.stderr
    assert result.stdout == f"{current / 'report.html'}\n"
    assert {"gate.json", "gate.md", "report.html", "verdicts.json", "verdicts.md"} <= _files(current)
    _, testcases = _testcases(target.read_text(encoding="utf-8"))
    assert len(testcases) == len(GATED_LABELS) and _failed(testcases) == SLOWED_LABELS
    told = sorted(line for line in result.stderr.splitlines() if line.startswith("regression over 10%: "))
    assert [line.removeprefix("regression over 10%: ").split(": ")[0] for line in told] == SLOWED_LABELS
    assert sorted(r["case"] for r in _json((current / "gate.json").read_text(encoding="utf-8"))["regressions"]) == \
        SLOWED_LABELS


def test_cli_counters_fail_the_gate_at_any_time_threshold(make_run: Callable[..., Path]) -> None:
    """Exit 1 at --fail-on-regression 1000, one "regression in counters" line per replanned case naming the plan
    change; --blocks-threshold reaches gate.json; no time regression line."""
    current, baseline = make_run(seed=1, plans=SEQ_PLAN), make_run(seed=2)
    result = _report(current, "--baseline", baseline, "--fail-on-regression", "1000", "--blocks-threshold", "30")
    assert result.returncode == 1, result.stderr
    told = [line.removeprefix("regression in counters: ") for line in result.stderr.splitlines()
            if line.startswith("regression in counters: ")]
    assert sorted(line.split(": ")[0] for line in told) == REPLANNED and all(CAUSE in line for line in told)
    assert "regression over" not in result.stderr
    assert _json((current / "gate.json").read_text(encoding="utf-8"))["blocks_threshold_pct"] == 30.0


@pytest.mark.parametrize(("args", "message"), [
    (["--blocks-threshold", "10"], "--blocks-threshold judges counters against a baseline: give --baseline"),
    (["--baseline", "{baseline}", "--blocks-threshold", "-1"], "--blocks-threshold -1.0: give a percentage of 0"),
    (["--baseline", "{baseline}", "--blocks-threshold", "nan"], "--blocks-threshold nan: give a percentage of 0"),
])
def test_cli_a_bad_blocks_threshold_is_one_line(make_run: Callable[..., Path], args: list[str], message: str) -> None:
    """Without a baseline, negative or not a number: exit 2 with one line, and no gate written."""
    current, baseline = make_run(seed=1), make_run(seed=2)
    result = _report(current, *(a.format(baseline=baseline) for a in args))
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "gate.json" not in _files(current)


def test_cli_gate_passes_an_aa_pair(make_run: Callable[..., Path], tmp_path: Path) -> None:
    """Exit 0 on the A/A pair, with gate.json passed and a JUnit XML without a failure."""
    current, baseline = make_run(seed=3), make_run(seed=4)
    target = tmp_path / "junit.xml"
    result = _report(current, "--baseline", baseline, "--fail-on-regression", "10", "--junit-xml", target)
    assert result.returncode == 0, result.stderr
    assert _json((current / "gate.json").read_text(encoding="utf-8"))["passed"] is True
    assert "No regression" in (current / "gate.md").read_text(encoding="utf-8")
    _, testcases = _testcases(target.read_text(encoding="utf-8"))
    assert len(testcases) == len(GATED_LABELS) and _failed(testcases) == []
    assert "regression over" not in result.stderr


@pytest.mark.parametrize("with_baseline", [True, False], ids=["with-baseline", "alone"])
def test_cli_junit_without_a_threshold_is_one_line_and_writes_nothing(make_run: Callable[..., Path], tmp_path: Path,
                                                                      with_baseline: bool) -> None:
    """--junit-xml without --fail-on-regression: one line on stderr, exit 2, no file written anywhere."""
    current, baseline = make_run(seed=1, slowdown=_slow), make_run(seed=2)
    before, target = _files(current), tmp_path / "junit.xml"
    result = _report(current, *(("--baseline", baseline) if with_baseline else ()), "--junit-xml", target)
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("balance-bench: error: --junit-xml") and "--fail-on-regression" in line
    assert _files(current) == before and not target.exists()


def test_cli_junit_into_a_missing_folder_is_one_line_and_writes_nothing(make_run: Callable[..., Path],
                                                                        tmp_path: Path) -> None:
    """A PATH whose folder does not exist: one line naming the folder, exit 2, nothing written, no folder made."""
    current, baseline = make_run(seed=1, slowdown=_slow), make_run(seed=2)
    before, target = _files(current), tmp_path / "missing" / "junit.xml"
    result = _report(current, "--baseline", baseline, "--fail-on-regression", "10", "--junit-xml", target)
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("balance-bench: error: ") and str(target.parent) in line
    assert _files(current) == before and not target.parent.exists()


@pytest.mark.parametrize("with_baseline", [False, True], ids=["plain", "baseline-without-threshold"])
def test_cli_report_without_a_threshold_writes_verdicts_and_no_gate(make_run: Callable[..., Path],
                                                                    with_baseline: bool) -> None:
    """`report RUN` (with or without --baseline, but no --fail-on-regression): verdicts.json and verdicts.md,
    no gate file, exit 0 however slow, and stdout is the report's path alone."""
    current, baseline = make_run(seed=1, slowdown=_slow), make_run(seed=2)
    result = _report(current, *(("--baseline", baseline) if with_baseline else ()))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{current / 'report.html'}\n"
    files = _files(current)
    assert {"report.html", "verdicts.json", "verdicts.md"} <= files and not {"gate.json", "gate.md"} & files
    assert _json((current / "verdicts.json").read_text(encoding="utf-8"))["format"] == "balance-bench-verdicts"
