"""Parallel efficiency of the local executor: 200 short runs with 1 and with 2 worker processes.

The sweep is 20 MAU values x 10 replications of the Clover scenario on a 30-day horizon at
15-minute steps (each run simulates ~580,000 gateway requests one by one and keeps only its
KPIs), run through the real sweep machinery (chunked dispatch, atomic result files, the table). Each pool is started once and reused, as a sweep does, so the timed
part is the work of the sweep, not worker start-up; the start-up (spawn + import) is printed too.
Each configuration is timed ``REPEATS`` times on its pool and the fastest is kept (other jobs on
a shared machine only ever slow a repeat down). The load average is printed for context.

Prints ``ms_per_run: <ms>`` (the sweep with one worker, per run: what one run costs in a
worker, dispatch and result files included) and, as its last line,
``parallel_efficiency: <0..1>`` = t1 / (2 x t2). Run::

    .venv/bin/python benchmarks/sweep.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from sim import scenario as scn
from sim.experiments.executors import LocalExecutor
from sim.experiments.sweep import SweepPlan, plan_sweep
from sim.report.experiment_files import run_sweep
from sim.scenario.sweep import SweepSpec

ROOT = Path(__file__).resolve().parents[1]
POINTS, REPLICATIONS, REPEATS = 20, 10, 3


def plan() -> SweepPlan:
    """The benchmark sweep: 20 points x 10 replications = 200 runs."""
    data = scn.read_scenario_data(ROOT / "scenarios" / "clover.toml")
    data["time"] = {**data["time"], "horizon_days": 30, "step_minutes": 15}
    mau = [1.2e8 + i * 5e6 for i in range(POINTS)]
    spec = SweepSpec(replications=REPLICATIONS, seed=1, grid={"population.mau": mau})
    return plan_sweep(data, spec, file="benchmark")


def timed(p: SweepPlan, workers: int) -> tuple[float, float]:
    """(start-up seconds, fastest sweep seconds) with ``workers`` local processes."""
    t0 = time.perf_counter()
    executor = LocalExecutor(workers).start()
    startup = time.perf_counter() - t0
    best = float("inf")
    try:
        for _ in range(REPEATS):
            with tempfile.TemporaryDirectory() as tmp:
                t1 = time.perf_counter()
                report = run_sweep(p, Path(tmp) / "out", executor, force=True)
                best = min(best, time.perf_counter() - t1)
            if report.failed:
                raise SystemExit(f"{len(report.failed)} benchmark run(s) failed: {next(iter(report.failed.values()))}")
    finally:
        executor.close()
    return startup, best


def main() -> int:
    p = plan()
    print(f"runs: {len(p.runs)} (30 days, 15-minute steps); load average {os.getloadavg()[0]:.2f}")
    start1, t1 = timed(p, 1)
    print(f"workers=1: start-up {start1:.2f} s, sweep {t1:.2f} s ({t1 / len(p.runs) * 1000:.1f} ms/run)")
    start2, t2 = timed(p, 2)
    print(f"workers=2: start-up {start2:.2f} s, sweep {t2:.2f} s ({t2 / len(p.runs) * 1000:.1f} ms/run)")
    cold = (start1 + t1) / (2 * (start2 + t2))
    print(f"parallel_efficiency_with_startup: {cold:.3f}")
    print(f"ms_per_run: {t1 / len(p.runs) * 1000:.1f}")
    print(f"parallel_efficiency: {t1 / (2 * t2):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
