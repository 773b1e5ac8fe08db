"""The documentation checks itself: links and anchors resolve, every option it shows exists, the README stays short.

README.md and docs/*.md are read as GitHub renders them: fenced code blocks hold no links or headings, and a
``#anchor`` is a heading's GitHub slug. Options are checked where the docs attribute them to a program:

* in a ``balance-bench COMMAND ...`` invocation (fenced code or inline code), against that command's argparse
  parser from ``balance_bench.cli.build_parser()``;
* in a ``pytest ...`` invocation, against the options pytest registers for this project (its own, the plugins',
  ``balance_bench.fixtures.plugin``'s and ``bench/conftest.py``'s), read once from ``pytest bench --help``;
* in a ``scripts/NAME.py ...`` invocation, against the option strings that script spells (a superset of what its
  parser accepts: enough to catch a made-up or renamed option);
* in an option table, which must carry a marker naming whose options it lists: ``<!-- option-table: balance-bench
  COMMAND -->``, or ``<!-- option-table: per-row -->`` for a table whose ``commands`` and ``pytest`` columns say, per
  option, exactly which commands accept it and whether pytest does (and whose ``environment`` column, if it has
  one, gives each shared option's variable as ``balance_bench.config`` declares it);
* an inline code span that starts with an option (``--trials K``) names an option that exists somewhere: in a
  balance-bench command, in pytest or in a script.
"""

from __future__ import annotations

import argparse
import functools
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest

from balance_bench.cli import build_parser
from balance_bench.config import OPTIONS

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
README_MAX_LINES = 200


def documents() -> list[Path]:
    """The pages checked: the README and every Markdown page under docs/."""
    return [README, *sorted((REPO / "docs").glob("*.md"))]


# --- Markdown as GitHub reads it ----------------------------------------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class Line:
    number: int
    text: str
    code: bool  # inside a fenced code block


def lines(text: str) -> list[Line]:
    """Every line with its number and whether it sits inside a fenced code block (fence lines count as code)."""
    result, fence = [], ""
    for number, raw in enumerate(text.splitlines(), start=1):
        match = _FENCE.match(raw)
        if fence:
            closes = (match is not None and match[1][0] == fence[0] and len(match[1]) >= len(fence)
                      and not raw.strip()[len(match[1]):].strip())
            result.append(Line(number, raw, True))
            fence = "" if closes else fence
        elif match:
            fence = match[1]
            result.append(Line(number, raw, True))
        else:
            result.append(Line(number, raw, False))
    return result


def code_spans(line: str) -> list[str]:
    """The inline code spans of a prose line, their content trimmed as GitHub does."""
    return [m[2].strip() for m in _CODE_SPAN.finditer(line)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: rendered text, lower case, punctuation dropped, each space a hyphen."""
    text = re.sub(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading anchor of a page; a repeated slug gets -1, -2 ... as on GitHub."""
    seen: dict[str, int] = {}
    result = set()
    for line in lines(text):
        match = None if line.code else _HEADING.match(line.text)
        if match is None:
            continue
        base = slug(match[1])
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def links(text: str) -> Iterator[tuple[int, str]]:
    """(line number, target) of every inline link or image outside code."""
    for line in lines(text):
        if not line.code:
            prose = _CODE_SPAN.sub("", line.text)
            for match in _LINK.finditer(prose):
                yield line.number, match[1]


def link_problems(path: Path, text: str, root: Path = REPO) -> list[str]:
    """Each relative link of ``text`` (the page at ``path``) that does not resolve to a file under ``root``, or to a
    heading of the Markdown file it points into."""
    problems = []
    for number, target in links(text):
        if _SCHEME.match(target):
            continue  # http(s), mailto: not ours to check offline
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / unquote(file_part)).resolve() if file_part else path.resolve()
        where = f"{path.name}:{number}: {target}"
        if not resolved.is_relative_to(root.resolve()):
            problems.append(f"{where}: points outside the repository")
        elif not resolved.exists():
            problems.append(f"{where}: no such file {resolved.relative_to(root.resolve())}")
        elif anchor and resolved.suffix == ".md":
            if unquote(anchor) not in anchors(resolved.read_text(encoding="utf-8")):
                problems.append(f"{where}: no heading with the anchor #{anchor}")
        elif anchor and not re.fullmatch(r"L\d+(-L\d+)?", anchor):
            problems.append(f"{where}: #{anchor} into a file that has no headings")
    return problems


