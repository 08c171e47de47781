"""No company figure is left in the gateway's code defaults: they are neutral or must be stated.

Every figure of TikTok's gateway (review times, approval rates, resubmissions, priority classes
and SLA, the automatic check, transfer sizes, inspection nodes, costs) is in scenarios/clover.toml;
a scenario that turns the gateway on pays nothing of it, and one that needs a figure it does not
state is refused with one line naming the field.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from sim.cli import app as cli
from sim.results.costs import gateway_nodes_eur_per_year, gateway_reviewer_eur_per_year
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.gateway import GatewayConfig
from tests.conftest import SCENARIOS

CLOVER = SCENARIOS / "clover.toml"
BASE = SCENARIOS / "base.toml"

#: Values a default may share with Clover because they are neutral (nothing, none, off, all).
NEUTRAL = (None, 0, 0.0, 1, 1.0, False, True, [], {}, "shifts")
#: Defaults that are modelling conventions, not company figures (docs/gateway_demand.md).
CONVENTIONS = {"warmup_s"}

#: base.toml with the gateway on and no export (so no transfer job): a gateway with nothing to do.
NO_EXPORTS = ["gateway.enabled=true", 'policy.transfer="gateway"', "data_classes.pseudonymised_aggregates.export_share=0.0",
              'uncertainty.data_classes.pseudonymised_aggregates.export_share={dist="fixed"}']


def _leaves(node: Any, path: str = "") -> dict[str, Any]:
    if isinstance(node, dict) and node:
        return {k: v for key, value in node.items() for k, v in _leaves(value, f"{path}.{key}" if path else key).items()}
    if isinstance(node, list) and node:
        return {k: v for i, value in enumerate(node) for k, v in _leaves(value, f"{path}.{i}").items()}
    return {path: node}


def test_no_default_is_one_of_clover_s_figures() -> None:
    """A default equal to Clover's value is a neutral one (0, 1, none, off) or a modelling convention."""
    clover = _leaves(load_scenario(CLOVER).gateway.model_dump())
    default = _leaves(GatewayConfig().model_dump())
    leaked = {k: v for k, v in default.items()
              if k in clover and clover[k] == v and v not in NEUTRAL and k not in CONVENTIONS}
    assert not leaked, f"code defaults that are Clover's figures: {leaked}"
    # and Clover states every figure its gateway uses (none comes from the code)
    written = tomllib.loads(CLOVER.read_text(encoding="utf-8"))["gateway"]
    for name in ("review_minutes_mean", "review_distribution", "review_cv", "approve_probability", "resubmit_share",
                 "max_resubmissions", "resubmit_delay_h", "sla_s", "priority_classes", "auto_check",
                 "auto_check_servers", "auto_check_s", "reviewer_cost_eur_per_year", "node_cost_eur_per_year"):
        assert name in written, name
    for name in ("nodes", "inspection_gb_per_s", "approve_probability", "size_gb", "pseudonymisation_factor",
                 "protected_classes", "flows"):
        assert name in written["transfers"], f"transfers.{name}"


def test_the_defaults_are_a_gateway_that_does_nothing_and_costs_nothing() -> None:
    g = GatewayConfig()
    assert (g.regions, g.user_driven, g.shifts, g.transfers.flows) == ([], [], [], [])
    assert g.transfers.nodes == 0 and g.reviewer_fte() == 0 and g.auto_check is False
    assert not g.third_party.enabled and g.third_party.access_share == g.third_party.transfer_share == 0.0
    assert g.oversight_eur_per_year == g.reviewer_cost_eur_per_year == g.node_cost_eur_per_year == 0.0
    assert g.approve_probability == g.transfers.approve_probability == 1.0 and g.max_resubmissions == 0
    assert g.transfers.pseudonymisation_factor == {} and g.transfers.protected_classes == []
    assert [(c.share, c.sla_s) for c in g.priority_classes] == [(1.0, None)] and g.sla_s is None
    assert gateway_reviewer_eur_per_year(g) == gateway_nodes_eur_per_year(g) == 0.0


def test_a_non_tiktok_gateway_pays_nothing_of_tiktok_s() -> None:
    """base.toml with the gateway on: no node, no reviewer, no monitor, no contract, unless it says so."""
    sc = load_scenario(BASE, NO_EXPORTS)
    g = sc.gateway
    assert g.enabled and g.transfers.nodes == 0 and g.reviewer_fte() == 0 and not g.third_party.enabled
    assert gateway_reviewer_eur_per_year(g) + gateway_nodes_eur_per_year(g) + g.oversight_eur_per_year == 0.0
    own = load_scenario(BASE, [*NO_EXPORTS, "gateway.transfers.nodes=3", "gateway.node_cost_eur_per_year=10000.0"])
    assert gateway_nodes_eur_per_year(own.gateway) == pytest.approx(30_000.0)


@pytest.mark.parametrize(
    ("override", "check"),
    [
        ("gateway.transfers.nodes=8", lambda g: g.transfers.nodes == 8 and gateway_nodes_eur_per_year(g) == 8 * 60_000.0),
        ("gateway.priority_classes.0.share=0.1", lambda g: [c.share for c in g.priority_classes] == pytest.approx([0.1, 0.9])),
        ("gateway.priority_classes.0.sla_s=1800.0", lambda g: g.priority_classes[0].sla_s == 1800.0),
        ("gateway.transfers.size_gb.mean=8.0", lambda g: g.transfers.size_gb.mean == 8.0 and g.transfers.size_gb.cv == 2.0),
        ("gateway.transfers.pseudonymisation_factor.pseudonymised_aggregates=0.1",
         lambda g: g.transfers.factor("pseudonymised_aggregates") == 0.1),
        ("gateway.auto_check_s.mean=5.0", lambda g: g.auto_check_s.mean == 5.0),
        ("gateway.review_minutes_mean=9.0", lambda g: g.review_time().mean == 9.0),
    ],
)
def test_every_figure_can_be_set(override: str, check) -> None:  # noqa: ANN001 - a predicate
    assert check(load_scenario(CLOVER, [override]).gateway)


