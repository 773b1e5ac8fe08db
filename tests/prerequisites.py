"""Tools a test needs but the suite cannot install itself: skipped with a reason, or a failure when strict.

Strictness is the project's own switch, ``BALANCE_BENCH_STRICT``: ``.ci/run`` sets it to 1, installs
Chromium and its driver, and runs with the guide beside the repository, so there a missing prerequisite
means the check did not happen, and a green run would hide that. Without it (a developer's machine, or
a user's own CI, which sets the generic ``CI`` but has no ``../shared/guide``) the test is skipped, and
``-rs`` (in the pytest options) prints why. The generic ``CI`` variable plays no part in this.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["STRICT_ENV", "strict", "missing"]

STRICT_ENV = "BALANCE_BENCH_STRICT"


def strict() -> bool:
    """True when ``BALANCE_BENCH_STRICT`` is set to anything but empty, ``0``, ``false`` or ``no``."""
    return os.environ.get(STRICT_ENV, "").strip().lower() not in ("", "0", "false", "no")


def missing(reason: str) -> NoReturn:
    """Stop the test (or module) because ``reason`` (what is absent, how to get it): a failure when strict, else
    a skip."""
    if strict():
        pytest.fail(f"{reason} (required because {STRICT_ENV} is set, as .ci/run sets it: the check must run "
                    "there, not be skipped)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)
