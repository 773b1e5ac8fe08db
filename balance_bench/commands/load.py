"""``balance-bench load``: the model under concurrent Locust users; a run directory with load.json and report.html.

Options that only concern this command are its own arguments, taken as text and
checked here, so any bad value is one ``BenchError`` line and exit status 2.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from typing import TYPE_CHECKING

from balance_bench.bench.load import LOCUSTFILE
from balance_bench.bench.load.mix import parse_mix
from balance_bench.bench.load.plan import OWN
from balance_bench.config import DATASET, SERVICE, Config
from balance_bench.coordinates import CacheUse, Migration
from balance_bench.errors import BenchError

if TYPE_CHECKING:
    from balance_bench.bench.load.sweep import LoadSettings
    from balance_bench.load_records import LoadRecord, StepResult

NAME = "load"
HELP = "run the balance model under concurrent Locust users (a sweep) and write a run directory with the report"
OPTIONS = (*SERVICE, *DATASET, "out", "quick", "trials", "order_seed")
LOAD_TRIALS = 1  # without --trials: one pass of the sweep

DEFAULTS = {"users": "1,2,4,8,16", "duration": "20", "warmup": "5", "mix": "guide", "cache": "on",
            "migration": "with_012", "pool_size": OWN, "workers": "1", "remote_workers": "0", "keys": "1000"}
QUICK = {"users": "1,3", "duration": "3", "warmup": "1"}
DEFAULT_MASTER_PORT = 5557  # Locust's own default, for workers on other machines
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min)?\s*$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sweep, the mix, the settings compared, and Locust's distribution."""
    add = parser.add_argument
    add("--users", help=f"user counts to sweep, comma-separated (default {DEFAULTS['users']}; "
                        f"--quick {QUICK['users']})")
    add("--duration", help="measured seconds per step, e.g. 20, 20s, 1m (default 20; --quick 3)")
    add("--warmup", help="unmeasured seconds per step after all users started (default 5; --quick 1)")
    add("--mix", help="reads (the guide's four cached reads), guide (reads plus 10%% credits/debits, the default) "
                      "or weights such as find_by_id=5,credit=1")
    add("--cache", help="on, off or both (default on)")
    add("--migration", help="without_012, with_012 or both (default with_012)")
    add("--pool-size", help="connections: 'own' (each user its own, the default) and/or shared psycopg_pool sizes "
                            "per process to sweep, e.g. own,2,8")
    add("--workers", help="local Locust processes; 2 or more run Locust's master/worker mode (default 1)")
    add("--remote-workers", help="Locust workers to wait for from other machines (needs --dsn and --redis-url)")
    add("--master-bind", default=None, help="address the master listens on for workers (default 127.0.0.1, "
                                            "or 0.0.0.0 with --remote-workers)")
    add("--master-port", default=None, help=f"the master's port (default: any free port; {DEFAULT_MASTER_PORT} "
                                            "with --remote-workers)")
    add("--keys", help="balances in the key pool users read and write (default 1000)")
    add("--locustfile", action="store_true",
        help="print the locustfile's path (for workers on other machines) and exit")


