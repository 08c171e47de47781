"""Placement policies: which sites serve each country's requests and hold each class's copies.

A policy is any object with ``name`` and ``place(ctx) -> Placement`` (:class:`PlacementPolicy`).
Policies register themselves by name in :data:`POLICIES`; ``policy.placement`` in a scenario picks
one, so new policies need no change to the world.

Shapes: C countries, K data classes, S sites (in the order of ``policy.sites``).
``Placement.serve`` is (C, S), each row a split of requests summing to 1. ``Placement.store`` is
(C, K, S): the number of copies of that country's class-k bytes on each site, each entry in
[0, 1] (a site holds at most one copy), summing over sites to the class's replica count (or the
number of usable sites, if fewer).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

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


@dataclass(frozen=True)
class PlacementContext:
    """What a policy may look at when it decides.

    Attributes:
        countries: ISO-2 codes (C).
        classes: data class names (K).
        class_eea_only: (K,) True where the class must stay in the EEA.
        replicas: (K,) copies wanted per class.
        sites: site ids (S), in the scenario's order of preference.
        site_eea: (S,) True for sites in the EEA.
        site_available: (S,) True where the site is online and not down now.
        site_it_mw: (S,) contracted IT power, MW.
        rtt_ms: (C, S) modelled round trip from each country to each site.
        demand_share: (C,) share of users per country.
        site_country: (S,) ISO-2 country of each site.
        site_storage_pb: (S,) raw storage capacity, PB.
        site_energy_eur_per_it_kwh: (S,) energy price x PUE.
        site_gco2_per_it_kwh: (S,) grid intensity x PUE.
        volume_gb: (C, K) one-copy bytes to plan for (stored now plus expected writes to the end
            of the run, an upper bound that ignores deletion).
        compute_mw: (C,) IT power, MW, that serving each country's peak needs (servers at full
            power, sized at the target utilisation).
        class_distinct_countries: (K,) replicas must be in distinct countries.
        weights: objective weights {"cost", "carbon", "latency"} for weighted policies.
        max_rtt_ms: (C,) p95 round-trip bound per country (inf where none).
        colocation_eur_per_kw_month: colocation price (for cost objectives).
        server_eur_per_mw_year: server amortisation per provisioned MW (for cost objectives).
        storage_eur_per_gb_year: storage amortisation per stored GB (for cost objectives).
        storage_w_per_gb: storage power per stored GB.
        it_load_factor: mean IT power / provisioned IT power of compute (for energy objectives).
        previous: the placement in force before this decision (None at the start).
    """

    countries: list[str]
    classes: list[str]
    class_eea_only: NDArray[np.bool_]
    replicas: NDArray[np.int64]
    sites: list[str]
    site_eea: NDArray[np.bool_]
    site_available: NDArray[np.bool_]
    site_it_mw: NDArray[np.float64]
    rtt_ms: NDArray[np.float64]
    demand_share: NDArray[np.float64]
    site_country: list[str] = field(default_factory=list)
    site_storage_pb: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    site_energy_eur_per_it_kwh: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    site_gco2_per_it_kwh: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    volume_gb: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    compute_mw: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    class_distinct_countries: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    weights: dict[str, float] = field(default_factory=lambda: {"cost": 1.0, "carbon": 0.0, "latency": 0.0})
    max_rtt_ms: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    colocation_eur_per_kw_month: float = 0.0
    server_eur_per_mw_year: float = 0.0
    storage_eur_per_gb_year: float = 0.0
    storage_w_per_gb: float = 0.0
    it_load_factor: float = 0.6
    previous: Placement | None = None


@dataclass(frozen=True)
class Placement:
    """A placement decision (see the module docstring for shapes)."""

    serve: NDArray[np.float64]
    store: NDArray[np.float64]

    def same_as(self, other: Placement | None) -> bool:
        """True if ``other`` is the same decision (to 1e-12)."""
        return (
            other is not None
            and np.allclose(self.serve, other.serve, rtol=0, atol=1e-12)
            and np.allclose(self.store, other.store, rtol=0, atol=1e-12)
        )


class NoSiteAvailable(RuntimeError):
    """The policy has no usable site at this moment (all offline or not yet built)."""


class InfeasiblePlacement(ValueError):
    """No placement satisfies every constraint; the message names the binding ones.

    Attributes:
        reasons: one sentence per binding constraint.
    """

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("no feasible placement: " + "; ".join(self.reasons))


class PlacementPolicy(Protocol):
    """What the world needs from a placement policy."""

    name: str

    def place(self, ctx: PlacementContext) -> Placement:
        """Decide serving shares and copies; raise :class:`NoSiteAvailable` if it cannot."""
        ...


POLICIES: dict[str, Callable[[], PlacementPolicy]] = {}


def _lazy(module: str, cls_name: str) -> Callable[[], PlacementPolicy]:
    """A registry entry that imports its module on first use (the optimisers load SciPy)."""

    def factory() -> PlacementPolicy:
        return getattr(importlib.import_module(module), cls_name)()

    return factory


# The optimising policies live in sim.model.placement.optimiser, which registers the real classes when
# it is imported; until then these entries keep scenario validation and the CLI light.
POLICIES.update(
    {
        "cost_optimal": _lazy("sim.model.placement.optimiser", "CostOptimal"),
        "carbon_optimal": _lazy("sim.model.placement.optimiser", "CarbonOptimal"),
        "latency_optimal": _lazy("sim.model.placement.optimiser", "LatencyOptimal"),
        "weighted": _lazy("sim.model.placement.optimiser", "Weighted"),
    }
)


def register_policy(name: str) -> Callable[[type], type]:
    """Class decorator that adds a policy to :data:`POLICIES` under ``name``."""

    def deco(cls: type) -> type:
        cls.name = name
        POLICIES[name] = cls
        return cls

    return deco


def get_policy(name: str) -> PlacementPolicy:
    """Instantiate the policy registered as ``name``.

    Raises:
        KeyError: with the list of known names.
    """
    try:
        return POLICIES[name]()
    except KeyError:
        raise KeyError(f"unknown placement policy {name!r}; known: {sorted(POLICIES)}") from None


def spread_copies(weights: NDArray[np.float64], copies: int) -> NDArray[np.float64]:
    """Split ``copies`` over sites in proportion to ``weights`` with at most one copy per site.

    Water-filling: x_s = min(1, theta * w_s) with sum x_s = min(copies, number of w_s > 0).
    """
    w = np.asarray(weights, dtype=float)
    usable = w > 0
    target = float(min(copies, int(usable.sum())))
    x = np.zeros_like(w)
    if target == 0:
        return x
    capped = np.zeros_like(usable)
    while True:
        free = usable & ~capped
        remaining = target - capped.sum()
        x[capped] = 1.0
        x[free] = w[free] * remaining / w[free].sum()
        over = free & (x > 1.0)
        if not over.any():
            return x
        capped |= over


def _nearest(ctx: PlacementContext, eligible: NDArray[np.bool_]) -> NDArray[np.int64]:
    rtt = np.where(eligible[None, :], ctx.rtt_ms, np.inf)
    return np.argsort(rtt, axis=1, kind="stable")


def _eligible_or_raise(ctx: PlacementContext, eligible: NDArray[np.bool_], what: str) -> None:
    if not eligible.any():
        raise NoSiteAvailable(f"no {what} site among policy.sites is available")


@register_policy("pre_clover")
class PreClover:
    """The legacy layout: the first available site in ``policy.sites`` serves every request.

    Copies go on the first ``replicas`` available sites in that order (e.g. virginia,
    singapore). Residency is not considered.
    """

    name = "pre_clover"

    def place(self, ctx: PlacementContext) -> Placement:
        eligible = ctx.site_available
        _eligible_or_raise(ctx, eligible, "available")
        order = np.flatnonzero(eligible)
        C, K, S = len(ctx.countries), len(ctx.classes), len(ctx.sites)
        serve = np.zeros((C, S))
        serve[:, order[0]] = 1.0
        store = np.zeros((C, K, S))
        for k in range(K):
            store[:, k, order[: ctx.replicas[k]]] = 1.0
        return Placement(serve, store)


@register_policy("clover")
class Clover:
    """Project Clover: data on EEA sites only.

    Copies are spread in proportion to contracted IT MW on distinct sites. Requests are split the same way; while the EEA sites together cannot carry
    the peak demand (``ctx.compute_mw``), each runs at its contracted power and the rest stays
    where it was served before (the interim enclave), so no site is driven past its contract.
    """

    name = "clover"

    def place(self, ctx: PlacementContext) -> Placement:
        eligible = ctx.site_available & ctx.site_eea
        _eligible_or_raise(ctx, eligible, "available EEA")
        w = np.where(eligible, ctx.site_it_mw, 0.0)
        C = len(ctx.countries)
        serve = np.tile(w / w.sum(), (C, 1))
        demand_mw = float(ctx.compute_mw.sum()) if ctx.compute_mw.size else 0.0
        if ctx.previous is not None and demand_mw > w.sum():
            outside = ctx.previous.serve * ~eligible[None, :]
            spare = outside.sum(axis=1, keepdims=True)
            if (spare > 0).all():
                eea_share = w.sum() / demand_mw
                serve = eea_share * serve + (1.0 - eea_share) * outside / spare
        store = np.stack([np.tile(spread_copies(w, int(r)), (C, 1)) for r in ctx.replicas], axis=1)
        return Placement(serve, store)


@register_policy("nearest_eea")
class NearestEEA:
    """Each country served by its nearest available EEA site (by modelled RTT).

    Copies go on the nearest ``replicas`` EEA sites. Capacity is not considered (overload shows in the KPIs).
    """

    name = "nearest_eea"

    def place(self, ctx: PlacementContext) -> Placement:
        eligible = ctx.site_available & ctx.site_eea
        _eligible_or_raise(ctx, eligible, "available EEA")
        n_ok = int(eligible.sum())
        order = _nearest(ctx, eligible)
        C, K, S = len(ctx.countries), len(ctx.classes), len(ctx.sites)
        serve = np.zeros((C, S))
        serve[np.arange(C), order[:, 0]] = 1.0
        store = np.zeros((C, K, S))
        for k in range(K):
            r = min(int(ctx.replicas[k]), n_ok)
            for j in range(r):
                store[np.arange(C), k, order[:, j]] = 1.0
        return Placement(serve, store)
