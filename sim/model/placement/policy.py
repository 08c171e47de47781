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
    "fit_storage",
    "serve_where_copies",
    "serve_nearest",
]


@dataclass(frozen=True)
class PlacementContext:
    """What a policy may look at when it decides.

    Attributes:
        countries: ISO-2 codes (C).
        classes: data class names (K).
        class_bound: (K,) True where the class has a residency rule (a zone or ``home``).
        replicas: (K,) copies wanted per class.
        sites: site ids (S), in the scenario's order of preference.
        allowed: (C, K, S) True where country c's class-k bytes may lie at site s under the
            class's residency (its zone, or the user's own country for ``home``; everywhere for
            ``any``), whatever the site's state.
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
    class_bound: NDArray[np.bool_]
    replicas: NDArray[np.int64]
    sites: list[str]
    allowed: NDArray[np.bool_]
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

    @property
    def enclave(self) -> NDArray[np.bool_]:
        """(C, S) sites inside the zones of every residency-bound class of each country (all if none)."""
        bound = np.asarray(self.class_bound, bool)
        if not bound.any():
            return np.ones((len(self.countries), len(self.sites)), dtype=bool)
        return np.asarray(self.allowed, bool)[:, bound, :].all(axis=1)

    def in_zone(self, available: bool = True) -> NDArray[np.bool_]:
        """(C, K, S) where the rule-based policies keep copies.

        A bound class in its zone, the others in the country's :attr:`enclave`; only available
        sites unless ``available`` is False.
        """
        bound = np.asarray(self.class_bound, bool)
        out = np.where(bound[None, :, None], np.asarray(self.allowed, bool), self.enclave[:, None, :])
        return out & np.asarray(self.site_available, bool)[None, None, :] if available else out


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


def fit_storage(ctx: PlacementContext, store: NDArray[np.float64], order: NDArray[np.int64],
                eligible: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Move copies off sites whose planned bytes exceed their storage capacity.

    A site's planned bytes are ``sum_ck volume_gb[c, k] x store[c, k, s]`` (``ctx.volume_gb``: the
    largest expected one-copy volume over the rest of the run). While a site is over its
    ``site_storage_pb``, its copy shares are scaled down to fit and the bytes taken off go, per
    (country, class), to the next site in that country's ``order`` that is ``eligible``, holds
    less than a whole copy, has room, and (where the class asks for it) lies in a country with
    no other copy.

    Args:
        ctx: the decision context.
        store: (C, K, S) copy shares the policy wants.
        order: (C, S) each country's sites in order of preference.
        eligible: (S,) sites that may hold copies, or (C, K, S) per country and class.

    Returns:
        (C, K, S) copy shares that fit (``store`` itself when everything fits).

    Raises:
        InfeasiblePlacement: naming the full sites, when the eligible sites cannot hold the data.
    """
    if ctx.volume_gb.size == 0 or ctx.site_storage_pb.size == 0:
        return store
    cap_gb = ctx.site_storage_pb * 1e6
    vol = ctx.volume_gb
    load = np.einsum("ck,cks->s", vol, store)
    if (load <= cap_gb * (1 + 1e-9)).all():
        return store
    x = store.copy()
    countries = np.array(ctx.site_country) if ctx.site_country else np.array(ctx.sites)
    site_idx = np.arange(len(ctx.sites))
    elig = np.broadcast_to(np.asarray(eligible, bool), x.shape)
    for _ in range(10 * len(ctx.sites) + 10):
        load = np.einsum("ck,cks->s", vol, x)
        over = load - cap_gb
        s = int(np.argmax(over / np.maximum(cap_gb, 1e-9)))
        if over[s] <= cap_gb[s] * 1e-9:
            return x
        # take off copies that another eligible site with room could take (it holds less than
        # a whole copy); what finds no place goes back, and a pass without progress is final
        others = elig & ((site_idx != s) & (load < cap_gb))[None, None, :]  # (C, K, S)
        movable = ((x < 1.0 - 1e-12) & others).any(axis=2) & (x[:, :, s] > 0)
        movable_gb = float((vol * x[:, :, s] * movable).sum())
        if movable_gb <= over[s] * 1e-9:
            break
        moved = x[:, :, s] * movable * min(1.0, over[s] / movable_gb)  # (C, K) copy shares
        x[:, :, s] -= moved
        placed_gb = 0.0
        for j in range(order.shape[1]):
            if moved.max() <= 1e-12:
                break
            for c in range(len(ctx.countries)):
                t = int(order[c, j])
                if not others[c, :, t].any() or moved[c].max() <= 1e-12:
                    continue
                room_gb = cap_gb[t] - load[t]
                for k in np.flatnonzero(moved[c] > 1e-12):
                    if room_gb <= 0:
                        break
                    if not others[c, k, t]:
                        continue
                    if ctx.class_distinct_countries.size and ctx.class_distinct_countries[k]:
                        same = (countries == countries[t]) & (site_idx != t)
                        if (x[c, k, same] > 1e-12).any():
                            continue
                    share = min(moved[c, k], 1.0 - x[c, k, t], room_gb / vol[c, k] if vol[c, k] > 0 else np.inf)
                    if share <= 0:
                        continue
                    x[c, k, t] += share
                    moved[c, k] -= share
                    room_gb -= share * vol[c, k]
                    load[t] += share * vol[c, k]
                    placed_gb += share * vol[c, k]
        x[:, :, s] += moved  # what found no place stays where it was
        if placed_gb <= over[s] * 1e-9:
            break
    load = np.einsum("ck,cks->s", vol, x)
    if (load <= cap_gb * (1 + 1e-9)).all():
        return x
    any_site = elig.any(axis=(0, 1))
    full = [ctx.sites[i] for i in np.flatnonzero(any_site) if load[i] >= cap_gb[i] * (1 - 1e-6)]
    need_pb = float((vol.sum(axis=0) * ctx.replicas).sum()) / 1e6
    have_pb = float(cap_gb[any_site].sum()) / 1e6
    raise InfeasiblePlacement([
        f"storage: the data needs {need_pb:,.1f} PB with its copies but the eligible sites hold "
        f"{have_pb:,.1f} PB (a site holds at most one copy of a user's data); full: "
        f"{', '.join(full)} (sites.<id>.storage_pb_capacity)"
    ])


