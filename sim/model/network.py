"""Network: round trips between countries and sites, and the flow records of every transfer.

Round trip = 2 x great-circle distance x route inflation / (200 km per ms) + access overhead,
never below the fibre minimum (see :mod:`sim.model.geo`). A flow is one aggregated record of bytes
moving from a source (country or site) to a destination (country, site or export region) for
one data class in one period; it crosses the EEA border when exactly one end is in the EEA.

Units: ms for round trips, GB for flow volumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sim import reference

from sim.model import geo
from sim.scenario import Scenario

__all__ = ["FLOW_KINDS", "EXPORT_REGION_EEA", "rtt_matrix_ms", "fibre_min_matrix_ms", "FlowLog", "endpoint_in_eea"]

#: Kinds of flow: user uploads to each site holding a copy, reads served to users, copies made
#: between sites, data moved between sites on a placement change, exports out of the EEA.
FLOW_KINDS = ("ingest", "read", "replication", "migration", "export")

#: Export destinations that are inside the EEA (all others are outside).
EXPORT_REGION_EEA = frozenset({"EEA"})


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


def endpoint_in_eea(scenario: Scenario, name: str) -> bool:
    """Whether a flow endpoint (country code, site id or export region) lies in the EEA."""
    if name in scenario.sites:
        return scenario.sites[name].jurisdiction == "EEA"
    table = reference.countries()
    if name in table:
        return table[name].eea
    return name in EXPORT_REGION_EEA


@dataclass
class FlowLog:
    """Accumulates flow records in vectorised batches (model code writes, results read).

    Each record: period start (s), source, destination, data class, kind, GB.
    """

    chunks: list[dict[str, NDArray]] = field(default_factory=list)

    def add(
        self,
        period_s: NDArray[np.float64] | float,
        source: NDArray | str,
        destination: NDArray | str,
        data_class: NDArray | str,
        kind: str,
        gb: NDArray[np.float64] | float,
    ) -> None:
        """Record a batch of flows (arguments broadcast together); zero volumes are dropped."""
        gb_arr = np.asarray(gb, dtype=float)
        arrays = np.broadcast_arrays(
            np.asarray(period_s, dtype=float),
            np.asarray(source, dtype=object),
            np.asarray(destination, dtype=object),
            np.asarray(data_class, dtype=object),
            gb_arr,
        )
        keep = arrays[4] > 0.0
        if not keep.any():
            return
        self.chunks.append(
            {
                "period_s": arrays[0][keep].ravel(),
                "source": arrays[1][keep].ravel(),
                "destination": arrays[2][keep].ravel(),
                "data_class": arrays[3][keep].ravel(),
                "kind": np.full(int(keep.sum()), kind, dtype=object),
                "gb": arrays[4][keep].ravel(),
            }
        )

    def columns(self) -> dict[str, NDArray]:
        """All records as column arrays (empty arrays when nothing was recorded)."""
        names = ("period_s", "source", "destination", "data_class", "kind", "gb")
        if not self.chunks:
            return {n: np.array([], dtype=float if n in ("period_s", "gb") else object) for n in names}
        return {n: np.concatenate([c[n] for c in self.chunks]) for n in names}
