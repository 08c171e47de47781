"""Yearly cost and carbon from hand-built meters, checked against hand arithmetic.

The meters below are small enough to cost on paper: two sites (dublin, hamar), one country (IE),
one data class, four steps. Every price is overridden with a round number so each expected value
is written out as the arithmetic of the module docstring (servers = ceil(peak busy cores /
(cores x utilisation)), energy = sum IT kW x h x PUE x price x YEAR_S / horizon, ...).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario
from sim.meters import FlowLog, Meters
from sim.reference.units import YEAR_S
from sim.results.costs import (
    annualise,
    co2_t_per_year,
    cost_by_year,
    cost_table,
    gateway_active,
    horizon_cost_table,
    site_load,
)
from tests.conftest import SCENARIOS

HOUR = 3600.0
DAY = 86400.0

# Round prices: 10 cores x 0.5 utilisation = 5 busy cores per server; 100 W idle, 200 W max
# = 10 W per busy core; 3,000 EUR per server over 3 years = 1,000 EUR per server-year; 2 W and
# 50 EUR over 5 years = 10 EUR per stored TB-year; colocation 100 EUR/kW-month = 1,200 EUR/kW-year.
PRICES = [
    "compute.server_cores=10",
    "compute.target_utilisation=0.5",
    "compute.server_idle_w=100.0",
    "compute.server_max_w=200.0",
    "compute.server_capex_eur=3000.0",
    "compute.server_amortisation_years=3.0",
    "storage.w_per_tb=2.0",
    "storage.capex_eur_per_tb=50.0",
    "storage.amortisation_years=5.0",
    "costs.colocation_eur_per_kw_month=100.0",
    'costs.colocation_basis="used"',
    "costs.staff_eur_per_fte_year=1000.0",
    "costs.programme_staff_fte=0.0",
    "network.inter_site_eur_per_gb=0.01",
    "network.internet_egress_eur_per_gb=0.02",
    "sites.dublin.pue=1.5",
    "sites.dublin.energy_price_eur_per_kwh=0.2",
    "sites.dublin.grid_gco2_per_kwh=300.0",
    "sites.dublin.staff_fte=2.0",
    "sites.hamar.pue=1.2",
    "sites.hamar.energy_price_eur_per_kwh=0.1",
    "sites.hamar.grid_gco2_per_kwh=50.0",
    "sites.hamar.staff_fte=1.0",
    'policy.sites=["dublin","hamar"]',
    "data_classes.protected_personal.replicas=2",  # two sites hold at most two copies
    "gateway.enabled=false",
    "time.start=2025-01-01",
]

# Four steps: mean busy cores and stored GB per site (dublin, hamar).
BUSY = np.array([[10.0, 3.0], [21.0, 3.0], [12.0, 3.0], [8.0, 3.0]])
STORED_GB = np.array([[1000.0, 500.0], [2000.0, 500.0], [3000.0, 500.0], [2000.0, 500.0]])


def scenario(*extra: str):
    return load_scenario(SCENARIOS / "clover.toml", [*PRICES, *extra])


def flows(*records: tuple[float, str, str, str, float]) -> FlowLog:
    log = FlowLog()
    for period, src, dst, kind, gb in records:
        log.add(period, src, dst, "c", kind, gb)
    return log


DEFAULT_FLOWS = (
    (0.0, "IE", "dublin", "ingest", 100.0),  # ingress: free
    (0.0, "dublin", "hamar", "replication", 10.0),  # inter-site
    (0.0, "hamar", "dublin", "migration", 4.0),  # inter-site
    (0.0, "dublin", "IE", "read", 6.0),  # internet egress
    (0.0, "dublin", "US", "export", 2.0),  # internet egress
)


def meters(busy=BUSY, stored_gb=STORED_GB, step_s: float = HOUR, log: FlowLog | None = None) -> Meters:
    busy = np.asarray(busy, dtype=float)
    t, s = busy.shape
    c, k = 1, 1
    z = np.zeros
    return Meters(
        countries=["IE"],
        classes=["c"],
        sites=["dublin", "hamar"],
        edges_s=np.arange(t + 1) * step_s,
        requests=z((t, c)),
        mau=z((t, c)),
        busy_core_s=busy * step_s,
        stored_gb=np.asarray(stored_gb, dtype=float).reshape(t, k, s),
        initial_gb=z((k, s)),
        written_gb=z((k, s)),
        replicated_gb=z((k, s)),
        deleted_gb=z((k, s)),
        dropped_gb=z((k, s)),
        moved_in_gb=z((k, s)),
        moved_out_gb=z((k, s)),
        export_blocked_gb=z(k),
        served_requests=z((c, s)),
        failover_requests=z((c, s)),
        unserved_requests=z(c),
        violation_requests=0.0,
        violation_gb=z(k),
        final_stock_gb=z((c, k, s)),
        rtt_ms=z((c, s)),
        fibre_min_ms=z((c, s)),
        flows=log if log is not None else flows(*DEFAULT_FLOWS),
        placement_changes_s=[0.0],
        pending_migration_gb=0.0,
        gateway=None,
    )


def row(table: pd.DataFrame, site: str, category: str) -> pd.Series:
    hit = table[(table.site == site) & (table.category == category)]
    assert len(hit) == 1, (site, category, hit)
    return hit.iloc[0]


# Hand arithmetic for the default meters (4 one-hour steps, horizon 4 h).
ANNUAL = 365.25 * 24 / 4  # = 2191.5 horizons per year
DUBLIN_SERVERS = 5  # peak 21 busy cores / 5 per server = 4.2 -> 5
HAMAR_SERVERS = 1  # peak 3 / 5 = 0.6 -> 1
# IT W per step = servers x 100 + busy x 10 + TB x 2
DUBLIN_IT_W = [5 * 100 + 10 * 10 + 1 * 2, 5 * 100 + 21 * 10 + 2 * 2, 5 * 100 + 12 * 10 + 3 * 2, 5 * 100 + 8 * 10 + 2 * 2]
HAMAR_IT_W = [1 * 100 + 3 * 10 + 0.5 * 2] * 4
DUBLIN_IT_KWH = sum(DUBLIN_IT_W) / 1000 * 1.0  # one-hour steps: 2.526 kWh
HAMAR_IT_KWH = sum(HAMAR_IT_W) / 1000 * 1.0  # 0.524 kWh
DUBLIN_FAC_KWH = DUBLIN_IT_KWH * 1.5
HAMAR_FAC_KWH = HAMAR_IT_KWH * 1.2


def test_year_is_the_julian_year() -> None:
    assert YEAR_S == 365.25 * 86400 == 31_557_600
    assert annualise(10.0, 4 * HOUR) == pytest.approx(10.0 * 2191.5)
    assert annualise(7.0, YEAR_S) == pytest.approx(7.0)


@pytest.mark.parametrize(("peak", "servers"), [(0.0, 0), (0.1, 1), (5.0, 1), (20.0, 4), (21.0, 5), (24.9, 5)])
def test_servers_are_peak_over_usable_cores_rounded_up(peak: float, servers: int) -> None:
    busy = np.array([[peak / 2, 0.0], [peak, 0.0]])
    load = site_load(meters(busy, np.zeros((2, 2))), scenario())
    assert load.servers.tolist() == [servers, 0]


def test_site_load_by_hand() -> None:
    load = site_load(meters(), scenario())
    assert load.servers.tolist() == [DUBLIN_SERVERS, HAMAR_SERVERS]
    assert DUBLIN_IT_W == [602, 714, 626, 584]
    np.testing.assert_allclose(load.it_kw[:, 0], np.array(DUBLIN_IT_W) / 1000)
    np.testing.assert_allclose(load.it_kw[:, 1], 0.131)
    np.testing.assert_allclose(load.it_kwh, [2.526, 0.524])
    np.testing.assert_allclose(load.facility_kwh, [2.526 * 1.5, 0.524 * 1.2])
    np.testing.assert_allclose(load.peak_stored_tb, [3.0, 0.5])
    # provisioned = servers at full power + storage at its peak: 5 x 200 W + 3 TB x 2 W; 200 W + 1 W
    np.testing.assert_allclose(load.provisioned_kw, [1.006, 0.201])


def test_cost_table_by_hand() -> None:
    table = cost_table(meters(), scenario())
    assert list(table.columns) == ["site", "category", "eur_per_year", "quantity", "unit"]

    energy = row(table, "dublin", "energy")
    assert energy.quantity == pytest.approx(DUBLIN_FAC_KWH * ANNUAL)  # 3.789 kWh x 2191.5 = 8303.4 kWh/yr
    assert energy.eur_per_year == pytest.approx(3.789 * 2191.5 * 0.2)
    assert row(table, "hamar", "energy").eur_per_year == pytest.approx(0.6288 * 2191.5 * 0.1)

    assert row(table, "dublin", "servers").eur_per_year == pytest.approx(5 * 3000 / 3)
    assert row(table, "dublin", "servers").quantity == 5
    assert row(table, "hamar", "servers").eur_per_year == pytest.approx(1 * 3000 / 3)

    assert row(table, "dublin", "storage").eur_per_year == pytest.approx(3.0 * 50 / 5)
    assert row(table, "hamar", "storage").eur_per_year == pytest.approx(0.5 * 50 / 5)

    assert row(table, "dublin", "colocation").eur_per_year == pytest.approx(1.006 * 100 * 12)
    assert row(table, "hamar", "colocation").eur_per_year == pytest.approx(0.201 * 100 * 12)

    # dublin sends 10 GB of replication (inter-site) and 6 + 2 GB of reads and exports (internet);
    # hamar sends 4 GB of migration; the 100 GB of ingest into dublin is free
    net = row(table, "dublin", "network")
    assert net.quantity == pytest.approx(18 * ANNUAL)
    assert net.eur_per_year == pytest.approx(10 * ANNUAL * 0.01 + 8 * ANNUAL * 0.02)
    assert row(table, "hamar", "network").eur_per_year == pytest.approx(4 * ANNUAL * 0.01)

    assert row(table, "dublin", "staff").eur_per_year == pytest.approx(2 * 1000)
    assert row(table, "hamar", "staff").eur_per_year == pytest.approx(1 * 1000)
    assert row(table, "programme", "staff").eur_per_year == 0.0
    # gateway disabled: no oversight or gateway rows
    assert set(table.loc[table.site == "programme", "category"]) == {"staff"}
    assert len(table) == 2 * 6 + 1


def test_network_counts_only_flows_leaving_the_site() -> None:
    only_ingest = flows((0.0, "IE", "dublin", "ingest", 1e6), (0.0, "IE", "hamar", "ingest", 1e6))
    table = cost_table(meters(log=only_ingest), scenario())
    assert row(table, "dublin", "network").eur_per_year == 0.0
    assert row(table, "hamar", "network").eur_per_year == 0.0


def test_window_costs_only_its_own_steps_and_flows() -> None:
    # flows at 0 h and at 2 h; window = steps [2, 4) sees only the later one and steps 2-3's peak
    log = flows((0.0, "dublin", "hamar", "replication", 50.0), (2 * HOUR, "dublin", "hamar", "replication", 10.0))
    table = cost_table(meters(log=log), scenario(), window=(2, 4))
    assert row(table, "dublin", "servers").quantity == 3  # peak 12 cores in the window -> ceil(2.4)
    span_annual = 365.25 * 24 / 2
    assert row(table, "dublin", "network").eur_per_year == pytest.approx(10 * span_annual * 0.01)
    it_kwh = ((3 * 100 + 12 * 10 + 3 * 2) + (3 * 100 + 8 * 10 + 2 * 2)) / 1000
    assert row(table, "dublin", "energy").eur_per_year == pytest.approx(it_kwh * 1.5 * span_annual * 0.2)


def test_carbon_is_facility_energy_times_grid_intensity() -> None:
    m, sc = meters(), scenario()
    co2 = co2_t_per_year(m, sc, site_load(m, sc))
    # 3.789 kWh x 300 g = 1136.7 g; 0.6288 kWh x 50 g = 31.44 g; per 4 h, in tonnes per year
    np.testing.assert_allclose(co2, [1136.7e-6 * 2191.5, 31.44e-6 * 2191.5])


def test_site_not_yet_online_pays_nothing_for_its_fleet() -> None:
    # four one-day steps from 2025-01-01; hamar opens after the run: no servers, storage,
    # colocation or staff, though the (pre-provisioned) fleet is still reported as a quantity
    m = meters(step_s=DAY)
    table = cost_table(m, scenario("sites.hamar.online_date=2025-02-01"))
    for category in ("servers", "storage", "colocation", "staff"):
        assert row(table, "hamar", category).eur_per_year == 0.0, category
    assert row(table, "hamar", "servers").quantity == 1
    # dublin (online since 2023) is unaffected
    assert row(table, "dublin", "servers").eur_per_year == pytest.approx(5000.0)
    assert row(table, "dublin", "staff").eur_per_year == pytest.approx(2000.0)


def test_site_opening_mid_run_pays_for_the_part_it_is_online() -> None:
    # hamar opens on day 2 of 4: half of the yearly fleet and staff cost
    table = cost_table(meters(step_s=DAY), scenario("sites.hamar.online_date=2025-01-03"))
    assert row(table, "hamar", "servers").eur_per_year == pytest.approx(1000.0 * 0.5)
    assert row(table, "hamar", "storage").eur_per_year == pytest.approx(5.0 * 0.5)
    assert row(table, "hamar", "colocation").eur_per_year == pytest.approx(241.2 * 0.5)
    assert row(table, "hamar", "staff").eur_per_year == pytest.approx(1000.0 * 0.5)
    assert row(table, "hamar", "staff").quantity == pytest.approx(0.5)


def test_cost_by_year_costs_each_calendar_year_on_its_own() -> None:
    # four 12-hour steps from 2024-12-31: steps 0-1 in 2024, steps 2-3 in 2025
    sc = scenario("time.start=2024-12-31")
    log = flows((0.0, "dublin", "hamar", "replication", 8.0), (DAY, "dublin", "hamar", "replication", 2.0))
    by_year = cost_by_year(meters(step_s=12 * HOUR, log=log), sc)
    assert list(by_year.columns) == ["year", "site", "category", "eur", "eur_per_year", "days", "quantity", "unit"]
    assert sorted(by_year.year.unique()) == [2024, 2025]
    np.testing.assert_allclose(by_year.days, 1.0)

    def pick(year: int, site: str, category: str) -> pd.Series:
        hit = by_year[(by_year.year == year) & (by_year.site == site) & (by_year.category == category)]
        assert len(hit) == 1
        return hit.iloc[0]

    # fleet sized for each year's own peak: 2024 peak 21 cores -> 5 servers, 2025 peak 12 -> 3
    assert pick(2024, "dublin", "servers").eur_per_year == pytest.approx(5 * 1000)
    assert pick(2025, "dublin", "servers").eur_per_year == pytest.approx(3 * 1000)
    # eur = yearly rate x simulated days / 365.25
    assert pick(2025, "dublin", "servers").eur == pytest.approx(3000 / 365.25)
    # each year's flows, annualised over that year's one simulated day
    assert pick(2024, "dublin", "network").eur_per_year == pytest.approx(8 * 365.25 * 0.01)
    assert pick(2025, "dublin", "network").eur_per_year == pytest.approx(2 * 365.25 * 0.01)
    # the energy of one year: two 12-hour steps
    kwh_2025 = ((3 * 100 + 12 * 10 + 3 * 2) + (3 * 100 + 8 * 10 + 2 * 2)) / 1000 * 12 * 1.5
    assert pick(2025, "dublin", "energy").eur == pytest.approx(kwh_2025 * 0.2)


def test_more_busy_cores_cost_more() -> None:
    sc = scenario()
    base = cost_table(meters(), sc).set_index(["site", "category"]).eur_per_year
    more = cost_table(meters(busy=BUSY * [2.0, 1.0]), sc).set_index(["site", "category"]).eur_per_year
    for category in ("energy", "servers", "colocation"):
        assert more["dublin", category] > base["dublin", category], category
    assert more.sum() > base.sum()
    # hamar's load did not change, nor did anything that does not depend on compute
    pd.testing.assert_series_equal(more.xs("hamar"), base.xs("hamar"))
    for category in ("storage", "network", "staff"):
        assert more["dublin", category] == base["dublin", category], category


def test_energy_price_moves_energy_cost_only() -> None:
    m = meters()
    base = cost_table(m, scenario()).set_index(["site", "category"]).eur_per_year
    dear = cost_table(m, scenario("sites.dublin.energy_price_eur_per_kwh=0.5")).set_index(["site", "category"]).eur_per_year
    assert dear["dublin", "energy"] == pytest.approx(base["dublin", "energy"] * 0.5 / 0.2)
    assert (dear.drop(("dublin", "energy")) == base.drop(("dublin", "energy"))).all()


def test_gateway_rows_only_when_the_gateway_runs() -> None:
    m = meters()
    running = scenario("gateway.enabled=true", "policy.transfer=gateway", "time.horizon_days=30")
    assert gateway_active(running)
    table = cost_table(m, running)
    assert row(table, "programme", "oversight").eur_per_year == pytest.approx(40_000_000.0)
    assert (table.category == "gateway").sum() == 2
    # the contract is paid even when the monitor's review stage is not modelled
    unmodelled = cost_table(m, scenario("gateway.enabled=true", "policy.transfer=gateway", "time.horizon_days=30",
                                        "gateway.third_party.enabled=false"))
    assert row(unmodelled, "programme", "oversight").eur_per_year == pytest.approx(40_000_000.0)
    open_ = scenario("gateway.enabled=true", "policy.transfer=open", "time.horizon_days=30")
    assert not gateway_active(open_)
    assert not cost_table(m, open_).category.isin(["oversight", "gateway"]).any()


def test_total_is_sum_of_hand_rows() -> None:
    total = cost_table(meters(), scenario()).eur_per_year.sum()
    by_hand = (
        (3.789 * 0.2 + 0.6288 * 0.1) * ANNUAL  # energy
        + 5000 + 1000  # servers
        + 30 + 5  # storage
        + 1207.2 + 241.2  # colocation
        + (10 * 0.01 + 8 * 0.02 + 4 * 0.01) * ANNUAL  # network
        + 2000 + 1000  # staff
    )
    assert math.isclose(total, by_hand, rel_tol=1e-9)


def test_colocation_is_billed_on_the_contracted_power_by_default() -> None:
    """Take-or-pay: a site pays for its contracted IT MW, whatever the fleet draws; 'used' pays the fleet."""
    contracted = cost_table(meters(), scenario('costs.colocation_basis="contracted"'))
    hamar_mw = scenario().sites["hamar"].it_mw_contracted
    assert row(contracted, "hamar", "colocation").eur_per_year == pytest.approx(hamar_mw * 1000 * 1200.0)
    assert row(contracted, "hamar", "colocation").unit == "contracted IT kW"
    used = cost_table(meters(), scenario())
    assert row(used, "hamar", "colocation").eur_per_year < row(contracted, "hamar", "colocation").eur_per_year
    # a site may say otherwise (e.g. a tenant share of a shared legacy fleet)
    mixed = cost_table(meters(), scenario('costs.colocation_basis="contracted"', 'sites.hamar.colocation_basis="used"'))
    assert row(mixed, "hamar", "colocation").eur_per_year == row(used, "hamar", "colocation").eur_per_year
    assert row(mixed, "dublin", "colocation").eur_per_year == row(contracted, "dublin", "colocation").eur_per_year
    # the shipped scenarios: Clover's own sites are contracted, the legacy sites pay for what they use
    clover = load_scenario(SCENARIOS / "clover.toml")
    pre = load_scenario(SCENARIOS / "pre_clover.toml")
    assert clover.costs.colocation_basis == "contracted" and clover.sites["hamar"].colocation_basis is None
    assert pre.sites["virginia"].colocation_basis == "used" and pre.sites["singapore"].colocation_basis == "used"


def test_a_multi_year_horizon_charges_each_year_for_what_it_needs() -> None:
    """Dublin works hard in 2025 and holds nothing in 2026: its fleet is not charged in 2026."""
    days = 730  # 2025-01-01 .. 2026-12-31
    busy = np.zeros((days, 2))
    busy[:365, 0] = 20.0  # dublin: 4 servers in 2025, none in 2026
    busy[:, 1] = 3.0  # hamar: 1 server throughout
    stored = np.zeros((days, 2))
    m = meters(busy, stored, step_s=DAY, log=flows())
    sc = scenario()
    by_year = cost_by_year(m, sc)
    horizon = horizon_cost_table(m, sc, by_year)
    years = days / 365.25
    # dublin's servers: 4 x 1,000 EUR a year for the 365 days of 2025, nothing in 2026
    assert row(by_year[by_year.year == 2026], "dublin", "servers").eur == 0.0
    assert row(horizon, "dublin", "servers").eur_per_year == pytest.approx(4 * 1000.0 * (365 / 365.25) / years)
    # the horizon's yearly figure is the calendar years' EUR over the horizon in years
    assert horizon.eur_per_year.sum() == pytest.approx(by_year.eur.sum() / years)
    # ... whereas sizing the whole horizon for its peak would charge dublin's fleet twice as long
    whole = cost_table(m, sc)
    assert row(whole, "dublin", "servers").eur_per_year == pytest.approx(4000.0)
    assert row(horizon, "dublin", "servers").eur_per_year < 0.51 * row(whole, "dublin", "servers").eur_per_year
    # a single calendar year: the same figure as costing the run as a whole
    one = meters(busy[:365], stored[:365], step_s=DAY, log=flows())
    assert horizon_cost_table(one, sc).eur_per_year.to_numpy() == pytest.approx(cost_table(one, sc).eur_per_year.to_numpy())
