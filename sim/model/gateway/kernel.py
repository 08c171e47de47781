"""Compiled exact kernels for hot loops, each with a plain-Python twin.

``gateway_queues`` is the fast path of the security gateway (``sim.model.gateway``): an
event loop over pre-drawn per-request random streams that reproduces, request by request,
the SimPy reference ``sim.model.gateway.simulate_gateway(..., method="simpy")``.

What is modelled (times in seconds from the simulation start):

* four multi-server stages, in this fixed order along a request's route:
  0 automatic policy check, 1 human review (priority classes), 2 transfer inspection nodes,
  3 third-party monitoring. A request visits the stages whose bit is set in ``route``;
* each stage serves its queue non-preemptively in order of the key
  (priority class [review stage only, else 0], time the request joined the queue, row),
  kept as one FIFO array per stage and class (a row joins each queue at most once);
* the number of servers of a stage is ``staff[k]``; the review stage instead follows a
  weekly-periodic pattern (``shift_t``/``shift_v``) and stages flagged in ``outage_mask``
  have no server during outage windows. When capacity drops, services in progress finish
  and their servers do not take new work while busy >= capacity;
* "batch at an instant" rule: all arrivals, completions and capacity changes at the same
  instant are applied first, then each stage starts as many services as it can;
* a request whose route is finished at time t and that has a resubmission (``child``)
  makes the child arrive at t + ``resub_delay`` if that is before ``horizon_s``.

Capacity-change times are produced exactly as the SimPy processes produce them
(``now + (target - now)``), so that both see bit-identical event times.

The plain-Python twins (``*_py``) are the very same functions run by the interpreter; tests
hold the compiled and the plain versions equal.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "AUTO",
    "arrivals_from_intensity",
    "arrivals_from_intensity_py",
    "below_by_group",
    "below_by_group_py",
    "INSPECT",
    "N_STAGES",
    "REVIEW",
    "THIRD_PARTY",
    "bin_intervals",
    "bin_intervals_py",
    "gateway_queues",
    "gateway_queues_py",
]

AUTO = 0
REVIEW = 1
INSPECT = 2
THIRD_PARTY = 3
N_STAGES = 4
_DONE = 4
_NOT_ARRIVED = -1


@njit(cache=True)
def _heap_push(ht, hr, k, size, t, r):
    """Push (t, r) on min-heap k (row k of ``ht``/``hr``) keyed by time; returns new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if t < ht[k, parent]:
            ht[k, i] = ht[k, parent]
            hr[k, i] = hr[k, parent]
            i = parent
        else:
            break
    ht[k, i] = t
    hr[k, i] = r
    return size + 1


