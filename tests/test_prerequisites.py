"""A missing prerequisite skips, unless BALANCE_BENCH_STRICT is set; the generic CI variable changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.prerequisites import STRICT_ENV, missing, strict

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("ci", "switch", "expected"), [
    ("true", None, False), (None, None, False), ("true", "", False), ("true", "0", False), ("1", "false", False),
    (None, "no", False), ("true", "1", True), (None, "1", True), ("false", "1", True), (None, "true", True),
])
def test_strict_is_the_projects_own_switch(monkeypatch: pytest.MonkeyPatch, ci: str | None, switch: str | None,
                                           expected: bool) -> None:
    for name, value in (("CI", ci), (STRICT_ENV, switch)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert strict() is expected
    with pytest.raises(pytest.fail.Exception if expected else pytest.skip.Exception, match="the widget"):
        missing("the widget is not installed")


PROBE = """
from tests.guide import guide_text

def test_reads_the_guide():
    guide_text()
"""


@pytest.mark.parametrize(("switch", "outcome", "code"), [(None, "1 skipped", 0), ("1", "1 failed", 1)])
def test_a_users_ci_without_the_guide_skips_and_ours_fails(tmp_path: Path, switch: str | None, outcome: str,
                                                           code: int) -> None:
    """The README's test command in a user's GitHub Actions (CI=true, no ../shared/guide) skips the guide's tests;
    with BALANCE_BENCH_STRICT=1, as .ci/run runs, the same test fails."""
    (tmp_path / "test_probe.py").write_text(PROBE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in (STRICT_ENV, "PYTEST_ADDOPTS")}
    env.update({"CI": "true", "PYTHONPATH": str(REPO), "BALANCE_BENCH_GUIDE": str(tmp_path / "no-such-guide.md")})
    if switch is not None:
        env[STRICT_ENV] = switch
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "test_probe.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == code and outcome in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "no-such-guide.md" in proc.stdout
