"""Time and buffers are attributed so that they add up, findings fire where they should, and the CLI prints them."""

from __future__ import annotations

from pathlib import Path

import pytest

from balance_bench.plans.analysis import (
    FINDING_CODES,
    HEAP_FETCH_SHARE,
    JIT_SHARE,
    LARGE_OFFSET_ROWS,
    MISESTIMATE_FACTOR,
    SEQ_SCAN_MIN_ROWS_READ,
    SEQ_SCAN_REMOVED_SHARE,
    PlanAnalysis,
    analyse,
    render_text,
)
from balance_bench.plans.parser import PlanError, plan_from_json, read_plan

DATA = Path(__file__).parent / "data"
CAPTURES = sorted(p for p in DATA.glob("pg*/*") if p.suffix in {".json", ".txt"})
ROUNDING_MS = 0.0005  # EXPLAIN prints times to 3 decimals


def analysed(version: str, name: str, query: str | None = None) -> PlanAnalysis:
    return analyse(read_plan(DATA / version / name), query)


def node(analysis: PlanAnalysis, label_part: str):  # -> NodeStats
    matches = [n for n in analysis.nodes if label_part in n.label]
    assert matches, f"no node labelled like {label_part!r} in {[n.label for n in analysis.nodes]}"
    return matches[0]


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_exclusive_times_add_up_to_the_total(path: Path) -> None:
    """For every captured plan the nodes' own times sum to the root's inclusive time, within EXPLAIN's rounding."""
    analysis = analyse(read_plan(path))
    assert analysis.total_ms is not None and analysis.execution_ms is not None
    own = sum(n.exclusive_ms or 0.0 for n in analysis.nodes)
    assert own == pytest.approx(analysis.total_ms, abs=ROUNDING_MS * analysis.node_count)
    assert analysis.total_ms <= analysis.execution_ms - analysis.trigger_ms + ROUNDING_MS


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_node_gets_negative_time_or_buffers(path: Path) -> None:
    """Attribution never leaves a node below zero beyond what per-loop rounding times loops explains."""
    analysis = analyse(read_plan(path))
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
    raw_scan = read_plan(DATA / version / "parallel.json").root
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
    raw_root = read_plan(DATA / version / "nested_loop.json").root
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
    top, _, scan, _ = analysis.nodes
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
    with pytest.raises(PlanError) as raised:
        analyse(plan_from_json({"Plan": {"Node Type": "Seq Scan", "Plan Rows": 10}}, "plain.json"))
    assert str(raised.value) == (
        "plain.json: the plan has no actual figures: capture it with EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)")


def test_render_text_shows_the_tree_shares_and_findings() -> None:
    """The text report indents children, shows each node's share of the total, and lists findings."""
    analysis = analysed("pg15", "hash_spill.json")
    text = render_text(analysis)
    lines = text.splitlines()
    assert any("#1 Aggregate" in line and "%" in line for line in lines)
    assert any("    #6 Hash" in line for line in lines)
    assert "[disk-spill]" in text and "[lossy-bitmap]" in text


# --- hand-made plans: exclusive times worked out by hand, not by the analyser --------------------------------


def plan_node(node_type: str, ms: float, *children: dict[str, object], loops: float = 1, rows: float = 1,
              **keys: object) -> dict[str, object]:
    """One EXPLAIN (ANALYZE, FORMAT JSON) node: per-loop ``ms`` and ``rows`` as EXPLAIN prints them."""
    node: dict[str, object] = {"Node Type": node_type, "Actual Total Time": ms, "Actual Loops": loops,
                               "Actual Rows": rows}
    if (planned := keys.pop("plan_rows", rows)) is not None:
        node["Plan Rows"] = planned
    node.update({key.replace("_", " "): value for key, value in keys.items()})
    if children:
        node["Plans"] = list(children)
    return node


def child(relationship: str, node: dict[str, object]) -> dict[str, object]:
    return {**node, "Parent Relationship": relationship}


def hand_made(root: dict[str, object], execution_ms: float = 100.0, **top: object) -> PlanAnalysis:
    return analyse(plan_from_json({"Plan": root, "Execution Time": execution_ms, **top}, "hand-made"))


def own_ms(analysis: PlanAnalysis) -> list[float | None]:
    return [n.exclusive_ms for n in analysis.nodes]


def test_inner_side_of_a_nested_loop_is_time_per_loop_times_loops() -> None:
    """Nested Loop 10 ms over an outer scan of 2 ms and an inner scan of 0.5 ms x 10 loops: 3, 2 and 5 ms own."""
    analysis = hand_made(plan_node("Nested Loop", 10.0,
                                   child("Outer", plan_node("Seq Scan", 2.0, rows=10)),
                                   child("Inner", plan_node("Index Scan", 0.5, loops=10))))
    assert own_ms(analysis) == pytest.approx([3.0, 2.0, 5.0])
    assert [n.inclusive_ms for n in analysis.nodes] == pytest.approx([10.0, 2.0, 5.0])
    assert analysis.nodes[2].actual_rows == 10 and analysis.nodes[2].rows_per_loop == 1


def test_workers_under_a_gather_count_once_per_participant() -> None:
    """Gather Merge 15 ms (2 workers) over Sort 10 ms x 3 loops over a scan 6 ms x 3 loops: own 5, 4, 6."""
    scan = child("Outer", plan_node("Seq Scan", 6.0, loops=3, Parallel_Aware=True))
    sort = child("Outer", plan_node("Sort", 10.0, scan, loops=3))
    analysis = hand_made(plan_node("Gather Merge", 15.0, sort, Workers_Planned=2, Workers_Launched=2))
    assert own_ms(analysis) == pytest.approx([5.0, 4.0, 6.0])
    assert analysis.nodes[2].label == "#3 Parallel Seq Scan"


