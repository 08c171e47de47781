"""Demand that varies like real traffic: day-to-day overdispersion, a yearly cycle, event peaks."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim import load_scenario
from sim.model.traffic import day_factors, draw_demand, seasonal_and_event_factor, time_grid
from tests.conftest import POISSON_ONLY, SCENARIOS

QUIET = list(POISSON_ONLY)


def scenario(*overrides: str, days: float = 60):
    return load_scenario(SCENARIOS / "clover.toml", [f"time.horizon_days={days}", "time.step_minutes=60", *overrides])


def test_without_variability_demand_is_poisson_around_the_profile() -> None:
    sc = scenario(*QUIET)
    grid = time_grid(sc)
    assert np.all(seasonal_and_event_factor(sc, grid) == 1.0)
    assert np.all(day_factors(sc, grid, np.random.default_rng(0)) == 1.0)


def test_day_to_day_variation_has_the_stated_spread() -> None:
    cv, common = 0.1, 0.05
    sc = scenario(*QUIET[2:], f"population.variability.daily_cv={cv}", f"population.variability.common_daily_cv={common}",
                  days=400)
    grid = time_grid(sc)
    f = day_factors(sc, grid, np.random.default_rng(1))
    daily = f[::24]  # one value per day (hourly steps from midnight)
    assert daily.shape == (400, len(sc.population.countries))
    assert np.allclose(f[:24], f[0])  # constant within a day
    # product of two independent mean-1 gammas: CV^2 = (1 + cv^2)(1 + common^2) - 1
    expected_cv = np.sqrt((1 + cv**2) * (1 + common**2) - 1)
    # 400 days x 32 countries; the standard error of a CV estimate from n draws is ~CV / sqrt(2n)
    assert daily.std() / daily.mean() == pytest.approx(expected_cv, rel=0.05)
    assert daily.mean() == pytest.approx(1.0, abs=0.01)
    # Europe-wide part: the countries' means move together from day to day
    assert np.corrcoef(daily[:, 0], daily[:, 1])[0, 1] > 0.1


def test_replications_spread_more_with_overdispersion() -> None:
    def spread(*overrides: str) -> float:
        sc = scenario(*overrides, days=30)
        grid = time_grid(sc)
        totals = [draw_demand(sc, grid, np.random.default_rng(s)).requests.sum() for s in range(8)]
        return float(np.std(totals) / np.mean(totals))

    poisson_only = spread(*QUIET)
    overdispersed = spread(*QUIET[2:], "population.variability.daily_cv=0.05", "population.variability.common_daily_cv=0.03")
    assert overdispersed > 20 * poisson_only  # Poisson noise on ~10^10 requests is ~1e-5


def test_season_and_events_move_the_expected_demand() -> None:
    amp = 0.1
    sc = scenario(*QUIET, f"population.variability.seasonal_amplitude={amp}",
                  "population.variability.seasonal_peak_day=1", days=366)
    f = seasonal_and_event_factor(sc, time_grid(sc))
    assert f[0, 0] == pytest.approx(1 + amp, rel=1e-3)  # 2025-01-01 is the peak day
    assert f[int(182.6 * 24), 0] == pytest.approx(1 - amp, rel=1e-3)  # half a year later: the trough
    ev = scenario(*QUIET, 'population.variability.events=[{start=2025-01-10T18:00:00Z, hours=3.0, '
                  'multiplier=1.5, countries=["FR"]}]', days=20)
    g = seasonal_and_event_factor(ev, time_grid(ev))
    fr = ev.population.countries.index("FR")
    hours = np.flatnonzero(g[:, fr] != 1.0)
    assert list(hours) == [9 * 24 + 18, 9 * 24 + 19, 9 * 24 + 20] and np.all(g[hours, fr] == 1.5)
    assert np.all(np.delete(g, fr, axis=1) == 1.0)
    # the expected requests (what policies plan with) carry the event; draws stay Poisson around them
    d = draw_demand(ev, time_grid(ev), np.random.default_rng(0))
    base = draw_demand(scenario(*QUIET, days=20), time_grid(ev), np.random.default_rng(0))
    np.testing.assert_allclose(d.expected_requests[hours, fr], 1.5 * base.expected_requests[hours, fr])
    assert dt.date(2025, 1, 10) == (ev.start_utc + dt.timedelta(hours=int(hours[0]))).date()


def test_the_fleet_is_sized_for_the_stated_quantile() -> None:
    from sim.experiments.replicate import run_replication
    from sim.seeds import replication_seeds
    from tests.conftest import short

    costs = {}
    for q in (1.0, 0.99, 0.9):
        sc = short("clover.toml", "gateway.enabled=false", f"compute.sizing_quantile={q}", days=7, step_minutes=60)
        r = run_replication(sc, replication_seeds(0, 1)[0])
        servers = r.tables["costs"]
        costs[q] = float(servers[servers.category == "servers"].quantity.sum())
    assert costs[1.0] > costs[0.99] > costs[0.9]
