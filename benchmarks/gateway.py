"""Benchmark: the compiled gateway kernel against its SimPy reference.

Runs both methods on the same ~1,000,000 requests (the default gateway over ~65 days:
regional working hours, shifts, priorities, automatic check, review, third-party
sampling, transfers and resubmissions), checks that every request's wait agrees, and
reports the speed-up. Then times one year with ~20 M requests on the fast path, and the
numba compile time with a cold cache (in a subprocess, so this run's cache is untouched).

Usage: python benchmarks/gateway.py [--requests 1000000] [--year-requests 20000000]

The last line printed is ``speedup: <ratio>x`` (engines on the same pre-drawn streams).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from sim.model import gateway as gw
from sim.model.gateway.calendar import week_offset_s
from sim.model.gateway.engines import run_fast, run_simpy
from sim.model.gateway.routing import plan
from sim.model.gateway.run import queue_inputs
from sim.model.gateway.streams import draw_streams
from sim.results.gateway import gateway_kpis

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
DAY = 86400.0


def scaled_config(factor: float) -> gw.GatewayConfig:
    """The default gateway with every rate and head count multiplied by ``factor``."""
    data = gw.GatewayConfig().model_dump()
    for region in data["regions"]:
        region["head_count"] = round(region["head_count"] * factor)
    for shift in data["shifts"]:
        shift["reviewers"] = max(1, round(shift["reviewers"] * factor))
    for flow in data["transfers"]["flows"]:
        flow["jobs_per_hour"] *= factor
    data["third_party"]["staff"] = max(1, round(data["third_party"]["staff"] * factor))
    data["auto_check_servers"] = max(1, round(data["auto_check_servers"] * factor))
    data["transfers"]["nodes"] = max(1, round(data["transfers"]["nodes"] * factor))
    return gw.GatewayConfig.model_validate(data)


def prepare(config: gw.GatewayConfig, horizon_s: float, seed: int) -> tuple:
    """Draw the streams once (shared by both methods)."""
    streams = draw_streams(config, START, horizon_s, np.random.default_rng(seed), None)
    routes = plan(streams, config, "gateway")
    inputs = queue_inputs(config, streams, routes, horizon_s, week_offset_s(START))
    return streams, routes, inputs


COMPILE_SNIPPET = """
import time, datetime as dt, numpy as np
t0 = time.perf_counter()
from sim.model import gateway as gw
cfg = gw.GatewayConfig(warmup_s=0.0)
t1 = time.perf_counter()
gw.simulate_gateway(cfg, start_utc=dt.datetime(2024, 1, 1), horizon_s=3600.0, rng=np.random.default_rng(0))
print(time.perf_counter() - t1)
"""


def cold_compile_s() -> float:
    """First call with an empty numba cache (all kernels compiled), in a subprocess."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = subprocess.run([sys.executable, "-c", COMPILE_SNIPPET], env=env, check=True,
                             capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=float, default=1_000_000)
    parser.add_argument("--year-requests", type=float, default=20_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    print(f"numba compile, cold cache (first call, all kernels): {cold_compile_s():.1f} s")
    t0 = time.perf_counter()
    gw.simulate_gateway(gw.GatewayConfig(warmup_s=0.0), start_utc=START, horizon_s=3600.0,
                        rng=np.random.default_rng(0))
    print(f"warm-up call (cache load): {time.perf_counter() - t0:.2f} s")

    # --- the same ~1 M requests through both engines
    config = gw.GatewayConfig(warmup_s=0.0)
    per_day = 5.65e6 / 365.0  # requests per day of the default gateway, roughly
    horizon = args.requests / per_day * DAY
    _, _, inputs = prepare(config, horizon, args.seed)
    n_rows = len(inputs.arrival)
    t0 = time.perf_counter()
    fast = run_fast(inputs)
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = run_simpy(inputs)
    t_simpy = time.perf_counter() - t0
    simulated = int(np.count_nonzero(~np.isnan(fast.done)))
    for name in ("arrival", "wait", "service", "review_wait", "done"):
        a, b = getattr(fast, name), getattr(ref, name)
        if not np.array_equal(a, b, equal_nan=True):
            raise SystemExit(f"MISMATCH in {name}: max |diff| = {np.nanmax(np.abs(a - b))}")
    print(f"requests simulated: {simulated:,} ({n_rows:,} rows drawn) over {horizon / DAY:.1f} days")
    print("fast and simpy agree on every request (arrival, wait, service, review wait, completion)")

    t0 = time.perf_counter()
    gw.simulate_gateway(config, start_utc=START, horizon_s=horizon, rng=np.random.default_rng(args.seed))
    t_fast_total = time.perf_counter() - t0
    print(f"simpy engine: {t_simpy:.2f} s ({simulated / t_simpy:,.0f} requests/s)")
    print(f"fast engine:  {t_fast:.3f} s ({simulated / t_fast:,.0f} requests/s)")
    print(f"fast simulate_gateway end to end (draws + engine + results): {t_fast_total:.2f} s "
          f"-> end-to-end speedup {(t_simpy + t_fast_total - t_fast) / t_fast_total:.0f}x")

    # --- one year with ~20 M requests, fast path
    year_config = scaled_config(args.year_requests / 5.65e6)
    t0 = time.perf_counter()
    year = gw.simulate_gateway(year_config, start_utc=START, horizon_s=365 * DAY,
                               rng=np.random.default_rng(args.seed))
    t_year = time.perf_counter() - t0
    kpis = gateway_kpis(year)
    print(f"one year, {len(year.arrival_s):,} requests, fast path end to end: {t_year:.2f} s "
          f"(p95 wait {kpis['gateway_wait_s_p95']:.0f} s, reviewer utilisation "
          f"{kpis['reviewer_utilisation']:.2f}{', UNSTABLE' if year.unstable else ''})")
    print(f"speedup: {t_simpy / t_fast:.0f}x")


if __name__ == "__main__":
    main()
