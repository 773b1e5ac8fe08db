"""What ``balance-bench run`` shows while the matrix runs: a bar on a terminal, one line per trial elsewhere.

pytest's own output for the matrix is a dot per item (2,160 for ``--scale
small``) and an "N passed" line: noise in a CI log, and no answer to how long is
left. ``run_matrix`` registers ``MatrixProgress`` for its session only; plain
``pytest bench/`` never sees it and keeps pytest's output untouched.

On a terminal (``balance_bench.terminal.interactive``, the rule ``seed``'s bar
follows too) a transient rich bar, in ``seed``'s style, shows the trial, the
items done, the time elapsed and an estimate of the time left. Elsewhere (CI, a
pipe) one line says how many trials and cases the matrix holds, then one line
per finished trial gives its cases, its seconds, the time elapsed and about
how much is left. Nothing is written per item, and all of it goes to stderr:
stdout stays for what ``run`` prints.

pytest is kept quiet without losing what a user must see. ``-p no:terminal``
would remove pytest's TerminalReporter altogether: the dots go, but so does
every failure's text, and the hooks other plugins report through
(``pytest_terminal_summary``) would no longer be called. ``-qq`` still writes a
dot per item. So the reporter stays registered, with its hooks and counts, but
writes into a sink: at ``pytest_configure`` this plugin replaces the reporter
pytest built with one built (through the public ``pytest.TerminalReporter``)
on a file that keeps nothing. In return this plugin reports, to stderr and as
it happens, what pytest's reporter would have shown that matters: each failed
or errored item with its short text (``run_matrix`` asks for ``--tb=short``),
collection errors, internal errors, and why pytest stopped. ``run`` then raises
its one line (the matrix did not complete, or ``outage``'s lost server).

The bar is redrawn from the hooks only, never by rich's refresh thread: while an
item runs pytest captures stderr, and a redraw then would land in the item's
captured output instead of on the terminal.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

import pytest

from balance_bench.bench.rounds import RESTING
from balance_bench.terminal import interactive

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress as Bar
    from rich.progress import TaskID

__all__ = ["MatrixProgress", "matrix_progress", "trial_of"]


def matrix_progress() -> MatrixProgress:
    """The display ``balance-bench run`` registers: a bar on stderr when a person watches it, lines otherwise."""
    if not interactive():
        return MatrixProgress()
    from rich.console import Console

    return MatrixProgress(Console(stderr=True))


@dataclass
class _Trial:
    """One trial of one scale as it runs: its items, how many finished, failed or were skipped, and its time."""

    label: str
    size: int = 0
    done: int = 0
    failed: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)
    resting: set[str] = field(default_factory=set)  # slow cases that rest in this trial (``rounds.Pace``)
    seconds: float | None = None  # set when its last item finished


class _Sink(io.StringIO):
    """A text file that keeps nothing: where pytest's own terminal reporter writes during ``run``."""

    def write(self, s: str) -> int:
        return len(s)


def trial_of(item: pytest.Item) -> tuple[str, int] | None:
    """(scale, trial) of a matrix or experiment item, from the parameters ``bench/conftest.py`` gives it; else None."""
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    trial, scale = params.get("trial"), getattr(params.get("case"), "scale", "")
    return (scale if isinstance(scale, str) else "", trial) if isinstance(trial, int) else None


