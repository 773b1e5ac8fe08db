"""The experiments registry: the guide's open questions, each a variant of the schema or the model against the baseline.

Adding an experiment is one module and one entry here:

1. write ``bench/experiments/<name>.py`` declaring ``EXPERIMENT = Experiment(...)``
   (the fields and their contracts are in ``spec``): its variants, how to
   prepare each on its private copy, its timed cases, its correctness check,
   the plan of each case, its probes, the ratios its conclusion reads, and the
   one-sentence conclusion;
2. add ``<name>.EXPERIMENT`` to ``_ALL`` in ``registry``;
3. test it against real servers in ``tests/bench/experiments/test_<name>.py``
   with ``spec.exercise`` on workspaces from ``workspace.experiment_workspaces``.

The worked example is ``antipattern``: two variants (the guide's schema; the
same with a partial index applied to the copy in ``prepare``), one case (the
filter for the most common threshold), an oracle check, the plan of the read,
the index size as a probe, one ratio, and a sentence. Running the cases
interleaved in trials, capturing their plans and rendering their report
sections is the engine's business (``bench`` and ``reports``), not the
experiment's.
"""

from balance_bench.bench.experiments.registry import EXPERIMENTS, select

__all__ = ["EXPERIMENTS", "select"]
