"""Plan signatures: the planner's choices as PostgreSQL names them, nothing the execution measured.

Oracles: expected texts written by hand from EXPLAIN's text format (``explain.c``'s node names), the same query
captured on PostgreSQL 15 and 18 (different costs and times, one plan), and, on a live server, the node names
PostgreSQL itself prints with ``EXPLAIN (COSTS OFF)``.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from balance_bench.fixtures.databases import PREFIX, create_owned, drop_owned
from balance_bench.fixtures.services import Endpoints, psycopg_dsn
from balance_bench.plans.parser import plan_from_json, read_plan
from balance_bench.plans.signature import plan_signature, signature_change, signature_nodes

DATA = Path(__file__).parent / "data"
CAPTURES = sorted(p.stem for p in (DATA / "pg18").glob("*.json") if not p.name.endswith(".plan.json"))


def _node(node_type: str, *children: dict[str, Any], **keys: Any) -> dict[str, Any]:
    """A plan node as EXPLAIN's JSON prints it, with ``keys`` spelled with spaces (``Join_Type`` -> ``Join Type``)."""
    node = {"Node Type": node_type, **{k.replace("_", " "): v for k, v in keys.items()}}
    if children:
        node["Plans"] = list(children)
    return node


def _signature(root: dict[str, Any]) -> str:
    return plan_signature(plan_from_json([{"Plan": root}]))


@pytest.mark.parametrize(("node", "expected"), [
    (_node("Seq Scan", Relation_Name="balances", Alias="b"), "Seq Scan on balances"),
    (_node("Index Scan", Index_Name="idx_x", Relation_Name="balances", Scan_Direction="Forward"),
     "Index Scan using idx_x on balances"),
    (_node("Index Scan", Index_Name="idx_x", Relation_Name="balances", Scan_Direction="Backward"),
     "Index Scan Backward using idx_x on balances"),
    (_node("Index Only Scan", Index_Name="idx_x", Relation_Name="balances", Scan_Direction="Backward"),
     "Index Only Scan Backward using idx_x on balances"),
    (_node("Bitmap Index Scan", Index_Name="idx_x"), "Bitmap Index Scan on idx_x"),
    (_node("Bitmap Heap Scan", Relation_Name="balances"), "Bitmap Heap Scan on balances"),
    (_node("CTE Scan", CTE_Name="totals", Alias="t"), "CTE Scan on totals"),
    (_node("Nested Loop", Join_Type="Inner"), "Nested Loop"),
    (_node("Nested Loop", Join_Type="Left"), "Nested Loop Left Join"),
    (_node("Hash Join", Join_Type="Inner"), "Hash Join"),
    (_node("Hash Join", Join_Type="Anti"), "Hash Anti Join"),
    (_node("Hash Join", Join_Type="Right Semi"), "Hash Right Semi Join"),
    (_node("Merge Join", Join_Type="Semi"), "Merge Semi Join"),
    (_node("Hash Join", Join_Type="Inner", Parallel_Aware=True), "Parallel Hash Join"),
    (_node("Aggregate", Strategy="Plain", Partial_Mode="Simple"), "Aggregate"),
    (_node("Aggregate", Strategy="Sorted"), "GroupAggregate"),
    (_node("Aggregate", Strategy="Hashed", Partial_Mode="Partial"), "Partial HashAggregate"),
    (_node("Aggregate", Strategy="Mixed"), "MixedAggregate"),
    (_node("Aggregate", Strategy="Sorted", Partial_Mode="Finalize"), "Finalize GroupAggregate"),
    (_node("SetOp", Strategy="Hashed"), "HashSetOp"),
    (_node("SetOp", Strategy="Sorted"), "SetOp"),
    (_node("Seq Scan", Relation_Name="balances", Parallel_Aware=True), "Parallel Seq Scan on balances"),
    (_node("ModifyTable", Operation="Insert", Relation_Name="balances"), "Insert on balances"),
    (_node("ModifyTable", Operation="Delete", Relation_Name="balances"), "Delete on balances"),
    (_node("Gather Merge"), "Gather Merge"),
    (_node("Group", Strategy="Sorted"), "Group"),  # a strategy renames Aggregate and SetOp only
    (_node("Seq Scan", Operation="Insert", Relation_Name="t"), "Seq Scan on t"),  # an operation, ModifyTable only
    (_node("Parallel Seq Scan", Relation_Name="t", Parallel_Aware=True), "Parallel Seq Scan on t"),  # not twice
])
def test_each_node_is_named_as_explain_text_names_it(node: dict[str, Any], expected: str) -> None:
    """Join type, aggregate and set-operation strategy, partial mode, parallel awareness, a backward scan, a
    ModifyTable's operation, the index and the relation or CTE: spelled as EXPLAIN's text format spells them."""
    assert _signature(node) == expected


