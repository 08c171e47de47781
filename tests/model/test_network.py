"""Round-trip matrices against an independent haversine, and the monthly flow records."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from sim import load_scenario
from sim.meters.flows import FlowLog
from sim.model.network import fibre_min_matrix_ms, rtt_matrix_ms
from sim.model.world import run_world
from tests.conftest import SCENARIOS, short

COUNTRIES = ["IE", "NO", "PT", "CY", "GB"]
SITES = ["dublin", "hamar", "virginia", "singapore"]
# reference points (countries.csv: capitals; sites.csv: sites), degrees
POINTS = {
    "IE": (53.35, -6.26),
    "NO": (59.91, 10.75),
    "PT": (38.72, -9.14),
    "CY": (35.19, 33.38),
    "GB": (51.51, -0.13),
    "dublin": (53.32, -6.40),
    "hamar": (60.79, 11.07),
    "virginia": (39.04, -77.49),
    "singapore": (1.35, 103.82),
}


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Independent great-circle distance on a sphere of the mean Earth radius."""
    (la1, lo1), (la2, lo2) = (tuple(math.radians(x) for x in p) for p in (a, b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def scenario(*extra: str):
    countries = f"population.countries={COUNTRIES!r}".replace("'", '"')
    return load_scenario(SCENARIOS / "clover.toml", [countries, "population.users={}", *extra])


def distances() -> np.ndarray:
    return np.array([[haversine_km(POINTS[c], POINTS[s]) for s in SITES] for c in COUNTRIES])


# ------------------------------------------------------------------------------------------------
# round trips


def test_fibre_minimum_ireland_to_hamar() -> None:
    # reference facts: Ireland (Dublin city point) to Hamar is 1,328 km of great circle; light in
    # fibre covers 200 km per ms, so the round trip cannot be shorter than 2 x 1328 / 200 = 13.3 ms
    fibre = fibre_min_matrix_ms(scenario(), SITES)
    assert fibre.shape == (5, 4)
    assert fibre[0, 1] == pytest.approx(13.28, rel=0.01)
    assert haversine_km(POINTS["IE"], POINTS["hamar"]) == pytest.approx(1328, rel=0.01)


def test_fibre_minimum_is_twice_the_great_circle_over_200_km_per_ms() -> None:
    np.testing.assert_allclose(fibre_min_matrix_ms(scenario(), SITES), 2 * distances() / 200.0, rtol=1e-9)


def test_rtt_is_inflated_distance_plus_overhead() -> None:
    # shipped values: inflation 1.6, overhead 4 ms. Ireland-Hamar: 13.28 x 1.6 + 4 = 25.25 ms
    rtt = rtt_matrix_ms(scenario(), SITES)
    assert rtt[0, 1] == pytest.approx(13.28 * 1.6 + 4.0, rel=0.01)
    np.testing.assert_allclose(rtt, 2 * distances() * 1.6 / 200.0 + 4.0, rtol=1e-9)


@pytest.mark.parametrize(
    ("inflation", "overhead"), [(1.0, 0.0), (1.0, 4.0), (1.6, 4.0), (2.1, 0.0), (3.0, 25.0)]
)
def test_rtt_never_below_the_fibre_minimum(inflation: float, overhead: float) -> None:
    sc = scenario(f"network.route_inflation={inflation}", f"network.access_overhead_ms={overhead}")
    sites = list(sc.sites)
    rtt, fibre = rtt_matrix_ms(sc, sites), fibre_min_matrix_ms(sc, sites)
    assert np.all(rtt >= fibre)
    if inflation == 1.0 and overhead == 0.0:
        np.testing.assert_array_equal(rtt, fibre)  # a straight fibre and no overhead: at the floor


def test_farther_sites_have_longer_round_trips() -> None:
    rtt, d = rtt_matrix_ms(scenario(), SITES), distances()
    for c, code in enumerate(COUNTRIES):
        assert np.array_equal(np.argsort(rtt[c]), np.argsort(d[c])), code
    # Ireland: Dublin, then Hamar, then Virginia, then Singapore
    assert rtt[0, 0] < rtt[0, 1] < rtt[0, 2] < rtt[0, 3]
    # moving a site farther away lengthens every round trip to it
    moved = rtt_matrix_ms(scenario("sites.hamar.lat=70.0", "sites.hamar.lon=25.0"), SITES)
    assert np.all(moved[:, 1] > rtt[:, 1])
    np.testing.assert_array_equal(moved[:, [0, 2, 3]], rtt[:, [0, 2, 3]])


def test_route_inflation_scales_only_the_distance_part() -> None:
    overhead = 5.0
    one = rtt_matrix_ms(scenario("network.route_inflation=1.0", f"network.access_overhead_ms={overhead}"), SITES)
    two = rtt_matrix_ms(scenario("network.route_inflation=2.0", f"network.access_overhead_ms={overhead}"), SITES)
    np.testing.assert_allclose(two - overhead, 2.0 * (one - overhead), rtol=1e-12)
    # the overhead is added once, whatever the distance
    more = rtt_matrix_ms(scenario("network.route_inflation=2.0", "network.access_overhead_ms=12.0"), SITES)
    np.testing.assert_allclose(more - two, 7.0, rtol=1e-12)


# ------------------------------------------------------------------------------------------------
# flow records


def test_flow_log_broadcasts_a_batch_and_keeps_each_cell() -> None:
    log = FlowLog()
    periods = np.array([[0.0], [2_678_400.0]])  # (2, 1): January, February
    sites = np.array([["dublin", "hamar", "virginia"]], dtype=object)  # (1, 3)
    gb = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    log.add(periods, "IE", sites, "content", "ingest", gb)
    cols = log.columns()
    assert len(cols["gb"]) == 6
    got = {(p, d): g for p, d, g in zip(cols["period_s"], cols["destination"], cols["gb"], strict=True)}
    assert got == {
        (0.0, "dublin"): 1.0, (0.0, "hamar"): 2.0, (0.0, "virginia"): 3.0,
        (2_678_400.0, "dublin"): 4.0, (2_678_400.0, "hamar"): 5.0, (2_678_400.0, "virginia"): 6.0,
    }
    assert set(cols["source"]) == {"IE"} and set(cols["kind"]) == {"ingest"} and set(cols["data_class"]) == {"content"}


def test_flow_log_conserves_volume_and_drops_only_zeros() -> None:
    rng = np.random.default_rng(1)
    log = FlowLog()
    added = 0.0
    for kind in ("ingest", "read", "replication", "migration", "export"):
        gb = rng.uniform(0.0, 10.0, size=(3, 4))
        gb[0, 0] = 0.0
        log.add(np.arange(3.0)[:, None], "a", np.array(["w", "x", "y", "z"], dtype=object), "k", kind, gb)
        added += gb.sum()
    log.add(0.0, "a", "b", "k", "read", 0.0)  # nothing to record
    cols = log.columns()
    assert len(cols["gb"]) == 5 * 11
    assert cols["gb"].sum() == pytest.approx(added, rel=1e-12)
    assert Counter(cols["kind"]) == {k: 11 for k in ("ingest", "read", "replication", "migration", "export")}
    assert (cols["gb"] > 0).all()


def test_empty_flow_log_has_empty_columns() -> None:
    cols = FlowLog().columns()
    assert set(cols) == {"period_s", "source", "destination", "data_class", "kind", "gb"}
    assert all(len(v) == 0 for v in cols.values())
    assert cols["gb"].dtype == float and cols["period_s"].dtype == float


def test_world_records_one_flow_per_month_and_conserves_volume() -> None:
    # 3 days from 30 January, hourly: steps 0-47 in January, 48-71 in February
    sc = short("clover.toml", "time.start=2025-01-30", "gateway.enabled=false", days=3)
    m = run_world(sc, np.random.SeedSequence(0).spawn(1)[0])
    cols = m.flows.columns()
    feb_s = 2 * 86400.0
    assert set(cols["period_s"]) == {0.0, feb_s}
    # one record per (month, source, destination, class, kind): the steps are summed into months
    keys = list(zip(cols["period_s"], cols["source"], cols["destination"], cols["data_class"], cols["kind"], strict=True))
    assert len(keys) == len(set(keys))
    assert m.unserved_requests.sum() == 0
    # volumes: requests of the month x bytes per request (reads: one copy; ingest: every copy)
    pop = sc.population
    classes = sc.data_classes.values()
    read_per_req = sum(d.read_gb_per_dau_per_day for d in classes) / pop.requests_per_dau_per_day
    write_per_req = sum(d.write_gb_per_dau_per_day * d.replicas for d in classes) / pop.requests_per_dau_per_day
    export_per_req = sum(d.write_gb_per_dau_per_day * d.export_share for d in classes) / pop.requests_per_dau_per_day
    for period, steps in ((0.0, slice(0, 48)), (feb_s, slice(48, 72))):
        req = m.requests[steps].sum()
        in_month = cols["period_s"] == period
        for kind, per_req in (("read", read_per_req), ("ingest", write_per_req), ("export", export_per_req)):
            got = cols["gb"][in_month & (cols["kind"] == kind)].sum()
            assert got == pytest.approx(req * per_req, rel=1e-9), (period, kind)
    assert cols["gb"][cols["kind"] == "ingest"].sum() == pytest.approx(m.written_gb.sum(), rel=1e-9)
