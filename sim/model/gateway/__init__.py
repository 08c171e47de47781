"""The security gateway: access and transfer requests as queued requests, exact and fast.

Modules, in the order a run uses them: :mod:`~sim.model.gateway.calendar` (working windows,
shift patterns; s and hours of the week in UTC), :mod:`~sim.model.gateway.distributions`
(draws from the configured distributions), :mod:`~sim.model.gateway.streams` (every random
draw of a run: all at once for the reference, chunk by chunk for the fast path),
:mod:`~sim.model.gateway.routing` (routes and outcomes by transfer policy),
:mod:`~sim.model.gateway.engines` (the compiled kernel's driver over a ring of request slots,
and the SimPy reference, around :mod:`~sim.model.gateway.kernel`),
:mod:`~sim.model.gateway.record` (the run's records from its finished requests),
:mod:`~sim.model.gateway.run` (:func:`simulate_gateway`, which writes a
:class:`~sim.meters.gateway.GatewayRun` or, for the world, a compact
:class:`~sim.meters.gateway.GatewayTally`) and :mod:`~sim.model.gateway.staffing`
(:func:`staff_for_target`). The configuration is :mod:`sim.scenario.gateway`; KPIs and tables
of a run are in :mod:`sim.results.gateway`.

This package re-exports the gateway API: the configuration models, the records and their codes,
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
    GatewayRows,
    GatewayRun,
    GatewayTally,
    RequestSink,
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
    UserDrivenCause,
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
    "GatewayRows",
    "GatewayRun",
    "GatewayTally",
    "PriorityClass",
    "RequestSink",
    "RequesterRegion",
    "Shift",
    "ThirdPartyConfig",
    "TransferConfig",
    "TransferFlow",
    "UserDrivenCause",
    "simulate_gateway",
    "staff_for_target",
]
