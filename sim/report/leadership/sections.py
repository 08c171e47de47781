"""The report: page one (the decision) and the appendix (the analysis behind it).

:func:`build_report` reads the result folders, gives them their roles (one baseline, the others
compared with it: :func:`~sim.report.leadership.runs.choose_baseline`), builds page one
(:mod:`~sim.report.leadership.summary`) and assembles the appendix, in order (HTML ids):
``runs``, ``headline`` (figures per run), ``comparison`` (only with several folders), ``drivers``
(only when a run carries assumption ranges), ``storage``, ``costs``, ``transfers``, ``latency``,
``gateway``, ``carbon``, ``assumptions``. KPI labels, units, better-directions and order come from
the KPI catalogue (:mod:`sim.results.kpis`); a KPI that does not apply to a run (a gateway KPI
without a gateway, a failure count that is zero) is left out rather than shown as zero; numbers are
written by :mod:`sim.report.format`, charts drawn by :mod:`sim.report.charts`. Per-year figures use
the model's year (``sim.reference.units.YEAR_S``).

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
    kpi_comparison_chart,
    transfers_out_chart,
)
from sim.report.charts.run import gateway_wait_quantile_chart, wait_quantiles_from_requests
from sim.report.files import milestones, read_gateway_requests
from sim.report.format import (
    format_change,
    format_count,
    format_duration,
    format_eur,
    format_kpi,
    format_number,
    format_share,
    format_span,
    round_to_range,
)
from sim.report.leadership.assumptions import assumptions_table, input_label
from sim.report.leadership.runs import ReportInputError, RunFolder, choose_baseline, load_run
from sim.report.leadership.structure import Block, Chart, Report, Section, Table
from sim.report.leadership.summary import build_summary, comparison_kind
from sim.results import kpis as catalogue

__all__ = ["build_report", "sim_version"]

#: Exports stopped before the border, measured at the border like what crosses it.
BLOCKED = "transfer_tb_blocked_per_year"

#: Kinds of flow drawn on the map (user reads are not flows between places).
FLOW_KINDS = ("migration", "replication", "export")

#: Note under a table when a dash stands for a KPI that does not apply to a run.
NOT_APPLICABLE = "\u2013"


def _label(name: str) -> str:
    """The catalogue's label of a KPI; a KPI the catalogue does not know is written out as words."""
    try:
        return catalogue.label(name)
    except KeyError:
        return name.replace("_", " ").replace(".", " ")


def _better(name: str) -> str:
    """The catalogue's better-direction as a reader's word: "lower is better", "higher is better" or ""."""
    try:
        direction = catalogue.better(name)
    except KeyError:
        return ""
    return "" if direction == "neutral" else f"{direction} is better"


def _spread_text(run: RunFolder, name: str) -> str:
    """The range or interval of a KPI of a run as display text, or "" when it has none."""
    spread = run.spread(name)
    if spread is None:
        return ""
    if spread.kind == "stochastic" and spread.low == spread.high:
        return "no spread"
    unit = run.unit(name)
    span = format_span(spread.low, spread.high, unit)
    if " to " not in span and "-" not in span.replace(" -", " "):
        mean = run.kpi(name)
        if mean and spread.kind == "stochastic":
            half = 100 * (spread.high - spread.low) / 2 / abs(mean)
            return f"\u00b1{format_number(half)} %"
    return span


def _value_text(run: RunFolder, name: str) -> str:
    """A KPI of a run with its unit, rounded to what its range supports (three significant figures at most).

    "n/a" when missing; text KPIs (dates) as they are.
    """
    text = run.kpi_text(name)
    if text is not None:
        return text
    value, spread = run.kpi(name), run.spread(name)
    if value is not None:
        value = round_to_range(value, *((spread.low, spread.high) if spread is not None else (value, value)))
    return format_kpi(value, run.unit(name))


