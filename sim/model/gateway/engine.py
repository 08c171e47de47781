"""Security gateway: employee access requests and outbound transfer approvals.

What is modelled
----------------
Every employee access to European user data and every transfer out of the EEA passes the
gateway as an individual request that can wait (times in seconds from the scenario start,
volumes in GB, rates per hour in the configuration):

* **Access requests** arrive as Poisson streams, one per requester region, during the
  region's local working hours (UTC offset, start/end hour, weekdays only or not), or as one
  24x7 stream (``access_requests_per_hour``). Each passes an automatic policy check
  (``auto_check_servers`` parallel servers, FIFO). Requests for restricted data, and all
  requests from outside the EEA, then wait for human review: reviewers work in shifts (a
  time-varying number of servers), priority classes are served non-preemptively (the first
  class in ``priority_classes`` first, FIFO within a class). A share of reviewed requests
  then goes to the independent third-party monitor (own staff, FIFO). A reviewed request is
  approved with ``approve_probability``; a share of denied requests is resubmitted after a
  delay as a new request linked to the original (``GatewayRun.parent``).
* **Transfer jobs** leave the EEA per (data class, destination) as Poisson streams; each is
  inspected by one of ``nodes`` parallel inspection nodes (FIFO, service time =
  ``size_gb / inspection_gb_per_s``), optionally sampled by the third-party monitor, then
  approved or blocked. ``crossed_gb = size_gb x pseudonymisation factor`` is what crosses.
* **Outages** of the gateway (scheduled windows and random MTBF/MTTR) stop the automatic
  check, the review and the inspection nodes from starting new work; work in progress
  finishes, requests queue, nothing is lost. The third-party monitor is a separate firm and
  is not affected.
* **Transfer policies**: ``open`` (no gateway: no wait, no review, everything approved and
  nothing pseudonymised), ``gateway`` and ``strict`` (transfers of ``protected_classes`` are
  blocked outright; other classes go through the gateway). ``enabled = false`` is the same
  as ``open``.

Exactness
---------
All random draws are made first, per request, from the caller's ``numpy.random.Generator``
(``_draw_streams``). Then either the SimPy reference (``_run_simpy``: one process per
request, ``_Stage`` resources, shift and outage processes) or the compiled kernel
(``sim.model.gateway.kernel.gateway_queues``) consumes the same arrays and both give identical
per-request waits. Ties are defined by two rules, which both implementations follow:

1. queue order is (priority class, time the request joined this queue, request row);
2. "batch at an instant": all arrivals, completions and capacity changes at one instant
   are registered before free servers take the next requests.

Statistics
----------
Requests arriving before ``warmup_s`` are simulated but excluded from the KPIs; requests
arriving before the horizon are followed to completion (the run drains), so waits are not
censored. Hour-of-day figures are in UTC.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import heapq
import math
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, Literal

import numpy as np
import pandas as pd
import simpy

from sim.model.gateway import kernel as kernels

from sim.theory import queueing
from sim.scenario import gateway as gateway_config
from sim.scenario.gateway import (  # noqa: F401 - re-exported: the gateway API
    SECONDS_PER_YEAR,
    WEEK_S,
    ACCESS,
    TRANSFER,
    KIND_NAMES,
    APPROVED,
    DENIED,
    BLOCKED,
    RESUBMITTED,
    OUTCOME_NAMES,
    TRANSFER_POLICIES,
    DISTRIBUTIONS,
    STAGE_NAMES,
    _MIN_TIME_S,
    _GATEWAY_STAGES_IN_OUTAGE,
    Distribution,
    RequesterRegion,
    PriorityClass,
    Shift,
    ThirdPartyConfig,
    TransferFlow,
    TransferConfig,
    GatewayConfig,
    Hour,
    _positive,
)
from sim.model.gateway.kernel import AUTO, INSPECT, REVIEW, THIRD_PARTY

# the configuration's names (re-exported above) plus the simulation's own
__all__ = [*gateway_config.__all__, "GatewayRun", "simulate_gateway", "staff_for_target"]

# --------------------------------------------------------------------------------------
# calendar helpers
# --------------------------------------------------------------------------------------


def _epoch_s(start_utc: _dt.datetime) -> float:
    if start_utc.tzinfo is None:
        start_utc = start_utc.replace(tzinfo=_dt.timezone.utc)
    return start_utc.timestamp()


def _week_offset_s(start_utc: _dt.datetime) -> float:
    """Seconds from Monday 00:00 UTC to ``start_utc`` (1970-01-01 was a Thursday)."""
    return (_epoch_s(start_utc) + 3 * 86400.0) % WEEK_S


def _region_windows(region: RequesterRegion, epoch_s: float, horizon_s: float) -> np.ndarray:
    """Working-hour windows [start, end) of a region in simulation seconds, clipped."""
    offset_s = region.utc_offset_h * 3600.0
    local0 = epoch_s + offset_s
    day0 = math.floor(local0 / 86400.0) - 1
    day1 = math.floor((local0 + horizon_s) / 86400.0) + 1
    days = np.arange(day0, day1 + 1, dtype=np.int64)
    if region.weekdays_only:
        days = days[(days + 3) % 7 < 5]
    length_h = (region.end_hour - region.start_hour) % 24.0
    if length_h == 0.0:
        length_h = 24.0
    starts = days * 86400.0 + region.start_hour * 3600.0 - local0
    ends = starts + length_h * 3600.0
    starts = np.clip(starts, 0.0, horizon_s)
    ends = np.clip(ends, 0.0, horizon_s)
    keep = ends > starts
    return np.stack([starts[keep], ends[keep]], axis=1)


def _shift_week_intervals(shift: Shift) -> list[tuple[float, float]]:
    """Intervals of a shift within one week in seconds from Monday 00:00 UTC (split at wrap)."""
    out: list[tuple[float, float]] = []
    for day in shift.days:
        start = (day * 86400.0 + (shift.start_hour - shift.utc_offset_h) * 3600.0) % WEEK_S
        end = start + shift.hours() * 3600.0
        if end <= WEEK_S:
            out.append((start, end))
        else:
            out.append((start, WEEK_S))
            out.append((0.0, end - WEEK_S))
    return out


def _weekly_pattern(
    weighted_intervals: Sequence[tuple[float, float, float]], week_offset_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Step function sum(weight over covering intervals) in simulation coordinates.

    Returns:
        (t, v): from ``t[j]`` (``t[0] = 0``) the value is ``v[j]``, repeating every week;
        consecutive values differ.
    """
    edges = {0.0}
    for start, end, _ in weighted_intervals:
        edges.add((start - week_offset_s) % WEEK_S)
        edges.add((end - week_offset_s) % WEEK_S)
    t = np.array(sorted(e for e in edges if e < WEEK_S))
    mids = (t + np.append(t[1:], WEEK_S)) / 2.0
    u = (mids + week_offset_s) % WEEK_S
    v = np.zeros(len(t))
    for start, end, weight in weighted_intervals:
        v += weight * ((u >= start) & (u < end))
    keep = np.ones(len(t), dtype=bool)
    keep[1:] = v[1:] != v[:-1]
    return t[keep], np.rint(v[keep]).astype(np.int64)


