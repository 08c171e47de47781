"""Pareto sweep of the weighted optimising policy: cost, carbon and latency trade-offs.

For each point of a simplex grid of weights (cost, carbon, latency) the ``weighted`` placement
policy (:mod:`sim.model.placement.optimiser`) is run through the discrete-event world, and the same world
runs the named reference policies: ``clover``, ``nearest_in_zone`` and ``pre_clover`` (on the
scenario's sites outside its residency zones, e.g. virginia and singapore, with everything else - gateway, staff,
demand - unchanged). Every point is therefore measured the same way, by the simulator's own KPIs -
not by the optimiser's linear approximation of them:

* ``cost_eur_per_year``: total yearly cost (EUR/yr, every category of :mod:`sim.results.costs`, so fixed
  costs such as staff and oversight are included and equal for every point);
* ``co2_t_per_year``: tonnes of CO2 per year;
* ``user_rtt_ms_mean``: request-weighted mean modelled round trip (ms).

All points run on the same seed (common random numbers) and, by default, a 28-day horizon from
the scenario's start (:data:`DEFAULT_HORIZON_DAYS`: four whole weeks of the weekly and daily
demand profile; costs are annualised from it as in every run; ``--days 365`` runs whole years).
``on_front`` marks the rows no other row dominates (no worse on all three KPIs and better on one).

:func:`pareto_front` is pure (DataFrame out); the report layer draws it
(:func:`sim.report.charts.experiments.pareto_chart`) and writes it
(:func:`sim.report.experiment_files.write_pareto`: ``pareto.csv`` and ``pareto.png``, atomically),
for the ``clover-sim pareto`` command (:mod:`sim.cli.pareto`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.typing import NDArray

import sim.model.placement.optimiser  # noqa: F401  (registers the optimising policies)
from sim.experiments.replicate import run_replication
from sim.model.world import ModelInputError
from sim.results.kpis import PARETO_KPIS
from sim.scenario import Scenario
from sim.scenario.places import in_enclave
from sim.seeds import replication_seeds

__all__ = [
    "COLUMNS",
    "DEFAULT_HORIZON_DAYS",
    "REFERENCE_POLICIES",
    "weight_grid",
    "evaluate",
    "mark_front",
    "pareto_front",
]

#: Columns of ``pareto.csv``, in order: the policy, its weights, the catalogue's PARETO_KPIS, on_front.
COLUMNS = ("policy", "w_cost", "w_carbon", "w_latency", *PARETO_KPIS, "on_front")
#: Horizon of every run of a sweep unless told otherwise, days.
DEFAULT_HORIZON_DAYS = 28.0
#: The named policies evaluated next to the sweep.
REFERENCE_POLICIES = ("clover", "pre_clover", "nearest_in_zone")


def weight_grid(points: int) -> list[dict[str, float]]:
    """A simplex lattice of (cost, carbon, latency) weights with at least ``points`` points.

    The lattice with d divisions has (d + 1)(d + 2) / 2 points (3, 6, 10, 15, 21, 28, ...);
    the smallest one with at least ``points`` points is used, so ``points`` is rounded up.

    Args:
        points: wanted number of weight combinations (>= 1; 1 gives equal weights).

    Returns:
        Weight dicts summing to 1, the three single-objective vertices included when d >= 1.
    """
    if points < 1:
        raise ValueError(f"points must be >= 1 (got {points})")
    if points == 1:
        return [{"cost": 1 / 3, "carbon": 1 / 3, "latency": 1 / 3}]
    d = 1
    while (d + 1) * (d + 2) // 2 < points:
        d += 1
    return [
        {"cost": i / d, "carbon": j / d, "latency": (d - i - j) / d}
        for i in range(d, -1, -1)
        for j in range(d - i, -1, -1)
    ]


def _with_policy(scenario: Scenario, placement: str, weights: dict[str, float] | None = None) -> Scenario:
    update: dict[str, object] = {"placement": placement}
    if weights is not None:
        update["weights"] = dict(weights)
    return scenario.model_copy(update={"policy": scenario.policy.model_copy(update=update)})


def evaluate(scenario: Scenario, seed: int | None = None) -> dict[str, float]:
    """Run one replication of ``scenario`` and return the sweep's KPIs.

    Args:
        scenario: the scenario with the placement policy to evaluate.
        seed: root seed (default: the scenario's), the same for every point of a sweep.

    Returns:
        The catalogue's PARETO_KPIS: ``cost_eur_per_year``, ``co2_t_per_year`` and
        ``user_rtt_ms_mean``, as the replication's results compute them.
    """
    root = scenario.seed if seed is None else seed
    kpis = run_replication(scenario, replication_seeds(root, 1)[0]).kpis
    return {name: float(kpis[name].value) for name in PARETO_KPIS}


def mark_front(df: pd.DataFrame, columns: tuple[str, ...] = PARETO_KPIS, rel_tol: float = 1e-9) -> NDArray[np.bool_]:
    """True for rows that no other row dominates (all ``columns`` minimised).

    A row is dominated when another row is <= on every column and < on at least one, where
    values within ``rel_tol`` (relative to the column's magnitude) count as equal, so the same
    placement reached from two weight points is never marked as dominating itself. Rows with
    NaN in any column are never on the front.
    """
    values = df.loc[:, list(columns)].to_numpy(dtype=float)
    ok = ~np.isnan(values).any(axis=1)
    front = np.zeros(len(values), dtype=bool)
    if not ok.any():
        return front
    other = values[ok]
    tol = rel_tol * np.maximum(np.abs(other).max(axis=0), 1e-300)
    for i in np.flatnonzero(ok):
        no_worse = (other <= values[i] + tol).all(axis=1)
        better = (other < values[i] - tol).any(axis=1)
        front[i] = not (no_worse & better).any()
    return front


def pareto_front(
    scenario: Scenario,
    points: int = 21,
    *,
    seed: int | None = None,
    horizon_days: float | None = DEFAULT_HORIZON_DAYS,
) -> pd.DataFrame:
    """Sweep the weights of the ``weighted`` policy and evaluate the reference policies.

    Args:
        scenario: the resolved scenario (its ``policy.placement`` and ``policy.weights`` are
            replaced per point, its horizon by ``horizon_days``; everything else is used as given).
        points: number of weight combinations, rounded up to a simplex lattice (see
            :func:`weight_grid`).
        seed: root seed for every run (default: the scenario's).
        horizon_days: horizon of every run; None keeps the scenario's ``time.horizon_days``.

    Returns:
        One row per point with :data:`COLUMNS`; reference policies have NaN weights.
        ``df.attrs["notes"]`` lists what was skipped and why.

    Raises:
        sim.model.placement.optimiser.InfeasiblePlacement: the optimised placement has no feasible
            solution for this scenario (the message names the binding constraints).
        sim.model.world.ModelInputError: no site is available at the start.
    """
    if horizon_days is not None:
        if not horizon_days > 0:
            raise ValueError(f"horizon_days must be > 0 (got {horizon_days})")
        scenario = scenario.model_copy(update={"time": scenario.time.model_copy(update={"horizon_days": float(horizon_days)})})
    rows: list[dict[str, object]] = []
    notes: list[str] = []
    for w in weight_grid(points):
        kpis = evaluate(_with_policy(scenario, "weighted", w), seed)
        rows.append({"policy": "weighted", "w_cost": w["cost"], "w_carbon": w["carbon"], "w_latency": w["latency"], **kpis})
    zone_sites = [s for s in scenario.policy.sites if in_enclave(scenario, s)]
    legacy = [s for s in scenario.sites if not in_enclave(scenario, s)]
    for name in REFERENCE_POLICIES:
        variant = _with_policy(scenario, name)
        if name == "pre_clover":
            if not legacy:
                notes.append("pre_clover skipped: the scenario defines no site outside its residency zones")
                continue
            variant = variant.model_copy(update={"policy": variant.policy.model_copy(update={"sites": legacy})})
        elif not zone_sites:
            notes.append(f"{name} skipped: the scenario's policy.sites has no site inside its residency zones")
            continue
        else:
            variant = variant.model_copy(update={"policy": variant.policy.model_copy(update={"sites": zone_sites})})
        try:
            kpis = evaluate(variant, seed)
        except ModelInputError as exc:
            notes.append(f"{name} skipped: {exc.problem}")
            continue
        rows.append({"policy": name, "w_cost": math.nan, "w_carbon": math.nan, "w_latency": math.nan, **kpis})
    df = pd.DataFrame(rows, columns=list(COLUMNS[:-1]))
    df["on_front"] = mark_front(df)
    df.attrs["notes"] = notes
    return df
