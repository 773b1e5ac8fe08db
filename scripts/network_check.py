"""Print the network projection against a measurement through a latency-injecting proxy (loopback only).

The matrix's main reads (find_by_id, find_by_user_id, find_by_user_id_and_token_id,
total_balance_by_user) in each cache state, timed directly, through a zero-delay
proxy and through one injecting ``--rtt-ms``; beside them the projection
``measured + round trips x RTT`` from the direct and from the zero-delay median,
with its error against the delayed measurement. The test
``tests/bench/test_traffic.py`` asserts the zero-delay column within 15% (the
proxy's own cost, about 0.1 ms per round trip, is the apparatus, not the network).

    python scripts/network_check.py [--rtt-ms 1.0] [--rounds 40] [--dsn URL --redis-url URL]
"""

from __future__ import annotations

import argparse
import sys

from balance_bench.bench.network_check import run_check, table
from balance_bench.config import SERVICE, add_options, config_from_namespace
from balance_bench.fixtures.services import running_services


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt-ms", type=float, default=1.0, help="round trip injected (half per direction)")
    parser.add_argument("--rounds", type=int, default=40, help="timed calls per read, state and path")
    add_options(parser.add_argument, SERVICE)
    args = parser.parse_args()
    config = config_from_namespace(args)
    with running_services(config) as endpoints:
        rows = run_check(endpoints, rtt_ms=args.rtt_ms, rounds=args.rounds)
    print(f"injected RTT {args.rtt_ms:g} ms; medians in ms over {args.rounds} calls per path; "
          "rt = round trips per call (PostgreSQL+Redis) from the traffic pass")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
