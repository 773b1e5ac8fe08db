"""Where a run spends its top-up trials: the cache verdicts its own trials left open, cheapest to decide first.

After its K trials a run judges itself. A cache improvement whose interval
straddles a bound of the guide's range (``claims.precision``), or is wider
than ``HALF_WIDTH_PP`` either side, gets more trials of exactly the cases it
compares, cold (ours or the guide's) and warm with 012, interleaved as
before; nothing else runs, so the top-up costs a fraction of a trial of the
whole matrix. Each open claim wants the trial count its interval would need
if further trials spread like these (``statistics.trials_to_resolve``); the
plan takes the claims in order of that count while the seconds they would
cost fit the budget, and all the chosen cases get the same trial numbers so
each within-trial ratio keeps both its sides.

An estimate on its bound, or one needing more than ``statistics.MAX_TRIALS`` trials, is
left open: no affordable run decides it, and the report says so.

The cost of a trial is predicted from the run itself: per case, its rounds per
trial and warm-up rounds at its median time, and a fixed cost per timed item
and per session (pytest, the world's database copies), both measured on this
machine (see ``ITEM_S`` and ``SESSION_S``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from balance_bench.coordinates import OPTIMIZED, CacheState, Coordinates, Kind, Migration
from balance_bench.network import LOCAL
from balance_bench.reports.claims import ClaimVerdict, Topic, precision
from balance_bench.reports.runs import Run
from balance_bench.results import Design
from balance_bench.statistics import trials_to_resolve

__all__ = ["HALF_WIDTH_PP", "ITEM_S", "SESSION_S", "MIN_TRIALS", "WARMUP_ROUNDS", "OpenClaim", "TopUpPlan",
           "open_claims", "trial_seconds", "plan_top_up", "trials_phrase"]

HALF_WIDTH_PP = 2.0
"""An improvement interval wider than this either side gets more trials even when it decides its verdict."""
ITEM_S = 0.004
"""Seconds a timed item costs beyond its rounds (pytest's hooks, the fixtures, the cache key's setup)."""
SESSION_S = 6.0
"""Seconds a top-up session costs before its first trial (pytest, the two database copies at small)."""
MIN_TRIALS = 3
"""Fewer top-up trials than this are not worth a session: they would barely move an interval."""
WARMUP_ROUNDS = 2  # bench.rounds.WARMUP_ROUNDS: each item's untimed warm-up calls (reports do not import bench)

_STATES = {Topic.CACHE: (CacheState.COLD, CacheState.WARM), Topic.GUIDE_CACHE: (CacheState.GUIDE_COLD,
                                                                                  CacheState.WARM)}


@dataclass(frozen=True)
class OpenClaim:
    """A claim that wants more trials: how many in all, and the cases whose trials it compares."""

    claim: ClaimVerdict
    wanted: int
    cases: tuple[Coordinates, ...]


@dataclass(frozen=True)
class TopUpPlan:
    """The next top-up: the cases to time, how many trials after ``first``, the claims it serves, its cost."""

    cases: tuple[Coordinates, ...]
    first: int
    trials: int
    claims: tuple[OpenClaim, ...]
    seconds: float


def _cases(topic: Topic, scale: str, query: str, param_kind: str) -> tuple[Coordinates, ...]:
    return tuple(Coordinates(Kind.READ, query, state, Migration.WITH_012, scale, OPTIMIZED, param_kind)
                 for state in _STATES[topic])


def _wanted(claim: ClaimVerdict) -> int | None:
    """The trials this claim's interval needs; None when it needs none or no affordable count decides it."""
    estimate = claim.estimate
    if estimate is None or estimate.half_width is None:
        return None
    found = precision(claim)
    if found is not None:
        return found.needed
    if estimate.half_width > HALF_WIDTH_PP:
        return trials_to_resolve(estimate, HALF_WIDTH_PP)
    return None


def open_claims(claims: Sequence[ClaimVerdict]) -> list[OpenClaim]:
    """The local cache and guide-cache verdicts that more trials could settle, fewest trials wanted first."""
    found = []
    for claim in claims:
        if (claim.topic not in _STATES or claim.profile != LOCAL.name or claim.query is None
                or claim.param_kind is None):
            continue  # folded claims have no cases of their own; projections are computed, not timed
        wanted = _wanted(claim)  # at most MAX_TRIALS (``trials_to_resolve``)
        if wanted is not None:
            found.append(OpenClaim(claim, wanted, _cases(claim.topic, claim.scale, claim.query, claim.param_kind)))
    return sorted(found, key=lambda o: (o.wanted, o.claim.claim_id))


def trial_seconds(run: Run, cases: Sequence[Coordinates]) -> float:
    """Predicted seconds of one trial of ``cases``, from their rounds per trial and median time in ``run``."""
    total = 0.0
    for coords in cases:
        case = run.case(coords)
        if case is None:
            continue
        per_trial = case.rounds / max(1, len(case.trial_medians_ms))
        # a cold round also refills nothing but deletes its key first: count its setup as one more call
        calls = (per_trial + WARMUP_ROUNDS) * (2 if coords.cache in (CacheState.COLD, CacheState.GUIDE_COLD) else 1)
        total += calls * case.stats.median_ms / 1000.0 + ITEM_S
    return total


def _need(claim: OpenClaim) -> int:
    """Trials the claim lacks (at least one: ``trials_to_resolve`` always asks for more than it has)."""
    estimate = claim.claim.estimate
    assert estimate is not None
    return claim.wanted - estimate.trials


def plan_top_up(run: Run, claims: Sequence[ClaimVerdict], budget_s: float, next_trial: int) -> TopUpPlan | None:
    """The open claims, fewest trials wanted first, that a top-up within ``budget_s`` seconds can serve.

    Claims are added while the top-up gives every chosen one the trials it wants (at least ``MIN_TRIALS``);
    when not even the first fits whole, it alone gets what the budget affords. ``next_trial`` is the first
    unused trial number. A claim whose cases the run lacks is passed over. None when no claim is open or fewer
    than ``MIN_TRIALS`` trials fit.
    """
    chosen: list[OpenClaim] = []
    best: TopUpPlan | None = None
    for candidate in open_claims(claims):
        if trial_seconds(run, candidate.cases) <= 0:
            continue  # the run has none of its cases: nothing to time
        trial = [*chosen, candidate]
        cases = tuple(dict.fromkeys(c for o in trial for c in o.cases))
        per_trial = trial_seconds(run, cases)
        affordable = int((budget_s - SESSION_S) / per_trial)
        need = max(MIN_TRIALS, *(_need(o) for o in trial))
        if affordable >= need:
            chosen = trial
            best = TopUpPlan(cases, next_trial, need, tuple(chosen), SESSION_S + need * per_trial)
            continue
        if not chosen and affordable >= MIN_TRIALS:
            best = TopUpPlan(cases, next_trial, affordable, tuple(trial), SESSION_S + affordable * per_trial)
        break
    return best


def trials_phrase(design: Design) -> str:
    """"20 trials", or "20 trials + 8 top-up trials of 4 cases": how the report, Markdown and terminal say it."""
    text = f"{design.trials} trial{'s' if design.trials != 1 else ''}"
    added = sum(t.trials for t in design.top_ups)
    if added:
        cases = max(t.cases for t in design.top_ups)
        text += f" + {added} top-up trial{'s' if added != 1 else ''} of {cases} case{'s' if cases != 1 else ''}"
    return text
