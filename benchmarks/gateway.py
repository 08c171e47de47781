"""Benchmark: the gateway against plain SimPy, the compiled kernel against its SimPy reference.

1. **End to end on an M/M/8 queue** (``speedup_end_to_end``): ``simulate_gateway`` configured as a
   textbook M/M/8 queue (one 24x7 Poisson stream, 8 reviewers, exponential reviews, rho = 0.9,
   ~1,000,000 customers; nothing else) with everything a run does: the draws, the kernel, the
   record (the tally) and the KPIs, against the same workload written in plain SimPy (a
   ``simpy.Resource`` with 8 servers, one process per customer, pre-drawn NumPy times, the same
   KPIs from the waits). ``speedup_kernel`` is the kernel alone on those customers, and
   ``minimal_heap_speedup`` what a minimal compiled M/M/c loop (a heap of completions and a FIFO
   array, nothing else) reaches on the same machine: the ceiling for a kernel.
2. **Kernel against its reference** (``speedup``): both engines on the same ~1,000,000 requests of
   the default gateway (~65 days: regional working hours, shifts, priorities, automatic check,
   review, third-party sampling, transfers and resubmissions), every request's wait checked equal.
3. One year with ~20 M requests end to end, and the numba compile time with a cold cache (in a
   subprocess, so this run's cache is untouched).

Times are CPU seconds of this process (``time.process_time``: other jobs on a shared machine
change wall times far more than CPU times); the ratios compare CPU times measured in this run,
wall-time ratios are printed beside them. Each fast measurement is the best of several.

Usage: python benchmarks/gateway.py [--requests 1000000] [--year-requests 20000000] [--mmc-only]

Prints ``speedup_end_to_end: <ratio>x``, ``speedup_kernel: <ratio>x``, ``minimal_heap_speedup:
<ratio>x`` and, as its last line, ``speedup: <ratio>x`` (engines on the same pre-drawn streams).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import simpy
from numba import njit

from sim.model import gateway as gw
from sim.model.gateway.calendar import week_offset_s
from sim.model.gateway.engines import run_fast, run_simpy
from sim.model.gateway.routing import plan
from sim.model.gateway.run import queue_inputs
from sim.model.gateway.streams import draw_streams
from sim.results.gateway import gateway_kpis
from sim.scenario import load_scenario

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
DAY = 86400.0
ROOT = Path(__file__).resolve().parents[1]
#: Monthly active users driving the user-driven requests of Clover's organisation.
MAU = 175e6


def clover_config(**updates: object) -> gw.GatewayConfig:
    """Clover's gateway organisation (scenarios/clover.toml; the model has none of its own)."""
    data = load_scenario(ROOT / "scenarios" / "clover.toml").gateway.model_dump()
    data.update(updates)
    return gw.GatewayConfig.model_validate(data)


def scaled_config(factor: float) -> gw.GatewayConfig:
    """Clover's gateway with every rate and head count multiplied by ``factor``."""
    data = clover_config().model_dump()
    for region in data["regions"]:
        region["head_count"] = round(region["head_count"] * factor)
    for cause in data["user_driven"]:
        cause["requests_per_million_mau_per_day"] *= factor
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
    streams = draw_streams(config, START, horizon_s, np.random.default_rng(seed), None, MAU)
    routes = plan(streams, config, "gateway")
    inputs = queue_inputs(config, streams, routes, horizon_s, week_offset_s(START))
    return streams, routes, inputs


