"""Storage: where each country's bytes are, how retention ages them, and how they move between sites.

The one-copy volume V of each (country, class) evolves as
V_t = V_{t-1} x exp(-dt / retention) + writes_t (exponential lifetimes with the class's mean
retention), and each site holds V x its copy share of the placement. On a placement change the
stock is moved between sites (migration), extra copies are made from the existing holders
(replication), and surplus copies are dropped; the moves and copies join a
:class:`~sim.model.migration.MigrationBacklog` and cross the inter-site links at their finite
bandwidth (none before ``network.migration_start``, none to or from a site that is offline or
down, none over a cut link). Every byte is tallied, so written = stored + deleted + moved holds.

Shapes: T steps, C countries, K data classes, S sites; n steps of one segment; a placement's
``store`` is (C, K, S) copy shares. Units: GB for bytes, s for time and retention, Gbit/s for
links, requests as counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from sim.cachedir import use_for_numba
from sim.model.migration import MigrationBacklog
from sim.scenario import Scenario

__all__ = ["StorageTally", "MigrationLinks", "Storage", "link_matrix_gbps", "migrate_steps"]

#: Moves and copies per period start (s): two (K, S_from, S_to) arrays, GB.
MigrationFlows = dict[float, list[NDArray[np.float64]]]


use_for_numba()  # compiled code goes to the user cache folder, never into the installed package


@njit(cache=True)
def decay_path(writes, d, v1):  # noqa: ANN001, ANN201 - compiled
    """(n, m) V_t = d x V_{t-1} + writes_t along axis 0, starting from d x V_{-1} = ``v1``.

    Bit for bit what ``scipy.signal.lfilter([1.0], [1.0, -d], writes, axis=0, zi=v1[None])[0]``
    gives (the same two operations per step), without importing ``scipy.signal`` (~0.7 s).
    """
    out = np.empty(writes.shape)
    for j in range(writes.shape[1]):
        z = v1[j]
        for t in range(writes.shape[0]):
            y = z + writes[t, j]
            out[t, j] = y
            z = y * d
    return out


@njit(cache=True)
def migrate_steps(moves, copies, drops, dt_s, decay, cap_gbps, stored, deleted, moved_out, moved_in,  # noqa: ANN001, ANN201
                  replicated, dropped, period_idx, acc):
    """Step a migration backlog through n steps while anything is pending (compiled, in place).

    Step for step what :meth:`sim.model.migration.MigrationBacklog.step` does and what
    ``Storage`` adds up after it; sums are taken in loop order, so figures agree with the NumPy
    version to rounding.

    Args:
        moves: (K, S, S) pending moves from -> to, GB (updated).
        copies: (K, S, S) pending copies from -> to, GB (updated).
        drops: (K, S) surplus copies still to drop, GB (updated).
        dt_s: (n,) step lengths, s.
        decay: (n, K) share of bytes retention keeps over each step.
        cap_gbps: (S, S) usable bandwidth from -> to, Gbit/s.
        stored: (n, K, S) logical stock at the end of each step in, physical stock out, GB.
        deleted: (K, S) bytes retention deleted beyond the logical deletion, GB (added to).
        moved_out: (K, S) moved bytes sent per site, GB (added to).
        moved_in: (K, S) moved bytes received per site, GB (added to).
        replicated: (K, S) copies received per site, GB (added to).
        dropped: (K, S) surplus copies deleted per site, GB (added to).
        period_idx: (n,) flow period of each step (index into ``acc``).
        acc: (2, P, K, S, S) moves and copies per period, GB (added to).

    Returns:
        Steps run (fewer than n when the backlog emptied; later steps keep their logical stock).
    """
    n_classes, n_sites = drops.shape
    pending = np.empty((n_sites, n_sites))
    frac = np.empty((n_sites, n_sites))
    sent_m = np.empty_like(moves)
    sent_c = np.empty_like(copies)
    adj = np.empty((n_classes, n_sites))
    pending_k = np.empty(n_classes)
    for i in range(dt_s.shape[0]):
        if not _pending(moves, copies, drops):
            return i
        _adjustment(moves, copies, drops, adj)
        for k in range(n_classes):
            d = decay[i, k]
            for s in range(n_sites):
                deleted[k, s] += (1.0 - d) * adj[k, s]  # retention's deletion beyond the logical one
                drops[k, s] *= d
                for t in range(n_sites):
                    moves[k, s, t] *= d
                    copies[k, s, t] *= d
        pending[:] = 0.0
        for k in range(n_classes):
            pending_k[k] = 0.0
            for s in range(n_sites):
                for t in range(n_sites):
                    pending_k[k] += moves[k, s, t] + copies[k, s, t]
                    pending[s, t] += moves[k, s, t] + copies[k, s, t]
        for s in range(n_sites):
            for t in range(n_sites):
                cap_gb = cap_gbps[s, t] / 8.0 * dt_s[i]
                frac[s, t] = min(1.0, cap_gb / pending[s, t]) if pending[s, t] > 0 else 0.0
        # a site never sends more moved bytes than it physically holds
        _adjustment(moves, copies, drops, adj)
        for k in range(n_classes):
            for s in range(n_sites):
                physical = stored[i, k, s] + adj[k, s]
                out = 0.0
                for t in range(n_sites):
                    sent_m[k, s, t] = moves[k, s, t] * frac[s, t]
                    out += sent_m[k, s, t]
                if out > physical:
                    scale = max(physical, 0.0) / (out if out > 0 else 1.0)
                    for t in range(n_sites):
                        sent_m[k, s, t] *= scale
                for t in range(n_sites):
                    sent_c[k, s, t] = copies[k, s, t] * frac[s, t]
                    moves[k, s, t] -= sent_m[k, s, t]
                    copies[k, s, t] -= sent_c[k, s, t]
        # surplus copies go as their class's migration completes (all at once if none pending)
        p = period_idx[i]
        for k in range(n_classes):
            sent = 0.0
            left = 0.0
            for s in range(n_sites):
                for t in range(n_sites):
                    sent += sent_m[k, s, t] + sent_c[k, s, t]
                    left += moves[k, s, t] + copies[k, s, t]
                    moved_out[k, s] += sent_m[k, s, t]
                    moved_in[k, t] += sent_m[k, s, t]
                    replicated[k, t] += sent_c[k, s, t]
                    acc[0, p, k, s, t] += sent_m[k, s, t]
                    acc[1, p, k, s, t] += sent_c[k, s, t]
            done = sent / pending_k[k] if pending_k[k] > 0 else 1.0
            if left == 0.0:
                done = 1.0
            for s in range(n_sites):
                gone = drops[k, s] * done
                dropped[k, s] += gone
                drops[k, s] -= gone
        _adjustment(moves, copies, drops, adj)
        for k in range(n_classes):
            for s in range(n_sites):
                stored[i, k, s] += adj[k, s]
    return dt_s.shape[0]


@njit(cache=True)
def _pending(moves, copies, drops):  # noqa: ANN001, ANN202 - compiled
    """Whether any move, copy or drop is pending (``not MigrationBacklog.empty``)."""
    for x in moves.flat:
        if x != 0.0:
            return True
    for x in copies.flat:
        if x != 0.0:
            return True
    for x in drops.flat:
        if x != 0.0:
            return True
    return False


@njit(cache=True)
def _adjustment(moves, copies, drops, out):  # noqa: ANN001, ANN202 - compiled
    """(K, S) physical minus logical bytes per site (``MigrationBacklog.adjustment``), into ``out``."""
    n_classes, n_sites = drops.shape
    for k in range(n_classes):
        for s in range(n_sites):
            x = drops[k, s]
            for t in range(n_sites):
                x += moves[k, s, t] - moves[k, t, s] - copies[k, t, s]
            out[k, s] = x


def link_matrix_gbps(scenario: Scenario, sites: list[str]) -> NDArray[np.float64]:
    """(S, S) bandwidth between sites, Gbit/s each way (``network.default_link_gbps`` where no link is given)."""
    net = scenario.network
    gbps = np.full((len(sites), len(sites)), net.default_link_gbps)
    index = {s: i for i, s in enumerate(sites)}
    for link in net.links:
        if link.a in index and link.b in index:
            gbps[index[link.a], index[link.b]] = gbps[index[link.b], index[link.a]] = link.gbps
    np.fill_diagonal(gbps, 0.0)
    return gbps


@dataclass
class StorageTally:
    """What storage metered over the run so far, GB (the world copies it into the meters).

    Attributes:
        stored_gb: (T, K, S) physical bytes on each site at the end of each step (all copies).
        written_gb: (K, S) bytes written (every copy).
        deleted_gb: (K, S) bytes retention deleted.
        replicated_gb: (K, S) extra copies received.
        dropped_gb: (K, S) surplus copies deleted after a placement change.
        moved_in_gb: (K, S) bytes moved in from another site.
        moved_out_gb: (K, S) bytes moved out to another site.
    """

    stored_gb: NDArray[np.float64]
    written_gb: NDArray[np.float64]
    deleted_gb: NDArray[np.float64]
    replicated_gb: NDArray[np.float64]
    dropped_gb: NDArray[np.float64]
    moved_in_gb: NDArray[np.float64]
    moved_out_gb: NDArray[np.float64]

    @classmethod
    def zeros(cls, n_steps: int, n_classes: int, n_sites: int) -> StorageTally:
        """An empty tally for T steps, K classes and S sites."""
        ks = (n_classes, n_sites)
        return cls(np.zeros((n_steps, *ks)), *(np.zeros(ks) for _ in range(6)))


class MigrationLinks:
    """The inter-site links migration may use: bandwidth, cuts in progress, and the start gate.

    Args:
        gbps: (S, S) bandwidth from -> to, Gbit/s (see :func:`link_matrix_gbps`).
        open: whether migration may run from the start (``network.migration_start``).
    """

    def __init__(self, gbps: NDArray[np.float64], open: bool) -> None:
        self.gbps = gbps
        self.open = open
        self._cuts: dict[tuple[int, int], int] = {}

    def cut(self, a: int, b: int, n: int = 1) -> None:
        """Start (n = 1) or end (n = -1) a cut of the link between sites a and b."""
        key = (min(a, b), max(a, b))
        self._cuts[key] = self._cuts.get(key, 0) + n

    def usable(self, up: NDArray[np.bool_]) -> NDArray[np.float64]:
        """(S, S) bandwidth usable now, Gbit/s.

        Args:
            up: (S,) sites online and not down.

        Returns:
            Zero before migration starts, to or from a site that is not up, and over a cut link.
        """
        if not self.open:
            return np.zeros_like(self.gbps)
        gbps = self.gbps * up[:, None] * up[None, :]
        for (a, b), n in self._cuts.items():
            if n > 0:
                gbps[a, b] = gbps[b, a] = 0.0
        return gbps


class Storage:
    """The stock of bytes, its retention, and the migration backlog of a placement change.

    Args:
        n_countries: C.
        n_steps: T.
        write_gb_per_request: (K,) one-copy bytes each request writes, GB.
        retention_s: (K,) mean retention of each class, s.
        links: the links migration crosses.

    Attributes:
        volume_gb: (C, K) one-copy volume now.
        backlog: moves, copies and drops still pending.
        links: the links migration crosses.
        tally: the storage meters.
    """

    def __init__(
        self,
        n_countries: int,
        n_steps: int,
        write_gb_per_request: NDArray[np.float64],
        retention_s: NDArray[np.float64],
        links: MigrationLinks,
    ) -> None:
        n_classes, n_sites = len(retention_s), len(links.gbps)
        self.write_gb_per_request = write_gb_per_request
        self.retention_s = retention_s
        self.links = links
        self.volume_gb = np.zeros((n_countries, n_classes))
        self.backlog = MigrationBacklog(n_classes, n_sites)
        self.tally = StorageTally.zeros(n_steps, n_classes, n_sites)

    def stock(self, store: NDArray[np.float64]) -> NDArray[np.float64]:
        """(C, K, S) logical bytes per site under a placement's (C, K, S) copy shares, GB."""
        return self.volume_gb[:, :, None] * store

    def final_stock(self, store: NDArray[np.float64]) -> NDArray[np.float64]:
        """(C, K, S) physical bytes per site now: the logical stock plus what migration has not done yet."""
        stock = self.stock(store)
        if not self.backlog.empty:
            self._spread_adjustment(stock)
        return stock

    def planning_volume_gb(self, expected_requests: NDArray[np.float64], dt_s: float) -> NDArray[np.float64]:
        """(C, K) largest expected one-copy volume over the rest of the run, GB.

        The stock now, plus expected writes, minus expected retention deletions, on expected
        demand only (never the random draws), so a policy sizes storage for what will be there.

        Args:
            expected_requests: (n, C) expected requests of the remaining steps.
            dt_s: length of the first remaining step, s (ignored when none remain).
        """
        if len(expected_requests) == 0:
            return self.volume_gb.copy()
        peak = self.volume_gb.copy()
        for k in range(len(self.retention_s)):
            d = np.exp(-dt_s / self.retention_s[k])
            writes = expected_requests * self.write_gb_per_request[k]
            path = decay_path(writes, d, d * self.volume_gb[:, k])
            peak[:, k] = np.maximum(peak[:, k], path.max(axis=0))
        return peak

    def rebalance(self, old: NDArray[np.float64], new: NDArray[np.float64]) -> None:
        """Queue the moves and copies from the old (C, K, S) copy shares to the new; drop surplus copies."""
        before = self.stock(old)
        after = self.stock(new)
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
        totals = self.volume_gb.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            weight = np.where(totals > 0, self.volume_gb / np.where(totals > 0, totals, 1.0), 0.0)
        stock += weight[:, :, None] * adj[None, :, :]

    def advance(
        self,
        start_step: int,
        store: NDArray[np.float64],
        requests: NDArray[np.float64],
        dt_s: NDArray[np.float64],
        link_gbps: NDArray[np.float64],
        periods_of: Callable[[NDArray[np.int64]], NDArray[np.float64]],
    ) -> MigrationFlows:
        """Write, age and migrate the stock over n steps in which the placement does not change.

        Args:
            start_step: index of the first step.
            store: (C, K, S) copy shares of the placement in force.
            requests: (n, C) requests of the steps.
            dt_s: (n,) step lengths, s.
            link_gbps: (S, S) usable migration bandwidth over these steps.
            periods_of: start (s) of the flow period of each of an array of steps.

        Returns:
            Migration and replication per period, in order of first appearance (empty when
            nothing was pending).
        """
        tally = self.tally
        a, b = start_step, start_step + len(requests)
        writes = requests[:, :, None] * self.write_gb_per_request[None, None, :]  # (n, C, K) one copy
        # V_t = d_t V_{t-1} + x_t; all steps but possibly the last have the same length.
        volume = np.empty_like(writes)
        v0 = self.volume_gb
        uniform = b - a - 1 if dt_s[-1] != dt_s[0] else b - a
        for k in range(len(self.retention_s)):
            if uniform:
                d = np.exp(-dt_s[0] / self.retention_s[k])
                volume[:uniform, :, k] = decay_path(writes[:uniform, :, k], d, d * v0[:, k])
            if uniform < b - a:
                prev = volume[uniform - 1, :, k] if uniform else v0[:, k]
                volume[-1, :, k] = prev * np.exp(-dt_s[-1] / self.retention_s[k]) + writes[-1, :, k]
        v_end = volume[-1]
        written_one = writes.sum(axis=0)  # (C, K)
        deleted_one = v0 + written_one - v_end
        tally.written_gb += np.einsum("ck,cks->ks", written_one, store)
        tally.deleted_gb += np.einsum("ck,cks->ks", deleted_one, store)
        tally.stored_gb[a:b] = np.einsum("tck,cks->tks", volume, store)
        self.volume_gb = v_end
        if self.backlog.empty:
            return {}
        return self._migrate(a, dt_s, link_gbps, periods_of)

    def _migrate(
        self, a: int, dt_s: NDArray[np.float64], link_gbps: NDArray[np.float64],
        periods_of: Callable[[NDArray[np.int64]], NDArray[np.float64]],
    ) -> MigrationFlows:
        """Step the migration backlog through steps [a, a + n) while anything is pending.

        The compiled :func:`migrate_steps` runs the steps; :meth:`MigrationBacklog.step` is its
        specification (a test holds the two equal to rounding).
        """
        tally, backlog = self.tally, self.backlog
        n = len(dt_s)
        starts, period_idx = np.unique(periods_of(np.arange(a, a + n)), return_inverse=True)
        acc = np.zeros((2, len(starts), *backlog.moves.shape))
        decay = np.exp(-dt_s[:, None] / self.retention_s[None, :])  # (n, K), as numpy computes it per step
        done = migrate_steps(
            backlog.moves, backlog.copies, backlog.drops, dt_s, decay, link_gbps, tally.stored_gb[a:a + n],
            tally.deleted_gb, tally.moved_out_gb, tally.moved_in_gb, tally.replicated_gb, tally.dropped_gb,
            period_idx.astype(np.int64), acc)
        used = np.unique(period_idx[:done])
        by_period: MigrationFlows = {float(starts[p]): [acc[0, p], acc[1, p]] for p in used}
        # steps after the backlog emptied keep the logical layout already in stored_gb
        return by_period
