"""``verdicts.json`` and ``verdicts.md``: the run's claim verdicts for machines and for a CI job's summary.

A CI job or a pull-request comment should not scrape HTML to learn whether the
guide holds. ``verdicts.json`` holds every claim verdict (``claims``) in a
versioned format with a JSON Schema in the package
(``schemas/verdicts.schema.json``); ``verdicts.md`` is the headline table in
GitHub-flavoured Markdown, short enough (``MAX_MD_LINES``) to paste into a job
summary. Both are written from the same list the HTML report renders, so the
three cannot disagree.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from balance_bench import __version__
from balance_bench.errors import BenchError, redact
from balance_bench.reports.claims import ClaimVerdict, headline, label_counts, measured_text, precision, tone
from balance_bench.reports.runs import Run
from balance_bench.reports.top_up import trials_phrase
from balance_bench.results import REPORT_FILE, VERDICTS_FILE, VERDICTS_MD_FILE

__all__ = ["FORMAT", "VERSION", "SCHEMA", "MAX_MD_LINES", "BADGES", "verdicts_document", "verdicts_markdown",
           "write_verdicts", "write_text", "markdown_cell"]

FORMAT = "balance-bench-verdicts"
VERSION = 1
SCHEMA = Path(__file__).resolve().parent / "schemas" / "verdicts.schema.json"
MAX_MD_LINES = 40
"""A job summary or PR comment stays readable: the Markdown never has more lines than this."""
BADGES = {"good": "✅", "bad": "❌", "neutral": "⚪"}


def _verdict(c: ClaimVerdict) -> dict[str, Any]:
    estimate = c.estimate
    return {
        "claim": c.claim_id,
        "topic": c.topic.value,
        "title": c.title,
        "headline": c.headline,
        "coordinates": {"scale": c.scale, "query": c.query, "param_kind": c.param_kind},
        "profile": c.profile,
        "guide": {"text": c.guide, "low": c.guide_range[0] if c.guide_range else None,
                  "high": c.guide_range[1] if c.guide_range else None},
        "estimate": None if estimate is None else {
            "value": estimate.value, "low": estimate.low, "high": estimate.high, "unit": c.unit,
            "trials": estimate.trials},
        "evidence": c.evidence,
        "precision": _precision(c),
        "label": c.label,
        "tone": tone(c.label),
        "why": c.why,
    }


def _precision(c: ClaimVerdict) -> dict[str, Any] | None:
    found = precision(c)
    if found is None:
        return None
    return {"bound": found.bound, "distance": found.distance, "trials": found.trials, "trials_needed": found.needed}


def verdicts_document(run: Run, claims: Sequence[ClaimVerdict]) -> dict[str, Any]:
    """The JSON document: the run it judges, how it was judged, the headline's label counts, every verdict."""
    design = run.design
    return {
        "format": FORMAT,
        "schema_version": VERSION,
        "generator": f"balance-bench {__version__}",
        "run": run.path.name,
        "captured_at": str(run.environment.get("captured_at", "unknown")),
        "trials": design.trials,
        "top_ups": [vars(t) for t in design.top_ups],
        "confidence": design.confidence,
        "interval": design.interval,
        "scales": list(dict.fromkeys(c.scale for c in claims)),
        "profiles": list(dict.fromkeys(c.profile for c in claims)),
        "report": REPORT_FILE,
        "headline_counts": label_counts(headline(claims)),
        "verdicts": [_verdict(c) for c in claims],
    }


def markdown_cell(text: str) -> str:
    """A table cell's text with the characters that would break a GitHub table escaped."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _versions(run: Run) -> str:
    def version(server: str) -> str:
        entry = run.environment.get(server)
        return str(entry.get("version", "?")) if isinstance(entry, dict) else "?"

    return f"PostgreSQL {version('postgres')}, Redis {version('redis')}"


def verdicts_markdown(run: Run, claims: Sequence[ClaimVerdict], report: Path | str) -> str:
    """The headline as GitHub-flavoured Markdown, at most ``MAX_MD_LINES`` lines, ending with the report's path.

    With several scales the rows can outgrow the budget: then the rows that do not hold come first and the
    rest is counted in one line, so what needs attention is never the part cut off.
    """
    rows = headline(claims)
    scales = list(dict.fromkeys(c.scale for c in rows))
    counts = " · ".join(f"{BADGES[tone(label)]} {n} {label}" for label, n in label_counts(rows).items())
    head = [f"## Does the guide hold here? `{run.path.name}`", "",
            f"{', '.join(scales)} · {trials_phrase(run.design)} · {round(run.design.confidence * 100)}% intervals "
            f"· {_versions(run)}", "", counts or "No claim could be judged (no matrix cases in this run).", ""]
    table = ["| Claim | Guide | Measured here | Verdict | Why |", "|---|---|---|---|---|"]
    footer = ["", f"Full report: `{redact(str(report))}` · every verdict: `{VERDICTS_FILE}`"]
    budget = MAX_MD_LINES - len(head) - len(table) - len(footer) - 2  # a blank line and "N more"
    shown = rows if len(rows) <= budget + 2 else sorted(rows, key=lambda c: tone(c.label) != "bad")[:budget]
    lines = [*head]
    if rows:
        lines += table
        for c in shown:
            scale = f" ({c.scale})" if len(scales) > 1 else ""
            lines.append(f"| {markdown_cell(c.title + scale)} | {markdown_cell(c.guide)} | "
                         f"{markdown_cell(measured_text(c))} | {BADGES[tone(c.label)]} {c.label} | "
                         f"{markdown_cell(c.why)} |")
        if len(shown) < len(rows):
            lines += ["", f"_{len(rows) - len(shown)} more rows in the report and `{VERDICTS_FILE}`._"]
    return "\n".join([*lines, *footer]) + "\n"


def write_text(target: Path, text: str, what: str = "it") -> Path:
    """Write ``text`` atomically: a reader (or a CI step) never sees half a file; a failure is one line."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BenchError(f"{target}: cannot write {what} ({exc.strerror or exc.__class__.__name__})") from None
    return target


def write_verdicts(run: Run, claims: Sequence[ClaimVerdict]) -> tuple[Path, Path]:
    """Write ``verdicts.json`` and ``verdicts.md`` into the run directory; returns their paths."""
    document = redact(json.dumps(verdicts_document(run, claims), indent=1, ensure_ascii=False)) + "\n"
    json_path = write_text(run.path / VERDICTS_FILE, document)
    md_path = write_text(run.path / VERDICTS_MD_FILE, redact(verdicts_markdown(run, claims,
                                                                                run.path / REPORT_FILE)))
    return json_path, md_path
