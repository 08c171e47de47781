"""The simulated world: users, sites, network and policy, run as a SimPy model.

The world builds the components of a scenario (traffic, data centres, storage, serving, the
gateway), runs the SimPy processes of its state changes (sites coming online, outages, random
failures, link cuts, the start of migration), decides when the placement changes (through the
policy registry, :mod:`sim.model.placement`), and writes every quantity to
:class:`sim.meters.Meters`; nothing here prints or touches the disk. Between two state changes
the placement is fixed, so the bulk traffic of that segment is advanced in one vectorised step
over all of its time steps: :mod:`sim.model.storage` writes, ages and migrates the bytes,
:mod:`sim.model.serving` serves the requests (failover, unserved, violations) and lists the
bytes they carry.

Shapes: T steps, C countries, K data classes, S sites; a segment is steps [a, b).
Units: s for time (from the run start), GB for bytes, requests as counts, MW for IT power.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import simpy
from numpy.typing import NDArray

from sim.meters import FlowLog, Meters
from sim.meters.gateway import GatewayTally, RequestSink
from sim.model.datacenter import DataCenter
from sim.model.gateway import simulate_gateway
from sim.model.network import fibre_min_matrix_ms, rtt_matrix_ms
from sim.model.placement import policy as policies
from sim.model.serving import ClassTraffic, Serving, ServingShares
from sim.model.storage import MigrationLinks, Storage, link_matrix_gbps
from sim.model.traffic import Demand, TimeGrid, draw_demand, time_grid
from sim.scenario import Scenario
from sim.scenario.places import endpoint_in_residency, residency_mask
from sim.seeds import component_rng

__all__ = ["World", "ModelInputError", "component_rng", "run_world"]


class ModelInputError(ValueError):
    """The scenario validates but cannot be run as given (e.g. no site online at the start).

    Attributes:
        field: dotted scenario field at fault.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(field, problem)  # SimPy re-raises a process's failure as type(exc)(*exc.args)

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"


@dataclass
class _Segment:
    """A stretch of steps in which nothing changes state.

    Attributes:
        start_step: first step of the segment.
        placement: the policy's decision (storage layout and nominal serving).
        shares: effective serving after failover.
        link_gbps: (S, S) usable migration bandwidth from -> to.
    """

    start_step: int
    placement: policies.Placement
    shares: ServingShares
    link_gbps: NDArray[np.float64]


