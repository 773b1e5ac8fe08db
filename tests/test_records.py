"""balance_bench.records: reading a record file, its version, and its fields, each refusal one line naming the file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from balance_bench.coordinates import CacheUse, Migration
from balance_bench.errors import BenchError
from balance_bench.records import Fields, Kind, check_version, decode_json, read_json, read_record, read_text, show

THING = Kind(name="thing", readable=(1, 2), advice="write it again with this version", missing="run make-thing")
WRAPPED = Kind(name="wrapped thing", format="balance-bench-wrapped", readable=(3,), advice="re-wrap it",
               foreign="wrap one with make-wrap")


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _refusal(call: Any, *args: Any, **kwargs: Any) -> str:
    """The one-line message of the BenchError ``call`` raises."""
    with pytest.raises(BenchError) as raised:
        call(*args, **kwargs)
    message = str(raised.value)
    assert "\n" not in message
    return message


# --- the file -------------------------------------------------------------------------------------------------


def test_a_missing_file_says_so_and_what_to_check(tmp_path: Path) -> None:
    """No file is "no such file", with the reader's hint when it has one."""
    missing = tmp_path / "thing.json"
    assert _refusal(read_json, missing, "run make-thing") == f"{missing}: no such file (run make-thing)"
    assert _refusal(read_json, missing) == f"{missing}: no such file"


def test_an_unreadable_file_gives_the_reason(tmp_path: Path) -> None:
    """A path that cannot be read (here a directory) is refused with the system's reason, not its traceback."""
    assert _refusal(read_text, tmp_path) == f"{tmp_path}: cannot read it (Is a directory)"


def test_bytes_that_are_not_utf8_name_the_offset(tmp_path: Path) -> None:
    """A file that is not UTF-8 names the first bad byte; a UTF-8 byte-order mark is skipped."""
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"name": "caf\xe9"}')
    assert _refusal(read_json, latin) == f"{latin}: not UTF-8 text (bad byte at offset 13)"
    marked = tmp_path / "marked.json"
    marked.write_bytes(b'\xef\xbb\xbf{"name": "caf\xc3\xa9"}')
    assert read_json(marked) == {"name": "café"}


@pytest.mark.parametrize(("text", "message"), [
    ('{"a": ', "not valid JSON: Expecting value at line 1 column 7 (the text ends early: truncated?)"),
    ('{"a": "unfinished', "not valid JSON: Unterminated string starting at line 1 column 7 (the text ends early: "
                         "truncated?)"),
    ('{"a": x}', "not valid JSON: Expecting value at line 1 column 7"),
    ("[" * 100_000, "JSON nested too deeply"),
    ('{"a": ' + "1" * 5000 + "}", "not readable JSON: a number of more than 4300 digits"),
])
def test_invalid_json_says_what_and_where(text: str, message: str) -> None:
    """Text that is not JSON is one line: the problem, its line and column, and whether the text ends early."""
    assert _refusal(decode_json, text, "in.json") == f"in.json: {message}"


def test_nan_and_infinity_are_refused_only_where_the_reader_asks(tmp_path: Path) -> None:
    """NaN and Infinity parse as json does by default; a reader that refuses them gets one line saying why."""
    assert _refusal(decode_json, '{"a": NaN}', "in.json", constants=False) == (
        "in.json: not valid JSON (NaN is not a number JSON allows)")
    assert _refusal(decode_json, "[-Infinity]", "in.json", constants=False) == (
        "in.json: not valid JSON (-Infinity is not a number JSON allows)")
    assert decode_json('{"a": Infinity}', "in.json") == {"a": float("inf")}


def test_a_reader_may_raise_its_own_error_type(tmp_path: Path) -> None:
    """Every refusal goes through the reader's error factory, so a parser can keep raising its own subclass."""

    class ThingError(BenchError):
        def __init__(self, source: str, problem: str) -> None:
            super().__init__(f"thing {source}: {problem}")

    with pytest.raises(ThingError, match=r"^thing .*: no such file$"):
        read_text(tmp_path / "absent.json", error=ThingError)
    with pytest.raises(ThingError, match=r"^thing in: not a balance-bench thing"):
        check_version([], "in", THING, error=ThingError)
    with pytest.raises(ThingError, match=r"^thing in: a is not a number: 'x'$"):
        Fields({"a": "x"}, "in", error=ThingError).number("a")


