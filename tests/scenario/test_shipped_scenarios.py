"""Every shipped scenario validates and runs on a short horizon."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import load_scenario, simulate
from tests.conftest import SCENARIOS

FILES = sorted(p for p in SCENARIOS.rglob("*.toml"))


def test_scenarios_are_shipped() -> None:
    names = {p.name for p in FILES}
    assert {"clover.toml", "pre_clover.toml"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_runs_on_short_horizon(path: Path) -> None:
    sc = load_scenario(path, ["time.horizon_days=2", "time.step_minutes=60", "gateway.warmup_s=3600"])
    res = simulate(sc, replications=2, seed=1)
    assert res.kpi("stored_pb_total") > 0
    assert res.kpi("cost_eur_per_year") > 0