def test_a_gather_without_launched_workers_leaves_loops_alone() -> None:
    """With no worker launched the leader ran the scan alone: its one loop of 8 ms is 8 ms."""
    scan = child("Outer", plan_node("Seq Scan", 8.0, Parallel_Aware=True))
    analysis = hand_made(plan_node("Gather", 9.0, scan, Workers_Planned=2, Workers_Launched=0))
    assert own_ms(analysis) == pytest.approx([1.0, 8.0])


def test_a_subplan_under_a_gather_is_run_by_the_leader_alone() -> None:
    """A SubPlan's loops are the leader's: 0.05 ms x 100 loops is 5 ms, not divided by the 3 participants."""
    subplan = child("SubPlan", plan_node("Index Scan", 0.05, loops=100, Subplan_Name="SubPlan 1"))
    scan = child("Outer", plan_node("Seq Scan", 9.0, subplan, loops=3, Parallel_Aware=True))
    analysis = hand_made(plan_node("Gather", 12.0, scan, Workers_Planned=2, Workers_Launched=2))
    assert own_ms(analysis) == pytest.approx([3.0, 4.0, 5.0])


def test_a_correlated_subplan_is_charged_to_the_scan_that_evaluates_it() -> None:
    """Seq Scan 20 ms evaluating a SubPlan of 0.05 ms x 200 loops: the scan's own time is 10 ms."""
    subplan = child("SubPlan", plan_node("Aggregate", 0.05, loops=200, Subplan_Name="SubPlan 1"))
    analysis = hand_made(plan_node("Seq Scan", 20.0, subplan, rows=200))
    assert own_ms(analysis) == pytest.approx([10.0, 10.0])


def test_a_cte_read_by_one_scan_is_charged_to_that_scan() -> None:
    """CTE Scan 8 ms reading a CTE that took 5 ms (its Seq Scan 4 ms): own 3, 1 and 4 ms."""
    cte = child("InitPlan", plan_node("Aggregate", 5.0, child("Outer", plan_node("Seq Scan", 4.0)),
                                      Subplan_Name="CTE totals"))
    analysis = hand_made(plan_node("CTE Scan", 8.0, cte, CTE_Name="totals"))
    assert own_ms(analysis) == pytest.approx([3.0, 1.0, 4.0])
    assert analysis.nodes[0].label == "#1 CTE Scan on totals"


def test_a_cte_read_by_two_scans_goes_first_to_the_scan_with_most_unexplained_time() -> None:
    """A 6 ms CTE read by scans of 4 and 5 ms: the 5 ms scan takes 5, the other 1; Append keeps 10 - 4 - 5."""
    cte = child("InitPlan", plan_node("Seq Scan", 6.0, Subplan_Name="CTE t"))
    first = child("Member", plan_node("CTE Scan", 4.0, CTE_Name="t"))
    second = child("Member", plan_node("CTE Scan", 5.0, CTE_Name="t"))
    analysis = hand_made(plan_node("Append", 10.0, cte, first, second))
    assert own_ms(analysis) == pytest.approx([1.0, 6.0, 3.0, 0.0])


def test_a_cte_nobody_reads_stays_with_the_node_it_hangs_off() -> None:
    """An InitPlan CTE with no CTE Scan reading it is charged to its attaching node: 7 - 2 - 3."""
    cte = child("InitPlan", plan_node("Seq Scan", 2.0, Subplan_Name="CTE unused"))
    analysis = hand_made(plan_node("Result", 7.0, cte, child("Outer", plan_node("Seq Scan", 3.0))))
    assert own_ms(analysis) == pytest.approx([2.0, 2.0, 3.0])


def test_an_initplan_is_charged_to_the_deepest_node_that_reads_its_result() -> None:
    """InitPlan 1 (4 ms) read by an Index Scan two levels down: the scan's 6 ms become 2 ms own."""
    initplan = child("InitPlan", plan_node("Result", 4.0, Subplan_Name="InitPlan 1 (returns $0)"))
    scan = child("Outer", plan_node("Index Scan", 6.0, Index_Cond="(id = $0)"))
    sort = child("Outer", plan_node("Sort", 7.0, scan, Sort_Key=["id"]))
    analysis = hand_made(plan_node("Limit", 8.0, initplan, sort))
    assert own_ms(analysis) == pytest.approx([1.0, 4.0, 1.0, 2.0])


def test_an_initplan_reference_does_not_match_a_longer_parameter_number() -> None:
    """``$10`` is another parameter than InitPlan 1's ``$1``: nothing reads the InitPlan, so the attach node pays."""
    initplan = child("InitPlan", plan_node("Result", 4.0, Subplan_Name="InitPlan 1 (returns $1)"))
    scan = child("Outer", plan_node("Index Scan", 6.0, Index_Cond="(id = $10)"))
    analysis = hand_made(plan_node("Limit", 12.0, initplan, scan))
    assert own_ms(analysis) == pytest.approx([2.0, 4.0, 6.0])


def test_an_initplan_never_hosts_itself_or_its_own_subtree() -> None:
    """Text inside the InitPlan that mentions its own parameter does not make it its own host."""
    initplan = child("InitPlan", plan_node("Result", 4.0, Subplan_Name="InitPlan 1 (returns $0)", Output=["$0"]))
    scan = child("Outer", plan_node("Index Scan", 6.0, Index_Cond="(id = $0)"))
    analysis = hand_made(plan_node("Limit", 8.0, initplan, scan))
    assert own_ms(analysis) == pytest.approx([2.0, 4.0, 2.0])


