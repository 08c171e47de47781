"""clover-sim: a discrete-event simulator of data residency placement, security gateways and cost.

Public API::

    from sim import load_scenario, simulate
    scenario = load_scenario("scenarios/clover.toml", ["population.mau=180000000"])
    results = simulate(scenario, replications=5, seed=1)
    results.kpi_summary()          # mean and 95 % interval per KPI
    results.table("costs")         # tidy tables: placement, transfers, latency, costs, ...

Heavy modules (the world, SciPy) load on first use, so ``clover-sim validate`` stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sim.scenario import Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:
    from sim.experiment import simulate
    from sim.results import Results

__all__ = ["load_scenario", "simulate", "Results", "Scenario", "ScenarioError", "__version__"]

__version__ = "0.1.0"

_LAZY = {"simulate": "sim.experiment", "Results": "sim.results"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
