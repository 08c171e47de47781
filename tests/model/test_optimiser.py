"""Optimising placement policies.

Feasibility, optimality against the reference policies, properties over random contexts,
infeasibility explanations and an end-to-end run.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim.model.placement.optimiser as opt  # registers the optimising policies
from sim import simulate
from sim.model.placement.policy import POLICIES, NoSiteAvailable, Placement, PlacementContext, get_policy
from sim.model.world import World
from sim.scenario import Scenario
from tests.conftest import SCENARIOS, short

OPTIMISERS = ("cost_optimal", "carbon_optimal", "latency_optimal", "weighted")
OWN_OBJECTIVE = {"cost_optimal": "cost", "carbon_optimal": "carbon", "latency_optimal": "latency"}
#: Words one of which every infeasibility message names (a constraint family).
CONSTRAINT_WORDS = ("replicas", "distinct countries", "storage", "IT power", "rtt", "serving", "colocation", "copies")


def planning_context(scenario: Scenario) -> PlacementContext:
    """The context the world hands the policy at the start of a run (stock included)."""
    world = World(scenario, np.random.SeedSequence(0))
    sc = scenario
    mau0 = np.array([sc.population.mau * sc.population.country_shares[c] for c in world.countries])
    initial = np.array([sc.data_classes[k].initial_gb_per_mau for k in world.classes])
    world._volume_gb = mau0[:, None] * initial[None, :]  # as World.run does before the first decision
    return world._context(0)


@pytest.fixture(scope="module")
def clover_ctx() -> PlacementContext:
    return planning_context(short("clover.toml", days=3))


def violations(ctx: PlacementContext, p: Placement, tol: float = 1e-6) -> list[str]:
    """Every constraint, checked with plain numpy from the context alone (not the solver's rows)."""
    out = []
    x, y = p.store, p.serve
    C, K, S = len(ctx.countries), len(ctx.classes), len(ctx.sites)
    assert x.shape == (C, K, S) and y.shape == (C, S)
    if x.min() < -tol or x.max() > 1 + tol:
        out.append("copy share outside [0, 1]")
    if y.min() < -tol:
        out.append("negative serving share")
    for k in range(K):
        bad_sites = ~ctx.site_available[None, :] | (~ctx.allowed[:, k, :] if ctx.class_bound[k] else np.zeros((C, S), bool))
        if np.where(bad_sites, x[:, k, :], 0.0).max(initial=0.0) > tol:
            out.append(f"{ctx.classes[k]} on an unavailable site or outside its zone")
        if np.abs(x[:, k, :].sum(axis=1) - ctx.replicas[k]).max() > tol:
            out.append(f"{ctx.classes[k]} copies != replicas")
        if ctx.class_distinct_countries[k]:
            for country in set(ctx.site_country):
                cols = [s for s in range(S) if ctx.site_country[s] == country]
                if x[:, k, cols].sum(axis=1).max() > 1 + tol:
                    out.append(f"{ctx.classes[k]}: two copies in {country}")
        if ctx.class_bound[k] and (y - x[:, k, :]).max() > tol:
            out.append(f"served away from the {ctx.classes[k]} copy")
    if np.abs(y.sum(axis=1) - 1).max() > tol:
        out.append("serving shares do not sum to 1")
    if y[:, ~ctx.site_available].max(initial=0.0) > tol:
        out.append("served by an unavailable site")
    stored_gb = np.array([(ctx.volume_gb * x[:, :, s]).sum() for s in range(S)])
    if (stored_gb / 1e6 > ctx.site_storage_pb * (1 + tol)).any():
        out.append("storage capacity exceeded")
    it_mw = np.array([(ctx.compute_mw * y[:, s]).sum() for s in range(S)]) + stored_gb * ctx.storage_w_per_gb / 1e6
    if (it_mw > ctx.site_it_mw * (1 + tol) + tol).any():
        out.append("IT power exceeded")
    for c in range(C):
        if np.isfinite(ctx.max_rtt_ms[c]):
            above = y[c, ctx.rtt_ms[c] > ctx.max_rtt_ms[c]].sum()
            if above > 0.05 + tol:
                out.append(f"{ctx.countries[c]}: {above:.3f} of requests above the p95 bound")
    return out


# ----------------------------------------------------------------------------------------------
# Registry and the reference context


def test_policies_are_registered() -> None:
    assert set(OPTIMISERS) <= set(POLICIES)
    for name in OPTIMISERS:
        assert get_policy(name).name == name


@pytest.mark.parametrize("name", OPTIMISERS)
def test_optimised_placement_is_feasible(clover_ctx: PlacementContext, name: str) -> None:
    p = get_policy(name).place(clover_ctx)
    assert violations(clover_ctx, p) == []
    assert opt.placement_violations(clover_ctx, p) == []


@pytest.mark.parametrize("name", sorted(OWN_OBJECTIVE))
def test_at_least_as_good_as_clover_and_nearest(clover_ctx: PlacementContext, name: str) -> None:
    objective = OWN_OBJECTIVE[name]
    best = opt.objective_values(clover_ctx, get_policy(name).place(clover_ctx))[objective]
    clover = get_policy("clover").place(clover_ctx)
    assert violations(clover_ctx, clover) == []  # a fair comparison: clover is feasible here
    assert best <= opt.objective_values(clover_ctx, clover)[objective] * (1 + 1e-9)
    nearest = get_policy("nearest_in_zone").place(clover_ctx)
    if violations(clover_ctx, nearest):
        # nearest_in_zone ignores capacity (on this context it overloads ireland2), so it may beat the
        # constrained optimum; with the capacities lifted it is feasible and must not.
        relaxed = dataclasses.replace(
            clover_ctx, site_it_mw=clover_ctx.site_it_mw * 10, site_storage_pb=clover_ctx.site_storage_pb * 10
        )
        assert violations(relaxed, nearest) == []
        best_relaxed = opt.objective_values(relaxed, get_policy(name).place(relaxed))[objective]
        assert best_relaxed <= opt.objective_values(relaxed, nearest)[objective] * (1 + 1e-9)
        assert best_relaxed <= best * (1 + 1e-9)  # relaxing a constraint never hurts
    else:
        assert best <= opt.objective_values(clover_ctx, nearest)[objective] * (1 + 1e-9)


def test_single_objective_optima_are_the_payoff_diagonal(clover_ctx: PlacementContext) -> None:
    table = opt.payoff_table(clover_ctx)
    for o in opt.OBJECTIVES:
        assert table[o][o] <= min(table[i][o] for i in opt.OBJECTIVES) * (1 + 1e-6)
    # on Clover's sites cost and latency pull apart: cheap, clean hamar is far from most users
    assert table["latency"]["latency"] < table["cost"]["latency"] - 1.0
    assert table["cost"]["cost"] < table["latency"]["cost"]


def test_weighted_uses_ctx_weights_and_interpolates(clover_ctx: PlacementContext) -> None:
    def values(weights: dict[str, float]) -> dict[str, float]:
        ctx = dataclasses.replace(clover_ctx, weights=weights)
        return opt.objective_values(ctx, get_policy("weighted").place(ctx))

    pure_cost = values({"cost": 1.0, "carbon": 0.0, "latency": 0.0})
    pure_latency = values({"cost": 0.0, "carbon": 0.0, "latency": 1.0})
    mixed = values({"cost": 0.3, "carbon": 0.0, "latency": 0.7})
    cost_opt = opt.objective_values(clover_ctx, get_policy("cost_optimal").place(clover_ctx))
    assert pure_cost["cost"] == pytest.approx(cost_opt["cost"], rel=1e-9)
    assert pure_cost["cost"] * (1 - 1e-9) <= mixed["cost"] <= pure_latency["cost"] * (1 + 1e-9)
    assert pure_latency["latency"] * (1 - 1e-9) <= mixed["latency"] <= pure_cost["latency"] * (1 + 1e-9)


def test_rtt_bound_is_honoured(clover_ctx: PlacementContext) -> None:
    bound = np.full(len(clover_ctx.countries), np.inf)
    gb = clover_ctx.countries.index("GB")
    bound[gb] = 15.0  # only the Irish sites are within 15 ms of GB
    ctx = dataclasses.replace(clover_ctx, max_rtt_ms=bound)
    p = get_policy("cost_optimal").place(ctx)  # unbounded, cost puts GB on hamar
    assert violations(ctx, p) == []
    assert p.serve[gb, clover_ctx.rtt_ms[gb] > 15.0].sum() <= 0.05 + 1e-9
    unbounded = get_policy("cost_optimal").place(clover_ctx)
    assert unbounded.serve[gb, clover_ctx.rtt_ms[gb] > 15.0].sum() > 0.05


def test_distinct_countries(clover_ctx: PlacementContext) -> None:
    ctx = dataclasses.replace(
        clover_ctx,
        class_distinct_countries=np.array([False, True, False, False]),  # user_content: 2 replicas
    )
    p = get_policy("latency_optimal").place(ctx)
    assert violations(ctx, p) == []
    irish = [i for i, c in enumerate(ctx.site_country) if c == "IE"]
    assert p.store[:, 1, irish].sum(axis=1).max() <= 1 + 1e-9


# ----------------------------------------------------------------------------------------------
# Infeasibility explanations


def _raises(ctx: PlacementContext, name: str = "cost_optimal") -> str:
    with pytest.raises(opt.InfeasiblePlacement) as info:
        get_policy(name).place(ctx)
    assert isinstance(info.value, ValueError)
    return str(info.value)


def test_too_few_zone_sites_for_the_replicas(clover_ctx: PlacementContext) -> None:
    ctx = dataclasses.replace(clover_ctx, site_available=np.array([True, False, True]))
    msg = _raises(ctx)
    assert "protected_personal needs 3 copies" in msg and "only 2" in msg and "dublin, hamar" in msg


def test_tiny_storage_names_the_sites(clover_ctx: PlacementContext) -> None:
    ctx = dataclasses.replace(clover_ctx, site_storage_pb=np.array([500.0, 400.0, 1.0]))
    msg = _raises(ctx)
    assert "storage at hamar" in msg and "capacity 1.0 PB" in msg


def test_not_enough_it_power(clover_ctx: PlacementContext) -> None:
    ctx = dataclasses.replace(clover_ctx, site_it_mw=np.array([10.0, 10.0, 50.0]))
    msg = _raises(ctx, "latency_optimal")
    assert "IT power at" in msg and "MW" in msg


def test_unreachable_rtt_bound(clover_ctx: PlacementContext) -> None:
    bound = np.where(np.array(clover_ctx.countries) == "FR", 5.0, np.inf)
    msg = _raises(dataclasses.replace(clover_ctx, max_rtt_ms=bound))
    assert "FR p95 RTT <= 5 ms cannot be met by any available site" in msg


def test_rtt_bound_against_capacity(clover_ctx: PlacementContext) -> None:
    bound = np.where(np.array(clover_ctx.countries) == "GB", 15.0, np.inf)
    ctx = dataclasses.replace(clover_ctx, max_rtt_ms=bound, site_it_mw=np.array([5.0, 5.0, 150.0]))
    msg = _raises(ctx)
    assert "GB p95 RTT <= 15 ms" in msg and "IT power at dublin is full" in msg


def test_distinct_countries_explained(clover_ctx: PlacementContext) -> None:
    ctx = dataclasses.replace(clover_ctx, class_distinct_countries=np.array([True, False, False, False]))
    msg = _raises(ctx)
    assert "distinct countries: protected_personal needs 3 copies" in msg and "IE, NO" in msg


def test_no_site_at_all_is_no_site_available(clover_ctx: PlacementContext) -> None:
    ctx = dataclasses.replace(clover_ctx, site_available=np.zeros(3, bool))
    with pytest.raises(NoSiteAvailable):
        get_policy("weighted").place(ctx)


def test_context_without_planning_fields_is_a_clear_error() -> None:
    ctx = PlacementContext(
        countries=["A"],
        classes=["k"],
        class_bound=np.array([True]),
        replicas=np.array([1]),
        sites=["s"],
        allowed=np.ones((1, 1, 1), bool),
        site_available=np.array([True]),
        site_it_mw=np.array([1.0]),
        rtt_ms=np.array([[10.0]]),
        demand_share=np.array([1.0]),
    )
    with pytest.raises(ValueError, match="site_storage_pb"):
        opt.optimise(ctx)


# ----------------------------------------------------------------------------------------------
# Properties over random small contexts


@st.composite
def contexts(draw: st.DrawFn) -> PlacementContext:
    C = draw(st.integers(2, 6))
    K = draw(st.integers(1, 3))
    S = draw(st.integers(2, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    site_in_zone = rng.random(S) < draw(st.sampled_from([0.5, 0.8, 1.0]))
    site_country = [f"X{v}" for v in rng.integers(0, 3, size=S)]
    countries = [f"X{i}" for i in range(C)]  # X0-X2 may have sites of their own; the others none
    rules = rng.choice(["zone", "zone", "home", "any"], size=K)
    home = np.array(countries, dtype=object)[:, None] == np.array(site_country, dtype=object)[None, :]  # (C, S)
    allowed = np.stack([home if r == "home" else np.broadcast_to(site_in_zone, (C, S)) for r in rules], axis=1)
    available = rng.random(S) < draw(st.sampled_from([0.0, 0.8, 0.9, 1.0, 1.0, 1.0]))
    tight = draw(st.sampled_from([0.3, 1.5, 3.0, 6.0]))  # capacity relative to need
    share = rng.dirichlet(np.ones(C))
    compute = share * 10.0
    volume = rng.uniform(0.0, 2.0, size=(C, K)) * 1e5
    replicas = rng.choice([1, 2, 2, 3], size=K)
    it_mw = rng.uniform(0.2, 1.0, size=S) * 10.0 * tight / max(S / 2, 1)
    storage = rng.uniform(0.2, 1.0, size=S) * volume.sum() * replicas.max() / 1e6 * tight / max(S / 2, 1)
    rtt = rng.uniform(2.0, 120.0, size=(C, S))
    bounded = rng.random(C) < 0.3
    bound = np.where(bounded, rng.uniform(10.0, 150.0, size=C), np.inf)
    return PlacementContext(
        countries=countries,
        classes=[f"k{j}" for j in range(K)],
        class_bound=rules != "any",
        replicas=replicas,
        sites=[f"s{i}" for i in range(S)],
        allowed=allowed,
        site_available=available,
        site_it_mw=it_mw,
        rtt_ms=rtt,
        demand_share=share,
        site_country=site_country,
        site_storage_pb=storage,
        site_energy_eur_per_it_kwh=rng.uniform(0.05, 0.4, size=S),
        site_gco2_per_it_kwh=rng.uniform(10.0, 500.0, size=S),
        volume_gb=volume,
        compute_mw=compute,
        class_distinct_countries=rng.random(K) < 0.3,
        weights={"cost": float(rng.random()), "carbon": float(rng.random()), "latency": float(rng.random()) + 0.01},
        max_rtt_ms=bound,
        colocation_eur_per_kw_month=120.0,
        server_eur_per_mw_year=7e6,
        storage_eur_per_gb_year=0.007,
        storage_w_per_gb=0.001,
        it_load_factor=0.55,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contexts(), st.sampled_from(OPTIMISERS))
def test_random_contexts_feasible_or_explained(ctx: PlacementContext, name: str) -> None:
    try:
        p = get_policy(name).place(ctx)
    except NoSiteAvailable:
        assert not ctx.site_available.any()
        return
    except opt.InfeasiblePlacement as exc:
        assert ctx.site_available.any()
        assert exc.reasons and any(word in str(exc) for word in CONSTRAINT_WORDS), str(exc)
        # cross-check: a reference policy's placement can never be feasible when the LP is not
        for ref in ("clover", "nearest_in_zone"):
            try:
                other = get_policy(ref).place(ctx)
            except (NoSiteAvailable, opt.InfeasiblePlacement):  # the rule policies fit storage too
                continue
            if np.allclose(other.store.sum(axis=2), ctx.replicas[None, :]):
                assert violations(ctx, other), f"{ref} is feasible but the optimiser said: {exc}"
        return
    assert violations(ctx, p) == []
    outside = np.where(~ctx.allowed & ctx.class_bound[None, :, None], p.store, 0.0)
    assert outside.max(initial=0.0) <= 1e-9


# ----------------------------------------------------------------------------------------------
# End to end through the simulator


def test_cost_optimal_end_to_end_not_dearer_than_clover() -> None:
    clover = simulate(short("clover.toml", days=3, step_minutes=15), seed=5)
    best = simulate(short("clover.toml", 'policy.placement="cost_optimal"', days=3, step_minutes=15), seed=5)
    assert best.scenario.policy.placement == "cost_optimal"
    # The LP's cost is an approximation (per-country peaks, planning volumes), but every term it
    # drops is either placement-independent (staff, oversight, network at uniform prices) or
    # favours it here, so the simulated cost must not exceed clover's on the same seed.
    assert best.kpi("cost_eur_per_year") <= clover.kpi("cost_eur_per_year")
    assert best.kpi("co2_t_per_year") <= clover.kpi("co2_t_per_year")
    assert best.kpi("residency_share") == 1.0


def test_end_to_end_infeasible_scenario_explains(capsys) -> None:
    from sim.cli import app as cli
    from sim.model.world import ModelInputError

    sc = short("clover.toml", 'policy.placement="cost_optimal"', 'policy.sites=["dublin","hamar"]', days=3)
    with pytest.raises(ModelInputError, match="protected_personal needs 3 copies on distinct available sites in its zone"):
        simulate(sc)
    code = cli.main(
        ["run", str(SCENARIOS / "clover.toml"), "--set", 'policy.placement="cost_optimal"',
         "--set", 'policy.sites=["dublin","hamar"]', "--set", "time.horizon_days=3", "--out", "/nonexistent/x"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "policy.placement" in err[0] and "2 are available" in err[0]
