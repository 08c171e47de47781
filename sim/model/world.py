"""The simulated world: users, sites, network and policy, run as a SimPy model.

SimPy drives the state changes (sites coming online, and any later event that makes the policy
decide again); between two state changes the placement is fixed, so the bulk traffic of that
segment is advanced in one vectorised step over all of its time steps. Every quantity is written
to :class:`sim.meters.Meters`; nothing here prints or touches the disk.

Storage bookkeeping per (country, class): the one-copy volume V evolves as
V_t = V_{t-1} * exp(-dt / retention) + writes_t (exponential lifetimes with the class's mean
retention), and each site holds V x its copy share. On a placement change the stock is moved
between sites (migration), extra copies are made from the existing holders (replication), and
surplus copies are dropped; every byte is metered, so written = stored + deleted + moved holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import simpy
from numpy.typing import NDArray
from scipy.signal import lfilter

from sim.seeds import component_rng
from sim.meters import Meters
from sim.model.placement import policy as policies
from sim.model.datacenter import DataCenter
from sim.model.gateway import GatewayRun, simulate_gateway
from sim.model.migration import MigrationBacklog
from sim.meters import FlowLog
from sim.model.network import fibre_min_matrix_ms, rtt_matrix_ms
from sim.model.traffic import Demand, TimeGrid, draw_demand, time_grid
from sim.scenario import Scenario

__all__ = ["World", "ModelInputError", "component_rng", "run_world"]


class ModelInputError(ValueError):
    """The scenario validates but cannot be run as given (e.g. no site online at the start).

    Attributes:
        field: dotted scenario field at fault.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


@dataclass
class _Segment:
    """A stretch of steps in which nothing changes state.

    Attributes:
        start_step: first step of the segment.
        placement: the policy's decision (storage layout and nominal serving).
        serve: (C, S) effective serving shares after failover.
        failover: (C, S) the part of ``serve`` that is failover (a down site's share moved on).
        unserved: (C,) share of requests nobody can serve.
        link_gbps: (S, S) usable migration bandwidth from -> to.
    """

    start_step: int
    placement: policies.Placement
    serve: NDArray[np.float64]
    failover: NDArray[np.float64]
    unserved: NDArray[np.float64]
    link_gbps: NDArray[np.float64]


