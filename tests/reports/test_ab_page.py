"""The A/B page: the answer first, small tables, every string escaped and no password."""

from __future__ import annotations

import re
from pathlib import Path

from balance_bench.reports.ab import ABResult
from balance_bench.reports.ab_page import AB_PAGE_FILE, render_ab, write_ab_page

from .test_ab import COORDS, _case, _plan_change


def _result(failed: bool, model: str = "checkout") -> ABResult:
    sides = ({"side": "a", "role": "baseline", "model": model, "settings": {},
              "postgres": "postgresql+psycopg://bench:hunter2@db.internal:5432/postgres"},
             {"side": "b", "role": "candidate", "model": "checkout", "settings": {"work_mem": "1MB"},
              "postgres": "embedded"})
    cases = (_case(1.2),) if failed else (_case(1.0, wobble=0.03),)
    counters = (_plan_change(COORDS),) if failed else ()
    return ABResult(directory="/tmp/ab", threshold_pct=5.0, blocks_pct=10.0, sides=sides, trials=10, cases=cases,
                    counters=counters)


def test_the_page_opens_with_the_answer_and_its_figures() -> None:
    bad, good = render_ab(_result(True)), render_ab(_result(False))
    header = bad[bad.index("<header>"):bad.index("</header>")]
    assert '<span class="badge bad">regression</span>' in header and "1 in time and 1 in counters" in header
    assert '<span class="badge good">no regression</span>' in good
    assert "Seq Scan on balances" in bad and "work_mem=1MB" in bad and "server defaults" in bad


def test_every_table_has_at_most_five_columns() -> None:
    html = render_ab(_result(True))
    for table in re.findall(r"<table.*?</table>", html, flags=re.S):
        header = re.search(r"<thead>.*?</thead>", table, flags=re.S)
        assert header is not None and len(re.findall(r"<th[ >]", header.group(0))) <= 5


def test_hostile_strings_are_escaped_and_passwords_redacted(tmp_path: Path) -> None:
    html = render_ab(_result(True, model="<script>alert(1)</script>"))
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "hunter2" not in html
    assert write_ab_page(tmp_path, _result(False)) == tmp_path / AB_PAGE_FILE
    assert [p.name for p in tmp_path.iterdir()] == [AB_PAGE_FILE]  # no temporary file left behind
