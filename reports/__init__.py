"""Reports: summarise a run directory, judge it against the guide, render HTML (as ``balance_bench.reports``).

Everything here reads saved run artifacts only; nothing imports the database
or Redis layers. Analysts get the same loader the report uses::

    from balance_bench.reports import read_run
    df = read_run("runs/20261126-101500-small").cases
"""

from balance_bench.reports.runs import Run, read_run

__all__ = ["Run", "read_run"]
