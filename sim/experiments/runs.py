"""One simulation run: its content-addressed identity, its execution, and where results are kept.

A *run* is one replication of one resolved scenario on one seed. Its id is the sha256 of the
canonical JSON of (resolved scenario, seed entropy and spawn key, model version
``sim.__version__``), so the same run always gets the same id and any change to the scenario,
the seed or the model gives a new one.

:func:`execute_run` runs on a worker (a local process or a Dask worker) and never raises for a
model error: the error is recorded in the :class:`RunOutcome`. The driver, not the worker,
hands each outcome to a :class:`RunStore`. The store is injected: this package defines only
the protocol and :class:`MemoryRunStore` (tests, throw-away runs); the folder of run records
that makes a sweep resumable is :class:`sim.report.run_store.DirectoryRunStore`.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from sim.scenario import Scenario

__all__ = [
    "RunTask",
    "RunOutcome",
    "RunStore",
    "MemoryRunStore",
    "run_id",
    "run_record",
    "execute_run",
    "execute_chunk",
    "model_version",
    "run_pending",
]


def model_version() -> str:
    """The model version that enters every run id (``sim.__version__``)."""
    import sim

    return sim.__version__


def _scenario_json(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario as JSON data, without an unset ``sweep`` (stable across versions)."""
    data = scenario.model_dump(mode="json")
    if data.get("sweep", 0) is None:
        del data["sweep"]
    # what is uncertain or observed does not change a run: its values are already in the scenario
    data.pop("uncertainty", None)
    data.pop("observations", None)
    return data


