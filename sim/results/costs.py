"""Yearly operating cost and carbon from metered quantities (pure functions).

Per site:
    energy      = sum over steps of IT kW x step hours x PUE x energy price, annualised
    servers     = servers for the busiest metered step x server price / amortisation years
    redundancy  = servers the sizing rule adds beyond those (``compute.redundancy``: N+1 by site,
                  up to the contracted power, or a headroom share; none by default) x server price
                  / amortisation years
    storage     = peak stored raw TB x price per TB / amortisation years
    colocation  = billed IT kW x EUR/kW-month x 12, billed on the contracted IT kW (take-or-pay,
                  ``costs.colocation_basis = "contracted"``, the default) or on the provisioned
                  kW (servers at full power + storage at peak; "used"), per site if it says so
    (servers, storage and colocation accrue, like site staff, only while the site is online: a
    site that opens on 31 December pays one day of its fleet in that year, not a whole year)
    network     = GB leaving the site x price (inter-site for replication and migration,
                  internet egress for reads and exports; ingress is free), annualised
    staff       = site staff FTE x loaded cost per FTE
Programme-wide (site "programme"):
    staff       = central data-security organisation FTE x loaded cost per FTE
    oversight   = the third-party monitoring contract (when a gateway runs)
    gateway     = reviewer FTE (shift hours x reviewers / 40 h) x cost per reviewer, plus
                  inspection nodes x cost per node (when a gateway runs)
Carbon = facility energy x grid intensity of the site.

"Annualised" = metered over the horizon x (YEAR_S / horizon), YEAR_S = 365.25 days
(:mod:`sim.reference.units`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.meters import Meters
from sim.reference.units import YEAR_S
from sim.results.power import it_power_kw, provisioned_servers, required_busy_cores
from sim.scenario import Scenario
from sim.scenario.gateway import GatewayConfig

__all__ = ["SiteLoad", "site_load", "cost_table", "cost_by_year", "horizon_cost_table", "YEAR_S", "annualise", "gateway_active", "co2_t_per_year"]


_INTER_SITE_KINDS = ("replication", "migration")
_EGRESS_KINDS = ("read", "export")


@dataclass(frozen=True)
class SiteLoad:
    """IT load and energy of every site over a run.

    Attributes:
        servers: (S,) provisioned servers (the sizing rule included).
        peak_servers: (S,) servers the busiest metered step alone needs.
        it_kw: (T, S) IT power per step.
        provisioned_kw: (S,) servers at full power plus storage at its peak.
        it_kwh: (S,) IT energy over the run.
        facility_kwh: (S,) IT energy x PUE over the run.
        peak_stored_tb: (S,) largest raw stored TB during the run.
    """

    servers: NDArray[np.float64]
    peak_servers: NDArray[np.float64]
    it_kw: NDArray[np.float64]
    provisioned_kw: NDArray[np.float64]
    it_kwh: NDArray[np.float64]
    facility_kwh: NDArray[np.float64]
    peak_stored_tb: NDArray[np.float64]


def annualise(value: float | NDArray[np.float64], horizon_s: float) -> float | NDArray[np.float64]:
    """Scale a quantity metered over ``horizon_s`` to one year."""
    return value * (YEAR_S / horizon_s)


Window = tuple[int, int]


def _window(m: Meters, window: Window | None) -> Window:
    return window if window is not None else (0, len(m.edges_s) - 1)


def _peak(busy: NDArray[np.float64], quantile: float) -> NDArray[np.float64]:
    """(S,) the busy cores a fleet is sized for: the busiest step, or a stated quantile of the steps."""
    return busy.max(axis=0) if quantile >= 1.0 else np.quantile(busy, quantile, axis=0, method="inverted_cdf")


def site_load(m: Meters, scenario: Scenario, window: Window | None = None) -> SiteLoad:
    """Size the fleet and integrate IT power from the meters over steps [a, b) of ``window``.

    The fleet is sized for the busiest step inside the window, or for the quantile
    ``compute.sizing_quantile`` of its steps, and for the redundancy rule.
    """
    a, b = _window(m, window)
    busy = m.busy_cores[a:b]
    q = scenario.compute.sizing_quantile
    peak_servers = provisioned_servers(_peak(busy, q), scenario.compute)
    contracted_mw = np.array([scenario.sites[s].it_mw_contracted for s in m.sites])
    required = required_busy_cores(_peak(m.nominal_busy_cores[a:b], q), scenario.compute, contracted_mw)
    servers = np.maximum(peak_servers, provisioned_servers(required, scenario.compute))
    stored_tb = m.stored_gb[a:b].sum(axis=1) / 1000.0  # (T, S)
    it_kw = it_power_kw(servers, busy, stored_tb, scenario.compute, scenario.storage)
    peak_tb = stored_tb.max(axis=0)
    provisioned_kw = (servers * scenario.compute.server_max_w + peak_tb * scenario.storage.w_per_tb) / 1000.0
    it_kwh = (it_kw * (m.dt_s[a:b] / 3600.0)[:, None]).sum(axis=0)
    pue = np.array([scenario.sites[s].pue for s in m.sites])
    return SiteLoad(servers, peak_servers, it_kw, provisioned_kw, it_kwh, it_kwh * pue, peak_tb)


def _network_gb_by_site(m: Meters, window: Window) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GB leaving each site over inter-site links and to the internet, flows of the window."""
    cols = m.flows.columns()
    a, b = window
    frame = pd.DataFrame({"source": cols["source"], "kind": cols["kind"], "gb": cols["gb"], "t": cols["period_s"]})
    frame = frame[(frame.t >= m.edges_s[a]) & (frame.t < m.edges_s[b])]
    inter = frame[frame.kind.isin(_INTER_SITE_KINDS)].groupby("source")["gb"].sum()
    egress = frame[frame.kind.isin(_EGRESS_KINDS)].groupby("source")["gb"].sum()
    return (
        np.array([float(inter.get(s, 0.0)) for s in m.sites]),
        np.array([float(egress.get(s, 0.0)) for s in m.sites]),
    )


