"""Routing by transfer policy: which stages each drawn request visits, and its outcome.

* ``open`` (and a disabled gateway): no gateway at all; nothing waits, nothing is reviewed,
  everything is approved and nothing is pseudonymised (``crossed_gb = size_gb``).
* ``gateway``: access requests pass the automatic check (if on) and, if they need it, human
  review; transfer jobs pass inspection; a sampled share of both goes to the third-party monitor.
  ``crossed_gb = size_gb x`` the pseudonymisation factor of the job's data class.
* ``strict``: as ``gateway``, but jobs of ``transfers.protected_classes`` are blocked outright
  (no stage, no wait).

Routes are bit masks over the kernel's stages (``AUTO``, ``REVIEW``, ``INSPECT``,
``THIRD_PARTY``); volumes in GB. The rows are routed in one compiled pass
(:func:`sim.model.gateway.kernel.route_rows`); without a gateway the constant route, child and
outcome are read-only views, not arrays of one value per row.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.meters.gateway import ACCESS, APPROVED
from sim.model.gateway import kernel as kernels
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
        return Plan(False, np.broadcast_to(np.uint8(0), (n,)), np.broadcast_to(np.int64(-1), (n,)),
                    np.broadcast_to(np.int8(APPROVED), (n,)), np.where(is_access, 0.0, streams.size_gb))
    protected = np.array(
        [name in config.transfers.protected_classes for name in streams.data_class_names] + [False])
    rows = (streams.kind, streams.needs_review, streams.approved, streams.third_party, streams.child, streams.size_gb,
            streams.data_class)
    same = n > 0 and all(a.strides == (0,) for a in rows)  # every row alike: route one, share the result
    out = kernels.route_rows(*(a[:1] if same else a for a in rows), streams.factor_by_class, protected,
                             policy == "strict", config.auto_check, config.third_party.enabled)
    if same:
        out = tuple(np.broadcast_to(a, (n,)) for a in out)
    return Plan(True, *out)
