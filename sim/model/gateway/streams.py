"""Random streams of the gateway: every arrival, decision and service time of a run, drawn first.

Requests arrive as Poisson streams: access requests per requester region during its local
working hours (or one 24x7 stream in textbook mode), transfer jobs per (data class,
destination) around the clock; rates are per hour in the configuration, per second here. Each
row then gets its decisions (needs review, priority class, approved, resubmitted, sampled by the
third-party monitor) and its service times in seconds (automatic check, review, inspection =
``size_gb / inspection_gb_per_s``, third-party review); transfer sizes are in GB. Denied and
resubmitted requests get child rows (resubmissions), level by level, whose arrival the queues
find (completion + delay). Outage windows are drawn last.

The draws do not depend on the transfer policy or on the engine, so every policy and both
engines see the same requests (common random numbers).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence

import numpy as np

from sim.meters.gateway import ACCESS, TRANSFER
from sim.model.gateway import kernel as kernels
from sim.model.gateway.calendar import epoch_s, merge_windows, region_windows
from sim.model.gateway.distributions import sample
from sim.scenario.gateway import GatewayConfig

__all__ = ["MIN_TIME_S", "Streams", "draw_outages", "draw_streams", "poisson_arrivals"]

#: Every service time and resubmission delay is at least this, s (> 0).
MIN_TIME_S = 1e-6


class Streams:
    """Every random draw of one run, per request row (policy-independent).

    Rows ``[0, n_original)`` are the original requests sorted by arrival; later rows are
    the possible resubmissions, level by level (their arrival is found by the run).
    """

    _FIELDS = {
        "arrival": np.float64, "kind": np.int8, "region": np.int16, "prio": np.int64,
        "data_class": np.int16, "destination": np.int16, "needs_review": np.bool_,
        "approved": np.bool_, "resubmit": np.bool_, "third_party": np.bool_,
        "s_auto": np.float64, "s_review": np.float64, "s_inspect": np.float64,
        "s_third": np.float64, "resub_delay": np.float64, "child": np.int64,
        "parent": np.int64, "size_gb": np.float64,
    }

    arrival: np.ndarray  # NaN for resubmissions (found by the run)
    kind: np.ndarray
    region: np.ndarray
    prio: np.ndarray
    data_class: np.ndarray
    destination: np.ndarray
    needs_review: np.ndarray
    approved: np.ndarray  # outcome draw of the review (access) or inspection (transfer)
    resubmit: np.ndarray
    third_party: np.ndarray
    s_auto: np.ndarray
    s_review: np.ndarray
    s_inspect: np.ndarray
    s_third: np.ndarray
    resub_delay: np.ndarray  # from this row's completion to its child's arrival
    child: np.ndarray  # resubmission row if reviewed, denied and resubmitted; else -1
    parent: np.ndarray
    size_gb: np.ndarray

    def __init__(self, capacity: int, n_original: int) -> None:
        for name, dtype in self._FIELDS.items():
            setattr(self, name, np.zeros(capacity, dtype=dtype))
        self.arrival[n_original:] = np.nan
        self.child[:] = -1
        self.parent[:] = -1
        self.n_original = n_original
        self.outages = np.zeros((0, 2))
        self.factor_by_class = np.zeros(1)  # pseudonymisation factor by data class; -1 (access) -> 0
        self.region_names: tuple[str, ...] = ()
        self.class_names: tuple[str, ...] = ()
        self.data_class_names: tuple[str, ...] = ()
        self.destination_names: tuple[str, ...] = ()

    def trim(self, n: int) -> None:
        """Keep the first n rows (views, no copy)."""
        for name in self._FIELDS:
            setattr(self, name, getattr(self, name)[:n])


def poisson_arrivals(
    rng: np.random.Generator, windows: list[np.ndarray], rates_per_s: Sequence[float], horizon_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Superposed Poisson arrivals of several sources with piecewise-constant rates.

    The total rate is piecewise constant between the window edges; arrivals are the unit
    Poisson process mapped through the inverse cumulative intensity (exact, already sorted)
    and each is assigned to a source with probability proportional to its current rate.

    Args:
        rng: the random stream.
        windows: per source, (n, 2) windows [start, end) in which it is active, s.
        rates_per_s: per source, arrivals per second while active.
        horizon_s: arrivals fall in [0, horizon_s).

    Returns:
        (times, source) sorted by time.
    """
    edges = [np.array([0.0, horizon_s])] + [w.ravel() for w in windows]
    bounds = np.unique(np.concatenate(edges))
    bounds = bounds[(bounds >= 0.0) & (bounds <= horizon_s)]
    mids = (bounds[:-1] + bounds[1:]) / 2.0
    rates = np.zeros((len(mids), len(windows)))
    for s, (w, rate) in enumerate(zip(windows, rates_per_s)):
        if len(w) == 0 or rate <= 0:
            continue
        idx = np.searchsorted(w[:, 0], mids, side="right") - 1
        inside = (idx >= 0) & (mids < w[np.maximum(idx, 0), 1])
        rates[inside, s] = rate
    total_rate = rates.sum(axis=1)
    cum = np.concatenate([[0.0], np.cumsum(total_rate * np.diff(bounds))])
    total = cum[-1]
    if total <= 0.0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    m = int(total + 6.0 * math.sqrt(total) + 20)
    gamma = rng.standard_exponential(m)
    np.cumsum(gamma, out=gamma)
    while gamma[-1] < total:  # rare: draw more points
        more = rng.standard_exponential(int(6.0 * math.sqrt(total) + 20))
        np.cumsum(more, out=more)
        more += gamma[-1]
        gamma = np.concatenate([gamma, more])
    gamma = gamma[: np.searchsorted(gamma, total)]
    cum_p = np.cumsum(rates, axis=1) / np.where(total_rate > 0, total_rate, 1.0)[:, None]
    cum_p[:, -1] = 1.0
    times, source = kernels.arrivals_from_intensity(gamma, cum, bounds, total_rate, cum_p,
                                                    rng.random(len(gamma)))
    np.minimum(times, np.nextafter(horizon_s, 0.0), out=times)
    return times, source


