"""Charts of the leadership report that the per-run charts in :mod:`sim.report.charts` lack.

KPIs of several runs side by side, what leaves the EEA, cost per calendar year, carbon per site
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
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import StrMethodFormatter

from sim.report.charts.style import (
    FALLBACK_COLORS,
    SITE_COLORS,
    apply_style,
    fallback_color,
    new_figure,
    ordered,
    policy_color,
    site_color,
)
from sim.report.format import TICK_THOUSANDS, format_count, format_duration, format_eur, format_number
from sim.results import kpis

__all__ = [
    "KpiValue",
    "KPI_AXES",
    "kpi_comparison_chart",
    "transfers_out_chart",
    "cost_by_year_chart",
    "carbon_by_site_chart",
    "gateway_wait_chart",
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
    "eea_residency_share": ("% of bytes", 100.0),
    "transfer_tb_out_of_eea_per_year": ("TB per year", 1.0),
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


def transfers_out_chart(table: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Horizontal bars of what leaves the EEA per destination, stacked by data class.

    Args:
        table: Columns ``destination``, ``data_class`` and ``tb_per_year`` (TB a year).
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
        raise ValueError("transfers table is empty: nothing leaves the EEA")
    wide = table.pivot_table(index="destination", columns="data_class", values="tb_per_year",
                             aggfunc="sum", fill_value=0.0)
    wide = wide.loc[wide.sum(axis=1).sort_values().index]
    classes = ordered(list(wide.columns), _CLASS_COLORS)
    total = float(wide.to_numpy().sum())
    if title is None:
        top = str(wide.sum(axis=1).idxmax())
        share = 100 * float(wide.sum(axis=1).max()) / total if total > 0 else 0.0
        title = f"{format_number(total)} TB a year leaves the EEA, {share:.0f} % of it to {top}"
    fig = new_figure((8, max(2.6, 0.5 * len(wide.index) + 1.8)))
    ax = fig.add_subplot()
    y = np.arange(len(wide.index))
    left = np.zeros(len(y))
    for cls in classes:
        v = wide[cls].to_numpy(dtype=float)
        ax.barh(y, v, left=left, height=0.6, color=class_color(cls), label=cls, edgecolor="white")
        left += v
    ax.set_yticks(y, list(wide.index))
    ax.set_xlabel("Data leaving the EEA (TB per year)")
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
) -> Figure:
    """Stacked bars of cost per calendar year by site, against the reference line.

    Args:
        costs_by_year: Columns ``year``, ``site`` and ``eur`` (EUR spent in that year; partial
            years as simulated).
        reference_eur_per_year: Reference yearly cost in EUR (dashed line).
        title: Default names the most expensive year.

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
    fig = new_figure((8, 4.5))
    ax = fig.add_subplot()
    x = np.arange(len(wide.index))
    bottom = np.zeros(len(x))
    for s in sites:
        v = wide[s].to_numpy(dtype=float)
        ax.bar(x, v, bottom=bottom, width=0.7, color=site_color(s), label=s, edgecolor="white")
        bottom += v
    ref = ax.axhline(reference_eur_per_year / 1e6, color="black", linestyle="--", linewidth=1.2,
                     label=f"Reference {format_eur(reference_eur_per_year)}/yr")
    ax.set_xticks(x, [str(y) for y in wide.index])
    ax.set_xlabel("Calendar year (partial years as simulated)")
    ax.set_ylabel("Cost (EUR million in the year)")
    ax.set_title(title, loc="left")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles=[*[h for h in handles if h is not ref][::-1], ref], loc="upper left",
              bbox_to_anchor=(1.01, 1.0), frameon=False)
    apply_style(ax)
    return fig


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
    runs = list(per_run)
    sites = ordered([s for r in runs for s in per_run[r]], SITE_COLORS)
    kt = np.array([[per_run[r].get(s, 0.0) / 1000.0 for s in sites] for r in runs])
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
    missing = [c for c in ("class", "wait_s") if c not in requests.columns]
    if missing:
        raise ValueError(f"gateway requests are missing column(s) {missing}")
    df = requests
    if "kind" in df.columns:
        df = df[df["kind"].astype(str) == "access"]
    df = df[np.isfinite(df["wait_s"].astype(float))]
    if df.empty:
        raise ValueError("no access requests with a finite wait")
    sla = dict(sla_s_by_class or {})
    classes = sorted(df["class"].astype(str).unique())
    palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", *FALLBACK_COLORS]
    colors = {c: palette[i % len(palette)] for i, c in enumerate(classes)}
    waits = df["wait_s"].to_numpy(dtype=float)
    cls = df["class"].astype(str).to_numpy()
    if title is None:
        p95 = float(np.quantile(waits, 0.95))
        text = f"95 % of access requests wait under {format_duration(p95)}"
        limits = np.array([sla.get(c, np.nan) for c in cls])
        known = np.isfinite(limits)
        if known.any():
            breach = float(np.mean(waits[known] > limits[known]))
            text += f"; {100 * breach:.1f} % exceed their SLA"
        title = text
    if subject:
        title = f"{subject}: {title}"
    fig = new_figure((8, 4.5))
    ax = fig.add_subplot()
    probs = np.linspace(0.0, 1.0, 401)
    handles = []
    for c in classes:
        w = waits[cls == c] / 60.0
        q = np.quantile(w, probs)
        (line,) = ax.step(q, probs * 100, where="post", color=colors[c], linewidth=1.8,
                          label=f"{c} (n = {format_count(len(w))})")
        handles.append(line)
        if c in sla and np.isfinite(sla[c]):
            ax.axvline(sla[c] / 60.0, color=colors[c], linestyle=":", linewidth=1.5)
            handles.append(Line2D([], [], color=colors[c], linestyle=":", label=f"SLA {c}: {format_duration(sla[c])}"))
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlim(left=0)
    ax.set_ylim(0, 100)
    ax.set_xlabel("Total wait before a decision (minutes, linear below 1 min, log above)")
    ax.set_ylabel("Access requests waiting at most this long (%)")
    ax.set_title(title, loc="left")
    ax.legend(handles=handles, loc="lower right", frameon=False)
    apply_style(ax, grid_axis="both")
    return fig

