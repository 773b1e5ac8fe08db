"""Where a plan spends its time, and what in it deserves a look: per-node figures and stable findings.

EXPLAIN prints inclusive, per-loop figures. Reading a plan means turning them
into what each node did itself, and the rules for that are subtle enough to
live in one place:

* A node's inclusive time is ``Actual Total Time x Actual Loops``. Under a
  Gather or Gather Merge the loops of every participant are summed, so that is
  divided by the participants (workers launched + the leader), as pev2 and
  explain.depesz.com do.
* Exclusive time (and exclusive buffers) is inclusive minus whatever the node
  hosts: its ordinary children and its SubPlans, whose work runs inside it.
* An InitPlan's work runs inside the node that first evaluates its result
  (the node whose expressions mention ``$n`` or ``(InitPlan n)``), not
  necessarily the node it is attached to; a Gather evaluates it for its
  workers. A CTE's work runs inside the CTE Scans that read it. These are
  charged to those nodes, deepest referencing node first, and a CTE to the
  scans with the most unexplained time first, never more than a node has; any
  remainder goes to the attaching node.

Every node's inclusive time is charged exactly once, so the exclusive times of
a plan always add up to the root's inclusive time (the execution time less
trigger time and executor start-up and shut-down).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass

from balance_bench.guide import index_claim
from balance_bench.plans.parser import ExplainPlan, PlanError, PlanNode

__all__ = [
    "NodeStats",
    "Finding",
    "PlanAnalysis",
    "FINDING_CODES",
    "SEQ_SCAN_TYPES",
    "analyse",
    "render_text",
]

FINDING_CODES: tuple[str, ...] = (
    "slow-seq-scan",
    "disk-spill",
    "misestimate",
    "lossy-bitmap",
    "heap-fetches",
    "workers-shortfall",
    "jit-overhead",
    "large-offset",
    "index-not-used",
)

# Thresholds: chosen so each finding means "worth changing something", not "noticeable".
SEQ_SCAN_MIN_ROWS_READ = 1000  # below this a Seq Scan is cheap whatever it filters
SEQ_SCAN_REMOVED_SHARE = 0.9  # an index pays off when it would skip most of the table
MISESTIMATE_FACTOR = 10.0  # an order of magnitude is where plan choices go wrong
HEAP_FETCH_SHARE = 0.1  # heap fetches per row returned by an Index Only Scan
JIT_SHARE = 0.2  # JIT time as a share of execution time
LARGE_OFFSET_ROWS = 1000  # rows a Limit reads and throws away

_GATHER_TYPES = frozenset({"Gather", "Gather Merge"})
SEQ_SCAN_TYPES = frozenset({"Seq Scan", "Parallel Seq Scan"})
"""The node types that read a whole relation (``check`` bounds them too)."""
_BITMAP_SET_TYPES = frozenset({"BitmapAnd", "BitmapOr"})  # always report 0 actual rows


@dataclass(frozen=True)
class NodeStats:
    """One node's figures: rows are totals over loops unless named per loop; buffers are exclusive."""

    id: int
    parent_id: int | None
    depth: int
    label: str
    node_type: str
    relation: str | None
    index: str | None
    subplan_name: str | None
    parent_relationship: str | None
    actual_rows: float | None
    rows_per_loop: float | None
    plan_rows: float | None
    loops: float | None
    inclusive_ms: float | None
    exclusive_ms: float | None
    shared_hit: int | None
    shared_read: int | None
    temp_read: int | None
    temp_written: int | None
    misestimate_factor: float | None
    misestimate_direction: str | None  # "under" (more rows than planned) or "over"; None when equal
    rows_removed_by_filter: float | None
    filter_waste: float | None  # share of the rows read that the filter threw away
    heap_fetches: float | None
    spill: bool
    lossy_blocks: float | None
    workers_planned: int | None
    workers_launched: int | None


