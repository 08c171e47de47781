"""Monotonicity: a change of one input moves the KPIs it drives the right way, strictly.

A table of cases on short Clover runs (2 days, hourly steps, one replication on seed 0, common
random numbers between the base and the changed run): more users -> more cost, storage and
gateway requests; farther sites -> longer round trips; fewer reviewers -> longer gateway waits;
less storage capacity at a site than it holds -> a different placement or an error, never no
change. Every assertion message carries the measured change.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from sim.experiments.replicate import run_replication
from sim.model.world import ModelInputError
from sim.results.replication import ReplicationResult
from sim.scenario import Scenario, ScenarioError
from sim.seeds import replication_seeds
from tests.conftest import short

DAYS = 2
SITES = ("dublin", "ireland2", "hamar")


def _scenario(*overrides: str) -> Scenario:
    return short("clover.toml", *overrides, days=DAYS, step_minutes=60)


def _fewer_reviewers(sc: Scenario, factor: float = 0.85) -> Scenario:
    """Every reviewer shift staffed with ``factor`` of its reviewers (at least one)."""
    data = sc.gateway.model_dump()
    for shift in data["shifts"]:
        shift["reviewers"] = max(1, int(shift["reviewers"] * factor))
    return sc.model_copy(update={"gateway": type(sc.gateway).model_validate(data)})


@functools.cache
def _result(overrides: tuple[str, ...] = (), change: str | None = None) -> ReplicationResult:
    sc = _scenario(*overrides)
    if change is not None:
        sc = CHANGES[change](sc)
    return run_replication(sc, replication_seeds(0, 1)[0])


CHANGES: dict[str, Callable[[Scenario], Scenario]] = {"fewer_reviewers": _fewer_reviewers}


@dataclass(frozen=True)
class Case:
    """One input change and a KPI that must move strictly in ``direction`` (+1 up, -1 down)."""

    name: str
    kpi: str
    direction: int
    overrides: tuple[str, ...] = ()
    change: str | None = None


MORE_USERS = ("population.mau=210000000",)  # +20 % on Clover's 175 M
HAMAR_NORTH = ("sites.hamar.lat=69.65", "sites.hamar.lon=18.96")  # Hamar moved to Tromso
IRELAND_WEST = ("sites.dublin.lat=53.27", "sites.dublin.lon=-9.05",  # both Irish sites moved to Galway
                "sites.ireland2.lat=53.27", "sites.ireland2.lon=-9.06")

CASES = [
    Case("more users -> more cost", "cost_eur_per_year", +1, MORE_USERS),
    Case("more users -> more storage", "stored_pb_total", +1, MORE_USERS),
    Case("more users -> more energy", "energy_mwh_per_year", +1, MORE_USERS),
    Case("more users -> more gateway requests", "gateway_requests_per_year", +1, MORE_USERS),
    Case("hamar farther north -> longer round trips", "user_rtt_ms_mean", +1, HAMAR_NORTH),
    Case("hamar farther north -> longer median round trip", "user_rtt_ms_p50", +1, HAMAR_NORTH),
    Case("irish sites farther west -> longer round trips", "user_rtt_ms_mean", +1, IRELAND_WEST),
    Case("fewer reviewers -> longer mean wait", "gateway_wait_s_mean", +1, change="fewer_reviewers"),
    Case("fewer reviewers -> longer p99 wait", "gateway_wait_s_p99", +1, change="fewer_reviewers"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_direction(case: Case) -> None:
    base = _result().kpis[case.kpi].value
    changed = _result(case.overrides, case.change).kpis[case.kpi].value
    moved = (changed - base) * case.direction
    rel = (changed - base) / base if base else float("inf")
    assert np.isfinite(base) and np.isfinite(changed), (case.name, base, changed)
    assert moved > 0, f"{case.name}: {case.kpi} {base:,.6g} -> {changed:,.6g} ({rel:+.3%}), expected strictly " + (
        "higher" if case.direction > 0 else "lower")


@pytest.mark.parametrize("fraction", [0.99, 0.5])
@pytest.mark.parametrize("site", SITES)
def test_less_storage_than_a_site_holds_changes_the_placement_or_fails(site: str, fraction: float) -> None:
    """Capacity below what a site holds: the placement moves (and fits) or the run stops, never no change."""
    base = _result()
    held = {s: base.kpis[f"stored_pb.{s}"].value for s in SITES}
    capacity = round(held[site] * fraction, 3)
    assert 0 < capacity < held[site]
    try:
        changed = _result((f"sites.{site}.storage_pb_capacity={capacity}",))
    except (ModelInputError, ScenarioError) as exc:
        assert "storage_pb_capacity" in str(exc) or "storage" in str(exc), exc
        return
    now = {s: changed.kpis[f"stored_pb.{s}"].value for s in SITES}
    moved_pb = sum(abs(now[s] - held[s]) for s in SITES)
    assert moved_pb > 0, f"{site} capacity {capacity:,.1f} PB < {held[site]:,.1f} PB held, yet the placement is unchanged"
    assert now[site] <= capacity * (1 + 1e-9), f"{site} holds {now[site]:,.3f} PB over its {capacity:,.3f} PB"
    assert changed.kpis["storage_overflow_pb"].value == 0.0, changed.warnings
