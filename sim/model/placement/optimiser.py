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
* ``residency``: EEA-only classes have no copy on a non-EEA site; nothing on unavailable sites;
* ``distinct countries``: where a class asks for it, the copies on the sites of one country sum
  to <= 1;
* ``serving``: each country's serving shares sum to 1; and a request is served only where the
  requester's residency-restricted data is: ``serve[c, s] <= store[c, k, s]`` for every EEA-only
  class k (so requests touching protected data are processed inside the EEA, next to a copy);
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
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import linprog

from sim.model.placement.policy import InfeasiblePlacement, NoSiteAvailable, Placement, PlacementContext, register_policy
from sim.reference.units import YEAR_H

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

#: The objectives, in the order used by weight vectors and payoff tables.
OBJECTIVES: tuple[str, ...] = ("cost", "carbon", "latency")
#: Share of a country's requests that may exceed its p95 round-trip bound.
RTT_TAIL_SHARE = 0.05
_TIE_BREAK = 1e-5
_GB_PER_PB = 1e6
_TOL = 1e-6
#: HiGHS options: presolve off - on these LPs it costs more than it saves (the 200 x 10 x 30
#: latency problem solves in 0.3 s without it, 4-5 s with it).
_HIGHS = {"presolve": False}


# ----------------------------------------------------------------------------------------------
# The linear programme


