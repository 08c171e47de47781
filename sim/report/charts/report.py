"""Charts of the leadership report that the per-run charts in :mod:`sim.report.charts` lack.

KPIs of several runs side by side, what leaves the residency zones, cost per calendar year, carbon per site
and the gateway's access-request waits against their SLA. Same conventions as
:mod:`sim.report.charts`: pandas / plain data in, a matplotlib :class:`~matplotlib.figure.Figure`
out (object-oriented API, Agg canvas, no pyplot state), titles that state the finding computed
from the data, units on every axis, colours from :mod:`sim.report.charts.style` (fixed per site,
per placement policy, per cost category), numbers written by :mod:`sim.report.format`.

Units: EUR per year (shown in EUR million or billion), TB per year, tonnes CO2 per year (shown in
kt), waits in minutes.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullFormatter, StrMethodFormatter

from sim.report.charts.run import gateway_wait_quantile_chart, wait_quantiles_from_requests
from sim.report.charts.style import (
    CATEGORY_COLORS,
    FALLBACK_COLORS,
    SITE_COLORS,
    apply_style,
    category_color,
    fallback_color,
    new_figure,
    ordered,
    policy_color,
    site_color,
)
from sim.report.format import (
    TICK_THOUSANDS,
    format_eur,
    format_number,
    format_share,
    round_to_range,
)
from sim.results import kpis

__all__ = [
    "KpiValue",
    "KPI_AXES",
    "kpi_comparison_chart",
    "transfers_out_chart",
    "cost_by_year_chart",
    "carbon_by_site_chart",
    "gateway_wait_chart",
    "SUMMARY_FIGSIZE",
    "FLOW_KIND_LABELS",
    "cost_comparison_chart",
    "data_location_chart",
    "leaving_zone_chart",
    "residency_over_time_chart",
]

#: Data-class colours (a palette distinct from the site colours would run out; these are the
#: Okabe-Ito entries not used for the most common sites, then the deterministic fallbacks).
_CLASS_COLORS = {
    "protected_personal": "#000000",
    "user_content": "#56B4E9",
    "behavioural_analytics": "#E69F00",
    "pseudonymised_aggregates": "#009E73",
}


def class_color(name: str) -> str:
    """Fixed colour of a data class; a stable fallback for unknown classes."""
    return _CLASS_COLORS.get(str(name), fallback_color(str(name)))


@dataclass(frozen=True)
class KpiValue:
    """Mean and 95 % interval of one KPI of one run (``None`` where the run has no value)."""

    mean: float | None
    low: float | None
    high: float | None


#: The KPIs the comparison chart can show, in panel order: name -> (axis label, scale applied to
#: the value before plotting). Panel titles are the labels of the KPI catalogue (sim.results.kpis).
KPI_AXES: dict[str, tuple[str, float]] = {
    "cost_eur_per_year": ("EUR billion per year", 1e-9),
    "energy_mwh_per_year": ("GWh per year", 1e-3),
    "co2_t_per_year": ("kt CO2 per year", 1e-3),
    "stored_pb_total": ("PB", 1.0),
    "residency_share": ("% of bytes", 100.0),
    "transfer_tb_out_of_residency_per_year": ("TB per year", 1.0),
    "user_rtt_ms_p50": ("ms", 1.0),
    "user_rtt_ms_p95": ("ms", 1.0),
    "gateway_wait_s_p95": ("hours", 1 / 3600),
    "gateway_sla_breach_share": ("% of access requests", 100.0),
    "reviewer_utilisation": ("% of staffed time", 100.0),
}


def _two_lines(text: str, width: int = 26) -> str:
    """``text`` on one line if it fits in ``width`` characters, else on two lines of similar length."""
    if len(text) <= width:
        return text
    for w in range((len(text) + 1) // 2, len(text)):
        lines = textwrap.wrap(text, w)
        if len(lines) <= 2:
            return "\n".join(lines)
    return text


def kpi_comparison_chart(
    runs: Sequence[str],
    policies: Sequence[str],
    values: Mapping[str, Sequence[KpiValue]],
    *,
    title: str,
) -> Figure:
    """Small multiples: one panel per KPI, one bar per run, 95 % intervals as error bars.

    Args:
        runs: Run labels (scenario names), one per bar.
        policies: Placement policy of each run; it picks the bar colour.
        values: KPI name (a key of :data:`KPI_AXES`) -> one :class:`KpiValue` per run.
        title: Figure title (states the finding; computed by the caller).

    Returns:
        Figure with one Axes per KPI.

    Raises:
        ValueError: If ``runs`` is empty, lengths disagree or a KPI is unknown.
    """
    if not runs:
        raise ValueError("kpi_comparison_chart needs at least one run")
    if len(policies) != len(runs):
        raise ValueError(f"got {len(policies)} policies for {len(runs)} runs")
    unknown = [k for k in values if k not in KPI_AXES]
    if unknown:
        raise ValueError(f"no axis definition for KPI(s) {unknown}; known: {list(KPI_AXES)}")
    names = list(values)
    ncols = 4 if len(names) > 4 else max(1, len(names))
    nrows = int(np.ceil(len(names) / ncols))
    fig = new_figure((2.6 * ncols + 0.6, 2.5 * nrows + 1.0))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    x = np.arange(len(runs))
    colors = [policy_color(p) for p in policies]
    for ax, name in zip(axes.ravel(), names, strict=False):
        unit, scale = KPI_AXES[name]
        vals = values[name]
        if len(vals) != len(runs):
            raise ValueError(f"KPI {name} has {len(vals)} values for {len(runs)} runs")
        mean = np.array([np.nan if v.mean is None else v.mean * scale for v in vals])
        low = np.array([np.nan if v.low is None else v.low * scale for v in vals])
        high = np.array([np.nan if v.high is None else v.high * scale for v in vals])
        err = np.vstack([np.clip(mean - low, 0, None), np.clip(high - mean, 0, None)])
        err = np.nan_to_num(err)
        ax.bar(x, np.nan_to_num(mean), width=0.65, color=colors, edgecolor="white",
               yerr=err, capsize=4, error_kw={"elinewidth": 1.2, "ecolor": "#444444"})
        for xi, m in zip(x, mean, strict=True):
            if np.isnan(m):
                ax.annotate("n/a", (xi, 0), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(x, list(runs), rotation=25, ha="right", rotation_mode="anchor")
        ax.set_title(_two_lines(kpis.label(name)), loc="left")
        ax.set_ylabel(unit)
        ax.set_xlabel("Scenario")
        ax.set_ylim(bottom=0)
        if np.nanmax(np.r_[mean, high, 0.0]) >= 1000:
            ax.yaxis.set_major_formatter(StrMethodFormatter(TICK_THOUSANDS))
        apply_style(ax)
        ax.title.set_fontsize(10)
        ax.xaxis.label.set_visible(False)
    for ax in axes.ravel()[len(names):]:
        ax.set_axis_off()
    unique = list(dict.fromkeys(policies))
    fig.legend(handles=[Patch(color=policy_color(p), label=p) for p in unique],
               title="Placement policy (bars: mean over replications; whiskers: 95 % interval)",
               loc="outside lower center", ncols=min(len(unique), 6), frameon=False)
    fig.suptitle("\n".join(textwrap.wrap(title, 95)), x=0.01, ha="left", fontsize=12, fontweight="bold")
    return fig


def transfers_out_chart(table: pd.DataFrame, *, zone: str = "its zone", title: str | None = None) -> Figure:
    """Horizontal bars of what leaves the data's zone per destination, stacked by data class.

    Args:
        table: Columns ``destination``, ``data_class`` and ``tb_per_year`` (TB a year).
        zone: how the zone is named in texts.
        title: Default states the total and the main destination.

    Returns:
        Figure with one bar container per data class.

    Raises:
        ValueError: If ``table`` is empty or lacks a column.
    """
    missing = [c for c in ("destination", "data_class", "tb_per_year") if c not in table.columns]
    if missing:
        raise ValueError(f"transfers table is missing column(s) {missing}")
    if table.empty:
        raise ValueError("transfers table is empty: nothing leaves its zone")
    wide = table.pivot_table(index="destination", columns="data_class", values="tb_per_year",
                             aggfunc="sum", fill_value=0.0)
    wide = wide.loc[wide.sum(axis=1).sort_values().index]
    classes = ordered(list(wide.columns), _CLASS_COLORS)
    total = float(wide.to_numpy().sum())
    if title is None:
        top = str(wide.sum(axis=1).idxmax())
        share = 100 * float(wide.sum(axis=1).max()) / total if total > 0 else 0.0
        title = f"{format_number(total)} TB a year leaves {zone}, {share:.0f} % of it to {top}"
    fig = new_figure((8, max(2.6, 0.5 * len(wide.index) + 1.8)))
    ax = fig.add_subplot()
    y = np.arange(len(wide.index))
    left = np.zeros(len(y))
    for cls in classes:
        v = wide[cls].to_numpy(dtype=float)
        ax.barh(y, v, left=left, height=0.6, color=class_color(cls), label=cls, edgecolor="white")
        left += v
    ax.set_yticks(y, list(wide.index))
    ax.set_xlabel(f"Data leaving {zone} (TB per year)")
    ax.set_ylabel("Destination")
    ax.set_xlim(0, max(left.max(), 1e-9) * 1.05)
    if left.max() >= 1000:
        ax.xaxis.set_major_formatter(StrMethodFormatter(TICK_THOUSANDS))
    ax.set_title(title, loc="left")
    ax.legend(title="Data class", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    apply_style(ax, grid_axis="x")
    return fig


def cost_by_year_chart(
    costs_by_year: pd.DataFrame,
    *,
    reference_eur_per_year: float = 1.2e9,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Stacked bars of cost per calendar year by site, against the reference line.

    Args:
        costs_by_year: Columns ``year``, ``site`` and ``eur`` (EUR spent in that year; partial
            years as simulated).
        reference_eur_per_year: Reference yearly cost in EUR (dashed line).
        title: Default names the most expensive year.
        figsize: None for a full-width chart; a size (e.g. :data:`SUMMARY_FIGSIZE`) for a small
            page-one chart with its legend below.

    Returns:
        Figure with one bar container per site.

    Raises:
        ValueError: If the table is empty or lacks a column.
    """
    missing = [c for c in ("year", "site", "eur") if c not in costs_by_year.columns]
    if missing:
        raise ValueError(f"costs_by_year is missing column(s) {missing}")
    if costs_by_year.empty:
        raise ValueError("costs_by_year is empty")
    wide = costs_by_year.pivot_table(index="year", columns="site", values="eur", aggfunc="sum",
                                     fill_value=0.0).sort_index() / 1e6
    sites = ordered(list(wide.columns), SITE_COLORS)
    totals = wide.sum(axis=1)
    if title is None:
        peak = int(totals.idxmax())
        title = f"Spending peaks in {peak} at {format_eur(float(totals.max()) * 1e6)}"
    fig = new_figure(figsize or (8, 4.5))
    ax = fig.add_subplot()
    x = np.arange(len(wide.index))
    bottom = np.zeros(len(x))
    for s in sites:
        v = wide[s].to_numpy(dtype=float)
        ax.bar(x, v, bottom=bottom, width=0.7, color=site_color(s), label=s, edgecolor="white")
        bottom += v
    ref = ax.axhline(reference_eur_per_year / 1e6, color="black", linestyle="--", linewidth=1.2,
                     label=f"Reference {format_eur(reference_eur_per_year)}/yr")
    days = costs_by_year.groupby("year")["days"].max() if "days" in costs_by_year.columns else None

    def tick(year: object) -> str:
        # a partial year says how many days it holds, so its short bar is not read as a saving
        n = float(days.get(year, 366.0)) if days is not None else 366.0
        return f"{year}\n({n:.0f} days)" if n < 365 else str(year)

    ax.set_xticks(x, [tick(y) for y in wide.index])
    ax.set_xlabel("Calendar year (partial years as simulated)")
    ax.set_ylabel("Cost (EUR million in the year)")
    handles, labels = ax.get_legend_handles_labels()
    ordered_handles = [*[h for h in handles if h is not ref][::-1], ref]
    if figsize is None:
        ax.set_title(title, loc="left")
        ax.legend(handles=ordered_handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        apply_style(ax)
        return fig
    ax.set_xlabel("Calendar year (partial years as simulated)", fontsize=8)
    apply_style(ax)
    _summary_title(ax, title)
    _summary_legend(fig, ordered_handles, ncols=4)
    return fig


def _by_run(
    values: Mapping[str, Mapping[str, float]], palette: Mapping[str, str], *, scale: float = 1.0
) -> tuple[list[str], list[str], np.ndarray]:
    """Runs, their parts (sites, categories: known ones in palette order) and a runs x parts matrix of values x scale."""
    runs = list(values)
    parts = ordered([p for r in runs for p in values[r]], dict(palette))
    return runs, parts, np.array([[float(values[r].get(p, 0.0)) * scale for p in parts] for r in runs])


def carbon_by_site_chart(per_run: Mapping[str, Mapping[str, float]], *, title: str | None = None) -> Figure:
    """One bar per run, stacked by site: yearly CO2 in kilotonnes.

    Args:
        per_run: Run label -> {site: tonnes CO2 per year}.
        title: Default states the first run's total and its largest site, and the other runs.

    Returns:
        Figure with one bar container per site.

    Raises:
        ValueError: If there is no run.
    """
    if not per_run:
        raise ValueError("carbon_by_site_chart needs at least one run")
    runs, sites, kt = _by_run(per_run, SITE_COLORS, scale=1 / 1000.0)
    totals = kt.sum(axis=1)
    if title is None:
        first = kt[0]
        top = sites[int(first.argmax())] if first.sum() > 0 else None
        title = f"{runs[0]} emits {format_number(totals[0])} kt CO2 a year"
        if top is not None:
            title += f", {100 * first.max() / totals[0]:.0f} % of it in {top}"
        if len(runs) > 1:
            title += "; " + ", ".join(f"{r} {format_number(t)} kt" for r, t in zip(runs[1:], totals[1:], strict=True))
    width = max(6.5, 1.2 * len(runs) + 4.5)
    title = "\n".join(textwrap.wrap(title, int(width * 8)))
    fig = new_figure((width, 4.4))
    ax = fig.add_subplot()
    x = np.arange(len(runs))
    bottom = np.zeros(len(runs))
    for j, s in enumerate(sites):
        ax.bar(x, kt[:, j], bottom=bottom, width=0.6, color=site_color(s), label=s, edgecolor="white")
        bottom += kt[:, j]
    ax.set_xticks(x, runs, rotation=20, ha="right", rotation_mode="anchor")
    ax.set_xlabel("Scenario")
    ax.set_ylabel("Carbon (kt CO2 per year)")
    ax.set_ylim(0, max(bottom.max(), 1e-9) * 1.1)
    ax.set_title(title, loc="left")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], title="Site", loc="upper left", bbox_to_anchor=(1.01, 1.0),
              frameon=False)
    apply_style(ax)
    return fig


