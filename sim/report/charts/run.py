"""The charts of one run: pandas DataFrame in, matplotlib ``Figure`` out.

Stored data per site over time, yearly cost per site and category, round trip per country,
gateway reviewer utilisation by hour and the distribution of gateway waits (drawn from a table of
quantiles, never from a row per request); :mod:`sim.report.charts` exports them. Every function builds
a :class:`matplotlib.figure.Figure` with the object-oriented API and an Agg canvas, so it works
headless and never touches pyplot state. Nothing is shown or written; the caller saves, e.g.
``fig.savefig("stored.png", dpi=150)``.

Default titles state the finding, computed from the data, so a reader gets
the headline number without reading the axes.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.report.charts.style import (
    CATEGORY_COLORS,
    FALLBACK_COLORS,
    SITE_COLORS,
    apply_style,
    category_color,
    check_frame,
    new_figure,
    ordered,
    site_color,
)
from sim.report.format import format_count, format_duration, format_eur, format_number
from sim.results.gateway import WAIT_QUANTILES

TB_PER_PB = 1000.0
EUR_PER_MILLION = 1e6

__all__ = [
    "cost_by_site_chart",
    "gateway_wait_quantile_chart",
    "reviewer_utilisation_chart",
    "rtt_by_country_chart",
    "stored_by_site_chart",
    "wait_quantiles_from_requests",
]


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
    reference_label: str = "reference figure",
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
    """Sorted bars of request-weighted mean round-trip time per country, as users see it.

    For each country the mean network RTT is ``sum(rtt_ms * share) / sum(share)``
    over the sites serving it (shares are renormalised, so small rounding
    errors do not matter). With an ``access_ms_mean`` column the mean round trip of
    the users' own access network (mobile and fixed mixed) is stacked on top in grey,
    so a bar is what a user waits for on average. Bars are sorted fastest first and
    the network part is coloured by the site that serves most of the country's requests. The legend says which
    site serves each country: one entry per serving mix (the sites serving
    at least 0.5 % of a country's requests, with their shares when there are
    several), listing its countries.

    Args:
        latency: Columns ``country`` (ISO-2), ``site``, ``rtt_ms`` and
            ``share_of_requests`` (share of the country's requests served by
            that site; sums to 1 per country); optionally ``access_ms_mean``
            (the access network's mean round trip in that country).
        fibre_min: Optional frame with columns ``country`` and ``rtt_ms``:
            the physical fibre-minimum RTT, drawn as markers. Countries absent
            from ``latency`` are ignored; missing countries get no marker.
        title: Chart title. Default states the median country RTT and the
            slowest country, e.g.
            "Median country round trip 24 ms; slowest CY at 71 ms" (with the
            access network included when it is given).

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
    network_rtt = by_country["weighted"] / by_country["share_of_requests"]
    access = (latency.groupby("country")["access_ms_mean"].max().astype(float).reindex(network_rtt.index)
              if "access_ms_mean" in latency.columns else pd.Series(0.0, index=network_rtt.index))
    mean_rtt = (network_rtt + access).sort_values(kind="stable")
    countries = mean_rtt.index.tolist()
    network_rtt, access = network_rtt.reindex(countries), access.reindex(countries)
    main = (
        latency.sort_values("share_of_requests", ascending=False, kind="stable")
        .drop_duplicates("country")
        .set_index("country")
        .reindex(countries)
    )
    main_site = main["site"]

    if title is None:
        title = (
            f"Median country round trip {format_number(float(mean_rtt.median()))} ms; "
            f"slowest {countries[-1]} at {format_number(float(mean_rtt.iloc[-1]))} ms"
        )

    fig = new_figure((max(6.0, 0.35 * len(countries) + 2.5) + 3.0, 4.5))  # + the legend on the right
    ax = fig.add_subplot()
    x = np.arange(len(countries))
    ax.bar(x, network_rtt.to_numpy(), width=0.7, color=[site_color(s) for s in main_site])
    handles: list[Artist] = [Patch(color=site_color(site), label=label) for site, label in _serving_mixes(latency)]
    if bool((access > 0).any()):
        ax.bar(x, access.to_numpy(), width=0.7, bottom=network_rtt.to_numpy(), color="0.8")
        handles.append(Patch(color="0.8", label="users' access network\n(mobile/fixed, mean)"))

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
    ax.set_ylabel("Request-weighted mean RTT (ms)" if not bool((access > 0).any())
                  else "Mean round trip a user sees (ms)")
    ax.set_title(title, loc="left")
    ax.legend(handles=handles, title="Served by", loc="upper left", bbox_to_anchor=(1.01, 1.0),
              frameon=False)
    apply_style(ax)
    return fig


def _serving_mixes(latency: pd.DataFrame, width: int = 44) -> list[tuple[str, str]]:
    """Legend entries of the round-trip chart: (main site, text) per mix of serving sites.

    A country's mix is the sites serving at least 0.5 % of its requests, largest share first;
    the text names the mix (with whole-percent shares when several sites serve) and its
    countries, alphabetically, wrapped to ``width`` characters. Entries follow the site palette
    of their main site, single sites before mixes.
    """
    share = latency["share_of_requests"].astype(float)
    df = latency.assign(share=share / share.groupby(latency["country"]).transform("sum"))
    df = df[df["share"] >= 0.005].sort_values(["country", "share"], ascending=[True, False], kind="stable")
    mixes: dict[tuple[str, ...], list[str]] = {}  # (sites, then "site NN %" each when several) -> countries
    for country, rows in df.groupby("country", sort=True):
        sites = tuple(str(s) for s in rows["site"])
        pct = [f"{s} {100 * x:.0f} %" if x >= 0.01 else f"{s} <1 %" for s, x in zip(sites, rows["share"], strict=True)]
        key = sites if len(sites) == 1 else (*sites, *pct)
        mixes.setdefault(key, []).append(str(country))
    rank = {s: i for i, s in enumerate(ordered([k[0] for k in mixes], SITE_COLORS))}
    out = []
    for key in sorted(mixes, key=lambda k: (rank[k[0]], len(k) > 1, k)):
        head = key[0] if len(key) == 1 else " + ".join(key[len(key) // 2:])
        out.append((key[0], "\n".join(textwrap.wrap(f"{head}: {', '.join(mixes[key])}", width=width))))
    return out


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


_WAIT_COLUMNS = ("class", "requests", "sla_s", "over_sla", "quantile", "wait_s")


def wait_quantiles_from_requests(requests: pd.DataFrame, sla_s_by_class: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The wait chart's table from one row per request (e.g. a ``gateway_requests`` file).

    Vectorised over category codes: no Python object per row.

    Args:
        requests: Columns ``class`` and ``wait_s`` (seconds), optionally ``kind`` (only
            ``access`` rows are used then); rows without a finite wait are left out.
        sla_s_by_class: Class name -> SLA on the wait in seconds.

    Returns:
        The table of ``sim.results.gateway.gateway_wait_quantiles``: class (each class, then
        ``all``), requests, sla_s, over_sla, quantile (``sim.results.gateway.WAIT_QUANTILES``),
        wait_s.

    Raises:
        ValueError: If a column is missing or no access request has a finite wait.
    """
    missing = [c for c in ("class", "wait_s") if c not in requests.columns]
    if missing:
        raise ValueError(f"gateway requests are missing column(s) {missing}")
    waits = requests["wait_s"].to_numpy(dtype=float)
    keep = np.isfinite(waits)
    if "kind" in requests.columns:
        kind = pd.Categorical(requests["kind"])
        labels = [str(c) for c in kind.categories]
        keep &= kind.codes == (labels.index("access") if "access" in labels else -2)
    classes = pd.Categorical(requests["class"])
    names = [str(c) for c in classes.categories]
    codes = classes.codes[keep]
    waits = waits[keep]
    if len(waits) == 0:
        raise ValueError("no access requests with a finite wait")
    sla = dict(sla_s_by_class or {})
    limits = np.array([sla.get(c, np.nan) for c in names] + [np.nan])[codes]  # one entry per class, code -1 -> NaN
    known = np.isfinite(limits)
    over = np.zeros(len(waits), dtype=bool)
    over[known] = waits[known] > limits[known]
    frames = []
    for code in np.unique(codes[codes >= 0]):
        mine = codes == code
        frames.append(_wait_rows(names[code], waits[mine], sla.get(names[code], np.nan), int(over[mine].sum())))
    frames.append(_wait_rows("all", waits, np.nan, int(over.sum())))
    return pd.concat(frames, ignore_index=True)


def _wait_rows(name: str, waits: np.ndarray, sla_s: float, over: int) -> pd.DataFrame:
    return pd.DataFrame({"class": name, "requests": len(waits), "sla_s": sla_s, "over_sla": over,
                         "quantile": WAIT_QUANTILES, "wait_s": np.quantile(waits, WAIT_QUANTILES)})


def gateway_wait_quantile_chart(
    quantiles: pd.DataFrame, *, title: str | None = None, subject: str | None = None
) -> Figure:
    """Cumulative distribution of the total wait of access requests, one line per class.

    Drawn from a table of quantiles (``sim.results.gateway.gateway_wait_quantiles``, or
    :func:`wait_quantiles_from_requests`); each class's SLA is a vertical dotted line in the
    class's colour. Waits in minutes on a symlog axis.

    Args:
        quantiles: Columns class (the classes, and ``all`` for every access request), requests,
            sla_s (NaN: no SLA), over_sla, quantile (0..1), wait_s.
        title: Default states the p95 wait and the share of requests over their SLA.
        subject: Prefix of the title, e.g. the scenario name.

    Returns:
        Figure with one step line per class.

    Raises:
        ValueError: If the table lacks a column or holds no class.
    """
    check_frame(quantiles, "gateway wait quantiles", _WAIT_COLUMNS)
    df = quantiles.assign(**{"class": quantiles["class"].astype(str)})
    classes = sorted(c for c in df["class"].unique() if c != "all")
    if not classes:
        raise ValueError("gateway wait quantiles hold no class")
    palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", *FALLBACK_COLORS]
    colors = {c: palette[i % len(palette)] for i, c in enumerate(classes)}
    overall = df[df["class"] == "all"]
    if overall.empty:
        overall = df[df["class"] == classes[0]]
    if title is None:
        q, w = overall["quantile"].to_numpy(dtype=float), overall["wait_s"].to_numpy(dtype=float)
        text = f"95 % of access requests wait under {format_duration(float(np.interp(0.95, q, w)))}"
        per_class = df.drop_duplicates("class").set_index("class").loc[classes]
        known = np.isfinite(per_class["sla_s"].to_numpy(dtype=float))
        if known.any():
            share = per_class["over_sla"].to_numpy(dtype=float)[known].sum() / per_class["requests"].to_numpy(
                dtype=float)[known].sum()
            text += f"; {100 * share:.1f} % exceed their SLA"
        title = text
    if subject:
        title = f"{subject}: {title}"
    fig = new_figure((8, 4.5))
    ax = fig.add_subplot()
    handles = []
    for c in classes:
        rows = df[df["class"] == c]
        sla = float(rows["sla_s"].iloc[0])
        (line,) = ax.step(rows["wait_s"].to_numpy(dtype=float) / 60.0, rows["quantile"].to_numpy(dtype=float) * 100,
                          where="post", color=colors[c], linewidth=1.8,
                          label=f"{c} (n = {format_count(int(rows['requests'].iloc[0]))})")
        handles.append(line)
        if np.isfinite(sla):
            ax.axvline(sla / 60.0, color=colors[c], linestyle=":", linewidth=1.5)
            handles.append(Line2D([], [], color=colors[c], linestyle=":", label=f"SLA {c}: {format_duration(sla)}"))
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlim(left=0)
    ax.set_ylim(0, 100)
    ax.set_xlabel("Total wait before a decision (minutes, linear below 1 min, log above)")
    ax.set_ylabel("Access requests waiting at most this long (%)")
    ax.set_title(title, loc="left")
    ax.legend(handles=handles, loc="lower right", frameon=False)
    apply_style(ax, grid_axis="both")
    return fig