def test_an_initplan_inside_one_branch_is_looked_for_in_that_branch_only() -> None:
    """The reader is searched for in the attaching node's whole subtree, up to its last node, and nowhere else."""
    initplan = child("InitPlan", plan_node("Result", 3.0, Subplan_Name="InitPlan 1 (returns $0)"))
    reader = child("Outer", plan_node("Seq Scan", 5.0, Filter="(v > $0)"))
    branch = child("Member", plan_node("Limit", 6.0, initplan, reader))
    other = child("Member", plan_node("Seq Scan", 9.0, Filter="(w > $0)"))  # another branch's own $0
    analysis = hand_made(plan_node("Append", 16.0, branch, other))
    assert own_ms(analysis) == pytest.approx([1.0, 1.0, 3.0, 2.0, 9.0])


def test_an_initplan_under_a_gather_runs_in_the_leader_only() -> None:
    """An InitPlan of a Gather with 2 workers ran once in the leader: its 3 ms are not divided by 3 participants."""
    initplan = child("InitPlan", plan_node("Result", 3.0, Subplan_Name="InitPlan 1 (returns $0)"))
    scan = child("Outer", plan_node("Seq Scan", 6.0, loops=3, Parallel_Aware=True, Filter="(v > $0)"))
    analysis = hand_made(plan_node("Gather", 10.0, initplan, scan, Workers_Planned=2, Workers_Launched=2))
    assert [n.inclusive_ms for n in analysis.nodes] == pytest.approx([10.0, 3.0, 6.0])
    assert own_ms(analysis) == pytest.approx([1.0, 3.0, 6.0])  # the Gather evaluates it for its workers


def test_a_gather_above_the_attaching_node_does_not_take_its_initplan() -> None:
    """Only a Gather between the reader and the node the InitPlan hangs off stands in for the reader."""
    initplan = child("InitPlan", plan_node("Result", 2.0, Subplan_Name="InitPlan 1 (returns $0)"))
    reader = child("Outer", plan_node("Seq Scan", 5.0, Filter="(v > $0)"))
    attach = child("Outer", plan_node("Limit", 8.0, initplan, reader))
    analysis = hand_made(plan_node("Gather", 9.0, attach, Workers_Planned=2, Workers_Launched=0))
    assert own_ms(analysis) == pytest.approx([1.0, 3.0, 2.0, 3.0])


def test_a_node_missing_its_loops_counts_one_loop() -> None:
    """A node with a time but no loop count (a hand-edited plan) is taken as one loop, not dropped."""
    inner = child("Outer", {"Node Type": "Seq Scan", "Actual Total Time": 3.0, "Actual Rows": 1})
    analysis = hand_made(plan_node("Limit", 4.0, inner))
    assert own_ms(analysis) == pytest.approx([1.0, 3.0])


def test_an_initplan_goes_to_its_deepest_reader_first_within_what_each_has() -> None:
    """Readers at depth 2 (1 ms own) and 1 (5 ms own) of a 3 ms InitPlan: the deep one gives 1, the other 2."""
    initplan = child("InitPlan", plan_node("Result", 3.0, Subplan_Name="InitPlan 1 (returns $0)"))
    deep = child("Outer", plan_node("Index Scan", 1.0, Index_Cond="(id = $0)"))
    shallow = child("Outer", plan_node("Nested Loop", 6.0, deep, Join_Filter="(a.v > $0)"))
    analysis = hand_made(plan_node("Limit", 10.0, initplan, shallow))
    assert own_ms(analysis) == pytest.approx([4.0, 3.0, 3.0, 0.0])


def test_an_initplan_takes_no_more_than_a_reader_has_left_and_the_rest_stays_with_its_node() -> None:
    """A reader with 0.5 ms of its own gives 0.5 of a 2 ms InitPlan; the node it hangs off keeps the other 1.5."""
    initplan = child("InitPlan", plan_node("Result", 2.0, Subplan_Name="InitPlan 1 (returns $0)"))
    reader = child("Outer", plan_node("Index Scan", 0.5, Index_Cond="(id = $0)"))
    analysis = hand_made(plan_node("Limit", 4.0, initplan, reader))
    assert own_ms(analysis) == pytest.approx([2.0, 2.0, 0.0])


def test_a_readers_own_children_are_taken_out_before_it_hosts_an_initplan_listed_after_it() -> None:
    """Nested Loop 8 ms (child 5 ms) reads InitPlan 1 (4 ms) listed after it: it has 3 ms to give, the Limit pays 1."""
    reader = child("Outer", plan_node("Nested Loop", 8.0, child("Outer", plan_node("Seq Scan", 5.0)),
                                      Join_Filter="(x = $0)"))
    initplan = child("InitPlan", plan_node("Result", 4.0, Subplan_Name="InitPlan 1 (returns $0)"))
    analysis = hand_made(plan_node("Limit", 10.0, reader, initplan))
    assert own_ms(analysis) == pytest.approx([1.0, 0.0, 5.0, 4.0])


def test_inner_initplans_are_placed_before_outer_ones() -> None:
    """A scan reading InitPlan 1 (inner, 4 ms) and InitPlan 2 (outer, 3 ms) with 6 ms serves the inner one first."""
    outer = child("InitPlan", plan_node("Result", 3.0, Subplan_Name="InitPlan 2 (returns $1)"))
    inner = child("InitPlan", plan_node("Result", 4.0, Subplan_Name="InitPlan 1 (returns $0)"))
    scan = child("Outer", plan_node("Seq Scan", 6.0, Filter="((a = $0) AND (b = $1))"))
    sort = child("Outer", plan_node("Sort", 9.0, inner, scan))
    analysis = hand_made(plan_node("Limit", 12.0, outer, sort))
    assert own_ms(analysis) == pytest.approx([2.0, 3.0, 3.0, 4.0, 0.0])


