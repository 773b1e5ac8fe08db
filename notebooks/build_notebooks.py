"""Write the analyst notebooks from this script, so they are reviewed as code and committed without outputs.

    python notebooks/build_notebooks.py          # rewrite both .ipynb files next to this script
    python notebooks/build_notebooks.py --check  # exit 1 if a committed notebook differs from what this writes

Edit the cells here, not in Jupyter: the test suite fails when a committed
notebook carries outputs or drifts from this script. Cell ids are fixed, so
rebuilding an unchanged script rewrites identical bytes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

# Shared by both notebooks: where the checkout's runs/ folder is, and which runs it holds.
FIND_RUNS = '''\
def repo_root(start: Path) -> Path:
    """The balance-bench checkout the notebook runs in: the nearest folder up holding pyproject.toml."""
    return next((d for d in (start, *start.parents) if (d / "pyproject.toml").is_file()), start)


def runs_newest_first(folder: Path) -> list[Path]:
    """The run directories (those with a summary.json) directly under `folder`, newest first."""
    found = [d for d in folder.iterdir() if (d / "summary.json").is_file()] if folder.is_dir() else []
    return sorted(found, key=lambda d: ((d / "summary.json").stat().st_mtime, d.name), reverse=True)


# `balance-bench run` writes under ./runs, or under $BALANCE_BENCH_OUT when that is set.
RUNS = repo_root(Path.cwd()) / os.environ.get("BALANCE_BENCH_OUT", "runs")
if RUN_DIR is None:
    newest = runs_newest_first(RUNS)
    if not newest:
        raise FileNotFoundError(
            f"No benchmark run found under {RUNS}. Run `balance-bench run` first "
            "(`balance-bench run --quick` takes about 15 s), or set BALANCE_BENCH_RUN_DIR to a run directory."
        )
    RUN_DIR = newest[0]

run = read_run(RUN_DIR)
print(f"run:    {run.path}")
print(f"python: {sys.executable}")'''


class Notebook:
    """Collects cells in order; each gets a stable id from the notebook's prefix and its position."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.cells: list[nbformat.NotebookNode] = []

    def md(self, text: str) -> None:
        self._add(new_markdown_cell(text.strip("\n")))

    def code(self, source: str, tags: tuple[str, ...] = ()) -> None:
        cell = new_code_cell(source.strip("\n"))
        if tags:
            cell.metadata["tags"] = list(tags)
        self._add(cell)

    def _add(self, cell: nbformat.NotebookNode) -> None:
        cell.id = f"{self.prefix}-{len(self.cells) + 1:02d}"
        self.cells.append(cell)

    def build(self) -> nbformat.NotebookNode:
        nb = new_notebook(cells=self.cells, metadata={"kernelspec": dict(KERNELSPEC)})
        nbformat.validate(nb)
        return nb


# --- explore_results.ipynb ----------------------------------------------------------------------------------


