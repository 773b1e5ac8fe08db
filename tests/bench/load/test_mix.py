"""Mixes: the named ones say what they claim, custom weights parse, and every malformed mix is one clear error."""

from __future__ import annotations

import pytest

from balance_bench.bench.load.mix import GUIDE_READS, MIXES, OPERATIONS, WRITES, arguments, parse_mix
from balance_bench.errors import BenchError
from balance_model.queries import READ_QUERIES


def test_reads_is_the_guides_four_cached_reads_equally() -> None:
    """``reads`` holds the guide's four cached reads, equally weighted, and no writes."""
    mix = parse_mix("reads")
    assert mix.operations == GUIDE_READS
    assert len({w for _, w in mix.weights}) == 1
    assert mix.write_ratio == 0 and not mix.has_writes


def test_guide_adds_ten_percent_credits_and_debits() -> None:
    """``guide`` is the same reads plus credits and debits, 10% of calls in equal parts."""
    mix = parse_mix("guide")
    shares = mix.describe()["shares"]
    assert mix.write_ratio == pytest.approx(0.10)
    assert shares["credit"] == pytest.approx(0.05) and shares["debit"] == pytest.approx(0.05)
    assert {op for op in shares if op not in WRITES} == set(GUIDE_READS)
    assert sum(shares.values()) == pytest.approx(1.0)


def test_custom_weights_are_relative() -> None:
    """``find_by_id=5,credit=1``: five reads for each credit; zero weights drop out."""
    mix = parse_mix(" find_by_id=5, credit=1, debit=0 ")
    assert mix.name == "custom"
    assert dict(mix.weights) == {"find_by_id": 5.0, "credit": 1.0}
    assert mix.write_ratio == pytest.approx(1 / 6)


@pytest.mark.parametrize(("text", "message"), [
    ("writes", "unknown mix"),
    ("find_by_idd=1", "unknown operation 'find_by_idd'"),
    ("find_by_id=x", "not a number"),
    ("find_by_id=-1", ">= 0"),
    ("find_by_id=nan", ">= 0"),
    ("find_by_id=inf", ">= 0"),
    ("find_by_id=0,credit=0", "at least one operation"),
    ("find_by_id=1,find_by_id=2", "given twice"),
    ("find_by_id=1,", "not operation=weight"),
    ("=1", "not operation=weight"),
])
def test_malformed_mixes_are_one_line_errors(text: str, message: str) -> None:
    """Each malformed mix raises a BenchError naming the problem, on one line."""
    with pytest.raises(BenchError, match=message) as info:
        parse_mix(text)
    assert "\n" not in str(info.value)


def test_every_operation_takes_its_arguments_from_a_key_row() -> None:
    """Every read gets exactly the arguments of its signature from (id, user, token, address)."""
    row = (7, 3, 2, "0xabc")
    assert arguments("find_by_id", row) == {"id": 7}
    assert arguments("find_by_user_id_and_token_id", row) == {"user_id": 3, "token_id": 2}
    assert arguments("find_by_address", row) == {"address": "0xabc"}
    assert set(OPERATIONS) == {*READ_QUERIES, *WRITES}
    for op in READ_QUERIES:
        arguments(op, row)  # no read lacks an entry
    assert set(MIXES) == {"reads", "guide"}
