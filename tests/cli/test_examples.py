"""The worked cases that are not Clover (scenarios/examples/) run from the command line.

Each example is run with ``clover-sim run`` on a short horizon and its results are checked against
what the file promises: the residency rule holds (no byte of a residency-bound class outside its
zone), every byte lies on the example's own sites in the rule's country, the users are the file's,
and its own gateway organisation produces requests. The ASSUMPTION lines of the files have ranges,
as base.toml's and clover.toml's do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim import load_scenario
from sim.cli import app as cli
from tests.conftest import SCENARIOS
from tests.scenario.test_uncertainty_spec import assumption_keys

EXAMPLES = SCENARIOS / "examples"
SHORT = ["--set", "time.horizon_days=2", "--set", "time.step_minutes=60", "--set", "gateway.warmup_s=3600"]

#: example file -> (country every site must be in, monthly users at the start)
CASES = {
    "project_texas.toml": ("US", 170e6),
    "germany_in_country.toml": ("DE", 20.9e6),
}

#: ASSUMPTION lines of the examples that get no range, and why (as in tests/scenario/test_uncertainty_spec.py).
NO_RANGE = {
    "data_classes.protected_personal.replicas": "a design choice that must fit the number of sites",
    "data_classes.protected_personal.residency": "a rule, not a number",
    "data_classes.behavioural_analytics.residency": "a rule, not a number",
    "data_classes.user_content.residency": "a rule, not a number",
    "data_classes.pseudonymised_aggregates.residency": "a rule, not a number",
    "data_classes.pseudonymised_aggregates.export_destination": "a name, not a number",
    "costs.reference_eur_per_year": "a reported figure to compare with (its currency rate is assumed), not a model input",
    "sites.oracle_texas.online_date": "a date",
    "sites.oracle_ashburn.online_date": "a date",
    "sites.oracle_phoenix.online_date": "a date",
    "sites.frankfurt.online_date": "a date",
    "sites.berlin.online_date": "a date",
    "sites.oracle_texas.colocation_basis": "a billing rule, not a number",
    "sites.oracle_ashburn.colocation_basis": "idem",
    "sites.oracle_phoenix.colocation_basis": "idem",
    "sites.oracle_texas.staff_fte": "an accounting choice: Oracle's staff are in its price",
    "sites.oracle_ashburn.staff_fte": "idem",
    "sites.oracle_phoenix.staff_fte": "idem",
    "gateway.review_distribution": "a distribution's name, not a number",
    **{f"gateway.shifts.{i}.{end}": "a rota: the shifts tile the day together, one boundary cannot move alone"
       for i in range(3) for end in ("start_hour", "end_hour")},
    "gateway.resubmit_delay_h": "a distribution: its mean has a range",
    "gateway.auto_check_s": "a distribution: its mean and cv have ranges",
    "gateway.auto_check": "a design choice (the stage exists or not), not a number",
    "gateway.transfers.size_gb": "a distribution: its mean and cv have ranges",
    "gateway.transfers.pseudonymisation_factor": "a table: the aggregates' factor has a range",
}


def kpi(summary: dict, *names: str) -> float:
    """The mean of the first of ``names`` the run reports."""
    for name in names:
        if name in summary["kpis"]:
            return summary["kpis"][name]["mean"]
    raise AssertionError(f"none of {names} in the run's KPIs")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Each example run once from the command line; its summary.json, by file name."""
    out = tmp_path_factory.mktemp("examples")
    summaries = {}
    for name in CASES:
        folder = out / Path(name).stem
        assert cli.main(["run", str(EXAMPLES / name), *SHORT, "--seed", "3", "--out", str(folder), "--no-charts"]) == 0
        summaries[name] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return summaries


def test_every_example_is_tested() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.toml")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_validates_from_the_cli(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", str(EXAMPLES / name)]) == 0
    assert ": ok (scenario" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_keeps_its_residency_rule(runs: dict[str, dict], name: str) -> None:
    summary = runs[name]
    assert kpi(summary, "stored_pb_total") > 0
    assert kpi(summary, "cost_eur_per_year") > 0
    assert kpi(summary, "residency_share") == pytest.approx(1.0)
    assert kpi(summary, "stored_pb_outside_residency") == 0
    assert kpi(summary, "residency_violation_tb") == 0


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_byte_lies_on_the_examples_own_sites_in_its_country(runs: dict[str, dict], name: str) -> None:
    summary = runs[name]
    country, _ = CASES[name]
    sites = summary["resolved_scenario"]["sites"]
    used = summary["resolved_scenario"]["policy"]["sites"]
    assert {sites[s]["country"] for s in used} == {country}
    on_sites = sum(kpi(summary, f"stored_pb.{s}") for s in used)
    assert on_sites == pytest.approx(kpi(summary, "stored_pb_total"), rel=1e-9)
    assert all(kpi(summary, f"storage_overflow_pb.{s}") == 0 for s in used)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_users_are_the_files(runs: dict[str, dict], name: str) -> None:
    _, mau = CASES[name]
    summary = runs[name]
    assert summary["resolved_scenario"]["population"]["mau"] == mau
    # two days of growth (at most a few per cent a year) move the count by far less than 0.1 %
    assert kpi(summary, "mau_end") == pytest.approx(mau, rel=1e-3)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_examples_own_gateway_organisation_makes_requests(runs: dict[str, dict], name: str) -> None:
    summary = runs[name]
    gateway = summary["resolved_scenario"]["gateway"]
    assert gateway["enabled"]
    assert kpi(summary, "gateway_requests_per_year") > 0
    assert kpi(summary, "gateway_wait_s_p95") >= 0
    # the file's own organisation, not the code's defaults (which are Clover's)
    assert [r["name"] for r in gateway["regions"]] != ["EEA", "US", "SG", "CN"]


def test_a_bigger_country_costs_more(runs: dict[str, dict]) -> None:
    """170 M US users on three sites cost more a year than 20.9 M German users on two."""
    texas, germany = runs["project_texas.toml"], runs["germany_in_country.toml"]
    assert kpi(texas, "cost_eur_per_year") > kpi(germany, "cost_eur_per_year")
    assert kpi(texas, "stored_pb_total") > kpi(germany, "stored_pb_total")


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_assumption_of_the_examples_has_a_range(name: str) -> None:
    sc = load_scenario(EXAMPLES / name)
    keys = assumption_keys(EXAMPLES / name)
    assert len(keys) > 10
    missing = [k for k in keys if k not in sc.uncertainty.inputs and k not in NO_RANGE]
    assert not missing, f"ASSUMPTION lines of {name} without a range in [uncertainty]: {missing}"
    assert all(m.source for m in sc.uncertainty.inputs.values())
