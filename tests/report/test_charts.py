"""Tests for sim.report.charts and sim.report.charts.style."""

from __future__ import annotations

import matplotlib.colors as mcolors
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from sim.report.charts import cost_by_site_chart, rtt_by_country_chart, stored_by_site_chart
from sim.report.charts.style import (
    CATEGORY_COLORS,
    POLICY_COLORS,
    SITE_COLORS,
    category_color,
    policy_color,
    site_color,
)


def _save_png(fig: Figure, path) -> None:
    fig.savefig(path, format="png", dpi=50)
    assert path.stat().st_size > 0


# --- stored_by_site_chart ---------------------------------------------------


@pytest.fixture
def placement() -> pd.DataFrame:
    times = pd.date_range("2030-01-01", periods=3, freq="D", tz="UTC")
    rows = []
    for i, t in enumerate(times):
        # Last time point: hamar 300+300 TB, dublin 250 TB, lahti 150 TB -> 1 PB, 60 % hamar.
        rows += [
            (t, "hamar", "personal", 100.0 * (i + 1)),
            (t, "hamar", "telemetry", 100.0 * (i + 1)),
            (t, "dublin", "personal", 250.0),
        ]
        if i > 0:  # lahti absent at the first time point
            rows.append((t, "lahti", "personal", 150.0))
    return pd.DataFrame(rows, columns=["time", "site", "data_class", "stored_tb"])


def test_stored_by_site_chart(placement, tmp_path):
    fig = stored_by_site_chart(placement)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    areas = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(areas) == 3  # one stacked series per site
    assert ax.get_title(loc="left") == "Stored data reaches 1 PB, 60 % in hamar"
    assert "PB" in ax.get_ylabel()
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"hamar", "dublin", "lahti"}
    # Top of the stack at the last time point equals the total in PB.
    assert ax.get_ylim()[1] >= 1.0
    _save_png(fig, tmp_path / "stored.png")


def test_stored_by_site_chart_naive_times_and_custom_title(placement):
    naive = placement.assign(time=placement["time"].dt.tz_localize(None))
    fig = stored_by_site_chart(naive, title="Custom")
    assert fig.axes[0].get_title(loc="left") == "Custom"


def test_stored_by_site_chart_single_time_point(tmp_path):
    one = pd.DataFrame(
        {"time": [pd.Timestamp("2030-01-01")], "site": ["hamar"], "data_class": ["x"], "stored_tb": [5.0]}
    )
    fig = stored_by_site_chart(one)
    # below 1, two significant figures (sim.report.format.format_number): 5 TB is 0.005 PB, not 0.01
    assert fig.axes[0].get_title(loc="left") == "Stored data reaches 0.005 PB, 100 % in hamar"
    _save_png(fig, tmp_path / "one.png")


# --- cost_by_site_chart -----------------------------------------------------


@pytest.fixture
def costs() -> pd.DataFrame:
    rows = [
        ("hamar", "energy", 300e6),
        ("hamar", "servers", 200e6),
        ("dublin", "energy", 150e6),
        ("dublin", "staff", 100e6),
        ("programme", "oversight", 80e6),
        ("programme", "oversight", 20e6),  # duplicate rows are summed
        ("programme", "gateway", 280e6),
    ]  # total 1.13 bn -> 5.83 % below 1.2 bn
    return pd.DataFrame(rows, columns=["site", "category", "eur_per_year"])


def test_cost_by_site_chart(costs, tmp_path):
    fig = cost_by_site_chart(costs)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert ax.get_title(loc="left") == "Total EUR 1.13 bn a year, 6 % below the reference EUR 1.2 bn"
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(bars) == 5  # one per category
    assert all(len(b) == 4 for b in bars)  # dublin, hamar, programme, total
    assert [t.get_text() for t in ax.get_xticklabels()] == ["dublin", "hamar", "programme", "total"]
    # The total bar's stack height equals the sum (EUR million).
    total_height = sum(b.patches[-1].get_height() for b in bars)
    assert total_height == pytest.approx(1130.0)
    dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(dashed) == 1
    assert dashed[0].get_ydata()[0] == pytest.approx(1200.0)
    assert [t.get_text() for t in ax.get_legend().get_texts()][-1] == "reference figure"  # neutral default
    assert "EUR million" in ax.get_ylabel()
    _save_png(fig, tmp_path / "costs.png")


def test_cost_by_site_chart_above_reference(costs):
    fig = cost_by_site_chart(costs, reference_eur_per_year=1.0e9, reference_label="Ref")
    assert fig.axes[0].get_title(loc="left") == "Total EUR 1.13 bn a year, 13 % above the reference EUR 1 bn"


# --- rtt_by_country_chart ---------------------------------------------------


@pytest.fixture
def latency() -> pd.DataFrame:
    rows = [
        ("IE", "dublin", 5.0, 1.0),
        ("NO", "hamar", 10.0, 0.5),
        ("NO", "dublin", 30.0, 0.5),  # NO mean 20 ms
        ("DE", "hamar", 30.0, 0.25),
        ("DE", "kouvola", 10.0, 0.75),  # DE mean 15 ms
        ("CY", "hamar", 71.0, 1.0),
    ]
    return pd.DataFrame(rows, columns=["country", "site", "rtt_ms", "share_of_requests"])


