"""Plans load from every shape people save them in, on PostgreSQL 15 and 18, and nothing else gets through."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balance_bench.reports.analyse import analyse, render_text
from balance_bench.reports.plans import ExplainPlan, PlanError, load_plan, parse_plan, plan_from_json

DATA = Path(__file__).parent / "data" / "plans"
CAPTURES = sorted(p for p in DATA.glob("pg*/*") if p.suffix in {".json", ".txt"})


def raw(version: str, name: str) -> list[dict[str, object]]:
    """The captured EXPLAIN output as plain JSON."""
    return json.loads((DATA / version / f"{name}.json").read_text(encoding="utf-8"))


def test_captures_are_present() -> None:
    """The real captures for both server versions are in the repository."""
    assert len([p for p in CAPTURES if p.parent.name == "pg15"]) >= 20
    assert len([p for p in CAPTURES if p.parent.name == "pg18"]) >= 20


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_capture_loads(path: Path) -> None:
    """Every real capture parses into a tree with its summary times."""
    plan = load_plan(path)
    assert plan.source == str(path)
    assert plan.execution_ms is not None and plan.execution_ms > 0
    assert plan.planning_ms is not None
    assert plan.root.actual_total_ms is not None


@pytest.mark.parametrize("version", ["pg15", "pg18"])
def test_psql_paste_parses_identically_to_the_json(version: str) -> None:
    """A paste of psql's aligned output (header, rule, + marks, footer) is the same plan as the JSON."""
    paste = (DATA / version / "nested_loop.txt").read_text(encoding="utf-8")
    assert paste.lstrip().startswith("QUERY PLAN") and "(1 row)" in paste and paste.count("+\n") > 50
    from_paste = parse_plan(paste, "paste")
    from_json = load_plan(DATA / version / "nested_loop.json")
    assert dataclasses.replace(from_paste, source=from_json.source) == from_json


@pytest.mark.parametrize("version", ["pg15", "pg18"])
def test_direct_psql_output_parses(version: str) -> None:
    """What ``psql -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ..."`` prints loads as a plan."""
    plan = load_plan(DATA / version / "psql_direct.txt")
    assert plan.root.relation == "balances"
    assert plan.root.actual_rows == 20


def test_bare_object_and_list_give_the_same_plan() -> None:
    """EXPLAIN's one-element list and the object inside it are the same plan."""
    document = raw("pg18", "cte")
    assert plan_from_json(document, "x") == plan_from_json(document[0], "x")
    assert parse_plan(json.dumps(document[0]), "x") == plan_from_json(document, "x")


@pytest.mark.parametrize("version", ["pg15", "pg18"])
def test_wrapper_is_read_with_its_case(version: str) -> None:
    """The suite's plan file yields the wrapped plan plus its case and SQL."""
    wrapped = load_plan(DATA / version / "find_by_user_id_and_token_id.plan.json")
    bare = load_plan(DATA / version / "find_by_user_id_and_token_id.json")
    assert wrapped.root == bare.root and wrapped.execution_ms == bare.execution_ms
    assert wrapped.case is not None
    assert wrapped.case.query == "find_by_user_id_and_token_id"
    assert wrapped.case.migration == "012" and wrapped.case.param_kind == "bound"
    assert wrapped.sql is not None and "FROM balances" in wrapped.sql


@pytest.mark.parametrize("version", [2, 0, "1", None, True])
def test_unknown_wrapper_schema_version_is_refused(tmp_path: Path, version: object) -> None:
    """A plan file from another balance-bench version is refused with advice to re-capture."""
    document = json.loads((DATA / "pg18" / "get_by_user.plan.json").read_text(encoding="utf-8"))
    document["schema_version"] = version
    path = tmp_path / "old.plan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(PlanError, match="re-capture the plan with this version of balance-bench") as caught:
        load_plan(path)
    assert str(path) in str(caught.value)


def test_pg18_fractional_rows_are_kept() -> None:
    """PostgreSQL 18's fractional per-loop rows (e.g. 66666.67) survive parsing."""
    plan = load_plan(DATA / "pg18" / "parallel.json")
    rows = [n.actual_rows for n in _walk(plan)]
    assert any(r is not None and not r.is_integer() for r in rows)


def test_pg18_index_searches_and_io_keys() -> None:
    """PostgreSQL 18's Index Searches and the 17+ Shared/Local/Temp I/O keys are read."""
    plan = load_plan(DATA / "pg18" / "nested_loop.json")
    assert any(n.index_searches for n in _walk(plan))
    spill = load_plan(DATA / "pg18" / "sort_spill.json")
    io = spill.root.io
    assert io is not None and io.temp_read_ms == raw("pg18", "sort_spill")[0]["Plan"]["Temp I/O Read Time"] > 0


