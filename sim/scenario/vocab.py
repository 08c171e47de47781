"""Names the scenario vocabulary admits: placement policies, transfer policies, distributions.

The scenario layer is pure data and imports nothing from the model, so the names a scenario may
use live here; the model's registries (e.g. :data:`sim.model.placement.POLICIES`) must offer
exactly these names, which the tests check.
"""

from __future__ import annotations

__all__ = ["PLACEMENT_POLICIES", "TRANSFER_POLICIES", "FAILOVER_MODES"]

#: Placement policies a scenario may name (``policy.placement``).
PLACEMENT_POLICIES: tuple[str, ...] = (
    "pre_clover",
    "clover",
    "nearest_eea",
    "cost_optimal",
    "carbon_optimal",
    "latency_optimal",
    "weighted",
)

#: Transfer policies (``policy.transfer``).
TRANSFER_POLICIES: tuple[str, ...] = ("open", "gateway", "strict")

#: Failover modes (``policy.failover``).
FAILOVER_MODES: tuple[str, ...] = ("eea_only", "anywhere")