# --- the version ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("document", [[], "thing", None, {"name": "x"}])
def test_a_document_without_a_version_is_not_one(document: Any) -> None:
    """Not an object, or an object without the version key: "not a balance-bench <kind>", naming the key."""
    assert _refusal(check_version, document, "in.json", THING) == (
        "in.json: not a balance-bench thing (no schema_version)")


@pytest.mark.parametrize("document", [{"schema_version": 3}, {"format": "other", "schema_version": 3}, [3]])
def test_a_document_of_another_format_is_not_one_and_says_what_to_do(document: Any) -> None:
    """A kind with a format refuses a document without it, saying how to make one."""
    assert _refusal(check_version, document, "in.json", WRAPPED) == (
        'in.json: not a balance-bench wrapped thing (no "format": "balance-bench-wrapped"); wrap one with make-wrap')


@pytest.mark.parametrize("version", [0, 3, "1", 1.0, None, [1]])
def test_an_unknown_version_lists_the_readable_ones_and_what_to_do(version: object) -> None:
    """A version this release does not read is one line: the kind, the version found, those it reads, the advice."""
    assert _refusal(check_version, {"schema_version": version}, "in.json", THING) == (
        f"in.json: thing schema_version {version!r} is not supported by this balance-bench (it reads versions 1, 2); "
        "write it again with this version")
    assert _refusal(check_version, {"format": "balance-bench-wrapped"}, "in.json", WRAPPED) == (
        "in.json: wrapped thing schema_version None is not supported by this balance-bench (it reads version 3); "
        "re-wrap it")


@pytest.mark.parametrize("version", [True, False])
def test_a_bool_is_no_version(version: bool) -> None:
    """true equals 1 in Python, but a bool version is refused like any other non-version."""
    assert "thing schema_version " + repr(version) in _refusal(check_version, {"schema_version": version}, "in", THING)


def test_another_version_key_is_read_where_the_kind_says(tmp_path: Path) -> None:
    """A kind whose documents carry ``version`` (the load plan, the captures) is checked on that key."""
    plan = Kind(name="plan", key="version", readable=(1,), advice="run the same release")
    assert check_version({"version": 1}, "in", plan) == 1
    assert _refusal(check_version, {"schema_version": 1}, "in", plan) == "in: not a balance-bench plan (no version)"


def test_an_old_version_still_loads_with_its_version(tmp_path: Path) -> None:
    """Every readable version loads, and the reader learns which one it read, to read that version's layout."""
    for version in (1, 2):
        fields, read = read_record(_write(tmp_path / "thing.json", {"schema_version": version, "n": 5}), THING)
        assert read == version and fields.count("n") == 5 and fields.place() == str(tmp_path / "thing.json")
    absent = tmp_path / "absent.json"
    assert _refusal(read_record, absent, THING) == f"{absent}: no such file (run make-thing)"


# --- the fields -----------------------------------------------------------------------------------------------


def test_a_field_of_the_wrong_type_is_named_with_its_path_and_value() -> None:
    """A bad field anywhere in the record: the source, the field's full path, the type it must have, the value."""
    doc = Fields({"cases": [{"plan": {"rows": 3}}, {"plan": {"rows": "three"}}]}, "in.json")
    plans = [case.obj("plan") for case in doc.items("cases")]
    assert plans[0].number("rows") == 3.0
    assert _refusal(plans[1].number, "rows") == "in.json: cases[1].plan.rows is not a number: 'three'"
    assert _refusal(Fields, [], "in.json") == "in.json: the document is not an object: []"
    assert _refusal(Fields({"cases": [3]}, "in.json").items, "cases") == "in.json: cases[0] is not an object: 3"
    assert _refusal(Fields({"cases": {}}, "in.json").items, "cases") == "in.json: cases is not a list: {}"


def test_a_long_value_is_cut_to_keep_the_line_short() -> None:
    """The value shown is its repr, 40 characters at most."""
    assert show("x" * 38) == repr("x" * 38) and show("x" * 39) == "'" + "x" * 36 + "..."
    assert _refusal(Fields({"a": "x" * 50}, "in").number, "a") == f"in: a is not a number: '{'x' * 36}..."


