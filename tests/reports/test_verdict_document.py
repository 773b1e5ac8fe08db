"""verdicts.json and verdicts.md: valid against the schema, the same labels as the report, short enough for CI."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path

import jsonschema
import pytest

from balance_bench.network import parse_profiles
from balance_bench.reports.claims import TONES, Topic, claim_verdicts, judge_run
from balance_bench.reports.render import publish
from balance_bench.reports.runs import read_run
from balance_bench.reports.verdict_document import (
    MAX_MD_LINES,
    SCHEMA,
    markdown_cell,
    verdicts_document,
    verdicts_markdown,
)
from balance_bench.results import REPORT_FILE, VERDICTS_FILE, VERDICTS_MD_FILE


def _schema() -> dict[str, object]:
    return json.loads(SCHEMA.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _headline_cells(html: str) -> list[list[str]]:
    """The headline table's rows as text, read from the HTML itself (not from the code that wrote it)."""
    start = html.index('id="T_headline"')
    table = html[start:html.index("</table>", start)]
    text = lambda cell: unescape(re.sub(r"<[^>]+>", "", cell)).strip()  # noqa: E731
    return [[text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1], re.S)]


def test_the_schema_is_a_valid_schema_and_names_every_label_and_topic() -> None:
    """The schema file is itself valid, and its label and topic enums are exactly the code's."""
    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    verdict = schema["$defs"]["verdict"]["properties"]  # type: ignore[index]
    assert set(verdict["label"]["enum"]) == set(TONES)
    assert set(verdict["topic"]["enum"]) == {t.value for t in Topic}


def test_verdicts_json_validates_and_agrees_with_the_report(make_run: Callable[..., Path]) -> None:
    """publish writes verdicts.json valid against its schema, whose headline labels are the report's, row for row."""
    run_dir = make_run()
    published = publish(run_dir, parse_profiles("same-zone,cross-zone"))
    document = json.loads((run_dir / VERDICTS_FILE).read_text(encoding="utf-8"))
    jsonschema.validate(document, _schema())
    rows = _headline_cells((run_dir / REPORT_FILE).read_text(encoding="utf-8"))
    headline = [v for v in document["verdicts"] if v["headline"]]
    assert len(rows) == len(headline) >= 8
    assert [(r[0], r[3]) for r in rows] == [(v["title"], v["label"]) for v in headline]
    assert {v["profile"] for v in document["verdicts"]} == {"local", "same-zone", "cross-zone"}
    assert document["headline_counts"] == {label: sum(v["label"] == label for v in headline)
                                           for label in dict.fromkeys(v["label"] for v in headline)}
    assert published.verdicts_json == run_dir / VERDICTS_FILE and published.verdicts_md == run_dir / VERDICTS_MD_FILE


def test_a_document_with_an_unknown_label_or_a_missing_field_is_refused_by_the_schema(
        make_run: Callable[..., Path]) -> None:
    """The schema is strict enough to fail: an invented label, a missing why, a bad unit are each refused."""
    run = read_run(make_run())
    document = verdicts_document(run, judge_run(run)[1])
    jsonschema.validate(document, _schema())
    for corrupt in (lambda v: v.update(label="mostly fine"), lambda v: v.pop("why"),
                    lambda v: v["estimate"].update(unit="ms") if v["estimate"] else v.update(estimate={})):
        bad = json.loads(json.dumps(document))
        corrupt(bad["verdicts"][0])
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, _schema())


def test_a_single_trial_run_has_null_bounds_and_still_validates(make_run: Callable[..., Path]) -> None:
    """One trial: every estimate has no interval (null bounds), and the document is still valid."""
    run = read_run(make_run(trials=1))
    document = verdicts_document(run, judge_run(run)[1])
    jsonschema.validate(document, _schema())
    estimates = [v["estimate"] for v in document["verdicts"] if v["estimate"]]
    assert estimates and all(e["low"] is None and e["high"] is None and e["trials"] == 1 for e in estimates)


