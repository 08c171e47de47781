"""Fleets sized by an explicit rule: failures then cost what the rule implies."""

from __future__ import annotations

import numpy as np

from sim import load_scenario
from sim.experiments.replicate import run_replication
from sim.results.power import required_busy_cores
from sim.seeds import replication_seeds
from tests.conftest import SCENARIOS, short


def cost(path: str, *overrides: str) -> tuple[float, float]:
    sc = short(path, "gateway.enabled=false", "time.start=2025-12-14", *overrides, days=5, step_minutes=60)
    r = run_replication(sc, replication_seeds(0, 1)[0])
    costs = r.tables["costs"]
    return r.kpis["cost_eur_per_year"].value, float(costs[costs.category == "redundancy"].eur_per_year.sum())


def test_n_plus_1_absorbs_the_dublin_outage_that_none_pays_for() -> None:
    none_ok, _ = cost("clover.toml")
    none_out, _ = cost("dublin_outage.toml")
    n1_ok, n1_extra = cost("clover.toml", 'compute.redundancy="n_plus_1"')
    n1_out, _ = cost("dublin_outage.toml", 'compute.redundancy="n_plus_1"')
    assert none_out - none_ok > 0.02 * none_ok  # sized for the absorbed failover peak: a visible jump
    assert n1_ok > none_ok and n1_extra > 0  # the rule costs money when nothing fails, and says how much
    assert abs(n1_out - n1_ok) < 0.1 * (none_out - none_ok)  # ... and the outage then costs (almost) nothing more


def test_headroom_scales_the_fleet_and_more_headroom_costs_more() -> None:
    base, _ = cost("clover.toml")
    h10, e10 = cost("clover.toml", 'compute.redundancy="headroom"', "compute.headroom_share=0.1")
    h30, e30 = cost("clover.toml", 'compute.redundancy="headroom"', "compute.headroom_share=0.3")
    assert base < h10 < h30 and 0 < e10 < e30


def test_required_cores_by_rule() -> None:
    compute = load_scenario(SCENARIOS / "clover.toml").compute
    peak = np.array([100.0, 50.0, 200.0])
    big = np.full(3, 1e9)
    none = compute.model_copy(update={"redundancy": "none"})
    assert np.all(required_busy_cores(peak, none, big) == 0)
    head = compute.model_copy(update={"redundancy": "headroom", "headroom_share": 0.25})
    np.testing.assert_allclose(required_busy_cores(peak, head, big), peak * 1.25)
    n1 = compute.model_copy(update={"redundancy": "n_plus_1"})
    np.testing.assert_allclose(required_busy_cores(peak, n1, big), [300.0, 250.0, 300.0])
    # never beyond what the contracted power can run, never below the own peak
    cores_per_mw = 1e6 / n1.server_max_w * n1.server_cores * n1.target_utilisation
    tight = np.array([1.0, 1.0, 1.0]) * 120.0 / cores_per_mw
    np.testing.assert_allclose(required_busy_cores(peak, n1, tight), [120.0, 120.0, 200.0])
