"""A top-up session: more trials of a few cases, numbered after the run's own, in the run's directory.

``balance-bench run`` judges its trials, and the cache verdicts whose interval
still straddles a bound of the guide get more trials (``reports.top_up``
chooses them). Those trials are a second pytest session over the same
matrix, restricted to the chosen cases, with trial numbers following the
run's (21, 22, ... after 20), timed exactly as the first: the same rounds per
trial (calibrated against the run's trial count), the same comparison blocks
in a seeded shuffled order, so cold and warm of one question are still
seconds apart. Plans and traffic are not captured again (the run has them),
and the session writes its own pytest-benchmark file beside the run's
(``results.top_up_file``), which ``summarise`` merges by trial number.

The session finds its ``TopUp`` among pytest's plugins, like ``Preset``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

__all__ = ["TopUp", "top_up_of"]


@dataclass(frozen=True)
class TopUp:
    """Which cases (by id) get more trials, and which trial numbers: ``first`` to ``first + trials - 1``."""

    cases: frozenset[str]
    first: int
    trials: int

    @property
    def numbers(self) -> range:
        """The trial numbers this session runs."""
        return range(self.first, self.first + self.trials)

    def describe(self) -> dict[str, object]:
        """The record a top-up file carries, so the summary can say what each top-up measured."""
        return {"first_trial": self.first, "trials": self.trials, "cases": sorted(self.cases)}


def top_up_of(config: pytest.Config) -> TopUp | None:
    """The top-up this session runs, or None for a run's own trials (and under plain pytest)."""
    return next((p for p in config.pluginmanager.get_plugins() if isinstance(p, TopUp)), None)
