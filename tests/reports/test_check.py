"""The check's decision: without a baseline every finding fails it; with one, only a finding it does not list or a
counter regression does (no servers: synthetic evidence)."""

from __future__ import annotations

from pathlib import Path

from balance_bench.coordinates import CacheState
from balance_bench.reports.baseline import case_counters, read_baseline, write_baseline
from balance_bench.reports.check import judge_check
from balance_bench.reports.findings import MAX_SEQ_SCAN_ROWS
from tests.reports.check_evidence import changed, clean_evidence, node, plan, read, traffic

ADDRESS = read("find_by_address")
UNINDEXED = changed(clean_evidence(), ADDRESS, plan=plan(node("Index Scan", index="balances_pkey")))
"""A check with one finding: find_by_address with 012 on the primary key."""


def test_without_a_baseline_a_check_passes_exactly_when_it_finds_nothing() -> None:
    """Nothing found: passed; one finding: failed, and that finding is the failing one."""
    clean, broken = judge_check(clean_evidence()), judge_check(UNINDEXED)
    assert clean.passed and clean.findings == () and clean.regressions == ()
    assert not broken.passed and broken.failing_findings == broken.findings and len(broken.findings) == 1
    assert len(clean.cases) == len(clean.counters) == len(clean_evidence().cases)
    assert clean.scale == "tiny" and clean.max_seq_scan_rows == MAX_SEQ_SCAN_ROWS
    assert clean.servers == {"postgres": "18.6", "redis": "7.2.4"}


def test_a_baseline_accepts_the_findings_it_lists_and_fails_new_ones_and_regressions(tmp_path: Path) -> None:
    """Accepted in the baseline: passes (known); a finding it lacks or an added Redis command per call: fails; fewer
    blocks only change."""
    accepted = judge_check(UNINDEXED)
    path = write_baseline(tmp_path / "b.json", UNINDEXED, accepted.findings, accepted.counters, MAX_SEQ_SCAN_ROWS)
    baseline = read_baseline(path)
    known = judge_check(UNINDEXED, baseline=baseline)
    assert known.passed and known.comparison is not None and known.comparison.known_findings == accepted.findings
    other = changed(UNINDEXED, read("get_by_user"), plan=plan(node("Seq Scan", rows=20)))
    assert not judge_check(other, baseline=baseline).passed
    cold = read("find_by_id", CacheState.COLD)
    more = judge_check(changed(UNINDEXED, cold, traffic=traffic(1, 4, 3)), baseline=baseline)
    assert not more.passed and [d.coords for d in more.regressions] == [cold] and more.failing_findings != ()
    fewer = judge_check(changed(UNINDEXED, read("find_by_id"), plan=plan(node("Index Scan", index="balances_pkey",
                                                                              blocks=1))), baseline=baseline)
    assert fewer.passed and fewer.comparison is not None and len(fewer.comparison.changes) == 1
    assert case_counters(UNINDEXED) == accepted.counters


def test_the_seq_scan_bound_and_the_blocks_threshold_reach_the_judgement(tmp_path: Path) -> None:
    """A claimed read's Seq Scan of 21 rows is a finding under a bound of 20 only; 30% more blocks regress at the
    default threshold only, not at 50%."""
    scanned = changed(clean_evidence(), ADDRESS, plan=plan(node("Nested Loop", relation=None, children=(
        node("Index Scan", index="idx_balances_address"), node("Seq Scan", relation="tokens", rows=21)))))
    assert judge_check(scanned).passed and not judge_check(scanned, 20).passed
    clean = judge_check(clean_evidence())
    baseline = read_baseline(write_baseline(tmp_path / "b.json", clean_evidence(), (), clean.counters, 1000))
    more = changed(clean_evidence(), read("find_by_id"), plan=plan(node("Index Scan", index="balances_pkey", blocks=4)))
    assert not judge_check(more, baseline=baseline).passed
    assert judge_check(more, baseline=baseline, blocks_pct=50).passed
