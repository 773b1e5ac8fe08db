"""The report in headless Chromium: it renders without console errors and shows the verdicts and charts."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.prerequisites import missing

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOT = Path(os.environ.get("BALANCE_BENCH_SCREENSHOT", "/tmp/report.png"))


@pytest.mark.slow
def test_report_renders_in_headless_chromium(report_path: Path) -> None:
    """Chromium loads report.html from disk with no SEVERE console entry, and finds the verdict table and SVG charts."""
    if not CHROMIUM.exists() or not Path(DRIVER).exists():
        missing("the headless check needs Debian's chromium and chromium-driver "
                "(apt-get install chromium chromium-driver; .ci/run installs them)")
    try:
        from selenium import webdriver
    except ImportError:
        missing("the headless check needs selenium (pip install -e '.[dev]')")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    report = report_path
    profile = tempfile.mkdtemp(prefix="bb-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    try:
        driver.set_window_size(1400, 4000)
        driver.get(report.resolve().as_uri())
        table = driver.find_element(By.ID, "T_verdicts")
        assert len(table.find_elements(By.CSS_SELECTOR, "tbody tr")) >= 4
        charts = driver.find_elements(By.CSS_SELECTOR, "figure svg, figure img")
        assert charts and charts[0].size["width"] > 200 and charts[0].size["height"] > 100
        driver.save_screenshot(str(SCREENSHOT))
        severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
        assert severe == []
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
