"""Configuration of the security gateway: requester regions, shifts, review, transfers, costs.

The ``[gateway]`` table of a scenario (pydantic v2, unknown keys refused, strict types: no ``"7"``
for a number, no ``true`` for a count; every float finite; counts and rates bounded by what is
physically meaningful, e.g. at most 100 000 reviewers a shift). Rates are per hour,
times in the unit their names give (``_s``, ``_h``, ``_minutes``), volumes in GB, costs in EUR
per year. Defaults that no public source gives are labelled "assumption" in their description.
The organisation (requester regions, user-driven causes, shifts, the third-party monitor and its
contract) has no default: it is scenario data (TikTok's is in ``scenarios/clover.toml``), so a
gateway without one has no access requests and costs no reviewers; how the number of requests
follows from it is in ``docs/gateway_demand.md``. This module only describes the gateway: the simulation (including drawing from a
:class:`Distribution`) is in :mod:`sim.model.gateway` and the costs derived from these inputs in
:mod:`sim.results.costs`, so loading a scenario does not load the compiled kernels.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.scenario.fields import as_tuple
from sim.scenario.vocab import EXPORT_DESTINATIONS, TRANSFER_POLICIES

__all__ = [
    "DISTRIBUTIONS",
    "TRANSFER_POLICIES",
    "Distribution",
    "GatewayConfig",
    "PriorityClass",
    "RequesterRegion",
    "Shift",
    "ThirdPartyConfig",
    "TransferConfig",
    "TransferFlow",
    "UserDrivenCause",
]

#: Kinds of :class:`Distribution`.
DISTRIBUTIONS = ("exponential", "lognormal", "deterministic", "empirical")

# --------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------


def _non_negative(value: float, info: ValidationInfo) -> float:
    if value < 0:
        raise ValueError(
            f"{info.field_name} must not be negative (got {value}); "
            "times, rates, sizes and counts are >= 0 (use 0 to switch the item off)"
        )
    return value


def _positive(value: float, info: ValidationInfo) -> float:
    if value <= 0:
        raise ValueError(f"{info.field_name} must be > 0 (got {value}); give a positive value")
    return value


def _share(value: float, info: ValidationInfo) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            f"{info.field_name} is a share and must lie between 0 and 1 (got {value})"
        )
    return value


def _hour_of_day(value: float, info: ValidationInfo) -> float:
    if not 0.0 <= value <= 24.0:
        raise ValueError(f"{info.field_name} must be an hour between 0 and 24 (got {value})")
    return value


def _utc_offset(value: float, info: ValidationInfo) -> float:
    if not -14.0 <= value <= 14.0:
        raise ValueError(f"{info.field_name} must be a UTC offset in hours in [-14, 14] (got {value})")
    return value


NonNegFloat = Annotated[float, AfterValidator(_non_negative)]
NonNegInt = Annotated[int, AfterValidator(_non_negative)]
PosFloat = Annotated[float, AfterValidator(_positive)]
Share = Annotated[float, AfterValidator(_share)]
Hour = Annotated[float, AfterValidator(_hour_of_day)]
UtcOffset = Annotated[float, AfterValidator(_utc_offset)]


class _Model(BaseModel):
    # strict types (no "7" for a number, no true for a count), finite floats, unknown keys refused
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, validate_assignment=True)


class Distribution(_Model):
    """A distribution of positive values (service times, delays, sizes).

    The unit is the one in the name of the field that holds it (``_s``, ``_h``, ``_gb``,
    ``_minutes``). ``empirical`` samples ``values`` uniformly; its ``mean`` is the mean of
    ``values``.
    """

    kind: str = Field("exponential", description="exponential, lognormal, deterministic or empirical")
    mean: PosFloat = Field(1.0, le=1e9, description="mean value, in the unit of the holding field")
    cv: NonNegFloat = Field(1.0, le=100, description="coefficient of variation (lognormal only)")
    values: list[Annotated[PosFloat, Field(le=1e9)]] | None = Field(
        None, max_length=1_000_000, description="empirical values, sampled uniformly"
    )

    @field_validator("kind", mode="before")
    @classmethod
    def _known_kind(cls, value: Any) -> Any:
        if value not in DISTRIBUTIONS:
            raise ValueError(
                f"unknown distribution {value!r}; use one of {', '.join(DISTRIBUTIONS)}"
            )
        return value

    @model_validator(mode="after")
    def _empirical_values(self) -> Distribution:
        if self.kind == "empirical":
            if not self.values:
                raise ValueError("an empirical distribution needs a non-empty list of values")
            mean = float(np.mean(self.values))
            if "mean" in self.model_fields_set and not math.isclose(self.mean, mean, rel_tol=1e-9):
                raise ValueError(
                    f"mean ({self.mean}) disagrees with the mean of the empirical values "
                    f"({mean}); leave mean out or rescale the values"
                )
            object.__setattr__(self, "mean", mean)
        return self


class RequesterRegion(_Model):
    """Employees in one region who request access to European user data.

    Their requests arrive during the region's working hours: ``head_count x
    requests_per_person_hour`` per working hour, i.e. ``head_count x requests_per_person_hour x
    working hours`` per working day (:meth:`requests_per_working_day`); they do not change with
    the number of users (those requests are :class:`UserDrivenCause`).
    """

    name: str
    in_zone: bool = Field(
        False, description="requesters inside the data's residency zone (its law and oversight): reviewed only if restricted"
    )
    requests_per_hour: NonNegFloat | None = Field(
        None, le=1e7, description="requests per hour during working hours; overrides head count x rate"
    )
    head_count: NonNegInt = Field(0, le=10_000_000, description="employees who may request access (assumption)")
    requests_per_person_hour: NonNegFloat = Field(0.05, le=3600, description="requests per person-hour (assumption)")
    utc_offset_h: UtcOffset = Field(0.0, description="local time = UTC + offset (no daylight saving)")
    start_hour: Hour = Field(9.0, description="local start of working hours")
    end_hour: Hour = Field(17.0, description="local end of working hours (<= start: crosses midnight)")
    weekdays_only: bool = Field(True, description="no requests on local Saturdays and Sundays")
    restricted_share: Share = Field(0.1, description="share of requests touching restricted data (assumption)")

    def rate_per_hour(self) -> float:
        """Requests per hour during working hours."""
        if self.requests_per_hour is not None:
            return self.requests_per_hour
        return self.head_count * self.requests_per_person_hour

    def working_hours(self) -> float:
        """Length of one working day in hours (end <= start: crosses midnight; equal: 24 h)."""
        length = (self.end_hour - self.start_hour) % 24.0
        return 24.0 if length == 0.0 else length

    def working_hours_per_week(self) -> float:
        """Working hours in a week (five or seven working days)."""
        return self.working_hours() * (5 if self.weekdays_only else 7)

    def requests_per_working_day(self) -> float:
        """Requests of the whole region per working day: rate per hour x working hours."""
        return self.rate_per_hour() * self.working_hours()


class UserDrivenCause(_Model):
    """Access requests caused by users, not by the organisation's own work: they scale with users.

    E.g. user-support tickets that need a look at the account, user-rights requests (GDPR access,
    erasure, portability) handled by a person, law-enforcement requests, incidents. The rate is
    per million monthly active users per calendar day, at the simulated user count of each step;
    the requests arrive in the working hours of the region whose employees handle them
    (``handled_by``) or around the clock, at the rate that gives that daily mean over a week.
    """

    name: str = Field(min_length=1, max_length=100, description="the cause (a label of its own in the records)")
    requests_per_million_mau_per_day: NonNegFloat = Field(
        le=1e7, description="access requests per million monthly active users per calendar day")
    handled_by: str | None = Field(
        None, description="requester region whose working hours they arrive in; None: around the clock")
    review_share: Share = Field(1.0, description="share that needs human review")

    def requests_per_day(self, mau: float) -> float:
        """Expected requests per calendar day at ``mau`` monthly active users."""
        return self.requests_per_million_mau_per_day * mau / 1e6


class PriorityClass(_Model):
    """A review priority class; earlier classes in the list are served first."""

    name: str
    share: Share = Field(description="share of access requests in this class")
    sla_s: NonNegFloat | None = Field(None, le=1e9, description="SLA on the wait; None uses GatewayConfig.sla_s")


class Shift(_Model):
    """A reviewer shift, repeated every week on ``days``."""

    name: str
    reviewers: NonNegInt = Field(le=100_000, description="reviewers on duty during the shift")
    start_hour: Hour = Field(description="start hour in the shift's time zone")
    end_hour: Hour = Field(description="end hour (<= start: ends the next day; start 0, end 24: all day)")
    utc_offset_h: UtcOffset = Field(0.0, description="time zone of start/end hour: UTC + offset")
    days: list[int] = Field(
        default_factory=lambda: list(range(7)),
        description="days of week the shift starts on, 0 = Monday ... 6 = Sunday",
    )

    @field_validator("days")
    @classmethod
    def _valid_days(cls, days: list[int]) -> list[int]:
        bad = [d for d in days if not 0 <= d <= 6]
        if bad:
            raise ValueError(f"days must be weekday numbers 0 (Monday) to 6 (Sunday), got {bad}")
        return sorted(set(days))

    def hours(self) -> float:
        """Length of one shift in hours."""
        length = (self.end_hour - self.start_hour) % 24.0
        return 24.0 if length == 0.0 else length


class ThirdPartyConfig(_Model):
    """Independent third-party monitoring (e.g. NCC Group in Project Clover)."""

    enabled: bool = Field(False, description="the extra review stage exists (a scenario's organisation)")
    staff: NonNegInt = Field(0, le=100_000, description="parallel third-party reviewers, 24x7 (scenario data)")
    access_share: Share = Field(0.05, description="share of human-reviewed access requests sampled (assumption)")
    transfer_share: Share = Field(0.02, description="share of inspected transfers sampled (assumption)")
    review_minutes: Distribution = Field(
        default_factory=lambda: Distribution(kind="lognormal", mean=20.0, cv=0.8),
        description="third-party review time in minutes (assumption)",
    )


class TransferFlow(_Model):
    """A stream of transfer jobs of one data class to one destination."""

    data_class: str
    destination: Literal[EXPORT_DESTINATIONS] = Field(description="US, SG, CN or other")  # type: ignore[valid-type]
    jobs_per_hour: NonNegFloat = Field(le=1e7, description="transfer jobs per hour, around the clock")


def _default_flows() -> list[TransferFlow]:
    return [
        TransferFlow(data_class="pseudonymised_aggregates", destination="US", jobs_per_hour=30.0),
        TransferFlow(data_class="behavioural_analytics", destination="US", jobs_per_hour=8.0),
        TransferFlow(data_class="user_content", destination="US", jobs_per_hour=4.0),
        TransferFlow(data_class="protected_personal", destination="US", jobs_per_hour=2.0),
        TransferFlow(data_class="pseudonymised_aggregates", destination="SG", jobs_per_hour=6.0),
        TransferFlow(data_class="user_content", destination="SG", jobs_per_hour=2.0),
        TransferFlow(data_class="pseudonymised_aggregates", destination="other", jobs_per_hour=2.0),
    ]


class TransferConfig(_Model):
    """Outbound transfer jobs leaving the EEA and their inspection."""

    flows: list[TransferFlow] = Field(
        default_factory=_default_flows, description="job rates per (data class, destination) (assumption)"
    )
    size_gb: Distribution = Field(
        default_factory=lambda: Distribution(kind="lognormal", mean=4.0, cv=2.0),
        description="size of one job in GB before pseudonymisation (assumption)",
    )
    pseudonymisation_factor: dict[str, Share] = Field(
        default_factory=lambda: {
            "protected_personal": 0.5,
            "user_content": 1.0,
            "behavioural_analytics": 0.3,
            "pseudonymised_aggregates": 0.05,
        },
        description="crossed_gb / size_gb per data class (assumption)",
    )
    default_pseudonymisation_factor: Share = Field(1.0, description="factor for classes not listed")
    inspection_gb_per_s: PosFloat = Field(0.5, le=1e6, description="inspection throughput of one node (assumption)")
    nodes: NonNegInt = Field(4, le=100_000, description="inspection nodes in parallel (assumption)")
    approve_probability: Share = Field(0.98, description="share of inspected jobs approved (assumption)")
    protected_classes: list[str] = Field(
        default_factory=lambda: ["protected_personal"],
        description="data classes the strict policy never lets leave",
    )

    def factor(self, data_class: str) -> float:
        """Pseudonymisation factor of a data class."""
        return self.pseudonymisation_factor.get(data_class, self.default_pseudonymisation_factor)


def _default_classes() -> list[PriorityClass]:
    return [
        PriorityClass(name="incident", share=0.05, sla_s=3600.0),
        PriorityClass(name="routine", share=0.95),
    ]


class GatewayConfig(_Model):
    """Configuration of the security gateway (``[gateway]`` table of a scenario).

    Defaults marked "assumption" are illustrative planning values, not published figures.
    """

    enabled: bool = Field(True, description="false: no gateway at all (same as the open policy)")
    # --- access requests
    regions: list[RequesterRegion] = Field(
        default_factory=list, max_length=10_000,
        description="requester regions: employees, working hours, time zones (scenario data; none: no employee requests)")
    user_driven: list[UserDrivenCause] = Field(
        default_factory=list, max_length=10_000,
        description="access requests that scale with the users, per cause (scenario data; none: no such requests)")
    access_requests_per_hour: NonNegFloat | None = Field(
        None, le=1e7, description="if set: one 24x7 Poisson stream of requests that all need review, "
        "replacing the regional rates (textbook mode)")
    priority_classes: list[PriorityClass] = Field(default_factory=_default_classes,
                                                  description="review classes, served in list order")
    sla_s: NonNegFloat = Field(14400.0, le=1e9, description="SLA on the total wait of an access request "
                               "(4 h, assumption); a class's own sla_s takes precedence")
    # --- automatic policy check
    auto_check: bool = Field(True, description="false: no automatic stage")
    auto_check_servers: NonNegInt = Field(8, le=100_000, description="parallel automatic checks (assumption)")
    auto_check_s: Distribution = Field(
        default_factory=lambda: Distribution(kind="lognormal", mean=2.0, cv=0.5),
        description="automatic check time in seconds (assumption)")
    # --- human review
    staffing: Literal["shifts", "24x7"] = Field(
        "shifts", description="24x7: one round-the-clock shift of `reviewers` (or the largest shift)")
    shifts: list[Shift] = Field(default_factory=list, max_length=10_000,
                                description="reviewer shifts (scenario data; none: no reviewer)")
    reviewers: NonNegInt | None = Field(
        None, le=100_000, description="if set: reviewers on every shift (no shifts: one 24x7 shift of them)")
    review_minutes_mean: PosFloat = Field(6.0, le=1e6, description="mean review time in minutes (assumption)")
    review_distribution: str = Field("lognormal", description="exponential, lognormal, deterministic or empirical")
    review_cv: NonNegFloat = Field(1.0, le=100, description="coefficient of variation of the review time (lognormal)")
    review_minutes_values: list[Annotated[PosFloat, Field(le=1e6)]] | None = Field(
        None, max_length=1_000_000, description="empirical review times in minutes"
    )
    approve_probability: Share = Field(0.9, description="share of reviewed requests approved (assumption)")
    resubmit_share: Share = Field(0.5, description="share of denied requests resubmitted (assumption)")
    max_resubmissions: NonNegInt = Field(2, le=100, description="resubmissions of one original request at most")
    resubmit_delay_h: Distribution = Field(
        default_factory=lambda: Distribution(kind="exponential", mean=24.0),
        description="delay from denial to resubmission in hours (assumption)")
    # --- other stages
    third_party: ThirdPartyConfig = Field(default_factory=ThirdPartyConfig)
    transfers: TransferConfig = Field(default_factory=TransferConfig)
    # --- outages
    outage_windows_s: list[Annotated[tuple[NonNegFloat, NonNegFloat], BeforeValidator(as_tuple)]] = Field(
        default_factory=list, max_length=100_000, description="scheduled outages [start_s, end_s) from the run start")
    outage_mtbf_h: PosFloat | None = Field(
        None, ge=1, le=1e7, description="mean time between random outages (at least one hour); None: none")
    outage_mttr_h: PosFloat = Field(2.0, le=1e5, description="mean duration of a random outage (assumption)")
    # --- statistics
    warmup_s: NonNegFloat = Field(86400.0, le=4e9, description="requests arriving earlier are not counted (assumption)")
    # --- cost inputs (plain numbers for the cost model)
    reviewer_cost_eur_per_year: NonNegFloat = Field(
        95_000.0, le=1e8, description="loaded cost of one reviewer FTE (assumption)")
    oversight_eur_per_year: NonNegFloat = Field(
        0.0, le=1e12, description="third-party oversight contract, paid while third_party is enabled (scenario data)")
    node_cost_eur_per_year: NonNegFloat = Field(
        60_000.0, le=1e9, description="one inspection node incl. licences and operations (assumption)")

    @field_validator("review_distribution", mode="before")
    @classmethod
    def _known_review_distribution(cls, value: Any) -> Any:
        if value not in DISTRIBUTIONS:
            raise ValueError(f"unknown distribution {value!r}; use one of {', '.join(DISTRIBUTIONS)}")
        return value

    @field_validator("outage_windows_s")
    @classmethod
    def _ordered_windows(cls, windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for start, end in windows:
            if not end > start:
                raise ValueError(f"outage window ({start}, {end}) must end after it starts")
        return windows

    @field_validator("priority_classes")
    @classmethod
    def _class_shares(cls, classes: list[PriorityClass]) -> list[PriorityClass]:
        if not classes:
            raise ValueError("give at least one priority class")
        total = sum(c.share for c in classes)
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            raise ValueError(f"priority class shares must add up to 1 (got {total}); adjust the shares")
        names = [c.name for c in classes]
        if len(set(names)) != len(names):
            raise ValueError(f"priority class names must be unique, got {names}")
        return classes

    @model_validator(mode="after")
    def _consistent(self) -> GatewayConfig:
        self._check_names()
        if self.review_distribution == "empirical":
            if not self.review_minutes_values:
                raise ValueError("review_distribution = 'empirical' needs review_minutes_values")
            mean = float(np.mean(self.review_minutes_values))
            if "review_minutes_mean" in self.model_fields_set and not math.isclose(
                self.review_minutes_mean, mean, rel_tol=1e-9
            ):
                raise ValueError(
                    f"review_minutes_mean ({self.review_minutes_mean}) disagrees with the mean of "
                    f"review_minutes_values ({mean}); leave review_minutes_mean out or rescale the values"
                )
            object.__setattr__(self, "review_minutes_mean", mean)
        if not self.enabled:
            return self
        if self._review_needed() and max((s.reviewers for s in self.effective_shifts()), default=0) == 0:
            raise ValueError(
                "requests need human review but no shift has a reviewer; "
                "set gateway.reviewers or give a shift reviewers > 0"
            )
        if self.auto_check and self.auto_check_servers == 0 and self._access_rate() > 0:
            raise ValueError("auto_check is on but auto_check_servers is 0; set it >= 1 or auto_check = false")
        if self.transfers.nodes == 0 and any(f.jobs_per_hour > 0 for f in self.transfers.flows):
            raise ValueError("transfer jobs need inspection but transfers.nodes is 0; set it >= 1")
        tp = self.third_party
        if tp.enabled and tp.staff == 0 and (tp.access_share > 0 or tp.transfer_share > 0):
            raise ValueError(
                "third_party is enabled with shares > 0 but has no staff; set third_party.staff >= 1 "
                "or third_party.enabled = false"
            )
        return self

    def _check_names(self) -> None:
        """Region and cause names are unique labels; a cause is handled by a region that exists."""
        regions = [r.name for r in self.regions]
        causes = [c.name for c in self.user_driven]
        for what, names in (("gateway.regions", regions), ("gateway.user_driven", causes)):
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"{what}: names must be unique, {twice} appear more than once")
        both = sorted(set(regions) & set(causes))
        if both:
            raise ValueError(f"gateway.user_driven: {both} is also a region name; give the cause a name of its own")
        for i, cause in enumerate(self.user_driven):
            if cause.handled_by is not None and cause.handled_by not in regions:
                raise ValueError(
                    f"gateway.user_driven.{i}.handled_by: no requester region is named {cause.handled_by!r} "
                    f"(regions: {regions or 'none'}); name one of gateway.regions or leave it out (around the clock)"
                )

    def region(self, name: str) -> RequesterRegion:
        """The requester region of that name."""
        return next(r for r in self.regions if r.name == name)

    def _access_rate(self) -> float:
        if self.access_requests_per_hour is not None:
            return self.access_requests_per_hour
        return sum(r.rate_per_hour() for r in self.regions) + sum(
            c.requests_per_million_mau_per_day for c in self.user_driven)

    def _review_needed(self) -> bool:
        if self.access_requests_per_hour is not None:
            return self.access_requests_per_hour > 0
        return any(r.rate_per_hour() > 0 and (not r.in_zone or r.restricted_share > 0) for r in self.regions) or any(
            c.requests_per_million_mau_per_day > 0 and c.review_share > 0 for c in self.user_driven)

    def employee_requests_per_week(self) -> float:
        """Access requests per week from the organisation: sum of regions' rate x working hours a week."""
        return sum(r.rate_per_hour() * r.working_hours_per_week() for r in self.regions)

    def user_driven_requests_per_day(self, mau: float) -> float:
        """Access requests per calendar day that the users cause, at ``mau`` monthly active users."""
        return sum(c.requests_per_day(mau) for c in self.user_driven)

    def effective_shifts(self) -> list[Shift]:
        """The shifts actually staffed, after ``staffing`` and ``reviewers`` overrides.

        ``reviewers`` without any shift is one round-the-clock shift of that many reviewers.
        """
        if self.staffing == "24x7" or (not self.shifts and self.reviewers is not None):
            count = self.reviewers if self.reviewers is not None else max(
                (s.reviewers for s in self.shifts), default=0)
            return [Shift(name="24x7", reviewers=count, start_hour=0.0, end_hour=24.0)]
        if self.reviewers is None:
            return list(self.shifts)
        return [s.model_copy(update={"reviewers": self.reviewers}) for s in self.shifts]

    def reviewer_fte(self) -> float:
        """Reviewer full-time equivalents for the cost model.

        FTE = sum over shifts of reviewers x shift hours x days per week / 40 h per week.
        (No allowance for leave or training: multiply ``reviewer_cost_eur_per_year`` by a
        loading factor if wanted.)
        """
        return sum(s.reviewers * s.hours() * len(s.days) / 40.0 for s in self.effective_shifts())

    def review_time(self) -> Distribution:
        """The review-time distribution, in minutes."""
        return Distribution(kind=self.review_distribution, mean=self.review_minutes_mean,
                            cv=self.review_cv, values=self.review_minutes_values)