def explore_results() -> nbformat.NotebookNode:
    nb = Notebook("explore")
    nb.md("""
# Explore a benchmark run

This notebook loads one `balance-bench run` directory and looks at it from several angles:

1. **does the guide hold here?** The report's headline, one row per claim, then every claim verdict to filter;
2. the **tidy DataFrame** of cases (one row per benchmark case) and the raw timings behind it;
3. a **pivot** of median latency by query x cache x migration x scale;
4. **latency distributions** from every timed call;
5. the **effect of migration 012** (the guide's indexes) on the database path;
6. the **claims as the table grows**, for a run of several scales: where each starts or stops holding;
7. a **comparison with an earlier run**, with a significance test so noise is not called a change;
8. **exporting** the DataFrame to CSV and Parquet.

It reads the run with `read_run`, the same loader the HTML report uses, and judges it with `judge_run`, the one
judging step behind the report and `verdicts.json`, so the numbers and verdicts here are the report's.

**Choosing the run.** Edit the parameters cell below, or set environment variables before starting Jupyter:
`BALANCE_BENCH_RUN_DIR` (default: the newest run under `runs/`) and `BALANCE_BENCH_BASELINE_DIR`
(default: the run before it in the same folder, if any).
""")
    nb.code('''
import os

# The run directory to explore (None: the newest run under the checkout's runs/ folder).
RUN_DIR = os.environ.get("BALANCE_BENCH_RUN_DIR") or None
# An earlier run directory to compare against (None: the run before RUN_DIR in the same folder, if any).
BASELINE_DIR = os.environ.get("BALANCE_BENCH_BASELINE_DIR") or None
# The query whose latency distribution is drawn in detail.
FOCUS_QUERY = "find_by_user_id_and_token_id"
# Where the CSV and Parquet exports are written (None: a new temporary folder).
EXPORT_DIR = None
# Network profiles the verdicts are also judged at, as `--network` takes them ("same-zone,cross-zone", "rtt=0.8ms").
# None: the ones the run was made with, as its report and verdicts.json were judged.
NETWORK = None
''', tags=("parameters",))
    nb.md("## Setup\nImports, plotting defaults, and finding the run directory.")
    nb.code('''
%matplotlib inline
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from balance_bench.network import DEFAULT_PROFILES, parse_profiles
from balance_bench.reports import read_run
from balance_bench.reports.claims import Topic, claims_frame, headline, judge_run, label_counts
from balance_bench.reports.time_gate import comparisons_frame, compare_runs, unmatched
from balance_bench.reports.runs import FIELDS
from balance_bench.reports.sizes import LATENCY, crossover_frame, size_frame
from balance_bench.reports.verdicts import verdicts_frame

pd.set_option("display.max_columns", 40)
pd.set_option("display.max_colwidth", None)  # a verdict's `why` is a sentence: show it whole
pd.set_option("display.width", 200)
plt.rcParams["figure.dpi"] = 90
''')
    nb.code(FIND_RUNS)
    nb.md("""
## Does the guide hold here?

The report's opening table: one row per claim of the guide, judged locally, with the guide's figure, the estimate
and its 95% interval across trials (`low`, `high`; empty where the evidence is plans or per-kind verdicts, which
`why` then counts), the verdict and a sentence saying why. `judge_run` is the one judging step behind the report,
`verdicts.json` and `verdicts.md`, so these rows are theirs: the same claims, labels and sentences.
""")
    nb.code('''
recorded = run.environment.get("settings", {}).get("network")  # the run's --network
profiles = parse_profiles(NETWORK or ",".join(recorded or []) or DEFAULT_PROFILES)
items, claims = judge_run(run, profiles)  # judged once: everything below reads these two lists
print("projected at:", ", ".join(p.name for p in profiles) or "none (local only)")
print(" · ".join(f"{n} {label}" for label, n in label_counts(headline(claims)).items()))
readable = ["title", "guide", "estimate", "low", "high", "label", "why"]
claims_frame(headline(claims)).set_index("scale")[readable].round(1)
''')
    nb.md("""
## Every claim verdict

`claims_frame(claims)` has one row per claim verdict: the headline rows, then each topic's rows per query and
parameter kind (`cache`, `index`, `migration`, `columns`, `guide_cache`, `consistency`), and the cache claims
re-judged at each network profile (`profile`; projected, not measured). `claim` is the id `verdicts.json` uses.
""")
    nb.code('''
claims_table = claims_frame(claims)
claims_table.round(3)
''')
    nb.md("""
Filtering is one line, e.g. the cache claims at the farthest network profile judged (`cross-zone` by default):
""")
    nb.code('''
farthest = profiles[-1].name if profiles else "local"
claims_table.query("topic == 'cache' and profile == @farthest").round(1)
''')
    nb.md("""
## The run

What was measured, and where: the services' versions, the machine and the datasets
(rows per table at each scale) come from the run's `environment` record.
""")
    nb.code('''
env = run.environment
print("captured at:", env.get("captured_at"))
print("PostgreSQL:", env.get("postgres", {}).get("version"), "| Redis:", env.get("redis", {}).get("version"))
print("machine:   ", env.get("machine"))
pd.DataFrame([{"scale": d["scale"], **d["rows"]} for d in env.get("datasets", [])])
''')
    nb.md("""
## The tidy DataFrame

`run.cases` has one row per benchmark case. The coordinates say which case it is:

* `kind`: `read`, `write` (with cache invalidation) or `reference` (raw client calls: this machine's floor);
* `query`, `cache` (`nocache` = straight to PostgreSQL, `cold` = cache miss + fill, `guide_cold` = the same miss
  through the guide's own cache design, `warm` = cache hit), `migration` (`without_012` / `with_012`), `scale`,
  `projection` (`optimized` explicit columns, `legacy` `balances.*` with the joins, or `explicit_joined` explicit
  columns over the joins) and `param_kind` (e.g. a `typical` user or a `whale`).

Then come the timing statistics in milliseconds, the cache hit/miss counters and, for cases with a
captured plan, the plan's execution time and the indexes it used.
""")
    nb.code('''
df = run.cases
print(df.shape[0], "cases;", "columns:", ", ".join(df.columns))
df.head()
''')
    nb.md("""
`run.timings` holds every timed call (one row per round, `ms`), with the same coordinates:
the distributions below are drawn from it.
""")
    nb.code('''
timings = run.timings
timings.head()
''')
    nb.md("""
## Pivot: median latency by query x cache x migration x scale

Read queries with the optimized projection. Rows are query and parameter kind, columns are
scale, cache mode and migration. Change `VALUE` to pivot another statistic (`p95_ms`, `mean_ms`, ...).
""")
    nb.code('''
VALUE = "median_ms"
reads = df[(df["kind"] == "read") & (df["projection"] == "optimized")]
pivot = reads.pivot_table(index=["query", "param_kind"], columns=["scale", "cache", "migration"],
                          values=VALUE, observed=True)
pivot.round(3)
''')
    nb.md("""
## Latency distributions

One panel per read query and parameter kind: a box per cache mode and migration (grey before migration 012,
blue after it), from every timed call, with whiskers at the 5th and 95th percentiles. The y axis is
logarithmic because a warm cache hit and a database read differ by orders of magnitude.
""")
    nb.code('''
SCALE = sorted(reads["scale"].unique())[0]  # the first scale in the run; set another to look at it
read_timings = timings[(timings["kind"] == "read") & (timings["projection"] == "optimized")
                       & (timings["scale"] == SCALE)]
panels = sorted(read_timings.groupby(["query", "param_kind"], observed=True).groups)
order = [(cache, migration) for cache in ("nocache", "cold", "guide_cold", "warm")
         for migration in ("without_012", "with_012")]
colours = {"without_012": "#9aa5b1", "with_012": "#1f5fbf"}

ncols, nrows = 4, -(-len(panels) // 4)
fig, axes = plt.subplots(nrows, ncols, figsize=(16, 3.4 * nrows), squeeze=False)
for ax, (query, param_kind) in zip(axes.flat, panels):
    q = read_timings[(read_timings["query"] == query) & (read_timings["param_kind"] == param_kind)]
    present = [(c, m) for c, m in order if ((q["cache"] == c) & (q["migration"] == m)).any()]
    boxes = ax.boxplot([q[(q["cache"] == c) & (q["migration"] == m)]["ms"] for c, m in present],
                       whis=(5, 95), showfliers=False, patch_artist=True, medianprops={"color": "black"})
    for box, (_, migration) in zip(boxes["boxes"], present):
        box.set_facecolor(colours[migration])
    ax.set_xticks(range(1, len(present) + 1), [c for c, _ in present], fontsize=8)
    ax.set_yscale("log")
    ax.set_title(f"{query} ({param_kind})", fontsize=10)
    ax.set_ylabel("ms")
for ax in axes.flat[len(panels):]:
    ax.set_visible(False)
fig.suptitle(f"Latency per call, scale {SCALE}: grey without migration 012, blue with it")
fig.tight_layout()
plt.show()
''')
    nb.md("""
The focus query in detail, as cumulative distributions: a curve further left is faster,
and the tail on the right is where p95 and p99 come from. Parameter kinds are drawn separately.
""")
    nb.code('''
focus = FOCUS_QUERY if FOCUS_QUERY in set(read_timings["query"]) else panels[0][0]
f = read_timings[read_timings["query"] == focus]
fig, ax = plt.subplots(figsize=(9, 4.5))
for (param_kind, cache, migration), g in f.groupby(["param_kind", "cache", "migration"], observed=True):
    ms = np.sort(g["ms"].to_numpy())
    ax.step(ms, np.arange(1, len(ms) + 1) / len(ms), where="post",
            linestyle="-" if migration == "with_012" else "--", label=f"{param_kind} {cache} {migration}")
ax.set_xscale("log")
ax.set_xlabel("ms per call (log)")
ax.set_ylabel("share of calls at or below")
ax.set_title(f"{focus}, scale {SCALE}")
ax.legend(fontsize=8, ncol=2)
plt.show()
''')
    nb.md("""
## Trials: the unit every interval is computed on

A run is several trials; every case ran once per trial, in a shuffled order, so the two sides of every
comparison were timed in the same minutes. `run.trials` has one row per case and trial (that trial's
median). How much a case moves from trial to trial is the spread every interval in the report reflects:
""")
    nb.code('''
trials = run.trials
spread = (trials.groupby("name")["median_ms"].agg(["min", "median", "max"])
          .assign(spread_pct=lambda t: (t["max"] / t["min"] - 1) * 100).sort_values("spread_pct"))
print(f"{run.design.trials} trials, order seed {run.design.order_seed}")
spread.tail(10).round(4)
''')
    nb.md("""
## The effect of migration 012

Migration 012 adds the guide's indexes. Its effect shows on the database path, the `nocache`
cases: below, the median without the migration divided by the median with it (above 1: the
migration made the query faster).
""")
    nb.code('''
db_path = reads[reads["cache"] == "nocache"]
effect = db_path.pivot_table(index=["scale", "query", "param_kind"], columns="migration",
                             values="median_ms", observed=True).dropna()
effect["speedup"] = effect["without_012"] / effect["with_012"]
effect = effect.sort_values("speedup")

fig, ax = plt.subplots(figsize=(8, 0.35 * len(effect) + 1))
ax.barh([" / ".join(i) for i in effect.index], effect["speedup"], color="#1f5fbf")
ax.axvline(1, color="black", linewidth=0.8)
ax.set_xlabel("median without 012 / median with 012 (no cache)")
plt.show()
effect.round(3)
''')
    nb.md("""
## Every figure behind the verdicts

The claim verdicts at the top are judged from one bundle of figures per read question (query, scale, parameter
kind): the `items` `judge_run` returned with them. `verdicts_frame` shows them all, one column per question here:
cold and warm milliseconds next to the guide's, every ratio computed within each trial with its 95% interval
across trials (`... low`/`... high`), the plan facts (`claimed index`, `index used`) and the per-profile figures.
Its verdict columns are the claim table's labels; the figures around them are where each `why` comes from.
""")
    nb.code('''
figures = verdicts_frame(items).round(3)
figures.set_index(["scale", "query", "params"]).T if not figures.empty else "This run has no matrix reads to judge."
''')
    nb.md("""
## The claims as the table grows

A run of several scales (`balance-bench run --scale tiny,small,medium`) judges every claim at each size.
`size_frame(run, claims)` is tidy, one row per figure per scale with the table's `rows` (balances): each read's
median latency with its interval (`figure == "latency"`, per cache state and migration) and each claim's estimate with
its interval, the guide's range, the threshold it holds above and its verdict (`figure` is the claim's topic).
`crossover_frame` says per claim what it does as the table grows and at how many rows its estimate meets the
threshold, as the report's section *The claims as the table grows* does.
""")
    nb.code('''
sizes = size_frame(run, claims)
by_rows = sizes.groupby("scale", sort=False)["rows"].first().sort_values()
print("sizes:", ", ".join(f"{scale} ({rows:,} rows)" for scale, rows in by_rows.items()) or "none")
if len(by_rows) < 2:
    print("One dataset size: make a run with `balance-bench run --scale tiny,small,medium` to follow the claims "
          "across sizes.")
else:
    display(crossover_frame(run, claims).set_index("claim").drop(columns=["query", "param_kind"]).round(0))
    cache = sizes[sizes["figure"] == Topic.CACHE]
    fig, ax = plt.subplots(figsize=(8, 4))
    for title, claim in cache.groupby("title", sort=False):
        arms = [claim["value"] - claim["low"], claim["high"] - claim["value"]]
        ax.errorbar(claim["rows"], claim["value"], yerr=arms, marker="o", capsize=3, label=title)
    ax.set_xscale("log")
    ax.set_xlabel("balances (rows)")
    ax.set_ylabel("cache improvement, %")
    ax.legend(fontsize=8)
    plt.show()
sizes[sizes["figure"] == LATENCY].head()
''')
    nb.md("""
## Experiments

A run made with `balance-bench run --experiments NAME[,NAME]|all` holds the experiments' figures: `run.experiments`
has one row per figure (ratios computed within each trial with their interval, probe figures measured once) and each
experiment's one-sentence conclusion; `run.cases` holds their timed cases, with `experiment` and `variant` filled in.
""")
    nb.code('''
experiments = run.experiments
if experiments.empty:
    print("This run has no experiments; make one with `balance-bench run --quick --experiments all`.")
else:
    sentences = experiments.groupby(["experiment", "scale"], sort=False)["conclusion"].first()
    for (name, scale), sentence in sentences.items():
        print(f"{name} ({scale or 'no scale'}): {sentence}")
    display(experiments.drop(columns="conclusion").round(3))
''')
    nb.md("""
## Compare with an earlier run

Cases are matched by their coordinates. `change (%)` compares the geometric means of the per-trial medians
(above 0: slower); `change vs floor (%)` divides each trial's median by the transport floor measured in the
same trial first. `verdict` counts a change when a two-sided Welch t-test on both runs' (floor-relative)
per-trial medians is significant (p < 0.01). The CI gate (`report --fail-on-regression PCT`) asks instead whether
a case is slower by *more* than PCT (one-sided, p < 0.01); this table has no threshold, so its gate column is
empty and `detectable (%)` is the smallest slowdown a one-sided test finds with 80% power.
""")
    nb.code('''
if BASELINE_DIR is None:
    current = run.path.resolve()
    siblings = runs_newest_first(current.parent)
    earlier = siblings[siblings.index(current) + 1:] if current in siblings else []
    BASELINE_DIR = earlier[0] if earlier else None
baseline = read_run(BASELINE_DIR) if BASELINE_DIR is not None else None
if baseline is None:
    print("No baseline run: skipping the comparison. Set BASELINE_DIR (or BALANCE_BENCH_BASELINE_DIR) "
          "to an earlier run directory, or make a second run with `balance-bench run`.")
else:
    print(f"current:  {run.path}\\nbaseline: {baseline.path}")
''')
    nb.code('''
if baseline is not None:
    comparison = comparisons_frame(compare_runs(run, baseline))
    only_now, only_before = unmatched(run, baseline)
    print(f"{len(comparison)} cases in both runs; {len(only_now)} only in the current run, "
          f"{len(only_before)} only in the baseline")
    print(comparison["verdict"].value_counts().to_string())
    display(comparison.head(15).round(4))
''')
    nb.code('''
if baseline is not None and not comparison.empty:
    colours = comparison["verdict"].map({"slower": "#c2410c", "faster": "#047857"}).fillna("#9aa5b1")
    fig, ax = plt.subplots(figsize=(8, 0.22 * len(comparison) + 1))
    ax.barh(comparison["case"], comparison["change (%)"], color=colours)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("change of the median, % (orange: significantly slower, green: significantly faster)")
    plt.show()
''')
    nb.md("""
## Export

The DataFrame is one line away from any Python session, and pandas writes it out:

```python
from balance_bench.reports import read_run
df = read_run("runs/<run>").cases
df.to_csv("cases.csv", index=False)
df.to_parquet("cases.parquet")   # needs pyarrow (in the dev extra: pip install -e '.[dev]')
```
""")
    nb.code('''
export_dir = Path(EXPORT_DIR) if EXPORT_DIR else Path(tempfile.mkdtemp(prefix="balance-bench-export-"))
export_dir.mkdir(parents=True, exist_ok=True)
df.to_csv(export_dir / "cases.csv", index=False)
timings.to_csv(export_dir / "timings.csv", index=False)
try:
    df.to_parquet(export_dir / "cases.parquet")
    timings.to_parquet(export_dir / "timings.parquet")
except ImportError as exc:
    print(f"Parquet skipped ({exc}); `pip install pyarrow` to enable it.")
sorted(p.name for p in export_dir.iterdir()), str(export_dir)
''')
    return nb.build()


