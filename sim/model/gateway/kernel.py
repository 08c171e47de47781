"""Compiled exact kernels for hot loops, each with a plain-Python twin.

``queue_events`` is the fast path of the security gateway (``sim.model.gateway``): a resumable
event loop over pre-drawn per-request random streams that reproduces, request by request, the
SimPy reference ``sim.model.gateway.simulate_gateway(..., method="simpy")``. The driver
(:class:`sim.model.gateway.engines.QueueRunner`) feeds it the original requests chunk by chunk
and takes finished requests back in row order, so a run holds a bounded window of requests, not
the whole horizon.

What is modelled (times in seconds from the simulation start):

* four multi-server stages, in this fixed order along a request's route:
  0 automatic policy check, 1 human review (priority classes), 2 transfer inspection nodes,
  3 third-party monitoring. A request visits the stages whose bit is set in ``route``;
* each stage serves its queue non-preemptively in order of the key
  (priority class [review stage only, else 0], time the request joined the queue, row),
  kept as one FIFO ring per stage and class (a row joins each queue at most once);
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

Storage: rows are request numbers (originals ``[0, n_orig)`` by arrival, then resubmissions).
Per-row values live in *slots*: original row ``r`` in slot ``r & mask`` of a ring of ``ring``
slots (``ring = mask + 1``, a power of two), resubmission row ``r`` in slot
``ring + r - n_orig`` (see :func:`slot_of`). Queues and heaps hold rows, so the driver can move
the ring without touching them.

The plain-Python twins (``*_py``) are the very same functions run by the interpreter; tests
hold the compiled and the plain versions equal.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.cachedir import use_for_numba
from sim.meters.gateway import ACCESS as ACCESS_CODE
from sim.meters.gateway import APPROVED as APPROVED_CODE
from sim.meters.gateway import BLOCKED as BLOCKED_CODE
from sim.meters.gateway import DENIED as DENIED_CODE
from sim.meters.gateway import RESUBMITTED as RESUBMITTED_CODE
from sim.meters.gateway import TRANSFER as TRANSFER_CODE

use_for_numba()  # compiled kernels go to the user cache folder, never into the installed package

__all__ = [
    "AUTO",
    "FINISHED",
    "F_NEXT_OUT",
    "F_NEXT_SHIFT",
    "INSPECT",
    "NEED_ROWS",
    "N_STAGES",
    "REVIEW",
    "STUCK",
    "S_DOWN",
    "S_IA",
    "S_OUT_I",
    "S_REMAINING",
    "S_RSIZE",
    "S_SHIFT_J",
    "S_SHIFT_WEEK",
    "THIRD_PARTY",
    "arrivals_from_intensity",
    "arrivals_from_intensity_py",
    "below_by_group",
    "below_by_group_py",
    "bin_intervals",
    "bin_intervals_py",
    "done_prefix",
    "map_arrivals",
    "mark_below",
    "mark_below_py",
    "queue_events",
    "queue_events_py",
    "route_rows",
    "route_rows_py",
    "slot_of",
    "tally_rows",
    "tally_rows_py",
]

AUTO = 0
REVIEW = 1
INSPECT = 2
THIRD_PARTY = 3
N_STAGES = 4
_DONE = 4

#: Entries of the int64 state vector ``si`` of :func:`queue_events`.
S_IA, S_REMAINING, S_RSIZE, S_SHIFT_J, S_SHIFT_WEEK, S_OUT_I, S_DOWN = range(7)
#: Entries of the float64 state vector ``sf``: the next shift change and the next outage edge, s.
F_NEXT_SHIFT, F_NEXT_OUT = 0, 1
#: What :func:`queue_events` returns: every request done; it needs the next chunk of rows; no
#: event is left but requests are still waiting (a stage without capacity for ever).
FINISHED, NEED_ROWS, STUCK = 0, 1, 2


@njit(cache=True)
def _next_stage(route_bits, k):
    """First stage after k on the route (``_DONE`` when there is none)."""
    for j in range(k + 1, 4):
        if route_bits & (1 << j):
            return j
    return _DONE


@njit(cache=True)
def slot_of(r, n_orig, mask, ring):
    """Slot of row r: ``r & mask`` for an original, ``ring + r - n_orig`` for a resubmission."""
    if r < n_orig:
        return r & mask
    return ring + (r - n_orig)


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
def _queue_of(k, p):
    """Queue index at stage k of a row of priority class p: one FIFO per stage, one per class at review."""
    if k == REVIEW:
        return 3 + p
    if k == AUTO:
        return 0
    if k == INSPECT:
        return 1
    return 2


@njit(cache=True, nogil=True)
def queue_events(
    si, sf, n_loaded, n_orig, mask, ring,
    arr, route, prio, s_auto, s_review, s_inspect, s_third, child, resub_delay,
    tin, wait, service, review_start, review_wait, done,
    horizon_s, shift_t, shift_v, period_s, outage_start, outage_end, outage_mask,
    servers, busy, ct, cr, csize, rt, rr, q, qmask, head, tail, n_classes,
):
    """Run the gateway queues on pre-drawn rows until done or until it needs more rows (exact).

    The state lives in the arguments (``si``, ``sf`` and the arrays), so a later call goes on
    exactly where this one stopped. It stops before the next event when every loaded original
    has arrived and more originals are to come (``NEED_ROWS``): the driver loads the next chunk
    and calls again; events are processed in time order whatever the chunking.

    Args:
        si: int64 state (``S_*``): next original to arrive, requests not done (originals not
            yet arrived included), size of the resubmission heap, shift chain position and
            week, next outage window, whether the gateway is down.
        sf: float64 state (``F_*``): time of the next shift change and of the next outage edge.
        n_loaded: originals ``[0, n_loaded)`` have their slots filled.
        n_orig: number of original rows.
        mask: ``ring - 1``.
        ring: slots of the originals' ring (a power of two).
        arr: per slot, arrival time (set here for resubmissions).
        route: per slot, uint8 bit mask of the stages a row visits (bit k = stage k).
        prio: per slot, priority class at the review stage (0 = served first).
        s_auto: per slot, service time (> 0) at the automatic check.
        s_review: per slot, service time (> 0) at human review.
        s_inspect: per slot, service time (> 0) at transfer inspection.
        s_third: per slot, service time (> 0) at third-party monitoring.
        child: per slot, row of the resubmission of this row, or -1.
        resub_delay: per slot, delay from this row's completion to its child's arrival.
        tin: per slot, time the row joined its current queue.
        wait: per slot, total queueing time (set to 0 at arrival).
        service: per slot, total service time (set to 0 at arrival).
        review_start: per slot, start of the review service (set to NaN at arrival).
        review_wait: per slot, wait before the review service (set to NaN at arrival).
        done: per slot, completion time (set to NaN at arrival).
        horizon_s: children arriving at or after this time are not simulated.
        shift_t: starts of the steps of the weekly pattern of review servers (``shift_t[0] == 0``).
        shift_v: review servers from ``shift_t[j]`` on: ``shift_v[j]``.
        period_s: the pattern's period (one week).
        outage_start: starts of the sorted, disjoint, non-touching outage windows.
        outage_end: ends of the outage windows.
        outage_mask: (4,) bool, stages that stop during outages.
        servers: (4,) int64 current servers of each stage (review: from the shift pattern).
        busy: (4,) int64 services in progress per stage.
        ct: (4, max servers + 1) completion times, a min-heap per stage.
        cr: (4, max servers + 1) rows of those completions.
        csize: (4,) int64 heap sizes.
        rt: (1, resubmissions + 1) arrival times of pending resubmissions, a min-heap.
        rr: (1, resubmissions + 1) rows of those resubmissions.
        q: (queues, capacity) FIFO rings of rows; capacity a power of two >= rows in the system.
        qmask: capacity - 1.
        head: per queue, running count of rows taken.
        tail: per queue, running count of rows added.
        n_classes: number of priority classes.

    Returns:
        ``FINISHED``, ``NEED_ROWS`` or ``STUCK``.
    """
    ia = si[S_IA]
    remaining = si[S_REMAINING]
    rsize = si[S_RSIZE]
    shift_j = si[S_SHIFT_J]
    shift_week = si[S_SHIFT_WEEK]
    out_i = si[S_OUT_I]
    down = si[S_DOWN] != 0
    next_shift = sf[F_NEXT_SHIFT]
    next_out = sf[F_NEXT_OUT]
    n_pattern = shift_t.shape[0]
    n_out = outage_start.shape[0]
    dirty = np.zeros(4, np.bool_)
    status = FINISHED
    while remaining > 0:
        if ia == n_loaded and n_loaded < n_orig:
            status = NEED_ROWS
            break
        t = np.inf
        if ia < n_loaded:
            t = arr[ia & mask]
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
            status = STUCK
            break

        # 1. arrivals at t: original requests, then resubmissions
        while True:
            if ia < n_loaded and arr[ia & mask] == t:
                r = ia
                s = r & mask
                ia += 1
            elif rsize > 0 and rt[0, 0] == t:
                r = rr[0, 0]
                s = ring + (r - n_orig)
                rsize = _heap_pop(rt, rr, 0, rsize)
            else:
                break
            wait[s] = 0.0
            service[s] = 0.0
            review_start[s] = np.nan
            review_wait[s] = np.nan
            done[s] = np.nan
            j = _next_stage(route[s], -1)
            if j == _DONE:
                done[s] = t
                remaining -= 1
                c = child[s]
                if c >= 0:
                    ta = t + resub_delay[s]
                    if ta < horizon_s:
                        arr[ring + (c - n_orig)] = ta
                        rsize = _heap_push(rt, rr, 0, rsize, ta, c)
                        remaining += 1
            else:
                tin[s] = t
                # join queue jq of stage j, in (time joined, row) order (written out: as a call it cost 25 %)
                jq = _queue_of(j, prio[s])
                pos = tail[jq]
                while pos > head[jq]:
                    prev = q[jq, (pos - 1) & qmask]
                    if prev > r and tin[(prev & mask) if prev < n_orig else ring + (prev - n_orig)] == t:
                        q[jq, pos & qmask] = prev  # a row that joined at the same instant with a larger number
                        pos -= 1
                    else:
                        break
                q[jq, pos & qmask] = r
                tail[jq] += 1
                dirty[j] = True

        # 2. completions at t: free the server, go on along the route or finish
        #    (the same steps as for an arrival above, written out again on purpose: moving them
        #    into an @njit helper returning (delta, heap size) made a 19 M-request year 3x slower)
        for k in range(4):
            while csize[k] > 0 and ct[k, 0] == t:
                r = cr[k, 0]
                s = (r & mask) if r < n_orig else ring + (r - n_orig)
                csize[k] = _heap_pop(ct, cr, k, csize[k])
                busy[k] -= 1
                dirty[k] = True
                j = _next_stage(route[s], k)
                if j == _DONE:
                    done[s] = t
                    remaining -= 1
                    c = child[s]
                    if c >= 0:
                        ta = t + resub_delay[s]
                        if ta < horizon_s:
                            arr[ring + (c - n_orig)] = ta
                            rsize = _heap_push(rt, rr, 0, rsize, ta, c)
                            remaining += 1
                else:
                    tin[s] = t
                    # join queue jq of stage j, in (time joined, row) order (written out: as a call it cost 25 %)
                    jq = _queue_of(j, prio[s])
                    pos = tail[jq]
                    while pos > head[jq]:
                        prev = q[jq, (pos - 1) & qmask]
                        if prev > r and tin[(prev & mask) if prev < n_orig else ring + (prev - n_orig)] == t:
                            q[jq, pos & qmask] = prev  # a row that joined at the same instant with a larger number
                            pos -= 1
                        else:
                            break
                    q[jq, pos & qmask] = r
                    tail[jq] += 1
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
            if busy[k] >= cap:
                continue
            if k == REVIEW:
                j = 3
                last = 3 + n_classes
            else:
                j = _queue_of(k, 0)
                last = j + 1
            while busy[k] < cap:
                while j < last and head[j] == tail[j]:
                    j += 1
                if j == last:
                    break
                r = q[j, head[j] & qmask]
                head[j] += 1
                s = (r & mask) if r < n_orig else ring + (r - n_orig)
                wait[s] += t - tin[s]
                if k == AUTO:
                    x = s_auto[s]
                elif k == REVIEW:
                    x = s_review[s]
                    review_start[s] = t
                    review_wait[s] = t - tin[s]
                elif k == INSPECT:
                    x = s_inspect[s]
                else:
                    x = s_third[s]
                service[s] += x
                busy[k] += 1
                csize[k] = _heap_push(ct, cr, k, csize[k], t + x, r)

    si[S_IA] = ia
    si[S_REMAINING] = remaining
    si[S_RSIZE] = rsize
    si[S_SHIFT_J] = shift_j
    si[S_SHIFT_WEEK] = shift_week
    si[S_OUT_I] = out_i
    si[S_DOWN] = 1 if down else 0
    sf[F_NEXT_SHIFT] = next_shift
    sf[F_NEXT_OUT] = next_out
    return status


queue_events_py = queue_events.py_func


@njit(cache=True, nogil=True)
def done_prefix(done, front, stop, mask):
    """First original row in ``[front, stop)`` that is not done (``stop`` if all are).

    Args:
        done: per slot completion time (NaN while not done).
        front: first row to look at.
        stop: one past the last row to look at.
        mask: ring size - 1 (slot of row r is ``r & mask``).
    """
    r = front
    while r < stop and not np.isnan(done[r & mask]):
        r += 1
    return r


@njit(cache=True, inline="always")
def _bin_one(a, length, w, t0, t1, offset_s, bin_s, n_bins, out):
    """Add w x overlap of [a, a + length) with [t0, t1) into the cyclic bins ``out``."""
    b = a + length
    if not (b > a):  # also skips NaN
        return
    if a < t0:
        a = t0
    if b > t1:
        b = t1
    while a < b:
        cell = np.floor((a + offset_s) / bin_s)
        edge = cell * bin_s - offset_s + bin_s
        stop = edge if edge < b else b
        if stop <= a:  # rounding guard
            stop = b
        out[int(cell) % n_bins] += w * (stop - a)
        a = stop


@njit(cache=True)
def bin_intervals(start, length, weight, t0, t1, offset_s, bin_s, n_bins, out=None):
    """Add weight x overlap of [start, start+length) with [t0, t1) into cyclic time bins.

    Bin of time t is ``floor((t + offset_s) / bin_s) % n_bins`` (e.g. hour of the week
    with ``bin_s=3600, n_bins=168`` and ``offset_s`` = seconds since Monday 00:00 UTC).
    Intervals are added in order, so adding them in pieces into the same ``out`` gives
    bit for bit the sums of one call.

    Args:
        start: (m,) float64 interval starts, seconds.
        length: (m,) float64 interval lengths, seconds.
        weight: (m,) float64 interval weights.
        t0: start of the window counted, seconds.
        t1: end of the window counted, seconds.
        offset_s: clock offset of time 0 within the cycle, seconds.
        bin_s: bin width, seconds.
        n_bins: number of bins in the cycle.
        out: (n_bins,) float64 sums to add to (a new zero array if None).

    Returns:
        (n_bins,) float64 weighted seconds per bin (``out`` if given).
    """
    if out is None:
        out = np.zeros(n_bins, np.float64)
    for i in range(start.shape[0]):
        _bin_one(start[i], length[i], weight[i], t0, t1, offset_s, bin_s, n_bins, out)
    return out


@njit(cache=True, nogil=True)
def tally_rows(arrival, kind, prio, wait, outcome, route, review_start, s_auto, s_review, s_inspect, s_third,
               data_class, destination, size_gb, crossed_gb, warmup_s, horizon_s, week_offset_s, rank0,
               by_class, busy, work, on_route):
    """Add a block of finished rows (request order) into a run's tally, in one pass.

    Counts, the non-zero waits of counted access requests with their places, the approved and
    blocked transfer jobs, reviewer busy seconds per UTC hour of the week (bins of
    :func:`bin_intervals`, added in request order) and the work brought to each stage.

    Args:
        arrival: (m,) arrival times, s (NaN: not simulated).
        kind: (m,) kind codes (``ACCESS``, ``TRANSFER``).
        prio: (m,) priority classes.
        wait: (m,) total queueing times, s.
        outcome: (m,) outcome codes.
        route: (m,) uint8 stage bits.
        review_start: (m,) start of the review service (NaN: none).
        s_auto: (m,) automatic check times, s.
        s_review: (m,) review times, s.
        s_inspect: (m,) inspection times, s.
        s_third: (m,) third-party times, s.
        data_class: (m,) data class codes.
        destination: (m,) destination codes.
        size_gb: (m,) transfer sizes, GB.
        crossed_gb: (m,) what crosses if approved, GB.
        warmup_s: requests arriving earlier are not counted.
        horizon_s: end of the counted window, s.
        week_offset_s: seconds from Monday 00:00 UTC to time 0.
        rank0: counted access requests before this block.
        by_class: (classes,) int64 counted access requests per class (added to).
        busy: (168,) reviewer busy seconds per hour of the week (added to).
        work: (4,) work brought to each stage, s (added to, in request order).
        on_route: (4,) bool, some simulated row visits the stage (set).

    Returns:
        (simulated, counted, access counted, rank, wait, class of the non-zero waits, data
        class, destination and crossed GB of the approved transfer jobs, size of the blocked
        ones).
    """
    m = arrival.shape[0]
    rank = np.empty(m, np.int64)
    wait_nz = np.empty(m, np.float64)
    cls_nz = np.empty(m, np.int16)
    a_dc = np.empty(m, np.int16)
    a_dest = np.empty(m, np.int16)
    a_crossed = np.empty(m, np.float64)
    blocked = np.empty(m, np.float64)
    n_sim = 0
    n_counted = 0
    n_access = 0
    j = 0
    ja = 0
    jb = 0
    for i in range(m):
        x = arrival[i]
        if np.isnan(x):
            continue
        n_sim += 1
        bits = route[i]
        if bits & 1:
            on_route[0] = True
            work[0] += s_auto[i]
        if bits & 2:
            on_route[1] = True
            work[1] += s_review[i]
            if not np.isnan(review_start[i]):
                _bin_one(review_start[i], s_review[i], 1.0, warmup_s, horizon_s, week_offset_s, 3600.0, 168, busy)
        if bits & 4:
            on_route[2] = True
            work[2] += s_inspect[i]
        if bits & 8:
            on_route[3] = True
            work[3] += s_third[i]
        if x >= warmup_s:
            n_counted += 1
        if kind[i] == TRANSFER_CODE:
            if outcome[i] == APPROVED_CODE:
                a_dc[ja] = data_class[i]
                a_dest[ja] = destination[i]
                a_crossed[ja] = crossed_gb[i]
                ja += 1
            elif outcome[i] == BLOCKED_CODE:
                blocked[jb] = size_gb[i]
                jb += 1
        elif x >= warmup_s:
            by_class[prio[i]] += 1
            if wait[i] != 0.0:
                rank[j] = rank0 + n_access
                wait_nz[j] = wait[i]
                cls_nz[j] = prio[i]
                j += 1
            n_access += 1
    return (n_sim, n_counted, n_access, rank[:j].copy(), wait_nz[:j].copy(), cls_nz[:j].copy(), a_dc[:ja].copy(),
            a_dest[:ja].copy(), a_crossed[:ja].copy(), blocked[:jb].copy())


tally_rows_py = tally_rows.py_func


bin_intervals_py = bin_intervals.py_func


@njit(cache=True, nogil=True)
def map_arrivals(gamma, cum, bounds, total_rate, cum_p, u, times, source, seg, last):
    """Map unit-rate Poisson points through a piecewise-constant intensity; pick sources.

    Works on a piece of the points at a time: ``seg`` and ``last`` carry on from the previous
    piece (0 and 0.0 for the first). ``times`` may be ``gamma`` itself (each point is read
    before its time is written).

    Args:
        gamma: (m,) sorted points of a unit-rate Poisson process, all < ``cum[-1]``.
        cum: (k+1,) cumulative intensity at the segment bounds (``cum[0] = 0``).
        bounds: (k+1,) segment bounds in seconds.
        total_rate: (k,) total rate of each segment (per second).
        cum_p: (k, sources) cumulative source probabilities per segment (last column 1).
        u: (m,) uniforms in [0, 1) choosing each point's source (unused with one source).
        times: (m,) float64 output, non-decreasing arrival times in seconds.
        source: (m,) integer output, sources.
        seg: segment of the previous point.
        last: time of the previous point.

    Returns:
        (seg, last) after the last point.
    """
    m = gamma.shape[0]
    k = total_rate.shape[0]
    n_src = cum_p.shape[1]
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
        if n_src > 1:
            x = u[i]
            while s < n_src - 1 and cum_p[seg, s] <= x:
                s += 1
        source[i] = s
    return seg, last


@njit(cache=True)
def arrivals_from_intensity(gamma, cum, bounds, total_rate, cum_p, u):
    """All points at once through :func:`map_arrivals`: (times, int64 sources)."""
    m = gamma.shape[0]
    times = np.empty(m, np.float64)
    source = np.empty(m, np.int64)
    map_arrivals(gamma, cum, bounds, total_rate, cum_p, u, times, source, 0, 0.0)
    return times, source


arrivals_from_intensity_py = arrivals_from_intensity.py_func


@njit(cache=True, nogil=True)
def route_rows(kind, needs_review, approved, third_party, child, size_gb, data_class, factor_by_class,
               protected_by_class, strict, auto_check, third_enabled):
    """Routes, outcomes, resubmissions and crossing volumes of rows through a gateway, in one pass.

    (:func:`sim.model.gateway.routing.plan` documents the policies.)

    Args:
        kind: (m,) kind codes.
        needs_review: (m,) bool, the row goes to human review.
        approved: (m,) bool, the outcome draw of the review (access) or inspection (transfer).
        third_party: (m,) bool, the row is sampled by the third-party monitor.
        child: (m,) int64 resubmission row of a denied row, or -1.
        size_gb: (m,) transfer sizes, GB.
        data_class: (m,) data class codes (-1 for access rows).
        factor_by_class: pseudonymisation factor by data class code, then 0 (code -1).
        protected_by_class: bool by data class code, then False (code -1).
        strict: the strict policy (protected classes are blocked outright).
        auto_check: access rows pass the automatic check.
        third_enabled: the third-party monitor exists.

    Returns:
        (route uint8 stage bits, child int64 (-1 unless denied), outcome int8, crossed GB).
    """
    m = kind.shape[0]
    route = np.empty(m, np.uint8)
    child_out = np.empty(m, np.int64)
    outcome = np.empty(m, np.int8)
    crossed = np.empty(m, np.float64)
    for i in range(m):
        is_access = kind[i] == ACCESS_CODE
        rev = needs_review[i]
        blocked = strict and not is_access and protected_by_class[data_class[i]]
        inspected = not is_access and not blocked
        bits = 0
        if auto_check and is_access:
            bits |= 1 << AUTO
        if rev:
            bits |= 1 << REVIEW
        if inspected:
            bits |= 1 << INSPECT
        if third_enabled and third_party[i] and (rev or inspected):
            bits |= 1 << THIRD_PARTY
        route[i] = bits
        c = -1
        if rev and not approved[i]:
            c = child[i]
            outcome[i] = RESUBMITTED_CODE if c >= 0 else DENIED_CODE
        elif blocked or (inspected and not approved[i]):
            outcome[i] = BLOCKED_CODE
        else:
            outcome[i] = APPROVED_CODE
        child_out[i] = c
        crossed[i] = size_gb[i] * factor_by_class[data_class[i]]
    return route, child_out, outcome, crossed


route_rows_py = route_rows.py_func


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def mark_below(u, group, threshold, flags, bit):
    """Set ``bit`` in ``flags[i]`` where ``u[i] < threshold[group[i]]`` (:func:`below_by_group` in place).

    Args:
        u: (m,) uniforms in [0, 1).
        group: (m,) integer group of each draw.
        threshold: (groups,) success probability of each group.
        flags: (m,) uint8 flags to set the bit in.
        bit: the flag bit.
    """
    for i in range(u.shape[0]):
        if u[i] < threshold[group[i]]:
            flags[i] |= bit


mark_below_py = mark_below.py_func
