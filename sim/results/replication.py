"""Results of a run: KPIs and tidy tables per replication, and their summary over replications.

KPI names carry their unit (``_eur_per_year``, ``_pb``, ``_ms`` ...); per-site KPIs are
``name.<site>``. Summaries give the mean and the 95 % Student-t interval over replications.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.meters import Meters
from sim.meters.gateway import GatewayRun, GatewayTally
from sim.results import costs
from sim.results.gateway import gateway_kpis, gateway_tally, gateway_wait_quantiles, reviewer_utilisation_by_hour
from sim.results.latency import access_mean_by_country_ms, user_rtt_mixture
from sim.results.tables import latency_table, placement_table, transfers_table, weighted_quantile
from sim.scenario import Scenario
from sim.scenario.places import endpoint_country, endpoint_in_residency, in_enclave, residency_mask
from sim.scenario.zones import ANY, HOME

__all__ = ["KPI", "ReplicationResult", "Results", "replication_result", "residency_table", "t_interval"]


#: KPIs the gateway reports (zero when a scenario has no gateway).
GATEWAY_KPIS = (
    "gateway_wait_s_mean",
    "gateway_wait_s_p50",
    "gateway_wait_s_p95",
    "gateway_wait_s_p99",
    "gateway_sla_breach_share",
    "reviewer_utilisation",
    "gateway_requests_per_year",
    "transfer_tb_out_of_residency_per_year",
    "transfer_tb_blocked_per_year",
)


@dataclass(frozen=True)
class KPI:
    """One KPI value of one replication."""

    value: float
    unit: str


@dataclass(frozen=True)
class ReplicationResult:
    """KPIs and tables of one replication, and what the reader should be warned about."""

    kpis: dict[str, KPI]
    tables: dict[str, pd.DataFrame]
    warnings: tuple[str, ...] = ()


def t_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided Student-t interval; a single value gives a zero-width interval."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if len(x) < 2:
        return mean, mean, mean
    from scipy import stats  # only with two replications or more: importing it costs ~0.5 s

    half = float(stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return mean, mean - half, mean + half


def replication_result(m: Meters, scenario: Scenario) -> ReplicationResult:
    """Turn one replication's meters into KPIs and tidy tables."""
    start = pd.Timestamp(scenario.time.start)
    load = costs.site_load(m, scenario)
    by_year = costs.cost_by_year(m, scenario)
    cost = costs.horizon_cost_table(m, scenario, by_year)
    transfers = transfers_table(m, start, lambda cls, src, dst: residency_crossing(scenario, cls, src, dst))
    latency = latency_table(m, access_mean_by_country_ms(m.countries, scenario.network.access))
    placement = placement_table(m, start)
    inside = residency_mask(scenario, m.countries, m.classes, m.sites)  # (C, K, S)
    residency = residency_table(m, start, inside, scenario)
    tables = {
        "placement": placement,
        "transfers": transfers,
        "latency": latency,
        "costs": cost,
        "costs_by_year": by_year,
        "residency": residency,
    }

    final = m.final_stock_gb  # (C, K, S)
    rules = [scenario.data_classes[k].residency for k in m.classes]
    bound = np.array([r != ANY for r in rules], dtype=bool)
    bound_in = float((final * inside)[:, bound, :].sum())
    bound_out = float((final * ~inside)[:, bound, :].sum())
    rtt, weights, rtt_mean = user_rtt_mixture(m.rtt_ms, m.served_requests, m.countries, scenario.network.access)
    co2 = costs.co2_t_per_year(m, scenario, load)
    horizon = m.horizon_s
    # with a gateway, exports leave through it: what crosses is its approved, pseudonymised
    # volume; without one they leave as they are and nobody waits. Every transfer KPI is measured
    # at the border: bytes as they cross it, or would have crossed it had they not been stopped
    gw = m.gateway
    gw_kpis = gateway_kpis(gw) if gw is not None else dict.fromkeys(GATEWAY_KPIS, 0.0)
    blocked_tb = float(m.export_blocked_gb @ _border_factors(m, scenario)) / 1000.0
    if gw is not None:
        blocked_tb += _through_gateway(transfers, gw)
    leaving = float(costs.annualise(transfers.loc[transfers["leaves_residency"], "tb"].sum(), m.horizon_s))
    blocked = float(costs.annualise(blocked_tb, m.horizon_s))
    k: dict[str, KPI] = {
        "cost_eur_per_year": KPI(float(cost["eur_per_year"].sum()), "EUR/yr"),
        "energy_mwh_per_year": KPI(float(costs.annualise(load.facility_kwh.sum(), horizon)) / 1000.0, "MWh/yr"),
        "co2_t_per_year": KPI(float(co2.sum()), "t/yr"),
        "stored_pb_total": KPI(float(final.sum()) / 1e6, "PB"),
        "stored_pb_outside_residency": KPI(bound_out / 1e6, "PB"),
        "residency_share": KPI(_share_inside(bound_in, bound_out), "share"),
        "transfer_tb_out_of_residency_per_year": KPI(leaving, "TB/yr"),
        "transfer_tb_blocked_per_year": KPI(blocked, "TB/yr"),
        "user_rtt_ms_p50": KPI(weighted_quantile(rtt, weights, 0.50), "ms"),
        "user_rtt_ms_p95": KPI(weighted_quantile(rtt, weights, 0.95), "ms"),
        "user_rtt_ms_mean": KPI(rtt_mean, "ms"),
        "requests_per_year": KPI(float(costs.annualise(m.requests.sum(), horizon)), "requests/yr"),
        "mau_end": KPI(float(m.mau[-1].sum()), "users"),
    }
    units = {"gateway_requests_per_year": "requests/yr", "gateway_sla_breach_share": "share", "reviewer_utilisation": "share"}
    for name, value in gw_kpis.items():
        if name.startswith("transfer_"):
            continue
        k[name] = KPI(float(value), units.get(name, "s"))
    if gw is not None:
        tables["gateway_waits"] = gateway_wait_quantiles(gw)
        tables["reviewer_utilisation"] = reviewer_utilisation_by_hour(gw)
    total_requests = m.requests.sum()
    k["unavailable_request_share"] = KPI(float(m.unserved_requests.sum() / total_requests), "share")
    k["failover_request_share"] = KPI(float(m.failover_requests.sum() / total_requests), "share")
    k["residency_violation_tb"] = KPI(float(m.violation_gb.sum()) / 1000.0, "TB")
    k["residency_violation_requests"] = KPI(float(m.violation_requests), "requests")
    if m.failover_requests.sum() > 0:
        fo_rtt, fo_weights, _ = user_rtt_mixture(m.rtt_ms, m.failover_requests, m.countries, scenario.network.access)
        k["failover_rtt_ms_p95"] = KPI(weighted_quantile(fo_rtt, fo_weights, 0.95), "ms")
    else:
        k["failover_rtt_ms_p95"] = KPI(math.nan, "ms")
    k["migrated_tb"] = KPI(float(m.moved_in_gb.sum() + m.replicated_gb.sum()) / 1000.0, "TB")
    k["pending_migration_tb"] = KPI(m.pending_migration_gb / 1000.0, "TB")
    reached = np.flatnonzero(residency["residency_share"].to_numpy() >= 0.99)
    k["residency_99_date"] = KPI(
        float((residency["time"].iloc[reached[0]] - start) / pd.Timedelta(days=1)) if len(reached) else math.nan,
        "date",
    )
    for zone in sorted({r for r in rules if r != ANY}):
        mine = np.array([r == zone for r in rules], dtype=bool)
        z_in = float((final * inside)[:, mine, :].sum())
        z_out = float((final * ~inside)[:, mine, :].sum())
        k[f"residency_share.{zone}"] = KPI(_share_inside(z_in, z_out), "share")
    overflow_gb = _storage_overflow_gb(m, scenario)  # (T, S)
    k["storage_overflow_pb"] = KPI(float(overflow_gb.sum(axis=1).max()) / 1e6, "PB")
    by_site = cost.groupby("site")["eur_per_year"].sum()
    peak_mw = load.it_kw.max(axis=0) / 1000.0
    for i, s in enumerate(m.sites):
        k[f"stored_pb.{s}"] = KPI(float(final[:, :, i].sum()) / 1e6, "PB")
        k[f"cost_eur_per_year.{s}"] = KPI(float(by_site.get(s, 0.0)), "EUR/yr")
        k[f"it_mw_peak.{s}"] = KPI(float(peak_mw[i]), "MW")
        k[f"it_mw_provisioned.{s}"] = KPI(float(load.provisioned_kw[i]) / 1000.0, "MW")
        k[f"co2_t_per_year.{s}"] = KPI(float(co2[i]), "t/yr")
        k[f"storage_overflow_pb.{s}"] = KPI(float(overflow_gb[:, i].max()) / 1e6, "PB")
    return ReplicationResult(k, tables, _warnings(m, scenario, k))


