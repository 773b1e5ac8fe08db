"""Repository-wide pytest setup: the suite's options and fixtures come from one plugin."""

pytest_plugins = ["balance_bench.fixtures.plugin"]
