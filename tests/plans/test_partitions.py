"""Partition access read from plans: planning-time, start-up and run-time pruning, and a plan that visits all."""

from __future__ import annotations

from typing import Any

from balance_bench.plans.parser import plan_from_json
from balance_bench.plans.partitions import partition_access


def _scan(partition: int, loops: float = 1) -> dict[str, Any]:
    return {"Node Type": "Index Scan", "Relation Name": f"balances_p{partition}", "Alias": "balances",
            "Index Name": f"balances_p{partition}_user_id_idx", "Actual Loops": loops, "Actual Rows": 1,
            "Actual Total Time": 0.01, "Actual Startup Time": 0.01, "Plan Rows": 1}


def _plan(children: list[dict[str, Any]], **extra: Any) -> Any:
    root = {"Node Type": "Append", "Actual Loops": 1, "Actual Rows": 1, "Actual Total Time": 0.1,
            "Actual Startup Time": 0.0, "Plan Rows": 1, "Plans": children, **extra}
    return plan_from_json([{"Plan": root, "Execution Time": 0.2, "Planning Time": 0.1}])


def test_a_plan_pruned_when_planned_visits_one_partition() -> None:
    """Only the user's partition appears in the plan: pruned."""
    access = partition_access(_plan([_scan(5)]), 8)
    assert access.visited == ("balances_p5",) and access.pruned


def test_partitions_never_executed_do_not_count_as_visited() -> None:
    """Run-time pruning leaves the others in the plan with zero loops."""
    access = partition_access(_plan([_scan(i, loops=1 if i == 2 else 0) for i in range(8)]), 8)
    assert access.visited == ("balances_p2",) and access.pruned


def test_a_plan_that_scans_every_partition_is_not_pruned() -> None:
    """find_by_address's shape: every partition scanned once, in partition order (p10 after p9)."""
    access = partition_access(_plan([_scan(i) for i in (10, 9, *range(9))], **{"Subplans Removed": 0}), 11)
    assert access.visited == tuple(f"balances_p{i}" for i in range(11)) and not access.pruned
