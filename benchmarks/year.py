"""Time one full Clover year (one replication, 15-minute steps) end to end.

Prints the stages (load, world run, KPIs and tables) and, as its last line,
``year_run_s: <seconds>`` for load + simulate (no file writing). Run: ``make bench``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from sim import load_scenario
from sim.model.world import run_world
from sim.results.replication import replication_result

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    t0 = time.perf_counter()
    sc = load_scenario(ROOT / "scenarios" / "clover.toml")
    t1 = time.perf_counter()
    meters = run_world(sc, np.random.SeedSequence(0).spawn(1)[0])
    t2 = time.perf_counter()
    res = replication_result(meters, sc)
    t3 = time.perf_counter()
    steps = len(meters.edges_s) - 1
    print(f"steps: {steps}, countries: {len(meters.countries)}, classes: {len(meters.classes)}, sites: {len(meters.sites)}")
    print(f"load_s: {t1 - t0:.3f}")
    print(f"world_s: {t2 - t1:.3f}")
    print(f"kpis_tables_s: {t3 - t2:.3f}")
    print(f"cost_eur_per_year: {res.kpis['cost_eur_per_year'].value:.4g}")
    print(f"year_run_s: {t3 - t0:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
