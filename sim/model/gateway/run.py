"""Security gateway: employee access requests and outbound transfer approvals, one run.

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

How a run goes
--------------
All random draws are made first, per request, from the caller's ``numpy.random.Generator``
(:mod:`~sim.model.gateway.streams`); the transfer policy turns them into routes and outcomes
(:mod:`~sim.model.gateway.routing`); then either engine (:mod:`~sim.model.gateway.engines`:
the compiled kernel or the SimPy reference) runs the queues on the same arrays, with identical
per-request waits; :func:`simulate_gateway` writes the record, a
:class:`~sim.meters.gateway.GatewayRun`.

Requests arriving before ``warmup_s`` are simulated but not counted in the figures of the
record; requests arriving before the horizon are followed to completion (the run drains), so
waits are not censored. Hour-of-day figures are in UTC.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Literal

import numpy as np

from sim.meters.gateway import ACCESS, STAGE_NAMES, GatewayRun
from sim.model.gateway import kernel as kernels
from sim.model.gateway.calendar import capacity_segments, review_pattern, week_offset_s
from sim.model.gateway.engines import GATEWAY_STAGES_IN_OUTAGE, QueueInputs, QueueResult, run_fast, run_simpy
from sim.model.gateway.kernel import REVIEW
from sim.model.gateway.routing import Plan, plan
from sim.model.gateway.streams import Streams, draw_streams
from sim.scenario.gateway import TRANSFER_POLICIES, GatewayConfig

__all__ = ["make_run", "queue_inputs", "simulate_gateway"]


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
        The per-request record, utilisation figures and a stability flag.

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
    week_offset = week_offset_s(start_utc)
    streams = draw_streams(config, start_utc, horizon_s, rng, transfer_jobs_per_hour)
    routes = plan(streams, config, transfer_policy)
    inp = queue_inputs(config, streams, routes, horizon_s, week_offset)
    res = run_fast(inp) if method == "fast" else run_simpy(inp)
    return make_run(config, streams, routes, inp, res, horizon_s=horizon_s, start_utc=start_utc,
                    policy=transfer_policy, method=method, week_offset=week_offset)


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


def make_run(
    config: GatewayConfig, streams: Streams, routes: Plan, inp: QueueInputs, res: QueueResult, *,
    horizon_s: float, start_utc: _dt.datetime, policy: str, method: str, week_offset: float,
) -> GatewayRun:
    """Write the run record: per-request results, reviewer hours, offered load, stability."""
    reviewed = (routes.route & (1 << REVIEW)) > 0
    warmup = config.warmup_s

    rev = np.flatnonzero(reviewed & ~np.isnan(res.review_start))
    busy = kernels.bin_intervals(res.review_start[rev], inp.s_review[rev], np.ones(len(rev)), warmup,
                                 horizon_s, week_offset, 3600.0, 168)
    if routes.gateway_on:
        start, length, value = capacity_segments(inp.shift_t, inp.shift_v, streams.outages, True,
                                                 warmup, horizon_s)
        capacity = kernels.bin_intervals(start, length, value, warmup, horizon_s, week_offset, 3600.0, 168)
    else:
        capacity = np.zeros(168)

    load = _offered_load(inp, res, streams.outages) if routes.gateway_on else {}
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
        outcome=routes.outcome,
        reviewed=reviewed,
        size_gb=streams.size_gb,
        crossed_gb=routes.crossed_gb,
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
        gateway_on=routes.gateway_on,
        week_offset_s=week_offset,
    )


def _offered_load(inp: QueueInputs, res: QueueResult, outages: np.ndarray) -> dict[str, float]:
    """Work brought to each stage / server-seconds it had, over [0, horizon)."""
    patterns = [(np.zeros(1), np.array([int(inp.staff[k])])) for k in range(kernels.N_STAGES)]
    patterns[REVIEW] = (inp.shift_t, inp.shift_v)
    arrived = ~np.isnan(res.arrival)
    services = (inp.s_auto, inp.s_review, inp.s_inspect, inp.s_third)
    out: dict[str, float] = {}
    for k, (pt, pv) in enumerate(patterns):
        on_route = arrived & ((inp.route & (1 << k)) > 0)
        if not on_route.any():
            continue
        work = float(np.sum(services[k], where=on_route))
        _, length, value = capacity_segments(pt, pv, outages, bool(inp.outage_mask[k]), 0.0, inp.horizon_s)
        capacity = float((length * value).sum())
        out[STAGE_NAMES[k]] = work / capacity if capacity > 0 else math.inf
    return out
