"""Plans load from every shape people save them in, on PostgreSQL 15 and 18, and nothing else gets through."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balance_bench.plans.analysis import analyse, render_text
from balance_bench.plans.parser import MAX_DEPTH, ExplainPlan, PlanError, parse_plan, plan_from_json, read_plan

DATA = Path(__file__).parent / "data"
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
    plan = read_plan(path)
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
    from_json = read_plan(DATA / version / "nested_loop.json")
    assert dataclasses.replace(from_paste, source=from_json.source) == from_json


@pytest.mark.parametrize("version", ["pg15", "pg18"])
def test_direct_psql_output_parses(version: str) -> None:
    """What ``psql -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ..."`` prints loads as a plan."""
    plan = read_plan(DATA / version / "psql_direct.txt")
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
    wrapped = read_plan(DATA / version / "find_by_user_id_and_token_id.plan.json")
    bare = read_plan(DATA / version / "find_by_user_id_and_token_id.json")
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
        read_plan(path)
    assert str(path) in str(caught.value)


def test_pg18_fractional_rows_are_kept() -> None:
    """PostgreSQL 18's fractional per-loop rows (e.g. 66666.67) survive parsing."""
    plan = read_plan(DATA / "pg18" / "parallel.json")
    rows = [n.actual_rows for n in _walk(plan)]
    assert any(r is not None and not r.is_integer() for r in rows)


def test_pg18_index_searches_and_io_keys() -> None:
    """PostgreSQL 18's Index Searches and the 17+ Shared/Local/Temp I/O keys are read."""
    plan = read_plan(DATA / "pg18" / "nested_loop.json")
    assert any(n.index_searches for n in _walk(plan))
    spill = read_plan(DATA / "pg18" / "sort_spill.json")
    io = spill.root.io
    assert io is not None and io.temp_read_ms == raw("pg18", "sort_spill")[0]["Plan"]["Temp I/O Read Time"] > 0


def test_pg15_io_keys() -> None:
    """PostgreSQL 15's unprefixed I/O keys and its Temp I/O keys are read."""
    spill = read_plan(DATA / "pg15" / "sort_spill.json")
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
        read_plan(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message


def test_missing_file_and_directory_are_plan_errors(tmp_path: Path) -> None:
    """An unreadable path is reported like any other bad plan file."""
    for path, problem in ((tmp_path / "absent.json", "no such file"), (tmp_path, "cannot read it")):
        with pytest.raises(PlanError, match=problem):
            read_plan(path)


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
    ),
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
    with contextlib.suppress(PlanError):
        _use(parse_plan(json.dumps(data), "fuzz"))


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
        with contextlib.suppress(PlanError):
            _use(parse_plan(variant, "fuzz"))


# --- every refusal, word for word: what the user reads is the product here ------------------------------------

NODE = {"Node Type": "Seq Scan", "Actual Total Time": 1.0, "Actual Loops": 1, "Actual Rows": 1}


def wrapped(**fields: object) -> dict[str, object]:
    return {"format": "balance-bench-plan", "schema_version": 1, "plan": [{"Plan": NODE}], **fields}


def node_with(**keys: object) -> dict[str, object]:
    return {"Plan": {**NODE, **{k.replace("_", " "): v for k, v in keys.items()}}}


