"""The size of a run, estimated from its scenario before anything is simulated.

A run does three kinds of work, and each is counted from the scenario alone:

* **bulk traffic cells**: time steps x countries x data classes x sites (NumPy arrays of float64
  over every step; the world keeps several of them);
* **gateway requests**: every employee access request (per region: people x rate x working
  hours, or the 24x7 textbook rate), every transfer job the exports imply (exported GB per hour /
  mean job size, at the end-of-horizon user count) and the configured transfer flows, each with
  its resubmissions; each request is one row of several arrays while it is in the gateway;
* **state changes**: sites coming online, scheduled and random outages, link cuts; each one
  ends a segment of the run (and makes an optimising placement solve its programme again).

:func:`estimate_run` turns the counts into peak memory (bytes) and wall time (seconds) with the
coefficients below, measured on the Clover scenario on a busy 2-core machine (~7.4 B per cell,
~20 B per request that flows through, ~1 kB per request stuck in the backlog of an overloaded
stage, 5-12 M cells/s, 0.5-1 M requests/s, ~2 s of start-up) and rounded up, so the estimate
errs towards too large; :func:`gateway_backlog_share` tells how many requests will pile up.
:func:`exceeds` compares an estimate with :class:`Limits`; the command line refuses a run over
the limits (exit 2, with the estimate) unless ``--no-limits`` is given. Units: bytes, seconds,
counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.scenario.gateway import GatewayConfig
from sim.scenario.schema import Scenario

__all__ = [
    "RunEstimate",
    "Limits",
    "estimate_run",
    "estimate_gateway",
    "exceeds",
    "gateway_requests_per_hour",
    "gateway_backlog_share",
]

#: Peak bytes per bulk cell (step x country x class x site).
BYTES_PER_CELL = 12.0
#: Peak bytes per gateway request that flows through (streams and kernel arrays, written out in blocks).
BYTES_PER_REQUEST = 40.0
#: Extra bytes per request that waits in a queue which never drains (an overloaded stage keeps a backlog).
BYTES_PER_QUEUED_REQUEST = 1200.0
#: Bytes per gateway request kept for every further replication (its summaries).
BYTES_PER_KEPT_REQUEST = 8.0
#: Memory of the process before the run (Python, NumPy, pandas, SimPy) and of compiling the kernels (numba, cold cache).
BASE_BYTES = 800e6
#: Bulk cells per second.
CELLS_PER_S = 5e6
#: Gateway requests per second, and requests that end up in a backlog per second.
REQUESTS_PER_S = 0.5e6
QUEUED_REQUESTS_PER_S = 0.25e6
#: Seconds of start-up (imports, loading the compiled kernels) and per run.
S_START, S_PER_RUN = 2.0, 0.5
#: Seconds per state change (a segment: placement, serving shares; an optimiser solves a programme).
S_PER_STATE_CHANGE = 0.02
S_PER_STATE_CHANGE_OPTIMISER = 1.0
#: Placement policies that solve a programme at every state change.
_OPTIMISERS = ("cost_optimal", "carbon_optimal", "latency_optimal", "weighted")


@dataclass(frozen=True)
class RunEstimate:
    """What a run will take, estimated from its scenario.

    Attributes:
        runs: simulations (replications x points).
        cells: bulk traffic cells of one run (steps x countries x classes x sites).
        gateway_requests: gateway requests of one run.
        state_changes: state changes of one run (segments - 1).
        memory_bytes: peak memory of the whole command.
        seconds: wall time of the whole command on one core.
    """

    runs: int
    cells: float
    gateway_requests: float
    state_changes: float
    memory_bytes: float
    seconds: float

    def describe(self) -> str:
        """One line: memory, time and what they come from."""
        runs = f"{self.runs} run(s) of " if self.runs != 1 else ""
        return (
            f"~{_bytes(self.memory_bytes)} of memory and ~{_duration(self.seconds)} "
            f"({runs}{self.cells:.3g} traffic cells, {self.gateway_requests:.3g} gateway requests, "
            f"{self.state_changes:.3g} state changes)"
        )


@dataclass(frozen=True)
class Limits:
    """What this machine allows one command.

    Attributes:
        memory_bytes: the most memory a run may need.
        seconds: the longest a run may take.
    """

    memory_bytes: float
    seconds: float


def _bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def _duration(s: float) -> str:
    if not math.isfinite(s):
        return "forever"
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s / size:.3g} {unit}"
    return f"{s:.2g} s"


def _working_share(start_hour: float, end_hour: float, weekdays_only: bool) -> float:
    """Share of the week's hours inside the working hours."""
    hours = (end_hour - start_hour) % 24.0
    hours = 24.0 if hours == 0.0 else hours
    return hours * (5 if weekdays_only else 7) / 168.0