def test_an_initplan_returning_several_parameters_is_read_through_any_of_them() -> None:
    """``InitPlan 1 (returns $0,$1)`` is read by a node that mentions only ``$1``."""
    initplan = child("InitPlan", plan_node("Result", 2.0, Subplan_Name="InitPlan 1 (returns $0,$1)"))
    scan = child("Outer", plan_node("Seq Scan", 5.0, Filter="(v > $1)"))
    analysis = hand_made(plan_node("Limit", 6.0, initplan, scan))
    assert own_ms(analysis) == pytest.approx([1.0, 2.0, 3.0])


def test_a_cte_is_charged_to_its_cte_scans_not_to_other_nodes_with_time_to_spare() -> None:
    """A 3 ms CTE read by a 4 ms CTE Scan stays there, though a 10 ms Seq Scan beside it has more unexplained time."""
    cte = child("InitPlan", plan_node("Seq Scan", 3.0, Subplan_Name="CTE t"))
    reader = child("Outer", plan_node("CTE Scan", 4.0, CTE_Name="t"))
    other = child("Inner", plan_node("Seq Scan", 10.0))
    analysis = hand_made(plan_node("Hash Join", 20.0, cte, reader, other))
    assert own_ms(analysis) == pytest.approx([6.0, 3.0, 1.0, 10.0])


def test_a_recursive_ctes_worktable_scan_is_not_a_reader_of_it() -> None:
    """Inside a recursive CTE the WorkTable Scan names the CTE too; only the CTE Scan outside reads it."""
    worktable = child("Inner", plan_node("WorkTable Scan", 1.0, loops=3, CTE_Name="r"))
    body = plan_node("Recursive Union", 5.0, child("Outer", plan_node("Result", 0.5)), worktable,
                     Subplan_Name="CTE r")
    cte = child("InitPlan", body)
    analysis = hand_made(plan_node("CTE Scan", 7.0, cte, CTE_Name="r"))
    assert own_ms(analysis) == pytest.approx([2.0, 1.5, 0.5, 3.0])


def test_a_recursive_cte_read_by_two_scans_is_charged_to_them_only() -> None:
    """A 5 ms recursive CTE read by scans of 4 and 2 ms: they take 4 and 1; its WorkTable Scan keeps its own 3 ms."""
    worktable = child("Inner", plan_node("WorkTable Scan", 1.0, loops=3, CTE_Name="r"))
    cte = child("InitPlan", plan_node("Recursive Union", 5.0, child("Outer", plan_node("Result", 0.5)), worktable,
                                      Subplan_Name="CTE r"))
    first = child("Member", plan_node("CTE Scan", 4.0, CTE_Name="r"))
    second = child("Member", plan_node("CTE Scan", 2.0, CTE_Name="r"))
    analysis = hand_made(plan_node("Append", 7.0, cte, first, second))
    assert own_ms(analysis) == pytest.approx([1.0, 1.5, 0.5, 3.0, 0.0, 1.0])


def test_a_cte_is_not_read_by_its_own_top_node_under_a_shadowed_name() -> None:
    """``WITH t AS (WITH t AS (...) SELECT * FROM t) ... t a, t b``: the outer CTE's top node reads the inner t only."""
    inner = child("InitPlan", plan_node("Seq Scan", 1.0, Subplan_Name="CTE t"))
    outer = child("InitPlan", plan_node("CTE Scan", 5.0, inner, CTE_Name="t", Subplan_Name="CTE t"))
    first = child("Outer", plan_node("CTE Scan", 3.0, CTE_Name="t"))
    second = child("Inner", plan_node("CTE Scan", 2.5, CTE_Name="t"))
    analysis = hand_made(plan_node("Nested Loop", 6.0, outer, first, second))
    assert own_ms(analysis) == pytest.approx([0.5, 4.0, 1.0, 0.0, 0.5])


def test_what_a_cte_scan_cannot_hold_stays_with_the_first_reader() -> None:
    """A CTE timed a little above its only reader (rounding) leaves the small excess on that reader, not its parent."""
    cte = child("InitPlan", plan_node("Seq Scan", 4.002, Subplan_Name="CTE t"))
    reader = child("Outer", plan_node("CTE Scan", 4.0, CTE_Name="t"))
    analysis = hand_made(plan_node("Limit", 5.0, cte, reader))
    assert own_ms(analysis) == pytest.approx([1.0, 4.002, -0.002])


def test_labels_say_parallel_once() -> None:
    """A parallel-aware node is labelled Parallel, and a node type that already says so is not labelled twice."""
    assert hand_made(plan_node("Seq Scan", 1.0, Parallel_Aware=True)).nodes[0].label == "#1 Parallel Seq Scan"
    assert hand_made(plan_node("Parallel Seq Scan", 1.0, Parallel_Aware=True)).nodes[0].label == (
        "#1 Parallel Seq Scan")
    assert hand_made(plan_node("Parallel Seq Scan", 1.0)).nodes[0].label == "#1 Parallel Seq Scan"


