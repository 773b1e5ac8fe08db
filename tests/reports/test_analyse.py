"""Time and buffers are attributed so that they add up, findings fire where they should, and the CLI prints them."""

from __future__ import annotations

from pathlib import Path

import pytest

from balance_bench.reports.analyse import (
    FINDING_CODES,
    PlanAnalysis,
    analyse,
    render_text,
)
from balance_bench.reports.plans import PlanError, load_plan, plan_from_json

DATA = Path(__file__).parent / "data" / "plans"
CAPTURES = sorted(p for p in DATA.glob("pg*/*") if p.suffix in {".json", ".txt"})
ROUNDING_MS = 0.0005  # EXPLAIN prints times to 3 decimals


def analysed(version: str, name: str, query: str | None = None) -> PlanAnalysis:
    return analyse(load_plan(DATA / version / name), query)


def node(analysis: PlanAnalysis, label_part: str):  # -> NodeStats
    matches = [n for n in analysis.nodes if label_part in n.label]
    assert matches, f"no node labelled like {label_part!r} in {[n.label for n in analysis.nodes]}"
    return matches[0]


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_exclusive_times_add_up_to_the_total(path: Path) -> None:
    """For every captured plan the nodes' own times sum to the root's inclusive time, within EXPLAIN's rounding."""
    analysis = analyse(load_plan(path))
    assert analysis.total_ms is not None and analysis.execution_ms is not None
    own = sum(n.exclusive_ms or 0.0 for n in analysis.nodes)
    assert own == pytest.approx(analysis.total_ms, abs=ROUNDING_MS * analysis.node_count)
    assert analysis.total_ms <= analysis.execution_ms - analysis.trigger_ms + ROUNDING_MS


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_node_gets_negative_time_or_buffers(path: Path) -> None:
    """Attribution never leaves a node below zero beyond what per-loop rounding times loops explains."""
    analysis = analyse(load_plan(path))
    for stats in analysis.nodes:
        hosted_loops = sum(c.loops or 0 for c in analysis.nodes if c.parent_id == stats.id)
        assert (stats.exclusive_ms or 0.0) >= -ROUNDING_MS * ((stats.loops or 0) + hosted_loops), stats.label
        assert (stats.shared_hit or 0) >= 0 and (stats.shared_read or 0) >= 0, stats.label


@pytest.mark.parametrize("version", ["pg15", "pg18"])
def test_parallel_children_are_divided_by_participants(version: str) -> None:
    """Under a Gather Merge with 2 workers, loops over 3 participants count as one participant's time."""
    analysis = analysed(version, "parallel.json")
    gather = node(analysis, "Gather Merge")
    scan = node(analysis, "Parallel Seq Scan on balances")
    raw_scan = load_plan(DATA / version / "parallel.json").root
    while raw_scan.node_type != "Seq Scan":
        raw_scan = raw_scan.plans[0]
    assert gather.workers_launched == 2 and scan.loops == 3
    assert scan.inclusive_ms == pytest.approx(raw_scan.actual_total_ms)  # x 3 loops / 3 participants
    assert analysis.seq_scan_relations == ("balances",)
    assert 0 < gather.exclusive_ms < gather.inclusive_ms


@pytest.mark.parametrize("version", ["pg15", "pg18"])
def test_cte_time_is_counted_once_inside_the_scan_that_ran_it(version: str) -> None:
    """The CTE's work is taken out of the CTE Scan that pulled it, not charged twice."""
    analysis = analysed(version, "cte.json")
    cte = next(n for n in analysis.nodes if n.subplan_name == "CTE totals")
    inner_scan = analysis.nodes[-1]
    assert inner_scan.node_type == "CTE Scan"
    assert inner_scan.exclusive_ms == pytest.approx(inner_scan.inclusive_ms - cte.inclusive_ms)
    assert sum(n.exclusive_ms for n in analysis.nodes) == pytest.approx(analysis.total_ms)


