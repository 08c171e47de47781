"""The security gateway: access and transfer requests as queued requests, exact and fast.

Modules, in the order a run uses them: :mod:`~sim.model.gateway.calendar` (working windows,
shift patterns; s and hours of the week in UTC), :mod:`~sim.model.gateway.distributions`
(draws from the configured distributions), :mod:`~sim.model.gateway.streams` (every random
draw of a run), :mod:`~sim.model.gateway.routing` (routes and outcomes by transfer policy),
:mod:`~sim.model.gateway.engines` (the compiled kernel driver and the SimPy reference, around
:mod:`~sim.model.gateway.kernel`), :mod:`~sim.model.gateway.run` (:func:`simulate_gateway`,
which writes a :class:`~sim.meters.gateway.GatewayRun`) and :mod:`~sim.model.gateway.staffing`
(:func:`staff_for_target`). The configuration is :mod:`sim.scenario.gateway`; KPIs and tables
of a run are in :mod:`sim.results.gateway`.

This package re-exports the gateway API: the configuration models, the record and its codes,
:func:`simulate_gateway` and :func:`staff_for_target`.
"""

from sim.meters.gateway import (
    ACCESS,
    APPROVED,
    BLOCKED,
    DENIED,
    KIND_NAMES,
    OUTCOME_NAMES,
    RESUBMITTED,
    STAGE_NAMES,
    TRANSFER,
    GatewayRun,
)
from sim.model.gateway.calendar import WEEK_S
from sim.model.gateway.run import simulate_gateway
from sim.model.gateway.staffing import staff_for_target
from sim.scenario.gateway import (
    DISTRIBUTIONS,
    TRANSFER_POLICIES,
    Distribution,
    GatewayConfig,
    PriorityClass,
    RequesterRegion,
    Shift,
    ThirdPartyConfig,
    TransferConfig,
    TransferFlow,
)

__all__ = [
    "ACCESS",
    "APPROVED",
    "BLOCKED",
    "DENIED",
    "DISTRIBUTIONS",
    "KIND_NAMES",
    "OUTCOME_NAMES",
    "RESUBMITTED",
    "STAGE_NAMES",
    "TRANSFER",
    "TRANSFER_POLICIES",
    "WEEK_S",
    "Distribution",
    "GatewayConfig",
    "GatewayRun",
    "PriorityClass",
    "RequesterRegion",
    "Shift",
    "ThirdPartyConfig",
    "TransferConfig",
    "TransferFlow",
    "simulate_gateway",
    "staff_for_target",
]