@pytest.mark.parametrize("raw", [{}, {"n": None}])
def test_a_required_field_absent_or_null_is_lacking_and_an_optional_one_none(raw: dict[str, Any]) -> None:
    """Absent and null are the same to a field: "lacks" when required, None when optional."""
    fields = Fields({"inner": raw}, "in").obj("inner")
    assert _refusal(fields.number, "n") == "in: inner lacks n"
    assert fields.number("n", optional=True) is None and fields.items("n", optional=True) == []
    assert fields.strings("n", optional=True) == ()
    assert _refusal(Fields(raw, "in").text, "n") == "in: lacks n"


def test_require_accepts_null_but_not_absence() -> None:
    """A field that must be present may still be null (a figure not recorded)."""
    fields = Fields({"a": None}, "in")
    fields.require("a")
    assert _refusal(fields.require, "a", "b") == "in: lacks b"


@pytest.mark.parametrize(("value", "number", "count", "whole"), [
    (3, 3.0, 3, 3),
    (3.0, 3.0, 3, "is not a whole number: 3.0"),
    (2.5, 2.5, "is not a count: 2.5", "is not a whole number: 2.5"),
    (-1, -1.0, "is not a count: -1", -1),
    (True, "is not a number: True", "is not a number: True", "is not a whole number: True"),
    (False, "is not a number: False", "is not a number: False", "is not a whole number: False"),
    ("3", "is not a number: '3'", "is not a number: '3'", "is not a whole number: '3'"),
    (float("nan"), "is not a number: nan", "is not a number: nan", "is not a whole number: nan"),
    (10**400, f"is not a number: {str(10**400)[:37]}...", f"is not a number: {str(10**400)[:37]}...", 10**400),
])
def test_numbers_counts_and_whole_numbers(value: Any, number: Any, count: Any, whole: Any) -> None:
    """A bool is never a number; a count is whole and not negative, written either way; a whole number is an int."""
    fields = Fields({"n": value}, "in")
    for accessor, expected in ((fields.number, number), (fields.count, count), (fields.whole, whole)):
        if isinstance(expected, str):
            assert _refusal(accessor, "n") == f"in: n {expected}"
        else:
            assert accessor("n") == expected and type(accessor("n")) is type(expected)


def test_infinity_and_nan_pass_where_the_kind_lets_them() -> None:
    """A record kind that has always kept NaN and Infinity (load.json) reads them as numbers."""
    fields = Fields({"n": float("nan"), "i": float("inf")}, "in", finite=False)
    assert fields.number("n") != fields.number("n") and fields.number("i") == float("inf")


def test_texts_mappings_and_lists_of_strings() -> None:
    """A string, an object kept as written and a list of strings, each refused by name when it is something else."""
    fields = Fields({"s": "", "m": {"k": [1]}, "l": ["a"], "bad": ["a", 1]}, "in")
    assert fields.text("s") == "" and fields.mapping("m") == {"k": [1]} and fields.strings("l") == ("a",)
    assert _refusal(fields.text, "m") == "in: m is not a string: {'k': [1]}"
    assert _refusal(fields.mapping, "l") == "in: l is not an object: ['a']"
    assert _refusal(fields.strings, "bad") == "in: bad is not a list of strings: ['a', 1]"


def test_an_extra_field_is_ignored_by_the_accessors() -> None:
    """A field the reader does not ask for is not looked at (a newer writer may add one)."""
    assert Fields({"n": 1, "added_later": object()}, "in").count("n") == 1


# --- a dataclass by its type hints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    name: str
    weight: float | None


@dataclass(frozen=True)
class Tree:
    count: int
    ratio: float
    on: bool
    leaves: list[Leaf]
    pairs: list[tuple[str, float]]
    notes: dict[str, Any]
    tags: tuple[str, ...] = ()
    parent: Leaf | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    anything: Any = None


TREE = {"count": 2, "ratio": 0.5, "on": True, "leaves": [{"name": "a", "weight": None}, {"name": "b", "weight": 1}],
        "pairs": [["x", 1.5]], "notes": {"k": "v"}}


