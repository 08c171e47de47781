"""Reading result folders: the summary and tables ``clover-sim run`` wrote, for the report.

A result folder (see ``results/README.md``) holds ``summary.json`` (scenario, seed, replications,
start, end, KPIs with their 95 % intervals, the resolved scenario) and the tables
:data:`TABLES` as CSV or Parquet, and optionally the gateway's per-request table
``gateway_requests.csv`` / ``.parquet``. :func:`load_run` opens one; tables are read on first use.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim import reference
from sim.reference.units import DAY_S, YEAR_DAYS, YEAR_S

__all__ = ["TABLES", "ReportInputError", "RunFolder", "load_run"]

#: The tables of a result folder the report reads (``NAME.csv`` or ``NAME.parquet``).
TABLES = ("placement", "transfers", "latency", "costs", "costs_by_year", "residency")


class ReportInputError(ValueError):
    """A result folder that cannot be read (no summary.json, bad JSON, not a folder)."""



@dataclass
class RunFolder:
    """One result folder: its summary and (lazily read) tables.

    Attributes:
        path: the folder.
        summary: the parsed ``summary.json``.
    """

    path: Path
    summary: dict[str, Any]
    _tables: dict[str, pd.DataFrame | None] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        """Scenario name as recorded in the summary (user text: escape before display)."""
        return str(self.summary.get("scenario") or self.resolved.get("name") or self.path.name)

    @property
    def resolved(self) -> dict[str, Any]:
        """The resolved scenario (every figure the run used)."""
        value = self.summary.get("resolved_scenario")
        return value if isinstance(value, dict) else {}

    @property
    def policy(self) -> str:
        """Placement policy name."""
        return str(self.resolved.get("policy", {}).get("placement", "unknown"))

    @property
    def description(self) -> str:
        """Scenario description (user text)."""
        return str(self.resolved.get("description", ""))

    @property
    def kpis(self) -> dict[str, dict[str, Any]]:
        """``{name: {mean, ci95_low, ci95_high, unit}}``."""
        value = self.summary.get("kpis")
        return value if isinstance(value, dict) else {}

    @property
    def horizon_years(self) -> float:
        """Simulated period in model years (``YEAR_S``, 365.25 days) from the summary's start and end."""
        try:
            start = pd.Timestamp(self.summary["start"])
            end = pd.Timestamp(self.summary["end"])
            seconds = (end - start) / pd.Timedelta(seconds=1)
        except (KeyError, ValueError, TypeError):
            seconds = float(self.resolved.get("time", {}).get("horizon_days", YEAR_DAYS)) * DAY_S
        return max(float(seconds), 1e-9) / YEAR_S

    @property
    def reference_eur_per_year(self) -> float:
        """The reference yearly cost the run compares with (EUR 1.2 bn unless the scenario says)."""
        value = self.resolved.get("costs", {}).get("reference_eur_per_year")
        return float(value) if isinstance(value, (int, float)) and value > 0 else reference.CLOVER_COST_EUR_PER_YEAR

    def kpi(self, name: str) -> float | None:
        """Mean of a numeric KPI, or None."""
        row = self.kpis.get(name)
        value = row.get("mean") if isinstance(row, dict) else None
        return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None

    def table(self, name: str) -> pd.DataFrame | None:
        """A table of the folder (``NAME.csv`` or ``NAME.parquet``), or None if absent."""
        if name not in self._tables:
            self._tables[name] = _read_table(self.path, name)
        return self._tables[name]

    def first(self, name: str) -> pd.DataFrame | None:
        """Rows of the first replication of a table (all rows if it has no replication column)."""
        df = self.table(name)
        if df is None or "replication" not in df.columns or df.empty:
            return df
        return df[df["replication"] == df["replication"].min()]

    @property
    def n_replications(self) -> int:
        """Replications recorded in the summary (at least 1)."""
        value = self.summary.get("replications")
        return int(value) if isinstance(value, int) and value > 0 else 1


def _read_table(folder: Path, name: str) -> pd.DataFrame | None:
    """``NAME.csv`` or else ``NAME.parquet`` of a folder, or None if it has neither."""
    csv = folder / f"{name}.csv"
    parquet = folder / f"{name}.parquet"
    if csv.is_file():
        return pd.read_csv(csv)
    if parquet.is_file():
        return pd.read_parquet(parquet)
    return None


def load_run(path: str | Path) -> RunFolder:
    """Open a result folder.

    Args:
        path: a folder written by ``clover-sim run``.

    Returns:
        The folder with its parsed summary; tables are read on first use.

    Raises:
        ReportInputError: if the folder does not exist, has no ``summary.json`` or the JSON is
            not a results summary.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ReportInputError(f"{folder}: not a folder; pass result folders written by 'clover-sim run'")
    file = folder / "summary.json"
    if not file.is_file():
        raise ReportInputError(f"{folder}: no summary.json; pass a result folder written by 'clover-sim run'")
    try:
        summary = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportInputError(f"{file}: cannot read the summary: {exc}") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("kpis"), dict):
        raise ReportInputError(f"{file}: not a results summary (no 'kpis' object)")
    return RunFolder(folder, summary)
