"""Page one of the leadership report: the question, the answer with its range, the figures, the charts.

The three cases of the answer's range are checked on copies of a real short run whose summary.json
is edited by hand: the assumption range and its two largest drivers (a run made with
``--uncertainty N``), the stochastic 95 % interval (several replications), nothing (neither).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from sim.report import leadership
from sim.report.charts.report import (
    cost_comparison_chart,
    data_location_chart,
    leaving_zone_chart,
    residency_over_time_chart,
)
from sim.report.format import format_change, format_eur, format_span, round_to_range
from sim.report.leadership.assumptions import range_text
from sim.report.leadership.runs import RunFolder
from sim.report.leadership.summary import build_summary, comparison_kind, question_for, range_phrase
from sim.results import kpis as catalogue
from tests.conftest import SCENARIOS
from tests.report.conftest import copy_run

COST = "cost_eur_per_year"
DRIVERS = [
    {"input": "compute.server_amortisation_years", "rank_correlation": -0.83, "sobol_first": 0.6, "sobol_total": 0.7},
    {"input": "compute.core_s_per_request", "rank_correlation": 0.55, "sobol_first": 0.2, "sobol_total": 0.25},
    {"input": "sites.hamar.pue", "rank_correlation": 0.1, "sobol_first": None, "sobol_total": None},
]


def _words(text: str) -> str:
    return " ".join(text.split())


def _with_range(summary: dict, *, drivers: bool = True) -> None:
    summary["kpis"][COST]["assumption_range"] = {"p5": 0.93e9, "p50": 1.21e9, "p95": 1.62e9}
    summary["kpis"]["user_rtt_ms_p50"]["assumption_range"] = None  # as written for a KPI no input set reported
    if drivers:
        summary["drivers"] = {COST: DRIVERS}
    summary["uncertainty"] = {"input_sets": 200, "runs_ok": 200}


def _single(summary: dict) -> None:
    summary["replications"] = 1
    for row in summary["kpis"].values():
        row["ci95_low"] = row["ci95_high"] = row["mean"]


def _page_one_pdf_text(report: leadership.Report, tmp_path: Path) -> str:
    """The first page of the PDF of page one alone (the same content the full report's PDF starts with)."""
    pypdf = pytest.importorskip("pypdf", reason="pypdf is a dev dependency")
    alone = leadership.Report(report.title, report.subtitle, [], report.generated, summary=report.summary)
    pdf = leadership.render_pdf(alone, tmp_path / "page_one.pdf")
    return _words(pypdf.PdfReader(pdf).pages[0].extract_text())


@pytest.mark.parametrize("case", ["assumption", "assumption_no_drivers", "stochastic", "neither"])
def test_answer_states_the_range_it_has(case: str, short_runs: dict[str, Path], tmp_path: Path) -> None:
    edit = {"assumption": _with_range, "assumption_no_drivers": lambda s: _with_range(s, drivers=False),
            "stochastic": lambda s: None, "neither": _single}[case]
    clover = copy_run(short_runs["clover"], tmp_path / "clover", edit)
    if case == "assumption":  # the whole report: its appendix gains the drivers section
        report = leadership.build_report([clover, short_runs["pre_clover"]], scenario_dir=SCENARIOS)
    else:  # page one alone is enough (and much faster)
        runs = [leadership.load_run(clover), leadership.load_run(short_runs["pre_clover"])]
        summary = build_summary(comparison_kind(runs, runs[leadership.choose_baseline(runs)]))
        report = leadership.Report("t", "s", [], "g", summary=summary)
    answer = report.summary.answer
    cost_figure = report.summary.figures[0]
    assert cost_figure.label == "Yearly cost"
    if case == "assumption":
        # the example of the issue: EUR 1.2 bn a year, 90 % range 0.9-1.6 bn, driven by its two largest drivers
        assert "(90 % range EUR 0.9-1.6 bn/yr, driven by server life and compute per request)" in answer
        assert cost_figure.note == "90 % range EUR 0.9-1.6 bn/yr, driven by server life and compute per request"
        assert "PUE" not in answer  # only the two largest
        mean = leadership.load_run(clover).kpi(COST)
        rounded = format_eur(round_to_range(mean, 0.93e9, 1.62e9))  # two significant figures: what the range supports
        assert f"costs {rounded} a year (" in answer and rounded != format_eur(mean)
        assert any("200 input sets" in n for n in report.summary.notes)
        drivers = report.section("drivers")
        table = next(b for b in drivers.blocks if isinstance(b, leadership.Table))
        assert [row[2] for row in table.rows] == ["server life", "compute per request", "PUE (hamar)"]
        assert table.rows[0][4] == "-0.83" and table.rows[2][5] == "\u2013"
    elif case == "assumption_no_drivers":
        assert "(90 % range EUR 0.9-1.6 bn/yr)" in answer and "driven by" not in answer
    elif case == "stochastic":
        assert re.search(r"a year \(95 % interval .+ over 2 replications\)", answer), answer
        assert "90 % range" not in answer and "95 % interval" in cost_figure.note
    else:
        assert re.search(r"costs EUR [\d.]+ (bn|M) a year, EUR", answer), answer
        assert "range" not in answer and "interval" not in answer and cost_figure.note == ""
        assert any("without a range" in n for n in report.summary.notes)
    # the HTML page and the PDF's first page state the same sentence
    html_text = leadership.render_html(leadership.Report(report.title, report.subtitle, [], report.generated,
                                                         summary=report.summary))
    page_one = html_text[html_text.index('id="summary"'):html_text.index('id="appendix"')]
    assert _words(answer).replace("&", "&amp;").replace("'", "&#39;") in _words(page_one)
    assert _words(answer) in _page_one_pdf_text(report, tmp_path)


def test_three_runs_side_by_side_against_one_baseline(short_runs: dict[str, Path], tmp_path: Path) -> None:
    """Two ways to keep data in its zone and the old layout: the cheaper way answers, all three are charted."""

    def cheaper(summary: dict) -> None:
        summary["scenario"] = "nearest"
        summary["resolved_scenario"]["policy"]["placement"] = "nearest_in_zone"
        summary["kpis"][COST]["mean"] *= 0.9

    nearest = copy_run(short_runs["clover"], tmp_path / "nearest", cheaper)
    report = leadership.build_report([short_runs["clover"], nearest, short_runs["pre_clover"]], scenario_dir=SCENARIOS)
    assert report.baseline == "pre_clover"
    assert report.summary.answer.startswith("Of the 2 ways to keep TikTok's user data in Europe, nearest costs least:")
    cost_chart = report.summary.charts[0].figure
    labels = [t.get_text() for t in cost_chart.axes[0].get_yticklabels()]
    assert labels == ["clover", "nearest", "pre_clover\n(baseline)"]  # top to bottom: the compared runs, the baseline
    compare = next(b for b in report.section("comparison").blocks if isinstance(b, leadership.Table))
    assert compare.columns[:4] == ["Figure", "pre_clover (baseline)", "clover", "nearest"]
    assert compare.columns[4:6] == ["clover vs pre_clover", "nearest vs pre_clover"]


def test_timeline_gets_residency_over_time_and_cost_by_year_on_page_one(short_runs: dict[str, Path],
                                                                         tmp_path: Path) -> None:
    def moving(summary: dict) -> None:
        summary["scenario"] = "clover_timeline"
        summary["resolved_scenario"]["policy"].update(start_placement="pre_clover", start_sites=["virginia", "singapore"])
        summary["kpis"]["residency_99_date"]["mean"] = None

    timeline = copy_run(short_runs["clover"], tmp_path / "clover_timeline", moving)
    by_year = pd.read_csv(timeline / "costs_by_year.csv")
    pd.concat([by_year, by_year.assign(year=by_year["year"] + 1)]).to_csv(timeline / "costs_by_year.csv", index=False)
    report = leadership.build_report([timeline, short_runs["pre_clover"]], scenario_dir=SCENARIOS)
    summary = report.summary
    assert summary.question == "How fast does TikTok's user data reach Europe, and what does the move cost?"
    alts = [c.alt for c in summary.charts]
    assert "over time" in alts[0] and "cost per calendar year" in alts[1] and len(alts) == 3
    assert "(99 % not reached in the run)" in summary.answer


def _run(name: str, policy: str, *, gateway: bool = True, reps: int = 1, **values: float) -> RunFolder:
    kpis = {n: {"mean": v, "ci95_low": v, "ci95_high": v, "unit": catalogue.unit(n)} for n, v in values.items()}
    return RunFolder(Path("/nonexistent") / name, {
        "scenario": name, "replications": reps, "kpis": kpis,
        "resolved_scenario": {"name": name, "policy": {"placement": policy}, "gateway": {"enabled": gateway},
                              "company": {"name": "Acme"}, "data_classes": {"p": {"residency": "dach"}},
                              "zones": {"dach": {"countries": ["DE", "AT", "CH"], "label": "the DACH region"}}}})


def test_the_question_comes_from_the_runs() -> None:
    old = _run("pre_clover", "pre_clover", gateway=False, cost_eur_per_year=1.0e9, residency_share=0.0)
    new = _run("clover", "clover", cost_eur_per_year=1.2e9, residency_share=1.0)
    cheap = _run("cost_optimal", "cost_optimal", cost_eur_per_year=1.1e9, residency_share=1.0)
    outage = _run("dublin_outage", "clover", cost_eur_per_year=1.21e9, residency_share=1.0,
                  unavailable_request_share=0.002)
    roles = comparison_kind([new, old], old)
    assert roles.kind == "residency" and roles.focus is new
    # the texts come from the scenario: its company and the label of its zone
    assert question_for(roles) == "What does keeping Acme's user data in the DACH region cost, and what does it buy?"
    roles = comparison_kind([new, cheap], new)
    assert roles.kind == "policies" and roles.focus is cheap
    assert question_for(roles) == "Which placement serves Acme's users at the lowest cost, and what does it give up?"
    roles = comparison_kind([new, outage], new)
    assert roles.kind == "whatif" and question_for(roles) == "What would dublin_outage change against clover?"
    summary = build_summary(roles)
    assert "requests not served 0.20 %" in summary.answer
    assert [f.label for f in summary.figures][:2] == ["Yearly cost", "Requests not served"]
    roles = comparison_kind([new], None)
    assert roles.kind == "single" and question_for(roles).startswith("What does clover cost a year")
    assert leadership.choose_baseline([new, cheap]) == 0  # no pre_clover run: the first folder


def test_rows_that_do_not_apply() -> None:
    old = _run("pre_clover", "pre_clover", gateway=False, gateway_wait_s_p95=0.0, unavailable_request_share=0.0,
               cost_eur_per_year=1e9, failover_rtt_ms_p95=None)  # type: ignore[arg-type]
    assert old.applies("cost_eur_per_year")
    assert not old.applies("gateway_wait_s_p95")  # no gateway: the zero is not a wait
    assert not old.applies("unavailable_request_share")  # nothing failed
    assert not old.applies("failover_rtt_ms_p95")  # no value
    assert not old.applies("energy_mwh_per_year")  # not reported


def test_range_phrases_and_rounding() -> None:
    spread = leadership.Spread("assumption", 0.93e9, 1.62e9, 200, ("compute.server_amortisation_years",))
    assert range_phrase(spread, "EUR/yr") == "90 % range EUR 0.9-1.6 bn/yr, driven by server life"
    stochastic = leadership.Spread("stochastic", 1.10690e9, 1.10696e9, 3)
    assert range_phrase(stochastic, "EUR/yr", 1.10693e9) == "95 % interval \u00b10.0027 % over 3 replications"
    assert range_phrase(leadership.Spread("stochastic", 322.3, 328.1, 5), "TB/yr") == \
        "95 % interval 322-328 TB/yr over 5 replications"
    assert range_phrase(leadership.Spread("stochastic", 1.0, 1.0, 5), "share") == "no spread over 5 replications"
    assert range_phrase(None, "EUR/yr") == ""
    assert format_span(0.93e9, 1.62e9, "EUR/yr") == "EUR 0.9-1.6 bn/yr"
    assert format_span(0.85e9, 1.2e9, "EUR/yr") == "EUR 0.9-1.2 bn/yr"  # one scale for both ends
    assert format_span(0.985, 0.995, "share") == "98.5-99.5 %"
    assert format_span(-5, 3, "TB/yr") == "-5 to 3 TB/yr"
    assert format_span(600, 7200, "s") == "10 min to 2 h"
    assert round_to_range(1.234e9, 0.9e9, 1.6e9) == 1.2e9
    assert round_to_range(1.234e9, 1.2e9, 1.25e9) == 1.23e9
    assert round_to_range(968_681.0, 968_681.0, 968_681.0) == 969_000.0
    assert format_change(341, 968_681) == "-99.96 %"  # not zero, so never "-100 %"
    assert format_change(1.001, 1.0) == "+0.1 %" and format_change(1.0, 1.0) == "0 %"
    assert format_change(1.17, 1.0) == "+17 %"


def test_driver_and_range_labels() -> None:
    label = leadership.input_label
    assert label("compute.server_amortisation_years") == "server life"
    assert label("compute.core_s_per_request") == "compute per request"
    assert label("sites.dublin.pue") == "PUE (dublin)"
    assert label("made.up_s_per_thing") == "up seconds per thing"
    text = range_text({"dist": "triangular", "low": 3.0, "mode": 4.0, "high": 6.0, "p5": None, "source": "P/S: filings"})
    assert text == "triangular: low 3, mode 4, high 6 (P/S: filings)"


def test_page_one_charts() -> None:
    fig = cost_comparison_chart({"clover": {"servers": 0.8e9, "energy": 0.4e9}, "pre_clover": {"servers": 1.0e9}},
                                baseline="pre_clover", spreads={"clover": (0.9e9, 1.6e9)},
                                reference_eur_per_year=1.2e9, title="clover costs EUR 1.2 bn")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["clover", "pre_clover\n(baseline)"]
    assert ax.get_xlim()[1] > 1.6  # the whisker's end fits
    assert "published figure EUR 1.2 bn" in [t.get_text() for t in fig.legends[0].texts]
    fig = data_location_chart({"clover": {"dublin": 300.0, "hamar": 500.0}, "pre_clover": {"virginia": 700.0}},
                              {"dublin": True, "hamar": True, "virginia": False}, baseline="pre_clover",
                              residency={"clover": 1.0, "pre_clover": 0.0}, zone="Europe", title="t")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["100.0 % in Europe", "0.0 % in Europe"]
    assert "virginia (outside Europe)" in [t.get_text() for t in fig.legends[0].texts]
    fig = leaving_zone_chart({"clover": {"export": 341.0}, "pre_clover": {"ingest": 968_681.0}}, baseline="pre_clover",
                             title="t")
    assert fig.axes[0].get_xscale() == "log"  # 341 against ~1 million: a linear axis would hide the first
    assert [t.get_text() for t in fig.axes[0].texts] == ["341 TB/yr: exports", "969,000 TB/yr: user data written to sites abroad"]
    fig = leaving_zone_chart({"a": {}, "b": {"export": 5.0}}, title="t")
    assert fig.axes[0].get_xscale() == "linear" and "nothing leaves its zone" in [t.get_text() for t in fig.axes[0].texts]
    series = pd.Series([0.0, 0.5, 0.995], index=pd.to_datetime(["2023-01-01", "2024-01-01", "2025-01-01"]))
    fig = residency_over_time_chart({"clover_timeline": series}, title="t")
    assert fig.axes[0].get_ylim() == (0, 103) and len(fig.axes[0].lines) >= 2
    with pytest.raises(ValueError):
        cost_comparison_chart({}, title="t")