@dataclass(frozen=True)
class Finding:
    """Something worth a look, with a stable ``code`` that tools can match on."""

    code: str
    node_id: int | None  # None for findings about the whole plan
    node: str | None  # the node's label
    message: str


@dataclass(frozen=True)
class PlanAnalysis:
    """A plan's time split by node, plan-wide figures, and findings."""

    source: str
    query: str | None
    execution_ms: float | None
    planning_ms: float | None
    jit_ms: float | None
    trigger_ms: float
    total_ms: float | None  # the root's inclusive time: what the exclusive times add up to
    node_count: int
    indexes_used: tuple[str, ...]
    seq_scan_relations: tuple[str, ...]
    nodes: tuple[NodeStats, ...]
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: lists for tuples, floats rounded to 4 decimals (EXPLAIN prints 3)."""
        result = _rounded(asdict(self))
        assert isinstance(result, dict)
        return result


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    return value


# --- flattening ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Flat:
    """A node in depth-first order with what attribution needs to know about its place."""

    id: int
    node: PlanNode
    parent_id: int | None
    depth: int
    end: int  # ids in [id, end) are this node's subtree
    participants: float  # processes whose loops EXPLAIN summed: workers launched + leader under a Gather


def _cte_name(node: PlanNode) -> str | None:
    name = node.subplan_name or ""
    return name[4:] if node.parent_relationship == "InitPlan" and name.startswith("CTE ") else None


def _flatten(root: PlanNode) -> list[_Flat]:
    """Depth-first, iteratively (plans can be deep); ids start at 1 like pev2's and depesz's."""
    order: list[tuple[PlanNode, int | None, int, float]] = []
    stack: list[tuple[PlanNode, int | None, int, float]] = [(root, None, 0, 1.0)]
    while stack:
        node, parent_id, depth, participants = stack.pop()
        order.append((node, parent_id, depth, participants))
        for child in reversed(node.plans):
            stack.append((child, len(order), depth + 1, _child_participants(node, child, participants)))
    ends = [len(order) + 1] * len(order)
    still_open: list[int] = []  # positions whose subtree has not ended yet
    for position, (_, _, depth, _) in enumerate(order):
        while still_open and order[still_open[-1]][2] >= depth:
            ends[still_open.pop()] = position + 1
        still_open.append(position)
    return [
        _Flat(position + 1, node, parent_id, depth, ends[position], participants)
        for position, (node, parent_id, depth, participants) in enumerate(order)
    ]


def _child_participants(parent: PlanNode, child: PlanNode, inherited: float) -> float:
    if child.parent_relationship in ("InitPlan", "SubPlan"):
        return 1.0  # run by the leader alone, as pev2 counts them
    if parent.node_type in _GATHER_TYPES:
        return float((parent.workers_launched or 0) + 1)
    return inherited


# --- attribution --------------------------------------------------------------------------------------------


def _inclusive_ms(flat: _Flat) -> float | None:
    node = flat.node
    if node.actual_total_ms is None:
        return None
    return node.actual_total_ms * (node.actual_loops if node.actual_loops is not None else 1.0) / flat.participants


@dataclass(frozen=True)
class _Floating:
    """An InitPlan or CTE whose work ran inside other nodes: the nodes that may host it, likeliest first."""

    id: int
    hosts: tuple[int, ...]
    fallback: int  # takes whatever the hosts cannot
    by_capacity: bool  # a CTE: the reading scan with the most unexplained figure goes first


def _floating(flat: list[_Flat]) -> list[_Floating]:
    """Every InitPlan and CTE in the order to place them: plain InitPlans first (a CTE Scan's unexplained
    figures are only known once the InitPlans it hosts are placed), innermost first within each kind."""
    placements: list[_Floating] = []
    for f in flat:
        if f.parent_id is None or f.node.parent_relationship != "InitPlan":
            continue
        attach = flat[f.parent_id - 1]
        if _cte_name(f.node) is None:
            placements.append(_Floating(f.id, tuple(_initplan_hosts(flat, f, attach)), f.parent_id, by_capacity=False))
        else:
            scans = tuple(_cte_scans(flat, f, attach))
            placements.append(_Floating(f.id, scans, scans[0] if scans else f.parent_id, by_capacity=True))
    return sorted(placements, key=lambda p: (p.by_capacity, -p.id))


def _attribute(
    flat: list[_Flat], floating: list[_Floating], own: Mapping[int, float | None]
) -> dict[int, float | None]:
    """Exclusive values of one inclusive figure (time or a block count): each node's value less what it hosts.

    Every non-root value is taken from exactly one host or split across several, so the exclusive values
    add up to the root's value. A floating subtree goes to its hosts in order, never more than a host has
    left, so attribution does not invent negative figures where a consistent split exists.
    """
    exclusive = {f.id: own[f.id] or 0.0 for f in flat}
    placed = {p.id for p in floating}
    for f in flat:
        if f.parent_id is not None and f.id not in placed:
            exclusive[f.parent_id] -= own[f.id] or 0.0
    for placement in floating:
        remaining = own[placement.id] or 0.0
        hosts = sorted(placement.hosts, key=lambda h: -exclusive[h]) if placement.by_capacity else placement.hosts
        for host in hosts:
            take = min(remaining, max(exclusive[host], 0.0))
            exclusive[host] -= take
            remaining -= take
        exclusive[placement.fallback] -= remaining
    return {node_id: value if own[node_id] is not None else None for node_id, value in exclusive.items()}


def _initplan_hosts(flat: list[_Flat], initplan: _Flat, attach: _Flat) -> list[int]:
    """Nodes that evaluate the InitPlan's result, deepest first; a Gather on the way stands in for its workers."""
    pattern = _initplan_reference(initplan.node.subplan_name or "")
    if pattern is None:
        return []
    hosts: set[int] = set()
    for node_id in range(attach.id, attach.end):
        f = flat[node_id - 1]
        if initplan.id <= node_id < initplan.end or not any(pattern.search(text) for text in f.node.texts):
            continue
        hosts.add(_topmost_gather(flat, f, attach.id) or node_id)
    return sorted(hosts, key=lambda node_id: (-flat[node_id - 1].depth, node_id))


