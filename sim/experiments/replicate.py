"""Replications and seeds.

All replications of a run are spawned from one ``numpy.random.SeedSequence(seed)``; inside a
replication each component draws from its own generator keyed by its name, so the same seed gives
the same results byte for byte, and two scenarios run on the same seed see the same demand.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.model.world import run_world
from sim.seeds import replication_seeds
from sim.results.replication import Results, replication_result
from sim.scenario import Scenario

__all__ = ["replication_seeds", "simulate"]


def simulate(
    scenario: Scenario,
    *,
    replications: int = 1,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Results:
    """Run ``replications`` independent replications of a scenario.

    Args:
        scenario: the resolved scenario.
        replications: how many replications (>= 1).
        seed: root seed; defaults to the scenario's ``seed``.
        progress: called with (done, total) after each replication.

    Returns:
        The results of every replication.
    """
    root = scenario.seed if seed is None else seed
    results = Results(scenario=scenario, seed=root)
    seeds = replication_seeds(root, replications)
    for i, seed_seq in enumerate(seeds):
        meters = run_world(scenario, seed_seq)
        results.replications.append(replication_result(meters, scenario))
        if progress is not None:
            progress(i + 1, len(seeds))
    return results
