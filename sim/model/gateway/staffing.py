"""Reviewer staffing: the fewest reviewers per shift whose simulated p95 review wait meets a target.

Rates are per second, times in seconds, staff in reviewers on duty per shift; hours of the
week are UTC (0 = Monday 00:00-01:00). Erlang C (:mod:`sim.theory.queueing`) gives the starting
point per hour of the week; the fast gateway simulation (:func:`simulate_gateway`) is the judge.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sim.model.gateway.calendar import WEEK_S, shift_week_intervals, weekly_pattern
from sim.model.gateway.run import simulate_gateway
from sim.scenario.gateway import GatewayConfig, RequesterRegion, Shift
from sim.theory import queueing

__all__ = ["staff_for_target"]


def staff_for_target(
    config: GatewayConfig,
    *,
    p95_wait_s: float,
    start_utc: _dt.datetime,
    horizon_s: float,
    seed: int,
    transfer_policy: str = "gateway",
    max_reviewers_per_shift: int = 10_000,
    transfer_jobs_per_hour: Mapping[tuple[str, str], float] | None = None,
    mau: float | None = None,
) -> pd.DataFrame:
    """Fewest reviewers per shift whose simulated p95 review wait meets a target.

    Erlang C gives the starting point: for every UTC hour of the week the M/M/c staff
    meeting the p95 target for that hour's expected review arrivals (with the mean review
    time); the fewest weekly reviewer-hours covering those needs (a small integer
    programme: sum over shifts on duty of reviewers x share of the hour >= need) are the
    ``erlang_c_reviewers``. The fast simulation is the judge (same seed, so common random
    numbers): shifts whose p95 misses the target get one more reviewer until all meet it,
    then shifts give reviewers back one at a time, longest shifts first, while every shift
    still meets it.

    The judged statistic is, per shift, the 95th percentile of the review-stage wait of
    reviewed requests arriving (after warm-up) while the shift is on duty. Shifts with no
    such arrival meet any target.

    Args:
        config: the gateway configuration (its ``reviewers`` / ``staffing`` overrides are
            resolved into explicit shifts first).
        p95_wait_s: target for the 95th-percentile review wait, seconds.
        start_utc: calendar time of simulation time 0.
        horizon_s: simulated horizon of each trial, seconds.
        seed: seed of every trial's ``numpy.random.default_rng``.
        transfer_policy: the transfer policy simulated.
        max_reviewers_per_shift: give up above this.
        transfer_jobs_per_hour: optional transfer rate override (see ``simulate_gateway``).
        mau: monthly active users, for the user-driven causes (see ``simulate_gateway``).

    Returns:
        One row per shift: shift, reviewers, erlang_c_reviewers, p95_wait_s, utilisation
        (reviewer busy / capacity seconds over the hours the shift is on duty, shared with
        overlapping shifts).

    Raises:
        ValueError: if the target is not > 0 or cannot be met within ``max_reviewers_per_shift``.
    """
    if p95_wait_s <= 0:
        raise ValueError(f"p95_wait_s must be > 0 (got {p95_wait_s}); give a positive value")
    shifts = config.effective_shifts()
    data = config.model_dump()
    data.update(staffing="shifts", reviewers=None)
    mean_review_s = config.review_time().mean * 60.0

    rate = _review_rate_by_week_hour(config, mau or 0.0)
    need = np.array([queueing.erlang_c_min_servers(lam, mean_review_s, target_wait_s=p95_wait_s)
                     for lam in rate])
    coverage = np.array([_shift_coverage_by_week_hour(s) for s in shifts])
    erlang = _cover_hours(need, coverage)

    def judge(counts: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        data["shifts"] = [dict(s.model_dump(), reviewers=int(c)) for s, c in zip(shifts, counts)]
        trial = GatewayConfig.model_validate(data)
        run = simulate_gateway(trial, start_utc=start_utc, horizon_s=horizon_s,
                               rng=np.random.default_rng(seed), transfer_policy=transfer_policy,
                               transfer_jobs_per_hour=transfer_jobs_per_hour, mau=mau)
        counted = run.reviewed & (run.arrival_s >= run.warmup_s)
        times, waits = run.arrival_s[counted], run.review_wait_s[counted]
        p95 = np.zeros(len(shifts))
        util = np.zeros(len(shifts))
        for i, shift in enumerate(shifts):
            mine = waits[_shift_active(shift, times, run.week_offset_s)]
            p95[i] = float(np.quantile(mine, 0.95)) if len(mine) else 0.0
            cap = float((run.capacity_s_by_week_hour * coverage[i]).sum())
            util[i] = float((run.busy_s_by_week_hour * coverage[i]).sum()) / cap if cap > 0 else 0.0
        return p95, util

    def feasible(counts: Sequence[int]) -> bool:
        return sum(counts) > 0

    counts = [max(c, 0) for c in erlang]
    if not feasible(counts):
        counts = [1] * len(shifts)
    p95, util = judge(counts)
    while (p95 > p95_wait_s).any():
        counts = [c + 1 if p > p95_wait_s else c for c, p in zip(counts, p95)]
        if max(counts) > max_reviewers_per_shift:
            raise ValueError(
                f"the p95 review wait target of {p95_wait_s} s is not met with "
                f"{max_reviewers_per_shift} reviewers per shift; relax the target or check the rates"
            )
        p95, util = judge(counts)
    order = np.argsort(-coverage.sum(axis=1), kind="stable")  # most reviewer-hours first
    improved = True
    while improved:
        improved = False
        for i in order:
            if counts[i] == 0:
                continue
            trial = list(counts)
            trial[i] -= 1
            if not feasible(trial):
                continue
            trial_p95, trial_util = judge(trial)
            if (trial_p95 <= p95_wait_s).all():
                counts, p95, util = trial, trial_p95, trial_util
                improved = True
    return pd.DataFrame({
        "shift": [s.name for s in shifts],
        "reviewers": counts,
        "erlang_c_reviewers": erlang,
        "p95_wait_s": p95,
        "utilisation": util,
    })


def _review_rate_by_week_hour(config: GatewayConfig, mau: float) -> np.ndarray:
    """Expected arrivals per second needing review, per UTC hour of the week (168).

    Regions' requests in their working hours; user-driven causes' at ``mau`` users, in their
    handling region's working hours (7 x per day / working hours a week) or around the clock.

    Includes resubmissions (sum over levels of (deny x resubmit share)^k), placed at the
    hour of the original request (an approximation: their delays move them in time).
    """
    step = 60.0
    u = np.arange(0.0, WEEK_S, step) + step / 2.0
    rate = np.zeros_like(u)
    if config.access_requests_per_hour is not None:
        rate += config.access_requests_per_hour / 3600.0
    else:
        for region in config.regions:
            prob = 1.0 if not region.in_zone else region.restricted_share
            rate += _working(region, u) * region.rate_per_hour() / 3600.0 * prob
        for cause in config.user_driven:
            per_week = 7.0 * cause.requests_per_day(mau) * cause.review_share
            if cause.handled_by is None:
                rate += per_week / WEEK_S
            else:
                region = config.region(cause.handled_by)
                rate += _working(region, u) * per_week / (region.working_hours_per_week() * 3600.0)
    q = (1.0 - config.approve_probability) * config.resubmit_share
    rate *= sum(q**k for k in range(config.max_resubmissions + 1))
    return rate.reshape(168, -1).mean(axis=1)


def _working(region: RequesterRegion, u: np.ndarray) -> np.ndarray:
    """Whether the region works at each second ``u`` of the week from Monday 00:00 UTC (0 or 1)."""
    on = np.zeros_like(u)
    for day in range(5) if region.weekdays_only else range(7):
        start = (day * 86400.0 + (region.start_hour - region.utc_offset_h) * 3600.0) % WEEK_S
        on[((u - start) % WEEK_S) < region.working_hours() * 3600.0] = 1.0
    return on


def _cover_hours(need: np.ndarray, coverage: np.ndarray) -> list[int]:
    """Fewest reviewer-hours with ``coverage.T @ reviewers >= need`` (integer programme)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    covered = coverage.sum(axis=0) > 0
    hours = covered & (need > 0)
    if not hours.any():
        return [0] * coverage.shape[0]
    result = milp(
        c=coverage.sum(axis=1) + 1e-6,
        constraints=LinearConstraint(coverage[:, hours].T, lb=need[hours], ub=np.inf),
        integrality=np.ones(coverage.shape[0]),
        bounds=Bounds(0, np.inf),
    )
    if result.x is None:  # pragma: no cover - always feasible when every hour is covered
        raise ValueError(f"could not find a starting staff plan: {result.message}")
    return [int(round(x)) for x in result.x]


def _shift_active(shift: Shift, times_s: np.ndarray, week_offset: float) -> np.ndarray:
    """Whether the shift is on duty at each simulation time."""
    t, v = weekly_pattern([(a, b, 1.0) for a, b in shift_week_intervals(shift)], week_offset)
    return v[np.searchsorted(t, times_s % WEEK_S, side="right") - 1] > 0


def _shift_coverage_by_week_hour(shift: Shift) -> np.ndarray:
    """Fraction of each UTC hour of the week the shift is on duty."""
    step = 60.0
    u = np.arange(0.0, WEEK_S, step) + step / 2.0
    on = np.zeros_like(u, dtype=bool)
    for a, b in shift_week_intervals(shift):
        on |= (u >= a) & (u < b)
    return on.reshape(168, -1).mean(axis=1)
