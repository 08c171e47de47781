"""Charts of experiments: a scenario comparison, a sensitivity analysis, a Pareto front.

Tables in (those of :mod:`sim.experiments.compare`, :mod:`sim.experiments.sensitivity` and
:mod:`sim.experiments.pareto`), :class:`~matplotlib.figure.Figure` out, on an Agg canvas:
nothing is shown or written; :mod:`sim.report.experiment_files` saves them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import NDArray

from sim.experiments.sensitivity import MAIN_INDEX
from sim.report.charts.style import (
    BLUE,
    BLUISH_GREEN,
    GREY,
    ORANGE,
    REDDISH_PURPLE,
    SKY_BLUE,
    VERMILLION,
    apply_style,
    new_figure,
    policy_color,
)
from sim.results.kpis import COMPARE_CHART_KPIS, PARETO_KPIS

__all__ = ["comparison_chart", "sensitivity_chart", "pareto_chart"]

#: Bar colours of the compared scenarios, baseline first.
_SCENARIO_COLORS = (GREY, BLUE, VERMILLION, BLUISH_GREEN, REDDISH_PURPLE, ORANGE, SKY_BLUE)

#: Columns a Pareto table needs to be drawn.
_PARETO_COLUMNS = ("policy", "w_cost", "w_carbon", "w_latency", *PARETO_KPIS, "on_front")


def comparison_chart(table: pd.DataFrame, kpis: Sequence[str] = COMPARE_CHART_KPIS) -> Figure:
    """Means with 95 % error bars (top row) and paired differences against the baseline (bottom).

    Args:
        table: the tidy table of :meth:`sim.experiments.compare.Comparison.table`.
        kpis: KPIs to draw (those missing from the table are skipped); default the catalogue's
            COMPARE_CHART_KPIS.

    Returns:
        A Figure on an Agg canvas.

    Raises:
        ValueError: if none of ``kpis`` is in the table.
    """
    shown = [k for k in kpis if k in set(table["kpi"])]
    if not shown:
        raise ValueError(f"none of the KPIs {list(kpis)} is in the comparison table")
    labels = list(dict.fromkeys(table["scenario"]))
    fig = new_figure((3.2 * len(shown), 5.6))
    axes = fig.subplots(2, len(shown), squeeze=False)
    for i, kpi in enumerate(shown):
        part = table[table["kpi"] == kpi].set_index("scenario").reindex(labels)
        x = np.arange(len(labels))
        col = [_SCENARIO_COLORS[j % len(_SCENARIO_COLORS)] for j in range(len(labels))]
        err = np.vstack([part["mean"] - part["ci95_low"], part["ci95_high"] - part["mean"]])
        axes[0, i].bar(x, part["mean"], yerr=err, color=col, capsize=4)
        axes[0, i].set_title(f"{kpi}\n[{part['unit'].dropna().iloc[0]}]", fontsize=8)
        derr = np.vstack([part["diff_mean"] - part["diff_ci95_low"], part["diff_ci95_high"] - part["diff_mean"]])
        axes[1, i].bar(x[1:], part["diff_mean"].iloc[1:], yerr=derr[:, 1:], color=col[1:], capsize=4)
        axes[1, i].axhline(0.0, color="black", lw=0.8)
        axes[1, i].set_title(f"difference vs {labels[0]}", fontsize=8)
        for ax in axes[:, i]:
            ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=7)
            ax.tick_params(axis="y", labelsize=7)
            ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Scenario comparison: mean and paired difference, 95 % intervals (common random numbers)", fontsize=9)
    return fig


def sensitivity_chart(indices: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Tornado chart: one panel per KPI, parameters ranked by the main index, 95 % bars.

    Args:
        indices: the table of :func:`sim.experiments.sensitivity.analyze`.
        title: figure title; default names the method and the top parameter of the first KPI.

    Returns:
        A Figure on an Agg canvas.

    Raises:
        ValueError: if the table holds no main index.
    """
    main = indices[indices["index"].isin(MAIN_INDEX.values())]
    if main.empty:
        raise ValueError("no sensitivity indices to chart: every KPI failed or the table is empty")
    kpis = list(dict.fromkeys(main["kpi"]))
    n_params = main["parameter"].nunique()
    fig = new_figure((6.5, 0.6 + len(kpis) * (0.5 + 0.32 * n_params)))
    axes = fig.subplots(len(kpis), 1, squeeze=False)[:, 0]
    for ax, kpi in zip(axes, kpis, strict=True):
        part = main[main["kpi"] == kpi].sort_values("value")
        ax.barh(part["parameter"], part["value"], xerr=part["conf95"].fillna(0.0), color=BLUE, capsize=3)
        ax.set_title(kpi, fontsize=9, loc="left")
        ax.set_xlabel(str(part["index"].iloc[0]), fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    method = str(main["method"].iloc[0])
    first = main[main["kpi"] == kpis[0]].sort_values("value").iloc[-1]
    fig.suptitle(title or f"{method.capitalize()} sensitivity: {first['parameter']} drives {kpis[0]} most", fontsize=10)
    return fig


def _xy(df: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Chart coordinates: mean RTT (ms), cost (EUR m/yr)."""
    return df["user_rtt_ms_mean"].to_numpy(float), df["cost_eur_per_year"].to_numpy(float) / 1e6


def pareto_chart(df: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Cost against mean round trip, coloured by CO2; reference policies marked and labelled.

    Args:
        df: a :func:`sim.experiments.pareto.pareto_front` table.
        title: chart title; default states how many points are on the front.

    Returns:
        A Figure on an Agg canvas (nothing shown or written).

    Raises:
        ValueError: if the table is empty or lacks a column.
    """
    missing = [c for c in _PARETO_COLUMNS if c not in df.columns]
    if missing or df.empty:
        raise ValueError(f"pareto table needs rows with columns {list(_PARETO_COLUMNS)} (missing {missing})")
    fig = new_figure((8.5, 5.5))
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