@dataclass(frozen=True)
class _Months:
    """Calendar months of the grid: the flow records' periods.

    Attributes:
        start_step: (M,) step index where each month starts.
        start_s: (M,) that month's start, s (the first one clamped to the run start).
    """

    start_step: NDArray[np.int64]
    start_s: NDArray[np.float64]

    @classmethod
    def of_grid(cls, grid: TimeGrid) -> _Months:
        """The months the steps of ``grid`` fall in."""
        stamps = grid.timestamps(grid.edges_s[:-1])
        months = stamps.astype("datetime64[M]")
        starts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
        first = np.datetime64(grid.start_utc.replace(tzinfo=None), "s")
        month_start_s = ((months[starts].astype("datetime64[s]") - first) / np.timedelta64(1, "s")).astype(float)
        return cls(starts.astype(np.int64), np.maximum(month_start_s, 0.0))

    def periods_of(self, steps: NDArray[np.int64]) -> NDArray[np.float64]:
        """Start (s) of the month of each step of ``steps``."""
        idx = np.searchsorted(self.start_step, steps, side="right") - 1
        return self.start_s[np.maximum(idx, 0)]

    def split(self, a: int, b: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """First step (P,) and start in s (P,) of each month that steps [a, b) touch."""
        cut = np.searchsorted(self.start_step, [a, b], side="right")
        bounds = np.unique(np.r_[a, self.start_step[cut[0] : cut[1]]])
        bounds = bounds[(bounds >= a) & (bounds < b)]
        return bounds, self.periods_of(bounds)


class World:
    """Builds the components of a scenario and runs them.

    Args:
        scenario: the resolved scenario.
        seed_seq: this replication's SeedSequence.
    """

    def __init__(self, scenario: Scenario, seed_seq: np.random.SeedSequence,
                 gateway_requests: RequestSink | None = None) -> None:
        self.scenario = scenario
        self.seed_seq = seed_seq
        self.gateway_requests = gateway_requests
        self.grid: TimeGrid = time_grid(scenario)
        self.sites = scenario.world_sites
        self.classes = list(scenario.data_classes)
        self.countries = list(scenario.population.countries)
        self.datacenters = [DataCenter.from_scenario(scenario, s) for s in self.sites]
        self.demand: Demand = draw_demand(scenario, self.grid, component_rng(seed_seq, "traffic"))
        self.policy = policies.get_policy(scenario.policy.placement)
        self.rtt_ms = rtt_matrix_ms(scenario, self.sites)
        self.traffic = ClassTraffic.from_scenario(scenario, self.classes)
        self._allowed = residency_mask(scenario, self.countries, self.classes, self.sites)  # (C, K, S)
        self._placeable = np.array([s in scenario.policy.sites for s in self.sites])
        self._start_sites = np.array([s in scenario.policy.start_sites for s in self.sites])
        self._months = _Months.of_grid(self.grid)
        self._planning_inputs()
        C, K, S, T = len(self.countries), len(self.classes), len(self.sites), self.grid.n_steps
        migration_start = scenario.network.migration_start
        self.storage = Storage(
            C,
            T,
            self.traffic.write_gb_per_request,
            np.array([scenario.data_classes[k].retention_days * 86400.0 for k in self.classes]),
            MigrationLinks(link_matrix_gbps(scenario, self.sites), migration_start is None or migration_start <= scenario.time.start),
        )
        self.serving = Serving(
            self.countries,
            self.sites,
            self.classes,
            self.traffic,
            self.rtt_ms,
            self._allowed,
            np.array([scenario.sites[s].it_mw_contracted for s in self.sites]),
            self._compute_mw,
            scenario.policy.failover == "in_zone",
            scenario.compute.core_s_per_request,
        )
        self.meters = Meters(
            countries=self.countries,
            classes=self.classes,
            sites=self.sites,
            edges_s=self.grid.edges_s,
            requests=self.demand.requests,
            mau=self.demand.mau,
            busy_core_s=np.zeros((T, S)),
            nominal_busy_core_s=np.zeros((T, S)),
            stored_gb=np.zeros((T, K, S)),
            initial_gb=np.zeros((K, S)),
            written_gb=np.zeros((K, S)),
            replicated_gb=np.zeros((K, S)),
            deleted_gb=np.zeros((K, S)),
            dropped_gb=np.zeros((K, S)),
            moved_in_gb=np.zeros((K, S)),
            moved_out_gb=np.zeros((K, S)),
            export_blocked_gb=np.zeros(K),
            served_requests=np.zeros((C, S)),
            failover_requests=np.zeros((C, S)),
            unserved_requests=np.zeros(C),
            violation_requests=0.0,
            violation_gb=np.zeros(K),
            final_stock_gb=np.zeros((C, K, S)),
            rtt_ms=self.rtt_ms,
            fibre_min_ms=fibre_min_matrix_ms(scenario, self.sites),
            flows=FlowLog(),
            placement_changes_s=[],
            pending_migration_gb=0.0,
            gateway=None,
        )
        self._segment: _Segment | None = None

    # ------------------------------------------------------------------------------------------
    # planning: what the policy is told

    @property
    def _volume_gb(self) -> NDArray[np.float64]:
        """(C, K) one-copy volume now (kept in :attr:`storage`; planning tools set it directly)."""
        return self.storage.volume_gb

    @_volume_gb.setter
    def _volume_gb(self, value: NDArray[np.float64]) -> None:
        self.storage.volume_gb = value

    def _planning_inputs(self) -> None:
        """Demand figures a policy may plan with (expected values, never the random draws)."""
        comp = self.scenario.compute
        expected = self.demand.expected_requests
        peak_cores = (expected / self.grid.dt_s[:, None]).max(axis=0) * comp.core_s_per_request
        servers = peak_cores / (comp.server_cores * comp.target_utilisation)
        self._compute_mw = servers * comp.server_max_w / 1e6
        rate = expected.sum(axis=1) / self.grid.dt_s
        util = comp.target_utilisation * rate.mean() / rate.max()
        self._it_load_factor = (comp.server_idle_w + (comp.server_max_w - comp.server_idle_w) * util) / comp.server_max_w

    def _context(self, step: int = 0, allowed: NDArray[np.bool_] | None = None) -> policies.PlacementContext:
        """What the policy sees at ``step``; ``allowed`` (S,) narrows the placeable sites."""
        sc = self.scenario
        shares = np.array([sc.population.country_shares[c] for c in self.countries])
        bounds = np.array(
            [sc.policy.max_rtt_ms_p95_by_country.get(c, sc.policy.max_rtt_ms_p95 or np.inf) for c in self.countries]
        )
        site_specs = [sc.sites[s] for s in self.sites]
        expected = self.demand.expected_requests[step:]
        return policies.PlacementContext(
            countries=self.countries,
            classes=self.classes,
            class_bound=self.traffic.bound,
            replicas=np.array([sc.data_classes[k].replicas for k in self.classes], dtype=np.int64),
            sites=self.sites,
            allowed=self._allowed,
            site_available=np.array([dc.online for dc in self.datacenters])
            & (self._placeable if allowed is None else allowed),
            site_it_mw=np.array([x.it_mw_contracted for x in site_specs]),
            rtt_ms=self.rtt_ms,
            demand_share=shares,
            site_country=[x.country for x in site_specs],
            site_storage_pb=np.array([x.storage_pb_capacity for x in site_specs]),
            site_energy_eur_per_it_kwh=np.array([x.energy_price_eur_per_kwh * x.pue for x in site_specs]),
            site_gco2_per_it_kwh=np.array([x.grid_gco2_per_kwh * x.pue for x in site_specs]),
            volume_gb=self.storage.planning_volume_gb(expected, float(self.grid.dt_s[step]) if len(expected) else 0.0),
            compute_mw=self._compute_mw,
            class_distinct_countries=np.array([sc.data_classes[k].distinct_countries for k in self.classes]),
            weights=dict(sc.policy.weights),
            max_rtt_ms=bounds,
            colocation_eur_per_kw_month=sc.costs.colocation_eur_per_kw_month,
            server_eur_per_mw_year=sc.compute.server_capex_eur
            / sc.compute.server_amortisation_years
            / (sc.compute.server_max_w / 1e6),
            storage_eur_per_gb_year=sc.storage.capex_eur_per_tb / 1000.0 / sc.storage.amortisation_years,
            storage_w_per_gb=sc.storage.w_per_tb / 1000.0,
            it_load_factor=self._it_load_factor,
        )

    # ------------------------------------------------------------------------------------------
    # the run

    def run(self) -> Meters:
        """Run the whole horizon and return the filled meters."""
        env = simpy.Environment()
        sc = self.scenario
        mau0 = np.array([sc.population.mau * sc.population.country_shares[c] for c in self.countries])
        initial = np.array([sc.data_classes[k].initial_gb_per_mau for k in self.classes])
        self.storage.volume_gb = mau0[:, None] * initial[None, :]
        start_policy = sc.policy.start_placement
        try:
            if start_policy is None:
                first = self.policy.place(self._context(0))
            else:
                first = policies.get_policy(start_policy).place(self._context(0, self._start_sites))
        except policies.NoSiteAvailable as exc:
            field = "policy.sites" if start_policy is None else "policy.start_sites"
            raise ModelInputError(field, f"{exc} at time.start {sc.time.start} (check online_date)") from None
        except policies.InfeasiblePlacement as exc:
            raise ModelInputError("policy.placement", f"{exc} (at {sc.time.start})") from None
        self.meters.initial_gb[:] = self.storage.stock(first.store).sum(axis=0)
        self._segment = self._new_segment(0, first)
        self.meters.placement_changes_s.append(0.0)
        if start_policy is not None:
            self._changed(0.0, replace=True)  # the main policy takes over where it can
        for proc in self._processes(env):
            env.process(proc)
        env.run(until=sc.horizon_s)
        self._close_segment(self.grid.n_steps)
        m = self.meters
        tally = self.storage.tally
        m.stored_gb[:] = tally.stored_gb
        m.written_gb[:] = tally.written_gb
        m.deleted_gb[:] = tally.deleted_gb
        m.replicated_gb[:] = tally.replicated_gb
        m.dropped_gb[:] = tally.dropped_gb
        m.moved_in_gb[:] = tally.moved_in_gb
        m.moved_out_gb[:] = tally.moved_out_gb
        m.final_stock_gb[:] = self.storage.final_stock(self._segment.placement.store)
        m.pending_migration_gb = self.storage.backlog.pending_gb()
        m.gateway = self._run_gateway()
        return m

    def _run_gateway(self) -> GatewayTally | None:
        """Every employee access and every export that leaves its class's zone, one request each, through the gateway.

        None when the scenario has no gateway: nothing queues, exports leave as they are.
        Transfer jobs arrive at the rate the data classes' exports imply: exported GB per
        (class, destination) per hour / the mean job size, for the exports of residency-bound
        classes to destinations outside the class's zone (:func:`export_needs_gateway`); user-driven
        access requests follow the monthly active users of each step.
        """
        sc = self.scenario
        if not sc.gateway.enabled:
            return None
        cols = self.meters.flows.columns()
        exports = cols["kind"] == "export"
        hours = sc.horizon_s / 3600.0
        mean_gb = sc.gateway.transfers.size_gb.mean
        rates: dict[tuple[str, str], float] = {}
        for cls, dest, gb in zip(cols["data_class"][exports], cols["destination"][exports], cols["gb"][exports], strict=True):
            if not export_needs_gateway(sc, str(cls), str(dest)):
                continue
            rates[(str(cls), str(dest))] = rates.get((str(cls), str(dest)), 0.0) + gb / hours / mean_gb
        return simulate_gateway(
            sc.gateway,
            start_utc=sc.start_utc,
            horizon_s=sc.horizon_s,
            rng=component_rng(self.seed_seq, "gateway"),
            transfer_policy=sc.policy.transfer,
            transfer_jobs_per_hour=rates,
            mau=(self.grid.edges_s, self.demand.mau.sum(axis=1)),
            record="tally",  # a few bytes per request; the table goes to gateway_requests if given
            requests=self.gateway_requests,
        )

    def _processes(self, env: simpy.Environment) -> list[Generator[simpy.Event, None, None]]:
        """The SimPy processes of the world's state changes."""
        sc = self.scenario
        procs: list[Generator[simpy.Event, None, None]] = []
        for i, dc in enumerate(self.datacenters):
            if not dc.online and dc.online_s < sc.horizon_s:
                procs.append(dc.lifecycle(env, lambda: self._changed(env.now, replace=True)))
            for window in dc.spec.outages:
                start_s = (window.start - sc.start_utc).total_seconds()
                procs.append(self._outage(env, i, start_s, window.hours * 3600.0))
            if dc.spec.mtbf_hours is not None and dc.spec.mttr_hours is not None:
                rng = component_rng(self.seed_seq, f"failures.{dc.site_id}")
                procs.append(self._random_failures(env, i, rng))
        index = {s: i for i, s in enumerate(self.sites)}
        for cut in sc.network.cuts:
            if cut.a in index and (cut.b == "users" or cut.b in index):
                start_s = (cut.start - sc.start_utc).total_seconds()
                procs.append(self._cut(env, index[cut.a], index.get(cut.b, -1), start_s, cut.hours * 3600.0))
        if not self.storage.links.open:
            assert sc.network.migration_start is not None
            start_s = (sc.network.migration_start - sc.time.start).days * 86400.0
            procs.append(self._open_migration(env, start_s))
        return procs

    def _outage(self, env: simpy.Environment, i: int, start_s: float, duration_s: float) -> Generator[simpy.Event, None, None]:
        """A scheduled outage of site i (windows that started before the run are cut to fit)."""
        end_s = start_s + duration_s
        if end_s <= 0:
            return
        yield env.timeout(max(start_s, 0.0))
        self.datacenters[i].down += 1
        self._changed(env.now)
        yield env.timeout(end_s - env.now)
        self.datacenters[i].down -= 1
        self._changed(env.now)

    def _random_failures(self, env: simpy.Environment, i: int, rng: np.random.Generator) -> Generator[simpy.Event, None, None]:
        """Exponential times between failures and to repair (MTBF / MTTR) of site i."""
        spec = self.datacenters[i].spec
        assert spec.mtbf_hours is not None and spec.mttr_hours is not None
        while True:
            yield env.timeout(rng.exponential(spec.mtbf_hours * 3600.0))
            self.datacenters[i].down += 1
            self._changed(env.now)
            yield env.timeout(rng.exponential(spec.mttr_hours * 3600.0))
            self.datacenters[i].down -= 1
            self._changed(env.now)

    def _cut(self, env: simpy.Environment, a: int, b: int, start_s: float, duration_s: float) -> Generator[simpy.Event, None, None]:
        """A network cut between sites a and b, or between site a and its users (b = -1)."""
        end_s = start_s + duration_s
        if end_s <= 0:
            return
        yield env.timeout(max(start_s, 0.0))
        self._set_cut(a, b, 1)
        self._changed(env.now)
        yield env.timeout(end_s - env.now)
        self._set_cut(a, b, -1)
        self._changed(env.now)

    def _set_cut(self, a: int, b: int, n: int) -> None:
        """Start (n = 1) or end (n = -1) a cut between sites a and b, or site a and its users (b = -1)."""
        if b >= 0:
            self.storage.links.cut(a, b, n)
        else:
            self.serving.cut_users(a, n)

    def _open_migration(self, env: simpy.Environment, start_s: float) -> Generator[simpy.Event, None, None]:
        """Migration over the links starts (``network.migration_start``)."""
        yield env.timeout(max(start_s, 0.0))
        self.storage.links.open = True
        self._changed(env.now)

    def _changed(self, now_s: float, replace: bool = False) -> None:
        """A state change: advance traffic to now; on a new site, let the policy decide again."""
        step = self.grid.step_at(now_s)
        self._close_segment(step)
        assert self._segment is not None
        placement = self._segment.placement
        if replace:
            try:
                new = self.policy.place(replace_previous(self._context(step), placement))
            except policies.NoSiteAvailable:
                new = placement  # keep serving from where the data is
            except policies.InfeasiblePlacement as exc:
                when = self.grid.timestamps(np.array([now_s]))[0]
                raise ModelInputError("policy.placement", f"{exc} (at {when})") from None
            if not new.same_as(placement):
                self.storage.rebalance(placement.store, new.store)
                self.meters.placement_changes_s.append(float(self.grid.edges_s[step]))
                placement = new
        self._segment = self._new_segment(step, placement)

    # ------------------------------------------------------------------------------------------
    # segments

    def _up(self) -> NDArray[np.bool_]:
        """(S,) sites online and not down now."""
        return np.array([dc.online and dc.down == 0 for dc in self.datacenters])

    def _new_segment(self, step: int, placement: policies.Placement) -> _Segment:
        up = self._up()
        return _Segment(step, placement, self.serving.shares(placement.serve, up), self.storage.links.usable(up))

    def _close_segment(self, end_step: int) -> None:
        """Advance bulk traffic over steps [segment start, end_step) with nothing changing state."""
        assert self._segment is not None
        seg = self._segment
        a, b = seg.start_step, end_step
        if b <= a:
            return
        m = self.meters
        store = seg.placement.store
        req = self.demand.requests[a:b]  # (n, C)
        # storage: writes, retention, migration
        migration = self.storage.advance(a, store, req, self.grid.dt_s[a:b], seg.link_gbps, self._months.periods_of)
        sites = np.array(self.sites, dtype=object)
        classes = np.array(self.classes, dtype=object)
        for period, (moves, copies) in migration.items():
            m.flows.add(period, sites[None, :, None], sites[None, None, :], classes[:, None, None], "migration", moves)
            m.flows.add(period, sites[None, :, None], sites[None, None, :], classes[:, None, None], "replication", copies)
        # compute and serving
        served = self.serving.account(req, seg.shares, store)
        m.busy_core_s[a:b] = served.busy_core_s
        m.nominal_busy_core_s[a:b] = (req @ seg.placement.serve) * self.serving.core_s_per_request
        m.served_requests += served.served_requests
        m.failover_requests += served.failover_requests
        m.unserved_requests += served.unserved_requests
        m.violation_requests += served.violation_requests
        m.violation_gb += served.violation_gb
        # monthly flow records of ingest, reads and exports
        bounds, periods = self._months.split(a, b)
        req_p = np.add.reduceat(req, bounds - a, axis=0)  # (P, C)
        batches, blocked_gb = self.serving.flows(periods, req_p, store, seg.shares.serve)
        for batch in batches:
            m.flows.add(*batch)
        m.export_blocked_gb += blocked_gb


def export_needs_gateway(scenario: Scenario, data_class: str, destination: str) -> bool:
    """Whether an export of ``data_class`` to ``destination`` leaves the class's zone (the gateway governs it).

    A class with residency ``"any"`` has no zone to leave; a ``"home"`` class leaves its users'
    countries for any export region; a zone-bound class leaves when the destination lies outside it.
    """
    rule = scenario.data_classes[data_class].residency
    if rule == "any":
        return False
    if rule == "home":
        return True
    return not endpoint_in_residency(scenario, destination, rule)


def replace_previous(ctx: policies.PlacementContext, previous: policies.Placement) -> policies.PlacementContext:
    """The same context, with the placement in force before the decision."""
    return dataclasses.replace(ctx, previous=previous)


def run_world(scenario: Scenario, seed_seq: np.random.SeedSequence,
              gateway_requests: RequestSink | None = None) -> Meters:
    """Build and run one replication of ``scenario``; see :class:`World`.

    ``gateway_requests`` takes every gateway request block by block while the gateway runs (the
    per-request table); the meters keep only the gateway's tally.
    """
    return World(scenario, seed_seq, gateway_requests).run()

