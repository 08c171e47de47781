"""Where the time of a run goes: CPU milliseconds per part, for the three speed targets of issue 15.

1. ``year``: one replication of ``scenarios/clover.toml`` (what ``clover-sim run`` simulates):
   the world, the gateway's draws, its compiled queues, its tally, the KPIs and tables.
2. ``sweep``: the same on 30 days at 15-minute steps (one run of ``benchmarks/sweep.py``).
3. ``mmc``: the M/M/8 workload of ``benchmarks/gateway.py`` end to end (draws, kernel, tally, KPIs).

The gateway draws its next chunk in a second thread while the queues run; here the draws are made
in the calling thread, so that each part's CPU time is its own (the sum is what a run costs
in CPU, not its wall time). Each figure is the mean over ``--repeats`` runs after one warm-up
run (compiled kernels loaded). Run::

    .venv/bin/python benchmarks/breakdown.py [year|sweep|mmc ...] [--repeats 3]
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from sim.model import world
from sim.model.gateway import engines, record, streams
from sim.model.gateway import run as gateway_run
from sim.results import gateway as gateway_results
from sim.results import replication
from sim.scenario import load_scenario
from sim.seeds import replication_seeds

ROOT = Path(__file__).resolve().parents[1]
CPU_MS: dict[str, float] = collections.defaultdict(float)
#: The parts in the order they are printed (outer parts before the parts inside them).
LABELS: list[str] = []


class _InThisThread:
    """Stands in for the gateway's one-thread pool: every draw in the calling thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> _InThisThread:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        future.set_result(fn(*args))
        return future


def _timed(owner: Any, name: str, label: str) -> None:
    """Add the CPU time of every call of ``owner.name`` to ``CPU_MS[label]``."""
    fn = getattr(owner, name)
    if label not in LABELS:
        LABELS.append(label)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            CPU_MS[label] += (time.process_time() - t0) * 1000.0

    setattr(owner, name, wrapper)


def instrument() -> None:
    """Time the parts of a run (names as in the profiles of issue 15)."""
    gateway_run.ThreadPoolExecutor = _InThisThread
    _timed(world, "run_world", "world (all of it, gateway included)")
    _timed(world, "simulate_gateway", "  gateway (all of it)")
    _timed(gateway_run, "simulate_gateway", "  gateway (all of it)")  # called directly (M/M/8)
    _timed(streams.StreamChunks, "__init__", "    draws: arrival times and decisions (StreamChunks)")
    _timed(streams.StreamChunks, "chunk", "    draws: service times and sizes per chunk")
    _timed(gateway_run, "plan", "    routes per chunk (routing.plan)")
    _timed(engines.QueueRunner, "add", "    queues: QueueRunner.add (ring copy, kernel, retire)")
    _timed(engines.QueueRunner, "_run", "      compiled kernel (queue_events)")
    _timed(record.Recorder, "add", "    tally of finished requests (tally_rows)")
    _timed(replication, "replication_result", "KPIs and tables (replication_result)")


def report(title: str, calls: Callable[[], None], repeats: int) -> None:
    """Print the mean CPU ms per part over ``repeats`` calls (after one warm-up call)."""
    calls()
    CPU_MS.clear()
    t0 = time.process_time()
    for _ in range(repeats):
        calls()
    total = (time.process_time() - t0) * 1000.0 / repeats
    print(f"{title}: {total:.0f} ms CPU per run (mean of {repeats})")
    for label in [*LABELS, *(k for k in CPU_MS if k not in LABELS)]:
        if label in CPU_MS:
            print(f"  {CPU_MS[label] / repeats:8.1f} ms  {label}")


def clover(days: int | None) -> Callable[[], None]:
    """One replication of the Clover scenario (``days`` at 15-minute steps, or as the file says)."""
    overrides = [] if days is None else [f"time.horizon_days={days}", "time.step_minutes=15"]
    scenario = load_scenario(ROOT / "scenarios" / "clover.toml", overrides)
    seed = replication_seeds(scenario.seed, 1)[0]

    def one() -> None:
        replication.replication_result(world.run_world(scenario, seed), scenario)

    return one


def mmc() -> Callable[[], None]:
    """The M/M/8 workload of benchmarks/gateway.py through simulate_gateway and its KPIs."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gateway as bench  # noqa: PLC0415 - the workload lives there

    config = bench.mmc_config()
    horizon = 1_000_000 / bench.MMC_RATE_PER_H * 3600.0

    def one() -> None:
        tally = gateway_run.simulate_gateway(config, start_utc=bench.START, horizon_s=horizon,
                                             rng=np.random.default_rng(2024), record="tally")
        t0 = time.process_time()
        gateway_results.gateway_kpis(tally)
        CPU_MS["gateway KPIs (gateway_kpis)"] += (time.process_time() - t0) * 1000.0

    return one


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="*", help="year, sweep and/or mmc (default: all three)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    instrument()
    runs = {"year": ("Clover year (clover-sim run)", lambda: clover(None)),
            "sweep": ("Clover 30 days, 15-minute steps (a sweep run)", lambda: clover(30)),
            "mmc": ("M/M/8, ~1,000,000 customers (speedup_end_to_end)", mmc)}
    unknown = set(args.what) - set(runs)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; use year, sweep or mmc")
    for what in args.what or list(runs):
        title, make = runs[what]
        report(title, make(), args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