class World:
    """Builds the components of a scenario and runs them.

    Args:
        scenario: the resolved scenario.
        seed_seq: this replication's SeedSequence.
    """

    def __init__(self, scenario: Scenario, seed_seq: np.random.SeedSequence) -> None:
        self.scenario = scenario
        self.seed_seq = seed_seq
        self.grid: TimeGrid = time_grid(scenario)
        self.sites = scenario.world_sites
        self.classes = list(scenario.data_classes)
        self.countries = list(scenario.population.countries)
        self.datacenters = [DataCenter.from_scenario(scenario, s) for s in self.sites]
        self.demand: Demand = draw_demand(scenario, self.grid, component_rng(seed_seq, "traffic"))
        self.policy = policies.get_policy(scenario.policy.placement)
        self.rtt_ms = rtt_matrix_ms(scenario, self.sites)
        specs = [scenario.data_classes[k] for k in self.classes]
        rpd = scenario.population.requests_per_dau_per_day
        self._write_gb_per_request = np.array([d.write_gb_per_dau_per_day / rpd for d in specs])
        self._read_gb_per_request = np.array([d.read_gb_per_dau_per_day / rpd for d in specs])
        self._retention_s = np.array([d.retention_days * 86400.0 for d in specs])
        self._export_share = np.array([d.export_share for d in specs])
        self._export_dest = [d.export_destination for d in specs]
        self._protected = np.array([d.protected for d in specs])
        self._eea_only = np.array([d.residency == "eea" for d in specs])
        self._site_eea = np.array([scenario.sites[s].jurisdiction == "EEA" for s in self.sites])
        self._placeable = np.array([s in scenario.policy.sites for s in self.sites])
        self._start_sites = np.array([s in scenario.policy.start_sites for s in self.sites])
        self._period_start_step, self._period_s = self._month_periods()
        self._link_gbps = self._link_matrix()
        self._cuts: dict[tuple[int, int], int] = {}
        self._migration_open = scenario.network.migration_start is None or scenario.network.migration_start <= scenario.time.start
        C, K, S, T = len(self.countries), len(self.classes), len(self.sites), self.grid.n_steps
        self.backlog = MigrationBacklog(K, S)
        self.meters = Meters(
            countries=self.countries,
            classes=self.classes,
            sites=self.sites,
            edges_s=self.grid.edges_s,
            requests=self.demand.requests,
            mau=self.demand.mau,
            busy_core_s=np.zeros((T, S)),
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
        self._volume_gb = np.zeros((C, K))  # one-copy volume per (country, class)
        self._planning_inputs()
        self._segment: _Segment | None = None

    # ------------------------------------------------------------------------------------------
    # set-up helpers

    def _month_periods(self) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Step index where each calendar month starts, and that month's start in s."""
        stamps = self.grid.timestamps(self.grid.edges_s[:-1])
        months = stamps.astype("datetime64[M]")
        starts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
        first = np.datetime64(self.grid.start_utc.replace(tzinfo=None), "s")
        month_start_s = ((months[starts].astype("datetime64[s]") - first) / np.timedelta64(1, "s")).astype(float)
        return starts.astype(np.int64), np.maximum(month_start_s, 0.0)

    def _link_matrix(self) -> NDArray[np.float64]:
        """(S, S) bandwidth between sites, Gbit/s each way (default where no link is given)."""
        net = self.scenario.network
        gbps = np.full((len(self.sites), len(self.sites)), net.default_link_gbps)
        index = {s: i for i, s in enumerate(self.sites)}
        for link in net.links:
            if link.a in index and link.b in index:
                gbps[index[link.a], index[link.b]] = gbps[index[link.b], index[link.a]] = link.gbps
        np.fill_diagonal(gbps, 0.0)
        return gbps

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
        sc = self.scenario
        shares = np.array([sc.population.shares[c] for c in self.countries])
        bounds = np.array(
            [sc.policy.max_rtt_ms_p95_by_country.get(c, sc.policy.max_rtt_ms_p95 or np.inf) for c in self.countries]
        )
        site_specs = [sc.sites[s] for s in self.sites]
        return policies.PlacementContext(
            countries=self.countries,
            classes=self.classes,
            class_eea_only=self._eea_only,
            replicas=np.array([sc.data_classes[k].replicas for k in self.classes], dtype=np.int64),
            sites=self.sites,
            site_eea=self._site_eea,
            site_available=np.array([dc.online for dc in self.datacenters])
            & (self._placeable if allowed is None else allowed),
            site_it_mw=np.array([x.it_mw_contracted for x in site_specs]),
            rtt_ms=self.rtt_ms,
            demand_share=shares,
            site_country=[x.country for x in site_specs],
            site_storage_pb=np.array([x.storage_pb_capacity for x in site_specs]),
            site_energy_eur_per_it_kwh=np.array([x.energy_price_eur_per_kwh * x.pue for x in site_specs]),
            site_gco2_per_it_kwh=np.array([x.grid_gco2_per_kwh * x.pue for x in site_specs]),
            volume_gb=self._planning_volume_gb(step),
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

    def _planning_volume_gb(self, step: int) -> NDArray[np.float64]:
        """(C, K) largest expected one-copy volume from ``step`` to the end of the run.

        The stock now, plus expected writes, minus expected retention deletions, on expected
        demand only (never the random draws), so a policy sizes storage for what will be there.
        """
        expected = self.demand.expected_requests[step:]
        if len(expected) == 0:
            return self._volume_gb.copy()
        dt_s = float(self.grid.dt_s[step])
        peak = self._volume_gb.copy()
        for k in range(len(self.classes)):
            d = np.exp(-dt_s / self._retention_s[k])
            writes = expected * self._write_gb_per_request[k]
            path = lfilter([1.0], [1.0, -d], writes, axis=0, zi=d * self._volume_gb[None, :, k])[0]
            peak[:, k] = np.maximum(peak[:, k], path.max(axis=0))
        return peak

    def _stock(self, placement: policies.Placement) -> NDArray[np.float64]:
        return self._volume_gb[:, :, None] * placement.store

    # ------------------------------------------------------------------------------------------
    # the run

    def run(self) -> Meters:
        """Run the whole horizon and return the filled meters."""
        env = simpy.Environment()
        sc = self.scenario
        mau0 = np.array([sc.population.mau * sc.population.shares[c] for c in self.countries])
        initial = np.array([sc.data_classes[k].initial_gb_per_mau for k in self.classes])
        self._volume_gb = mau0[:, None] * initial[None, :]
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
        self.meters.initial_gb[:] = self._stock(first).sum(axis=0)
        self._segment = self._new_segment(0, first)
        self.meters.placement_changes_s.append(0.0)
        if start_policy is not None:
            self._changed(0.0, replace=True)  # the main policy takes over where it can
        for proc in self._processes(env):
            env.process(proc)
        env.run(until=sc.horizon_s)
        self._close_segment(self.grid.n_steps)
        m = self.meters
        m.final_stock_gb[:] = self._stock(self._segment.placement)
        if not self.backlog.empty:
            self._spread_adjustment(m.final_stock_gb)
        m.pending_migration_gb = self.backlog.pending_gb()
        m.gateway = self._run_gateway()
        return m

    def _run_gateway(self) -> GatewayRun | None:
        """Every employee access and every export as an individual request through the gateway
        (None when the scenario has no gateway: nothing queues, exports leave as they are).

        Transfer jobs arrive at the rate the data classes' exports imply: exported GB per
        (class, destination) per hour / the mean job size.
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
            rates[(str(cls), str(dest))] = rates.get((str(cls), str(dest)), 0.0) + gb / hours / mean_gb
        return simulate_gateway(
            sc.gateway,
            start_utc=sc.start_utc,
            horizon_s=sc.horizon_s,
            rng=component_rng(self.seed_seq, "gateway"),
            transfer_policy=sc.policy.transfer,
            transfer_jobs_per_hour=rates,
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
        if not self._migration_open:
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
        key = (min(a, b), max(a, b)) if b >= 0 else (a, -1)
        self._cuts[key] = self._cuts.get(key, 0) + 1
        self._changed(env.now)
        yield env.timeout(end_s - env.now)
        self._cuts[key] -= 1
        self._changed(env.now)

    def _open_migration(self, env: simpy.Environment, start_s: float) -> Generator[simpy.Event, None, None]:
        yield env.timeout(max(start_s, 0.0))
        self._migration_open = True
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
                self._rebalance(placement, new, step)
                self.meters.placement_changes_s.append(float(self.grid.edges_s[step]))
                placement = new
        self._segment = self._new_segment(step, placement)

    # ------------------------------------------------------------------------------------------
    # serving and failover

    def _new_segment(self, step: int, placement: policies.Placement) -> _Segment:
        serve, failover, unserved = self._effective_serve(placement)
        return _Segment(step, placement, serve, failover, unserved, self._usable_links())

    def _reachable(self) -> NDArray[np.bool_]:
        """(S,) sites that are online, up and reachable by users now."""
        up = np.array([dc.online and dc.down == 0 for dc in self.datacenters])
        cut = np.array([self._cuts.get((i, -1), 0) > 0 for i in range(len(self.sites))])
        return up & ~cut

    def _effective_serve(
        self, placement: policies.Placement
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Move the share of unreachable sites to the nearest allowed reachable sites.

        ``policy.failover = "eea_only"`` allows EEA sites only; ``"anywhere"`` any reachable site
        (including ``policy.failover_sites``). A receiving site takes failover load only up to
        its contracted IT power (peak demand of the countries it already serves counted first);
        what no allowed site can carry is not served (queued until the site is back).
        """
        reach = self._reachable()
        nominal = placement.serve
        serve = nominal * reach[None, :]
        lost = nominal[:, ~reach].sum(axis=1)
        failover = np.zeros_like(nominal)
        unserved = np.zeros(len(self.countries))
        if not lost.any():
            return serve, failover, unserved
        allowed = reach & (self._site_eea if self.scenario.policy.failover == "eea_only" else True)
        contracted = np.array([self.scenario.sites[s].it_mw_contracted for s in self.sites])
        headroom = np.clip(contracted - self._compute_mw @ serve, 0.0, None) * allowed
        order = np.argsort(self.rtt_ms, axis=1, kind="stable")
        for c in np.argsort(-lost * self._compute_mw, kind="stable"):
            need_mw = lost[c] * self._compute_mw[c]
            for s_idx in order[c]:
                if need_mw <= 0 or not allowed[s_idx]:
                    continue
                take = min(need_mw, headroom[s_idx])
                if take > 0:
                    failover[c, s_idx] += take / self._compute_mw[c]
                    headroom[s_idx] -= take
                    need_mw -= take
            unserved[c] = max(need_mw, 0.0) / self._compute_mw[c] if self._compute_mw[c] > 0 else lost[c]
        return serve + failover, failover, unserved

    def _usable_links(self) -> NDArray[np.float64]:
        """(S, S) migration bandwidth now: zero before migration starts, to or from a site that is
        offline or down, and over a cut link."""
        if not self._migration_open:
            return np.zeros_like(self._link_gbps)
        up = np.array([dc.online and dc.down == 0 for dc in self.datacenters])
        gbps = self._link_gbps * up[:, None] * up[None, :]
        for (a, b), n in self._cuts.items():
            if n > 0 and b >= 0:
                gbps[a, b] = gbps[b, a] = 0.0
        return gbps

    # ------------------------------------------------------------------------------------------
    # storage bookkeeping

    def _period_of(self, step: int) -> float:
        idx = int(np.searchsorted(self._period_start_step, step, side="right") - 1)
        return float(self._period_s[max(idx, 0)])

    def _rebalance(self, old: policies.Placement, new: policies.Placement, step: int) -> None:
        """Queue the moves and copies from the old layout to the new one; drop surplus copies."""
        before = self._stock(old)
        after = self._stock(new)
        delta = after - before
        gains = np.clip(delta, 0.0, None)
        losses = np.clip(-delta, 0.0, None)
        gain_tot = gains.sum(axis=2, keepdims=True)
        loss_tot = losses.sum(axis=2, keepdims=True)
        moved = np.minimum(gain_tot, loss_tot)
        with np.errstate(invalid="ignore", divide="ignore"):
            moved_in = gains * np.where(gain_tot > 0, moved / np.where(gain_tot > 0, gain_tot, 1.0), 0.0)
            moved_out = losses * np.where(loss_tot > 0, moved / np.where(loss_tot > 0, loss_tot, 1.0), 0.0)
            holders = before.sum(axis=2, keepdims=True)
            holder_share = np.where(holders > 0, before / np.where(holders > 0, holders, 1.0), 0.0)
            out_share = np.where(moved > 0, moved_out / np.where(moved > 0, moved, 1.0), 0.0)
        copied_in = gains - moved_in
        # (K, S_from, S_to), summed over countries
        moves = np.einsum("cks,ckt->kst", out_share, moved_in)
        copies = np.einsum("cks,ckt->kst", holder_share, copied_in)
        self.backlog.add(moves, copies, (losses - moved_out).sum(axis=0))

    def _spread_adjustment(self, stock: NDArray[np.float64]) -> None:
        """Add the backlog's (K, S) adjustment to a (C, K, S) stock, pro rata by country."""
        adj = self.backlog.adjustment()
        totals = self._volume_gb.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            weight = np.where(totals > 0, self._volume_gb / np.where(totals > 0, totals, 1.0), 0.0)
        stock += weight[:, :, None] * adj[None, :, :]

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
        dt_s = self.grid.dt_s[a:b]
        writes = req[:, :, None] * self._write_gb_per_request[None, None, :]  # (n, C, K) one copy
        # V_t = d_t V_{t-1} + x_t; all steps but possibly the last have the same length.
        volume = np.empty_like(writes)
        v0 = self._volume_gb
        uniform = b - a - 1 if dt_s[-1] != dt_s[0] else b - a
        for k in range(len(self.classes)):
            if uniform:
                d = np.exp(-dt_s[0] / self._retention_s[k])
                volume[:uniform, :, k] = lfilter([1.0], [1.0, -d], writes[:uniform, :, k], axis=0, zi=d * v0[None, :, k])[0]
            if uniform < b - a:
                prev = volume[uniform - 1, :, k] if uniform else v0[:, k]
                volume[-1, :, k] = prev * np.exp(-dt_s[-1] / self._retention_s[k]) + writes[-1, :, k]
        v_end = volume[-1]
        written_one = writes.sum(axis=0)  # (C, K)
        deleted_one = v0 + written_one - v_end
        m.written_gb += np.einsum("ck,cks->ks", written_one, store)
        m.deleted_gb += np.einsum("ck,cks->ks", deleted_one, store)
        m.stored_gb[a:b] = np.einsum("tck,cks->tks", volume, store)
        self._volume_gb = v_end
        if not self.backlog.empty:
            self._migrate(a, b)
        # compute and serving
        serve = seg.serve
        m.busy_core_s[a:b] = (req @ serve) * self.scenario.compute.core_s_per_request
        req_total = req.sum(axis=0)
        m.served_requests += req_total[:, None] * serve
        m.failover_requests += req_total[:, None] * seg.failover
        m.unserved_requests += req_total * seg.unserved
        outside = ~self._site_eea
        violating = (req_total[:, None] * seg.failover)[:, outside].sum(axis=0).sum()
        m.violation_requests += violating
        m.violation_gb += violating * self._read_gb_per_request * self._eea_only
        self._record_flows(a, b, req, seg)

    def _migrate(self, a: int, b: int) -> None:
        """Step the migration backlog through steps [a, b) while anything is pending."""
        m = self.meters
        seg = self._segment
        assert seg is not None
        dt_s = self.grid.dt_s
        by_period: dict[float, list[NDArray[np.float64]]] = {}
        for t in range(a, b):
            if self.backlog.empty:
                break
            decay = np.exp(-dt_s[t] / self._retention_s)
            logical = m.stored_gb[t].copy()
            drained = self.backlog.step(float(dt_s[t]), decay, seg.link_gbps, logical)
            m.deleted_gb += drained.extra_deleted
            m.moved_out_gb += drained.moves.sum(axis=2)
            m.moved_in_gb += drained.moves.sum(axis=1)
            m.replicated_gb += drained.copies.sum(axis=1)
            m.dropped_gb += drained.dropped
            m.stored_gb[t] = logical + self.backlog.adjustment()
            acc = by_period.setdefault(self._period_of(t), [np.zeros_like(drained.moves), np.zeros_like(drained.moves)])
            acc[0] += drained.moves
            acc[1] += drained.copies
        # steps after the backlog emptied keep the logical layout already in stored_gb
        sites = np.array(self.sites, dtype=object)
        classes = np.array(self.classes, dtype=object)
        for period, (moves, copies) in by_period.items():
            m.flows.add(period, sites[None, :, None], sites[None, None, :], classes[:, None, None], "migration", moves)
            m.flows.add(period, sites[None, :, None], sites[None, None, :], classes[:, None, None], "replication", copies)

    def _record_flows(self, a: int, b: int, req: NDArray[np.float64], seg: _Segment) -> None:
        """Monthly flow records for ingest, reads and exports of steps [a, b)."""
        m = self.meters
        placement = seg.placement
        cut = np.searchsorted(self._period_start_step, [a, b], side="right")
        bounds = np.unique(np.r_[a, self._period_start_step[cut[0] : cut[1]]])
        bounds = bounds[(bounds >= a) & (bounds < b)]
        periods = np.array([self._period_of(int(s)) for s in bounds])
        req_p = np.add.reduceat(req, bounds - a, axis=0)  # (P, C)
        countries = np.array(self.countries, dtype=object)
        sites = np.array(self.sites, dtype=object)
        classes = np.array(self.classes, dtype=object)
        per = periods[:, None, None, None]
        wr = self._write_gb_per_request[None, None, :, None]
        rd = self._read_gb_per_request[None, None, :, None]
        ingest = req_p[:, :, None, None] * wr * placement.store[None]  # (P, C, K, S)
        m.flows.add(per, countries[None, :, None, None], sites[None, None, None, :], classes[None, None, :, None], "ingest", ingest)
        reads = req_p[:, :, None, None] * rd * seg.serve[None, :, None, :]
        m.flows.add(per, sites[None, None, None, :], countries[None, :, None, None], classes[None, None, :, None], "read", reads)
        # exports: a share of the written bytes leaves for its destination from the holding sites
        copies = placement.store.sum(axis=2, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            holder = np.where(copies > 0, placement.store / np.where(copies > 0, copies, 1.0), 0.0)
        exported = req_p[:, :, None] * self._write_gb_per_request[None, None, :] * self._export_share[None, None, :]
        strict = self.scenario.policy.transfer == "strict"
        blocked_dest = set(self.scenario.policy.blocked_destinations)
        for k, dest in enumerate(self._export_dest):
            vol = np.einsum("pc,cs->ps", exported[:, :, k], holder[:, k, :])  # (P, S)
            if (strict and self._protected[k]) or dest in blocked_dest:
                m.export_blocked_gb[k] += vol.sum()
                continue
            m.flows.add(periods[:, None], sites[None, :], dest, classes[k], "export", vol)


def replace_previous(ctx: policies.PlacementContext, previous: policies.Placement) -> policies.PlacementContext:
    """The same context, with the placement in force before the decision."""
    return dataclasses.replace(ctx, previous=previous)


def run_world(scenario: Scenario, seed_seq: np.random.SeedSequence) -> Meters:
    """Build and run one replication of ``scenario``; see :class:`World`."""
    return World(scenario, seed_seq).run()