def _review_pattern(config: GatewayConfig, week_offset_s: float) -> tuple[np.ndarray, np.ndarray]:
    intervals = [
        (a, b, float(s.reviewers)) for s in config.effective_shifts() for a, b in _shift_week_intervals(s)
    ]
    return _weekly_pattern(intervals, week_offset_s)


def _merge_windows(windows: np.ndarray) -> np.ndarray:
    """Union of [start, end) windows, sorted; touching windows are merged."""
    if len(windows) == 0:
        return np.zeros((0, 2))
    windows = windows[np.argsort(windows[:, 0], kind="stable")]
    merged = [list(windows[0])]
    for start, end in windows[1:]:
        if start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return np.array(merged, dtype=np.float64)


# --------------------------------------------------------------------------------------
# random streams
# --------------------------------------------------------------------------------------


class _Streams:
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


def _poisson_arrivals(
    rng: np.random.Generator, windows: list[np.ndarray], rates_per_s: Sequence[float], horizon_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Superposed Poisson arrivals of several sources with piecewise-constant rates.

    The total rate is piecewise constant between the window edges; arrivals are the unit
    Poisson process mapped through the inverse cumulative intensity (exact, already sorted)
    and each is assigned to a source with probability proportional to its current rate.

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


def _draw_outages(config: GatewayConfig, rng: np.random.Generator, horizon_s: float) -> np.ndarray:
    windows = [list(w) for w in config.outage_windows_s]
    if config.outage_mtbf_h is not None:
        t = 0.0
        while True:
            t += rng.exponential(config.outage_mtbf_h * 3600.0)
            if t >= horizon_s:
                break
            length = max(rng.exponential(config.outage_mttr_h * 3600.0), _MIN_TIME_S)
            windows.append([t, t + length])
            t += length
    return _merge_windows(np.array(windows, dtype=np.float64).reshape(-1, 2))


def _draw_streams(
    config: GatewayConfig,
    start_utc: _dt.datetime,
    horizon_s: float,
    rng: np.random.Generator,
    transfer_jobs_per_hour: Mapping[tuple[str, str], float] | None,
) -> _Streams:
    """Draw every random number of a run, in a fixed order, from spawned child streams.

    Order: arrivals and their sources; then per original row, one array at a time:
    review need, class, outcome, resubmission, third-party sampling uniforms, automatic
    check times, review times (reviewed rows), third-party times (sampled rows), transfer
    sizes; then resubmissions level by level (delays, then the same per-row draws);
    outages last. Each group uses its own child stream, so e.g. adding outages does not
    change the arrivals.
    """
    arrival_rng, row_rng, resub_rng, outage_rng = rng.spawn(4)
    epoch = _epoch_s(start_utc)

    # sources: access regions, then transfer flows
    if config.access_requests_per_hour is not None:
        region_names: tuple[str, ...] = ("all",)
        access_windows = [np.array([[0.0, horizon_s]])]
        access_rates = [config.access_requests_per_hour / 3600.0]
        review_prob = [1.0]
    else:
        region_names = tuple(r.name for r in config.regions)
        access_windows = [_region_windows(r, epoch, horizon_s) for r in config.regions]
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
    times, source = _poisson_arrivals(arrival_rng, windows, rates, horizon_s)
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
    st = _Streams(n + first_parents * config.max_resubmissions, n)
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
        st.resub_delay[parents] = np.maximum(config.resubmit_delay_h.sample(resub_rng, m, 3600.0), _MIN_TIME_S)
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

    st.outages = _draw_outages(config, outage_rng, horizon_s)
    st.region_names = region_names
    st.class_names = tuple(c.name for c in config.priority_classes)
    st.data_class_names = data_class_names
    st.destination_names = destination_names
    return st


def _draw_row_services(
    config: GatewayConfig, rng: np.random.Generator, st: _Streams, lo: int, hi: int, is_access: np.ndarray
) -> None:
    """Third-party sampling, service times and transfer sizes of rows [lo, hi)."""
    rows = slice(lo, hi)
    m = hi - lo
    tp = config.third_party
    st.third_party[rows] = kernels.below_by_group(rng.random(m), is_access.view(np.int8),
                                                  np.array([tp.transfer_share, tp.access_share]))
    if config.auto_check:
        s_auto = config.auto_check_s.sample(rng, m)
        np.maximum(s_auto, _MIN_TIME_S, out=s_auto)
        np.multiply(s_auto, is_access, out=s_auto)
        st.s_auto[rows] = s_auto
        del s_auto
    reviewed = lo + np.flatnonzero(st.needs_review[rows])
    st.s_review[reviewed] = np.maximum(config.review_time().sample(rng, len(reviewed), 60.0), _MIN_TIME_S)
    sampled = lo + np.flatnonzero(st.third_party[rows] & (st.needs_review[rows] | ~is_access))
    st.s_third[sampled] = np.maximum(tp.review_minutes.sample(rng, len(sampled), 60.0), _MIN_TIME_S)
    transfers = lo + np.flatnonzero(~is_access)
    size = config.transfers.size_gb.sample(rng, len(transfers))
    st.size_gb[transfers] = size
    st.s_inspect[transfers] = np.maximum(size / config.transfers.inspection_gb_per_s, _MIN_TIME_S)


# --------------------------------------------------------------------------------------
# routing by policy
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Plan:
    """What the policy makes of the drawn requests."""

    gateway_on: bool
    route: np.ndarray  # uint8 bit mask of stages
    child: np.ndarray  # resubmission row, only for reviewed and denied rows
    outcome: np.ndarray
    crossed_gb: np.ndarray


def _plan(streams: _Streams, config: GatewayConfig, policy: str) -> _Plan:
    n = len(streams.arrival)
    is_access = streams.kind == ACCESS
    if not (config.enabled and policy != "open"):  # no gateway: nothing waits or is pseudonymised
        return _Plan(False, np.zeros(n, dtype=np.uint8), np.full(n, -1, dtype=np.int64),
                     np.full(n, APPROVED, dtype=np.int8), np.where(is_access, 0.0, streams.size_gb))
    reviewed = streams.needs_review  # never set for transfers
    protected = np.array(
        [name in config.transfers.protected_classes for name in streams.data_class_names] + [False])
    if policy == "strict":
        blocked_outright = ~is_access & protected[streams.data_class]  # access rows index the False
    else:
        blocked_outright = np.zeros(n, dtype=bool)
    inspected = ~is_access & ~blocked_outright
    route = (reviewed.astype(np.uint8) << REVIEW) | (inspected.astype(np.uint8) << INSPECT)
    if config.auto_check:
        route |= is_access.astype(np.uint8) << AUTO
    if config.third_party.enabled:
        route |= (streams.third_party & (reviewed | inspected)).astype(np.uint8) << THIRD_PARTY
    denied = reviewed & ~streams.approved
    child = np.where(denied, streams.child, -1)
    outcome = np.where(
        denied, np.where(child >= 0, RESUBMITTED, DENIED),
        np.where(blocked_outright | (inspected & ~streams.approved), BLOCKED, APPROVED)).astype(np.int8)
    crossed = streams.size_gb * streams.factor_by_class[streams.data_class]  # access rows: size 0
    return _Plan(True, route, child, outcome, crossed)


# --------------------------------------------------------------------------------------
# the two engines
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class _QueueInputs:
    """Everything both engines consume (see ``sim.model.gateway.kernel.gateway_queues``)."""

    arrival: np.ndarray
    n_original: int
    route: np.ndarray
    prio: np.ndarray
    s_auto: np.ndarray
    s_review: np.ndarray
    s_inspect: np.ndarray
    s_third: np.ndarray
    child: np.ndarray
    resub_delay: np.ndarray
    horizon_s: float
    staff: np.ndarray
    shift_t: np.ndarray
    shift_v: np.ndarray
    outage_start: np.ndarray
    outage_end: np.ndarray
    outage_mask: np.ndarray


@dataclasses.dataclass
class _QueueResult:
    arrival: np.ndarray
    wait: np.ndarray
    service: np.ndarray
    review_start: np.ndarray
    review_wait: np.ndarray
    done: np.ndarray
    complete: bool


def _run_fast(inp: _QueueInputs) -> _QueueResult:
    arrival, wait, service, review_start, review_wait, done, complete = kernels.gateway_queues(
        inp.arrival, inp.n_original, inp.route, inp.prio, inp.s_auto, inp.s_review, inp.s_inspect,
        inp.s_third, inp.child, inp.resub_delay, inp.horizon_s, inp.staff, inp.shift_t, inp.shift_v,
        WEEK_S, inp.outage_start, inp.outage_end, inp.outage_mask)
    return _QueueResult(arrival, wait, service, review_start, review_wait, done, bool(complete))


class _StageRequest(simpy.resources.resource.Request):
    """A request for one server of a stage; waits in the stage's queue by ``key``."""

    def __init__(self, stage: _Stage, key: tuple[int, float, int]) -> None:
        self.key = key
        super().__init__(stage)


class _KeyQueue(list):
    """The waiting requests of a stage: a heap ordered by (class, time joined, row)."""

    def append(self, request: _StageRequest) -> None:  # type: ignore[override]
        heapq.heappush(self, (request.key, request))

    def pop_first(self) -> _StageRequest:
        return heapq.heappop(self)[1]


class _Stage(simpy.Resource):
    """A pool of identical servers whose number can change (shifts, outages).

    Differences from ``simpy.Resource``: waiting requests are served lowest ``key`` first,
    the capacity is ``servers`` (0 while down for an outage, if the stage stops in
    outages), and free servers are handed out once per instant, after every event of that
    instant (a zero-delay timeout created at the instant runs after all events that were
    already scheduled for it). Lowering ``servers`` never interrupts a service.
    """

    PutQueue = _KeyQueue

    def __init__(self, env: simpy.Environment, servers: int, stops_in_outage: bool) -> None:
        super().__init__(env, capacity=1)
        self.servers = servers
        self.stops_in_outage = stops_in_outage
        self.down = False
        self._dispatch_pending = False

    @property
    def capacity(self) -> int:  # type: ignore[override]
        return 0 if (self.down and self.stops_in_outage) else self.servers

    def request(self, key: tuple[int, float, int]) -> _StageRequest:  # type: ignore[override]
        return _StageRequest(self, key)

    def set_servers(self, servers: int) -> None:
        self.servers = servers
        self._trigger_put(None)

    def set_down(self, down: bool) -> None:
        self.down = down
        self._trigger_put(None)

    def _trigger_put(self, get_event: Any) -> None:
        if not self._dispatch_pending:
            self._dispatch_pending = True
            self._env.timeout(0).callbacks.append(self._dispatch)

    def _dispatch(self, _event: simpy.Event) -> None:
        self._dispatch_pending = False
        while self.put_queue and len(self.users) < self.capacity:
            request = self.put_queue.pop_first()
            self.users.append(request)
            request.usage_since = self._env.now
            request.succeed()


class _SimpyModel:
    """The SimPy reference: the specification of the gateway queues."""

    def __init__(self, inp: _QueueInputs) -> None:
        self.env = simpy.Environment()
        self.inp = inp
        n = len(inp.arrival)
        self.arrival = inp.arrival.tolist()
        self.route = inp.route.tolist()
        self.prio = inp.prio.tolist()
        self.service = [inp.s_auto.tolist(), inp.s_review.tolist(), inp.s_inspect.tolist(), inp.s_third.tolist()]
        self.child = inp.child.tolist()
        self.resub_delay = inp.resub_delay.tolist()
        self.wait = [math.nan] * n
        self.total_service = [math.nan] * n
        self.review_start = [math.nan] * n
        self.review_wait = [math.nan] * n
        self.done = [math.nan] * n
        self.stages = [
            _Stage(self.env, int(inp.staff[k]), bool(inp.outage_mask[k])) for k in range(kernels.N_STAGES)]
        self.pending = inp.n_original
        self.all_done = self.env.event()

    def run(self) -> _QueueResult:
        env, inp = self.env, self.inp
        self.stages[REVIEW].servers = int(inp.shift_v[0])
        if len(inp.shift_t) > 1:
            env.process(self._shifts())
        if len(inp.outage_start) > 0:
            env.process(self._outages())
        for r in range(inp.n_original):
            env.timeout(self.arrival[r]).callbacks.append(partial(self._arrive, r))
        if self.pending > 0:
            env.run(until=self.all_done)
        as_array = partial(np.array, dtype=np.float64)
        return _QueueResult(as_array(self.arrival), as_array(self.wait), as_array(self.total_service),
                            as_array(self.review_start), as_array(self.review_wait), as_array(self.done),
                            self.pending == 0)

    def _arrive(self, r: int, _event: simpy.Event) -> None:
        self.env.process(self._request(r))

    def _request(self, r: int):  # noqa: ANN202 - a simpy process
        env = self.env
        wait = 0.0
        service = 0.0
        for k in range(kernels.N_STAGES):
            if not self.route[r] & (1 << k):
                continue
            stage = self.stages[k]
            joined = env.now
            request = stage.request(key=(self.prio[r] if k == REVIEW else 0, joined, r))
            yield request
            wait += env.now - joined
            if k == REVIEW:
                self.review_start[r] = env.now
                self.review_wait[r] = env.now - joined
            s = self.service[k][r]
            yield env.timeout(s)
            service += s
            stage.release(request)
        self.wait[r] = wait
        self.total_service[r] = service
        self.done[r] = env.now
        c = self.child[r]
        resubmitted = c >= 0 and env.now + self.resub_delay[r] < self.inp.horizon_s
        if resubmitted:
            self.pending += 1
        self.pending -= 1
        if self.pending == 0:
            self.all_done.succeed()
        if resubmitted:
            yield env.timeout(self.resub_delay[r])
            self.arrival[c] = env.now
            env.process(self._request(c))

    def _shifts(self):  # noqa: ANN202 - a simpy process
        """Change the number of reviewers at every shift boundary, week after week."""
        env, t, v = self.env, self.inp.shift_t, self.inp.shift_v
        j, week = 1, 0
        while True:
            target = week * WEEK_S + float(t[j])
            yield env.timeout(target - env.now)
            self.stages[REVIEW].set_servers(int(v[j]))
            j += 1
            if j == len(t):
                j, week = 0, week + 1

    def _outages(self):  # noqa: ANN202 - a simpy process
        """Take the gateway stages down during each outage window."""
        env = self.env
        for start, end in zip(self.inp.outage_start.tolist(), self.inp.outage_end.tolist()):
            if start > env.now:
                yield env.timeout(start - env.now)
            for stage in self.stages:
                stage.set_down(True)
            yield env.timeout(end - env.now)
            for stage in self.stages:
                stage.set_down(False)


def _run_simpy(inp: _QueueInputs) -> _QueueResult:
    return _SimpyModel(inp).run()


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------


def _capacity_segments(
    pattern_t: np.ndarray, pattern_v: np.ndarray, outages: np.ndarray, stops: bool, t0: float, t1: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pieces [start, start+length) of constant server count within [t0, t1)."""
    if not t1 > t0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    weeks = np.arange(math.floor(t0 / WEEK_S), math.floor(t1 / WEEK_S) + 1)
    cuts = [np.array([t0, t1]), (weeks[:, None] * WEEK_S + pattern_t[None, :]).ravel()]
    if stops and len(outages):
        cuts.append(outages.ravel())
    bounds = np.unique(np.concatenate(cuts))
    bounds = bounds[(bounds >= t0) & (bounds <= t1)]
    mids = (bounds[:-1] + bounds[1:]) / 2.0
    value = pattern_v[np.searchsorted(pattern_t, mids % WEEK_S, side="right") - 1].astype(np.float64)
    if stops and len(outages):
        idx = np.searchsorted(outages[:, 0], mids, side="right") - 1
        value[(idx >= 0) & (mids < outages[np.maximum(idx, 0), 1])] = 0.0
    return bounds[:-1], np.diff(bounds), value


@dataclasses.dataclass(frozen=True, eq=False)
class GatewayRun:
    """Per-request results of one gateway run.

    Rows are requests in request-number order: original requests by arrival time, then
    resubmissions level by level (``parent`` is the row of the denied request they repeat,
    -1 for originals). A denied request drawn to be resubmitted always has its row, but if
    the resubmission would arrive at or after the horizon it is not simulated: its
    ``arrival_s`` and results are NaN (``simulated`` is False) and statistics and
    ``to_frame()`` leave it out. Every simulated request is followed to completion.
    Codes: ``kind`` 0 access / 1 transfer; ``outcome`` indexes ``OUTCOME_NAMES``;
    ``priority``, ``region``, ``data_class``, ``destination`` index the matching
    ``*_names`` (-1 where not applicable). Hour bins are hours of the week in UTC
    (0 = Monday 00:00-01:00 UTC) over [warmup_s, horizon_s).
    """

    arrival_s: np.ndarray
    kind: np.ndarray
    priority: np.ndarray
    region: np.ndarray
    data_class: np.ndarray
    destination: np.ndarray
    wait_s: np.ndarray
    review_wait_s: np.ndarray
    service_s: np.ndarray
    done_s: np.ndarray
    outcome: np.ndarray
    reviewed: np.ndarray
    size_gb: np.ndarray
    crossed_gb: np.ndarray
    parent: np.ndarray
    class_names: tuple[str, ...]
    region_names: tuple[str, ...]
    data_class_names: tuple[str, ...]
    destination_names: tuple[str, ...]
    sla_s_by_class: np.ndarray
    busy_s_by_week_hour: np.ndarray
    capacity_s_by_week_hour: np.ndarray
    offered_load: dict[str, float]
    unstable: bool
    message: str
    horizon_s: float
    warmup_s: float
    start_utc: _dt.datetime
    transfer_policy: str
    method: str
    gateway_on: bool
    week_offset_s: float

    KIND_NAMES = KIND_NAMES
    OUTCOME_NAMES = OUTCOME_NAMES

    @property
    def simulated(self) -> np.ndarray:
        """Rows that arrived before the horizon and were simulated."""
        return ~np.isnan(self.arrival_s)

    @property
    def reviewer_busy_s_by_hour(self) -> np.ndarray:
        """Reviewer busy seconds per hour of day (UTC, 0..23)."""
        return self.busy_s_by_week_hour.reshape(7, 24).sum(axis=0)

    @property
    def reviewer_capacity_s_by_hour(self) -> np.ndarray:
        """Reviewer capacity (reviewers on duty x seconds) per hour of day (UTC, 0..23)."""
        return self.capacity_s_by_week_hour.reshape(7, 24).sum(axis=0)

    def to_frame(self) -> pd.DataFrame:
        """One row per simulated request with readable categories.

        Returns:
            Columns arrival_s, kind, class, region, wait_s, service_s, outcome, size_gb,
            crossed_gb, destination, data_class.
        """
        keep = self.simulated

        def names(codes: np.ndarray, labels: Sequence[str]) -> pd.Categorical:
            return pd.Categorical.from_codes(codes[keep].astype(np.int64), categories=list(labels))

        return pd.DataFrame({
            "arrival_s": self.arrival_s[keep],
            "kind": names(self.kind, KIND_NAMES),
            "class": names(self.priority, self.class_names),
            "region": names(self.region, self.region_names),
            "wait_s": self.wait_s[keep],
            "service_s": self.service_s[keep],
            "outcome": names(self.outcome, OUTCOME_NAMES),
            "size_gb": self.size_gb[keep],
            "crossed_gb": self.crossed_gb[keep],
            "destination": names(self.destination, self.destination_names),
            "data_class": names(self.data_class, self.data_class_names),
        })

    def kpis(self) -> dict[str, float]:
        """Headline figures over requests arriving in [warmup_s, horizon_s).

        Waits are total queueing time of all access requests (reviewed or not) across the
        gateway stages; the SLA breach share compares each access request's wait with the
        SLA of its class. Per-year figures scale the counted window to 365 days.

        Returns:
            gateway_wait_s_mean/_p50/_p95/_p99, gateway_sla_breach_share,
            reviewer_utilisation, gateway_requests_per_year, transfer_tb_out_of_eea_per_year
            (approved crossed volume), transfer_tb_blocked_per_year.
        """
        counted = self.arrival_s >= self.warmup_s
        access = counted & (self.kind == ACCESS)
        waits = self.wait_s[access]
        nan = float("nan")
        if len(waits):
            p50, p95, p99 = (float(x) for x in np.quantile(waits, [0.5, 0.95, 0.99]))
            mean = float(waits.mean())
            breach = float(np.mean(waits > self.sla_s_by_class[self.priority[access]]))
        else:
            mean = p50 = p95 = p99 = breach = nan
        capacity = float(self.capacity_s_by_week_hour.sum())
        utilisation = float(self.busy_s_by_week_hour.sum()) / capacity if capacity > 0 else 0.0
        scale = SECONDS_PER_YEAR / (self.horizon_s - self.warmup_s)
        transfer = counted & (self.kind == TRANSFER)
        out_gb = self.crossed_gb[transfer & (self.outcome == APPROVED)].sum()
        blocked_gb = self.crossed_gb[transfer & (self.outcome == BLOCKED)].sum()
        return {
            "gateway_wait_s_mean": mean,
            "gateway_wait_s_p50": p50,
            "gateway_wait_s_p95": p95,
            "gateway_wait_s_p99": p99,
            "gateway_sla_breach_share": breach,
            "reviewer_utilisation": utilisation,
            "gateway_requests_per_year": float(counted.sum()) * scale if self.gateway_on else 0.0,
            "transfer_tb_out_of_eea_per_year": float(out_gb) / 1000.0 * scale,
            "transfer_tb_blocked_per_year": float(blocked_gb) / 1000.0 * scale,
        }

    def utilisation_by_hour(self) -> pd.DataFrame:
        """Reviewer utilisation by hour of day (UTC): busy / capacity seconds.

        A service that runs past the end of a shift still counts as busy, so an hour can
        exceed 1 when capacity drops; hours without capacity give NaN.

        Returns:
            Columns hour (0..23), utilisation, busy_s, capacity_s.
        """
        busy = self.reviewer_busy_s_by_hour
        cap = self.reviewer_capacity_s_by_hour
        with np.errstate(divide="ignore", invalid="ignore"):
            util = np.where(cap > 0, busy / np.where(cap > 0, cap, 1.0), np.nan)
        return pd.DataFrame({"hour": np.arange(24), "utilisation": util, "busy_s": busy, "capacity_s": cap})


def _stage_patterns(config: GatewayConfig, inp: _QueueInputs) -> list[tuple[np.ndarray, np.ndarray]]:
    const = [(np.zeros(1), np.array([int(inp.staff[k])])) for k in range(kernels.N_STAGES)]
    const[REVIEW] = (inp.shift_t, inp.shift_v)
    return const


def _offered_load(
    config: GatewayConfig, inp: _QueueInputs, res: _QueueResult, outages: np.ndarray
) -> dict[str, float]:
    """Work brought to each stage / server-seconds it had, over [0, horizon)."""
    arrived = ~np.isnan(res.arrival)
    services = (inp.s_auto, inp.s_review, inp.s_inspect, inp.s_third)
    out: dict[str, float] = {}
    for k, (pt, pv) in enumerate(_stage_patterns(config, inp)):
        on_route = arrived & ((inp.route & (1 << k)) > 0)
        if not on_route.any():
            continue
        work = float(np.sum(services[k], where=on_route))
        _, length, value = _capacity_segments(pt, pv, outages, bool(inp.outage_mask[k]), 0.0, inp.horizon_s)
        capacity = float((length * value).sum())
        out[STAGE_NAMES[k]] = work / capacity if capacity > 0 else math.inf
    return out


def _make_run(
    config: GatewayConfig, streams: _Streams, plan: _Plan, inp: _QueueInputs, res: _QueueResult, *,
    horizon_s: float, start_utc: _dt.datetime, policy: str, method: str, week_offset_s: float,
) -> GatewayRun:
    reviewed = (plan.route & (1 << REVIEW)) > 0
    warmup = config.warmup_s

    rev = np.flatnonzero(reviewed & ~np.isnan(res.review_start))
    busy = kernels.bin_intervals(res.review_start[rev], inp.s_review[rev], np.ones(len(rev)), warmup,
                                 horizon_s, week_offset_s, 3600.0, 168)
    if plan.gateway_on:
        start, length, value = _capacity_segments(inp.shift_t, inp.shift_v, streams.outages, True,
                                                  warmup, horizon_s)
        capacity = kernels.bin_intervals(start, length, value, warmup, horizon_s, week_offset_s, 3600.0, 168)
    else:
        capacity = np.zeros(168)

    load = _offered_load(config, inp, res, streams.outages) if plan.gateway_on else {}
    over = {name: ratio for name, ratio in load.items() if ratio >= 1.0}
    message = ""
    if over:
        message = "unstable: " + "; ".join(
            f"{name} offered load is {ratio:.2f} x its capacity" for name, ratio in over.items()
        ) + " over the horizon, so its queue grows without bound: add servers or reviewers, or lower the rates"
    if not res.complete:
        message = (message + "; " if message else "") + "some requests never completed (no capacity left)"

    classes = config.priority_classes
    sla = np.array([c.sla_s if c.sla_s is not None else config.sla_s for c in classes], dtype=np.float64)
    kind = streams.kind
    return GatewayRun(
        arrival_s=res.arrival,
        kind=kind,
        priority=np.where(kind == ACCESS, streams.prio, -1).astype(np.int16),
        region=streams.region,
        data_class=streams.data_class,
        destination=streams.destination,
        wait_s=res.wait,
        review_wait_s=res.review_wait,
        service_s=res.service,
        done_s=res.done,
        outcome=plan.outcome,
        reviewed=reviewed,
        size_gb=streams.size_gb,
        crossed_gb=plan.crossed_gb,
        parent=streams.parent,
        class_names=streams.class_names,
        region_names=streams.region_names,
        data_class_names=streams.data_class_names,
        destination_names=streams.destination_names,
        sla_s_by_class=sla,
        busy_s_by_week_hour=busy,
        capacity_s_by_week_hour=capacity,
        offered_load=load,
        unstable=bool(over) or not res.complete,
        message=message,
        horizon_s=float(horizon_s),
        warmup_s=float(warmup),
        start_utc=start_utc,
        transfer_policy=policy,
        method=method,
        gateway_on=plan.gateway_on,
        week_offset_s=week_offset_s,
    )


# --------------------------------------------------------------------------------------
# public entry points
# --------------------------------------------------------------------------------------


def _queue_inputs(config: GatewayConfig, streams: _Streams, plan: _Plan, horizon_s: float,
                  week_offset_s: float) -> _QueueInputs:
    shift_t, shift_v = _review_pattern(config, week_offset_s)
    staff = np.array([config.auto_check_servers, 0, config.transfers.nodes, config.third_party.staff],
                     dtype=np.int64)
    return _QueueInputs(
        arrival=streams.arrival, n_original=streams.n_original, route=plan.route, prio=streams.prio,
        s_auto=streams.s_auto, s_review=streams.s_review, s_inspect=streams.s_inspect,
        s_third=streams.s_third, child=plan.child, resub_delay=streams.resub_delay,
        horizon_s=float(horizon_s), staff=staff, shift_t=shift_t, shift_v=shift_v,
        outage_start=np.ascontiguousarray(streams.outages[:, 0]),
        outage_end=np.ascontiguousarray(streams.outages[:, 1]),
        outage_mask=np.array(_GATEWAY_STAGES_IN_OUTAGE, dtype=np.bool_),
    )


def simulate_gateway(
    config: GatewayConfig,
    *,
    start_utc: _dt.datetime,
    horizon_s: float,
    rng: np.random.Generator,
    transfer_policy: str = "gateway",
    method: Literal["fast", "simpy"] = "fast",
    transfer_jobs_per_hour: Mapping[tuple[str, str], float] | None = None,
) -> GatewayRun:
    """Simulate the gateway's access and transfer requests over one horizon.

    All random draws are made first from ``rng`` (identically for both methods); then the
    compiled kernel (``fast``) or the SimPy reference (``simpy``) runs the queues on them.
    Both give the same per-request waits.

    Args:
        config: the gateway configuration.
        start_utc: calendar time of simulation time 0 (naive datetimes are taken as UTC).
        horizon_s: requests arriving in [0, horizon_s) are simulated (to completion).
        rng: the only source of randomness (must support ``spawn``, e.g.
            ``numpy.random.default_rng(seed)``).
        transfer_policy: ``open``, ``gateway`` or ``strict``.
        method: ``fast`` (compiled kernel) or ``simpy`` (reference).
        transfer_jobs_per_hour: if given, the transfer job rates per (data class,
            destination), replacing ``config.transfers.flows``.

    Returns:
        The per-request results, utilisation figures and a stability flag.

    Raises:
        ValueError: for an unknown policy or method, or a horizon not after the warm-up.
    """
    if transfer_policy not in TRANSFER_POLICIES:
        raise ValueError(f"unknown transfer policy {transfer_policy!r}; use one of {', '.join(TRANSFER_POLICIES)}")
    if method not in ("fast", "simpy"):
        raise ValueError(f"unknown method {method!r}; use 'fast' or 'simpy'")
    if not (horizon_s > 0 and math.isfinite(horizon_s)):
        raise ValueError(f"horizon_s must be a finite number > 0, got {horizon_s!r}")
    if not horizon_s > config.warmup_s:
        raise ValueError(
            f"horizon_s ({horizon_s}) must be longer than gateway.warmup_s ({config.warmup_s}); "
            "lengthen the horizon or shorten the warm-up"
        )
    week_offset = _week_offset_s(start_utc)
    streams = _draw_streams(config, start_utc, horizon_s, rng, transfer_jobs_per_hour)
    plan = _plan(streams, config, transfer_policy)
    inp = _queue_inputs(config, streams, plan, horizon_s, week_offset)
    res = _run_fast(inp) if method == "fast" else _run_simpy(inp)
    return _make_run(config, streams, plan, inp, res, horizon_s=horizon_s, start_utc=start_utc,
                     policy=transfer_policy, method=method, week_offset_s=week_offset)


# --------------------------------------------------------------------------------------
# staffing
# --------------------------------------------------------------------------------------


def _review_rate_by_week_hour(config: GatewayConfig) -> np.ndarray:
    """Expected arrivals per second needing review, per UTC hour of the week (168).

    Includes resubmissions (sum over levels of (deny x resubmit share)^k), placed at the
    hour of the original request (an approximation: their delays move them in time).
    """
    step = 60.0
    u = np.arange(0.0, WEEK_S, step) + step / 2.0
    rate = np.zeros_like(u)
    if config.access_requests_per_hour is not None:
        rate += config.access_requests_per_hour / 3600.0
    else:
        for region in config.regions:
            prob = 1.0 if not region.in_eea else region.restricted_share
            length_h = (region.end_hour - region.start_hour) % 24.0 or 24.0
            days = range(5) if region.weekdays_only else range(7)
            for day in days:
                start = (day * 86400.0 + (region.start_hour - region.utc_offset_h) * 3600.0) % WEEK_S
                inside = ((u - start) % WEEK_S) < length_h * 3600.0
                rate[inside] += region.rate_per_hour() / 3600.0 * prob
    q = (1.0 - config.approve_probability) * config.resubmit_share
    rate *= sum(q**k for k in range(config.max_resubmissions + 1))
    return rate.reshape(168, -1).mean(axis=1)


def _cover_hours(need: np.ndarray, coverage: np.ndarray) -> list[int]:
    """Fewest reviewer-hours with ``coverage.T @ reviewers >= need`` (integer programme)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    covered = coverage.sum(axis=0) > 0
    hours = covered & (need > 0)
    if not hours.any():
        return [0] * coverage.shape[0]
    result = milp(
        c=coverage.sum(axis=1) + 1e-6,
        constraints=LinearConstraint(coverage[:, hours].T, lb=need[hours], ub=np.inf),
        integrality=np.ones(coverage.shape[0]),
        bounds=Bounds(0, np.inf),
    )
    if result.x is None:  # pragma: no cover - always feasible when every hour is covered
        raise ValueError(f"could not find a starting staff plan: {result.message}")
    return [int(round(x)) for x in result.x]


def _shift_active(shift: Shift, times_s: np.ndarray, week_offset_s: float) -> np.ndarray:
    t, v = _weekly_pattern([(a, b, 1.0) for a, b in _shift_week_intervals(shift)], week_offset_s)
    return v[np.searchsorted(t, times_s % WEEK_S, side="right") - 1] > 0


def _shift_coverage_by_week_hour(shift: Shift) -> np.ndarray:
    """Fraction of each UTC hour of the week the shift is on duty."""
    step = 60.0
    u = np.arange(0.0, WEEK_S, step) + step / 2.0
    on = np.zeros_like(u, dtype=bool)
    for a, b in _shift_week_intervals(shift):
        on |= (u >= a) & (u < b)
    return on.reshape(168, -1).mean(axis=1)


def staff_for_target(
    config: GatewayConfig,
    *,
    p95_wait_s: float,
    start_utc: _dt.datetime,
    horizon_s: float,
    seed: int,
    transfer_policy: str = "gateway",
    max_reviewers_per_shift: int = 10_000,
    transfer_jobs_per_hour: Mapping[tuple[str, str], float] | None = None,
) -> pd.DataFrame:
    """Fewest reviewers per shift whose simulated p95 review wait meets a target.

    Erlang C gives the starting point: for every UTC hour of the week the M/M/c staff
    meeting the p95 target for that hour's expected review arrivals (with the mean review
    time); the fewest weekly reviewer-hours covering those needs (a small integer
    programme: sum over shifts on duty of reviewers x share of the hour >= need) are the
    ``erlang_c_reviewers``. The fast simulation is the judge (same seed, so common random
    numbers): shifts whose p95 misses the target get one more reviewer until all meet it,
    then shifts give reviewers back one at a time, longest shifts first, while every shift
    still meets it.

    The judged statistic is, per shift, the 95th percentile of the review-stage wait of
    reviewed requests arriving (after warm-up) while the shift is on duty. Shifts with no
    such arrival meet any target.

    Args:
        config: the gateway configuration (its ``reviewers`` / ``staffing`` overrides are
            resolved into explicit shifts first).
        p95_wait_s: target for the 95th-percentile review wait, seconds.
        start_utc: calendar time of simulation time 0.
        horizon_s: simulated horizon of each trial, seconds.
        seed: seed of every trial's ``numpy.random.default_rng``.
        transfer_policy: the transfer policy simulated.
        max_reviewers_per_shift: give up above this.
        transfer_jobs_per_hour: optional transfer rate override (see ``simulate_gateway``).

    Returns:
        One row per shift: shift, reviewers, erlang_c_reviewers, p95_wait_s, utilisation
        (reviewer busy / capacity seconds over the hours the shift is on duty, shared with
        overlapping shifts).

    Raises:
        ValueError: if the target cannot be met within ``max_reviewers_per_shift``.
    """
    _positive(p95_wait_s, _FieldInfo("p95_wait_s"))
    shifts = config.effective_shifts()
    data = config.model_dump()
    data.update(staffing="shifts", reviewers=None)
    mean_review_s = config.review_minutes_mean * 60.0

    rate = _review_rate_by_week_hour(config)
    need = np.array([queueing.erlang_c_min_servers(lam, mean_review_s, target_wait_s=p95_wait_s)
                     for lam in rate])
    coverage = np.array([_shift_coverage_by_week_hour(s) for s in shifts])
    erlang = _cover_hours(need, coverage)

    def judge(counts: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        data["shifts"] = [dict(s.model_dump(), reviewers=int(c)) for s, c in zip(shifts, counts)]
        trial = GatewayConfig.model_validate(data)
        run = simulate_gateway(trial, start_utc=start_utc, horizon_s=horizon_s,
                               rng=np.random.default_rng(seed), transfer_policy=transfer_policy,
                               transfer_jobs_per_hour=transfer_jobs_per_hour)
        counted = run.reviewed & (run.arrival_s >= run.warmup_s)
        times, waits = run.arrival_s[counted], run.review_wait_s[counted]
        p95 = np.zeros(len(shifts))
        util = np.zeros(len(shifts))
        for i, shift in enumerate(shifts):
            mine = waits[_shift_active(shift, times, run.week_offset_s)]
            p95[i] = float(np.quantile(mine, 0.95)) if len(mine) else 0.0
            cap = float((run.capacity_s_by_week_hour * coverage[i]).sum())
            util[i] = float((run.busy_s_by_week_hour * coverage[i]).sum()) / cap if cap > 0 else 0.0
        return p95, util

    def feasible(counts: Sequence[int]) -> bool:
        return sum(counts) > 0

    counts = [max(c, 0) for c in erlang]
    if not feasible(counts):
        counts = [1] * len(shifts)
    p95, util = judge(counts)
    while (p95 > p95_wait_s).any():
        counts = [c + 1 if p > p95_wait_s else c for c, p in zip(counts, p95)]
        if max(counts) > max_reviewers_per_shift:
            raise ValueError(
                f"the p95 review wait target of {p95_wait_s} s is not met with "
                f"{max_reviewers_per_shift} reviewers per shift; relax the target or check the rates"
            )
        p95, util = judge(counts)
    order = np.argsort(-coverage.sum(axis=1), kind="stable")  # most reviewer-hours first
    improved = True
    while improved:
        improved = False
        for i in order:
            if counts[i] == 0:
                continue
            trial = list(counts)
            trial[i] -= 1
            if not feasible(trial):
                continue
            trial_p95, trial_util = judge(trial)
            if (trial_p95 <= p95_wait_s).all():
                counts, p95, util = trial, trial_p95, trial_util
                improved = True
    return pd.DataFrame({
        "shift": [s.name for s in shifts],
        "reviewers": counts,
        "erlang_c_reviewers": erlang,
        "p95_wait_s": p95,
        "utilisation": util,
    })


@dataclasses.dataclass
class _FieldInfo:
    """Stand-in for pydantic's ValidationInfo when reusing the validators directly."""

    field_name: str
