"""report.html: verdicts first, self-contained, escaped, secret-free; bad input is one line and exit 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from html import unescape
from pathlib import Path

import pytest

from balance_bench.errors import BenchError
from balance_bench.network import parse_profiles
from balance_bench.reports.render import write_report
from balance_bench.results import REPORT_FILE


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "balance_bench.cli", "report", *map(str, args)],
                          capture_output=True, text=True, timeout=120, check=False)


def test_report_has_verdicts_first_then_charts_per_query(report_path: Path) -> None:
    """The headline table opens the report, before the navigation; every read query gets a section with a chart."""
    html = report_path.read_text(encoding="utf-8")
    headline, nav, first_svg = html.find('id="T_headline"'), html.find("<nav>"), html.find("<svg")
    assert 0 < headline < nav < first_svg
    queries = set(re.findall(r'<section id="q-[^"]+" class="query">', html))
    assert len(queries) >= 4
    assert html.count("<svg") >= 2 * len(queries)


def test_a_one_scale_report_has_no_section_on_size(report_path: Path) -> None:
    """With one dataset size there is nothing to say about size: no section, no link to it, no chart drawn for it."""
    html = report_path.read_text(encoding="utf-8")
    assert 'id="by-size"' not in html and 'href="#by-size"' not in html and 'aria-label="size-' not in html


def test_report_is_self_contained(report_path: Path) -> None:
    """No src or href points outside the file, and nothing is loaded from a CDN."""
    html = report_path.read_text(encoding="utf-8")
    assert not re.search(r'(?:src|href)\s*=\s*["\']?(?:https?:)?//', html)
    assert "<script" not in html and "<link" not in html


def test_report_is_written_atomically(make_run: Callable[..., Path]) -> None:
    """The report replaces report.html in one step and leaves no temporary file behind."""
    run = make_run()
    path = write_report(run)
    assert path == run / REPORT_FILE and path.stat().st_size > 10_000
    assert sorted(p.name for p in run.iterdir() if "tmp" in p.name) == []


def test_every_string_is_escaped(make_run: Callable[..., Path]) -> None:
    """Markup in case names, parameters, parameter kinds, SQL and the environment arrives as text."""
    html = write_report(make_run(evil=True)).read_text(encoding="utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;alert(" in html or "&lt;script&gt;alert(&#39;" in html


def test_no_password_reaches_the_report(make_run: Callable[..., Path]) -> None:
    """A URL password in the environment is redacted everywhere it would appear."""
    secret_env = {"settings": {"dsn": "postgresql://u:secretpw@h/db", "redis_url": "redis://:hunter2@h:6379/0"}}
    html = write_report(make_run(env=secret_env)).read_text(encoding="utf-8")
    assert "secretpw" not in html and "hunter2" not in html
    assert "postgresql://u:***@h/db" in html


def test_index_sizes_are_shown_when_recorded(make_run: Callable[..., Path]) -> None:
    """environment["index_sizes"][scale] becomes a table; without it the report says they were not recorded."""
    html = write_report(make_run(env={"index_sizes": {"tiny": {"idx_balances_user_usd": 630784}}})).read_text()
    assert "idx_balances_user_usd" in html and "616.0 KiB" in html
    assert "did not record index sizes" in write_report(make_run(env={"index_sizes": None})).read_text(encoding="utf-8")


def _break(run: Path, what: str) -> Path:
    """Damage one file of a good run directory; returns the file that is now bad."""
    if what == "truncated summary":
        target = run / "summary.json"
        target.write_text(target.read_text()[:500])
    elif what == "unknown schema_version":
        target = run / "summary.json"
        doc = json.loads(target.read_text())
        doc["schema_version"] = 99
        target.write_text(json.dumps(doc))
    elif what == "foreign json":
        target = run / "summary.json"
        target.write_text(json.dumps({"benchmarks": [], "machine_info": {}}))
    elif what == "truncated benchmarks":
        target = run / "benchmarks.json"
        target.write_text(target.read_text()[:300])
    else:
        raise AssertionError(what)
    return target


BAD = ["truncated summary", "unknown schema_version", "foreign json", "truncated benchmarks"]


@pytest.mark.parametrize("what", BAD)
def test_bad_input_is_one_line_naming_the_file(make_run: Callable[..., Path], what: str) -> None:
    """Each kind of damage is a BenchError of one line that names the damaged file."""
    run = make_run()
    target = _break(run, what)
    with pytest.raises(BenchError) as info:
        write_report(run)
    message = str(info.value)
    assert "\n" not in message and str(target) in message


def test_missing_run_directory_is_one_line(tmp_path: Path) -> None:
    """A directory that does not exist, or exists without a summary, is named in one line."""
    with pytest.raises(BenchError, match="no such run directory"):
        write_report(tmp_path / "nope")
    with pytest.raises(BenchError, match=r"summary\.json"):
        write_report(tmp_path)


@pytest.mark.parametrize("what", ["missing directory", "truncated summary", "unknown schema_version"])
def test_cli_bad_input_exits_2_with_one_line(make_run: Callable[..., Path], tmp_path: Path, what: str) -> None:
    """`balance-bench report` prints one error line naming the file, exits 2, and shows no traceback."""
    if what == "missing directory":
        run, target = tmp_path / "missing", tmp_path / "missing"
    else:
        run = make_run()
        target = _break(run, what)
    result = _cli(run)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("balance-bench: error:") and str(target) in lines[0]
    assert "Traceback" not in result.stderr


def test_cli_identical_baseline_passes_the_regression_gate(make_run: Callable[..., Path]) -> None:
    """With the same timings as the baseline, --fail-on-regression 10 exits 0 and prints the report path."""
    run, baseline = make_run(seed=3), make_run(seed=3)
    result = _cli(run, "--baseline", baseline, "--fail-on-regression", "10")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(run / REPORT_FILE)
    assert "Comparison with baseline" in (run / REPORT_FILE).read_text(encoding="utf-8")


def test_cli_twice_as_slow_fails_the_regression_gate(make_run: Callable[..., Path]) -> None:
    """A 2x slowdown of the writes over many samples exits 1 and names each regressed case on one line."""
    slow = lambda case: 2.0 if case.kind == "write" else 1.0  # noqa: E731
    run, baseline = make_run(slowdown=slow, seed=4), make_run(seed=5)
    result = _cli(run, "--baseline", baseline, "--fail-on-regression", "10")
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("regression")]
    assert len(lines) == 8 and all(any(w in line for w in ("create", "credit", "debit", "delete")) for line in lines)
    html = (run / REPORT_FILE).read_text(encoding="utf-8")
    assert "8 regression(s)" in html


def test_cli_fail_on_regression_needs_a_baseline(make_run: Callable[..., Path]) -> None:
    """--fail-on-regression without --baseline is a usage error, not a silent pass."""
    result = _cli(make_run(), "--fail-on-regression", "10")
    assert result.returncode == 2 and "--baseline" in result.stderr


def test_cli_gate_refuses_runs_without_trials(make_run: Callable[..., Path]) -> None:
    """A single-trial run (a plain pytest run, or a version 1 summary) cannot be gated: one line, exit 2."""
    result = _cli(make_run(trials=1), "--baseline", make_run(), "--fail-on-regression", "10")
    assert result.returncode == 2 and "needs at least 2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_intervals_and_inconclusive_verdicts_are_shown(make_run: Callable[..., Path]) -> None:
    """The verdict table prints each figure with its interval; a one-trial run says why it cannot decide."""
    html = write_report(make_run()).read_text(encoding="utf-8")
    assert re.search(r"\d+\.\d% \[\d+\.\d, \d+\.\d\]", html), "an improvement with its interval"
    assert "95% intervals across them" in html and "This run has a single trial" not in html
    single = write_report(make_run(trials=1)).read_text(encoding="utf-8")
    assert "This run has a single trial" in single and ">inconclusive<" in single


def test_the_report_says_how_each_trial_was_ordered(make_run: Callable[..., Path]) -> None:
    """A run recorded comparison by comparison says so; one recorded before that (no order) does not claim it."""
    blocked = " ".join(write_report(make_run(order="comparison blocks")).read_text(encoding="utf-8").split())
    assert "comparison by comparison (all states of one question back to back" in blocked
    for older in (make_run(), make_run(order="")):
        assert "comparison by" not in write_report(older).read_text(encoding="utf-8")


def test_a_version_1_run_still_renders(make_run: Callable[..., Path]) -> None:
    """A summary written before trials existed loads as one trial and renders, saying what it lacks."""
    run = make_run()
    doc = json.loads((run / "summary.json").read_text())
    for case in doc["cases"]:
        plan = case.pop("plan")
        case.update(plan_file=plan["file"] if plan else None, indexes_used=plan["indexes_used"] if plan else [],
                    node_types=plan["node_types"] if plan else [], execution_ms=None, planning_ms=None,
                    name=f"test[{case['name']}]")
        for key in ("trials", "trial_medians_ms", "median_ci_ms", "overhead"):
            case.pop(key)
    (run / "summary.json").write_text(json.dumps({"schema_version": 1, "environment": doc["environment"],
                                                  "cases": doc["cases"]}))
    html = write_report(run).read_text(encoding="utf-8")
    assert "a version 1 summary" in html and "kept no node table" in html


def _cells(html: str, table_id: str) -> tuple[list[str], list[list[str]]]:
    """Headers and body rows of one pandas table (by its uuid), as text."""
    start = html.index(f'id="T_{table_id}')
    table = html[html.rindex("<table", 0, start):html.index("</table>", start)]
    text = lambda cell: unescape(re.sub(r"<[^>]+>", "", cell)).strip()  # noqa: E731
    headers = [text(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", table.split("</thead>")[0], re.S)]
    rows = [[text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1], re.S)]
    return headers, rows


def test_each_network_profile_is_a_verdict_column_and_a_projected_latency(make_run: Callable[..., Path]) -> None:
    """--network same-zone,rtt=2ms: a column per profile in the cache topic table, a projected latency in each
    query's table and all cases, with the traffic beside the latencies and the formula stated; without profiles
    there are none of them."""
    run = make_run()
    html = write_report(run, profiles=parse_profiles("same-zone,rtt=2ms")).read_text(encoding="utf-8")
    headers, rows = _cells(html, "topic-cache")
    assert headers == ["query", "params", "measured here %", "same-zone %", "rtt=2ms %"]
    by_id = {r[0]: r for r in rows}
    assert re.fullmatch(r"\d+\.\d% \[\d+\.\d, \d+\.\d\]", by_id["findById"][-1])
    headers, rows = _cells(html, "cases")
    for column in ("PG round trips", "Redis round trips", "Redis bytes out/in", "p50 ms at same-zone (projected)",
                   "p50 ms at rtt=2ms (projected)"):
        assert column in headers
    cold = next(r for r in rows if r[headers.index("query")] == "find_by_id" and r[headers.index("cache")] == "cold"
                and r[headers.index("migration")] == "with_012")
    p50, projected = (float(cold[headers.index(h)]) for h in ("p50 ms", "p50 ms at rtt=2ms (projected)"))
    assert cold[headers.index("PG round trips")] == "1" and cold[headers.index("Redis round trips")] == "3"
    assert projected == pytest.approx(p50 + 4 * 2.0, abs=0.01)  # 1 + 3 round trips of 2 ms, no bandwidth
    assert "round trips x RTT + bytes / bandwidth" in html and "projection" in html
    plain = write_report(run).read_text(encoding="utf-8")
    assert "(projected)" not in plain and "No network profile was asked for" in plain
    assert "PG round trips" in plain  # the traffic is shown whatever the profiles


def test_a_run_without_traffic_says_it_cannot_project(make_run: Callable[..., Path]) -> None:
    """A run made before traffic was counted renders, with a banner and "not projected" cells instead of numbers."""
    html = write_report(make_run(counted=False), profiles=parse_profiles("same-zone")).read_text(encoding="utf-8")
    assert "This run recorded no traffic" in html
    headers, _ = _cells(html, "topic-cache")
    assert headers == ["query", "params", "measured here %"]


@pytest.mark.parametrize(("services", "stated"), [
    ({"postgres": "postgresql+psycopg://postgres@10.1.2.3:5432/postgres", "redis": "embedded"}, True),
    ({"postgres": "embedded", "redis": "redis://cache.internal:6379/0"}, True),
    ({"postgres": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", "redis": "redis://127.0.0.1:6379/0"},
     False),
    ({"postgres": "embedded", "redis": "embedded"}, False),
])
def test_remote_servers_get_the_round_trip_their_floor_cases_measured(make_run: Callable[..., Path],
                                                                      services: dict[str, str], stated: bool) -> None:
    """A run against a server that is not on this machine states the floor's SELECT 1 and GET; a local one does not."""
    html = write_report(make_run(env={"services": services})).read_text(encoding="utf-8")
    assert ("not on this machine" in html) is stated
    floors = re.search(r"PostgreSQL SELECT 1 (0\.0\d+) ms \(scale tiny\), Redis GET (0\.0\d+) ms", html)
    assert (floors is not None) is stated