def _online_share(m: Meters, scenario: Scenario, window: Window) -> NDArray[np.float64]:
    """(S,) share of the window each site was online (staff are paid from the online date)."""
    a, b = window
    t0, t1 = m.edges_s[a], m.edges_s[b]
    out = []
    for s in m.sites:
        online_s = (scenario.sites[s].online_date - scenario.time.start).days * 86400.0
        out.append(float(np.clip((t1 - max(online_s, t0)) / (t1 - t0), 0.0, 1.0)))
    return np.array(out)


def cost_table(
    m: Meters, scenario: Scenario, load: SiteLoad | None = None, window: Window | None = None
) -> pd.DataFrame:
    """Yearly cost per site and category over the run (or over steps [a, b) of ``window``).

    Returns:
        Columns: site, category, eur_per_year, quantity, unit (the metered quantity the cost
        comes from, so every figure can be traced).
    """
    window = _window(m, window)
    load = load or site_load(m, scenario, window)
    sc = scenario
    span_s = float(m.edges_s[window[1]] - m.edges_s[window[0]])
    rows: list[tuple[str, str, float, float, str]] = []
    inter_gb, egress_gb = _network_gb_by_site(m, window)
    online = _online_share(m, scenario, window)
    server_eur = sc.compute.server_capex_eur / sc.compute.server_amortisation_years
    for i, site_id in enumerate(m.sites):
        site = sc.sites[site_id]
        kwh_year = float(annualise(load.facility_kwh[i], span_s))
        contracted = (site.colocation_basis or sc.costs.colocation_basis) == "contracted"
        billed_kw = site.it_mw_contracted * 1000.0 if contracted else float(load.provisioned_kw[i])
        rows.append((site_id, "energy", kwh_year * site.energy_price_eur_per_kwh, kwh_year, "facility kWh/yr"))
        rows.append(
            (
                site_id,
                "servers",
                load.peak_servers[i] * server_eur * online[i],
                float(load.peak_servers[i]),
                "servers",
            )
        )
        if sc.compute.redundancy != "none":
            extra = float(load.servers[i] - load.peak_servers[i])
            rows.append((site_id, "redundancy", extra * server_eur * online[i], extra, f"servers for {sc.compute.redundancy}"))
        rows.append(
            (
                site_id,
                "storage",
                load.peak_stored_tb[i] * sc.storage.capex_eur_per_tb / sc.storage.amortisation_years * online[i],
                float(load.peak_stored_tb[i]),
                "peak raw TB",
            )
        )
        rows.append(
            (
                site_id,
                "colocation",
                billed_kw * sc.costs.colocation_eur_per_kw_month * 12.0 * online[i],
                billed_kw,
                "contracted IT kW" if contracted else "provisioned IT kW",
            )
        )
        inter_year = float(annualise(inter_gb[i], span_s))
        egress_year = float(annualise(egress_gb[i], span_s))
        rows.append(
            (
                site_id,
                "network",
                inter_year * sc.network.inter_site_eur_per_gb + egress_year * sc.network.internet_egress_eur_per_gb,
                inter_year + egress_year,
                "GB/yr leaving the site",
            )
        )
        fte = site.staff_fte * online[i]
        rows.append((site_id, "staff", fte * sc.costs.staff_eur_per_fte_year, fte, "FTE"))
    fte = sc.costs.programme_staff_fte
    rows.append(("programme", "staff", fte * sc.costs.staff_eur_per_fte_year, fte, "FTE"))
    if gateway_active(sc):
        gw = sc.gateway
        if gw.oversight_eur_per_year > 0:  # a contract is paid whether or not its review stage is modelled
            rows.append(("programme", "oversight", gw.oversight_eur_per_year, 1.0, "contract"))
        rows.append(("programme", "gateway", gateway_reviewer_eur_per_year(gw), gw.reviewer_fte(), "reviewer FTE"))
        rows.append(("programme", "gateway", gateway_nodes_eur_per_year(gw), float(gw.transfers.nodes), "inspection nodes"))
    return pd.DataFrame(rows, columns=["site", "category", "eur_per_year", "quantity", "unit"])


