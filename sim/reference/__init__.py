"""Bundled reference tables: every ISO 3166-1 country with its population points, and the candidate sites.

The tables in ``sim/reference/data/`` are built from public-domain data by
``tools/build_world_countries.py`` (countries) and from the project's public reference facts
(sites); every row carries a ``source`` column that says where each figure comes from or that it
is an assumption. Blank cells are figures nobody has published (for example the share of the
Dublin campus that TikTok uses, or the population of a territory Natural Earth leaves out); a
scenario must supply them and label them as assumptions.

A country has one or more population points (its capital, or for a large country its largest
cities or regions), each with a share of the country's users, a standard UTC offset and a
daylight-saving rule (:data:`DST_RULES`). Company figures (users per country) are not reference
data: they belong to the scenarios, with their sources.

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
    "Point",
    "DST_RULES",
    "countries",
    "european_codes",
    "site_records",
    "CLOVER_COST_EUR_PER_YEAR",
    "zone_records",
]

#: Published yearly operating cost of Project Clover once running (P/S, announcement 2023-03-08).
CLOVER_COST_EUR_PER_YEAR = 1.2e9

#: Daylight-saving rules a population point may follow (see :func:`sim.model.traffic.summer_time`):
#: ``eu`` last Sunday of March to last Sunday of October at 01:00 UTC; ``us`` second Sunday of
#: March to first Sunday of November at 02:00 local time; ``south`` (southern hemisphere,
#: approximated for every southern country) first Sunday of October to first Sunday of April at
#: 02:00 local standard time; ``none``.
DST_RULES = ("eu", "us", "south", "none")

#: Regions of the 32 European reference countries (the Clover user base: EEA + UK + CH).
_EUROPEAN_REGIONS = ("EU", "EEA", "UK", "CH")


@dataclass(frozen=True)
class Point:
    """One population point of a country: where a share of its users live, and their clock.

    Attributes:
        name: label (city or region).
        lat: latitude, degrees.
        lon: longitude, degrees.
        share: share of the country's users at this point (a country's shares sum to 1).
        utc_offset_std_h: standard-time UTC offset in hours.
        dst: daylight-saving rule, one of :data:`DST_RULES`.
    """

    name: str
    lat: float
    lon: float
    share: float
    utc_offset_std_h: float
    dst: str


@dataclass(frozen=True)
class Country:
    """One country of the world table.

    Attributes:
        iso2: ISO 3166-1 alpha-2 code.
        name: English short name.
        region: EU, EEA (non-EU EEA), UK or CH for the 32 European reference countries, else the
            continent of its main time zone.
        eea: True if the country is in the European Economic Area.
        population_m: population in millions; None where the table has no figure.
        lat: latitude of the reference point (capital or main city), degrees.
        lon: longitude of the reference point, degrees.
        points: population points (at least one; shares sum to 1).
        source: where the figures come from.
    """

    iso2: str
    name: str
    region: str
    eea: bool
    population_m: float | None
    lat: float
    lon: float
    points: tuple[Point, ...]
    source: str

    @property
    def utc_offset_std_h(self) -> float:
        """Standard-time UTC offset of the first point, hours."""
        return self.points[0].utc_offset_std_h

    @property
    def observes_dst(self) -> bool:
        """True if the first point follows the EU summer-time rule."""
        return self.points[0].dst == "eu"


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
    """Return every ISO 3166-1 country of the bundled world table, keyed by ISO-2 code."""
    points: dict[str, list[Point]] = {}
    for row in _read_csv("world_points.csv"):
        points.setdefault(row["iso2"], []).append(Point(
            name=row["point"], lat=float(row["lat"]), lon=float(row["lon"]), share=float(row["share"]),
            utc_offset_std_h=float(row["utc_offset_std_h"]), dst=row["dst"],
        ))
    out: dict[str, Country] = {}
    for row in _read_csv("world_countries.csv"):
        out[row["iso2"]] = Country(
            iso2=row["iso2"],
            name=row["name"],
            region=row["region"],
            eea=row["eea"] == "true",
            population_m=float(row["population_m"]) if row["population_m"] else None,
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            points=tuple(points[row["iso2"]]),
            source=row["source"],
        )
    return out


@functools.cache
def european_codes() -> tuple[str, ...]:
    """The 32 European reference countries (EU-27, NO, IS, LI, GB, CH) in the table's order.

    The table lists them first, in the order of the shared reference facts (EU-27, then EEA, UK,
    CH); that order is the default ``population.countries`` and fixes the columns of a run.
    """
    return tuple(c for c, country in countries().items() if country.region in _EUROPEAN_REGIONS)


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