# --- options: what each program accepts ---------------------------------------------------------------------------

@functools.cache
def balance_bench_options() -> dict[str, frozenset[str]]:
    """Option strings per command, from the CLI's own parser; key "" holds the top-level ones."""
    parser = build_parser()
    result = {"": frozenset(o for a in parser._actions for o in a.option_strings)}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                result[name] = frozenset(o for a in sub._actions for o in a.option_strings)
    return result


@functools.cache
def pytest_options() -> frozenset[str]:
    """The options pytest accepts here, from ``pytest bench --help`` (bench/conftest.py adds --run-dir)."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "bench", "--help"], cwd=REPO, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return frozenset(parse_pytest_help(proc.stdout))


def parse_pytest_help(text: str) -> set[str]:
    """Option strings from pytest's help: the lines that start, indented by two, with an option column."""
    found = set()
    for raw in text.splitlines():
        column = re.match(r"^  (-\S.*?)(?:\s{2,}|$)", raw)
        if column is None:
            continue
        for part in column[1].split(","):
            option = re.match(r"-{1,2}[A-Za-z0-9][\w-]*", part.strip())
            if option:
                found.add(option[0])
    return found


@functools.cache
def script_options(name: str) -> frozenset[str] | None:
    """The option strings ``scripts/<name>.py`` spells (with the shared ones if it adds them); None if absent."""
    path = REPO / "scripts" / f"{name}.py"
    if not path.is_file():
        return None
    source = path.read_text(encoding="utf-8")
    found = set(re.findall(r"[\"'](--[A-Za-z][\w-]*)[\"']", source)) | {"--help", "-h"}
    if "add_options" in source:
        found |= {o.flag for o in OPTIONS}
    return frozenset(found)


def known_anywhere() -> frozenset[str]:
    """Every option some program of this project accepts: any balance-bench command, pytest, any script."""
    scripts = (script_options(p.stem) or frozenset() for p in (REPO / "scripts").glob("*.py"))
    return frozenset().union(*balance_bench_options().values(), pytest_options(), *scripts)


# --- options: what the docs say -----------------------------------------------------------------------------------

_PROGRAM = re.compile(r"(?:^|(?<=[\s(\"'=]))(?:[\w.~$-]*/)*(balance-bench|pytest|py\.test|scripts/[\w-]+\.py)(?=\s|$)")
_OPTION_TOKEN = re.compile(r"^\[?(--[A-Za-z][\w-]*|-[A-Za-z])(?:[=\]].*)?$")
_ANY_OPTION = re.compile(r"(?<![\w-])--[A-Za-z][\w-]*")
_TERMINATORS = set(")|;&<>`")


def _until_shell_break(text: str) -> str:
    """``text`` up to the first unquoted pipe, list operator, redirection, closing paren, backtick or comment."""
    quote = ""
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in _TERMINATORS or (char == "#" and (i == 0 or text[i - 1].isspace())):
            return text[:i]
    return text


def _tokens(fragment: str) -> list[str]:
    try:
        return shlex.split(fragment)
    except ValueError:  # an unbalanced quote in an example: fall back to white space
        return fragment.split()


def _without_comment(text: str) -> str:
    """``text`` up to an unquoted ``#`` that starts a comment (at the start or after white space)."""
    quote = ""
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or text[i - 1].isspace()):
            return text[:i]
    return text


