"""Reading result folders: the summary and tables ``clover-sim run`` wrote, for the report.

A result folder (see ``results/README.md``) holds ``summary.json`` (scenario, seed, replications,
start, end, KPIs with their 95 % intervals, the resolved scenario) and the tables
:data:`TABLES` as CSV or Parquet, and optionally the gateway's per-request table
``gateway_requests.csv`` / ``.parquet``. :func:`load_run` opens one; tables are read on first use.

A KPI's spread (:meth:`RunFolder.spread`) is the assumption range a run made with
``--uncertainty N`` records (``kpis[NAME]["assumption_range"]``: p5, p50, p95, with the inputs that
drive it in ``drivers[NAME]``), else the 95 % interval over replications, else none.
:func:`choose_baseline` gives the runs their roles: one baseline the others are compared with.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim import reference
from sim.reference.units import DAY_S, YEAR_DAYS, YEAR_S
from sim.results import kpis
from sim.scenario.zones import ZoneSpec, default_zones, resolve_zones

__all__ = ["TABLES", "ReportInputError", "RunFolder", "Spread", "load_run", "choose_baseline"]

#: The tables of a result folder the report reads (``NAME.csv`` or ``NAME.parquet``).
TABLES = ("placement", "transfers", "latency", "costs", "costs_by_year", "residency", "gateway_waits")


class ReportInputError(ValueError):
    """A result folder that cannot be read (no summary.json, bad JSON, not a folder), or a bad --baseline."""


@dataclass(frozen=True)
class Spread:
    """How far a KPI of a run may lie from its value.

    Attributes:
        kind: ``"assumption"`` (p5-p95 over the input sets of ``--uncertainty N``) or
            ``"stochastic"`` (95 % Student-t interval over replications).
        low: lower end, in the KPI's unit.
        high: upper end, in the KPI's unit.
        count: input sets (assumption) or replications (stochastic) behind it; 0 if not recorded.
        drivers: dotted scenario keys of the inputs that move the KPI most, most important first
            (assumption ranges only).
    """

    kind: str
    low: float
    high: float
    count: int = 0
    drivers: tuple[str, ...] = ()

    @property
    def level(self) -> str:
        """The coverage of the spread: "90 %" (p5-p95) or "95 %"."""
        return "90 %" if self.kind == "assumption" else "95 %"


#: KPIs that say something only when they are not zero (failures, violations, blocked transfers).
_ONLY_WHEN_NOT_ZERO = frozenset({*kpis.EXTRA_KPIS, "residency_violation_requests"})


def _finite(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None



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

    def kpi_text(self, name: str) -> str | None:
        """A KPI whose value is text (a date such as ``residency_99_date``), or None."""
        row = self.kpis.get(name)
        value = row.get("mean") if isinstance(row, dict) else None
        return value if isinstance(value, str) and value else None

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

    def unit(self, name: str) -> str:
        """The unit of a KPI: the catalogue's, else the summary's."""
        try:
            return kpis.unit(name)
        except KeyError:
            row = self.kpis.get(name)
            return str(row.get("unit", "")) if isinstance(row, dict) else ""

    @property
    def has_gateway(self) -> bool:
        """Whether the run had a security gateway (``gateway.enabled`` of the resolved scenario)."""
        gateway = self.resolved.get("gateway")
        return bool(gateway.get("enabled", False)) if isinstance(gateway, dict) else False

    @property
    def migrates(self) -> bool:
        """Whether data moves between sites during the run (a start layout, or data migrated)."""
        policy = self.resolved.get("policy", {})
        return bool(policy.get("start_placement")) or bool(self.kpi("migrated_tb"))

    @property
    def is_timeline(self) -> bool:
        """A run over more than one calendar year in which data moves: a migration timeline."""
        by_year = self.first("costs_by_year")
        years = by_year["year"].nunique() if by_year is not None and "year" in by_year.columns else 0
        return self.migrates and (years > 1 or self.horizon_years > 1.5)

    def applies(self, name: str) -> bool:
        """Whether a KPI says something about this run.

        Not when it has no value, when it is a gateway KPI of a run without a gateway, or when it
        is one of the catalogue's extra KPIs (failures, migration, blocked transfers) and zero.
        """
        row = self.kpis.get(name)
        if not isinstance(row, dict) or row.get("mean") in (None, ""):
            return False
        value = row.get("mean")
        if isinstance(value, float) and not math.isfinite(value):
            return False
        try:
            group = kpis.spec(name).group
        except KeyError:
            group = ""
        if group == "gateway" or name.startswith(("gateway_", "reviewer_")):
            return self.has_gateway
        if name in _ONLY_WHEN_NOT_ZERO or group in ("availability", "migration"):
            return value not in (0, 0.0)
        return True

    def assumption_range(self, name: str) -> tuple[float, float, float] | None:
        """(p5, p50, p95) of a KPI over the input sets of ``--uncertainty N``, or None."""
        row = self.kpis.get(name)
        rng = row.get("assumption_range") if isinstance(row, dict) else None
        if not isinstance(rng, dict):
            return None
        p5, p50, p95 = (_finite(rng.get(k)) for k in ("p5", "p50", "p95"))
        if p5 is None or p95 is None:
            return None
        return p5, p50 if p50 is not None else (p5 + p95) / 2, p95

    def drivers(self, name: str) -> list[str]:
        """Inputs (dotted scenario keys) that drive a KPI, most important first (``drivers[NAME]``)."""
        table = self.summary.get("drivers")
        rows = table.get(name) if isinstance(table, dict) else None
        if not isinstance(rows, list):
            return []
        return [str(r["input"]) for r in rows if isinstance(r, dict) and isinstance(r.get("input"), str)]

    def driver_rows(self, name: str) -> list[dict[str, Any]]:
        """The recorded driver rows of a KPI (input, rank_correlation, sobol_first, sobol_total)."""
        table = self.summary.get("drivers")
        rows = table.get(name) if isinstance(table, dict) else None
        return [r for r in rows if isinstance(r, dict) and isinstance(r.get("input"), str)] if isinstance(rows, list) else []

    @property
    def uncertainty_sets(self) -> int:
        """Input sets of ``--uncertainty N`` recorded in the summary (0 if none or not recorded)."""
        value = self.summary.get("uncertainty")
        if isinstance(value, dict):  # how the input sets were drawn (sim.report.uncertainty_files)
            value = value.get("runs_ok", value.get("input_sets"))
        return int(value) if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    def spread(self, name: str) -> Spread | None:
        """The assumption range of a KPI where recorded, else its 95 % interval over replications, else None."""
        rng = self.assumption_range(name)
        if rng is not None:
            return Spread("assumption", rng[0], rng[2], self.uncertainty_sets, tuple(self.drivers(name)))
        row = self.kpis.get(name)
        if self.n_replications < 2 or not isinstance(row, dict):
            return None
        low, high = _finite(row.get("ci95_low")), _finite(row.get("ci95_high"))
        if low is None or high is None:
            return None
        return Spread("stochastic", low, high, self.n_replications)

    def _replications(self, df: pd.DataFrame) -> int:
        return int(df["replication"].nunique()) if "replication" in df.columns and not df.empty else 1

    def cost_by_category(self) -> dict[str, float]:
        """EUR per year by cost category, mean over replications ({} without a costs table)."""
        costs = self.table("costs")
        if costs is None or costs.empty:
            return {}
        by = costs.groupby("category", sort=False)["eur_per_year"].sum() / self._replications(costs)
        return {str(k): float(v) for k, v in by.items()}

    def stored_pb_by_site(self) -> dict[str, float]:
        """PB stored per site at the last time point of the first replication ({} without a placement table)."""
        placement = self.first("placement")
        if placement is None or placement.empty:
            return {}
        last = placement[placement["time"] == placement["time"].max()]
        by = last.groupby("site", sort=False)["stored_tb"].sum() / 1000.0
        return {str(k): float(v) for k, v in by.items()}

    def leaving(self, by: Sequence[str] = ("destination", "data_class")) -> pd.DataFrame | None:
        """TB per year leaving its class's zone (``leaves_residency``), grouped by ``by``, mean over replications.

        Returns:
            Columns ``by`` + ``tb_per_year`` and ``kinds`` (the kinds of flow), largest first; None
            without a transfers table.
        """
        t = self.table("transfers")
        if t is None or "leaves_residency" not in t.columns:
            return None
        cols = list(by)
        flag = t["leaves_residency"]
        if flag.dtype != bool:
            flag = flag.astype(str).str.lower().isin(("true", "1"))
        out = t[flag]
        if out.empty:
            return pd.DataFrame(columns=[*cols, "tb_per_year", "kinds"])
        g = out.groupby(cols, as_index=False).agg(
            tb=("tb", "sum"), kinds=("kind", lambda k: ", ".join(sorted(set(map(str, k))))))
        g["tb_per_year"] = g["tb"] / self._replications(t) / self.horizon_years
        return g.drop(columns="tb").sort_values("tb_per_year", ascending=False, kind="stable")

    def residency_series(self) -> pd.Series | None:
        """Share of residency-bound data held in its zone over time (first replication), or None without the table."""
        table = self.first("residency")
        if table is None or table.empty or "time" not in table.columns:
            return None
        column = "residency_share"
        if column not in table.columns:
            return None
        return pd.Series(table[column].to_numpy(dtype=float), index=pd.to_datetime(table["time"]), name=column)

    @property
    def company(self) -> str:
        """The company's name (``company.name``), or a neutral "the company"."""
        name = self.resolved.get("company", {}).get("name") if isinstance(self.resolved.get("company"), dict) else None
        return str(name) if name else "the company"

    @property
    def reference_label(self) -> str:
        """What the reference cost is (``costs.reference_label``), e.g. "Published Clover figure"."""
        label = self.resolved.get("costs", {}).get("reference_label")
        return str(label) if label else "reference figure"

    def _zones(self) -> dict[str, frozenset[str]]:
        """The run's zones with their countries (``includes`` resolved); the bundled ones for old runs."""
        raw = self.resolved.get("zones")
        tables = raw if isinstance(raw, dict) and raw else default_zones()
        specs = {str(n): ZoneSpec.model_validate(z) for n, z in tables.items() if isinstance(z, dict)}
        codes = {c for z in specs.values() for c in z.countries}
        try:
            return resolve_zones(specs, codes)
        except ValueError:
            return {}

    def _bound_rules(self) -> list[str]:
        """Residency rules of the run's residency-bound classes."""
        classes = self.resolved.get("data_classes", {})
        rules = [str(d.get("residency", "any")) for d in classes.values() if isinstance(d, dict)]
        return sorted({r for r in rules if r != "any"})

    @property
    def zone_name(self) -> str:
        """How texts name where the run's residency-bound data must stay (a zone's label, if one)."""
        rules = self._bound_rules()
        if len(rules) == 1 and rules[0] == "home":
            return "the users' own countries"
        if len(rules) == 1:
            raw = self.resolved.get("zones")
            tables = raw if isinstance(raw, dict) and raw else default_zones()
            zone = tables.get(rules[0])
            label = zone.get("label") if isinstance(zone, dict) else None
            return str(label) if label else rules[0].upper() if rules[0] in ("eea", "eu") else rules[0]
        return "their zones" if len(rules) > 1 else "its zone"

    def site_in_zone(self, site: str) -> bool | None:
        """Whether a site lies inside the zone of every residency-bound class of the run, or None if unknown."""
        record = self.resolved.get("sites", {}).get(site)
        if not isinstance(record, dict):
            record = reference.site_records().get(site, {})
        country = record.get("country")
        if not isinstance(country, str) or not country:
            return None
        zones = self._zones()
        users = self.resolved.get("population", {}).get("countries") or []
        inside = True
        for rule in self._bound_rules():
            if rule == "home":
                inside &= country in users
            elif rule in zones:
                inside &= country in zones[rule]
            else:
                return None
        return inside


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
    if folder.resolve().name.startswith("."):  # .NAME.tmp-* / .NAME.old-*: an unfinished or replaced result
        raise ReportInputError(f"{folder}: a hidden temporary folder, not a result; pass the result folder itself")
    file = folder / "summary.json"
    if not file.is_file():
        raise ReportInputError(f"{folder}: no summary.json; pass a result folder written by 'clover-sim run'")
    try:
        summary = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ReportInputError(f"{file}: cannot read the summary: {exc}") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("kpis"), dict):
        raise ReportInputError(f"{file}: not a results summary (no 'kpis' object)")
    return RunFolder(folder, summary)


