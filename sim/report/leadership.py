"""The leadership report: one or more result folders in, a self-contained HTML page and a PDF out.

A result folder is what ``clover-sim run`` writes (see ``results/README.md``): ``summary.json``
plus the placement, transfers, latency, costs and costs_by_year tables, and optionally the
gateway's per-request table ``gateway_requests.csv`` / ``.parquet``. :func:`build_report` reads
the folders and assembles the sections; :func:`write_report` writes ``report.html`` (charts
embedded as base64 PNG, no external CSS, JavaScript, fonts or images, a Content-Security-Policy
that forbids any request) and ``report.pdf`` (the same sections: text pages for tables, one
page per chart) atomically.

Sections (HTML ids): ``runs``, ``headline``, ``comparison`` (only with several folders),
``storage``, ``costs``, ``transfers``, ``latency``, ``gateway``, ``carbon``, ``assumptions``.

The assumptions table lists every figure of each run's resolved scenario as a dotted key, with
the comment the scenario files give it (the file chain is found under ``scenarios/`` by the
scenario's name) or, for ``sites.<id>.<field>``, the matching clause of the reference table's
``source`` column. A row is "source" only if its text carries a P, S or D marker or a citation;
"assumption" if it says so, "assumption (not documented)" if nothing documents it. Values that
differ from the scenario file (``--set`` overrides) are labelled as set at run time.

Units: EUR per year, MWh and t CO2 per year, PB and TB, ms, seconds.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import math
import re
import textwrap
import tomllib
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from sim import __version__ as _sim_version
from sim import reference
from sim.report import charts, maps, report_charts
from sim.report.charts import _eur, _num
from sim.report.files import milestones, read_gateway_requests
from sim.report.io import atomic_dir

__all__ = [
    "RunFolder",
    "Table",
    "Chart",
    "Section",
    "Report",
    "ReportInputError",
    "load_run",
    "build_report",
    "render_html",
    "render_pdf",
    "write_report",
    "make_report",
    "parse_toml_comments",
    "classify_source",
    "assumptions_table",
    "format_kpi",
]

TABLES = ("placement", "transfers", "latency", "costs", "costs_by_year", "residency")
FLOW_KINDS = ("migration", "replication", "export")
DAYS_PER_YEAR = 365.0

#: Headline KPIs in display order: (name, label). Gateway KPIs follow when a run has them.
HEADLINE_KPIS: tuple[tuple[str, str], ...] = (
    ("cost_eur_per_year", "Yearly cost"),
    ("energy_mwh_per_year", "Energy"),
    ("co2_t_per_year", "Carbon"),
    ("stored_pb_total", "Stored data"),
    ("eea_residency_share", "EEA-only data held in the EEA"),
    ("transfer_tb_out_of_eea_per_year", "Data leaving the EEA"),
    ("user_rtt_ms_p50", "User round trip, median"),
    ("user_rtt_ms_p95", "User round trip, 95th percentile"),
)
GATEWAY_KPIS: tuple[tuple[str, str], ...] = (
    ("gateway_wait_s_p50", "Gateway wait, median"),
    ("gateway_wait_s_p95", "Gateway wait, 95th percentile"),
    ("gateway_sla_breach_share", "Access requests over their SLA"),
    ("reviewer_utilisation", "Reviewer utilisation"),
    ("gateway_requests_per_year", "Gateway requests"),
)
#: Shown only when present and not zero / empty.
EXTRA_KPIS: tuple[tuple[str, str], ...] = (
    ("residency_99_date", "99 % of EEA-only data in the EEA by"),
    ("migrated_tb", "Data migrated and replicated"),
    ("transfer_tb_blocked_per_year", "Transfers blocked"),
    ("unavailable_request_share", "Requests not served"),
    ("residency_violation_tb", "Residency violations"),
)


class ReportInputError(ValueError):
    """A result folder that cannot be read (no summary.json, bad JSON, not a folder)."""


# --------------------------------------------------------------------------- reading result folders


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
        """Simulated period in years of 365 days (from the summary's start and end)."""
        try:
            start = pd.Timestamp(self.summary["start"])
            end = pd.Timestamp(self.summary["end"])
            days = (end - start) / pd.Timedelta(days=1)
        except (KeyError, ValueError, TypeError):
            days = float(self.resolved.get("time", {}).get("horizon_days", DAYS_PER_YEAR))
        return max(float(days), 1e-9) / DAYS_PER_YEAR

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


# --------------------------------------------------------------------------- report structure


@dataclass
class Table:
    """A table: column names and rows of display strings (escaped when rendered)."""

    columns: list[str]
    rows: list[list[str]]
    caption: str = ""
    css_class: str = ""
    pdf_widths: list[int] | None = None  # characters per column in the PDF (default: fair shares)


@dataclass
class Chart:
    """A chart and its text alternative."""

    figure: Figure
    alt: str


@dataclass
class Section:
    """A report section: an HTML id, a title and blocks (paragraph strings, tables, charts)."""

    id: str
    title: str
    blocks: list[str | Table | Chart] = field(default_factory=list)

    @property
    def charts(self) -> list[Chart]:
        """The charts of the section, in order."""
        return [b for b in self.blocks if isinstance(b, Chart)]


@dataclass
class Report:
    """The assembled report."""

    title: str
    subtitle: str
    sections: list[Section]
    generated: str

    def section(self, section_id: str) -> Section:
        """The section with this id."""
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)


# --------------------------------------------------------------------------- formatting


def _pct(x: float) -> str:
    v = 100 * x
    if abs(v) < 5e-4:
        v = 0.0
    if 99.0 < v < 100.0 or 0.0 < v < 1.0:
        return f"{v:.2f} %"
    return f"{v:.1f} %"


def _duration(seconds: float) -> str:
    return report_charts._duration(seconds)


