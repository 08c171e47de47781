"""Propagating what is not known: N input sets drawn from ``[uncertainty]``, run, summarised.

A scenario's ``[uncertainty]`` table (:mod:`sim.scenario.uncertainty`) gives a distribution to
each uncertain input. :func:`plan_propagation` draws ``N`` input sets:

* ``design = "lhs"``: a Latin hypercube of ``N`` points in the unit cube (scipy ``qmc``); the
  columns of correlated inputs are reordered by Iman-Conover so that the requested Spearman rank
  correlations hold (the marginal strata are kept; with fewer than ``k + 2`` input sets for
  ``k`` correlated inputs the correlations cannot be imposed and the inputs stay independent);
* ``design = "sobol"``: the Saltelli design of SALib on a scrambled Sobol' sequence, ``M (d + 2)``
  points for the largest power of two ``M`` that fits in ``N`` (``d`` inputs); it needs
  independent inputs and gives Sobol' first-order and total indices.

Each unit point goes through the inverse CDF of its input's distribution (whole numbers for
integer fields) and is applied to the scenario exactly as ``--set`` would be
(:func:`sim.scenario.load.scenario_with`), so every input set is a validated scenario before
anything runs. Every input set runs once, on the seed of the central run's first replication
(common random numbers: the spread comes from the inputs, not from the noise).

The runs go through the experiments' executors and a :class:`~sim.experiments.runs.RunStore`
(only KPIs are kept: no per-request table, no file, no chart), so an interrupted propagation
resumes. :class:`Propagation` then gives, per KPI, the assumption range (p5, p50, p95 over the
input sets, the inverted-CDF quantile of :func:`sim.results.tables.weighted_quantile`) and the
drivers: Spearman rank correlation of each input with the KPI, the Sobol' first-order index
(SALib's Saltelli estimator for the ``sobol`` design; the RBD-FAST given-data estimator for a
Latin hypercube of at least :data:`MIN_RUNS_FIRST_ORDER` runs) and the total index (``sobol``
design only), and the KPI's mean over the input sets whose input lies in its lowest and highest
fifth (the tornado's bar). Units are those of the inputs' fields and of the KPIs.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from sim import scenario as scn
from sim.experiments.executors import Executor
from sim.experiments.runs import RunOutcome, RunStore, RunTask, model_version, run_pending
from sim.results.tables import weighted_quantile
from sim.scenario import Scenario, ScenarioError
from sim.scenario.load import input_value, integer_inputs, scenario_data, scenario_with
from sim.scenario.uncertainty import Choice, LogNormal, Normal, Triangular, UncertaintySpec, Uniform
from sim.seeds import component_rng, replication_seeds

__all__ = [
    "QUANTILES",
    "MIN_RUNS_FIRST_ORDER",
    "MIN_SOBOL_BASE",
    "DRIVER_COLUMNS",
    "Propagation",
    "PropagationPlan",
    "assumption_ranges",
    "draw_inputs",
    "driver_table",
    "execute_propagation",
    "iman_conover",
    "load_propagation",
    "marginal_ppf",
    "plan_propagation",
    "rbd_fast_first_order",
    "sobol_base",
    "unit_sample",
]

#: The quantiles of an assumption range: p5, p50, p95.
QUANTILES: tuple[float, float, float] = (0.05, 0.5, 0.95)
#: A Latin hypercube gives first-order indices (RBD-FAST) from this many successful runs.
MIN_RUNS_FIRST_ORDER = 100
#: The Sobol design needs a base sample of at least this many points (a power of two).
MIN_SOBOL_BASE = 8
#: Share of the input sets at each end whose KPI mean makes the tornado's bar.
TAIL_SHARE = 0.2
#: Columns of the drivers table (``drivers.csv``), in order.
DRIVER_COLUMNS = [
    "kpi",
    "order",
    "input",
    "rank_correlation",
    "sobol_first",
    "sobol_total",
    "kpi_low_input",
    "kpi_high_input",
]
#: Keep unit draws away from 0 and 1, where unbounded inverse CDFs are infinite.
_EPS = 1e-12

AnyMarginal = Uniform | Triangular | Normal | LogNormal | Choice


# ----------------------------------------------------------------------------------------------
# Drawing


def marginal_ppf(m: AnyMarginal, u: np.ndarray) -> np.ndarray:
    """Inverse CDF of one distribution at unit values ``u`` (a truncated one is renormalised)."""
    from scipy import stats

    u = np.clip(np.asarray(u, dtype=float), _EPS, 1.0 - _EPS)
    if isinstance(m, Uniform):
        return m.low + u * (m.high - m.low)
    if isinstance(m, Triangular):
        return stats.triang.ppf(u, (m.mode - m.low) / (m.high - m.low), loc=m.low, scale=m.high - m.low)
    if isinstance(m, Choice):
        cum = np.cumsum(m.probabilities())
        index = np.minimum(np.searchsorted(cum, u, side="right"), len(m.values) - 1)
        return np.asarray(m.values, dtype=float)[index]
    if isinstance(m, Normal):
        dist = stats.norm(loc=m.mean, scale=m.sd)
        to_x: Callable[[np.ndarray], np.ndarray] = lambda x: x  # noqa: E731
    else:
        dist = stats.norm(loc=math.log(m.median), scale=m.sigma())
        to_x = np.exp
    lo = 0.0 if m.low is None else float(dist.cdf(math.log(m.low) if isinstance(m, LogNormal) else m.low))
    hi = 1.0 if m.high is None else float(dist.cdf(math.log(m.high) if isinstance(m, LogNormal) else m.high))
    x = to_x(dist.ppf(np.clip(lo + u * (hi - lo), _EPS, 1.0 - _EPS)))
    if m.low is not None or m.high is not None:  # rounding at the edges stays inside the truncation
        x = np.clip(x, -np.inf if m.low is None else m.low, np.inf if m.high is None else m.high)
    return x


def sobol_base(n: int, inputs: int) -> int:
    """Base size of the Saltelli design: the largest power of two ``M`` with ``M (inputs + 2) <= n`` (0 if none)."""
    m = n // (inputs + 2)
    return 0 if m < 1 else 1 << (m.bit_length() - 1)


def iman_conover(unit: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Reorder each column of ``unit`` so that the normal scores have the correlation ``target``.

    Iman and Conover (1982): the columns keep their values (so a Latin hypercube keeps its
    strata); only their order changes. ``target`` is the correlation of normal scores
    (:func:`sim.scenario.uncertainty.normal_score_correlation` of the rank correlations). The
    rows must outnumber the columns by two, else the scores' own correlation is singular.
    """
    from scipy import stats

    n, d = unit.shape
    ranks = np.argsort(np.argsort(unit, axis=0, kind="stable"), axis=0, kind="stable")
    scores = stats.norm.ppf((ranks + 1) / (n + 1))
    current = np.corrcoef(scores, rowvar=False).reshape(d, d)
    t = scores @ np.linalg.inv(np.linalg.cholesky(current)).T @ np.linalg.cholesky(target).T
    out = np.empty_like(unit)
    for j in range(d):
        order = np.argsort(np.argsort(t[:, j], kind="stable"), kind="stable")
        out[:, j] = np.sort(unit[:, j], kind="stable")[order]
    return out


