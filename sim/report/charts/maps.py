"""Map of Europe: user round trip by country, the sites, and the biggest data flows.

Drawn from the outline shipped in ``sim/data/europe_outline.json`` (Natural Earth 1:110m,
public domain); nothing is downloaded. The projection is equirectangular with the x axis
scaled by cos(52 deg) so that central Europe keeps its shape; axes are in degrees.

Countries of the user base are coloured by request-weighted mean round-trip time (ms); countries
too small for the outline (e.g. MT, LI) get a coloured dot at their reference point. Sites are
marked in their fixed colour. Flows (TB per year) are lines whose width grows with the volume;
endpoints outside the frame (virginia, singapore, export destinations such as US, SG, CN) are
placed on the frame edge in their direction and drawn as arrows leaving the map with a label.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Polygon

from sim import reference
from sim.report.charts.style import apply_style, new_figure, site_color
from sim.report.format import format_number

__all__ = ["europe_outline", "europe_map_chart", "request_weighted_rtt", "OFF_MAP_POINTS"]

#: Reference points (lat, lon) of destinations outside Europe that exports and legacy sites use.
OFF_MAP_POINTS: dict[str, tuple[float, float]] = {
    "US": (38.9, -77.0),
    "SG": (1.35, 103.8),
    "CN": (39.9, 116.4),
    "IN": (28.6, 77.2),
    "JP": (35.7, 139.7),
    "BR": (-15.8, -47.9),
    "AU": (-35.3, 149.1),
    "CA": (45.4, -75.7),
}

#: Colour and line style of a flow kind.
FLOW_STYLES: dict[str, tuple[str, str]] = {
    "migration": ("#CC79A7", "-"),
    "replication": ("#0072B2", "--"),
    "export": ("#D55E00", "-"),
}

_CENTRE = (10.0, 52.0)  # lon, lat from which off-map directions are taken
_X_SCALE = float(np.cos(np.radians(52.0)))


@functools.cache
def europe_outline() -> dict[str, Any]:
    """The shipped outline: ``{"source", "frame_lon_lat", "countries": {code: {...}}}``."""
    text = resources.files("sim.reference.data").joinpath("europe_outline.json").read_text(encoding="utf-8")
    return json.loads(text)


def request_weighted_rtt(latency: pd.DataFrame) -> pd.Series:
    """Request-weighted mean RTT (ms) per country: sum(rtt x share) / sum(share).

    Args:
        latency: Columns ``country``, ``rtt_ms`` and ``share_of_requests``; several
            replications are pooled (the weights stay per replication).

    Returns:
        Series indexed by country code; countries with zero total share are dropped.
    """
    w = latency["share_of_requests"].astype(float)
    df = latency.assign(weighted=latency["rtt_ms"].astype(float) * w, w=w)
    g = df.groupby("country")[["weighted", "w"]].sum()
    g = g[g["w"] > 0]
    return (g["weighted"] / g["w"]).rename("rtt_ms")


def _xy(lon: float, lat: float) -> tuple[float, float]:
    return lon * _X_SCALE, lat


def _edge_point(lon: float, lat: float, frame: tuple[float, float, float, float]) -> tuple[float, float]:
    """Where the straight line from the map centre towards (lon, lat) leaves the frame."""
    lon0, lat0 = _CENTRE
    lo_min, la_min, lo_max, la_max = frame
    dx, dy = lon - lon0, lat - lat0
    ts = []
    if dx > 0:
        ts.append((lo_max - lon0) / dx)
    if dx < 0:
        ts.append((lo_min - lon0) / dx)
    if dy > 0:
        ts.append((la_max - lat0) / dy)
    if dy < 0:
        ts.append((la_min - lat0) / dy)
    t = min(ts) if ts else 0.0
    return lon0 + t * dx, lat0 + t * dy


def _inside(lon: float, lat: float, frame: tuple[float, float, float, float]) -> bool:
    return frame[0] <= lon <= frame[2] and frame[1] <= lat <= frame[3]


def _endpoint(name: str, sites: Mapping[str, tuple[float, float]]) -> tuple[float, float] | None:
    """(lat, lon) of a site id, a country of the user base or a known off-map destination."""
    if name in sites:
        return sites[name]
    if name in OFF_MAP_POINTS:
        return OFF_MAP_POINTS[name]
    country = reference.countries().get(name)
    if country is not None:
        return country.lat, country.lon
    return None


def europe_map_chart(
    latency: pd.DataFrame,
    sites: Mapping[str, tuple[float, float]],
    flows: pd.DataFrame | None = None,
    *,
    max_flows: int = 8,
    rtt_range: tuple[float, float] | None = None,
    title: str | None = None,
    subject: str | None = None,
) -> Figure:
    """Choropleth of request-weighted RTT by country, with site markers and the biggest flows.

    Args:
        latency: Columns ``country``, ``rtt_ms``, ``share_of_requests`` (latency.csv).
        sites: Site id -> (lat, lon) in degrees, for every site to mark.
        flows: Columns ``source``, ``destination``, ``kind`` and ``tb_per_year``; the
            ``max_flows`` largest are drawn. Endpoints are site ids, country codes of the user
            base or destinations such as US, SG, CN.
        max_flows: How many flows to draw at most.
        rtt_range: (vmin, vmax) of the colour scale in ms; share it across maps to compare them.
        title: Default states the median country RTT and the slowest country.
        subject: Prefix of the title, e.g. the scenario name ("clover: ...").

    Returns:
        Figure with one map Axes and a colour bar.

    Raises:
        ValueError: If ``latency`` lacks a column or has no country with requests.
    """
    missing = [c for c in ("country", "rtt_ms", "share_of_requests") if c not in latency.columns]
    if missing:
        raise ValueError(f"latency is missing column(s) {missing}")
    rtt = request_weighted_rtt(latency)
    if rtt.empty:
        raise ValueError("latency has no country with a positive share of requests")
    outline = europe_outline()
    frame = tuple(float(v) for v in outline["frame_lon_lat"])
    vmin, vmax = rtt_range or (float(rtt.min()), float(rtt.max()))
    if vmax <= vmin:
        vmax = vmin + 1.0
    norm = Normalize(vmin=vmin, vmax=vmax)
    cmap = colormaps["YlOrRd"]

    if title is None:
        slowest = str(rtt.idxmax())
        title = (f"Median country round trip {format_number(float(rtt.median()))} ms; "
                 f"slowest {slowest} at {format_number(float(rtt.max()))} ms")
    if subject:
        title = f"{subject}: {title}"
    placed: list[tuple[float, float]] = []

    def offset(x: float, y: float) -> float:
        """Vertical label offset (points) that keeps labels at nearby points apart."""
        near = sum(1 for px, py in placed if abs(px - x) < 4.0 and abs(py - y) < 2.0)
        placed.append((x, y))
        return 5.0 - 14.0 * near

    fig = new_figure((10, 8))
    ax = fig.add_subplot()
    ax.set_facecolor("#EAF2F8")
    drawn: set[str] = set()
    for code, country in outline["countries"].items():
        value = rtt.get(code)
        if value is not None:
            face, edge = cmap(norm(value)), "#555555"
            drawn.add(code)
        elif country.get("in_scope"):
            face, edge = "#FFFFFF", "#888888"
        else:
            face, edge = "#E4E4E4", "#BBBBBB"
        for ring in country["rings"]:
            pts = np.array([_xy(lon, lat) for lon, lat in ring])
            ax.add_patch(Polygon(pts, closed=True, facecolor=face, edgecolor=edge, linewidth=0.5, zorder=1))
    # Countries of the user base too small for the 1:110m outline: a coloured dot.
    for code, value in rtt.items():
        if code in drawn:
            continue
        ref = reference.countries().get(str(code))
        if ref is None or not _inside(ref.lon, ref.lat, frame):
            continue
        x, y = _xy(ref.lon, ref.lat)
        ax.scatter([x], [y], s=40, color=cmap(norm(value)), edgecolor="#555555", linewidth=0.6, zorder=3)
        ax.annotate(str(code), (x, y), xytext=(4, -8), textcoords="offset points", fontsize=7)

    handles: list[Any] = []
    # Flows first (under the site markers).
    off_map_notes: list[str] = []
    edge_labels: set[str] = set()
    site_points = []
    for site, (lat, lon) in sites.items():
        inside = _inside(lon, lat, frame)
        plon, plat = (lon, lat) if inside else _edge_point(lon, lat, frame)
        site_points.append((site, inside, *_xy(plon, plat)))
    for _, _, x, y in site_points:
        placed.append((x, y))
    if flows is not None and not flows.empty:
        agg = (flows.groupby(["source", "destination", "kind"], as_index=False)["tb_per_year"].sum()
               .sort_values("tb_per_year", ascending=False, kind="stable"))
        agg = agg[agg["tb_per_year"] > 0].head(max_flows)
        biggest = float(agg["tb_per_year"].max()) if not agg.empty else 1.0
        kinds_drawn: list[str] = []
        for row in agg.itertuples(index=False):
            a, b = _endpoint(str(row.source), sites), _endpoint(str(row.destination), sites)
            label = f"{row.source} \u2192 {row.destination}: {format_number(float(row.tb_per_year))} TB/yr ({row.kind})"
            if a is None or b is None:
                off_map_notes.append(label)
                continue
            a_in, b_in = _inside(a[1], a[0], frame), _inside(b[1], b[0], frame)
            if not a_in and not b_in:
                off_map_notes.append(label)
                continue
            pa = (a[1], a[0]) if a_in else _edge_point(a[1], a[0], frame)
            pb = (b[1], b[0]) if b_in else _edge_point(b[1], b[0], frame)
            color, style = FLOW_STYLES.get(str(row.kind), ("#444444", "-"))
            width = 1.0 + 5.0 * float(row.tb_per_year) / biggest
            arrow = FancyArrowPatch(_xy(*pa), _xy(*pb), arrowstyle="-|>", mutation_scale=10 + 2 * width,
                                    connectionstyle="arc3,rad=0.15", color=color, linestyle=style,
                                    linewidth=width, alpha=0.85, zorder=4, shrinkA=4, shrinkB=4)
            ax.add_patch(arrow)
            mx, my = _xy((pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2)
            ax.annotate(f"{format_number(float(row.tb_per_year))} TB/yr", (mx, my), fontsize=7, color=color,
                        ha="center", va="bottom", zorder=6,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7})
            if row.kind not in kinds_drawn:
                kinds_drawn.append(str(row.kind))
            for name, p, inside in ((row.source, a, a_in), (row.destination, b, b_in)):
                if not inside and str(name) not in sites and str(name) not in edge_labels:
                    edge_labels.add(str(name))
                    ex, ey = _xy(*_edge_point(p[1], p[0], frame))
                    ax.annotate(f"{name} (off map)", (ex, ey), fontsize=8, fontweight="bold",
                                ha="right" if ex > 0 else "left", va="bottom", xytext=(4 if ex <= 0 else -4, offset(ex, ey)),
                                textcoords="offset points", zorder=7,
                                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#888888", "alpha": 0.85})
        for kind in kinds_drawn:
            color, style = FLOW_STYLES.get(kind, ("#444444", "-"))
            handles.append(Line2D([], [], color=color, linestyle=style, linewidth=2.5, label=f"{kind} flow"))

    placed.clear()
    for site, inside, x, y in site_points:
        marker = "o" if inside else "D"
        ax.scatter([x], [y], s=110, marker=marker, color=site_color(site), edgecolor="black", linewidth=1.0,
                   zorder=8)
        text = site if inside else f"{site} (off map)"
        ax.annotate(text, (x, y), xytext=(6 if x < _xy(40, 0)[0] else -6, offset(x, y)), textcoords="offset points",
                    ha="left" if x < _xy(40, 0)[0] else "right", fontsize=9, fontweight="bold", zorder=9,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": site_color(site), "alpha": 0.85})
        handles.append(Line2D([], [], marker=marker, linestyle="none", markersize=8, color=site_color(site),
                              markeredgecolor="black", label=f"site {site}"))
    if off_map_notes:
        ax.text(0.01, 0.01, "Flows between points outside the map:\n" + "\n".join(off_map_notes),
                transform=ax.transAxes, fontsize=7, va="bottom", ha="left", zorder=10,
                bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#888888", "alpha": 0.9})

    x0, y0 = _xy(frame[0], frame[1])
    x1, y1 = _xy(frame[2], frame[3])
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ticks = np.arange(-20, 45, 10)
    ax.set_xticks(ticks * _X_SCALE, [f"{t}" for t in ticks])
    ax.set_xlabel("Longitude (degrees east)")
    ax.set_ylabel("Latitude (degrees north)")
    ax.set_title(title, loc="left")
    sm = fig.colorbar(_scalar_mappable(norm, cmap), ax=ax, shrink=0.6, pad=0.02, location="bottom",
                      aspect=40)
    sm.set_label("Request-weighted mean round-trip time by country (ms)")
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    apply_style(ax, grid_axis="both")
    ax.grid(True, color="#FFFFFF", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)
    return fig


def _scalar_mappable(norm: Normalize, cmap: Any) -> Any:
    from matplotlib.cm import ScalarMappable

    sm = ScalarMappable(norm=norm, cmap=cmap)
    sm.set_array([])
    return sm
