"""The claims as a function of dataset size: the crossover on hand-computed numbers, the tidy frame of a synthetic
three-scale run, and the report's section, there with two sizes and absent with one.

The crossover oracles are worked by hand in log10(rows), which places a crossing where the natural log does: between
sizes 10^a and 10^b, a line from y0 to y1 meets level t at x = a + (b - a) (t - y0) / (y1 - y0), i.e. 10^x rows.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from balance_bench.coordinates import OPTIMIZED, CacheState, Coordinates, Kind, Migration
from balance_bench.reports.claims import DOES_NOT_HOLD, HOLDS, Topic, judge_run
from balance_bench.reports.render import write_report
from balance_bench.reports.runs import read_run
from balance_bench.reports.sizes import (
    LATENCY,
    Crossover,
    SizePoint,
    Trend,
    _answers,
    claim_trends,
    crossover,
    crossover_frame,
    dataset_rows,
    holding,
    rows_text,
    size_frame,
    size_section,
)
from balance_bench.reports.verdicts import BETTER, FASTER, INCONCLUSIVE, MET, SAME_PLAN, SHORT, SLOWER
from tests.reports.conftest import build_run, trial_run

NO = DOES_NOT_HOLD
OPEN = INCONCLUSIVE


def _points(*rows: tuple[float, float, float | None, float | None, str]) -> list[SizePoint]:
    return [SizePoint(*row) for row in rows]


def test_a_claim_that_starts_to_hold_crosses_where_its_line_meets_the_threshold() -> None:
    """80% [78, 82] short at 10^3 rows, 95% [93, 97] at 10^5, threshold 90: the estimate meets it at x = 3 + 2 * 10/15,
    the upper bound (82 -> 97) at 3 + 2 * 8/15, the lower (78 -> 93) at 3 + 2 * 12/15."""
    found = crossover(_points((1e5, 95.0, 93.0, 97.0, HOLDS), (1e3, 80.0, 78.0, 82.0, NO)), 90.0)
    assert found.trend is Trend.STARTS and found.between == (1e3, 1e5)
    assert found.rows == pytest.approx(21544.35, rel=1e-5)  # 10^4.3333
    assert found.low == pytest.approx(11659.14, rel=1e-5)  # 10^4.0667
    assert found.high == pytest.approx(39810.72, rel=1e-5)  # 10^4.6
    assert (found.point_text(), found.interval_text()) == ("≈ 22,000 rows", "12,000-40,000 rows")


def test_a_claim_that_stops_holding_is_placed_between_its_last_holding_size_and_the_first_failing_one() -> None:
    """Holds at 10^3 and 10^4 (92% [91, 93]), short at 10^6 (84% [82, 86]), threshold 90: between 10^4 and 10^6 the
    estimate falls to 90 at 4 + 2 * 2/8, the lower bound first (4 + 2 * 1/9), the upper last (4 + 2 * 3/7)."""
    found = crossover(_points((1e3, 95.0, 93.0, 97.0, HOLDS), (1e4, 92.0, 91.0, 93.0, HOLDS),
                              (1e6, 84.0, 82.0, 86.0, NO)), 90.0)
    assert found.trend is Trend.STOPS and found.between == (1e4, 1e6)
    assert found.rows == pytest.approx(31622.78, rel=1e-5)  # 10^4.5
    assert found.low == pytest.approx(16681.01, rel=1e-5)  # 10^4.2222
    assert found.high == pytest.approx(71968.57, rel=1e-5)  # 10^4.8571


@pytest.mark.parametrize(("states", "trend"), [
    ((HOLDS, HOLDS, HOLDS), Trend.EVERYWHERE),
    ((NO, NO, NO), Trend.NOWHERE),
    ((HOLDS, NO, HOLDS), Trend.CHANGES),
    ((OPEN, HOLDS, HOLDS), Trend.INCONCLUSIVE),
    ((OPEN, OPEN, OPEN), Trend.INCONCLUSIVE),
], ids=["everywhere", "nowhere", "changes-twice", "open-at-the-smallest", "never-decided"])
def test_a_claim_without_one_change_has_no_crossover(states: tuple[str, str, str], trend: Trend) -> None:
    """Every size holding, none, a flip back, or no two decided sizes that differ: no crossover, and said so."""
    found = crossover([SizePoint(rows, 91.0, 89.0, 93.0, state) for rows, state in zip((1e3, 1e5, 1e6), states,
                                                                                        strict=True)], 90.0)
    assert found == Crossover(trend)
    assert (found.point_text(), found.interval_text()) == (trend.value, "—")


def test_an_undecided_size_between_two_decided_ones_is_a_point_of_the_lines() -> None:
    """Short at 10^3 (80 [78, 82]), inconclusive at 10^4 (89 [86, 92]), holds at 10^5 (96 [94, 98]), threshold 90: the
    estimate meets it on the second segment (4 + 1/7), the upper bound on the first (3 + 8/10), the lower on the
    second (4 + 4/8)."""
    found = crossover(_points((1e3, 80.0, 78.0, 82.0, NO), (1e4, 89.0, 86.0, 92.0, OPEN),
                              (1e5, 96.0, 94.0, 98.0, HOLDS)), 90.0)
    assert found.trend is Trend.STARTS and found.between == (1e3, 1e5)
    assert found.rows == pytest.approx(13894.95, rel=1e-5)  # 10^4.1429
    assert found.low == pytest.approx(6309.57, rel=1e-5)  # 10^3.8
    assert found.high == pytest.approx(31622.78, rel=1e-5)  # 10^4.5


def test_intervals_that_straddle_the_threshold_at_both_ends_leave_the_interval_open() -> None:
    """0.98x [0.90, 1.06] does not hold at 10^3, 1.05x [0.95, 1.15] holds at 10^5 (verdicts not from these intervals
    alone): the estimate crosses 1 at 3 + 2 * 0.02/0.07, but the upper bound is past 1 already at 10^3 and the lower
    never reaches it, so the interval is not located."""
    found = crossover(_points((1e3, 0.98, 0.90, 1.06, NO), (1e5, 1.05, 0.95, 1.15, HOLDS)), 1.0)
    assert found.rows == pytest.approx(3727.59, rel=1e-5)  # 10^3.5714
    assert (found.low, found.high) == (None, None)
    assert (found.point_text(), found.interval_text()) == ("≈ 3,700 rows", "not located")


def test_a_same_plan_size_gives_an_open_end_where_its_interval_straddles_one() -> None:
    """012's same plan (1.02x [0.96, 1.08]) at 10^3, faster (3x [2.5, 3.5]) at 10^5: the estimate is above 1 at both, so
    no crossover is located; the lower bound reaches 1 at 3 + 2 * 0.04/1.54, the upper is past it: "below". The same
    sizes the other way round stop holding: the lower bound falls to 1 at 3 + 2 * 1.5/1.54, the upper never: "above".
    Both bounds past 1 already at the first size: not located."""
    starts = crossover(_points((1e3, 1.02, 0.96, 1.08, NO), (1e5, 3.0, 2.5, 3.5, HOLDS)), 1.0)
    assert starts.trend is Trend.STARTS and (starts.rows, starts.low) == (None, None)
    assert starts.high == pytest.approx(1127.06, rel=1e-5)  # 10^3.0519
    assert (starts.point_text(), starts.interval_text()) == ("not located", "below 1,100 rows")
    stops = crossover(_points((1e3, 3.0, 2.5, 3.5, HOLDS), (1e5, 1.02, 0.96, 1.08, NO)), 1.0)
    assert stops.trend is Trend.STOPS and (stops.rows, stops.high) == (None, None)
    assert stops.low == pytest.approx(88726.21, rel=1e-5)  # 10^4.9481
    assert stops.interval_text() == "above 89,000 rows"
    drifted = crossover(_points((1e3, 1.10, 1.05, 1.15, NO), (1e5, 2.0, 1.8, 2.2, HOLDS)), 1.0)
    assert (drifted.rows, drifted.low, drifted.high) == (None, None, None)


def test_a_narrow_interval_gets_the_figures_that_tell_its_ends_apart() -> None:
    """Two significant figures unless they merge the crossover and its ends: then three (or four)."""
    assert rows_text(21544.35) == "22,000" and rows_text(1_000_000) == "1,000,000"
    narrow = Crossover(Trend.STARTS, 1079.05, 1021.8, 1140.15, (1e3, 1e5))
    assert (narrow.point_text(), narrow.interval_text()) == ("≈ 1,080 rows", "1,020-1,140 rows")


@pytest.mark.parametrize(("label", "state"), [(MET, HOLDS), (BETTER, HOLDS), (FASTER, HOLDS), (SHORT, NO),
                                              (SLOWER, NO), (SAME_PLAN, NO), (INCONCLUSIVE, OPEN)])
def test_a_size_counts_a_verdict_by_its_tone_and_same_plan_as_not_holding(label: str, state: str) -> None:
    """Good labels hold, bad ones and 012's same plan do not, the rest is undecided."""
    assert holding(label) == state


