"""What a check says: the answer first, failing items before the rest, the same items in Markdown, and one JUnit test
case per case failed exactly where a finding fails or a counter regressed (no servers: synthetic evidence)."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from balance_bench.coordinates import CacheState
from balance_bench.errors import BenchError
from balance_bench.reports.baseline import BaselineComparison, read_baseline, write_baseline
from balance_bench.reports.check import CheckResult, judge_check
from balance_bench.reports.check_document import (
    check_junit,
    check_markdown,
    headline,
    summary_lines,
    write_junit,
    write_markdown,
    written_lines,
)
from balance_bench.reports.findings import MAX_SEQ_SCAN_ROWS
from tests.reports.check_evidence import changed, clean_evidence, node, plan, read, traffic

ADDRESS = read("find_by_address")
COLD = read("find_by_id", CacheState.COLD)
WHERE = "scale tiny; copies without and with 012; PostgreSQL 18.6, Redis 7.2.4"


@pytest.fixture(scope="module")
def against(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    """A check against a baseline that accepts find_by_address's finding: get_by_user now on a Seq Scan (a new
    finding and another plan), the cold read's fourth Redis command (a new finding and a regression), find_by_id's
    fewer blocks (a change)."""
    accepted_evidence = changed(clean_evidence(), ADDRESS, plan=plan(node("Index Scan", index="balances_pkey")))
    accepted = judge_check(accepted_evidence)
    path = write_baseline(tmp_path_factory.mktemp("check") / "team|baseline.json", accepted_evidence,
                          accepted.findings, accepted.counters, MAX_SEQ_SCAN_ROWS)
    evidence = changed(accepted_evidence, read("get_by_user"), plan=plan(node("Seq Scan", rows=20)))
    evidence = changed(evidence, COLD, traffic=traffic(1, 4, 4))
    evidence = changed(evidence, read("find_by_id"), plan=plan(node("Index Scan", index="balances_pkey", blocks=1)))
    return judge_check(evidence, baseline=read_baseline(path))


def test_the_headline_gives_the_answer_first() -> None:
    """Passed with no finding; failed with one, counted; with a baseline the new, regressed, known and changed."""
    assert headline(judge_check(clean_evidence())) == f"check passed: 0 findings in 104 cases ({WHERE})"
    broken = changed(clean_evidence(), ADDRESS, plan=plan(node("Index Scan", index="balances_pkey")))
    assert headline(judge_check(broken)) == f"check failed: 1 finding in 104 cases ({WHERE})"


def test_against_a_baseline_the_lines_put_what_fails_first(against: CheckResult) -> None:
    """New findings, then regressions, then known findings, then changes, each with its status word."""
    lines = summary_lines(against)
    assert lines[0] == ("check failed: 2 new findings and 2 counter regressions in 104 cases against "
                        f"team|baseline.json ({WHERE}); 1 known finding, 1 counter change")
    statuses = [line.split()[0] for line in lines[1:]]
    assert statuses == ["new", "new", "regression", "regression", "known", "changed"]
    assert lines[1].startswith(f"  new         traffic: {COLD.label}: Redis commands 4 per call, the design says 3")
    assert lines[3] == (f"  regression  {COLD.label}: Redis round trips 3 → 4; Redis commands 3 → 4; Redis bytes "
                        "sent 120 → 160; Redis bytes received 30 → 40")
    assert lines[4].endswith("idx_balances_user_created on balances → Seq Scan on balances; rows 1 → 20")
    assert lines[6] == f"  changed     {read('find_by_id').label}: shared blocks 3 → 1"


def test_a_written_baseline_lists_what_it_accepts(tmp_path: Path) -> None:
    """Writing a baseline (and comparing with none) says what the file holds and each finding it accepts."""
    broken = judge_check(changed(clean_evidence(), ADDRESS, plan=plan(node("Index Scan", index="balances_pkey"))))
    lines = written_lines(broken, tmp_path / "b.json")
    assert lines[0] == (f"check wrote the baseline {tmp_path / 'b.json'}: 104 cases' counters, 1 finding accepted "
                        f"({WHERE})")
    assert lines[1].startswith("  accepted    index: tiny find_by_address ")


def test_the_markdown_has_the_verdict_the_findings_and_the_counters(against: CheckResult, tmp_path: Path) -> None:
    """The verdict line, a row per finding with its status, a row per counter difference; pipes escaped."""
    markdown = write_markdown(tmp_path / "check.md", against).read_text(encoding="utf-8")
    assert markdown == check_markdown(against)
    lines = markdown.splitlines()
    assert lines[0] == "## balance-bench check: scale `tiny`" and lines[2].startswith("❌ check failed: 2 new findings")
    assert sum(line.startswith("| ❌ new |") for line in lines) == 2
    assert sum(line.startswith("| ⚪ known | index | tiny find_by_address") for line in lines) == 1
    assert "### Counters against `team|baseline.json`" in lines
    assert (f"| {COLD.label} | Redis round trips 3 → 4; Redis commands 3 → 4; Redis bytes sent 120 → 160; Redis bytes "
            "received 30 → 40 | ❌ regression |") in lines
    assert any(line.endswith("| ⚪ changed |") and "shared blocks 3 → 1" in line for line in lines)
    assert "shared blocks 3 → 1 | ⚪ changed |\n\nWhat it asserts" in markdown  # no notes: one blank line
    clean = check_markdown(judge_check(clean_evidence()))
    assert "| Status |" not in clean and clean.splitlines()[2] == f"✅ check passed: 0 findings in 104 cases ({WHERE})"


def test_the_junit_fails_exactly_the_cases_with_a_failing_finding_or_a_regression(against: CheckResult,
                                                                                   tmp_path: Path) -> None:
    """104 test cases; get_by_user and the cold read fail (a finding each, and a regression), find_by_address (known)
    passes with its finding told."""
    root = ET.fromstring(write_junit(tmp_path / "check.xml", against).read_text(encoding="utf-8"))
    (suite,) = root.findall("testsuite")
    cases = {str(c.get("name")): c for c in suite.findall("testcase")}
    assert (suite.get("tests"), suite.get("failures"), len(cases)) == ("104", "2", 104)
    failed = {name for name, c in cases.items() if c.find("failure") is not None}
    assert failed == {read("get_by_user").label, COLD.label}
    failure = cases[COLD.label].find("failure")
    assert failure is not None and failure.get("type") == "finding"
    assert str(failure.get("message")).startswith("traffic: Redis commands 4 per call, the design says 3")
    assert "counters: Redis round trips 3 → 4" in str(failure.get("message"))
    known = cases[ADDRESS.label].find("system-out")
    assert known is not None and str(known.text).startswith("known: index: tiny find_by_address")
    assert cases[read("total_balance").label].find("system-out") is None
    assert check_junit(against) == (tmp_path / "check.xml").read_text(encoding="utf-8")


def test_the_markdown_of_a_passing_check_against_a_baseline_in_full(tmp_path: Path) -> None:
    """Every line, blank ones included: headline, the known finding's table, the counters section and its note."""
    accepted_evidence = changed(clean_evidence(), ADDRESS, plan=plan(node("Index Scan", index="balances_pkey")))
    accepted = judge_check(accepted_evidence)
    path = write_baseline(tmp_path / "b.json", accepted_evidence, accepted.findings, accepted.counters, 1000)
    result = judge_check(accepted_evidence, 900, read_baseline(path))
    finding = accepted.findings[0]
    assert check_markdown(result) == "\n".join([
        "## balance-bench check: scale `tiny`", "",
        f"✅ {headline(result)}", "",
        "| Status | Assertion | Case | What |", "|---|---|---|---|",
        f"| ⚪ known | index | {ADDRESS.label} | {finding.message} |", "",
        "### Counters against `b.json`", "",
        "Every case's counters are the baseline's (blocks within the threshold).", "",
        "- the baseline flagged Seq Scans over 1,000 rows, this check over 900", "",
        "What it asserts: **index**: with 012, each claimed read uses its index; **traffic**: round trips and Redis "
        "commands per call are the cache design's; **warm**: a warm read never reaches PostgreSQL; **invalidation**: "
        "every write invalidates its keys; **seq-scan**: no large Seq Scan on a claimed read with 012 (more than 900 "
        "rows).", ""])
    fewer = changed(accepted_evidence, ADDRESS, plan=plan(node("Index Scan", index="balances_pkey", blocks=1)))
    changes = check_markdown(judge_check(fewer, 900, read_baseline(path)))
    assert "\n".join([
        "### Counters against `b.json`", "",
        "| Case | Changes | Verdict |", "|---|---|---|",
        f"| {ADDRESS.label} | shared blocks 3 → 1 | ⚪ changed |", "",
        "- the baseline flagged Seq Scans over 1,000 rows, this check over 900", "",
        "What it asserts: **index**: with 012, each claimed read uses its index; **traffic**: round trips and Redis "
        "commands per call are the cache design's; **warm**: a warm read never reaches PostgreSQL; **invalidation**: "
        "every write invalidates its keys; **seq-scan**: no large Seq Scan on a claimed read with 012 (more than 900 "
        "rows)."]) in changes


