"""Files of uncertainty: assumption ranges and drivers in a run's folder, and a calibration's folder.

``clover-sim run FILE --uncertainty N`` writes, next to the usual files of a run
(:func:`sim.report.files.write_results` calls :func:`add_uncertainty` and
:func:`write_uncertainty_files` inside the same atomic folder):

* ``summary.json`` gains, per KPI in ``kpis[NAME]``, ``"assumption_range": {"p5", "p50", "p95"}``
  next to the stochastic interval (``mean``, ``ci95_low``, ``ci95_high``); and at the top level
  ``"drivers": {NAME: [{"input", "rank_correlation", "sobol_first", "sobol_total",
  "kpi_low_input", "kpi_high_input"}, ...]}`` (most important first, at most
  :data:`TOP_DRIVERS` per KPI) and ``"uncertainty": {...}`` (how the input sets were drawn);
* ``drivers.csv``: every input for every KPI that varies (``kpi, order, input,
  rank_correlation, sobol_first, sobol_total, kpi_low_input, kpi_high_input``);
* ``uncertainty_runs.csv``: one row per input set: input_set, run_id, status, error, the inputs,
  the KPIs;
* ``tornado_<KPI>.png``: a tornado chart per headline KPI that varies.

:func:`run_propagation` runs the input sets into a folder of run records (``<store>/runs/<id>.json``,
:class:`~sim.report.run_store.DirectoryRunStore`), so an interrupted propagation resumes.

``clover-sim calibrate FILE`` writes its own folder with :func:`write_calibration`:
``calibration.json`` (observations, effective sample size, coverage check, posterior of every
input and KPI), ``posterior_inputs.csv``, ``posterior_kpis.csv``, ``calibration_runs.csv`` (the
input sets, their KPIs and posterior weights) and ``calibration.png``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.calibration import Calibration, Coverage
from sim.experiments.executors import Executor
from sim.experiments.runs import RunOutcome
from sim.experiments.uncertainty import Propagation, PropagationPlan, execute_propagation
from sim.report.io import atomic_dir
from sim.report.run_store import DirectoryRunStore
from sim.results import kpis as catalogue

__all__ = [
    "TOP_DRIVERS",
    "add_uncertainty",
    "chart_name",
    "run_propagation",
    "write_calibration",
    "write_uncertainty_files",
]

#: Drivers per KPI kept in ``summary.json`` (``drivers.csv`` has them all).
TOP_DRIVERS = 10
_DPI = 110
_PNG_META = {"Software": None}


def _json_value(x: Any, unit: str, start: pd.Timestamp) -> float | str | None:
    """A value as ``summary.json`` writes it: None when missing, an ISO date for unit ``date``."""
    if x is None or not math.isfinite(float(x)):
        return None
    if unit == "date":
        return (start + pd.Timedelta(days=float(x))).date().isoformat()
    return float(x)


def _finite_or_none(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def _strict(doc: Any) -> Any:
    """The document with every non-finite float replaced by None (strict JSON)."""
    if isinstance(doc, dict):
        return {k: _strict(v) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [_strict(v) for v in doc]
    if isinstance(doc, float) and not math.isfinite(doc):
        return None
    return doc


def add_uncertainty(summary: dict[str, Any], propagation: Propagation, *, top: int = TOP_DRIVERS) -> dict[str, Any]:
    """``summary.json`` with the assumption ranges, the drivers and how they were drawn.

    Args:
        summary: a run's summary (``Results.summary()``).
        propagation: the input sets of the same scenario.
        top: drivers kept per KPI.

    Returns:
        A new document: every ``kpis[NAME]`` gains ``assumption_range`` (None for a KPI no input
        set reported), and ``drivers`` and ``uncertainty`` come before ``resolved_scenario``.
    """
    start = pd.Timestamp(summary["start"]).tz_localize(None)
    ranges = propagation.ranges().set_index("kpi")
    kpis = {}
    for name, row in summary["kpis"].items():
        entry = dict(row)
        if name in ranges.index and ranges.loc[name, "runs"] > 0:
            r = ranges.loc[name]
            entry["assumption_range"] = {q: _json_value(r[q], row["unit"], start) for q in ("p5", "p50", "p95")}
        else:
            entry["assumption_range"] = None
        kpis[name] = entry
    drivers = propagation.drivers()
    by_kpi: dict[str, list[dict[str, Any]]] = {}
    for kpi, part in drivers.groupby("kpi", sort=False):
        by_kpi[str(kpi)] = [
            {
                "input": r.input,
                "rank_correlation": _finite_or_none(r.rank_correlation),
                "sobol_first": _finite_or_none(r.sobol_first),
                "sobol_total": _finite_or_none(r.sobol_total),
                "kpi_low_input": _finite_or_none(r.kpi_low_input),
                "kpi_high_input": _finite_or_none(r.kpi_high_input),
            }
            for r in part.sort_values("order").head(top).itertuples(index=False)
        ]
    out = {k: v for k, v in summary.items() if k != "resolved_scenario"}
    out["kpis"] = kpis
    out["drivers"] = by_kpi
    out["uncertainty"] = _strict(propagation.describe())
    if "resolved_scenario" in summary:
        out["resolved_scenario"] = summary["resolved_scenario"]
    return out


def run_propagation(
    plan: PropagationPlan,
    store: str | Path,
    executor: Executor,
    *,
    force: bool = False,
    on_outcome: Callable[[RunOutcome], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> Propagation:
    """Run the plan's input sets not yet recorded in ``store`` (records written as runs finish).

    Args:
        plan: the input sets (:func:`sim.experiments.uncertainty.load_propagation`).
        store: folder of run records, shared by any number of propagations (content-addressed).
        executor: where runs execute.
        force: rerun finished runs too.
        on_outcome: called after each run's record is written.
        on_start: called once with (runs to execute, runs skipped) before executing.
    """
    return execute_propagation(
        plan, DirectoryRunStore(store), executor, force=force, on_outcome=on_outcome, on_start=on_start
    )


def chart_name(kpi: str) -> str:
    """File name of a KPI's tornado chart."""
    return f"tornado_{kpi}.png"


