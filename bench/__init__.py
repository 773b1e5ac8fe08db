"""The benchmark matrix: pytest-benchmark cases, plan capture and the ``run`` command (installed as ``balance_bench.bench``)."""
