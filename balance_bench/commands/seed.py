"""``balance-bench seed``: build (or reuse) each selected scale's dataset and print one JSON line per scale; with
``--from URL``, copy the user's own data instead (a fresh snapshot each time) and print its line."""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from balance_bench.config import DATASET, SERVICE, SOURCE, Config
from balance_bench.fixtures.layouts import LAYOUTS, Layout, get_layout  # light: no driver imported
from balance_bench.terminal import interactive

if TYPE_CHECKING:
    from balance_bench.fixtures.bulk_load import Progress
    from balance_bench.fixtures.datasets import Dataset
    from balance_bench.fixtures.services import Endpoints

NAME = "seed"
HELP = "build (or reuse) the dataset database for a scale and print one JSON line"
OPTIONS = (*SERVICE, *DATASET, *SOURCE)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The dataset layout: the guide's plain table, or the partitioned variant of the partitioning experiment."""
    parser.add_argument("--layout", choices=tuple(LAYOUTS), default="plain",
                        help="how balances is stored: plain (the guide's table, default) or hash8 (8 hash partitions "
                             "by user_id); each layout is a dataset of its own")


@contextlib.contextmanager
def _progress_bar(label: str, total: int | None) -> Iterator[Progress | None]:
    """A rich bar (rows/s, ETA; without a ``total``, rows/s only) on a terminal; nothing when piped or in CI."""
    if not interactive():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    rate = TextColumn("{task.fields[rate]:>14}")
    with Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), rate, TimeRemainingColumn(),
             transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total, rate="")

        def advance(stage: str, rows: int) -> None:
            bar.update(task, advance=rows, description=f"{label}: {stage}")
            speed = bar.tasks[task].speed
            bar.update(task, rate=f"{speed:,.0f} rows/s" if speed else "")

        yield advance


def _print(dataset: Dataset, started: float) -> None:
    """The dataset's JSON line; a copy adds where it came from (``source``)."""
    print(json.dumps({
        "scale": dataset.scale.name, "seed": dataset.seed, "rows": dataset.rows, "fingerprint": dataset.fingerprint,
        "seconds": round(time.perf_counter() - started, 3), "reused": dataset.reused,
        "database": dataset.database, "params": dataset.params_dict(),
        "generator_version": dataset.generator_version, "schema_version": dataset.schema_version,
        "timings": dataset.timings, "layout": dataset.layout,
        **({"source": dataset.source.describe()} if dataset.source is not None else {}),
    }), flush=True)


def _copy(config: Config, endpoints: Endpoints, layout: Layout) -> None:
    """``--from``: a fresh copy of the user's data, in place of the scales."""
    from balance_bench.fixtures.source import Source, copy_dataset

    started = time.perf_counter()
    with _progress_bar("seed --from", None) as progress:
        dataset = copy_dataset(endpoints, Source.of(config), progress=progress, layout=layout)
    _print(dataset, started)


def run(config: Config, args: argparse.Namespace) -> int:
    """Ensure each dataset (or, with ``--from``, copy one); stdout gets one JSON line per dataset, progress goes to
    stderr on a terminal."""
    from balance_bench.fixtures.datasets import ensure_dataset
    from balance_bench.fixtures.services import running_services

    layout = get_layout(args.layout)
    with running_services(config) as endpoints:
        if config.source is not None:
            _copy(config, endpoints, layout)
            return 0
        for scale in config.scales:
            started = time.perf_counter()
            with _progress_bar(f"seed {scale.name}", scale.users + scale.tokens + scale.balances) as progress:
                dataset = ensure_dataset(endpoints, scale, config.seed, progress=progress, layout=layout)
            _print(dataset, started)
    return 0
