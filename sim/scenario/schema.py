"""The scenario schema: pydantic models of every table of a scenario file (pure data).

Every field has its unit in its name (``_s``, ``_ms``, ``_gb``, ``_tb``, ``_pb``, ``_mw``,
``_kwh``, ``_eur``, ``_per_year``) and a default where one makes sense; a validated
:class:`Scenario` is fully resolved. Reading files, ``extends`` and ``--set`` live in
:mod:`sim.scenario.load`.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from typing import Literal

from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator

from sim import reference
from sim.scenario.fields import STRICT, Date, DateTime, Lifetime
from sim.scenario.gateway import GatewayConfig
from sim.scenario.sweep import SweepSpec
from sim.scenario.uncertainty import ObservationsSpec, UncertaintySpec
from sim.scenario.vocab import EXPORT_DESTINATIONS, FAILOVER_MODES, IN_ZONE_POLICIES, PLACEMENT_POLICIES
from sim.scenario.zones import ANY, HOME, ZoneSpec, bound, default_zones, resolve_zones

__all__ = [
    "Scenario",
    "TimeSpec",
    "PopulationSpec",
    "CountrySpec",
    "PointSpec",
    "resolve_population",
    "merge_countries",
    "DataClassSpec",
    "Site",
    "PolicySpec",
    "NetworkSpec",
    "ComputeSpec",
    "StorageSpec",
    "CostSpec",
    "CompanySpec",
    "ZoneSpec",
]

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$")


class _Model(BaseModel):
    model_config = STRICT  # strict types, finite floats, unknown keys refused (sim.scenario.fields)


class TimeSpec(_Model):
    """The simulated period."""

    start: Date = Field(description="first day simulated (UTC midnight)")
    horizon_days: float = Field(365.0, gt=0, le=36525, description="length of the run in days (at most a century)")
    step_minutes: float = Field(15.0, ge=1 / 60, le=1440, description="bulk traffic time step (one second to one day)")

    @model_validator(mode="after")
    def _whole_steps(self) -> TimeSpec:
        if self.horizon_days * 1440 < self.step_minutes:
            raise ValueError("horizon_days is shorter than one step; raise it above step_minutes")
        return self


def _default_diurnal() -> list[float]:
    # ASSUMPTION: relative activity by local hour for a short-video app, low at 03-06 h and
    # peaking in the evening (shape of typical consumer-app curves; not published for TikTok).
    return [0.55, 0.35, 0.22, 0.15, 0.12, 0.14, 0.25, 0.45, 0.65, 0.75, 0.8, 0.85,
            0.95, 0.95, 0.9, 0.9, 0.95, 1.05, 1.2, 1.35, 1.5, 1.55, 1.35, 0.95]


def _default_weekly() -> list[float]:
    # ASSUMPTION: weekends ~10 % busier than weekdays (Monday first).
    return [0.96, 0.96, 0.97, 0.98, 1.0, 1.07, 1.06]


class DemandEvent(_Model):
    """A known peak of demand: a multiplier on the expected requests for some hours."""

    start: DateTime = Field(description="first moment of the event (UTC)")
    hours: float = Field(gt=0, le=24 * 31)
    multiplier: float = Field(gt=0, le=10, description="expected requests x this while it lasts")
    countries: list[str] = Field(default_factory=list, description="ISO-2 codes; empty = every country")
    source: str = ""


class VariabilitySpec(_Model):
    """How demand varies beyond Poisson noise (each an ASSUMPTION unless a scenario cites a source)."""

    daily_cv: float = Field(0.0, ge=0, le=2, description="day-to-day variation of one country's demand (gamma, mean 1)")
    common_daily_cv: float = Field(0.0, ge=0, le=2, description="day-to-day variation shared by every country")
    seasonal_amplitude: float = Field(0.0, ge=0, lt=1, description="yearly cycle: +-amplitude around the mean")
    seasonal_peak_day: int = Field(355, ge=1, le=366, description="day of the year with the most demand")
    events: list[DemandEvent] = Field(default_factory=list)


class PopulationSpec(_Model):
    """Users: how many, in which countries, and when they are active.

    ``countries`` (empty: the 32 European reference countries) take every user of ``mau``. A
    country may be given an absolute number of users (``users``) or a share of ``mau``
    (``shares``); the users left over are spread over the other listed countries by population.
    Users over countries always add up to ``mau``: input that would drop users (a figure for a
    country not listed, fixed figures below ``mau`` with no country left to take the rest) or
    invent them (fixed figures above ``mau``) is refused. Once resolved, ``countries`` lists every
    country; ``shares`` and ``users`` stay as given (so a resolved scenario validates to itself
    under any ``--set``) and :attr:`country_shares` gives every country's share of ``mau``.
    """

    mau: float = Field(gt=0, le=1e10, description="monthly active users over all countries at time.start (at most 1e10)")
    daily_active_ratio: float = Field(gt=0, le=1, description="DAU / MAU")
    growth_per_year: float = Field(0.0, gt=-1, le=10, description="compound MAU growth per year (at most +1000 %)")
    requests_per_dau_per_day: float = Field(
        gt=0, le=1e6, description="requests reaching the data centres per DAU per day (at most 1e6)"
    )
    countries: list[str] = Field(default_factory=list, description="ISO-2 codes; empty = the 32 European reference countries")
    shares: dict[str, float] = Field(
        default_factory=dict, description="share of mau per country; countries without a share or users get the rest by population"
    )
    users: dict[str, float] = Field(
        default_factory=dict, description="monthly active users per country at time.start (absolute; e.g. a company's published figures)"
    )
    diurnal_profile: list[float] = Field(default_factory=_default_diurnal, min_length=24, max_length=24)
    weekly_profile: list[float] = Field(default_factory=_default_weekly, min_length=7, max_length=7)
    variability: VariabilitySpec = Field(default_factory=VariabilitySpec)
    _country_shares: dict[str, float] = PrivateAttr(default_factory=dict)

    @property
    def country_shares(self) -> dict[str, float]:
        """Every country's share of ``mau`` (the order of ``countries``), summing to 1; set by :class:`Scenario`."""
        return self._country_shares

    @field_validator("diurnal_profile", "weekly_profile")
    @classmethod
    def _non_negative_profile(cls, v: list[float]) -> list[float]:
        if any(x < 0 for x in v) or sum(v) <= 0:
            raise ValueError("profile weights must be >= 0 with a positive sum")
        return v

    @field_validator("shares", "users")
    @classmethod
    def _non_negative_figures(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {c: x for c, x in v.items() if x < 0}
        if bad:
            raise ValueError(f"must be >= 0 (got {bad})")
        return v


def resolve_population(pop: PopulationSpec, table: dict[str, reference.Country]) -> tuple[list[str], dict[str, float]]:
    """Every user country and its share of ``mau``: the rule of :class:`PopulationSpec`.

    Countries with ``users`` get ``users / mau``, countries with ``shares`` their share, and the
    rest of ``mau`` is spread over the other listed countries in proportion to population. A
    country may not have both.

    Args:
        pop: the population table as given.
        table: the scenario's countries (bundled world table with ``[countries.XX]`` merged in).

    Returns:
        (countries, {country: share}) with shares summing to 1.

    Raises:
        ValueError: naming the fields, for unknown countries, figures for countries not listed,
            figures that add up to more or less than ``mau``, or a rest nobody can take.
    """
    codes = list(pop.countries) or list(reference.european_codes())
    if len(set(codes)) != len(codes):
        raise ValueError(f"population.countries: lists {sorted({c for c in codes if codes.count(c) > 1})} twice")
    unknown = [c for c in codes if c not in table]
    if unknown:
        raise ValueError(
            f"population.countries: unknown country code(s) {unknown}; use ISO 3166-1 alpha-2 codes "
            "or add the country as [countries.XX] with name, population and points"
        )
    for field, given in (("users", pop.users), ("shares", pop.shares)):
        outside = [c for c in given if c not in codes]
        if outside:
            raise ValueError(
                f"population.{field}: gives {outside}, which are not in population.countries: their users would be dropped; "
                f"add them to population.countries or remove them from population.{field}"
            )
    fixed = {c: pop.users[c] / pop.mau for c in codes if c in pop.users}
    for c in codes:
        if c in pop.shares and c not in fixed:
            fixed[c] = pop.shares[c]
        elif c in pop.shares:
            raise ValueError(
                f"population.shares.{c}: {c} also has population.users.{c}; give a country users or a share, "
                "not both (--set population.users={} clears the users an extended file gives)"
            )
    fields = " and ".join(f"population.{f}" for f in ("users", "shares") if getattr(pop, f)) or "population"
    field = "population.users" if pop.users else "population.shares"
    # in users, summed in the countries' order (the arithmetic of the published-figures rule)
    fixed_users = sum(pop.users[c] if c in pop.users else fixed[c] * pop.mau for c in codes if c in fixed)
    total = fixed_users / pop.mau
    others = [c for c in codes if c not in fixed]
    rest_users = pop.mau - fixed_users
    if total > 1.0 + 1e-6:
        raise ValueError(
            f"{field}: {fields} give {fixed_users / 1e6:.6g} M users, more than population.mau = {pop.mau / 1e6:.6g} M: "
            f"{-rest_users / 1e6:.6g} M users would be invented; raise population.mau or lower {fields}"
        )
    if not others and total < 1.0 - 1e-6:
        raise ValueError(
            (f"{field}: population.shares sum to {total:.6g}, not 1" if not pop.users else
             f"{field}: {fields} give {fixed_users / 1e6:.6g} M of population.mau = {pop.mau / 1e6:.6g} M users")
            + f" and every country of population.countries has a fixed figure: {rest_users / 1e6:.6g} M users "
            "would be dropped; give figures that add up, or add countries to take the rest"
        )
    shares = dict(fixed)
    if others:
        missing = [c for c in others if table[c].population_m is None]
        if missing and rest_users > 0:
            raise ValueError(
                f"countries.{missing[0]}.population: {[table[c].name for c in missing]} have no population in the "
                "world table, and the users not given per country are spread by population; give "
                f"[countries.{missing[0]}] population = ..., or users / shares for them"
            )
        pop_m = sum(table[c].population_m or 0.0 for c in others)
        if rest_users > 0 and not pop_m > 0:
            raise ValueError(
                f"population.countries: {rest_users / 1e6:.6g} M users not given per country are left for {others}, whose population is 0; "
                "give them users or shares, or a population in [countries.XX]"
            )
        rest_users = max(rest_users, 0.0)
        for c in others:
            shares[c] = rest_users / pop.mau * (table[c].population_m or 0.0) / pop_m if pop_m > 0 else 0.0
    shares = {c: shares[c] for c in codes}
    total = math.fsum(shares.values())
    if abs(total - 1.0) > 1e-12:  # shares given to 1e-6: rescale, so that no user is dropped or invented
        shares = {c: v / total for c, v in shares.items()}
    return codes, shares


class PointSpec(_Model):
    """One population point of a country: where a share of its users live and their clock."""

    name: str = Field("", description="label (a city or region)")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    share: float = Field(ge=0, le=1, description="share of the country's users at this point (a country's shares sum to 1)")
    utc_offset_h: float = Field(ge=-12, le=14, description="standard-time UTC offset, hours")
    dst: Literal[reference.DST_RULES] = Field(  # type: ignore[valid-type]
        "none", description="daylight-saving rule: eu, us, south (southern hemisphere, approximated) or none"
    )


class CountrySpec(_Model):
    """``[countries.XX]``: a country added to, or overriding fields of, the bundled world table."""

    name: str | None = Field(None, description="English short name")
    population: float | None = Field(None, ge=0, le=1e10, description="people living in the country (persons)")
    points: list[PointSpec] | None = Field(
        None, min_length=1, max_length=1000, description="population points (lat, lon, share, utc_offset_h, dst)"
    )
    source: str | None = Field(None, description="where the figures come from (or ASSUMPTION)")

    @field_validator("points")
    @classmethod
    def _shares_sum_to_one(cls, v: list[PointSpec] | None) -> list[PointSpec] | None:
        if v is not None:
            total = math.fsum(p.share for p in v)
            if not math.isclose(total, 1.0, abs_tol=1e-6):
                raise ValueError(f"the points' shares sum to {total:.6g}, not 1")
        return v


def merge_countries(overrides: dict[str, CountrySpec]) -> dict[str, reference.Country]:
    """The bundled world table with a scenario's ``[countries.XX]`` merged in.

    Raises:
        ValueError: for a new country that lacks ``name`` or ``points``.
    """
    table = dict(reference.countries())
    for code, spec in overrides.items():
        base = table.get(code)
        if base is None and (spec.name is None or spec.points is None):
            lacking = " and ".join(f for f in ("name", "points") if getattr(spec, f) is None)
            raise ValueError(
                f"countries.{code}: {code} is not in the bundled world table, so it needs {lacking} "
                "(and population, unless users or shares are given for it)"
            )
        points = base.points if spec.points is None else tuple(
            reference.Point(name=p.name or f"{code} {i}", lat=p.lat, lon=p.lon, share=p.share,
                            utc_offset_std_h=p.utc_offset_h, dst=p.dst)
            for i, p in enumerate(spec.points)
        )
        table[code] = reference.Country(
            iso2=code,
            name=spec.name if spec.name is not None else base.name,  # type: ignore[union-attr]
            region=base.region if base else "",
            eea=base.eea if base else False,
            population_m=spec.population / 1e6 if spec.population is not None else (base.population_m if base else None),
            lat=points[0].lat if spec.points is not None or base is None else base.lat,
            lon=points[0].lon if spec.points is not None or base is None else base.lon,
            points=points,
            source=spec.source if spec.source is not None else (base.source if base else "scenario"),
        )
    return table


class DataClassSpec(_Model):
    """One class of user data (bytes per user, write rate, retention, replicas, residency)."""

    residency: str = Field(
        description="where the class's bytes must stay: a zone name (e.g. 'europe'), 'home' (the user's own "
        "country) or 'any' (no rule)"
    )
    initial_gb_per_mau: float = Field(ge=0, le=1e5, description="stored bytes per MAU at time.start (one copy)")
    write_gb_per_dau_per_day: float = Field(ge=0, le=1e4, description="new bytes per DAU per day (one copy)")
    read_gb_per_dau_per_day: float = Field(ge=0, le=1e4, description="bytes served from the data centres per DAU per day")
    retention_days: Lifetime = Field(
        gt=0, allow_inf_nan=True, description="mean lifetime of a byte (exponential deletion); inf = kept (\"inf\" in JSON)"
    )
    replicas: int = Field(ge=1, le=5, description="copies on distinct sites")
    export_share: float = Field(0.0, ge=0, le=1, description="share of written bytes exported to export_destination")
    export_destination: Literal[EXPORT_DESTINATIONS] = Field(  # type: ignore[valid-type]
        "US", description="where exports go: US, SG, CN or other"
    )
    protected: bool = Field(False, description="protected personal data (blocked by the strict transfer policy)")
    distinct_countries: bool = Field(False, description="replicas must also be in distinct countries")


class OutageWindow(_Model):
    """A scheduled outage: from ``start`` (UTC) for ``hours``."""

    start: DateTime = Field(description="UTC start, e.g. 2025-01-15T18:00:00Z")
    hours: float = Field(gt=0, le=1e6)


class Site(_Model):
    """A data-centre site, fully resolved (reference figures merged with scenario overrides)."""

    name: str
    country: str = Field(description="ISO-2 code; the site lies in every zone that holds it")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    operator: str = "unknown"
    it_mw_contracted: float = Field(gt=0, le=1e4, description="IT power the operator may draw, MW")
    it_mw_campus: float | None = Field(None, gt=0, le=1e4)
    storage_pb_capacity: float = Field(gt=0, le=1e6, description="raw storage the site can hold, PB")
    online_date: Date
    pue: float = Field(ge=1.0, le=3.0)
    energy_price_eur_per_kwh: float = Field(ge=0, le=100)
    grid_gco2_per_kwh: float = Field(ge=0, le=5000)
    staff_fte: float = Field(0.0, ge=0, le=1e6, description="site operations staff")
    status: str = "unknown"
    source: str = ""
    outages: list[OutageWindow] = Field(default_factory=list, description="scheduled outages")
    mtbf_hours: float | None = Field(
        None, ge=1, le=1e7, description="mean time between random failures (one hour to ~1000 years)"
    )
    mttr_hours: float | None = Field(None, ge=0.01, le=1e5, description="mean time to repair a random failure")
    colocation_basis: Literal["contracted", "used"] | None = Field(
        None, description="what colocation is billed on at this site; default: costs.colocation_basis"
    )

    @model_validator(mode="after")
    def _mtbf_pair(self) -> Site:
        if (self.mtbf_hours is None) != (self.mttr_hours is None):
            raise ValueError("give both mtbf_hours and mttr_hours, or neither")
        return self


class PolicySpec(_Model):
    """Which placement, transfer and failover policies run, over which sites."""

    placement: str = Field(description="placement policy name (see sim.scenario.vocab.PLACEMENT_POLICIES)")
    sites: list[str] = Field(min_length=1, description="site ids the policy may use, in order of preference")
    transfer: Literal["open", "gateway", "strict"] = "gateway"
    failover: Literal[FAILOVER_MODES] = Field(  # type: ignore[valid-type]
        "in_zone",
        description="when a site is down: serve only from sites inside the zones of the users' residency-bound "
        "data ('in_zone'), or from anywhere",
    )
    failover_sites: list[str] = Field(
        default_factory=list, description="sites that only serve during failover (never hold placed data)"
    )
    start_placement: str | None = Field(
        None, description="policy that lays out the data at time.start (e.g. pre_clover), before `placement` takes over"
    )
    start_sites: list[str] = Field(default_factory=list, description="sites of the start placement")
    blocked_destinations: list[Literal[EXPORT_DESTINATIONS]] = Field(  # type: ignore[valid-type]
        default_factory=list, description="export destinations no transfer may reach (e.g. CN after the DPC order)"
    )
    weights: dict[Literal["cost", "carbon", "latency"], float] = Field(
        default_factory=lambda: {"cost": 1.0, "carbon": 0.0, "latency": 0.0},
        description="objective weights of the 'weighted' optimising policy",
    )
    max_rtt_ms_p95: float | None = Field(None, gt=0, le=1e5, description="p95 round-trip bound for every country (optimisers)")
    max_rtt_ms_p95_by_country: dict[str, float] = Field(
        default_factory=dict, description="per-country p95 round-trip bounds (override max_rtt_ms_p95)"
    )

    @field_validator("weights")
    @classmethod
    def _non_negative_weights(cls, v: dict[str, float]) -> dict[str, float]:
        if any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("weights must be >= 0 with a positive sum")
        return {"cost": 0.0, "carbon": 0.0, "latency": 0.0} | dict(v)

    @field_validator("placement", "start_placement")
    @classmethod
    def _known_policy(cls, v: str | None) -> str | None:
        if v is not None and v not in PLACEMENT_POLICIES:
            raise ValueError(f"unknown placement policy {v!r}; known: {sorted(PLACEMENT_POLICIES)}")
        return v


class LinkSpec(_Model):
    """Bandwidth between two sites, used by migration and re-replication (both directions)."""

    a: str
    b: str
    gbps: float = Field(gt=0, le=1e6, description="usable bandwidth each way, Gbit/s")


class LinkCut(_Model):
    """A network cut from ``start`` (UTC) for ``hours``.

    ``a``/``b`` name two sites (migration between them stops), or a site and ``"users"`` (the
    site is up but its users cannot reach it: requests fail over, data stays).
    """

    a: str
    b: str
    start: DateTime
    hours: float = Field(gt=0, le=1e6)


class AccessSpec(_Model):
    """Round trip a user's access network adds, by network type (lognormal by median and p95, ms)."""

    mobile_share: float = Field(0.0, ge=0, le=1, description="share of requests over mobile networks")
    mobile_share_by_country: dict[str, float] = Field(default_factory=dict, description="ISO-2 -> share")
    mobile_ms_median: float = Field(0.0, ge=0, le=1e4)
    mobile_ms_p95: float = Field(0.0, ge=0, le=1e4)
    fixed_ms_median: float = Field(0.0, ge=0, le=1e4)
    fixed_ms_p95: float = Field(0.0, ge=0, le=1e4)

    @field_validator("mobile_share_by_country")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {c: x for c, x in v.items() if not 0.0 <= x <= 1.0}
        if bad:
            raise ValueError(f"shares must be in [0, 1]: {bad}")
        return v

    @model_validator(mode="after")
    def _quantile_order(self) -> AccessSpec:
        for kind in ("mobile", "fixed"):
            if getattr(self, f"{kind}_ms_p95") < getattr(self, f"{kind}_ms_median"):
                raise ValueError(f"{kind}_ms_p95 must be >= {kind}_ms_median")
        return self


class NetworkSpec(_Model):
    """Round-trip model, transfer prices, inter-site links and cuts."""

    route_inflation: float = Field(ge=1.0, le=10.0, description="real route / great circle")
    access_overhead_ms: float = Field(ge=0, le=1e4, description="metro and server turnaround per round trip")
    access: AccessSpec = Field(default_factory=AccessSpec, description="the users' access networks")
    inter_site_eur_per_gb: float = Field(ge=0, le=1e3)
    internet_egress_eur_per_gb: float = Field(ge=0, le=1e3)
    default_link_gbps: float = Field(
        100.0, gt=0, le=1e6, description="bandwidth between two sites with no [[network.links]] entry (assumption)"
    )
    links: list[LinkSpec] = Field(default_factory=list)
    cuts: list[LinkCut] = Field(default_factory=list)
    migration_start: Date | None = Field(None, description="no data moves between sites before this day")


class ComputeSpec(_Model):
    """Servers that answer user requests."""

    core_s_per_request: float = Field(gt=0, le=1e4, description="compute per request, in CPU core seconds")
    server_cores: int = Field(gt=0, le=100_000, description="cores per server")
    server_idle_w: float = Field(ge=0, le=1e6, description="server power when idle, W")
    server_max_w: float = Field(gt=0, le=1e6, description="server power at full load, W")
    server_capex_eur: float = Field(ge=0, le=1e9, description="server price, EUR per server")
    server_amortisation_years: float = Field(gt=0, le=100, description="server life, years over which a server is written off")
    target_utilisation: float = Field(gt=0, le=1, description="server utilisation planned for, busy share of the cores")
    redundancy: Literal["none", "n_plus_1", "headroom"] = Field(
        "none",
        description="fleet sizing rule: 'none' sizes each site for its busiest step; 'n_plus_1' lets the "
        "other sites absorb any one site's peak; 'headroom' adds headroom_share to each site's peak",
    )
    headroom_share: float = Field(0.0, ge=0, le=2, description="extra fleet share with redundancy='headroom'")
    sizing_quantile: float = Field(
        1.0, gt=0.5, le=1.0, description="quantile of the steps' busy cores the fleet is sized for (1 = the busiest step)"
    )

    @model_validator(mode="after")
    def _power_order(self) -> ComputeSpec:
        if self.server_max_w < self.server_idle_w:
            raise ValueError("server_max_w must be >= server_idle_w")
        return self


class StorageSpec(_Model):
    """Disks and the servers around them."""

    w_per_tb: float = Field(ge=0, le=1e4, description="power per stored raw TB")
    capex_eur_per_tb: float = Field(ge=0, le=1e7, description="storage price, EUR per raw TB")
    amortisation_years: float = Field(gt=0, le=100, description="storage life, years over which disks are written off")


class CostSpec(_Model):
    """Prices that turn metered quantities into EUR per year."""

    colocation_eur_per_kw_month: float = Field(ge=0, le=1e6, description="colocation price, EUR per kW and month")
    colocation_basis: Literal["contracted", "used"] = Field(
        "contracted",
        description="colocation billed on the contracted IT MW (take-or-pay, the usual wholesale terms) "
        "or on the provisioned fleet's kW (a tenant share of a shared fleet)",
    )
    staff_eur_per_fte_year: float = Field(ge=0, le=1e8, description="staff cost, EUR per FTE and year")
    programme_staff_fte: float = Field(0.0, ge=0, le=1e7, description="central data-security organisation")
    reference_eur_per_year: float = Field(reference.CLOVER_COST_EUR_PER_YEAR, gt=0, le=1e13)
    reference_label: str = Field(
        "reference figure", min_length=1, max_length=80,
        description="what reference_eur_per_year is, as charts and reports name it (e.g. 'Published Clover figure')",
    )


class CompanySpec(_Model):
    """The organisation whose data the scenario places (its name appears in charts and reports)."""

    name: str = Field("", max_length=80, description="company name for texts; empty: a neutral 'the company'")

    @property
    def display_name(self) -> str:
        """The name texts use."""
        return self.name or "the company"


class Scenario(_Model):
    """A fully resolved scenario: every figure the run uses."""

    name: str
    description: str = ""
    seed: int = Field(0, ge=0, le=2**63 - 1)
    time: TimeSpec
    population: PopulationSpec
    countries: dict[str, CountrySpec] = Field(
        default_factory=dict, description="countries added to or overriding the bundled world table ([countries.XX])"
    )
    data_classes: dict[str, DataClassSpec] = Field(min_length=1)
    sites: dict[str, Site]
    policy: PolicySpec
    network: NetworkSpec
    compute: ComputeSpec
    storage: StorageSpec
    costs: CostSpec
    company: CompanySpec = Field(default_factory=CompanySpec)
    zones: dict[str, ZoneSpec] = Field(
        default_factory=lambda: {k: ZoneSpec.model_validate(v) for k, v in default_zones().items()},
        description="residency zones by name (the bundled eu, eea and europe unless replaced)",
    )
    gateway: GatewayConfig = Field(default_factory=GatewayConfig)
    sweep: SweepSpec | None = Field(None, description="a sweep over this scenario (clover-sim sweep)")
    uncertainty: UncertaintySpec | None = Field(
        None, description="distributions of uncertain inputs (clover-sim run --uncertainty N; see sim.scenario.uncertainty)"
    )
    observations: ObservationsSpec | None = Field(
        None, description="published KPI values with their uncertainty (clover-sim calibrate)"
    )

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        if not _NAME_RE.match(v) or ".." in v:
            raise ValueError(
                f"{v!r} is not a safe name: use letters, digits, '_', '-', '.', '+' (no '/', no '..'), "
                "since it names the results folder"
            )
        return v

    @field_validator("countries")
    @classmethod
    def _iso_codes(cls, v: dict[str, CountrySpec]) -> dict[str, CountrySpec]:
        bad = [c for c in v if not re.fullmatch(r"[A-Z]{2}", c)]
        if bad:
            raise ValueError(f"{bad}: a country is named by its ISO 3166-1 alpha-2 code (two capital letters)")
        return v

    @model_validator(mode="after")
    def _resolve_population(self) -> Scenario:
        codes, shares = resolve_population(self.population, self.country_table())
        object.__setattr__(self.population, "countries", codes)
        self.population._country_shares = shares
        return self

    def country_table(self) -> dict[str, reference.Country]:
        """Every country this scenario knows: the bundled world table with ``[countries.XX]`` merged in."""
        return merge_countries(self.countries)

    def user_countries(self) -> list[reference.Country]:
        """The countries of ``population.countries``, in its order, as resolved records (points included)."""
        table = self.country_table()
        return [table[c] for c in self.population.countries]

    @model_validator(mode="after")
    def _check_policy_sites(self) -> Scenario:
        if self.policy.start_placement is not None and not self.policy.start_sites:
            raise ValueError("policy.start_sites: start_placement needs the sites it places on")
        for field in ("sites", "failover_sites", "start_sites"):
            for site_id in getattr(self.policy, field):
                if site_id not in self.sites:
                    raise ValueError(f"policy.{field}: unknown site {site_id!r}; known: {sorted(self.sites)}")
        if len(set(self.policy.sites)) != len(self.policy.sites):
            raise ValueError("policy.sites lists a site twice")
        self._check_residency()
        for i, link in enumerate(self.network.links):
            for end in (link.a, link.b):
                if end not in self.sites:
                    raise ValueError(f"network.links.{i}: unknown site {end!r}; known: {sorted(self.sites)}")
        if self.gateway.enabled and self.gateway.warmup_s >= self.horizon_s:
            raise ValueError(
                f"gateway.warmup_s ({self.gateway.warmup_s:g} s) must be shorter than the horizon "
                f"({self.horizon_s:g} s); lengthen time.horizon_days or shorten the warm-up"
            )
        self._check_gateway_figures()
        for i, cut in enumerate(self.network.cuts):
            if cut.a not in self.sites or (cut.b not in self.sites and cut.b != "users"):
                raise ValueError(f"network.cuts.{i}: ends must be site ids (or 'users' for b); got {cut.a!r}, {cut.b!r}")
        return self

    def _check_gateway_figures(self) -> None:
        """A gateway states the cost of what it has, and the transfer figures its exports need (no default).

        Reviewers and inspection nodes are paid at the scenario's stated yearly cost
        (:meth:`GatewayConfig.missing_cost`). The exports of a residency-bound class to a destination outside its zone (``home``: any
        destination) become transfer jobs of the gateway: their size is needed, and unless the
        transfer policy is ``open`` also inspection nodes, their throughput and approval rate
        (:meth:`GatewayConfig.transfers_problem`; the message names the missing field).
        """
        if not self.gateway.enabled:
            return
        problem = self.gateway.missing_cost()
        if problem:
            raise ValueError(problem)
        leaving = sorted(
            f"{name} to {dc.export_destination}" for name, dc in self.data_classes.items()
            if dc.export_share > 0 and dc.write_gb_per_dau_per_day > 0
            and dc.export_destination not in self.policy.blocked_destinations
            and not (self.policy.transfer == "strict" and dc.protected)
            and dc.residency != ANY
            and (dc.residency == HOME or dc.export_destination not in self.zone_countries[dc.residency])
        )
        if leaving:
            problem = self.gateway.transfers_problem(
                f"exports ({', '.join(leaving)}) leave their zone through the gateway",
                inspected=self.policy.transfer != "open")
            if problem:
                raise ValueError(problem)

    def _check_residency(self) -> None:
        """Zones resolve, every class names a known residency, and the policy's sites can hold it.

        Placements that respect residency (every policy but the legacy ``pre_clover``) need, for
        each residency-bound class and each user country, a site of ``policy.sites`` inside the
        class's zone (``home``: in that country). The rule-based ``clover`` and ``nearest_in_zone``
        also keep a user's data together (every class on sites inside the zones of all of that
        user's bound classes) with at most one copy per site, so a class asking for more copies
        than those sites, or for copies in distinct countries while two of the sites share a
        country, cannot be served as asked. The optimising policies explain their own
        infeasibility when they run (:mod:`sim.model.placement.infeasibility`).
        """
        zones = self.zone_countries
        for name, dc in self.data_classes.items():
            if dc.residency not in zones and dc.residency not in (HOME, ANY):
                raise ValueError(
                    f"data_classes.{name}.residency: unknown zone {dc.residency!r}; use 'home', 'any' or a zone: "
                    f"{sorted(zones)} (add one as [zones.NAME] countries = [...])"
                )
        placement = self.policy.placement
        if placement == "pre_clover":
            return
        sites = self.policy.sites
        where_site = {s: self.sites[s].country for s in sites}

        def inside(site: str, rule: str, user: str) -> bool:
            return where_site[site] == user if rule == HOME else where_site[site] in zones[rule]

        for c in self.population.countries:
            ok = {name: [s for s in sites if inside(s, dc.residency, c)]
                  for name, dc in self.data_classes.items() if bound(dc.residency)}
            for name, usable in ok.items():
                if not usable:
                    rule = self.data_classes[name].residency
                    where = f"in {c} (its residency is 'home')" if rule == HOME else f"in zone {rule!r}"
                    raise ValueError(
                        f"data_classes.{name}.residency: {name} of users in {c} must stay {where}, but no site of "
                        f"policy.sites ({', '.join(sites)}) lies there; add a site there or change the residency"
                    )
            if placement not in IN_ZONE_POLICIES:
                continue
            together = [s for s in sites if all(s in v for v in ok.values())]
            if not together:
                raise ValueError(
                    f"policy.placement: {placement} keeps a user's data together, but no site of policy.sites lies in the "
                    f"zones of every residency-bound class of users in {c} ({', '.join(ok)}); use an optimising "
                    "placement (e.g. cost_optimal) or widen a zone"
                )
            per_country = HOME in {d.residency for d in self.data_classes.values()}
            where = f"for users in {c}" if per_country else "in policy.sites"
            for name, dc in self.data_classes.items():
                usable = ok.get(name, together)
                if dc.replicas > len(usable):
                    raise ValueError(
                        f"data_classes.{name}.replicas: {name} needs {dc.replicas} copies on distinct sites, but the "
                        f"{placement} placement has {len(usable)} {where} it may use ({', '.join(usable)}); "
                        "lower replicas or add sites"
                    )
                countries = sorted({self.sites[s].country for s in usable})
                if dc.distinct_countries and dc.replicas > 1 and len(countries) < len(usable):
                    raise ValueError(
                        f"data_classes.{name}.distinct_countries: the {placement} placement spreads {name}'s "
                        f"{dc.replicas} copies over the sites of policy.sites it may use ({', '.join(usable)}), which "
                        f"are in only {len(countries)} countries ({', '.join(countries)}); drop the extra sites of one "
                        "country, use an optimising placement (e.g. cost_optimal) or set distinct_countries = false"
                    )

    @property
    def zone_countries(self) -> dict[str, frozenset[str]]:
        """Every zone's full set of ISO-2 codes (``includes`` resolved)."""
        key = tuple((n, tuple(z.countries), tuple(z.includes)) for n, z in self.zones.items())
        return _resolved(key, frozenset(known_country_codes(self)))

    def site_in_residency(self, site: str, residency: str, user_country: str) -> bool:
        """Whether ``site`` may hold class bytes of a user in ``user_country`` under ``residency``."""
        country = self.sites[site].country
        if residency == ANY:
            return True
        if residency == HOME:
            return country == user_country
        return country in self.zone_countries[residency]

    @property
    def world_sites(self) -> list[str]:
        """Sites of the running world: the policy's, the start layout's, then failover-only sites."""
        return list(dict.fromkeys([*self.policy.sites, *self.policy.start_sites, *self.policy.failover_sites]))

    @property
    def start_utc(self) -> dt.datetime:
        """Start of the run as a UTC datetime."""
        return dt.datetime(self.time.start.year, self.time.start.month, self.time.start.day, tzinfo=dt.UTC)

    @property
    def horizon_s(self) -> float:
        """Length of the run in seconds."""
        return self.time.horizon_days * 86400.0


@functools.lru_cache(maxsize=64)
def _resolved(key: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...], known: frozenset[str]) -> dict[str, frozenset[str]]:
    zones = {n: ZoneSpec(countries=list(c), includes=list(i)) for n, c, i in key}
    return resolve_zones(zones, known)


def known_country_codes(scenario: Scenario) -> set[str]:
    """ISO-2 codes a zone may name: the world table, the scenario's own countries, every site's country, export regions."""
    codes = set(reference.countries()) | set(scenario.countries)
    codes |= {str(r.get("country")) for r in reference.site_records().values() if r.get("country")}
    codes |= {site.country for site in scenario.sites.values()}
    codes |= {d for d in EXPORT_DESTINATIONS if len(d) == 2}
    return codes


# ----------------------------------------------------------------------------------------------
# Loading


