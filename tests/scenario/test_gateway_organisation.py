"""The gateway's organisation is scenario data: Clover's is in clover.toml, the code has none."""

from __future__ import annotations

import tomllib

import pytest

from sim.cli import app as cli
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.budget import gateway_requests_per_hour
from tests.conftest import SCENARIOS

CLOVER = SCENARIOS / "clover.toml"

#: What an organisation is made of: every one of these is written out in clover.toml.
ORGANISATION = ("regions", "user_driven", "shifts", "third_party", "oversight_eur_per_year", "review_minutes_mean",
                "review_distribution", "review_cv", "approve_probability", "resubmit_share", "reviewer_cost_eur_per_year")


def test_clover_states_its_whole_organisation() -> None:
    written = tomllib.loads(CLOVER.read_text(encoding="utf-8"))["gateway"]
    assert set(ORGANISATION) <= set(written)
    sc = load_scenario(CLOVER)
    assert [r.name for r in sc.gateway.regions] == ["EEA", "US", "SG", "CN"]
    assert sum(r.head_count for r in sc.gateway.regions) == 15_000
    assert sc.gateway.reviewer_fte() == pytest.approx(82.4)
    assert {c.name for c in sc.gateway.user_driven} == {"user_support", "user_rights", "law_enforcement", "incidents"}


def test_every_shipped_scenario_with_a_gateway_takes_clover_s_organisation_or_its_own() -> None:
    base = load_scenario(SCENARIOS / "base.toml").gateway
    assert base.regions == [] and base.shifts == [] and base.user_driven == [] and base.reviewer_fte() == 0
    china = load_scenario(SCENARIOS / "china_transfers_suspended.toml").gateway
    clover = load_scenario(CLOVER).gateway
    assert [r.head_count for r in china.regions] == [5000, 8000, 1500, 0]  # only China's access is switched off
    assert china.regions[:3] == clover.regions[:3] and china.user_driven == clover.user_driven
    dpf = load_scenario(SCENARIOS / "dpf_invalidated.toml").gateway
    assert [r.head_count for r in dpf.regions] == [5000, 0, 1500, 0]


@pytest.mark.parametrize(
    ("override", "value"),
    [
        ("gateway.shifts.3.reviewers=30", lambda g: g.shifts[3].reviewers == 30),
        ("gateway.regions.0.head_count=6000", lambda g: g.regions[0].head_count == 6000),
        ("gateway.user_driven.2.requests_per_million_mau_per_day=1.5",
         lambda g: g.user_driven[2].requests_per_million_mau_per_day == 1.5),
        ('gateway.user_driven.0.handled_by="US"', lambda g: g.user_driven[0].handled_by == "US"),
        ("gateway.third_party.staff=9", lambda g: g.third_party.staff == 9),
    ],
)
def test_any_item_can_be_set(override: str, value) -> None:  # noqa: ANN001 - a predicate
    assert value(load_scenario(CLOVER, [override]).gateway)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (['gateway.user_driven.0.handled_by="Mars"'], ["user_driven.0.handled_by", "'Mars'"]),
        (['gateway.user_driven.1.name="user_support"'], ["unique", "user_support"]),
        (["gateway.shifts=[]"], ["no shift has a reviewer"]),
        (["gateway.user_driven.0.requests_per_million_mau_per_day=-1"], ["must not be negative"]),
    ],
)
def test_an_inconsistent_organisation_is_refused_with_its_field(overrides: list[str], words: list[str]) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(CLOVER, overrides)
    text = f"{info.value.field}: {info.value.problem}"
    assert "\n" not in text and all(w in text for w in words), text


def test_the_cli_refuses_it_with_exit_2_and_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["validate", str(CLOVER), "--set", 'gateway.user_driven.0.handled_by="Mars"'])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "handled_by" in err


def test_a_gateway_without_an_organisation_has_no_access_requests() -> None:
    """Documented choice: no organisation given -> no access requests (only the transfers), not an error."""
    no_exports = ["gateway.enabled=true", 'policy.transfer="gateway"', "data_classes.pseudonymised_aggregates.export_share=0.0",
                  'uncertainty.data_classes.pseudonymised_aggregates.export_share={dist="fixed"}']  # no exports at all
    sc = load_scenario(SCENARIOS / "base.toml", no_exports)
    assert sc.gateway.transfers.flows == []  # a world run takes its exports instead; here there are none
    assert gateway_requests_per_hour(sc.gateway, 0.0, sc.population.mau) == 0.0
    # a requester region without any reviewer is refused: its requests could never be reviewed
    with pytest.raises(ScenarioError, match="no shift has a reviewer"):
        load_scenario(SCENARIOS / "base.toml", [*no_exports, 'gateway.regions=[{name="US", head_count=10, requests_per_person_hour=0.1}]'])


def test_the_run_estimate_follows_the_users() -> None:
    config = load_scenario(CLOVER).gateway
    low, high = (gateway_requests_per_hour(config, 0.0, mau) for mau in (100e6, 200e6))
    per_day = config.user_driven_requests_per_day(100e6)
    q = (1 - config.approve_probability) * config.resubmit_share
    resubmissions = sum(q**k for k in range(config.max_resubmissions + 1))
    assert high - low == pytest.approx(per_day / 24.0 * resubmissions, rel=1e-12)