def test_exclusive_buffers_subtract_children_and_keep_totals_over_loops() -> None:
    """Buffers are totals over loops already: 100 hits less the children's 30 + 60 leaves 10 own."""
    outer = child("Outer", plan_node("Seq Scan", 2.0, Shared_Hit_Blocks=30, Temp_Written_Blocks=0))
    inner = child("Inner", plan_node("Index Scan", 0.5, loops=10, Shared_Hit_Blocks=60, Shared_Read_Blocks=4,
                                     Temp_Read_Blocks=2))
    analysis = hand_made(plan_node("Nested Loop", 10.0, outer, inner, Shared_Hit_Blocks=100, Shared_Read_Blocks=5,
                                   Temp_Read_Blocks=9, Temp_Written_Blocks=3))
    assert [n.shared_hit for n in analysis.nodes] == [10, 30, 60]
    assert [n.shared_read for n in analysis.nodes] == [1, 0, 4]
    assert [n.temp_read for n in analysis.nodes] == [7, 0, 2]
    assert [n.temp_written for n in analysis.nodes] == [3, 0, 0]


def test_nodes_that_never_ran_have_no_time() -> None:
    """A node EXPLAIN marks as never executed (no actual time) has no own time and costs its parent nothing."""
    never = child("Inner", {"Node Type": "Index Scan", "Actual Loops": 0, "Plan Rows": 5})
    analysis = hand_made(plan_node("Nested Loop", 3.0, child("Outer", plan_node("Seq Scan", 1.0, rows=0)), never))
    assert own_ms(analysis) == pytest.approx([2.0, 1.0, None])
    assert analysis.nodes[2].misestimate_factor is None


# --- findings on minimal plans: each code fires on its problem and stays quiet just short of it ---------------


def codes(analysis: PlanAnalysis) -> list[str]:
    return [f.code for f in analysis.findings]


def messages(analysis: PlanAnalysis, code: str) -> list[str]:
    return [f.message for f in analysis.findings if f.code == code]


def test_thresholds_are_the_documented_ones() -> None:
    """What each finding means is set by these numbers; changing one is a decision this test makes visible."""
    assert (SEQ_SCAN_MIN_ROWS_READ, SEQ_SCAN_REMOVED_SHARE, MISESTIMATE_FACTOR) == (1000, 0.9, 10.0)
    assert (HEAP_FETCH_SHARE, JIT_SHARE, LARGE_OFFSET_ROWS) == (0.1, 0.2, 1000)


def seq_scan(rows: float, removed: float, loops: float = 1, node_type: str = "Seq Scan") -> PlanAnalysis:
    return hand_made(plan_node(node_type, 5.0, rows=rows, loops=loops, Rows_Removed_by_Filter=removed,
                               Relation_Name="balances"))


@pytest.mark.parametrize(("rows", "removed", "loops", "fires"), [
    (100, 900, 1, True),  # read 1000 (the minimum), 90% removed (the minimum share)
    (99, 900, 1, False),  # read 999: below the minimum rows read, though 90.1% was removed
    (101, 899, 1, False),  # read 1000 but 89.9% removed
    (10, 90, 10, True),  # per-loop figures x 10 loops: read 1000, 90% removed
    (10, 90, 1, False),  # the same per loop, once: read 100
    (0, 5000, 1, True),  # nothing returned from 5000 rows read
], ids=["at-both-thresholds", "too-few-rows", "too-little-removed", "loops-count", "one-loop", "all-removed"])
def test_slow_seq_scan_thresholds(rows: float, removed: float, loops: float, fires: bool) -> None:
    """slow-seq-scan needs at least 1000 rows read (over all loops) and at least 90% of them filtered away."""
    analysis = seq_scan(rows, removed, loops)
    assert ("slow-seq-scan" in codes(analysis)) is fires
    if fires:
        read, gone = (rows + removed) * loops, removed * loops
        (message,) = messages(analysis, "slow-seq-scan")
        assert message.startswith("#1 Seq Scan on balances: ")
        assert f"read {read:,.0f} rows and its filter removed {gone:,.0f} ({gone / read:.0%})" in message


@pytest.mark.parametrize(("rows", "removed", "waste"), [(0, 5000, 1.0), (0, 0, None), (1, 0, 0.0), (0, 1, 1.0),
                                                        (3, 1, 0.25)])
def test_filter_waste_is_the_removed_share_of_rows_read(rows: float, removed: float, waste: float | None) -> None:
    """Removed / (removed + returned), over all loops; a scan that read nothing has no share at all."""
    stats = seq_scan(rows, removed).nodes[0]
    assert stats.filter_waste == waste and stats.rows_removed_by_filter == removed
    assert seq_scan(rows, removed, loops=2).nodes[0].filter_waste == waste


def test_findings_name_their_node() -> None:
    """A node's finding carries the node's id and label, for tools and for the report's tree."""
    (finding,) = seq_scan(0, 5000).findings
    assert (finding.code, finding.node_id, finding.node) == ("slow-seq-scan", 1, "#1 Seq Scan on balances")


def test_seq_scan_relations_lists_only_relations_read_by_seq_scans() -> None:
    """An index scan's relation is not a seq-scanned relation; a parallel seq scan's is."""
    users = child("Inner", plan_node("Index Scan", 1.0, Relation_Name="users", Index_Name="users_pkey"))
    balances = child("Outer", plan_node("Seq Scan", 2.0, Relation_Name="balances", Parallel_Aware=True))
    analysis = hand_made(plan_node("Nested Loop", 4.0, balances, users))
    assert analysis.seq_scan_relations == ("balances",) and analysis.indexes_used == ("users_pkey",)


def test_trigger_time_is_summed_and_missing_times_count_zero() -> None:
    """Triggers' times add up (one without a time adds nothing); no triggers is 0.0 ms."""
    triggers = [{"Trigger Name": "a", "Time": 1.5, "Calls": 1}, {"Trigger Name": "b"},
                {"Trigger Name": "c", "Time": 2.0}]
    assert hand_made(plan_node("Result", 1.0), Triggers=triggers).trigger_ms == 3.5
    assert repr(hand_made(plan_node("Result", 1.0)).to_dict()["trigger_ms"]) == "0.0"


