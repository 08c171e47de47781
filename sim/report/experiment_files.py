"""Files of experiments: a comparison, a Pareto front, a sweep's folder - all written atomically.

* :func:`write_comparison` - ``compare.csv``, ``replications.csv``, ``compare.json``, ``compare.png``
  (the folder replaced whole);
* :func:`write_pareto` - ``pareto.csv`` and ``pareto.png`` (the folder replaced whole);
* :func:`run_sweep` - runs a sweep into its output folder (``clover-sim sweep FILE --out DIR``)::

      sweep.json          the sweep spec, the design points, the base resolved scenario, model version
      runs/<run_id>.json  one record per run (written atomically as each run finishes)
      sweep.parquet       one row per run: run_id, point, replication, <swept keys...>, seed,
      sweep.csv           status, error, <KPIs...> (the same table twice)
      sensitivity.csv     kpi, parameter, method, index, value, conf95 (sensitivity designs only)
      sensitivity.png     tornado chart of the main index

  Re-running the same sweep into the same folder skips runs whose record says ``ok`` (failed runs
  are tried again); ``force=True`` reruns everything.

The runs themselves are :mod:`sim.experiments`'s; this module only decides what goes into which
file, through :mod:`sim.report.io`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.experiments.compare import Comparison
from sim.experiments.executors import Executor
from sim.experiments.runs import RunOutcome
from sim.experiments.sweep import SweepPlan, SweepReport, execute_sweep, manifest
from sim.report.charts.experiments import comparison_chart, pareto_chart, sensitivity_chart
from sim.report.io import atomic_dir, atomic_file, atomic_write_text, dumps_json
from sim.report.run_store import DirectoryRunStore

__all__ = [
    "run_sweep",
    "write_comparison",
    "write_pareto",
    "write_sensitivity",
    "write_sweep_manifest",
    "write_sweep_tables",
]

#: Resolution of every PNG written here.
_DPI = 110


def write_comparison(comparison: Comparison, out: str | Path, *, with_charts: bool = True) -> Path:
    """Write ``compare.csv``, ``replications.csv``, ``compare.json`` and ``compare.png`` atomically.

    Args:
        comparison: the comparison.
        out: destination folder (replaced if it exists).
        with_charts: also render the chart.

    Returns:
        The folder.
    """
    table = comparison.table()

    def fill(tmp: Path) -> None:
        table.to_csv(tmp / "compare.csv", index=False)
        comparison.values.to_csv(tmp / "replications.csv", index=False)
        (tmp / "compare.json").write_text(dumps_json(comparison.metadata(), indent=1) + "\n", encoding="utf-8")
        if with_charts:
            comparison_chart(table).savefig(tmp / "compare.png", dpi=_DPI, metadata={"Software": None})

    return atomic_dir(Path(out), fill)


def write_pareto(front: pd.DataFrame, out: str | Path) -> Path:
    """Write ``pareto.csv`` and ``pareto.png`` of a Pareto front atomically.

    Args:
        front: the table of :func:`sim.experiments.pareto.pareto_front`.
        out: destination folder (replaced if it exists).

    Returns:
        The folder.
    """

    def fill(tmp: Path) -> None:
        front.to_csv(tmp / "pareto.csv", index=False)
        pareto_chart(front).savefig(tmp / "pareto.png", dpi=_DPI, metadata={"Software": None})

    return atomic_dir(Path(out), fill)


def write_sweep_manifest(plan: SweepPlan, out: str | Path) -> Path:
    """Write ``sweep.json`` (what the sweep is: :func:`sim.experiments.sweep.manifest`) atomically."""
    return atomic_write_text(Path(out) / "sweep.json", dumps_json(manifest(plan), indent=1) + "\n")


def write_sweep_tables(table: pd.DataFrame, out: str | Path) -> None:
    """Write the sweep table as ``sweep.parquet`` and ``sweep.csv``, each atomically."""
    out = Path(out)
    atomic_file(out / "sweep.parquet", lambda p: table.to_parquet(p, index=False))
    atomic_file(out / "sweep.csv", lambda p: table.to_csv(p, index=False))


def write_sensitivity(indices: pd.DataFrame, out: str | Path) -> None:
    """Write ``sensitivity.csv`` and, when there are indices, the tornado chart ``sensitivity.png``."""
    out = Path(out)
    atomic_file(out / "sensitivity.csv", lambda p: indices.to_csv(p, index=False))
    if not indices.empty:
        fig = sensitivity_chart(indices)
        atomic_file(out / "sensitivity.png", lambda p: fig.savefig(p, format="png", dpi=_DPI, metadata={"Software": None}))


def run_sweep(
    plan: SweepPlan,
    out: str | Path,
    executor: Executor,
    *,
    force: bool = False,
    on_outcome: Callable[[RunOutcome], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> SweepReport:
    """Run the sweep's runs not yet finished in ``out``, then write the table (and sensitivity).

    ``sweep.json`` is written first and each run's record as it finishes, so an interrupted
    sweep resumes from the folder; the tables are written once every run is done.

    Args:
        plan: the planned sweep (:func:`sim.experiments.sweep.load_sweep`).
        out: output folder (created; reused for resuming).
        executor: where runs execute.
        force: rerun finished runs too.
        on_outcome: called after each run's record is written.
        on_start: called once with (runs to execute, runs skipped) before executing.

    Returns:
        The table and counts; failed runs are listed, not raised.
    """
    out = Path(out)
    store = DirectoryRunStore(out)
    store.prepare()
    write_sweep_manifest(plan, out)
    report = execute_sweep(plan, store, executor, force=force, on_outcome=on_outcome, on_start=on_start)
    write_sweep_tables(report.table, out)
    if report.sensitivity is not None:
        write_sensitivity(report.sensitivity, out)
    return report
