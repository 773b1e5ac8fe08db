"""Partition pruning as a plan shows it: which partitions of ``balances`` a query really visited.

A plan prunes at planning time (the pruned partitions do not appear), at
executor start-up (the Append says ``Subplans Removed``; they do not appear
either) or during execution (they appear, never executed: zero loops). So the
partitions visited are the scan nodes on a partition that ran at least once,
and a read was pruned when it visited fewer partitions than the table has.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from balance_bench.plans.parser import ExplainPlan, PlanNode
from balance_model.partitioning import PARTITION_NAME

__all__ = ["PartitionAccess", "partition_access"]


@dataclass(frozen=True)
class PartitionAccess:
    """The partitions of ``balances`` a plan visited, out of how many it has."""

    visited: tuple[str, ...]
    partitions: int

    @property
    def pruned(self) -> bool:
        """True when the plan skipped at least one partition."""
        return len(self.visited) < self.partitions


def _nodes(node: PlanNode) -> Iterator[PlanNode]:
    yield node
    for child in node.plans:
        yield from _nodes(child)


def partition_access(plan: ExplainPlan, partitions: int) -> PartitionAccess:
    """Which of the ``partitions`` partitions (named ``balances_p<i>``) an EXPLAIN ANALYZE plan visited."""
    visited = {
        node.relation for node in _nodes(plan.root)
        if node.relation is not None and PARTITION_NAME.match(node.relation) and (node.actual_loops or 0) > 0
    }
    return PartitionAccess(tuple(sorted(visited, key=lambda name: int(PARTITION_NAME.match(name)[1]))),  # type: ignore[index]
                           partitions)
