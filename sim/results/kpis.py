"""The KPI catalogue: every KPI a run reports, with its unit, label, better-direction and origin.

This is the one list of KPIs. The CLI table, the leadership report, comparisons, Pareto fronts,
sweeps and the notebooks all read names, labels, units and directions from here; a KPI that a
run computes but the catalogue does not know is a bug (the tests check both directions).

KPI names carry their unit (``_eur_per_year``, ``_pb``, ``_ms`` ...). A per-site KPI is reported
as ``name.<site>`` (e.g. ``cost_eur_per_year.dublin``) and catalogued once under its base name
with ``per_site=True``; a per-zone KPI likewise as ``name.<zone>`` (``residency_share.europe``)
with ``per_zone=True``. Per-year figures are annualised with
:data:`sim.reference.units.YEAR_S` (365.25 days).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = [
    "Better",
    "KpiSpec",
    "CATALOGUE",
    "PER_SITE",
    "PER_ZONE",
    "spec",
    "label",
    "unit",
    "better",
    "known",
    "RUN_TABLE_KPIS",
    "HEADLINE_KPIS",
    "GATEWAY_KPIS",
    "EXTRA_KPIS",
    "COMPARE_CHART_KPIS",
    "SENSITIVITY_KPIS",
    "PARETO_KPIS",
]

#: Which way is better: a lower value, a higher one, or neither (a quantity, not a goal).
Better = Literal["lower", "higher", "neutral"]

_REPLICATION = "sim.results.replication.replication_result"
_GATEWAY = "sim.results.gateway.gateway_kpis"


@dataclass(frozen=True)
class KpiSpec:
    """What one KPI is.

    Attributes:
        name: the KPI's name (its unit is part of it).
        unit: the unit written next to values (``"EUR/yr"``, ``"share"``, ``"date"`` ...).
        label: a short human label for tables and charts.
        better: ``"lower"``, ``"higher"`` or ``"neutral"``.
        description: what is measured, where, and over what.
        computed_by: dotted name of the function that computes it.
        group: ``"headline"``, ``"residency"``, ``"gateway"``, ``"availability"``,
            ``"migration"`` or ``"site"``.
        per_site: the KPI is reported per site as ``name.<site>``.
        per_zone: the KPI is reported per residency zone as ``name.<zone>``.
    """

    name: str
    unit: str
    label: str
    better: Better
    description: str
    computed_by: str
    group: str
    per_site: bool = False
    per_zone: bool = False


def _k(name: str, unit: str, label: str, better: Better, group: str, description: str, *,
       computed_by: str = _REPLICATION, per_site: bool = False, per_zone: bool = False) -> KpiSpec:
    return KpiSpec(name, unit, label, better, description, computed_by, group, per_site, per_zone)


_SPECS = (
    _k("cost_eur_per_year", "EUR/yr", "Yearly cost", "lower", "headline",
       "Operating cost of every site and the programme (energy, servers, storage, colocation, network, "
       "staff, gateway, oversight), annualised over the horizon."),
    _k("energy_mwh_per_year", "MWh/yr", "Energy", "lower", "headline",
       "Facility energy (IT energy x PUE) of every site, annualised."),
    _k("co2_t_per_year", "t/yr", "Carbon", "lower", "headline",
       "Facility energy x the grid intensity of each site, annualised."),
    _k("stored_pb_total", "PB", "Stored data", "neutral", "headline",
       "Bytes stored at the end of the run, all copies, every site."),
    _k("stored_pb_outside_residency", "PB", "Data stored outside its zone", "lower", "residency",
       "Bytes (all copies) of residency-bound classes stored at sites outside the class's zone (for "
       "'home' classes: outside the user's country) at the end of the run."),
    _k("residency_share", "share", "Residency-bound data held in its zone", "higher", "residency",
       "Share of the bytes of residency-bound classes (a zone or 'home') stored inside their zone at "
       "the end of the run."),
    _k("residency_share", "share", "Data held in its zone", "higher", "residency",
       "Share of the bytes of the classes bound to this zone ('home': to the user's country) stored "
       "inside it at the end of the run.", per_zone=True),
    _k("transfer_tb_out_of_residency_per_year", "TB/yr", "Data leaving its zone", "lower", "residency",
       "Bytes of residency-bound classes leaving their zone, measured at the border as they cross it "
       "(exports after the gateway's approval and pseudonymisation, uploads, inter-site copies and "
       "moves), annualised; reads delivered to the "
       "data's own users are not counted."),
    _k("transfer_tb_blocked_per_year", "TB/yr", "Transfers blocked", "neutral", "residency",
       "Exports blocked by the gateway or stopped by the transfer policy, measured at the border like "
       "the bytes that cross: what they would have let cross (after pseudonymisation where a gateway "
       "pseudonymises); annualised."),
    _k("user_rtt_ms_p50", "ms", "User round trip, median", "lower", "headline",
       "Median round trip users see: their access network (mobile or fixed) plus the path to the "
       "site serving them, over requests (sim.results.latency)."),
    _k("user_rtt_ms_p95", "ms", "User round trip, 95th percentile", "lower", "headline",
       "95th percentile of the round trip users see (access network plus path), over requests."),
    _k("user_rtt_ms_mean", "ms", "User round trip, mean", "lower", "headline",
       "Mean round trip users see (access network plus path), over requests."),
    _k("requests_per_year", "requests/yr", "User requests", "neutral", "headline",
       "User requests over the horizon, annualised."),
    _k("mau_end", "users", "Monthly active users at the end", "neutral", "headline",
       "Monthly active users over all countries in the last step."),
    _k("gateway_wait_s_mean", "s", "Gateway wait, mean", "lower", "gateway",
       "Mean wait of access requests at the security gateway (after warm-up).", computed_by=_GATEWAY),
    _k("gateway_wait_s_p50", "s", "Gateway wait, median", "lower", "gateway",
       "Median wait of access requests at the security gateway.", computed_by=_GATEWAY),
    _k("gateway_wait_s_p95", "s", "Gateway wait, 95th percentile", "lower", "gateway",
       "95th percentile wait of access requests at the security gateway.", computed_by=_GATEWAY),
    _k("gateway_wait_s_p99", "s", "Gateway wait, 99th percentile", "lower", "gateway",
       "99th percentile wait of access requests at the security gateway.", computed_by=_GATEWAY),
    _k("gateway_sla_breach_share", "share", "Access requests over their SLA", "lower", "gateway",
       "Share of access requests whose wait exceeded the SLA of their priority class.", computed_by=_GATEWAY),
    _k("reviewer_utilisation", "share", "Reviewer utilisation", "neutral", "gateway",
       "Busy reviewer time over staffed reviewer time.", computed_by=_GATEWAY),
    _k("gateway_requests_per_year", "requests/yr", "Gateway requests", "neutral", "gateway",
       "Access and transfer requests through the gateway, annualised.", computed_by=_GATEWAY),
    _k("unavailable_request_share", "share", "Requests not served", "lower", "availability",
       "Share of user requests that no site could serve (outages, cut links)."),
    _k("failover_request_share", "share", "Requests served on failover", "lower", "availability",
       "Share of user requests served by a site only because another was down."),
    _k("failover_rtt_ms_p95", "ms", "Round trip on failover, 95th percentile", "lower", "availability",
       "95th percentile round trip of requests served on failover (empty when there was none)."),
    _k("residency_violation_tb", "TB", "Residency violations", "lower", "residency",
       "Bytes of residency-bound classes read from or written to a site outside the class's zone, "
       "whoever sent them there (failover, the placement, an interim layout)."),
    _k("residency_violation_requests", "requests", "Requests served against residency", "lower", "residency",
       "Requests served at a site outside the zone of a residency-bound class of their users."),
    _k("migrated_tb", "TB", "Data migrated and replicated", "neutral", "migration",
       "Bytes moved or copied between sites on placement changes."),
    _k("pending_migration_tb", "TB", "Migration still pending", "lower", "migration",
       "Bytes still waiting to cross a link at the end of the run."),
    _k("residency_99_date", "date", "99 % of residency-bound data in its zone by", "lower", "migration",
       "First day on which 99 % of the bytes of residency-bound classes are stored inside their zone."),
    _k("storage_overflow_pb", "PB", "Data beyond storage capacity", "lower", "availability",
       "Largest amount, over the run, that the sites together store beyond their storage capacity "
       "(growth that outran the placement's plan); zero when everything fits."),
    _k("storage_overflow_pb", "PB", "Data beyond storage capacity", "lower", "site",
       "Largest amount the site stores beyond its storage capacity at any step.", per_site=True),
    _k("stored_pb", "PB", "Stored data", "neutral", "site",
       "Bytes stored at the site at the end of the run, all copies.", per_site=True),
    _k("cost_eur_per_year", "EUR/yr", "Yearly cost", "lower", "site",
       "Operating cost of the site, annualised.", per_site=True),
    _k("it_mw_peak", "MW", "Peak IT power", "neutral", "site",
       "Largest IT power drawn by the site in any step.", per_site=True),
    _k("it_mw_provisioned", "MW", "Provisioned IT power", "neutral", "site",
       "IT power of the site's fleet at full load plus storage at its peak.", per_site=True),
    _k("co2_t_per_year", "t/yr", "Carbon", "lower", "site",
       "Facility energy of the site x its grid intensity, annualised.", per_site=True),
)

#: Every programme-wide KPI by name.
CATALOGUE: Mapping[str, KpiSpec] = MappingProxyType({s.name: s for s in _SPECS if not (s.per_site or s.per_zone)})
#: Every per-site KPI by base name (reported as ``name.<site>``).
PER_SITE: Mapping[str, KpiSpec] = MappingProxyType({s.name: s for s in _SPECS if s.per_site})
#: Every per-zone KPI by base name (reported as ``name.<zone>``).
PER_ZONE: Mapping[str, KpiSpec] = MappingProxyType({s.name: s for s in _SPECS if s.per_zone})


def spec(name: str) -> KpiSpec:
    """The catalogue entry of a KPI name (``"cost_eur_per_year.dublin"`` finds the per-site entry).

    Raises:
        KeyError: if the catalogue has no such KPI.
    """
    if "." in name:
        base = name.split(".", 1)[0]
        if base in PER_SITE:
            return PER_SITE[base]
        if base in PER_ZONE:
            return PER_ZONE[base]
    elif name in CATALOGUE:
        return CATALOGUE[name]
    raise KeyError(f"unknown KPI {name!r}; the catalogue is sim.results.kpis")


def known(name: str) -> bool:
    """Whether the catalogue knows the KPI (programme-wide or per site)."""
    try:
        spec(name)
    except KeyError:
        return False
    return True


def label(name: str) -> str:
    """The human label of a KPI; a per-site (per-zone) KPI names its site (zone): ``"Yearly cost (dublin)"``."""
    s = spec(name)
    return f"{s.label} ({name.split('.', 1)[1]})" if s.per_site or s.per_zone else s.label


def unit(name: str) -> str:
    """The unit of a KPI."""
    return spec(name).unit


def better(name: str) -> Better:
    """Which direction of a KPI is better."""
    return spec(name).better


#: The table printed at the end of ``clover-sim run``, in this order (per-site KPIs follow).
RUN_TABLE_KPIS: tuple[str, ...] = (
    "cost_eur_per_year",
    "energy_mwh_per_year",
    "co2_t_per_year",
    "stored_pb_total",
    "stored_pb_outside_residency",
    "residency_share",
    "transfer_tb_out_of_residency_per_year",
    "user_rtt_ms_p50",
    "user_rtt_ms_p95",
    "transfer_tb_blocked_per_year",
    "unavailable_request_share",
    "residency_violation_tb",
    "failover_rtt_ms_p95",
    "residency_99_date",
    "migrated_tb",
)

#: The report's headline KPIs, in display order.
HEADLINE_KPIS: tuple[str, ...] = (
    "cost_eur_per_year",
    "energy_mwh_per_year",
    "co2_t_per_year",
    "stored_pb_total",
    "residency_share",
    "transfer_tb_out_of_residency_per_year",
    "user_rtt_ms_p50",
    "user_rtt_ms_p95",
)

#: The gateway KPIs the report shows (for runs with a gateway).
GATEWAY_KPIS: tuple[str, ...] = (
    "gateway_wait_s_p50",
    "gateway_wait_s_p95",
    "gateway_sla_breach_share",
    "reviewer_utilisation",
    "gateway_requests_per_year",
)

#: KPIs the report shows only when present and not zero or empty.
EXTRA_KPIS: tuple[str, ...] = (
    "residency_99_date",
    "migrated_tb",
    "transfer_tb_blocked_per_year",
    "unavailable_request_share",
    "residency_violation_tb",
)

#: KPIs of the comparison chart (``clover-sim compare``).
COMPARE_CHART_KPIS: tuple[str, ...] = ("cost_eur_per_year", "co2_t_per_year", "stored_pb_outside_residency", "user_rtt_ms_p95")

#: KPIs a sensitivity analysis studies when the sweep names none.
SENSITIVITY_KPIS: tuple[str, ...] = ("cost_eur_per_year", "co2_t_per_year", "user_rtt_ms_p95")

#: The objectives of the Pareto front (all minimised).
PARETO_KPIS: tuple[str, ...] = ("cost_eur_per_year", "co2_t_per_year", "user_rtt_ms_mean")
