"""Meters the model components write during a run, and the tidy tables made from them.

Model code only adds to these arrays; tables and KPIs are derived afterwards by pure functions,
so every figure in the results can be traced back to a metered quantity.

Shapes: T steps, C countries, K data classes, S sites. Units in the names (GB, s, requests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.model.gateway import GatewayRun
from sim.model.network import FlowLog

__all__ = ["Meters", "placement_table", "transfers_table", "latency_table", "weighted_quantile", "conservation_gap_gb"]


@dataclass
class Meters:
    """Everything one replication measured.

    Attributes:
        countries, classes, sites: labels of the C, K, S axes.
        edges_s: (T+1,) step edges, s from the start.
        requests: (T, C) user requests per step.
        mau: (T, C) monthly active users per step.
        busy_core_s: (T, S) core-seconds of compute per step.
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
        violation_requests: requests of EEA users served from outside the EEA on failover.
        violation_gb: (K,) bytes of EEA-only classes read from outside the EEA on failover.
        final_stock_gb: (C, K, S) stored at the end, by origin country.
        rtt_ms: (C, S) modelled round trips.
        fibre_min_ms: (C, S) physical floor of those round trips.
        flows: every transfer, aggregated by month.
        placement_changes_s: times the placement changed (0 = the first decision).
        pending_migration_gb: bytes still waiting to cross a link at the end.
        gateway: every gateway request of the run (None until the gateway has run).
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
    gateway: GatewayRun | None

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


def conservation_gap_gb(m: Meters) -> NDArray[np.float64]:
    """(K, S) initial + written + replicated + moved in - stored - deleted - dropped - moved out.

    Zero (to rounding) when every byte is accounted for.
    """
    final = m.final_stock_gb.sum(axis=0)
    return m.initial_gb + m.written_gb + m.replicated_gb + m.moved_in_gb - final - m.deleted_gb - m.dropped_gb - m.moved_out_gb


def _timestamps(start: pd.Timestamp, seconds: NDArray[np.float64]) -> pd.DatetimeIndex:
    return start + pd.to_timedelta(np.round(seconds), unit="s")


def placement_table(m: Meters, start: pd.Timestamp, every_s: float = 86400.0) -> pd.DataFrame:
    """Stored TB per site and class, sampled at the end of each day (and at the end of the run).

    Columns: time, site, data_class, stored_tb.
    """
    ends = m.edges_s[1:]
    marks = np.arange(every_s, ends[-1] + 1e-6, every_s)
    idx = np.unique(np.r_[np.searchsorted(ends, marks - 1e-6), len(ends) - 1])
    idx = idx[idx < len(ends)]
    stored = m.stored_gb[idx] / 1000.0  # (N, K, S) TB
    n, k, s = stored.shape
    return pd.DataFrame(
        {
            "time": np.repeat(_timestamps(start, ends[idx]), k * s),
            "site": np.tile(np.repeat(m.sites, 1), n * k),
            "data_class": np.tile(np.repeat(m.classes, s), n),
            "stored_tb": stored.reshape(-1),
        }
    )


def transfers_table(m: Meters, start: pd.Timestamp, in_eea: dict[str, bool]) -> pd.DataFrame:
    """One row per monthly flow.

    Columns: time (month start), source, destination, data_class, kind, tb, crosses_eea_border,
    leaves_eea (a transfer out of the EEA: source in the EEA, destination outside, and not a read
    delivered to the users the data belongs to, e.g. a UK user watching a video stored in Dublin).
    """
    cols = m.flows.columns()
    src_in = np.array([in_eea[x] for x in cols["source"]], dtype=bool)
    dst_in = np.array([in_eea[x] for x in cols["destination"]], dtype=bool)
    return pd.DataFrame(
        {
            "time": _timestamps(start, cols["period_s"]),
            "source": cols["source"].astype(str),
            "destination": cols["destination"].astype(str),
            "data_class": cols["data_class"].astype(str),
            "kind": cols["kind"].astype(str),
            "tb": cols["gb"] / 1000.0,
            "crosses_eea_border": src_in != dst_in,
            "leaves_eea": src_in & ~dst_in & (cols["kind"] != "read"),
        }
    )


def latency_table(m: Meters) -> pd.DataFrame:
    """Round trip per (country, serving site) with that site's share of the country's requests.

    Columns: country, site, rtt_ms, fibre_min_ms, share_of_requests. Pairs that served nothing
    are left out.
    """
    totals = m.served_requests.sum(axis=1, keepdims=True)
    share = np.divide(m.served_requests, totals, out=np.zeros_like(m.served_requests), where=totals > 0)
    c_idx, s_idx = np.nonzero(share > 0)
    return pd.DataFrame(
        {
            "country": np.array(m.countries)[c_idx],
            "site": np.array(m.sites)[s_idx],
            "rtt_ms": m.rtt_ms[c_idx, s_idx],
            "fibre_min_ms": m.fibre_min_ms[c_idx, s_idx],
            "share_of_requests": share[c_idx, s_idx],
        }
    )


def weighted_quantile(values: NDArray[np.float64], weights: NDArray[np.float64], q: float) -> float:
    """Quantile ``q`` of a discrete distribution (inverted CDF: the smallest value whose
    cumulative weight reaches q).

    Raises:
        ValueError: if the weights sum to zero.
    """
    v = np.asarray(values, dtype=float).ravel()
    w = np.asarray(weights, dtype=float).ravel()
    total = w.sum()
    if total <= 0:
        raise ValueError("weights sum to zero")
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order]) / total
    return float(v[order][min(np.searchsorted(cum, q - 1e-12), len(v) - 1)])
