"""Flow records: every transfer of bytes, aggregated by period (the model writes, results read).

A flow is one aggregated record of bytes moving from a source (country or site) to a
destination (country, site or export region) for one data class in one period.

Units: s for period starts, GB for volumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["FLOW_KINDS", "FlowLog"]

#: Kinds of flow: user uploads to each site holding a copy, reads served to users, copies made
#: between sites, data moved between sites on a placement change, exports to regions outside the data centres.
FLOW_KINDS = ("ingest", "read", "replication", "migration", "export")


@dataclass
class FlowLog:
    """Accumulates flow records in vectorised batches (model code writes, results read).

    Each record: period start (s), source, destination, data class, kind, GB.
    """

    chunks: list[dict[str, NDArray]] = field(default_factory=list)

    def add(
        self,
        period_s: NDArray[np.float64] | float,
        source: NDArray | str,
        destination: NDArray | str,
        data_class: NDArray | str,
        kind: str,
        gb: NDArray[np.float64] | float,
    ) -> None:
        """Record a batch of flows (arguments broadcast together); zero volumes are dropped."""
        gb_arr = np.asarray(gb, dtype=float)
        arrays = np.broadcast_arrays(
            np.asarray(period_s, dtype=float),
            np.asarray(source, dtype=object),
            np.asarray(destination, dtype=object),
            np.asarray(data_class, dtype=object),
            gb_arr,
        )
        keep = arrays[4] > 0.0
        if not keep.any():
            return
        self.chunks.append(
            {
                "period_s": arrays[0][keep].ravel(),
                "source": arrays[1][keep].ravel(),
                "destination": arrays[2][keep].ravel(),
                "data_class": arrays[3][keep].ravel(),
                "kind": np.full(int(keep.sum()), kind, dtype=object),
                "gb": arrays[4][keep].ravel(),
            }
        )

    def columns(self) -> dict[str, NDArray]:
        """All records as column arrays (empty arrays when nothing was recorded)."""
        names = ("period_s", "source", "destination", "data_class", "kind", "gb")
        if not self.chunks:
            return {n: np.array([], dtype=float if n in ("period_s", "gb") else object) for n in names}
        return {n: np.concatenate([c[n] for c in self.chunks]) for n in names}