def test_slow_seq_scan_covers_parallel_scans_but_not_index_scans() -> None:
    """A Parallel Seq Scan is a seq scan; an Index Scan whose filter removes rows is not this finding."""
    assert codes(seq_scan(100, 9900, node_type="Parallel Seq Scan")) == ["slow-seq-scan"]
    assert codes(seq_scan(100, 9900, node_type="Index Scan")) == []
    assert codes(hand_made(plan_node("Seq Scan", 5.0, rows=5000))) == []  # no filter at all


SPILLS = {  # one minimal node per way a node can go to disk, at the smallest figure that is a spill, and its words
    "external-sort": ({"Sort Method": "external merge", "Sort Space Type": "Disk", "Sort Space Used": 2048},
                      "sort method external merge, 2,048 kB"),
    "sort-space-on-disk": ({"Sort Method": "top-N heapsort", "Sort Space Type": "Disk"}, "sort method top-N heapsort"),
    "sort-space-on-disk-no-method": ({"Sort Space Type": "Disk", "Sort Space Used": 8}, "sort method external, 8 kB"),
    "external-sort-method": ({"Sort Method": "external sort"}, "sort method external sort"),
    "hash-batches": ({"Hash Batches": 2, "Original Hash Batches": 1}, "hash in 2 batches"),
    "hashagg-batches": ({"HashAgg Batches": 2}, "hash aggregate in 2 batches, 0 kB on disk"),
    "hashagg-disk-usage": ({"HashAgg Batches": 1, "Disk Usage": 1}, "hash aggregate in 1 batches, 1 kB on disk"),
    "disk-usage-alone": ({"Disk Usage": 1024}, "hash aggregate in 0 batches, 1,024 kB on disk"),
    "tuplestore": ({"Storage": "Disk", "Maximum Storage": 4096}, "tuple store on disk"),
    "temp-blocks": ({"Temp Written Blocks": 1, "Temp Read Blocks": 1}, "1 temp blocks written"),
    "many-temp-blocks": ({"Temp Written Blocks": 12000}, "12,000 temp blocks written"),
}
NO_SPILLS = {  # the same nodes where everything fitted in memory
    "sort-in-memory": {"Sort Method": "quicksort", "Sort Space Type": "Memory", "Sort Space Used": 25},
    "hash-one-batch": {"Hash Batches": 1},
    "hashagg-one-batch": {"HashAgg Batches": 1, "Disk Usage": 0},
    "tuplestore-in-memory": {"Storage": "Memory"},
    "no-temp-blocks": {"Temp Written Blocks": 0, "Temp Read Blocks": 0},
}


@pytest.mark.parametrize("kind", SPILLS)
def test_every_kind_of_disk_spill_is_found(kind: str) -> None:
    """External sorts, hash and hash-aggregate batches, aggregate disk usage, tuple stores, temp blocks: all spills."""
    keys, detail = SPILLS[kind]
    analysis = hand_made(plan_node("Sort", 5.0, **{k.replace(" ", "_"): v for k, v in keys.items()}))
    assert codes(analysis) == ["disk-spill"] and analysis.nodes[0].spill
    assert messages(analysis, "disk-spill") == [
        f"#1 Sort: spilled to disk ({detail}); raise work_mem or shrink the input"]


@pytest.mark.parametrize(("keys", "detail"), [
    ({"Hash Batches": 1, "Temp Written Blocks": 5}, "5 temp blocks written"),
    ({"HashAgg Batches": 1, "Disk Usage": 0, "Temp Written Blocks": 3}, "3 temp blocks written"),
    ({"Sort Method": "quicksort", "Sort Space Type": "Memory", "Storage": "Disk"}, "tuple store on disk"),
])
def test_a_spill_is_described_by_what_went_to_disk_not_by_what_fitted(keys: dict[str, object], detail: str) -> None:
    """One batch of a hash, or a sort in memory, is not the reason given when another part of the node spilled."""
    analysis = hand_made(plan_node("Hash", 5.0, **{k.replace(" ", "_"): v for k, v in keys.items()}))
    assert messages(analysis, "disk-spill") == [
        f"#1 Hash: spilled to disk ({detail}); raise work_mem or shrink the input"]


@pytest.mark.parametrize("kind", NO_SPILLS)
def test_nodes_that_fit_in_memory_are_no_spill(kind: str) -> None:
    """The same node types with everything in memory raise nothing."""
    analysis = hand_made(plan_node("Sort", 5.0, **{k.replace(" ", "_"): v for k, v in NO_SPILLS[kind].items()}))
    assert codes(analysis) == [] and not analysis.nodes[0].spill


def test_temp_blocks_spill_only_where_they_were_written() -> None:
    """A parent whose temp blocks all come from its child did not spill itself: only the child is flagged."""
    sort = child("Outer", plan_node("Sort", 4.0, Temp_Written_Blocks=7))
    analysis = hand_made(plan_node("Limit", 5.0, sort, Temp_Written_Blocks=7))
    assert [(f.code, f.node_id) for f in analysis.findings] == [("disk-spill", 2)]