def gateway_wait_chart(
    requests: pd.DataFrame,
    *,
    sla_s_by_class: Mapping[str, float] | None = None,
    title: str | None = None,
    subject: str | None = None,
) -> Figure:
    """Cumulative distribution of the total wait of access requests, one line per class.

    Only rows with ``kind == "access"`` are used when a ``kind`` column is present. Each class's
    SLA is drawn as a vertical dotted line in the class's colour.

    Args:
        requests: Columns ``class`` and ``wait_s`` (seconds), optionally ``kind``.
        sla_s_by_class: Class name -> SLA on the wait in seconds.
        title: Default states the p95 wait and the share of requests over their SLA.
        subject: Prefix of the title, e.g. the scenario name.

    Returns:
        Figure with one step line per class.

    Raises:
        ValueError: If no access request is left or a column is missing.
    """
    # one drawing for both: the table of quantiles (vectorised, no Python object per row)
    return gateway_wait_quantile_chart(wait_quantiles_from_requests(requests, sla_s_by_class), title=title,
                                       subject=subject)



# --- page one of the report: small charts that carry the answer --------------------------------

#: Size of a page-one chart in inches (three side by side on a 1280-pixel screen, two on A4).
SUMMARY_FIGSIZE = (4.6, 3.3)
_SUMMARY_TITLE_SIZE = 10.5