def command_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of every piece of code: fenced lines without their comments (a trailing backslash joins
    the next line) and the inline code spans of prose lines."""
    pending, start = "", 0
    for line in lines(text):
        if line.code:
            if not pending:
                start = line.number
            code = _without_comment(line.text).rstrip()
            if code.endswith("\\"):
                pending += code[:-1] + " "
                continue
            yield start, pending + code
            pending = ""
        else:
            for span in code_spans(line.text):
                yield line.number, span
    if pending:
        yield start, pending


def invocations(code: str) -> Iterator[tuple[str, str | None, list[str]]]:
    """(program, balance-bench command or None, options) of each invocation in one piece of code."""
    for match in _PROGRAM.finditer(code):
        program = match[1]
        tokens = _tokens(_until_shell_break(code[match.end():]))
        command = None
        if program == "balance-bench":
            top = []
            while tokens and tokens[0].startswith("-"):
                top.append(tokens.pop(0))
            if top:
                yield program, "", [t for t in top if _OPTION_TOKEN.match(t)]
            if not tokens:
                continue
            command = tokens.pop(0)
        options = [m[1] for t in tokens if (m := _OPTION_TOKEN.match(t))]
        yield program, command, options


def invocation_problems(name: str, text: str) -> list[str]:
    """Each option an invocation in ``text`` shows that its program (or balance-bench command) does not accept."""
    problems = []
    commands = balance_bench_options()
    for number, code in command_lines(text):
        for program, command, options in invocations(code):
            where = f"{name}:{number}: {program}{' ' + command if command else ''}"
            if program == "balance-bench":
                if command is not None and command not in commands:
                    if command.isupper():  # a placeholder such as COMMAND: any command's options
                        accepted = frozenset().union(*commands.values())
                    else:
                        problems.append(f"{where}: no such command")
                        continue
                else:
                    accepted = commands[command or ""]
            elif program.startswith("scripts/"):
                found = script_options(Path(program).stem)
                if found is None:
                    problems.append(f"{where}: no such script")
                    continue
                accepted = found | {o for o in options if not o.startswith("--")}  # short ones: not checked
            else:
                accepted = pytest_options()
            problems += [f"{where}: unknown option {o}" for o in options if o not in accepted]
    return problems


def inline_option_problems(name: str, text: str) -> list[str]:
    """Each inline code span starting with an option (``--trials K``) whose option no program here accepts."""
    known = known_anywhere()
    problems = []
    for line in lines(text):
        if line.code:
            continue
        for span in code_spans(line.text):
            match = re.match(r"^\[?(--[A-Za-z][\w-]*)", span)
            if match and match[1] not in known:
                problems.append(f"{name}:{line.number}: `{span}`: no command, pytest or script has {match[1]}")
    return problems


_MARKER = re.compile(r"^\s*<!--\s*option-table:\s*(.*?)\s*-->\s*$")


def _cells(row: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def tables(text: str) -> Iterator[tuple[int, str | None, list[str], list[list[str]]]]:
    """(line number, marker or None, header, rows) of every Markdown table outside code."""
    all_lines = lines(text)
    i = 0
    while i < len(all_lines):
        line = all_lines[i]
        is_table = (not line.code and line.text.lstrip().startswith("|") and i + 1 < len(all_lines)
                    and re.match(r"^\s*\|[\s:|-]+\|\s*$", all_lines[i + 1].text) is not None)
        if not is_table:
            i += 1
            continue
        before = next((x.text for x in reversed(all_lines[:i]) if x.text.strip()), "")
        marker = _MARKER.match(before)
        header = [c.strip("`").lower() for c in _cells(line.text)]
        rows, j = [], i + 2
        while j < len(all_lines) and all_lines[j].text.lstrip().startswith("|"):
            rows.append(_cells(all_lines[j].text))
            j += 1
        yield line.number, marker[1] if marker else None, header, rows
        i = j


def table_problems(name: str, text: str) -> list[str]:
    """Each option table without a marker, and each row whose options disagree with the parsers it names."""
    problems = []
    commands = balance_bench_options()
    for number, marker, header, rows in tables(text):
        where = f"{name}:{number}"
        if marker is None:
            if header and header[0] == "option":
                problems.append(f"{where}: an option table needs an <!-- option-table: ... --> marker")
            continue
        if marker.startswith("balance-bench "):
            command = marker.removeprefix("balance-bench ").strip()
            if command not in commands:
                problems.append(f"{where}: marker names no command: {marker}")
                continue
            for row in rows:
                problems += [f"{where}: balance-bench {command} has no {o}"
                             for o in _ANY_OPTION.findall(row[0]) if o not in commands[command]]
        elif marker == "per-row":
            if "commands" not in header or "pytest" not in header:
                problems.append(f"{where}: a per-row option table needs 'commands' and 'pytest' columns")
                continue
            for row in rows:
                problems += _row_problems(where, row[0], row[header.index("commands")], row[header.index("pytest")])
                if "environment" in header:
                    problems += _environment_problems(where, row[0], row[header.index("environment")])
        else:
            problems.append(f"{where}: unknown option-table marker {marker!r}")
    return problems


def _row_problems(where: str, option_cell: str, commands_cell: str, pytest_cell: str) -> list[str]:
    found = _ANY_OPTION.findall(option_cell)
    if not found:
        return [f"{where}: row {option_cell!r} names no option"]
    option = found[0]
    commands = balance_bench_options()
    named = {c.strip().strip("`") for c in commands_cell.split(",")} - {"", "-", "\N{EN DASH}", "\N{EM DASH}"}
    problems = [f"{where}: {option}: no such command {c!r}" for c in sorted(named - commands.keys())]
    actual = {c for c, accepted in commands.items() if c and option in accepted}
    if not problems and named != actual:
        problems.append(f"{where}: {option}: the table says commands {sorted(named)}, the parsers say {sorted(actual)}")
    says = pytest_cell.strip().lower()
    if says.startswith("yes") != (option in pytest_options()) or not says.startswith(("yes", "no")):
        problems.append(f"{where}: {option}: the table says pytest {pytest_cell!r}, pytest "
                        f"{'accepts' if option in pytest_options() else 'does not accept'} it")
    return problems


_NONE = {"-", "\N{EN DASH}", "\N{EM DASH}"}


def _environment_problems(where: str, option_cell: str, environment_cell: str) -> list[str]:
    """A shared option's environment variable as the row gives it and as its declaration does."""
    found = _ANY_OPTION.findall(option_cell)
    declared = next((o for o in OPTIONS if found and o.flag == found[0]), None)
    says = environment_cell.strip().strip("`")
    if declared is None or (says == declared.env or (declared.env is None and says in _NONE)):
        return []
    return [f"{where}: {declared.flag}: the table says environment {environment_cell!r}, the declaration says "
            f"{declared.env or 'none'}"]