def gateway_reviewer_eur_per_year(config: GatewayConfig) -> float:
    """Yearly reviewer staff cost of a gateway: ``reviewer_fte() x reviewer_cost_eur_per_year``."""
    return config.reviewer_fte() * config.reviewer_cost_eur_per_year


def gateway_nodes_eur_per_year(config: GatewayConfig) -> float:
    """Yearly cost of a gateway's inspection nodes: ``transfers.nodes x node_cost_eur_per_year``."""
    return config.transfers.nodes * config.node_cost_eur_per_year


def cost_by_year(m: Meters, scenario: Scenario) -> pd.DataFrame:
    """Cost per calendar year, site and category.

    Each calendar year in the run is costed on its own: its fleet, storage and colocation are
    sized for that year's own peak, and a site pays for them only while it is online.

    Returns:
        Columns: year, site, category, eur (incurred in the part of the year simulated),
        eur_per_year (the yearly rate), days (simulated days of that year), quantity and unit
        (the metered quantity behind the cost in that year).
    """
    start = np.datetime64(scenario.start_utc.replace(tzinfo=None), "s")
    ends = start + np.round(m.edges_s).astype("timedelta64[s]")
    years = ends[:-1].astype("datetime64[Y]").astype(int) + 1970
    frames = []
    for year in np.unique(years):
        idx = np.flatnonzero(years == year)
        window = (int(idx[0]), int(idx[-1]) + 1)
        table = cost_table(m, scenario, window=window)
        days = float(m.edges_s[window[1]] - m.edges_s[window[0]]) / 86400.0
        table.insert(0, "year", int(year))
        table["days"] = days
        table["eur"] = table["eur_per_year"] * days / (YEAR_S / 86400.0)
        frames.append(table[["year", "site", "category", "eur", "eur_per_year", "days", "quantity", "unit"]])
    return pd.concat(frames, ignore_index=True)


def horizon_cost_table(m: Meters, scenario: Scenario, by_year: pd.DataFrame | None = None) -> pd.DataFrame:
    """Yearly cost per site and category over the whole horizon, consistent with the calendar years.

    Definition: the EUR incurred over the horizon, period by period (:func:`cost_by_year`: each
    calendar year pays for the fleet, storage, colocation and staff that it needs), divided by
    the horizon in years (``horizon_s / YEAR_S``); computed as the days-weighted mean of the
    calendar years' rates, which is the same figure. A site's peak fleet is therefore never
    charged in a year in which it holds nothing. For a run inside one calendar year this is the
    same figure as :func:`cost_table` over the whole run.

    Args:
        m: the meters of the run.
        scenario: the scenario that was run.
        by_year: :func:`cost_by_year` of the run, if already computed.

    Returns:
        Columns: site, category, eur_per_year, quantity (mean over the horizon, weighted by
        simulated days), unit.
    """
    by_year = cost_by_year(m, scenario) if by_year is None else by_year
    total_days = m.horizon_s / 86400.0
    keys = ["site", "category", "unit"]
    share = by_year["days"] / total_days  # of the horizon; sum over a row's years = 1
    rows = by_year.assign(rate=by_year["eur_per_year"] * share, weighted=by_year["quantity"] * share)
    out = rows.groupby(keys, sort=False).agg(eur_per_year=("rate", "sum"), quantity=("weighted", "sum")).reset_index()
    return out[["site", "category", "eur_per_year", "quantity", "unit"]]


def gateway_active(scenario: Scenario) -> bool:
    """Whether the security gateway (and its oversight contract) runs in this scenario."""
    return scenario.gateway.enabled and scenario.policy.transfer != "open"


def co2_t_per_year(m: Meters, scenario: Scenario, load: SiteLoad) -> NDArray[np.float64]:
    """(S,) tonnes of CO2 per year: facility energy x grid intensity."""
    g = np.array([scenario.sites[s].grid_gco2_per_kwh for s in m.sites])
    return np.asarray(annualise(load.facility_kwh * g / 1e6, m.horizon_s))

