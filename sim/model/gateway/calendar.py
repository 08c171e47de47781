"""Calendar of the gateway: requesters' working windows, reviewer shift patterns, capacity pieces.

Times are seconds of simulation time (0 = the scenario start ``start_utc``) unless a name says
otherwise; week-periodic patterns are in seconds from Monday 00:00 UTC (``WEEK_S`` long) and are
shifted into simulation time by ``week_offset_s``, the Monday-based second of the week at which
the simulation starts. There is no daylight saving: a region or shift keeps its UTC offset.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence

import numpy as np

from sim.reference.units import DAY_S
from sim.scenario.gateway import GatewayConfig, RequesterRegion, Shift

__all__ = [
    "WEEK_S",
    "capacity_segments",
    "epoch_s",
    "merge_windows",
    "region_windows",
    "review_pattern",
    "shift_week_intervals",
    "week_offset_s",
    "weekly_pattern",
]

#: Seconds in a week: the period of every shift pattern.
WEEK_S = 7 * DAY_S


def epoch_s(start_utc: _dt.datetime) -> float:
    """POSIX seconds of ``start_utc`` (a naive datetime is taken as UTC)."""
    if start_utc.tzinfo is None:
        start_utc = start_utc.replace(tzinfo=_dt.timezone.utc)
    return start_utc.timestamp()


def week_offset_s(start_utc: _dt.datetime) -> float:
    """Seconds from Monday 00:00 UTC to ``start_utc`` (1970-01-01 was a Thursday)."""
    return (epoch_s(start_utc) + 3 * 86400.0) % WEEK_S


def region_windows(region: RequesterRegion, epoch: float, horizon_s: float) -> np.ndarray:
    """Working-hour windows of a region in simulation seconds, clipped to [0, horizon_s].

    Args:
        region: the requester region (local working hours, UTC offset, weekdays only or not).
        epoch: POSIX seconds of simulation time 0 (:func:`epoch_s`).
        horizon_s: end of the simulated time, s.

    Returns:
        (n, 2) array of windows [start, end), sorted, none empty.
    """
    offset_s = region.utc_offset_h * 3600.0
    local0 = epoch + offset_s
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


def shift_week_intervals(shift: Shift) -> list[tuple[float, float]]:
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


def weekly_pattern(
    weighted_intervals: Sequence[tuple[float, float, float]], week_offset: float
) -> tuple[np.ndarray, np.ndarray]:
    """Step function sum(weight over covering intervals) in simulation coordinates.

    Args:
        weighted_intervals: (start, end, weight) in seconds from Monday 00:00 UTC.
        week_offset: :func:`week_offset_s` of the simulation start.

    Returns:
        (t, v): from ``t[j]`` (``t[0] = 0``) the value is ``v[j]`` (int64), repeating every
        week; consecutive values differ.
    """
    edges = {0.0}
    for start, end, _ in weighted_intervals:
        edges.add((start - week_offset) % WEEK_S)
        edges.add((end - week_offset) % WEEK_S)
    t = np.array(sorted(e for e in edges if e < WEEK_S))
    mids = (t + np.append(t[1:], WEEK_S)) / 2.0
    u = (mids + week_offset) % WEEK_S
    v = np.zeros(len(t))
    for start, end, weight in weighted_intervals:
        v += weight * ((u >= start) & (u < end))
    keep = np.ones(len(t), dtype=bool)
    keep[1:] = v[1:] != v[:-1]
    return t[keep], np.rint(v[keep]).astype(np.int64)


def review_pattern(config: GatewayConfig, week_offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Reviewers on duty over the week (all effective shifts summed), as :func:`weekly_pattern`."""
    intervals = [
        (a, b, float(s.reviewers)) for s in config.effective_shifts() for a, b in shift_week_intervals(s)
    ]
    return weekly_pattern(intervals, week_offset)


def merge_windows(windows: np.ndarray) -> np.ndarray:
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


def capacity_segments(
    pattern_t: np.ndarray, pattern_v: np.ndarray, outages: np.ndarray, stops: bool, t0: float, t1: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pieces of constant server count of a stage within [t0, t1).

    Args:
        pattern_t: steps of the stage's weekly server pattern (:func:`weekly_pattern`).
        pattern_v: servers from each step on.
        outages: (n, 2) merged outage windows, s.
        stops: whether the stage has no server during outages.
        t0: start of the window, s.
        t1: end of the window, s.

    Returns:
        (start, length, servers) of each piece [start, start + length), s.
    """
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