def unit_sample(spec: UncertaintySpec, n: int, *, design: str | None = None, seed: int | None = None) -> np.ndarray:
    """The design in the unit cube: one row per input set, one column per input of ``spec``.

    Args:
        spec: the uncertainty table.
        n: input sets asked for (the ``sobol`` design uses ``sobol_base(n, d) (d + 2)`` of them).
        design: ``"lhs"`` or ``"sobol"``; default the spec's.
        seed: seed of the design; default the spec's.

    Raises:
        ValueError: ``n`` too small for the design.
    """
    design = design or spec.design
    seed = spec.seed if seed is None else seed
    d = len(spec.inputs)
    rng = component_rng(np.random.SeedSequence(seed), f"uncertainty-{design}")
    if design == "sobol":
        if spec.correlations:
            raise ValueError("the sobol design needs independent inputs; use the lhs design with correlations")
        base = sobol_base(n, d)
        if base < MIN_SOBOL_BASE:
            raise ValueError(
                f"the sobol design of {d} inputs needs N >= {MIN_SOBOL_BASE * (d + 2)} ({MIN_SOBOL_BASE} x (inputs + 2)); got {n}"
            )
        from SALib.sample import sobol

        problem = {"num_vars": d, "names": spec.keys, "bounds": [[0.0, 1.0]] * d}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sobol.sample(problem, base, calc_second_order=False, scramble=True, seed=rng)
    if n < 2:
        raise ValueError(f"draw at least 2 input sets (got {n})")
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=d, seed=rng).random(n)
    # only the correlated inputs are reordered: the others keep the hypercube's independence,
    # and Iman-Conover needs more input sets than reordered columns (N >= k + 2)
    cols = sorted({spec.keys.index(k) for c in spec.correlations for k in (c.a, c.b)})
    if cols and n >= len(cols) + 2:
        target = spec.score_correlation_matrix()[np.ix_(cols, cols)]
        unit[:, cols] = iman_conover(unit[:, cols], target)
    return unit