def _initplan_reference(subplan_name: str) -> re.Pattern[str] | None:
    """What a reference to this InitPlan looks like: ``$0`` up to PG 16, ``(InitPlan 1)`` from PG 17."""
    match = re.fullmatch(r"InitPlan (\d+)(?: \(returns ([^)]*)\))?", subplan_name.strip())
    if match is None:
        return None
    params = [p.strip() for p in (match.group(2) or "").split(",") if p.strip()]
    alternatives = [re.escape(f"(InitPlan {match.group(1)})")] + [re.escape(p) + r"(?!\d)" for p in params]
    return re.compile("|".join(alternatives))


def _topmost_gather(flat: list[_Flat], f: _Flat, stop: int) -> int | None:
    found: int | None = None
    current: _Flat | None = f
    while current is not None:
        if current.node.node_type in _GATHER_TYPES:
            found = current.id
        if current.id == stop or current.parent_id is None:
            break
        current = flat[current.parent_id - 1]
    return found


def _cte_scans(flat: list[_Flat], cte: _Flat, attach: _Flat) -> list[int]:
    """The CTE Scans reading this CTE, in plan order."""
    name = _cte_name(cte.node)
    return [
        node_id
        for node_id in range(attach.id, attach.end)
        if not cte.id <= node_id < cte.end
        and flat[node_id - 1].node.node_type == "CTE Scan"
        and flat[node_id - 1].node.cte_name == name
    ]


# --- per-node figures ---------------------------------------------------------------------------------------


