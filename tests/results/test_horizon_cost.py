"""The horizon's yearly cost is the calendar years' cost over the horizon in years (a world run)."""

from __future__ import annotations

import pytest

from sim.experiments.replicate import run_replication
from sim.reference.units import YEAR_S
from sim.seeds import replication_seeds
from tests.conftest import short


def test_cost_kpi_agrees_with_the_calendar_years() -> None:
    days = 20
    sc = short("clover.toml", "time.start=2025-12-20", "gateway.enabled=false", days=days, step_minutes=240)
    result = run_replication(sc, replication_seeds(0, 1)[0])
    by_year = result.tables["costs_by_year"]
    assert sorted(by_year.year.unique()) == [2025, 2026]
    years = days * 86400.0 / YEAR_S
    assert result.kpis["cost_eur_per_year"].value == pytest.approx(by_year.eur.sum() / years, rel=1e-9)
    assert result.tables["costs"].eur_per_year.sum() == pytest.approx(result.kpis["cost_eur_per_year"].value, rel=1e-12)
