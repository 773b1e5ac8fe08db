"""Load mode (``balance-bench load``): the balance model under concurrent Locust users, from one machine to many.

Modules: ``mix`` (what users do), ``plan`` (the steps of a sweep, handed to Locust),
``locustfile`` (Locust's side: users, the step driver, per-process recording),
``capture`` (what Locust hands back per step), ``probes`` (PostgreSQL's and
Redis's own counters), ``percentiles`` and ``correctness`` (merging samples,
conservation of money, staleness), ``swarm`` (starting, watching and stopping
the Locust processes) and ``sweep`` (the whole run, from dataset copies to
records). Importing this package imports nothing heavy: ``locustfile`` must be
imported only inside a Locust process, after gevent has patched the standard library.
"""

from pathlib import Path

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
"""The file to hand to ``locust -f`` (master, local run or a worker on another machine)."""