def format_kpi(value: float | str | None, unit: str) -> str:
    """Human-readable KPI value with its unit, e.g. 'EUR 1.2 bn/yr', '664 GWh/yr', '99.9 %'.

    Args:
        value: the value (a date string for unit "date"; None for "not available").
        unit: the KPI's unit from the summary.

    Returns:
        Display text.
    """
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    v = float(value)
    if not math.isfinite(v):
        return "n/a"
    if unit == "EUR/yr":
        return f"{_eur(v)}/yr"
    if unit == "MWh/yr":
        return f"{_num(v / 1000)} GWh/yr" if abs(v) >= 1000 else f"{_num(v)} MWh/yr"
    if unit == "t/yr":
        return f"{_num(v / 1000)} kt CO2/yr" if abs(v) >= 1000 else f"{_num(v)} t CO2/yr"
    if unit == "share":
        return _pct(v)
    if unit == "s":
        return _duration(v)
    if unit in ("requests/yr", "users") or abs(v) >= 1e6:
        if abs(v) >= 1e9:
            return f"{_num(v / 1e9)} bn {unit}"
        if abs(v) >= 1e6:
            return f"{_num(v / 1e6)} M {unit}"
    return f"{_num(v)} {unit}"


def _kpi_unit(run: RunFolder, name: str) -> str:
    row = run.kpis.get(name, {})
    unit = str(row.get("unit", ""))
    if unit == "seconds" or (not unit and (name.endswith("_s") or "_wait_s" in name)):
        return "s"
    return unit


def _kpi_cell(run: RunFolder, name: str) -> tuple[str, str]:
    """(value, interval) display strings of a KPI of a run."""
    row = run.kpis.get(name)
    if not isinstance(row, dict):
        return "n/a", ""
    unit = _kpi_unit(run, name)
    mean, lo, hi = row.get("mean"), row.get("ci95_low"), row.get("ci95_high")
    value = format_kpi(mean, unit)
    if run.n_replications < 2:
        return value, "single replication: no interval"
    if lo is None or hi is None:
        return value, "no interval"
    if lo == hi:
        return value, f"no spread over {run.n_replications} replications"
    low_text, high_text = format_kpi(lo, unit), format_kpi(hi, unit)
    if low_text == high_text and isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
        if unit == "share":
            return value, f"95 % CI \u00b1{_num(50 * (hi - lo))} percentage points"
        if isinstance(mean, (int, float)) and mean:
            rel = 100 * (hi - lo) / 2 / abs(mean)
            return value, "95 % CI \u00b1" + ("< 0.01" if rel < 0.01 else f"{rel:.2g}") + " % of the mean"
    return value, f"95 % CI {low_text} to {high_text}"


def _headline_names(run: RunFolder) -> list[tuple[str, str]]:
    out = [(n, label) for n, label in HEADLINE_KPIS if n in run.kpis]
    gateway = [(n, label) for n, label in GATEWAY_KPIS if n in run.kpis]
    known = {n for n, _ in GATEWAY_KPIS}
    gateway += [(n, n.replace("_", " ")) for n in run.kpis
                if (n.startswith("gateway_") or n.startswith("reviewer_")) and n not in known and "." not in n]
    out += gateway
    for n, label in EXTRA_KPIS:
        mean = run.kpis.get(n, {}).get("mean")
        if mean not in (None, 0, 0.0, ""):
            out.append((n, label))
    return out


def _change(a: float | None, b: float | None, unit: str = "") -> str:
    """Change of a against b: '+17 %' (relative) or '+99.9 pp' for shares ('n/a' if undefined)."""
    if a is None or b is None:
        return "n/a"
    if unit == "share":
        return f"{100 * (a - b):+.1f} pp"
    if abs(b) <= 1e-9 * max(abs(a), 1.0):
        return "n/a"
    return f"{100 * (a - b) / abs(b):+.0f} %"


def _finding(runs: Sequence[RunFolder]) -> str:
    """The report title: the first run's cost, against the second run or the reference."""
    first = runs[0]
    cost = first.kpi("cost_eur_per_year")
    res = first.kpi("eea_residency_share")
    if cost is None:
        return f"{first.name}: leadership report"
    text = f"{first.name} costs {_eur(cost)} a year"
    if len(runs) > 1 and runs[1].kpi("cost_eur_per_year"):
        other = runs[1].kpi("cost_eur_per_year") or 1.0
        diff = (cost - other) / other
        if round(abs(diff) * 100) == 0:
            text += f", about the same as {runs[1].name}"
        else:
            text += f", {abs(diff) * 100:.0f} % {'more' if diff > 0 else 'less'} than {runs[1].name}"
        res2 = runs[1].kpi("eea_residency_share")
        if res is not None and res2 is not None:
            text += f"; it keeps {_pct(res)} of EEA-only data in the EEA against {_pct(res2)}"
    else:
        ref = first.reference_eur_per_year
        diff = (cost - ref) / ref
        side = "in line with" if round(abs(diff) * 100) == 0 else f"{abs(diff) * 100:.0f} % {'above' if diff > 0 else 'below'}"
        text += f", {side} the {_eur(ref)} reference"
        if res is not None:
            text += f"; {_pct(res)} of EEA-only data stays in the EEA"
    return text


# --------------------------------------------------------------------------- sections


def _runs_section(runs: Sequence[RunFolder]) -> Section:
    rows = []
    for r in runs:
        rows.append([
            r.name, r.description or "-", r.policy,
            ", ".join(str(s) for s in r.resolved.get("policy", {}).get("sites", [])) or "-",
            f"{str(r.summary.get('start', ''))[:10]} to {str(r.summary.get('end', ''))[:10]}",
            str(r.n_replications), str(r.summary.get("seed", "-")), str(r.path),
        ])
    table = Table(["Scenario", "Description", "Placement policy", "Sites", "Period", "Replications",
                   "Seed", "Result folder"], rows)
    text = ("Figures are means over the replications of each run with a 95 % Student-t interval; "
            "charts of a single run use its first replication. Colours are fixed per site, policy and "
            "cost category throughout.")
    return Section("runs", "Runs in this report", [text, table])


def _headline_section(runs: Sequence[RunFolder]) -> Section:
    blocks: list[str | Table | Chart] = []
    for r in runs:
        rows = []
        for name, label in _headline_names(r):
            value, interval = _kpi_cell(r, name)
            rows.append([label, value, interval, name])
        blocks.append(Table(["KPI", "Mean", "Interval", "KPI name"], rows,
                            caption=f"{r.name} (policy {r.policy}, {r.n_replications} replication(s))",
                            css_class="kpis"))
    return Section("headline", "Headline figures", blocks)


