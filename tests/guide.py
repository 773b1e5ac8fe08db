"""The guide, read by the tests themselves: an oracle for the claims the suite restates in code.

``balance-query-optimization-guide.md`` lives in ``shared/guide/`` beside the repository
(``../shared/guide/...`` from the repository root; ``BALANCE_BENCH_GUIDE`` names another copy).
These parsers share nothing with ``balance_bench/guide.py`` or ``balance_model/cache.py``: they read
the guide's Markdown as a person would, so a number mistyped in the code shows up as a difference.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from tests.prerequisites import missing

__all__ = ["GUIDE_ENV", "guide_path", "guide_text", "performance_table", "index_aware_queries",
           "migration_indexes", "cache_keys", "cache_ttls", "snake_case"]

GUIDE_ENV = "BALANCE_BENCH_GUIDE"
_IN_SHARED = Path("shared") / "guide" / "balance-query-optimization-guide.md"

Range = tuple[float, float]


def guide_path() -> Path:
    """Where the guide is: ``$BALANCE_BENCH_GUIDE``, else ``shared/guide/`` beside the repository.

    "Beside" is looked for from the repository upwards, so a copy of the tests elsewhere under the
    repository (the mutation-testing tree in ``build/``) finds the same guide.
    """
    if os.environ.get(GUIDE_ENV):
        return Path(os.environ[GUIDE_ENV])
    repository = Path(__file__).resolve().parents[1]
    candidates = [folder / _IN_SHARED for folder in repository.parents]
    return next((path for path in candidates if path.is_file()), candidates[0])


def guide_text() -> str:
    """The guide's Markdown; when the guide is not there, skips the test (fails it if ``BALANCE_BENCH_STRICT``)."""
    path = guide_path()
    if not path.is_file():
        missing(f"the guide is not at {path} (set {GUIDE_ENV} to its path)")
    return path.read_text(encoding="utf-8")


def _section(text: str, heading: str) -> str:
    """The body of the Markdown section whose heading line ends with ``heading``, up to the next heading."""
    match = re.search(rf"^#+ [^\n]*{re.escape(heading)}\s*$(.*?)(?=^#+ |\Z)", text, re.M | re.S)
    assert match, f"the guide has no section {heading!r}"
    return match.group(1)


def snake_case(name: str) -> str:
    """``findByUserIdAndTokenId`` -> ``find_by_user_id_and_token_id``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _range(cell: str, unit: str) -> Range:
    """``~5-10ms`` -> (5.0, 10.0); ``~0.5ms`` -> (0.5, 0.5); ``90-95%`` -> (90.0, 95.0)."""
    match = re.fullmatch(rf"~?\s*([\d.]+)\s*(?:-\s*([\d.]+))?\s*{re.escape(unit)}", cell.strip())
    assert match, f"cannot read {cell!r} as a range in {unit}"
    low = float(match.group(1))
    return low, float(match.group(2) or low)


@dataclass(frozen=True)
class TableRow:
    """One row of the "Performance Improvements" table."""

    cold_ms: Range
    warm_ms: Range
    improvement_pct: Range


def performance_table(text: str) -> dict[str, TableRow]:
    """The expected-improvements table, keyed by the guide's method name (``findById``)."""
    rows: dict[str, TableRow] = {}
    for line in _section(text, "Performance Improvements").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("Query Type", "") or set(cells[0]) <= set("-: "):
            continue
        rows[cells[0]] = TableRow(_range(cells[1], "ms"), _range(cells[2], "ms"), _range(cells[3], "%"))
    return rows


def index_aware_queries(text: str) -> dict[str, str]:
    """"Index-Aware Queries": the guide's method name -> the index it says the method uses."""
    pairs = re.findall(r"^- `(\w+)`: Uses `(\w+)`", _section(text, "Index-Aware Queries"), re.M)
    return dict(pairs)


def migration_indexes(text: str) -> dict[str, tuple[tuple[str, ...], str]]:
    """Migration 012's code block: index name -> (columns, the comment above it)."""
    found: dict[str, tuple[tuple[str, ...], str]] = {}
    comment = ""
    for raw in _section(text, "Database Indexes (Migration 012)").splitlines():
        line = raw.strip()
        if line.startswith("//"):
            comment = line.lstrip("/ ").strip()
        elif match := re.fullmatch(r"(idx_\w+) \(([^)]*)\)", line):
            found[match.group(1)] = (tuple(c.strip() for c in match.group(2).split(",")), comment)
    return found


def cache_keys(text: str) -> dict[str, str]:
    """"Cache Keys": each key pattern as the guide writes it (``balance:user:{userId}``) -> its comment."""
    keys = re.findall(r"^(balance:\S*)\s+//\s*(.+)$", _section(text, "Cache Keys"), re.M)
    return {key: comment.strip() for key, comment in keys}


def cache_ttls(text: str) -> dict[str, int]:
    """"Cache TTLs": each TTL name (``BALANCE_BY_ID``) -> seconds."""
    units = {"second": 1, "minute": 60, "hour": 3600}
    ttls: dict[str, int] = {}
    for name, amount, unit in re.findall(r"^- `(\w+)`: (\d+) (second|minute|hour)s?", _section(text, "Cache TTLs"),
                                         re.M):
        ttls[name] = int(amount) * units[unit]
    return ttls
