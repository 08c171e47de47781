"""The KPI catalogue is the one list: every KPI a run reports is in it, with the unit it reports."""

from __future__ import annotations

import importlib

import pytest

from sim.experiments.replicate import run_replication
from sim.reference import units
from sim.results import kpis
from sim.seeds import replication_seeds
from tests.conftest import short


@pytest.fixture(scope="module")
def clover_result():
    scenario = short("clover.toml", days=3)
    return run_replication(scenario, replication_seeds(0, 1)[0])


def test_every_reported_kpi_is_catalogued_with_its_unit(clover_result) -> None:
    for name, kpi in clover_result.kpis.items():
        assert kpis.known(name), f"{name} is reported but not in sim.results.kpis"
        assert kpis.unit(name) == kpi.unit, f"{name}: reported in {kpi.unit}, catalogued in {kpis.unit(name)}"


def test_every_catalogued_kpi_is_reported(clover_result) -> None:
    reported = {n.split(".", 1)[0] for n in clover_result.kpis}
    missing = sorted(set(kpis.CATALOGUE) - reported) + sorted(set(kpis.PER_SITE) - reported)
    assert not missing, f"catalogued but never reported: {missing}"


def test_catalogue_entries_are_complete_and_resolvable() -> None:
    for spec in [*kpis.CATALOGUE.values(), *kpis.PER_SITE.values()]:
        assert spec.label and spec.description and spec.unit
        assert spec.better in ("lower", "higher", "neutral")
        module, _, func = spec.computed_by.rpartition(".")
        assert callable(getattr(importlib.import_module(module), func)), spec.computed_by


def test_named_lists_only_name_catalogued_kpis() -> None:
    for name in ("RUN_TABLE_KPIS", "HEADLINE_KPIS", "GATEWAY_KPIS", "EXTRA_KPIS", "COMPARE_CHART_KPIS",
                 "SENSITIVITY_KPIS", "PARETO_KPIS"):
        for kpi in getattr(kpis, name):
            assert kpi in kpis.CATALOGUE, f"{name} names {kpi}, which the catalogue does not know"


def test_per_site_lookup_and_labels() -> None:
    assert kpis.spec("cost_eur_per_year.dublin").per_site
    assert kpis.label("cost_eur_per_year.dublin") == "Yearly cost (dublin)"
    assert kpis.label("cost_eur_per_year") == "Yearly cost"
    assert kpis.better("user_rtt_ms_p95") == "lower"
    assert kpis.better("residency_share") == "higher"
    with pytest.raises(KeyError, match="unknown KPI"):
        kpis.spec("no_such_kpi")
    assert not kpis.known("stored_pb_total.dublin")


def test_one_year_length() -> None:
    """The model's year is the Julian year, 365.25 days, everywhere (costs, gateway, report)."""
    assert units.YEAR_S == 365.25 * 86400.0
    assert units.YEAR_H == 8766.0
    from sim.results import costs

    assert costs.annualise(1.0, units.YEAR_S / 2) == 2.0