def test_a_dataclass_is_built_from_its_type_hints() -> None:
    """Each field is checked by its hint, nested records and lists included; absent fields with defaults take them."""
    tree = Fields(TREE, "in").build(Tree)
    assert tree == Tree(2, 0.5, True, [Leaf("a", None), Leaf("b", 1.0)], [("x", 1.5)], {"k": "v"})
    full = Fields({**TREE, "tags": ["t"], "parent": None, "extra": None, "anything": [1]}, "in").build(Tree)
    assert full.tags == ("t",) and full.parent is None and full.extra == {} and full.anything == [1]


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.pop("count"), "lacks count"),
    (lambda d: d.update(count=None), "lacks count"),
    (lambda d: d.update(count=2.0), "count is not a whole number: 2.0"),
    (lambda d: d.update(ratio=True), "ratio is not a number: True"),
    (lambda d: d.update(on=1), "on is not true or false: 1"),
    (lambda d: d["leaves"][1].pop("weight"), "leaves[1] lacks weight"),
    (lambda d: d["leaves"][1].update(name=7), "leaves[1].name is not a string: 7"),
    (lambda d: d["leaves"].append("c"), "leaves[2] is not an object: 'c'"),
    (lambda d: d["pairs"].append(["y"]), "pairs[1] is not a list of 2 values: ['y']"),
    (lambda d: d["pairs"][0].__setitem__(1, "1.5"), "pairs[0][1] is not a number: '1.5'"),
    (lambda d: d.update(notes=[]), "notes is not an object: []"),
    (lambda d: d.update(tags="t"), "tags is not a list: 't'"),
])
def test_a_built_record_names_the_bad_field(edit: Any, message: str) -> None:
    """Every check of a built record is the accessors' own, with the same wording and the field's full path."""
    document = json.loads(json.dumps(TREE))
    edit(document)
    assert _refusal(Fields(document, "in").build, Tree) == f"in: {message}"


def test_an_extra_field_of_a_built_record_is_ignored_unless_refused() -> None:
    """An unknown field is ignored by default and named, wherever it is, by a reader that refuses them."""
    document = {**TREE, "colour": "green", "leaves": [{"name": "a", "weight": 1, "shade": 2}]}
    assert Fields(document, "in").build(Tree).leaves == [Leaf("a", 1.0)]
    assert _refusal(Fields(document, "in").build, Tree, refuse_unknown=True) == "in: unknown field colour"
    del document["colour"]
    assert _refusal(Fields(document, "in").build, Tree, refuse_unknown=True) == "in: unknown field leaves[0].shade"


def test_a_built_record_inherits_the_number_policy() -> None:
    """NaN in a nested record passes only where the kind lets it (load.json), like the accessors."""
    document = {**TREE, "leaves": [{"name": "a", "weight": float("nan")}]}
    assert _refusal(Fields(document, "in").build, Tree) == "in: leaves[0].weight is not a number: nan"
    weight = Fields(document, "in", finite=False).build(Tree).leaves[0].weight
    assert weight is not None and weight != weight


def test_a_field_type_with_no_check_is_a_programming_error() -> None:
    """A hint the builder cannot check (a union of two types) fails loudly for the developer, not the user."""

    @dataclass
    class Odd:
        value: int | str

    with pytest.raises(TypeError, match=r"only X \| None"):
        Fields({"value": 1}, "in").build(Odd)


@dataclass(frozen=True)
class Step:
    cache: CacheUse
    migration: Migration | None = None


@pytest.mark.parametrize(("raw", "message"), [
    ({"cache": True}, "in: cache is not one of off, on: True"),
    ({"cache": "warm"}, "in: cache is not one of off, on: 'warm'"),
    ({"cache": "on", "migration": "with_13"}, "in: migration is not one of without_012, with_012: 'with_13'"),
])
def test_a_coordinate_field_takes_its_enums_spellings_only(raw: dict[str, Any], message: str) -> None:
    """A StrEnum field is one of its enum's values, read back as the member; anything else is named with the
    spellings it may take."""
    step = Fields({"cache": "off", "migration": "with_012"}, "in").build(Step)
    assert step.cache is CacheUse.OFF and step.migration is Migration.WITH_012
    assert Fields({"cache": "on"}, "in").build(Step).migration is None
    with pytest.raises(BenchError) as caught:
        Fields(raw, "in").build(Step)
    assert str(caught.value) == message
