"""``balance-bench run``'s progress: a line per trial off a terminal, a bar on one, failures told, no pytest dots."""

from __future__ import annotations

import io
import re
import subprocess
from types import SimpleNamespace
from typing import Any, cast

import pytest
from rich.console import Console

from balance_bench.bench.progress import MatrixProgress
from balance_bench.bench.rounds import RESTING
from balance_bench.matrix import all_cases
from balance_bench.terminal import interactive

pytest_plugins = ("pytester",)

DOTS = re.compile(r"^[.FEsxX]+( +\[ *\d+%\])?$")  # a line of pytest's progress letters


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _session(*trials: tuple[str, int, int]) -> pytest.Session:
    """A collected session: for each (scale, trial, cases) that many items, in that order."""
    items = [SimpleNamespace(nodeid=f"bench/test_matrix.py::test_read[{scale}-q{n}-t{trial:02d}]",
                             callspec=SimpleNamespace(params={"case": SimpleNamespace(scale=scale), "trial": trial}))
             for scale, trial, cases in trials for n in range(cases)]
    return cast(pytest.Session, SimpleNamespace(items=items))


def _report(nodeid: str, when: str = "call", outcome: str = "passed", longrepr: Any = None) -> pytest.TestReport:
    return pytest.TestReport(nodeid, ("bench/test_matrix.py", 1, nodeid), {}, outcome, longrepr, when)


def _run(progress: MatrixProgress, session: pytest.Session, clock: Clock, seconds: list[float],
         failing: dict[str, pytest.TestReport] | None = None) -> None:
    """Every item through pytest's report hooks, the i-th taking ``seconds[i]``; ``failing`` replaces a call report."""
    progress.pytest_collection_finish(session)
    for item, took in zip(session.items, seconds, strict=True):
        progress.pytest_runtest_logstart(item.nodeid)
        clock.now += took
        progress.pytest_runtest_logreport((failing or {}).get(item.nodeid) or _report(item.nodeid))
        progress.pytest_runtest_logfinish(item.nodeid)
    progress.pytest_sessionfinish()


def test_off_a_terminal_one_line_per_trial_with_its_cases_its_time_and_a_shrinking_estimate() -> None:
    """A start line, then per trial its cases, seconds, the time elapsed and what is left at the pace after trial 1."""
    out, clock = io.StringIO(), Clock()
    progress = MatrixProgress(file=out, clock=clock)
    # The first trial builds the copies and calibrates (2 s a case), the others take 1 s a case.
    _run(progress, _session(("tiny", 1, 4), ("tiny", 2, 4), ("tiny", 3, 4)), clock, [2.0] * 4 + [1.0] * 8)
    assert out.getvalue().splitlines() == [
        "matrix: 3 trials, 12 cases (4 per trial)",
        "trial 1/3 done: 4 cases, 8.0 s (elapsed 8 s, about 16 s left)",
        "trial 2/3 done: 4 cases, 4.0 s (elapsed 12 s, about 4 s left)",
        "trial 3/3 done: 4 cases, 4.0 s (elapsed 16 s)",
    ]
    left = [int(m) for m in re.findall(r"about (\d+) s left", out.getvalue())]
    assert left == sorted(left, reverse=True) and len(set(left)) == len(left)


def test_with_two_scales_each_trial_line_names_its_scale() -> None:
    """Trials run per scale, so the lines say which scale's trial finished and the start line how many per scale."""
    out, clock = io.StringIO(), Clock()
    _run(MatrixProgress(file=out, clock=clock), _session(("tiny", 1, 2), ("tiny", 2, 2), ("small", 1, 3),
                                                         ("small", 2, 3)), clock, [1.0] * 10)
    lines = out.getvalue().splitlines()
    assert lines[0] == "matrix: 4 trials (2 per scale: tiny, small), 10 cases"
    assert [line.split(" done:")[0] for line in lines[1:]] == ["trial 1/2 (tiny)", "trial 2/2 (tiny)",
                                                               "trial 1/2 (small)", "trial 2/2 (small)"]
    assert lines[-1] == "trial 2/2 (small) done: 3 cases, 3.0 s (elapsed 10 s)"


def test_a_failed_or_errored_item_is_told_with_its_text_and_counted_in_its_trial() -> None:
    """A failing call and a setup error each print the item and pytest's short text; the trial line counts them."""
    out, clock = io.StringIO(), Clock()
    session = _session(("tiny", 1, 3))
    first, second = (item.nodeid for item in session.items[:2])
    failing = {first: _report(first, outcome="failed", longrepr="E   AssertionError: 3 rows, expected 2"),
               second: _report(second, when="setup", outcome="failed", longrepr="E   OperationalError: gone")}
    _run(MatrixProgress(file=out, clock=clock), session, clock, [1.0] * 3, failing)
    text = out.getvalue()
    assert f"FAILED {first}\nE   AssertionError: 3 rows, expected 2\n" in text
    assert f"ERROR at setup of {second}\nE   OperationalError: gone\n" in text
    assert "trial 1/1 done: 3 cases, 2 failed, 3.0 s (elapsed 3 s)" in text


def test_a_resting_slow_case_is_counted_apart_from_a_skip() -> None:
    """An item skipped because its slow case rests in the trial is "resting"; any other skip is "skipped"."""
    out, clock = io.StringIO(), Clock()
    session = _session(("medium", 1, 4))
    first, second, third = (item.nodeid for item in session.items[:3])
    where = ("bench/test_matrix.py", 1)
    failing = {first: _report(first, outcome="skipped", longrepr=(*where, f"Skipped: {RESTING}")),
               second: _report(second, outcome="skipped", longrepr=(*where, f"Skipped: {RESTING}")),
               third: _report(third, outcome="skipped", longrepr=(*where, "Skipped: no replica"))}
    _run(MatrixProgress(file=out, clock=clock), session, clock, [1.0] * 4, failing)
    assert "trial 1/1 done: 4 cases, 1 skipped, 2 slow ones resting, 4.0 s" in out.getvalue()
    out, clock = io.StringIO(), Clock()
    _run(MatrixProgress(file=out, clock=clock), _session(("medium", 1, 2)), clock, [1.0] * 2,
         {first: _report(first, outcome="skipped", longrepr=(*where, f"Skipped: {RESTING}"))})
    assert "trial 1/1 done: 2 cases, 1 slow one resting, 2.0 s" in out.getvalue()