def test_verdicts_md_is_the_headline_within_forty_lines(make_run: Callable[..., Path]) -> None:
    """One scale: every headline row, the counts and the report's path, in at most 40 lines."""
    run_dir = make_run()
    publish(run_dir)
    text = (run_dir / VERDICTS_MD_FILE).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= MAX_MD_LINES == 40
    document = json.loads((run_dir / VERDICTS_FILE).read_text(encoding="utf-8"))
    table = [line for line in lines if line.startswith("| ") and not line.startswith("| Claim")]
    assert len(table) == sum(v["headline"] for v in document["verdicts"])
    assert str(run_dir / REPORT_FILE) in lines[-1]
    assert "more rows" not in text


def test_with_many_scales_verdicts_md_keeps_the_failing_rows_and_counts_the_rest(make_run: Callable[..., Path]) -> None:
    """Three scales outgrow forty lines: the file stays within them, shows every row that does not hold first,
    and says how many rows it left to the report."""
    run = read_run(make_run(scales=("tiny", "small", "medium")))
    claims = judge_run(run)[1]
    lines = verdicts_markdown(run, claims, run.path / REPORT_FILE).splitlines()
    assert len(lines) <= MAX_MD_LINES
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| Claim")]
    shown_bad = sum("❌" in row for row in rows)
    total_bad = sum(TONES.get(c.label) == "bad" for c in claims if c.headline)
    assert shown_bad == min(total_bad, len(rows))
    hidden = sum(c.headline for c in claims) - len(rows)
    assert hidden > 0 and f"_{hidden} more rows in the report" in "\n".join(lines)


def test_a_pipe_in_a_cell_cannot_break_the_markdown_table() -> None:
    """| and backslashes are escaped, newlines folded: a cell is always one cell."""
    assert markdown_cell("a|b\\c\nd") == "a\\|b\\\\c d"


def test_one_verdict_is_written_field_by_field(make_run: Callable[..., Path]) -> None:
    """A cache verdict and a folded one, as JSON: the guide's range split, the estimate with unit and trials, tone."""
    from tests.reports.test_claims import _verdict

    run = read_run(make_run(trials=3))
    claims = claim_verdicts([_verdict()])
    document = verdicts_document(run, claims)
    assert (document["run"], document["trials"], document["confidence"], document["interval"]) == (
        run.path.name, 3, run.design.confidence, run.design.interval)
    assert document["captured_at"] == str(run.environment["captured_at"]) and document["report"] == REPORT_FILE
    assert document["scales"] == ["small"] and document["profiles"] == ["local"]
    cache, *_ = document["verdicts"]
    assert cache == {
        "claim": "cache.find_by_id.balance", "topic": "cache", "title": "findById: cache improvement",
        "headline": True, "coordinates": {"scale": "small", "query": "find_by_id", "param_kind": "balance"},
        "profile": "local", "guide": {"text": "90-95%", "low": 90.0, "high": 95.0},
        "estimate": {"value": 84.5, "low": 84.2, "high": 84.8, "unit": "%", "trials": 20}, "evidence": None,
        "precision": None, "label": "short", "tone": "bad", "why": claims[0].why}
    folded = next(v for v in document["verdicts"] if v["claim"] == "columns")
    assert (folded["guide"], folded["estimate"], folded["evidence"], folded["tone"]) == (
        {"text": "faster", "low": None, "high": None}, None, "1 of 1 faster", "good")