def choose_baseline(runs: Sequence[RunFolder], name: str | None = None) -> int | None:
    """The index of the run the others are compared with.

    Args:
        runs: the runs of the report, in the order given.
        name: ``--baseline``: a scenario name or a result folder; None picks the default: the run
            with the ``pre_clover`` placement (today's layout) if exactly one has it, else the
            first folder.

    Returns:
        The baseline's index, or None when there is only one run (it is compared with the
        published reference only).

    Raises:
        ReportInputError: if ``name`` matches no run or several.
    """
    if name is not None:
        wanted = str(name)
        hits = [i for i, r in enumerate(runs) if r.name == wanted]
        if not hits:
            target = Path(wanted)
            hits = [i for i, r in enumerate(runs)
                    if r.path == target or r.path.resolve() == target.resolve() or r.path.name == wanted]
        if not hits:
            known = ", ".join(r.name for r in runs)
            raise ReportInputError(f"--baseline: {wanted!r} is none of the runs ({known}); give a scenario name or a result folder")
        if len(hits) > 1:
            raise ReportInputError(f"--baseline: {wanted!r} names {len(hits)} runs; give the result folder instead")
        return hits[0]
    if len(runs) < 2:
        return None
    status_quo = [i for i, r in enumerate(runs) if r.policy == "pre_clover"]
    return status_quo[0] if len(status_quo) == 1 else 0
