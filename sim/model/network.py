"""Network: round trips between countries and sites.

Round trip = 2 x great-circle distance x route inflation / (200 km per ms) + access overhead,
never below the fibre minimum (see :mod:`sim.model.geo`), from each population point of a
country; a country's round trip to a site is the mean over its points weighted by their shares. The flow records of transfers are
meters (:mod:`sim.meters.flows`).

Units: km for distances, ms for round trips.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim import reference
from sim.model import geo
from sim.scenario import Scenario

__all__ = ["rtt_matrix_ms", "fibre_min_matrix_ms"]


def _point_distances_km(scenario: Scenario, sites: list[str]) -> tuple[NDArray[np.float64], list[reference.Country]]:
    """(P, S) great-circle distance from every population point of the user countries to each site."""
    countries = scenario.user_countries()
    plat = np.array([p.lat for c in countries for p in c.points])
    plon = np.array([p.lon for c in countries for p in c.points])
    slat = np.array([scenario.sites[s].lat for s in sites])
    slon = np.array([scenario.sites[s].lon for s in sites])
    return geo.great_circle_km(plat[:, None], plon[:, None], slat[None, :], slon[None, :]), countries


def _by_country(per_point: NDArray[np.float64], countries: list[reference.Country]) -> NDArray[np.float64]:
    """(C, S) share-weighted mean over each country's points of a (P, S) figure."""
    out = np.zeros((len(countries), per_point.shape[1]))
    first = 0
    for c, country in enumerate(countries):
        for k, p in enumerate(country.points):
            out[c] += p.share * per_point[first + k]
        first += len(country.points)
    return out


def rtt_matrix_ms(scenario: Scenario, sites: list[str]) -> NDArray[np.float64]:
    """(C, S) modelled round trip from each scenario country to each site, ms.

    A country with several population points gets the share-weighted mean of its points' round trips.
    """
    net = scenario.network
    d, countries = _point_distances_km(scenario, sites)
    return _by_country(geo.rtt_ms(d, net.route_inflation, net.access_overhead_ms), countries)


def fibre_min_matrix_ms(scenario: Scenario, sites: list[str]) -> NDArray[np.float64]:
    """(C, S) physical floor of the round trip (light in fibre on the great circle), ms; weighted over points."""
    d, countries = _point_distances_km(scenario, sites)
    return _by_country(geo.fibre_min_rtt_ms(d), countries)