def test_a_run_that_stops_early_says_how_far_it_got() -> None:
    """Stopped mid-trial (a lost server, Ctrl-C), no line claims the trial done; one says where it stopped."""
    out, clock = io.StringIO(), Clock()
    progress = MatrixProgress(file=out, clock=clock)
    session = _session(("tiny", 1, 2), ("tiny", 2, 2))
    progress.pytest_collection_finish(session)
    for item in session.items[:3]:
        clock.now += 1
        progress.pytest_runtest_logfinish(item.nodeid)
    progress.pytest_sessionfinish()
    assert out.getvalue().splitlines()[1:] == ["trial 1/2 done: 2 cases, 2.0 s (elapsed 2 s, about 2 s left)",
                                               "matrix stopped after 3 of 4 cases, in trial 2/2 (elapsed 3 s)"]


def test_on_a_terminal_a_live_bar_shows_the_trial_and_the_items_done_and_no_lines() -> None:
    """With a terminal console the progress is rich's bar (trial, items done), redrawn per item, and no trial line."""
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    clock = Clock()
    progress = MatrixProgress(console, clock=clock)
    _run(progress, _session(("tiny", 1, 2), ("tiny", 2, 2)), clock, [1.0] * 4)
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", cast(io.StringIO, console.file).getvalue())
    assert "matrix trial 1/2" in shown and "matrix trial 2/2" in shown
    assert "1/4" in shown and "4/4" in shown
    assert "done:" not in shown and "matrix:" not in shown


def test_the_bar_is_for_a_terminal_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal gets the bar unless CI is set; a pipe never does."""
    terminal = cast(io.StringIO, SimpleNamespace(isatty=lambda: True))
    monkeypatch.delenv("CI", raising=False)
    assert interactive(terminal) and not interactive(io.StringIO())
    monkeypatch.setenv("CI", "true")
    assert not interactive(terminal)


MATRIX = """
import pytest

@pytest.mark.parametrize("case,trial", [(c, t) for t in (1, 2) for c in "abc"])
def test_case(case, trial):
    assert (case, trial) != ("b", 2), "boom"
"""


def test_in_a_real_session_pytest_says_nothing_and_the_failure_reaches_stderr(pytester: pytest.Pytester) -> None:
    """pytest's reporter is muted (no dots, no "passed"); the failure's short text and the trial lines are on stderr."""
    pytester.makepyfile(test_matrix=MATRIX)
    result = pytester.runpytest_inprocess("-q", "--tb=short", "-p", "no:cacheprovider",
                                          plugins=[MatrixProgress(clock=Clock())])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert result.stdout.str().strip() == ""
    err = result.stderr.lines
    assert err[0] == "matrix: 2 trials, 6 cases (3 per trial)"
    assert "FAILED test_matrix.py::test_case[b-2]" in err and "E   AssertionError: boom" in err
    assert [line.split(":")[0] for line in err if " done: " in line] == ["trial 1/2 done", "trial 2/2 done"]
    assert "trial 2/2 done: 3 cases, 1 failed" in result.stderr.str()
    assert not any(DOTS.match(line) or "passed" in line for line in err)


def test_pytest_exit_s_reason_is_told(pytester: pytest.Pytester) -> None:
    """A ``pytest.exit`` inside the session, which only pytest's muted reporter would have shown, is told on stderr."""
    pytester.makepyfile("import pytest\n\ndef test_stop():\n    pytest.exit('the servers are gone', returncode=2)\n")
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", plugins=[MatrixProgress(clock=Clock())])
    assert result.ret == 2 and "pytest stopped: the servers are gone" in result.stderr.lines


def test_a_collection_error_is_told(pytester: pytest.Pytester) -> None:
    """A test module that does not import, which only pytest's muted reporter would have shown, is told on stderr."""
    pytester.makepyfile(test_broken="import no_such_module_here\n")
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", plugins=[MatrixProgress(clock=Clock())])
    assert result.ret == pytest.ExitCode.INTERRUPTED and "ERROR collecting test_broken.py" in result.stderr.lines
    assert "no_such_module_here" in result.stderr.str()


@pytest.mark.slow
@pytest.mark.services
def test_a_piped_quick_run_prints_one_line_per_trial_and_none_of_pytest_s(
        real_run_output: subprocess.CompletedProcess[str]) -> None:
    """`balance-bench run --quick` piped: no line of dots, no "passed in", and on stderr one line per trial of 3."""
    everything = (real_run_output.stdout + real_run_output.stderr).splitlines()
    assert not [line for line in everything if DOTS.match(line.strip()) or "passed in" in line]
    cases = len(all_cases(("tiny",)))
    err = real_run_output.stderr.splitlines()
    assert f"matrix: 3 trials, {3 * cases} cases ({cases} per trial)" in err
    trials = [line for line in err if re.match(rf"trial \d/3 done: {cases} cases, \d+\.\d s \(elapsed \d+ s", line)]
    assert [line.split(" done")[0] for line in trials] == ["trial 1/3", "trial 2/3", "trial 3/3"]
    assert not any(" done: " in line for line in real_run_output.stdout.splitlines())