@pytest.mark.parametrize("version", ["pg15", "pg18"])
def test_subplan_runs_inside_its_parent(version: str) -> None:
    """A correlated SubPlan's loops are subtracted from the node that evaluates it."""
    analysis = analysed(version, "subplan.json")
    root, subplan = analysis.nodes[0], analysis.nodes[1]
    assert subplan.parent_relationship == "SubPlan" and subplan.loops == 200
    assert root.exclusive_ms == pytest.approx(root.inclusive_ms - subplan.inclusive_ms)
    assert root.exclusive_ms >= 0


@pytest.mark.parametrize("version", ["pg15", "pg18"])
def test_nested_loop_inner_side_counts_every_loop(version: str) -> None:
    """The inner side of a nested loop is per-loop time x loops, and buffers are made exclusive."""
    analysis = analysed(version, "nested_loop.json")
    raw_root = load_plan(DATA / version / "nested_loop.json").root
    inner = node(analysis, "on users")
    assert inner.loops and inner.loops > 1
    assert inner.actual_rows == pytest.approx(inner.rows_per_loop * inner.loops)
    children = [n for n in analysis.nodes if n.parent_id == 1]
    raw_children_hits = sum(c.buffers.shared_hit for c in raw_root.plans if c.buffers)
    assert analysis.nodes[0].shared_hit == raw_root.buffers.shared_hit - raw_children_hits
    assert len(children) == 2


def _initplan_plan(reference: str, subplan_name: str, top: str = "Nested Loop") -> dict[str, object]:
    """A plan whose InitPlan hangs off the top node but is evaluated by a scan below it."""

    def timed(node_type: str, ms: float, **extra: object) -> dict[str, object]:
        return {"Node Type": node_type, "Actual Total Time": ms, "Actual Loops": 1, "Actual Rows": 1, **extra}

    scan = timed("Seq Scan", 5.0, **{"Parent Relationship": "Outer", "Filter": f"(usd_value > {reference})"})
    if top == "Gather":
        scan["Parallel Aware"] = True
    initplan = timed("Aggregate", 4.0, **{"Parent Relationship": "InitPlan", "Subplan Name": subplan_name})
    other = timed("Index Scan", 1.0, **{"Parent Relationship": "Inner"})
    return {"Plan": timed(top, 7.0, Plans=[initplan, scan, other], **{"Workers Launched": 0}), "Execution Time": 7.5}


@pytest.mark.parametrize(
    ("reference", "subplan_name"),
    [("$0", "InitPlan 1 (returns $0)"), ("(InitPlan 1).col1", "InitPlan 1")],
    ids=["pg16-style", "pg17-style"],
)
def test_initplan_is_charged_to_the_node_that_evaluates_it(reference: str, subplan_name: str) -> None:
    """An InitPlan's time comes out of the scan whose filter uses it, not the node it is attached to."""
    analysis = analyse(plan_from_json(_initplan_plan(reference, subplan_name)))
    top, _, scan, other = analysis.nodes
    assert scan.exclusive_ms == pytest.approx(1.0)  # 5 - 4
    assert top.exclusive_ms == pytest.approx(1.0)  # 7 - 5 - 1
    assert sum(n.exclusive_ms for n in analysis.nodes) == pytest.approx(7.0)


def test_initplan_under_a_gather_is_charged_to_the_gather() -> None:
    """A Gather evaluates InitPlans for its workers, so the time comes out of the Gather."""
    analysis = analyse(plan_from_json(_initplan_plan("$0", "InitPlan 1 (returns $0)", top="Gather")))
    gather, _, scan, _ = analysis.nodes
    assert scan.exclusive_ms == pytest.approx(5.0)
    assert gather.exclusive_ms == pytest.approx(7.0 - 5.0 - 1.0 - 4.0)


def test_pg18_fractional_rows_give_total_rows() -> None:
    """Fractional per-loop rows from PostgreSQL 18 multiply back to whole totals."""
    scan = node(analysed("pg18", "parallel.json"), "Parallel Seq Scan")
    assert not scan.rows_per_loop.is_integer()
    assert scan.actual_rows == pytest.approx(200_000, abs=0.02)


