"""The report's sections: result folders in, paragraphs, tables and charts out.

:func:`build_report` reads the folders and assembles, in order (HTML ids): ``runs``,
``headline``, ``comparison`` (only with several folders), ``storage``, ``costs``, ``transfers``,
``latency``, ``gateway``, ``carbon``, ``assumptions``. The first folder is the subject of the
title; the others are compared with it. KPI names, labels and order come from the KPI catalogue
(:mod:`sim.results.kpis`), numbers are written by :mod:`sim.report.format`, charts are drawn by
:mod:`sim.report.charts`. Per-year figures use the model's year (``sim.reference.units.YEAR_S``).

Units: EUR per year, MWh and t CO2 per year, PB and TB, ms, seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import __version__ as _sim_version
from sim import reference
from sim.report import charts
from sim.report.charts import maps
from sim.report.charts.report import (
    KPI_AXES,
    KpiValue,
    carbon_by_site_chart,
    cost_by_year_chart,
    gateway_wait_chart,
    kpi_comparison_chart,
    transfers_out_chart,
)
from sim.report.files import milestones, read_gateway_requests
from sim.report.format import (
    format_change,
    format_count,
    format_duration,
    format_eur,
    format_kpi,
    format_number,
    format_share,
)
from sim.report.leadership.assumptions import assumptions_table
from sim.report.leadership.runs import ReportInputError, RunFolder, load_run
from sim.report.leadership.structure import Block, Chart, Report, Section, Table
from sim.results import kpis as catalogue

__all__ = ["build_report", "sim_version"]

#: Kinds of flow drawn on the map (user reads are not flows between places).
FLOW_KINDS = ("migration", "replication", "export")


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
            return value, f"95 % CI \u00b1{format_number(50 * (hi - lo))} percentage points"
        if isinstance(mean, (int, float)) and mean:
            rel = 100 * (hi - lo) / 2 / abs(mean)
            return value, "95 % CI \u00b1" + ("< 0.01" if rel < 0.01 else f"{rel:.2g}") + " % of the mean"
    return value, f"95 % CI {low_text} to {high_text}"


def _label(name: str) -> str:
    """The catalogue's label of a KPI; a KPI the catalogue does not know is shown by its name."""
    try:
        return catalogue.label(name)
    except KeyError:
        return name.replace("_", " ")


def _headline_names(run: RunFolder) -> list[tuple[str, str]]:
    """(name, label) of the KPIs a run's headline table shows, in display order.

    The catalogue's headline KPIs, then its gateway KPIs and any other gateway or reviewer KPI the
    run has, then the extra KPIs that are present and not zero or empty.
    """
    out = [(n, _label(n)) for n in catalogue.HEADLINE_KPIS if n in run.kpis]
    gateway = [n for n in catalogue.GATEWAY_KPIS if n in run.kpis]
    gateway += [n for n in run.kpis if n.startswith(("gateway_", "reviewer_")) and n not in catalogue.GATEWAY_KPIS
                and "." not in n]
    out += [(n, _label(n)) for n in gateway]
    for n in catalogue.EXTRA_KPIS:
        mean = run.kpis.get(n, {}).get("mean")
        if mean not in (None, 0, 0.0, ""):
            out.append((n, _label(n)))
    return out


def _finding(runs: Sequence[RunFolder]) -> str:
    """The report title: the first run's cost, against the second run or the reference."""
    first = runs[0]
    cost = first.kpi("cost_eur_per_year")
    res = first.kpi("eea_residency_share")
    if cost is None:
        return f"{first.name}: leadership report"
    text = f"{first.name} costs {format_eur(cost)} a year"
    if len(runs) > 1 and runs[1].kpi("cost_eur_per_year"):
        other = runs[1].kpi("cost_eur_per_year") or 1.0
        diff = (cost - other) / other
        if round(abs(diff) * 100) == 0:
            text += f", about the same as {runs[1].name}"
        else:
            text += f", {abs(diff) * 100:.0f} % {'more' if diff > 0 else 'less'} than {runs[1].name}"
        res2 = runs[1].kpi("eea_residency_share")
        if res is not None and res2 is not None:
            text += f"; it keeps {format_share(res)} of EEA-only data in the EEA against {format_share(res2)}"
    else:
        ref = first.reference_eur_per_year
        diff = (cost - ref) / ref
        side = "in line with" if round(abs(diff) * 100) == 0 else f"{abs(diff) * 100:.0f} % {'above' if diff > 0 else 'below'}"
        text += f", {side} the {format_eur(ref)} reference"
        if res is not None:
            text += f"; {format_share(res)} of EEA-only data stays in the EEA"
    return text


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
    blocks: list[Block] = []
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
            row.append(format_change(base.kpi(n), r.kpi(n), _kpi_unit(base, n)))
        rows.append(row)
    columns = ["KPI", *[f"{r.name} ({r.policy})" for r in runs], *[f"{base.name} vs {r.name}" for r in runs[1:]]]
    table = Table(columns, rows, caption="Mean [95 % interval] per run; the last columns give the first run's change "
                                         "against each other run (relative, or percentage points for "
                                         "shares).", css_class="compare")
    chart_kpis = [n for n in KPI_AXES if any(n in r.kpis for r in runs)]
    values = {}
    for n in chart_kpis:
        vals = []
        for r in runs:
            row = r.kpis.get(n, {})

            def num(x: Any) -> float | None:
                return float(x) if isinstance(x, (int, float)) and math.isfinite(x) else None

            vals.append(KpiValue(num(row.get("mean")), num(row.get("ci95_low")), num(row.get("ci95_high"))))
        values[n] = vals
    title = _finding(runs)
    fig = kpi_comparison_chart([r.name for r in runs], [r.policy for r in runs], values, title=title)
    alt = "Bar chart comparing " + ", ".join(catalogue.label(n) for n in chart_kpis) + " across runs"
    return Section("comparison", "Policy comparison", [
        "Each panel is one KPI; bars are coloured by placement policy and the whiskers are the 95 % "
        "intervals over replications.", table, Chart(fig, alt)])


