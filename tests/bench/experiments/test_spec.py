"""The experiment contract: estimates draw lines only with their whole interval, and exercise keeps its order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from balance_bench.bench.experiments.spec import (
    Call,
    CheckFailed,
    Estimate,
    Experiment,
    ExperimentCase,
    PlanTarget,
    Probe,
    Variant,
    Workspace,
    exercise,
    figure_key,
    interval,
    times,
)
from balance_bench.coordinates import CacheState, Kind, Migration


@pytest.mark.parametrize(("estimate", "line", "side"), [
    (Estimate(2.0, 1.6, 2.4), 1.5, True),
    (Estimate(1.0, 0.8, 1.4), 1.5, False),
    (Estimate(1.5, 1.4, 1.6), 1.5, None),
    (Estimate(1.5, 1.5, 1.6), 1.5, None),  # touching the line is not above it
    (Estimate(2.0), 1.5, True),  # one trial: the value decides
    (Estimate(1.5), 1.5, None),
])
def test_an_estimate_is_above_or_below_a_line_only_with_its_whole_interval(estimate: Estimate, line: float,
                                                                           side: bool | None) -> None:
    """above() is True/False when the interval is on one side, None when it straddles or touches the line."""
    assert estimate.above(line) is side


def test_figures_print_with_their_interval_or_without_one() -> None:
    """Ratios as '2.41x (95% CI 2.30-2.52)'; a single-trial figure has no interval; keys are migration.name."""
    assert times(Estimate(2.414, 2.3, 2.52)) == "2.41x (95% CI 2.30-2.52)"
    assert times(Estimate(2.0)) == "2.00x" and interval(Estimate(2.0)) == ""
    assert figure_key("with_012", "offset_depth") == "with_012.offset_depth"
    assert ExperimentCase("keyset", "get_by_user", "page-last").id == "keyset-get_by_user-page-last"


def test_a_case_takes_its_place_in_the_runs_coordinates() -> None:
    """Experiment and variant fill the matrix's coordinates; kind and cache state say what is timed."""
    case = ExperimentCase("summary", "credit", "balance", {"id": 1}, Kind.WRITE, CacheState.NOCACHE)
    where = case.coordinates("totals", Migration.WITH_012, "small")
    assert (where.experiment, where.variant, where.query, where.kind, where.cache) == (
        "totals", "summary", "credit", Kind.WRITE, CacheState.NOCACHE)
    assert where.id == "small-with_012-credit-nocache-optimized-balance-totals-summary"


@dataclass
class _Log:
    events: list[str] = field(default_factory=list)


@dataclass
class _State:
    name: str
    log: _Log

    def close(self) -> None:
        self.log.events.append(f"close {self.name}")


def _fake(log: _Log, fail_check: bool = False) -> Experiment[_State]:
    def prepare(space: Workspace) -> _State:
        log.events.append(f"prepare {space.variant}")
        return _State(space.variant, log)

    def check(states: Mapping[str, _State]) -> None:
        log.events.append(f"check {','.join(states)}")
        if fail_check:
            raise CheckFailed("wrong")

    def call(state: _State, case: ExperimentCase) -> Call:
        def run() -> str:
            log.events.append(f"run {case.id}")
            return case.id

        return Call(run, setup=lambda: log.events.append(f"setup {case.id}"))

    def probe(state: _State, quick: bool) -> dict[str, float]:
        log.events.append(f"probe {state.name} quick={quick}")
        return {"n": 1.0}

    return Experiment(
        name="fake", title="t", question="q", variants=(Variant("a", "A"), Variant("b", "B")),
        migrations=(Migration.WITH_012,), prepare=prepare,
        cases=lambda s: (ExperimentCase(s.name, "op", "k"),), call=call, check=check,
        plan=lambda s, c: PlanTarget("postgresql://x/y", "SELECT 1", {}), conclude=lambda f: "",
        probes=(Probe("p", "d", probe, ("b",)),))


def _spaces() -> dict[str, Workspace]:
    return {v: Workspace(v, Migration.WITH_012, None, "postgresql://x/y", None, "p:") for v in ("a", "b")}  # type: ignore[arg-type]


def test_exercise_prepares_checks_then_sets_up_runs_and_explains_each_case() -> None:
    """Order: every prepare, one check of all states, per case setup then run then plan, probes where they apply."""
    log = _Log()
    outcome = exercise(_fake(log), _spaces(), quick=False, explain=lambda t: {"explained": t.sql})
    assert log.events == ["prepare a", "prepare b", "check a,b", "setup a-op-k", "run a-op-k", "setup b-op-k",
                          "run b-op-k", "probe b quick=False", "close b", "close a"]
    assert outcome.results == {"a-op-k": "a-op-k", "b-op-k": "b-op-k"}
    assert outcome.plans["a-op-k"] == {"explained": "SELECT 1"} and outcome.probes == {"b.p": {"n": 1.0}}


def test_a_failed_check_stops_before_any_call_and_still_closes_every_state() -> None:
    """No timing of wrong answers; no leaked models."""
    log = _Log()
    with pytest.raises(CheckFailed):
        exercise(_fake(log, fail_check=True), _spaces())
    assert log.events == ["prepare a", "prepare b", "check a,b", "close b", "close a"]