def _comparison_section(runs: Sequence[RunFolder]) -> Section:
    names: list[tuple[str, str]] = []
    for r in runs:
        for n, label in _headline_names(r):
            if (n, label) not in names:
                names.append((n, label))
    base = runs[0]
    rows = []
    for n, label in names:
        row = [label]
        for r in runs:
            value, interval = _kpi_cell(r, n)
            short = ""
            if interval.startswith("95 % CI \u00b1"):
                short = "(" + interval.removeprefix("95 % CI ") + ")"
            elif interval.startswith("95"):
                short = "[" + interval.removeprefix("95 % CI ").replace(" to ", ", ") + "]"
            row.append(f"{value} {short}".strip())
        for r in runs[1:]:
            row.append(_change(base.kpi(n), r.kpi(n), _kpi_unit(base, n)))
        rows.append(row)
    columns = ["KPI", *[f"{r.name} ({r.policy})" for r in runs], *[f"{base.name} vs {r.name}" for r in runs[1:]]]
    table = Table(columns, rows, caption="Mean [95 % interval] per run; the last columns give the first run's change "
                                         "against each other run (relative, or percentage points for "
                                         "shares).", css_class="compare")
    chart_kpis = [n for n in report_charts.KPI_AXES if any(n in r.kpis for r in runs)]
    values = {}
    for n in chart_kpis:
        vals = []
        for r in runs:
            row = r.kpis.get(n, {})

            def num(x: Any) -> float | None:
                return float(x) if isinstance(x, (int, float)) and math.isfinite(x) else None

            vals.append(report_charts.KpiValue(num(row.get("mean")), num(row.get("ci95_low")), num(row.get("ci95_high"))))
        values[n] = vals
    title = _finding(runs)
    fig = report_charts.kpi_comparison_chart([r.name for r in runs], [r.policy for r in runs], values, title=title)
    alt = "Bar chart comparing " + ", ".join(report_charts.KPI_AXES[n][0] for n in chart_kpis) + " across runs"
    return Section("comparison", "Policy comparison", [
        "Each panel is one KPI; bars are coloured by placement policy and the whiskers are the 95 % "
        "intervals over replications.", table, Chart(fig, alt)])


def _missing(run: RunFolder, name: str) -> str:
    return f"{run.name}: {name}.csv is missing from {run.path}, so this part is left out."


def _storage_section(runs: Sequence[RunFolder]) -> Section:
    blocks: list[str | Table | Chart] = []
    for r in runs:
        placement = r.first("placement")
        if placement is None or placement.empty:
            blocks.append(_missing(r, "placement"))
            continue
        sites = list(dict.fromkeys(placement["site"].astype(str)))
        marks = milestones({"resolved_scenario": r.resolved, "kpis": r.kpis}, sites)
        fig = charts.stored_by_site_chart(placement, milestones=marks)
        last = placement[placement["time"] == placement["time"].max()].groupby("site")["stored_tb"].sum() / 1000
        parts = ", ".join(f"{s} {_num(float(v))} PB" for s, v in last.sort_values(ascending=False).items())
        blocks.append(f"{r.name}: at the end of the run ({str(placement['time'].max())[:10]}) {parts}.")
        blocks.append(Chart(fig, f"{r.name}: stored data per site over time, stacked, in PB"))
    return Section("storage", "Where the data lives over time", blocks)


def _costs_section(runs: Sequence[RunFolder]) -> Section:
    blocks: list[str | Table | Chart] = []
    for r in runs:
        costs = r.first("costs")
        if costs is None or costs.empty:
            blocks.append(_missing(r, "costs"))
            continue
        ref = r.reference_eur_per_year
        fig = charts.cost_by_site_chart(costs, reference_eur_per_year=ref,
                                        reference_label=f"Reference {_eur(ref)}/yr (published Clover figure)")
        by_cat = costs.groupby("category")["eur_per_year"].sum().sort_values(ascending=False)
        total = float(by_cat.sum())
        rows = [[str(c), f"{_num(float(v) / 1e6)}", _pct(float(v) / total if total else 0.0)] for c, v in by_cat.items()]
        rows.append(["total", f"{_num(total / 1e6)}", "100 %"])
        blocks.append(Chart(fig, f"{r.name}: yearly cost per site stacked by category against the reference"))
        blocks.append(Table(["Category", "EUR million per year", "Share"], rows,
                            caption=f"{r.name}: yearly cost by category (first replication)"))
        by_year = r.first("costs_by_year")
        if by_year is not None and "year" in by_year.columns and by_year["year"].nunique() > 1:
            fig = report_charts.cost_by_year_chart(by_year, reference_eur_per_year=ref)
            blocks.append(Chart(fig, f"{r.name}: cost per calendar year by site"))
    return Section("costs", "Yearly cost by site and category", blocks)


def _leaving(run: RunFolder) -> pd.DataFrame | None:
    """TB per year leaving the EEA by destination, data class (mean over replications)."""
    t = run.table("transfers")
    if t is None:
        return None
    flag = t["leaves_eea"]
    if flag.dtype != bool:
        flag = flag.astype(str).str.lower().isin(("true", "1"))
    out = t[flag]
    cols = ["destination", "data_class"]
    if out.empty:
        return pd.DataFrame(columns=[*cols, "tb_per_year", "kinds"])
    reps = t["replication"].nunique() if "replication" in t.columns else 1
    g = out.groupby(cols, as_index=False).agg(tb=("tb", "sum"), kinds=("kind", lambda k: ", ".join(sorted(set(map(str, k))))))
    g["tb_per_year"] = g["tb"] / reps / run.horizon_years
    return g.drop(columns="tb").sort_values("tb_per_year", ascending=False, kind="stable")


def _transfers_section(runs: Sequence[RunFolder]) -> Section:
    blocks: list[str | Table | Chart] = []
    for r in runs:
        g = _leaving(r)
        if g is None:
            blocks.append(_missing(r, "transfers"))
            continue
        if g.empty or float(g["tb_per_year"].sum()) <= 0:
            blocks.append(f"{r.name}: nothing leaves the EEA in this run.")
            continue
        total = float(g["tb_per_year"].sum())
        blocks.append(Chart(report_charts.transfers_out_chart(g),
                            f"{r.name}: data leaving the EEA by destination and data class, TB per year"))
        rows = [[str(x.destination), str(x.data_class), str(x.kinds), _num(float(x.tb_per_year)),
                 _pct(float(x.tb_per_year) / total)] for x in g.itertuples(index=False)]
        blocks.append(Table(["Destination", "Data class", "Kind of flow", "TB per year", "Share"], rows,
                            caption=f"{r.name}: flows with leaves_eea = true, mean over replications"))
    return Section("transfers", "What leaves the EEA", blocks)


