"""Many runs: replications, run ids and stores, executors, comparisons, sweep designs and sweeps, sensitivity, Pareto fronts.

Everything here returns data (tables, records, reports): nothing draws or writes a file. The charts and files of
experiments are in :mod:`sim.report.charts.experiments` and :mod:`sim.report.experiment_files`.
"""
