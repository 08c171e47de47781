"""Writing the records of a gateway run from its finished requests, block by block in request order.

The engines hand finished requests back in request order (:class:`~sim.model.gateway.engines.RowBlock`);
a :class:`Recorder` adds each block into the run's :class:`~sim.meters.gateway.GatewayTally` (counts,
the non-zero waits of counted access requests with their places, the crossing volumes of approved and
blocked transfer jobs, reviewer busy seconds per UTC hour of the week, the work brought to each
stage, all in one compiled pass: :func:`~sim.model.gateway.kernel.tally_rows`), hands it to a
:class:`~sim.meters.gateway.RequestSink` if one is given, and keeps every row only when the full
:class:`~sim.meters.gateway.GatewayRun` is asked for. Adding up in request order makes every sum
the same, bit for bit, whatever the blocks. Times in s, volumes in GB.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math

import numpy as np

from sim.meters.gateway import (
    ACCESS,
    STAGE_NAMES,
    GatewayInfo,
    GatewayRows,
    GatewayRun,
    GatewayTally,
    RequestSink,
)
from sim.model.gateway import kernel as kernels
from sim.model.gateway.calendar import capacity_segments
from sim.model.gateway.engines import RowBlock
from sim.model.gateway.kernel import REVIEW
from sim.model.gateway.streams import Sources

__all__ = ["EXTRA_FIELDS", "Recorder"]

#: Per-row fields the engines carry besides the queue inputs and results, for the records.
EXTRA_FIELDS = {"kind": np.int8, "region": np.int16, "data_class": np.int16, "destination": np.int16,
                "outcome": np.int8, "size_gb": np.float64, "crossed_gb": np.float64, "parent": np.int64}

#: Full-record fields: name in :class:`GatewayRun` <- name in a block.
_FULL = {"arrival_s": "arrival", "kind": "kind", "priority": "priority", "region": "region",
         "data_class": "data_class", "destination": "destination", "wait_s": "wait",
         "review_wait_s": "review_wait", "service_s": "service", "done_s": "done", "outcome": "outcome",
         "reviewed": "reviewed", "size_gb": "size_gb", "crossed_gb": "crossed_gb", "parent": "parent"}


class Recorder:
    """Adds finished request blocks into a run's tally (and its full record or a sink if asked).

    Args:
        sources: the run's sources (code labels).
        n_classes: number of priority classes.
        warmup_s: requests arriving earlier are not counted.
        horizon_s: end of the simulated arrivals.
        week_offset_s: seconds from Monday 00:00 UTC to the start.
        full: keep every row for a :class:`GatewayRun`.
        sink: takes each block of simulated requests (the per-request table), or None.
    """

    def __init__(self, sources: Sources, n_classes: int, *, warmup_s: float, horizon_s: float,
                 week_offset_s: float, full: bool, sink: RequestSink | None) -> None:
        self.sources = sources
        self.warmup_s, self.horizon_s, self.week_offset_s = float(warmup_s), float(horizon_s), float(week_offset_s)
        self.sink = sink
        self.full: dict[str, list[np.ndarray]] | None = {name: [] for name in _FULL} if full else None
        self.requests = self.requests_counted = self.access_counted = 0
        self.by_class = np.zeros(n_classes, dtype=np.int64)
        self.waits: dict[str, list[np.ndarray]] = {"rank": [], "wait": [], "cls": []}
        self.transfers: dict[str, list[np.ndarray]] = {"dc": [], "dest": [], "crossed": [], "blocked": []}
        self.busy = np.zeros(168)
        self.work = np.zeros(kernels.N_STAGES)
        self.on_route = np.zeros(kernels.N_STAGES, dtype=np.bool_)

    def add(self, block: RowBlock) -> None:
        """Add the next block of finished requests (blocks must come in request order).

        The block's arrays are only read here; what the full record keeps is copied.
        """
        v = block.values
        # the kernel's size argument feeds only the blocked volumes: given the crossing volumes, the
        # tally keeps what each blocked job would have let cross (the point every transfer KPI is measured at)
        (n_sim, n_counted, n_access, rank, wait, cls, a_dc, a_dest, a_crossed, blocked) = kernels.tally_rows(
            v["arrival"], v["kind"], v["prio"], v["wait"], v["outcome"], v["route"], v["review_start"], v["s_auto"],
            v["s_review"], v["s_inspect"], v["s_third"], v["data_class"], v["destination"], v["crossed_gb"],
            v["crossed_gb"], self.warmup_s, self.horizon_s, self.week_offset_s, self.access_counted, self.by_class,
            self.busy, self.work, self.on_route)
        self.requests += n_sim
        self.requests_counted += n_counted
        self.access_counted += n_access
        for key, part in (("rank", rank), ("wait", wait), ("cls", cls)):
            self.waits[key].append(part)
        for key, part in (("dc", a_dc), ("dest", a_dest), ("crossed", a_crossed), ("blocked", blocked)):
            self.transfers[key].append(part)
        if self.sink is None and self.full is None:
            return
        kind, arrival = v["kind"], v["arrival"]
        priority = np.where(kind == ACCESS, v["prio"], -1).astype(np.int16)
        if self.sink is not None and n_sim:
            keep = slice(None) if n_sim == len(arrival) else ~np.isnan(arrival)
            src = self.sources
            self.sink.write(GatewayRows(
                arrival_s=arrival[keep], kind=kind[keep], priority=priority[keep], region=v["region"][keep],
                wait_s=v["wait"][keep], service_s=v["service"][keep], outcome=v["outcome"][keep],
                size_gb=v["size_gb"][keep], crossed_gb=v["crossed_gb"][keep], destination=v["destination"][keep],
                data_class=v["data_class"][keep], class_names=src.class_names, region_names=src.region_names,
                data_class_names=src.data_class_names, destination_names=src.destination_names))
        if self.full is not None:
            extra = {"priority": priority, "reviewed": (v["route"] & (1 << REVIEW)) > 0}
            for name, field in _FULL.items():
                self.full[name].append(extra[field] if field in extra else v[field].copy())

    def offered_load(self, config_staff: np.ndarray, shift_t: np.ndarray, shift_v: np.ndarray,
                     outages: np.ndarray, outage_mask: np.ndarray) -> dict[str, float]:
        """Work brought to each stage / server-seconds it had over [0, horizon_s)."""
        out: dict[str, float] = {}
        for k in range(kernels.N_STAGES):
            if not self.on_route[k]:
                continue
            pt, pv = (shift_t, shift_v) if k == REVIEW else (np.zeros(1), np.array([int(config_staff[k])]))
            _, length, value = capacity_segments(pt, pv, outages, bool(outage_mask[k]), 0.0, self.horizon_s)
            capacity = float((length * value).sum())
            out[STAGE_NAMES[k]] = float(self.work[k]) / capacity if capacity > 0 else math.inf
        return out

    def tally(self, *, sla_s_by_class: np.ndarray, capacity_s_by_week_hour: np.ndarray,
              offered_load: dict[str, float], unstable: bool, message: str, start_utc: _dt.datetime,
              transfer_policy: str, method: str, gateway_on: bool) -> GatewayTally:
        """The run's tally, once every block is in."""
        src = self.sources

        def joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)

        return GatewayTally(
            requests=self.requests, requests_counted=self.requests_counted, access_counted=self.access_counted,
            access_counted_by_class=self.by_class, wait_rank=joined(self.waits["rank"], np.int64),
            wait_s=joined(self.waits["wait"], np.float64), wait_class=joined(self.waits["cls"], np.int16),
            approved_data_class=joined(self.transfers["dc"], np.int16),
            approved_destination=joined(self.transfers["dest"], np.int16),
            approved_crossed_gb=joined(self.transfers["crossed"], np.float64),
            blocked_crossed_gb=joined(self.transfers["blocked"], np.float64),
            class_names=src.class_names, region_names=src.region_names, data_class_names=src.data_class_names,
            destination_names=src.destination_names, sla_s_by_class=sla_s_by_class, busy_s_by_week_hour=self.busy,
            capacity_s_by_week_hour=capacity_s_by_week_hour, offered_load=offered_load, unstable=unstable,
            message=message, horizon_s=self.horizon_s, warmup_s=self.warmup_s, start_utc=start_utc,
            transfer_policy=transfer_policy, method=method, gateway_on=gateway_on, week_offset_s=self.week_offset_s)

    def run(self, tally: GatewayTally) -> GatewayRun:
        """The full record (every row kept; ``full=True``), with its tally."""
        assert self.full is not None
        rows = {name: np.concatenate(parts) if parts else np.zeros(0) for name, parts in self.full.items()}
        info = {f.name: getattr(tally, f.name) for f in dataclasses.fields(GatewayInfo)}
        return GatewayRun(**rows, **info, tally=tally)