def draw_outages(config: GatewayConfig, rng: np.random.Generator, horizon_s: float) -> np.ndarray:
    """Scheduled plus random (MTBF/MTTR, exponential) outage windows, merged, in s."""
    windows = [list(w) for w in config.outage_windows_s]
    if config.outage_mtbf_h is not None:
        t = 0.0
        while True:
            t += rng.exponential(config.outage_mtbf_h * 3600.0)
            if t >= horizon_s:
                break
            length = max(rng.exponential(config.outage_mttr_h * 3600.0), MIN_TIME_S)
            windows.append([t, t + length])
            t += length
    return merge_windows(np.array(windows, dtype=np.float64).reshape(-1, 2))


def draw_streams(
    config: GatewayConfig,
    start_utc: _dt.datetime,
    horizon_s: float,
    rng: np.random.Generator,
    transfer_jobs_per_hour: Mapping[tuple[str, str], float] | None,
) -> Streams:
    """Draw every random number of a run, in a fixed order, from spawned child streams.

    Order: arrivals and their sources; then per original row, one array at a time:
    review need, class, outcome, resubmission, third-party sampling uniforms, automatic
    check times, review times (reviewed rows), third-party times (sampled rows), transfer
    sizes; then resubmissions level by level (delays, then the same per-row draws);
    outages last. Each group uses its own child stream, so e.g. adding outages does not
    change the arrivals.

    Args:
        config: the gateway configuration.
        start_utc: calendar time of simulation time 0.
        horizon_s: originals arrive in [0, horizon_s).
        rng: the parent stream (spawned into four children).
        transfer_jobs_per_hour: transfer job rates per (data class, destination), replacing
            ``config.transfers.flows`` if given.

    Returns:
        The drawn rows.

    Raises:
        ValueError: for a negative or non-finite transfer rate.
    """
    arrival_rng, row_rng, resub_rng, outage_rng = rng.spawn(4)
    epoch = epoch_s(start_utc)

    # sources: access regions, then transfer flows
    if config.access_requests_per_hour is not None:
        region_names: tuple[str, ...] = ("all",)
        access_windows = [np.array([[0.0, horizon_s]])]
        access_rates = [config.access_requests_per_hour / 3600.0]
        review_prob = [1.0]
    else:
        region_names = tuple(r.name for r in config.regions)
        access_windows = [region_windows(r, epoch, horizon_s) for r in config.regions]
        access_rates = [r.rate_per_hour() / 3600.0 for r in config.regions]
        review_prob = [1.0 if not r.in_eea else r.restricted_share for r in config.regions]
    if transfer_jobs_per_hour is None:
        flows = [(f.data_class, f.destination, f.jobs_per_hour) for f in config.transfers.flows]
    else:
        flows = [(dc, dest, float(rate)) for (dc, dest), rate in transfer_jobs_per_hour.items()]
        bad = [(dc, dest, rate) for dc, dest, rate in flows if not (rate >= 0 and math.isfinite(rate))]
        if bad:
            raise ValueError(f"transfer_jobs_per_hour must be finite and >= 0, got {bad}")
    data_class_names = tuple(dict.fromkeys(dc for dc, _, _ in flows))
    destination_names = tuple(dict.fromkeys(dest for _, dest, _ in flows))
    windows = access_windows + [np.array([[0.0, horizon_s]])] * len(flows)
    rates = access_rates + [rate / 3600.0 for _, _, rate in flows]
    n_regions = len(access_windows)
    times, source = poisson_arrivals(arrival_rng, windows, rates, horizon_s)
    n = len(times)

    # per-source attributes (-1 where not applicable)
    src_kind = np.array([ACCESS] * n_regions + [TRANSFER] * len(flows), dtype=np.int8)
    src_region = np.array(list(range(n_regions)) + [-1] * len(flows), dtype=np.int16)
    src_class = np.array([-1] * n_regions + [data_class_names.index(dc) for dc, _, _ in flows], dtype=np.int16)
    src_dest = np.array([-1] * n_regions + [destination_names.index(d) for _, d, _ in flows], dtype=np.int16)
    src_review = np.array(review_prob + [0.0] * len(flows))
    kind = src_kind[source]
    is_access = kind == ACCESS

    # decisions of the originals first: they bound the number of resubmissions
    u = np.empty(n)
    needs_review = kernels.below_by_group(row_rng.random(out=u), source, src_review)
    u_class = row_rng.random(n)
    approved = kernels.below_by_group(row_rng.random(out=u), kind, np.array(
        [config.approve_probability, config.transfers.approve_probability]))
    resubmit = kernels.below_by_group(row_rng.random(out=u), kind, np.array([config.resubmit_share, 0.0]))
    del u
    first_parents = int(np.count_nonzero(needs_review & ~approved & resubmit))
    st = Streams(n + first_parents * config.max_resubmissions, n)
    st.arrival[:n] = times
    st.kind[:n] = kind
    st.region[:n] = src_region[source]
    st.data_class[:n] = src_class[source]
    st.destination[:n] = src_dest[source]
    st.needs_review[:n] = needs_review
    shares = np.cumsum([c.share for c in config.priority_classes])
    if len(shares) == 1:
        st.prio[:n] = 0
    elif len(shares) == 2:
        st.prio[:n] = u_class >= shares[0]
    else:
        st.prio[:n] = np.searchsorted(shares[:-1], u_class, side="right")
    del u_class
    st.approved[:n] = approved
    st.resubmit[:n] = resubmit
    _draw_row_services(config, row_rng, st, 0, n, is_access)
    st.factor_by_class = np.array([config.transfers.factor(dc) for dc in data_class_names] + [0.0])

    # resubmission chains: children of (reviewed, denied, resubmitting) rows, level by level
    lo, hi = 0, n
    for _level in range(config.max_resubmissions):
        parents = lo + np.flatnonzero(st.needs_review[lo:hi] & ~st.approved[lo:hi] & st.resubmit[lo:hi])
        m = len(parents)
        if m == 0:
            break
        new = slice(hi, hi + m)
        st.child[parents] = np.arange(hi, hi + m)
        st.parent[new] = parents
        st.resub_delay[parents] = np.maximum(sample(config.resubmit_delay_h, resub_rng, m, 3600.0), MIN_TIME_S)
        st.kind[new] = ACCESS
        st.region[new] = st.region[parents]
        st.data_class[new] = -1
        st.destination[new] = -1
        st.needs_review[new] = True
        st.prio[new] = st.prio[parents]
        st.approved[new] = resub_rng.random(m) < config.approve_probability
        st.resubmit[new] = resub_rng.random(m) < config.resubmit_share
        _draw_row_services(config, resub_rng, st, hi, hi + m, np.ones(m, dtype=bool))
        lo, hi = hi, hi + m
    st.trim(hi)

    st.outages = draw_outages(config, outage_rng, horizon_s)
    st.region_names = region_names
    st.class_names = tuple(c.name for c in config.priority_classes)
    st.data_class_names = data_class_names
    st.destination_names = destination_names
    return st


