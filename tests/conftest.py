"""Shared fixtures: shipped scenarios on short horizons."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import pytest

from sim import load_scenario
from sim.scenario import Scenario
from sim.scenario.gateway import GatewayConfig

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


#: Demand without the variability beyond Poisson noise (for tests of the Poisson model itself).
POISSON_ONLY = (
    "population.variability.daily_cv=0.0",
    "population.variability.common_daily_cv=0.0",
    "population.variability.seasonal_amplitude=0.0",
    "population.variability.events=[]",
)


def short(path: str, *overrides: str, days: float = 7, step_minutes: float = 60) -> Scenario:
    """Load a shipped scenario with a short horizon and coarse step (fast tests)."""
    return load_scenario(
        SCENARIOS / path,
        [f"time.horizon_days={days}", f"time.step_minutes={step_minutes}", *overrides],
    )


#: Monthly active users for gateway-only runs of the Clover organisation (its user-driven causes).
CLOVER_MAU = 175e6


@functools.cache
def _clover_gateway_data() -> dict:
    return load_scenario(SCENARIOS / "clover.toml").gateway.model_dump()


def clover_gateway(**updates: object) -> GatewayConfig:
    """TikTok's gateway organisation as clover.toml gives it (the model has none), with top-level updates."""
    return GatewayConfig.model_validate({**copy.deepcopy(_clover_gateway_data()), **updates})


@pytest.fixture
def clover_short() -> Scenario:
    return short("clover.toml")


@pytest.fixture
def write_toml(tmp_path: Path):
    """Write a scenario file that extends the shipped base with extra TOML text."""

    def _write(text: str, name: str = "s.toml", extends: bool = True) -> Path:
        path = tmp_path / name
        head = f'extends = "{(SCENARIOS / "clover.toml").as_posix()}"\n' if extends else ""
        path.write_text(head + text, encoding="utf-8")
        return path

    return _write
