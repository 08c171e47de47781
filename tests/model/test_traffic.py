"""User demand: profile in local time, MAU shares and growth, seeded Poisson noise.

Profiles are replaced by simple ones whose value at any local hour and weekday can be written
down by hand: diurnal weight = local hour + 1 (mean 12.5), weekly weight 1 on weekdays and 2 at
the weekend (mean 9/7).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim import load_scenario
from sim.model.traffic import TimeGrid, demand_profile, draw_demand, time_grid, utc_offsets_h
from tests.conftest import POISSON_ONLY, SCENARIOS

YEAR_S = 365.25 * 86400.0
DIURNAL = [float(h + 1) for h in range(24)]
WEEKLY = [1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0]  # Monday first


def scenario(start: str, days: float, *extra: str, step_minutes: float = 60, countries=("IE", "FI", "IS")):
    shares = {"IE": 0.25, "FI": 0.5, "IS": 0.25} if tuple(countries) == ("IE", "FI", "IS") else None
    pop = [f"population.countries={list(countries)!r}".replace("'", '"'), "population.users={}"]  # not Clover's published users
    if shares:
        pop.append("population.shares={" + ", ".join(f"{c} = {v}" for c, v in shares.items()) + "}")
    return load_scenario(
        SCENARIOS / "clover.toml",
        [
            f"time.start={start}",
            f"time.horizon_days={days}",
            f"time.step_minutes={step_minutes}",
            "gateway.enabled=false",
            "population.mau=1000000",
            "population.daily_active_ratio=0.5",
            "population.requests_per_dau_per_day=48",
            "population.growth_per_year=0.0",
            f"population.diurnal_profile={DIURNAL}",
            f"population.weekly_profile={WEEKLY}",
            *POISSON_ONLY,
            *pop,
            *extra,
        ],
    )


def hand_profile(local_hour_from_monday: int) -> float:
    """Profile at a local time given as whole hours since a Monday 00:00 (local)."""
    hour, weekday = local_hour_from_monday % 24, (local_hour_from_monday // 24) % 7
    return (DIURNAL[hour] / 12.5) * (WEEKLY[weekday] / (9 / 7))


# ------------------------------------------------------------------------------------------------
# time grid


def test_time_grid_last_step_may_be_shorter() -> None:
    grid = time_grid(scenario("2025-01-06", 1.5 / 24))  # 1.5 h at 60-minute steps
    np.testing.assert_allclose(grid.edges_s, [0.0, 3600.0, 5400.0])
    np.testing.assert_allclose(grid.mid_s, [1800.0, 4500.0])
    assert grid.n_steps == 2


# ------------------------------------------------------------------------------------------------
# profile in local time


def test_profile_spot_values_in_winter() -> None:
    # 2025-01-06 is a Monday; winter: IE and IS at UTC+0, FI at UTC+2
    sc = scenario("2025-01-06", 7)
    p = demand_profile(sc, time_grid(sc))
    ie, fi, is_ = 0, 1, 2
    assert p[0, ie] == pytest.approx(1 / 12.5 * 7 / 9)  # Mon 00:30 in Dublin
    assert p[0, fi] == pytest.approx(3 / 12.5 * 7 / 9)  # Mon 02:30 in Helsinki
    assert p[22, ie] == pytest.approx(23 / 12.5 * 7 / 9)  # Mon 22:30 in Dublin
    assert p[22, fi] == pytest.approx(1 / 12.5 * 7 / 9)  # already Tue 00:30 in Helsinki
    friday_2230 = 4 * 24 + 22
    assert p[friday_2230, ie] == pytest.approx(23 / 12.5 * 7 / 9)  # still Friday in Dublin
    assert p[friday_2230, fi] == pytest.approx(1 / 12.5 * 14 / 9)  # Saturday in Helsinki: weekend weight
    assert p[6 * 24 + 23, is_] == pytest.approx(24 / 12.5 * 14 / 9)  # Sun 23:30 in Reykjavik


def test_profile_every_step_of_a_week_by_hand() -> None:
    sc = scenario("2025-01-06", 7)
    p = demand_profile(sc, time_grid(sc))
    assert p.shape == (168, 3)
    offsets = {"IE": 0, "FI": 2, "IS": 0}
    for c, code in enumerate(["IE", "FI", "IS"]):
        expected = [hand_profile(t + offsets[code]) for t in range(168)]
        np.testing.assert_allclose(p[:, c], expected, rtol=1e-12)
    # a whole local week of whole hours visits every (hour, weekday) once: mean exactly 1
    np.testing.assert_allclose(p.mean(axis=0), 1.0, rtol=1e-12)


def test_summer_time_starts_at_0100_utc_on_the_last_sunday_of_march() -> None:
    # 2025-03-29 is a Saturday; summer time from Sunday 2025-03-30 01:00 UTC (not in Iceland)
    sc = scenario("2025-03-29", 2)
    grid = time_grid(sc)
    off = utc_offsets_h(grid, ["IE", "FI", "IS"], grid.mid_s)
    np.testing.assert_array_equal(off[24], [0, 2, 0])  # Sun 00:30 UTC
    np.testing.assert_array_equal(off[25], [1, 3, 0])  # Sun 01:30 UTC
    p = demand_profile(sc, grid)
    weekend = 14 / 9
    assert p[24, 0] == pytest.approx(DIURNAL[0] / 12.5 * weekend)  # Dublin 00:30
    assert p[25, 0] == pytest.approx(DIURNAL[2] / 12.5 * weekend)  # Dublin 02:30 (clocks jumped)
    assert p[25, 2] == pytest.approx(DIURNAL[1] / 12.5 * weekend)  # Reykjavik 01:30 (no change)


def test_summer_time_ends_on_the_last_sunday_of_october() -> None:
    grid = time_grid(scenario("2025-10-25", 2))  # Saturday; clocks go back Sun 2025-10-26 01:00 UTC
    off = utc_offsets_h(grid, ["IE", "FI"], grid.mid_s)
    np.testing.assert_array_equal(off[0], [1, 3])
    np.testing.assert_array_equal(off[24], [1, 3])  # 00:30 UTC Sunday
    np.testing.assert_array_equal(off[25], [0, 2])  # 01:30 UTC Sunday


# ------------------------------------------------------------------------------------------------
# expected requests, MAU shares and growth


def test_expected_requests_per_step_by_hand() -> None:
    sc = scenario("2025-01-06", 7)
    grid = time_grid(sc)
    d = draw_demand(sc, grid, np.random.default_rng(0))
    # DAU x requests per DAU per day x step (1/24 day): IE 250,000 MAU -> 125,000 DAU -> 250,000 per hour
    base = np.array([250_000, 500_000, 250_000]) * 0.5 * 48 / 24
    assert d.expected_requests[0, 0] == pytest.approx(base[0] * 1 / 12.5 * 7 / 9)
    np.testing.assert_allclose(d.expected_requests, base[None, :] * demand_profile(sc, grid), rtol=1e-12)
    # over the whole week the profile averages 1: MAU x share x DAU ratio x requests x 7 days
    np.testing.assert_allclose(d.expected_requests.sum(axis=0), np.array([0.25, 0.5, 0.25]) * 1e6 * 0.5 * 48 * 7)


def test_shorter_last_step_expects_proportionally_fewer_requests() -> None:
    sc = scenario("2025-01-06", 1.5 / 24)  # steps of 1 h and 0.5 h
    grid = time_grid(sc)
    d = draw_demand(sc, grid, np.random.default_rng(0))
    # step 0 mid 00:30 (hour 0), step 1 mid 01:15 (hour 1), Monday, Dublin
    per_day = 250_000 * 0.5 * 48
    assert d.expected_requests[0, 0] == pytest.approx(per_day / 24 * 1 / 12.5 * 7 / 9)
    assert d.expected_requests[1, 0] == pytest.approx(per_day / 48 * 2 / 12.5 * 7 / 9)


def test_mau_shares_add_to_the_total() -> None:
    # the reference rule over all 32 countries, and hand-given shares
    sc = load_scenario(SCENARIOS / "clover.toml", ["time.horizon_days=2", "population.growth_per_year=0.0"])
    assert len(sc.population.countries) == 32
    d = draw_demand(sc, time_grid(sc), np.random.default_rng(0))
    np.testing.assert_allclose(d.mau.sum(axis=1), sc.population.mau, rtol=1e-9)
    assert (d.mau > 0).all()
    sc2 = scenario("2025-01-06", 1)
    d2 = draw_demand(sc2, time_grid(sc2), np.random.default_rng(0))
    np.testing.assert_allclose(d2.mau, np.tile([250_000.0, 500_000.0, 250_000.0], (24, 1)))


def test_growth_compounds_per_julian_year() -> None:
    sc = scenario("2025-01-01", 1, "population.growth_per_year=0.12")
    # steps of two years: midpoints at 1 and 3 years
    grid = TimeGrid(sc.start_utc, np.array([0.0, 2 * YEAR_S, 4 * YEAR_S]))
    d = draw_demand(sc, grid, np.random.default_rng(0))
    np.testing.assert_allclose(d.mau.sum(axis=1), [1e6 * 1.12, 1e6 * 1.12**3], rtol=1e-12)
    assert d.mau.sum(axis=1)[1] != pytest.approx(1e6 * (1 + 3 * 0.12))  # not simple interest


def test_growth_within_a_run_follows_the_step_midpoints() -> None:
    sc = scenario("2025-01-01", 2, "population.growth_per_year=0.12", step_minutes=1440)
    d = draw_demand(sc, time_grid(sc), np.random.default_rng(0))
    days = np.array([0.5, 1.5])
    np.testing.assert_allclose(d.mau[:, 1], 500_000 * 1.12 ** (days / 365.25), rtol=1e-12)


def test_negative_growth_shrinks() -> None:
    sc = scenario("2025-01-01", 1, "population.growth_per_year=-0.1")
    grid = TimeGrid(sc.start_utc, np.array([0.0, 2 * YEAR_S]))
    d = draw_demand(sc, grid, np.random.default_rng(0))
    assert d.mau.sum() == pytest.approx(1e6 * 0.9)


# ------------------------------------------------------------------------------------------------
# randomness


def test_same_seed_same_draws_other_seed_other_draws() -> None:
    sc = scenario("2025-01-06", 2, "population.mau=1000", "population.requests_per_dau_per_day=1")
    grid = time_grid(sc)
    a = draw_demand(sc, grid, np.random.default_rng(11))
    b = draw_demand(sc, grid, np.random.default_rng(11))
    c = draw_demand(sc, grid, np.random.default_rng(12))
    np.testing.assert_array_equal(a.requests, b.requests)
    assert not np.array_equal(a.requests, c.requests)
    np.testing.assert_array_equal(a.expected_requests, c.expected_requests)  # only the noise differs


def test_requests_are_poisson_around_the_expectation() -> None:
    # four weeks, hourly, 3 countries: 2,016 cells with means ~0.1-4 requests (small enough to see
    # the noise). The sum of independent Poisson counts is Poisson: sd = sqrt(sum of means).
    sc = scenario("2025-01-06", 28, "population.mau=1000", "population.requests_per_dau_per_day=0.24")
    d = draw_demand(sc, time_grid(sc), np.random.default_rng(20250106))
    lam, n = d.expected_requests, d.requests
    assert lam.shape == (672, 3)
    assert 0.05 < lam.min() and lam.max() < 10
    assert np.all(n >= 0) and np.array_equal(n, np.round(n))
    total = lam.sum()  # ~ 1000 x 0.5 x 0.24 x 28 = 3,360
    assert total == pytest.approx(1000 * 0.5 * 0.24 * 28)
    assert abs(n.sum() - total) < 4 * np.sqrt(total)  # 4 standard errors
    # dispersion: E[(N - lam)^2] = lam; Var[(N - lam)^2] = lam + 2 lam^2 for a Poisson count
    sq = ((n - lam) ** 2).sum()
    assert abs(sq - total) < 4 * np.sqrt((lam + 2 * lam**2).sum())
    # per-country means too (each a Poisson sum)
    per_country = lam.sum(axis=0)
    assert np.all(np.abs(n.sum(axis=0) - per_country) < 4 * np.sqrt(per_country))


def test_poisson_noise_is_not_zero_and_not_a_rounding() -> None:
    sc = scenario("2025-01-06", 7, "population.mau=1000", "population.requests_per_dau_per_day=0.24")
    d = draw_demand(sc, time_grid(sc), np.random.default_rng(5))
    assert not np.array_equal(d.requests, np.round(d.expected_requests))
    assert (d.requests == 0).any() and (d.requests >= 3).any()


def test_start_weekday_comes_from_the_start_date() -> None:
    # same clock hours, a Saturday start: the weekend weight from the first step
    sc = scenario("2025-01-11", 1)
    assert dt.date(2025, 1, 11).weekday() == 5
    p = demand_profile(sc, time_grid(sc))
    assert p[0, 0] == pytest.approx(1 / 12.5 * 14 / 9)
