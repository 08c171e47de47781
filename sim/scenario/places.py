"""Where a place named in a scenario lies: in or outside the EEA (a pure query on scenario data).

A flow endpoint is a country code, a site id or an export region (e.g. ``"US"``, ``"CN"``,
``"EEA"``); a site lies where its ``jurisdiction`` says, a country where the reference table says.
"""

from __future__ import annotations

from sim import reference
from sim.scenario.schema import Scenario

__all__ = ["EXPORT_REGION_EEA", "endpoint_in_eea"]

#: Export destinations that are inside the EEA (all others are outside).
EXPORT_REGION_EEA = frozenset({"EEA"})


def endpoint_in_eea(scenario: Scenario, name: str) -> bool:
    """Whether a flow endpoint (country code, site id or export region) lies in the EEA."""
    if name in scenario.sites:
        return scenario.sites[name].jurisdiction == "EEA"
    table = reference.countries()
    if name in table:
        return table[name].eea
    return name in EXPORT_REGION_EEA