def _through_gateway(transfers: pd.DataFrame, gateway: GatewayRun | GatewayTally) -> float:
    """Turn the export rows of ``transfers`` into what the gateway let cross (in place).

    The world offers exports per (class, destination) as volumes; the gateway turns them into
    jobs (random sizes around the offered volume), blocks some and pseudonymises the rest. Each
    key's export rows are scaled so that they add up to the volume the gateway let cross for
    that key, so the transfers table, the KPI and the report show the same bytes.

    Returns:
        TB the gateway blocked, as they would have crossed (after pseudonymisation).
    """
    t = gateway_tally(gateway)
    key = ["data_class", "destination"]
    # the gateway's approved transfer jobs summed per (class, destination) code pair, in request order
    n_dest = len(t.destination_names)
    pair = t.approved_data_class.astype(np.int64) * n_dest + t.approved_destination.astype(np.int64)
    # pandas' group sum (compensated) on the integer pairs: the same bits as grouping the named columns
    crossed_gb = pd.Series(t.approved_crossed_gb).groupby(pair).sum()
    names = pd.MultiIndex.from_product([list(t.data_class_names), list(t.destination_names)], names=key)
    crossed_tb = pd.Series(crossed_gb.to_numpy() / 1000.0, index=names[crossed_gb.index.to_numpy()])
    exports = transfers["kind"] == "export"
    offered_tb = transfers.loc[exports].groupby(key)["tb"].sum()
    ratio = (crossed_tb.reindex(offered_tb.index, fill_value=0.0) / offered_tb).where(offered_tb > 0, 0.0)
    keys = pd.MultiIndex.from_frame(transfers.loc[exports, key])
    transfers.loc[exports, "tb"] = transfers.loc[exports, "tb"].to_numpy() * ratio.reindex(keys, fill_value=0.0).to_numpy()
    return float(pd.Series(t.blocked_crossed_gb).sum()) / 1000.0