@njit(cache=True)
def _heap_pop(ht, hr, k, size):
    """Remove the top of min-heap k; returns the new size."""
    size -= 1
    if size == 0:
        return 0
    t = ht[k, size]
    r = hr[k, size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and ht[k, c + 1] < ht[k, c]:
            c += 1
        if ht[k, c] < t:
            ht[k, i] = ht[k, c]
            hr[k, i] = hr[k, c]
            i = c
        else:
            break
    ht[k, i] = t
    hr[k, i] = r
    return size


@njit(cache=True)
def _queue_of(k, r, prio):
    """Queue index of row r at stage k: one FIFO per stage, one per class at review."""
    if k == REVIEW:
        return 3 + prio[r]
    if k == AUTO:
        return 0
    if k == INSPECT:
        return 1
    return 2


@njit(cache=True)
def _q_push(q, head, tail, j, r, tin):
    """Append row r to FIFO queue j, keeping (time joined, row) order.

    Rows join at the current instant, so times joined never decrease along a queue; only
    rows joining at the same instant may need reordering by row number. Every row joins a
    queue at most once, so a queue never needs more than n slots and is never wrapped.
    """
    pos = tail[j]
    t = tin[r]
    while pos > head[j] and q[j, pos - 1] > r and tin[q[j, pos - 1]] == t:
        q[j, pos] = q[j, pos - 1]
        pos -= 1
    q[j, pos] = r
    tail[j] += 1


@njit(cache=True)
def _next_stage(route_bits, k):
    """First stage after k on the route (``_DONE`` when there is none)."""
    for j in range(k + 1, 4):
        if route_bits & (1 << j):
            return j
    return _DONE


@njit(cache=True)
def gateway_queues(
    arrival,
    n_original,
    route,
    prio,
    s_auto,
    s_review,
    s_inspect,
    s_third,
    child,
    resub_delay,
    horizon_s,
    staff,
    shift_t,
    shift_v,
    period_s,
    outage_start,
    outage_end,
    outage_mask,
):
    """Run the gateway queues on pre-drawn streams (exact event loop).

    Args:
        arrival: (n,) float64 arrival times; rows ``[0, n_original)`` are sorted and known,
            later rows are resubmissions whose arrival is found by the run (NaN on input).
        n_original: number of rows with a known arrival.
        route: (n,) uint8 bit mask of the stages a row visits (bit k = stage k).
        prio: (n,) int64 priority class at the review stage (0 = served first).
        s_auto: (n,) float64 service times (> 0) at the automatic check.
        s_review: (n,) float64 service times (> 0) at human review.
        s_inspect: (n,) float64 service times (> 0) at transfer inspection.
        s_third: (n,) float64 service times (> 0) at third-party monitoring.
        child: (n,) int64 row of the resubmission of this row, or -1.
        resub_delay: (n,) float64 delay from this row's completion to its child's arrival.
        horizon_s: children arriving at or after this time are not simulated.
        staff: (4,) int64 servers of each stage (the review entry is ignored).
        shift_t: starts of the steps of the weekly pattern of review servers
            (``shift_t[0] == 0``), within each period.
        shift_v: review servers from ``shift_t[j]`` on: ``shift_v[j]``.
        period_s: the pattern's period (one week).
        outage_start: starts of the sorted, disjoint, non-touching outage windows.
        outage_end: ends of the outage windows.
        outage_mask: (4,) bool, stages that stop during outages.

    Returns:
        (arrival, wait, service, review_start, review_wait, done, complete): the arrival
        times with resubmissions filled in, total queueing wait, total service time, start
        of and wait before the review service (NaN if none) and completion time of every
        row (NaN if the row was not simulated), and whether every simulated row completed.
    """
    n = arrival.shape[0]
    arr = arrival.copy()
    wait = np.zeros(n, np.float64)
    service = np.zeros(n, np.float64)
    review_start = np.full(n, np.nan)
    review_wait = np.full(n, np.nan)
    done = np.full(n, np.nan)
    tin = np.zeros(n, np.float64)
    cur = np.full(n, _NOT_ARRIVED, np.int64)

    # Completions: one small heap per stage (at most one entry per server). Pending
    # resubmissions: their own heap. Arrays have fixed room and are never grown (growing
    # inside the loop costs a factor 2-3); np.empty pages are committed only when touched.
    servers = staff.copy()
    servers[REVIEW] = shift_v.max()
    ct = np.empty((4, servers.max() + 1), np.float64)
    cr = np.empty((4, servers.max() + 1), np.int64)
    csize = np.zeros(4, np.int64)
    rt = np.empty((1, n - n_original + 1), np.float64)
    rr = np.empty((1, n - n_original + 1), np.int64)
    rsize = 0
    n_classes = 1
    for r in range(n):
        if prio[r] + 1 > n_classes:
            n_classes = prio[r] + 1
    q = np.empty((3 + n_classes, n + 1), np.int64)
    head = np.zeros(3 + n_classes, np.int64)
    tail = np.zeros(3 + n_classes, np.int64)
    busy = np.zeros(4, np.int64)
    down = False
    dirty = np.zeros(4, np.bool_)

    # Review shift chain (mirrors the SimPy shift process).
    n_pattern = shift_t.shape[0]
    servers[REVIEW] = shift_v[0]
    shift_now = 0.0
    shift_j = 1
    shift_week = 0
    next_shift = np.inf
    if n_pattern > 1:
        next_shift = shift_now + (shift_t[1] - shift_now)

    # Outage chain (mirrors the SimPy outage process).
    n_out = outage_start.shape[0]
    out_i = 0
    out_now = 0.0
    next_out = np.inf
    if n_out > 0:
        if outage_start[0] > out_now:
            next_out = out_now + (outage_start[0] - out_now)
        else:
            down = True
            next_out = out_now + (outage_end[0] - out_now)

    remaining = n_original
    ia = 0
    while remaining > 0:
        t = np.inf
        if ia < n_original:
            t = arr[ia]
        for k in range(4):
            if csize[k] > 0 and ct[k, 0] < t:
                t = ct[k, 0]
        if rsize > 0 and rt[0, 0] < t:
            t = rt[0, 0]
        if next_shift < t:
            t = next_shift
        if next_out < t:
            t = next_out
        if t == np.inf:
            break

        # 1. arrivals at t: original requests, then resubmissions
        while True:
            if ia < n_original and arr[ia] == t:
                r = ia
                ia += 1
            elif rsize > 0 and rt[0, 0] == t:
                r = rr[0, 0]
                rsize = _heap_pop(rt, rr, 0, rsize)
            else:
                break
            k = -1
            j = _next_stage(route[r], k)
            if j == _DONE:
                done[r] = t
                cur[r] = _DONE
                remaining -= 1
                c = child[r]
                if c >= 0:
                    ta = t + resub_delay[r]
                    if ta < horizon_s:
                        arr[c] = ta
                        rsize = _heap_push(rt, rr, 0, rsize, ta, c)
                        remaining += 1
            else:
                tin[r] = t
                cur[r] = j
                _q_push(q, head, tail, _queue_of(j, r, prio), r, tin)
                dirty[j] = True

        # 2. completions at t: free the server, go on along the route or finish
        #    (the same steps as for an arrival above, written out again on purpose: moving them
        #    into an @njit helper returning (delta, heap size) made a 19 M-request year 3x slower)
        for k in range(4):
            while csize[k] > 0 and ct[k, 0] == t:
                r = cr[k, 0]
                csize[k] = _heap_pop(ct, cr, k, csize[k])
                busy[k] -= 1
                dirty[k] = True
                j = _next_stage(route[r], k)
                if j == _DONE:
                    done[r] = t
                    cur[r] = _DONE
                    remaining -= 1
                    c = child[r]
                    if c >= 0:
                        ta = t + resub_delay[r]
                        if ta < horizon_s:
                            arr[c] = ta
                            rsize = _heap_push(rt, rr, 0, rsize, ta, c)
                            remaining += 1
                else:
                    tin[r] = t
                    cur[r] = j
                    _q_push(q, head, tail, _queue_of(j, r, prio), r, tin)
                    dirty[j] = True

        # 3. capacity changes at t
        if next_shift == t:
            servers[REVIEW] = shift_v[shift_j]
            dirty[REVIEW] = True
            shift_now = t
            shift_j += 1
            if shift_j == n_pattern:
                shift_j = 0
                shift_week += 1
            target = shift_week * period_s + shift_t[shift_j]
            next_shift = shift_now + (target - shift_now)
        if next_out == t:
            out_now = t
            if not down:
                down = True
                next_out = out_now + (outage_end[out_i] - out_now)
            else:
                down = False
                out_i += 1
                next_out = np.inf
                if out_i < n_out:
                    next_out = out_now + (outage_start[out_i] - out_now)
            for k in range(4):
                if outage_mask[k]:
                    dirty[k] = True

        # 4. dispatch: start as many services as capacity allows, best key first
        for k in range(4):
            if not dirty[k]:
                continue
            dirty[k] = False
            cap = servers[k]
            if down and outage_mask[k]:
                cap = 0
            first = 3 if k == REVIEW else _queue_of(k, 0, prio)
            last = 3 + n_classes if k == REVIEW else first + 1
            j = first
            while busy[k] < cap:
                while j < last and head[j] == tail[j]:
                    j += 1
                if j == last:
                    break
                r = q[j, head[j]]
                head[j] += 1
                wait[r] += t - tin[r]
                if k == AUTO:
                    s = s_auto[r]
                elif k == REVIEW:
                    s = s_review[r]
                    review_start[r] = t
                    review_wait[r] = t - tin[r]
                elif k == INSPECT:
                    s = s_inspect[r]
                else:
                    s = s_third[r]
                service[r] += s
                busy[k] += 1
                csize[k] = _heap_push(ct, cr, k, csize[k], t + s, r)

    for r in range(n):
        if cur[r] == _NOT_ARRIVED:
            wait[r] = np.nan
            service[r] = np.nan
    return arr, wait, service, review_start, review_wait, done, remaining == 0


gateway_queues_py = gateway_queues.py_func


@njit(cache=True)
def bin_intervals(start, length, weight, t0, t1, offset_s, bin_s, n_bins):
    """Add weight x overlap of [start, start+length) with [t0, t1) into cyclic time bins.

    Bin of time t is ``floor((t + offset_s) / bin_s) % n_bins`` (e.g. hour of the week
    with ``bin_s=3600, n_bins=168`` and ``offset_s`` = seconds since Monday 00:00 UTC).

    Args:
        start: (m,) float64 interval starts, seconds.
        length: (m,) float64 interval lengths, seconds.
        weight: (m,) float64 interval weights.
        t0: start of the window counted, seconds.
        t1: end of the window counted, seconds.
        offset_s: clock offset of time 0 within the cycle, seconds.
        bin_s: bin width, seconds.
        n_bins: number of bins in the cycle.

    Returns:
        (n_bins,) float64 weighted seconds per bin.
    """
    out = np.zeros(n_bins, np.float64)
    for i in range(start.shape[0]):
        a = start[i]
        b = a + length[i]
        if not (b > a):  # also skips NaN
            continue
        if a < t0:
            a = t0
        if b > t1:
            b = t1
        w = weight[i]
        while a < b:
            cell = np.floor((a + offset_s) / bin_s)
            edge = cell * bin_s - offset_s + bin_s
            stop = edge if edge < b else b
            if stop <= a:  # rounding guard
                stop = b
            out[int(cell) % n_bins] += w * (stop - a)
            a = stop
    return out


bin_intervals_py = bin_intervals.py_func


@njit(cache=True)
def arrivals_from_intensity(gamma, cum, bounds, total_rate, cum_p, u):
    """Map unit-rate Poisson points through a piecewise-constant intensity; pick sources.

    Args:
        gamma: (m,) sorted points of a unit-rate Poisson process, all < ``cum[-1]``.
        cum: (k+1,) cumulative intensity at the segment bounds (``cum[0] = 0``).
        bounds: (k+1,) segment bounds in seconds.
        total_rate: (k,) total rate of each segment (per second).
        cum_p: (k, sources) cumulative source probabilities per segment (last column 1).
        u: (m,) uniforms in [0, 1) choosing each point's source.

    Returns:
        (times, source): non-decreasing arrival times in seconds and int64 sources.
    """
    m = gamma.shape[0]
    k = total_rate.shape[0]
    n_src = cum_p.shape[1]
    times = np.empty(m, np.float64)
    source = np.empty(m, np.int64)
    seg = 0
    last = 0.0
    for i in range(m):
        g = gamma[i]
        while seg < k - 1 and cum[seg + 1] <= g:
            seg += 1
        t = bounds[seg] + (g - cum[seg]) / total_rate[seg]
        if t < last:  # rounding guard: keep times sorted
            t = last
        last = t
        times[i] = t
        s = 0
        x = u[i]
        while s < n_src - 1 and cum_p[seg, s] <= x:
            s += 1
        source[i] = s
    return times, source


arrivals_from_intensity_py = arrivals_from_intensity.py_func


@njit(cache=True)
def below_by_group(u, group, threshold):
    """``u[i] < threshold[group[i]]`` for every i (Bernoulli draws by group).

    Args:
        u: (m,) uniforms in [0, 1).
        group: (m,) integer group of each draw.
        threshold: (groups,) success probability of each group.

    Returns:
        (m,) bool.
    """
    out = np.empty(u.shape[0], np.bool_)
    for i in range(u.shape[0]):
        out[i] = u[i] < threshold[group[i]]
    return out


below_by_group_py = below_by_group.py_func
