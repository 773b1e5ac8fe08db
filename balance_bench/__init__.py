"""balance-bench: measures whether the balance-query optimization guide's claims hold, and why.

The harness lives here (config, errors, CLI) and in the mapped sub-packages
``balance_bench.fixtures`` (repo folder ``fixtures/``), ``balance_bench.bench``
(``bench/``) and ``balance_bench.reports`` (``reports/``). The system under test
is the separate package ``balance_model``.
"""

__version__ = "0.1.0"
