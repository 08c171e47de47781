"""Round trips users see: the access network (mobile or fixed) on top of the path to the site."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario
from sim.results.latency import access_mean_ms, access_points_ms, user_rtt_mixture
from sim.results.tables import weighted_quantile
from tests.conftest import SCENARIOS


def access(**update):
    return load_scenario(SCENARIOS / "clover.toml").network.access.model_copy(update=update)


def test_access_points_reproduce_the_lognormal_median_and_p95() -> None:
    pts = access_points_ms(30.0, 90.0)
    w = np.ones_like(pts)
    assert weighted_quantile(pts, w, 0.5) == pytest.approx(30.0, rel=0.02)
    assert weighted_quantile(pts, w, 0.95) == pytest.approx(90.0, rel=0.03)
    assert pts.mean() == pytest.approx(access_mean_ms(30.0, 90.0), rel=0.02)
    assert np.all(access_points_ms(0.0, 0.0) == 0.0)


def test_mobile_users_wait_longer_and_no_user_beats_the_network_path() -> None:
    rtt = np.array([[20.0, 60.0], [35.0, 15.0]])
    served = np.array([[900.0, 100.0], [0.0, 500.0]])
    countries = ["IE", "NO"]
    p50 = {}
    for share in (0.0, 0.4, 1.0):
        values, weights, mean = user_rtt_mixture(rtt, served, countries, access(mobile_share=share))
        p50[share] = weighted_quantile(values, weights, 0.5)
        assert values.min() >= rtt.min()  # the access network only adds
        assert weights.sum() == pytest.approx(served.sum())
    assert p50[0.0] < p50[0.4] < p50[1.0]
    # all fixed: median = network median + fixed median (here the IE-dublin cell carries it)
    assert p50[0.0] == pytest.approx(20.0 + 10.0, rel=0.05)
    # a per-country share overrides the default
    v, w, _ = user_rtt_mixture(rtt, served, countries, access(mobile_share=0.0, mobile_share_by_country={"NO": 1.0}))
    no_part = w[: rtt.size * 200].reshape(2, 2, 200)[1].sum()
    assert no_part == pytest.approx(500.0)


def test_bad_access_input_is_refused() -> None:
    from sim.scenario import ScenarioError

    with pytest.raises(ScenarioError, match="mobile_ms_p95"):
        load_scenario(SCENARIOS / "clover.toml", ["network.access.mobile_ms_p95=5.0"])
    with pytest.raises(ScenarioError, match="mobile_share"):
        load_scenario(SCENARIOS / "clover.toml", ["network.access.mobile_share=1.5"])


def test_the_latency_table_adds_up_to_the_mean_round_trip_users_see() -> None:
    """Table and KPI agree: sum over (country, site) of requests x (network + access) / requests = user_rtt_ms_mean."""
    from sim.model.world import World
    from sim.results.latency import access_mean_by_country_ms
    from sim.results.tables import latency_table
    from tests.conftest import short

    sc = short("clover.toml", "gateway.enabled=false", "network.access.mobile_share_by_country={NO = 0.9}", days=2)
    meters = World(sc, np.random.SeedSequence(0)).run()
    table = latency_table(meters, access_mean_by_country_ms(meters.countries, sc.network.access))
    requests = meters.served_requests.sum(axis=1)
    per_country = (table.rtt_ms + table.access_ms_mean) * table.share_of_requests
    weights = pd.Series(requests, index=meters.countries)
    mean = float((per_country.groupby(table.country).sum() * weights).sum() / weights.sum())
    _, _, kpi_mean = user_rtt_mixture(meters.rtt_ms, meters.served_requests, meters.countries, sc.network.access)
    assert mean == pytest.approx(kpi_mean, rel=1e-12)
    no, ie = table[table.country == "NO"].access_ms_mean.iloc[0], table[table.country == "IE"].access_ms_mean.iloc[0]
    assert no > ie > 0  # a mobile-heavy country waits longer on its access network


def test_stored_normal_quantiles_are_scipys_bit_for_bit() -> None:
    from scipy import stats

    from sim.results.normal_quantiles import MIDPOINT_POINTS, Z95, midpoint_z

    for points in (MIDPOINT_POINTS, 7):
        assert np.array_equal(midpoint_z(points), stats.norm.ppf((np.arange(points) + 0.5) / points))
    assert Z95 == float(stats.norm.ppf(0.95))