#: Reader's words for the kinds of flow that take data out of the zone.
FLOW_KIND_LABELS = {
    "ingest": "user data written to sites abroad",
    "export": "exports",
    "migration": "migration",
    "replication": "replication",
    "serve": "reads",
}


def _summary_title(ax, title: str, width: int = 48) -> None:
    """A page-one chart's title, over the whole figure: at most three wrapped lines, smaller than a full-page chart's."""
    ax.figure.suptitle("\n".join(textwrap.wrap(title, width, break_on_hyphens=False)[:3]), x=0.02, ha="left",
                       fontsize=_SUMMARY_TITLE_SIZE, fontweight="bold")


def _summary_legend(fig: Figure, handles: Sequence, ncols: int = 3) -> None:  # type: ignore[type-arg]
    """A page-one chart's legend, under the chart (constrained layout makes room for it)."""
    fig.legend(handles=list(handles), loc="outside lower center", ncols=ncols, frameon=False, fontsize=7,
               handlelength=1.2, columnspacing=0.8)


def _run_labels(runs: Sequence[str], baseline: str | None) -> list[str]:
    return [f"{r}\n(baseline)" if r == baseline else r for r in runs]


def cost_comparison_chart(
    costs: Mapping[str, Mapping[str, float]],
    *,
    baseline: str | None = None,
    spreads: Mapping[str, tuple[float, float]] | None = None,
    reference_eur_per_year: float | None = None,
    reference_label: str = "published figure",
    title: str,
    figsize: tuple[float, float] = SUMMARY_FIGSIZE,
) -> Figure:
    """Yearly cost of each run as a horizontal bar stacked by category, with its range and the reference.

    Args:
        costs: run label -> {cost category: EUR per year}, in display order (top to bottom).
        baseline: the run the others are compared with (its label says so).
        spreads: run label -> (low, high) EUR per year, drawn as a whisker at the bar's end.
        reference_eur_per_year: a published yearly cost, drawn as a dashed vertical line.
        reference_label: what the reference is.
        title: the finding (computed by the caller).
        figsize: figure size in inches.

    Returns:
        Figure with one bar container per category.

    Raises:
        ValueError: If there is no run or a cost is negative.
    """
    if not costs:
        raise ValueError("cost_comparison_chart needs at least one run")
    runs, categories, bn = _by_run(costs, CATEGORY_COLORS, scale=1e-9)
    if (bn < 0).any():
        raise ValueError("cost_comparison_chart: costs must not be negative")
    fig = new_figure(figsize)
    ax = fig.add_subplot()
    y = np.arange(len(runs))[::-1]
    left = np.zeros(len(runs))
    for j, cat in enumerate(categories):
        ax.barh(y, bn[:, j], left=left, height=0.62, color=category_color(cat), label=cat, edgecolor="white",
                linewidth=0.5)
        left += bn[:, j]
    top = float(left.max()) if len(left) else 0.0
    for yi, r, total in zip(y, runs, left, strict=True):
        low_high = (spreads or {}).get(r)
        end = total
        if low_high is not None:
            lo, hi = low_high[0] / 1e9, low_high[1] / 1e9
            ax.errorbar([total], [yi], xerr=[[max(total - lo, 0.0)], [max(hi - total, 0.0)]], fmt="none",
                        ecolor="#222222", elinewidth=1.3, capsize=4, zorder=5)
            end = max(end, hi)
            top = max(top, hi)
        ax.annotate(format_eur(total * 1e9), (end, yi), xytext=(4, 0), textcoords="offset points",
                    va="center", ha="left", fontsize=8.5, fontweight="bold", zorder=6,
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"})
    handles, _ = ax.get_legend_handles_labels()
    if reference_eur_per_year:
        ref = ax.axvline(reference_eur_per_year / 1e9, color="black", linestyle="--", linewidth=1.2,
                         label=f"{reference_label} {format_eur(reference_eur_per_year)}")
        top = max(top, reference_eur_per_year / 1e9)
        handles = [*handles, ref]
    ax.set_yticks(y, _run_labels(runs, baseline))
    ax.set_xlim(0, top * 1.32 if top > 0 else 1.0)
    ax.set_xlabel("Cost (EUR billion per year)")
    apply_style(ax, grid_axis="x")
    _summary_title(ax, title)
    _summary_legend(fig, handles)
    return fig


def data_location_chart(
    stored_pb: Mapping[str, Mapping[str, float]],
    in_zone: Mapping[str, bool | None],
    *,
    baseline: str | None = None,
    residency: Mapping[str, float | None] | None = None,
    zone: str = "its zone",
    title: str,
    figsize: tuple[float, float] = SUMMARY_FIGSIZE,
) -> Figure:
    """Where each run's data lives at the end: a horizontal bar per run stacked by site.

    Sites outside the zone are hatched; each bar is labelled with the share of the zone-only data
    held in the zone.

    Args:
        stored_pb: run label -> {site: PB stored at the end of the run}, in display order.
        in_zone: site -> whether it lies in the zone (None: unknown).
        baseline: the run the others are compared with.
        residency: run label -> share (0-1) of zone-only data held in the zone.
        zone: the zone's name.
        title: the finding (computed by the caller).
        figsize: figure size in inches.

    Returns:
        Figure with one bar container per site.

    Raises:
        ValueError: If there is no run.
    """
    if not stored_pb:
        raise ValueError("data_location_chart needs at least one run")
    runs, sites, pb = _by_run(stored_pb, SITE_COLORS)
    fig = new_figure(figsize)
    ax = fig.add_subplot()
    y = np.arange(len(runs))[::-1]
    left = np.zeros(len(runs))
    for j, s in enumerate(sites):
        outside = in_zone.get(s) is False
        ax.barh(y, pb[:, j], left=left, height=0.62, color=site_color(s), edgecolor="white", linewidth=0.5,
                hatch="///" if outside else None, label=f"{s} (outside {zone})" if outside else s)
        left += pb[:, j]
    for yi, r, total in zip(y, runs, left, strict=True):
        share = (residency or {}).get(r)
        text = f"{format_number(total)} PB" if share is None else f"{format_share(share)} in {zone}"
        ax.annotate(text, (total, yi), xytext=(4, 0), textcoords="offset points", va="center", ha="left",
                    fontsize=8.5, fontweight="bold")
    ax.set_yticks(y, _run_labels(runs, baseline))
    ax.set_xlim(0, max(float(left.max()), 1e-9) * 1.42)
    ax.set_xlabel("Stored data at the end of the run (PB, all copies)")
    if left.max() >= 1000:
        ax.xaxis.set_major_formatter(StrMethodFormatter(TICK_THOUSANDS))
    apply_style(ax, grid_axis="x")
    _summary_title(ax, title)
    _summary_legend(fig, ax.get_legend_handles_labels()[0])
    return fig


def leaving_zone_chart(
    leaving_tb: Mapping[str, Mapping[str, float]],
    *,
    baseline: str | None = None,
    zone: str = "its zone",
    title: str,
    figsize: tuple[float, float] = SUMMARY_FIGSIZE,
) -> Figure:
    """What still leaves the zone: one horizontal bar per run, TB a year, coloured by its main kind of flow.

    Volumes of different runs differ by orders of magnitude (user writes to sites abroad against a
    few exports), so the axis is logarithmic when the largest is over 100 times the smallest;
    every bar is labelled with its volume and what it is made of.

    Args:
        leaving_tb: run label -> {kind of flow (ingest, export, migration ...): TB per year}.
        baseline: the run the others are compared with.
        zone: the zone's name.
        title: the finding (computed by the caller).
        figsize: figure size in inches.

    Returns:
        Figure with one bar container.

    Raises:
        ValueError: If there is no run.
    """
    if not leaving_tb:
        raise ValueError("leaving_zone_chart needs at least one run")
    runs = list(leaving_tb)
    totals = np.array([sum(max(float(v), 0.0) for v in leaving_tb[r].values()) for r in runs])
    kinds = [max(leaving_tb[r], key=lambda k: leaving_tb[r][k]) if totals[i] > 0 else "" for i, r in enumerate(runs)]
    palette = dict(zip(FLOW_KIND_LABELS, ["#CC79A7", "#D55E00", "#56B4E9", "#0072B2", "#999999"], strict=True))
    colors = [palette.get(k, fallback_color(k)) for k in kinds]
    fig = new_figure(figsize)
    ax = fig.add_subplot()
    y = np.arange(len(runs))[::-1]
    positive = totals[totals > 0]
    log = len(positive) > 0 and float(positive.max()) > 100 * float(positive.min())
    floor = float(positive.min()) / 3 if log else 0.0
    ax.barh(y, np.where(totals > 0, totals, floor) - floor, left=floor, height=0.5, color=colors, edgecolor="white")
    for yi, r, total in zip(y, runs, totals, strict=True):
        if total > 0:
            parts = sorted(leaving_tb[r].items(), key=lambda kv: -kv[1])
            what = FLOW_KIND_LABELS.get(parts[0][0], parts[0][0]) if parts[0][1] >= 0.9 * total else "mixed flows"
            text = f"{format_number(round_to_range(total, total, total))} TB/yr: {what}"
        else:
            text = f"nothing leaves {zone}"
        # the label sits above its bar, from the axis on, so it never runs off the figure
        ax.annotate(text, (0.0, yi + 0.27), xycoords=("axes fraction", "data"), xytext=(2, 0),
                    textcoords="offset points", va="bottom", ha="left", fontsize=8)
    ax.set_yticks(y, _run_labels(runs, baseline))
    ax.set_ylim(-0.5, len(runs) - 0.2)
    if log:
        ax.set_xscale("log")
        ax.set_xlim(floor, float(positive.max()) * 1.5)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_number(v)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(f"Data leaving {zone} (TB per year, log scale)")
    else:
        ax.set_xlim(0, max(float(totals.max()), 1e-9) * 1.1)
        ax.set_xlabel(f"Data leaving {zone} (TB per year)")
        if totals.max() >= 1000:
            ax.xaxis.set_major_formatter(StrMethodFormatter(TICK_THOUSANDS))
    apply_style(ax, grid_axis="x")
    _summary_title(ax, title)
    return fig


def residency_over_time_chart(
    shares: Mapping[str, pd.Series],
    *,
    zone: str = "its zone",
    milestones: Sequence[tuple[str, pd.Timestamp]] = (),
    title: str,
    figsize: tuple[float, float] = SUMMARY_FIGSIZE,
) -> Figure:
    """Share of the zone-only data held in the zone over time, one line per run, with the 99 % mark.

    Args:
        shares: run label -> Series of shares (0-1) indexed by time.
        zone: the zone's name.
        milestones: (label, time) pairs marked as dotted vertical lines.
        title: the finding (computed by the caller).
        figsize: figure size in inches.

    Returns:
        Figure with one line per run.

    Raises:
        ValueError: If there is no run or a series is empty.
    """
    if not shares:
        raise ValueError("residency_over_time_chart needs at least one run")
    fig = new_figure(figsize)
    ax = fig.add_subplot()
    palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", *FALLBACK_COLORS]
    start = end = None
    for i, (run, series) in enumerate(shares.items()):
        if series.empty:
            raise ValueError(f"residency of {run} has no time point")
        t = pd.to_datetime(series.index, utc=True).tz_localize(None)
        ax.plot(t, 100 * series.to_numpy(dtype=float), color=palette[i % len(palette)], linewidth=1.8, label=run)
        start = t.min() if start is None else min(start, t.min())
        end = t.max() if end is None else max(end, t.max())
    ax.axhline(99, color="#444444", linestyle=":", linewidth=1.0)
    ax.annotate("99 %", (0.0, 99), xycoords=("axes fraction", "data"), xytext=(2, -10), textcoords="offset points",
                fontsize=7, color="#444444")
    for label, when in milestones:
        when = pd.Timestamp(when)
        when = when.tz_convert(None) if when.tzinfo else when
        if start is not None and start <= when <= end:
            ax.axvline(when, color="#888888", linestyle=":", linewidth=0.9)
            ax.annotate(label, (when, 3), rotation=90, fontsize=6.5, color="#555555", ha="right", va="bottom",
                        xytext=(-1, 0), textcoords="offset points")
    locator = AutoDateLocator(maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    if start is not None and end is not None and end > start:
        ax.set_xlim(start, end)
    ax.set_ylim(0, 103)
    ax.set_ylabel(f"Residency-bound data in {zone} (%)")
    apply_style(ax)
    _summary_title(ax, title)
    if len(shares) > 1:
        ax.legend(loc="lower right", frameon=False, fontsize=7)
    return fig
