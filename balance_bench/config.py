"""Options are declared once, on the ``Config`` field each sets, validated as they are parsed, and folded into one
``Config``.

A declaration (``option``) holds the flag, parser, environment variable, default, help and the field's entry in
``Config.describe``. The ``OPTIONS`` derived from them feed argparse (the ``balance-bench`` CLI) and pytest
(``pytest_addoption``), so ``--scale``, ``--dsn`` ... mean the same thing in both, and every fixture and command
takes the resulting ``Config``. The rules between options are one function, ``_rules``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import platformdirs

from balance_bench.errors import BenchError, redact
from balance_bench.network import DEFAULT_PROFILES, Profile, parse_profiles
from balance_bench.scales import SCALES, Scale, custom_scale, get_scale
from balance_bench.sources import MAP_FLAG, SourceMap, read_source_map

__all__ = ["Config", "Option", "OPTIONS", "pg_url", "SERVICE", "DATASET", "SOURCE", "CPU_AUTO", "CPU_NONE",
           "add_options", "config_from_namespace", "DEFAULT_SEED", "RUN_TRIALS", "QUICK_TRIALS"]

T = TypeVar("T")

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


def _fraction(value: str) -> float:
    """A share of the source's users for ``--sample``: more than 0, at most 1."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sample takes a fraction of the users, got {value!r}") from None
    if not 0.0 < number <= 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"--sample must be more than 0 and at most 1, got {value}")
    return number


def _source_map(value: str) -> SourceMap:
    try:
        return read_source_map(Path(value))
    except BenchError as exc:  # the map's grammar is sources.py's alone
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rows(value: str) -> Scale:
    try:
        return custom_scale(_non_negative_int(value))
    except BenchError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


RUN_TRIALS = 20
"""Trials of ``balance-bench run`` without ``--trials``: more, shorter trials put both sides of a ratio in the
same host moment more often (measured: this many gave intervals and run-to-run ratios several times tighter than
half as many in the same wall time); the gate asks for a slowdown beyond its threshold, so their power raises no
alarms."""
QUICK_TRIALS = 3
"""Trials of ``--quick``: enough for an interval, within the minute a smoke test has."""


def _trials(value: str) -> int:
    number = _non_negative_int(value)
    if not 1 <= number <= 1000:
        raise argparse.ArgumentTypeError(f"--trials must be between 1 and 1000, got {number}")
    return number


