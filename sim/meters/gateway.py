"""The records of one gateway run: its tally, every request, and blocks of requests for a table.

The gateway model (:mod:`sim.model.gateway`) writes a :class:`GatewayTally` (what the results
need, a few bytes per request: the non-zero waits of access requests and the transfer jobs that
cross or are blocked) and, when asked, a :class:`GatewayRun` (every request, with its tally) and
:class:`GatewayRows` blocks for a :class:`RequestSink` (the per-request table, written while the
run goes on). Results (:mod:`sim.results.gateway`) derive KPIs and tables from the tally by pure
functions. Times are seconds of simulation time (0 = ``start_utc``), volumes GB, hour bins hours
of the week in UTC (0 = Monday 00:00-01:00 UTC). The integer codes of the records are defined
here.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = [
    "ACCESS",
    "APPROVED",
    "BLOCKED",
    "DENIED",
    "KIND_NAMES",
    "OUTCOME_NAMES",
    "RESUBMITTED",
    "STAGE_NAMES",
    "TRANSFER",
    "GatewayInfo",
    "GatewayRows",
    "GatewayRun",
    "GatewayTally",
    "RequestSink",
]

#: ``kind`` codes: an employee's access request, a transfer job leaving its data class's zone.
ACCESS, TRANSFER = 0, 1
KIND_NAMES = ("access", "transfer")
#: ``outcome`` codes (a denied request that is resubmitted is ``RESUBMITTED``).
APPROVED, DENIED, BLOCKED, RESUBMITTED = 0, 1, 2, 3
OUTCOME_NAMES = ("approved", "denied", "blocked", "resubmitted")
#: The gateway's stages in route order; the keys of ``GatewayRun.offered_load``.
STAGE_NAMES = ("automatic check", "human review", "transfer inspection", "third-party monitoring")


@dataclasses.dataclass(frozen=True, eq=False)
class GatewayInfo:
    """What both records of a gateway run tell besides their requests: labels, hours, stability.

    Attributes:
        class_names, region_names, data_class_names, destination_names: code labels.
        sla_s_by_class: SLA on the wait per priority class, s.
        busy_s_by_week_hour: (168,) reviewer busy seconds per UTC hour of the week.
        capacity_s_by_week_hour: (168,) reviewers on duty x seconds per UTC hour of the week.
        offered_load: work brought / server-seconds available per stage over [0, horizon_s).
        unstable: a stage's offered load reached its capacity, or requests never completed.
        message: what is unstable, for the reader ("" if nothing).
        horizon_s, warmup_s: the simulated and the not-counted spans, s.
        start_utc: calendar time of simulation time 0.
        transfer_policy, method: as given to ``simulate_gateway``.
        gateway_on: False when nothing went through a gateway (open policy or disabled).
        week_offset_s: seconds from Monday 00:00 UTC to ``start_utc``.
    """

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

    @property
    def reviewer_busy_s_by_hour(self) -> np.ndarray:
        """Reviewer busy seconds per hour of day (UTC, 0..23)."""
        return self.busy_s_by_week_hour.reshape(7, 24).sum(axis=0)

    @property
    def reviewer_capacity_s_by_hour(self) -> np.ndarray:
        """Reviewer capacity (reviewers on duty x seconds) per hour of day (UTC, 0..23)."""
        return self.capacity_s_by_week_hour.reshape(7, 24).sum(axis=0)


@dataclasses.dataclass(frozen=True, eq=False)
class GatewayTally(GatewayInfo):
    """What the results of one gateway run need, without a row per request.

    Every figure is exact: the waits of the counted access requests are kept as their non-zero
    values with their places in request order (most access requests do not wait at all), so
    :meth:`access_waits` gives back the very array of waits in request order; the transfer jobs
    that crossed or were blocked keep their volumes in request order. Requests are counted
    when they arrive in [warmup_s, horizon_s); the transfer jobs include the warm-up (as the
    world's exports do). The other attributes are those of :class:`GatewayInfo`.

    Attributes:
        requests: simulated requests (all kinds, warm-up included).
        requests_counted: requests arriving in [warmup_s, horizon_s), all kinds.
        access_counted: access requests arriving in [warmup_s, horizon_s).
        access_counted_by_class: (classes,) the same per priority class.
        wait_rank: (m,) place of each non-zero wait among the counted access requests (request
            order).
        wait_s: (m,) the non-zero waits (total queueing time), s.
        wait_class: (m,) priority class of each non-zero wait.
        approved_data_class, approved_destination: codes of the approved transfer jobs.
        approved_crossed_gb: what each approved transfer job let cross, GB (request order).
        blocked_crossed_gb: what each blocked transfer job would have let cross had it been approved
            (after pseudonymisation, like ``approved_crossed_gb``), GB (request order).
    """

    requests: int
    requests_counted: int
    access_counted: int
    access_counted_by_class: np.ndarray
    wait_rank: np.ndarray
    wait_s: np.ndarray
    wait_class: np.ndarray
    approved_data_class: np.ndarray
    approved_destination: np.ndarray
    approved_crossed_gb: np.ndarray
    blocked_crossed_gb: np.ndarray

    def access_waits(self) -> np.ndarray:
        """(access_counted,) the wait of every counted access request, in request order, s."""
        waits = np.zeros(self.access_counted)
        waits[self.wait_rank] = self.wait_s
        return waits


@dataclasses.dataclass(frozen=True, eq=False)
class GatewayRows:
    """A block of simulated requests in request order: what the per-request table is made of.

    Codes and units as in :class:`GatewayRun` (``priority`` is -1 for transfer jobs). The arrays
    may be views that only hold during :meth:`RequestSink.write`: a sink copies what it keeps.
    """

    arrival_s: np.ndarray
    kind: np.ndarray
    priority: np.ndarray
    region: np.ndarray
    wait_s: np.ndarray
    service_s: np.ndarray
    outcome: np.ndarray
    size_gb: np.ndarray
    crossed_gb: np.ndarray
    destination: np.ndarray
    data_class: np.ndarray
    class_names: tuple[str, ...]
    region_names: tuple[str, ...]
    data_class_names: tuple[str, ...]
    destination_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.arrival_s)


@runtime_checkable
class RequestSink(Protocol):
    """Takes the simulated requests of a run block by block, while the run goes on.

    Originals come in arrival order, resubmissions after them (request order).
    """

    def start(self, requests: int) -> None:
        """Called once, before the first block.

        Args:
            requests: requests drawn, an upper bound of the rows to come (resubmissions that
                would arrive after the horizon are not simulated).
        """
        ...

    def write(self, rows: GatewayRows) -> None:
        """Take the next block of simulated requests (copy what is kept: the arrays are views)."""
        ...


@dataclasses.dataclass(frozen=True, eq=False)
class GatewayRun(GatewayInfo):
    """Per-request record of one gateway run, with its tally.

    Rows are requests in request-number order: original requests by arrival time, then
    resubmissions level by level (``parent`` is the row of the denied request they repeat,
    -1 for originals). A denied request drawn to be resubmitted always has its row, but if
    the resubmission would arrive at or after the horizon it is not simulated: its
    ``arrival_s`` and results are NaN (``simulated`` is False) and statistics and tables
    leave it out. Every simulated request is followed to completion.
    Codes: ``kind`` indexes ``KIND_NAMES``; ``outcome`` indexes ``OUTCOME_NAMES``;
    ``priority``, ``region``, ``data_class``, ``destination`` index the matching
    ``*_names`` (-1 where not applicable). Hour bins are hours of the week in UTC
    (0 = Monday 00:00-01:00 UTC) over [warmup_s, horizon_s). The other attributes are those of
    :class:`GatewayInfo`.

    Attributes:
        arrival_s: arrival time, s (NaN: not simulated).
        kind, priority, region, data_class, destination: codes per request.
        wait_s: total queueing time over the gateway stages, s.
        review_wait_s: queueing time at human review, s (NaN if not reviewed).
        service_s: total service time, s.
        done_s: completion time, s.
        outcome: outcome code per request.
        reviewed: whether the request went to human review.
        size_gb: transfer size before pseudonymisation (0 for access requests), GB.
        crossed_gb: what crosses the border if approved, GB.
        parent: row of the request a resubmission repeats, -1 for originals.
        tally: the run's :class:`GatewayTally` (what its results are computed from).
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
    tally: GatewayTally

    KIND_NAMES = KIND_NAMES
    OUTCOME_NAMES = OUTCOME_NAMES

    @property
    def simulated(self) -> np.ndarray:
        """Rows that arrived before the horizon and were simulated."""
        return ~np.isnan(self.arrival_s)
