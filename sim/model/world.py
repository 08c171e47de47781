"""The simulated world: users, sites, network and policy, run as a SimPy model.

SimPy drives the state changes (sites coming online, and any later event that makes the policy
decide again); between two state changes the placement is fixed, so the bulk traffic of that
segment is advanced in one vectorised step over all of its time steps. Every quantity is written
to :class:`sim.metrics.Meters`; nothing here prints or touches the disk.

Storage bookkeeping per (country, class): the one-copy volume V evolves as
V_t = V_{t-1} * exp(-dt / retention) + writes_t (exponential lifetimes with the class's mean
retention), and each site holds V x its copy share. On a placement change the stock is moved
between sites (migration), extra copies are made from the existing holders (replication), and
surplus copies are dropped; every byte is metered, so written = stored + deleted + moved holds.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import simpy
from numpy.typing import NDArray
from scipy.signal import lfilter

from sim.metrics import Meters
from sim.model import policy as policies
from sim.model.datacenter import DataCenter
from sim.model.network import FlowLog, fibre_min_matrix_ms, rtt_matrix_ms
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


def component_rng(seed_seq: np.random.SeedSequence, name: str) -> np.random.Generator:
    """The generator of one named component, spawned from the run's SeedSequence.

    Keyed by name (not by creation order), so two policies run on the same seed see the same
    demand (common random numbers).
    """
    child = np.random.SeedSequence(seed_seq.entropy, spawn_key=(*seed_seq.spawn_key, zlib.crc32(name.encode())))
    return np.random.default_rng(child)


@dataclass
class _Segment:
    start_step: int
    placement: policies.Placement


class World:
    """Builds the components of a scenario and runs them.

    Args:
        scenario: the resolved scenario.
        seed_seq: this replication's SeedSequence.
    """

    def __init__(self, scenario: Scenario, seed_seq: np.random.SeedSequence) -> None:
        self.scenario = scenario
        self.grid: TimeGrid = time_grid(scenario)
        self.sites = list(scenario.policy.sites)
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
        self._site_eea = np.array([scenario.sites[s].jurisdiction == "EEA" for s in self.sites])
        self._period_start_step, self._period_s = self._month_periods()
        C, K, S, T = len(self.countries), len(self.classes), len(self.sites), self.grid.n_steps
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
            final_stock_gb=np.zeros((C, K, S)),
            rtt_ms=self.rtt_ms,
            fibre_min_ms=fibre_min_matrix_ms(scenario, self.sites),
            flows=FlowLog(),
            placement_changes_s=[],
        )
        self._volume_gb = np.zeros((C, K))  # one-copy volume per (country, class)
        self._planning_inputs()
        self._segment: _Segment | None = None

    # ------------------------------------------------------------------------------------------
    def _month_periods(self) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Step index where each calendar month starts, and that month's start in s."""
        stamps = self.grid.timestamps(self.grid.edges_s[:-1])
        months = stamps.astype("datetime64[M]")
        starts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
        first = np.datetime64(self.grid.start_utc.replace(tzinfo=None), "s")
        month_start_s = ((months[starts].astype("datetime64[s]") - first) / np.timedelta64(1, "s")).astype(float)
        return starts.astype(np.int64), np.maximum(month_start_s, 0.0)

    def _planning_inputs(self) -> None:
        """Demand figures a policy may plan with (expected values, never the random draws)."""
        sc, comp = self.scenario, self.scenario.compute
        expected = self.demand.expected_requests
        self._req_after = np.cumsum(expected[::-1], axis=0)[::-1]  # expected requests from step t on
        peak_cores = (expected / self.grid.dt_s[:, None]).max(axis=0) * comp.core_s_per_request
        servers = peak_cores / (comp.server_cores * comp.target_utilisation)
        self._compute_mw = servers * comp.server_max_w / 1e6
        busy_share = (expected.sum(axis=1) / self.grid.dt_s).mean() / (expected.sum(axis=1) / self.grid.dt_s).max()
        util = comp.target_utilisation * busy_share
        self._it_load_factor = (comp.server_idle_w + (comp.server_max_w - comp.server_idle_w) * util) / comp.server_max_w

    def _context(self, step: int = 0) -> policies.PlacementContext:
        sc = self.scenario
        shares = np.array([sc.population.shares[c] for c in self.countries])
        future_req = self._req_after[step] if step < self.grid.n_steps else np.zeros(len(self.countries))
        bounds = np.array(
            [sc.policy.max_rtt_ms_p95_by_country.get(c, sc.policy.max_rtt_ms_p95 or np.inf) for c in self.countries]
        )
        site_specs = [sc.sites[s] for s in self.sites]
        return policies.PlacementContext(
            countries=self.countries,
            classes=self.classes,
            class_eea_only=np.array([sc.data_classes[k].residency == "eea" for k in self.classes]),
            replicas=np.array([sc.data_classes[k].replicas for k in self.classes], dtype=np.int64),
            sites=self.sites,
            site_eea=self._site_eea,
            site_available=np.array([dc.online for dc in self.datacenters]),
            site_it_mw=np.array([sc.sites[s].it_mw_contracted for s in self.sites]),
            rtt_ms=self.rtt_ms,
            demand_share=shares,
            site_country=[x.country for x in site_specs],
            site_storage_pb=np.array([x.storage_pb_capacity for x in site_specs]),
            site_energy_eur_per_it_kwh=np.array([x.energy_price_eur_per_kwh * x.pue for x in site_specs]),
            site_gco2_per_it_kwh=np.array([x.grid_gco2_per_kwh * x.pue for x in site_specs]),
            volume_gb=self._volume_gb + future_req[:, None] * self._write_gb_per_request[None, :],
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

    def _stock(self, placement: policies.Placement) -> NDArray[np.float64]:
        return self._volume_gb[:, :, None] * placement.store

    # ------------------------------------------------------------------------------------------
    def run(self) -> Meters:
        """Run the whole horizon and return the filled meters."""
        env = simpy.Environment()
        sc = self.scenario
        mau0 = np.array([sc.population.mau * sc.population.shares[c] for c in self.countries])
        initial = np.array([sc.data_classes[k].initial_gb_per_mau for k in self.classes])
        self._volume_gb = mau0[:, None] * initial[None, :]
        try:
            first = self.policy.place(self._context(0))
        except policies.NoSiteAvailable as exc:
            raise ModelInputError(
                "policy.sites", f"{exc} at time.start {self.scenario.time.start} (check online_date)"
            ) from None
        self.meters.initial_gb[:] = self._stock(first).sum(axis=0)
        self._segment = _Segment(0, first)
        self.meters.placement_changes_s.append(0.0)
        for dc in self.datacenters:
            if not dc.online and dc.online_s < sc.horizon_s:
                env.process(dc.lifecycle(env, lambda: self._review(env.now)))
        env.run(until=sc.horizon_s)
        self._close_segment(self.grid.n_steps)
        self.meters.final_stock_gb[:] = self._stock(self._segment.placement)
        return self.meters

    def _review(self, now_s: float) -> None:
        """A state change: advance traffic to now, then let the policy decide again."""
        step = self.grid.step_at(now_s)
        self._close_segment(step)
        try:
            new = self.policy.place(self._context(step))
        except policies.NoSiteAvailable:
            return  # keep serving from where the data is
        assert self._segment is not None
        old = self._segment.placement
        if not new.same_as(old):
            self._rebalance(old, new, step)
            self.meters.placement_changes_s.append(float(self.grid.edges_s[step]))
        self._segment = _Segment(step, new)

    # ------------------------------------------------------------------------------------------
    def _period_of(self, step: int) -> float:
        idx = int(np.searchsorted(self._period_start_step, step, side="right") - 1)
        return float(self._period_s[max(idx, 0)])

    def _rebalance(self, old: policies.Placement, new: policies.Placement, step: int) -> None:
        """Move the stored stock from the old placement to the new one, metering every byte."""
        m = self.meters
        before = self._stock(old)
        after = self._stock(new)
        delta = after - before
        gains = np.clip(delta, 0.0, None)
        losses = np.clip(-delta, 0.0, None)
        gain_tot = gains.sum(axis=2, keepdims=True)
        loss_tot = losses.sum(axis=2, keepdims=True)
        moved = np.minimum(gain_tot, loss_tot)
        with np.errstate(invalid="ignore", divide="ignore"):
            moved_frac_in = np.where(gain_tot > 0, moved / gain_tot, 0.0)
            moved_frac_out = np.where(loss_tot > 0, moved / loss_tot, 0.0)
            holder_share = np.where(
                before.sum(axis=2, keepdims=True) > 0, before / before.sum(axis=2, keepdims=True), 0.0
            )
        moved_in = gains * moved_frac_in
        moved_out = losses * moved_frac_out
        copied_in = gains - moved_in
        dropped = losses - moved_out
        m.moved_in_gb += moved_in.sum(axis=0)
        m.moved_out_gb += moved_out.sum(axis=0)
        m.replicated_gb += copied_in.sum(axis=0)
        m.dropped_gb += dropped.sum(axis=0)
        period = self._period_of(step)
        with np.errstate(invalid="ignore", divide="ignore"):
            out_share = np.where(moved > 0, moved_out / np.where(moved > 0, moved, 1.0), 0.0)
        # (C, K, S_from, S_to) volumes, summed over countries
        migration = np.einsum("cks,ckt->kst", out_share, moved_in)
        replication = np.einsum("cks,ckt->kst", holder_share, copied_in)
        sites = np.array(self.sites, dtype=object)
        classes = np.array(self.classes, dtype=object)
        for kind, vol in (("migration", migration), ("replication", replication)):
            m.flows.add(period, sites[None, :, None], sites[None, None, :], classes[:, None, None], kind, vol)

    def _close_segment(self, end_step: int) -> None:
        """Advance bulk traffic over steps [segment start, end_step) with a fixed placement."""
        assert self._segment is not None
        a, b = self._segment.start_step, end_step
        if b <= a:
            return
        m = self.meters
        placement = self._segment.placement
        store, serve = placement.store, placement.serve
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
        # compute and serving
        m.busy_core_s[a:b] = (req @ serve) * self.scenario.compute.core_s_per_request
        m.served_requests += req.sum(axis=0)[:, None] * serve
        self._record_flows(a, b, req, placement)

    def _record_flows(self, a: int, b: int, req: NDArray[np.float64], placement: policies.Placement) -> None:
        """Monthly flow records for ingest, reads and exports of steps [a, b)."""
        m = self.meters
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
        reads = req_p[:, :, None, None] * rd * placement.serve[None, :, None, :]
        m.flows.add(per, sites[None, None, None, :], countries[None, :, None, None], classes[None, None, :, None], "read", reads)
        # exports: a share of the written bytes leaves for its destination from the holding sites
        copies = placement.store.sum(axis=2, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            holder = np.where(copies > 0, placement.store / np.where(copies > 0, copies, 1.0), 0.0)
        exported = req_p[:, :, None] * self._write_gb_per_request[None, None, :] * self._export_share[None, None, :]  # (P, C, K)
        blocked = self.scenario.policy.transfer == "strict"
        for k, dest in enumerate(self._export_dest):
            vol = np.einsum("pc,cs->ps", exported[:, :, k], holder[:, k, :])  # (P, S)
            if blocked and self._protected[k]:
                m.export_blocked_gb[k] += vol.sum()
                continue
            m.flows.add(periods[:, None], sites[None, :], dest, classes[k], "export", vol)


def run_world(scenario: Scenario, seed_seq: np.random.SeedSequence) -> Meters:
    """Build and run one replication of ``scenario``; see :class:`World`."""
    return World(scenario, seed_seq).run()