TOP_UP_S = 60.0
"""Seconds of top-up trials ``run`` spends by default on cache verdicts still undecided after its trials: at
``small`` its ``RUN_TRIALS`` trials take about 3 minutes, so the run stays within 5."""
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
    """``all`` or a comma list of experiment names, split and without repeats. Only split: the registry, in the
    bench layer, judges the names before any work (``bench.experiments.registry.with_experiments``)."""
    names = tuple(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    if not names:
        raise argparse.ArgumentTypeError("--experiments needs 'all' or at least one experiment name")
    return ("all",) if "all" in names else names


def _network(value: str) -> tuple[Profile, ...]:
    try:
        return parse_profiles(value)
    except BenchError as exc:  # the profile grammar is network.py's alone
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--network: ")) from None


def _redis_prefix(value: str) -> str:
    if any(c.isspace() for c in value):
        raise argparse.ArgumentTypeError("--redis-prefix may not contain white space")
    return value


def _as_is(value: Any) -> Any:
    return value


def _server(url: str | None) -> str:
    """A server URL as run artifacts keep it: password-free, or "embedded" when the suite starts its own."""
    return redact(url) if url else "embedded"


def _secret(url: str | None) -> str | None:
    return redact(url) if url else None


def _names(values: tuple[Scale, ...] | tuple[Profile, ...]) -> list[str]:
    return [v.name for v in values]


@dataclass(frozen=True)
class Option:
    """One command-line option: its flag, validating parser, environment variable and default.

    Declared on the ``Config`` field it sets (``option``); ``OPTIONS`` lists them all, in the fields' order.
    """

    flag: str
    help: str  # what it does; the environment variable and the default are added from the fields below
    parse: Callable[[str], Any] | None = None  # raises argparse.ArgumentTypeError; None: a switch, on or off
    env: str | None = None
    default: str | None = None  # as a user would type it: parsed like any value, and shown in --help
    shown_default: str | None = None  # the default in words, when no one value is it (shown in --help)
    field: str | None = None  # the Config field it sets; None: ``_rules`` folds it in (see ``also``)

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def is_flag(self) -> bool:
        return self.parse is None

    @property
    def full_help(self) -> str:
        """The help text with the environment variable and the default: "(env BALANCE_BENCH_SEED; default 42)"."""
        notes = [f"env {self.env}"] if self.env else []
        default = self.shown_default or self.default
        notes += [f"default {default}"] if default else []
        return f"{self.help} ({'; '.join(notes)})" if notes else self.help


_OPTIONS = "balance_bench.options"  # field metadata: the field's own Option, then those ``_rules`` folds into it
_DESCRIBE = "balance_bench.describe"  # field metadata: the field's value as ``Config.describe`` shows it (or None)


def option(flag: str, *, help: str, parse: Callable[[str], T], env: str | None = None,
           default: str | None = None, fallback: T | None = None, fallback_factory: Callable[[], T] | None = None,
           shown_default: str | None = None, describe: Callable[[T], Any] | None = _as_is,
           also: tuple[Option, ...] = ()) -> T:
    """A ``Config`` field set by one option: its value is ``parse`` of the flag's value, else of ``$env``, else of
    ``default``; with none of them, ``fallback`` (or ``fallback_factory()``). ``describe`` gives its entry in
    ``Config.describe`` (None: no entry); ``also`` are options that only ``_rules`` folds into the field."""
    metadata = {_OPTIONS: (Option(flag, help, parse, env, default, shown_default), *also), _DESCRIBE: describe}
    if default is not None:
        return dataclasses.field(default_factory=functools.partial(parse, default), metadata=metadata)
    if fallback_factory is not None:
        return dataclasses.field(default_factory=fallback_factory, metadata=metadata)
    return cast(T, dataclasses.field(default=fallback, metadata=metadata))  # None only where the field allows it


def switch(flag: str, *, help: str) -> bool:
    """A ``Config`` field set by an option without a value: on when given."""
    return dataclasses.field(default=False, metadata={_OPTIONS: (Option(flag, help),), _DESCRIBE: _as_is})


@dataclass(frozen=True)
class Config:
    """Everything a command or fixture needs to know about this invocation.

    Each field declares its option once (``option``): flag, parser, environment variable, default, help, and its
    entry in ``describe``. From these come the argparse and pytest options (``add_options``), the fields' defaults,
    ``describe`` and ``config_from_namespace``; the rules between options are ``_rules``.
    """

    dsn: str | None = option(
        "--dsn", parse=pg_url, env="BALANCE_BENCH_DSN", describe=_server,
        help="PostgreSQL server URL to use instead of the embedded one; the suite only touches databases it created "
             "there")
    redis_url: str | None = option(
        "--redis-url", parse=_redis_url, env="BALANCE_BENCH_REDIS_URL", describe=_server,
        help="Redis URL to use instead of the embedded one")
    redis_prefix: str = option(
        "--redis-prefix", parse=_redis_prefix, env="BALANCE_BENCH_REDIS_PREFIX", fallback="",
        shown_default=f"empty on the embedded Redis, {DEFAULT_EXTERNAL_REDIS_PREFIX!r} on an external one",
        help="prefix for every cache key")
    scales: tuple[Scale, ...] = option(
        "--scale", parse=_scales, env="BALANCE_BENCH_SCALE", default="small", describe=_names,
        help=f"comma-separated dataset scales ({', '.join(SCALES)})",
        also=(Option("--rows", "custom dataset size in balances (replaces --scale)", _rows, env="BALANCE_BENCH_ROWS"),))
    seed: int = option(
        "--seed", parse=_non_negative_int, env="BALANCE_BENCH_SEED", default=str(DEFAULT_SEED),
        help="dataset seed")
    # --from and its companions are recorded with the copied dataset (fixtures.source), not here: no describe
    source: str | None = option(
        "--from", parse=pg_url, env="BALANCE_BENCH_FROM", describe=None,
        help="copy users, tokens and balances from this PostgreSQL URL (one read-only snapshot) and use that copy "
             "instead of a generated scale (replaces --scale)")
    sample: float = option(
        "--sample", parse=_fraction, env="BALANCE_BENCH_SAMPLE", fallback=1.0, describe=None,
        shown_default="1, every user",
        help="with --from: copy this share of the users (0 < FRACTION <= 1), each with all its balances, chosen by "
             "--seed")
    source_map: SourceMap | None = option(  # noqa: RUF009  (as for out, below)
        MAP_FLAG, parse=_source_map, env="BALANCE_BENCH_SOURCE_MAP", describe=None,
        help="with --from: a TOML file naming the source's tables and columns where they differ from the model's "
             "([tables] balances = \"wallet_balances\", [columns.balances] amount = \"bal\")")
    # option() returns a dataclasses.Field (RUF009 cannot tell); paths are this machine's business, so not described
    out: Path = option(  # noqa: RUF009
        "--out", parse=Path, env="BALANCE_BENCH_OUT", default="runs", describe=None,
        help="directory under which run directories are written")
    cache_dir: Path = option(  # noqa: RUF009
        "--cache-dir", parse=Path, env="BALANCE_BENCH_CACHE_DIR", describe=None,
        fallback_factory=lambda: platformdirs.user_cache_path("balance-bench"),
        shown_default="the per-user cache folder", help="where the embedded PostgreSQL keeps its data between runs")
    quick: bool = switch(
        "--quick", help=f"tiny scale, {QUICK_TRIALS} trials, few rounds: a smoke test in under a minute")
    trials: int | None = option(  # None: the runner decides
        "--trials", parse=_trials, env="BALANCE_BENCH_TRIALS",
        shown_default=f"run: {RUN_TRIALS}, --quick: {QUICK_TRIALS}; plain pytest: 1",
        help="how many randomized interleaved trials the matrix runs")
    top_up_s: float | None = option(  # None: the runner decides
        "--top-up", parse=_top_up, env="BALANCE_BENCH_TOP_UP",
        shown_default=f"run: {TOP_UP_S:g}, with --quick or --experiments: 0",
        help="seconds of extra interleaved trials for the cache verdicts still inconclusive after the trials, and the "
             "cases they compare only (0: none)")
    order_seed: int | None = option(
        "--order-seed", parse=_non_negative_int, env="BALANCE_BENCH_ORDER_SEED",
        help="seed of the trials' shuffled case order, recorded with the results")
    replica_dsn: str | None = option(  # a streaming replica of dsn's server (the replica experiment)
        "--replica-dsn", parse=pg_url, env="BALANCE_BENCH_REPLICA_DSN", describe=_secret,
        help="a streaming replica of the --dsn server, for the read-replica experiment; with the embedded server the "
             "suite makes its own")
    cpu: str | int = option(  # placement of the timed client and the servers it started (bench/placement.py)
        "--cpu", parse=_cpu, env="BALANCE_BENCH_CPU", default=CPU_AUTO,
        help="where the timed client and the embedded servers run: auto (all on the last CPU, so every round trip "
             "stays on one core), none (where the scheduler puts them), or a CPU number")
    experiments: tuple[str, ...] = option(  # as given ("all" or names) until the bench layer settles them
        "--experiments", parse=_experiments, env="BALANCE_BENCH_EXPERIMENTS", fallback=(), describe=list,
        help="run these experiments (comma list of names, or all) instead of the guide's matrix; under pytest they "
             "are the items marked 'experiments'")
    network: tuple[Profile, ...] = option(
        "--network", parse=_network, env="BALANCE_BENCH_NETWORK", default=DEFAULT_PROFILES, describe=_names,
        help="network profiles the report projects latencies and re-judges verdicts at: local, same-zone, "
             "cross-zone, or custom like rtt=0.8ms,bw=1gbit or pg:rtt=0.8ms;redis:rtt=0.3ms; comma-separated")

    @property
    def scale_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.scales)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready, password-free view of this config, for run artifacts and logs (each field's ``describe``)."""
        return {f.name: f.metadata[_DESCRIBE](getattr(self, f.name)) for f in dataclasses.fields(self)
                if f.metadata.get(_DESCRIBE) is not None}


OPTIONS: tuple[Option, ...] = tuple(
    dataclasses.replace(o, field=f.name if i == 0 else None)
    for f in dataclasses.fields(Config) for i, o in enumerate(f.metadata.get(_OPTIONS, ()))
)
"""Every option, in the order of the ``Config`` fields they set."""

_BY_DEST = {o.dest: o for o in OPTIONS}

SERVICE: tuple[str, ...] = ("dsn", "redis_url", "redis_prefix", "cache_dir")
"""The options that say which servers to use."""
DATASET: tuple[str, ...] = ("scale", "rows", "seed")
"""The options that say which dataset to use."""
SOURCE: tuple[str, ...] = ("from", "sample", "source_map")
"""The options that copy the user's own data instead (``seed`` and ``run``)."""


def add_options(add: Callable[..., Any], names: Iterable[str] | None = None) -> None:
    """Register options (by dest, all by default) with ``add``: ``ArgumentParser.add_argument`` or pytest's
    ``parser.addoption``. Their defaults are settled in ``config_from_namespace``, which names the source of a bad
    value: a bad ``BALANCE_BENCH_DSN`` is refused like a bad ``--dsn``, as ``$BALANCE_BENCH_DSN``."""
    wanted = set(_BY_DEST) if names is None else set(names)
    if unknown := wanted - _BY_DEST.keys():
        raise ValueError(f"no such option: {', '.join(sorted(unknown))}")
    for option in OPTIONS:
        if option.dest not in wanted:
            continue
        text = option.full_help.replace("%", "%%")  # argparse formats help with %
        if option.is_flag:
            add(option.flag, action="store_true", default=False, dest=_dest(option), help=text)
        else:
            add(option.flag, type=option.parse, default=None, dest=_dest(option), metavar=option.dest.upper(),
                help=text)


def _dest(option: Option) -> str:
    # pytest shares one namespace with every plugin: keep our dests unambiguous.
    return f"bb_{option.dest}"


def _value(option: Option, ns: Any) -> Any:
    """The option's parsed value: given, else from its environment variable (if the command takes the option),
    else its declared default; None without any. A bad environment value or default is one BenchError line."""
    name = _dest(option)
    given = getattr(ns, name, None)
    if given is not None or option.parse is None:
        return given
    if hasattr(ns, name) and option.env and option.env in os.environ:
        raw, source = os.environ[option.env], f"${option.env}"
    elif option.default is not None:
        raw, source = option.default, option.flag
    else:
        return None
    try:
        return option.parse(raw)
    except argparse.ArgumentTypeError as exc:
        raise BenchError(f"{source}: {exc}") from None


def _rules(values: Mapping[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """The rules between options, over their values by dest: ``--rows`` replaces ``--scale``; ``--quick`` means
    the tiny scale unless ``--rows`` is given; an external Redis gets a key prefix by default and refuses an empty
    one; ``--replica-dsn`` needs ``--dsn``; ``--from`` (a copy of the user's data, which replaces ``--scale`` once
    copied: the command sets its scale) refuses ``--rows`` and ``--experiments``, and ``--sample`` and
    ``--source-map`` need it. Returns ``fields`` (the Config fields the options set) so ruled."""
    if values["rows"] is not None:
        fields["scales"] = (values["rows"],)
    elif values["quick"]:
        fields["scales"] = (get_scale("tiny"),)
    if values["redis_url"] and values["redis_prefix"] is None:
        fields["redis_prefix"] = DEFAULT_EXTERNAL_REDIS_PREFIX
    elif values["redis_url"] and values["redis_prefix"] == "":
        raise BenchError(
            "an external Redis needs a non-empty --redis-prefix, so the suite can tell its keys from others"
        )
    if values["replica_dsn"] and not values["dsn"]:
        raise BenchError("--replica-dsn names a replica of an external server: pass that server as --dsn too "
                         "(the embedded server gets a replica of its own)")
    _source_rules(values)
    return fields


def _source_rules(values: Mapping[str, Any]) -> None:
    """``--from`` benchmarks a copy instead of a generated scale, with the guide's matrix: ``--rows`` would ask for
    both and ``--experiments`` build their own generated datasets; ``--sample`` and ``--source-map`` say how to
    copy, so without ``--from`` they would be silently ignored."""
    if values["from"] is not None:
        for dest, why in (("rows", "a generated scale"), ("experiments", "generated datasets of their own")):
            if values.get(dest):
                raise BenchError(f"--from benchmarks a copy of your data, --{dest} {why}: give one of them")
    else:
        for dest in ("sample", "source_map"):
            if values.get(dest) is not None:
                raise BenchError(f"--{dest.replace('_', '-')} says how to copy with --from URL: add --from")


def config_from_namespace(ns: Any) -> Config:
    """Fold parsed options (argparse ``Namespace`` or pytest's ``config.option``) into a ``Config``: each option
    into the field it sets, through ``_rules``; an option without a value leaves its field's default."""
    values = {o.dest: _value(o, ns) for o in OPTIONS}
    fields = {o.field: values[o.dest] for o in OPTIONS if o.field is not None and values[o.dest] is not None}
    return Config(**_rules(values, fields))
