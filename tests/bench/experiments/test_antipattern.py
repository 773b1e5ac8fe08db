"""The anti-pattern: the guide's threshold filter scans the table; the reviewer's partial index serves it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from balance_bench.bench.experiments.antipattern import EXPERIMENT, INDEX_NAME
from balance_bench.bench.experiments.spec import CheckFailed, Estimate, exercise
from balance_bench.plans.analysis import analyse

from .conftest import Spaces, explain_target, parsed


@pytest.mark.services
def test_the_plain_filter_seq_scans_and_the_partial_index_serves_it(spaces: Spaces) -> None:
    """no_index: a Seq Scan with the slow-seq-scan finding; partial_index: the index, no seq scan; same rows."""
    with spaces(EXPERIMENT, "with_012") as made:
        outcome = exercise(EXPERIMENT, made, explain=explain_target)
    plain = analyse(parsed(outcome.plans["no_index-find_by_auto_convert_threshold-common"]))
    remedy = analyse(parsed(outcome.plans["partial_index-find_by_auto_convert_threshold-common"]))
    assert plain.seq_scan_relations == ("balances",) and "slow-seq-scan" in {f.code for f in plain.findings}
    assert remedy.indexes_used == (INDEX_NAME,) and not remedy.seq_scan_relations
    assert "slow-seq-scan" not in {f.code for f in remedy.findings}
    rows = [sorted(b.id for b in outcome.results[f"{v}-find_by_auto_convert_threshold-common"])  # type: ignore[attr-defined]
            for v in ("no_index", "partial_index")]
    assert rows[0] == rows[1] and rows[0]
    size = outcome.probes["partial_index.index_size"]
    assert 0 < size["index_bytes"] < size["table_bytes"]


@pytest.mark.services
def test_a_lookup_that_matches_nothing_fails_the_check(spaces: Spaces) -> None:
    """A threshold no row holds would time an empty answer: the check refuses it."""
    with spaces(EXPERIMENT, "with_012") as made:
        states = {name: EXPERIMENT.prepare(space) for name, space in made.items()}
        try:
            states["partial_index"].threshold = Decimal("0.123")
            with pytest.raises(CheckFailed, match=r"partial_index: threshold 0\.123 matched 0 rows"):
                EXPERIMENT.check(states)
        finally:
            for state in states.values():
                state.close()


@pytest.mark.parametrize(("ratio", "word"), [(Estimate(0.1, 0.08, 0.12), "faster"),
                                             (Estimate(1.0, 0.9, 1.1), "no clearly different"),
                                             (Estimate(1.3, 1.2, 1.4), "slower")])
def test_the_conclusion_says_faster_only_when_the_interval_is_below_one(ratio: Estimate, word: str) -> None:
    """The verdict word follows the interval's side of 1x."""
    sentence = EXPERIMENT.conclude({"with_012.partial_vs_no_index": ratio,
                                    "with_012.partial_index.index_size.index_bytes": Estimate(16384)})
    assert f"makes it {word}" in sentence and "(16 kB)" in sentence