def _kpi_names(runs: Sequence[RunFolder]) -> list[str]:
    """The programme-wide KPIs the report shows for these runs, in the catalogue's order.

    The catalogue's headline KPIs, then its gateway KPIs and the other programme-wide KPIs, each
    only if it applies to at least one run (:meth:`RunFolder.applies`).
    """
    order = [*catalogue.HEADLINE_KPIS, *catalogue.GATEWAY_KPIS, *catalogue.EXTRA_KPIS, *catalogue.CATALOGUE]
    names = list(dict.fromkeys(order))
    extra = [n for r in runs for n in r.kpis if "." not in n and n not in names]
    return [n for n in [*names, *dict.fromkeys(extra)] if any(r.applies(n) for r in runs)]


def _spread_kind(runs: Sequence[RunFolder]) -> str:
    """The column title of the spreads of these runs ("" when none has one)."""
    kinds = {s.kind for r in runs for n in catalogue.HEADLINE_KPIS if (s := r.spread(n)) is not None}
    if kinds == {"assumption"}:
        return "90 % range (assumptions)"
    if kinds == {"stochastic"}:
        return "95 % interval (replications)"
    return "Range or interval" if kinds else ""


def _runs_section(runs: Sequence[RunFolder], baseline: RunFolder | None) -> Section:
    rows = []
    for r in runs:
        role = "baseline" if r is baseline else ("compared with the baseline" if baseline is not None else "the run")
        rows.append([
            r.name, role, r.description or "-", r.policy,
            ", ".join(str(s) for s in r.resolved.get("policy", {}).get("sites", [])) or "-",
            f"{str(r.summary.get('start', ''))[:10]} to {str(r.summary.get('end', ''))[:10]}",
            str(r.n_replications), str(r.summary.get("seed", "-")), str(r.path),
        ])
    table = Table(["Scenario", "Role", "Description", "Placement policy", "Sites", "Period", "Replications",
                   "Seed", "Result folder"], rows)
    text = ("Figures are means over the replications of each run, with a 95 % Student-t interval where a run "
            "has several replications and the 5th-95th percentile range over the input sets where it was made "
            "with --uncertainty; charts of a single run use its first replication. Colours are fixed per site, "
            "policy and cost category throughout.")
    return Section("runs", "Runs in this report", [text, table])


def _headline_section(runs: Sequence[RunFolder]) -> Section:
    blocks: list[Block] = [
        "Each run's figures with their unit and which way is better; figures that do not apply to a run "
        "(gateway figures of a run without a gateway, failures that did not happen) are left out."]
    for r in runs:
        names = [n for n in _kpi_names([r]) if r.applies(n)]
        spread_title = _spread_kind([r])
        rows = []
        for n in names:
            row = [_label(n), _value_text(r, n)]
            if spread_title:
                row.append(_spread_text(r, n))
            rows.append([*row, _better(n)])
        columns = ["Figure", "Value", *([spread_title] if spread_title else []), "Better"]
        if spread_title:
            note = ""
        elif r.n_replications < 2:
            note = "; one replication, so no interval"
        else:
            note = ""
        blocks.append(Table(columns, rows, caption=f"{r.name} (policy {r.policy}, {r.n_replications} "
                                                   f"replication{'s' if r.n_replications != 1 else ''}{note})",
                            css_class="kpis"))
    return Section("headline", "Figures per run", blocks)