COMPILE_SNIPPET = """
import time, datetime as dt, numpy as np
t0 = time.perf_counter()
from sim.model import gateway as gw
# every stage (the code has no figures: these were its defaults, Clover's process figures)
cfg = gw.GatewayConfig(
    warmup_s=0.0, access_requests_per_hour=100.0, reviewers=2, review_distribution="lognormal",
    review_minutes_mean=6.0, review_cv=1.0, approve_probability=0.9, resubmit_share=0.5, max_resubmissions=2,
    resubmit_delay_h={"kind": "exponential", "mean": 24.0}, sla_s=14400.0, auto_check=True, auto_check_servers=8,
    auto_check_s={"kind": "lognormal", "mean": 2.0, "cv": 0.5},
    priority_classes=[{"name": "incident", "share": 0.05, "sla_s": 3600.0}, {"name": "routine"}],
    third_party={"access_share": 0.05, "transfer_share": 0.02, "review_minutes": {"kind": "lognormal", "mean": 20.0, "cv": 0.8}},
    transfers={"nodes": 4, "inspection_gb_per_s": 0.5, "approve_probability": 0.98,
               "size_gb": {"kind": "lognormal", "mean": 4.0, "cv": 2.0}, "protected_classes": ["protected_personal"],
               "pseudonymisation_factor": {"protected_personal": 0.5, "user_content": 1.0,
                                           "behavioural_analytics": 0.3, "pseudonymised_aggregates": 0.05},
               "flows": [{"data_class": c, "destination": d, "jobs_per_hour": r} for c, d, r in (
                   ("pseudonymised_aggregates", "US", 30.0), ("behavioural_analytics", "US", 8.0),
                   ("user_content", "US", 4.0), ("protected_personal", "US", 2.0),
                   ("pseudonymised_aggregates", "SG", 6.0), ("user_content", "SG", 2.0),
                   ("pseudonymised_aggregates", "other", 2.0))]})
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


# --------------------------------------------------------------------------------------------
# M/M/8 end to end

SERVERS, MEAN_REVIEW_MIN, RHO = 8, 6.0, 0.9
#: Arrivals per hour of the M/M/8 workload (rho = lambda x mean service / servers).
MMC_RATE_PER_H = RHO * SERVERS / MEAN_REVIEW_MIN * 60.0


def mmc_config() -> gw.GatewayConfig:
    """The gateway as a textbook M/M/8 queue: one stream, 8 reviewers around the clock, nothing else."""
    return gw.GatewayConfig(
        access_requests_per_hour=MMC_RATE_PER_H, staffing="24x7", reviewers=SERVERS,
        review_minutes_mean=MEAN_REVIEW_MIN, review_distribution="exponential", auto_check=False,
        approve_probability=1.0, resubmit_share=0.0, warmup_s=0.0,
        priority_classes=[{"name": "routine", "share": 1.0}], third_party={"enabled": False},
        transfers={"flows": []})


def plain_simpy_mmc(customers: int, seed: int) -> dict[str, float]:
    """The M/M/8 workload in plain SimPy: one process per customer on an 8-server resource.

    Inter-arrival and service times are drawn with NumPy first; the KPIs (mean and quantiles of
    the waits) are computed as the gateway's are.
    """
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(3600.0 / MMC_RATE_PER_H, customers)
    service = rng.exponential(MEAN_REVIEW_MIN * 60.0, customers)
    env = simpy.Environment()
    servers = simpy.Resource(env, SERVERS)
    waits = np.empty(customers)

    def customer(i: int):  # noqa: ANN202 - a simpy process
        joined = env.now
        with servers.request() as request:
            yield request
            waits[i] = env.now - joined
            yield env.timeout(service[i])

    def source():  # noqa: ANN202 - a simpy process
        for i in range(customers):
            yield env.timeout(gaps[i])
            env.process(customer(i))

    env.process(source())
    env.run()
    p50, p95, p99 = np.quantile(waits, [0.5, 0.95, 0.99])
    return {"mean": float(waits.mean()), "p50": float(p50), "p95": float(p95), "p99": float(p99)}


@njit(cache=True)
def minimal_heap_mmc(arrival, service, servers):  # noqa: ANN001, ANN201 - compiled
    """The least an M/M/c kernel does: a heap of completion times, a FIFO array, the waits."""
    n = arrival.shape[0]
    heap = np.empty(servers + 1)
    size = 0
    queue = np.empty(n, np.int64)
    head = tail = 0
    wait = np.empty(n)
    busy = 0
    i = 0
    while i < n or size > 0:
        if i < n and (size == 0 or arrival[i] <= heap[0]):
            t = arrival[i]
            if busy < servers:
                wait[i] = 0.0
                r = i
            else:
                queue[tail] = i
                tail += 1
                r = -1
            i += 1
        else:
            t = heap[0]
            size -= 1
            x = heap[size]
            k = 0
            while True:
                c = 2 * k + 1
                if c >= size:
                    break
                if c + 1 < size and heap[c + 1] < heap[c]:
                    c += 1
                if heap[c] < x:
                    heap[k] = heap[c]
                    k = c
                else:
                    break
            heap[k] = x
            busy -= 1
            r = -1
            if head < tail:
                r = queue[head]
                head += 1
                wait[r] = t - arrival[r]
        if r >= 0:
            busy += 1
            x = t + service[r]
            k = size
            size += 1
            while k > 0:
                p = (k - 1) >> 1
                if x < heap[p]:
                    heap[k] = heap[p]
                    k = p
                else:
                    break
            heap[k] = x
    return wait


def best_of(repeats: int, call) -> tuple[float, float, object]:  # noqa: ANN001
    """(fastest CPU seconds, wall seconds of that run, its result)."""
    best = (float("inf"), 0.0, None)
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        out = call()
        c1, w1 = time.process_time(), time.perf_counter()
        if c1 - c0 < best[0]:
            best = (c1 - c0, w1 - w0, out)
    return best


def mmc_end_to_end(customers: float, seed: int) -> None:
    """Section 1: the M/M/8 workload through simulate_gateway, its kernel, a minimal heap, plain SimPy."""
    config = mmc_config()
    horizon = customers / MMC_RATE_PER_H * 3600.0

    def gateway_run() -> tuple[int, dict[str, float]]:
        tally = gw.simulate_gateway(config, start_utc=START, horizon_s=horizon, rng=np.random.default_rng(seed),
                                    record="tally")
        return tally.requests, gateway_kpis(tally)

    gateway_run()  # compiled kernels loaded
    t_gw, w_gw, (n, kpis) = best_of(5, gateway_run)
    _, _, inputs = prepare(config, horizon, seed)
    t_kernel, w_kernel, _ = best_of(5, lambda: run_fast(inputs))
    arrival = np.ascontiguousarray(inputs.arrival[: inputs.n_original])
    service = np.ascontiguousarray(inputs.s_review[: inputs.n_original])
    minimal_heap_mmc(arrival, service, SERVERS)
    t_heap, w_heap, _ = best_of(5, lambda: minimal_heap_mmc(arrival, service, SERVERS))
    c0, w0 = time.process_time(), time.perf_counter()
    plain = plain_simpy_mmc(n, seed)
    t_simpy, w_simpy = time.process_time() - c0, time.perf_counter() - w0
    print(f"M/M/{SERVERS}, rho {RHO}: {n:,} customers; load average {os.getloadavg()[0]:.2f}")
    print(f"  plain SimPy (resource, process per customer, KPIs): {t_simpy:.2f} s CPU ({w_simpy:.2f} s wall); "
          f"mean wait {plain['mean']:.0f} s, p95 {plain['p95']:.0f} s")
    print(f"  simulate_gateway end to end (draws, kernel, tally, KPIs): {t_gw:.3f} s CPU ({w_gw:.3f} s wall); "
          f"mean wait {kpis['gateway_wait_s_mean']:.0f} s, p95 {kpis['gateway_wait_s_p95']:.0f} s")
    print(f"  kernel alone (QueueRunner): {t_kernel:.3f} s CPU; minimal compiled heap: {t_heap:.3f} s CPU")
    print(f"  wall-time ratios: end to end {w_simpy / w_gw:.0f}x, kernel {w_simpy / w_kernel:.0f}x, "
          f"minimal heap {w_simpy / w_heap:.0f}x")
    print(f"speedup_end_to_end: {t_simpy / t_gw:.0f}x")
    print(f"speedup_kernel: {t_simpy / t_kernel:.0f}x")
    print(f"minimal_heap_speedup: {t_simpy / t_heap:.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=float, default=1_000_000)
    parser.add_argument("--year-requests", type=float, default=20_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--mmc-only", action="store_true", help="only section 1 (M/M/8 end to end)")
    args = parser.parse_args()
    mmc_end_to_end(args.requests, args.seed)
    if args.mmc_only:
        return

    print(f"numba compile, cold cache (first call, all kernels): {cold_compile_s():.1f} s")
    t0 = time.perf_counter()
    gw.simulate_gateway(clover_config(warmup_s=0.0), start_utc=START, horizon_s=3600.0,
                        rng=np.random.default_rng(0), mau=MAU)
    print(f"warm-up call (cache load): {time.perf_counter() - t0:.2f} s")

    # --- the same ~1 M requests through both engines
    config = clover_config(warmup_s=0.0)
    per_day = 5.65e6 / 365.0  # requests per day of Clover's gateway, roughly
    horizon = args.requests / per_day * DAY
    _, _, inputs = prepare(config, horizon, args.seed)
    n_rows = len(inputs.arrival)
    run_fast(inputs)
    t_fast, _, fast = best_of(3, lambda: run_fast(inputs))
    t0 = time.process_time()
    ref = run_simpy(inputs)
    t_simpy = time.process_time() - t0
    simulated = int(np.count_nonzero(~np.isnan(fast.done)))
    for name in ("arrival", "wait", "service", "review_wait", "done"):
        a, b = getattr(fast, name), getattr(ref, name)
        if not np.array_equal(a, b, equal_nan=True):
            raise SystemExit(f"MISMATCH in {name}: max |diff| = {np.nanmax(np.abs(a - b))}")
    print(f"requests simulated: {simulated:,} ({n_rows:,} rows drawn) over {horizon / DAY:.1f} days")
    print("fast and simpy agree on every request (arrival, wait, service, review wait, completion)")

    t_fast_total, _, _ = best_of(3, lambda: gw.simulate_gateway(
        config, start_utc=START, horizon_s=horizon, rng=np.random.default_rng(args.seed), record="tally", mau=MAU))
    print(f"simpy engine: {t_simpy:.2f} s CPU ({simulated / t_simpy:,.0f} requests/s)")
    print(f"fast engine:  {t_fast:.3f} s CPU ({simulated / t_fast:,.0f} requests/s)")
    print(f"fast simulate_gateway end to end (draws + engine + tally): {t_fast_total:.2f} s CPU "
          f"-> end-to-end speedup over the SimPy engine {(t_simpy + t_fast_total - t_fast) / t_fast_total:.0f}x")

    # --- one year with ~20 M requests, fast path
    year_config = scaled_config(args.year_requests / 5.65e6)
    t0 = time.perf_counter()
    year = gw.simulate_gateway(year_config, start_utc=START, horizon_s=365 * DAY,
                               rng=np.random.default_rng(args.seed), record="tally", mau=MAU)
    t_year = time.perf_counter() - t0
    kpis = gateway_kpis(year)
    print(f"one year, {year.requests:,} requests, fast path end to end: {t_year:.2f} s wall "
          f"(p95 wait {kpis['gateway_wait_s_p95']:.0f} s, reviewer utilisation "
          f"{kpis['reviewer_utilisation']:.2f}{', UNSTABLE' if year.unstable else ''})")
    print(f"speedup: {t_simpy / t_fast:.0f}x")


if __name__ == "__main__":
    main()
