"""Charts of uncertainty: a tornado chart of a KPI's drivers, prior against posterior of the inputs.

* :func:`tornado_chart` - for one KPI, one bar per input (most important at the top) from the
  KPI's mean over the input sets whose input lies in its lowest fifth to the mean over those in
  its highest fifth, around the central run's value; the rank correlation is written at the bar.
* :func:`calibration_chart` - per input, its prior and its posterior 90 % range, each drawn on
  the prior range scaled to 0-1 so that inputs of different units share one axis.

Tables in (those of :mod:`sim.experiments.uncertainty` and :mod:`sim.experiments.calibration`),
a :class:`~matplotlib.figure.Figure` on an Agg canvas out; nothing is shown or written.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from sim.report.charts.style import BLUE, GREY, VERMILLION, apply_style, check_frame, new_figure
from sim.report.format import format_span, format_value

__all__ = ["tornado_chart", "calibration_chart"]

_DRIVER_COLUMNS = ("kpi", "order", "input", "rank_correlation", "kpi_low_input", "kpi_high_input")
_POSTERIOR_COLUMNS = ("input", "prior_p5", "prior_p95", "posterior_p5", "posterior_p50", "posterior_p95")


def tornado_chart(
    drivers: pd.DataFrame,
    kpi: str,
    *,
    central: float | None = None,
    unit: str = "",
    label: str | None = None,
    top: int = 10,
    title: str | None = None,
) -> Figure:
    """Tornado chart of one KPI's drivers.

    Args:
        drivers: the drivers table (``drivers.csv``) with at least one row for ``kpi``.
        kpi: the KPI.
        central: the central run's value (a vertical line), if known.
        unit: the KPI's unit (axis ticks and the default title).
        label: the KPI's label for the axis; default its name.
        top: how many inputs to show (the most important).
        title: default names the two largest drivers and the KPI's swing over the first.

    Returns:
        A Figure with one horizontal bar per input.

    Raises:
        ValueError: if the table lacks a column or has no row for ``kpi``.
    """
    check_frame(drivers, "drivers", _DRIVER_COLUMNS)
    part = drivers[drivers["kpi"] == kpi].sort_values("order").head(top)
    if part.empty:
        raise ValueError(f"drivers has no row for KPI {kpi!r}")
    part = part.iloc[::-1]  # most important at the top
    lows = part["kpi_low_input"].to_numpy(float)
    highs = part["kpi_high_input"].to_numpy(float)
    fig = new_figure((9.0, 1.5 + 0.38 * len(part)))
    ax = fig.add_subplot()
    y = np.arange(len(part))
    left, right = np.minimum(lows, highs), np.maximum(lows, highs)
    colors = [VERMILLION if h >= lo else BLUE for lo, h in zip(lows, highs, strict=True)]
    ax.barh(y, right - left, left=left, color=colors, height=0.6)
    for yi, r, rho in zip(y, right, part["rank_correlation"].to_numpy(float), strict=True):
        ax.annotate(f" rho {rho:+.2f}", (r, yi), va="center", fontsize=8)
    ax.set_yticks(y, part["input"].tolist())
    if central is not None and math.isfinite(central):
        ax.axvline(central, color="black", lw=1, ls="--")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_value(v)))
    name = f"{label or kpi} ({unit})" if unit else (label or kpi)
    ax.set_xlabel(f"{name}\nmean over the input sets with the input in its lowest / highest fifth; dashed: central run",
                  fontsize=8)
    ax.legend(handles=[Patch(color=VERMILLION, label="higher input,\nhigher KPI"),
                       Patch(color=BLUE, label="higher input,\nlower KPI")],
              fontsize=8, loc="upper left", bbox_to_anchor=(1.08, 1.0), frameon=False)
    if title is None:
        first, second = part.iloc[-1], part.iloc[-2] if len(part) > 1 else None
        span = format_span(min(first["kpi_low_input"], first["kpi_high_input"]),
                           max(first["kpi_low_input"], first["kpi_high_input"]), unit)
        names = f"{first['input']}" + (f" and {second['input']}" if second is not None else "")
        title = f"{label or kpi} is driven most by {names}; the first alone moves it over {span}"
    apply_style(ax, grid_axis="x")
    fig.suptitle(textwrap.fill(title, 95), x=0.01, ha="left", fontsize=10, fontweight="bold")
    return fig


def calibration_chart(posterior: pd.DataFrame, *, top: int = 12, title: str | None = None) -> Figure:
    """Prior and posterior 90 % ranges of the inputs the observations say most about.

    Each input's axis is its prior range (p5 at 0, p95 at 1); the posterior range and median are
    drawn on it, and the posterior range is written in the input's own unit.

    Args:
        posterior: the table of :meth:`sim.experiments.calibration.Calibration.input_posterior`
            (sorted, most informative first).
        top: how many inputs to show.
        title: default states the input the observations narrow most.

    Returns:
        A Figure.

    Raises:
        ValueError: if the table is empty or lacks a column.
    """
    check_frame(posterior, "posterior", _POSTERIOR_COLUMNS)
    part = posterior.head(top).iloc[::-1]
    fig = new_figure((9.0, 1.5 + 0.4 * len(part)))
    ax = fig.add_subplot()
    y = np.arange(len(part))
    lo, hi = part["prior_p5"].to_numpy(float), part["prior_p95"].to_numpy(float)
    width = np.where(hi > lo, hi - lo, 1.0)

    def scaled(col: str) -> np.ndarray:
        return (part[col].to_numpy(float) - lo) / width

    ax.barh(y, np.ones(len(part)), left=np.zeros(len(part)), color=GREY, alpha=0.35, height=0.7, label="prior 90 %")
    p5, p50, p95 = scaled("posterior_p5"), scaled("posterior_p50"), scaled("posterior_p95")
    ax.barh(y, p95 - p5, left=p5, color=BLUE, height=0.35, label="posterior 90 %")
    ax.plot(p50, y, "|", color="black", markersize=12, label="posterior median")
    for yi, a, b, right in zip(y, part["posterior_p5"], part["posterior_p95"], np.maximum(p95, 1.0), strict=True):
        ax.annotate(f" {format_value(float(a))} to {format_value(float(b))}", (right, yi), va="center", fontsize=8)
    ax.set_yticks(y, part["input"].tolist())
    ax.set_xlabel("position in the prior 90 % range (0 = prior p5, 1 = prior p95); posterior range in the input's unit",
                  fontsize=8)
    ax.set_xlim(min(-0.05, float(np.nanmin(p5)) - 0.05), max(1.6, float(np.nanmax(p95)) + 0.6))
    ax.legend(fontsize=8, loc="lower right")
    if title is None:
        first = part.iloc[-1]
        title = (f"What the published figures imply: {first['input']} "
                 f"{format_value(float(first['posterior_p5']))} to {format_value(float(first['posterior_p95']))}")
    apply_style(ax, grid_axis="x")
    fig.suptitle(textwrap.fill(title, 95), x=0.01, ha="left", fontsize=10, fontweight="bold")
    return fig