def option_problems(name: str, text: str) -> list[str]:
    """Every option the page shows that no program it attributes it to accepts."""
    return invocation_problems(name, text) + inline_option_problems(name, text) + table_problems(name, text)


# --- the checks on the real pages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("page", documents(), ids=lambda p: str(p.relative_to(REPO)))
def test_links_and_anchors_resolve(page: Path) -> None:
    """Every relative link, and every #anchor into a Markdown page, of README.md and docs/*.md leads somewhere."""
    assert link_problems(page, page.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("page", documents(), ids=lambda p: str(p.relative_to(REPO)))
def test_documented_options_exist(page: Path) -> None:
    """Every option the docs show for a balance-bench command, pytest or a script is one that program accepts."""
    assert option_problems(page.name, page.read_text(encoding="utf-8")) == []


def test_readme_is_a_front_door() -> None:
    """The README stays a front door of at most 200 lines; topics live in docs/."""
    count = len(README.read_text(encoding="utf-8").splitlines())
    assert count <= README_MAX_LINES, f"README.md has {count} lines; move a topic into docs/"


def test_every_docs_page_is_reachable_from_the_index() -> None:
    """docs/README.md links every page of docs/, so none is orphaned."""
    index = REPO / "docs" / "README.md"
    linked = {(index.parent / target.partition("#")[0]).resolve()
              for _, target in links(index.read_text(encoding="utf-8")) if not _SCHEME.match(target)}
    orphans = [p.name for p in documents()[1:] if p != index and p.resolve() not in linked]
    assert orphans == []


# --- the checkers themselves can fail -----------------------------------------------------------------------------

def test_slug_follows_githubs_rule() -> None:
    """Headings become GitHub's anchors: code and punctuation dropped, spaces hyphens, repeats numbered."""
    assert slug("What this machine can resolve: `balance-bench aa`") == "what-this-machine-can-resolve-balance-bench-aa"
    assert slug("`verdicts.json`") == "verdictsjson"
    assert slug("Missing prerequisites: skip, or fail under `BALANCE_BENCH_STRICT=1`") == \
        "missing-prerequisites-skip-or-fail-under-balance_bench_strict1"
    assert slug("The [guide](x.md)'s cache") == "the-guides-cache"
    assert anchors("# Notes\n## Notes\n```\n# not a heading\n```\n") == {"notes", "notes-1"}


def test_link_checker_reports_broken_links(tmp_path: Path) -> None:
    """A missing file, a missing anchor and a link out of the tree are reported; good ones and code are not."""
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "a.md"
    (tmp_path / "docs" / "b.md").write_text("# Real heading\n", encoding="utf-8")
    text = ("# Top\n[ok](b.md#real-heading) [ok too](#top) [web](https://example.org/x)\n"
            "[gone](c.md) [no anchor](b.md#unreal) [self](#nowhere) [out](../../x.md)\n"
            "`[in code](nope.md)`\n```\n[in a fence](nope.md)\n```\n")
    page.write_text(text, encoding="utf-8")
    problems = link_problems(page, text, root=tmp_path)
    assert [p.split(": ")[1] for p in problems] == ["c.md", "b.md#unreal", "#nowhere", "../../x.md"], problems


def test_option_checker_reports_made_up_options() -> None:
    """An option a command does not have, in a fence or inline, for balance-bench, pytest or a script, is reported;
    real ones, other programs' options and placeholders are not."""
    text = ("```bash\n"
            "balance-bench run --scale tiny --made-up-option 3   # a comment --not-checked\n"
            "# on each host (balance-bench installed, --any-words here)\n"
            "balance-bench report runs/x --baseline runs/y \\\n    --fail-on-regression 10 --trials 3\n"
            "locust -f \"$(balance-bench load --locustfile)\" --worker --master-host H\n"
            ".venv/bin/pytest bench/ --benchmark-only --run-dir x --no-such-pytest-flag -k \"a and b\"\n"
            "python scripts/mutation.py --ci --no-such-script-flag\n"
            "balance-bench frobnicate --scale tiny\n"
            "```\n"
            "Use `balance-bench aa --threshold 10`, `balance-bench -v COMMAND --help` and `--trials K`, "
            "not `--made-up K`.\n")
    problems = option_problems("x.md", text)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "balance-bench run: unknown option --made-up-option",
        "balance-bench report: unknown option --trials",
        "pytest: unknown option --no-such-pytest-flag",
        "scripts/mutation.py: unknown option --no-such-script-flag",
        "balance-bench frobnicate: no such command",
        "`--made-up K`: no command, pytest or script has --made-up",
    ], problems


