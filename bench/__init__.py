"""The benchmark matrix: pytest-benchmark cases in interleaved trials, and plan capture.

Installed as ``balance_bench.bench``.
"""
