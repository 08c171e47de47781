"""Running a sweep: scenario file with ``[sweep]`` -> planned runs -> executor -> one tidy table.

:func:`load_sweep` / :func:`plan_sweep` turn the file into a :class:`SweepPlan` (every design
point validated as a scenario before anything runs); :func:`execute_sweep` runs the runs not yet
finished in a :class:`~sim.experiments.runs.RunStore` and builds the table (one row per planned
run: run_id, point, replication, <swept keys...>, seed, status, error, <KPIs...>) and, for a
sensitivity design, the indices. Nothing here writes a file: the store is injected, and the
output folder of ``clover-sim sweep`` (``sweep.json``, ``runs/``, ``sweep.parquet`` ...) is written
by :func:`sim.report.experiment_files.run_sweep`.

Running the same sweep on the same store skips runs whose record says ``ok`` (failed runs are
tried again); ``force=True`` reruns everything. The ``seed`` column is the root seed: run
``(point, replication)`` uses ``SeedSequence(seed).spawn(replications)[replication]``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from sim import scenario as scn
from sim.experiments import sensitivity
from sim.experiments.design import design_points, sweep_keys
from sim.experiments.executors import Executor
from sim.experiments.runs import RunOutcome, RunStore, RunTask, model_version, run_pending
from sim.scenario import Scenario, ScenarioError
from sim.scenario.sweep import SensitivitySpec, SweepSpec, sensitivity_ranges
from sim.seeds import replication_seeds

__all__ = [
    "PlannedRun",
    "SweepPlan",
    "SweepReport",
    "execute_sweep",
    "load_sweep",
    "manifest",
    "plan_sweep",
    "sweep_sensitivity",
    "sweep_table",
]


@dataclass(frozen=True)
class PlannedRun:
    """One run of a sweep: a replication of a design point."""

    point: int
    replication: int
    parameters: dict[str, Any]
    task: RunTask

    @property
    def run_id(self) -> str:
        """The run's content address."""
        return self.task.run_id


@dataclass
class SweepPlan:
    """A sweep ready to run.

    Attributes:
        name: the scenario name.
        file: the sweep file as given.
        spec: the validated ``[sweep]`` table.
        base: the scenario without any swept key applied (``sweep`` unset).
        keys: the swept dotted keys (table columns, in order).
        points: the design points.
        seed: the root seed of the replications.
        runs: every run, point-major.
    """

    name: str
    file: str
    spec: SweepSpec
    base: Scenario
    keys: list[str]
    points: list[dict[str, Any]]
    seed: int
    runs: list[PlannedRun]

    def unique_tasks(self) -> list[RunTask]:
        """The tasks to execute, each run id once (identical points share their runs)."""
        seen: dict[str, RunTask] = {}
        for run in self.runs:
            seen.setdefault(run.run_id, run.task)
        return list(seen.values())


@dataclass
class SweepReport:
    """What running a sweep did.

    Attributes:
        table: the tidy table (one row per planned run).
        executed: runs executed now.
        skipped: runs found finished in the output folder.
        failed: run id -> error of every failed run in the table.
        sensitivity: the sensitivity indices, if the sweep is a sensitivity design.
        unknown_kpis: sensitivity KPIs that no run produced (misspelt names).
    """

    table: pd.DataFrame
    executed: int
    skipped: int
    failed: dict[str, str] = field(default_factory=dict)
    sensitivity: pd.DataFrame | None = None
    unknown_kpis: list[str] = field(default_factory=list)


