"""Comparing scenarios on common random numbers: KPI intervals and paired differences.

Every scenario runs the same replications on the same seeds (``SeedSequence(seed).spawn(R)``),
so replication ``r`` of each scenario sees the same demand draws. The difference of a KPI
against the first scenario is estimated per replication (``x_j[r] - x_0[r]``) and its 95 %
interval is the paired Student-t interval of those differences: the noise common to both
scenarios cancels and the interval is narrower than with independent seeds.

Tidy table (``compare.csv``): scenario, kpi, mean, ci95_low, ci95_high, diff_mean,
diff_ci95_low, diff_ci95_high, unit; differences are in the KPI's unit, zero for the first
scenario and empty for a KPI the first scenario does not have (e.g. a site it does not use).
Writing it and drawing it is the report layer's: :func:`sim.report.experiment_files.write_comparison`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.executors import Executor, SerialExecutor
from sim.experiments.runs import RunOutcome, RunTask
from sim.results.replication import t_interval
from sim.scenario import Scenario
from sim.seeds import replication_seeds

__all__ = [
    "COLUMNS",
    "Comparison",
    "ComparisonError",
    "compare",
    "default_out",
    "scenario_labels",
]

#: Columns of the tidy table (``compare.csv``), in order.
COLUMNS = ["scenario", "kpi", "mean", "ci95_low", "ci95_high", "diff_mean", "diff_ci95_low", "diff_ci95_high", "unit"]


class ComparisonError(RuntimeError):
    """Some runs of a comparison failed, so the replications cannot be paired."""


def scenario_labels(scenarios: Sequence[Scenario]) -> list[str]:
    """Scenario names, made unique with ``-2``, ``-3`` ... when two scenarios share a name."""
    labels: list[str] = []
    for sc in scenarios:
        label, k = sc.name, 1
        while label in labels:
            k += 1
            label = f"{sc.name}-{k}"
        labels.append(label)
    return labels


@dataclass
class Comparison:
    """Per-replication KPIs of several scenarios run on the same (or independent) seeds.

    Attributes:
        labels: unique scenario labels, first = baseline.
        scenarios: the resolved scenarios.
        seed: the root seed.
        replications: replications per scenario.
        common_random_numbers: whether every scenario used the same seeds.
        values: long table scenario, replication, kpi, value, unit.
    """

    labels: list[str]
    scenarios: list[Scenario]
    seed: int
    replications: int
    common_random_numbers: bool
    values: pd.DataFrame

    def table(self) -> pd.DataFrame:
        """The tidy summary (see the module docstring)."""
        ordered = self.values.sort_values(["scenario", "kpi", "replication"], kind="stable")
        series = {key: g["value"].to_numpy() for key, g in ordered.groupby(["scenario", "kpi"], sort=False)}
        units = self.values.drop_duplicates("kpi").set_index("kpi")["unit"]
        base = self.labels[0]
        rows = []
        for label in self.labels:
            for kpi in dict.fromkeys(self.values.loc[self.values["scenario"] == label, "kpi"]):
                x = series[(label, kpi)]
                mean, lo, hi = t_interval(x)
                ref = series.get((base, kpi))
                if label == base:
                    dm = dlo = dhi = 0.0
                elif ref is not None and len(ref) == len(x):
                    dm, dlo, dhi = t_interval(x - ref)  # paired: replication r against replication r
                else:
                    dm = dlo = dhi = float("nan")
                rows.append((label, kpi, mean, lo, hi, dm, dlo, dhi, units[kpi]))
        return pd.DataFrame(rows, columns=COLUMNS)

    def metadata(self) -> dict[str, Any]:
        """What was compared, as JSON data: labels, seed, replications, seeds shared, resolved scenarios."""
        return {
            "scenarios": self.labels,
            "seed": self.seed,
            "replications": self.replications,
            "common_random_numbers": self.common_random_numbers,
            "resolved_scenarios": {
                lb: sc.model_dump(mode="json") for lb, sc in zip(self.labels, self.scenarios, strict=True)
            },
        }


def _tasks(scenarios: Sequence[Scenario], seed: int, replications: int, crn: bool) -> list[list[RunTask]]:
    if crn:
        seeds = [replication_seeds(seed, replications)] * len(scenarios)
    else:
        # independent streams: scenario j uses the j-th child of the root seed
        seeds = [root.spawn(replications) for root in np.random.SeedSequence(seed).spawn(len(scenarios))]
    return [[RunTask.create(sc, s) for s in seeds[j]] for j, sc in enumerate(scenarios)]


def compare(
    scenarios: Sequence[Scenario],
    *,
    replications: int = 20,
    seed: int | None = None,
    executor: Executor | None = None,
    common_random_numbers: bool = True,
    on_outcome: Callable[[RunOutcome], None] | None = None,
) -> Comparison:
    """Run every scenario ``replications`` times and collect the per-replication KPIs.

    Args:
        scenarios: two or more resolved scenarios; the first is the baseline.
        replications: replications per scenario (>= 2 for intervals).
        seed: root seed; default the first scenario's ``seed``.
        executor: where runs execute; default in this process.
        common_random_numbers: same seeds for every scenario (True) or independent seeds
            (False, only to show what common random numbers buy).
        on_outcome: called after each run (progress).

    Raises:
        ValueError: fewer than two scenarios or replications < 1.
        ComparisonError: if any run failed (the message lists them).
    """
    if len(scenarios) < 2:
        raise ValueError("compare needs at least two scenarios; the first one is the baseline")
    if replications < 1:
        raise ValueError(f"replications must be >= 1 (got {replications})")
    root = scenarios[0].seed if seed is None else seed
    per_scenario = _tasks(scenarios, root, replications, common_random_numbers)
    outcomes: dict[str, RunOutcome] = {}

    def collect(outcome: RunOutcome) -> None:
        outcomes[outcome.run_id] = outcome
        if on_outcome is not None:
            on_outcome(outcome)

    unique = list({t.run_id: t for tasks in per_scenario for t in tasks}.values())
    (executor or SerialExecutor()).run(unique, collect)
    failed = [o for o in outcomes.values() if o.status != "ok"]
    if failed:
        shown = "; ".join(f"{o.run_id[:12]}: {o.error}" for o in failed[:3])
        raise ComparisonError(f"{len(failed)} run(s) failed: {shown}")
    labels = scenario_labels(scenarios)
    rows = []
    for j, tasks in enumerate(per_scenario):
        for r, task in enumerate(tasks):
            o = outcomes[task.run_id]
            rows.extend((labels[j], r, k, v, o.units[k]) for k, v in o.kpis.items())
    values = pd.DataFrame(rows, columns=["scenario", "replication", "kpi", "value", "unit"])
    return Comparison(labels, list(scenarios), root, replications, common_random_numbers, values)


def default_out(scenarios: Sequence[Scenario]) -> Path:
    """``results/compare-<name1>-<name2>...``."""
    return Path("results") / ("compare-" + "-".join(scenario_labels(scenarios)))
