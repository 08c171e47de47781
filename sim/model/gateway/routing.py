"""Routing by transfer policy: which stages each drawn request visits, and its outcome.

* ``open`` (and a disabled gateway): no gateway at all; nothing waits, nothing is reviewed,
  everything is approved and nothing is pseudonymised (``crossed_gb = size_gb``).
* ``gateway``: access requests pass the automatic check (if on) and, if they need it, human
  review; transfer jobs pass inspection; a sampled share of both goes to the third-party monitor.
  ``crossed_gb = size_gb x`` the pseudonymisation factor of the job's data class.
* ``strict``: as ``gateway``, but jobs of ``transfers.protected_classes`` are blocked outright
  (no stage, no wait).

Routes are bit masks over the kernel's stages (``AUTO``, ``REVIEW``, ``INSPECT``,
``THIRD_PARTY``); volumes in GB.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.meters.gateway import ACCESS, APPROVED, BLOCKED, DENIED, RESUBMITTED
from sim.model.gateway.kernel import AUTO, INSPECT, REVIEW, THIRD_PARTY
from sim.model.gateway.streams import Streams
from sim.scenario.gateway import GatewayConfig

__all__ = ["Plan", "plan"]


@dataclasses.dataclass
class Plan:
    """What the policy makes of the drawn requests.

    Attributes:
        gateway_on: False when nothing passes a gateway.
        route: uint8 bit mask of the stages each row visits.
        child: resubmission row, only for reviewed and denied rows (else -1).
        outcome: outcome code per row (``sim.meters.gateway``).
        crossed_gb: what crosses the border if approved, GB (0 for access rows).
    """

    gateway_on: bool
    route: np.ndarray
    child: np.ndarray
    outcome: np.ndarray
    crossed_gb: np.ndarray


def plan(streams: Streams, config: GatewayConfig, policy: str) -> Plan:
    """Routes and outcomes of the drawn rows under a transfer policy (validated by the caller)."""
    n = len(streams.arrival)
    is_access = streams.kind == ACCESS
    if not (config.enabled and policy != "open"):  # no gateway: nothing waits or is pseudonymised
        return Plan(False, np.zeros(n, dtype=np.uint8), np.full(n, -1, dtype=np.int64),
                    np.full(n, APPROVED, dtype=np.int8), np.where(is_access, 0.0, streams.size_gb))
    reviewed = streams.needs_review  # never set for transfers
    protected = np.array(
        [name in config.transfers.protected_classes for name in streams.data_class_names] + [False])
    if policy == "strict":
        blocked_outright = ~is_access & protected[streams.data_class]  # access rows index the False
    else:
        blocked_outright = np.zeros(n, dtype=bool)
    inspected = ~is_access & ~blocked_outright
    route = (reviewed.astype(np.uint8) << REVIEW) | (inspected.astype(np.uint8) << INSPECT)
    if config.auto_check:
        route |= is_access.astype(np.uint8) << AUTO
    if config.third_party.enabled:
        route |= (streams.third_party & (reviewed | inspected)).astype(np.uint8) << THIRD_PARTY
    denied = reviewed & ~streams.approved
    child = np.where(denied, streams.child, -1)
    outcome = np.where(
        denied, np.where(child >= 0, RESUBMITTED, DENIED),
        np.where(blocked_outright | (inspected & ~streams.approved), BLOCKED, APPROVED)).astype(np.int8)
    crossed = streams.size_gb * streams.factor_by_class[streams.data_class]  # access rows: size 0
    return Plan(True, route, child, outcome, crossed)