def _flows(run: RunFolder) -> pd.DataFrame | None:
    t = run.table("transfers")
    if t is None:
        return None
    reps = int(t["replication"].nunique()) if "replication" in t.columns else 1
    t = t[t["kind"].astype(str).isin(FLOW_KINDS)]
    g = t.groupby(["source", "destination", "kind"], as_index=False)["tb"].sum()
    g["tb_per_year"] = g["tb"] / max(reps, 1) / run.horizon_years
    return g


def _run_sites(run: RunFolder) -> dict[str, tuple[float, float]]:
    resolved = run.resolved
    placement = run.first("placement")
    policy = resolved.get("policy", {})
    ids = list(dict.fromkeys([*policy.get("sites", []), *policy.get("start_sites", []),
                              *policy.get("failover_sites", []),
                              *([] if placement is None else placement["site"].astype(str).unique())]))
    out = {}
    for s in ids:
        rec = resolved.get("sites", {}).get(s, {})
        if isinstance(rec.get("lat"), (int, float)) and isinstance(rec.get("lon"), (int, float)):
            out[str(s)] = (float(rec["lat"]), float(rec["lon"]))
    return out


def _latency_section(runs: Sequence[RunFolder]) -> Section:
    blocks: list[str | Table | Chart] = [
        "Countries are coloured by the request-weighted mean round trip of their users (same colour "
        "scale on every map); circles are sites, diamonds on the frame are sites outside the map. Lines "
        "are the largest migration, replication and export flows (TB per year, width by volume); flows "
        "to destinations outside the map leave the frame towards them. Outline: Natural Earth 1:110m "
        "(public domain), shipped with the package."]
    rtts = {}
    for r in runs:
        lat = r.table("latency")
        if lat is not None and not lat.empty:
            rtts[r.name] = maps.request_weighted_rtt(lat)
    if rtts:
        lo = min(float(s.min()) for s in rtts.values())
        hi = max(float(s.max()) for s in rtts.values())
    for r in runs:
        lat = r.table("latency")
        if lat is None or lat.empty:
            blocks.append(_missing(r, "latency"))
            continue
        fig = maps.europe_map_chart(lat, _run_sites(r), _flows(r), rtt_range=(lo, hi), subject=r.name)
        blocks.append(Chart(fig, f"{r.name}: map of Europe, countries coloured by round-trip time, sites and flows"))
    if rtts:
        countries = sorted(set().union(*(s.index for s in rtts.values())),
                           key=lambda c: -float(next(iter(rtts.values())).get(c, 0.0)))
        ref = reference.countries()
        rows = [[str(c), ref[c].name if c in ref else "-",
                 *[_num(float(s[c])) if c in s.index else "-" for s in rtts.values()]] for c in countries]
        blocks.append(Table(["Country", "Name", *[f"{n} (ms)" for n in rtts]], rows,
                            caption="Request-weighted mean round trip per country, slowest first"))
    return Section("latency", "User round trip by country", blocks)


def _gateway_requests(run: RunFolder) -> pd.DataFrame | None:
    for name in ("gateway_requests.csv", "gateway_requests.parquet"):
        f = run.path / name
        if f.is_file():
            return read_gateway_requests(f)
    return None


def _sla_by_class(run: RunFolder, classes: Iterable[str]) -> dict[str, float]:
    gw = run.resolved.get("gateway", {})
    default = gw.get("sla_s")
    out: dict[str, float] = {}
    per_class = {str(c.get("name")): c.get("sla_s") for c in gw.get("priority_classes", []) or []
                 if isinstance(c, dict)}
    for c in classes:
        value = per_class.get(str(c))
        if value is None:
            value = default
        if isinstance(value, (int, float)):
            out[str(c)] = float(value)
    return out


def _gateway_section(runs: Sequence[RunFolder]) -> Section:
    blocks: list[str | Table | Chart] = []
    for r in runs:
        enabled = r.resolved.get("gateway", {}).get("enabled", False)
        kpi_rows = [[label, *_kpi_cell(r, n)] for n, label in _headline_names(r)
                    if n.startswith("gateway_") or n.startswith("reviewer_")]
        requests = _gateway_requests(r)
        if requests is None or requests.empty:
            why = "the gateway is switched off" if not enabled else "the folder holds no gateway_requests file"
            blocks.append(f"{r.name}: the run had no gateway queue ({why}), so there are no waits to show.")
        else:
            access = requests[requests["kind"].astype(str) == "access"] if "kind" in requests else requests
            classes = sorted(access["class"].dropna().astype(str).unique())
            sla = _sla_by_class(r, classes)
            if not sla:
                blocks.append(f"{r.name}: the resolved scenario records no gateway SLA (gateway.sla_s), so no "
                              "SLA line is drawn.")
            try:
                fig = report_charts.gateway_wait_chart(requests, sla_s_by_class=sla, subject=r.name)
                blocks.append(Chart(fig, f"{r.name}: distribution of access-request waits per class with the SLA"))
            except ValueError as exc:
                blocks.append(f"{r.name}: gateway requests cannot be plotted: {exc}.")
            rows = []
            for c in classes:
                w = access.loc[access["class"].astype(str) == c, "wait_s"].to_numpy(dtype=float)
                w = w[np.isfinite(w)]
                if len(w) == 0:
                    continue
                limit = sla.get(c)
                breach = _pct(float(np.mean(w > limit))) if limit is not None else "no SLA"
                rows.append([c, f"{len(w):,}", _duration(float(np.median(w))), _duration(float(np.quantile(w, 0.95))),
                             _duration(limit) if limit is not None else "-", breach])
            if rows:
                blocks.append(Table(["Class", "Access requests", "Median wait", "95th percentile", "SLA",
                                     "Over SLA"], rows, caption=f"{r.name}: waits of access requests per class"))
        if kpi_rows:
            blocks.append(Table(["Gateway KPI", "Mean", "Interval"], kpi_rows, caption=f"{r.name}: gateway KPIs"))
    return Section("gateway", "Gateway waits against the SLA", blocks)