def _border_factors(m: Meters, scenario: Scenario) -> np.ndarray:
    """(K,) share of an export's bytes that would cross the border, per data class.

    The gateway's pseudonymisation factor when a gateway pseudonymises the exports (enabled and
    not the ``open`` policy), else 1: exports leave as they are. Exports the transfer policy stops
    before the gateway are measured with it, like the bytes that cross.
    """
    if m.gateway is None or not gateway_tally(m.gateway).gateway_on:
        return np.ones(len(m.classes))
    return np.array([scenario.gateway.transfers.factor(k) for k in m.classes])


def _share_inside(inside: float, outside: float) -> float:
    """The share inside: exactly 1 with nothing outside and exactly 0 with nothing inside."""
    total = inside + outside
    if total <= 0:
        return 1.0
    return float(1.0 - outside / total) if outside <= inside else float(inside / total)


def _storage_overflow_gb(m: Meters, scenario: Scenario) -> np.ndarray:
    """(T, S) bytes each site stores beyond its storage capacity at the end of each step, GB."""
    cap_gb = np.array([scenario.sites[s].storage_pb_capacity * 1e6 for s in m.sites])
    return np.clip(m.stored_gb.sum(axis=1) - cap_gb[None, :], 0.0, None)


def _warnings(m: Meters, scenario: Scenario, k: dict[str, KPI]) -> tuple[str, ...]:
    """Conditions a planner must not miss.

    An unstable gateway, a site past its contract, a migration that did not finish.
    """
    out = []
    if m.gateway is not None and m.gateway.unstable:
        out.append(f"gateway: {m.gateway.message}")
    for s in m.sites:
        need = k[f"it_mw_provisioned.{s}"].value
        contracted = scenario.sites[s].it_mw_contracted
        if need > contracted * (1 + 1e-9):
            out.append(f"{s}: needs {need:.1f} MW of IT power, more than the {contracted:g} MW contracted")
    for s in m.sites:
        over = k[f"storage_overflow_pb.{s}"].value
        if over > 0:
            cap = scenario.sites[s].storage_pb_capacity
            out.append(f"{s}: stores up to {over:,.1f} PB more than its {cap:g} PB storage capacity (storage_overflow_pb)")
    if m.pending_migration_gb > 0:
        out.append(f"migration: {m.pending_migration_gb / 1e6:,.1f} PB still waiting to cross a link at the end of the run")
    return tuple(out)


def residency_crossing(scenario: Scenario, data_class: str, source: str, destination: str) -> tuple[bool, bool]:
    """Whether a flow of ``data_class`` crosses its zone's border, and whether it leaves the zone.

    A class with residency ``"any"`` has no border. A ``"home"`` class crosses when the two ends
    lie in different countries (it then leaves its users' country). A zone-bound class crosses
    when one end is inside the zone and the other outside, and leaves when the source is inside.
    """
    rule = scenario.data_classes[data_class].residency
    if rule == ANY:
        return False, False
    if rule == HOME:
        a, b = endpoint_country(scenario, source), endpoint_country(scenario, destination)
        crosses = a is None or b is None or a != b
        return crosses, crosses
    src_in = endpoint_in_residency(scenario, source, rule)
    dst_in = endpoint_in_residency(scenario, destination, rule)
    return src_in != dst_in, src_in and not dst_in