def test_option_tables_are_checked_against_the_parsers() -> None:
    """A per-row table row naming the wrong commands, the wrong pytest answer or the wrong environment variable, an
    option a marked command lacks, and an option table without a marker are each reported."""
    text = ("<!-- option-table: per-row -->\n"
            "| option | environment | commands | pytest |\n|---|---|---|---|\n"
            "| `--cpu auto\\|none\\|N` | `BALANCE_BENCH_CPU` | run, aa, ab | yes |\n"
            "| `--out DIR` | `BALANCE_BENCH_OUT` | run, aa, ab, load | yes |\n"
            "| `--network P` | `BALANCE_BENCH_NETWORKS` | run | no |\n"
            "| `--quick` | \N{EN DASH} | run, aa, ab, load | yes |\n"
            "| `--seed N` | \N{EN DASH} | run, aa, ab, check, load, seed, migrate, doctor | yes |\n"
            "\n<!-- option-table: balance-bench load -->\n"
            "| option | meaning |\n|---|---|\n| `--users N` | users |\n| `--threads N` | made up |\n"
            "\n| option | meaning |\n|---|---|\n| `--scale` | unmarked |\n")
    problems = table_problems("t.md", text)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "--out: the table says pytest 'yes', pytest does not accept it",
        "--network: the table says commands ['run'], the parsers say ['report', 'run']",
        "--network: the table says environment '`BALANCE_BENCH_NETWORKS`', the declaration says BALANCE_BENCH_NETWORK",
        "--seed: the table says environment '\N{EN DASH}', the declaration says BALANCE_BENCH_SEED",
        "balance-bench load has no --threads",
        "an option table needs an <!-- option-table: ... --> marker",
    ], problems


def test_pytest_help_parsing() -> None:
    """Option columns are read from pytest's help, descriptions that mention options are not."""
    help_text = ("  -k EXPRESSION         Only run tests which match\n"
                 "  -x, --exitfirst       Exit instantly on first error\n"
                 "  --run-dir=RUN_DIR     directory (default: <--out>/pytest-<timestamp>)\n"
                 "                        --benchmark-disable mentioned in a description\n")
    assert parse_pytest_help(help_text) == {"-k", "-x", "--exitfirst", "--run-dir"}
