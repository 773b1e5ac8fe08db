"""The headline in a terminal: one row per headline claim within 100 columns, plain text off a terminal, coloured
labels on one, and a single line when no claim could be judged.

The oracle is the claim verdicts themselves (``ClaimVerdict.headline``, ``title``, ``guide``, ``label``), read
back out of the printed table by its columns; nothing from ``claim_tables`` or ``console`` computes it.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
from rich.console import Console

from balance_bench.reports.claims import ClaimVerdict, judge_run
from balance_bench.reports.console import WIDTH, headline_console, print_headline
from balance_bench.reports.runs import read_run
from tests.reports.conftest import build_run

TITLE = "Does the guide hold here?"
NO_CLAIM = "No claim of the guide could be judged from this run."
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SGR = {"good": "32", "bad": "1;31", "neutral": "2"}
"""The SGR parameters rich writes for green, bold red and dim."""


class Terminal(io.StringIO):
    """A file that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module", params=[("tiny",), ("tiny", "small")], ids=["one-scale", "two-scales"])
def claims(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[ClaimVerdict]:
    """The claim verdicts of a synthetic run of one scale, and of two (whose titles name the scale)."""
    run_dir = build_run(tmp_path_factory.mktemp("console") / "run", scales=request.param)
    return judge_run(read_run(run_dir))[1]


def _expected(claims: Sequence[ClaimVerdict]) -> list[tuple[str, str, str]]:
    """(claim, guide, label) of each headline row, from the verdicts: the scale named only when there are several."""
    rows = [c for c in claims if c.headline]
    several = len({c.scale for c in rows}) > 1
    return [(c.title + (f" ({c.scale})" if several else ""), c.guide, c.label) for c in rows]


def _printed_rows(text: str) -> list[tuple[str, str, str]]:
    """(claim, guide, verdict) per table row, read by the header's column positions; a row's wrapped lines joined."""
    lines = ANSI.sub("", text).splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Claim "))
    guide, measured, verdict = (lines[header].index(name) for name in ("Guide", "Measured here", "Verdict"))
    assert set(lines[header + 1].strip()) == {"─"}
    rows: list[tuple[list[str], list[str], str]] = []
    for line in lines[header + 2:-1]:
        claim_part, guide_part, label = line[:guide].strip(), line[guide:measured].strip(), line[verdict:].strip()
        if label:
            rows.append(([claim_part], [guide_part], label))
        else:
            rows[-1][0].append(claim_part)
            rows[-1][1].append(guide_part)
    return [(" ".join(p for p in claim if p), " ".join(p for p in guide_ if p), label) for claim, guide_, label in rows]


def _counts_line(claims: Sequence[ClaimVerdict]) -> str:
    counts = Counter(c.label for c in claims if c.headline)  # first-seen order
    return "  ".join(f"{n} {label}" for label, n in counts.items())


def test_off_a_terminal_the_headline_is_plain_text_within_100_columns(claims: list[ClaimVerdict]) -> None:
    """Into a StringIO: no escape code, no line over 100 columns, the title, one row per headline claim with its
    guide and label, then the label counts."""
    out = io.StringIO()
    print_headline(headline_console(out), claims)
    text = out.getvalue()
    assert "\x1b" not in text
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= WIDTH == 100
    assert lines[0].strip() == TITLE
    assert _printed_rows(text) == _expected(claims)
    assert lines[-1].strip() == _counts_line(claims)


def test_on_a_forced_terminal_every_label_is_coloured_by_its_tone(claims: list[ClaimVerdict]) -> None:
    """A console forced to be a terminal colours each verdict (green, bold red or dim) and the counts alike."""
    out = io.StringIO()
    print_headline(Console(file=out, width=WIDTH, force_terminal=True, color_system="standard"), claims)
    text = out.getvalue()
    assert _printed_rows(text) == _expected(claims)
    coloured = re.findall(r"\x1b\[([0-9;]+)m([a-z ]+?) *\x1b\[0m", text)
    tones = {"met": "good", "better": "good", "faster": "good", "holds": "good", "short": "bad",
             "slower": "bad", "does not hold": "bad"}
    for label in {c.label for c in claims if c.headline}:
        assert (SGR[tones.get(label, "neutral")], label) in coloured, label
    assert max(len(line) for line in ANSI.sub("", text).splitlines()) <= WIDTH


@pytest.mark.parametrize(("columns", "expected_width"), [(200, WIDTH), (80, 80)])
def test_a_terminal_gets_colour_and_at_most_its_own_width_up_to_100(
        claims: list[ClaimVerdict], monkeypatch: pytest.MonkeyPatch, columns: int, expected_width: int) -> None:
    """headline_console on a terminal: coloured, as wide as the terminal but never over 100 columns."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", str(columns))
    out = Terminal()
    console = headline_console(out)
    assert console.width == expected_width
    print_headline(console, claims)
    text = out.getvalue()
    assert ANSI.search(text)
    assert max(len(line) for line in ANSI.sub("", text).splitlines()) <= expected_width


def test_a_terminal_under_ci_gets_plain_text(claims: list[ClaimVerdict], monkeypatch: pytest.MonkeyPatch) -> None:
    """With CI set, even a terminal is a log: no colour, 100 columns."""
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "200")
    out = Terminal()
    print_headline(headline_console(out), claims)
    assert "\x1b" not in out.getvalue()
    assert max(len(line) for line in out.getvalue().splitlines()) <= WIDTH


@pytest.mark.parametrize("which", ["none", "no-headline-claim"])
def test_without_a_headline_claim_one_line_says_so(claims: list[ClaimVerdict], which: str) -> None:
    """No claim, or only claims outside the headline: the single "No claim…" line and no table."""
    given = [] if which == "none" else [c for c in claims if not c.headline]
    assert which == "none" or given  # the run has claims outside the headline
    out = io.StringIO()
    print_headline(headline_console(out), given)
    assert out.getvalue() == NO_CLAIM + "\n"


def test_with_one_headline_claim_there_is_a_table_not_the_no_claim_line(claims: list[ClaimVerdict]) -> None:
    """The other side: a single headline claim is a table of one row and a count of one."""
    first = next(c for c in claims if c.headline)
    out = io.StringIO()
    print_headline(headline_console(out), [first])
    assert NO_CLAIM not in out.getvalue()
    assert _printed_rows(out.getvalue()) == _expected([first])
    assert out.getvalue().splitlines()[-1].strip() == f"1 {first.label}"


def test_the_synthetic_runs_are_what_these_tests_need(tmp_path: Path) -> None:
    """The fixture's run has several headline claims with more than one label (so colours and counts can differ)."""
    claims = judge_run(read_run(build_run(tmp_path / "run")))[1]
    assert len({c.label for c in claims if c.headline}) >= 2 and any(not c.headline for c in claims)
