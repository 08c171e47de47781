"""Random streams of the gateway: every arrival, decision and service time of a run, drawn first.

Requests arrive as Poisson streams: access requests per requester region during its local
working hours (the organisation: head count x requests per person-hour), access requests per
user-driven cause (per million monthly active users per day, at the user count of each step, in
the working hours of the region that handles them or around the clock), or one 24x7 stream in
textbook mode; transfer jobs per (data class, destination) around the clock. Rates are per hour
or per day in the configuration, per second here; docs/gateway_demand.md derives them. Each
row then gets its decisions (needs review, priority class, approved, resubmitted, sampled by the
third-party monitor) and its service times in seconds (automatic check, review, inspection =
``size_gb / inspection_gb_per_s``, third-party review); transfer sizes are in GB. Denied and
resubmitted requests get child rows (resubmissions), level by level, whose arrival the queues
find (completion + delay). Outage windows are drawn last.

The draws do not depend on the transfer policy or on the engine, so every policy and both
engines see the same requests (common random numbers). :func:`draw_streams` makes them all at
once (the reference); :class:`StreamChunks` makes the very same numbers chunk by chunk for the
fast path, holding ~12 bytes per request for the whole run.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from sim.meters.gateway import ACCESS, TRANSFER
from sim.model.gateway import kernel as kernels
from sim.model.gateway.calendar import epoch_s, merge_windows, region_windows
from sim.model.gateway.distributions import sample
from sim.scenario.gateway import Distribution, GatewayConfig

__all__ = ["CHUNK_ROWS", "MIN_TIME_S", "MauPath", "Sources", "StreamChunks", "Streams", "draw_outages", "draw_streams",
           "poisson_arrivals", "user_driven_source"]

#: Every service time and resubmission delay is at least this, s (> 0).
MIN_TIME_S = 1e-6

#: Monthly active users over the run: one number for the whole run, or ``(edges_s, mau)``, the
#: users ``mau[i]`` during ``[edges_s[i], edges_s[i + 1])`` in simulation seconds (the world's steps).
MauPath = float | tuple[np.ndarray, np.ndarray]


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

    @classmethod
    def of(cls, n: int, **arrays: np.ndarray) -> Streams:
        """``n`` original rows from the given arrays; the other fields are constant read-only views.

        A field not given is 0 everywhere (-1 for ``child`` and ``parent``) without holding a
        value per row.
        """
        st = cls.__new__(cls)
        for name, dtype in cls._FIELDS.items():
            value = arrays.get(name)
            if value is None:
                value = np.broadcast_to(np.array(-1 if name in ("child", "parent") else 0, dtype=dtype), (n,))
            setattr(st, name, value)
        st.n_original = n
        st.outages = np.zeros((0, 2))
        st.factor_by_class = np.zeros(1)
        st.region_names = st.class_names = st.data_class_names = st.destination_names = ()
        return st

    def trim(self, n: int) -> None:
        """Keep the first n rows (views, no copy)."""
        for name in self._FIELDS:
            setattr(self, name, getattr(self, name)[:n])


class Sources:
    """The Poisson sources of a run: access sources, then transfer flows (no random draw here).

    The access sources are the requester regions, then the user-driven causes (each with a
    region code and label of its own, after the regions'), or the one textbook stream.

    Attributes:
        windows: per source, (n, 2) windows [start, end) in which it is active, s.
        rates: per source, arrivals per second while active: one number, or one per window
            (user-driven causes, whose rate follows the users step by step).
        kind, region, data_class, destination: per source, the codes its rows get (-1 where
            not applicable).
        review: per source, the probability that a row needs human review.
        factor_by_class: pseudonymisation factor by data class code, then 0 (for code -1).
        region_names, data_class_names, destination_names: code labels.
    """

    def __init__(self, config: GatewayConfig, start_utc: _dt.datetime, horizon_s: float,
                 transfer_jobs_per_hour: Mapping[tuple[str, str], float] | None,
                 mau: MauPath | None = None) -> None:
        epoch = epoch_s(start_utc)
        access_rates: list[float | np.ndarray]
        if config.access_requests_per_hour is not None:
            region_names: tuple[str, ...] = ("all",)
            access_windows = [np.array([[0.0, horizon_s]])]
            access_rates = [config.access_requests_per_hour / 3600.0]
            review_prob = [1.0]
        else:
            region_names = tuple(r.name for r in config.regions) + tuple(c.name for c in config.user_driven)
            access_windows = [region_windows(r, epoch, horizon_s) for r in config.regions]
            access_rates = [r.rate_per_hour() / 3600.0 for r in config.regions]
            review_prob = [1.0 if not r.in_zone else r.restricted_share for r in config.regions]
            for cause in config.user_driven:
                if mau is None and cause.requests_per_million_mau_per_day > 0:
                    raise ValueError(
                        f"user-driven cause {cause.name!r} scales with the users: give mau (monthly active users)")
                windows, rates = user_driven_source(config, cause.name, epoch, horizon_s, 0.0 if mau is None else mau)
                access_windows.append(windows)
                access_rates.append(rates)
                review_prob.append(cause.review_share)
        if transfer_jobs_per_hour is None:
            flows = [(f.data_class, f.destination, f.jobs_per_hour) for f in config.transfers.flows]
        else:
            flows = [(dc, dest, float(rate)) for (dc, dest), rate in transfer_jobs_per_hour.items()]
            bad = [(dc, dest, rate) for dc, dest, rate in flows if not (rate >= 0 and math.isfinite(rate))]
            if bad:
                raise ValueError(f"transfer_jobs_per_hour must be finite and >= 0, got {bad}")
        data_class_names = tuple(dict.fromkeys(dc for dc, _, _ in flows))
        destination_names = tuple(dict.fromkeys(dest for _, dest, _ in flows))
        n_regions = len(access_windows)
        self.windows = access_windows + [np.array([[0.0, horizon_s]])] * len(flows)
        self.rates = access_rates + [rate / 3600.0 for _, _, rate in flows]
        self.kind = np.array([ACCESS] * n_regions + [TRANSFER] * len(flows), dtype=np.int8)
        self.region = np.array(list(range(n_regions)) + [-1] * len(flows), dtype=np.int16)
        self.data_class = np.array([-1] * n_regions + [data_class_names.index(dc) for dc, _, _ in flows],
                                   dtype=np.int16)
        self.destination = np.array([-1] * n_regions + [destination_names.index(d) for _, d, _ in flows],
                                    dtype=np.int16)
        self.review = np.array(review_prob + [0.0] * len(flows))
        self.factor_by_class = np.array([config.transfers.factor(dc) for dc in data_class_names] + [0.0])
        self.region_names = region_names
        self.class_names = tuple(c.name for c in config.priority_classes)
        self.data_class_names = data_class_names
        self.destination_names = destination_names

    def expected_counts(self) -> np.ndarray:
        """Expected arrivals of each source over the run (integral of its rate; no random draw)."""
        return np.array([float(np.sum((w[:, 1] - w[:, 0]) * np.asarray(r, dtype=np.float64)))
                         for w, r in zip(self.windows, self.rates)])

    def name(self, st: Streams) -> None:
        """Give drawn rows the code labels and pseudonymisation factors of these sources."""
        st.factor_by_class = self.factor_by_class
        st.region_names = self.region_names
        st.class_names = self.class_names
        st.data_class_names = self.data_class_names
        st.destination_names = self.destination_names


def user_driven_source(
    config: GatewayConfig, cause: str, epoch: float, horizon_s: float, mau: MauPath
) -> tuple[np.ndarray, np.ndarray]:
    """Windows and rates of one user-driven cause: its daily rate at each step's users.

    The requests per calendar day (``requests_per_million_mau_per_day x users / 1e6``) arrive in
    the handling region's working windows (or around the clock), at the rate that gives that
    daily mean over a whole week: ``7 x per day / working hours per week``. Windows are cut at
    the steps of ``mau`` so that each piece has the users of its step.

    Args:
        config: the gateway configuration.
        cause: name of the cause in ``config.user_driven``.
        epoch: POSIX seconds of simulation time 0.
        horizon_s: end of the simulated time, s.
        mau: monthly active users over the run (:data:`MauPath`).

    Returns:
        ((n, 2) windows [start, end) in s, (n,) arrivals per second in each).
    """
    spec = next(c for c in config.user_driven if c.name == cause)
    if spec.handled_by is None:
        base, hours_per_week = np.array([[0.0, horizon_s]]), 168.0
    else:
        region = config.region(spec.handled_by)
        base, hours_per_week = region_windows(region, epoch, horizon_s), region.working_hours_per_week()
    if isinstance(mau, tuple):
        edges, users = np.asarray(mau[0], dtype=np.float64), np.asarray(mau[1], dtype=np.float64)
        if len(edges) != len(users) + 1 or len(users) == 0:
            raise ValueError(f"mau must be (edges_s (T+1,), users (T,)), got {len(edges)} edges and {len(users)} values")
    else:
        edges, users = np.array([0.0, horizon_s]), np.array([float(mau)])
    if not (np.all(np.isfinite(users)) and np.all(users >= 0)):
        raise ValueError("mau must be finite and >= 0")
    cuts = np.unique(np.concatenate([base.ravel(), edges, [0.0, horizon_s]]))
    cuts = cuts[(cuts >= 0.0) & (cuts <= horizon_s)]
    lo, hi = cuts[:-1], cuts[1:]
    mids = (lo + hi) / 2.0
    idx = np.searchsorted(base[:, 0], mids, side="right") - 1 if len(base) else np.full(len(mids), -1)
    inside = (idx >= 0) & (mids < base[np.maximum(idx, 0), 1]) if len(base) else np.zeros(len(mids), dtype=bool)
    step = np.clip(np.searchsorted(edges, mids, side="right") - 1, 0, len(users) - 1)
    per_s = spec.requests_per_million_mau_per_day * users[step] / 1e6 * 7.0 / (hours_per_week * 3600.0)
    keep = inside & (per_s > 0.0)
    return np.stack([lo[keep], hi[keep]], axis=1), per_s[keep]


def poisson_arrivals(
    rng: np.random.Generator, windows: list[np.ndarray], rates_per_s: Sequence[float | np.ndarray], horizon_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Superposed Poisson arrivals of several sources with piecewise-constant rates.

    The total rate is piecewise constant between the window edges; arrivals are the unit
    Poisson process mapped through the inverse cumulative intensity (exact, already sorted)
    and each is assigned to a source with probability proportional to its current rate.

    Args:
        rng: the random stream.
        windows: per source, (n, 2) windows [start, end) in which it is active, s.
        rates_per_s: per source, arrivals per second while active (one number, or one per window).
        horizon_s: arrivals fall in [0, horizon_s).

    Returns:
        (times, source) sorted by time.
    """
    bounds, total_rate, cum, cum_p = _intensity(windows, rates_per_s, horizon_s)
    if cum[-1] <= 0.0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    gamma = _unit_points(rng, cum[-1])
    times, source = kernels.arrivals_from_intensity(gamma, cum, bounds, total_rate, cum_p,
                                                    rng.random(len(gamma)))
    np.minimum(times, np.nextafter(horizon_s, 0.0), out=times)
    return times, source


def _intensity(
    windows: list[np.ndarray], rates_per_s: Sequence[float | np.ndarray], horizon_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The superposed sources as pieces of constant rate (no random draw).

    Returns:
        (bounds (k+1,) s, total rate (k,) per s, cumulative intensity (k+1,), cumulative source
        probabilities (k, sources)) of the k pieces between the window edges.
    """
    edges = [np.array([0.0, horizon_s])] + [w.ravel() for w in windows]
    bounds = np.unique(np.concatenate(edges))
    bounds = bounds[(bounds >= 0.0) & (bounds <= horizon_s)]
    mids = (bounds[:-1] + bounds[1:]) / 2.0
    rates = np.zeros((len(mids), len(windows)))
    for s, (w, rate) in enumerate(zip(windows, rates_per_s)):
        r = np.asarray(rate, dtype=np.float64)
        if len(w) == 0 or (r.ndim == 0 and r <= 0):
            continue
        idx = np.searchsorted(w[:, 0], mids, side="right") - 1
        inside = (idx >= 0) & (mids < w[np.maximum(idx, 0), 1])
        rates[inside, s] = r if r.ndim == 0 else r[idx[inside]]
    total_rate = rates.sum(axis=1)
    cum = np.concatenate([[0.0], np.cumsum(total_rate * np.diff(bounds))])
    cum_p = np.cumsum(rates, axis=1) / np.where(total_rate > 0, total_rate, 1.0)[:, None]
    cum_p[:, -1] = 1.0
    return bounds, total_rate, cum, cum_p


def _unit_points(rng: np.random.Generator, total: float) -> np.ndarray:
    """The points of a unit-rate Poisson process below ``total``, sorted (a view of the draws)."""
    m = int(total + 6.0 * math.sqrt(total) + 20)
    gamma = rng.standard_exponential(m)
    np.cumsum(gamma, out=gamma)
    while gamma[-1] < total:  # rare: draw more points
        more = rng.standard_exponential(int(6.0 * math.sqrt(total) + 20))
        np.cumsum(more, out=more)
        more += gamma[-1]
        gamma = np.concatenate([gamma, more])
    return gamma[: np.searchsorted(gamma, total)]


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
    mau: MauPath | None = None,
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
        mau: monthly active users over the run (:data:`MauPath`), for the user-driven causes.

    Returns:
        The drawn rows.

    Raises:
        ValueError: for a negative or non-finite transfer rate, or user-driven causes without ``mau``.
    """
    arrival_rng, row_rng, resub_rng, outage_rng = rng.spawn(4)
    src = Sources(config, start_utc, horizon_s, transfer_jobs_per_hour, mau)
    times, source = poisson_arrivals(arrival_rng, src.windows, src.rates, horizon_s)
    n = len(times)
    src_kind, src_region, src_class, src_dest, src_review = src.kind, src.region, src.data_class, src.destination, src.review
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
    st.factor_by_class = src.factor_by_class

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
    src.name(st)
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


# --------------------------------------------------------------------------------------
# the same draws, chunk by chunk (the fast path)
# --------------------------------------------------------------------------------------

#: Original rows drawn and handed to the queues at a time by :class:`StreamChunks`.
CHUNK_ROWS = 1 << 15

# decision flags of an original row (``StreamChunks.flags``)
_NEEDS_REVIEW, _APPROVED, _RESUBMIT, _THIRD_PARTY = 1, 2, 4, 8


def _clone(rng: np.random.Generator) -> np.random.Generator:
    """A generator of the same kind in the same state (drawing from one leaves the other)."""
    out = np.random.Generator(type(rng.bit_generator)())
    out.bit_generator.state = rng.bit_generator.state
    return out


def _can_jump(rng: np.random.Generator) -> bool:
    """Whether ``rng.bit_generator.advance(n)`` moves ``rng`` exactly as ``rng.random(n)`` would.

    True for PCG64 generators (one 64-bit output per double) without a buffered 32-bit half
    (which ``advance`` would drop).
    """
    bits = rng.bit_generator
    return isinstance(bits, np.random.PCG64 | np.random.PCG64DXSM) and not bits.state.get("has_uint32", 0)


def _jumped(rng: np.random.Generator, n: int) -> np.random.Generator:
    """A copy of ``rng`` (:func:`_can_jump`) moved past ``n`` uniform doubles; ``rng`` is left as it is."""
    out = _clone(rng)
    out.bit_generator.advance(n)
    return out


def _passed(dist: Distribution, rng: np.random.Generator, n: int, chunk_rows: int) -> np.random.Generator:
    """``rng`` moved past the draws of ``sample(dist, rng, n)`` (:func:`_pass`), returned."""
    _pass(dist, rng, n, chunk_rows)
    return rng


def _skip_uniforms(rng: np.random.Generator, n: int, chunk_rows: int) -> None:
    """Move ``rng`` past ``n`` uniform doubles, as ``rng.random(n)`` would."""
    if _can_jump(rng):
        rng.bit_generator.advance(n)  # one 64-bit output per double
        return
    for lo in range(0, n, chunk_rows):
        rng.random(min(chunk_rows, n - lo))


def _pass(dist: Distribution, rng: np.random.Generator, n: int, chunk_rows: int) -> None:
    """Move ``rng`` past the draws of ``sample(dist, rng, n)`` without computing the values.

    The same bits are used: a lognormal draw is ``exp`` of a standard normal one, an
    exponential draw a standard exponential one, so the cheaper draws move the generator alike.
    """
    buf = np.empty(min(n, chunk_rows))
    for lo in range(0, n, chunk_rows):
        k = min(chunk_rows, n - lo)
        if dist.kind == "exponential":
            rng.standard_exponential(out=buf[:k])
        elif dist.kind == "lognormal":
            rng.standard_normal(out=buf[:k])
        elif dist.kind == "empirical":
            sample(dist, rng, k)
        # deterministic: no draw


def _fixed(threshold: np.ndarray) -> bool:
    """Whether ``u < threshold`` is decided without u (every threshold <= 0 or >= 1)."""
    return bool(np.all((threshold <= 0.0) | (threshold >= 1.0)))


class StreamChunks:
    """The draws of :func:`draw_streams`, value for value, handed out chunk by chunk.

    :func:`draw_streams` fills every per-row array of the run at once. This class makes the same
    draws from the same child streams in the same order, but holds for the whole run only what
    is compact: per original row its arrival time (8 bytes), source (2), decision flags (1) and
    priority class (1), and the resubmission rows in full (about 1 % of the rows). Service times
    and sizes are drawn when :meth:`chunk` hands out the rows: each group of draws (automatic
    check times, review times, third-party times, sizes) has its own generator, placed where
    :func:`draw_streams` starts that group, so drawing the groups chunk by chunk gives the same
    numbers (where a group follows draws of varying length, those are drawn once more beforehand,
    as the cheaper standard draws that use the same bits, to find where it starts). Draws whose
    values nothing uses (service times without a gateway, automatic check
    times without the stage, third-party times without the monitor) are not made, and uniforms
    whose outcome is certain (shares 0 or 1) are skipped by moving the generator past them.
    With a PCG64 stream the decision uniforms of a long run are drawn on two threads, each half of
    the rows from copies of the stream jumped to its first row, so they are the same numbers.

    Attributes:
        n: number of original rows.
        times: (n,) arrival times of the originals, s.
        resub: the resubmission rows (rows ``n + i``), as :class:`Streams` (``parent`` and
            ``child`` hold global rows).
        outages: (k, 2) merged outage windows, s.
        sources: the :class:`Sources` of the run.
    """

    def __init__(
        self,
        config: GatewayConfig,
        start_utc: _dt.datetime,
        horizon_s: float,
        rng: np.random.Generator,
        transfer_jobs_per_hour: Mapping[tuple[str, str], float] | None,
        *,
        gateway_on: bool = True,
        chunk_rows: int = CHUNK_ROWS,
        mau: MauPath | None = None,
    ) -> None:
        self.config = config
        self.chunk_rows = int(chunk_rows)
        arrival_rng, row_rng, resub_rng, outage_rng = rng.spawn(4)
        src = self.sources = Sources(config, start_utc, horizon_s, transfer_jobs_per_hour, mau)
        self.times, self.source = _compact_arrivals(arrival_rng, src.windows, src.rates, horizon_s, self.chunk_rows)
        self.n = len(self.times)
        self._decisions(row_rng, gateway_on)
        self._service_generators(row_rng, gateway_on)
        self._resubmissions(resub_rng)
        self.outages = draw_outages(config, outage_rng, horizon_s)
        self._next = 0
        self._parent_rank = 0

    # ------------------------------------------------------------------ construction

    def _decisions(self, rng: np.random.Generator, gateway_on: bool) -> None:
        """Review need, class, outcome, resubmission and third-party flags of every original.

        A group of uniforms whose outcome is certain for every source that has rows (shares 0
        or 1) is skipped, and so are the third-party uniforms when nothing uses them (no
        monitor in the route and no transfer sizes drawn after the monitor's times).
        """
        config, src, n, chunk = self.config, self.sources, self.n, self.chunk_rows
        self.flags = flags = np.zeros(n, dtype=np.uint8)
        self.prio = prio = np.zeros(n, dtype=np.int8)
        tp = config.third_party
        present = np.bincount(self.source, minlength=len(src.kind)) > 0
        self.has_transfers = bool((present & (src.kind != ACCESS)).any())
        access = (src.kind == ACCESS).view(np.int8)
        groups = (  # (flag, threshold per group, group per source, used)
            (_NEEDS_REVIEW, src.review, np.arange(len(src.kind)), True),
            (None, None, None, True),  # class
            (_APPROVED, np.array([config.approve_probability, config.transfers.approve_probability]), src.kind, True),
            (_RESUBMIT, np.array([config.resubmit_share, 0.0]), src.kind, True),
            (_THIRD_PARTY, np.array([tp.transfer_share, tp.access_share]), access,
             (gateway_on and tp.enabled) or self.has_transfers),
        )
        shares = np.cumsum([c.share for c in config.priority_classes])
        # each group takes n uniforms in turn: those of the groups whose outcome is not certain
        # are looked at, by group number: (flag, thresholds per source) (flag None: the class)
        drawn: dict[int, tuple[int | None, np.ndarray | None]] = {}
        fixed: list[tuple[int, np.ndarray]] = []
        for g, (bit, threshold, group_of_source, used) in enumerate(groups):
            if bit is None:
                if len(shares) > 1:
                    drawn[g] = (None, None)
                continue
            if not used:
                continue
            per_source = threshold[group_of_source]
            if _fixed(per_source[present]):
                fixed.append((bit, per_source))
            else:
                drawn[g] = (bit, per_source)

        def draw_group(g: int, gen: np.random.Generator, lo: int, hi: int) -> None:
            """Group g's uniforms of rows [lo, hi) from ``gen`` (placed at row lo), chunk by chunk."""
            bit, per_source = drawn[g]
            buf = np.empty(min(hi - lo, chunk))
            for a in range(lo, hi, chunk):
                b = min(hi, a + chunk)
                u = gen.random(out=buf[:b - a])
                if bit is not None:
                    kernels.mark_below(u, self.source[a:b], per_source, flags[a:b], bit)
                elif len(shares) == 2:
                    prio[a:b] = u >= shares[0]
                else:
                    prio[a:b] = np.searchsorted(shares[:-1], u, side="right")

        def draw_half(lo: int, hi: int) -> None:
            """Every drawn group's uniforms of rows [lo, hi), each from a copy of ``rng`` jumped there."""
            for g in drawn:
                draw_group(g, _jumped(rng, g * n + lo), lo, hi)

        self._after_auto: Future | None = None
        if drawn and _can_jump(rng) and n >= 2 * chunk:
            # rows in two halves on two threads, each group's uniforms from a copy of the stream
            # jumped to the half's first row (one 64-bit output per uniform): the same values as
            # in one pass. The automatic check times' pass (the next draws of this stream, see
            # _service_generators) runs beside them.
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gateway-decisions") as pool:
                second = pool.submit(draw_half, n // 2, n)
                if config.auto_check and (gateway_on or self.has_transfers):  # the pass is needed
                    self._after_auto = pool.submit(_passed, config.auto_check_s, _jumped(rng, len(groups) * n), n,
                                                   chunk)
                draw_half(0, n // 2)
                second.result()
            rng.bit_generator.advance(len(groups) * n)
        else:
            for g in range(len(groups)):
                if g in drawn:
                    draw_group(g, rng, 0, n)
                else:
                    _skip_uniforms(rng, n, chunk)
        for bit, per_source in fixed:
            on = np.flatnonzero(present & (per_source >= 1.0))
            if len(on) == present.sum():
                flags |= np.uint8(bit)
            elif len(on):
                flags |= np.isin(self.source, on).view(np.uint8) * np.uint8(bit)
        # what is the same for every row is handed out as a constant view, not an array per chunk
        on, off = (np.bitwise_and.reduce(flags), ~np.bitwise_or.reduce(flags)) if n else (0, 0)
        self._same_bits = {bit: bool(on & bit) for bit in (_NEEDS_REVIEW, _APPROVED, _RESUBMIT, _THIRD_PARTY)
                           if (on | off) & bit}
        self._one_source = int(np.flatnonzero(present)[0]) if present.sum() == 1 else None
        self._one_class = len(shares) == 1

    def _service_generators(self, rng: np.random.Generator, gateway_on: bool) -> None:
        """One generator per group of service draws, placed where :func:`draw_streams` starts it."""
        config, n, chunk = self.config, self.n, self.chunk_rows
        tp = config.third_party
        counts = [n if config.auto_check else 0, 0, 0, 0]
        for lo in range(0, n, chunk):
            f = self.flags[lo:lo + chunk]
            is_access = self.sources.kind[self.source[lo:lo + chunk]] == ACCESS
            review = (f & _NEEDS_REVIEW) > 0
            counts[1] += int(np.count_nonzero(review))
            counts[2] += int(np.count_nonzero(((f & _THIRD_PARTY) > 0) & (review | ~is_access)))
            counts[3] += int(np.count_nonzero(~is_access))
        self._dists = (
            (config.auto_check_s, 1.0), (config.review_time(), 60.0), (tp.review_minutes, 60.0),
            (config.transfers.size_gb, 1.0))
        used = [gateway_on and config.auto_check, gateway_on, gateway_on and tp.enabled, True]
        self._gens: list[np.random.Generator | None] = [None] * 4
        for k in range(4):
            if counts[k] == 0:
                continue
            if used[k]:
                self._gens[k] = _clone(rng)
            if not any(used[j] and counts[j] > 0 for j in range(k + 1, 4)):
                break
            if k == 0 and self._after_auto is not None:  # passed beside the decisions
                rng = self._after_auto.result()
                continue
            _pass(self._dists[k][0], rng, counts[k], chunk)

    def _resubmissions(self, rng: np.random.Generator) -> None:
        """Resubmission rows, level by level, exactly as :func:`draw_streams` draws them."""
        config, src, n = self.config, self.sources, self.n
        f = self.flags
        parents = np.flatnonzero((f & (_NEEDS_REVIEW | _APPROVED | _RESUBMIT)) == (_NEEDS_REVIEW | _RESUBMIT))
        first = len(parents) if config.max_resubmissions > 0 else 0
        st = Streams(first * config.max_resubmissions, 0)
        self.first_delay = np.zeros(0)
        lo, hi = 0, 0
        for level in range(config.max_resubmissions):
            if level > 0:
                parents = lo + np.flatnonzero(st.needs_review[lo:hi] & ~st.approved[lo:hi] & st.resubmit[lo:hi])
            m = len(parents)
            if m == 0:
                break
            new = slice(hi, hi + m)
            delay = np.maximum(sample(config.resubmit_delay_h, rng, m, 3600.0), MIN_TIME_S)
            if level == 0:
                self.first_delay = delay
                st.parent[new] = parents
                st.region[new] = src.region[self.source[parents]]
                st.prio[new] = self.prio[parents]
            else:
                st.child[parents] = n + np.arange(hi, hi + m)
                st.resub_delay[parents] = delay
                st.parent[new] = n + parents
                st.region[new] = st.region[parents]
                st.prio[new] = st.prio[parents]
            st.kind[new] = ACCESS
            st.data_class[new] = -1
            st.destination[new] = -1
            st.needs_review[new] = True
            st.approved[new] = rng.random(m) < config.approve_probability
            st.resubmit[new] = rng.random(m) < config.resubmit_share
            _draw_row_services(config, rng, st, hi, hi + m, np.ones(m, dtype=bool))
            lo, hi = hi, hi + m
        st.trim(hi)
        src.name(st)
        self.resub = st

    # ------------------------------------------------------------------ handing out rows

    def chunk(self, lo: int, hi: int) -> Streams:
        """Rows ``[lo, hi)`` of the originals with all their draws (chunks must come in order).

        Returns:
            The rows as :class:`Streams` (``child`` holds global rows of resubmissions).
        """
        if lo != self._next or not lo < hi <= self.n:
            raise ValueError(f"chunks must come in order: expected rows from {self._next}, got [{lo}, {hi})")
        self._next = hi
        config, src = self.config, self.sources
        m = hi - lo
        f = self.flags[lo:hi]

        def same(value: object, dtype: type) -> np.ndarray:  # one value for every row, as a view
            return np.broadcast_to(np.array(value, dtype=dtype), (m,))

        if self._one_source is None:
            source = self.source[lo:hi]
            fields = {name: getattr(src, name)[source] for name in ("kind", "region", "data_class", "destination")}
        else:
            fields = {name: same(getattr(src, name)[self._one_source], getattr(src, name).dtype)
                      for name in ("kind", "region", "data_class", "destination")}
        for name, bit in (("needs_review", _NEEDS_REVIEW), ("approved", _APPROVED), ("resubmit", _RESUBMIT),
                          ("third_party", _THIRD_PARTY)):
            fields[name] = same(self._same_bits[bit], np.bool_) if bit in self._same_bits else (f & bit) > 0
        fields["arrival"] = self.times[lo:hi]
        fields["prio"] = same(0, np.int8) if self._one_class else self.prio[lo:hi]
        kind = fields["kind"]
        is_access = kind == ACCESS
        gens, dists = self._gens, self._dists
        if gens[0] is not None:
            s_auto = sample(dists[0][0], gens[0], m)
            np.maximum(s_auto, MIN_TIME_S, out=s_auto)
            np.multiply(s_auto, is_access, out=s_auto)
            fields["s_auto"] = s_auto
        if gens[1] is not None:
            fields["s_review"] = _scattered(fields["needs_review"], lambda k: np.maximum(
                sample(dists[1][0], gens[1], k, 60.0), MIN_TIME_S))
        if gens[2] is not None:
            fields["s_third"] = _scattered(fields["third_party"] & (fields["needs_review"] | ~is_access),
                                           lambda k: np.maximum(sample(dists[2][0], gens[2], k, 60.0), MIN_TIME_S))
        if gens[3] is not None:
            size = _scattered(~is_access, lambda k: sample(dists[3][0], gens[3], k))
            if size is not None:
                fields["size_gb"] = size
                fields["s_inspect"] = np.where(is_access, 0.0, np.maximum(size / config.transfers.inspection_gb_per_s,
                                                                            MIN_TIME_S))
        if len(self.first_delay):
            parents = np.flatnonzero(fields["needs_review"] & ~fields["approved"] & fields["resubmit"])
            if len(parents):
                rank = self._parent_rank + np.arange(len(parents))
                self._parent_rank += len(parents)
                child = np.full(m, -1, dtype=np.int64)
                child[parents] = self.n + rank
                delay = np.zeros(m)
                delay[parents] = self.first_delay[rank]
                fields.update(child=child, resub_delay=delay)
        st = Streams.of(m, **{k: v for k, v in fields.items() if v is not None})
        src.name(st)
        return st


def _scattered(rows: np.ndarray, draw: Callable[[int], np.ndarray]) -> np.ndarray | None:
    """Values drawn for the rows where ``rows`` is True, 0 elsewhere (None when no row is)."""
    k = int(np.count_nonzero(rows))
    if k == 0:
        return None
    if k == len(rows):
        return draw(k)
    out = np.zeros(len(rows))
    out[rows] = draw(k)
    return out


def _compact_arrivals(
    rng: np.random.Generator, windows: list[np.ndarray], rates_per_s: Sequence[float | np.ndarray], horizon_s: float,
    chunk_rows: int,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`poisson_arrivals` holding 10 bytes per arrival: times computed in place, int16 sources.

    The same draws in the same order (the source uniforms chunk by chunk; none with one source,
    since nothing is drawn from this stream after them).
    """
    bounds, total_rate, cum, cum_p = _intensity(windows, rates_per_s, horizon_s)
    if cum[-1] <= 0.0:
        return np.zeros(0), np.zeros(0, dtype=np.int16)
    times = _unit_points(rng, cum[-1])  # mapped to arrival times in place below
    n = len(times)
    source = np.empty(n, dtype=np.int16)
    seg, last = 0, 0.0
    none = np.zeros(0)
    for lo in range(0, n, chunk_rows):
        hi = min(n, lo + chunk_rows)
        u = rng.random(hi - lo) if len(windows) > 1 else none
        seg, last = kernels.map_arrivals(times[lo:hi], cum, bounds, total_rate, cum_p, u, times[lo:hi],
                                         source[lo:hi], seg, last)
    np.minimum(times, np.nextafter(horizon_s, 0.0), out=times)
    return times, source
