"""Security gateway: employee access requests and outbound transfer approvals, one run.

What is modelled
----------------
Every employee access to European user data and every transfer out of its data class's zone passes the
gateway as an individual request that can wait (times in seconds from the scenario start,
volumes in GB, rates per hour in the configuration):

* **Access requests** arrive as Poisson streams, one per requester region, during the
  region's local working hours (UTC offset, start/end hour, weekdays only or not), one per
  user-driven cause (its rate per million monthly active users at the users of each step, given
  as ``mau``), or as one 24x7 stream (``access_requests_per_hour``). Each passes an automatic policy check
  (``auto_check_servers`` parallel servers, FIFO). Requests for restricted data, and all
  requests from outside the EEA, then wait for human review: reviewers work in shifts (a
  time-varying number of servers), priority classes are served non-preemptively (the first
  class in ``priority_classes`` first, FIFO within a class). A share of reviewed requests
  then goes to the independent third-party monitor (own staff, FIFO). A reviewed request is
  approved with ``approve_probability``; a share of denied requests is resubmitted after a
  delay as a new request linked to the original (``GatewayRun.parent``).
* **Transfer jobs** leave their class's zone per (data class, destination) as Poisson streams; each is
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

How a run goes
--------------
Every random draw is made from the caller's ``numpy.random.Generator`` in one fixed order
(:mod:`~sim.model.gateway.streams`); the transfer policy turns the draws into routes and outcomes
(:mod:`~sim.model.gateway.routing`); an engine (:mod:`~sim.model.gateway.engines`) runs the
queues; a :class:`~sim.model.gateway.record.Recorder` writes the records from the finished
requests. The two methods give the same requests, bit for bit:

* ``fast``: the draws are made chunk by chunk of original requests
  (:class:`~sim.model.gateway.streams.StreamChunks`), the compiled kernel runs each chunk
  (:class:`~sim.model.gateway.engines.QueueRunner`) and finished requests are recorded and let go,
  so memory follows the requests in the system, not the horizon (about 15 bytes per request
  stay for the whole run);
* ``simpy``: the reference; every draw at once (:func:`~sim.model.gateway.streams.draw_streams`),
  the SimPy engine on whole arrays.

:func:`simulate_gateway` returns the :class:`~sim.meters.gateway.GatewayRun` (every request and
its tally) or, with ``record="tally"``, only the :class:`~sim.meters.gateway.GatewayTally`; a
:class:`~sim.meters.gateway.RequestSink` takes the requests block by block while the run goes on
(the per-request table, written without holding it).

Requests arriving before ``warmup_s`` are simulated but not counted in the figures of the
record; requests arriving before the horizon are followed to completion (the run drains), so
waits are not censored. Hour-of-day figures are in UTC.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np

from sim.meters.gateway import GatewayRun, GatewayTally, RequestSink
from sim.model.gateway import kernel as kernels
from sim.model.gateway.calendar import capacity_segments, review_pattern, week_offset_s
from sim.model.gateway.engines import GATEWAY_STAGES_IN_OUTAGE, QueueInputs, QueueRunner, RowBlock, run_simpy
from sim.model.gateway.record import EXTRA_FIELDS, Recorder
from sim.model.gateway.routing import Plan, plan
from sim.model.gateway.streams import CHUNK_ROWS, MauPath, Sources, StreamChunks, Streams, draw_streams
from sim.scenario.gateway import TRANSFER_POLICIES, GatewayConfig

__all__ = ["queue_inputs", "simulate_gateway"]


def simulate_gateway(
    config: GatewayConfig,
    *,
    start_utc: _dt.datetime,
    horizon_s: float,
    rng: np.random.Generator,
    transfer_policy: str = "gateway",
    method: Literal["fast", "simpy"] = "fast",
    transfer_jobs_per_hour: Mapping[tuple[str, str], float] | None = None,
    record: Literal["full", "tally"] = "full",
    requests: RequestSink | None = None,
    chunk_rows: int = CHUNK_ROWS,
    mau: MauPath | None = None,
) -> GatewayRun | GatewayTally:
    """Simulate the gateway's access and transfer requests over one horizon.

    Both methods make the same draws from ``rng`` and give the same per-request waits: the
    compiled kernel chunk by chunk (``fast``) or the SimPy reference on whole arrays
    (``simpy``).

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
        record: ``full`` (every request, a :class:`GatewayRun`) or ``tally`` (a
            :class:`GatewayTally`: what the results need, a few bytes per request).
        requests: takes the simulated requests block by block (request order) while the run
            goes on, e.g. to write the per-request table.
        chunk_rows: original requests drawn and queued at a time by the fast method (results do
            not depend on it).
        mau: monthly active users over the run, one number or ``(edges_s, users)`` per step
            (:data:`~sim.model.gateway.streams.MauPath`): drives the user-driven causes, needed
            when the configuration has one.

    Returns:
        The per-request record with its tally (``record="full"``) or the tally.

    Raises:
        ValueError: for an unknown policy, method or record, a horizon not after the warm-up, or
            user-driven causes without ``mau``.
    """
    if transfer_policy not in TRANSFER_POLICIES:
        raise ValueError(f"unknown transfer policy {transfer_policy!r}; use one of {', '.join(TRANSFER_POLICIES)}")
    if method not in ("fast", "simpy"):
        raise ValueError(f"unknown method {method!r}; use 'fast' or 'simpy'")
    if record not in ("full", "tally"):
        raise ValueError(f"unknown record {record!r}; use 'full' or 'tally'")
    if not (horizon_s > 0 and math.isfinite(horizon_s)):
        raise ValueError(f"horizon_s must be a finite number > 0, got {horizon_s!r}")
    if not horizon_s > config.warmup_s:
        raise ValueError(
            f"horizon_s ({horizon_s}) must be longer than gateway.warmup_s ({config.warmup_s}); "
            "lengthen the horizon or shorten the warm-up"
        )
    if not chunk_rows >= 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows!r}")
    week_offset = week_offset_s(start_utc)
    gateway_on = config.enabled and transfer_policy != "open"
    shift_t, shift_v = review_pattern(config, week_offset)
    staff = np.array([config.auto_check_servers, 0, config.transfers.nodes, config.third_party.staff], dtype=np.int64)
    if method == "simpy":
        streams = draw_streams(config, start_utc, horizon_s, rng, transfer_jobs_per_hour, mau)
        sources, outages, drawn = Sources(config, start_utc, horizon_s, transfer_jobs_per_hour, mau), streams.outages, len(streams.arrival)
    else:
        chunks = StreamChunks(config, start_utc, horizon_s, rng, transfer_jobs_per_hour, gateway_on=gateway_on,
                              chunk_rows=chunk_rows, mau=mau)
        sources, outages, drawn = chunks.sources, chunks.outages, chunks.n + len(chunks.resub.arrival)
    recorder = Recorder(sources, len(config.priority_classes), warmup_s=config.warmup_s, horizon_s=horizon_s,
                        week_offset_s=week_offset, full=record == "full", sink=requests)
    if requests is not None:
        requests.start(drawn)
    if method == "simpy":
        routes = plan(streams, config, transfer_policy)
        inp = queue_inputs(config, streams, routes, horizon_s, week_offset)
        res = run_simpy(inp)
        values = _rows(streams, routes)
        values.update(arrival=res.arrival, wait=res.wait, service=res.service, review_start=res.review_start,
                      review_wait=res.review_wait, done=res.done)
        recorder.add(RowBlock(0, values))
        complete = res.complete
    else:
        keep_parent = record == "full"  # originals have no parent; only the full record keeps the field
        resub = _rows(chunks.resub, plan(chunks.resub, config, transfer_policy))
        if not keep_parent:
            del resub["parent"]
        runner = QueueRunner(
            n_orig=chunks.n, resub=resub, staff=staff,
            shift_t=shift_t, shift_v=shift_v, outage_start=outages[:, 0], outage_end=outages[:, 1],
            outage_mask=np.array(GATEWAY_STAGES_IN_OUTAGE), horizon_s=horizon_s,
            n_classes=len(config.priority_classes), ring_rows=2 * chunk_rows,
            extra={k: v for k, v in EXTRA_FIELDS.items() if k != "parent" or keep_parent})
        def drawn(lo: int) -> dict[str, np.ndarray]:
            part = chunks.chunk(lo, min(lo + chunk_rows, chunks.n))
            rows = _rows(part, plan(part, config, transfer_policy))
            if not keep_parent:
                del rows["parent"]
            return rows

        # the next chunk is drawn in a second thread while the queues run the current one (the
        # kernels and NumPy's bulk draws release the GIL); each generator is used by that thread
        # alone and in chunk order, so the draws are the same as in one thread
        starts = range(0, chunks.n, chunk_rows)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gateway-draws") as pool:
            ahead = pool.submit(drawn, starts[0]) if len(starts) else None
            for i in range(len(starts)):
                rows = ahead.result()
                ahead = pool.submit(drawn, starts[i + 1]) if i + 1 < len(starts) else None
                for block in runner.add(rows):
                    recorder.add(block)
        for block in runner.finish():
            recorder.add(block)
        complete = runner.complete

    warmup = config.warmup_s
    if gateway_on:
        start, length, value = capacity_segments(shift_t, shift_v, outages, True, warmup, horizon_s)
        capacity = kernels.bin_intervals(start, length, value, warmup, horizon_s, week_offset, 3600.0, 168)
    else:
        capacity = np.zeros(168)
    load = recorder.offered_load(staff, shift_t, shift_v, outages, GATEWAY_STAGES_IN_OUTAGE) if gateway_on else {}
    over = {name: ratio for name, ratio in load.items() if ratio >= 1.0}
    message = ""
    if over:
        message = "unstable: " + "; ".join(
            f"{name} offered load is {ratio:.2f} x its capacity" for name, ratio in over.items()
        ) + " over the horizon, so its queue grows without bound: add servers or reviewers, or lower the rates"
    if not complete:
        message = (message + "; " if message else "") + "some requests never completed (no capacity left)"
    classes = config.priority_classes
    sla = np.array([c.sla_s if c.sla_s is not None else config.sla_s for c in classes], dtype=np.float64)
    tally = recorder.tally(sla_s_by_class=sla, capacity_s_by_week_hour=capacity, offered_load=load,
                           unstable=bool(over) or not complete, message=message, start_utc=start_utc,
                           transfer_policy=transfer_policy, method=method, gateway_on=gateway_on)
    return recorder.run(tally) if record == "full" else tally


def _rows(streams: Streams, routes: Plan) -> dict[str, np.ndarray]:
    """The per-row fields the engines take: queue inputs and the fields carried to the records."""
    return {
        "arrival": streams.arrival, "route": routes.route, "prio": streams.prio, "s_auto": streams.s_auto,
        "s_review": streams.s_review, "s_inspect": streams.s_inspect, "s_third": streams.s_third,
        "child": routes.child, "resub_delay": streams.resub_delay, "kind": streams.kind, "region": streams.region,
        "data_class": streams.data_class, "destination": streams.destination, "outcome": routes.outcome,
        "size_gb": streams.size_gb, "crossed_gb": routes.crossed_gb, "parent": streams.parent,
    }


def queue_inputs(config: GatewayConfig, streams: Streams, routes: Plan, horizon_s: float,
                 week_offset: float) -> QueueInputs:
    """The engines' inputs: drawn rows, their routes, staff, the shift pattern and outages."""
    shift_t, shift_v = review_pattern(config, week_offset)
    staff = np.array([config.auto_check_servers, 0, config.transfers.nodes, config.third_party.staff],
                     dtype=np.int64)
    return QueueInputs(
        arrival=streams.arrival, n_original=streams.n_original, route=routes.route, prio=streams.prio,
        s_auto=streams.s_auto, s_review=streams.s_review, s_inspect=streams.s_inspect,
        s_third=streams.s_third, child=routes.child, resub_delay=streams.resub_delay,
        horizon_s=float(horizon_s), staff=staff, shift_t=shift_t, shift_v=shift_v,
        outage_start=np.ascontiguousarray(streams.outages[:, 0]),
        outage_end=np.ascontiguousarray(streams.outages[:, 1]),
        outage_mask=np.array(GATEWAY_STAGES_IN_OUTAGE, dtype=np.bool_),
    )
