"""Data-centre sites in the running world: when they come online and whether they are up.

The power a site draws and the fleet it needs are derived from the meters afterwards
(:mod:`sim.results.power`).

Units: s from the run start.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import simpy

from sim.scenario import Scenario, Site

__all__ = ["DataCenter"]


@dataclass
class DataCenter:
    """One site in the running world.

    Attributes:
        site_id: the scenario's id for the site.
        spec: the resolved site figures.
        online_s: when it can take load, s from the run start (<= 0: from the start).
        online: whether it has come online.
        down: number of outages in progress (0 = up).
    """

    site_id: str
    spec: Site
    online_s: float
    online: bool = False
    down: int = 0

    @classmethod
    def from_scenario(cls, scenario: Scenario, site_id: str) -> DataCenter:
        """Build the component for ``site_id``."""
        spec = scenario.sites[site_id]
        online_s = (spec.online_date - scenario.time.start).days * 86400.0
        return cls(site_id, spec, online_s, online=online_s <= 0.0)

    def lifecycle(self, env: simpy.Environment, on_change: Callable[[], None]) -> Generator[simpy.Event, None, None]:
        """SimPy process: bring the site online at its date and tell the world."""
        if self.online:
            return
        yield env.timeout(self.online_s)
        self.online = True
        on_change()
