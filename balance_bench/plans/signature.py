"""A plan's signature and counters: its shape as short, stable text, so two plans of one query compare by equality.

The signature keeps what the planner decided and nothing the execution measured:
each node's type, spelled as EXPLAIN's text format spells it (join type,
aggregate and set-operation strategy, partial mode, parallel awareness, a
backward scan, a ModifyTable's operation), the index it uses and the relation
or CTE it reads, whether it is an InitPlan or a SubPlan, and the parent/child
structure. Costs, times, row counts, estimates, loops, buffers, sort methods,
conditions and aliases are left out: they vary with the data or the machine,
or are the SQL's own text. A parent and its only child read ``A > B``; several
children ``A > [B; C]``::

    Limit > Index Scan using idx_balances_user_created on balances
    Hash Join > [Seq Scan on users; Hash > Index Scan using balances_pkey on balances]

Only the parsed plan (``plans.parser``) is read, so any caller that holds an
``ExplainPlan`` (the summarise stage, a future ``check``) computes the same text.
"""

from __future__ import annotations

import re
from collections import Counter

from balance_bench.plans.parser import ExplainPlan, PlanNode
from balance_bench.results import PlanCounters

__all__ = ["CHILD", "OPEN", "SEPARATOR", "CLOSE", "node_text", "plan_signature", "signature_nodes",
           "signature_change", "plan_counters"]

CHILD, OPEN, SEPARATOR, CLOSE = " > ", "[", "; ", "]"
"""How the text joins a parent to its children: ``A > B``, ``A > [B; C]``."""

_JOINS = {"Nested Loop": "Nested Loop", "Hash Join": "Hash", "Merge Join": "Merge"}
_AGGREGATES = {"Plain": "Aggregate", "Sorted": "GroupAggregate", "Hashed": "HashAggregate",
               "Mixed": "MixedAggregate"}
_SET_OPS = {"Sorted": "SetOp", "Hashed": "HashSetOp"}
_INDEX_SCANS = frozenset({"Index Scan", "Index Only Scan"})
_TOKENS = re.compile(r"\s*(?:>|;|\[|\])\s*")


def _kind(node: PlanNode) -> str:
    """The node's type as EXPLAIN's text format names it (``Hash Left Join``, ``HashAggregate``, ``Insert``)."""
    kind = node.node_type
    if kind in _JOINS and node.join_type not in (None, "Inner"):
        kind = f"{_JOINS[kind]} {node.join_type} Join"
    elif kind == "Aggregate" and node.strategy in _AGGREGATES:
        kind = _AGGREGATES[node.strategy]
    elif kind == "SetOp" and node.strategy in _SET_OPS:
        kind = _SET_OPS[node.strategy]
    elif kind == "ModifyTable" and node.operation:
        kind = node.operation
    if node.partial_mode in ("Partial", "Finalize"):
        kind = f"{node.partial_mode} {kind}"
    if node.parallel_aware and not kind.startswith("Parallel"):
        kind = f"Parallel {kind}"
    if node.node_type in _INDEX_SCANS and node.scan_direction == "Backward":
        kind = f"{kind} Backward"
    return kind


def node_text(node: PlanNode) -> str:
    """One node of the signature: ``Index Scan using idx on balances``, ``Bitmap Index Scan on idx``,
    ``InitPlan: Aggregate`` (no children)."""
    text = _kind(node)
    if node.index and node.node_type == "Bitmap Index Scan":
        text += f" on {node.index}"
    elif node.index:
        text += f" using {node.index}"
    target = node.relation or node.cte_name
    if target:
        text += f" on {target}"
    if node.parent_relationship in ("InitPlan", "SubPlan"):
        text = f"{node.parent_relationship}: {text}"
    return text


def _tree(node: PlanNode) -> str:
    text = node_text(node)
    if len(node.plans) == 1:
        return text + CHILD + _tree(node.plans[0])
    if node.plans:
        return text + CHILD + OPEN + SEPARATOR.join(_tree(child) for child in node.plans) + CLOSE
    return text


def plan_signature(plan: ExplainPlan | PlanNode) -> str:
    """The plan's shape as text: equal for two plans exactly when the planner made the same choices."""
    return _tree(plan.root if isinstance(plan, ExplainPlan) else plan)


def signature_nodes(signature: str) -> list[str]:
    """The node texts of a signature, in order (its structure dropped)."""
    return [part for part in _TOKENS.split(signature) if part]


def signature_change(before: str, after: str) -> str:
    """What changed between two signatures, shortest first: the nodes that went and the nodes that came
    (``Index Scan using idx on balances → Sort, Seq Scan on balances``), or both whole when only the
    structure moved."""
    old, new = Counter(signature_nodes(before)), Counter(signature_nodes(after))
    gone, came = list((old - new).elements()), list((new - old).elements())
    if not gone and not came:
        return f"{before} → {after}"
    if not gone:
        return f"added {', '.join(came)}"
    if not came:
        return f"dropped {', '.join(gone)}"
    return f"{', '.join(gone)} → {', '.join(came)}"


def plan_counters(plan: ExplainPlan) -> PlanCounters:
    """The plan's signature, and the root's blocks and rows (the root's figures include every node below it)."""
    root = plan.root
    buffers = root.buffers
    rows = None if root.actual_rows is None else root.actual_rows * (root.actual_loops or 1.0)
    return PlanCounters(signature=plan_signature(plan),
                        shared_hit=None if buffers is None else buffers.shared_hit,
                        shared_read=None if buffers is None else buffers.shared_read,
                        temp_read=None if buffers is None else buffers.temp_read,
                        temp_written=None if buffers is None else buffers.temp_written, rows=rows)
