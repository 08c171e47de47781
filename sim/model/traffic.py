"""User demand: requests per country per time step, in local time.

Monthly active users per country (``population.mau`` x each country's share, so the users over
countries add up to the total at every step) grow at a compound rate; daily-active users are a
fixed share of them. A country's population points split its requests by their shares, each in
its own local time. Expected requests in a step are DAU x requests per DAU per day x step length (days) x
the diurnal weight of the country's local hour x the weekly weight of its local weekday (both
normalised to mean 1) x the yearly cycle and known events (``population.variability``). Counts
are Poisson around that expectation times random day-to-day factors (gamma, mean 1, per country
and Europe-wide: real traffic is overdispersed), drawn from the component's own generator. Bytes written and read scale with the request counts, so the
noise carries through to storage and transfers.

Units: time in s from the scenario start, requests as counts, users as persons.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim import reference
from sim.reference.units import YEAR_S
from sim.scenario import Scenario

__all__ = [
    "TimeGrid",
    "Demand",
    "time_grid",
    "utc_offsets_h",
    "point_offsets_h",
    "summer_time",
    "demand_profile",
    "draw_demand",
    "seasonal_and_event_factor",
    "day_factors",
]


@dataclass(frozen=True)
class TimeGrid:
    """Step boundaries of a run.

    Attributes:
        start_utc: the run's start.
        edges_s: (T+1,) step edges in s from the start; the last step may be shorter.
    """

    start_utc: dt.datetime
    edges_s: NDArray[np.float64]

    @property
    def n_steps(self) -> int:
        """Number of steps T."""
        return len(self.edges_s) - 1

    @property
    def dt_s(self) -> NDArray[np.float64]:
        """(T,) step lengths in s."""
        return np.diff(self.edges_s)

    @property
    def mid_s(self) -> NDArray[np.float64]:
        """(T,) step midpoints in s."""
        return 0.5 * (self.edges_s[:-1] + self.edges_s[1:])

    def step_at(self, t_s: float) -> int:
        """Index of the first step edge at or after ``t_s`` (clamped to [0, T])."""
        return int(np.clip(np.searchsorted(self.edges_s, t_s - 1e-6), 0, self.n_steps))

    def timestamps(self, t_s: NDArray[np.float64]) -> NDArray[np.datetime64]:
        """Convert seconds from the start to UTC ``datetime64[s]`` values."""
        base = np.datetime64(self.start_utc.replace(tzinfo=None), "s")
        return base + np.round(t_s).astype("timedelta64[s]")


def time_grid(scenario: Scenario) -> TimeGrid:
    """Build the step grid for a scenario (``time.step_minutes`` over ``time.horizon_days``)."""
    step_s = scenario.time.step_minutes * 60.0
    horizon_s = scenario.horizon_s
    n = max(1, math.ceil(horizon_s / step_s - 1e-9))
    edges = np.minimum(np.arange(n + 1) * step_s, horizon_s)
    return TimeGrid(scenario.start_utc, edges)


def _last_sunday_utc(year: int, month: int) -> dt.datetime:
    day = dt.date(year, month + 1, 1) - dt.timedelta(days=1) if month < 12 else dt.date(year, 12, 31)
    day -= dt.timedelta(days=(day.weekday() - 6) % 7)
    return dt.datetime(day.year, day.month, day.day, 1, tzinfo=dt.UTC)


def _nth_sunday(year: int, month: int, n: int) -> dt.datetime:
    """Midnight UTC of the ``n``-th Sunday of a month (naive date arithmetic, no offset)."""
    first = dt.date(year, month, 1)
    day = first + dt.timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def summer_time(grid: TimeGrid, t_s: NDArray[np.float64], rule: str, utc_offset_std_h: float) -> NDArray[np.bool_]:
    """(T,) whether daylight-saving time is on at each time, for one rule and standard offset.

    Rules (:data:`sim.reference.DST_RULES`): ``eu`` from the last Sunday of March to the last
    Sunday of October, both at 01:00 UTC; ``us`` from the second Sunday of March at 02:00 local
    standard time to the first Sunday of November at 02:00 local summer time; ``south`` (southern
    hemisphere, an approximation for every southern country) from the first Sunday of October to
    the first Sunday of April, both at 02:00 local standard time; ``none`` never.
    """
    start_year = grid.start_utc.year
    end_year = (grid.start_utc + dt.timedelta(seconds=float(grid.edges_s[-1]))).year
    summer = np.zeros(len(t_s), dtype=bool)
    if rule == "none":
        return summer

    def at(moment: dt.datetime, local_h: float) -> float:
        return (moment - grid.start_utc).total_seconds() + (local_h - utc_offset_std_h) * 3600.0

    for year in range(start_year - 1, end_year + 1):
        if rule == "eu":
            a = (_last_sunday_utc(year, 3) - grid.start_utc).total_seconds()
            b = (_last_sunday_utc(year, 10) - grid.start_utc).total_seconds()
        elif rule == "us":
            a, b = at(_nth_sunday(year, 3, 2), 2.0), at(_nth_sunday(year, 11, 1), 1.0)
        elif rule == "south":
            a, b = at(_nth_sunday(year, 10, 1), 2.0), at(_nth_sunday(year + 1, 4, 1), 2.0)
        else:
            raise ValueError(f"unknown daylight-saving rule {rule!r}")
        summer |= (t_s >= a) & (t_s < b)
    return summer


def point_offsets_h(grid: TimeGrid, points: list[reference.Point], t_s: NDArray[np.float64]) -> NDArray[np.float64]:
    """(T, P) UTC offset in hours of each population point at each time, its summer time included."""
    out = np.empty((len(t_s), len(points)))
    rules: dict[tuple[str, float], NDArray[np.bool_]] = {}
    for i, p in enumerate(points):
        key = (p.dst, p.utc_offset_std_h)
        if key not in rules:
            rules[key] = summer_time(grid, t_s, p.dst, p.utc_offset_std_h)
        out[:, i] = p.utc_offset_std_h + rules[key].astype(float)
    return out


def utc_offsets_h(
    grid: TimeGrid, countries: list[str], t_s: NDArray[np.float64], table: dict[str, reference.Country] | None = None
) -> NDArray[np.float64]:
    """(T, C) UTC offset in hours of each country's first population point (its capital or main city).

    Args:
        grid: the step grid.
        countries: ISO-2 codes.
        t_s: times in s from the start.
        table: the scenario's countries (default: the bundled world table).
    """
    table = reference.countries() if table is None else table
    return point_offsets_h(grid, [table[c].points[0] for c in countries], t_s)


def demand_profile(scenario: Scenario, grid: TimeGrid) -> NDArray[np.float64]:
    """(T, C) relative activity (mean ~1 over a week) at each step midpoint in local time.

    A country with several population points is the share-weighted sum of its points' profiles,
    each in the point's own local time.
    """
    pop = scenario.population
    diurnal = np.asarray(pop.diurnal_profile, dtype=float)
    diurnal = diurnal / diurnal.mean()
    weekly = np.asarray(pop.weekly_profile, dtype=float)
    weekly = weekly / weekly.mean()
    mid = grid.mid_s
    countries = scenario.user_countries()
    points = [p for c in countries for p in c.points]
    # a point's profile depends only on its clock (standard offset and summer-time rule): each
    # distinct clock is computed once, then the points are added up in order
    first_of_clock: dict[tuple[float, str], reference.Point] = {}
    for p in points:
        first_of_clock.setdefault((p.utc_offset_std_h, p.dst), p)
    of_clock = {clock: i for i, clock in enumerate(first_of_clock)}
    local_s = mid[:, None] + point_offsets_h(grid, list(first_of_clock.values()), mid) * 3600.0
    start_weekday = grid.start_utc.weekday()
    hours = np.floor(local_s / 3600.0).astype(np.int64)
    hour_of_day = hours % 24
    weekday = (start_weekday + hours // 24) % 7
    by_clock = diurnal[hour_of_day] * weekly[weekday]
    out = np.zeros((len(mid), len(countries)))
    for c, country in enumerate(countries):
        for p in country.points:
            out[:, c] += p.share * by_clock[:, of_clock[(p.utc_offset_std_h, p.dst)]]
    return out


@dataclass(frozen=True)
class Demand:
    """User demand over a run.

    Attributes:
        countries: ISO-2 codes (C).
        mau: (T, C) monthly active users at each step.
        expected_requests: (T, C) Poisson means.
        requests: (T, C) drawn request counts (float64 holding integers).
    """

    countries: list[str]
    mau: NDArray[np.float64]
    expected_requests: NDArray[np.float64]
    requests: NDArray[np.float64]


def draw_demand(scenario: Scenario, grid: TimeGrid, rng: np.random.Generator) -> Demand:
    """Draw request counts for every step and country.

    Args:
        scenario: the resolved scenario.
        grid: the step grid.
        rng: the traffic component's generator (its only source of randomness).
    """
    pop = scenario.population
    shares = np.array([pop.country_shares[c] for c in pop.countries])
    years = grid.mid_s / YEAR_S
    mau = pop.mau * shares[None, :] * ((1.0 + pop.growth_per_year) ** years)[:, None]
    dau = mau * pop.daily_active_ratio
    expected = dau * pop.requests_per_dau_per_day * (grid.dt_s / 86400.0)[:, None] * demand_profile(scenario, grid)
    expected = expected * seasonal_and_event_factor(scenario, grid)
    requests = rng.poisson(expected * day_factors(scenario, grid, rng)).astype(np.float64)
    return Demand(list(pop.countries), mau, expected, requests)


def seasonal_and_event_factor(scenario: Scenario, grid: TimeGrid) -> NDArray[np.float64]:
    """(T, C) known variation of demand: the yearly cycle and the listed events (no randomness).

    The yearly cycle is ``1 + amplitude x cos(2 pi (day of year - peak day) / 365.25)``; an event
    multiplies the expected requests of its countries while it lasts (overlapping events multiply).
    """
    var = scenario.population.variability
    countries = scenario.population.countries
    mid = grid.mid_s
    factor = np.ones((len(mid), len(countries)))
    if var.seasonal_amplitude > 0:
        start = grid.start_utc
        day_of_year = start.timetuple().tm_yday - 1 + (start.hour * 3600.0 + mid) / 86400.0
        cycle = 1.0 + var.seasonal_amplitude * np.cos(2 * np.pi * (day_of_year - (var.seasonal_peak_day - 1)) / 365.25)
        factor *= cycle[:, None]
    for event in var.events:
        t0 = (event.start.replace(tzinfo=event.start.tzinfo or dt.timezone.utc) - grid.start_utc).total_seconds()
        active = (mid >= t0) & (mid < t0 + event.hours * 3600.0)
        cols = np.array([not event.countries or c in event.countries for c in countries])
        factor[np.ix_(active, cols)] *= event.multiplier
    return factor


def day_factors(scenario: Scenario, grid: TimeGrid, rng: np.random.Generator) -> NDArray[np.float64]:
    """(T, C) random day-to-day multipliers (mean 1): one per country and day, one shared per day.

    Gamma-distributed with the coefficients of variation ``daily_cv`` (per country) and
    ``common_daily_cv`` (Europe-wide); all ones, and no draw taken, when both are zero.
    """
    var = scenario.population.variability
    n_countries = len(scenario.population.countries)
    if var.daily_cv == 0 and var.common_daily_cv == 0:
        return np.ones((len(grid.mid_s), n_countries))
    day = np.floor(grid.mid_s / 86400.0).astype(np.int64)
    n_days = int(day.max()) + 1

    def gamma(cv: float, size: tuple[int, ...]) -> NDArray[np.float64]:
        if cv == 0:
            return np.ones(size)
        shape = 1.0 / cv**2
        return rng.gamma(shape, 1.0 / shape, size=size)

    per_country = gamma(var.daily_cv, (n_days, n_countries))
    common = gamma(var.common_daily_cv, (n_days, 1))
    return (per_country * common)[day]