@pytest.fixture(scope="module")
def three_sizes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic run at tiny, small and medium whose reads slow down with the table (two queries, few rounds)."""
    return build_run(tmp_path_factory.mktemp("sizes") / "run", scales=("tiny", "small", "medium"), by_size=True,
                     queries=("find_by_id", "find_by_user_id"), trials=4, rounds=8)


def test_the_frame_has_each_case_median_and_each_claim_per_size(three_sizes: Path) -> None:
    """Latency rows carry each case's median_ci at its dataset's recorded rows; claim rows each claim verdict's
    estimate, the guide's range and the threshold it holds above, at every size."""
    run = read_run(three_sizes)
    claims = judge_run(run)[1]
    frame = size_frame(run, claims)
    assert dataset_rows(run) == {"tiny": 1_000, "small": 100_000, "medium": 1_000_000}
    latency = frame[frame["figure"] == LATENCY]
    assert len(latency) == 3 * 3 * 2 * 3  # (find_by_id, 2 kinds of find_by_user_id) x caches x migrations x scales
    for row in latency.itertuples():
        case = run.case(Coordinates(Kind.READ, row.query, CacheState(row.cache), Migration(row.migration), row.scale,
                                    OPTIMIZED, row.param_kind))
        assert case is not None and (row.value, row.low, row.high) == (case.median_ci.value, case.median_ci.low,
                                                                       case.median_ci.high)
        assert row.rows == {"tiny": 1_000, "small": 100_000, "medium": 1_000_000}[row.scale]
    cache = frame[frame["claim"] == "cache.find_by_id.balance"].set_index("scale")
    assert list(cache.index) == ["tiny", "small", "medium"] and set(cache["figure"]) == {Topic.CACHE.value}
    for claim in (c for c in claims if c.claim_id == "cache.find_by_id.balance" and c.profile == "local"):
        assert claim.estimate is not None and cache.loc[claim.scale, "value"] == claim.estimate.value
        assert cache.loc[claim.scale, "label"] == claim.label
    assert set(cache["guide_low"]) == {90.0} and set(cache["threshold"]) == {90.0} and set(cache["unit"]) == {"%"}
    speedup = frame[frame["claim"] == "migration.find_by_user_id.typical"]
    assert set(speedup["threshold"]) == {1.0} and speedup["guide_low"].isna().all()
    assert list(speedup["state"]) == [NO, HOLDS, HOLDS]  # 0.7x (slower) at tiny; 7x and 22x later