def draw_inputs(
    spec: UncertaintySpec,
    unit: np.ndarray,
    integer: Mapping[str, bool] | None = None,
) -> pd.DataFrame:
    """Map unit points through each input's inverse CDF.

    Args:
        spec: the uncertainty table.
        unit: rows of :func:`unit_sample`.
        integer: input -> whether its field takes whole numbers (draws are then rounded).

    Returns:
        One row per input set, one column per input (dotted key), in the field's unit.
    """
    integer = integer or {}
    columns = {}
    for j, (key, m) in enumerate(spec.inputs.items()):
        x = marginal_ppf(m, unit[:, j])
        columns[key] = np.round(x).astype(np.int64) if integer.get(key) else x
    return pd.DataFrame(columns)


# ----------------------------------------------------------------------------------------------
# Summaries (pure functions of tables: usable on any model, including synthetic ones)


def assumption_ranges(values: pd.DataFrame, quantiles: Sequence[float] = QUANTILES) -> pd.DataFrame:
    """Quantiles of every column over the rows (NaN rows left out): one row per column.

    Columns of the result: ``kpi``, ``p5``, ``p50``, ``p95`` (named after ``quantiles``) and
    ``runs`` (finite values); a column without a finite value gives NaN quantiles.
    """
    names = [f"p{round(q * 100):g}" for q in quantiles]
    rows = []
    for kpi in values.columns:
        x = pd.to_numeric(values[kpi], errors="coerce").to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        qs = [weighted_quantile(x, np.ones_like(x), q) if len(x) else math.nan for q in quantiles]
        rows.append((kpi, *qs, len(x)))
    return pd.DataFrame(rows, columns=["kpi", *names, "runs"])