@dataclass(frozen=True)
class _Model:
    """Coefficients and index maps of one context's LP (x = store flattened (c, k, s), then y =
    serve flattened (c, s)).
    """

    C: int
    K: int
    S: int
    objectives: dict[str, NDArray[np.float64]]  # full-length coefficient vectors
    upper: NDArray[np.float64]
    a_eq: sp.csr_matrix
    b_eq: NDArray[np.float64]
    a_ub: sp.csr_matrix
    b_ub: NDArray[np.float64]
    families: list[tuple[str, int, int]]  # (family, first row in a_ub / a_eq, stop), "eq:" prefix for a_eq
    rtt_countries: NDArray[np.int64]  # country of each "rtt" row

    @property
    def nx(self) -> int:
        return self.C * self.K * self.S

    def split(self, z: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Solver vector -> (store (C, K, S), serve (C, S))."""
        store = z[: self.nx].reshape(self.C, self.K, self.S)
        serve = z[self.nx : self.nx + self.C * self.S].reshape(self.C, self.S)
        return store, serve


def _check_shapes(ctx: PlacementContext) -> None:
    C, K, S = len(ctx.countries), len(ctx.classes), len(ctx.sites)
    expected = {
        "class_eea_only": (K,),
        "replicas": (K,),
        "site_eea": (S,),
        "site_available": (S,),
        "site_it_mw": (S,),
        "rtt_ms": (C, S),
        "demand_share": (C,),
        "site_storage_pb": (S,),
        "site_energy_eur_per_it_kwh": (S,),
        "site_gco2_per_it_kwh": (S,),
        "volume_gb": (C, K),
        "compute_mw": (C,),
        "class_distinct_countries": (K,),
        "max_rtt_ms": (C,),
    }
    for name, shape in expected.items():
        got = np.shape(getattr(ctx, name))
        if got != shape:
            raise ValueError(
                f"PlacementContext.{name} has shape {got}, the optimiser needs {shape}; "
                "build the context with World._context (it fills every planning field)"
            )
    if len(ctx.site_country) != S:
        raise ValueError(f"PlacementContext.site_country has {len(ctx.site_country)} entries, expected {S}")


def _store_eligible(ctx: PlacementContext) -> NDArray[np.bool_]:
    """(K, S): where a class may have copies (available, and EEA for EEA-only classes)."""
    avail = np.asarray(ctx.site_available, bool)
    return avail[None, :] & (np.asarray(ctx.site_eea, bool)[None, :] | ~np.asarray(ctx.class_eea_only, bool)[:, None])


def _serve_eligible(ctx: PlacementContext) -> NDArray[np.bool_]:
    """(S,): where requests may be served (available; EEA if any class is EEA-only)."""
    avail = np.asarray(ctx.site_available, bool)
    if np.asarray(ctx.class_eea_only, bool).any():
        return avail & np.asarray(ctx.site_eea, bool)
    return avail


def _unit_coefficients(ctx: PlacementContext) -> dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Per objective: (cost of one GB-copy-year on each site (S,), of one compute MW-year (S,))."""
    price = np.asarray(ctx.site_energy_eur_per_it_kwh, float)
    gco2 = np.asarray(ctx.site_gco2_per_it_kwh, float)
    storage_kw_per_gb = ctx.storage_w_per_gb / 1000.0
    compute_kwh_per_mw = ctx.it_load_factor * YEAR_H * 1000.0
    storage_kwh_per_gb = storage_kw_per_gb * YEAR_H
    colo_per_kw_year = ctx.colocation_eur_per_kw_month * 12.0
    S = len(ctx.sites)
    return {
        "cost": (
            ctx.storage_eur_per_gb_year + storage_kw_per_gb * colo_per_kw_year + storage_kwh_per_gb * price,
            ctx.server_eur_per_mw_year + colo_per_kw_year * 1000.0 + compute_kwh_per_mw * price,
        ),
        "carbon": (storage_kwh_per_gb * gco2 / 1e6, compute_kwh_per_mw * gco2 / 1e6),
        "latency": (np.zeros(S), np.zeros(S)),
    }


def _demand(ctx: PlacementContext) -> NDArray[np.float64]:
    d = np.asarray(ctx.demand_share, float)
    total = d.sum()
    return d / total if total > 0 else np.full(len(d), 1.0 / max(len(d), 1))


def objective_values(ctx: PlacementContext, placement: Placement) -> dict[str, float]:
    """The three objectives of any placement (not only optimised ones), computed directly.

    Args:
        ctx: the context the placement was made for.
        placement: serving shares and copies.

    Returns:
        ``{"cost": EUR/yr, "carbon": t CO2/yr, "latency": request-weighted mean RTT in ms}``.
    """
    _check_shapes(ctx)
    units = _unit_coefficients(ctx)
    vol = np.asarray(ctx.volume_gb, float)
    mw = np.asarray(ctx.compute_mw, float)
    stored_gb = np.einsum("ck,cks->s", vol, placement.store)
    served_mw = mw @ placement.serve
    out = {name: float(stored_gb @ per_gb + served_mw @ per_mw) for name, (per_gb, per_mw) in units.items()}
    out["latency"] = float(_demand(ctx) @ (placement.serve * ctx.rtt_ms).sum(axis=1))
    return out


class _Rows:
    """Accumulates sparse ``<=`` rows by constraint family."""

    def __init__(self) -> None:
        self.rows: list[NDArray[np.int64]] = []
        self.cols: list[NDArray[np.int64]] = []
        self.vals: list[NDArray[np.float64]] = []
        self.rhs: list[NDArray[np.float64]] = []
        self.families: list[tuple[str, int, int]] = []
        self.n = 0

    def add(
        self, family: str, r: NDArray[np.int64], c: NDArray[np.int64], v: NDArray[np.float64], b: NDArray[np.float64]
    ) -> None:
        """Rows ``n + r`` get ``v`` in columns ``c``; ``b`` are their right-hand sides."""
        self.rows.append(self.n + np.asarray(r))
        self.cols.append(np.asarray(c))
        self.vals.append(np.asarray(v, float))
        self.rhs.append(np.asarray(b, float))
        self.families.append((family, self.n, self.n + len(b)))
        self.n += len(b)

    def matrix(self, n_cols: int) -> tuple[sp.csr_matrix, NDArray[np.float64]]:
        data = (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols)))
        return sp.csr_matrix(data, shape=(self.n, n_cols)), np.concatenate(self.rhs)