def _label(flat: _Flat) -> str:
    node = flat.node
    kind = node.node_type
    if node.parallel_aware and not kind.startswith("Parallel"):
        kind = f"Parallel {kind}"
    using = f" using {node.index}" if node.index else ""
    target = node.relation or node.cte_name
    on = f" on {target}" if target else ""
    return f"#{flat.id} {kind}{using}{on}"


def _misestimate(node: PlanNode) -> tuple[float | None, str | None]:
    """Factor >= 1 between planned and actual rows per loop; both floored at 1 so "0 vs 1" is not infinite."""
    if node.actual_rows is None or node.plan_rows is None or not node.actual_loops:
        return None, None
    if node.node_type in _BITMAP_SET_TYPES:
        return None, None
    actual, planned = max(node.actual_rows, 1.0), max(node.plan_rows, 1.0)
    direction = "under" if node.actual_rows > node.plan_rows else "over" if node.actual_rows < node.plan_rows else None
    return max(actual / planned, planned / actual), direction


def _spilled(node: PlanNode, temp_written: int | None) -> bool:
    return bool(
        node.sort_space_type == "Disk"
        or (node.sort_method or "").startswith("external")
        or (node.hash_batches or 0) > 1
        or (node.hashagg_batches or 0) > 1
        or (node.disk_usage_kb or 0) > 0
        or node.storage == "Disk"
        or (temp_written or 0) > 0
    )


def _block(value: float | None) -> int | None:
    return None if value is None else round(value)


def _node_stats(flat: list[_Flat], inclusive: dict[int, float | None]) -> list[NodeStats]:
    floating = _floating(flat)
    exclusive_ms = _attribute(flat, floating, inclusive)

    def blocks(field: str) -> dict[int, float | None]:
        return _attribute(
            flat, floating, {f.id: getattr(f.node.buffers, field) if f.node.buffers else None for f in flat}
        )

    hit, read, temp_read, temp_written = (
        blocks("shared_hit"),
        blocks("shared_read"),
        blocks("temp_read"),
        blocks("temp_written"),
    )
    stats: list[NodeStats] = []
    for f in flat:
        node = f.node
        loops = node.actual_loops
        rows_total = node.actual_rows * loops if node.actual_rows is not None and loops is not None else None
        removed = (
            node.rows_removed_by_filter * loops
            if node.rows_removed_by_filter is not None and loops is not None
            else None
        )
        read_rows = (removed or 0.0) + (rows_total or 0.0)
        factor, direction = _misestimate(node)
        stats.append(
            NodeStats(
                id=f.id,
                parent_id=f.parent_id,
                depth=f.depth,
                label=_label(f),
                node_type=node.node_type,
                relation=node.relation,
                index=node.index,
                subplan_name=node.subplan_name,
                parent_relationship=node.parent_relationship,
                actual_rows=rows_total,
                rows_per_loop=node.actual_rows,
                plan_rows=node.plan_rows,
                loops=loops,
                inclusive_ms=inclusive[f.id],
                exclusive_ms=exclusive_ms[f.id],
                shared_hit=_block(hit[f.id]),
                shared_read=_block(read[f.id]),
                temp_read=_block(temp_read[f.id]),
                temp_written=_block(temp_written[f.id]),
                misestimate_factor=factor,
                misestimate_direction=direction,
                rows_removed_by_filter=removed,
                filter_waste=removed / read_rows if removed is not None and read_rows > 0 else None,
                heap_fetches=node.heap_fetches,
                spill=_spilled(node, _block(temp_written[f.id])),
                lossy_blocks=node.lossy_heap_blocks,
                workers_planned=node.workers_planned,
                workers_launched=node.workers_launched,
            )
        )
    return stats


# --- findings -----------------------------------------------------------------------------------------------