REFUSALS: list[tuple[str, object, str]] = [  # (id, input: text for parse_plan or JSON for plan_from_json, message)
    ("empty", "", "empty: no EXPLAIN output in it"),
    ("blank", " \ufeff\t\r\n ", "empty: no EXPLAIN output in it"),
    ("text-format", "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)",
     "this is EXPLAIN's text format; capture with EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)"),
    ("prose", "hello", "neither JSON nor a psql paste of EXPLAIN (FORMAT JSON) output"),
    ("one-letter", "X", "neither JSON nor a psql paste of EXPLAIN (FORMAT JSON) output"),
    ("rule-last", " QUERY PLAN \n------------", "psql paste with a QUERY PLAN header but no plan under it"),
    ("psql-blank-lines", " QUERY PLAN \n------------\n   +\n   +\n(2 rows)\n",
     "psql paste with a QUERY PLAN header but no plan under it"),
    ("truncated-at-end", '[{"Plan":',
     "not valid JSON: Expecting value at line 1 column 10 (the text ends early: truncated?)"),
    ("header-only", " QUERY PLAN ", "neither JSON nor a psql paste of EXPLAIN (FORMAT JSON) output"),
    ("header-no-rule", " QUERY PLAN \nnot a rule", "neither JSON nor a psql paste of EXPLAIN (FORMAT JSON) output"),
    ("psql-no-body", " QUERY PLAN \n------------\n(1 row)\n",
     "psql paste with a QUERY PLAN header but no plan under it"),
    ("psql-blank-body", " QUERY PLAN \n------------\n   +\n(1 row)\n",
     "psql paste with a QUERY PLAN header but no plan under it"),
    ("nan", '[{"Plan": {"Node Type": "Result", "Plan Rows": NaN}}]',
     "not valid JSON (NaN is not a number JSON allows)"),
    ("truncated", '[{"Plan": ',
     "not valid JSON: Expecting value at line 1 column 11 (the text ends early: truncated?)"),
    ("truncated-then-blank", '[{"Plan": \n  \n',
     "not valid JSON: Expecting value at line 3 column 1 (the text ends early: truncated?)"),
    ("bad-token", '[{"Plan": x}]', "not valid JSON: Expecting value at line 1 column 11"),
    ("deep", "[" * 100_000, "JSON nested too deeply"),
    ("unknown-format", {"format": "x" * 50}, 'not a balance-bench plan file (no "format": "balance-bench-plan")'),
    ("short-format", {"format": "plan"}, 'not a balance-bench plan file (no "format": "balance-bench-plan")'),
    ("schema-version", wrapped(schema_version=2),
     "plan file schema_version 2 is not supported by this balance-bench (it reads version 1); re-capture the plan "
     "with this version of balance-bench"),
    ("no-plan", {"format": "balance-bench-plan", "schema_version": 1}, "lacks plan"),
    ("case-not-object", wrapped(case=[1]), "case is not an object: [1]"),
    ("case-field", wrapped(case={"query": 5}), "case.query is not a string: 5"),
    ("sql", wrapped(sql=5), "sql is not a string: 5"),
    ("wrapped-node", wrapped(plan=[{"Plan": {**NODE, "Node Type": 7}}]), 'plan[0].Plan."Node Type" is 7, not text'),
    ("wrapped-object", wrapped(plan={"Plan": {**NODE, "Plans": 3}}), 'plan.Plan."Plans" is 3, not a list'),
    ("two-plans", [{"Plan": NODE}, {"Plan": NODE}], "the JSON is a list of 2 items, not EXPLAIN's one-plan list"),
    ("no-Plan", {"Planning Time": 1}, 'the JSON has no "Plan" object: not EXPLAIN (FORMAT JSON) output'),
    ("wrapped-no-Plan", wrapped(plan=[{}]), 'plan[0] has no "Plan" object: not EXPLAIN (FORMAT JSON) output'),
    ("node-not-object", {"Plan": [1]}, "Plan is [1], not a plan node object"),
    ("no-node-type", {"Plan": {"Actual Loops": 1}}, 'Plan has no "Node Type": not a plan node'),
    ("child-not-object", {"Plan": {**NODE, "Plans": ["x"]}}, "Plan.Plans[0] is 'x', not a plan node object"),
    ("parallel-aware", node_with(Parallel_Aware="yes"), 'Plan."Parallel Aware" is \'yes\', not true or false'),
    ("number-text", node_with(Actual_Rows="12"), 'Plan."Actual Rows" is \'12\', not a number'),
    ("number-bool", node_with(Actual_Rows=True), 'Plan."Actual Rows" is True, not a number'),
    ("negative", node_with(Actual_Rows=-1), 'Plan."Actual Rows" is -1, out of range for a plan'),
    ("huge", node_with(Actual_Rows=10**400), f'Plan."Actual Rows" is {str(10**400)[:37]}..., out of range for a plan'),
    ("count", node_with(Workers_Launched=1.5), 'Plan."Workers Launched" is 1.5, not a whole number'),
    ("buffer", node_with(Shared_Hit_Blocks="3"), 'Plan."Shared Hit Blocks" is \'3\', not a number'),
    ("io", node_with(**{"I/O_Read_Time": "3"}), 'Plan."I/O Read Time" is \'3\', not a number'),
    ("triggers", {"Plan": NODE, "Triggers": 5}, '"Triggers" is 5, not a list'),
    ("trigger", {"Plan": NODE, "Triggers": [5]}, "Triggers[0] is 5, not an object"),
    ("trigger-name", {"Plan": NODE, "Triggers": [{"Trigger Name": 5}]}, 'Triggers[0]."Trigger Name" is 5, not text'),
    ("trigger-relation", {"Plan": NODE, "Triggers": [{"Relation": 5}]}, 'Triggers[0]."Relation" is 5, not text'),
    ("trigger-time", {"Plan": NODE, "Triggers": [{"Time": "1"}]}, 'Triggers[0]."Time" is \'1\', not a number'),
    ("trigger-calls", {"Plan": NODE, "Triggers": [{"Calls": -2}]},
     'Triggers[0]."Calls" is -2, out of range for a plan'),
    ("wrapped-trigger", wrapped(plan=[{"Plan": NODE, "Triggers": [{"Time": "1"}]}]),
     'plan[0].Triggers[0]."Time" is \'1\', not a number'),
    ("planning-time", {"Plan": NODE, "Planning Time": "1"}, '"Planning Time" is \'1\', not a number'),
    ("execution-time", wrapped(plan=[{"Plan": NODE, "Execution Time": -1}]),
     'plan[0]."Execution Time" is -1, out of range for a plan'),
    ("show-40", node_with(Alias=[["x" * 34]]), f'Plan."Alias" is [[\'{"x" * 34}\']], not text'),
    ("show-41", node_with(Alias=[["x" * 35]]), f'Plan."Alias" is [[\'{"x" * 34}..., not text'),
    ("jit", {"Plan": NODE, "JIT": 1}, '"JIT" is 1, not an object'),
    ("jit-timing", {"Plan": NODE, "JIT": {"Timing": 1}}, 'JIT."Timing" is 1, not an object'),
    ("jit-total", {"Plan": NODE, "JIT": {"Timing": {"Total": "1"}}}, 'JIT.Timing."Total" is \'1\', not a number'),
    ("jit-functions", {"Plan": NODE, "JIT": {"Functions": "1"}}, 'JIT."Functions" is \'1\', not a number'),
    ("wrapped-jit", wrapped(plan={"Plan": NODE, "JIT": {"Timing": {"Total": -1}}}),
     'plan.JIT.Timing."Total" is -1, out of range for a plan'),
]


