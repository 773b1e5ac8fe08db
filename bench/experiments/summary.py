"""The summarise stage's part for experiments: each experiment's figures with intervals, and its conclusion.

Input: the run's record of what the experiments did untimed (``benchmarks.json``
under ``balance_bench.experiments``: which ran, at which scales and migration
states, their checks and probe figures) and the timed cases. Each ratio an
experiment declares is computed within each trial from its two cases and
stated with its interval across trials (``statistics.ratio_estimate``); probe
figures are carried as measured, once. The experiment's own ``conclude`` then
writes its sentence from those figures; a figure the run lacks (a migration
state or a case that did not run) makes the sentence say so instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from balance_bench.bench.experiments import spec
from balance_bench.bench.experiments.registry import EXPERIMENTS
from balance_bench.results import CaseResult, ExperimentResult, VariantInfo
from balance_bench.statistics import Estimate, ratio_estimate

__all__ = ["experiment_results", "conclusion", "case_key"]


def case_key(case: CaseResult) -> str:
    """The experiment's own name of a timed case (``ExperimentCase.id``): variant, operation, parameter kind."""
    return f"{case.coords.variant}-{case.coords.query}-{case.coords.param_kind}"


def conclusion(experiment: spec.Experiment[Any], figures: Mapping[str, Estimate]) -> str:
    """The experiment's sentence from ``figures``, or why the run cannot give it."""
    try:
        return experiment.conclude({k: spec.Estimate(v.value, v.low, v.high) for k, v in figures.items()})
    except KeyError as exc:
        return (f"Inconclusive: this run lacks the figure {exc.args[0]!r} the conclusion needs "
                "(a migration state, case or probe that did not run).")
    except (ValueError, ZeroDivisionError, IndexError) as exc:
        return f"Inconclusive: the figures do not allow a conclusion ({exc})."


def _variants(experiment: spec.Experiment[Any]) -> tuple[VariantInfo, ...]:
    return tuple(VariantInfo(v.name, v.description, v.layout, v.schema) for v in experiment.variants)


def _measured(experiment: spec.Experiment[Any], scale: str, by_migration: Mapping[str, Any],
              cases: Sequence[CaseResult], notes: dict[str, Any]) -> ExperimentResult:
    figures: dict[str, Estimate] = {}
    mine = [c for c in cases if c.coords.experiment == experiment.name and c.coords.scale == scale]
    for migration, entry in by_migration.items():
        timed = {case_key(c): c for c in mine if str(c.coords.migration) == migration}
        for ratio in experiment.ratios:
            numerator, denominator = timed.get(ratio.numerator), timed.get(ratio.denominator)
            if numerator is None or denominator is None:
                continue
            estimate = ratio_estimate(numerator.trial_medians_ms, denominator.trial_medians_ms)
            if estimate is not None:
                figures[spec.figure_key(migration, ratio.name)] = estimate
        for probe, numbers in (entry.get("probes") or {}).items():
            for number, value in numbers.items():
                figures[spec.figure_key(migration, f"{probe}.{number}")] = Estimate(float(value), None, None, 1)
    return ExperimentResult(
        name=experiment.name, title=experiment.title, question=experiment.question, scale=scale,
        variants=_variants(experiment), migrations=tuple(by_migration),
        checks={m: str(e.get("check", "unknown")) for m, e in by_migration.items()},
        figures=figures, ratios={r.name: (r.numerator, r.denominator) for r in experiment.ratios},
        conclusion=conclusion(experiment, figures), notes=notes)


def experiment_results(record: Mapping[str, Any] | None, cases: Sequence[CaseResult]) -> list[ExperimentResult]:
    """One record per experiment and scale the run measured, in the registry's order."""
    if not record:
        return []
    ran: Mapping[str, Any] = record.get("experiments") or {}
    notes = {"replica": record["replica"]} if record.get("replica") else {}
    results: list[ExperimentResult] = []
    for name, experiment in EXPERIMENTS.items():
        for scale, by_migration in (ran.get(name) or {}).get("scales", {}).items():
            results.append(_measured(experiment, scale, by_migration, cases,
                                     notes if experiment.needs_replica else {}))
    return results
