"""The gateway's queues, twice: the compiled kernel driver and the SimPy reference engine.

Both engines consume the same pre-drawn :class:`QueueInputs` (times in seconds of simulation
time) and return the same :class:`QueueResult`, request by request:

* four multi-server stages in route order: automatic check, human review, transfer
  inspection, third-party monitoring (``sim.model.gateway.kernel.AUTO`` ... ``THIRD_PARTY``);
  a request visits the stages whose bit is set in its route;
* servers: ``staff[k]`` per stage, except human review, which follows the weekly shift pattern
  (``shift_t``/``shift_v``); stages flagged in ``outage_mask`` have no server during outages.
  Lowering capacity never interrupts a service;
* a finished request with a resubmission makes the child arrive ``resub_delay`` later if
  that is before ``horizon_s``; the run drains (every arrived request completes).

Ties are defined by two rules, which both implementations follow:

1. queue order is (priority class [review only, else 0], time the request joined this
   queue, request row);
2. "batch at an instant": all arrivals, completions and capacity changes at one instant
   are registered before free servers take the next requests.

:class:`QueueRunner` drives the compiled kernel :func:`sim.model.gateway.kernel.queue_events`
(numba) over original requests handed in chunk by chunk, and hands finished requests back in row
order, so the fast path holds a window of requests, not the whole horizon; ``run_fast`` runs it
on whole :class:`QueueInputs`. ``run_simpy`` is the specification: one SimPy process per
request, :class:`_Stage` resources, shift and outage processes.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
import simpy

from sim.model.gateway import kernel as kernels
from sim.model.gateway.calendar import WEEK_S
from sim.model.gateway.kernel import REVIEW

__all__ = ["GATEWAY_STAGES_IN_OUTAGE", "QueueInputs", "QueueResult", "QueueRunner", "RowBlock", "run_fast", "run_simpy"]

#: Which stages stop in a gateway outage: the third-party monitor is a separate firm.
GATEWAY_STAGES_IN_OUTAGE = (True, True, True, False)


@dataclasses.dataclass
class QueueInputs:
    """Everything both engines consume (see ``sim.model.gateway.kernel.gateway_queues``).

    Attributes:
        arrival: (n,) arrival times, s; NaN for resubmission rows (found by the run).
        n_original: rows [0, n_original) are original requests sorted by arrival.
        route: (n,) uint8 bit mask of stages.
        prio: (n,) priority class at human review.
        s_auto, s_review, s_inspect, s_third: (n,) service time per stage, s.
        child: (n,) resubmission row, -1 if none.
        resub_delay: (n,) from completion to the child's arrival, s.
        horizon_s: resubmissions arriving at or after it are not simulated.
        staff: (4,) servers per stage (human review: unused, see shift pattern).
        shift_t, shift_v: weekly reviewer pattern (from ``shift_t[j]`` on, ``shift_v[j]``).
        outage_start, outage_end: merged outage windows, s.
        outage_mask: (4,) stages without servers during outages.
    """

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
class QueueResult:
    """Per-row results of the queues (NaN for rows never simulated), times in s.

    Attributes:
        arrival: arrival times (resubmissions filled in).
        wait: total queueing time over the stages.
        service: total service time.
        review_start: start of the review service.
        review_wait: queueing time at review.
        done: completion time.
        complete: every arrived request completed.
    """

    arrival: np.ndarray
    wait: np.ndarray
    service: np.ndarray
    review_start: np.ndarray
    review_wait: np.ndarray
    done: np.ndarray
    complete: bool


def run_fast(inp: QueueInputs, chunk_rows: int = 1 << 15, kernel: Any = kernels.queue_events) -> QueueResult:
    """Run the queues with the compiled kernel (through :class:`QueueRunner`, chunk by chunk).

    Args:
        inp: the drawn rows and the stages.
        chunk_rows: originals handed to the runner at a time.
        kernel: the event loop (its plain-Python twin ``kernel.queue_events_py`` in tests).
    """
    n_orig = inp.n_original
    rows = {name: getattr(inp, name) for name in QueueRunner.INPUTS}
    runner = QueueRunner(
        n_orig=n_orig, resub={name: a[n_orig:] for name, a in rows.items()}, staff=inp.staff,
        shift_t=inp.shift_t, shift_v=inp.shift_v, outage_start=inp.outage_start, outage_end=inp.outage_end,
        outage_mask=inp.outage_mask, horizon_s=inp.horizon_s, n_classes=int(inp.prio.max(initial=0)) + 1,
        ring_rows=2 * chunk_rows, kernel=kernel)
    names = ("arrival", "wait", "service", "review_start", "review_wait", "done")
    n = len(inp.arrival)
    out = {name: np.empty(n) for name in names}  # every row is handed back exactly once

    def keep(blocks: list[RowBlock]) -> None:
        for block in blocks:  # views into the runner's slots: copied before the next add
            rows_of = slice(block.first, block.first + len(block))
            for name in names:
                out[name][rows_of] = block.values[name]

    for lo in range(0, n_orig, chunk_rows):
        keep(runner.add({name: a[lo:min(lo + chunk_rows, n_orig)] for name, a in rows.items()}))
    keep(runner.finish())
    return QueueResult(*(out[name] for name in names), runner.complete)


@dataclasses.dataclass
class RowBlock:
    """Finished rows ``[first, first + len)`` handed back by :class:`QueueRunner`, in row order.

    The arrays are views into the runner's slots: they hold until the runner's next ``add``
    (copy what must be kept longer).

    Attributes:
        first: row number of the first row.
        values: per row, every input, result and extra field of the runner (arrival filled in
            for resubmissions; NaN results for rows never simulated).
    """

    first: int
    values: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.values["arrival"])


def _pow2(n: int) -> int:
    """Smallest power of two >= max(n, 1)."""
    return 1 << max(int(n) - 1, 0).bit_length()


class QueueRunner:
    """Runs the compiled queues over original rows handed in chunk by chunk (times in s).

    The originals live in a ring of slots (a power of two, grown when the rows in the system do
    not fit) and the resubmission rows after it; :meth:`add` loads the next chunk of originals,
    runs the queues until they need the chunk after it, and hands back every row finished
    before the first unfinished one (row order, so the caller can add up in row order);
    :meth:`finish` runs the queues dry and hands back the rest, resubmissions last.

    Args:
        n_orig: number of original rows (handed in order by :meth:`add`).
        resub: per field of :attr:`INPUTS` (and of ``extra``), the resubmission rows
            ``[n_orig, n_orig + len)`` (arrival NaN: found by the run).
        staff, shift_t, shift_v, outage_start, outage_end, outage_mask, horizon_s: as in
            :class:`QueueInputs`.
        n_classes: number of priority classes.
        extra: more per-row fields to carry from :meth:`add` to the blocks handed back, with
            their dtypes.
        ring_rows: initial ring size.
        kernel: the event loop (:func:`sim.model.gateway.kernel.queue_events` or its twin).
    """

    #: Per-row inputs of the kernel and their dtypes.
    INPUTS = {"arrival": np.float64, "route": np.uint8, "prio": np.int8, "s_auto": np.float64,
              "s_review": np.float64, "s_inspect": np.float64, "s_third": np.float64, "child": np.int64,
              "resub_delay": np.float64}
    #: Per-row results of the kernel (set at arrival: wait and service 0, the others NaN).
    RESULTS = ("wait", "service", "review_start", "review_wait", "done")

    def __init__(
        self, *, n_orig: int, resub: Mapping[str, np.ndarray], staff: np.ndarray, shift_t: np.ndarray,
        shift_v: np.ndarray, outage_start: np.ndarray, outage_end: np.ndarray, outage_mask: np.ndarray,
        horizon_s: float, n_classes: int, extra: Mapping[str, Any] | None = None, ring_rows: int = 1 << 16,
        kernel: Any = kernels.queue_events,
    ) -> None:
        self.kernel = kernel
        self.n_orig = int(n_orig)
        self.n_resub = n_resub = len(resub["arrival"])
        self.fields = {**self.INPUTS, **{name: np.float64 for name in self.RESULTS}, "tin": np.float64,
                       **dict(extra or {})}
        self.ring = _pow2(ring_rows)
        self.a = {name: np.empty(self.ring + n_resub, dtype=dtype) for name, dtype in self.fields.items()}
        for name, values in resub.items():
            self.a[name][self.ring:] = values
        for name in self.RESULTS:
            self.a[name][self.ring:] = np.nan
        self.horizon_s = float(horizon_s)
        self.shift_t = np.ascontiguousarray(shift_t, dtype=np.float64)
        self.shift_v = np.ascontiguousarray(shift_v, dtype=np.int64)
        self.outage_start = np.ascontiguousarray(outage_start, dtype=np.float64)
        self.outage_end = np.ascontiguousarray(outage_end, dtype=np.float64)
        self.outage_mask = np.ascontiguousarray(outage_mask, dtype=np.bool_)
        self.n_classes = int(n_classes)
        self.servers = np.array(staff, dtype=np.int64)
        width = int(max(self.servers.max(), self.shift_v.max())) + 1
        self.servers[REVIEW] = self.shift_v[0]
        self.busy = np.zeros(4, dtype=np.int64)
        self.ct = np.empty((4, width))
        self.cr = np.empty((4, width), dtype=np.int64)
        self.csize = np.zeros(4, dtype=np.int64)
        self.rt = np.empty((1, n_resub + 1))
        self.rr = np.empty((1, n_resub + 1), dtype=np.int64)
        self.q = np.empty((3 + self.n_classes, _pow2(self.ring + n_resub)), dtype=np.int64)
        self.head = np.zeros(3 + self.n_classes, dtype=np.int64)
        self.tail = np.zeros(3 + self.n_classes, dtype=np.int64)
        # the shift and outage chains start as the SimPy processes do
        next_shift = 0.0 + (float(self.shift_t[1]) - 0.0) if len(self.shift_t) > 1 else np.inf
        down, next_out = 0, np.inf
        if len(self.outage_start):
            if self.outage_start[0] > 0.0:
                next_out = 0.0 + (float(self.outage_start[0]) - 0.0)
            else:
                down, next_out = 1, 0.0 + (float(self.outage_end[0]) - 0.0)
        self.si = np.array([0, self.n_orig, 0, 1, 0, 0, down], dtype=np.int64)
        self.sf = np.array([next_shift, next_out], dtype=np.float64)
        self.loaded = 0
        self.front = 0
        self._same: dict[str, Any] = {}  # field -> the constant every original slot holds
        self.status = kernels.FINISHED if self.n_orig == 0 else kernels.NEED_ROWS

    @property
    def complete(self) -> bool:
        """Every arrived request has completed (valid after :meth:`finish`)."""
        return int(self.si[kernels.S_REMAINING]) == 0

    def add(self, rows: Mapping[str, np.ndarray]) -> list[RowBlock]:
        """Load the next chunk of originals, run, and hand back the rows finished in row order."""
        m = len(rows["arrival"])
        lo, hi = self.loaded, self.loaded + m
        if hi > self.n_orig:
            raise ValueError(f"more original rows than announced ({hi} > {self.n_orig})")
        if hi - self.front > self.ring:
            self._grow(hi - self.front)
        for name, values in rows.items():
            target = self.a[name]
            constant = values.strides == (0,)  # a broadcast view: one value for every row
            if constant and lo == 0:  # the same value for every row so far: fill every slot once
                target[:self.ring] = values[0]
                self._same[name] = values[0]
                continue
            if constant and name in self._same and self._same[name] == values[0]:
                continue  # every original slot holds it already
            self._same.pop(name, None)
            for slots, part in self._slices(lo, hi):
                target[slots] = values[part]
        self.loaded = hi
        self._run()
        return self._retire(force=False)

    def finish(self) -> list[RowBlock]:
        """Run the queues dry and hand back every row left: originals, then the resubmissions."""
        if self.loaded != self.n_orig:
            raise ValueError(f"finish() before all {self.n_orig} original rows were added ({self.loaded})")
        self._run()
        blocks = self._retire(force=True)
        if self.n_resub:
            part = slice(self.ring, self.ring + self.n_resub)
            blocks.append(RowBlock(self.n_orig, {name: self.a[name][part] for name in self.fields if name != "tin"}))
        return blocks

    # ------------------------------------------------------------------ internals

    def _run(self) -> None:
        a = self.a
        if self.status == kernels.FINISHED and self.n_orig == 0:
            return
        self.status = self.kernel(
            self.si, self.sf, self.loaded, self.n_orig, self.ring - 1, self.ring,
            a["arrival"], a["route"], a["prio"], a["s_auto"], a["s_review"], a["s_inspect"], a["s_third"],
            a["child"], a["resub_delay"], a["tin"], a["wait"], a["service"], a["review_start"],
            a["review_wait"], a["done"], self.horizon_s, self.shift_t, self.shift_v, WEEK_S,
            self.outage_start, self.outage_end, self.outage_mask, self.servers, self.busy, self.ct, self.cr,
            self.csize, self.rt, self.rr, self.q, self.q.shape[1] - 1, self.head, self.tail, self.n_classes)

    def _slices(self, lo: int, hi: int) -> list[tuple[slice, slice]]:
        """(slots, positions within [lo, hi)) of rows [lo, hi) in the ring (two pieces if it wraps)."""
        out = []
        r = lo
        while r < hi:
            s = r & (self.ring - 1)
            k = min(hi - r, self.ring - s)
            out.append((slice(s, s + k), slice(r - lo, r - lo + k)))
            r += k
        return out

    def _retire(self, force: bool) -> list[RowBlock]:
        """Hand back the originals from the front up to the first unfinished one (all if ``force``).

        One block per contiguous piece of the ring (two if it wraps), as views into the slots.
        """
        arrived = int(self.si[kernels.S_IA])  # originals arrive in row order; later slots hold older rows
        stop = self.loaded if force else kernels.done_prefix(self.a["done"], self.front, arrived, self.ring - 1)
        blocks = [RowBlock(self.front + part.start, {name: a[slots] for name, a in self.a.items() if name != "tin"})
                  for slots, part in self._slices(self.front, stop)]
        self.front = stop
        return blocks

    def _grow(self, need: int) -> None:
        """A larger ring (and queues) holding the same rows in the system."""
        old_ring, ring = self.ring, _pow2(max(2 * self.ring, need))
        rows = np.arange(self.front, self.loaded)
        new = {name: np.empty(ring + self.n_resub, dtype=dtype) for name, dtype in self.fields.items()}
        for name, a in self.a.items():
            if name in self._same:  # a constant of every row so far: the new slots get it too
                new[name][:ring] = self._same[name]
            else:
                new[name][rows & (ring - 1)] = a[rows & (old_ring - 1)]
            new[name][ring:] = a[old_ring:]
        self.ring = ring
        self.a = new
        width = _pow2(ring + self.n_resub)
        q = np.empty((self.q.shape[0], width), dtype=np.int64)
        for j in range(self.q.shape[0]):
            pos = np.arange(self.head[j], self.tail[j])
            q[j, pos & (width - 1)] = self.q[j, pos & (self.q.shape[1] - 1)]
        self.q = q


def run_simpy(inp: QueueInputs) -> QueueResult:
    """Run the queues with the SimPy reference (slow; the specification)."""
    return _SimpyModel(inp).run()


# --------------------------------------------------------------------------------------
# the SimPy reference
# --------------------------------------------------------------------------------------


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

    def __init__(self, inp: QueueInputs) -> None:
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

    def run(self) -> QueueResult:
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
        return QueueResult(as_array(self.arrival), as_array(self.wait), as_array(self.total_service),
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
