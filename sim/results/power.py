"""Fleet and IT power of a site, from its metered load (pure functions).

A site's compute fleet is sized for the busiest step of the run: servers = ceil(peak busy cores /
(cores per server x target utilisation)). IT power at each step = servers x idle power + busy
cores x (max - idle) power per core + stored raw TB x storage power per TB. Facility power is IT
power x PUE.

Units: W per server/core/TB, kW and MW for power, kWh for energy, TB for stored bytes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.scenario import ComputeSpec, StorageSpec

__all__ = ["provisioned_servers", "required_busy_cores", "it_power_kw"]


def provisioned_servers(peak_busy_cores: NDArray[np.float64], compute: ComputeSpec) -> NDArray[np.float64]:
    """Servers per site needed so the busiest step runs at the target utilisation."""
    per_server = compute.server_cores * compute.target_utilisation
    return np.ceil(np.asarray(peak_busy_cores, dtype=float) / per_server - 1e-9) + 0.0  # no -0.0


def required_busy_cores(
    nominal_peak_cores: NDArray[np.float64], compute: ComputeSpec, contracted_mw: NDArray[np.float64]
) -> NDArray[np.float64]:
    """(S,) busy cores each site's fleet must carry under the sizing rule ``compute.redundancy``.

    * ``none``: nothing beyond the busiest step metered (the fleet is sized for that alone);
    * ``headroom``: each site's own peak had every site been up, x (1 + ``headroom_share``);
    * ``n_plus_1``: each site's own peak plus the largest peak of any one other site, up to
      what its contracted IT power can run (failover never sends a site more than that), so
      the loss of any single site is absorbed without a larger fleet.

    Args:
        nominal_peak_cores: (S,) busiest step of each site had every site been up.
        compute: the sizing rule and the servers' power and cores.
        contracted_mw: (S,) contracted IT power of each site.
    """
    peak = np.asarray(nominal_peak_cores, dtype=float)
    if compute.redundancy == "none":
        return np.zeros_like(peak)
    if compute.redundancy == "headroom":
        return peak * (1.0 + compute.headroom_share)
    cores_per_mw = 1e6 / compute.server_max_w * compute.server_cores * compute.target_utilisation
    largest_other = np.array([np.delete(peak, s).max(initial=0.0) for s in range(len(peak))])
    return np.maximum(peak, np.minimum(peak + largest_other, np.asarray(contracted_mw, dtype=float) * cores_per_mw))


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
