"""Serving: which sites answer each country's requests, failover, unserved requests and violations.

A placement names each country's nominal serving split. A site that is offline, down, or cut
from its users serves nothing; its share fails over to the nearest reachable sites the failover
rule allows (``policy.failover``: ``"in_zone"``, only sites inside the zones of every residency-bound
class of the country's users, or ``"anywhere"``), each taking load only up to its contracted IT
power; what no allowed site can carry is unserved (queued until the site is back). Every byte of
a residency-bound class read or written at a site outside the class's zone is a residency
violation, whoever sent it there (failover, the placement, an interim layout), and so is every
request served at a site outside its users' enclave. Requests also carry bytes: uploads to every site holding a copy,
reads from the serving sites, and a class's export share leaving from its holding sites (unless
the transfer policy blocks the destination).

Shapes: C countries, K data classes, S sites, n steps of one segment, P flow periods.
Units: requests as counts, busy core-seconds, MW for IT power, ms for round trips, GB for bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from sim.scenario import Scenario

__all__ = ["ClassTraffic", "ServingShares", "ServedSegment", "FlowBatch", "Serving"]


@dataclass(frozen=True)
class ClassTraffic:
    """Bytes per request of each data class, and where its exports go.

    Attributes:
        write_gb_per_request: (K,) one-copy GB each request writes.
        read_gb_per_request: (K,) GB each request reads.
        bound: (K,) True where the class has a residency rule (a zone or ``home``).
        export_share: (K,) share of written bytes exported.
        export_destination: (K,) export region of each class.
        export_blocked: (K,) True where the transfer policy blocks the class's exports.
    """

    write_gb_per_request: NDArray[np.float64]
    read_gb_per_request: NDArray[np.float64]
    bound: NDArray[np.bool_]
    export_share: NDArray[np.float64]
    export_destination: list[str]
    export_blocked: NDArray[np.bool_]

    @classmethod
    def from_scenario(cls, scenario: Scenario, classes: list[str]) -> ClassTraffic:
        """The figures of ``classes`` (K) in ``scenario``."""
        specs = [scenario.data_classes[k] for k in classes]
        rpd = scenario.population.requests_per_dau_per_day
        strict = scenario.policy.transfer == "strict"
        blocked = set(scenario.policy.blocked_destinations)
        return cls(
            write_gb_per_request=np.array([d.write_gb_per_dau_per_day / rpd for d in specs]),
            read_gb_per_request=np.array([d.read_gb_per_dau_per_day / rpd for d in specs]),
            bound=np.array([d.residency != "any" for d in specs], dtype=bool),
            export_share=np.array([d.export_share for d in specs]),
            export_destination=[d.export_destination for d in specs],
            export_blocked=np.array([(strict and d.protected) or d.export_destination in blocked for d in specs], dtype=bool),
        )


@dataclass(frozen=True)
class ServingShares:
    """Effective serving after failover, while nothing changes state.

    Attributes:
        serve: (C, S) share of each country's requests each site serves (failover included).
        failover: (C, S) the part of ``serve`` that is failover (a lost site's share moved on).
        unserved: (C,) share of requests nobody can serve.
    """

    serve: NDArray[np.float64]
    failover: NDArray[np.float64]
    unserved: NDArray[np.float64]


@dataclass(frozen=True)
class ServedSegment:
    """What serving the requests of a segment's n steps metered.

    Attributes:
        busy_core_s: (n, S) busy core-seconds per step and site.
        served_requests: (C, S) requests served.
        failover_requests: (C, S) of those, requests served by failover.
        unserved_requests: (C,) requests nobody could serve.
        violation_requests: requests served at a site outside the zone of a residency-bound class
            of their users.
        violation_gb: (K,) bytes of residency-bound classes read or written at sites outside the
            class's zone, GB.
    """

    busy_core_s: NDArray[np.float64]
    served_requests: NDArray[np.float64]
    failover_requests: NDArray[np.float64]
    unserved_requests: NDArray[np.float64]
    violation_requests: float
    violation_gb: NDArray[np.float64]


class FlowBatch(NamedTuple):
    """Arguments of one :meth:`sim.meters.FlowLog.add` call (broadcast together)."""

    period_s: NDArray[np.float64]
    source: NDArray | str
    destination: NDArray | str
    data_class: NDArray | str
    kind: str
    gb: NDArray[np.float64]


class Serving:
    """Failover and the accounting of served requests and their bytes.

    Args:
        countries: ISO-2 codes (C).
        sites: site ids (S).
        classes: data class names (K).
        traffic: bytes per request of each class.
        rtt_ms: (C, S) round trip from each country to each site (failover goes nearest first).
        allowed: (C, K, S) True where country c's class-k bytes may lie at site s (residency).
        contracted_mw: (S,) contracted IT power of each site, MW.
        compute_mw: (C,) IT power serving each country's peak needs, MW.
        failover_in_zone: failover may use only sites inside the zones of every residency-bound
            class of the country's users.
        core_s_per_request: busy core-seconds per request.
    """

    def __init__(
        self,
        countries: list[str],
        sites: list[str],
        classes: list[str],
        traffic: ClassTraffic,
        rtt_ms: NDArray[np.float64],
        allowed: NDArray[np.bool_],
        contracted_mw: NDArray[np.float64],
        compute_mw: NDArray[np.float64],
        failover_in_zone: bool,
        core_s_per_request: float,
    ) -> None:
        self.traffic = traffic
        self.rtt_ms = rtt_ms
        self.allowed = np.asarray(allowed, bool)
        bound = np.asarray(traffic.bound, bool)
        #: (C, S) sites inside the zones of every residency-bound class of each country
        self.enclave = self.allowed[:, bound, :].all(axis=1) if bound.any() else np.ones((len(countries), len(sites)), bool)
        self.contracted_mw = contracted_mw
        self.compute_mw = compute_mw
        self.core_s_per_request = core_s_per_request
        self._failover_to = self.enclave if failover_in_zone else np.ones((len(countries), len(sites)), dtype=bool)
        self._user_cuts = np.zeros(len(sites), dtype=np.int64)
        self._countries = np.array(countries, dtype=object)
        self._sites = np.array(sites, dtype=object)
        self._classes = np.array(classes, dtype=object)

    def cut_users(self, site: int, n: int = 1) -> None:
        """Start (n = 1) or end (n = -1) a cut between site ``site`` and its users."""
        self._user_cuts[site] += n

    def reachable(self, up: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """(S,) sites that are up (given, (S,)) and not cut from their users."""
        return up & ~(self._user_cuts > 0)

    def shares(self, nominal: NDArray[np.float64], up: NDArray[np.bool_]) -> ServingShares:
        """Move the (C, S) nominal share of unreachable sites to the nearest allowed reachable sites.

        A receiving site takes failover load only up to its contracted IT power (peak demand of
        the countries it already serves counted first); what no allowed site can carry is not
        served.

        Args:
            nominal: (C, S) the placement's serving split.
            up: (S,) sites online and not down.
        """
        reach = self.reachable(up)
        serve = nominal * reach[None, :]
        lost = nominal[:, ~reach].sum(axis=1)
        failover = np.zeros_like(nominal)
        unserved = np.zeros(len(nominal))
        if not lost.any():
            return ServingShares(serve, failover, unserved)
        allowed = reach[None, :] & self._failover_to  # (C, S)
        compute_mw = self.compute_mw
        headroom = np.clip(self.contracted_mw - compute_mw @ serve, 0.0, None)
        order = np.argsort(self.rtt_ms, axis=1, kind="stable")
        for c in np.argsort(-lost * compute_mw, kind="stable"):
            need_mw = lost[c] * compute_mw[c]
            for s_idx in order[c]:
                if need_mw <= 0 or not allowed[c, s_idx]:
                    continue
                take = min(need_mw, headroom[s_idx])
                if take > 0:
                    failover[c, s_idx] += take / compute_mw[c]
                    headroom[s_idx] -= take
                    need_mw -= take
            unserved[c] = max(need_mw, 0.0) / compute_mw[c] if compute_mw[c] > 0 else lost[c]
        return ServingShares(serve + failover, failover, unserved)

    def account(self, requests: NDArray[np.float64], shares: ServingShares,
                store: NDArray[np.float64] | None = None) -> ServedSegment:
        """Serve the (n, C) requests of a segment under fixed ``shares`` (copies ``store``, (C, K, S)).

        Violations: requests served outside their users' enclave; bytes of residency-bound
        classes read from, or (with ``store``) written to, sites outside the class's zone.
        """
        busy_core_s = (requests @ shares.serve) * self.core_s_per_request
        req_total = requests.sum(axis=0)
        served = req_total[:, None] * shares.serve  # (C, S)
        outside = ~self.allowed & np.asarray(self.traffic.bound, bool)[None, :, None]  # (C, K, S)
        violating = float((served * ~self.enclave).sum())
        read_gb = np.einsum("cs,cks->k", served, outside) * self.traffic.read_gb_per_request
        written_gb = np.zeros_like(read_gb)
        if store is not None:
            written_gb = np.einsum("c,cks->k", req_total, store * outside) * self.traffic.write_gb_per_request
        return ServedSegment(
            busy_core_s=busy_core_s,
            served_requests=req_total[:, None] * shares.serve,
            failover_requests=req_total[:, None] * shares.failover,
            unserved_requests=req_total * shares.unserved,
            violation_requests=violating,
            violation_gb=read_gb + written_gb,
        )

    def flows(
        self,
        periods_s: NDArray[np.float64],
        requests: NDArray[np.float64],
        store: NDArray[np.float64],
        serve: NDArray[np.float64],
    ) -> tuple[list[FlowBatch], NDArray[np.float64]]:
        """Flow records of the bytes P periods' requests carry: ingest, reads and exports.

        Args:
            periods_s: (P,) period starts, s.
            requests: (P, C) requests per period.
            store: (C, K, S) copy shares of the placement in force.
            serve: (C, S) effective serving shares.

        Returns:
            The flow batches (ingest, read, then exports class by class), and the (K,) exported
            GB the transfer policy blocked.
        """
        tr = self.traffic
        countries, sites, classes = self._countries, self._sites, self._classes
        per = periods_s[:, None, None, None]
        wr = tr.write_gb_per_request[None, None, :, None]
        rd = tr.read_gb_per_request[None, None, :, None]
        ingest = requests[:, :, None, None] * wr * store[None]  # (P, C, K, S)
        batches = [
            FlowBatch(per, countries[None, :, None, None], sites[None, None, None, :], classes[None, None, :, None], "ingest", ingest)
        ]
        reads = requests[:, :, None, None] * rd * serve[None, :, None, :]
        batches.append(
            FlowBatch(per, sites[None, None, None, :], countries[None, :, None, None], classes[None, None, :, None], "read", reads)
        )
        # exports: a share of the written bytes leaves for its destination from the holding sites
        copies = store.sum(axis=2, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            holder = np.where(copies > 0, store / np.where(copies > 0, copies, 1.0), 0.0)
        exported = requests[:, :, None] * tr.write_gb_per_request[None, None, :] * tr.export_share[None, None, :]
        blocked = np.zeros(len(classes))
        for k, dest in enumerate(tr.export_destination):
            vol = np.einsum("pc,cs->ps", exported[:, :, k], holder[:, k, :])  # (P, S)
            if tr.export_blocked[k]:
                blocked[k] = vol.sum()
                continue
            batches.append(FlowBatch(periods_s[:, None], sites[None, :], dest, classes[k], "export", vol))
        return batches, blocked
