"""Many runs: replications, the runs store, executors, comparisons, sweeps, sensitivity, Pareto fronts."""