def _carbon_section(runs: Sequence[RunFolder]) -> Section:
    per_run: dict[str, dict[str, float]] = {}
    for r in runs:
        sites = {}
        for name, row in r.kpis.items():
            if name.startswith("co2_t_per_year.") and isinstance(row.get("mean"), (int, float)):
                sites[name.split(".", 1)[1]] = float(row["mean"])
        if sites:
            label = r.name if r.name not in per_run else f"{r.name} ({r.path.name})"
            per_run[label] = sites
    if not per_run:
        return Section("carbon", "Carbon by site", ["No run reports carbon per site (co2_t_per_year.<site>)."])
    fig = report_charts.carbon_by_site_chart(per_run)
    sites = list(dict.fromkeys(s for v in per_run.values() for s in v))
    rows = [[s, *[_num(v.get(s, 0.0)) if s in v else "-" for v in per_run.values()]] for s in sites]
    rows.append(["total", *[_num(sum(v.values())) for v in per_run.values()]])
    return Section("carbon", "Carbon by site", [
        "Location-based emissions: facility energy times the grid intensity of each site.",
        Chart(fig, "Yearly CO2 per run stacked by site, kt"),
        Table(["Site", *[f"{n} (t CO2/yr)" for n in per_run]], rows)])


def _assumptions_section(runs: Sequence[RunFolder], scenario_dir: Path) -> Section:
    frames = []
    notes = []
    for r in runs:
        df, note = assumptions_table(r.resolved, scenario_dir=scenario_dir, name=str(r.resolved.get("name") or r.name))
        df["run"] = r.name
        frames.append(df)
        if note:
            notes.append(f"{r.name}: {note}")
    table = pd.concat(frames, ignore_index=True)
    grouped = (table.groupby(["key", "value", "basis", "source"], sort=False)["run"]
               .agg(lambda x: ", ".join(dict.fromkeys(x))).reset_index())
    all_runs = ", ".join(dict.fromkeys(r.name for r in runs))
    grouped["run"] = grouped["run"].where(grouped["run"] != all_runs, "all")
    grouped = grouped.sort_values("key", kind="stable")
    counts = grouped["basis"].map(lambda b: "source" if b == "source" else
                                  ("assumption (not documented)" if "not documented" in b else "assumption")).value_counts()
    text = (f"Every figure the runs used ({len(grouped)} rows): {counts.get('source', 0)} sourced, "
            f"{counts.get('assumption', 0)} labelled assumptions, {counts.get('assumption (not documented)', 0)} "
            "not documented. A row counts as 'source' only if its comment carries a P (primary), S "
            "(secondary) or D (derived) marker or a citation; comments that say ASSUMPTION (or also assume "
            "part of the figure) are assumptions; figures no scenario file or reference table documents are "
            "'assumption (not documented)'. Values that differ from the scenario file were set at run time "
            "(--set) and are assumptions.")
    rows = [[str(x.key), str(x.value), str(x.basis), str(x.source), str(x.run)] for x in grouped.itertuples(index=False)]
    blocks: list[str | Table | Chart] = [text, *notes,
                                          Table(["Figure", "Value", "Basis", "Source or comment", "Runs"], rows,
                                                css_class="assumptions", pdf_widths=[31, 16, 15, 38, 10])]
    return Section("assumptions", "Assumptions and sources", blocks)


def sim_version() -> str:
    """The model version that builds the report."""
    return _sim_version


def build_report(folders: Sequence[str | Path], *, scenario_dir: str | Path = "scenarios") -> Report:
    """Read result folders and assemble the report.

    Args:
        folders: one or more result folders; the first is the subject of the headline, the
            others are compared with it.
        scenario_dir: where the scenario TOML files live (their comments document the figures).

    Returns:
        The report; write it with :func:`write_report`.

    Raises:
        ReportInputError: if no folder is given or a folder cannot be read.
    """
    if not folders:
        raise ReportInputError("no result folders given; pass one or more folders written by 'clover-sim run'")
    runs = [load_run(f) for f in folders]
    sections = [_runs_section(runs), _headline_section(runs)]
    if len(runs) > 1:
        sections.append(_comparison_section(runs))
    sections += [_storage_section(runs), _costs_section(runs), _transfers_section(runs), _latency_section(runs),
                 _gateway_section(runs), _carbon_section(runs), _assumptions_section(runs, Path(scenario_dir))]
    names = ", ".join(r.name for r in runs)
    # no wall-clock time: the same folders give the same report, byte for byte
    generated = f"by clover-sim {sim_version()}"
    return Report(_finding(runs), f"clover-sim leadership report: {names}", sections, generated)