def _node_findings(stats: NodeStats, node: PlanNode, child: NodeStats | None) -> Iterator[Finding]:
    def finding(code: str, message: str) -> Finding:
        return Finding(code, stats.id, stats.label, f"{stats.label}: {message}")

    if (
        stats.node_type in SEQ_SCAN_TYPES
        and stats.rows_removed_by_filter is not None
        and stats.filter_waste is not None
    ):
        read = stats.rows_removed_by_filter + (stats.actual_rows or 0.0)
        if read >= SEQ_SCAN_MIN_ROWS_READ and stats.filter_waste >= SEQ_SCAN_REMOVED_SHARE:
            yield finding(
                "slow-seq-scan",
                f"read {read:,.0f} rows and its filter removed {stats.rows_removed_by_filter:,.0f} "
                f"({stats.filter_waste:.0%}); an index on the filtered columns would skip them",
            )
    if stats.spill:
        yield finding(
            "disk-spill", f"spilled to disk ({_spill_detail(node, stats)}); raise work_mem or shrink the input"
        )
    if stats.misestimate_factor is not None and stats.misestimate_factor >= MISESTIMATE_FACTOR:
        yield finding(
            "misestimate",
            f"planner expected {_rows(stats.plan_rows)} rows per loop, got {_rows(stats.rows_per_loop)} "
            f"({stats.misestimate_factor:,.0f}x {stats.misestimate_direction}estimate); check statistics",
        )
    if stats.lossy_blocks:
        exact = node.exact_heap_blocks or 0.0
        yield finding(
            "lossy-bitmap",
            f"{stats.lossy_blocks:,.0f} of {stats.lossy_blocks + exact:,.0f} heap blocks were lossy, so every row on "
            "them was rechecked; the bitmap did not fit in work_mem",
        )
    if stats.heap_fetches and stats.heap_fetches >= HEAP_FETCH_SHARE * max(stats.actual_rows or 0.0, 1.0):
        yield finding(
            "heap-fetches",
            f"{stats.heap_fetches:,.0f} heap fetches for {stats.actual_rows or 0:,.0f} rows: the visibility map is "
            "stale, so the index-only scan visits the table; VACUUM it",
        )
    if stats.workers_launched is not None and stats.workers_planned and stats.workers_launched < stats.workers_planned:
        yield finding(
            "workers-shortfall",
            f"{stats.workers_launched} of {stats.workers_planned} planned workers launched; "
            "max_parallel_workers or max_worker_processes ran out",
        )
    if (
        node.node_type == "Limit"
        and child is not None
        and child.actual_rows is not None
        and stats.actual_rows is not None
    ):
        discarded = child.actual_rows - stats.actual_rows
        if discarded >= LARGE_OFFSET_ROWS:
            yield finding(
                "large-offset",
                f"read {child.actual_rows:,.0f} rows to return {stats.actual_rows:,.0f}: a large OFFSET "
                "is read and thrown away; paginate by key (WHERE key > last seen) instead",
            )


def _spill_detail(node: PlanNode, stats: NodeStats) -> str:
    if node.sort_space_type == "Disk" or (node.sort_method or "").startswith("external"):
        used = f", {node.sort_space_used_kb:,.0f} kB" if node.sort_space_used_kb is not None else ""
        return f"sort method {node.sort_method or 'external'}{used}"
    if (node.hash_batches or 0) > 1:
        return f"hash in {node.hash_batches:,.0f} batches"
    if (node.hashagg_batches or 0) > 1 or (node.disk_usage_kb or 0) > 0:
        return f"hash aggregate in {node.hashagg_batches or 0:,.0f} batches, {node.disk_usage_kb or 0:,.0f} kB on disk"
    if node.storage == "Disk":
        return "tuple store on disk"
    return f"{stats.temp_written or 0:,} temp blocks written"