def _missing(run: RunFolder, name: str) -> str:
    return f"{run.name}: {name}.csv is missing from {run.path}, so this part is left out."


def _storage_section(runs: Sequence[RunFolder]) -> Section:
    blocks: list[Block] = []
    for r in runs:
        placement = r.first("placement")
        if placement is None or placement.empty:
            blocks.append(_missing(r, "placement"))
            continue
        sites = list(dict.fromkeys(placement["site"].astype(str)))
        marks = milestones({"resolved_scenario": r.resolved, "kpis": r.kpis}, sites)
        fig = charts.stored_by_site_chart(placement, milestones=marks)
        last = placement[placement["time"] == placement["time"].max()].groupby("site")["stored_tb"].sum() / 1000
        parts = ", ".join(f"{s} {format_number(float(v))} PB" for s, v in last.sort_values(ascending=False).items())
        blocks.append(f"{r.name}: at the end of the run ({str(placement['time'].max())[:10]}) {parts}.")
        blocks.append(Chart(fig, f"{r.name}: stored data per site over time, stacked, in PB"))
    return Section("storage", "Where the data lives over time", blocks)


def _costs_section(runs: Sequence[RunFolder]) -> Section:
    blocks: list[Block] = []
    for r in runs:
        costs = r.first("costs")
        if costs is None or costs.empty:
            blocks.append(_missing(r, "costs"))
            continue
        ref = r.reference_eur_per_year
        fig = charts.cost_by_site_chart(costs, reference_eur_per_year=ref,
                                        reference_label=f"Reference {format_eur(ref)}/yr (published Clover figure)")
        by_cat = costs.groupby("category")["eur_per_year"].sum().sort_values(ascending=False)
        total = float(by_cat.sum())
        rows = [[str(c), f"{format_number(float(v) / 1e6)}", format_share(float(v) / total if total else 0.0)] for c, v in by_cat.items()]
        rows.append(["total", f"{format_number(total / 1e6)}", "100 %"])
        blocks.append(Chart(fig, f"{r.name}: yearly cost per site stacked by category against the reference"))
        blocks.append(Table(["Category", "EUR million per year", "Share"], rows,
                            caption=f"{r.name}: yearly cost by category (first replication)"))
        by_year = r.first("costs_by_year")
        if by_year is not None and "year" in by_year.columns and by_year["year"].nunique() > 1:
            fig = cost_by_year_chart(by_year, reference_eur_per_year=ref)
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
    blocks: list[Block] = []
    for r in runs:
        g = _leaving(r)
        if g is None:
            blocks.append(_missing(r, "transfers"))
            continue
        if g.empty or float(g["tb_per_year"].sum()) <= 0:
            blocks.append(f"{r.name}: nothing leaves the EEA in this run.")
            continue
        total = float(g["tb_per_year"].sum())
        blocks.append(Chart(transfers_out_chart(g),
                            f"{r.name}: data leaving the EEA by destination and data class, TB per year"))
        rows = [[str(x.destination), str(x.data_class), str(x.kinds), format_number(float(x.tb_per_year)),
                 format_share(float(x.tb_per_year) / total)] for x in g.itertuples(index=False)]
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
    blocks: list[Block] = [
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
                 *[format_number(float(s[c])) if c in s.index else "-" for s in rtts.values()]] for c in countries]
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
    blocks: list[Block] = []
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
                fig = gateway_wait_chart(requests, sla_s_by_class=sla, subject=r.name)
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
                breach = format_share(float(np.mean(w > limit))) if limit is not None else "no SLA"
                rows.append([c, format_count(len(w)), format_duration(float(np.median(w))), format_duration(float(np.quantile(w, 0.95))),
                             format_duration(limit) if limit is not None else "-", breach])
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
    fig = carbon_by_site_chart(per_run)
    sites = list(dict.fromkeys(s for v in per_run.values() for s in v))
    rows = [[s, *[format_number(v.get(s, 0.0)) if s in v else "-" for v in per_run.values()]] for s in sites]
    rows.append(["total", *[format_number(sum(v.values())) for v in per_run.values()]])
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
    blocks: list[Block] = [text, *notes,
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

