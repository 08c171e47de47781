"""Tidy tables made from a replication's meters (pure functions), and the byte balance check.

Shapes of the inputs: T steps, C countries, K data classes, S sites (see :class:`sim.meters.Meters`).
Units: TB in tables (the meters hold GB), ms for round trips, shares in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.meters import Meters

__all__ = ["placement_table", "transfers_table", "latency_table", "weighted_quantile", "conservation_gap_gb"]


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


def transfers_table(m: Meters, start: pd.Timestamp,
                    crossing: Callable[[str, str, str], tuple[bool, bool]]) -> pd.DataFrame:
    """One row per monthly flow.

    Args:
        m: the meters.
        start: the run's start.
        crossing: ``(data_class, source, destination) -> (crosses, leaves)``: whether a flow crosses
            its class's zone border, and whether it leaves the zone
            (:func:`sim.results.replication.residency_crossing`).

    Columns: time (month start), source, destination, data_class, kind, tb, crosses_residency_border,
    leaves_residency (a transfer out of the class's zone: source inside, destination outside, and
    not a read delivered to the users the data belongs to, e.g. a UK user watching a video stored
    in Dublin).

    Export rows hold what the world offers; with a gateway, the replication's results scale them
    to what crossed the border (:func:`sim.results.replication.replication_result`), the point every
    transfer KPI is measured at.
    """
    cols = m.flows.columns()
    key = pd.MultiIndex.from_arrays([cols["data_class"].astype(str), cols["source"].astype(str),
                                     cols["destination"].astype(str)])
    codes, uniques = pd.factorize(key)
    found = np.array([crossing(*u) for u in uniques], dtype=bool).reshape(-1, 2)
    crosses, leaves = found[codes, 0], found[codes, 1]
    return pd.DataFrame(
        {
            "time": _timestamps(start, cols["period_s"]),
            "source": cols["source"].astype(str),
            "destination": cols["destination"].astype(str),
            "data_class": cols["data_class"].astype(str),
            "kind": cols["kind"].astype(str),
            "tb": cols["gb"] / 1000.0,
            "crosses_residency_border": crosses,
            "leaves_residency": leaves & (cols["kind"] != "read"),
        }
    )


def latency_table(m: Meters, access_ms_mean: NDArray[np.float64] | None = None) -> pd.DataFrame:
    """Round trip per (country, serving site) with that site's share of the country's requests.

    Columns: country, site, rtt_ms (the network path: fibre route plus metro and server
    turnaround), fibre_min_ms, access_ms_mean (the mean round trip the users' own access network
    adds in that country, mobile and fixed mixed; 0 when not given), share_of_requests. What a
    user sees on average is ``rtt_ms + access_ms_mean``. Pairs that served nothing are left out.

    Args:
        m: the replication's meters.
        access_ms_mean: (C,) mean access-network round trip per country, ms.
    """
    totals = m.served_requests.sum(axis=1, keepdims=True)
    share = np.divide(m.served_requests, totals, out=np.zeros_like(m.served_requests), where=totals > 0)
    c_idx, s_idx = np.nonzero(share > 0)
    access = np.zeros(len(m.countries)) if access_ms_mean is None else np.asarray(access_ms_mean, dtype=float)
    return pd.DataFrame(
        {
            "country": np.array(m.countries)[c_idx],
            "site": np.array(m.sites)[s_idx],
            "rtt_ms": m.rtt_ms[c_idx, s_idx],
            "fibre_min_ms": m.fibre_min_ms[c_idx, s_idx],
            "access_ms_mean": access[c_idx],
            "share_of_requests": share[c_idx, s_idx],
        }
    )


def weighted_quantile(values: NDArray[np.float64], weights: NDArray[np.float64], q: float) -> float:
    """Quantile ``q`` of a discrete distribution.

    The inverted CDF: the smallest value whose cumulative weight reaches q.

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