def test_rtt_by_country_chart(latency, tmp_path):
    fibre = pd.DataFrame({"country": ["IE", "DE", "CY"], "rtt_ms": [1.0, 8.0, 40.0]})
    fig = rtt_by_country_chart(latency, fibre_min=fibre)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    # Means: IE 5, DE 15, NO 20, CY 71 -> median 17.5.
    assert ax.get_title(loc="left") == "Median country round trip 17.5 ms; slowest CY at 71 ms"
    bars = ax.containers[0]
    assert len(bars) == 4  # one bar per country
    assert [p.get_height() for p in bars] == pytest.approx([5.0, 15.0, 20.0, 71.0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["IE", "DE", "NO", "CY"]
    # Bars coloured by the site serving most requests.
    assert mcolors.same_color(bars[1].get_facecolor(), site_color("kouvola"))
    (markers,) = ax.get_lines()
    ydata = markers.get_ydata()
    assert list(ydata[[0, 1, 3]]) == [1.0, 8.0, 40.0]
    assert pd.isna(ydata[2])  # no fibre minimum for NO
    _save_png(fig, tmp_path / "rtt.png")


def test_rtt_by_country_legend_says_which_site_serves_each_country(latency):
    noisy = pd.concat([latency, pd.DataFrame([("IE", "hamar", 25.0, 1e-16)], columns=latency.columns)])
    fig = rtt_by_country_chart(noisy, fibre_min=pd.DataFrame({"country": ["IE"], "rtt_ms": [1.0]}))
    texts = [t.get_text().replace("\n", " ") for t in fig.axes[0].get_legend().get_texts()]
    # one entry per serving mix, in site-palette order of the main site, single sites first;
    # a share of 1e-16 (rounding) is not a serving site
    assert texts == ["dublin: IE", "hamar: CY", "hamar 50 % + dublin 50 %: NO", "kouvola 75 % + hamar 25 %: DE",
                     "Fibre minimum"]
    handles = fig.axes[0].get_legend().legend_handles
    assert mcolors.same_color(handles[3].get_facecolor(), site_color("kouvola"))


def test_rtt_by_country_bars_add_the_access_network(latency):
    access = {"IE": 20.0, "NO": 30.0, "DE": 25.0, "CY": 40.0}  # NO 20 + 30 = 50 > DE 15 + 25 = 40
    fig = rtt_by_country_chart(latency.assign(access_ms_mean=latency["country"].map(access)))
    ax = fig.axes[0]
    network, added = ax.containers[0], ax.containers[1]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["IE", "DE", "NO", "CY"]  # sorted by what users see
    assert [p.get_height() for p in network] == pytest.approx([5.0, 15.0, 20.0, 71.0])
    assert [p.get_height() for p in added] == pytest.approx([20.0, 25.0, 30.0, 40.0])
    assert [p.get_y() for p in added] == pytest.approx([5.0, 15.0, 20.0, 71.0])  # stacked on the network path
    assert ax.get_title(loc="left") == "Median country round trip 45 ms; slowest CY at 111 ms"
    assert "access network" in fig.axes[0].get_legend().get_texts()[-1].get_text()


def test_rtt_by_country_chart_without_fibre(latency):
    fig = rtt_by_country_chart(latency)
    assert fig.axes[0].get_lines() == []


# --- errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("func", "columns"),
    [
        (stored_by_site_chart, ["time", "site", "data_class", "stored_tb"]),
        (cost_by_site_chart, ["site", "category", "eur_per_year"]),
        (rtt_by_country_chart, ["country", "site", "rtt_ms", "share_of_requests"]),
    ],
)
def test_empty_frame_raises(func, columns):
    with pytest.raises(ValueError, match="is empty"):
        func(pd.DataFrame(columns=columns))


def test_missing_column_raises(costs):
    with pytest.raises(ValueError, match=r"missing column\(s\) \['eur_per_year'\]"):
        cost_by_site_chart(costs.drop(columns="eur_per_year"))


def test_zero_share_raises(latency):
    bad = latency.assign(share_of_requests=0.0)
    with pytest.raises(ValueError, match="zero total share"):
        rtt_by_country_chart(bad)


# --- style ------------------------------------------------------------------


def test_palette_colours_distinct_and_valid():
    for table in (SITE_COLORS, POLICY_COLORS, CATEGORY_COLORS):
        assert len(set(table.values())) == len(table)
        assert all(mcolors.is_color_like(c) for c in table.values())
    assert site_color("Hamar") == SITE_COLORS["hamar"]
    assert policy_color("nearest_in_zone") == POLICY_COLORS["nearest_in_zone"]
    assert category_color("energy") == CATEGORY_COLORS["energy"]


def test_unknown_names_get_deterministic_fallback():
    c = site_color("reykjavik")
    assert mcolors.is_color_like(c)
    assert c == site_color("reykjavik") == category_color("reykjavik")
    assert c not in SITE_COLORS.values()


@pytest.mark.parametrize(
    ("overrides", "label"),
    [
        ((), "Published Clover figure EUR 1.2 bn/yr"),  # clover.toml's costs.reference_label
        (("costs.reference_eur_per_year=9e8", 'costs.reference_label="Board target"'), "Board target EUR 900 M/yr"),
    ],
)
def test_the_run_cost_chart_names_the_scenarios_reference(overrides: tuple[str, ...], label: str) -> None:
    """Measured before: the chart said 'Published Clover figure EUR 1.2 bn/yr' whatever the reference was."""
    from sim import simulate
    from sim.report.files import result_charts
    from tests.conftest import short

    sc = short("clover.toml", "gateway.enabled=false", *overrides, days=2, step_minutes=360)
    figs = result_charts(simulate(sc, seed=0))
    ax = figs["cost_by_site.png"].axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()][-1] == label
    dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert dashed[0].get_ydata()[0] == pytest.approx(sc.costs.reference_eur_per_year / 1e6)