def _objective_vectors(
    ctx: PlacementContext, vol: NDArray[np.float64], mw: NDArray[np.float64]
) -> dict[str, NDArray[np.float64]]:
    """Full-length coefficient vectors (store then serve) of each objective, per year."""
    out = {}
    for name, (per_gb, per_mw) in _unit_coefficients(ctx).items():
        out[name] = np.concatenate([(vol[:, :, None] * per_gb[None, None, :]).ravel(), np.outer(mw, per_mw).ravel()])
    nx = vol.size * len(ctx.sites)
    out["latency"][nx:] = (_demand(ctx)[:, None] * np.asarray(ctx.rtt_ms, float)).ravel()
    return out


def _capacity_rows(ctx: PlacementContext, rows: _Rows, xi: NDArray[np.int64], yi: NDArray[np.int64]) -> None:
    """Storage (PB) and IT power (MW) per site."""
    C, K, S = xi.shape
    vol = np.asarray(ctx.volume_gb, float)
    site_of_x = np.broadcast_to(np.arange(S), (C, K, S)).ravel()
    site_of_y = np.broadcast_to(np.arange(S), (C, S)).ravel()
    pb = np.broadcast_to(vol[:, :, None] / _GB_PER_PB, (C, K, S)).ravel()
    rows.add("storage", site_of_x, xi.ravel(), pb, np.asarray(ctx.site_storage_pb, float))
    storage_mw = pb * _GB_PER_PB * ctx.storage_w_per_gb / 1e6
    compute_mw = np.broadcast_to(np.asarray(ctx.compute_mw, float)[:, None], (C, S)).ravel()
    rows.add(
        "it_power",
        np.concatenate([site_of_x, site_of_y]),
        np.concatenate([xi.ravel(), yi.ravel()]),
        np.concatenate([storage_mw, compute_mw]),
        np.asarray(ctx.site_it_mw, float),
    )


def _distinct_country_rows(ctx: PlacementContext, rows: _Rows, xi: NDArray[np.int64]) -> None:
    """Copies of a class on the sites of one country sum to <= 1, where the class asks for it."""
    site_country = np.asarray(ctx.site_country, dtype=object)
    groups = [g for g in (np.flatnonzero(site_country == c) for c in dict.fromkeys(ctx.site_country)) if len(g) >= 2]
    classes = np.flatnonzero(np.asarray(ctx.class_distinct_countries, bool))
    blocks = [xi[:, k, g] for k in classes for g in groups]  # each (C, len(g))
    if not blocks:
        return
    r = np.concatenate([np.repeat(i * xi.shape[0] + np.arange(xi.shape[0]), b.shape[1]) for i, b in enumerate(blocks)])
    c = np.concatenate([b.ravel() for b in blocks])
    rows.add("distinct_countries", r, c, np.ones(len(c)), np.ones(len(blocks) * xi.shape[0]))


def _rtt_countries(ctx: PlacementContext) -> NDArray[np.int64]:
    """Countries whose p95 bound excludes at least one site they could be served from."""
    far = np.asarray(ctx.rtt_ms, float) > np.asarray(ctx.max_rtt_ms, float)[:, None]
    return np.flatnonzero(np.isfinite(ctx.max_rtt_ms) & (far & _serve_eligible(ctx)[None, :]).any(axis=1))


def _rtt_rows(ctx: PlacementContext, rows: _Rows, yi: NDArray[np.int64], bounded: NDArray[np.int64]) -> None:
    """Share of a bounded country's requests served above its bound <= 5 %."""
    if not len(bounded):
        return
    far = np.asarray(ctx.rtt_ms, float) > np.asarray(ctx.max_rtt_ms, float)[:, None]
    cols = [yi[c, far[c]] for c in bounded]
    r = np.concatenate([np.full(len(v), i) for i, v in enumerate(cols)])
    rows.add("rtt", r, np.concatenate(cols), np.ones(len(r)), np.full(len(bounded), RTT_TAIL_SHARE))