def test_pg15_io_keys() -> None:
    """PostgreSQL 15's unprefixed I/O keys and its Temp I/O keys are read."""
    spill = load_plan(DATA / "pg15" / "sort_spill.json")
    io = spill.root.io
    assert io is not None and io.temp_write_ms == raw("pg15", "sort_spill")[0]["Plan"]["Temp I/O Write Time"] > 0


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        ({"I/O Read Time": 1.5}, "shared_read_ms"),  # 13-16
        ({"I/O Write Time": 1.5}, "shared_write_ms"),
        ({"Temp I/O Read Time": 1.5}, "temp_read_ms"),  # 15+
        ({"Shared I/O Read Time": 1.5}, "shared_read_ms"),  # 17+
        ({"Local I/O Write Time": 1.5}, "local_write_ms"),
    ],
)
def test_io_timing_spellings_of_every_version(keys: dict[str, float], field: str) -> None:
    """Each version's I/O timing key lands in the matching field."""
    plan = plan_from_json({"Plan": {"Node Type": "Seq Scan", **keys}})
    assert plan.root.io is not None and getattr(plan.root.io, field) == 1.5


NOT_PLANS: list[tuple[str, bytes | str]] = [
    ("empty", ""),
    ("prose", "my plan was slow, see attached"),
    ("truncated", (DATA / "pg15" / "cte.json").read_text(encoding="utf-8")[:900]),
    ("text-format", "Seq Scan on balances  (cost=0.00..3446.00 rows=1 width=8) (actual time=0.01..9.1 rows=1 loops=1)"),
    ("no-plan-key", '{"foo": 1}'),
    ("empty-list", "[]"),
    ("two-plans", '[{"Plan": {"Node Type": "Result"}}, {"Plan": {"Node Type": "Result"}}]'),
    ("plan-not-object", '[{"Plan": 5}]'),
    ("no-node-type", '{"Plan": {"Actual Total Time": 1.0}}'),
    ("time-not-number", '{"Plan": {"Node Type": "Seq Scan", "Actual Total Time": "fast"}}'),
    ("time-nan", '{"Plan": {"Node Type": "Seq Scan", "Actual Total Time": NaN}}'),
    ("time-negative", '{"Plan": {"Node Type": "Seq Scan", "Actual Total Time": -1}}'),
    ("plans-not-list", '{"Plan": {"Node Type": "Seq Scan", "Plans": {}}}'),
    ("header-only", " QUERY PLAN \n------------\n(0 rows)\n"),
    ("not-utf8", b"\xff\xfe\x00garbage"),
    ("unknown-format", '{"format": "pev2", "plan": []}'),
]


@pytest.mark.parametrize(("name", "content"), NOT_PLANS, ids=[n for n, _ in NOT_PLANS])
def test_not_a_plan_is_a_plan_error_naming_the_file(tmp_path: Path, name: str, content: bytes | str) -> None:
    """Whatever is wrong, the error is a one-line PlanError that names the file."""
    path = tmp_path / f"{name}.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message


def test_missing_file_and_directory_are_plan_errors(tmp_path: Path) -> None:
    """An unreadable path is reported like any other bad plan file."""
    for path in (tmp_path / "absent.json", tmp_path):
        with pytest.raises(PlanError, match="cannot read"):
            load_plan(path)


def test_deep_nesting_is_a_plan_error() -> None:
    """A tree deeper than any real plan is refused instead of exhausting the stack."""
    deep = '{"Plan": ' + '{"Node Type": "Result", "Plans": [' * 5000 + '{"Node Type": "Result"}' + "]}" * 5000 + "}"
    with pytest.raises(PlanError, match="nested"):
        parse_plan(deep, "deep")
    with pytest.raises(PlanError, match="deeper"):
        plan_from_json({"Plan": _chain(300)}, "deep")


def _chain(depth: int) -> dict[str, object]:
    node: dict[str, object] = {"Node Type": "Result"}
    for _ in range(depth - 1):
        node = {"Node Type": "Result", "Plans": [node]}
    return node


def _walk(plan: ExplainPlan) -> list:
    nodes, stack = [], [plan.root]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.plans)
    return nodes


# --- fuzzing: PlanError is the only exception, for parsing and for everything done with a parsed plan ----------