# --------------------------------------------------------------------------- HTML

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:0;color:#1b1b1b;background:#fff;line-height:1.4}
main{max-width:1180px;margin:0 auto;padding:18px 28px 60px}
h1{font-size:1.6em;margin:.2em 0 .1em}h2{font-size:1.25em;border-bottom:2px solid #0072B2;padding-bottom:3px;margin-top:2em}
.sub{color:#555;margin:0 0 1em}nav{background:#f3f6f9;padding:8px 12px;border-radius:4px;font-size:.92em}
nav a{margin-right:14px;color:#0b5394;text-decoration:none}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.86em;width:100%}
caption{text-align:left;font-weight:bold;padding:4px 0;color:#333}
th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef2f6}tr:nth-child(even) td{background:#fafbfc}
table.kpis td:nth-child(2){font-weight:bold;white-space:nowrap}
td.basis-source{color:#0a6b3d;font-weight:bold}td.basis-assumption{color:#a33a00}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}footer{margin-top:3em;font-size:.8em;color:#666}
@media print{nav{display:none}h2{break-before:auto}figure{break-inside:avoid}}
"""


def _png_data_uri(fig: Figure, dpi: int = 100) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _html_table(t: Table) -> str:
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in t.columns)
    body = []
    basis_col = t.columns.index("Basis") if "Basis" in t.columns else -1
    for row in t.rows:
        cells = []
        for i, cell in enumerate(row):
            cls = ""
            if i == basis_col:
                cls = ' class="basis-source"' if cell == "source" else ' class="basis-assumption"'
            cells.append(f"<td{cls}>{e(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{e(t.caption)}</caption>" if t.caption else ""
    cls = f' class="{e(t.css_class)}"' if t.css_class else ""
    return f"<table{cls}>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_html(report: Report) -> str:
    """The report as one self-contained HTML document (charts as base64 PNG, inline CSS only).

    All text that comes from the result folders is HTML-escaped.
    """
    e = html.escape
    nav = "".join(f'<a href="#{e(s.id)}">{e(s.title)}</a>' for s in report.sections)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>{e(report.title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{e(report.title)}</h1>",
        f'<p class="sub">{e(report.subtitle)}. Generated {e(report.generated)}.</p>',
        f"<nav>{nav}</nav>",
    ]
    for s in report.sections:
        parts.append(f'<section id="{e(s.id)}"><h2>{e(s.title)}</h2>')
        for b in s.blocks:
            if isinstance(b, str):
                parts.append(f"<p>{e(b)}</p>")
            elif isinstance(b, Table):
                parts.append(_html_table(b))
            else:
                parts.append(f'<figure><img src="{_png_data_uri(b.figure)}" alt="{e(b.alt)}">'
                             f"<figcaption>{e(b.alt)}</figcaption></figure>")
        parts.append("</section>")
    parts.append("<footer>Made by clover-sim from the result folders listed above. Nothing on this page is "
                 "loaded from the network.</footer></main></body></html>")
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- PDF

_PAGE = (8.27, 11.69)  # A4 portrait, inches
_MARGIN = 0.6
_MONO_CHARS = 118  # characters of 6.5 pt monospace across the text width


class _PdfText:
    """Lays out headings, paragraphs and tables as text on A4 pages."""

    def __init__(self, pdf: PdfPages) -> None:
        self.pdf = pdf
        self.fig: Figure | None = None
        self.y = 0.0

    def _page(self) -> Figure:
        if self.fig is None:
            self.fig = Figure(figsize=_PAGE)
            FigureCanvasAgg(self.fig)
            self.y = _PAGE[1] - _MARGIN
        return self.fig

    def flush(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None

    def _need(self, height: float) -> Figure:
        fig = self._page()
        if self.y - height < _MARGIN:
            self.flush()
            fig = self._page()
        return fig

    def _line(self, text: str, size: float, *, weight: str = "normal", family: str = "DejaVu Sans",
              x: float = _MARGIN, color: str = "black") -> None:
        height = size * 1.45 / 72
        fig = self._need(height)
        self.y -= height
        fig.text(x / _PAGE[0], self.y / _PAGE[1], text, fontsize=size, fontweight=weight, family=family,
                 color=color, va="bottom", ha="left")

    def heading(self, text: str, size: float = 14) -> None:
        self._need(0.8)
        self.y -= 0.1
        for line in textwrap.wrap(text, int(95 * 12 / size)) or [""]:
            self._line(line, size, weight="bold")
        self.y -= 0.05

    def paragraph(self, text: str) -> None:
        for line in textwrap.wrap(text, 110) or [""]:
            self._line(line, 8.5)
        self.y -= 0.08

    def table(self, t: Table) -> None:
        if t.caption:
            for line in textwrap.wrap(t.caption, 110):
                self._line(line, 8, weight="bold")
        cols = len(t.columns)
        natural = [max([len(c) for c in t.columns] + [len(r[i]) for r in t.rows if i < len(r)]) for i in range(cols)]
        budget = _MONO_CHARS - 2 * (cols - 1)
        widths = list(t.pdf_widths) if t.pdf_widths and len(t.pdf_widths) == cols else _fair_widths(natural, budget)

        def emit(cells: Sequence[str], weight: str = "normal") -> None:
            wrapped = [textwrap.wrap(str(c), widths[i]) or [""] for i, c in enumerate(cells)]
            for k in range(max(len(w) for w in wrapped)):
                text = "  ".join((w[k] if k < len(w) else "").ljust(widths[i]) for i, w in enumerate(wrapped))
                self._line(text, 6.5, family="DejaVu Sans Mono", weight=weight)

        emit(t.columns, "bold")
        self._line("-" * min(_MONO_CHARS, sum(widths) + 2 * (cols - 1)), 6.5, family="DejaVu Sans Mono")
        for row in t.rows:
            emit([*row, *[""] * (cols - len(row))][:cols])
        self.y -= 0.1


def _fair_widths(natural: Sequence[int], budget: int) -> list[int]:
    """Max-min fair column widths: narrow columns keep their width, wide ones share the rest."""
    widths = [0] * len(natural)
    open_cols = list(range(len(natural)))
    left = budget
    while open_cols:
        share = max(6, left // len(open_cols))
        fits = [i for i in open_cols if natural[i] <= share]
        if not fits:
            for i in open_cols:
                widths[i] = share
            break
        for i in fits:
            widths[i] = max(1, natural[i])
            left -= widths[i]
            open_cols.remove(i)
    return widths


def render_pdf(report: Report, path: str | Path) -> Path:
    """Write the report as a PDF: text pages for headings, paragraphs and tables, a page per chart.

    Args:
        report: the assembled report.
        path: the PDF file to write.

    Returns:
        The path written.
    """
    path = Path(path)
    with PdfPages(path, metadata={"Title": report.title, "Creator": "clover-sim", "CreationDate": None}) as pdf:
        writer = _PdfText(pdf)
        writer.heading(report.title, 15)
        writer.paragraph(f"{report.subtitle}. Generated {report.generated}.")
        for s in report.sections:
            writer.heading(s.title)
            for b in s.blocks:
                if isinstance(b, str):
                    writer.paragraph(b)
                elif isinstance(b, Table):
                    writer.table(b)
                else:
                    writer.paragraph(f"[Chart on the next page: {b.alt}]")
            writer.flush()
            for c in s.charts:
                pdf.savefig(c.figure)
    return path


def write_report(report: Report, out: str | Path) -> Path:
    """Write ``report.html`` and ``report.pdf`` into ``out`` atomically (``out`` is replaced).

    Args:
        report: the assembled report.
        out: destination folder.

    Returns:
        The destination folder.
    """

    def fill(tmp: Path) -> None:
        (tmp / "report.html").write_text(render_html(report), encoding="utf-8")
        render_pdf(report, tmp / "report.pdf")

    return atomic_dir(Path(out), fill)


def make_report(folders: Sequence[str | Path], out: str | Path, *, scenario_dir: str | Path = "scenarios") -> Path:
    """Build the report from result folders and write it (see :func:`build_report`)."""
    return write_report(build_report(folders, scenario_dir=scenario_dir), out)


# --------------------------------------------------------------------------- assumptions

_MARKER = re.compile(r"(?:^|[\s(/,;])(?:P|S|D)(?=[\s:)/,;]|$)")
_CITATION = re.compile(r"https?://|\bdoi\b|\bet al\b|\([A-Z][A-Za-z&. ]+,? (?:19|20)\d\d\)", re.IGNORECASE)
_ASSUMED = re.compile(r"assum|unverified", re.IGNORECASE)


def classify_source(comment: str | None) -> str:
    """Label a figure by the text that documents it.

    Args:
        comment: the scenario-file comment or reference-table clause (None if there is none).

    Returns:
        "source" (P / S / D marker or a citation, no assumption), "assumption (partly sourced)"
        (markers and an assumption), "assumption" (says ASSUMPTION), "assumption (comment cites no
        source)" (a comment without markers) or "assumption (not documented)" (no text).
    """
    if not comment or not comment.strip():
        return "assumption (not documented)"
    sourced = bool(_MARKER.search(comment) or _CITATION.search(comment))
    assumed = bool(_ASSUMED.search(comment))
    if sourced and assumed:
        return "assumption (partly sourced)"
    if assumed:
        return "assumption"
    if sourced:
        return "source"
    return "assumption (comment cites no source)"


def _split_comment(line: str) -> tuple[str, str]:
    """Split a TOML line into code and comment, respecting quoted strings."""
    quote = ""
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i], line[i + 1:].strip()
        i += 1
    return line, ""


def _depth(code: str) -> int:
    depth, quote = 0, ""
    for ch in code:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
    return depth


def _split_key(text: str) -> list[str]:
    parts, cur, quote = [], "", ""
    for ch in text.strip():
        if quote:
            if ch == quote:
                quote = ""
            else:
                cur += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return [p for p in parts if p != ""]


def parse_toml_comments(text: str) -> dict[str, str]:
    """Map each assigned dotted key of a TOML document to its trailing comment.

    Tables (``[a.b]``) and arrays of tables (``[[a.b]]``, indexed ``a.b.0``, ``a.b.1`` ...) set the
    key prefix; multi-line arrays collect the comments of all their lines. Comment-only lines are
    ignored (they describe the file or a table, not one figure).

    Args:
        text: the TOML source.

    Returns:
        ``{"population.mau": "P: ...", ...}`` for keys that have a comment.
    """
    comments: dict[str, str] = {}
    prefix: list[str] = []
    arrays: dict[str, int] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        code, comment = _split_comment(lines[i])
        stripped = code.strip()
        i += 1
        if not stripped:
            continue
        if stripped.startswith("[["):
            path = _split_key(stripped[2:stripped.find("]]")])
            key = ".".join(path)
            arrays[key] = arrays.get(key, -1) + 1
            prefix = [*_with_indices(path[:-1], arrays), path[-1], str(arrays[key])]
            continue
        if stripped.startswith("["):
            prefix = _with_indices(_split_key(stripped[1:stripped.find("]")]), arrays)
            continue
        if "=" not in stripped:
            continue
        key_text, _, value = stripped.partition("=")
        parts = [comment] if comment else []
        depth = _depth(value)
        while depth > 0 and i < len(lines):
            code2, comment2 = _split_comment(lines[i])
            i += 1
            depth += _depth(code2)
            if comment2:
                parts.append(comment2)
        if parts:
            comments[".".join([*prefix, *_split_key(key_text)])] = " ".join(parts)
    return comments


def _with_indices(path: list[str], arrays: Mapping[str, int]) -> list[str]:
    """Insert the current index after each prefix of ``path`` that is an array of tables."""
    out: list[str] = []
    for k in range(len(path)):
        out.append(path[k])
        key = ".".join(path[: k + 1])
        if key in arrays:
            out.append(str(arrays[key]))
    return out


@dataclass(frozen=True)
class _ScenarioFile:
    path: Path
    data: dict[str, Any]
    comments: dict[str, str]
    parent: Path | None


_MISSING = object()


def _read_scenario_file(path: Path) -> _ScenarioFile | None:
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    parent = data.pop("extends", None)
    parent_path = (path.parent / parent).resolve() if isinstance(parent, str) and parent else None
    return _ScenarioFile(path.resolve(), data, parse_toml_comments(text), parent_path)


def _chain(path: Path, cache: dict[Path, _ScenarioFile | None]) -> list[_ScenarioFile]:
    """The file and the files it extends, most specific first."""
    out: list[_ScenarioFile] = []
    seen: set[Path] = set()
    current: Path | None = path.resolve()
    while current is not None and current not in seen:
        seen.add(current)
        if current not in cache:
            cache[current] = _read_scenario_file(current) if current.is_file() else None
        f = cache[current]
        if f is None:
            break
        out.append(f)
        current = f.parent
    return out


def _get(data: Any, keys: Sequence[str]) -> Any:
    for k in keys:
        if isinstance(data, dict) and k in data:
            data = data[k]
        elif isinstance(data, list) and k.isdigit() and int(k) < len(data):
            data = data[int(k)]
        else:
            return _MISSING
    return data


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, (dt.date, dt.datetime, dt.time)):
        return a.isoformat() == str(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts (and lists of dicts, by index) to dotted keys; other lists stay values."""
    out: dict[str, Any] = {}
    if isinstance(obj, dict) and obj:
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj):
        for i, v in enumerate(obj):
            out.update(flatten(v, f"{prefix}.{i}"))
    else:
        out[prefix] = obj
    return out


def _find_chain(name: str, resolved_flat: Mapping[str, Any], scenario_dir: Path) -> list[_ScenarioFile]:
    """The scenario file chain whose name matches and whose values agree best with the run."""
    if not scenario_dir.is_dir():
        return []
    cache: dict[Path, _ScenarioFile | None] = {}
    best: tuple[int, int, str] | None = None
    best_chain: list[_ScenarioFile] = []
    for path in sorted(scenario_dir.rglob("*.toml")):
        chain = _chain(path, cache)
        if not chain:
            continue
        file_name = next((f.data.get("name") for f in chain if "name" in f.data), None)
        if file_name != name:
            continue
        score = sum(1 for key, value in resolved_flat.items()
                    if any((v := _get(f.data, key.split("."))) is not _MISSING and _same(v, value) for f in chain))
        rank = (score, int("name" in chain[0].data), str(path))
        if best is None or rank[:2] > best[:2]:
            best, best_chain = rank, chain
    return best_chain


def _comment_for(f: _ScenarioFile, key: str) -> str | None:
    parts = key.split(".")
    for n in range(len(parts), 0, -1):
        c = f.comments.get(".".join(parts[:n]))
        if c:
            return c
    return None


_SITE_FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "pue": ("pue",),
    "energy_price_eur_per_kwh": ("price",),
    "grid_gco2_per_kwh": ("carbon",),
    "online_date": ("online", "live", "date", "target"),
    "it_mw_contracted": ("mw",),
    "it_mw_campus": ("campus",),
    "operator": ("operator",),
}


def _site_source(site: str, fieldname: str, value: Any) -> tuple[str, str] | None:
    """(basis, source) from the reference table's source column for one field of a site."""
    record = reference.site_records().get(site)
    if record is None or fieldname not in record or not _same(record[fieldname], value):
        return None
    text = str(record.get("source", ""))
    words = _SITE_FIELD_WORDS.get(fieldname)
    if words:
        clauses = [c.strip() for c in text.split(";") if any(w in c.lower() for w in words)]
        if clauses:
            clause = "; ".join(clauses)
            return classify_source(clause), f"sim/data/sites.csv ({site}): {clause}"
    return ("assumption (not documented)",
            f"sim/data/sites.csv ({site}) gives the value; its source column does not document this field")


def _model_description(keys: Sequence[str]) -> str | None:
    """The pydantic Field description of a dotted key of the Scenario model, if any."""
    from pydantic import BaseModel

    from sim.scenario import Scenario

    annotation: Any = Scenario
    description = None
    for k in keys:
        annotation = _unwrap(annotation)
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(k)
            if info is None:
                return None
            description = info.description
            annotation = info.annotation
        elif origin in (list, tuple):
            args = typing.get_args(annotation)
            annotation = args[0] if args else Any
        elif origin is dict:
            args = typing.get_args(annotation)
            annotation = args[1] if len(args) > 1 else Any
        else:
            return description
    return description


def _unwrap(annotation: Any) -> Any:
    """Strip Optional / Annotated wrappers."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def _reference_default(key: str, value: Any, resolved: Mapping[str, Any]) -> tuple[str, str] | None:
    """Figures filled in from sim.reference rather than the scenario files."""
    if key == "costs.reference_eur_per_year" and _same(value, reference.CLOVER_COST_EUR_PER_YEAR):
        text = "P/S: published Project Clover yearly cost, announcement 2023-03-08 (sim.reference)"
        return classify_source(text), text
    if key == "population.countries" and isinstance(value, list) and set(value) <= set(reference.countries()):
        text = "P: the published user base is EEA + UK + CH; the countries of sim/data/countries.csv"
        return classify_source(text), text
    if key.startswith("population.shares."):
        pop = resolved.get("population", {})
        codes = pop.get("countries") or list(reference.countries())
        try:
            shares = reference.default_mau_shares(list(codes), float(pop.get("mau", 150e6)))
        except (ValueError, KeyError):
            return None
        code = key.rsplit(".", 1)[1]
        if code in shares and _same(shares[code], value):
            if code in reference.PUBLISHED_MAU_M:
                text = (f"S: published {reference.PUBLISHED_MAU_M[code]} M monthly users (Oct 2023, "
                        "sim.reference.PUBLISHED_MAU_M) over population.mau")
            else:
                text = ("D: the rest of population.mau spread over unpublished countries by 2024 population "
                        "(sim/data/countries.csv), the reference facts' rule")
            return classify_source(text), text
    return None


_SKIP = ("name", "description")


def assumptions_table(
    resolved: Mapping[str, Any],
    *,
    scenario_dir: str | Path = "scenarios",
    name: str | None = None,
) -> tuple[pd.DataFrame, str]:
    """Every figure of a resolved scenario with its value, basis and source text.

    Args:
        resolved: the ``resolved_scenario`` of a summary.
        scenario_dir: folder searched (recursively) for the scenario file of this name and its
            ``extends`` chain.
        name: scenario name to look for (default ``resolved["name"]``).

    Returns:
        (table with columns key, value, basis, source; a note about the file lookup, "" if the
        scenario file was found).
    """
    flat = {k: v for k, v in flatten(dict(resolved)).items()
            if k not in _SKIP and not (k.startswith("sites.") and k.endswith(".source"))}
    name = name or str(resolved.get("name", ""))
    chain = _find_chain(name, flat, Path(scenario_dir))
    note = ""
    if chain:
        shown = " -> ".join(_rel(f.path) for f in chain)
    else:
        shown = ""
        note = (f"no scenario file named {name!r} under {scenario_dir}/: comments are unavailable, so only "
                "reference tables document figures")
    rows = []
    for key, value in flat.items():
        basis, source = _document(key, value, chain, resolved)
        rows.append((key, _show(value), basis, source))
    df = pd.DataFrame(rows, columns=["key", "value", "basis", "source"])
    if shown:
        note = ""
        df.attrs["chain"] = shown
    return df, note


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _document(key: str, value: Any, chain: Sequence[_ScenarioFile], resolved: Mapping[str, Any]) -> tuple[str, str]:
    keys = key.split(".")
    winner = None
    for f in chain:
        v = _get(f.data, keys)
        if v is _MISSING:
            continue
        if winner is None:
            winner = (f, v)
            if not _same(v, value):
                comment = _comment_for(f, key)
                extra = f"; the file's comment: {comment}" if comment else ""
                return ("assumption (set at run time)",
                        f"{_rel(f.path)} has {_show(v)}, the run used {_show(value)} (--set){extra}")
        if _same(v, value):
            comment = _comment_for(f, key)
            if comment:
                return classify_source(comment), f"{_rel(f.path)}: {comment}"
    if winner is not None:
        return "assumption (not documented)", f"set in {_rel(winner[0].path)} without a comment"
    if keys[0] == "sites" and len(keys) == 3:
        found = _site_source(keys[1], keys[2], value)
        if found:
            return found
    found = _reference_default(key, value, resolved)
    if found:
        return found
    desc = _model_description(keys)
    if desc and _ASSUMED.search(desc):
        return "assumption", f"model default: {desc}"
    if desc:
        return "assumption (not documented)", f"model default ({desc}); no source given"
    return "assumption (not documented)", "model default; no source given"


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if value is None:
        return "none"
    if isinstance(value, dict):
        return "{}" if not value else json.dumps(value)
    return str(value)
