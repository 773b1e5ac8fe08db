"""``balance-bench check``: the guide's structural claims asserted on one dataset, and its counters against a baseline.

No timing at all: every read and write case of one scale runs once, untimed, on two private copies of the dataset
(``bench.inspection``); ``reports.check`` judges the findings and, with ``--baseline``, the counters against a file a
team committed. Exit 0 when the check passes (or a baseline was written), 1 on a failing finding or a counter
regression, 2 on a user error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from balance_bench.config import DATASET, SERVICE, Config
from balance_bench.errors import BenchError

NAME = "check"
HELP = ("assert the guide's structural claims on a dataset, untimed (indexes used, round trips, warm reads, "
        "invalidation), and compare every case's counters with a baseline file")
OPTIONS = (*SERVICE, *DATASET)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The baseline to compare with or to write, the reports to write, and the Seq Scan bound."""
    parser.add_argument("--baseline", type=Path, metavar="FILE",
                        help="compare with this baseline (from --write-baseline): exit 1 on a finding it does not "
                             "list or a counter regression (another plan, blocks beyond the counter gate's threshold, "
                             "an added round trip or Redis command)")
    parser.add_argument("--write-baseline", type=Path, metavar="FILE",
                        help="write this check's counters and findings to FILE, for a team to commit; its findings "
                             "are thereby accepted (exit 0 unless --baseline fails)")
    parser.add_argument("--markdown", type=Path, metavar="PATH",
                        help="write the decision, findings and counter differences as Markdown to PATH (for a job "
                             "summary or a pull-request comment)")
    parser.add_argument("--junit-xml", type=Path, metavar="PATH",
                        help="write each case as a JUnit test case to PATH, failed when it has a failing finding or a "
                             "counter regression")
    parser.add_argument("--max-seq-scan-rows", type=int, metavar="N",
                        help="a claimed read's plan with 012 may have no Seq Scan reading more than N rows "
                             "(default: reports.findings.MAX_SEQ_SCAN_ROWS, 1,000)")


def _refuse_missing_folders(args: argparse.Namespace) -> None:
    for flag, path in (("--write-baseline", args.write_baseline), ("--markdown", args.markdown),
                       ("--junit-xml", args.junit_xml)):
        if path is not None and not path.parent.is_dir():
            raise BenchError(f"{flag} {path}: the folder {path.parent} does not exist")


def run(config: Config, args: argparse.Namespace) -> int:
    """Gather, judge, print the summary, write what was asked; 1 when the check fails."""
    from balance_bench.bench.inspection import gather
    from balance_bench.bench.world import World
    from balance_bench.fixtures.datasets import ensure_dataset
    from balance_bench.fixtures.services import running_services
    from balance_bench.reports.baseline import read_baseline, write_baseline
    from balance_bench.reports.check import judge_check
    from balance_bench.reports.check_document import summary_lines, write_junit, write_markdown, written_lines
    from balance_bench.reports.findings import MAX_SEQ_SCAN_ROWS

    if len(config.scales) != 1:
        raise BenchError(f"check runs one scale at a time (one baseline each), not {', '.join(config.scale_names)}: "
                         "give --scale NAME")
    scale = config.scales[0]
    max_rows = MAX_SEQ_SCAN_ROWS if args.max_seq_scan_rows is None else args.max_seq_scan_rows
    if max_rows < 0:
        raise BenchError(f"--max-seq-scan-rows {max_rows}: give a number of rows, 0 or more")
    _refuse_missing_folders(args)
    baseline = read_baseline(args.baseline) if args.baseline is not None else None
    if baseline is not None:
        baseline.refuse_other_scale(scale.name)  # before any server starts
    started = time.perf_counter()
    with running_services(config) as endpoints:
        dataset = ensure_dataset(endpoints, scale, config.seed)
        if baseline is not None:
            baseline.refuse_other_dataset(dataset.describe())
        world = World(config, endpoints, {scale.name: dataset})
        try:
            evidence = gather(world, scale.name)
        finally:
            world.close()
    result = judge_check(evidence, max_rows, baseline)
    written = []
    if args.write_baseline is not None:
        written.append(write_baseline(args.write_baseline, evidence, result.findings, result.counters, max_rows))
    if baseline is None and args.write_baseline is not None:
        print("\n".join(written_lines(result, args.write_baseline)))
    else:
        print("\n".join(summary_lines(result)))
    if args.markdown is not None:
        written.append(write_markdown(args.markdown, result))
    if args.junit_xml is not None:
        written.append(write_junit(args.junit_xml, result))
    wrote = f"; wrote {', '.join(str(path) for path in written)}" if written else ""
    print(f"check took {time.perf_counter() - started:.1f} s{wrote}", file=sys.stderr)
    accepting = baseline is None and args.write_baseline is not None  # the file written accepts what was found
    return 0 if result.passed or accepting else 1
