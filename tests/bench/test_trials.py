"""The trial engine's order: trial after trial, every case once per trial, shuffled reproducibly from the seed."""

from __future__ import annotations

import itertools
import random
import re
import subprocess
import sys

from balance_bench.bench.conftest import trial_order
from balance_bench.matrix import all_cases
from tests.conftest import REPO


def _collected(*options: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "pytest", "bench/", "--collect-only", "-q", "--scale", "tiny",
                           "-p", "no:cacheprovider", *options], cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return [line.split("[", 1)[1].rstrip("]") for line in proc.stdout.splitlines() if "::test_" in line]


def test_trials_follow_each_other_each_holding_every_case_once() -> None:
    """With --trials 3 the items run trial 1, then 2, then 3, each trial the whole matrix exactly once."""
    items = _collected("--trials", "3", "--order-seed", "7")
    trials = [int(re.search(r"-t(\d+)$", item).group(1)) for item in items]  # type: ignore[union-attr]
    assert trials == sorted(trials) and set(trials) == {1, 2, 3}
    expected = sorted(c.id for c in all_cases(("tiny",)))
    for trial in (1, 2, 3):
        assert sorted(i.rsplit("-t", 1)[0] for i in items if i.endswith(f"-t{trial:02d}")) == expected


def test_the_order_is_shuffled_per_trial_and_reproduced_from_the_seed() -> None:
    """The same seed gives the same order; another seed another; and no two trials share an order."""
    first, again, other = (_collected("--trials", "2", "--order-seed", s) for s in ("7", "7", "8"))
    assert first == again and first != other
    per_trial = [[i.rsplit("-t", 1)[0] for i in first if i.endswith(f"-t{t:02d}")] for t in (1, 2)]
    assert per_trial[0] != per_trial[1]


def _family(item: str) -> tuple[str, str]:
    """The question an item id answers, read from the id itself: scale-migration-QUERY-cache-projection-PARAM."""
    parts = re.sub(r"-t\d+$", "", item).split("-")
    return parts[2], parts[5]


def test_the_alternatives_of_each_comparison_run_back_to_back_in_every_trial() -> None:
    """Every state of one question (cache, migration, projection) runs contiguously, so its ratios span seconds."""
    items = _collected("--trials", "3", "--order-seed", "7")
    for trial in (1, 2, 3):
        families = [_family(i) for i in items if i.endswith(f"-t{trial:02d}")]
        runs = [f for n, f in enumerate(families) if n == 0 or families[n - 1] != f]
        assert len(runs) == len(set(families)) > 10, runs  # each family one unbroken run of items


def test_families_and_their_members_are_shuffled_anew_in_each_trial() -> None:
    """Neither the order of the questions nor the order of one question's states repeats from trial to trial."""
    items = _collected("--trials", "2", "--order-seed", "7")
    orders = [[i.rsplit("-t", 1)[0] for i in items if i.endswith(f"-t{t:02d}")] for t in (1, 2)]
    families = [list(dict.fromkeys(_family(i) for i in order)) for order in orders]
    assert families[0] != families[1]
    members = [[i for i in order if _family(i) == ("find_by_id", "balance")] for order in orders]
    assert sorted(members[0]) == sorted(members[1]) and members[0] != members[1]


def test_trial_order_keeps_every_item_and_depends_only_on_the_seed() -> None:
    """The order function loses nothing, groups by the family it is given, and ignores the order it was handed."""
    items = [f"{family}{n}" for family in "abcde" for n in range(4)]
    first = trial_order(items, random.Random(3), lambda i: i[0])
    again = trial_order(list(reversed(items)), random.Random(3), lambda i: i[0])
    other = trial_order(items, random.Random(4), lambda i: i[0])
    assert sorted(first) == sorted(items) and first == again and first != other
    assert [k for k, _ in itertools.groupby(i[0] for i in first)] == list(dict.fromkeys(i[0] for i in first))


def test_plain_pytest_is_one_trial_with_the_plain_case_ids() -> None:
    """Without --trials, pytest runs a single trial and the ids are the case ids users know."""
    items = _collected("--order-seed", "7")
    assert sorted(items) == sorted(c.id for c in all_cases(("tiny",)))


