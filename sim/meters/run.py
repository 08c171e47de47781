"""The meters of one replication: arrays the model writes during a run, read by the results layer.

Model code only adds to these arrays; tables and KPIs are derived afterwards by pure functions
(:mod:`sim.results`), so every figure in the results can be traced back to a metered quantity.

Shapes: T steps, C countries, K data classes, S sites. Units in the names (GB, s, requests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.meters.flows import FlowLog
from sim.meters.gateway import GatewayRun, GatewayTally

__all__ = ["Meters"]


@dataclass
class Meters:
    """Everything one replication measured.

    Attributes:
        countries, classes, sites: labels of the C, K, S axes.
        edges_s: (T+1,) step edges, s from the start.
        requests: (T, C) user requests per step.
        mau: (T, C) monthly active users per step.
        busy_core_s: (T, S) core-seconds of compute per step.
        nominal_busy_core_s: (T, S) core-seconds each site would have served had every site been
            up (the placement's own serving shares, before failover); None: as ``busy_core_s``.
        stored_gb: (T, K, S) stored bytes (all copies) at the end of each step.
        initial_gb: (K, S) stored at the start.
        written_gb: (K, S) user writes (all copies).
        replicated_gb: (K, S) copies made between sites on placement changes.
        deleted_gb: (K, S) removed by retention.
        dropped_gb: (K, S) surplus copies removed on placement changes.
        moved_in_gb, moved_out_gb: (K, S) migrated on placement changes.
        export_blocked_gb: (K,) exports stopped by the transfer policy.
        served_requests: (C, S) requests per country served by each site (failover included).
        failover_requests: (C, S) requests served by a site only because another was down.
        unserved_requests: (C,) requests nobody could serve.
        violation_requests: requests served at a site outside the zone of a residency-bound class of
            their users (failover, the placement or an interim layout).
        violation_gb: (K,) bytes of residency-bound classes read from or written to sites outside
            the class's zone.
        final_stock_gb: (C, K, S) stored at the end, by origin country.
        rtt_ms: (C, S) modelled round trips.
        fibre_min_ms: (C, S) physical floor of those round trips.
        flows: every transfer, aggregated by month.
        placement_changes_s: times the placement changed (0 = the first decision).
        pending_migration_gb: bytes still waiting to cross a link at the end.
        gateway: the gateway's tally (or its full record), None until the gateway has run.
    """

    countries: list[str]
    classes: list[str]
    sites: list[str]
    edges_s: NDArray[np.float64]
    requests: NDArray[np.float64]
    mau: NDArray[np.float64]
    busy_core_s: NDArray[np.float64]
    stored_gb: NDArray[np.float64]
    initial_gb: NDArray[np.float64]
    written_gb: NDArray[np.float64]
    replicated_gb: NDArray[np.float64]
    deleted_gb: NDArray[np.float64]
    dropped_gb: NDArray[np.float64]
    moved_in_gb: NDArray[np.float64]
    moved_out_gb: NDArray[np.float64]
    export_blocked_gb: NDArray[np.float64]
    served_requests: NDArray[np.float64]
    failover_requests: NDArray[np.float64]
    unserved_requests: NDArray[np.float64]
    violation_requests: float
    violation_gb: NDArray[np.float64]
    final_stock_gb: NDArray[np.float64]
    rtt_ms: NDArray[np.float64]
    fibre_min_ms: NDArray[np.float64]
    flows: FlowLog
    placement_changes_s: list[float]
    pending_migration_gb: float
    gateway: GatewayTally | GatewayRun | None
    nominal_busy_core_s: NDArray[np.float64] | None = None

    @property
    def dt_s(self) -> NDArray[np.float64]:
        """(T,) step lengths, s."""
        return np.diff(self.edges_s)

    @property
    def horizon_s(self) -> float:
        """Length of the run, s."""
        return float(self.edges_s[-1] - self.edges_s[0])

    @property
    def busy_cores(self) -> NDArray[np.float64]:
        """(T, S) mean busy cores in each step."""
        return self.busy_core_s / self.dt_s[:, None]

    @property
    def nominal_busy_cores(self) -> NDArray[np.float64]:
        """(T, S) mean busy cores in each step had every site been up."""
        busy = self.busy_core_s if self.nominal_busy_core_s is None else self.nominal_busy_core_s
        return busy / self.dt_s[:, None]
