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

        table = driver.find_element(By.ID, "T_verdicts")
        assert len(table.find_elements(By.CSS_SELECTOR, "tbody tr")) >= 4
        charts = driver.find_elements(By.CSS_SELECTOR, "figure svg, figure img")
        assert charts and charts[0].size["width"] > 200 and charts[0].size["height"] > 100
        driver.save_screenshot(str(SCREENSHOT))
        assert severe_console_entries(driver) == []
