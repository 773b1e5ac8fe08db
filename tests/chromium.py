"""Headless Chromium for the tests that open a report: Debian's chromium and chromium-driver, via selenium.

Missing pieces are a skip with the reason, and a failure when ``BALANCE_BENCH_STRICT`` is set, as .ci/run
sets it (``prerequisites.missing``).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.prerequisites import missing

__all__ = ["CHROMIUM", "DRIVER", "require_chromium", "open_page", "severe_console_entries"]

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def require_chromium() -> None:
    """Stop the test here unless Chromium, its driver and selenium are all there (call it before costly setup)."""
    if not CHROMIUM.exists() or not Path(DRIVER).exists():
        missing("the headless check needs Debian's chromium and chromium-driver "
                "(apt-get install chromium chromium-driver; .ci/run installs them)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing("the headless check needs selenium (pip install -e '.[dev]')")


@contextmanager
def open_page(page: Path, height: int = 4000, width: int = 1400) -> Iterator[Any]:
    """A headless Chromium (own throwaway profile, no network chatter) with ``page`` loaded from disk.

    The viewport is ``width`` x ``height`` CSS pixels (set through the DevTools protocol, so no window frame
    is taken off it).
    """
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="bb-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    try:
        driver.set_window_size(width, height)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        driver.get(page.resolve().as_uri())
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def severe_console_entries(driver: Any) -> list[dict[str, Any]]:
    """The browser console's SEVERE entries so far (errors in scripts, resources that failed to load)."""
    return [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
