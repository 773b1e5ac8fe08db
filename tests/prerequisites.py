"""Tools a test needs but the suite cannot install itself: skipped with a reason locally, a failure in CI.

``.ci/run`` installs Chromium and its driver and runs with the guide beside the repository, so under
CI (the ``CI`` environment variable, which ``.ci/run`` sets) a missing prerequisite means the check did
not happen, and a green run would hide that. Locally the test is skipped, and ``-rs`` (in the pytest
options) prints why.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["in_ci", "missing"]


def in_ci() -> bool:
    """True under CI: ``CI`` set to anything but empty, ``0`` or ``false``."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def missing(reason: str) -> NoReturn:
    """Stop the test (or module) because ``reason`` (what is absent, how to get it): a failure under CI, else a skip."""
    if in_ci():
        pytest.fail(f"{reason} (required under CI, which runs this check instead of skipping it)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)
