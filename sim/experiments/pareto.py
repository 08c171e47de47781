"""Pareto sweep of the weighted optimising policy: cost, carbon and latency trade-offs.

For each point of a simplex grid of weights (cost, carbon, latency) the ``weighted`` placement
policy (:mod:`sim.model.placement.optimiser`) is run through the discrete-event world, and the same world
runs the named reference policies: ``clover``, ``nearest_eea`` and ``pre_clover`` (on the
scenario's non-EEA sites, e.g. virginia and singapore, with everything else - gateway, staff,
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

:func:`pareto_front` is pure (DataFrame out); :func:`pareto_chart` turns it into a Figure;
:func:`register_cli` / :func:`cmd_pareto` are the ``clover-sim pareto`` command, which writes
``pareto.csv`` and ``pareto.png`` atomically.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import sim.model.placement.optimiser  # noqa: F401  (registers the optimising policies)
from sim.seeds import replication_seeds
from sim.model.world import ModelInputError, run_world
from sim.report.style import apply_style, policy_color
from sim.results.replication import replication_result
from sim.scenario import Scenario

__all__ = [
    "COLUMNS",
    "DEFAULT_HORIZON_DAYS",
    "REFERENCE_POLICIES",
    "weight_grid",
    "evaluate",
    "mark_front",
    "pareto_front",
    "pareto_chart",
]

#: Columns of ``pareto.csv``, in order.
COLUMNS = (
    "policy",
    "w_cost",
    "w_carbon",
    "w_latency",
    "cost_eur_per_year",
    "co2_t_per_year",
    "user_rtt_ms_mean",
    "on_front",
)
#: Horizon of every run of a sweep unless told otherwise, days.
DEFAULT_HORIZON_DAYS = 28.0
#: The named policies evaluated next to the sweep.
REFERENCE_POLICIES = ("clover", "pre_clover", "nearest_eea")
_KPIS = ("cost_eur_per_year", "co2_t_per_year", "user_rtt_ms_mean")


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
    """Run one replication of ``scenario`` and return the three sweep KPIs.

    Args:
        scenario: the scenario with the placement policy to evaluate.
        seed: root seed (default: the scenario's), the same for every point of a sweep.

    Returns:
        ``cost_eur_per_year``, ``co2_t_per_year`` and ``user_rtt_ms_mean``.
    """
    root = scenario.seed if seed is None else seed
    meters = run_world(scenario, replication_seeds(root, 1)[0])
    kpis = replication_result(meters, scenario).kpis
    served = meters.served_requests
    total = float(served.sum())
    rtt = float((served * meters.rtt_ms).sum() / total) if total > 0 else math.nan
    return {
        "cost_eur_per_year": kpis["cost_eur_per_year"].value,
        "co2_t_per_year": kpis["co2_t_per_year"].value,
        "user_rtt_ms_mean": rtt,
    }


def mark_front(df: pd.DataFrame, columns: tuple[str, ...] = _KPIS, rel_tol: float = 1e-9) -> NDArray[np.bool_]:
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
    eea_sites = [s for s in scenario.policy.sites if scenario.sites[s].jurisdiction == "EEA"]
    legacy = [s for s in scenario.sites if scenario.sites[s].jurisdiction != "EEA"]
    for name in REFERENCE_POLICIES:
        variant = _with_policy(scenario, name)
        if name == "pre_clover":
            if not legacy:
                notes.append("pre_clover skipped: the scenario defines no site outside the EEA")
                continue
            variant = variant.model_copy(update={"policy": variant.policy.model_copy(update={"sites": legacy})})
        elif not eea_sites:
            notes.append(f"{name} skipped: the scenario's policy.sites has no EEA site")
            continue
        else:
            variant = variant.model_copy(update={"policy": variant.policy.model_copy(update={"sites": eea_sites})})
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


def _xy(df: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Chart coordinates: mean RTT (ms), cost (EUR m/yr)."""
    return df["user_rtt_ms_mean"].to_numpy(float), df["cost_eur_per_year"].to_numpy(float) / 1e6


def pareto_chart(df: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Cost against mean round trip, coloured by CO2; reference policies marked and labelled.

    Args:
        df: a :func:`pareto_front` table (columns :data:`COLUMNS`).
        title: chart title; default states how many points are on the front.

    Returns:
        A Figure on an Agg canvas (nothing shown or written).
    """
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing or df.empty:
        raise ValueError(f"pareto table needs rows with columns {list(COLUMNS)} (missing {missing})")
    fig = Figure(figsize=(8.5, 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    co2 = df["co2_t_per_year"].to_numpy(float)
    lo, hi = float(np.nanmin(co2)), float(np.nanmax(co2))
    norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)
    cmap = "viridis"
    sweep = df[df["policy"] == "weighted"]
    front = sweep[sweep["on_front"]]
    rest = sweep[~sweep["on_front"]]
    ax.scatter(*_xy(rest), c=rest["co2_t_per_year"], cmap=cmap, norm=norm, s=36, alpha=0.45, linewidths=0, zorder=4)
    mappable = ax.scatter(
        *_xy(front), c=front["co2_t_per_year"], cmap=cmap, norm=norm, s=50, edgecolors="black", linewidths=1.0, zorder=4
    )
    handles = [
        Line2D([], [], marker="o", ls="", color="grey", markeredgecolor="black", label="weighted optimum, on the front"),
        Line2D([], [], marker="o", ls="", color="grey", alpha=0.45, label="weighted optimum, dominated"),
    ]
    for row in df[df["policy"] != "weighted"].itertuples(index=False):
        colour = policy_color(row.policy)
        ax.scatter([row.user_rtt_ms_mean], [row.cost_eur_per_year / 1e6], c=[row.co2_t_per_year], cmap=cmap, norm=norm,
                   s=220, marker="D", edgecolors=colour, linewidths=2.5, zorder=3)
        ax.annotate(row.policy, (row.user_rtt_ms_mean, row.cost_eur_per_year / 1e6), xytext=(8, 6),
                    textcoords="offset points", color=colour, fontsize=9, fontweight="bold")
        handles.append(
            Line2D([], [], marker="D", ls="", color="white", markeredgecolor=colour, markeredgewidth=2, label=row.policy)
        )
    fig.colorbar(mappable, ax=ax, label="CO2, t per year")
    ax.set_xlabel("mean user round trip, ms")
    ax.set_ylabel("cost, EUR m per year")
    n_front = int(df["on_front"].sum())
    ax.set_title(title or f"Cost against latency: {n_front} of {len(df)} placements on the Pareto front")
    ax.legend(handles=handles, loc="best", frameon=False)
    apply_style(ax, grid_axis="both")
    return fig
