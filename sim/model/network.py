"""Network: round trips between countries and sites.

Round trip = 2 x great-circle distance x route inflation / (200 km per ms) + access overhead,
never below the fibre minimum (see :mod:`sim.model.geo`). The flow records of transfers are
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


def _distances_km(scenario: Scenario, sites: list[str]) -> NDArray[np.float64]:
    table = reference.countries()
    clat = np.array([table[c].lat for c in scenario.population.countries])
    clon = np.array([table[c].lon for c in scenario.population.countries])
    slat = np.array([scenario.sites[s].lat for s in sites])
    slon = np.array([scenario.sites[s].lon for s in sites])
    return geo.great_circle_km(clat[:, None], clon[:, None], slat[None, :], slon[None, :])


def rtt_matrix_ms(scenario: Scenario, sites: list[str]) -> NDArray[np.float64]:
    """(C, S) modelled round trip from each scenario country to each site, ms."""
    net = scenario.network
    return geo.rtt_ms(_distances_km(scenario, sites), net.route_inflation, net.access_overhead_ms)


def fibre_min_matrix_ms(scenario: Scenario, sites: list[str]) -> NDArray[np.float64]:
    """(C, S) physical floor of the round trip (light in fibre on the great circle), ms."""
    return geo.fibre_min_rtt_ms(_distances_km(scenario, sites))
