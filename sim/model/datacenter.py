"""Data-centre sites: when they come online, and how much IT power their work draws.

A site's compute fleet is sized for the busiest step of the run: servers = ceil(peak busy cores /
(cores per server x target utilisation)). IT power at each step = servers x idle power + busy
cores x (max - idle) power per core + stored raw TB x storage power per TB. Facility power is IT
power x PUE.

Units: W per server/core/TB, kW and MW for power, kWh for energy, TB for stored bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import simpy
from numpy.typing import NDArray

from sim.scenario import ComputeSpec, Scenario, Site, StorageSpec

__all__ = ["DataCenter", "provisioned_servers", "it_power_kw"]


@dataclass
class DataCenter:
    """One site in the running world.

    Attributes:
        site_id: the scenario's id for the site.
        spec: the resolved site figures.
        online_s: when it can take load, s from the run start (<= 0: from the start).
        online: whether it has come online.
        down: number of outages in progress (0 = up).
    """

    site_id: str
    spec: Site
    online_s: float
    online: bool = False
    down: int = 0

    @classmethod
    def from_scenario(cls, scenario: Scenario, site_id: str) -> DataCenter:
        """Build the component for ``site_id``."""
        spec = scenario.sites[site_id]
        online_s = (spec.online_date - scenario.time.start).days * 86400.0
        return cls(site_id, spec, online_s, online=online_s <= 0.0)

    def lifecycle(self, env: simpy.Environment, on_change: Callable[[], None]) -> Generator[simpy.Event, None, None]:
        """SimPy process: bring the site online at its date and tell the world."""
        if self.online:
            return
        yield env.timeout(self.online_s)
        self.online = True
        on_change()


def provisioned_servers(peak_busy_cores: NDArray[np.float64], compute: ComputeSpec) -> NDArray[np.float64]:
    """Servers per site needed so the busiest step runs at the target utilisation."""
    per_server = compute.server_cores * compute.target_utilisation
    return np.ceil(np.asarray(peak_busy_cores, dtype=float) / per_server - 1e-9)


def it_power_kw(
    servers: NDArray[np.float64],
    busy_cores: NDArray[np.float64],
    stored_tb: NDArray[np.float64],
    compute: ComputeSpec,
    storage: StorageSpec,
) -> NDArray[np.float64]:
    """IT power per step and site, kW.

    Args:
        servers: (S,) provisioned servers.
        busy_cores: (T, S) mean busy cores in each step.
        stored_tb: (T, S) raw stored TB (all copies).
        compute: server power figures.
        storage: storage power per TB.
    """
    dynamic_w_per_core = (compute.server_max_w - compute.server_idle_w) / compute.server_cores
    watts = servers[None, :] * compute.server_idle_w + busy_cores * dynamic_w_per_core + stored_tb * storage.w_per_tb
    return watts / 1000.0
