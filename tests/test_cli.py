"""The CLI as a user meets it: no third-party warning on the terminal, and no server left running afterwards."""

from __future__ import annotations

import pytest

from tests.conftest import Private

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("argv", [["seed", "--scale", "tiny"], ["doctor", "--scale", "tiny"], ["run", "--quick"],
                                  ["check", "--scale", "tiny"]], ids=["seed", "doctor", "run", "check"])
def test_commands_print_no_warning_and_leave_no_server(private: Private, argv: list[str]) -> None:
    """Each command exits 0 with no "Warning" on stderr (XDG_RUNTIME_DIR unset) and stops the servers it started."""
    if argv[0] == "run":
        argv = [*argv, "--out", str(private.tmp / "runs")]
    if argv[0] == "check":  # writing a baseline accepts what it finds: exit 0 whatever the dataset holds
        argv = [*argv, "--write-baseline", str(private.tmp / "check-baseline.json")]
    proc = private.cli(*argv)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Warning" not in proc.stderr, proc.stderr
    assert private.servers() == [], f"{argv[0]} left a server running"