@pytest.mark.parametrize(("planned", "actual", "factor", "direction"), [
    (10, 100, 10.0, "under"),  # exactly the factor: fires
    (10, 99, 9.9, "under"),
    (100, 10, 10.0, "over"),
    (100, 11, 100 / 11, "over"),
    (10, 0, 10.0, "over"),  # 0 rows counts as 1, so "0 vs 10" is 10x, not infinite
    (9, 0, 9.0, "over"),
    (0, 10, 10.0, "under"),
    (5, 5, 1.0, None),
])
def test_misestimate_threshold_and_direction(planned: float, actual: float, factor: float,
                                             direction: str | None) -> None:
    """misestimate fires from a 10x gap between planned and actual rows per loop, in either direction."""
    analysis = hand_made(plan_node("Index Scan", 1.0, rows=actual, plan_rows=planned, loops=3))
    stats = analysis.nodes[0]
    assert stats.misestimate_factor == pytest.approx(factor) and stats.misestimate_direction == direction
    assert ("misestimate" in codes(analysis)) is (factor >= 10)
    if factor >= 10:
        assert messages(analysis, "misestimate") == [
            f"#1 Index Scan: planner expected {planned:,} rows per loop, got {actual:,} "
            f"({factor:,.0f}x {direction}estimate); check statistics"]


def test_bitmap_and_or_nodes_are_never_misestimates() -> None:
    """BitmapAnd and BitmapOr always report 0 actual rows, so they are not judged."""
    for node_type in ("BitmapAnd", "BitmapOr"):
        analysis = hand_made(plan_node(node_type, 1.0, rows=0, plan_rows=5000))
        assert analysis.nodes[0].misestimate_factor is None and codes(analysis) == []


def test_lossy_bitmap_fires_on_any_lossy_block() -> None:
    """One lossy heap block means rows were rechecked; none means the bitmap fitted in work_mem."""
    lossy = hand_made(plan_node("Bitmap Heap Scan", 3.0, Lossy_Heap_Blocks=5, Exact_Heap_Blocks=15))
    assert messages(lossy, "lossy-bitmap") == [
        "#1 Bitmap Heap Scan: 5 of 20 heap blocks were lossy, so every row on them was rechecked; "
        "the bitmap did not fit in work_mem"]
    assert codes(hand_made(plan_node("Bitmap Heap Scan", 3.0, Lossy_Heap_Blocks=0, Exact_Heap_Blocks=15))) == []
    only_lossy = hand_made(plan_node("Bitmap Heap Scan", 3.0, Lossy_Heap_Blocks=4))
    assert "4 of 4 heap blocks" in messages(only_lossy, "lossy-bitmap")[0]


@pytest.mark.parametrize(("rows", "loops", "fetches", "fires"), [
    (100, 1, 10, True),  # 10 fetches for 100 rows: the 10% share
    (100, 1, 9, False),
    (10, 10, 10, True),  # 100 rows over 10 loops: heap fetches are totals already
    (10, 10, 9, False),
    (0, 1, 1, True),  # no rows returned: one fetch is already too many
    (100, 1, 0, False),
])
def test_heap_fetches_threshold(rows: float, loops: float, fetches: float, fires: bool) -> None:
    """heap-fetches fires when an index-only scan fetched heap rows for at least 10% of the rows it returned."""
    analysis = hand_made(plan_node("Index Only Scan", 1.0, rows=rows, loops=loops, Heap_Fetches=fetches))
    assert ("heap-fetches" in codes(analysis)) is fires
    if fires:
        assert messages(analysis, "heap-fetches") == [
            f"#1 Index Only Scan: {fetches:,.0f} heap fetches for {rows * loops:,.0f} rows: the visibility map is "
            "stale, so the index-only scan visits the table; VACUUM it"]


@pytest.mark.parametrize(("planned", "launched", "fires"), [(2, 1, True), (2, 0, True), (2, 2, False), (0, 0, False)])
def test_workers_shortfall(planned: int, launched: int, fires: bool) -> None:
    """workers-shortfall fires when fewer workers launched than were planned, even none."""
    scan = child("Outer", plan_node("Seq Scan", 1.0, Parallel_Aware=True))
    analysis = hand_made(plan_node("Gather", 2.0, scan, Workers_Planned=planned, Workers_Launched=launched))
    assert ("workers-shortfall" in codes(analysis)) is fires
    if fires:
        assert messages(analysis, "workers-shortfall") == [
            f"#1 Gather: {launched} of {planned} planned workers launched; "
            "max_parallel_workers or max_worker_processes ran out"]


@pytest.mark.parametrize(("jit_ms", "fires"), [(20.0, True), (19.99, False), (50.0, True), (0.0, False)])
def test_jit_overhead_threshold(jit_ms: float, fires: bool) -> None:
    """jit-overhead fires when JIT took at least 20% of the execution time."""
    analysis = hand_made(plan_node("Seq Scan", 90.0), execution_ms=100.0,
                         JIT={"Functions": 4, "Timing": {"Total": jit_ms}})
    assert analysis.jit_ms == jit_ms
    assert ("jit-overhead" in codes(analysis)) is fires
    if fires:
        assert messages(analysis, "jit-overhead") == [
            f"JIT took {jit_ms:,.3f} ms of 100.000 ms execution ({jit_ms / 100:.0%}); "
            "raise jit_above_cost or turn jit off for this query"]
        assert analysis.findings[0].node_id is None and analysis.findings[0].node is None


def test_no_jit_section_is_no_jit_finding() -> None:
    """A plan without JIT has no JIT time and no finding."""
    analysis = hand_made(plan_node("Seq Scan", 1.0))
    assert analysis.jit_ms is None and codes(analysis) == []


@pytest.mark.parametrize(("input_rows", "loops", "fires"), [(1020, 1, True), (1019, 1, False), (102, 10, True)])
def test_large_offset_threshold(input_rows: float, loops: float, fires: bool) -> None:
    """large-offset fires when a Limit reads at least 1000 rows (over all loops) more than it returns."""
    scan = child("Outer", plan_node("Index Scan", 1.0, rows=input_rows, loops=loops))
    analysis = hand_made(plan_node("Limit", 2.0, scan, rows=20 / loops, loops=loops))
    assert ("large-offset" in codes(analysis)) is fires
    if fires:
        total = input_rows * loops
        assert messages(analysis, "large-offset") == [
            f"#1 Limit: read {total:,.0f} rows to return 20: a large OFFSET is read and thrown away; "
            "paginate by key (WHERE key > last seen) instead"]


