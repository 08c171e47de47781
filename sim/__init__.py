"""clover-sim: a discrete-event simulator of data residency placement, security gateways and cost.

Public API::

    from sim import load_scenario, simulate
    scenario = load_scenario("scenarios/clover.toml", ["population.mau=180000000"])
    results = simulate(scenario, replications=5, seed=1)
    results.kpi_summary()          # mean and 95 % interval per KPI
    results.table("costs")         # tidy tables: placement, transfers, latency, costs
"""

from sim.experiment import simulate
from sim.results import Results
from sim.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["load_scenario", "simulate", "Results", "Scenario", "ScenarioError", "__version__"]

__version__ = "0.1.0"