def test_the_headline_caption_is_at_most_sixty_words_and_links_the_glossary(report_path: Path) -> None:
    """The caption above the headline stays short and points at the glossary, which the report itself carries."""
    html = report_path.read_text(encoding="utf-8")
    section = html[html.index('<section id="verdicts">'):html.index('id="T_headline"')]
    caption = re.search(r'<p class="caption">(.*?)</p>', section, re.S)
    assert caption is not None
    words = unescape(re.sub(r"<[^>]+>", " ", caption.group(1))).split()
    assert 20 <= len([w for w in words if w != "·"]) <= 60
    assert 'href="#glossary"' in caption.group(1) and '<section id="glossary">' in html


def test_the_comparison_shows_counter_findings_beside_time(make_run: Callable[..., Path]) -> None:
    """A baseline whose find_by_user_id_and_token_id plans with 012 used their index: the comparison section has a
    counter table (at most seven columns) naming the plan change, and says it would fail the gate; an unchanged
    run's section has no such table."""
    plans = {"find_by_user_id_and_token_id": ("find_by_user_id_and_token_id_baseline.json",
                                              "find_by_user_id_and_token_id_baseline.json")}
    run, baseline = make_run(seed=1, plans=plans), make_run(seed=2)
    html = write_report(run, baseline=baseline).read_text(encoding="utf-8")
    section = html[html.index('<section id="comparison">'):]
    section = section[:section.index("</section>")]
    assert "Counters: time and evidence side by side" in section and "fails the gate with" in section
    table = section[section.index('id="T_counter-findings"'):]
    table = table[:table.index("</table>")]
    headers = re.findall(r"<th [^>]*>(.*?)</th>", table[:table.index("</thead>")])
    assert headers == ["case", "plan", "blocks", "round trips, commands", "rows, bytes", "time", "counters"]
    assert unescape(table).count("Index Scan using idx_balances_user_token on balances → Seq Scan on balances") == 5
    assert "5 regressed" in unescape(section)
    same = make_run(seed=3)
    unchanged = write_report(same, baseline=baseline).read_text(encoding="utf-8")
    assert "T_counter-findings" not in unchanged and "0 regressed" in unchanged


def test_cli_the_banner_names_each_regressions_kind(make_run: Callable[..., Path]) -> None:
    """Gated at 1000%, the replanned cases are in the banner as counter regressions, none as time."""
    plans = {"find_by_user_id_and_token_id": ("find_by_user_id_and_token_id_baseline.json",
                                              "find_by_user_id_and_token_id_baseline.json")}
    run, baseline = make_run(seed=1, plans=plans), make_run(seed=2)
    result = _cli(run, "--baseline", baseline, "--fail-on-regression", "1000")
    assert result.returncode == 1, result.stderr
    banner = unescape((run / REPORT_FILE).read_text(encoding="utf-8"))
    banner = banner[banner.index('<div class="banner regression">'):]
    banner = banner[:banner.index("</div>")]
    items = re.findall(r"<li>(.*?)</li>", banner)
    assert len(items) == 5 and all(item.startswith("counters: tiny find_by_user_id_and_token_id [") for item in items)
