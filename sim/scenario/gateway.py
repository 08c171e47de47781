"""Configuration of the security gateway: requester regions, shifts, review, transfers, costs.

The ``[gateway]`` table of a scenario (pydantic v2, unknown keys refused, strict types: no ``"7"``
for a number, no ``true`` for a count; every float finite; counts and rates bounded by what is
physically meaningful, e.g. at most 100 000 reviewers a shift). Rates are per hour,
times in the unit their names give (``_s``, ``_h``, ``_minutes``), volumes in GB, costs in EUR
per year. No field holds a company's figure: the organisation (requester regions, user-driven
causes, shifts, the third-party monitor and its contract) and the process figures (review times,
approval rates, resubmissions, priority classes and SLA, the automatic check, transfer sizes and
inspection nodes, costs) are scenario data (TikTok's in ``scenarios/clover.toml``). A field's code
default is neutral (nothing, none, off: no request, no reviewer, no node, nothing denied, no SLA)
or a placeholder that no valid configuration uses: a gateway that needs such a figure (it reviews
requests, inspects transfer jobs, runs the automatic check ...) and does not state it is refused,
naming the field (:meth:`GatewayConfig._consistent`; the exports of a world run are checked by
the scenario). Only modelling conventions (``warmup_s``) keep a default. How the number of
requests follows from the organisation, and which figure is which, is in
``docs/gateway_demand.md``. This module only describes the gateway: the simulation (including
drawing from a :class:`Distribution`) is in :mod:`sim.model.gateway` and the costs derived from
these inputs in :mod:`sim.results.costs`, so loading a scenario does not load the compiled kernels.
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
    PrivateAttr,
    ValidationInfo,
    field_serializer,
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
    head_count: NonNegInt = Field(0, le=10_000_000, description="employees who may request access (scenario data)")
    requests_per_person_hour: NonNegFloat = Field(
        0.0, le=3600, description="requests per person-hour (scenario data: stated when head_count > 0, unless "
        "requests_per_hour is given)")
    utc_offset_h: UtcOffset = Field(0.0, description="local time = UTC + offset (no daylight saving)")
    start_hour: Hour = Field(9.0, description="local start of working hours")
    end_hour: Hour = Field(17.0, description="local end of working hours (<= start: crosses midnight)")
    weekdays_only: bool = Field(True, description="no requests on local Saturdays and Sundays")
    restricted_share: Share = Field(
        0.0, description="share of requests touching restricted data, reviewed if in_zone (scenario data: stated "
        "for an in-zone region with requests; outside the zone every request is reviewed)")

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
    share: Share | None = Field(
        None, description="share of access requests in this class; left out (last class only): the rest")
    sla_s: NonNegFloat | None = Field(None, le=1e9, description="SLA on the wait; None uses GatewayConfig.sla_s")
    # the share was left out and is the rest: it is dumped as left out, so the dump takes the rest again
    _rest: bool = PrivateAttr(False)

    @field_serializer("share")
    def _dump_share(self, share: float | None) -> float | None:
        return None if self._rest else share


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


def _placeholder() -> Distribution:
    """The stand-in of a distribution a scenario must state before it is used (never drawn from)."""
    return Distribution(kind="deterministic", mean=1.0)


class ThirdPartyConfig(_Model):
    """Independent third-party monitoring (e.g. NCC Group in Project Clover)."""

    enabled: bool = Field(False, description="the extra review stage exists (a scenario's organisation)")
    staff: NonNegInt = Field(0, le=100_000, description="parallel third-party reviewers, 24x7 (scenario data)")
    access_share: Share = Field(0.0, description="share of human-reviewed access requests sampled (scenario data)")
    transfer_share: Share = Field(0.0, description="share of inspected transfers sampled (scenario data)")
    review_minutes: Distribution = Field(
        default_factory=_placeholder,
        description="third-party review time in minutes (scenario data: stated whenever the monitor samples anything)",
    )


class TransferFlow(_Model):
    """A stream of transfer jobs of one data class to one destination."""

    data_class: str
    destination: Literal[EXPORT_DESTINATIONS] = Field(description="US, SG, CN or other")  # type: ignore[valid-type]
    jobs_per_hour: NonNegFloat = Field(le=1e7, description="transfer jobs per hour, around the clock")


class TransferConfig(_Model):
    """Outbound transfer jobs leaving a class's residency zone and their inspection.

    Neutral defaults: no flow, no inspection node, nothing pseudonymised, nothing blocked.
    ``size_gb``, ``inspection_gb_per_s`` and ``approve_probability`` have no default figure: a
    gateway with transfer jobs states them (the defaults are placeholders no valid run uses).
    """

    flows: list[TransferFlow] = Field(
        default_factory=list, max_length=10_000,
        description="job rates per (data class, destination) of a stand-alone gateway run; a world run "
        "takes its exports instead (scenario data; none: no flow)")
    size_gb: Distribution = Field(
        default_factory=_placeholder,
        description="size of one job in GB before pseudonymisation (scenario data: stated when there are transfer jobs)",
    )
    pseudonymisation_factor: dict[str, Share] = Field(
        default_factory=dict,
        description="crossed_gb / size_gb per data class (scenario data; not listed: default_pseudonymisation_factor)",
    )
    default_pseudonymisation_factor: Share = Field(1.0, description="factor for classes not listed (1: nothing removed)")
    inspection_gb_per_s: PosFloat = Field(
        1.0, le=1e6, description="inspection throughput of one node (scenario data: stated when jobs are inspected)")
    nodes: NonNegInt = Field(0, le=100_000, description="inspection nodes in parallel (scenario data; 0: none)")
    approve_probability: Share = Field(
        1.0, description="share of inspected jobs approved (scenario data: stated when jobs are inspected)")
    protected_classes: list[str] = Field(
        default_factory=list,
        description="data classes the strict policy never lets leave (scenario data; none: the strict policy "
        "blocks no gateway transfer job)",
    )

    def stated(self, name: str) -> bool:
        """Whether the scenario gave ``name`` (not left at its neutral default or placeholder)."""
        return name in self.model_fields_set

    def missing_for_inspection(self) -> list[str]:
        """Transfer fields a gateway that inspects jobs must state and does not (``nodes`` >= 1 included)."""
        missing = [f for f in ("size_gb", "inspection_gb_per_s", "approve_probability") if not self.stated(f)]
        return (["nodes"] if self.nodes == 0 else []) + missing

    def factor(self, data_class: str) -> float:
        """Pseudonymisation factor of a data class."""
        return self.pseudonymisation_factor.get(data_class, self.default_pseudonymisation_factor)


def _default_classes() -> list[PriorityClass]:
    return [PriorityClass(name="all_requests", share=1.0)]


class GatewayConfig(_Model):
    """Configuration of the security gateway (``[gateway]`` table of a scenario).

    Every company figure is scenario data: a default is neutral (no request, no reviewer, no
    node, nothing denied, no SLA, no automatic check, no monitor) or, for a figure that has no
    neutral value (review time, job size, inspection throughput, costs ...), a placeholder that a
    gateway which needs the figure must replace (:meth:`_consistent` names the missing field).
    ``warmup_s`` is a modelling convention and keeps its default.
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
    priority_classes: list[PriorityClass] = Field(
        default_factory=_default_classes, max_length=1000,
        description="review classes, served in list order (scenario data; default: one class of all requests)")
    sla_s: NonNegFloat | None = Field(
        None, le=1e9, description="SLA on the total wait of an access request (scenario data; None: no SLA); "
        "a class's own sla_s takes precedence")
    # --- automatic policy check
    auto_check: bool = Field(False, description="an automatic policy check before review (scenario data; default off)")
    auto_check_servers: NonNegInt = Field(0, le=100_000, description="parallel automatic checks (scenario data)")
    auto_check_s: Distribution | None = Field(
        None, description="automatic check time in seconds (scenario data: required when auto_check is on)")
    # --- human review
    staffing: Literal["shifts", "24x7"] = Field(
        "shifts", description="24x7: one round-the-clock shift of `reviewers` (or the largest shift)")
    shifts: list[Shift] = Field(default_factory=list, max_length=10_000,
                                description="reviewer shifts (scenario data; none: no reviewer)")
    reviewers: NonNegInt | None = Field(
        None, le=100_000, description="if set: reviewers on every shift (no shifts: one 24x7 shift of them)")
    review_minutes_mean: PosFloat | None = Field(
        None, le=1e6, description="mean review time in minutes (scenario data: required when requests are reviewed)")
    review_distribution: str | None = Field(
        None, description="exponential, lognormal, deterministic or empirical (scenario data: required when "
        "requests are reviewed)")
    review_cv: NonNegFloat | None = Field(
        None, le=100, description="coefficient of variation of the review time (scenario data: required for lognormal)")
    review_minutes_values: list[Annotated[PosFloat, Field(le=1e6)]] | None = Field(
        None, max_length=1_000_000, description="empirical review times in minutes"
    )
    approve_probability: Share = Field(
        1.0, description="share of reviewed requests approved (scenario data: stated when requests are reviewed; "
        "1 stands only for a gateway that reviews nothing)")
    resubmit_share: Share = Field(
        0.0, description="share of denied requests resubmitted (scenario data: stated when max_resubmissions > 0)")
    max_resubmissions: NonNegInt = Field(
        0, le=100, description="resubmissions of one original request at most (scenario data; 0: none)")
    resubmit_delay_h: Distribution | None = Field(
        None, description="delay from denial to resubmission in hours (scenario data: required when "
        "max_resubmissions > 0)")
    # --- other stages
    third_party: ThirdPartyConfig = Field(default_factory=ThirdPartyConfig)
    transfers: TransferConfig = Field(default_factory=TransferConfig)
    # --- outages
    outage_windows_s: list[Annotated[tuple[NonNegFloat, NonNegFloat], BeforeValidator(as_tuple)]] = Field(
        default_factory=list, max_length=100_000, description="scheduled outages [start_s, end_s) from the run start")
    outage_mtbf_h: PosFloat | None = Field(
        None, ge=1, le=1e7, description="mean time between random outages (at least one hour); None: none")
    outage_mttr_h: PosFloat | None = Field(
        None, le=1e5, description="mean duration of a random outage (scenario data: required with outage_mtbf_h)")
    # --- statistics
    warmup_s: NonNegFloat = Field(
        86400.0, le=4e9, description="requests arriving earlier are not counted (a modelling convention, "
        "not a company figure: one day lets the queues fill from empty)")
    # --- cost inputs (plain numbers for the cost model)
    reviewer_cost_eur_per_year: NonNegFloat = Field(
        0.0, le=1e8, description="loaded cost of one reviewer FTE (scenario data: stated when there are reviewers)")
    oversight_eur_per_year: NonNegFloat = Field(
        0.0, le=1e12, description="third-party oversight contract, paid while third_party is enabled (scenario data)")
    node_cost_eur_per_year: NonNegFloat = Field(
        0.0, le=1e9, description="one inspection node incl. licences and operations (scenario data: stated when "
        "transfers.nodes > 0)")

    @field_validator("review_distribution", mode="before")
    @classmethod
    def _known_review_distribution(cls, value: Any) -> Any:
        if value is not None and value not in DISTRIBUTIONS:
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
        if any(c.share is None for c in classes[:-1]):
            raise ValueError("only the last priority class may leave its share out (it takes the rest)")
        total = sum(c.share for c in classes if c.share is not None)
        if classes[-1].share is None:
            if total > 1.0 + 1e-9:
                raise ValueError(f"the priority classes before the last take {total:g} > 1 of the requests; "
                                 "lower their shares")
            object.__setattr__(classes[-1], "share", max(0.0, 1.0 - total))
            classes[-1]._rest = True
        elif not math.isclose(total, 1.0, abs_tol=1e-9):
            raise ValueError(f"priority class shares must add up to 1 (got {total}); adjust the shares "
                             "or leave the last class's share out (it takes the rest)")
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
        problem = self._missing_figure()
        if problem:
            raise ValueError(problem)
        if self.auto_check and self.auto_check_servers == 0 and self._access_rate() > 0:
            raise ValueError("auto_check is on but auto_check_servers is 0; set it >= 1 or auto_check = false")
        tp = self.third_party
        if tp.enabled and tp.staff == 0 and (tp.access_share > 0 or tp.transfer_share > 0):
            raise ValueError(
                "third_party is enabled with shares > 0 but has no staff; set third_party.staff >= 1 "
                "or third_party.enabled = false"
            )
        return self

    def _missing_figure(self) -> str | None:
        """The first figure this gateway uses but the scenario does not give, as one line naming it.

        No field holds a company's figure, so whatever a stage uses must be stated: the review
        time and approval rate when requests are reviewed, the resubmission figures when denied
        requests may come back, the automatic check's time when it is on, the monitor's review
        time when it samples anything, the inspection when transfer flows are given. The exports
        of a world run and the costs of what exists (:meth:`missing_cost`) are checked by the scenario.
        """
        need = "(no default: a company's figure, scenario data; TikTok's is in scenarios/clover.toml)"
        for i, r in enumerate(self.regions):
            if r.requests_per_hour is None and r.head_count > 0 and "requests_per_person_hour" not in r.model_fields_set:
                return f"gateway.regions.{i}.requests_per_person_hour: {r.name} has employees, give their request rate {need}"
            if r.in_zone and r.rate_per_hour() > 0 and "restricted_share" not in r.model_fields_set:
                return (f"gateway.regions.{i}.restricted_share: {r.name} requests from inside the zone, give the share "
                        f"that touches restricted data (reviewed) {need}")
        if self._review_needed():
            if max((s.reviewers for s in self.effective_shifts()), default=0) == 0:
                return ("gateway.shifts: requests need human review but no shift has a reviewer; "
                        "set gateway.reviewers or give a shift reviewers > 0")
            if self.review_distribution is None:
                return f"gateway.review_distribution: requests are reviewed, give the review-time distribution {need}"
            if self.review_distribution != "empirical" and self.review_minutes_mean is None:
                return f"gateway.review_minutes_mean: requests are reviewed, give the mean review time {need}"
            if self.review_distribution == "lognormal" and self.review_cv is None:
                return f"gateway.review_cv: a lognormal review time needs its coefficient of variation {need}"
            if "approve_probability" not in self.model_fields_set:
                return f"gateway.approve_probability: requests are reviewed, give the share approved {need}"
        if self.max_resubmissions > 0:
            if "resubmit_share" not in self.model_fields_set:
                return f"gateway.resubmit_share: max_resubmissions > 0, give the share of denied requests filed again {need}"
            if self.resubmit_delay_h is None:
                return f"gateway.resubmit_delay_h: max_resubmissions > 0, give the delay before a resubmission {need}"
        if self.auto_check and self.auto_check_s is None:
            return f"gateway.auto_check_s: auto_check is on, give the automatic check's time in seconds {need}"
        tp = self.third_party
        if tp.enabled and (tp.access_share > 0 or tp.transfer_share > 0) and "review_minutes" not in tp.model_fields_set:
            return f"gateway.third_party.review_minutes: the monitor samples requests, give its review time {need}"
        if any(f.jobs_per_hour > 0 for f in self.transfers.flows):
            problem = self.transfers_problem("transfer flows are given")
            if problem:
                return problem
        if self.outage_mtbf_h is not None and self.outage_mttr_h is None:
            return f"gateway.outage_mttr_h: outage_mtbf_h is set, give the mean outage duration {need}"
        return None

    def missing_cost(self) -> str | None:
        """The first cost of what the gateway has (reviewers, inspection nodes) that is not stated, as one line.

        Checked for a scenario (whose costs are reported), not for a stand-alone gateway run.
        """
        need = "(no default: a company's figure, scenario data; TikTok's is in scenarios/clover.toml)"
        if self.reviewer_fte() > 0 and "reviewer_cost_eur_per_year" not in self.model_fields_set:
            return f"gateway.reviewer_cost_eur_per_year: the gateway has reviewers, give their yearly cost {need}"
        if self.transfers.nodes > 0 and "node_cost_eur_per_year" not in self.model_fields_set:
            return f"gateway.node_cost_eur_per_year: the gateway has inspection nodes, give their yearly cost {need}"
        return None

    def transfers_problem(self, why: str, *, inspected: bool = True) -> str | None:
        """One line naming the first transfer figure missing when the gateway handles transfer jobs.

        Args:
            why: what brings the transfer jobs (e.g. the exports that leave a zone).
            inspected: the jobs are inspected (every transfer policy but ``open``); otherwise only
                their size is needed.
        """
        need = "(no default: a company's figure, scenario data; TikTok's is in scenarios/clover.toml)"
        t = self.transfers
        if not t.stated("size_gb"):
            return f"gateway.transfers.size_gb: {why}, give the size of one transfer job in GB {need}"
        if not inspected:
            return None
        if t.nodes == 0:
            return f"gateway.transfers.nodes: {why}, but the gateway has no inspection node; set it >= 1"
        for name, what in (("inspection_gb_per_s", "the inspection throughput of one node"),
                           ("approve_probability", "the share of inspected jobs approved")):
            if not t.stated(name):
                return f"gateway.transfers.{name}: {why}, give {what} {need}"
        return None

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
        """The review-time distribution, in minutes.

        A gateway that states none reviews nothing (:meth:`_consistent` refuses it otherwise):
        its review time is then a placeholder that is never drawn from.
        """
        if self.review_distribution is None:
            return _placeholder()
        values = {"mean": self.review_minutes_mean} if self.review_minutes_mean is not None else {}
        if self.review_cv is not None:
            values["cv"] = self.review_cv
        return Distribution(kind=self.review_distribution, values=self.review_minutes_values, **values)