# --- plan_analysis.ipynb ------------------------------------------------------------------------------------


def plan_analysis() -> nbformat.NotebookNode:
    nb = Notebook("plans")
    nb.md("""
# Analyse a query plan

Every read case run against PostgreSQL saves its `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` plan in the
run directory's `plans/` folder. This notebook picks one case, walks its plan tree with the suite's
analyser (the same one behind `balance-bench explain` and the HTML report), and then puts the plans
**without and with migration 012** of the same query side by side.

EXPLAIN prints *inclusive* times per loop; the analyser turns them into what each node did itself
(**exclusive** time and buffers, summing to the whole plan), and lists **findings** worth a look,
each with a stable code (`slow-seq-scan`, `index-not-used`, `misestimate`, ...).

**Choosing the run and case.** Edit the parameters cell, or set `BALANCE_BENCH_RUN_DIR`
(default: the newest run under `runs/`).
""")
    nb.code('''
import os

# The run directory (None: the newest run under the checkout's runs/ folder).
RUN_DIR = os.environ.get("BALANCE_BENCH_RUN_DIR") or None
# The case to analyse: its coordinates. None means "the first one the run has".
QUERY = "find_by_user_id_and_token_id"
CACHE = "nocache"          # nocache or cold: the cases that reach PostgreSQL
MIGRATION = "with_012"
PROJECTION = "optimized"   # or legacy (SELECT balances.*)
SCALE = None
PARAM_KIND = None
''', tags=("parameters",))
    nb.md("## Setup\nImports, and finding the run directory.")
    nb.code('''
%matplotlib inline
import html
import sys
from dataclasses import asdict
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, display

from balance_bench.reports import read_run
from balance_bench.plans.analysis import analyse, render_text
from balance_bench.plans.parser import read_plan
from balance_bench.reports.runs import FIELDS

pd.set_option("display.max_colwidth", 120)
plt.rcParams["figure.dpi"] = 90
''')
    nb.code(FIND_RUNS)
    nb.md("""
## Cases with a plan

Each of these has a plan file; pick one by setting the parameters above.
""")
    nb.code('''
df = run.cases
planned = df[df["plan_file"].notna()].sort_values(["kind", "query", "param_kind", "cache", "projection", "migration"])
planned[[*FIELDS, "median_ms", "execution_ms", "indexes_used"]].reset_index(drop=True)
''')
    nb.md("""
## The chosen case

`pick_case` finds the case with the given coordinates (leaving out a coordinate takes the first match).
""")
    nb.code('''
def pick_case(run, **coordinates):
    """The first case of `run` with a plan whose coordinates match the ones given (None matches anything)."""
    wanted = {k: v for k, v in coordinates.items() if v is not None}
    for case in run.summary.cases:
        if case.plan and all(getattr(case.coords, k) == v for k, v in wanted.items()):
            return case
    raise LookupError(f"no case with a plan matches {wanted}; see the table of cases with a plan above")


case = pick_case(run, query=QUERY, cache=CACHE, migration=MIGRATION, projection=PROJECTION,
                 scale=SCALE, param_kind=PARAM_KIND)
plan = read_plan(run.plan_path(case))
analysis = analyse(plan)
print(case.name)
print(f"benchmark median {case.median_ms:.3f} ms over {case.rounds} rounds\\n")
print(plan.sql)
''')
    nb.md("""
## The plan tree

Each line is a node, indented under its parent, with the time it spent itself (`own ms`) and its share of
the plan's total, then rows per loop against the planner's estimate. Findings follow.
""")
    nb.code('''
print(render_text(analysis))
''')
    nb.md("""
## Exclusive times and buffers, node by node

`analysis.nodes` as a DataFrame. `exclusive_ms` and the buffer counts are the node's own (its children's
work taken out); `shared_hit` blocks came from PostgreSQL's buffer cache, `shared_read` from the OS or disk.
`misestimate_factor` is how far the planner's row estimate was off; `filter_waste` is the share of rows read
that a filter threw away.
""")
    nb.code('''
def node_frame(analysis):
    """The analyser's per-node figures, the label indented to show the tree."""
    nodes = pd.DataFrame([asdict(n) for n in analysis.nodes])
    nodes["node"] = ["\\u2003" * n.depth + n.label for n in analysis.nodes]
    columns = ["node", "exclusive_ms", "inclusive_ms", "actual_rows", "plan_rows", "loops", "shared_hit",
               "shared_read", "temp_written", "misestimate_factor", "filter_waste"]
    return nodes[columns].set_index("node")


nodes = node_frame(analysis)
print(f"exclusive times add up to {nodes['exclusive_ms'].sum():.3f} ms; "
      f"the root's inclusive time is {analysis.total_ms:.3f} ms")
nodes.round(4)
''')
    nb.code('''
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 0.45 * len(nodes) + 1.5), sharey=True)
labels = [n.label for n in analysis.nodes]
left.barh(labels, nodes["exclusive_ms"], color="#1f5fbf")
left.set_xlabel("exclusive ms")
right.barh(labels, nodes["shared_hit"].fillna(0), color="#047857", label="shared hit")
right.barh(labels, nodes["shared_read"].fillna(0), left=nodes["shared_hit"].fillna(0), color="#c2410c",
           label="shared read")
right.set_xlabel("exclusive buffers (8 kB blocks)")
right.legend()
left.invert_yaxis()
fig.suptitle(case.name, fontsize=9)
fig.tight_layout()
plt.show()
''')
    nb.md("""
## Findings

Each finding has a stable `code` and names the node it is about (none for plan-wide findings such as
`index-not-used`, which checks the guide's claim about which index the query uses).
""")
    nb.code('''
if analysis.findings:
    display(pd.DataFrame([asdict(f) for f in analysis.findings], columns=["code", "node", "message"]))
else:
    print("No findings: nothing in this plan crossed a threshold.")
''')
    nb.md("""
## Without and with migration 012, side by side

The same query, cache mode, projection, scale and parameters, planned once before migration 012 and once
after it. The summary table puts the headline figures next to each other; the trees follow.
""")
    nb.code('''
pair = {}
for migration in ("without_012", "with_012"):
    c = pick_case(run, query=case.coords.query, cache=case.coords.cache, migration=migration,
                  projection=case.coords.projection, scale=case.coords.scale, param_kind=case.coords.param_kind)
    pair[migration] = (c, analyse(read_plan(run.plan_path(c))))


def headline(c, a):
    return {
        "benchmark median ms": round(c.median_ms, 4),
        "execution ms": a.execution_ms,
        "planning ms": a.planning_ms,
        "nodes": a.node_count,
        "node types": ", ".join(dict.fromkeys(n.node_type for n in a.nodes)),
        "indexes used": ", ".join(a.indexes_used) or "none",
        "seq scans on": ", ".join(a.seq_scan_relations) or "none",
        "shared blocks hit / read": f"{sum(n.shared_hit or 0 for n in a.nodes)} / "
                                    f"{sum(n.shared_read or 0 for n in a.nodes)}",
        "findings": ", ".join(f.code for f in a.findings) or "none",
    }


pd.DataFrame({m: headline(c, a) for m, (c, a) in pair.items()})
''')
    nb.code('''
columns = "".join(
    f'<div style="flex:1;min-width:0"><h4>{m}</h4>'
    f'<pre style="font-size:11px;white-space:pre-wrap">{html.escape(render_text(a))}</pre></div>'
    for m, (c, a) in pair.items()
)
display(HTML(f'<div style="display:flex;gap:1.5em">{columns}</div>'))
''')
    nb.code('''
sizes = [len(a.nodes) for _, a in pair.values()]
fig, axes = plt.subplots(2, 1, figsize=(10, 0.45 * sum(sizes) + 2), sharex=True,
                         gridspec_kw={"height_ratios": sizes})
for ax, (migration, (c, a)) in zip(axes, pair.items()):
    ax.barh([n.label for n in a.nodes], [n.exclusive_ms or 0 for n in a.nodes],
            color={"without_012": "#9aa5b1", "with_012": "#1f5fbf"}[migration])
    ax.invert_yaxis()
    ax.set_title(f"{migration}: execution {a.execution_ms:.3f} ms", fontsize=10)
axes[-1].set_xlabel("exclusive ms (same scale in both panels)")
fig.tight_layout()
plt.show()
''')
    nb.md("""
To analyse any other EXPLAIN output, including one pasted from psql, from a terminal:
`balance-bench explain PLAN_FILE` (add `--json` for the figures as one JSON object).
""")
    return nb.build()


NOTEBOOKS: dict[str, Callable[[], nbformat.NotebookNode]] = {
    "explore_results.ipynb": explore_results,
    "plan_analysis.ipynb": plan_analysis,
}


def render(nb: nbformat.NotebookNode) -> str:
    """The notebook's file text, as Jupyter writes it (one trailing newline)."""
    return nbformat.writes(nb).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the committed notebooks are current")
    args = parser.parse_args(argv)
    stale = []
    for name, build in NOTEBOOKS.items():
        path, text = HERE / name, render(build())
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run `python notebooks/build_notebooks.py`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
