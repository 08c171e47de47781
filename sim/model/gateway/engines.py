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

``run_fast`` drives :func:`sim.model.gateway.kernel.gateway_queues` (numba); ``run_simpy``
is the specification: one SimPy process per request, :class:`_Stage` resources, shift and
outage processes.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from functools import partial
from typing import Any

import numpy as np
import simpy

from sim.model.gateway import kernel as kernels
from sim.model.gateway.calendar import WEEK_S
from sim.model.gateway.kernel import REVIEW

__all__ = ["GATEWAY_STAGES_IN_OUTAGE", "QueueInputs", "QueueResult", "run_fast", "run_simpy"]

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


def run_fast(inp: QueueInputs) -> QueueResult:
    """Run the queues with the compiled kernel."""
    arrival, wait, service, review_start, review_wait, done, complete = kernels.gateway_queues(
        inp.arrival, inp.n_original, inp.route, inp.prio, inp.s_auto, inp.s_review, inp.s_inspect,
        inp.s_third, inp.child, inp.resub_delay, inp.horizon_s, inp.staff, inp.shift_t, inp.shift_v,
        WEEK_S, inp.outage_start, inp.outage_end, inp.outage_mask)
    return QueueResult(arrival, wait, service, review_start, review_wait, done, bool(complete))


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
