"""Options are defined once here, validated as they are parsed, and folded into one ``Config``.

The same ``OPTIONS`` feed argparse (the ``balance-bench`` CLI) and pytest
(``pytest_addoption``), so ``--scale``, ``--dsn`` ... mean the same thing in
both, and every fixture and command takes the resulting ``Config``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from balance_bench.errors import BenchError, redact
from balance_bench.network import DEFAULT_PROFILES, Profile, parse_profiles
from balance_bench.scales import SCALES, Scale, custom_scale, get_scale

__all__ = ["Config", "Option", "OPTIONS", "pg_url", "SERVICE", "DATASET", "CPU_AUTO", "CPU_NONE", "add_options",
           "config_from_namespace", "DEFAULT_SEED", "RUN_TRIALS", "QUICK_TRIALS"]

DEFAULT_SEED = 42
DEFAULT_EXTERNAL_REDIS_PREFIX = "balance-bench:"


def pg_url(value: str) -> str:
    """Accept postgres:// or postgresql:// (optionally +psycopg) and normalise to SQLAlchemy's psycopg 3 form."""
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
        raise argparse.ArgumentTypeError(
            f"not a PostgreSQL URL: {redact(value)!s} (expected postgresql://user@host:port/dbname)"
        )
    return "postgresql+psycopg" + value[len(parts.scheme):]


def _redis_url(value: str) -> str:
    scheme = urlsplit(value).scheme.lower()
    if scheme not in {"redis", "rediss", "unix"}:
        raise argparse.ArgumentTypeError(
            f"not a Redis URL: {redact(value)} (expected redis://host:port/db or unix:///path/to/socket)"
        )
    return value


def _scales(value: str) -> tuple[Scale, ...]:
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    if not names:
        raise argparse.ArgumentTypeError("--scale needs at least one scale name")
    try:
        return tuple(get_scale(name) for name in names)
    except BenchError as exc:  # the scale table is the one judge of names
        raise argparse.ArgumentTypeError(str(exc)) from None


def _non_negative_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {number}")
    return number


def _rows(value: str) -> Scale:
    try:
        return custom_scale(_non_negative_int(value))
    except BenchError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


RUN_TRIALS = 20
"""Trials of ``balance-bench run`` without ``--trials``: more, shorter trials put both sides of a ratio in the
same host moment more often (measured: 20 gave intervals and run-to-run ratios several times tighter than 10
in the same wall time); the gate asks for a slowdown beyond its threshold, so their power raises no alarms."""
QUICK_TRIALS = 3
"""Trials of ``--quick``: enough for an interval, within the minute a smoke test has."""


def _trials(value: str) -> int:
    number = _non_negative_int(value)
    if not 1 <= number <= 1000:
        raise argparse.ArgumentTypeError(f"--trials must be between 1 and 1000, got {number}")
    return number


TOP_UP_S = 60.0
"""Seconds of top-up trials ``run`` spends by default on cache verdicts still undecided after its trials: at
``small`` the 20 trials take about 3 minutes, so the run stays within 5."""
MAX_TOP_UP_S = 3600.0