def _collect(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "bench/", "--collect-only", "-q", "--scale", "tiny",
                           "-p", "no:cacheprovider", *options], cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=False)


def test_experiments_are_items_of_each_trial_beside_the_matrix() -> None:
    """--experiments adds one item per variant, migration state and trial, shuffled into the trials with the matrix."""
    items = _collected("--trials", "2", "--order-seed", "7", "--experiments", "pagination")
    variants = [i for i in items if "-pagination-" in i]
    expected = {f"tiny-{m}-pagination-{v}-t{t:02d}" for m in ("without_012", "with_012") for v in ("offset", "keyset")
                for t in (1, 2)}
    assert set(variants) == expected and len(variants) == len(expected)
    trials = [int(i.rsplit("-t", 1)[1]) for i in items]
    assert trials == sorted(trials)  # trial 1's experiment items run inside trial 1, not after the matrix
    first = ["-pagination-" in i for i in items if i.endswith("-t01")]
    assert first.index(True) < len(first) - 1 - first[::-1].index(False)  # a matrix item runs after an experiment's


def test_the_experiments_marker_selects_only_them() -> None:
    """pytest bench/ -m experiments --experiments NAME collects the experiment's items and nothing of the matrix."""
    items = _collected("-m", "experiments", "--experiments", "antipattern,pagination")
    assert sorted(items) == sorted(
        [f"tiny-with_012-antipattern-{v}" for v in ("no_index", "partial_index")]
        + [f"tiny-{m}-pagination-{v}" for m in ("without_012", "with_012") for v in ("offset", "keyset")])


def test_without_experiments_their_items_are_deselected_and_the_marker_alone_is_refused() -> None:
    """No --experiments: the matrix alone (nothing skipped); -m experiments then says what is missing (exit 4)."""
    assert not [i for i in _collected() if "pagination" in i]
    proc = _collect("-m", "experiments")
    assert proc.returncode == 4 and "-m experiments selects nothing without --experiments" in proc.stderr
    unknown = _collect("--experiments", "nope")
    assert unknown.returncode == 4 and "unknown experiment 'nope'" in unknown.stderr


_TOP_UP_COLLECT = """
import sys, pytest
from balance_bench.bench.top_up import TopUp
ids = []
class Seen:
    def pytest_collection_finish(self, session):
        ids.extend("item:" + item.nodeid.split("[", 1)[1].rstrip("]") for item in session.items)
    def pytest_deselected(self, items):
        ids.extend("deselected:" + item.originalname for item in items
                   if item.originalname in ("test_read", "test_write", "test_reference"))
code = pytest.main(["bench/", "--collect-only", "-q", "--scale", "tiny", "--trials", "20", "--order-seed", "7",
                    "-p", "no:cacheprovider"],
                   plugins=[Seen(), TopUp(frozenset(sys.argv[1].split(",")), 21, 3)])
print("\\n".join(ids), file=sys.stderr)
sys.exit(code)
"""


def test_a_top_up_session_holds_only_its_cases_in_trials_numbered_after_the_runs() -> None:
    """Cold and warm of one question in trials 21-23, each trial both once and back to back; the matrix tests
    with none of the chosen cases are deselected, not left as empty-parameter skips."""
    chosen = ["tiny-with_012-find_by_id-cold-optimized-balance", "tiny-with_012-find_by_id-warm-optimized-balance"]
    proc = subprocess.run([sys.executable, "-c", _TOP_UP_COLLECT, ",".join(chosen)], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = proc.stderr.splitlines()
    items = [line.removeprefix("item:") for line in lines if line.startswith("item:")]
    assert items == [f"{case}-t{trial}" for trial in (21, 22, 23) for case in
                     sorted(chosen, key=lambda c: items.index(f"{c}-t{trial}"))]
    assert sorted(items) == sorted(f"{c}-t{t}" for c in chosen for t in (21, 22, 23))
    assert sorted(line for line in lines if line.startswith("deselected:")) == [
        "deselected:test_reference", "deselected:test_write"]
