"""The [uncertainty] and [observations] tables: forms, validation, and what the shipped files give a range."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from sim.scenario import ScenarioError, load_scenario
from sim.scenario.load import scenario_from_dict
from sim.scenario.uncertainty import LogNormal, ObservationsSpec, UncertaintySpec, normal_score_correlation

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"

U = 'source = "test"'


def spec(**entries: str) -> UncertaintySpec:
    """An UncertaintySpec from TOML inline tables keyed by dotted key."""
    text = "\n".join(f'"{k.replace("__", ".")}" = {v}' for k, v in entries.items())
    return UncertaintySpec.model_validate(tomllib.loads(text))


def test_dotted_keys_and_nested_tables_give_the_same_entries() -> None:
    flat = tomllib.loads(f'"compute.core_s_per_request" = {{ dist = "uniform", low = 5, high = 15, {U} }}')
    nested = tomllib.loads(f'[compute]\ncore_s_per_request = {{ dist = "uniform", low = 5, high = 15, {U} }}')
    assert UncertaintySpec.model_validate(flat) == UncertaintySpec.model_validate(nested)
    assert UncertaintySpec.model_validate(flat).keys == ["compute.core_s_per_request"]


def test_a_later_entry_with_dist_replaces_one_without_patches() -> None:
    data = {
        "compute.x": {"dist": "lognormal", "median": 10, "p95": 25, "source": "a"},
        "compute": {"x": {"high": 40}, "y": {"dist": "uniform", "low": 1, "high": 2, "source": "b"}},
    }
    s = UncertaintySpec.model_validate(data)
    x = s.inputs["compute.x"]
    assert isinstance(x, LogNormal) and x.high == 40 and x.median == 10
    replaced = UncertaintySpec.model_validate({**data, "compute": {"x": {"dist": "uniform", "low": 1, "high": 2, "source": "c"}}})
    assert replaced.inputs["compute.x"].dist == "uniform"
    fixed = UncertaintySpec.model_validate({**data, "compute": {"x": {"dist": "fixed"}}})
    assert fixed.keys == []


def test_lognormal_sigma_from_median_and_quantile() -> None:
    m = spec(a__b='{ dist = "lognormal", median = 10, p95 = 25, source = "t" }').inputs["a.b"]
    assert isinstance(m, LogNormal)
    assert m.sigma() == pytest.approx(0.55706521, rel=1e-7)  # ln(2.5) / 1.6448536


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('{ dist = "uniform", low = 5, high = 5, source = "t" }', "impossible range"),
        ('{ dist = "triangular", low = 1, mode = 3, high = 2, source = "t" }', "impossible range"),
        ('{ dist = "normal", mean = 5, sd = 1, low = 6, source = "t" }', "impossible range"),
        ('{ dist = "normal", mean = 5, sd = 0, source = "t" }', "greater than 0"),
        ('{ dist = "lognormal", median = 10, p95 = 5, source = "t" }', "above the median"),
        ('{ dist = "lognormal", median = 10, p5 = 5, p95 = 20, source = "t" }', "exactly one quantile"),
        ('{ dist = "lognormal", median = 10, p95 = 20, high = 8, source = "t" }', "contain the median"),
        ('{ dist = "choice", values = [1, 1], source = "t" }', "twice"),
        ('{ dist = "choice", values = [1, 2], weights = [1], source = "t" }', "one entry per value"),
        ('{ dist = "uniform", low = 1, high = 2 }', "source"),
        ('{ dist = "uniform", low = 1, high = 2, source = "" }', "at least 1 character"),
        ('{ dist = "gamma", low = 1, high = 2, source = "t" }', "dist must be one of"),
        ('{ dist = "uniform", low = "1", high = 2, source = "t" }', "valid number"),
    ],
)
def test_impossible_distributions_are_refused(entry: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        spec(a__b=entry)


def test_correlations_are_checked() -> None:
    two = {
        "a.x": {"dist": "uniform", "low": 0, "high": 1, "source": "t"},
        "a.y": {"dist": "uniform", "low": 0, "high": 1, "source": "t"},
        "a.z": {"dist": "uniform", "low": 0, "high": 1, "source": "t"},
    }
    ok = UncertaintySpec.model_validate({**two, "correlations": [{"a": "a.x", "b": "a.y", "rank": 0.5, "source": "t"}]})
    c = ok.score_correlation_matrix()
    assert c[0, 1] == c[1, 0] == pytest.approx(normal_score_correlation(0.5)) and c[0, 2] == 0
    bad = [
        ([{"a": "a.x", "b": "a.q", "rank": 0.5, "source": "t"}], "no distribution"),
        ([{"a": "a.x", "b": "a.x", "rank": 0.5, "source": "t"}], "same input"),
        ([{"a": "a.x", "b": "a.y", "rank": 0.5, "source": "t"}, {"a": "a.y", "b": "a.x", "rank": 0.2, "source": "t"}], "twice"),
        ([{"a": "a.x", "b": "a.y", "rank": 1.0, "source": "t"}], "less than 1"),
        (  # x ~ y and x ~ z strongly, y and z strongly opposed: no such joint distribution
            [{"a": "a.x", "b": "a.y", "rank": 0.9, "source": "t"}, {"a": "a.x", "b": "a.z", "rank": 0.9, "source": "t"},
             {"a": "a.y", "b": "a.z", "rank": -0.9, "source": "t"}],
            "positive definite",
        ),
    ]
    for correlations, message in bad:
        with pytest.raises(ValueError, match=message):
            UncertaintySpec.model_validate({**two, "correlations": correlations})
    with pytest.raises(ValueError, match="independent"):
        UncertaintySpec.model_validate({**two, "design": "sobol", "correlations": ok.model_dump()["correlations"]})


def test_observations_forms() -> None:
    obs = ObservationsSpec.model_validate(tomllib.loads(
        'cost_eur_per_year = { value = 1.2e9, rel_sd = 0.1, source = "P" }\n'
        '"it_mw_provisioned.hamar" = { low = 45, high = 90, source = "P" }\n'
        '[mau_end]\nvalue = 1.9e8\nsd = 1e7\nsource = "P"\n'
    ))
    assert obs.kpis["cost_eur_per_year"].standard_deviation == pytest.approx(1.2e8)
    assert obs.kpis["it_mw_provisioned.hamar"].standard_deviation is None
    assert set(obs.kpis) == {"cost_eur_per_year", "it_mw_provisioned.hamar", "mau_end"}
    dropped = ObservationsSpec.model_validate({"cost_eur_per_year": {"value": 1.0, "sd": 1.0, "source": "P", "drop": True}})
    assert dropped.kpis == {}
    for bad, message in [
        ({"value": 1.0, "source": "P"}, "exactly one of sd and rel_sd"),
        ({"value": 1.0, "sd": 1.0, "rel_sd": 0.1, "source": "P"}, "exactly one of sd and rel_sd"),
        ({"low": 2.0, "high": 1.0, "source": "P"}, "low < high"),
        ({"value": 1.0, "sd": 1.0, "low": 0.0, "high": 2.0, "source": "P"}, "either value"),
    ]:
        with pytest.raises(ValueError, match=message):
            ObservationsSpec.model_validate({"k": bad})


# ---------------------------------------------------------------------------------------------
# against the scenario (sim.scenario.load)


def one_line(exc: ScenarioError) -> str:
    text = str(exc)
    assert "\n" not in text
    return text


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ('uncertainty.compute.bogus={dist="uniform",low=1,high=2,source="t"}', "uncertainty.compute.bogus", "unknown key"),
        ('uncertainty.policy.placement={dist="uniform",low=1,high=2,source="t"}', "uncertainty.policy.placement", "not a number"),
        ('uncertainty.gateway.reviewers={dist="uniform",low=1,high=2,source="t"}', "uncertainty.gateway.reviewers", "empty"),
        ('uncertainty.seed={dist="uniform",low=1,high=2,source="t"}', "uncertainty.seed", "valid integer"),
        ('uncertainty.population.daily_active_ratio={dist="uniform",low=0.5,high=1.2,source="t"}',
         "uncertainty.population.daily_active_ratio", "reaches 1.2"),
        ('uncertainty.compute.server_cores={dist="normal",mean=64,sd=8,source="t"}',
         "uncertainty.compute.server_cores", "unbounded (low end)"),
        ('uncertainty.compute.server_cores={dist="choice",values=[0,64],source="t"}', "uncertainty.compute.server_cores", "reaches 0"),
        ('uncertainty.compute.server_idle_w={dist="uniform",low=100,high=900,source="t"}',  # with max_w fixed at 700
         "uncertainty.compute.server_idle_w", "server_max_w must be >= server_idle_w"),
        ('uncertainty.compute.server_amortisation_years.mode=9', "uncertainty.compute.server_amortisation_years", "impossible range"),
        ('uncertainty.compute.server_capex_eur.low="cheap"', "uncertainty.compute.server_capex_eur.low", "valid number"),
        ('uncertainty.compute.server_capex_eur.spread=3', "uncertainty.compute.server_capex_eur.spread", "unknown key"),
        ('observations.cost_eur_per_year.sd=1', "observations.cost_eur_per_year", "exactly one of sd and rel_sd"),
    ],
)
def test_bad_uncertainty_input_names_the_field(override: str, field: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(SCENARIOS / "clover.toml", ["uncertainty.correlations=[]", 'uncertainty.compute.server_max_w.dist="fixed"',
                                                  override])
    assert info.value.field == field, one_line(info.value)
    assert message in info.value.problem, one_line(info.value)


def test_ends_that_fail_only_together_are_reported() -> None:
    # idle and max power each fit alone, but with both at their low end idle (400) > max (300)
    with pytest.raises(ScenarioError) as info:
        load_scenario(SCENARIOS / "clover.toml", [
            "compute.server_idle_w=250", "compute.server_max_w=700",
            'uncertainty.compute.server_idle_w={dist="uniform",low=400,high=450,source="t"}',
            'uncertainty.compute.server_max_w={dist="uniform",low=300,high=1000,source="t"}',
        ])
    assert info.value.field.startswith("uncertainty"), one_line(info.value)


def test_the_central_value_may_lie_outside_the_range() -> None:
    sc = load_scenario(SCENARIOS / "clover.toml", ["population.mau=1.0e8"])
    assert sc.population.mau == 1.0e8 and "population.mau" in sc.uncertainty.inputs


def test_the_resolved_scenario_round_trips_with_its_tables() -> None:
    sc = load_scenario(SCENARIOS / "clover.toml")
    again = scenario_from_dict(sc.model_dump(mode="json"))
    assert again.uncertainty == sc.uncertainty and again.observations == sc.observations


# ---------------------------------------------------------------------------------------------
# the shipped files

#: ASSUMPTION lines that get no range, and why.
NO_RANGE = {
    "data_classes.protected_personal.replicas": "a design choice that must fit the number of sites",
    "data_classes.user_content.replicas": "idem",
    "data_classes.behavioural_analytics.replicas": "idem",
    "data_classes.pseudonymised_aggregates.replicas": "idem",
    "data_classes.pseudonymised_aggregates.export_destination": "a name, not a number",
    "data_classes.user_content.residency": "a rule, not a number",
    "sites.virginia.staff_fte": "an accounting choice: shared staff not charged to Europe",
    "sites.singapore.staff_fte": "idem",
    "sites.ireland2.online_date": "a date",
    "sites.virginia.colocation_basis": "a billing rule, not a number",
    "sites.singapore.colocation_basis": "idem",
    "population.variability.events.0.start": "a date",
    "gateway.review_distribution": "a distribution's name, not a number",
    "gateway.third_party.review_minutes": "a distribution: its mean and cv have ranges",
    "gateway.resubmit_delay_h": "a distribution: its mean has a range",
    "gateway.auto_check_s": "a distribution: its mean and cv have ranges",
    "gateway.auto_check": "a design choice (the stage exists or not), not a number",
    "gateway.transfers.size_gb": "a distribution: its mean and cv have ranges",
    "gateway.transfers.flows": "the workload of a stand-alone gateway run; a world run takes the exports instead",
    **{f"gateway.shifts.{i}.{end}": "a rota: the shifts tile the day together, one boundary cannot move alone"
       for i in range(4) for end in ("start_hour", "end_hour")},
}


def assumption_keys(path: Path) -> list[str]:
    """Dotted keys of the lines of a scenario file whose comment says ASSUMPTION."""
    table: list[str] = []
    keys = []
    arrays: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        array = re.match(r"^\[\[([^\]\[]+)\]\]", line)
        if array:  # an array of tables: its entries are items 0, 1, ...
            name = array.group(1)
            arrays[name] = arrays.get(name, -1) + 1
            table = [*name.split("."), str(arrays[name])]
            continue
        header = re.match(r"^\[([^\]\[]+)\]", line)
        if header:
            table = header.group(1).split(".")
            continue
        entry = re.match(r"^([A-Za-z_0-9]+)\s*=.*#.*ASSUMPTION", line)
        if entry and table and table[0] not in ("uncertainty", "observations"):
            keys.append(".".join([*table, entry.group(1)]))
    return keys


@pytest.mark.parametrize("name", ["base.toml", "clover.toml"])
def test_every_assumption_of_the_shipped_files_has_a_range(name: str) -> None:
    sc = load_scenario(SCENARIOS / name)
    keys = assumption_keys(SCENARIOS / name)
    assert len(keys) > 10
    missing = [k for k in keys if k not in sc.uncertainty.inputs and k not in NO_RANGE]
    assert not missing, f"ASSUMPTION lines of {name} without a range in [uncertainty]: {missing}"


def test_clover_states_what_is_published() -> None:
    sc = load_scenario(SCENARIOS / "clover.toml")
    assert set(sc.observations.kpis) >= {"cost_eur_per_year", "mau_end", "it_mw_provisioned.hamar"}
    assert all(o.source for o in sc.observations.kpis.values())
    assert all(m.source for m in sc.uncertainty.inputs.values())


def test_a_list_replaced_by_set_takes_its_items_ranges_with_it() -> None:
    """--set of a whole list drops the ranges of its old items (keyed by number); new ones may follow."""
    one_class = 'gateway.priority_classes=[{name="all", share=1.0}]'
    sc = load_scenario(SCENARIOS / "clover.toml", [one_class])
    assert [c.name for c in sc.gateway.priority_classes] == ["all"]
    assert not any(k.startswith("gateway.priority_classes.") for k in sc.uncertainty.inputs)
    assert "gateway.shifts.3.reviewers" in sc.uncertainty.inputs  # other lists keep theirs
    again = load_scenario(SCENARIOS / "clover.toml", [
        one_class, 'uncertainty.gateway.priority_classes.0.sla_s={dist="uniform", low=600, high=3600, source="t"}',
        "gateway.priority_classes.0.sla_s=1800.0"])
    assert "gateway.priority_classes.0.sla_s" in again.uncertainty.inputs
    calm = load_scenario(SCENARIOS / "clover.toml", ["population.variability.events=[]"])
    assert not any(k.startswith("population.variability.events.") for k in calm.uncertainty.inputs)