@pytest.mark.parametrize(("given", "message"), [(g, m) for _, g, m in REFUSALS], ids=[i for i, _, _ in REFUSALS])
def test_each_refusal_names_the_source_and_the_problem_exactly(given: object, message: str) -> None:
    """Every way an input is not a plan gives its own one-line message, prefixed by the source."""
    with pytest.raises(PlanError) as raised:
        if isinstance(given, str):
            parse_plan(given, "in.txt")
        else:
            plan_from_json(given, "in.json")
    assert str(raised.value) == f"{'in.txt' if isinstance(given, str) else 'in.json'}: {message}"


def test_unreadable_files_say_why(tmp_path: Path) -> None:
    """A missing file and bytes that are not UTF-8 are refused with the reason, after the path."""
    missing_file = tmp_path / "nope.json"
    with pytest.raises(PlanError) as raised:
        read_plan(missing_file)
    assert str(raised.value) == f"{missing_file}: no such file"
    latin = tmp_path / "latin.json"
    data = b'[{"Plan": {"Node Type": "Seq Scan caf\xe9"}}]'
    latin.write_bytes(data)
    with pytest.raises(PlanError) as raised:
        read_plan(latin)
    offset = data.index(b"\xe9")
    assert str(raised.value) == f"{latin}: not UTF-8 text (bad byte at offset {offset})"


def test_defaults_name_the_input_kind() -> None:
    """Without a source name, text is called <text> and decoded JSON <json>."""
    with pytest.raises(PlanError, match=r"^<text>: empty"):
        parse_plan("")
    with pytest.raises(PlanError, match=r"^<json>: the JSON has no"):
        plan_from_json({})


def test_a_byte_order_mark_and_surrounding_blanks_are_ignored(tmp_path: Path) -> None:
    """A BOM (as Windows editors save) and blank lines around the JSON do not stop a plan loading."""
    path = tmp_path / "bom.json"
    path.write_bytes("\ufeff\n  ".encode() + json.dumps([{"Plan": NODE}]).encode() + b"\n\n")
    assert read_plan(path).root.node_type == "Seq Scan"
    assert parse_plan("\ufeff \t\r\n" + json.dumps({"Plan": NODE}) + " \n").root.node_type == "Seq Scan"


def test_psql_paste_keeps_indentation_and_drops_continuation_marks() -> None:
    """psql's `+` marks and trailing blanks go; the JSON's own leading spaces and inner text stay."""
    body = json.dumps([{"Plan": {**NODE, "Filter": "(a = 'x +')"}}], indent=2).splitlines()
    paste = "\n".join([" QUERY PLAN", "-" * 20, *(f"{line}   +  " for line in body), "(1 row)", "", "trailing"])
    plan = parse_plan(paste)
    assert plan.root.texts == ("(a = 'x +')",)


def test_triggers_and_jit_are_read_field_by_field() -> None:
    """Each trigger keeps its name, relation, time and calls; a trigger without a name gets an empty one."""
    plan = plan_from_json({"Plan": NODE, "Execution Time": 3.0,
                           "Triggers": [{"Trigger Name": "audit", "Relation": "balances", "Time": 1.25, "Calls": 4},
                                        {"Time": 0.5}],
                           "JIT": {"Functions": 7, "Timing": {"Total": 2.5}}})
    assert [dataclasses.astuple(t) for t in plan.triggers] == [("audit", "balances", 1.25, 4.0), ("", None, 0.5, None)]
    assert (plan.jit.functions, plan.jit.total_ms) == (7.0, 2.5)
    assert plan_from_json({"Plan": NODE, "JIT": {"Functions": 1}}).jit.total_ms is None
    assert plan_from_json({"Plan": NODE}).triggers == () and plan_from_json({"Plan": NODE}).jit is None


