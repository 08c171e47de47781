"""Optimising placement policies: a linear programme solved with HiGHS.

What is decided (C countries, K data classes, S sites, the shapes of :class:`Placement`):

* ``store[c, k, s]`` in [0, 1]: the share of country c's class-k bytes that has a copy on site s
  (fractional copies are allowed, as in every other policy: 0.5 means half of the country's users
  have a copy of their class-k data there);
* ``serve[c, s]`` >= 0: the share of country c's requests served by site s.

Constraints (each a "family" that an infeasibility explanation can name):

* ``replicas``: sum over sites of ``store[c, k, :]`` = the class's replica count (each entry <= 1,
  so the copies are on distinct sites); strict - if fewer usable sites exist the problem is
  infeasible (other policies place fewer copies instead);
* ``residency``: a residency-bound class has no copy outside its zone (``home``: outside the
  user's country); nothing on unavailable sites;
* ``distinct countries``: where a class asks for it, the copies on the sites of one country sum
  to <= 1;
* ``serving``: each country's serving shares sum to 1; and a request is served only where the
  requester's residency-restricted data is: ``serve[c, s] <= store[c, k, s]`` for every
  residency-bound class k (so requests touching protected data are processed inside its zone,
  next to a copy);
* ``storage capacity``: sum of volume x copies on a site <= its raw capacity (PB);
* ``IT power``: compute MW served at the site plus storage power <= contracted IT MW;
* ``p95 RTT``: for a country with a finite bound B, the share of its requests served from sites
  whose modelled round trip exceeds B is <= 5 %, which is exactly "p95 of its RTT <= B".

Objectives, all linear and per year:

* ``cost`` (EUR/yr): compute MW at a site x (server amortisation per MW-year + colocation
  EUR/kW-month x 12 x 1000 + IT load factor x 8766 h x 1000 x energy EUR per IT kWh) + stored GB x
  (storage amortisation + storage kW x (colocation x 12 + 8766 h x energy price)). Network
  transfer is ignored: egress and inter-site prices are the same for every site, so read and
  export traffic cost the same wherever they are served; one-off migration is not planned.
  Compute MW are per-country peaks (an upper bound of the per-site peak the simulator sizes).
* ``carbon`` (t CO2/yr): the same IT energy x grid gCO2 per IT kWh (PUE included) / 1e6.
* ``latency`` (ms): request-weighted mean modelled round trip, sum_c demand_c sum_s serve x rtt.

Weighted objective: each objective is divided by its range over the payoff table (the values
of all three objectives at each single-objective optimum: range = worst - best), so weight 1 on
any objective means "its whole trade-off range"; weights are then comparable whatever the units.
Single-objective policies break ties with the other objectives at a relative weight of 1e-5.

Infeasible problems raise :class:`InfeasiblePlacement` with a message naming the binding
constraints: structural causes (too few eligible sites or countries for the replicas, no site
within an RTT bound) are found directly; capacity causes by re-solving with elastic slack on
every constraint family and reporting the slack used. :class:`NoSiteAvailable` only when no site
is available at all. Nothing here prints or touches the disk.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog

from sim.model.placement.infeasibility import elastic_reasons, structural_reasons
from sim.model.placement.lp import (
    GB_PER_PB,
    HIGHS_OPTIONS,
    OBJECTIVES,
    RTT_TAIL_SHARE,
    TIE_BREAK,
    LPModel,
    build_lp,
    check_shapes,
    objective_values,
    serve_eligible,
    store_eligible,
)
from sim.model.placement.policy import InfeasiblePlacement, NoSiteAvailable, Placement, PlacementContext, register_policy

__all__ = [
    "InfeasiblePlacement",
    "OBJECTIVES",
    "RTT_TAIL_SHARE",
    "CostOptimal",
    "CarbonOptimal",
    "LatencyOptimal",
    "Weighted",
    "optimise",
    "payoff_table",
    "objective_values",
    "placement_violations",
]

# ----------------------------------------------------------------------------------------------
# Solving


def _solve(ctx: PlacementContext, model: LPModel, objective: NDArray[np.float64]) -> Placement:
    res = linprog(
        objective,
        A_ub=model.a_ub,
        b_ub=model.b_ub,
        A_eq=model.a_eq,
        b_eq=model.b_eq,
        bounds=np.c_[np.zeros(len(model.upper)), model.upper],
        method="highs",
        options=HIGHS_OPTIONS,
    )
    if res.status == 2:
        raise InfeasiblePlacement(elastic_reasons(ctx, model))
    if res.status != 0:
        raise RuntimeError(f"HiGHS did not solve the placement LP: {res.message}")
    store, serve = model.split(np.asarray(res.x, float))
    store = np.clip(store, 0.0, 1.0)
    serve = np.clip(serve, 0.0, None)
    serve = serve / serve.sum(axis=1, keepdims=True)
    return Placement(serve=serve, store=store)


def _prepare(ctx: PlacementContext) -> LPModel:
    check_shapes(ctx)
    if not np.asarray(ctx.site_available, bool).any():
        raise NoSiteAvailable("no site among policy.sites is available")
    reasons = structural_reasons(ctx)
    if reasons:
        raise InfeasiblePlacement(reasons)
    return build_lp(ctx)


def _reference_scales(ctx: PlacementContext, model: LPModel) -> dict[str, float]:
    """Magnitude of each objective at a uniform spread over the eligible sites (tie-breaking)."""
    store_ok = store_eligible(ctx).astype(float)
    serve_ok = serve_eligible(ctx).astype(float)
    x = store_ok / np.maximum(store_ok.sum(axis=2, keepdims=True), 1.0)
    x = x * np.asarray(ctx.replicas, float)[None, :, None]
    y = serve_ok / np.maximum(serve_ok.sum(axis=1, keepdims=True), 1.0)
    z = np.concatenate([x.ravel(), y.ravel()])
    return {name: float(model.objectives[name] @ z) or 1.0 for name in OBJECTIVES}


def _scalarised(
    model: LPModel, weights: Mapping[str, float], divisors: Mapping[str, float], scales: Mapping[str, float]
) -> NDArray[np.float64]:
    """sum_i w_i f_i / divisor_i (weights rescaled to sum 1) + 1e-5 sum_i f_i / scale_i (tie-break)."""
    w = {o: max(float(weights.get(o, 0.0)), 0.0) for o in OBJECTIVES}
    total = sum(w.values()) or 1.0
    vec = np.zeros(len(model.upper))
    for o in OBJECTIVES:
        vec += (w[o] / total) * model.objectives[o] / divisors[o] + TIE_BREAK * model.objectives[o] / scales[o]
    return vec


def _single(ctx: PlacementContext, model: LPModel, objective: str, scales: Mapping[str, float]) -> Placement:
    return _solve(ctx, model, _scalarised(model, {objective: 1.0}, scales, scales))


def payoff_table(ctx: PlacementContext) -> dict[str, dict[str, float]]:
    """Objective values at each single-objective optimum.

    Returns:
        ``table[optimised][evaluated]``, e.g. ``table["cost"]["latency"]`` is the mean RTT of the
        cost-optimal placement.

    Raises:
        InfeasiblePlacement, NoSiteAvailable: as :func:`optimise`.
    """
    model = _prepare(ctx)
    scales = _reference_scales(ctx, model)
    return {o: objective_values(ctx, _single(ctx, model, o, scales)) for o in OBJECTIVES}


def _ranges(table: Mapping[str, Mapping[str, float]], scales: Mapping[str, float]) -> dict[str, float]:
    out = {}
    for o in OBJECTIVES:
        column = [table[i][o] for i in OBJECTIVES]
        span = max(column) - table[o][o]
        out[o] = span if span > 1e-9 * max(abs(scales[o]), 1e-12) else scales[o]
    return out


def optimise(ctx: PlacementContext, weights: Mapping[str, float] | None = None, *, normalise: bool = True) -> Placement:
    """The placement that minimises a weighted sum of cost, carbon and latency.

    Args:
        ctx: the planning context (every field filled, as ``World._context`` does).
        weights: ``{"cost", "carbon", "latency"}`` weights (>= 0); default ``ctx.weights``.
        normalise: divide each objective by its payoff-table range (three extra solves) so the
            weights are comparable; if False, by its value at a uniform reference spread.

    Returns:
        The optimal placement.

    Raises:
        NoSiteAvailable: no site is available at all.
        InfeasiblePlacement: the constraints cannot all hold; the message names which.
    """
    weights = dict(ctx.weights if weights is None else weights)
    model = _prepare(ctx)
    scales = _reference_scales(ctx, model)
    active = [o for o in OBJECTIVES if weights.get(o, 0.0) > 0]
    if len(active) == 1:
        return _single(ctx, model, active[0], scales)
    if normalise:
        table = {o: objective_values(ctx, _single(ctx, model, o, scales)) for o in OBJECTIVES}
        divisors = _ranges(table, scales)
    else:
        divisors = dict(scales)
    return _solve(ctx, model, _scalarised(model, weights, divisors, scales))


# ----------------------------------------------------------------------------------------------
# An independent feasibility check (plain numpy, no solver)


def placement_violations(ctx: PlacementContext, placement: Placement, tol: float = 1e-6) -> list[str]:
    """Every constraint of the optimiser that ``placement`` breaks (empty list: feasible).

    Args:
        ctx: the context.
        placement: any placement.
        tol: absolute/relative tolerance.

    Returns:
        One human-readable line per violated constraint.
    """
    out: list[str] = []
    x, y = placement.store, placement.serve
    store_ok = store_eligible(ctx)
    if (x < -tol).any() or (x > 1 + tol).any():
        out.append("store entries outside [0, 1]")
    if (y < -tol).any():
        out.append("negative serving share")
    if (np.where(store_ok, 0.0, x) > tol).any():
        out.append("copies on ineligible sites (unavailable, or outside the zone of residency-bound data)")
    if not np.allclose(x.sum(axis=2), np.asarray(ctx.replicas, float)[None, :], atol=tol):
        out.append("copies do not sum to the replica count")
    if not np.allclose(y.sum(axis=1), 1.0, atol=tol):
        out.append("serving shares do not sum to 1")
    if (np.where(serve_eligible(ctx), 0.0, y) > tol).any():
        out.append("requests served by an ineligible site")
    stored_pb = np.einsum("ck,cks->s", ctx.volume_gb, x) / GB_PER_PB
    if (stored_pb > ctx.site_storage_pb * (1 + tol) + tol).any():
        out.append("storage capacity exceeded")
    it = ctx.compute_mw @ y + stored_pb * GB_PER_PB * ctx.storage_w_per_gb / 1e6
    if (it > ctx.site_it_mw * (1 + tol) + tol).any():
        out.append("IT power exceeded")
    for k in np.flatnonzero(ctx.class_distinct_countries):
        for g in set(ctx.site_country):
            sites = [s for s, cc in enumerate(ctx.site_country) if cc == g]
            if (x[:, k, sites].sum(axis=1) > 1 + tol).any():
                out.append(f"two copies of {ctx.classes[k]} in {g}")
    far = ctx.rtt_ms > ctx.max_rtt_ms[:, None]
    if ((y * far).sum(axis=1) > RTT_TAIL_SHARE + tol).any():
        out.append("p95 RTT bound broken")
    for k in np.flatnonzero(ctx.class_bound):
        if (y > x[:, k, :] + tol).any():
            out.append(f"requests served away from the {ctx.classes[k]} copy")
    return out


# ----------------------------------------------------------------------------------------------
# Registered policies


class _Optimising:
    """Common ``place`` of the optimising policies."""

    name = "optimising"
    weights: dict[str, float] | None = None  # None: use ctx.weights

    def place(self, ctx: PlacementContext) -> Placement:
        """Solve the LP for this policy's objective (see the module docstring)."""
        return optimise(ctx, self.weights)


@register_policy("cost_optimal")
class CostOptimal(_Optimising):
    """Least yearly cost (EUR) subject to residency, capacity, replica and RTT constraints."""

    weights = {"cost": 1.0, "carbon": 0.0, "latency": 0.0}


@register_policy("carbon_optimal")
class CarbonOptimal(_Optimising):
    """Least yearly CO2 (tonnes) subject to the same constraints."""

    weights = {"cost": 0.0, "carbon": 1.0, "latency": 0.0}


@register_policy("latency_optimal")
class LatencyOptimal(_Optimising):
    """Least request-weighted mean round trip (ms) subject to the same constraints."""

    weights = {"cost": 0.0, "carbon": 0.0, "latency": 1.0}


@register_policy("weighted")
class Weighted(_Optimising):
    """Weighted sum of the range-normalised objectives, weights from ``policy.weights``."""

    weights = None