def _tails(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of ``x``: mean of ``y`` over the rows in its lowest and in its highest fifth."""
    k = max(1, int(round(TAIL_SHARE * len(y))))
    order = np.argsort(x, axis=0, kind="stable")
    return y[order[:k]].mean(axis=0), y[order[-k:]].mean(axis=0)


def _spearman(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rank correlation of every column of ``x`` with ``y`` (0 for a constant column)."""
    from scipy.stats import rankdata

    rx = rankdata(x, axis=0) - (len(y) + 1) / 2.0
    ry = rankdata(y) - (len(y) + 1) / 2.0
    norm = np.sqrt((rx**2).sum(axis=0) * (ry**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, (rx * ry[:, None]).sum(axis=0) / np.where(norm > 0, norm, 1.0), 0.0)


def rbd_fast_first_order(x: np.ndarray, y: np.ndarray, harmonics: int = 10) -> float:
    """First-order index of ``x`` on ``y`` from given data: RBD-FAST with bias correction.

    The estimator of SALib's ``rbd_fast.analyze`` (Plischke 2010; Tissot and Prieur 2012), in
    NumPy: order ``y`` by ``x`` along a there-and-back path, take its periodogram, and read the
    share of the variance in the first ``harmonics`` frequencies. SALib computes the same number
    through ``scipy.signal.periodogram`` and a bootstrap per input, which for 75 inputs and 25
    KPIs takes seconds; this takes milliseconds (the tests hold the two equal).
    """
    n = len(y)
    order = np.argsort(x, kind="stable")
    path = np.concatenate([order[::2], order[1::2][::-1]])
    power = np.abs(np.fft.rfft(y[path] - y.mean())) ** 2
    power[1 : (n + 1) // 2] *= 2.0  # one-sided: every frequency but 0 and Nyquist counts twice
    total = power[1:].sum()
    if total <= 0:
        return math.nan
    s1 = power[1 : harmonics + 1].sum() / total
    lam = 2.0 * harmonics / n
    return float(s1 - lam / (1.0 - lam) * (1.0 - s1))


def driver_table(
    inputs: pd.DataFrame,
    outputs: pd.DataFrame,
    *,
    design: str = "lhs",
    seed: int = 0,
) -> pd.DataFrame:
    """Which inputs move each KPI, most important first.

    Args:
        inputs: one row per input set, one column per input.
        outputs: one row per input set (same order), one column per KPI; NaN marks a failed run.
        design: ``"sobol"`` when the rows are a Saltelli design in SALib's order (first-order and
            total indices); ``"lhs"`` otherwise (first-order by RBD-FAST from
            :data:`MIN_RUNS_FIRST_ORDER` rows on).
        seed: seed of SALib's bootstrap (the indices themselves do not depend on it).

    Returns:
        The table of :data:`DRIVER_COLUMNS`. A KPI that does not vary over the input sets is
        left out; indices that the design or N does not allow are NaN. Order: total index
        (``sobol``) or absolute rank correlation, descending.
    """
    keys = list(inputs.columns)
    x_all = inputs.to_numpy(dtype=float)
    problem = {"num_vars": len(keys), "names": keys, "bounds": [[0.0, 1.0]] * len(keys)}
    rows = []
    for kpi in outputs.columns:
        y_all = pd.to_numeric(outputs[kpi], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(y_all)
        y, x = y_all[ok], x_all[ok]
        if len(y) < 3 or np.ptp(y) == 0:
            continue
        s1 = np.full(len(keys), np.nan)
        st = np.full(len(keys), np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if design == "sobol" and ok.all():
                from SALib.analyze import sobol

                res = sobol.analyze(problem, y_all, calc_second_order=False, num_resamples=10, seed=seed)
                s1, st = np.asarray(res["S1"], dtype=float), np.asarray(res["ST"], dtype=float)
            elif design != "sobol" and len(y) >= MIN_RUNS_FIRST_ORDER:
                s1 = np.array([rbd_fast_first_order(x[:, j], y) for j in range(len(keys))])
        rho = _spearman(x, y)
        lows, highs = _tails(x, y)
        part = [[kpi, 0, key, float(rho[j]), s1[j], st[j], float(lows[j]), float(highs[j])] for j, key in enumerate(keys)]
        if design == "sobol" and np.isfinite(st).all():
            part.sort(key=lambda r: (-r[5], -abs(r[3]), r[2]))
        else:
            part.sort(key=lambda r: (-abs(r[3]), r[2]))
        for i, r in enumerate(part):
            r[1] = i + 1
        rows.extend(part)
    return pd.DataFrame(rows, columns=DRIVER_COLUMNS)


# ----------------------------------------------------------------------------------------------
# Planning and running on the simulator


@dataclass
class PropagationPlan:
    """N input sets of a scenario, each a validated run.

    Attributes:
        name: the scenario name.
        file: the scenario file as given.
        central: the scenario as loaded (its values are the central run's).
        spec: its ``[uncertainty]`` table.
        design: ``"lhs"`` or ``"sobol"``.
        design_seed: seed of the design.
        seed: root seed of the runs; every input set runs on replication 0 of it.
        requested: input sets asked for.
        integer: input -> whether its draws are whole numbers.
        unit: the design in the unit cube (one row per input set).
        inputs: the drawn values (one row per input set, one column per input).
        tasks: one run per input set, in row order.
    """

    name: str
    file: str
    central: Scenario
    spec: UncertaintySpec
    design: str
    design_seed: int
    seed: int
    requested: int
    integer: dict[str, bool]
    unit: np.ndarray
    inputs: pd.DataFrame
    tasks: list[RunTask]

    @property
    def keys(self) -> list[str]:
        """The uncertain inputs (dotted keys), in column order."""
        return list(self.inputs.columns)

    def unique_tasks(self) -> list[RunTask]:
        """The tasks to execute, each run id once (equal input sets share their run)."""
        return list({t.run_id: t for t in self.tasks}.values())

    def describe(self) -> dict[str, Any]:
        """How the input sets were drawn, as JSON data (``summary.json``'s ``uncertainty``)."""
        return {
            "input_sets": len(self.tasks),
            "requested": self.requested,
            "design": self.design,
            "design_seed": self.design_seed,
            "seed": self.seed,
            "replications_per_input_set": 1,
            "common_random_numbers": True,
            "quantiles": list(QUANTILES),
            "inputs": {k: m.model_dump(mode="json", exclude_none=True) | {"integer": self.integer[k]}
                       for k, m in self.spec.inputs.items()},
            "correlations": [c.model_dump(mode="json") for c in self.spec.correlations],
            "version": model_version(),
        }


def plan_propagation(
    data: dict[str, Any],
    n: int,
    *,
    file: str = "<scenario>",
    design: str | None = None,
    design_seed: int | None = None,
    seed: int | None = None,
) -> PropagationPlan:
    """Draw ``n`` input sets of a merged scenario mapping and validate each as a run.

    Args:
        data: the scenario mapping (``extends`` and ``--set`` applied), with ``[uncertainty]``.
        n: input sets to draw.
        file: the file name shown in errors.
        design: ``"lhs"`` or ``"sobol"``; default ``uncertainty.design``.
        design_seed: seed of the design; default ``uncertainty.seed``.
        seed: root seed of the runs; default the scenario's ``seed``.

    Raises:
        ScenarioError: no ``[uncertainty]`` table, ``n`` too small for the design, or an input
            set that is not a valid scenario (e.g. two ranges that cross).
    """
    central = scn.scenario_from_dict(data, file)
    spec = central.uncertainty
    if spec is None or not spec.inputs:
        raise ScenarioError(file, "uncertainty", "the scenario gives no input a distribution: add an [uncertainty] table")
    if design is not None and design != spec.design:
        try:
            spec = UncertaintySpec.model_validate({**spec.model_dump(), "design": design})
        except ValidationError as exc:
            problem = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
            raise ScenarioError(file, "uncertainty.design", problem) from None
    design_seed = spec.seed if design_seed is None else design_seed
    try:
        unit = unit_sample(spec, n, design=spec.design, seed=design_seed)
    except ValueError as exc:
        raise ScenarioError(file, "uncertainty", str(exc)) from None
    integer = integer_inputs(central)
    inputs = draw_inputs(spec, unit, integer)
    root = central.seed if seed is None else seed
    seed_seq = replication_seeds(root, 1)[0]
    tasks = []
    for i, row in enumerate(inputs.itertuples(index=False)):
        values = {k: input_value(v, integer[k]) for k, v in zip(inputs.columns, row, strict=True)}
        scenario = scenario_with(data, values, f"{file} (uncertainty input set {i})")
        tasks.append(RunTask.create(scenario, seed_seq))
    return PropagationPlan(
        name=central.name,
        file=file,
        central=central,
        spec=spec,
        design=spec.design,
        design_seed=design_seed,
        seed=root,
        requested=n,
        integer=integer,
        unit=unit,
        inputs=inputs,
        tasks=tasks,
    )


def load_propagation(
    path: str | Path,
    overrides: list[str] | None = None,
    *,
    n: int,
    design: str | None = None,
    design_seed: int | None = None,
    seed: int | None = None,
) -> PropagationPlan:
    """Read a scenario file with ``[uncertainty]`` and plan ``n`` input sets (see :func:`plan_propagation`).

    Raises:
        ScenarioError: for any bad input, naming the file, the field and the problem.
    """
    data, shown = scenario_data(path, overrides)
    return plan_propagation(data, n, file=shown, design=design, design_seed=design_seed, seed=seed)


@dataclass
class Propagation:
    """What the input sets gave.

    Attributes:
        plan: the plan that was run.
        outputs: one row per input set: ``run_id``, ``status``, ``error``, then every KPI.
        units: KPI -> unit.
        executed: runs executed now.
        skipped: runs found finished in the store.
    """

    plan: PropagationPlan
    outputs: pd.DataFrame
    units: dict[str, str] = field(default_factory=dict)
    executed: int = 0
    skipped: int = 0
    _drivers: dict[tuple[str, ...], pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def kpi_names(self) -> list[str]:
        """The KPIs the runs reported, in the order first seen."""
        return [c for c in self.outputs.columns if c not in ("run_id", "status", "error")]

    @property
    def failed(self) -> dict[int, str]:
        """Input set -> error of every run that failed."""
        bad = self.outputs[self.outputs["status"] != "ok"]
        return {int(i): str(e) for i, e in zip(bad.index, bad["error"], strict=True)}

    def values(self) -> pd.DataFrame:
        """KPIs of the input sets (NaN where a run failed)."""
        kpis = self.outputs[self.kpi_names].astype(float)
        return kpis.where(self.outputs["status"].eq("ok"), axis=0)

    def ranges(self) -> pd.DataFrame:
        """The assumption range of every KPI: kpi, p5, p50, p95, runs, unit."""
        table = assumption_ranges(self.values())
        table["unit"] = [self.units.get(k, "") for k in table["kpi"]]
        return table

    def drivers(self, kpis: Sequence[str] | None = None) -> pd.DataFrame:
        """The drivers table (:func:`driver_table`) of ``kpis`` (default: every programme-wide KPI)."""
        names = [k for k in (kpis or [k for k in self.kpi_names if "." not in k]) if k in self.outputs.columns]
        key = tuple(names)
        if key not in self._drivers:  # computed once per set of KPIs (files and the CLI table share it)
            self._drivers[key] = driver_table(
                self.plan.inputs, self.values()[names], design=self.plan.design, seed=self.plan.design_seed
            )
        return self._drivers[key].copy()

    def table(self) -> pd.DataFrame:
        """One row per input set: input_set, run_id, status, error, the inputs, the KPIs."""
        out = pd.concat([self.plan.inputs, self.outputs], axis=1)
        out.insert(0, "input_set", np.arange(len(out)))
        first = ["input_set", "run_id", "status", "error"]
        return out[first + [c for c in out.columns if c not in first]]

    def describe(self) -> dict[str, Any]:
        """The plan's :meth:`PropagationPlan.describe` with the counts of runs."""
        ok = int((self.outputs["status"] == "ok").sum())
        return {**self.plan.describe(), "runs_ok": ok, "runs_failed": len(self.outputs) - ok}


def _number(value: Any) -> float:
    """A stored KPI value as a float (NaN when missing or not a number)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan


def execute_propagation(
    plan: PropagationPlan,
    store: RunStore,
    executor: Executor,
    *,
    force: bool = False,
    on_outcome: Callable[[RunOutcome], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> Propagation:
    """Execute the input sets not yet finished in ``store`` and collect their KPIs.

    Args:
        plan: the planned input sets.
        store: where run records are kept (prepared here); finished runs found there are skipped.
        executor: where runs execute.
        force: rerun finished runs too.
        on_outcome: called after each run's record is stored.
        on_start: called once with (runs to execute, runs skipped) before executing.

    Returns:
        The outputs; failed runs are rows with status ``failed``, not raised.
    """
    tasks = plan.unique_tasks()
    meta: dict[str, dict[str, Any]] = {}
    for i, task in enumerate(plan.tasks):
        params = {k: plan.inputs[k].iat[i].item() for k in plan.keys}
        meta.setdefault(task.run_id, {
            "scenario": plan.name,
            "kind": "uncertainty",
            "input_set": i,
            "parameters": json.loads(json.dumps(params)),
            "seed": {"root": plan.seed, "entropy": task.entropy, "spawn_key": list(task.spawn_key)},
            "version": model_version(),
        })
    executed, skipped = run_pending(tasks, store, executor, meta, force=force, on_outcome=on_outcome, on_start=on_start)
    records = {t.run_id: store.load(t.run_id) or {} for t in tasks}
    names: list[str] = []
    units: dict[str, str] = {}
    for rec in records.values():
        if rec.get("status") == "ok":
            names.extend(k for k in rec.get("kpis", {}) if k not in names)
            units.update(rec.get("units", {}))
    columns: dict[str, list[Any]] = {
        "run_id": [t.run_id for t in plan.tasks],
        "status": [records[t.run_id].get("status", "missing") for t in plan.tasks],
        "error": [records[t.run_id].get("error", "no result recorded") for t in plan.tasks],
    }
    for name in names:
        columns[name] = [_number(records[t.run_id].get("kpis", {}).get(name)) for t in plan.tasks]
    outputs = pd.DataFrame(columns)
    return Propagation(plan, outputs, units, executed=executed, skipped=skipped)
