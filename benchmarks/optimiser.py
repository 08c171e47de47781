"""Time the optimising placement policies (HiGHS LP) on the reference case and a large synthetic one.

1. The Clover scenario with all seven reference sites (32 countries x 4 classes x 7 sites); the
   sites without published figures get assumed capacities through scenario overrides, and the
   Finnish sites are brought online so every site is usable.
2. A synthetic 200 regions x 10 classes x 30 sites context, built directly from a seeded numpy
   Generator (half the classes bound to one zone, 2/3 of the sites in it, a few unavailable, bounded
   RTT for a quarter of the regions).

Prints solve times per policy (the weighted policy with all three weights > 0, i.e. three
payoff-table solves plus its own), the time to explain an infeasible variant (storage cut to a
tenth: elastic re-solve), and, as its last line, ``optimiser_s: <seconds>`` for the slowest
policy on the synthetic case (target < 10 s). Run:
``.venv/bin/python benchmarks/optimiser.py``.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

import sim.model.placement.optimiser as opt  # registers the optimising policies
from sim import load_scenario
from sim.model.placement.policy import PlacementContext, get_policy
from sim.model.world import World

ROOT = Path(__file__).resolve().parents[1]
ALL_SITES = ["dublin", "ireland2", "hamar", "kouvola", "lahti", "virginia", "singapore"]
OVERRIDES = [
    f"policy.sites={ALL_SITES!r}".replace("'", '"'),
    "sites.kouvola.storage_pb_capacity=600.0",  # ASSUMPTION for the benchmark
    "sites.kouvola.online_date=2024-01-01",
    "sites.lahti.storage_pb_capacity=300.0",  # ASSUMPTION for the benchmark
    "sites.lahti.online_date=2024-01-01",
    "time.horizon_days=7",
]
POLICY_NAMES = ("cost_optimal", "carbon_optimal", "latency_optimal", "weighted")


def reference_context() -> PlacementContext:
    """The Clover planning context over all seven reference sites."""
    sc = load_scenario(ROOT / "scenarios" / "clover.toml", OVERRIDES)
    world = World(sc, np.random.SeedSequence(0))
    mau0 = np.array([sc.population.mau * sc.population.country_shares[c] for c in world.countries])
    initial = np.array([sc.data_classes[k].initial_gb_per_mau for k in world.classes])
    world._volume_gb = mau0[:, None] * initial[None, :]  # the stock, as World.run sets it first
    return world._context(0)


def synthetic_context(rng: np.random.Generator, regions: int = 200, classes: int = 10, sites: int = 30) -> PlacementContext:
    """A large random but feasible-by-construction-ish planning context."""
    C, K, S = regions, classes, sites
    site_in_zone = np.arange(S) < (2 * S) // 3
    bound = np.arange(K) % 2 == 0
    available = rng.random(S) > 0.1
    available[:6] = True
    share = rng.dirichlet(np.ones(C))
    compute_mw = share * 100.0
    volume_gb = rng.uniform(0.5, 2.0, size=(C, K)) * share[:, None] * 5e6
    rtt = rng.uniform(5.0, 150.0, size=(C, S))
    usable = np.where(site_in_zone & available, rtt, np.inf)  # where zone-bound data may be served
    max_rtt = np.where(rng.random(C) < 0.25, np.sort(usable, axis=1)[:, 3] + 1.0, np.inf)
    return PlacementContext(
        countries=[f"R{i:03d}" for i in range(C)],
        classes=[f"k{j}" for j in range(K)],
        class_bound=bound,
        replicas=rng.integers(1, 4, size=K),
        sites=[f"s{i:02d}" for i in range(S)],
        allowed=np.broadcast_to(np.where(bound[:, None], site_in_zone[None, :], True), (C, K, S)),
        site_available=available,
        site_it_mw=rng.uniform(10.0, 30.0, size=S),
        rtt_ms=rtt,
        demand_share=share,
        site_country=[f"X{i // 2}" for i in range(S)],
        site_storage_pb=rng.uniform(20.0, 60.0, size=S),
        site_energy_eur_per_it_kwh=rng.uniform(0.05, 0.35, size=S),
        site_gco2_per_it_kwh=rng.uniform(20.0, 500.0, size=S),
        volume_gb=volume_gb,
        compute_mw=compute_mw,
        class_distinct_countries=np.arange(K) % 3 == 0,
        weights={"cost": 0.5, "carbon": 0.25, "latency": 0.25},
        max_rtt_ms=max_rtt,
        colocation_eur_per_kw_month=120.0,
        server_eur_per_mw_year=7.1e6,
        storage_eur_per_gb_year=0.007,
        storage_w_per_gb=0.001,
        it_load_factor=0.55,
    )


def _time(ctx: PlacementContext, name: str, repeat: int = 1) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        placement = get_policy(name).place(ctx)
        best = min(best, time.perf_counter() - t0)
    assert not opt.placement_violations(ctx, placement), opt.placement_violations(ctx, placement)
    return best


def main() -> int:
    ref = dataclasses.replace(reference_context(), weights={"cost": 0.5, "carbon": 0.25, "latency": 0.25})
    print(f"reference: {len(ref.countries)} countries x {len(ref.classes)} classes x {len(ref.sites)} sites")
    for name in POLICY_NAMES:
        print(f"  {name:<16} {_time(ref, name, repeat=5) * 1000:8.1f} ms (best of 5)")
    big = synthetic_context(np.random.default_rng(20250101))
    print(f"synthetic: {len(big.countries)} regions x {len(big.classes)} classes x {len(big.sites)} sites")
    times = {name: _time(big, name) for name in POLICY_NAMES}
    for name, t in times.items():
        print(f"  {name:<16} {t:8.3f} s")
    short = dataclasses.replace(big, site_storage_pb=big.site_storage_pb / 10)
    t0 = time.perf_counter()
    try:
        opt.optimise(short, {"cost": 1.0})
    except opt.InfeasiblePlacement as exc:
        print(f"  infeasible, explained in {time.perf_counter() - t0:.3f} s: {str(exc)[:100]}...")
    print(f"optimiser_s: {max(times.values()):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