def _colocation_rows(ctx: PlacementContext, rows: _Rows, xi: NDArray[np.int64], yi: NDArray[np.int64]) -> None:
    """serve[c, s] - store[c, k, s] <= 0 for every EEA-only class k and usable serving site s."""
    ek = np.flatnonzero(np.asarray(ctx.class_eea_only, bool))
    sv = np.flatnonzero(_serve_eligible(ctx))
    if not len(ek) or not len(sv):
        return
    C = xi.shape[0]
    m = C * len(ek) * len(sv)
    r = np.arange(m)
    y_cols = np.broadcast_to(yi[:, None, sv], (C, len(ek), len(sv))).ravel()
    x_cols = xi[:, ek][:, :, sv].ravel()
    rows.add("colocation", np.r_[r, r], np.r_[y_cols, x_cols], np.r_[np.ones(m), -np.ones(m)], np.zeros(m))


def _build(ctx: PlacementContext) -> _Model:
    """Assemble objective vectors, bounds and sparse constraint matrices."""
    C, K, S = len(ctx.countries), len(ctx.classes), len(ctx.sites)
    nx, ny = C * K * S, C * S
    xi = np.arange(nx).reshape(C, K, S)
    yi = nx + np.arange(ny).reshape(C, S)
    vol = np.asarray(ctx.volume_gb, float)
    objectives = _objective_vectors(ctx, vol, np.asarray(ctx.compute_mw, float))
    store_ok, serve_ok = _store_eligible(ctx), _serve_eligible(ctx)
    upper = np.r_[np.broadcast_to(store_ok[None], (C, K, S)).ravel(), np.broadcast_to(serve_ok[None], (C, S)).ravel()]

    # equalities: replicas per (country, class), then serving shares per country
    eq_rows = np.r_[np.repeat(np.arange(C * K), S), C * K + np.repeat(np.arange(C), S)]
    a_eq = sp.csr_matrix((np.ones(nx + ny), (eq_rows, np.r_[xi.ravel(), yi.ravel()])), shape=(C * K + C, nx + ny))
    b_eq = np.r_[np.tile(np.asarray(ctx.replicas, float), C), np.ones(C)]
    families = [("eq:replicas", 0, C * K), ("eq:serving", C * K, C * K + C)]

    rows = _Rows()
    _capacity_rows(ctx, rows, xi, yi)
    _distinct_country_rows(ctx, rows, xi)
    bounded = _rtt_countries(ctx)
    _rtt_rows(ctx, rows, yi, bounded)
    _colocation_rows(ctx, rows, xi, yi)
    a_ub, b_ub = rows.matrix(nx + ny)
    return _Model(C, K, S, objectives, upper.astype(float), a_eq, b_eq, a_ub, b_ub, families + rows.families, bounded)


# ----------------------------------------------------------------------------------------------
# Infeasibility explanations


def _site_list(ctx: PlacementContext, mask: NDArray[np.bool_]) -> str:
    names = [s for s, ok in zip(ctx.sites, mask, strict=True) if ok]
    return ", ".join(names) if names else "none"


def _structural_reasons(ctx: PlacementContext) -> list[str]:
    """Causes visible without solving: too few eligible sites or countries, unreachable bounds."""
    reasons: list[str] = []
    store_ok = _store_eligible(ctx)
    for k, name in enumerate(ctx.classes):
        need = int(ctx.replicas[k])
        where = "available EEA sites" if ctx.class_eea_only[k] else "available sites"
        n_sites = int(store_ok[k].sum())
        if need > n_sites:
            reasons.append(
                f"replicas: {name} needs {need} copies on distinct {where} but only {n_sites} "
                f"{'is' if n_sites == 1 else 'are'} available ({_site_list(ctx, store_ok[k])})"
            )
            continue
        if ctx.class_distinct_countries[k]:
            countries = sorted({ctx.site_country[s] for s in np.flatnonzero(store_ok[k])})
            if need > len(countries):
                reasons.append(
                    f"distinct countries: {name} needs {need} copies in distinct countries but the {where} "
                    f"are in only {len(countries)} ({', '.join(countries)})"
                )
    serve_ok = _serve_eligible(ctx)
    rtt = np.asarray(ctx.rtt_ms, float)
    for c, code in enumerate(ctx.countries):
        bound = float(ctx.max_rtt_ms[c])
        if not np.isfinite(bound) or not serve_ok.any():
            continue
        if not (serve_ok & (rtt[c] <= bound)).any():
            best = int(np.argmin(np.where(serve_ok, rtt[c], np.inf)))
            reasons.append(
                f"rtt: {code} p95 RTT <= {bound:g} ms cannot be met by any available site "
                f"(nearest usable: {ctx.sites[best]} at {rtt[c, best]:.1f} ms)"
            )
    return reasons


