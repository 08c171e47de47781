"""Gateway KPIs and tables from the run's tally (pure functions of the gateway's records).

Statistics count requests arriving in [warmup_s, horizon_s). Waits are in seconds; per-year
figures scale the counted window to a year of ``sim.reference.units.YEAR_S`` (365.25 days).
Hours of the day are UTC. Transfer volumes are not reported here: the replication's results
reconcile the gateway's transfer jobs with the world's exports (``sim.results.replication``).

Every function takes a :class:`~sim.meters.gateway.GatewayTally` or a full
:class:`~sim.meters.gateway.GatewayRun` (whose tally is used); only the per-request frame needs
the full record (or blocks of :class:`~sim.meters.gateway.GatewayRows`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.meters.gateway import KIND_NAMES, OUTCOME_NAMES, GatewayRows, GatewayRun, GatewayTally
from sim.reference.units import YEAR_S

__all__ = [
    "WAIT_QUANTILES",
    "gateway_kpis",
    "gateway_requests_frame",
    "gateway_tally",
    "gateway_wait_quantiles",
    "reviewer_utilisation_by_hour",
    "zero_padded_quantiles",
]

#: Probabilities of the wait quantiles table (:func:`gateway_wait_quantiles`): 0, 1/400, ... 1, so
#: that 0.5 and 0.95 are exact entries (the chart of the waits draws these points).
WAIT_QUANTILES = np.arange(401) / 400.0


def gateway_tally(record: GatewayRun | GatewayTally) -> GatewayTally:
    """The tally of a run record (the record itself if it is one)."""
    return record.tally if isinstance(record, GatewayRun) else record


def gateway_kpis(record: GatewayRun | GatewayTally) -> dict[str, float]:
    """Headline figures over requests arriving in [warmup_s, horizon_s).

    Waits are total queueing time of all access requests (reviewed or not) across the
    gateway stages; the SLA breach share compares each access request's wait with the
    SLA of its class. Per-year figures scale the counted window to ``YEAR_S``. The waits are
    rebuilt, in request order, from the tally's non-zero waits, so every figure is the one the
    whole array of waits gives.

    Args:
        record: the gateway run or its tally.

    Returns:
        gateway_wait_s_mean/_p50/_p95/_p99 (NaN without counted access requests),
        gateway_sla_breach_share, reviewer_utilisation (busy / capacity seconds),
        gateway_requests_per_year (0 when no gateway ran).
    """
    t = gateway_tally(record)
    nan = float("nan")
    n = t.access_counted
    if n:
        p50, p95, p99 = (float(x) for x in zero_padded_quantiles(n - len(t.wait_s), t.wait_s, [0.5, 0.95, 0.99]))
        mean = float(t.access_waits().mean())  # the sum in request order, as numpy adds the whole array
        # a zero wait never exceeds an SLA (>= 0); numpy's mean of a bool array is the count over n
        breach = int(np.count_nonzero(t.wait_s > t.sla_s_by_class[t.wait_class])) / n
    else:
        mean = p50 = p95 = p99 = breach = nan
    capacity = float(t.capacity_s_by_week_hour.sum())
    utilisation = float(t.busy_s_by_week_hour.sum()) / capacity if capacity > 0 else 0.0
    scale = YEAR_S / (t.horizon_s - t.warmup_s)
    return {
        "gateway_wait_s_mean": mean,
        "gateway_wait_s_p50": p50,
        "gateway_wait_s_p95": p95,
        "gateway_wait_s_p99": p99,
        "gateway_sla_breach_share": breach,
        "reviewer_utilisation": utilisation,
        "gateway_requests_per_year": float(t.requests_counted) * scale if t.gateway_on else 0.0,
    }


def gateway_wait_quantiles(record: GatewayRun | GatewayTally) -> pd.DataFrame:
    """Quantiles of the waits of counted access requests, per priority class and over all.

    The data of the wait chart: one row per class (then ``all``) and probability of
    :data:`WAIT_QUANTILES`, exact (``numpy.quantile``, linear) over the class's waits.

    Args:
        record: the gateway run or its tally.

    Returns:
        Columns class, requests, sla_s (NaN for ``all``), over_sla (requests waiting longer than
        their class's SLA), quantile (0..1), wait_s. Empty without counted access requests.
    """
    t = gateway_tally(record)
    columns = ["class", "requests", "sla_s", "over_sla", "quantile", "wait_s"]
    if t.access_counted == 0:
        return pd.DataFrame({c: [] for c in columns})
    frames = []
    groups = [(name, t.wait_class == c, int(t.access_counted_by_class[c]), float(t.sla_s_by_class[c]))
              for c, name in enumerate(t.class_names)]
    groups.append(("all", np.ones(len(t.wait_s), dtype=bool), t.access_counted, float("nan")))
    for name, mine, count, sla in groups:
        if count == 0:
            continue
        nonzero = t.wait_s[mine]
        over = int(np.count_nonzero(nonzero > t.sla_s_by_class[t.wait_class[mine]]))
        frames.append(pd.DataFrame({
            "class": name, "requests": count, "sla_s": sla, "over_sla": over, "quantile": WAIT_QUANTILES,
            "wait_s": zero_padded_quantiles(count - len(nonzero), nonzero, WAIT_QUANTILES)}))
    return pd.concat(frames, ignore_index=True)[columns]


def zero_padded_quantiles(zeros: int, values: np.ndarray, q: Sequence[float] | np.ndarray) -> np.ndarray:
    """``numpy.quantile`` (method ``linear``) of ``zeros`` zeros and the positive ``values``, bit for bit.

    The array is never built: the order statistics are read from ``values`` sorted, and the
    interpolation is numpy's (virtual index ``(n - 1) q``, neighbours clipped to the ends,
    ``a + (b - a) g``, or ``b - (b - a)(1 - g)`` when ``g >= 0.5``). Most access requests do not
    wait, so this sorts a few per cent of the waits instead of partitioning all of them.

    Args:
        zeros: how many values are 0.
        values: the other values, all > 0 (any order).
        q: probabilities in [0, 1].

    Returns:
        The quantiles, one per probability.
    """
    values = np.asarray(values, dtype=np.float64)
    n = zeros + len(values)
    virtual = (n - 1) * np.asarray(q, dtype=np.float64)
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    previous[above] = -1
    following[above] = -1
    previous[virtual < 0] = 0
    following[virtual < 0] = 0
    previous = previous.astype(np.intp)
    following = following.astype(np.intp)
    # the order statistics needed, among the positive values: a partial sort when they are few
    needed = np.concatenate([previous, following])
    needed = np.where(needed < 0, n + needed, needed) - zeros
    needed = np.unique(needed[needed >= 0])
    if 0 < len(needed) <= 32 and len(values):
        positions = np.unique(np.clip(needed, 0, len(values) - 1))
        ordered = _order_statistics(values, positions)
    else:
        ordered = np.sort(values)
        positions = np.arange(len(ordered))

    def at(index: np.ndarray) -> np.ndarray:
        index = np.where(index < 0, n + index, index)
        if len(ordered) == 0:
            return np.zeros(len(index))
        rank = np.clip(index - zeros, 0, len(values) - 1)
        found = np.minimum(np.searchsorted(positions, rank), len(positions) - 1)  # index < zeros: any entry
        return np.where(index < zeros, 0.0, ordered[found])

    a, b = at(previous), at(following)
    gamma = virtual - previous
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out


def _order_statistics(values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The ``ranks``-th smallest of ``values`` (sorted, distinct ranks), exactly, without sorting.

    One single-rank partition per rank, largest first, each on the part below the last one
    (numpy's partition with several ranks at once is slower than a full sort); a rank just
    below one already placed is the maximum of what lies below it.
    """
    work = np.array(values, dtype=np.float64, copy=True)
    out = np.empty(len(ranks))
    hi, placed = len(work), -1  # the smallest ``hi`` values are in work[:hi]; ``placed``: the rank above
    for i in range(len(ranks) - 1, -1, -1):
        k = int(ranks[i])
        if k + 1 == placed:
            out[i] = work[:k + 1].max()
            hi = k + 1
        else:
            part = work[:hi]
            part.partition(k)
            out[i] = part[k]
            hi = k
        placed = k
    return out