def _comparison_section(runs: Sequence[RunFolder], baseline: RunFolder) -> Section:
    ordered_runs = [baseline, *[r for r in runs if r is not baseline]]
    others = ordered_runs[1:]
    rows = []
    for n in _kpi_names(ordered_runs):
        row = [_label(n)]
        for r in ordered_runs:
            if not r.applies(n):
                row.append(NOT_APPLICABLE)
                continue
            spread = _spread_text(r, n)
            value = _value_text(r, n)
            row.append(f"{value} ({spread})" if spread and spread != "no spread" else value)
        for r in others:
            both = r.applies(n) and baseline.applies(n) and r.kpi(n) is not None and baseline.kpi(n) is not None
            row.append(format_change(r.kpi(n), baseline.kpi(n), r.unit(n)) if both else NOT_APPLICABLE)
        row.append(_better(n))
        rows.append(row)
    columns = ["Figure", f"{baseline.name} (baseline)", *[r.name for r in others],
               *[f"{r.name} vs {baseline.name}" for r in others], "Better"]
    caption = (f"Every run side by side, each compared with the baseline {baseline.name}: relative change, or "
               f"percentage points for shares; {NOT_APPLICABLE} where a figure does not apply to a run. Ranges or "
               "intervals in brackets where a run has them.")
    table = Table(columns, rows, caption=caption, css_class="compare")
    chart_kpis = [n for n in KPI_AXES if any(r.applies(n) for r in ordered_runs)]
    values = {}
    for n in chart_kpis:
        vals = []
        for r in ordered_runs:
            spread = r.spread(n)
            mean = r.kpi(n) if r.applies(n) else None
            vals.append(KpiValue(mean, spread.low if spread and mean is not None else None,
                                 spread.high if spread and mean is not None else None))
        values[n] = vals
    title = f"{len(ordered_runs)} runs side by side against the baseline {baseline.name}"
    fig = kpi_comparison_chart([r.name for r in ordered_runs], [r.policy for r in ordered_runs], values, title=title)
    alt = "Bar chart comparing " + ", ".join(_label(n) for n in chart_kpis) + " across runs"
    return Section("comparison", "Runs side by side", [
        "Each panel is one figure; bars are coloured by placement policy and the whiskers are the ranges or "
        "intervals where the runs have them.", table, Chart(fig, alt)])


def _drivers_section(runs: Sequence[RunFolder]) -> Section | None:
    """The inputs that drive each KPI's assumption range (runs made with --uncertainty), or None."""
    blocks: list[Block] = []
    for r in runs:
        rows = []
        for n in _kpi_names([r]):
            rng = r.assumption_range(n)
            if rng is None:
                continue
            for d in r.driver_rows(n)[:5]:
                def num(key: str, row: dict[str, Any] = d, sign: str = "") -> str:
                    value = row.get(key)
                    ok = isinstance(value, (int, float)) and math.isfinite(value)
                    return f"{value:{sign}.2f}" if ok else NOT_APPLICABLE
                rows.append([_label(n), format_span(rng[0], rng[2], r.unit(n)), input_label(str(d["input"])),
                             str(d["input"]), num("rank_correlation", sign="+"), num("sobol_first"), num("sobol_total")])
        if rows:
            blocks.append(Table(["Figure", "90 % range", "Driver", "Scenario key", "Rank correlation",
                                 "Sobol first order", "Sobol total"], rows,
                                caption=f"{r.name}: the inputs that move each figure most, most important first"))
    if not blocks:
        return None
    return Section("drivers", "Ranges and their drivers", [
        "Ranges are the 5th to 95th percentiles of a figure over the input sets drawn from the scenario's "
        "uncertain assumptions (clover-sim run --uncertainty N). Rank correlation: how strongly the figure "
        "rises (+) or falls (-) with the input; Sobol indices: the share of the figure's variance the input "
        f"explains alone (first order) and with its interactions (total); {NOT_APPLICABLE} where the sample "
        "was too small to compute them.", *blocks])


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
                                        reference_label=f"{r.reference_label} {format_eur(ref)}/yr")
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