def _binding_reasons(
    ctx: PlacementContext, model: _Model, res: object, lhs: NDArray[np.float64], slack: NDArray[np.float64]
) -> list[str]:
    """Capacity rows that hold exactly but whose shadow price in the elastic problem is nonzero:
    relaxing them would reduce the violation elsewhere, so they are part of the cause.
    """
    duals = np.abs(np.asarray(res.ineqlin.marginals, float))  # type: ignore[attr-defined]
    fam = {f: (a, b) for f, a, b in model.families}
    out: list[str] = []
    units = {"storage": ("storage", "PB", "capacity"), "it_power": ("IT power", "MW", "contracted")}
    for f, (label, unit, what) in units.items():
        a, _ = fam[f]
        for s in range(model.S):
            r = a + s
            if duals[r] > 1e-9 and slack[r] <= _TOL * max(1.0, model.b_ub[r]) and ctx.site_available[s]:
                out.append(f"{label} at {ctx.sites[s]} is full ({lhs[r]:,.2f} {unit} of {model.b_ub[r]:,.2f} {unit} {what})")
    if "colocation" in fam:
        a, b = fam["colocation"]
        if (duals[a:b] > 1e-9).any() and out:
            names = ", ".join(k for k, e in zip(ctx.classes, ctx.class_eea_only, strict=True) if e)
            out.append(f"requests are served only next to a copy of their EEA-only data ({names})")
    return out


def _elastic_solve(ctx: PlacementContext, model: _Model) -> tuple[object, NDArray[np.float64], NDArray[np.float64]]:
    """The LP with a slack column on every row, minimising the weighted slack.

    Capacity overflow is weighted relative to the capacity (so a 10 % overflow counts the same at
    every site), an RTT excess per share of requests; missing copies or unserved requests and the
    structural families (distinct countries, colocation) cost 1000 so the explanation prefers
    the capacity and RTT families that planners can act on.

    Returns:
        The solver result, the ``<=`` slack (per row of ``a_ub``) and the ``==`` shortfall.
    """
    n = len(model.upper)
    n_ub, n_eq = model.a_ub.shape[0], model.a_eq.shape[0]
    weights_ub = np.full(n_ub, 1e3)
    for f, a, b in model.families:
        if f == "storage":
            weights_ub[a:b] = 1.0 / np.maximum(np.asarray(ctx.site_storage_pb, float), 1e-9)
        elif f == "it_power":
            weights_ub[a:b] = 1.0 / np.maximum(np.asarray(ctx.site_it_mw, float), 1e-9)
        elif f == "rtt":
            weights_ub[a:b] = 1.0
    a_ub = sp.hstack([model.a_ub, -sp.identity(n_ub, format="csr"), sp.csr_matrix((n_ub, n_eq))], format="csr")
    a_eq = sp.hstack([model.a_eq, sp.csr_matrix((n_eq, n_ub)), sp.identity(n_eq, format="csr")], format="csr")
    cost = np.concatenate([np.zeros(n), weights_ub, np.full(n_eq, 1e3)])
    bounds = np.c_[np.zeros(len(cost)), np.concatenate([model.upper, np.full(n_ub, np.inf), model.b_eq])]
    res = linprog(cost, A_ub=a_ub, b_ub=model.b_ub, A_eq=a_eq, b_eq=model.b_eq, bounds=bounds, method="highs", options=_HIGHS)
    if res.status != 0:
        return res, np.zeros(n_ub), np.zeros(n_eq)
    return res, res.x[n : n + n_ub], res.x[n + n_ub :]