def write_uncertainty_files(
    propagation: Propagation, folder: Path, *, central: dict[str, Any] | None = None, with_charts: bool = True
) -> None:
    """Write ``drivers.csv``, ``uncertainty_runs.csv`` and the tornado charts into ``folder``.

    Called inside the atomic folder of a run (:func:`sim.report.files.write_results`).

    Args:
        propagation: the input sets and their KPIs.
        folder: the (temporary) results folder.
        central: KPI name -> the central run's mean (the tornado's reference line).
        with_charts: also draw a tornado chart per headline KPI that varies.
    """
    drivers = propagation.drivers()
    drivers.to_csv(folder / "drivers.csv", index=False)
    propagation.table().to_csv(folder / "uncertainty_runs.csv", index=False)
    if not with_charts:
        return
    from sim.report.charts.uncertainty import tornado_chart  # Matplotlib loads only when a chart is drawn

    central = central or {}
    for kpi in catalogue.HEADLINE_KPIS:
        if kpi not in set(drivers["kpi"]) or catalogue.unit(kpi) == "date":
            continue
        fig = tornado_chart(drivers, kpi, central=central.get(kpi), unit=catalogue.unit(kpi), label=catalogue.label(kpi))
        fig.savefig(folder / chart_name(kpi), dpi=_DPI, metadata=_PNG_META)


def write_calibration(
    calibration: Calibration,
    propagation: Propagation,
    out: Path,
    *,
    coverage: Coverage | None = None,
    with_charts: bool = True,
) -> Path:
    """Write a calibration's folder atomically (replaced whole).

    Args:
        calibration: the posterior.
        propagation: the input sets it reweighted.
        out: destination folder.
        coverage: the synthetic coverage check, if run.
        with_charts: also draw ``calibration.png``.

    Returns:
        The folder.
    """
    doc = {
        "scenario": propagation.plan.name,
        "file": propagation.plan.file,
        **calibration.describe(),
        "coverage_check": coverage.describe() if coverage is not None else None,
        "uncertainty": propagation.describe(),
    }
    runs = propagation.table()
    runs.insert(4, "posterior_weight", calibration.weights)

    def fill(tmp: Path) -> None:
        text = json.dumps(_strict(doc), indent=2, allow_nan=False)
        (tmp / "calibration.json").write_text(text + "\n", encoding="utf-8")
        calibration.input_posterior().to_csv(tmp / "posterior_inputs.csv", index=False)
        calibration.kpi_posterior().to_csv(tmp / "posterior_kpis.csv", index=False)
        runs.to_csv(tmp / "calibration_runs.csv", index=False)
        if with_charts:
            from sim.report.charts.uncertainty import calibration_chart

            fig = calibration_chart(calibration.input_posterior())
            fig.savefig(tmp / "calibration.png", dpi=_DPI, metadata=_PNG_META)

    return atomic_dir(Path(out), fill)