def _top_up(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--top-up takes seconds, got {value!r}") from None
    if not 0.0 <= seconds <= MAX_TOP_UP_S:  # also refuses nan
        raise argparse.ArgumentTypeError(f"--top-up must be between 0 and {MAX_TOP_UP_S:g} seconds, got {value}")
    return seconds


CPU_AUTO = "auto"
CPU_NONE = "none"


def _cpu(value: str) -> str | int:
    """``auto``, ``none`` or a CPU number this process may run on."""
    word = value.strip().lower()
    if word in (CPU_AUTO, CPU_NONE):
        return word
    try:
        number = int(word)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--cpu takes auto, none or a CPU number, got {value!r}") from None
    allowed = sorted(os.sched_getaffinity(0))
    if number not in allowed:
        raise argparse.ArgumentTypeError(f"--cpu {number}: this process may run on CPUs {allowed} only")
    return number


def _experiments(value: str) -> tuple[str, ...]:
    """``all`` or a comma list of experiment names, judged by the registry (imported only when the option is used)."""
    from balance_bench.bench.experiments.registry import select

    try:
        chosen = select(value)
    except BenchError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not any(e.variants for e in chosen):
        raise argparse.ArgumentTypeError(f"{', '.join(e.name for e in chosen)} times nothing on its own; add an "
                                         "experiment that does (or all)")
    return tuple(e.name for e in chosen)


def _network(value: str) -> tuple[Profile, ...]:
    try:
        return parse_profiles(value)
    except BenchError as exc:  # the profile grammar is network.py's alone
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--network: ")) from None


def _redis_prefix(value: str) -> str:
    if any(c.isspace() for c in value):
        raise argparse.ArgumentTypeError("--redis-prefix may not contain white space")
    return value


@dataclass(frozen=True)
class Option:
    """One command-line option, its environment variable and its validating parser."""

    flag: str
    help: str
    parse: Callable[[str], Any] | None = None
    env: str | None = None
    default: str | None = None
    is_flag: bool = False

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


OPTIONS: tuple[Option, ...] = (
    Option("--dsn", "PostgreSQL server URL to use instead of the embedded one; the suite only touches "
           "databases it created there (env BALANCE_BENCH_DSN)", pg_url, env="BALANCE_BENCH_DSN"),
    Option("--redis-url", "Redis URL to use instead of the embedded one (env BALANCE_BENCH_REDIS_URL)",
           _redis_url, env="BALANCE_BENCH_REDIS_URL"),
    Option("--redis-prefix", "prefix for every cache key; default empty on the embedded Redis and "
           f"{DEFAULT_EXTERNAL_REDIS_PREFIX!r} on an external one (env BALANCE_BENCH_REDIS_PREFIX)",
           _redis_prefix, env="BALANCE_BENCH_REDIS_PREFIX"),
    Option("--scale", f"comma-separated dataset scales ({', '.join(SCALES)}); default small",
           _scales, env="BALANCE_BENCH_SCALE", default="small"),
    Option("--rows", "custom dataset size in balances (replaces --scale)", _rows, env="BALANCE_BENCH_ROWS"),
    Option("--seed", f"dataset seed (default {DEFAULT_SEED})", _non_negative_int, env="BALANCE_BENCH_SEED",
           default=str(DEFAULT_SEED)),
    Option("--out", "directory under which run directories are written (default ./runs)", Path,
           env="BALANCE_BENCH_OUT", default="runs"),
    Option("--cache-dir", "where the embedded PostgreSQL keeps its data between runs "
           "(env BALANCE_BENCH_CACHE_DIR; default the per-user cache folder)", Path, env="BALANCE_BENCH_CACHE_DIR"),
    Option("--quick", f"tiny scale, {QUICK_TRIALS} trials, few rounds: a smoke test in under a minute", is_flag=True),
    Option("--trials", f"how many randomized interleaved trials the matrix runs (run: {RUN_TRIALS}, --quick: "
           f"{QUICK_TRIALS}; plain pytest: 1) (env BALANCE_BENCH_TRIALS)", _trials, env="BALANCE_BENCH_TRIALS"),
    Option("--top-up", "seconds of extra interleaved trials for the cache verdicts still inconclusive after the "
           f"trials, and the cases they compare only (0: none; run: {TOP_UP_S:g}, --quick: 0) "
           "(env BALANCE_BENCH_TOP_UP)", _top_up, env="BALANCE_BENCH_TOP_UP"),
    Option("--order-seed", "seed of the trials' shuffled case order, recorded with the results "
           "(env BALANCE_BENCH_ORDER_SEED)", _non_negative_int, env="BALANCE_BENCH_ORDER_SEED"),
    Option("--cpu", "where the timed client and the embedded servers run: auto (all on the last CPU, so every "
           "round trip stays on one core), none (where the scheduler puts them), or a CPU number (env "
           "BALANCE_BENCH_CPU; default auto)", _cpu, env="BALANCE_BENCH_CPU", default=CPU_AUTO),
    Option("--replica-dsn", "a streaming replica of the --dsn server, for the read-replica experiment; with the "
           "embedded server the suite makes its own (env BALANCE_BENCH_REPLICA_DSN)", pg_url,
           env="BALANCE_BENCH_REPLICA_DSN"),
    Option("--experiments", "run these experiments (comma list of names, or all) instead of the guide's matrix; "
           "under pytest they are the items marked 'experiments' (env BALANCE_BENCH_EXPERIMENTS)", _experiments,
           env="BALANCE_BENCH_EXPERIMENTS"),
    Option("--network", "network profiles the report projects latencies and re-judges verdicts at: local, "
           "same-zone, cross-zone, or custom like rtt=0.8ms,bw=1gbit or pg:rtt=0.8ms;redis:rtt=0.3ms; "
           f"comma-separated (env BALANCE_BENCH_NETWORK; default {DEFAULT_PROFILES})", _network,
           env="BALANCE_BENCH_NETWORK", default=DEFAULT_PROFILES),
)

_BY_DEST = {o.dest: o for o in OPTIONS}

SERVICE: tuple[str, ...] = ("dsn", "redis_url", "redis_prefix", "cache_dir")
"""The options that say which servers to use."""
DATASET: tuple[str, ...] = ("scale", "rows", "seed")
"""The options that say which dataset to use."""


def add_options(add: Callable[..., Any], names: Iterable[str] | None = None) -> None:
    """Register options with ``add`` (``ArgumentParser.add_argument`` or pytest's ``parser.addoption``).

    Environment variables act as defaults and go through the same parser, so a
    bad ``BALANCE_BENCH_DSN`` is rejected exactly like a bad ``--dsn``.
    """
    wanted = set(names) if names is not None else None
    for option in OPTIONS:
        if wanted is not None and option.dest not in wanted:
            continue
        if option.is_flag:
            add(option.flag, action="store_true", default=False, dest=_dest(option), help=option.help)
            continue
        default = os.environ.get(option.env, option.default) if option.env else option.default
        add(option.flag, type=option.parse, default=default, dest=_dest(option), help=option.help)


def _dest(option: Option) -> str:
    # pytest shares one namespace with every plugin: keep our dests unambiguous.
    return f"bb_{option.dest}"


@dataclass(frozen=True)
class Config:
    """Everything a command or fixture needs to know about this invocation."""

    dsn: str | None = None
    redis_url: str | None = None
    redis_prefix: str = ""
    scales: tuple[Scale, ...] = field(default_factory=lambda: (SCALES["small"],))
    seed: int = DEFAULT_SEED
    out: Path = Path("runs")
    cache_dir: Path = field(default_factory=lambda: platformdirs.user_cache_path("balance-bench"))
    quick: bool = False
    trials: int | None = None  # None: the runner decides (run: RUN_TRIALS, --quick: QUICK_TRIALS; pytest: 1)
    top_up_s: float | None = None  # None: the runner decides (run: TOP_UP_S, --quick: 0)
    order_seed: int | None = None
    replica_dsn: str | None = None  # a streaming replica of dsn's server (the replica experiment)
    cpu: str | int = CPU_AUTO  # CPU placement of the timed client and the servers it started (bench/placement.py)
    experiments: tuple[str, ...] = ()  # registry names of the experiments to run (bench/experiments), in its order
    network: tuple[Profile, ...] = field(default_factory=lambda: parse_profiles(DEFAULT_PROFILES))

    @property
    def scale_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.scales)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready, password-free view of this config, for run artifacts and logs."""
        return {
            "dsn": redact(self.dsn) if self.dsn else "embedded",
            "redis_url": redact(self.redis_url) if self.redis_url else "embedded",
            "redis_prefix": self.redis_prefix,
            "scales": list(self.scale_names),
            "seed": self.seed,
            "quick": self.quick,
            "trials": self.trials,
            "top_up_s": self.top_up_s,
            "order_seed": self.order_seed,
            "replica_dsn": redact(self.replica_dsn) if self.replica_dsn else None,
            "cpu": self.cpu,
            "experiments": list(self.experiments),
            "network": [p.name for p in self.network],
        }


def _parse_default(option: Option, value: Any) -> Any:
    """pytest does not run ``type`` on string defaults the way argparse does; do it here."""
    if isinstance(value, str) and option.parse is not None:
        try:
            return option.parse(value)
        except argparse.ArgumentTypeError as exc:
            source = f"${option.env}" if option.env and os.environ.get(option.env) == value else option.flag
            raise BenchError(f"{source}: {exc}") from None
    return value


def config_from_namespace(ns: Any) -> Config:
    """Fold parsed options (argparse ``Namespace`` or pytest's ``config.option``) into a ``Config``."""
    values = {
        dest: _parse_default(opt, getattr(ns, _dest(opt), None) if hasattr(ns, _dest(opt)) else opt.default)
        for dest, opt in _BY_DEST.items()
    }
    quick = bool(values["quick"])
    if values["rows"] is not None:
        scales: tuple[Scale, ...] = (values["rows"],)
    elif quick:
        scales = (get_scale("tiny"),)
    else:
        scales = values["scale"]
    redis_url = values["redis_url"]
    prefix = values["redis_prefix"]
    if prefix is None:
        prefix = DEFAULT_EXTERNAL_REDIS_PREFIX if redis_url else ""
    elif redis_url and prefix == "":
        raise BenchError(
            "an external Redis needs a non-empty --redis-prefix, so the suite can tell its keys from others"
        )
    if values["replica_dsn"] and not values["dsn"]:
        raise BenchError("--replica-dsn names a replica of an external server: pass that server as --dsn too "
                         "(the embedded server gets a replica of its own)")
    kwargs: dict[str, Any] = {
        "dsn": values["dsn"],
        "replica_dsn": values["replica_dsn"],
        "redis_url": redis_url,
        "redis_prefix": prefix,
        "scales": scales,
        "seed": values["seed"],
        "out": values["out"],
        "quick": quick,
        "trials": values["trials"],
        "top_up_s": values["top_up"],
        "order_seed": values["order_seed"],
        "cpu": values["cpu"],
        "experiments": values["experiments"] or (),
        "network": values["network"],
    }
    if values["cache_dir"] is not None:
        kwargs["cache_dir"] = values["cache_dir"]
    return Config(**kwargs)
