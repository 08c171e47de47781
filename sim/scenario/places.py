"""Where a place named in a scenario lies with respect to residency zones (pure queries on scenario data).

A flow endpoint is a country code, a site id or an export region (``"US"``, ``"SG"``, ``"CN"``,
``"other"``); a site lies in its country, and a place lies in a zone if its country is one of the
zone's. ``"other"`` lies outside every zone.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.scenario.schema import Scenario
from sim.scenario.zones import ANY, HOME

__all__ = ["endpoint_country", "endpoint_in_residency", "residency_mask", "zones_of_country", "in_enclave"]


def endpoint_country(scenario: Scenario, name: str) -> str | None:
    """ISO-2 country of a flow endpoint (site id, country code or export region); None for ``"other"``."""
    if name in scenario.sites:
        return scenario.sites[name].country
    return name if len(name) == 2 and name.isupper() else None


def endpoint_in_residency(scenario: Scenario, name: str, residency: str, user_country: str | None = None) -> bool:
    """Whether a flow endpoint lies inside a residency rule (a zone, ``"home"`` of ``user_country``, ``"any"``)."""
    if residency == ANY:
        return True
    country = endpoint_country(scenario, name)
    if country is None:
        return False
    if residency == HOME:
        return country == user_country
    return country in scenario.zone_countries[residency]


def zones_of_country(scenario: Scenario, country: str) -> list[str]:
    """Every zone (sorted) that holds ``country``: a site's zones are its country's."""
    return sorted(z for z, codes in scenario.zone_countries.items() if country in codes)


def residency_mask(scenario: Scenario, countries: list[str], classes: list[str], sites: list[str]) -> NDArray[np.bool_]:
    """(C, K, S): True where country c's class-k bytes may lie at site s under the class's residency."""
    out = np.ones((len(countries), len(classes), len(sites)), dtype=bool)
    site_country = [scenario.sites[s].country for s in sites]
    for k, name in enumerate(classes):
        rule = scenario.data_classes[name].residency
        if rule == ANY:
            continue
        if rule == HOME:
            out[:, k, :] = np.array(countries, dtype=object)[:, None] == np.array(site_country, dtype=object)[None, :]
        else:
            codes = scenario.zone_countries[rule]
            out[:, k, :] = np.array([sc in codes for sc in site_country], dtype=bool)[None, :]
    return out


def in_enclave(scenario: Scenario, site: str) -> bool:
    """Whether a site lies inside the zone of every residency-bound class for some user country.

    The sites the rule-based placements (``clover``, ``nearest_in_zone``) may use; a scenario
    without a residency-bound class has every site in its enclave.
    """
    return any(
        all(scenario.site_in_residency(site, d.residency, c) for d in scenario.data_classes.values() if d.residency != ANY)
        for c in scenario.population.countries
    )