def test_the_tree_reads_parent_then_child_and_siblings_in_brackets() -> None:
    """One child follows its parent after " > "; several go in brackets in plan order; an InitPlan or SubPlan says
    so, whatever its name."""
    scan = _node("Index Scan", Index_Name="idx_u", Relation_Name="balances")
    tree = _node("Limit", _node("Hash Join", _node("Seq Scan", Relation_Name="users"),
                                _node("Hash", scan), Join_Type="Inner"),
                 _node("Aggregate", _node("Seq Scan", Relation_Name="tokens"), Strategy="Plain",
                       Parent_Relationship="InitPlan", Subplan_Name="InitPlan 1 (returns $0)"))
    assert _signature(tree) == ("Limit > [Hash Join > [Seq Scan on users; Hash > Index Scan using idx_u on "
                                "balances]; InitPlan: Aggregate > Seq Scan on tokens]")
    sub = _node("Result", Parent_Relationship="SubPlan", Subplan_Name="SubPlan 2")
    assert _signature(_node("Seq Scan", sub, Relation_Name="users")) == "Seq Scan on users > SubPlan: Result"
    plan = plan_from_json([{"Plan": tree}])
    assert plan_signature(plan.root) == plan_signature(plan)  # a node's own signature: the tree below it


def _measured_differently(plan: Any) -> Any:
    """The plan with every figure the execution measured or the planner estimated changed, and its aliases and
    conditions rewritten: what the signature must not see."""
    changed = copy.deepcopy(plan)

    def walk(node: dict[str, Any]) -> None:
        for key, value in list(node.items()):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                node[key] = value * 3 + 1
            elif key in ("Alias", "Index Cond", "Filter", "Hash Cond", "Sort Method", "Output"):
                node[key] = f"{value}_other" if isinstance(value, str) else value
        for child in node.get("Plans", []):
            walk(child)

    walk(changed[0]["Plan"])
    changed[0]["Execution Time"] = 999.0
    return changed


@pytest.mark.parametrize("name", CAPTURES)
def test_costs_times_rows_buffers_aliases_and_conditions_leave_the_signature_alone(name: str) -> None:
    """Every real capture, its numbers, aliases, conditions and sort method all changed: the same signature."""
    plan = json.loads((DATA / "pg18" / f"{name}.json").read_text(encoding="utf-8"))
    assert plan_signature(plan_from_json(_measured_differently(plan))) == plan_signature(plan_from_json(plan))


@pytest.mark.parametrize("name", CAPTURES)
def test_one_query_on_postgresql_15_and_18_has_one_signature(name: str) -> None:
    """The same query on the same data, captured on two server versions (other costs, times, fractional rows,
    other keys): one signature."""
    assert plan_signature(read_plan(DATA / "pg15" / f"{name}.json")) == \
        plan_signature(read_plan(DATA / "pg18" / f"{name}.json"))


def test_real_captures_read_as_written_by_hand() -> None:
    """Three captures against their signatures as EXPLAIN's text format would print their nodes."""
    assert plan_signature(read_plan(DATA / "pg18" / "get_by_user.json")) == \
        "Limit > Index Scan Backward using idx_balances_user_created on balances"
    assert plan_signature(read_plan(DATA / "pg15" / "parallel.json")) == \
        "Finalize GroupAggregate > Gather Merge > Sort > Partial HashAggregate > Parallel Seq Scan on balances"
    assert plan_signature(read_plan(DATA / "pg18" / "misestimate.json")) == (
        "Bitmap Heap Scan on balances > BitmapAnd > [Bitmap Index Scan on idx_balances_user_usd; "
        "Bitmap Index Scan on idx_balances_address]")


