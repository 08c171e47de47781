"""The charts of one run: pandas DataFrame in, matplotlib ``Figure`` out.

Stored data per site over time, yearly cost per site and category, round trip per country and
gateway reviewer utilisation by hour; :mod:`sim.report.charts` exports them. Every function builds
a :class:`matplotlib.figure.Figure` with the object-oriented API and an Agg canvas, so it works
headless and never touches pyplot state. Nothing is shown or written; the caller saves, e.g.
``fig.savefig("stored.png", dpi=150)``.

Default titles state the finding, computed from the data, so a reader gets
the headline number without reading the axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.report.charts.style import (
    CATEGORY_COLORS,
    SITE_COLORS,
    apply_style,
    category_color,
    check_frame,
    new_figure,
    ordered,
    site_color,
)
from sim.report.format import format_eur, format_number

TB_PER_PB = 1000.0
EUR_PER_MILLION = 1e6

__all__ = ["stored_by_site_chart", "cost_by_site_chart", "rtt_by_country_chart", "reviewer_utilisation_chart"]


def stored_by_site_chart(
    placement: pd.DataFrame,
    *,
    title: str | None = None,
    milestones: list[tuple[str, pd.Timestamp]] | None = None,
) -> Figure:
    """Stacked area of stored data per site over time.

    Stored terabytes are summed over data classes per (time, site) and shown
    in petabytes (1 PB = 1000 TB). Sites with no row at a time count as zero.

    Args:
        placement: Columns ``time`` (timestamp, tz-naive or tz-aware; aware
            values are converted to UTC), ``site`` (str), ``data_class`` (str)
            and ``stored_tb`` (float).
        title: Chart title. Default states the total at the last time point
            and the share of the largest site, e.g.
            "Stored data reaches 812 PB, 64 % in hamar".
        milestones: (label, time) pairs marked as labelled vertical lines, e.g.
            sites coming online or the day residency reaches 99 %.

    Returns:
        Figure with one stacked area (PolyCollection) per site.

    Raises:
        ValueError: If ``placement`` is empty or lacks a required column.
    """
    check_frame(placement, "placement", ("time", "site", "data_class", "stored_tb"))
    df = placement.assign(
        time=pd.to_datetime(placement["time"], utc=True).dt.tz_localize(None),
        stored_pb=placement["stored_tb"].astype(float) / TB_PER_PB,
    )
    wide = df.pivot_table(
        index="time", columns="site", values="stored_pb", aggfunc="sum", fill_value=0.0
    ).sort_index()
    sites = ordered(list(wide.columns), SITE_COLORS)
    wide = wide[sites]

    last = wide.iloc[-1]
    total = float(last.sum())
    if title is None:
        if total > 0:
            top = str(last.idxmax())
            share = 100 * last[top] / total
            title = f"Stored data reaches {format_number(total)} PB, {share:.0f} % in {top}"
        else:
            title = "No data stored at the last time point"

    fig = new_figure((8, 4.5))
    ax = fig.add_subplot()
    ax.stackplot(
        wide.index.to_numpy(),
        *(wide[s].to_numpy() for s in sites),
        labels=sites,
        colors=[site_color(s) for s in sites],
        linewidth=0.5,
        edgecolor="white",
    )
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    if len(wide.index) > 1:
        ax.set_xlim(wide.index[0], wide.index[-1])
    ax.set_ylim(bottom=0)
    for label, when in milestones or []:
        when = pd.Timestamp(when).tz_localize(None) if pd.Timestamp(when).tzinfo else pd.Timestamp(when)
        if wide.index[0] <= when <= wide.index[-1]:
            ax.axvline(when, color="black", linestyle=":", linewidth=1.0)
            ax.annotate(label, (when, 1.0), xycoords=("data", "axes fraction"), rotation=90,
                        va="top", ha="right", fontsize=8, xytext=(-2, -4), textcoords="offset points")
    ax.set_xlabel("Time (UTC)")
    ax.set_ylabel("Stored data (PB)")
    ax.set_title(title, loc="left")
    # Reverse so the legend reads top-to-bottom like the stack.
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], title="Site", loc="upper left",
              bbox_to_anchor=(1.01, 1.0), frameon=False)
    apply_style(ax)
    return fig


def cost_by_site_chart(
    costs: pd.DataFrame,
    *,
    reference_eur_per_year: float = 1.2e9,
    reference_label: str = "Published Clover figure EUR 1.2 bn/yr",
    title: str | None = None,
) -> Figure:
    """Stacked bars of annual cost per site by category, plus a total bar.

    One bar per value of ``site`` (known sites first, then other rows such as
    ``"programme"`` for costs not tied to a site), then a ``"total"`` bar, each
    stacked by category, in EUR million. A dashed horizontal line marks the
    reference figure. Costs are expected to be non-negative.

    Args:
        costs: Columns ``site`` (str), ``category`` (str) and
            ``eur_per_year`` (float). Repeated (site, category) rows are summed.
        reference_eur_per_year: Reference annual cost in EUR, drawn as a
            dashed line. Must be positive.
        reference_label: Legend label of the reference line.
        title: Chart title. Default compares the total with the reference,
            e.g. "Total EUR 1.13 bn a year, 6 % below the reference EUR 1.2 bn".

    Returns:
        Figure with one bar container per category (each with one bar per
        site plus the total bar) and the reference line.

    Raises:
        ValueError: If ``costs`` is empty or lacks a required column, or the
            reference is not positive.
    """
    check_frame(costs, "costs", ("site", "category", "eur_per_year"))
    if not reference_eur_per_year > 0:
        raise ValueError(f"reference_eur_per_year must be positive, got {reference_eur_per_year}")
    if (costs["site"] == "total").any():
        raise ValueError('costs has a site named "total", which clashes with the total bar')
    wide = costs.pivot_table(
        index="site", columns="category", values="eur_per_year", aggfunc="sum", fill_value=0.0
    )
    sites = ordered(list(wide.index), SITE_COLORS)
    categories = ordered(list(wide.columns), CATEGORY_COLORS)
    wide = wide.loc[sites, categories] / EUR_PER_MILLION
    wide.loc["total"] = wide.sum(axis=0)

    total_eur = float(wide.loc["total"].sum()) * EUR_PER_MILLION
    if title is None:
        diff = (total_eur - reference_eur_per_year) / reference_eur_per_year
        ref = format_eur(reference_eur_per_year)
        if round(abs(diff) * 100) == 0:
            comparison = f"in line with the reference {ref}"
        else:
            side = "below" if diff < 0 else "above"
            comparison = f"{abs(diff) * 100:.0f} % {side} the reference {ref}"
        title = f"Total {format_eur(total_eur)} a year, {comparison}"

    fig = new_figure((9, 5))
    ax = fig.add_subplot()
    x = np.arange(len(wide.index))
    bottom = np.zeros(len(x))
    containers = []
    for cat in categories:
        values = wide[cat].to_numpy(dtype=float)
        containers.append(
            ax.bar(x, values, bottom=bottom, width=0.7, label=cat, color=category_color(cat),
                   edgecolor="white", linewidth=0.5)
        )
        bottom += values
    ref_line = ax.axhline(reference_eur_per_year / EUR_PER_MILLION, color="black",
                          linestyle="--", linewidth=1.2, label=reference_label)
    ax.set_xticks(x, list(wide.index), rotation=30, ha="right", rotation_mode="anchor")
    ax.set_xlabel("Site")
    ax.set_ylabel("Cost (EUR million per year)")
    ax.set_ylim(0, max(bottom.max(), reference_eur_per_year / EUR_PER_MILLION) * 1.08)
    ax.set_title(title, loc="left")
    # Categories top-to-bottom like the stack, reference line last.
    ax.legend(handles=[*containers[::-1], ref_line], loc="upper left",
              bbox_to_anchor=(1.01, 1.0), frameon=False)
    apply_style(ax)
    return fig


def rtt_by_country_chart(
    latency: pd.DataFrame,
    *,
    fibre_min: pd.DataFrame | None = None,
    title: str | None = None,
) -> Figure:
    """Sorted bars of request-weighted mean round-trip time per country.

    For each country the mean RTT is ``sum(rtt_ms * share) / sum(share)``
    over the sites serving it (shares are renormalised, so small rounding
    errors do not matter). Bars are sorted fastest first and coloured by the
    site that serves most of the country's requests.

    Args:
        latency: Columns ``country`` (ISO-2), ``site``, ``rtt_ms`` and
            ``share_of_requests`` (share of the country's requests served by
            that site; sums to 1 per country).
        fibre_min: Optional frame with columns ``country`` and ``rtt_ms``:
            the physical fibre-minimum RTT, drawn as markers. Countries absent
            from ``latency`` are ignored; missing countries get no marker.
        title: Chart title. Default states the median country RTT and the
            slowest country, e.g.
            "Median country round trip 24 ms; slowest CY at 71 ms".

    Returns:
        Figure with one bar per country (plus one marker line if
        ``fibre_min`` is given).

    Raises:
        ValueError: If ``latency`` is empty, lacks a required column, or a
            country has a zero total share; or if ``fibre_min`` lacks a column.
    """
    check_frame(latency, "latency", ("country", "site", "rtt_ms", "share_of_requests"))
    df = latency.assign(
        weighted=latency["rtt_ms"].astype(float) * latency["share_of_requests"].astype(float)
    )
    by_country = df.groupby("country")[["weighted", "share_of_requests"]].sum()
    zero = by_country.index[by_country["share_of_requests"] <= 0].tolist()
    if zero:
        raise ValueError(f"latency has zero total share_of_requests for country(ies) {zero}")
    mean_rtt = (by_country["weighted"] / by_country["share_of_requests"]).sort_values(kind="stable")
    countries = mean_rtt.index.tolist()
    main_site = (
        latency.sort_values("share_of_requests", ascending=False, kind="stable")
        .drop_duplicates("country")
        .set_index("country")["site"]
        .reindex(countries)
    )

    if title is None:
        title = (
            f"Median country round trip {format_number(float(mean_rtt.median()))} ms; "
            f"slowest {countries[-1]} at {format_number(float(mean_rtt.iloc[-1]))} ms"
        )

    fig = new_figure((max(6.0, 0.35 * len(countries) + 2.5), 4.5))
    ax = fig.add_subplot()
    x = np.arange(len(countries))
    ax.bar(x, mean_rtt.to_numpy(), width=0.7, color=[site_color(s) for s in main_site])
    sites = ordered(list(main_site.unique()), SITE_COLORS)
    handles: list[Artist] = [Patch(color=site_color(s), label=f"mostly {s}") for s in sites]

    if fibre_min is not None:
        missing = [c for c in ("country", "rtt_ms") if c not in fibre_min.columns]
        if missing:
            raise ValueError(f"fibre_min is missing column(s) {missing}; expected ['country', 'rtt_ms']")
        floor = fibre_min.groupby("country")["rtt_ms"].min().reindex(countries)
        (line,) = ax.plot(x, floor.to_numpy(dtype=float), linestyle="none", marker="_",
                          markersize=14, markeredgewidth=2.5, color="black",
                          label="Fibre minimum")
        handles.append(line)

    ax.set_xticks(x, countries)
    ax.set_xlim(-0.6, len(countries) - 0.4)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Country (ISO 3166-1 alpha-2)")
    ax.set_ylabel("Request-weighted mean RTT (ms)")
    ax.set_title(title, loc="left")
    ax.legend(handles=handles, loc="upper left", frameon=False)
    apply_style(ax)
    return fig


def reviewer_utilisation_chart(utilisation: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Gateway reviewer utilisation by hour of day (UTC): busy over staffed reviewer time.

    Args:
        utilisation: Columns ``hour`` (0-23) and ``utilisation`` (0-1); several replications
            may be stacked (the mean per hour is drawn).
        title: Default states the busiest hour.

    Returns:
        Figure with one bar per hour.

    Raises:
        ValueError: If the frame is empty or lacks a column.
    """
    check_frame(utilisation, "utilisation", ("hour", "utilisation"))
    by_hour = utilisation.groupby("hour")["utilisation"].mean().reindex(range(24))
    if title is None:
        top = int(by_hour.idxmax())
        title = f"Reviewers busiest at {top:02d}:00 UTC ({100 * by_hour.max():.0f} % of staffed time)"
    fig = new_figure((8, 3.8))
    ax = fig.add_subplot()
    ax.bar(by_hour.index, 100 * by_hour.fillna(0.0).to_numpy(), color=CATEGORY_COLORS.get("gateway", "#999999"))
    ax.axhline(100, color="black", linestyle="--", linewidth=1.0)
    ax.set_xticks(range(0, 24, 2))
    ax.set_xlabel("Hour of day (UTC)")
    ax.set_ylabel("Reviewer utilisation (%)")
    ax.set_ylim(0, max(105.0, 100 * float(by_hour.max()) * 1.05))
    ax.set_title(title, loc="left")
    apply_style(ax)
    return fig