@pytest.mark.parametrize(("relationship", "name"), [("InitPlan", "InitPlan 1 (returns $0)"), ("SubPlan", "SubPlan 1")])
def test_large_offset_reads_the_limits_input_not_its_subplans(relationship: str, name: str) -> None:
    """The rows a Limit discards are its input's: an InitPlan or SubPlan under it that read many rows does not count."""
    subplan = child(relationship, plan_node("Seq Scan", 1.0, rows=5000, Subplan_Name=name))
    scan = child("Outer", plan_node("Index Scan", 1.0, rows=20))
    assert codes(hand_made(plan_node("Limit", 3.0, subplan, scan, rows=20))) == []


def scan_using(index: str | None) -> dict[str, object]:
    """A scan of balances through ``index``, or a Seq Scan when None."""
    keys = {"Index_Name": index} if index else {}
    return plan_node("Index Scan" if index else "Seq Scan", 1.0, Relation_Name="balances", **keys)


@pytest.mark.parametrize(("index", "fires"),
                         [("idx_balances_user_created", False), ("balances_pkey", True), (None, True)])
def test_index_not_used_compares_with_the_guides_claim(index: str | None, fires: bool) -> None:
    """get_by_user should use idx_balances_user_created; another index or none at all is the finding."""
    plan = plan_from_json({"Plan": scan_using(index)})
    assert codes(analyse(plan, "get_by_user")) == (["index-not-used"] if fires else [])
    assert codes(analyse(plan)) == []  # without a query there is no claim to compare with


def test_index_not_used_message_names_both_indexes() -> None:
    """The message says which index the guide claims and which the plan used, or that it used none."""
    uses_pkey = analyse(plan_from_json({"Plan": scan_using("balances_pkey")}), "get_by_user")
    assert messages(uses_pkey, "index-not-used") == [
        "the guide says get_by_user uses idx_balances_user_created (Index-Aware Queries); this plan uses balances_pkey"]
    uses_none = analyse(plan_from_json({"Plan": scan_using(None)}), "find_by_address")
    assert messages(uses_none, "index-not-used")[0].endswith("this plan uses no index")
    two = plan_node("BitmapOr", 1.0, child("Member", scan_using("balances_pkey")), child("Member", scan_using("b_idx")))
    uses_two = analyse(plan_from_json({"Plan": two}), "get_by_user")
    assert messages(uses_two, "index-not-used")[0].endswith("this plan uses b_idx, balances_pkey")


def test_render_text_prints_every_figure_of_a_small_plan() -> None:
    """The whole text of a hand-made plan: header with query and JIT, own ms and share, roles, rows, findings."""
    subplan = child("SubPlan", plan_node("Index Scan", 0.05, loops=100, rows=0.5, plan_rows=2,
                                         Subplan_Name="SubPlan 1", Index_Name="balances_pkey",
                                         Relation_Name="balances"))
    root = plan_node("Seq Scan", 20.0, subplan, rows=100, plan_rows=1000, Relation_Name="users")
    analysis = analyse(plan_from_json({"Plan": root, "Execution Time": 21.5, "Planning Time": 0.25,
                                       "JIT": {"Timing": {"Total": 1.5}}}, "small.json"), "find_by_id")
    assert render_text(analysis) == "\n".join([
        "small.json  (query find_by_id)",
        "execution 21.500 ms, planning 0.250 ms, JIT 1.500 ms, 2 nodes",
        "    own ms  share  node",
        "    15.000  75.0%  #1 Seq Scan on users  rows/loop 100 (planned 1,000), loops 1",
        "     5.000  25.0%    SubPlan 1: #2 Index Scan using balances_pkey on balances  rows/loop 0.50 (planned 2), "
        "loops 100",
        "findings:",
        "  [misestimate] #1 Seq Scan on users: planner expected 1,000 rows per loop, got 100 (10x overestimate); "
        "check statistics",
    ])


def test_render_text_marks_missing_figures_and_no_findings() -> None:
    """Without a query, JIT, timings or planned rows the text says "-", and an empty findings list says none."""
    never = {"Node Type": "Index Scan", "Actual Loops": 0, "Parent Relationship": "Inner"}
    analysis = analyse(plan_from_json({"Plan": plan_node("Nested Loop", 2.0, never, plan_rows=None)}, "bare.json"))
    assert render_text(analysis).splitlines() == [
        "bare.json",
        "execution - ms, planning - ms, 2 nodes",
        "    own ms  share  node",
        "     2.000 100.0%  #1 Nested Loop  rows/loop 1 (planned -), loops 1",
        "         -      -    #2 Index Scan  rows/loop - (planned -), loops 0",
        "findings: none",
    ]


def test_to_dict_rounds_floats_to_four_decimals_everywhere() -> None:
    """The JSON form keeps 4 decimals in nested node figures and top-level times alike, and lists for tuples."""
    analysis = hand_made(plan_node("Seq Scan", 1.23456789), execution_ms=2.71828)
    data = analysis.to_dict()
    assert data["execution_ms"] == 2.7183 and data["total_ms"] == 1.2346
    assert data["nodes"][0]["inclusive_ms"] == 1.2346 and data["nodes"][0]["exclusive_ms"] == 1.2346
    assert data["indexes_used"] == [] and isinstance(data["nodes"], list)
