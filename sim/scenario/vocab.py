"""Names the scenario vocabulary admits: placement policies, transfer policies, distributions.

The scenario layer is pure data and imports nothing from the model, so the names a scenario may
use live here; the model's registries (e.g. :data:`sim.model.placement.POLICIES`) must offer
exactly these names, which the tests check.
"""

from __future__ import annotations

__all__ = [
    "PLACEMENT_POLICIES",
    "TRANSFER_POLICIES",
    "FAILOVER_MODES",
    "IN_ZONE_POLICIES",
    "EXPORT_DESTINATIONS",
]

#: Placement policies a scenario may name (``policy.placement``).
PLACEMENT_POLICIES: tuple[str, ...] = (
    "pre_clover",
    "clover",
    "nearest_in_zone",
    "cost_optimal",
    "carbon_optimal",
    "latency_optimal",
    "weighted",
)

#: Transfer policies (``policy.transfer``).
TRANSFER_POLICIES: tuple[str, ...] = ("open", "gateway", "strict")

#: Failover modes (``policy.failover``).
FAILOVER_MODES: tuple[str, ...] = ("in_zone", "anywhere")

#: Rule-based placement policies that keep a user's data together: every class (``"any"`` ones too)
#: on sites inside the zones of all of that user's residency-bound classes.
IN_ZONE_POLICIES: tuple[str, ...] = ("clover", "nearest_in_zone")

#: Where exports may go (``data_classes.*.export_destination``, ``gateway.transfers.flows.*.destination``,
#: ``policy.blocked_destinations``): the United States, Singapore, China, or any other region (outside every zone).
EXPORT_DESTINATIONS: tuple[str, ...] = ("US", "SG", "CN", "other")