def serve_where_copies(ctx: PlacementContext, serve: NDArray[np.float64], store: NDArray[np.float64],
                       order: NDArray[np.int64]) -> NDArray[np.float64]:
    """Keep requests next to the residency-bound data they read: serve[c, s] <= store[c, k, s].

    For every residency-bound class k a site serves at most the share of a country's users whose copy
    it holds; a share that :func:`fit_storage` moved away moves with it, to the next site in the
    country's ``order`` that still has room under that bound.

    Args:
        ctx: the decision context.
        serve: (C, S) serving shares the policy wants.
        store: (C, K, S) copy shares after storage was fitted.
        order: (C, S) each country's sites in order of preference.

    Returns:
        (C, S) serving shares (``serve`` itself when nothing had to move).
    """
    bound = np.asarray(ctx.class_bound, bool)
    if not bound.any():
        return serve
    limit = store[:, bound, :].min(axis=1)  # (C, S)
    if (serve <= limit + 1e-12).all():
        return serve
    out = np.minimum(serve, limit)
    for c in range(len(ctx.countries)):
        missing = 1.0 - out[c].sum()
        for t in order[c]:
            if missing <= 1e-12:
                break
            take = min(missing, limit[c, t] - out[c, t])
            if take > 0:
                out[c, t] += take
                missing -= take
        if missing > 1e-9:  # nowhere holds all of this country's residency-bound data: keep the wish
            out[c] = serve[c]
    return out


