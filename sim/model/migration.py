"""Migration between sites over links of finite bandwidth.

When a placement changes, the bytes it assigns to a new site do not arrive at once: they join a
backlog and cross the inter-site links step by step. Two kinds of pending bytes per
(class, from-site, to-site), in GB:

- moves: bytes that now belong at ``to`` but still sit at ``from`` (they leave ``from`` when sent);
- copies: extra replicas ``to`` must receive from a site that keeps its own copy;
- drops (per class and site): surplus copies a site deletes only as the class's migration
  completes (pro rata), so no byte is deleted before its new home has it.

The placement is the logical layout; the physical layout is logical + the backlog adjustment
(moves still count at their source, copies not yet made are missing at their target). Pending
bytes age like all others: retention deletes them at the class's rate wherever they physically
are. Each directed link carries at most ``gbps / 8`` GB per second; the pending bytes on a link
share it in proportion to their volume, and a site never sends more than it physically holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Drained", "MigrationBacklog"]


@dataclass(frozen=True)
class Drained:
    """What one step of migration did, in GB.

    Attributes:
        moves: (K, S, S) moved from -> to.
        copies: (K, S, S) replicated from -> to.
        dropped: (K, S) surplus copies deleted.
        extra_deleted: (K, S) bytes retention deleted physically beyond the logical deletion
            (negative where pending inbound bytes were not there to delete).
    """

    moves: NDArray[np.float64]
    copies: NDArray[np.float64]
    dropped: NDArray[np.float64]
    extra_deleted: NDArray[np.float64]


class MigrationBacklog:
    """Pending moves and copies between sites.

    Args:
        n_classes: K.
        n_sites: S.
    """

    def __init__(self, n_classes: int, n_sites: int) -> None:
        self.moves = np.zeros((n_classes, n_sites, n_sites))
        self.copies = np.zeros((n_classes, n_sites, n_sites))
        self.drops = np.zeros((n_classes, n_sites))

    @property
    def empty(self) -> bool:
        """True when nothing is pending."""
        return not (self.moves.any() or self.copies.any() or self.drops.any())

    def pending_gb(self) -> float:
        """Total pending GB."""
        return float(self.moves.sum() + self.copies.sum())

    def add(self, moves: NDArray[np.float64], copies: NDArray[np.float64], drops: NDArray[np.float64]) -> None:
        """Queue new moves and copies (K, S, S) and surplus copies to drop (K, S).

        Opposite moves of one class net out.
        """
        self.moves += moves
        self.copies += copies
        self.drops += drops
        back = np.minimum(self.moves, self.moves.transpose(0, 2, 1))
        self.moves -= back

    def adjustment(self) -> NDArray[np.float64]:
        """(K, S) physical minus logical bytes per site."""
        return self.moves.sum(axis=2) - self.moves.sum(axis=1) - self.copies.sum(axis=1) + self.drops

    def step(
        self,
        dt_s: float,
        decay: NDArray[np.float64],
        capacity_gbps: NDArray[np.float64],
        logical: NDArray[np.float64],
    ) -> Drained:
        """Age the backlog by one step and send what the links allow.

        Args:
            dt_s: step length, s.
            decay: (K,) share of bytes retention keeps over this step.
            capacity_gbps: (S, S) usable bandwidth from -> to this step (0 where down or cut).
            logical: (K, S) logical stock at the end of the step (after retention and writes).

        Returns:
            What moved, what was copied, and the physical deletion beyond the logical one.
        """
        adj_before = self.adjustment()
        extra_deleted = (1.0 - decay)[:, None] * adj_before
        self.moves *= decay[:, None, None]
        self.copies *= decay[:, None, None]
        self.drops *= decay[:, None]
        pending_k = self.moves.sum(axis=(1, 2)) + self.copies.sum(axis=(1, 2))  # (K,)
        pending = self.moves.sum(axis=0) + self.copies.sum(axis=0)  # (S, S)
        cap_gb = capacity_gbps / 8.0 * dt_s
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(pending > 0, np.minimum(1.0, cap_gb / np.where(pending > 0, pending, 1.0)), 0.0)
        moves = self.moves * frac[None, :, :]
        # a site never sends more moved bytes than it physically holds
        physical = logical + self.adjustment()
        out = moves.sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(out > physical, np.clip(physical, 0.0, None) / np.where(out > 0, out, 1.0), 1.0)
        moves *= scale[:, :, None]
        copies = self.copies * frac[None, :, :]
        self.moves -= moves
        self.copies -= copies
        # surplus copies go as their class's migration completes (all at once if none pending)
        sent_k = moves.sum(axis=(1, 2)) + copies.sum(axis=(1, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            done = np.where(pending_k > 0, sent_k / np.where(pending_k > 0, pending_k, 1.0), 1.0)
        done = np.where(self.moves.sum(axis=(1, 2)) + self.copies.sum(axis=(1, 2)) == 0, 1.0, done)
        dropped = self.drops * done[:, None]
        self.drops -= dropped
        return Drained(moves, copies, dropped, extra_deleted)
