"""One module per ``balance-bench`` command, each with one typed entry point.

Every command module defines ``NAME``, ``HELP``, ``OPTIONS`` (the shared options
from ``balance_bench.config`` it takes), ``add_arguments(parser)`` for its own
arguments and ``run(config, args) -> int``. ``balance_bench.cli`` imports them
by name; library modules hold no CLI code.

A command imports the stages it drives inside ``run()``: ``balance-bench --help``
and a one-line error must not wait for pandas, scipy, matplotlib and pytest.
"""