def _int(name: str, text: str, least: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise BenchError(f"--{name}: expected a whole number, got {text!r}") from None
    if value < least:
        raise BenchError(f"--{name}: expected a number >= {least}, got {value}")
    return value


def parse_users(text: str) -> tuple[int, ...]:
    """``1,4,16`` -> (1, 4, 16); every count at least 1, no repeats."""
    parts = [p for p in (s.strip() for s in text.split(",")) if p]
    if not parts:
        raise BenchError("--users: give at least one user count, e.g. 1,4,16")
    counts = tuple(_int("users", p, 1) for p in parts)
    if len(set(counts)) != len(counts):
        raise BenchError(f"--users: {text!r} repeats a count")
    return counts


def parse_seconds(name: str, text: str, least: float) -> float:
    """``20``, ``20s``, ``1.5m`` -> seconds."""
    match = _DURATION.match(text)
    if not match:
        raise BenchError(f"--{name}: expected seconds such as 20, 20s or 1m, got {text!r}")
    seconds = float(match[1]) * (60 if match[2] in ("m", "min") else 1)
    if seconds < least:
        raise BenchError(f"--{name}: must be at least {least:g} s, got {text!r}")
    return seconds


def parse_choice(name: str, text: str, choices: tuple[str, ...]) -> tuple[str, ...]:
    """One of ``choices`` or ``both`` (all of them)."""
    value = text.strip()
    if value == "both":
        return choices
    if value not in choices:
        raise BenchError(f"--{name}: expected {', '.join(choices)} or both, got {text!r}")
    return (value,)


def parse_pools(text: str) -> tuple[int | None, ...]:
    """``own,2,8`` -> (None, 2, 8): None is each user's own connection."""
    pools: list[int | None] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        pools.append(None if part == OWN else _int("pool-size", part, 1))
    if not pools:
        raise BenchError("--pool-size: give 'own' and/or pool sizes, e.g. own,4")
    if len(set(pools)) != len(pools):
        raise BenchError(f"--pool-size: {text!r} repeats a setting")
    return tuple(pools)


def settings_from(args: argparse.Namespace, config: Config) -> LoadSettings:
    """Every load argument checked and folded into ``LoadSettings`` (quick defaults where not given).

    ``--trials`` (the suite's shared option) repeats the whole sweep, 1 by default; ``--order-seed`` (default:
    the dataset seed) shuffles the order of the compared settings within each user count.
    """
    from balance_bench.bench.load.sweep import LoadSettings

    def value(name: str) -> str:
        given = getattr(args, name)
        if given is not None:
            return str(given)
        return QUICK[name] if config.quick and name in QUICK else DEFAULTS[name]

    remote = _int("remote-workers", value("remote_workers"), 0)
    if remote and (config.dsn is None or config.redis_url is None):
        raise BenchError("--remote-workers needs --dsn and --redis-url: workers on other machines cannot reach "
                         "the embedded servers")
    port = args.master_port
    return LoadSettings(
        users=parse_users(value("users")),
        duration_s=parse_seconds("duration", value("duration"), 1.0),
        warmup_s=parse_seconds("warmup", value("warmup"), 0.0),
        mix=parse_mix(value("mix")),
        caches=tuple(CacheUse(c) for c in parse_choice("cache", value("cache"), tuple(CacheUse))),
        migrations=tuple(Migration(m) for m in parse_choice("migration", value("migration"), tuple(Migration))),
        pools=parse_pools(value("pool_size")),
        workers=_int("workers", value("workers"), 1),
        remote_workers=remote,
        bind_host=args.master_bind or ("0.0.0.0" if remote else "127.0.0.1"),
        port=_int("master-port", port, 1) if port is not None else (DEFAULT_MASTER_PORT if remote else None),
        keys=_int("keys", value("keys"), 1),
        trials=config.trials or LOAD_TRIALS,
        order_seed=config.order_seed if config.order_seed is not None else config.seed,
    )


def _step_line(step: StepResult, total: int) -> str:
    hit = f", hit rate {step.hit_rate:.0%}" if step.hit_rate is not None else ""
    p50 = f"{step.p50_ms:.3g}" if step.p50_ms is not None else "-"
    p99 = f"{step.p99_ms:.3g}" if step.p99_ms is not None else "-"
    failures = f", {step.failures} failures" if step.failures else ""
    return (f"[{step.index + 1}/{total}] {step.migration} cache={step.cache} connections={step.connections} "
            f"users={step.users}: {step.throughput_rps:,.0f} req/s, p50 {p50} ms, p99 {p99} ms, "
            f"db {step.db_calls_per_s:,.0f} calls/s{hit}{failures}")


def _verdicts(record: LoadRecord) -> tuple[list[str], bool]:
    lines, ok = [], True
    for c in record.conservation:
        lines.append(f"money conservation ({c.migration}): {c.status}: before {c.sum_before} + credits {c.credits} "
                     f"- debits {c.debits} vs after {c.sum_after} (difference {c.difference}; "
                     f"{c.credit_n} credits, {c.debit_n} debits, {c.rejected_n} refused, {c.ambiguous_n} unknown)")
        ok = ok and c.status == "passed"
    for s in record.staleness:
        lines.append(f"stale reads ({s.migration}): {s.status}: {s.violations} of {s.checked} checkable reads "
                     f"({s.reads} logged, {s.writes} writes)")
        ok = ok and s.status == "passed"
    for p in record.processes:
        if p.get("cooperative") is False:
            lines.append(f"psycopg did not overlap two users in Locust process {p.get('host')}:{p.get('pid')} "
                         f"({p.get('overlap_s')} s for two concurrent 0.2 s sleeps): users serialised")
            ok = False
    return lines, ok


def run(config: Config, args: argparse.Namespace) -> int:
    """Run the sweep; 0 when every check passed, 1 when conservation, staleness or cooperation failed."""
    from balance_bench.bench.load.swarm import worker_command
    from balance_bench.bench.load.sweep import run_load
    from balance_bench.fixtures.datasets import ensure_dataset
    from balance_bench.fixtures.services import running_services
    from balance_bench.reports.load_section import write_load_report
    from balance_bench.results import new_run_dir

    if args.locustfile:
        print(LOCUSTFILE)
        return 0
    settings = settings_from(args, config)
    if len(config.scales) != 1:
        raise BenchError("balance-bench load runs one scale at a time; give a single --scale")
    started = time.perf_counter()
    scale = config.scales[0]
    run_dir = new_run_dir(config.out, (scale.name, "load"))
    with running_services(config) as endpoints:
        dataset = ensure_dataset(endpoints, scale, config.seed)
        if settings.remote_workers:
            port = settings.port or DEFAULT_MASTER_PORT
            print(f"waiting for {settings.remote_workers} remote worker(s); on each machine run:\n  "
                  f"{' '.join(worker_command('THIS_HOST', port))} --dsn URL --redis-url URL", file=sys.stderr)
        record = run_load(endpoints, dataset, config.seed, settings, run_dir,
                          on_step=lambda step, total: print(_step_line(step, total), file=sys.stderr, flush=True))
    print(f"run directory: {run_dir}")
    print(f"report: {write_load_report(run_dir)}")
    lines, ok = _verdicts(record)
    for line in lines:
        print(line)
    print(f"finished in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0 if ok else 1
