"""The placement LP: variables, coefficients and constraint rows (built, not solved).

See :mod:`sim.model.placement.optimiser` for the programme (store[c, k, s], serve[c, s]; C
countries, K classes, S sites), its constraint families and objectives. Units: EUR/yr, t CO2/yr,
ms, GB, MW.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from sim.model.placement.policy import Placement, PlacementContext
from sim.reference.units import YEAR_H

__all__ = [
    "OBJECTIVES",
    "RTT_TAIL_SHARE",
    "TIE_BREAK",
    "GB_PER_PB",
    "TOL",
    "HIGHS_OPTIONS",
    "LPModel",
    "check_shapes",
    "store_eligible",
    "serve_eligible",
    "objective_values",
    "build_lp",
]

#: The objectives, in the order used by weight vectors and payoff tables.
OBJECTIVES: tuple[str, ...] = ("cost", "carbon", "latency")
#: Share of a country's requests that may exceed its p95 round-trip bound.
RTT_TAIL_SHARE = 0.05
TIE_BREAK = 1e-5
GB_PER_PB = 1e6
TOL = 1e-6
#: HiGHS options: presolve off - on these LPs it costs more than it saves (the 200 x 10 x 30
#: latency problem solves in 0.3 s without it, 4-5 s with it).
HIGHS_OPTIONS = {"presolve": False}


# ----------------------------------------------------------------------------------------------
# The linear programme


@dataclass(frozen=True)
class LPModel:
    """Coefficients and index maps of one context's LP.

    The variables are x = store flattened (c, k, s), then y = serve flattened (c, s).
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
        """Number of store variables (C x K x S)."""
        return self.C * self.K * self.S

    def split(self, z: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Solver vector -> (store (C, K, S), serve (C, S))."""
        store = z[: self.nx].reshape(self.C, self.K, self.S)
        serve = z[self.nx : self.nx + self.C * self.S].reshape(self.C, self.S)
        return store, serve


def check_shapes(ctx: PlacementContext) -> None:
    """Raise ValueError if an array of the context does not have the shape its axes imply."""
    C, K, S = len(ctx.countries), len(ctx.classes), len(ctx.sites)
    expected = {
        "class_bound": (K,),
        "replicas": (K,),
        "allowed": (C, K, S),
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


def store_eligible(ctx: PlacementContext) -> NDArray[np.bool_]:
    """(C, K, S): where a country's class may have copies (available, and inside its zone if it has one)."""
    avail = np.asarray(ctx.site_available, bool)
    free = ~np.asarray(ctx.class_bound, bool)
    return avail[None, None, :] & (np.asarray(ctx.allowed, bool) | free[None, :, None])


def serve_eligible(ctx: PlacementContext) -> NDArray[np.bool_]:
    """(C, S): where a country's requests may be served (available, inside the zones of all its bound classes)."""
    return np.asarray(ctx.site_available, bool)[None, :] & ctx.enclave


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
    check_shapes(ctx)
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
    pb = np.broadcast_to(vol[:, :, None] / GB_PER_PB, (C, K, S)).ravel()
    rows.add("storage", site_of_x, xi.ravel(), pb, np.asarray(ctx.site_storage_pb, float))
    storage_mw = pb * GB_PER_PB * ctx.storage_w_per_gb / 1e6
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
    return np.flatnonzero(np.isfinite(ctx.max_rtt_ms) & (far & serve_eligible(ctx)).any(axis=1))


def _rtt_rows(ctx: PlacementContext, rows: _Rows, yi: NDArray[np.int64], bounded: NDArray[np.int64]) -> None:
    """Share of a bounded country's requests served above its bound <= 5 %."""
    if not len(bounded):
        return
    far = np.asarray(ctx.rtt_ms, float) > np.asarray(ctx.max_rtt_ms, float)[:, None]
    cols = [yi[c, far[c]] for c in bounded]
    r = np.concatenate([np.full(len(v), i) for i, v in enumerate(cols)])
    rows.add("rtt", r, np.concatenate(cols), np.ones(len(r)), np.full(len(bounded), RTT_TAIL_SHARE))


def _colocation_rows(ctx: PlacementContext, rows: _Rows, xi: NDArray[np.int64], yi: NDArray[np.int64]) -> None:
    """serve[c, s] - store[c, k, s] <= 0 for every residency-bound class k and usable serving site s of c."""
    bound = np.asarray(ctx.class_bound, bool)
    pairs = bound[None, :, None] & serve_eligible(ctx)[:, None, :]  # (C, K, S)
    if not pairs.any():
        return
    c_idx, k_idx, s_idx = np.nonzero(pairs)
    m = len(c_idx)
    r = np.arange(m)
    y_cols = yi[c_idx, s_idx]
    x_cols = xi[c_idx, k_idx, s_idx]
    rows.add("colocation", np.r_[r, r], np.r_[y_cols, x_cols], np.r_[np.ones(m), -np.ones(m)], np.zeros(m))


def build_lp(ctx: PlacementContext) -> LPModel:
    """Assemble objective vectors, bounds and sparse constraint matrices."""
    C, K, S = len(ctx.countries), len(ctx.classes), len(ctx.sites)
    nx, ny = C * K * S, C * S
    xi = np.arange(nx).reshape(C, K, S)
    yi = nx + np.arange(ny).reshape(C, S)
    vol = np.asarray(ctx.volume_gb, float)
    objectives = _objective_vectors(ctx, vol, np.asarray(ctx.compute_mw, float))
    store_ok, serve_ok = store_eligible(ctx), serve_eligible(ctx)
    upper = np.r_[store_ok.ravel(), serve_ok.ravel()]

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
    return LPModel(C, K, S, objectives, upper.astype(float), a_eq, b_eq, a_ub, b_ub, families + rows.families, bounded)