FIRES_ON = {
    "slow-seq-scan": ["seq_scan_filter.json", "find_by_user_id_and_token_id_baseline.json"],
    "disk-spill": ["sort_spill.json", "hash_spill.json"],
    "misestimate": ["misestimate.json"],
    "lossy-bitmap": ["lossy_bitmap.json"],
    "heap-fetches": ["heap_fetches.json"],
    "workers-shortfall": ["workers_shortfall.json"],
    "jit-overhead": ["jit.json"],
    "large-offset": ["large_offset.json"],
    "index-not-used": ["find_by_user_id_and_token_id_baseline.plan.json"],
}
FIRING_CASES = [
    (code, version, name)
    for code, names in FIRES_ON.items()
    for name in names
    for version in ("pg15", "pg18")
    if (DATA / version / name).exists()
]


@pytest.mark.parametrize(("code", "version", "name"), FIRING_CASES)
def test_each_finding_fires_on_its_plan(code: str, version: str, name: str) -> None:
    """Each finding code is raised by the real plan that shows the problem."""
    findings = analysed(version, name).findings
    assert code in {f.code for f in findings}
    for finding in findings:
        assert finding.code in FINDING_CODES and "\n" not in finding.message


def test_every_finding_code_has_a_capture() -> None:
    """No finding code goes untested against a real plan."""
    assert {code for code, _, _ in FIRING_CASES} == set(FINDING_CODES)


@pytest.mark.parametrize("version", ["pg15", "pg18"])
@pytest.mark.parametrize("name", ["index_scan.json", "find_by_user_id_and_token_id.plan.json", "get_by_user.plan.json"])
def test_clean_index_scans_have_no_findings(version: str, name: str) -> None:
    """A plain index lookup, including the guide's own queries on their indexes, raises nothing."""
    assert analysed(version, name).findings == ()


def test_index_not_used_follows_the_query_argument() -> None:
    """An explicit query name selects the guide's claim; a query without a claim raises nothing."""
    plan = "find_by_user_id_and_token_id.json"
    wrong = analysed("pg18", plan, query="total_balance_by_user").findings
    assert [f.code for f in wrong] == ["index-not-used"]
    assert "idx_balances_user_usd" in wrong[0].message and "idx_balances_user_token" in wrong[0].message
    assert analysed("pg18", plan, query="find_by_id").findings == ()
    assert analysed("pg18", plan, query="find_by_user_id_and_token_id").findings == ()


def test_misestimate_direction_and_factor() -> None:
    """Twenty rows where one was planned is a 20x underestimate."""
    analysis = analysed("pg15", "misestimate.json")
    root = analysis.nodes[0]
    assert root.misestimate_direction == "under"
    assert root.misestimate_factor == pytest.approx(20.0)


def test_filter_waste_and_spill_flags() -> None:
    """Filter waste is the removed share of rows read; spill marks the node that went to disk."""
    scan = analysed("pg18", "seq_scan_filter.json").nodes[0]
    assert scan.filter_waste == pytest.approx(
        scan.rows_removed_by_filter / (scan.rows_removed_by_filter + scan.actual_rows)
    )
    assert scan.filter_waste > 0.9 and not scan.spill
    sort = analysed("pg18", "sort_spill.json").nodes[0]
    assert sort.spill and sort.temp_written and sort.temp_written > 0


def test_plan_without_analyze_is_refused() -> None:
    """A plain EXPLAIN has nothing to attribute, and says how to capture one that has."""
    with pytest.raises(PlanError, match="ANALYZE"):
        analyse(plan_from_json({"Plan": {"Node Type": "Seq Scan", "Plan Rows": 10}}, "plain.json"))


def test_render_text_shows_the_tree_shares_and_findings() -> None:
    """The text report indents children, shows each node's share of the total, and lists findings."""
    analysis = analysed("pg15", "hash_spill.json")
    text = render_text(analysis)
    lines = text.splitlines()
    assert any("#1 Aggregate" in line and "%" in line for line in lines)
    assert any("    #6 Hash" in line for line in lines)
    assert "[disk-spill]" in text and "[lossy-bitmap]" in text
