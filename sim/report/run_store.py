"""The folder of run records that makes a sweep resumable: ``<root>/runs/<run_id>.json``.

A :class:`~sim.experiments.runs.RunStore` on disk. Each record is written atomically
(:func:`sim.report.io.atomic_write_text`: a dot-prefixed temporary file in the folder, then
``os.replace``), so a ``<run_id>.json`` there is always complete; temporary files never count,
and :meth:`DirectoryRunStore.prepare` removes those an interrupted writer left behind. A record
that cannot be read, or that names another run, counts as no record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.experiments.runs import RunOutcome, run_record
from sim.report.io import atomic_write_text

__all__ = ["DirectoryRunStore"]


class DirectoryRunStore:
    """Finished runs of one output folder: ``<root>/runs/<id>.json``, written atomically.

    Args:
        root: the output folder (the records go into its ``runs`` sub-folder).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.dir = self.root / "runs"

    def prepare(self) -> None:
        """Create the folder and remove temporary files left by an interrupted writer."""
        self.dir.mkdir(parents=True, exist_ok=True)
        for stale in self.dir.glob(".*.tmp"):
            stale.unlink(missing_ok=True)

    def path(self, run_id: str) -> Path:
        """Where the record of ``run_id`` lives."""
        return self.dir / f"{run_id}.json"

    def load(self, run_id: str) -> dict[str, Any] | None:
        """The stored record of a run, or None if there is none (or it cannot be read)."""
        try:
            record = json.loads(self.path(run_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get("run_id") == run_id else None

    def finished(self, run_id: str) -> bool:
        """Whether the run has a stored successful result (failed runs are retried)."""
        record = self.load(run_id)
        return record is not None and record.get("status") == "ok"

    def write(self, outcome: RunOutcome, meta: dict[str, Any] | None = None) -> Path:
        """Write a run's record atomically, replacing an earlier record of the same run.

        Args:
            outcome: what the worker returned.
            meta: extra fields saved with it (point, parameters, seed, version ...).

        Returns:
            The record's path.
        """
        text = json.dumps(run_record(outcome, meta), indent=1, sort_keys=False, allow_nan=True) + "\n"
        return atomic_write_text(self.path(outcome.run_id), text)
