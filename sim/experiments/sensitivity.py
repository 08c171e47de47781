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
The tornado chart of the indices is drawn by :func:`sim.report.charts.experiments.sensitivity_chart`.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sim.scenario.sweep import SensitivitySpec

__all__ = ["sample", "analyze", "analysed_kpis", "MAIN_INDEX"]

#: The index that ranks parameters, per method.
MAIN_INDEX = {"morris": "mu_star", "sobol": "ST"}


def analysed_kpis(spec: SensitivitySpec) -> list[str]:
    """The KPIs to analyse: the spec's own, or the catalogue's :data:`~sim.results.kpis.SENSITIVITY_KPIS`."""
    if spec.kpis:
        return list(spec.kpis)
    # imported here: ``sim.results`` loads the model, which the driver of a sweep does not need
    from sim.results.kpis import SENSITIVITY_KPIS

    return list(SENSITIVITY_KPIS)


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
