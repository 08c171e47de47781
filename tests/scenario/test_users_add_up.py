"""Users add up: shares or absolute users per country, always summing to population.mau; anything else is exit 2."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import ScenarioError, load_scenario, reference
from sim.cli import app as cli
from sim.model.traffic import draw_demand, time_grid
from sim.scenario import read_scenario_data, scenario_from_dict
from tests.conftest import SCENARIOS

CLOVER = SCENARIOS / "clover.toml"
SHORT = ["time.horizon_days=2", "time.step_minutes=360", "gateway.enabled=false"]
#: Countries the table gives a population for (the users nobody fixes are spread by population).
PEOPLED = sorted(c for c, x in reference.countries().items() if x.population_m)


def error_of(*overrides: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(CLOVER, list(overrides))
    return info.value


# ----------------------------------------------------------------------------------------------
# the failures measured before the world table (each failed on the code with 32 fixed countries)


def test_any_iso_country_can_have_users() -> None:
    sc = load_scenario(CLOVER, ['population.countries=["IN"]', "population.users={}", *SHORT])
    assert sc.population.countries == ["IN"] and sc.population.country_shares == {"IN": 1.0}
    grid = time_grid(sc)
    d = draw_demand(sc, grid, np.random.default_rng(0))
    growth = (1 + sc.population.growth_per_year) ** (grid.mid_s / (365.25 * 86400.0))
    np.testing.assert_allclose(d.mau[:, 0], sc.population.mau * growth, rtol=1e-12)
    assert d.requests.sum() > 0


def test_a_scenario_can_add_a_country() -> None:
    sc = load_scenario(CLOVER, [
        'countries.XK={name="Kosovo", population=1.6e6, source="ASSUMPTION: test", '
        'points=[{lat=42.67, lon=21.17, share=1.0, utc_offset_h=1.0, dst="eu"}]}',
        'population.countries=["XK", "AL"]', "population.users={}", *SHORT])
    assert sc.country_table()["XK"].name == "Kosovo"
    assert sc.population.country_shares["XK"] == pytest.approx(1.6 / (1.6 + reference.countries()["AL"].population_m))


def test_published_users_are_not_dropped_when_the_countries_are_narrowed(capsys) -> None:
    # DE, FR, IT at 100 M MAU: the published 62 M users leave 38 M that no listed country can take
    err = error_of('population.countries=["DE","FR","IT"]', "population.mau=1e8")
    assert err.field == "population.users"
    assert "population.mau" in err.problem and "38 M users would be dropped" in err.problem
    code = cli.main(["validate", str(CLOVER), "--set", 'population.countries=["DE","FR","IT"]', "--set", "population.mau=1e8"])
    assert code == 2
    line = capsys.readouterr().err.strip()
    assert len(line.splitlines()) == 1 and "population.users" in line and "population.mau" in line


def test_a_countrys_users_are_whatever_the_scenario_says() -> None:
    # 20 M German users, all of population.mau: accepted (the published 20.9 M were fixed in code)
    sc = load_scenario(CLOVER, ['population.countries=["DE"]', "population.users={DE=20e6}", "population.mau=20e6",
                                'uncertainty.population.mau={dist="fixed"}', *SHORT])
    d = draw_demand(sc, time_grid(sc), np.random.default_rng(0))
    assert d.mau[0, 0] == pytest.approx(20e6 * (1 + sc.population.growth_per_year) ** (time_grid(sc).mid_s[0] / (365.25 * 86400)))
    # and within Clover's 32 countries, with the rest of the 175 M spread over the others
    sc = load_scenario(CLOVER, ["population.users={DE=20e6}", *SHORT])
    assert sc.population.country_shares["DE"] * sc.population.mau == pytest.approx(20e6, rel=1e-12)
    assert math.fsum(sc.population.country_shares.values()) == pytest.approx(1.0, abs=1e-12)


# ----------------------------------------------------------------------------------------------
# input that would drop or invent users names its fields


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        (['population.countries=["IE", "NO"]'], "population.users", ["['FR', 'DE', 'IT']", "would be dropped"]),
        (["population.mau=5e7"], "population.users", ["more than population.mau", "would be invented"]),
        (["population.shares={ES=0.1}"], "population.shares", []),  # fine: see below
        (["population.shares={FR=0.1}"], "population.shares.FR", ["population.users.FR", "not both"]),
        (['population.countries=["IE", "SG"]', "population.users={}"], "countries.SG.population", ["Singapore"]),
        (['population.countries=["IE", "IE"]', "population.users={}"], "population.countries", ["twice"]),
        (['population.countries=["IE", "QQ"]', "population.users={}"], "population.countries", ["QQ", "[countries.XX]"]),
        (['countries.XK={name="Kosovo"}'], "countries.XK", ["points"]),
        (['countries.FR.points=[{lat=48.86, lon=2.35, share=0.5, utc_offset_h=1.0}]'], "countries.FR.points", ["sum to 0.5"]),
        (['countries.fr={name="France"}'], "countries", ["two capital letters"]),
        (["population.users={DE=-1.0}"], "population.users", [">= 0"]),
    ],
)
def test_bad_user_figures_name_their_fields(overrides: list[str], field: str, words: list[str]) -> None:
    if not words:
        sc = load_scenario(CLOVER, [*overrides, 'uncertainty.population.mau={dist="fixed"}'])
        assert sc.population.country_shares["ES"] == 0.1  # a share and published users side by side
        return
    err = error_of(*overrides, 'uncertainty.population.mau={dist="fixed"}')
    assert err.field == field, err
    for w in words:
        assert w in err.problem, err


# ----------------------------------------------------------------------------------------------
# property: over random countries and figures, users always sum to the total


@pytest.fixture(scope="module")
def small_clover() -> dict:
    data = read_scenario_data(CLOVER)
    data = {k: v for k, v in data.items() if k not in ("uncertainty", "observations", "sweep")}
    data["time"] = {**data["time"], "horizon_days": 1.0, "step_minutes": 360.0}
    data["gateway"] = {**data.get("gateway", {}), "enabled": False}
    return data


@st.composite
def populations(draw):
    codes = draw(st.lists(st.sampled_from(PEOPLED), min_size=1, max_size=12, unique=True))
    mau = draw(st.floats(1e3, 1e9))
    fixed = draw(st.lists(st.sampled_from(codes), unique=True, max_size=len(codes) - 1)) if len(codes) > 1 else []
    kind = draw(st.sampled_from(["users", "shares", "none"]))
    weights = [draw(st.floats(0.0, 1.0)) for _ in fixed]
    budget = draw(st.floats(0.0, 1.0))
    total = sum(weights) or 1.0
    figures = {c: budget * w / total for c, w in zip(fixed, weights, strict=True)}
    pop = {"countries": codes, "mau": mau, "users": {}, "shares": {}}
    if kind == "users":
        pop["users"] = {c: v * mau for c, v in figures.items()}
    elif kind == "shares":
        pop["shares"] = figures
    return pop


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pop=populations(), growth=st.floats(-0.5, 2.0))
def test_users_always_sum_to_the_total(small_clover: dict, pop: dict, growth: float) -> None:
    data = {**small_clover, "population": {**small_clover["population"], **pop, "growth_per_year": growth}}
    sc = scenario_from_dict(data)
    shares = sc.population.country_shares
    assert list(shares) == pop["countries"]
    assert math.fsum(shares.values()) == pytest.approx(1.0, abs=1e-12)
    for c, users in pop["users"].items():
        assert shares[c] * pop["mau"] == pytest.approx(users, rel=1e-9, abs=1e-6)
    for c, share in pop["shares"].items():
        assert shares[c] == pytest.approx(share, rel=1e-9, abs=1e-15)
    grid = time_grid(sc)
    d = draw_demand(sc, grid, np.random.default_rng(0))
    expected = pop["mau"] * (1 + growth) ** (grid.mid_s / (365.25 * 86400.0))
    np.testing.assert_allclose(d.mau.sum(axis=1), expected, rtol=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pop=populations(), excess=st.floats(1e-3, 10.0), spare=st.booleans())
def test_figures_that_drop_or_invent_users_are_refused(small_clover: dict, pop: dict, excess: float, spare: bool) -> None:
    codes = pop["countries"]
    mau = pop["mau"]
    if spare:  # every country fixed, the figures short of the total: users would be dropped
        users = {c: mau / len(codes) / (1 + excess) for c in codes}
        word = "dropped"
    else:  # the fixed figures above the total: users would be invented
        users = {codes[0]: mau * (1 + excess)}
        word = "invented"
    data = {**small_clover, "population": {**small_clover["population"], **pop, "users": users, "shares": {}}}
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    assert info.value.field == "population.users" and word in info.value.problem