def run_id(scenario: Scenario, seed_seq: np.random.SeedSequence, version: str | None = None) -> str:
    """Content address of a run: sha256 hex of scenario, seed and model version.

    Args:
        scenario: the resolved scenario of the run.
        seed_seq: the replication's SeedSequence (its entropy and spawn key are hashed).
        version: model version; default ``sim.__version__``.
    """
    doc = {
        "scenario": _scenario_json(scenario),
        "seed": {"entropy": _entropy(seed_seq), "spawn_key": list(seed_seq.spawn_key)},
        "version": version or model_version(),
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _entropy(seed_seq: np.random.SeedSequence) -> int | list[int]:
    e = seed_seq.entropy
    return [int(x) for x in e] if isinstance(e, list | tuple | np.ndarray) else int(e)


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs to execute one run (picklable).

    Attributes:
        run_id: the content address (see :func:`run_id`).
        scenario: the resolved scenario.
        entropy: root seed of the SeedSequence.
        spawn_key: spawn key of the replication's SeedSequence, e.g. ``(3,)``.
    """

    run_id: str
    scenario: Scenario
    entropy: int | tuple[int, ...]
    spawn_key: tuple[int, ...]

    @classmethod
    def create(cls, scenario: Scenario, seed_seq: np.random.SeedSequence) -> RunTask:
        """The task of one replication of ``scenario`` on ``seed_seq``."""
        entropy = _entropy(seed_seq)
        return cls(
            run_id=run_id(scenario, seed_seq),
            scenario=scenario,
            entropy=tuple(entropy) if isinstance(entropy, list) else entropy,
            spawn_key=tuple(int(k) for k in seed_seq.spawn_key),
        )

    def seed_sequence(self) -> np.random.SeedSequence:
        """The replication's SeedSequence, rebuilt from entropy and spawn key."""
        entropy = list(self.entropy) if isinstance(self.entropy, tuple) else self.entropy
        return np.random.SeedSequence(entropy, spawn_key=self.spawn_key)


@dataclass(frozen=True)
class RunOutcome:
    """What a worker sends back for one run.

    Attributes:
        run_id: the run's content address.
        status: ``"ok"`` or ``"failed"``.
        error: ``"<ExceptionType>: message"`` of a failed run, else "".
        kpis: KPI name -> value (empty when failed).
        units: KPI name -> unit.
        elapsed_s: wall time of the run on the worker.
        worker: ``host:pid`` of the worker.
    """

    run_id: str
    status: str
    error: str = ""
    kpis: dict[str, float] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0
    worker: str = ""

    @classmethod
    def failed(cls, run_id: str, error: str) -> RunOutcome:
        """A failed outcome decided by the driver (e.g. a worker that kept dying)."""
        return cls(run_id=run_id, status="failed", error=error)


def execute_run(task: RunTask) -> RunOutcome:
    """Run one replication on this worker; a model error becomes a failed outcome."""
    from sim.experiments.replicate import run_replication  # the model loads on the worker, not with this module

    worker = f"{socket.gethostname()}:{os.getpid()}"
    started = time.perf_counter()
    try:
        result = run_replication(task.scenario, task.seed_sequence())
    except Exception as exc:  # noqa: BLE001 - a failing run is data, the sweep goes on
        error = f"{type(exc).__name__}: {exc}"
        return RunOutcome(task.run_id, "failed", error, elapsed_s=time.perf_counter() - started, worker=worker)
    return RunOutcome(
        run_id=task.run_id,
        status="ok",
        kpis={k: float(v.value) for k, v in result.kpis.items()},
        units={k: v.unit for k, v in result.kpis.items()},
        elapsed_s=time.perf_counter() - started,
        worker=worker,
    )


def execute_chunk(tasks: list[RunTask]) -> list[RunOutcome]:
    """Run several tasks in order on one worker (amortises the dispatch cost of short runs)."""
    return [execute_run(t) for t in tasks]


def run_record(outcome: RunOutcome, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stored record of a run: ``meta`` (point, parameters, seed, version ...) and the outcome."""
    return {**(meta or {}), **asdict(outcome)}


@runtime_checkable
class RunStore(Protocol):
    """Where the driver keeps finished runs, so that a re-run can skip them (resume)."""

    def prepare(self) -> None:
        """Get ready to store runs (e.g. create a folder, clean up after an interrupted writer)."""
        ...

    def finished(self, run_id: str) -> bool:
        """Whether the run has a stored successful result (failed runs are run again)."""
        ...

    def load(self, run_id: str) -> dict[str, Any] | None:
        """The stored record of a run (see :func:`run_record`), or None if there is none."""
        ...

    def write(self, outcome: RunOutcome, meta: dict[str, Any] | None = None) -> object:
        """Store a run's record, replacing an earlier one of the same run."""
        ...


class MemoryRunStore:
    """A :class:`RunStore` in this process's memory: nothing survives the process (tests, throw-away runs)."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def prepare(self) -> None:
        """Nothing to prepare."""

    def finished(self, run_id: str) -> bool:
        """Whether the run has a stored successful result."""
        record = self.records.get(run_id)
        return record is not None and record.get("status") == "ok"

    def load(self, run_id: str) -> dict[str, Any] | None:
        """A copy of the stored record of a run, or None."""
        record = self.records.get(run_id)
        return None if record is None else json.loads(json.dumps(record))

    def write(self, outcome: RunOutcome, meta: dict[str, Any] | None = None) -> None:
        """Keep the run's record (a copy, as if it had been written and read back)."""
        self.records[outcome.run_id] = json.loads(json.dumps(run_record(outcome, meta), allow_nan=True))


class _Executes(Protocol):
    """What :func:`run_pending` needs of an executor (:class:`sim.experiments.executors.Executor`)."""

    def run(self, tasks: Sequence[RunTask], on_outcome: Callable[[RunOutcome], None]) -> None:
        """Execute every task; call ``on_outcome`` once per task."""
        ...


def run_pending(
    tasks: Sequence[RunTask],
    store: RunStore,
    executor: _Executes,
    meta: Mapping[str, dict[str, Any]],
    *,
    force: bool = False,
    on_outcome: Callable[[RunOutcome], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Execute the tasks not yet finished in ``store``; store each record as its run finishes.

    The one resume loop of sweeps and propagations.

    Args:
        tasks: the runs, each run id once.
        store: where run records are kept (prepared here); finished runs found there are skipped.
        executor: where runs execute (:mod:`sim.experiments.executors`).
        meta: run id -> what is stored with the run's record (point, parameters, seed ...).
        force: rerun finished runs too.
        on_outcome: called after each run's record is stored.
        on_start: called once with (runs to execute, runs skipped) before executing.

    Returns:
        (runs executed, runs skipped).
    """
    store.prepare()
    todo = list(tasks) if force else [t for t in tasks if not store.finished(t.run_id)]
    if on_start is not None:
        on_start(len(todo), len(tasks) - len(todo))

    def record(outcome: RunOutcome) -> None:
        store.write(outcome, meta.get(outcome.run_id))
        if on_outcome is not None:
            on_outcome(outcome)

    if todo:
        executor.run(todo, record)
    return len(todo), len(tasks) - len(todo)
