"""Gateway KPIs and tables from the run record (pure functions of :class:`GatewayRun`).

Statistics count requests arriving in [warmup_s, horizon_s). Waits are in seconds; per-year
figures scale the counted window to a year of ``sim.reference.units.YEAR_S`` (365.25 days).
Hours of the day are UTC. Transfer volumes are not reported here: the replication's results
reconcile the gateway's transfer jobs with the world's exports (``sim.results.replication``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.meters.gateway import ACCESS, KIND_NAMES, OUTCOME_NAMES, GatewayRun
from sim.reference.units import YEAR_S

__all__ = ["gateway_kpis", "gateway_requests_frame", "reviewer_utilisation_by_hour"]


def gateway_kpis(run: GatewayRun) -> dict[str, float]:
    """Headline figures over requests arriving in [warmup_s, horizon_s).

    Waits are total queueing time of all access requests (reviewed or not) across the
    gateway stages; the SLA breach share compares each access request's wait with the
    SLA of its class. Per-year figures scale the counted window to ``YEAR_S``.

    Args:
        run: the gateway run.

    Returns:
        gateway_wait_s_mean/_p50/_p95/_p99 (NaN without counted access requests),
        gateway_sla_breach_share, reviewer_utilisation (busy / capacity seconds),
        gateway_requests_per_year (0 when no gateway ran).
    """
    counted = run.arrival_s >= run.warmup_s
    access = counted & (run.kind == ACCESS)
    waits = run.wait_s[access]
    nan = float("nan")
    if len(waits):
        p50, p95, p99 = (float(x) for x in np.quantile(waits, [0.5, 0.95, 0.99]))
        mean = float(waits.mean())
        breach = float(np.mean(waits > run.sla_s_by_class[run.priority[access]]))
    else:
        mean = p50 = p95 = p99 = breach = nan
    capacity = float(run.capacity_s_by_week_hour.sum())
    utilisation = float(run.busy_s_by_week_hour.sum()) / capacity if capacity > 0 else 0.0
    scale = YEAR_S / (run.horizon_s - run.warmup_s)
    return {
        "gateway_wait_s_mean": mean,
        "gateway_wait_s_p50": p50,
        "gateway_wait_s_p95": p95,
        "gateway_wait_s_p99": p99,
        "gateway_sla_breach_share": breach,
        "reviewer_utilisation": utilisation,
        "gateway_requests_per_year": float(counted.sum()) * scale if run.gateway_on else 0.0,
    }


def gateway_requests_frame(run: GatewayRun) -> pd.DataFrame:
    """One row per simulated request with readable categories.

    Args:
        run: the gateway run.

    Returns:
        Columns arrival_s, kind, class, region, wait_s, service_s, outcome, size_gb,
        crossed_gb, destination, data_class (categories; missing where not applicable).
    """
    keep = run.simulated

    def names(codes: np.ndarray, labels: Sequence[str]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes[keep].astype(np.int64), categories=list(labels))

    return pd.DataFrame({
        "arrival_s": run.arrival_s[keep],
        "kind": names(run.kind, KIND_NAMES),
        "class": names(run.priority, run.class_names),
        "region": names(run.region, run.region_names),
        "wait_s": run.wait_s[keep],
        "service_s": run.service_s[keep],
        "outcome": names(run.outcome, OUTCOME_NAMES),
        "size_gb": run.size_gb[keep],
        "crossed_gb": run.crossed_gb[keep],
        "destination": names(run.destination, run.destination_names),
        "data_class": names(run.data_class, run.data_class_names),
    })


def reviewer_utilisation_by_hour(run: GatewayRun) -> pd.DataFrame:
    """Reviewer utilisation by hour of day (UTC): busy / capacity seconds.

    A service that runs past the end of a shift still counts as busy, so an hour can
    exceed 1 when capacity drops; hours without capacity give NaN.

    Args:
        run: the gateway run.

    Returns:
        Columns hour (0..23), utilisation, busy_s, capacity_s.
    """
    busy = run.reviewer_busy_s_by_hour
    cap = run.reviewer_capacity_s_by_hour
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(cap > 0, busy / np.where(cap > 0, cap, 1.0), np.nan)
    return pd.DataFrame({"hour": np.arange(24), "utilisation": util, "busy_s": busy, "capacity_s": cap})