def test_a_file_that_cannot_be_written_is_one_line_and_leaves_nothing_behind(tmp_path: Path) -> None:
    """Writing into a folder that is not there: a BenchError naming the file and what failed; no temporary file;
    an existing file is left as it was when its replacement fails."""
    from balance_bench.errors import BenchError
    from balance_bench.reports.verdict_document import write_text

    with pytest.raises(BenchError, match=r"nope/verdicts\.md: cannot write the verdicts \(No such file or directory\)"):
        write_text(tmp_path / "nope" / "verdicts.md", "x", "the verdicts")
    target = tmp_path / "verdicts.md"
    target.mkdir()  # a folder where the file should go: the rename fails after the temporary file was written
    with pytest.raises(BenchError, match="cannot write it"):
        write_text(target, "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["verdicts.md"] and target.is_dir()
    assert write_text(tmp_path / "ok.md", "done\n") == tmp_path / "ok.md"
    assert (tmp_path / "ok.md").read_text(encoding="utf-8") == "done\n"


def test_the_markdown_names_the_servers_and_says_when_nothing_could_be_judged(make_run: Callable[..., Path]) -> None:
    """The third line names PostgreSQL's and Redis's versions ("?" when unrecorded); no claim gives a sentence and
    no table."""
    run = read_run(make_run())
    lines = verdicts_markdown(run, judge_run(run)[1], "r.html").splitlines()
    postgres, redis = run.environment["postgres"]["version"], run.environment["redis"]["version"]
    assert lines[1] == "" and lines[2].endswith(f"· PostgreSQL {postgres}, Redis {redis}")
    unrecorded = read_run(make_run(env={"postgres": None, "redis": "7"}))
    assert verdicts_markdown(unrecorded, [], "r.html").splitlines()[2].endswith("· PostgreSQL ?, Redis ?")
    empty = verdicts_markdown(run, [], "r.html").splitlines()
    assert empty[4] == "No claim could be judged (no matrix cases in this run)."
    assert not any(line.startswith("|") for line in empty) and empty[-1].startswith("Full report: `r.html`")


def test_rows_that_fit_exactly_are_all_shown(make_run: Callable[..., Path]) -> None:
    """The budget is 40 lines: a headline of exactly the rows that fit is shown whole, one more row is cut to the
    budget with the 'more rows' line; a single scale's rows carry no scale suffix."""
    from tests.reports.test_claims import _verdict

    run = read_run(make_run())
    fixed = 6 + 2 + 2  # title block, table header, footer
    fitting = MAX_MD_LINES - fixed
    scales = [f"s{i:02d}" for i in range(fitting)]
    claims = [c for s in scales for c in claim_verdicts([_verdict(scale=s)]) if c.topic is Topic.CACHE]
    whole = verdicts_markdown(run, claims, "r.html").splitlines()
    assert len(whole) == MAX_MD_LINES and "more rows" not in "\n".join(whole)
    assert "| findById: cache improvement (s00) |" in whole[8]
    more = claims + [c for c in claim_verdicts([_verdict(scale="s99")]) if c.topic is Topic.CACHE]
    cut = verdicts_markdown(run, more, "r.html").splitlines()
    assert len(cut) <= MAX_MD_LINES and "_3 more rows in the report" in "\n".join(cut)
    single = verdicts_markdown(run, claims[:1], "r.html").splitlines()
    assert "| findById: cache improvement |" in single[8]


def test_an_open_improvement_carries_its_bound_distance_and_trials_needed(make_run: Callable[..., Path]) -> None:
    """84.6 [84.2, 85.4] against 85-90 is open at 85, 0.4 pp away, after 20 trials; the document says so and
    validates against the schema; a decided verdict carries no precision."""
    from balance_bench.reports.verdict_document import SCHEMA
    from balance_bench.statistics import Estimate
    from tests.reports.test_claims import _change, _verdict

    run = read_run(make_run(trials=20))
    open_one = _change(_verdict("find_by_user_id_and_token_id", "pair"), "cache",
                       improvement=Estimate(84.6, 84.2, 85.4, 20), improvement_verdict="inconclusive")
    document = verdicts_document(run, claim_verdicts([open_one, _verdict()]))
    jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))
    by_claim = {v["claim"]: v for v in document["verdicts"] if v["profile"] == "local"}
    found = by_claim["cache.find_by_user_id_and_token_id.pair"]["precision"]
    assert (found["bound"], found["trials"]) == (85.0, 20) and found["distance"] == pytest.approx(0.4)
    assert found["trials_needed"] > 20
    assert by_claim["cache.find_by_id.balance"]["precision"] is None
