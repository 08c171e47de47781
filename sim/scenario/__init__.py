"""INPUT: scenario files in, a validated, fully resolved :class:`Scenario` out (pure data).

Modules: :mod:`~sim.scenario.schema` (the pydantic models), :mod:`~sim.scenario.load` (TOML, ``extends``, ``--set``,
:class:`ScenarioError`), :mod:`~sim.scenario.gateway`
(the security gateway's configuration), :mod:`~sim.scenario.sweep` (the ``[sweep]`` table),
:mod:`~sim.scenario.fields` (strict, finite field types and dates), :mod:`~sim.scenario.budget`
(the memory and time a scenario's run will take, estimated before it runs) and
:mod:`~sim.scenario.vocab` (names of policies), :mod:`~sim.scenario.zones` (residency zones) and
:mod:`~sim.scenario.places` (where a site, country or export region lies with respect to a zone).
This layer imports only :mod:`sim.reference`.
"""

from sim.scenario.load import ScenarioError, load_scenario, parse_override, read_scenario_data, scenario_from_dict
from sim.scenario.schema import (
    ComputeSpec,
    CostSpec,
    CountrySpec,
    DataClassSpec,
    NetworkSpec,
    PolicySpec,
    PopulationSpec,
    Scenario,
    Site,
    StorageSpec,
    TimeSpec,
)

__all__ = [
    "ScenarioError",
    "Scenario",
    "TimeSpec",
    "PopulationSpec",
    "CountrySpec",
    "DataClassSpec",
    "Site",
    "PolicySpec",
    "NetworkSpec",
    "ComputeSpec",
    "StorageSpec",
    "CostSpec",
    "load_scenario",
    "read_scenario_data",
    "scenario_from_dict",
    "parse_override",
]
