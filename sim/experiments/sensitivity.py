"""Global sensitivity analysis of KPIs to scenario parameters (SALib Morris and Sobol).

The sweep's design points are the method's sample over the parameter ranges; the KPI of a point
is its mean over the replications (all points share their seeds, so noise is common to them).

Indices, per KPI and parameter (tidy table ``kpi, parameter, method, index, value, conf95``):

* Morris (elementary effects, screening): ``mu_star`` (mean absolute effect, in the KPI's unit
  per full parameter range / (levels - 1) step), ``mu`` (signed mean), ``sigma`` (spread:
  non-linearity or interaction); ``conf95`` is the bootstrap half-width of ``mu_star``.
* Sobol (variance shares, 0..1): ``S1`` (first order) and ``ST`` (total) with bootstrap
  half-widths.

SALib is imported inside the functions: it is only needed when a sensitivity design is run.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from sim.scenario.sweep import SensitivitySpec

__all__ = ["sample", "analyze", "sensitivity_chart", "MAIN_INDEX"]

#: The index that ranks parameters in the chart, per method.
MAIN_INDEX = {"morris": "mu_star", "sobol": "ST"}


def _problem(ranges: dict[str, tuple[float, float]]) -> dict[str, Any]:
    return {"num_vars": len(ranges), "names": list(ranges), "bounds": [list(b) for b in ranges.values()]}


def sample(spec: SensitivitySpec, ranges: dict[str, tuple[float, float]]) -> np.ndarray:
    """The SALib sample of the method: one row per design point, one column per parameter.

    Args:
        spec: method, sample size, levels and seed.
        ranges: dotted key -> (low, high), in column order.
    """
    problem = _problem(ranges)
    if spec.method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, spec.n, num_levels=spec.levels, seed=spec.seed)
    from SALib.sample import sobol

    return sobol.sample(problem, spec.n, calc_second_order=False, seed=spec.seed)


def analyze(
    spec: SensitivitySpec,
    ranges: dict[str, tuple[float, float]],
    x: np.ndarray,
    y: dict[str, np.ndarray],
) -> pd.DataFrame:
    """Sensitivity indices of each KPI.

    Args:
        spec: the sensitivity design that produced ``x``.
        ranges: dotted key -> (low, high), in column order of ``x``.
        x: the design points actually run (rows of the sample, integers rounded).
        y: KPI name -> mean value per design point (same row order as ``x``).

    Returns:
        Tidy indices: kpi, parameter, method, index, value, conf95. A KPI with a missing value
        (a failed point) is left out.
    """
    problem = _problem(ranges)
    rows: list[tuple[str, str, str, str, float, float]] = []
    for kpi, values in y.items():
        values = np.asarray(values, dtype=float)
        if not np.all(np.isfinite(values)):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows.extend(_indices(spec, problem, x, values, kpi))
    return pd.DataFrame(rows, columns=["kpi", "parameter", "method", "index", "value", "conf95"])


def _indices(
    spec: SensitivitySpec, problem: dict[str, Any], x: np.ndarray, y: np.ndarray, kpi: str
) -> list[tuple[str, str, str, str, float, float]]:
    rows = []
    if spec.method == "morris":
        from SALib.analyze import morris

        res = morris.analyze(problem, np.asarray(x, dtype=float), y, num_levels=spec.levels, seed=spec.seed)
        for i, name in enumerate(problem["names"]):
            conf = float(res["mu_star_conf"][i])
            rows.append((kpi, name, "morris", "mu_star", float(res["mu_star"][i]), conf))
            rows.append((kpi, name, "morris", "mu", float(res["mu"][i]), float("nan")))
            rows.append((kpi, name, "morris", "sigma", float(res["sigma"][i]), float("nan")))
        return rows
    from SALib.analyze import sobol

    if np.ptp(y) == 0:  # no variance: every index is zero (SALib would divide by zero)
        return [(kpi, n, "sobol", idx, 0.0, 0.0) for n in problem["names"] for idx in ("S1", "ST")]
    res = sobol.analyze(problem, y, calc_second_order=False, seed=spec.seed)
    for i, name in enumerate(problem["names"]):
        rows.append((kpi, name, "sobol", "S1", float(res["S1"][i]), float(res["S1_conf"][i])))
        rows.append((kpi, name, "sobol", "ST", float(res["ST"][i]), float(res["ST_conf"][i])))
    return rows


def sensitivity_chart(indices: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Tornado chart: one panel per KPI, parameters ranked by the main index, 95 % bars.

    Args:
        indices: the table of :func:`analyze`.
        title: figure title; default names the method and the top parameter of the first KPI.

    Raises:
        ValueError: if the table holds no main index.
    """
    main = indices[indices["index"].isin(MAIN_INDEX.values())]
    if main.empty:
        raise ValueError("no sensitivity indices to chart: every KPI failed or the table is empty")
    kpis = list(dict.fromkeys(main["kpi"]))
    n_params = main["parameter"].nunique()
    fig = Figure(figsize=(6.5, 0.6 + len(kpis) * (0.5 + 0.32 * n_params)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(kpis), 1, squeeze=False)[:, 0]
    for ax, kpi in zip(axes, kpis, strict=True):
        part = main[main["kpi"] == kpi].sort_values("value")
        ax.barh(part["parameter"], part["value"], xerr=part["conf95"].fillna(0.0), color="#0072B2", capsize=3)
        ax.set_title(kpi, fontsize=9, loc="left")
        ax.set_xlabel(str(part["index"].iloc[0]), fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    method = str(main["method"].iloc[0])
    first = main[main["kpi"] == kpis[0]].sort_values("value").iloc[-1]
    fig.suptitle(title or f"{method.capitalize()} sensitivity: {first['parameter']} drives {kpis[0]} most", fontsize=10)
    return fig
