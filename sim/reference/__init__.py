"""Bundled reference tables: the 32 European countries and the candidate data-centre sites.

The tables in ``sim/data/`` are built from the project's public reference facts; every row carries
a ``source`` column that says where each figure comes from or that it is an assumption. Blank
cells are figures nobody has published (for example the share of the Dublin campus that TikTok
uses); a scenario must supply them and label them as assumptions.

Units: population in millions, coordinates in decimal degrees, UTC offsets in hours, energy
price in EUR per kWh, grid intensity in grams CO2 per kWh, power in MW.
"""

from __future__ import annotations

import csv
import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = [
    "Country",
    "countries",
    "site_records",
    "default_mau_shares",
    "PUBLISHED_MAU_M",
    "CLOVER_COST_EUR_PER_YEAR",
    "zone_records",
]

#: Published yearly operating cost of Project Clover once running (P/S, announcement 2023-03-08).
CLOVER_COST_EUR_PER_YEAR = 1.2e9

#: Monthly active users per member state, Oct 2023 (S). Other countries are unpublished and are
#: distributed by population (see :func:`default_mau_shares`).
PUBLISHED_MAU_M: dict[str, float] = {"FR": 21.4, "DE": 20.9, "IT": 19.7}


@dataclass(frozen=True)
class Country:
    """One country of the European user base.

    Attributes:
        iso2: ISO 3166-1 alpha-2 code.
        name: English short name.
        region: EU, EEA (non-EU EEA), UK or CH.
        eea: True if the country is in the European Economic Area.
        population_m: population in millions (2024).
        lat: latitude of the reference point (capital), degrees.
        lon: longitude of the reference point (capital), degrees.
        utc_offset_std_h: standard-time UTC offset in hours.
        observes_dst: True if the EU summer-time rule applies.
        source: where the figures come from.
    """

    iso2: str
    name: str
    region: str
    eea: bool
    population_m: float
    lat: float
    lon: float
    utc_offset_std_h: float
    observes_dst: bool
    source: str


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("sim.reference.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def zone_records() -> dict[str, dict[str, Any]]:
    """Return the bundled residency zones (``zones.toml``): ``{name: {countries, includes, label}}``.

    A fresh dict per call; the scenario layer resolves ``includes`` and checks the codes.
    """
    text = resources.files("sim.reference.data").joinpath("zones.toml").read_text(encoding="utf-8")
    return {name: dict(zone) for name, zone in tomllib.loads(text)["zones"].items()}


@functools.cache
def countries() -> dict[str, Country]:
    """Return the 32 reference countries (EU-27, NO, IS, LI, GB, CH) keyed by ISO-2 code."""
    out: dict[str, Country] = {}
    for row in _read_csv("countries.csv"):
        out[row["iso2"]] = Country(
            iso2=row["iso2"],
            name=row["name"],
            region=row["region"],
            eea=row["eea"] == "true",
            population_m=float(row["population_m_2024"]),
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            utc_offset_std_h=float(row["utc_offset_std_h"]),
            observes_dst=row["observes_dst"] == "true",
            source=row["source"],
        )
    return out


_SITE_FLOATS = (
    "lat",
    "lon",
    "it_mw_contracted",
    "it_mw_campus",
    "pue",
    "energy_price_eur_per_kwh",
    "grid_gco2_per_kwh",
)


@functools.cache
def _site_rows() -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
    rows = []
    for row in _read_csv("sites.csv"):
        record: dict[str, Any] = {}
        for key, value in row.items():
            if key == "id" or value == "":
                continue
            record[key] = float(value) if key in _SITE_FLOATS else value
        rows.append((row["id"], tuple(record.items())))
    return tuple(rows)


def site_records() -> dict[str, dict[str, Any]]:
    """Return the reference sites keyed by id, with unpublished figures left out.

    Returns:
        A fresh dict per call: ``{site_id: {field: value}}``. Fields missing from a record were
        not published and must come from the scenario.
    """
    return {site_id: dict(items) for site_id, items in _site_rows()}


def default_mau_shares(codes: list[str] | None = None, total_mau: float = 150e6) -> dict[str, float]:
    """Share of monthly active users per country.

    The published per-country counts (:data:`PUBLISHED_MAU_M`) are kept as they are; the rest of
    ``total_mau`` is spread over the other countries in proportion to population (the reference
    facts' stated rule for unpublished countries).

    Args:
        codes: ISO-2 codes to include (default: all 32).
        total_mau: total MAU over ``codes``; needed to turn published counts into shares.

    Returns:
        ``{iso2: share}`` summing to 1.

    Raises:
        ValueError: if the published counts alone exceed ``total_mau``.
    """
    table = countries()
    codes = list(table) if codes is None else codes
    published = {c: PUBLISHED_MAU_M[c] * 1e6 for c in codes if c in PUBLISHED_MAU_M}
    rest = total_mau - sum(published.values())
    if rest < 0:
        raise ValueError(
            f"published MAU of {sorted(published)} exceed total MAU {total_mau:.0f}; raise population.mau"
        )
    others = [c for c in codes if c not in published]
    pop = sum(table[c].population_m for c in others)
    shares = {c: published[c] / total_mau for c in published}
    for c in others:
        shares[c] = rest / total_mau * table[c].population_m / pop if pop > 0 else 0.0
    return {c: shares[c] for c in codes}