def _transfers_section(runs: Sequence[RunFolder]) -> Section:
    blocks: list[Block] = []
    for r in runs:
        g = r.leaving()
        if g is None:
            blocks.append(_missing(r, "transfers"))
            continue
        leaves = not g.empty and float(g["tb_per_year"].sum()) > 0
        if not leaves:
            blocks.append(f"{r.name}: nothing leaves {r.zone_name} in this run.")
        else:
            total = float(g["tb_per_year"].sum())
            blocks.append(Chart(transfers_out_chart(g, zone=r.zone_name),
                                f"{r.name}: data leaving {r.zone_name} by destination and data class, TB per year"))
            rows = [[str(x.destination), str(x.data_class), str(x.kinds), format_number(float(x.tb_per_year)),
                     format_share(float(x.tb_per_year) / total)] for x in g.itertuples(index=False)]
            blocks.append(Table(["Destination", "Data class", "Kind of flow", "TB per year", "Share"], rows,
                                caption=f"{r.name}: flows with leaves_residency = true, mean over replications"))
        blocked = r.kpi(BLOCKED)
        if blocked is not None and blocked > 0:
            blocks.append(f"{r.name}: {'a further ' if leaves else ''}{format_number(blocked)} TB a year were "
                          "blocked by the gateway or stopped by the transfer policy, measured "
                          f"{'like the flows above: ' if leaves else ''}at the border, as they would have crossed "
                          "it (after pseudonymisation where a gateway pseudonymises).")
    return Section("transfers", "What leaves the residency zones", blocks)


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


def _wait_quantiles(run: RunFolder) -> pd.DataFrame | None:
    """The wait chart's table of a run: from its per-request file, else its ``gateway_waits`` table, else None.

    A per-request file (``gateway_requests.csv`` / ``.parquet``, written with ``--requests``) is
    turned into quantiles with the SLAs of the resolved scenario; the ``gateway_waits`` table is
    what every run with a gateway writes.
    """
    for name in ("gateway_requests.csv", "gateway_requests.parquet"):
        f = run.path / name
        if f.is_file():
            requests = read_gateway_requests(f)
            if requests.empty:
                return None
            access = requests[requests["kind"].astype(str) == "access"] if "kind" in requests else requests
            sla = _sla_by_class(run, sorted(access["class"].dropna().astype(str).unique()))
            return wait_quantiles_from_requests(requests, sla)
    waits = run.table("gateway_waits")
    return waits if waits is not None and not waits.empty else None


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


def _wait_rows(quantiles: pd.DataFrame) -> list[list[str]]:
    """One row per class of a wait-quantile table: requests, median, 95th percentile, SLA, share over it."""
    rows = []
    for c, part in quantiles.groupby(quantiles["class"].astype(str), sort=True):
        if c == "all":
            continue
        q, w = part["quantile"].to_numpy(dtype=float), part["wait_s"].to_numpy(dtype=float)
        n = int(part["requests"].iloc[0])
        limit = float(part["sla_s"].iloc[0])
        has_sla = np.isfinite(limit)
        rows.append([c, format_count(n), format_duration(float(np.interp(0.5, q, w))),
                     format_duration(float(np.interp(0.95, q, w))), format_duration(limit) if has_sla else "-",
                     format_share(float(part["over_sla"].iloc[0]) / n) if has_sla and n else "no SLA"])
    return rows