def residency_table(m: Meters, start: pd.Timestamp, inside: np.ndarray, scenario: Scenario) -> pd.DataFrame:
    """Share of residency-bound bytes stored inside their zone (and all bytes), at the end of each day.

    The stock per site is not kept per country, so a site's share of a ``home`` class counts as
    inside in proportion to the final stock of that class there that belongs to the site's own
    country (exact while the placement does not move ``home`` data between countries).

    Args:
        m: the meters.
        start: the run's start.
        inside: (C, K, S) where country c's class-k bytes may lie at site s.
        scenario: the scenario run.

    Columns: time, residency_share (of residency-bound classes), enclave_share_all (of every
    class's bytes, those stored at sites inside the zones of every bound class:
    :func:`sim.scenario.places.in_enclave`), stored_pb.
    """
    bound = np.array([scenario.data_classes[k].residency != ANY for k in m.classes], dtype=bool)
    final = m.final_stock_gb  # (C, K, S)
    per_site = final.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac_in = np.where(per_site > 0, (final * inside).sum(axis=0) / np.where(per_site > 0, per_site, 1.0),
                           inside.any(axis=0).astype(float))  # (K, S) share of a site's class-k stock inside
    ends = m.edges_s[1:]
    marks = np.arange(86400.0, ends[-1] + 1e-6, 86400.0)
    idx = np.unique(np.r_[0, np.searchsorted(ends, marks - 1e-6), len(ends) - 1])
    idx = idx[idx < len(ends)]
    stored = m.stored_gb[idx]  # (N, K, S)
    protected = stored[:, bound, :]
    total_p = protected.sum(axis=(1, 2))
    in_p = (protected * frac_in[bound][None]).sum(axis=(1, 2))
    total = stored.sum(axis=(1, 2))
    site_in = np.array([in_enclave(scenario, s) for s in m.sites], dtype=bool)
    out_all = stored[:, :, ~site_in].sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        share_p = np.where(total_p > 0, in_p / np.where(total_p > 0, total_p, 1.0), 1.0)
        share_all = np.where(total > 0, 1.0 - out_all / np.where(total > 0, total, 1.0), 1.0)
    return pd.DataFrame(
        {
            "time": start + pd.to_timedelta(np.round(ends[idx]), unit="s"),
            "residency_share": share_p,
            "enclave_share_all": share_all,
            "stored_pb": total / 1e6,
        }
    )


@dataclass
class Results:
    """All replications of one scenario.

    Attributes:
        scenario: the resolved scenario that was run.
        seed: the root seed the replications were spawned from.
        replications: per-replication KPIs and tables, in order.
    """

    scenario: Scenario
    seed: int
    replications: list[ReplicationResult] = field(default_factory=list)

    def kpi_summary(self) -> pd.DataFrame:
        """One row per KPI: name, mean, ci95_low, ci95_high, unit."""
        names = list(self.replications[0].kpis)
        rows = []
        for name in names:
            values = np.array([r.kpis[name].value for r in self.replications])
            mean, lo, hi = t_interval(values)
            rows.append((name, mean, lo, hi, self.replications[0].kpis[name].unit))
        return pd.DataFrame(rows, columns=["name", "mean", "ci95_low", "ci95_high", "unit"])

    def warnings(self) -> list[str]:
        """Distinct warnings over all replications, in the order first seen."""
        return list(dict.fromkeys(w for r in self.replications for w in r.warnings))

    def kpi(self, name: str) -> float:
        """Mean of one KPI over the replications."""
        return float(np.mean([r.kpis[name].value for r in self.replications]))

    def table(self, name: str) -> pd.DataFrame:
        """One tidy table over all replications, with a ``replication`` column first."""
        frames = []
        for i, r in enumerate(self.replications):
            frame = r.tables[name].copy()
            frame.insert(0, "replication", i)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` document."""
        sc = self.scenario
        start = pd.Timestamp(sc.time.start)

        def value(x: float, unit: str) -> float | str | None:
            if not math.isfinite(x):
                return None
            if unit == "date":
                return (start + pd.Timedelta(days=x)).date().isoformat()
            return x

        kpis = {
            row.name: {
                "mean": value(row.mean, row.unit),
                "ci95_low": value(row.ci95_low, row.unit),
                "ci95_high": value(row.ci95_high, row.unit),
                "unit": row.unit,
            }
            for row in self.kpi_summary().itertuples(index=False)
        }
        end = sc.start_utc + pd.Timedelta(seconds=sc.horizon_s)
        return {
            "scenario": sc.name,
            "seed": self.seed,
            "replications": len(self.replications),
            "start": sc.start_utc.isoformat(),
            "end": end.isoformat(),
            "kpis": kpis,
            "resolved_scenario": sc.model_dump(mode="json"),
        }