def test_a_resolved_finding_and_a_missing_server_version_are_told() -> None:
    """A finding only the baseline has is resolved (✅ in Markdown, its own status on the terminal); an unknown server
    version shows as ?."""
    result = judge_check(clean_evidence())
    finding = judge_check(changed(clean_evidence(), ADDRESS, plan=plan(node("Index Scan", index="balances_pkey"))))
    resolved = dataclasses.replace(result, servers={"postgres": "15.4"}, comparison=BaselineComparison(
        "b.json", (), (), (), finding.findings, ()))
    assert summary_lines(resolved)[1] == f"  resolved    {finding.findings[0].line}"
    assert f"| ✅ resolved | index | {ADDRESS.label} |" in check_markdown(resolved)
    assert "(scale tiny; copies without and with 012; PostgreSQL 15.4, Redis ?)" in headline(resolved)


def test_a_case_failing_by_counters_alone_fails_as_a_regression_and_passing_cases_tell_their_changes(
        tmp_path: Path) -> None:
    """More blocks and nothing else: a failed test case of type regression; a known finding and fewer blocks on one
    case: both told, one per line, and the case passes."""
    finding_evidence = changed(clean_evidence(), ADDRESS, plan=plan(node("Index Scan", index="balances_pkey")))
    accepted = judge_check(finding_evidence)
    baseline = read_baseline(write_baseline(tmp_path / "b.json", finding_evidence, accepted.findings,
                                            accepted.counters, 1000))
    evidence = changed(finding_evidence, read("find_by_id"), plan=plan(node("Index Scan", index="balances_pkey",
                                                                            blocks=40)))
    evidence = changed(evidence, ADDRESS, plan=plan(node("Index Scan", index="balances_pkey", blocks=1)))
    root = ET.fromstring(check_junit(judge_check(evidence, baseline=baseline)))
    cases = {str(c.get("name")): c for c in root.iter("testcase")}
    failure = cases[read("find_by_id").label].find("failure")
    assert failure is not None and failure.get("type") == "regression"
    assert failure.get("message") == "counters: shared blocks 3 → 40"
    assert failure.text == f"{read('find_by_id').label}: shared blocks 3 → 40"
    assert cases[ADDRESS.label].find("failure") is None
    assert cases[ADDRESS.label].findtext("system-out") == (f"known: {accepted.findings[0].line}\n"
                                                          f"changed: {ADDRESS.label}: shared blocks 3 → 1")