def gateway_requests_per_hour(config: GatewayConfig, export_jobs_per_hour: float = 0.0, mau: float = 0.0) -> float:
    """Mean gateway requests per hour over a week, resubmissions included.

    Args:
        config: the gateway configuration.
        export_jobs_per_hour: transfer jobs per hour implied by the world's exports (replaces the
            configured flows when > 0, as the world does).
        mau: monthly active users, for the user-driven causes.
    """
    if not config.enabled:
        return 0.0
    if config.access_requests_per_hour is not None:
        access = config.access_requests_per_hour
    else:
        access = config.employee_requests_per_week() / 168.0 + config.user_driven_requests_per_day(mau) / 24.0
    q = (1.0 - config.approve_probability) * config.resubmit_share
    resubmissions = sum(q**k for k in range(config.max_resubmissions + 1))
    flows = sum(f.jobs_per_hour for f in config.transfers.flows)
    return access * resubmissions + max(flows, export_jobs_per_hour)


def gateway_backlog_share(config: GatewayConfig, export_jobs_per_hour: float = 0.0, mau: float = 0.0) -> float:
    """Share of gateway requests that end up waiting in a queue that never drains (0 when every stage keeps up).

    Each stage's mean capacity per hour (servers x 3600 / mean service time; reviewers averaged
    over the week's shifts) is set against the requests that reach it; the worst stage decides.
    A rough count over the week (busy hours can queue where the week's mean does not).
    """
    if not config.enabled:
        return 0.0
    if config.access_requests_per_hour is not None:
        access = reviewed = config.access_requests_per_hour
    else:
        shares = [(r.rate_per_hour() * _working_share(r.start_hour, r.end_hour, r.weekdays_only),
                   r.restricted_share if r.in_zone else 1.0) for r in config.regions]
        shares += [(c.requests_per_day(mau) / 24.0, c.review_share) for c in config.user_driven]
        access = sum(rate for rate, _ in shares)
        reviewed = sum(rate * share for rate, share in shares)
    flows = sum(f.jobs_per_hour for f in config.transfers.flows)
    transfers = max(flows, export_jobs_per_hour)
    reviewer_hours = sum(s.reviewers * s.hours() * len(s.days) for s in config.effective_shifts()) / 168.0
    tp = config.third_party
    stages = [  # (demand per hour, capacity per hour); a stage without demand needs none of its figures
        (access if config.auto_check else 0.0, lambda: config.auto_check_servers * 3600.0 / config.auto_check_s.mean),
        (reviewed, lambda: reviewer_hours * 60.0 / config.review_time().mean),
        (transfers, lambda: config.transfers.nodes * config.transfers.inspection_gb_per_s * 3600.0
         / config.transfers.size_gb.mean),
        ((reviewed * tp.access_share + transfers * tp.transfer_share) if tp.enabled else 0.0,
         lambda: tp.staff * 60.0 / tp.review_minutes.mean),
    ]
    total = access + transfers
    if total <= 0:
        return 0.0
    queued = max((demand - cap for demand, capacity in stages if demand > 0 and demand > (cap := capacity())),
                 default=0.0)
    return min(1.0, queued / total)


def _mau_end(scenario: Scenario) -> float:
    """Monthly active users at the end of the horizon (or at the start, if fewer)."""
    pop = scenario.population
    years = scenario.time.horizon_days / 365.25
    return pop.mau * max(1.0, (1.0 + pop.growth_per_year) ** years)