def _over(slack: float, rhs: float) -> bool:
    return slack > _TOL * max(1.0, abs(rhs))


def _elastic_reasons(ctx: PlacementContext, model: _Model) -> list[str]:
    """Re-solve with slack on every family and name what needed slack, then what is full."""
    res, slack_ub, slack_eq = _elastic_solve(ctx, model)
    if res.status != 0:  # type: ignore[attr-defined]
        return [f"the solver could not diagnose the problem ({res.message})"]  # type: ignore[attr-defined]
    lhs = model.a_ub @ res.x[: len(model.upper)]  # type: ignore[attr-defined]
    b = model.b_ub
    fam = {f: (a, stop) for f, a, stop in model.families}
    reasons: list[str] = []
    a = fam["storage"][0]
    for s in range(model.S):
        if _over(slack_ub[a + s], b[a + s]):
            reasons.append(f"storage at {ctx.sites[s]}: needs {lhs[a + s]:,.1f} PB, capacity {b[a + s]:,.1f} PB")
    a = fam["it_power"][0]
    for s in range(model.S):
        if _over(slack_ub[a + s], b[a + s]):
            reasons.append(f"IT power at {ctx.sites[s]}: needs {lhs[a + s]:,.2f} MW, contracted {b[a + s]:,.2f} MW")
    a = fam.get("rtt", (0, 0))[0]
    for i, c in enumerate(model.rtt_countries):
        if slack_ub[a + i] > _TOL:
            reasons.append(
                f"rtt: {ctx.countries[c]} p95 RTT <= {ctx.max_rtt_ms[c]:g} ms needs 95 % of its requests on sites "
                f"within the bound, but with the capacity left only {100 * (1.0 - lhs[a + i]):.1f} % fit"
            )
    reasons += _binding_reasons(ctx, model, res, lhs, slack_ub)
    for f in ("distinct_countries", "colocation"):
        if f in fam and (slack_ub[fam[f][0] : fam[f][1]] > _TOL).any():
            count = int((slack_ub[fam[f][0] : fam[f][1]] > _TOL).sum())
            reasons.append(f"{f.replace('_', ' ')}: {count} constraint(s) cannot hold")
    reasons += _shortfall_reasons(ctx, model, slack_eq)
    return reasons or [f"the constraints cannot hold together (solver: {res.message})"]  # type: ignore[attr-defined]


def _shortfall_reasons(ctx: PlacementContext, model: _Model, slack_eq: NDArray[np.float64]) -> list[str]:
    """Missing copies and unserved requests in the elastic solution."""
    out = []
    short = slack_eq[: model.C * model.K].reshape(model.C, model.K)
    for k in range(model.K):
        bad = np.flatnonzero(short[:, k] > _TOL)
        if len(bad):
            names = ", ".join(ctx.countries[c] for c in bad[:6]) + (", ..." if len(bad) > 6 else "")
            out.append(
                f"replicas: {ctx.classes[k]} needs {int(ctx.replicas[k])} copies per country but up to "
                f"{short[bad, k].max():.2f} cannot be placed (countries {names})"
            )
    unserved = np.flatnonzero(slack_eq[model.C * model.K :] > _TOL)
    if len(unserved):
        out.append(f"serving: requests of {', '.join(ctx.countries[c] for c in unserved[:6])} cannot all be served")
    return out


# ----------------------------------------------------------------------------------------------
# Solving


