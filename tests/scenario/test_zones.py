"""Residency zones: bundled zones, scenario zones, and bad zone input refused with one line (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import load_scenario, reference
from sim.cli import app
from sim.scenario.places import endpoint_in_residency, residency_mask, zones_of_country
from tests.conftest import SCENARIOS

#: Two sites of the test scenarios below: Frankfurt (DE) and Amsterdam (NL), figures made up.
SITES = """
[sites.frankfurt]
name = "Frankfurt"
country = "DE"
lat = 50.11
lon = 8.68
it_mw_contracted = 200.0
storage_pb_capacity = 5000.0
online_date = 2020-01-01
pue = 1.3
energy_price_eur_per_kwh = 0.2
grid_gco2_per_kwh = 350.0

[sites.amsterdam]
name = "Amsterdam"
country = "NL"
lat = 52.37
lon = 4.90
it_mw_contracted = 200.0
storage_pb_capacity = 5000.0
online_date = 2020-01-01
pue = 1.3
energy_price_eur_per_kwh = 0.2
grid_gco2_per_kwh = 300.0

[sites.zurich]
name = "Zurich"
country = "CH"
lat = 47.37
lon = 8.54
it_mw_contracted = 100.0
storage_pb_capacity = 5000.0
online_date = 2020-01-01
pue = 1.3
energy_price_eur_per_kwh = 0.2
grid_gco2_per_kwh = 40.0
"""


def test_bundled_zones_match_the_country_table() -> None:
    sc = load_scenario(SCENARIOS / "clover.toml")
    zones = sc.zone_countries
    table = reference.countries()
    # independent check: the country table's own EEA flag and regions
    assert zones["eea"] == {c for c, row in table.items() if row.eea}
    assert zones["eu"] == {c for c, row in table.items() if row.region == "EU"}
    assert len(zones["eu"]) == 27 and zones["eea"] - zones["eu"] == {"IS", "LI", "NO"}
    assert zones["europe"] == zones["eea"] | {"GB", "CH"} == set(reference.european_codes())
    assert zones_of_country(sc, "NO") == ["eea", "europe"] and zones_of_country(sc, "US") == []


def test_clover_classes_are_bound_to_the_europe_enclave() -> None:
    sc = load_scenario(SCENARIOS / "clover.toml")
    rules = {k: d.residency for k, d in sc.data_classes.items()}
    assert rules["protected_personal"] == "europe" and rules["user_content"] == "any"
    mask = residency_mask(sc, sc.population.countries, list(sc.data_classes), ["dublin", "hamar", "virginia"])
    assert mask[:, 0, :2].all() and not mask[:, 0, 2].any()  # protected: IE and NO in, US out
    assert mask[:, 1, :].all()  # user_content: anywhere
    assert endpoint_in_residency(sc, "hamar", "europe") and not endpoint_in_residency(sc, "US", "europe")
    assert not endpoint_in_residency(sc, "other", "europe")


def test_scenario_zone_with_includes_and_redefining_a_bundled_zone(write_toml) -> None:
    path = write_toml(
        '[zones.dach]\ncountries = ["DE", "AT"]\nincludes = ["alps"]\nlabel = "the DACH region"\n'
        '[zones.alps]\ncountries = ["CH", "LI"]\n'
        '[zones.europe]\ncountries = ["IE", "NO"]\n'  # replaces the bundled zone whole (no includes left)
    )
    sc = load_scenario(path)
    assert sc.zone_countries["dach"] == {"DE", "AT", "CH", "LI"}
    assert sc.zone_countries["europe"] == {"IE", "NO"}
    assert len(sc.zone_countries["eea"]) == 30  # the other bundled zones stay
    assert sc.zones["dach"].label == "the DACH region"


def _exit_2(capsys: pytest.CaptureFixture[str], path: Path, *overrides: str) -> str:
    args = ["run", str(path), "--out", str(path.parent / "out")]
    for o in overrides:
        args += ["--set", o]
    code = app.main(args)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert not (path.parent / "out").exists()
    return err[0]


@pytest.mark.parametrize(
    ("text", "overrides", "words"),
    [
        ('[zones.x]\ncountries = ["DE", "XX"]\n', (), ["zones.x.countries", "'XX'"]),
        ('[zones.x]\ncountries = ["de"]\n', (), ["zones.x.countries", "'de'"]),
        ("[zones.x]\ncountries = []\n", (), ["zones.x", "no country"]),
        ('[zones.a]\nincludes = ["b"]\n[zones.b]\nincludes = ["a"]\n', (), ["includes", "cycle", "a -> b -> a"]),
        ('[zones.a]\nincludes = ["nope"]\n', (), ["zones.a.includes", "unknown zone 'nope'"]),
        ('[zones.home]\ncountries = ["DE"]\n', (), ["zones.home", "not any or home"]),
        ("", ('data_classes.protected_personal.residency="dach"',), ["protected_personal.residency", "unknown zone 'dach'"]),
        # a zone that holds none of policy.sites (dublin, ireland2, hamar)
        ('[zones.de]\ncountries = ["DE"]\n', ('data_classes.protected_personal.residency="de"',),
         ["data_classes.protected_personal.residency", "zone 'de'", "no site of policy.sites"]),
        # home: users in AT (and every other country without a site) have nowhere to go
        ("", ('data_classes.protected_personal.residency="home"',),
         ["data_classes.protected_personal.residency", "users in AT", "'home'"]),
        ('[zones.iberia]\ncountries = ["ES", "PT"]\n', ('zones.iberia.countries=["ES", "PT", "EL"]',),
         ["zones.iberia.countries", "'EL'"]),
    ],
)
def test_bad_zone_input_is_exit_2_with_one_line(capsys, write_toml, text: str, overrides: tuple[str, ...],
                                                 words: list[str]) -> None:
    line = _exit_2(capsys, write_toml(text), *overrides)
    assert all(w in line for w in words), line


#: A two-day run in 6-hour steps without the gateway (these tests are about where bytes lie).
FAST = ("time.horizon_days=2", "time.step_minutes=360", "gateway.enabled=false",
        "population.users={}")  # narrowed countries: without the published FR, DE, IT users

ONE_COPY = "".join(f"[data_classes.{k}]\nreplicas = 1\n" for k in
                   ("user_content", "behavioural_analytics", "pseudonymised_aggregates"))


def germany_only(write_toml, placement: str) -> Path:
    return write_toml(
        SITES + ONE_COPY + '[zones.de]\ncountries = ["DE"]\nlabel = "Germany"\n'
        f'[policy]\nplacement = "{placement}"\nsites = ["amsterdam", "frankfurt"]\n'
        '[data_classes.protected_personal]\nresidency = "de"\nreplicas = 1\n'
    )


@pytest.mark.parametrize("placement", ["clover", "nearest_in_zone", "cost_optimal"])
def test_a_germany_only_rule_keeps_every_protected_byte_in_germany(write_toml, placement: str) -> None:
    """Measured before zones: with Frankfurt and Amsterdam, half the German-only data landed in Amsterdam."""
    from sim import simulate

    sc = load_scenario(germany_only(write_toml, placement), [*FAST])
    assert sc.site_in_residency("frankfurt", "de", "FR") and not sc.site_in_residency("amsterdam", "de", "DE")
    res = simulate(sc, seed=1)
    assert res.kpi("residency_share") == 1.0 and res.kpi("residency_share.de") == 1.0
    assert res.kpi("stored_pb_outside_residency") == 0.0 and res.kpi("residency_violation_tb") == 0.0
    placed = res.table("placement")
    last = placed[placed.time == placed.time.max()]
    protected = last[last.data_class == "protected_personal"].groupby("site").stored_tb.sum()
    assert protected.get("amsterdam", 0.0) == 0.0 and protected["frankfurt"] > 0


def test_the_legacy_layout_shows_the_german_data_outside_germany(write_toml) -> None:
    from sim import simulate

    sc = load_scenario(germany_only(write_toml, "pre_clover"), [*FAST])
    res = simulate(sc, seed=1)  # pre_clover: everything on amsterdam, the first listed site
    assert res.kpi("residency_share.de") == 0.0 and res.kpi("residency_share.europe") == 1.0
    assert res.kpi("stored_pb_outside_residency") > 0 and res.kpi("residency_violation_tb") > 0


@pytest.mark.parametrize("placement", ["nearest_in_zone", "cost_optimal"])
def test_swiss_users_kept_in_zurich_are_compliant(write_toml, placement: str) -> None:
    """Measured before zones: Zurich was 'non-EEA', so 0 % compliant and nearest_eea refused to run."""
    from sim import simulate

    path = write_toml(SITES + ONE_COPY + f'[policy]\nplacement = "{placement}"\nsites = ["zurich"]\n'
                      '[data_classes.protected_personal]\nreplicas = 1\n')
    sc = load_scenario(path, [*FAST, 'population.countries=["CH", "DE"]'])
    res = simulate(sc, seed=1)
    assert res.kpi("residency_share") == 1.0 and res.kpi("residency_share.europe") == 1.0


def test_home_residency_keeps_each_users_data_in_their_country(write_toml) -> None:
    from sim.model.world import World
    from sim.seeds import replication_seeds

    path = write_toml(SITES + ONE_COPY + '[policy]\nplacement = "nearest_in_zone"\n'
                      'sites = ["amsterdam", "frankfurt", "zurich"]\n'
                      '[data_classes.protected_personal]\nresidency = "home"\nreplicas = 1\n')
    sc = load_scenario(path, [*FAST, 'population.countries=["DE", "NL", "CH"]'])
    world = World(sc, replication_seeds(0, 1)[0])
    m = world.run()
    k = m.classes.index("protected_personal")
    for c, country in enumerate(m.countries):
        where = {s: m.final_stock_gb[c, k, i] for i, s in enumerate(m.sites) if m.final_stock_gb[c, k, i] > 0}
        assert [sc.sites[s].country for s in where] == [country], (country, where)


def test_per_zone_kpis_are_catalogued() -> None:
    from sim.results import kpis

    assert kpis.known("residency_share.europe") and kpis.better("residency_share.dach") == "higher"
    assert kpis.label("residency_share.europe").endswith("(europe)")
    assert kpis.label("residency_share") != kpis.label("residency_share.europe")
    assert not kpis.known("residency_share_eea") and not kpis.known("eea_residency_share")


def test_a_zone_may_name_any_country_of_the_world_table_or_the_scenario() -> None:
    """Zones draw on the world table (India, Brazil) and on countries a scenario adds itself."""
    sc = load_scenario(SCENARIOS / "clover.toml", [
        'zones.south.countries=["IN", "BR", "XK"]',
        'countries.XK={name="Kosovo", population=1.6e6, points=[{lat=42.67, lon=21.17, share=1.0, utc_offset_h=1, dst="eu"}], source="t"}',
    ])
    assert {"IN", "BR", "XK"} <= set(sc.zones["south"].countries)