def gateway_requests_frame(record: GatewayRun | GatewayRows) -> pd.DataFrame:
    """One row per simulated request with readable categories.

    Args:
        record: the full gateway run, or a block of simulated requests.

    Returns:
        Columns arrival_s, kind, class, region, wait_s, service_s, outcome, size_gb,
        crossed_gb, destination, data_class (categories; missing where not applicable).
    """
    keep = record.simulated if isinstance(record, GatewayRun) else slice(None)

    def names(codes: np.ndarray, labels: Sequence[str]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes[keep].astype(np.int64), categories=list(labels))

    return pd.DataFrame({
        "arrival_s": record.arrival_s[keep],
        "kind": names(record.kind, KIND_NAMES),
        "class": names(record.priority, record.class_names),
        "region": names(record.region, record.region_names),
        "wait_s": record.wait_s[keep],
        "service_s": record.service_s[keep],
        "outcome": names(record.outcome, OUTCOME_NAMES),
        "size_gb": record.size_gb[keep],
        "crossed_gb": record.crossed_gb[keep],
        "destination": names(record.destination, record.destination_names),
        "data_class": names(record.data_class, record.data_class_names),
    })


def reviewer_utilisation_by_hour(record: GatewayRun | GatewayTally) -> pd.DataFrame:
    """Reviewer utilisation by hour of day (UTC): busy / capacity seconds.

    A service that runs past the end of a shift still counts as busy, so an hour can
    exceed 1 when capacity drops; hours without capacity give NaN.

    Args:
        record: the gateway run or its tally.

    Returns:
        Columns hour (0..23), utilisation, busy_s, capacity_s.
    """
    t = gateway_tally(record)
    busy = t.busy_s_by_week_hour.reshape(7, 24).sum(axis=0)
    cap = t.capacity_s_by_week_hour.reshape(7, 24).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(cap > 0, busy / np.where(cap > 0, cap, 1.0), np.nan)
    return pd.DataFrame({"hour": np.arange(24), "utilisation": util, "busy_s": busy, "capacity_s": cap})