def test_the_crossover_frame_places_012_and_the_cache_where_the_synthetic_run_changes(three_sizes: Path) -> None:
    """012 is slower at tiny and faster from small up; findById's cache misses 90% until medium: both start to hold
    between those sizes, and a claim that holds at every size has no crossover."""
    frame = crossover_frame(read_run(three_sizes)).set_index("claim")
    migration = frame.loc["migration.find_by_user_id.typical"]
    assert migration["trend"] == Trend.STARTS and 1_000 < migration["crossover_rows"] < 100_000
    assert (migration["last_before_rows"], migration["first_after_rows"]) == (1_000, 100_000)
    cache = frame.loc["cache.find_by_id.balance"]
    assert cache["trend"] == Trend.STARTS and 100_000 < cache["low_rows"] <= cache["crossover_rows"] < 1_000_000
    columns = frame.loc["columns.find_by_user_id.whale"]
    assert columns["trend"] == Trend.EVERYWHERE and columns[["crossover_rows", "low_rows"]].isna().all()


def test_a_run_without_dataset_records_takes_the_named_scales_rows(tmp_path: Path) -> None:
    """No recorded datasets: tiny and small are 1,000 and 100,000 rows; a scale named by nothing known is left out,
    and one size is no section."""
    case = Coordinates(Kind.READ, "find_by_id", CacheState.NOCACHE, Migration.WITH_012, "tiny", OPTIMIZED, "balance")
    medians = {case: {1: 0.2, 2: 0.21}, case.with_(scale="small"): {1: 0.3, 2: 0.31},
               case.with_(scale="mine"): {1: 0.4, 2: 0.41}}
    assert dataset_rows(trial_run(tmp_path, medians)) == {"tiny": 1_000, "small": 100_000}
    del medians[case.with_(scale="small")]
    alone = trial_run(tmp_path, medians)
    assert size_section(alone, judge_run(alone)[1]) is None


