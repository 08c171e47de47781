"""Replications: the one place a replication is run, and many of them with their seeds.

All replications of a run are spawned from one ``numpy.random.SeedSequence(seed)``; inside a
replication each component draws from its own generator keyed by its name, so the same seed gives
the same results byte for byte, and two scenarios run on the same seed see the same demand.

:func:`run_replication` (world + results) is what every experiment runs: :func:`simulate`, a run
of a sweep or a comparison (:func:`sim.experiments.runs.execute_run`) and a point of a Pareto
sweep (:func:`sim.experiments.pareto.evaluate`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.meters.gateway import RequestSink
from sim.model import world
from sim.results.replication import ReplicationResult, Results, replication_result
from sim.scenario import Scenario
from sim.seeds import replication_seeds

__all__ = ["replication_seeds", "run_replication", "simulate"]


def run_replication(scenario: Scenario, seed_seq: np.random.SeedSequence,
                    gateway_requests: RequestSink | None = None) -> ReplicationResult:
    """Run one replication: the discrete-event world on one seed, then its KPIs and tables.

    Args:
        scenario: the resolved scenario.
        seed_seq: the replication's SeedSequence (see :func:`sim.seeds.replication_seeds`).
        gateway_requests: takes every gateway request of the run while it runs (the per-request
            table); the results keep only the gateway's tally.

    Returns:
        The replication's KPIs, tidy tables and warnings.

    Raises:
        sim.model.world.ModelInputError: the scenario cannot run (e.g. no site available).
    """
    if gateway_requests is None:
        meters = world.run_world(scenario, seed_seq)
    else:
        meters = world.run_world(scenario, seed_seq, gateway_requests)
    return replication_result(meters, scenario)


def simulate(
    scenario: Scenario,
    *,
    replications: int = 1,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    gateway_requests: RequestSink | None = None,
) -> Results:
    """Run ``replications`` independent replications of a scenario.

    Args:
        scenario: the resolved scenario.
        replications: how many replications (>= 1).
        seed: root seed; defaults to the scenario's ``seed``.
        progress: called with (done, total) after each replication.
        gateway_requests: takes every gateway request of the first replication while it runs.

    Returns:
        The results of every replication.
    """
    root = scenario.seed if seed is None else seed
    results = Results(scenario=scenario, seed=root)
    seeds = replication_seeds(root, replications)
    for i, seed_seq in enumerate(seeds):
        results.replications.append(run_replication(scenario, seed_seq, gateway_requests if i == 0 else None))
        if progress is not None:
            progress(i + 1, len(seeds))
    return results