def _solve(ctx: PlacementContext, model: _Model, objective: NDArray[np.float64]) -> Placement:
    res = linprog(
        objective,
        A_ub=model.a_ub,
        b_ub=model.b_ub,
        A_eq=model.a_eq,
        b_eq=model.b_eq,
        bounds=np.c_[np.zeros(len(model.upper)), model.upper],
        method="highs",
        options=_HIGHS,
    )
    if res.status == 2:
        raise InfeasiblePlacement(_elastic_reasons(ctx, model))
    if res.status != 0:
        raise RuntimeError(f"HiGHS did not solve the placement LP: {res.message}")
    store, serve = model.split(np.asarray(res.x, float))
    store = np.clip(store, 0.0, 1.0)
    serve = np.clip(serve, 0.0, None)
    serve = serve / serve.sum(axis=1, keepdims=True)
    return Placement(serve=serve, store=store)


def _prepare(ctx: PlacementContext) -> _Model:
    _check_shapes(ctx)
    if not np.asarray(ctx.site_available, bool).any():
        raise NoSiteAvailable("no site among policy.sites is available")
    reasons = _structural_reasons(ctx)
    if reasons:
        raise InfeasiblePlacement(reasons)
    return _build(ctx)


def _reference_scales(ctx: PlacementContext, model: _Model) -> dict[str, float]:
    """Magnitude of each objective at a uniform spread over the eligible sites (tie-breaking)."""
    store_ok = _store_eligible(ctx).astype(float)
    serve_ok = _serve_eligible(ctx).astype(float)
    x = np.broadcast_to(store_ok / np.maximum(store_ok.sum(axis=1, keepdims=True), 1.0), (model.C, model.K, model.S))
    x = x * np.asarray(ctx.replicas, float)[None, :, None]
    y = np.broadcast_to(serve_ok / max(serve_ok.sum(), 1.0), (model.C, model.S))
    z = np.concatenate([x.ravel(), y.ravel()])
    return {name: float(model.objectives[name] @ z) or 1.0 for name in OBJECTIVES}


def _scalarised(
    model: _Model, weights: Mapping[str, float], divisors: Mapping[str, float], scales: Mapping[str, float]
) -> NDArray[np.float64]:
    """sum_i w_i f_i / divisor_i (weights rescaled to sum 1) + 1e-5 sum_i f_i / scale_i (tie-break)."""
    w = {o: max(float(weights.get(o, 0.0)), 0.0) for o in OBJECTIVES}
    total = sum(w.values()) or 1.0
    vec = np.zeros(len(model.upper))
    for o in OBJECTIVES:
        vec += (w[o] / total) * model.objectives[o] / divisors[o] + _TIE_BREAK * model.objectives[o] / scales[o]
    return vec


def _single(ctx: PlacementContext, model: _Model, objective: str, scales: Mapping[str, float]) -> Placement:
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
    store_ok = _store_eligible(ctx)
    if (x < -tol).any() or (x > 1 + tol).any():
        out.append("store entries outside [0, 1]")
    if (y < -tol).any():
        out.append("negative serving share")
    if (np.where(store_ok[None], 0.0, x) > tol).any():
        out.append("copies on ineligible sites (unavailable, or non-EEA for EEA-only data)")
    if not np.allclose(x.sum(axis=2), np.asarray(ctx.replicas, float)[None, :], atol=tol):
        out.append("copies do not sum to the replica count")
    if not np.allclose(y.sum(axis=1), 1.0, atol=tol):
        out.append("serving shares do not sum to 1")
    if (y[:, ~_serve_eligible(ctx)] > tol).any():
        out.append("requests served by an ineligible site")
    stored_pb = np.einsum("ck,cks->s", ctx.volume_gb, x) / _GB_PER_PB
    if (stored_pb > ctx.site_storage_pb * (1 + tol) + tol).any():
        out.append("storage capacity exceeded")
    it = ctx.compute_mw @ y + stored_pb * _GB_PER_PB * ctx.storage_w_per_gb / 1e6
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
    for k in np.flatnonzero(ctx.class_eea_only):
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