def _read_sweep_file(path: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The merged scenario mapping (``extends`` resolved) and its ``[sweep]`` table, popped."""
    data = scn.read_scenario_data(path)
    sweep = data.pop("sweep", None)
    if sweep is not None and not isinstance(sweep, dict):
        raise ScenarioError(str(path), "sweep", "must be a table ([sweep])")
    return data, sweep


def _set(data: dict[str, Any], keys: list[str], value: Any, where: str) -> None:
    node = data
    for part in keys[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ScenarioError(where, ".".join(keys), f"{part!r} is a value, not a table")
        node = child
    node[keys[-1]] = value


def _spec(raw: dict[str, Any] | None, file: str) -> SweepSpec:
    try:
        return SweepSpec.model_validate(raw or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in ("sweep", *err["loc"]))
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key; the [sweep] table takes replications, seed, grid, lhs, sensitivity"
        elif err["type"] == "missing":
            msg = "required field is missing"
        raise ScenarioError(file, loc, msg) from None


def _with_sensitivity(raw: dict[str, Any] | None, method: str | None, kpis: list[str] | None) -> dict[str, Any] | None:
    """Apply the command line's ``--sensitivity METHOD`` / ``--kpi`` to the raw ``[sweep]`` table."""
    if method is None and not kpis:
        return raw
    raw = dict(raw or {})
    if method is None and not isinstance(raw.get("sensitivity"), dict):
        raise ScenarioError("--kpi", "", "only with --sensitivity METHOD or a [sweep.sensitivity] table")
    table = dict(raw.get("sensitivity") or {})
    if method is not None:
        table["method"] = method
        n = table.get("n", 8)
        if method == "sobol" and isinstance(n, int) and n > 1 and n & (n - 1):
            table["n"] = 1 << (n - 1).bit_length()  # Sobol needs a power of 2: round up
    if kpis:
        table["kpis"] = list(kpis)
    raw["sensitivity"] = table
    return raw


def load_sweep(
    path: str | Path,
    overrides: list[str] | None = None,
    *,
    replications: int | None = None,
    seed: int | None = None,
    sensitivity: str | None = None,
    kpis: list[str] | None = None,
) -> SweepPlan:
    """Read a scenario file with a ``[sweep]`` table and plan every run.

    Args:
        path: the sweep file (it may ``extends`` a scenario).
        overrides: ``dotted.key=value`` applied to every point (may not name a swept key).
        replications: replications per point; default ``sweep.replications``.
        seed: root seed; default ``sweep.seed``, else the scenario's ``seed``.
        sensitivity: ``"morris"`` or ``"sobol"`` makes the sweep a sensitivity design.
        kpis: KPIs of the sensitivity analysis (default: ``sweep.sensitivity.kpis``).

    Raises:
        ScenarioError: for any bad input (file, ``[sweep]`` table, a design point).
    """
    path = Path(path)
    data, raw = _read_sweep_file(path)
    spec = _spec(_with_sensitivity(raw, sensitivity, kpis), str(path))
    if replications is not None:
        spec = spec.model_copy(update={"replications": replications})
    for text in overrides or []:
        keys, value = scn.parse_override(text)
        if ".".join(keys) in sweep_keys(spec):
            raise ScenarioError("--set", ".".join(keys), "this key is swept; change the sweep table instead")
        _set(data, keys, value, "--set")
    return plan_sweep(data, spec, file=str(path), seed=seed)


def plan_sweep(data: dict[str, Any], spec: SweepSpec, *, file: str = "<sweep>", seed: int | None = None) -> SweepPlan:
    """Plan the runs of ``spec`` over a merged scenario mapping (without ``sweep``).

    Every design point is validated as a full scenario before anything runs.
    """
    base = scn.scenario_from_dict(data, file)
    spec = _resolved(spec)
    root = seed if seed is not None else (spec.seed if spec.seed is not None else base.seed)
    seeds = replication_seeds(root, spec.replications)
    points = design_points(spec)
    runs: list[PlannedRun] = []
    for i, point in enumerate(points):
        point_data = copy.deepcopy(data)
        for key, value in point.items():
            _set(point_data, key.split("."), value, f"{file} (sweep point {i})")
        scenario = scn.scenario_from_dict(point_data, f"{file} (sweep point {i}: {_show(point)})")
        for r, seed_seq in enumerate(seeds):
            runs.append(PlannedRun(i, r, point, RunTask.create(scenario, seed_seq)))
    return SweepPlan(
        name=base.name, file=file, spec=spec, base=base, keys=sweep_keys(spec), points=points, seed=root, runs=runs
    )


def _resolved(spec: SweepSpec) -> SweepSpec:
    """The spec with an empty ``sensitivity.kpis`` replaced by the catalogue's SENSITIVITY_KPIS."""
    if spec.sensitivity is None or spec.sensitivity.kpis:
        return spec
    table = spec.sensitivity.model_copy(update={"kpis": sensitivity.analysed_kpis(spec.sensitivity)})
    return spec.model_copy(update={"sensitivity": table})


def _show(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in point.items()) or "no swept key"


def manifest(plan: SweepPlan) -> dict[str, Any]:
    """What the sweep is, as JSON data (``sweep.json``): spec, design points, base scenario, model version."""
    return {
        "scenario": plan.name,
        "file": plan.file,
        "version": model_version(),
        "seed": plan.seed,
        "replications": plan.spec.replications,
        "keys": plan.keys,
        "runs": len(plan.runs),
        "spec": plan.spec.model_dump(mode="json"),
        "points": plan.points,
        "base_scenario": plan.base.model_dump(mode="json"),
    }


def execute_sweep(
    plan: SweepPlan,
    store: RunStore,
    executor: Executor,
    *,
    force: bool = False,
    on_outcome: Callable[[RunOutcome], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> SweepReport:
    """Execute the runs not yet finished in ``store``, then build the table (and sensitivity indices).

    Args:
        plan: the planned sweep.
        store: where run records are kept (prepared here); finished runs found there are skipped.
        executor: where runs execute.
        force: rerun finished runs too.
        on_outcome: called after each run's record is stored.
        on_start: called once with (runs to execute, runs skipped) before executing.

    Returns:
        The table and counts; failed runs are listed, not raised.
    """
    executed, skipped = run_pending(
        plan.unique_tasks(), store, executor, _run_meta(plan), force=force, on_outcome=on_outcome, on_start=on_start
    )
    table = sweep_table(plan, store)
    failed = {r.run_id: r.error for r in table.itertuples() if r.status != "ok"}
    report = SweepReport(table, executed=executed, skipped=skipped, failed=failed)
    if plan.spec.sensitivity is not None:
        report.sensitivity = sweep_sensitivity(plan, table)
        kpis = sensitivity.analysed_kpis(plan.spec.sensitivity)
        report.unknown_kpis = [k for k in kpis if k not in table.columns]
    return report


def _run_meta(plan: SweepPlan) -> dict[str, dict[str, Any]]:
    meta: dict[str, dict[str, Any]] = {}
    for run in plan.runs:
        meta.setdefault(
            run.run_id,
            {
                "scenario": plan.name,
                "point": run.point,
                "replication": run.replication,
                "parameters": run.parameters,
                "seed": {"root": plan.seed, "entropy": run.task.entropy, "spawn_key": list(run.task.spawn_key)},
                "version": model_version(),
            },
        )
    return meta


def _column(values: list[Any]) -> list[Any]:
    """A parameter column: numbers stay numbers, anything else becomes its JSON text."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return values
    return [v if isinstance(v, str) else json.dumps(v) for v in values]


def sweep_table(plan: SweepPlan, store: RunStore) -> pd.DataFrame:
    """One row per planned run, from the stored records (a run without a record is ``missing``)."""
    records = {run.run_id: store.load(run.run_id) for run in plan.runs}
    kpi_names: list[str] = []
    for rec in records.values():
        if rec and rec.get("status") == "ok":
            kpi_names.extend(k for k in rec["kpis"] if k not in kpi_names)
    columns: dict[str, list[Any]] = {"run_id": [r.run_id for r in plan.runs]}
    columns["point"] = [r.point for r in plan.runs]
    columns["replication"] = [r.replication for r in plan.runs]
    for key in plan.keys:
        columns[key] = _column([r.parameters.get(key) for r in plan.runs])
    columns["seed"] = [plan.seed] * len(plan.runs)
    columns["status"] = [(records[r.run_id] or {}).get("status", "missing") for r in plan.runs]
    columns["error"] = [(records[r.run_id] or {}).get("error", "no result recorded") for r in plan.runs]
    for name in kpi_names:
        columns[name] = [
            float((records[r.run_id] or {}).get("kpis", {}).get(name, np.nan)) for r in plan.runs
        ]
    return pd.DataFrame(columns)


def sweep_sensitivity(plan: SweepPlan, table: pd.DataFrame) -> pd.DataFrame:
    """Sensitivity indices of a sensitivity design, from the mean KPI of each point over its ok runs.

    Args:
        plan: a sweep whose spec has a ``sensitivity`` table.
        table: its :func:`sweep_table`.

    Returns:
        The tidy indices of :func:`sim.experiments.sensitivity.analyze`.
    """
    spec: SensitivitySpec = plan.spec.sensitivity  # type: ignore[assignment]
    ranges = sensitivity_ranges(plan.spec)
    x = np.array([[float(p[k]) for k in ranges] for p in plan.points])
    ok = table[table["status"] == "ok"]
    y = {}
    for kpi in sensitivity.analysed_kpis(spec):
        if kpi not in table.columns:
            continue
        means = ok.groupby("point")[kpi].mean().reindex(range(len(plan.points)))
        y[kpi] = means.to_numpy()
    return sensitivity.analyze(spec, ranges, x, y)
