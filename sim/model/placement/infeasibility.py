"""Why a placement LP is infeasible: structural causes, then an elastic re-solve.

The re-solve names the binding constraint families (see :mod:`sim.model.placement.optimiser`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import linprog

from sim.model.placement.lp import HIGHS_OPTIONS, TOL, LPModel, serve_eligible, store_eligible
from sim.model.placement.policy import PlacementContext

__all__ = ["structural_reasons", "elastic_reasons"]

# ----------------------------------------------------------------------------------------------
# Infeasibility explanations


def _site_list(ctx: PlacementContext, mask: NDArray[np.bool_]) -> str:
    names = [s for s, ok in zip(ctx.sites, mask, strict=True) if ok]
    return ", ".join(names) if names else "none"


def structural_reasons(ctx: PlacementContext) -> list[str]:
    """Causes visible without solving: too few eligible sites or countries, unreachable bounds."""
    reasons: list[str] = []
    store_ok = store_eligible(ctx)  # (C, K, S)
    for k, name in enumerate(ctx.classes):
        need = int(ctx.replicas[k])
        where = "available sites in its zone" if ctx.class_bound[k] else "available sites"
        groups: dict[bytes, list[int]] = {}
        for c in range(len(ctx.countries)):
            groups.setdefault(store_ok[c, k].tobytes(), []).append(c)
        for members in groups.values():
            ok = store_ok[members[0], k]
            users = "" if len(members) == len(ctx.countries) else (
                " of users in " + ", ".join(ctx.countries[c] for c in members[:6]) + (", ..." if len(members) > 6 else ""))
            n_sites = int(ok.sum())
            if need > n_sites:
                reasons.append(
                    f"replicas: {name}{users} needs {need} copies on distinct {where} but only "
                    f"{n_sites} {'is' if n_sites == 1 else 'are'} available ({_site_list(ctx, ok)})"
                )
                continue
            if ctx.class_distinct_countries[k]:
                countries = sorted({ctx.site_country[s] for s in np.flatnonzero(ok)})
                if need > len(countries):
                    reasons.append(
                        f"distinct countries: {name}{users} needs {need} copies in distinct countries "
                        f"but the {where} are in only {len(countries)} ({', '.join(countries)})"
                    )
    serve_ok = serve_eligible(ctx)  # (C, S)
    rtt = np.asarray(ctx.rtt_ms, float)
    for c, code in enumerate(ctx.countries):
        bound = float(ctx.max_rtt_ms[c])
        if not np.isfinite(bound) or not serve_ok[c].any():
            continue
        if not (serve_ok[c] & (rtt[c] <= bound)).any():
            best = int(np.argmin(np.where(serve_ok[c], rtt[c], np.inf)))
            reasons.append(
                f"rtt: {code} p95 RTT <= {bound:g} ms cannot be met by any available site "
                f"(nearest usable: {ctx.sites[best]} at {rtt[c, best]:.1f} ms)"
            )
    return reasons


def _binding_reasons(
    ctx: PlacementContext, model: LPModel, res: object, lhs: NDArray[np.float64], slack: NDArray[np.float64]
) -> list[str]:
    """Capacity rows that hold exactly but whose shadow price in the elastic problem is nonzero.

    Relaxing them would reduce the violation elsewhere, so they are part of the cause.
    """
    duals = np.abs(np.asarray(res.ineqlin.marginals, float))  # type: ignore[attr-defined]
    fam = {f: (a, b) for f, a, b in model.families}
    out: list[str] = []
    units = {"storage": ("storage", "PB", "capacity"), "it_power": ("IT power", "MW", "contracted")}
    for f, (label, unit, what) in units.items():
        a, _ = fam[f]
        for s in range(model.S):
            r = a + s
            if duals[r] > 1e-9 and slack[r] <= TOL * max(1.0, model.b_ub[r]) and ctx.site_available[s]:
                out.append(f"{label} at {ctx.sites[s]} is full ({lhs[r]:,.2f} {unit} of {model.b_ub[r]:,.2f} {unit} {what})")
    if "colocation" in fam:
        a, b = fam["colocation"]
        if (duals[a:b] > 1e-9).any() and out:
            names = ", ".join(k for k, e in zip(ctx.classes, ctx.class_bound, strict=True) if e)
            out.append(f"requests are served only next to a copy of their residency-bound data ({names})")
    return out


def _elastic_solve(ctx: PlacementContext, model: LPModel) -> tuple[object, NDArray[np.float64], NDArray[np.float64]]:
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
    res = linprog(cost, A_ub=a_ub, b_ub=model.b_ub, A_eq=a_eq, b_eq=model.b_eq, bounds=bounds, method="highs", options=HIGHS_OPTIONS)
    if res.status != 0:
        return res, np.zeros(n_ub), np.zeros(n_eq)
    return res, res.x[n : n + n_ub], res.x[n + n_ub :]


def _over(slack: float, rhs: float) -> bool:
    return slack > TOL * max(1.0, abs(rhs))


def elastic_reasons(ctx: PlacementContext, model: LPModel) -> list[str]:
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
        if slack_ub[a + i] > TOL:
            reasons.append(
                f"rtt: {ctx.countries[c]} p95 RTT <= {ctx.max_rtt_ms[c]:g} ms needs 95 % of its requests on sites "
                f"within the bound, but with the capacity left only {100 * (1.0 - lhs[a + i]):.1f} % fit"
            )
    reasons += _binding_reasons(ctx, model, res, lhs, slack_ub)
    for f in ("distinct_countries", "colocation"):
        if f in fam and (slack_ub[fam[f][0] : fam[f][1]] > TOL).any():
            count = int((slack_ub[fam[f][0] : fam[f][1]] > TOL).sum())
            reasons.append(f"{f.replace('_', ' ')}: {count} constraint(s) cannot hold")
    reasons += _shortfall_reasons(ctx, model, slack_eq)
    return reasons or [f"the constraints cannot hold together (solver: {res.message})"]  # type: ignore[attr-defined]


def _shortfall_reasons(ctx: PlacementContext, model: LPModel, slack_eq: NDArray[np.float64]) -> list[str]:
    """Missing copies and unserved requests in the elastic solution."""
    out = []
    short = slack_eq[: model.C * model.K].reshape(model.C, model.K)
    for k in range(model.K):
        bad = np.flatnonzero(short[:, k] > TOL)
        if len(bad):
            names = ", ".join(ctx.countries[c] for c in bad[:6]) + (", ..." if len(bad) > 6 else "")
            out.append(
                f"replicas: {ctx.classes[k]} needs {int(ctx.replicas[k])} copies per country but up to "
                f"{short[bad, k].max():.2f} cannot be placed (countries {names})"
            )
    unserved = np.flatnonzero(slack_eq[model.C * model.K :] > TOL)
    if len(unserved):
        out.append(f"serving: requests of {', '.join(ctx.countries[c] for c in unserved[:6])} cannot all be served")
    return out


