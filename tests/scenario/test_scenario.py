"""Scenario schema: merging, overrides and one-line error messages that name file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import ScenarioError, load_scenario
from sim.scenario import scenario_from_dict
from tests.conftest import SCENARIOS


def error_of(path: Path, *overrides: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, list(overrides))
    return info.value


def test_clover_resolves_every_site_figure() -> None:
    sc = load_scenario(SCENARIOS / "clover.toml")
    assert sc.policy.sites == ["dublin", "ireland2", "hamar"]
    assert sc.sites["hamar"].it_mw_contracted == 90.0  # from the reference table
    assert sc.sites["dublin"].it_mw_contracted == 40.0  # scenario assumption
    assert len(sc.population.countries) == 32
    assert sum(sc.population.country_shares.values()) == pytest.approx(1.0)
    assert sc.population.country_shares["FR"] == pytest.approx(21.4e6 / sc.population.mau)  # published, in base.toml
    assert sc.population.mau == 175e6  # Europe-wide users, Jan 2025 (P/S)


def test_resolved_scenario_reloads_identically() -> None:
    sc = load_scenario(SCENARIOS / "clover.toml")
    again = scenario_from_dict(sc.model_dump(mode="json"))
    assert again == sc


def test_set_is_typed_and_validated_like_the_file(write_toml) -> None:
    via_set = load_scenario(SCENARIOS / "clover.toml", ["population.mau=180000000"])
    via_file = load_scenario(write_toml("[population]\nmau = 180000000\n"))
    assert via_set.population.mau == via_file.population.mau == 180e6
    err = error_of(SCENARIOS / "clover.toml", "population.mau=lots")
    assert err.field == "population.mau" and "number" in err.problem


def test_variant_without_ireland2_needs_its_replicas_said() -> None:
    sc = load_scenario(SCENARIOS / "clover.toml", ['policy.sites=["dublin","hamar"]', "data_classes.protected_personal.replicas=2"])
    assert sc.policy.sites == ["dublin", "hamar"]
    # three copies on two sites cannot be kept: refused, not silently stored twice
    err = error_of(SCENARIOS / "clover.toml", 'policy.sites=["dublin","hamar"]')
    assert "data_classes.protected_personal.replicas" in err.problem and "2 in policy.sites" in err.problem


def test_missing_file() -> None:
    err = error_of(Path("no/such.toml"))
    assert "no/such.toml" in str(err) and "not found" in err.problem


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\n[time]\nstart = \n', encoding="utf-8")
    err = error_of(path)
    assert "line 3" in err.problem and str(path) in str(err)


def test_unknown_key_suggests_the_nearest(write_toml) -> None:
    err = error_of(write_toml("[population]\ndaily_activ_ratio = 0.5\n"))
    assert err.field == "population.daily_activ_ratio"
    assert "population.daily_active_ratio" in err.problem


def test_unknown_key_in_a_site(write_toml) -> None:
    err = error_of(write_toml("[sites.hamar]\npeu = 1.1\n"))
    assert err.field == "sites.hamar.peu" and "sites.hamar.pue" in err.problem


def test_wrong_type(write_toml) -> None:
    err = error_of(write_toml('[time]\nhorizon_days = "a year"\n'))
    assert err.field == "time.horizon_days" and "a year" in err.problem


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[sites.hamar]\nit_mw_contracted = -5\n", "sites.hamar.it_mw_contracted"),
        ("[sites.hamar]\nstorage_pb_capacity = -1\n", "sites.hamar.storage_pb_capacity"),
        ("[sites.dublin]\nenergy_price_eur_per_kwh = -0.1\n", "sites.dublin.energy_price_eur_per_kwh"),
        ("[network]\ninternet_egress_eur_per_gb = -1\n", "network.internet_egress_eur_per_gb"),
        ("[time]\nhorizon_days = 0\n", "time.horizon_days"),
        ("[time]\nhorizon_days = -3\n", "time.horizon_days"),
    ],
)
def test_negative_or_zero_values(write_toml, text: str, field: str) -> None:
    err = error_of(write_toml(text))
    assert err.field == field
    assert "greater than" in err.problem


def test_shares_must_sum_to_one(write_toml) -> None:
    err = error_of(write_toml('[population]\ncountries = ["FR", "DE"]\nusers = {}\nshares = { FR = 0.5, DE = 0.4 }\n'),
                   "population.users={}")
    assert err.field == "population.shares" and "sum to 0.9" in err.problem and "would be dropped" in err.problem


def test_unknown_site_in_policy(write_toml) -> None:
    err = error_of(write_toml('[policy]\nsites = ["dublin", "hamr"]\n'))
    assert err.field == "policy.sites" and "'hamr'" in err.problem and "hamar" in err.problem


def test_unknown_policy_name(write_toml) -> None:
    err = error_of(write_toml('[policy]\nplacement = "cheapest"\n'))
    assert err.field == "policy.placement" and "clover" in err.problem


def test_unpublished_site_figure_must_be_given(write_toml) -> None:
    err = error_of(write_toml('[policy]\nsites = ["dublin", "kouvola"]\n'))
    assert err.field == "sites.kouvola.storage_pb_capacity" and "missing" in err.problem


def test_extends_cycle(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('extends = "b.toml"\nname = "a"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('extends = "a.toml"\nname = "b"\n', encoding="utf-8")
    err = error_of(tmp_path / "a.toml")
    assert err.field == "extends" and "cycle" in err.problem


def test_extends_missing_file(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('extends = "gone.toml"\nname = "a"\n', encoding="utf-8")
    err = error_of(tmp_path / "a.toml")
    assert err.field == "extends" and "gone.toml" in err.problem


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", ".hidden", ""])
def test_name_that_escapes_results_is_refused(write_toml, name: str) -> None:
    err = error_of(write_toml(f'name = "{name}"\n'))
    assert err.field == "name"


def test_gateway_warmup_longer_than_the_run(write_toml) -> None:
    err = error_of(write_toml("[time]\nhorizon_days = 1\n[gateway]\nwarmup_s = 200000.0\n"))
    assert "gateway.warmup_s" in err.problem


def test_numbered_table_patches_a_list_item(tmp_path: Path, write_toml) -> None:
    base = (SCENARIOS / "china_transfers_suspended.toml").as_posix()
    path = tmp_path / "patch.toml"
    path.write_text(f'extends = "{base}"\n[gateway.regions.3]\nhead_count = 7\n', encoding="utf-8")
    regions = {r.name: r.head_count for r in load_scenario(path).gateway.regions}
    assert regions["CN"] == 7 and regions["US"] == 8000  # only the fourth item changed
    path.write_text(f'extends = "{base}"\n[gateway.regions.9]\nhead_count = 7\n', encoding="utf-8")
    err = error_of(path)
    assert err.field == "regions" and "4 items" in err.problem
    # clover.toml gives the regions list: the numbered item patches it
    regions = {r.name: r.head_count for r in load_scenario(write_toml("[gateway.regions.3]\nhead_count = 7\n")).gateway.regions}
    assert regions == {"EEA": 5000, "US": 8000, "SG": 1500, "CN": 7}
    err = error_of(write_toml("[gateway.regions.4]\nhead_count = 7\n"))
    assert err.field == "regions" and "4 items" in err.problem


def test_set_indexes_lists() -> None:
    sc = load_scenario(SCENARIOS / "clover_timeline.toml", ["network.links.1.gbps=5"])
    assert sc.network.links[1].gbps == 5 and sc.network.links[0].gbps == 40
    with pytest.raises(ScenarioError, match="not an item"):
        load_scenario(SCENARIOS / "clover_timeline.toml", ["network.links.9.gbps=5"])
