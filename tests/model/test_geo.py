"""Round trips: never below the fibre limit, and close to published measurements."""

from __future__ import annotations

import numpy as np
import pytest

from sim import load_scenario, reference
from sim.model import geo
from tests.conftest import SCENARIOS


def test_great_circle_dublin_hamar() -> None:
    # reference facts: Dublin-Hamar great circle 1,328 km (haversine between the city points)
    d = geo.great_circle_km(53.35, -6.26, 60.79, 11.07)
    assert d == pytest.approx(1328, rel=0.01)


def test_rtt_never_below_fibre_minimum_for_every_country_site_pair() -> None:
    countries = [p for c in reference.countries().values() for p in c.points]  # every population point
    sites = reference.site_records().values()
    lat_c = np.array([c.lat for c in countries])[:, None]
    lon_c = np.array([c.lon for c in countries])[:, None]
    lat_s = np.array([s["lat"] for s in sites])[None, :]
    lon_s = np.array([s["lon"] for s in sites])[None, :]
    d = geo.great_circle_km(lat_c, lon_c, lat_s, lon_s)
    assert d.shape == (sum(len(c.points) for c in reference.countries().values()), len(reference.site_records()))
    sc = load_scenario(SCENARIOS / "clover.toml")
    for inflation, overhead in [(sc.network.route_inflation, sc.network.access_overhead_ms), (1.0, 0.0)]:
        rtt = geo.rtt_ms(d, inflation, overhead)
        assert np.all(rtt >= geo.fibre_min_rtt_ms(d))
    # even a (physically impossible) shortcut below 1 is clamped to the floor
    assert np.all(geo.rtt_ms(d, 0.5, 0.0) >= geo.fibre_min_rtt_ms(d))


@pytest.mark.parametrize(
    ("a", "b", "measured_ms"),
    [
        ((53.35, -6.26), (50.11, 8.68), 19.6),  # Ireland-Frankfurt (AWS 2017)
        ((53.35, -6.26), (39.04, -77.49), 80.5),  # Ireland-Virginia
        ((53.35, -6.26), (1.35, 103.82), 238.0),  # Ireland-Singapore
    ],
)
def test_model_rtt_near_measured(a, b, measured_ms) -> None:
    """With the shipped inflation (1.6) the model sits within 35 % of the AWS measurements.

    Their own inflation ranges 1.47-2.1 (reference facts).
    """
    sc = load_scenario(SCENARIOS / "clover.toml")
    d = geo.great_circle_km(*a, *b)
    rtt = float(geo.rtt_ms(d, sc.network.route_inflation, sc.network.access_overhead_ms))
    assert abs(rtt - measured_ms) / measured_ms < 0.35
    assert rtt >= float(geo.fibre_min_rtt_ms(d))
