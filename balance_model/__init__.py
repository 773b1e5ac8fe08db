"""The system under test: a Python port of the guide's balance model, its queries and its Redis cache.

It knows nothing about benchmarking; the harness (``balance_bench``) drives it
from outside.
"""