@pytest.mark.parametrize(("a", "b"), [
    (_node("Index Scan", Index_Name="idx_a", Relation_Name="balances"),
     _node("Index Scan", Index_Name="idx_b", Relation_Name="balances")),
    (_node("Index Scan", Index_Name="idx_a", Relation_Name="balances"),
     _node("Index Only Scan", Index_Name="idx_a", Relation_Name="balances")),
    (_node("Seq Scan", Relation_Name="balances"), _node("Seq Scan", Relation_Name="users")),
    (_node("Hash Join", Join_Type="Inner"), _node("Hash Join", Join_Type="Left")),
    (_node("Aggregate", Strategy="Sorted"), _node("Aggregate", Strategy="Hashed")),
    (_node("Limit", _node("Sort", _node("Seq Scan", Relation_Name="t"))),
     _node("Limit", _node("Seq Scan", Relation_Name="t"))),
    (_node("Append", _node("Seq Scan", Relation_Name="a"), _node("Seq Scan", Relation_Name="b")),
     _node("Append", _node("Seq Scan", Relation_Name="b"), _node("Seq Scan", Relation_Name="a"))),
    (_node("Append", _node("Seq Scan", Relation_Name="a"), _node("Seq Scan", Relation_Name="b")),
     _node("Append", _node("Seq Scan", _node("Seq Scan", Relation_Name="b"), Relation_Name="a"))),
])
def test_another_choice_of_the_planner_is_another_signature(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Another index, scan type, relation, join type, strategy, an added node, another order of children or
    another nesting: never the same signature."""
    assert _signature(a) != _signature(b)


def test_signature_nodes_are_the_node_texts_in_plan_order() -> None:
    """The nodes of a signature, structure dropped, in the order the text names them."""
    assert signature_nodes("Limit > [Hash Join > [Seq Scan on users; Hash > Index Scan using i on b]; "
                           "InitPlan: Aggregate]") == [
        "Limit", "Hash Join", "Seq Scan on users", "Hash", "Index Scan using i on b", "InitPlan: Aggregate"]
    assert signature_nodes("Seq Scan on balances") == ["Seq Scan on balances"]


@pytest.mark.parametrize(("before", "after", "expected"), [
    ("Limit > Index Scan using idx on balances", "Limit > Sort > Seq Scan on balances",
     "Index Scan using idx on balances → Sort, Seq Scan on balances"),
    ("Limit > Seq Scan on t", "Limit > Sort > Seq Scan on t", "added Sort"),
    ("Limit > Sort > Seq Scan on t", "Limit > Seq Scan on t", "dropped Sort"),
    ("Seq Scan on t", "Limit > Sort > Seq Scan on t", "added Limit, Sort"),
    ("Limit > Sort > Seq Scan on t", "Seq Scan on t", "dropped Limit, Sort"),
    ("Append > [Seq Scan on a; Seq Scan on b]", "Append > [Seq Scan on b; Seq Scan on a]",
     "Append > [Seq Scan on a; Seq Scan on b] → Append > [Seq Scan on b; Seq Scan on a]"),
    ("Nested Loop > [Seq Scan on t; Seq Scan on t]", "Nested Loop > Seq Scan on t", "dropped Seq Scan on t"),
])
def test_a_change_names_what_went_and_what_came(before: str, after: str, expected: str) -> None:
    """What left the plan, then what entered it; a node twice counts twice; only a reshuffle shows both whole."""
    assert signature_change(before, after) == expected


# --- against PostgreSQL's own names -----------------------------------------------------------------------------

SETUP = """
CREATE TABLE t (id int PRIMARY KEY, g int NOT NULL, v int NOT NULL);
CREATE TABLE u (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO t SELECT i, i % 50, i % 7 FROM generate_series(1, 20000) i;
INSERT INTO u SELECT i, i FROM generate_series(1, 40) i;
CREATE INDEX t_g ON t (g);
ANALYZE t; ANALYZE u;
"""
PARALLEL = ("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; "
            "SET max_parallel_workers_per_gather = 2")
QUERIES = [
    ("", "SELECT * FROM t WHERE id = 5"),
    ("", "SELECT * FROM t ORDER BY id DESC LIMIT 3"),
    ("", "SELECT id FROM t ORDER BY id DESC LIMIT 3"),
    ("SET enable_hashagg = on", "SELECT g, count(*) FROM t GROUP BY g"),
    ("SET enable_hashagg = off", "SELECT g, count(*) FROM t GROUP BY g"),
    ("SET enable_indexscan = off", "SELECT * FROM t WHERE g IN (1, 2)"),
    ("SET enable_mergejoin = off; SET enable_nestloop = off", "SELECT t.id FROM t LEFT JOIN u ON u.id = t.g"),
    ("SET enable_hashjoin = off; SET enable_nestloop = off", "SELECT t.id FROM t LEFT JOIN u ON u.id = t.g"),
    ("SET enable_hashjoin = off; SET enable_mergejoin = off", "SELECT t.id FROM t LEFT JOIN u ON u.id = t.g"),
    ("", "SELECT id FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.id = t.g)"),
    ("", "SELECT id FROM u WHERE EXISTS (SELECT 1 FROM t WHERE t.g = u.id)"),
    ("", "SELECT id, (SELECT max(v) FROM u WHERE u.id = t.g) FROM t WHERE id < 3"),
    ("", "SELECT id FROM t WHERE v = (SELECT max(v) FROM u)"),
    ("", "WITH c AS MATERIALIZED (SELECT g FROM t WHERE id < 100) SELECT count(*) FROM c"),
    (PARALLEL, "SELECT g, count(*) FROM t GROUP BY g"),
    (PARALLEL, "SELECT count(*) FROM t"),
    ("", "UPDATE t SET v = v + 1 WHERE id = 1"),
    ("", "DELETE FROM t WHERE id = 2"),
    ("", "INSERT INTO t VALUES (100001, 1, 1)"),
]


@pytest.fixture(scope="module")
def scratch(endpoints: Endpoints) -> Iterator[str]:
    """A scratch database of our own with two small tables, dropped afterwards; its psycopg DSN."""
    name = f"{PREFIX}signature_{uuid.uuid4().hex[:8]}"
    create_owned(endpoints, name)
    try:
        dsn = psycopg_dsn(endpoints.database_url(name))
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(SETUP)
        yield dsn
    finally:
        drop_owned(endpoints, name)


def _text_nodes(lines: list[str]) -> list[str]:
    """The node names of EXPLAIN (COSTS OFF) text: the first line and every ``->`` line; the rest are details."""
    nodes = [lines[0].strip()]
    nodes += [line.split("->", 1)[1].strip() for line in lines[1:] if "->" in line]
    return nodes


@pytest.mark.services
@pytest.mark.parametrize(("settings", "query"), QUERIES)
def test_every_node_is_named_as_postgresql_names_it(scratch: str, settings: str, query: str) -> None:
    """On a live server, the signature's nodes (InitPlan/SubPlan marks dropped) are exactly the nodes
    EXPLAIN (COSTS OFF) prints in text, for scans, joins, aggregates, parallel plans, subplans and writes."""
    with psycopg.connect(scratch) as conn:
        for statement in filter(None, (s.strip() for s in settings.split(";"))):
            conn.execute(statement)
        text = [row[0] for row in conn.execute(f"EXPLAIN (COSTS OFF) {query}")]
        (plan,) = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {query}").fetchone() or (None,)
        conn.rollback()
    ours = [node.split(": ", 1)[-1] for node in signature_nodes(plan_signature(plan_from_json(plan)))]
    assert sorted(ours) == sorted(_text_nodes(text)), "\n".join(text)


@pytest.mark.parametrize("version", ["pg15", "pg18"])
@pytest.mark.parametrize("name", ["sort_spill", "nested_loop", "parallel", "initplan", "index_scan"])
def test_plan_counters_are_the_roots_blocks_and_rows_and_the_signature(version: str, name: str) -> None:
    """Blocks are the root's own figures (which include every node below it), rows what the root returned over its
    loops, read from the capture's JSON directly; the signature is the plan's."""
    from balance_bench.plans.parser import read_plan
    from balance_bench.plans.signature import plan_counters, plan_signature

    path = DATA / version / f"{name}.json"
    root = json.loads(path.read_text(encoding="utf-8"))[0]["Plan"]
    counters = plan_counters(read_plan(path))
    assert (counters.shared_hit, counters.shared_read, counters.temp_read, counters.temp_written) == (
        root["Shared Hit Blocks"], root["Shared Read Blocks"], root["Temp Read Blocks"], root["Temp Written Blocks"])
    assert counters.rows == pytest.approx(root["Actual Rows"] * root["Actual Loops"])
    assert counters.signature == plan_signature(read_plan(path))


def test_a_spilling_plan_counts_its_temp_blocks_and_a_plan_without_buffers_counts_none() -> None:
    """The sort that spills has temp blocks at its root; a plan captured without BUFFERS or ANALYZE has no blocks
    and no rows, only its signature."""
    from balance_bench.plans.parser import plan_from_json, read_plan
    from balance_bench.plans.signature import plan_counters

    spill = plan_counters(read_plan(DATA / "pg15" / "sort_spill.json"))
    assert spill.temp_blocks is not None and spill.temp_blocks > 0
    bare = plan_counters(plan_from_json({"Plan": {"Node Type": "Seq Scan", "Relation Name": "t"}}))
    assert (bare.signature, bare.shared_hit, bare.shared_read, bare.temp_read, bare.temp_written, bare.rows) == (
        "Seq Scan on t", None, None, None, None, None)


def test_a_roots_rows_are_its_rows_per_loop_times_its_loops_and_one_loop_when_unsaid() -> None:
    """Known answers by hand: 2 rows a loop over 3 loops is 6 rows; a root that prints no loop count ran once."""
    from balance_bench.plans.parser import plan_from_json
    from balance_bench.plans.signature import plan_counters

    looped = {"Plan": {"Node Type": "Seq Scan", "Relation Name": "t", "Actual Rows": 2, "Actual Loops": 3}}
    once = {"Plan": {"Node Type": "Seq Scan", "Relation Name": "t", "Actual Rows": 2}}
    assert plan_counters(plan_from_json(looped)).rows == 6
    assert plan_counters(plan_from_json(once)).rows == 2
