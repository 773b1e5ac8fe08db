"""The guide's table checked for consistency: does each row's improvement % follow from its own milliseconds?

Nothing is run: this experiment has no variants and no cases. Its figures come
from the report side, ``reports.guide_table.figures`` (``table.<guideName>.
stated_low|stated_high|implied_low|implied_high|follows``), computed from the
guide's claims in ``reports.expectations``; the report judges measured
improvements against both the stated and the implied range. It is declared
here like the others so that ``--experiments all`` and the report's sections
list it, and its conclusion is phrased in one place.
"""

from __future__ import annotations

from collections.abc import Mapping

from balance_bench.bench.experiments.spec import Call, Experiment, ExperimentCase, Figures, PlanTarget, Workspace

__all__ = ["EXPERIMENT", "FIGURE_PREFIX"]

FIGURE_PREFIX = "table."


class _Nothing:
    """No state: the experiment runs nothing."""

    def close(self) -> None:
        """Nothing to release."""


def _prepare(workspace: Workspace) -> _Nothing:
    return _Nothing()


def _cases(state: _Nothing) -> tuple[ExperimentCase, ...]:
    return ()


def _call(state: _Nothing, case: ExperimentCase) -> Call:
    raise ValueError("the guide-table experiment has no timed calls")


def _check(states: Mapping[str, _Nothing]) -> None:
    """Nothing runs, so nothing can be wrong here; the report's tests check the table's arithmetic."""


def _plan(state: _Nothing, case: ExperimentCase) -> PlanTarget | None:
    return None


def _conclude(figures: Figures) -> str:
    rows = sorted({key.split(".")[1] for key in figures if key.startswith(FIGURE_PREFIX)})
    if not rows:
        raise ValueError("no table figures (reports.guide_table.figures) to conclude from")

    def value(row: str, name: str) -> float:
        return figures[f"{FIGURE_PREFIX}{row}.{name}"].value

    bad = [row for row in rows if not value(row, "follows")]
    if not bad:
        return (f"All {len(rows)} row{'s' if len(rows) != 1 else ''} of the guide's table state improvements that "
                "follow from their milliseconds.")
    detail = "; ".join(
        f"{row} states {value(row, 'stated_low'):g}-{value(row, 'stated_high'):g}% where its milliseconds imply "
        f"{value(row, 'implied_low'):.0f}-{value(row, 'implied_high'):.0f}%" for row in bad)
    good = [row for row in rows if row not in bad]
    tail = f"; only {', '.join(good)} {'is' if len(good) == 1 else 'are'} consistent" if good else ""
    return f"{len(bad)} of the guide's {len(rows)} rows contradict their own milliseconds: {detail}{tail}."


EXPERIMENT: Experiment[_Nothing] = Experiment(
    name="guide_table",
    title="The guide's performance table, checked against itself",
    question='"Expected improvements based on query patterns" (Performance Improvements table)',
    variants=(),
    migrations=(),
    prepare=_prepare,
    cases=_cases,
    call=_call,
    check=_check,
    plan=_plan,
    conclude=_conclude,
)