def _plan_findings(plan: ExplainPlan, query: str | None, indexes_used: tuple[str, ...]) -> Iterator[Finding]:
    jit_ms = plan.jit.total_ms if plan.jit else None
    if jit_ms is not None and plan.execution_ms and jit_ms >= JIT_SHARE * plan.execution_ms:
        yield Finding(
            "jit-overhead",
            None,
            None,
            f"JIT took {jit_ms:,.3f} ms of {plan.execution_ms:,.3f} ms execution ({jit_ms / plan.execution_ms:.0%}); "
            "raise jit_above_cost or turn jit off for this query",
        )
    claim = index_claim(query) if query else None
    if claim is not None and claim.index not in indexes_used:
        uses = ", ".join(indexes_used) if indexes_used else "no index"
        yield Finding(
            "index-not-used",
            None,
            None,
            f"the guide says {query} uses {claim.index} ({claim.basis}); this plan uses {uses}",
        )


# --- entry points -------------------------------------------------------------------------------------------


def analyse(plan: ExplainPlan, query: str | None = None) -> PlanAnalysis:
    """Analyse one plan; ``query`` (else the plan file's ``case.query``) selects the guide's index claim."""
    if plan.root.actual_loops is None:
        raise PlanError(
            plan.source, "the plan has no actual figures: capture it with EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)"
        )
    query = query or (plan.case.query if plan.case else None)
    flat = _flatten(plan.root)
    inclusive = {f.id: _inclusive_ms(f) for f in flat}
    nodes = _node_stats(flat, inclusive)
    inputs: dict[int, NodeStats] = {}  # each node's first ordinary child: a Limit's input
    for stats in nodes:
        if stats.parent_id is not None and stats.parent_relationship not in ("InitPlan", "SubPlan"):
            inputs.setdefault(stats.parent_id, stats)
    indexes_used = tuple(sorted({s.index for s in nodes if s.index}))
    findings = list(_plan_findings(plan, query, indexes_used))
    for stats, f in zip(nodes, flat, strict=True):
        findings.extend(_node_findings(stats, f.node, inputs.get(stats.id)))
    return PlanAnalysis(
        source=plan.source,
        query=query,
        execution_ms=plan.execution_ms,
        planning_ms=plan.planning_ms,
        jit_ms=plan.jit.total_ms if plan.jit else None,
        trigger_ms=sum((t.time_ms or 0.0 for t in plan.triggers), 0.0),
        total_ms=inclusive[1],
        node_count=len(nodes),
        indexes_used=indexes_used,
        seq_scan_relations=tuple(sorted({s.relation for s in nodes if s.node_type in SEQ_SCAN_TYPES and s.relation})),
        nodes=tuple(nodes),
        findings=tuple(findings),
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.3f}"


def _rows(value: float | None) -> str:
    """Whole row counts as such; PostgreSQL 18's fractional per-loop averages with two decimals."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"


def render_text(analysis: PlanAnalysis) -> str:
    """The plan as an indented tree with each node's own time and share of the total, then the findings."""
    total = analysis.total_ms
    lines = [
        f"{analysis.source}" + (f"  (query {analysis.query})" if analysis.query else ""),
        f"execution {_ms(analysis.execution_ms)} ms, planning {_ms(analysis.planning_ms)} ms"
        + (f", JIT {_ms(analysis.jit_ms)} ms" if analysis.jit_ms is not None else "")
        + f", {analysis.node_count} nodes",
        f"{'own ms':>10} {'share':>6}  node",
    ]
    for node in analysis.nodes:
        share = f"{node.exclusive_ms / total:.1%}" if node.exclusive_ms is not None and total else "-"
        role = f"{node.subplan_name}: " if node.subplan_name else ""
        lines.append(
            f"{_ms(node.exclusive_ms):>10} {share:>6}  {'  ' * node.depth}{role}{node.label}"
            f"  rows/loop {_rows(node.rows_per_loop)} (planned {_rows(node.plan_rows)}), loops {_rows(node.loops)}"
        )
    lines.append("findings:" if analysis.findings else "findings: none")
    lines.extend(f"  [{f.code}] {f.message}" for f in analysis.findings)
    return "\n".join(lines)
