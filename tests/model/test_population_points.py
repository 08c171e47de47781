"""Several population points per country: each its own clock for the diurnal profile, round trips weighted."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from sim import load_scenario, reference
from sim.model import geo
from sim.model.network import fibre_min_matrix_ms, rtt_matrix_ms
from sim.model.traffic import TimeGrid, demand_profile, draw_demand, point_offsets_h, time_grid
from tests.conftest import POISSON_ONLY, SCENARIOS

SITES = ["dublin", "hamar", "virginia"]
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def scenario(*extra: str, days: float = 7):
    return load_scenario(SCENARIOS / "clover.toml", [
        f"time.horizon_days={days}", "time.step_minutes=60", "population.users={}",
        'policy.failover_sites=["virginia"]', *POISSON_ONLY, *extra,
    ])


def point_table(code: str, name: str, p: reference.Point) -> str:
    """A ``--set`` adding a country made of one of another country's points."""
    return (f'countries.{code}={{name="{name}", population=1e6, points=[{{lat={p.lat}, lon={p.lon}, share=1.0, '
            f'utc_offset_h={p.utc_offset_std_h}, dst="{p.dst}"}}]}}')


@pytest.mark.parametrize(
    ("zone", "std_h", "rule"),
    [("America/New_York", -5.0, "us"), ("America/Los_Angeles", -8.0, "us"), ("Europe/Paris", 1.0, "eu"),
     ("Australia/Sydney", 10.0, "south"), ("Asia/Kolkata", 5.5, "none")],
)
def test_summer_time_rules_match_the_tz_database(zone: str, std_h: float, rule: str) -> None:
    # every hour of 2025 and 2026: the modelled offset equals the IANA zone's (the southern rule is
    # exact for New South Wales, an approximation elsewhere)
    grid = TimeGrid(START, np.arange(0, 2 * 365 * 24 + 1, dtype=float) * 3600.0)
    mid = grid.mid_s
    off = point_offsets_h(grid, [reference.Point("p", 0.0, 0.0, 1.0, std_h, rule)], mid)[:, 0]
    tz = ZoneInfo(zone)
    truth = np.array([(START + dt.timedelta(seconds=float(t))).astimezone(tz).utcoffset().total_seconds() / 3600
                      for t in mid])
    assert np.array_equal(off, truth)


def test_round_trips_are_weighted_over_a_countrys_points() -> None:
    sc = scenario('population.countries=["US", "FR"]')
    us = reference.countries()["US"]
    rtt = rtt_matrix_ms(sc, SITES)
    lat = np.array([p.lat for p in us.points])[:, None]
    lon = np.array([p.lon for p in us.points])[:, None]
    d = geo.great_circle_km(lat, lon, np.array([sc.sites[s].lat for s in SITES])[None, :],
                            np.array([sc.sites[s].lon for s in SITES])[None, :])
    share = np.array([p.share for p in us.points])
    net = sc.network
    np.testing.assert_allclose(rtt[0], share @ geo.rtt_ms(d, net.route_inflation, net.access_overhead_ms), rtol=1e-12)
    np.testing.assert_allclose(fibre_min_matrix_ms(sc, SITES)[0], share @ geo.fibre_min_rtt_ms(d), rtol=1e-12)
    # not all from New York: the US as its first point alone is nearer to Virginia than the weighted mix
    one = scenario('population.countries=["US", "FR"]', point_table("US", "United States", us.points[0]))
    assert rtt_matrix_ms(one, SITES)[0, 2] < rtt[0, 2] - 5.0


def test_a_countrys_points_each_follow_their_own_local_time() -> None:
    us = reference.countries()["US"]
    codes = [f"X{chr(ord('A') + i)}" for i in range(len(us.points))]
    mixed = scenario('population.countries=["US"]')
    parts = scenario(f"population.countries={codes!r}".replace("'", '"'),
                     *[point_table(c, p.name, p) for c, p in zip(codes, us.points, strict=True)])
    grid = time_grid(mixed)
    by_point = demand_profile(parts, grid)
    share = np.array([p.share for p in us.points])
    np.testing.assert_allclose(demand_profile(mixed, grid)[:, 0], by_point @ share, rtol=1e-12)
    # the points peak at different UTC hours (New York 3 h before Los Angeles)
    peaks = by_point[:24].argmax(axis=0)
    assert len(set(peaks.tolist())) >= 3


def test_overriding_a_countrys_points_moves_its_users() -> None:
    base = scenario()
    two = scenario('countries.FR.points=[{name="Paris", lat=48.86, lon=2.35, share=0.5, utc_offset_h=1.0, dst="eu"}, '
                   '{name="Marseille", lat=43.30, lon=5.37, share=0.5, utc_offset_h=1.0, dst="eu"}]')
    fr = base.population.countries.index("FR")
    assert two.country_table()["FR"].name == "France"  # the fields not given stay the table's
    assert rtt_matrix_ms(two, SITES)[fr, 1] > rtt_matrix_ms(base, SITES)[fr, 1] + 2.0  # Marseille is farther from Hamar
    others = [i for i in range(len(base.population.countries)) if i != fr]
    np.testing.assert_array_equal(rtt_matrix_ms(two, SITES)[others], rtt_matrix_ms(base, SITES)[others])


def test_users_add_up_in_every_step_with_new_and_large_countries() -> None:
    sc = scenario('population.countries=["IN", "US", "XK", "DE"]', "population.mau=3e8", "population.growth_per_year=0.3",
                  'countries.XK={name="Kosovo", population=1.6e6, points=[{lat=42.67, lon=21.17, share=1.0, utc_offset_h=1.0, dst="eu"}]}',
                  "population.users={DE=2e7}", days=3)
    grid = time_grid(sc)
    d = draw_demand(sc, grid, np.random.default_rng(0))
    growth = (1.3) ** (grid.mid_s / (365.25 * 86400.0))
    np.testing.assert_allclose(d.mau.sum(axis=1), 3e8 * growth, rtol=1e-12)
    np.testing.assert_allclose(d.mau[:, 3], 2e7 * growth, rtol=1e-12)  # Germany's users as given
    assert (d.requests[:, :3].sum(axis=0) > 0).all()