def _draw_row_services(
    config: GatewayConfig, rng: np.random.Generator, st: Streams, lo: int, hi: int, is_access: np.ndarray
) -> None:
    """Third-party sampling, service times and transfer sizes of rows [lo, hi)."""
    rows = slice(lo, hi)
    m = hi - lo
    tp = config.third_party
    st.third_party[rows] = kernels.below_by_group(rng.random(m), is_access.view(np.int8),
                                                  np.array([tp.transfer_share, tp.access_share]))
    if config.auto_check:
        s_auto = sample(config.auto_check_s, rng, m)
        np.maximum(s_auto, MIN_TIME_S, out=s_auto)
        np.multiply(s_auto, is_access, out=s_auto)
        st.s_auto[rows] = s_auto
        del s_auto
    reviewed = lo + np.flatnonzero(st.needs_review[rows])
    st.s_review[reviewed] = np.maximum(sample(config.review_time(), rng, len(reviewed), 60.0), MIN_TIME_S)
    sampled = lo + np.flatnonzero(st.third_party[rows] & (st.needs_review[rows] | ~is_access))
    st.s_third[sampled] = np.maximum(sample(tp.review_minutes, rng, len(sampled), 60.0), MIN_TIME_S)
    transfers = lo + np.flatnonzero(~is_access)
    size = sample(config.transfers.size_gb, rng, len(transfers))
    st.size_gb[transfers] = size
    st.s_inspect[transfers] = np.maximum(size / config.transfers.inspection_gb_per_s, MIN_TIME_S)