def test_the_last_priority_class_takes_the_rest_and_dumps_as_such() -> None:
    g = load_scenario(CLOVER).gateway
    assert [c.share for c in g.priority_classes] == pytest.approx([0.05, 0.95])
    dumped = g.model_dump()["priority_classes"]
    assert dumped[-1]["share"] is None  # left out in the file: the rest, again after a round trip
    again = GatewayConfig.model_validate({**g.model_dump(), "priority_classes": [{**dumped[0], "share": 0.2}, dumped[1]]})
    assert [c.share for c in again.priority_classes] == pytest.approx([0.2, 0.8])
    with pytest.raises(ScenarioError, match="take 1.2 > 1"):
        load_scenario(CLOVER, ['gateway.priority_classes=[{name="a", share=0.7}, {name="b", share=0.5}, {name="c"}]',
                               'uncertainty.gateway.priority_classes.0.share={dist="fixed"}'])


#: A requester region and a reviewer shift of a made-up company, on base.toml (no exports).
ORG = ('[[gateway.regions]]\nname = "HQ"\nhead_count = 100\nrequests_per_person_hour = 0.1\n'
       '[[gateway.shifts]]\nname = "day"\nreviewers = 2\nstart_hour = 8.0\nend_hour = 18.0\n')
REVIEW = ('review_distribution = "lognormal"\nreview_minutes_mean = 5.0\nreview_cv = 1.0\napprove_probability = 0.9\n'
          "reviewer_cost_eur_per_year = 80000.0\n")


@pytest.mark.parametrize(
    ("gateway", "field"),
    [
        ("", "gateway.review_distribution"),
        ('review_distribution = "lognormal"\n', "gateway.review_minutes_mean"),
        ('review_distribution = "lognormal"\nreview_minutes_mean = 5.0\n', "gateway.review_cv"),
        ('review_distribution = "exponential"\nreview_minutes_mean = 5.0\n', "gateway.approve_probability"),
        ('review_distribution = "exponential"\nreview_minutes_mean = 5.0\napprove_probability = 0.9\n',
         "gateway.reviewer_cost_eur_per_year"),
        (REVIEW + "max_resubmissions = 1\n", "gateway.resubmit_share"),
        (REVIEW + "max_resubmissions = 1\nresubmit_share = 0.5\n", "gateway.resubmit_delay_h"),
        (REVIEW + "auto_check = true\nauto_check_servers = 2\n", "gateway.auto_check_s"),
        (REVIEW + "third_party = { enabled = true, staff = 1, access_share = 0.1 }\n", "gateway.third_party.review_minutes"),
        (REVIEW + "outage_mtbf_h = 100.0\n", "gateway.outage_mttr_h"),
        (REVIEW + "transfers = { nodes = 1 }\n", "gateway.node_cost_eur_per_year"),
        (REVIEW + 'transfers = { flows = [{ data_class = "x", destination = "US", jobs_per_hour = 1.0 }] }\n',
         "gateway.transfers.size_gb"),
    ],
)
def test_a_missing_figure_is_exit_2_with_one_line_naming_it(
    gateway: str, field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "company.toml"
    path.write_text(f'extends = "{BASE.as_posix()}"\nname = "company"\n'
                    '[policy]\ntransfer = "gateway"\n[data_classes.pseudonymised_aggregates]\nexport_share = 0.0\n'
                    '[uncertainty]\n"data_classes.pseudonymised_aggregates.export_share" = { dist = "fixed" }\n'
                    f"[gateway]\nenabled = true\n{gateway}{ORG}", encoding="utf-8")
    assert cli.main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{field}:" in err, err
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ([], "gateway.transfers.size_gb"),
        (['gateway.transfers.size_gb={kind="exponential", mean=2.0}'], "gateway.transfers.nodes"),
        (['gateway.transfers.size_gb={kind="exponential", mean=2.0}', "gateway.transfers.nodes=1",
          "gateway.node_cost_eur_per_year=1.0"], "gateway.transfers.inspection_gb_per_s"),
        (['gateway.transfers.size_gb={kind="exponential", mean=2.0}', "gateway.transfers.nodes=1",
          "gateway.node_cost_eur_per_year=1.0", "gateway.transfers.inspection_gb_per_s=1.0"],
         "gateway.transfers.approve_probability"),
    ],
)
def test_exports_through_a_gateway_need_its_stated_inspection(overrides: list[str], field: str) -> None:
    """base.toml's aggregates leave the zone: a gateway that inspects them states how (no TikTok default)."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASE, ["gateway.enabled=true", 'policy.transfer="gateway"', *overrides])
    assert info.value.field == field and "\n" not in info.value.problem
    # the open policy inspects nothing: only the job size is needed
    sc = load_scenario(BASE, ["gateway.enabled=true", 'policy.transfer="open"',
                              'gateway.transfers.size_gb={kind="exponential", mean=2.0}'])
    assert sc.gateway.transfers.nodes == 0
