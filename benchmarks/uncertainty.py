"""Speed of uncertainty propagation against plain sequential runs, in one process, on one machine.

Draws N = 200 input sets of the Clover year (``scenarios/clover.toml``, its ``[uncertainty]``
table, 15-minute steps, gateway on) and measures:

* **uncertainty**: ``sim.run_propagation`` on a local executor of ``--workers`` processes (every
  core by default) into a fresh run store: each run keeps only its KPIs (no table written, no
  chart drawn), runs are sent in chunks. Worker start-up is timed apart, as a sweep pays it once.
* **plain**: what a planner does without it, ``clover-sim run --set ...`` once per input set:
  ``simulate`` and ``write_results`` with the default outputs (tables, per-request Parquet,
  charts), one after the other in this process (no interpreter start-up counted), for the first
  ``--plain`` input sets of the same draw.

Prints both figures in runs per second, then the ratio, as its last three lines::

    uncertainty_runs_per_s: <runs per second>
    plain_runs_per_s: <runs per second>
    ratio: <uncertainty / plain>

Run: ``.venv/bin/python benchmarks/uncertainty.py`` (about 15 minutes on 2 cores);
``--n 20 --days 30`` for a quick look, ``--scheduler tcp://HOST:8786`` for a Dask cluster.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import sim
from sim.experiments.replicate import simulate
from sim.report.files import write_results

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200, help="input sets (default 200)")
    p.add_argument("--plain", type=int, default=5, help="input sets run the plain way (default 5)")
    p.add_argument("--days", type=float, default=365.0, help="horizon in days (default 365)")
    p.add_argument("--step-minutes", type=float, default=15.0, help="time step (default 15)")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default every core)")
    p.add_argument("--scheduler", default=None, help="a Dask scheduler instead of local workers")
    args = p.parse_args()

    overrides = [f"time.horizon_days={args.days:g}", f"time.step_minutes={args.step_minutes:g}"]
    t0 = time.perf_counter()
    plan = sim.load_propagation(ROOT / "scenarios" / "clover.toml", overrides, n=args.n, seed=0)
    plan_s = time.perf_counter() - t0
    print(f"{len(plan.tasks)} input sets of {len(plan.keys)} uncertain inputs, {args.days:g} days at "
          f"{args.step_minutes:g}-minute steps; planned and validated in {plan_s:.2f} s; "
          f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")

    # plain: simulate + write every default file, one input set after the other
    k = min(args.plain, len(plan.tasks))
    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        for i, task in enumerate(plan.tasks[:k]):
            results = simulate(task.scenario, seed=plan.seed)
            write_results(results, Path(tmp) / f"run{i}")
        plain_s = time.perf_counter() - t1
    plain_rate = k / plain_s
    print(f"plain: {k} runs in {plain_s:.1f} s ({plain_s / k:.2f} s a run: simulate + tables + charts)")

    # uncertainty: KPIs only, on the executor, into a fresh store
    with tempfile.TemporaryDirectory() as tmp:
        t2 = time.perf_counter()
        executor = sim.make_executor(args.scheduler, args.workers)
        if hasattr(executor, "start"):
            executor.start()
        startup_s = time.perf_counter() - t2
        try:
            t3 = time.perf_counter()
            prop = sim.run_propagation(plan, Path(tmp) / "store", executor)
            unc_s = time.perf_counter() - t3
        finally:
            executor.close()
    if prop.failed:
        raise SystemExit(f"{len(prop.failed)} run(s) failed: {next(iter(prop.failed.values()))}")
    unc_rate = len(plan.tasks) / unc_s
    where = args.scheduler or f"{executor.workers} local worker(s)"
    print(f"uncertainty: {len(plan.tasks)} runs in {unc_s:.1f} s on {where} ({unc_s / len(plan.tasks):.2f} s a run; "
          f"worker start-up {startup_s:.1f} s, not counted)")
    cost = prop.ranges().set_index("kpi").loc["cost_eur_per_year"]
    print(f"cost_eur_per_year: p5 {cost['p5']:.4g}, p50 {cost['p50']:.4g}, p95 {cost['p95']:.4g}")
    print(f"uncertainty_runs_per_s: {unc_rate:.4f}")
    print(f"plain_runs_per_s: {plain_rate:.4f}")
    print(f"ratio: {unc_rate / plain_rate:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