def test_buffers_and_io_timing_default_to_zero_only_when_some_are_printed() -> None:
    """A node printing one buffer or I/O key gets zeros for the others; a node printing none gets None."""
    node = plan_from_json(node_with(Shared_Read_Blocks=4, **{"Temp_I/O_Read_Time": 0.5})).root
    assert node.buffers is not None and (node.buffers.shared_read, node.buffers.shared_hit) == (4, 0)
    assert node.io is not None and dataclasses.astuple(node.io) == (0.0, 0.0, 0.0, 0.0, 0.5, 0.0)
    bare = plan_from_json({"Plan": NODE}).root
    assert bare.buffers is None and bare.io is None


TEXT_FIELDS = {"Relation Name": "relation", "Alias": "alias", "Index Name": "index", "CTE Name": "cte_name",
               "Parent Relationship": "parent_relationship", "Subplan Name": "subplan_name",
               "Sort Method": "sort_method", "Sort Space Type": "sort_space_type", "Storage": "storage",
               "Join Type": "join_type", "Strategy": "strategy", "Partial Mode": "partial_mode",
               "Scan Direction": "scan_direction", "Operation": "operation"}
NUMBER_FIELDS = {"Plan Rows": "plan_rows", "Total Cost": "total_cost", "Actual Startup Time": "actual_startup_ms",
                 "Actual Total Time": "actual_total_ms", "Actual Rows": "actual_rows", "Actual Loops": "actual_loops",
                 "Rows Removed by Filter": "rows_removed_by_filter",
                 "Rows Removed by Join Filter": "rows_removed_by_join_filter",
                 "Rows Removed by Index Recheck": "rows_removed_by_index_recheck", "Heap Fetches": "heap_fetches",
                 "Index Searches": "index_searches", "Exact Heap Blocks": "exact_heap_blocks",
                 "Lossy Heap Blocks": "lossy_heap_blocks", "Sort Space Used": "sort_space_used_kb",
                 "Hash Batches": "hash_batches", "HashAgg Batches": "hashagg_batches", "Disk Usage": "disk_usage_kb"}
COUNT_FIELDS = {"Workers Planned": "workers_planned", "Workers Launched": "workers_launched"}


def _in_child(**keys: object) -> dict[str, object]:
    """A plan whose only child carries ``keys``: where a problem is, the message says Plan.Plans[0]."""
    return {"Plan": {**NODE, "Plans": [{"Node Type": "Hash", **keys}]}}


@pytest.mark.parametrize("key", [*TEXT_FIELDS, *NUMBER_FIELDS, *COUNT_FIELDS])
def test_every_node_field_is_read_and_a_wrong_type_is_named_where_it_is(key: str) -> None:
    """Each key EXPLAIN prints reaches its field, and a value of the wrong type names the source, node and key."""
    value: object = "Disk" if key in TEXT_FIELDS else 2.0 if key in NUMBER_FIELDS else 2
    field = {**TEXT_FIELDS, **NUMBER_FIELDS, **COUNT_FIELDS}[key]
    assert getattr(plan_from_json(_in_child(**{key: value}), "in.json").root.plans[0], field) == value
    wrong, kind = (7, "not text") if key in TEXT_FIELDS else ("7", "not a number")
    with pytest.raises(PlanError) as raised:
        plan_from_json(_in_child(**{key: wrong}), "in.json")
    assert str(raised.value) == f"in.json: Plan.Plans[0].\"{key}\" is {wrong!r}, {kind}"


def _levels(levels: int) -> dict[str, object]:
    node: dict[str, object] = {"Node Type": "Result"}
    for _ in range(levels - 1):
        node = {"Node Type": "Result", "Plans": [node]}
    return {"Plan": node}


def test_plans_as_deep_as_the_limit_parse_and_one_level_more_is_refused() -> None:
    """MAX_DEPTH levels of nodes are a plan; one more is refused with the path of the node that is too deep."""
    assert plan_from_json(_levels(MAX_DEPTH)).root.node_type == "Result"
    with pytest.raises(PlanError) as raised:
        plan_from_json(_levels(MAX_DEPTH + 1), "deep.json")
    path = "Plan" + ".Plans[0]" * MAX_DEPTH
    assert str(raised.value) == f"deep.json: {path}: plan nested deeper than {MAX_DEPTH} levels"