def _export_jobs_per_hour(scenario: Scenario) -> float:
    """Transfer jobs per hour the exports imply, at the end-of-horizon user count."""
    dau = _mau_end(scenario) * scenario.population.daily_active_ratio
    gb_per_hour = sum(dc.write_gb_per_dau_per_day * dc.export_share for dc in scenario.data_classes.values()) * dau / 24.0
    if not (scenario.gateway.enabled and scenario.gateway.transfers.stated("size_gb")):
        return 0.0  # no gateway (nothing counts them) or no transfer job through it (the scenario states a size if so)
    return gb_per_hour / scenario.gateway.transfers.size_gb.mean


def _state_changes(scenario: Scenario) -> float:
    horizon_h = scenario.time.horizon_days * 24.0
    n = 1.0  # migration start
    for site_id in scenario.world_sites:
        site = scenario.sites[site_id]
        n += 1.0 + 2.0 * len(site.outages)
        if site.mtbf_hours is not None and site.mttr_hours is not None:
            n += 2.0 * horizon_h / (site.mtbf_hours + site.mttr_hours)
    return n + 2.0 * len(scenario.network.cuts)


def estimate_run(scenario: Scenario, runs: int = 1, *, horizon_days: float | None = None) -> RunEstimate:
    """Estimate memory and time of ``runs`` simulations of a scenario (e.g. its replications).

    Args:
        scenario: the resolved scenario.
        runs: how many times it is simulated; every run's per-request table is kept.
        horizon_days: simulated days if not the scenario's (e.g. a Pareto front's shorter runs).

    Returns:
        The estimate.
    """
    days = scenario.time.horizon_days if horizon_days is None else horizon_days
    steps = math.ceil(days * 1440.0 / scenario.time.step_minutes)
    cells = float(steps) * len(scenario.population.countries) * len(scenario.data_classes) * len(scenario.world_sites)
    exports = _export_jobs_per_hour(scenario)
    requests = gateway_requests_per_hour(scenario.gateway, exports, _mau_end(scenario)) * days * 24.0
    queued = gateway_backlog_share(scenario.gateway, exports, _mau_end(scenario)) * requests
    changes = _state_changes(scenario) * days / scenario.time.horizon_days
    per_change = S_PER_STATE_CHANGE_OPTIMISER if scenario.policy.placement in _OPTIMISERS else S_PER_STATE_CHANGE
    memory = (BASE_BYTES + BYTES_PER_CELL * cells + BYTES_PER_REQUEST * requests + BYTES_PER_QUEUED_REQUEST * queued
              + BYTES_PER_KEPT_REQUEST * requests * max(runs - 1, 0))
    one_run = S_PER_RUN + cells / CELLS_PER_S + requests / REQUESTS_PER_S + queued / QUEUED_REQUESTS_PER_S + changes * per_change
    return RunEstimate(runs, cells, requests, changes, memory, S_START + runs * one_run)


def estimate_gateway(config: GatewayConfig, horizon_s: float, runs: int = 1, mau: float = 0.0) -> RunEstimate:
    """Estimate memory and time of ``runs`` gateway-only simulations (e.g. staffing trials).

    Args:
        config: the gateway configuration.
        horizon_s: simulated seconds of each run.
        runs: how many runs (one at a time; nothing is kept between them).
        mau: monthly active users, for the user-driven causes.
    """
    requests = gateway_requests_per_hour(config, mau=mau) * horizon_s / 3600.0
    queued = gateway_backlog_share(config, mau=mau) * requests
    outages = 2.0 * horizon_s / 3600.0 / (config.outage_mtbf_h + config.outage_mttr_h) if config.outage_mtbf_h else 0.0
    memory = BASE_BYTES + BYTES_PER_REQUEST * requests + BYTES_PER_QUEUED_REQUEST * queued
    one_run = S_PER_RUN + requests / REQUESTS_PER_S + queued / QUEUED_REQUESTS_PER_S + outages * 1e-5
    return RunEstimate(runs, 0.0, requests, outages, memory, S_START + runs * one_run)


def exceeds(estimate: RunEstimate, limits: Limits) -> str | None:
    """Why an estimate does not fit the limits, or None if it fits."""
    over = []
    if not estimate.memory_bytes <= limits.memory_bytes:
        over.append(f"memory (this machine allows {_bytes(limits.memory_bytes)})")
    if not estimate.seconds <= limits.seconds:
        over.append(f"time (the limit is {_duration(limits.seconds)})")
    if not over:
        return None
    return f"the run would need {estimate.describe()}, more {' and '.join(over)} than it may use"
