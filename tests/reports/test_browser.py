"""The report in headless Chromium: it renders without console errors and shows the verdicts and charts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.chromium import open_page, severe_console_entries

SCREENSHOT = Path(os.environ.get("BALANCE_BENCH_SCREENSHOT", "/tmp/report.png"))


@pytest.mark.slow
def test_report_renders_in_headless_chromium(report_path: Path) -> None:
    """Chromium loads report.html from disk with no SEVERE console entry, and finds the verdict table and SVG charts."""
    with open_page(report_path) as driver:
        from selenium.webdriver.common.by import By

        table = driver.find_element(By.ID, "T_headline")
        assert len(table.find_elements(By.CSS_SELECTOR, "tbody tr")) >= 8
        charts = driver.find_elements(By.CSS_SELECTOR, "figure svg, figure img")
        assert charts and charts[0].size["width"] > 200 and charts[0].size["height"] > 100
        driver.save_screenshot(str(SCREENSHOT))
        assert severe_console_entries(driver) == []


# Every element of the verdict sections whose content is wider than its box (it would scroll or overflow sideways),
# and the page's own width: measured by the browser, not judged from a screenshot.
_OVERFLOW = """
const out = [];
for (const id of ["verdicts", "topics"]) {
  for (const el of document.getElementById(id).querySelectorAll("*")) {
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "visible") out.push(el.tagName);
    if (el.getBoundingClientRect().right > window.innerWidth + 0.5) out.push(el.tagName + " past the right edge");
  }
}
return [out, document.documentElement.scrollWidth, window.innerWidth, window.innerHeight];
"""


@pytest.mark.slow
def test_the_headline_is_whole_on_the_first_1280_by_800_screen(report_path: Path) -> None:
    """At 1280x800 the headline table ends above the fold and nothing in the verdict sections scrolls sideways."""
    with open_page(report_path, height=800, width=1280) as driver:
        from selenium.webdriver.common.by import By

        overflowing, page_width, width, height = driver.execute_script(_OVERFLOW)
        assert (width, height) == (1280, 800)
        assert overflowing == [] and page_width <= width
        box = driver.find_element(By.ID, "T_headline").rect
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, box
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
        driver.save_screenshot(str(SCREENSHOT.with_name("report-1280x800.png")))


@pytest.mark.slow
def test_the_fit_check_fails_on_a_headline_too_tall_or_a_table_too_wide(report_path: Path, tmp_path: Path) -> None:
    """The same measurements on a report padded past 800 px and given a 2000 px wide table: both are caught."""
    html = report_path.read_text(encoding="utf-8").replace("<h1>", '<div style="height:700px"></div><h1>', 1)
    html = html.replace('<h2>Verdicts by topic</h2>', '<h2>Verdicts by topic</h2><div class="wide">'
                        '<table style="width:2000px"><tr><td>x</td></tr></table></div>', 1)
    padded = tmp_path / "padded.html"
    padded.write_text(html, encoding="utf-8")
    with open_page(padded, height=800, width=1280) as driver:
        from selenium.webdriver.common.by import By

        box = driver.find_element(By.ID, "T_headline").rect
        assert box["y"] + box["height"] > 800
        overflowing, _, _, _ = driver.execute_script(_OVERFLOW)
        assert "DIV" in overflowing and "TABLE past the right edge" in overflowing