def test_the_report_shows_the_section_with_two_sizes(tmp_path: Path) -> None:
    """A two-scale run's report has the section, linked from the navigation: answers first, a table of at most seven
    columns, and one chart per query inside a closed <details> (rendered from summary.json alone)."""
    run = build_run(tmp_path / "run", scales=("tiny", "medium"), by_size=True, queries=("find_by_id",), trials=4,
                    rounds=6)
    (run / "benchmarks.json").unlink()  # no raw timings: no distribution charts to draw, the section needs none
    html = write_report(run).read_text(encoding="utf-8")
    assert 'href="#by-size"' in html and html.count('<section id="by-size">') == 1
    section = html[html.index('<section id="by-size">'):]
    section = section[:section.index("</section>")]
    answers = re.findall(r'<p class="answer"><strong>(.*?)</strong> (.*?)</p>', section, re.S)
    assert ("findById: cache improvement", "starts to hold at ≈") in [(t, s[:19]) for t, s in answers]
    assert section.index('class="answer"') < section.index('id="T_sizes-claims"') < section.index("<details")
    headers = re.findall(r"<th>(.*?)</th>", section[section.index('id="T_sizes-claims"'):])
    assert headers == ["claim", "guide", "tiny (1,000 rows)", "medium (1,000,000 rows)", "as the table grows",
                       "crossover", "interval"]
    charts = section[section.index('<details class="charts">'):]
    assert charts.count("<svg") == 1 and 'aria-label="size-find_by_id"' in charts


def test_the_same_claim_of_several_queries_is_one_answer_and_a_lone_one_keeps_its_sentence(three_sizes: Path) -> None:
    """Every query's 012 speedup starts to hold between tiny and small: one answer names them all with the span of
    their crossovers; alone, the same claim of one query is its own sentence with both sides' figures."""
    run = read_run(three_sizes)
    claims = judge_run(run)[1]
    trends = [t for t in claim_trends(claims, dataset_rows(run)) if t.topic is Topic.MIGRATION
              and t.crossover.trend is Trend.STARTS]
    assert len(trends) >= 2
    (answer,) = _answers(trends)
    points = sorted(t.crossover.rows for t in trends if t.crossover.rows is not None)
    assert answer.title == "012 speedup, no cache"
    low, high = rows_text(points[0]), rows_text(points[-1])
    assert (low, high) == ("1,300", "1,300")  # the synthetic run's two crossovers: one figure, not "1,300-1,300"
    assert answer.text.startswith(f"starts to hold at ≈ 1,300 rows for {len(trends)} queries (")
    assert all(t.title.split(": ")[0] in answer.text for t in trends)
    (alone,) = _answers(trends[:1])
    assert alone.title == trends[0].title and re.search(r"slower at 1,000 rows \(.*\), faster at 100,000", alone.text)
