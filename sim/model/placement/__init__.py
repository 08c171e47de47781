"""Placement policies behind one registry: rule-based (:mod:`.policy`) and optimising (:mod:`.optimiser`)."""

from sim.model.placement.policy import (
    POLICIES,
    InfeasiblePlacement,
    NoSiteAvailable,
    Placement,
    PlacementContext,
    PlacementPolicy,
    get_policy,
    register_policy,
    spread_copies,
)

__all__ = [
    "PlacementContext",
    "Placement",
    "PlacementPolicy",
    "NoSiteAvailable",
    "InfeasiblePlacement",
    "POLICIES",
    "register_policy",
    "get_policy",
    "spread_copies",
]
