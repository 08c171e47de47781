"""The folder of run records that makes a sweep resumable: ``<root>/runs/<run_id>.json``.

A :class:`~sim.experiments.runs.RunStore` on disk. Each record is written atomically
(:func:`sim.report.io.atomic_write_text`: a dot-prefixed temporary file in the folder, then
``os.replace``), so a ``<run_id>.json`` there is always complete; temporary files never count,
and :meth:`DirectoryRunStore.prepare` removes those an interrupted writer left behind.

A record is trusted only if it verifies. It is strict JSON (a KPI that is not a finite number
is written as ``null``), carries ``sha256``: the SHA-256 of its canonical JSON without that
field, and must have the shape of :func:`sim.experiments.runs.run_record`: the right ``run_id``,
a known ``status``, ``kpis`` a non-empty object of numbers or nulls for an ``ok`` run, ``units``
an object of strings. A record that cannot be read, names another run, does not match its
checksum (edited, truncated, bit rot), has ``NaN`` or ``Infinity`` in it, a value of the wrong
type, or no checksum at all (written by an older version) counts as no record: the sweep runs
that run again and overwrites it. Loaded records give ``NaN`` for a ``null`` KPI.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

from sim.experiments.runs import RunOutcome, run_record
from sim.report.io import atomic_write_text, finite_json

__all__ = ["DirectoryRunStore", "record_checksum", "verified_record"]

#: The record field that holds the checksum.
CHECKSUM = "sha256"


def _canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def record_checksum(record: dict[str, Any]) -> str:
    """SHA-256 hex digest of a record's canonical JSON, without its ``sha256`` field."""
    body = {k: v for k, v in record.items() if k != CHECKSUM}
    return hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def verified_record(text: str, run_id: str) -> dict[str, Any] | None:
    """The record in ``text`` if it verifies (see the module docstring), else None.

    Args:
        text: the content of a record file.
        run_id: the run the record must belong to.

    Returns:
        The record without its checksum, ``null`` KPIs as NaN; None if it cannot be trusted.
    """
    try:
        record = json.loads(text, parse_constant=_no_constants)
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("run_id") != run_id:
        return None
    stored = record.pop(CHECKSUM, None)
    if not isinstance(stored, str) or stored != record_checksum(record):
        return None
    status, kpis, units = record.get("status"), record.get("kpis"), record.get("units", {})
    if status not in ("ok", "failed") or not isinstance(record.get("error", ""), str):
        return None
    if not isinstance(kpis, dict) or not all(isinstance(k, str) and (v is None or _is_number(v)) for k, v in kpis.items()):
        return None
    if not isinstance(units, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in units.items()):
        return None
    if status == "ok" and (not kpis or all(v is None for v in kpis.values())):
        return None  # a run that finished measures something
    record["kpis"] = {k: math.nan if v is None else float(v) for k, v in kpis.items()}
    return record


class DirectoryRunStore:
    """Finished runs of one output folder: ``<root>/runs/<id>.json``, written atomically and checksummed.

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
        """The stored record of a run, or None if there is none or it does not verify."""
        try:
            text = self.path(run_id).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return verified_record(text, run_id)

    def finished(self, run_id: str) -> bool:
        """Whether the run has a stored, verified successful result (failed runs are retried)."""
        record = self.load(run_id)
        return record is not None and record.get("status") == "ok"

    def write(self, outcome: RunOutcome, meta: dict[str, Any] | None = None) -> Path:
        """Write a run's record atomically, with its checksum, replacing an earlier record of the same run.

        Args:
            outcome: what the worker returned.
            meta: extra fields saved with it (point, parameters, seed, version ...).

        Returns:
            The record's path.
        """
        record = finite_json(json.loads(json.dumps(run_record(outcome, meta), allow_nan=True)))
        record[CHECKSUM] = record_checksum(record)
        text = json.dumps(record, indent=1, sort_keys=False, allow_nan=False) + "\n"
        return atomic_write_text(self.path(outcome.run_id), text)