PLAN_KEYS = [
    "Node Type", "Plans", "Parent Relationship", "Subplan Name", "Relation Name", "Index Name", "CTE Name",
    "Parallel Aware", "Plan Rows", "Actual Total Time", "Actual Rows", "Actual Loops", "Rows Removed by Filter",
    "Heap Fetches", "Lossy Heap Blocks", "Exact Heap Blocks", "Sort Method", "Sort Space Type", "Hash Batches",
    "Workers Planned", "Workers Launched", "Shared Hit Blocks", "Temp Written Blocks", "I/O Read Time", "Filter",
    "Storage", "Disk Usage", "HashAgg Batches", "Index Searches",
]  # fmt: skip
TOP_KEYS = ["Plan", "Planning Time", "Execution Time", "Triggers", "JIT", "format", "schema_version", "plan", "case"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["Seq Scan", "CTE Scan", "Gather", "Limit", "InitPlan", "SubPlan", "InitPlan 1 (returns $0)",
                     "CTE x", "x", "Disk", "external merge", "Outer", "balance-bench-plan", "(InitPlan 1).col1"]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(PLAN_KEYS + TOP_KEYS) | st.text(max_size=5), inner, max_size=6),
    ),
    max_leaves=40,
)
figures = st.one_of(st.integers(min_value=0, max_value=10**6), st.floats(min_value=0, max_value=1e6))
node_fields = st.fixed_dictionaries(
    {"Node Type": st.sampled_from(["Seq Scan", "CTE Scan", "Gather", "Gather Merge", "Limit", "Result", "Sort"])},
    optional={
        "Actual Loops": figures, "Actual Total Time": figures, "Actual Rows": figures, "Plan Rows": figures,
        "Rows Removed by Filter": figures, "Heap Fetches": figures, "Lossy Heap Blocks": figures,
        "Shared Hit Blocks": st.integers(0, 10**4), "Temp Written Blocks": st.integers(0, 10**4),
        "Workers Planned": st.integers(0, 8), "Workers Launched": st.integers(0, 8),
        "Parent Relationship": st.sampled_from(["Outer", "Inner", "InitPlan", "SubPlan", "Member"]),
        "Subplan Name": st.sampled_from(["InitPlan 1 (returns $0)", "InitPlan 2", "CTE x", "SubPlan 1", "InitPlan"]),
        "CTE Name": st.just("x"), "Filter": st.sampled_from(["(a > $0)", "(b = (InitPlan 2).col1)", "(c = 1)"]),
        "Sort Space Type": st.sampled_from(["Disk", "Memory"]), "Hash Batches": figures,
    },
)  # fmt: skip
plan_nodes = st.recursive(
    node_fields,
    lambda inner: st.builds(
        lambda fields, junk, kids: {**fields, **junk, "Plans": kids},
        node_fields,
        st.dictionaries(st.sampled_from(PLAN_KEYS), values, max_size=1),  # now and then a wrong-typed value
        st.lists(inner, max_size=3),
    ),
    max_leaves=15,
)
analysed_roots = st.builds(lambda root: {**root, "Actual Loops": 1}, plan_nodes)
plan_like = st.one_of(
    values,
    st.builds(lambda root, top: {**top, "Plan": root}, plan_nodes, st.dictionaries(st.sampled_from(TOP_KEYS), values)),
    st.builds(lambda root, jit: [{"Plan": root, "Execution Time": 1.0, "JIT": jit}], analysed_roots, values),
    st.builds(lambda root: [{"Plan": root, "Execution Time": 1.0}], analysed_roots),
    st.builds(
        lambda root, version, case: {
            "format": "balance-bench-plan",
            "schema_version": version,
            "case": case,
            "plan": [{"Plan": root}],
        },
        analysed_roots,
        st.sampled_from([1, 1, 2, "1", None]),
        values,
    ),  # fmt: skip
)


def _use(plan: ExplainPlan) -> None:
    """Everything a caller does with a parsed plan: analyse, render, serialise."""
    analysis = analyse(plan)
    render_text(analysis)
    json.dumps(analysis.to_dict(), allow_nan=False)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_like)
def test_random_plan_like_json_only_raises_plan_error(data: object) -> None:
    """Random trees with missing and wrong-typed keys never raise anything but PlanError."""
    try:
        _use(plan_from_json(data, "fuzz"))
    except PlanError as exc:
        assert str(exc).startswith("fuzz: ") and "\n" not in str(exc)
    try:
        _use(parse_plan(json.dumps(data), "fuzz"))
    except PlanError:
        pass


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([p for p in CAPTURES if p.suffix == ".txt" or p.name.endswith("plan.json")]),
    st.integers(min_value=0, max_value=10**6),
    st.text(max_size=8),
)
def test_corrupted_captures_only_raise_plan_error(path: Path, cut: int, junk: str) -> None:
    """Real captures cut short or with junk spliced in never raise anything but PlanError."""
    text = path.read_text(encoding="utf-8")
    cut %= len(text) + 1
    for variant in (text[:cut], text[:cut] + junk + text[cut:], text[:cut] + text[cut + len(junk) :]):
        try:
            _use(parse_plan(variant, "fuzz"))
        except PlanError:
            pass