def _gateway_section(runs: Sequence[RunFolder]) -> Section:
    blocks: list[Block] = []
    for r in runs:
        spread_title = _spread_kind([r])
        kpi_rows = [[_label(n), _value_text(r, n), *([_spread_text(r, n)] if spread_title else []), _better(n)]
                    for n in _kpi_names([r]) if n.startswith(("gateway_", "reviewer_")) and r.applies(n)]
        quantiles = _wait_quantiles(r) if r.has_gateway else None
        if quantiles is None:
            why = "the gateway is switched off" if not r.has_gateway else "the folder holds no table of gateway waits"
            blocks.append(f"{r.name}: the run had no gateway queue ({why}), so there are no waits to show.")
        else:
            classes = quantiles.loc[quantiles["class"].astype(str) != "all", "sla_s"].to_numpy(dtype=float)
            if not np.isfinite(classes).any():
                blocks.append(f"{r.name}: the resolved scenario records no gateway SLA (gateway.sla_s), so no "
                              "SLA line is drawn.")
            try:
                fig = gateway_wait_quantile_chart(quantiles, subject=r.name)
                blocks.append(Chart(fig, f"{r.name}: distribution of access-request waits per class with the SLA"))
            except ValueError as exc:
                blocks.append(f"{r.name}: gateway waits cannot be plotted: {exc}.")
            rows = _wait_rows(quantiles)
            if rows:
                blocks.append(Table(["Class", "Access requests", "Median wait", "95th percentile", "SLA",
                                     "Over SLA"], rows, caption=f"{r.name}: waits of access requests per class"))
        if kpi_rows:
            blocks.append(Table(["Gateway figure", "Value", *([spread_title] if spread_title else []), "Better"],
                                kpi_rows, caption=f"{r.name}: gateway figures"))
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
    grouped = (table.groupby(["key", "value", "basis", "source", "range"], sort=False)["run"]
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
    ranged = bool((grouped["range"] != "").any())
    if ranged:
        text += (f" {int((grouped['range'] != '').sum())} figures carry a range (the scenario's [uncertainty] "
                 "table: the distribution --uncertainty N draws them from, with its source).")
    rows = [[str(x.key), str(x.value), str(x.basis), str(x.source), *([str(x.range)] if ranged else []), str(x.run)]
            for x in grouped.itertuples(index=False)]
    columns = ["Figure", "Value", "Basis", "Source or comment", *(["Range"] if ranged else []), "Runs"]
    widths = [27, 12, 13, 30, 20, 6] if ranged else [31, 16, 15, 38, 10]
    blocks: list[Block] = [text, *notes, Table(columns, rows, css_class="assumptions", pdf_widths=widths)]
    return Section("assumptions", "Assumptions and sources", blocks)


def sim_version() -> str:
    """The model version that builds the report."""
    return _sim_version


def build_report(
    folders: Sequence[str | Path],
    *,
    scenario_dir: str | Path = "scenarios",
    baseline: str | None = None,
    question: str | None = None,
) -> Report:
    """Read result folders and assemble the report: page one, then the appendix.

    Args:
        folders: one or more result folders.
        scenario_dir: where the scenario TOML files live (their comments document the figures).
        baseline: the run the others are compared with, by scenario name or result folder; None
            picks the run with the ``pre_clover`` placement if exactly one has it, else the first
            folder (:func:`~sim.report.leadership.runs.choose_baseline`).
        question: the question page one states, instead of the one derived from the runs.

    Returns:
        The report; write it with :func:`write_report`.

    Raises:
        ReportInputError: if no folder is given, a folder cannot be read or ``baseline`` names no run.
    """
    if not folders:
        raise ReportInputError("no result folders given; pass one or more folders written by 'clover-sim run'")
    runs = [load_run(f) for f in folders]
    index = choose_baseline(runs, baseline)
    base = None if len(runs) == 1 or index is None else runs[index]
    roles = comparison_kind(runs, base)
    summary = build_summary(roles, question=question)
    ordered_runs = [base, *[r for r in runs if r is not base]] if base is not None else runs
    sections = [_runs_section(ordered_runs, base), _headline_section(ordered_runs)]
    if base is not None:
        sections.append(_comparison_section(ordered_runs, base))
    drivers = _drivers_section(ordered_runs)
    if drivers is not None:
        sections.append(drivers)
    sections += [_storage_section(ordered_runs), _costs_section(ordered_runs), _transfers_section(ordered_runs),
                 _latency_section(ordered_runs), _gateway_section(ordered_runs), _carbon_section(ordered_runs),
                 _assumptions_section(ordered_runs, Path(scenario_dir))]
    others = [r.name for r in runs if r is not base]
    title = (f"{', '.join(others)} against {base.name}" if base is not None else runs[0].name)
    # no wall-clock time: the same folders give the same report, byte for byte
    generated = f"by clover-sim {sim_version()}"
    return Report(f"Leadership report: {title}", f"clover-sim leadership report: {title}", sections, generated,
                  summary=summary, baseline=base.name if base is not None else None)