class MatrixProgress:
    """pytest plugin: the matrix's progress and its failures on stderr, pytest's own terminal output muted.

    With a ``console`` the progress is a live bar on it; without one it is plain lines on ``file``
    (stderr when None). ``clock`` is for tests.
    """

    def __init__(self, console: Console | None = None, *, file: TextIO | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self._console = console
        self._file = file
        self._clock = clock
        self._trials: list[_Trial] = []
        self._trial_of: dict[str, _Trial] = {}
        self._started = self._mark = 0.0  # when the matrix started; when the last trial finished
        self._bar: Bar | None = None
        self._task: TaskID | None = None
        self._showing = ""  # the trial the bar names

    @property
    def total(self) -> int:
        return sum(t.size for t in self._trials)

    @property
    def done(self) -> int:
        return sum(t.done for t in self._trials)

    # pytest's own reporter, muted

    @pytest.hookimpl(trylast=True)  # after pytest's terminal plugin registered its reporter
    def pytest_configure(self, config: pytest.Config) -> None:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            config.pluginmanager.unregister(reporter)
            config.pluginmanager.register(pytest.TerminalReporter(config, _Sink()), "terminalreporter")

    # what the matrix holds

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Group the items, in the order they will run, into trials (per scale); start the display."""
        trials = [found for found in map(trial_of, session.items) if found is not None]
        last = max((trial for _, trial in trials), default=1)
        scales = list(dict.fromkeys(scale for scale, _ in trials))
        current: tuple[str, int] | None = None
        waiting: list[str] = []  # items outside any trial, before the first: counted with the first trial
        for item in session.items:
            found = trial_of(item)
            if found is not None and found != current:
                current = found
                scale, trial = found
                self._trials.append(_Trial(f"trial {trial}/{last}" + (f" ({scale})" if len(scales) > 1 else "")))
            if self._trials:
                self._trials[-1].size += 1
                self._trial_of[item.nodeid] = self._trials[-1]
            else:
                waiting.append(item.nodeid)
        if waiting:
            if not self._trials:
                self._trials.append(_Trial(f"trial 1/{last}"))
            self._trials[0].size += len(waiting)
            self._trial_of.update(dict.fromkeys(waiting, self._trials[0]))
        if not self._trials:
            return
        self._started = self._mark = self._clock()
        if self._console is None:
            sizes = {t.size for t in self._trials}
            self._say(f"matrix: {len(self._trials)} trials"
                      + (f" ({last} per scale: {', '.join(scales)})" if len(scales) > 1 else "")
                      + f", {self.total} cases" + (f" ({sizes.pop()} per trial)" if len(sizes) == 1 else ""))
            return
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
        from rich.progress import Progress as Bar

        self._bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TimeRemainingColumn(), console=self._console, transient=True, auto_refresh=False,
                        redirect_stdout=False, redirect_stderr=False, get_time=self._clock)
        self._showing = self._trials[0].label
        self._task = self._bar.add_task(f"matrix {self._showing}", total=self.total)
        self._bar.start()

    # items as they run

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        trial = self._trial_of.get(nodeid)
        if self._bar is None or self._task is None or trial is None:
            return
        if trial.label != self._showing:
            self._showing = trial.label
            self._bar.update(self._task, description=f"matrix {trial.label}", refresh=True)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """A failed or errored phase is told at once, with its short text; skips are counted."""
        trial = self._trial_of.get(report.nodeid)
        if report.failed:
            if trial is not None:
                trial.failed.add(report.nodeid)
            what = "FAILED" if report.when == "call" else f"ERROR at {report.when} of"
            self._tell(f"{what} {report.nodeid}", report.longreprtext)
        elif report.skipped and trial is not None:
            (trial.resting if RESTING in str(report.longrepr) else trial.skipped).add(report.nodeid)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        trial = self._trial_of.get(nodeid)
        if trial is None:
            return
        trial.done += 1
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=1, refresh=True)
        if trial.done < trial.size:
            return
        now = self._clock()
        trial.seconds, self._mark = now - self._mark, now
        if self._bar is None:
            self._say(self._trial_line(trial, now))

    def _trial_line(self, trial: _Trial, now: float) -> str:
        """``trial 3/20 done: 108 cases, 9.4 s (elapsed 28 s, about 160 s left)``; failures and skips when any."""
        counts = "".join(f", {len(ids)} {word}" for ids, word in (
            (trial.failed, "failed"), (trial.skipped, "skipped"),
            (trial.resting, "slow one resting" if len(trial.resting) == 1 else "slow ones resting")) if ids)
        left = self.seconds_left()
        return (f"{trial.label} done: {trial.size} cases{counts}, {trial.seconds:.1f} s "
                f"(elapsed {now - self._started:.0f} s" + (f", about {left:.0f} s left)" if left else ")"))

    def seconds_left(self) -> float:
        """The finished trials' pace times the cases still to run.

        The first trial also builds the run's database copies and calibrates every case, so once another trial
        has finished the pace is that of the trials after the first.
        """
        finished = [t for t in self._trials if t.seconds is not None]
        steady = finished[1:] or finished
        cases = sum(t.size for t in steady)
        if not cases:
            return 0.0
        return sum(t.seconds or 0.0 for t in steady) / cases * (self.total - self.done)

    # what else pytest would have said

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self._tell(f"ERROR collecting {report.nodeid or 'the matrix'}", report.longreprtext)

    def pytest_internalerror(self, excrepr: object) -> None:
        self._tell("pytest INTERNALERROR", str(excrepr))

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """``pytest.exit``'s reason (a Ctrl-C needs none: ``run`` says it was interrupted)."""
        if isinstance(excinfo.value, pytest.exit.Exception):
            self._say(f"pytest stopped: {excinfo.value.msg}")

    def pytest_sessionfinish(self) -> None:
        """Take the bar down; say how far the matrix got if it stopped early."""
        self._stop()
        if self.done < self.total:
            running = next(t for t in self._trials if t.done < t.size)
            self._say(f"matrix stopped after {self.done} of {self.total} cases, in {running.label} "
                      f"(elapsed {self._clock() - self._started:.0f} s)")

    def pytest_unconfigure(self) -> None:
        self._stop()  # should the session have ended without pytest_sessionfinish

    # output

    def _stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _tell(self, title: str, text: str) -> None:
        self._say(title, style="bold red")
        if text.strip():
            self._say(text.rstrip())

    def _say(self, line: str, style: str | None = None) -> None:
        if self._console is not None:  # above the bar while it runs
            self._console.print(line, style=style, markup=False, highlight=False, soft_wrap=True)
        else:
            print(line, file=self._file or sys.stderr, flush=True)