def test_several_failing_findings_on_one_case_are_joined_in_one_failure() -> None:
    """Two findings on the warm read (its traffic, and its reaching PostgreSQL): one failure, both told."""
    warm = read("find_by_id", CacheState.WARM)
    evidence = changed(clean_evidence(), warm, traffic=traffic(1, 2, 2), cache_hits=0, cache_misses=5)
    root = ET.fromstring(check_junit(judge_check(evidence)))
    failure = next(c for c in root.iter("testcase") if c.get("name") == warm.label).find("failure")
    assert failure is not None and failure.get("type") == "finding"
    message = str(failure.get("message"))
    assert message.startswith("traffic: Redis commands 2 per call, the design says 1")
    assert "; warm: 1 PostgreSQL" in message
    lines = str(failure.text).split("\n")
    assert [line.split(": ")[:2] for line in lines] == [["traffic", warm.label], ["warm", warm.label]]


def test_an_unwritable_target_is_one_line_naming_what_was_not_written(tmp_path: Path) -> None:
    """A folder where the file should go: each writer says which document it could not write."""
    result = judge_check(clean_evidence())
    with pytest.raises(BenchError, match=f"^{tmp_path}: cannot write the Markdown "):
        write_markdown(tmp_path, result)
    with pytest.raises(BenchError, match=f"^{tmp_path}: cannot write the JUnit XML "):
        write_junit(tmp_path, result)