def serve_nearest(ctx: PlacementContext, eligible: NDArray[np.bool_],
                  store: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Serve each country from the nearest sites that hold its data and have power left.

    A greedy transportation plan: (country, site) pairs in order of modelled RTT, each country's
    peak compute (``ctx.compute_mw``) assigned to the nearest ``eligible`` site until the site's
    contracted IT MW is used up or the site's share reaches the country's copy share of every
    residency-bound class there (requests are served next to the residency-bound data they read). The
    site's storage power (planned bytes x ``storage_w_per_gb``) is taken off its contract first.

    Args:
        ctx: the decision context (``compute_mw`` must be given).
        eligible: (S,) sites that may serve, or (C, S) per country.
        store: (C, K, S) copy shares.

    Returns:
        (C, S) serving shares and (C,) the share of each country's requests nobody could take.
    """
    C, S = len(ctx.countries), len(ctx.sites)
    bound = np.asarray(ctx.class_bound, bool)
    limit = store[:, bound, :].min(axis=1) if bound.any() else np.ones((C, S))
    eligible = np.broadcast_to(np.asarray(eligible, bool), (C, S))
    need = np.asarray(ctx.compute_mw, dtype=float).copy()
    scale = np.where(need > 0, need, 1.0)  # a country without demand is served at its nearest site
    need = np.where(need > 0, need, 1e-12)
    storage_mw = np.zeros(S)
    if ctx.volume_gb.size and ctx.storage_w_per_gb > 0:
        storage_mw = np.einsum("ck,cks->s", ctx.volume_gb, store) * ctx.storage_w_per_gb / 1e6
    cap = np.where(eligible.any(axis=0), ctx.site_it_mw - storage_mw, 0.0).astype(float)
    serve = np.zeros((C, S))
    rtt = np.where(eligible, ctx.rtt_ms, np.inf)
    for flat in np.argsort(rtt, axis=None, kind="stable"):
        c, s = divmod(int(flat), S)
        if not np.isfinite(rtt[c, s]) or need[c] <= 0 or cap[s] <= 0:
            continue
        take = min(need[c], cap[s], (limit[c, s] - serve[c, s]) * scale[c])
        if take <= 0:
            continue
        serve[c, s] += take / scale[c]
        need[c] -= take
        cap[s] -= take
    unmet = np.clip(1.0 - serve.sum(axis=1), 0.0, 1.0)
    return serve, unmet


def _nearest(ctx: PlacementContext, eligible: NDArray[np.bool_]) -> NDArray[np.int64]:
    """(C, S) each country's sites by modelled RTT, ``eligible`` ((S,) or (C, S)) ones first."""
    rtt = np.where(np.broadcast_to(eligible, np.shape(ctx.rtt_ms)), ctx.rtt_ms, np.inf)
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
        prefs = np.tile(np.r_[order, np.flatnonzero(~eligible)], (C, 1))
        return Placement(serve, fit_storage(ctx, store, prefs, eligible))


def _spread_in_zone(ctx: PlacementContext, w: NDArray[np.float64], ok: NDArray[np.bool_]) -> NDArray[np.float64]:
    """(C, K, S) copies spread in proportion to ``w`` over each (country, class)'s ``ok`` sites."""
    C, K, S = ok.shape
    store = np.zeros((C, K, S))
    done: dict[tuple[int, bytes], NDArray[np.float64]] = {}
    for c in range(C):
        for k in range(K):
            key = (int(ctx.replicas[k]), ok[c, k].tobytes())
            if key not in done:
                done[key] = spread_copies(np.where(ok[c, k], w, 0.0), int(ctx.replicas[k]))
            store[c, k] = done[key]
    return store


@register_policy("clover")
class Clover:
    """Project Clover: data in its zone only; each request served by the nearest site with the data.

    Every class of a user is kept on the sites inside the zones of all of that user's
    residency-bound classes (the enclave; a bound class only in its own zone). Copies are spread
    in proportion to contracted IT MW on distinct sites, within each site's storage capacity
    (:func:`fit_storage`); while the enclave cannot hold all the data, what does not fit stays on
    the interim sites outside it that held it before. Requests go to the nearest enclave site (by
    modelled RTT) that holds a copy of the requester's residency-bound data and has contracted IT
    power left (:func:`serve_nearest`, a greedy transportation plan on each country's peak
    compute, ``ctx.compute_mw``). What the enclave cannot carry stays where it was served before
    (the interim enclave); without one it is spread over the enclave sites in proportion to their
    contracts (the overload then shows as a warning).
    """

    name = "clover"

    def place(self, ctx: PlacementContext) -> Placement:
        ok = ctx.in_zone()  # (C, K, S)
        enclave = ctx.enclave & ctx.site_available[None, :]  # (C, S)
        if not ok.any(axis=2).all():
            raise NoSiteAvailable("no available site among policy.sites lies in the zone of every class")
        eligible = ok.any(axis=(0, 1))
        w = np.where(eligible, ctx.site_it_mw, 0.0)
        C = len(ctx.countries)
        store = _spread_in_zone(ctx, w, ok)
        zone_order = np.argsort(-w, kind="stable")[: int(eligible.sum())]
        interim = np.zeros_like(eligible)
        if ctx.previous is not None:
            interim = ~ctx.in_zone(available=False).any(axis=(0, 1)) & (ctx.previous.store.sum(axis=(0, 1)) > 0)
        try:
            store = fit_storage(ctx, store, np.tile(zone_order, (C, 1)), ok)
        except InfeasiblePlacement:
            # the enclave cannot hold it all yet: what does not fit stays on the interim sites
            if not interim.any():
                raise
            order = np.tile(np.r_[zone_order, np.flatnonzero(interim)], (C, 1))
            store = fit_storage(ctx, store, order, ok | interim[None, None, :])
        we = np.where(enclave, ctx.site_it_mw[None, :], 0.0)
        total = we.sum(axis=1, keepdims=True)
        proportional = np.where(total > 0, we / np.where(total > 0, total, 1.0), 1.0 / len(ctx.sites))
        if ctx.compute_mw.size == 0:
            return Placement(serve_where_copies(ctx, proportional, store, _nearest(ctx, enclave)), store)
        serve, unmet = serve_nearest(ctx, enclave, store)
        if unmet.max() > 1e-12:
            outside = ctx.previous.serve * ~enclave if ctx.previous is not None else np.zeros_like(serve)
            spare = outside.sum(axis=1, keepdims=True)
            rest = np.where(spare > 0, outside / np.where(spare > 0, spare, 1.0), proportional)
            serve = serve + unmet[:, None] * rest
        return Placement(serve, store)


@register_policy("nearest_in_zone")
class NearestInZone:
    """Each country served by its nearest available site inside its data's zones (by modelled RTT).

    A user's bound classes go on the nearest ``replicas`` sites of their zone (``home``: of the
    user's country), the other classes on the nearest sites inside every bound class's zone;
    the next nearest where a site's storage is full (:func:`fit_storage`). Compute capacity is
    not considered (overload shows in the KPIs).
    """

    name = "nearest_in_zone"

    def place(self, ctx: PlacementContext) -> Placement:
        ok = ctx.in_zone()
        enclave = ctx.enclave & ctx.site_available[None, :]
        if not enclave.any(axis=1).all() or not ok.any(axis=2).all():
            raise NoSiteAvailable("no available site among policy.sites lies in the zone of every class")
        C, K, S = ok.shape
        serve_order = _nearest(ctx, enclave)
        serve = np.zeros((C, S))
        serve[np.arange(C), serve_order[:, 0]] = 1.0
        store = np.zeros((C, K, S))
        for c in range(C):
            for k in range(K):
                order = _nearest(ctx, ok[c, k])[c]
                r = min(int(ctx.replicas[k]), int(ok[c, k].sum()))
                store[c, k, order[:r]] = 1.0
        fitted = fit_storage(ctx, store, serve_order, ok)
        return Placement(serve_where_copies(ctx, serve, fitted, serve_order), fitted)
