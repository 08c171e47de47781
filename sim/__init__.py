"""clover-sim: a discrete-event simulator of data residency placement, security gateways and cost.

Public API::

    import sim
    scenario = sim.load_scenario("scenarios/clover.toml", ["population.mau=180000000"])
    results = sim.simulate(scenario, replications=5, seed=1)
    results.kpi_summary()                     # mean and 95 % interval per KPI
    results.table("costs")                    # tidy tables: placement, transfers, latency, costs, ...
    sim.write_results(results, "results/x")   # the files `clover-sim run` writes

    cmp = sim.experiments.compare([sim.load_scenario(a), sim.load_scenario(b)], replications=20)
    cmp.table()                               # paired differences on common random numbers

    plan = sim.load_sweep("scenarios/sweeps/small.toml")
    report = sim.run_sweep(plan, "results/sweep-small", sim.make_executor())
    staff = sim.staff_for_target(scenario.gateway, p95_wait_s=1800, start_utc=scenario.start_utc,
                                 horizon_s=28 * 86400, seed=0)
    front = sim.pareto_front(scenario, points=21)
    unc = sim.load_propagation("scenarios/clover.toml", n=200)     # input sets from [uncertainty]
    prop = sim.run_propagation(unc, "results/store", sim.make_executor())
    prop.ranges(); prop.drivers()             # p5/p50/p95 per KPI; rank correlations, Sobol indices
    cal = sim.calibrate(unc.inputs, prop.values(), unc.central.observations.kpis)   # posterior
    sim.make_report(["results/clover", "results/pre_clover"], "results/report")
    sim.mmc_mean_wait(arrival_rate=30 / 3600, mean_service_s=300, servers=3)   # Erlang C

Heavy modules (the world, SciPy, numba, Dask) load on first use, so ``clover-sim validate``
stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sim.scenario import Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:
    from sim.experiments.calibration import calibrate, coverage_check
    from sim.experiments.compare import Comparison, compare
    from sim.experiments.executors import make_executor
    from sim.experiments.pareto import pareto_front
    from sim.experiments.replicate import run_replication, simulate
    from sim.experiments.sweep import load_sweep
    from sim.experiments.uncertainty import load_propagation
    from sim.model.gateway import simulate_gateway, staff_for_target
    from sim.report.experiment_files import run_sweep
    from sim.report.files import milestones, write_results
    from sim.report.format import format_kpi, format_number, format_span
    from sim.report.leadership import make_report
    from sim.report.uncertainty_files import run_propagation
    from sim.results import kpis
    from sim.results.gateway import gateway_kpis, gateway_requests_frame, reviewer_utilisation_by_hour
    from sim.results.replication import Results
    from sim.theory.queueing import erlang_c, erlang_c_min_servers, mmc_mean_wait, mmc_wait_quantile

__all__ = [
    "Comparison",
    "Results",
    "Scenario",
    "ScenarioError",
    "__version__",
    "compare",
    "load_scenario",
    "load_sweep",
    "make_executor",
    "make_report",
    "milestones",
    "pareto_front",
    "run_sweep",
    "simulate",
    "simulate_gateway",
    "staff_for_target",
    "write_results",
    "erlang_c",
    "mmc_mean_wait",
    "mmc_wait_quantile",
    "erlang_c_min_servers",
    "format_number",
    "format_kpi",
    "format_span",
    "gateway_kpis",
    "run_replication",
    "gateway_requests_frame",
    "reviewer_utilisation_by_hour",
    "kpis",
    "load_propagation",
    "run_propagation",
    "calibrate",
    "coverage_check",
]

__version__ = "0.1.0"

_LAZY = {
    "load_propagation": "sim.experiments.uncertainty",
    "run_propagation": "sim.report.uncertainty_files",
    "calibrate": "sim.experiments.calibration",
    "coverage_check": "sim.experiments.calibration",
    "simulate": "sim.experiments.replicate",
    "run_replication": "sim.experiments.replicate",
    "Results": "sim.results.replication",
    "compare": "sim.experiments.compare",
    "Comparison": "sim.experiments.compare",
    "load_sweep": "sim.experiments.sweep",
    "run_sweep": "sim.report.experiment_files",
    "make_executor": "sim.experiments.executors",
    "simulate_gateway": "sim.model.gateway",
    "staff_for_target": "sim.model.gateway",
    "pareto_front": "sim.experiments.pareto",
    "write_results": "sim.report.files",
    "milestones": "sim.report.files",
    "make_report": "sim.report.leadership",
    "erlang_c": "sim.theory.queueing",
    "mmc_mean_wait": "sim.theory.queueing",
    "mmc_wait_quantile": "sim.theory.queueing",
    "erlang_c_min_servers": "sim.theory.queueing",
    "format_number": "sim.report.format",
    "format_kpi": "sim.report.format",
    "format_span": "sim.report.format",
    "gateway_kpis": "sim.results.gateway",
    "gateway_requests_frame": "sim.results.gateway",
    "reviewer_utilisation_by_hour": "sim.results.gateway",
}


#: Modules of the public API, loaded on first use (``sim.kpis`` is the KPI catalogue).
_LAZY_MODULES = {"kpis": "sim.results.kpis"}


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        return importlib.import_module(_LAZY_MODULES[name])
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
