"""The leadership report: built from real short runs, checked as HTML, PDF and in a headless browser.

Page one (``id="summary"``) must hold the decision: the question, the answer sentence, the headline
figures and the charts above the fold of a 1280x800 screen, and the whole of it on the first
printed A4 page; the appendix (``id="appendix"``) holds the analysis with a table of contents.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli.app import InputError
from sim.cli.report import cmd_report, register_cli
from sim.report import leadership
from sim.report.charts.run import wait_quantiles_from_requests
from sim.report.format import format_number, format_share
from sim.results import kpis as catalogue
from tests.conftest import SCENARIOS
from tests.report.conftest import copy_run

CHROMIUM = Path("/usr/bin/chromium")
SCRIPT = "<script>alert(1)</script>"
APPENDIX = ("runs", "headline", "comparison", "storage", "costs", "transfers", "latency", "gateway", "carbon",
            "assumptions")
DASH = "\u2013"


def _gateway_requests(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    """A per-request gateway table in the documented layout (the real one is built elsewhere)."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(["access", "transfer"], size=n, p=[0.8, 0.2])
    cls = rng.choice(["incident", "routine"], size=n, p=[0.1, 0.9])
    wait = np.where(rng.random(n) < 0.3, 0.0, rng.lognormal(np.log(1800), 1.2, size=n))
    return pd.DataFrame({
        "arrival_s": np.sort(rng.uniform(0, 3 * 86400, n)), "kind": kind, "class": cls,
        "region": rng.choice(["EEA", "US", "SG"], size=n), "wait_s": wait,
        "service_s": rng.exponential(360, n), "outcome": rng.choice(["approved", "denied"], size=n, p=[0.9, 0.1]),
    })


@pytest.fixture(scope="module")
def folders(short_runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The two short real runs, plus a clover copy named with a script tag and a gateway table of its own."""

    def hostile_edit(summary: dict) -> None:
        summary["scenario"] = SCRIPT
        summary["resolved_scenario"]["description"] = f"{SCRIPT} & <b>bold</b>"
        summary["resolved_scenario"]["gateway"]["sla_s"] = 14400.0
        summary["resolved_scenario"]["gateway"]["priority_classes"] = [
            {"name": "incident", "share": 0.1, "sla_s": 3600.0}, {"name": "routine", "share": 0.9, "sla_s": None}]

    hostile = copy_run(short_runs["clover"], tmp_path_factory.mktemp("hostile") / "hostile", hostile_edit)
    _gateway_requests().to_csv(hostile / "gateway_requests.csv", index=False)
    return {**short_runs, "hostile": hostile}


@pytest.fixture(scope="module")
def built(folders: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[leadership.Report, Path]:
    report = leadership.build_report([folders["hostile"], folders["pre_clover"]], scenario_dir=SCENARIOS)
    out = leadership.write_report(report, tmp_path_factory.mktemp("report") / "report")
    return report, out


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r'<section id="([a-z_-]+)"[^>]*>', text)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _visible(fragment: str) -> str:
    """The text a reader sees in an HTML fragment (tags and attributes dropped, entities decoded)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _words(text: str) -> str:
    return " ".join(text.split())


def test_page_one_then_the_appendix(built: tuple[leadership.Report, Path]) -> None:
    report, out = built
    text = (out / "report.html").read_text(encoding="utf-8")
    assert text.count('id="summary"') == 1 and text.count('id="appendix"') == 1
    assert text.index('id="summary"') < text.index('id="appendix"')
    sections = _sections(text)
    assert tuple(sections) == ("summary", *APPENDIX)  # no drivers section: no run has assumption ranges
    page_one = text[text.index('id="summary"'):text.index('id="appendix"')]
    summary = report.summary
    assert summary is not None and report.baseline == "pre_clover"  # the pre_clover placement is the default baseline
    assert summary.question == "What does keeping TikTok's user data in Europe cost, and what does it buy?"
    seen = _visible(page_one)
    assert html.unescape(summary.question) in seen and _words(summary.answer) in seen
    # the answer: the subject, its cost with the interval over 2 replications, the change against the baseline
    assert re.search(r"costs EUR [\d.]+ (bn|M) a year \(95 % interval .+ over 2 replications\), EUR [\d.]+ (M|bn) "
                     r"\(\d+ %\) (more|less) than pre_clover", summary.answer), summary.answer
    assert "from 0.0 % to 100.0 %" in summary.answer
    assert 3 <= len(summary.figures) <= 5
    for figure in summary.figures:
        assert html.unescape(figure.label) in seen and figure.value in seen
    assert [f.label for f in summary.figures][:3] == ["Yearly cost", "Residency-bound data held in its zone", "Data leaving its zone"]
    cost = summary.figures[0]
    assert cost.change.endswith("vs pre_clover") and cost.tone == "worse"  # clover costs more; lower is better
    assert summary.figures[1].tone == "better" and summary.figures[1].change.startswith("+100.0 pp")
    assert 2 <= len(summary.charts) <= 3 and page_one.count("<img ") == len(summary.charts)
    # the appendix: a table of contents that links every section
    appendix = text[text.index('id="appendix"'):]
    contents = re.search(r'<nav id="contents".*?</nav>', appendix, re.S)
    assert contents is not None
    assert re.findall(r'href="#([a-z_-]+)"', contents.group(0)) == list(APPENDIX)


def test_html_holds_every_chart(built: tuple[leadership.Report, Path]) -> None:
    report, out = built
    text = (out / "report.html").read_text(encoding="utf-8")
    sections = _sections(text)
    n_charts = len(report.charts)
    assert n_charts == len(report.summary.charts) + sum(len(s.charts) for s in report.sections)
    assert text.count("<img ") == n_charts
    assert len(re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', text)) == n_charts
    minimum = {"comparison": 1, "storage": 2, "costs": 2, "transfers": 2, "latency": 2, "gateway": 1, "carbon": 1}
    for sid, count in minimum.items():
        assert sections[sid].count("<img ") >= count, sid
    # The run without a gateway queue says so; the one with requests shows the wait CDF.
    assert "the run had no gateway queue" in sections["gateway"]
    legend = [t.get_text() for t in report.section("gateway").charts[0].figure.axes[0].get_legend().texts]
    assert {"SLA incident: 1 h", "SLA routine: 4 h"} <= set(legend)  # class SLA, else gateway.sla_s
    gateway_table = [b for b in report.section("gateway").blocks if isinstance(b, leadership.Table)][0]
    assert [row[4] for row in gateway_table.rows] == ["1 h", "4 h"]
    assert "95 % interval" in sections["headline"]  # two replications: intervals


def test_every_figure_speaks(built: tuple[leadership.Report, Path]) -> None:
    """Labels from the catalogue, no raw KPI name, rows that do not apply left out, one interval note."""
    report, out = built
    text = (out / "report.html").read_text(encoding="utf-8")
    sections = _sections(text)
    seen = _visible(" ".join(v for k, v in sections.items() if k != "assumptions"))  # scenario keys are its subject
    raw = [n for n in [*catalogue.CATALOGUE, *catalogue.PER_SITE]
           if re.search(rf"(?<![\w.]){re.escape(n)}(?![\w])", seen) or n.replace("_", " ") in seen]
    assert not raw, f"raw KPI names shown as labels: {raw}"
    assert "single replication" not in text and "KPI name" not in text
    tables = {b.caption.split(" (")[0]: b for b in report.section("headline").blocks if isinstance(b, leadership.Table)}
    pre, clover = tables["pre_clover"], tables[SCRIPT]
    labels_pre = [row[0] for row in pre.rows]
    assert "Yearly cost" in labels_pre and not any("Gateway" in x or "Reviewer" in x for x in labels_pre)
    assert any(row[0] == "Gateway wait, 95th percentile" for row in clover.rows)
    for table in (pre, clover):
        assert table.columns[-1] == "Better"
        for row in table.rows:
            name = next(n for n in catalogue.CATALOGUE if catalogue.label(n) == row[0])
            expected = {"lower": "lower is better", "higher": "higher is better", "neutral": ""}[catalogue.better(name)]
            assert row[-1] == expected, row
    compare = next(b for b in report.section("comparison").blocks if isinstance(b, leadership.Table))
    assert compare.columns[1] == "pre_clover (baseline)"
    gateway_row = next(r for r in compare.rows if r[0] == "Gateway wait, 95th percentile")
    assert gateway_row[1] == DASH and gateway_row[2] != DASH  # does not apply to the run without a gateway
    cost_row = next(r for r in compare.rows if r[0] == "Yearly cost")
    assert re.fullmatch(r"[+-]\d+ %", cost_row[3]), cost_row


def test_transfers_section_states_the_blocked_volume_as_the_kpi_measures_it(
        built: tuple[leadership.Report, Path], folders: dict[str, Path]) -> None:
    """Blocked exports are reported next to what leaves, at the same measuring point, with the KPI's value."""
    report, _ = built
    summary = json.loads((folders["hostile"] / "summary.json").read_text(encoding="utf-8"))
    blocked = summary["kpis"]["transfer_tb_blocked_per_year"]["mean"]
    assert blocked > 0
    lines = [b for b in report.section("transfers").blocks if isinstance(b, str) and "blocked by the gateway" in b]
    assert len(lines) == 1, report.section("transfers").blocks
    assert f"{format_number(blocked)} TB a year" in lines[0] and "at the border" in lines[0], lines[0]


def test_html_is_self_contained(built: tuple[leadership.Report, Path]) -> None:
    text = (built[1] / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.IGNORECASE)
    assert not re.search(r"<(script|link[^>]+stylesheet|iframe|object|embed)\b", text, re.IGNORECASE)
    assert "@import" not in text and "url(" not in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text


def test_user_text_is_escaped(built: tuple[leadership.Report, Path]) -> None:
    text = (built[1] / "report.html").read_text(encoding="utf-8")
    assert SCRIPT not in text
    assert "<b>bold</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&amp; &lt;b&gt;bold&lt;/b&gt;" in text


def test_assumptions_table_labels_sources_honestly(built: tuple[leadership.Report, Path]) -> None:
    report, out = built
    table = next(b for b in report.section("assumptions").blocks if isinstance(b, leadership.Table))
    rows = {(r[0], r[2]): r for r in table.rows}
    bases = {r[2] for r in table.rows}
    assert {"source", "assumption", "assumption (not documented)", "assumption (set at run time)"} <= bases
    assert ("population.mau", "source") in rows and "P/S:" in rows[("population.mau", "source")][3]
    assert ("population.daily_active_ratio", "assumption") in rows
    assert "ASSUMPTION" in rows[("population.daily_active_ratio", "assumption")][3]
    assert ("time.horizon_days", "assumption (set at run time)") in rows  # the --set override
    assert ("sites.hamar.grid_gco2_per_kwh", "source") in rows  # from sim/data/sites.csv
    assert ("sites.dublin.pue", "assumption") in rows  # sites.csv says PUE 1.35 is an ASSUMPTION
    html_text = _sections((out / "report.html").read_text(encoding="utf-8"))["assumptions"]
    assert 'class="basis-source">source<' in html_text and "ASSUMPTION" in html_text


def test_pdf_first_page_is_page_one_and_contents_give_pages(built: tuple[leadership.Report, Path]) -> None:
    report, out = built
    pdf = out / "report.pdf"
    assert pdf.stat().st_size > 10_000
    pypdf = pytest.importorskip("pypdf", reason="pypdf is a dev dependency")
    reader = pypdf.PdfReader(pdf)
    # page one, a contents page, the text pages of every section and a page per appendix chart
    assert len(reader.pages) >= 2 + len(report.sections) + sum(len(s.charts) for s in report.sections)
    first = _words(reader.pages[0].extract_text())
    assert _words(report.summary.answer) in first
    assert _words(report.summary.question) in first
    for figure in report.summary.figures:
        assert figure.value in first and figure.change_text in first
    assert "Appendix" not in first.replace("the analysis is in the appendix", "")
    contents = _words(reader.pages[1].extract_text())
    assert "Appendix: the analysis behind page one" in contents and "Contents" in contents
    for s in report.sections:
        page = int(re.search(rf"{re.escape(s.title)}\s+page (\d+)", contents).group(1))
        assert s.title in _words(reader.pages[page - 1].extract_text()), (s.title, page)


def test_comment_parser_and_classifier() -> None:
    text = """
name = "x"  # not # a comment inside "quotes"
[population]
mau = 150  # P: published
shares = [  # split over
  0.5,      # two lines
  0.5 ]
[[network.links]]
a = "v"
gbps = 40.0   # ASSUMPTION (transatlantic)
[[network.links]]
gbps = 20.0   # D: derived from 'x # y'
"""
    c = leadership.parse_toml_comments(text)
    assert c["name"] == 'not # a comment inside "quotes"'
    assert c["population.mau"] == "P: published"
    assert c["population.shares"] == "split over two lines"
    assert c["network.links.0.gbps"] == "ASSUMPTION (transatlantic)"
    assert c["network.links.1.gbps"] == "D: derived from 'x # y'"
    assert "network.links.0.a" not in c
    classify = leadership.classify_source
    assert classify("P: >150 M monthly users") == "source"
    assert classify("carbon PJM ~430 g (S)") == "source"
    assert classify("servers amortised over 3 years (Hamilton 2010)") == "source"
    assert classify("ASSUMPTION: loaded cost") == "assumption"
    assert classify("D: x 2.5 for chassis (ASSUMPTION)") == "assumption (partly sourced)"
    assert classify("to 2027-12-31 inclusive") == "assumption (comment cites no source)"
    assert classify("US East and DSA figures") == "assumption (comment cites no source)"
    assert classify(None) == "assumption (not documented)"


def test_assumptions_without_scenario_files(folders: dict[str, Path], tmp_path: Path) -> None:
    run = leadership.load_run(folders["pre_clover"])
    table, note = leadership.assumptions_table(run.resolved, scenario_dir=tmp_path)
    assert "no scenario file" in note
    mau = table.set_index("key").loc["population.mau"]
    assert mau["basis"] == "assumption (not documented)"  # the comment is unreachable: say so
    assert table.set_index("key").loc["sites.virginia.grid_gco2_per_kwh", "basis"] == "source"


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    register_cli(parser.add_subparsers(dest="command"))
    return cmd_report(parser.parse_args(["report", *argv]))


def test_bad_input_is_a_one_line_input_error(folders: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InputError, match="give one or more result folders"):
        _cli("--out", str(tmp_path / "r"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no summary.json") as info:
        _cli(str(empty), "--out", str(tmp_path / "r"))
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match="would replace|without report.html"):
        _cli(str(folders["clover"]), "--out", str(folders["clover"]))
    with pytest.raises(InputError, match=r"^--baseline: 'nearest' is none of the runs \(clover, pre_clover\)") as info:
        _cli(str(folders["clover"]), str(folders["pre_clover"]), "--baseline", "nearest", "--out", str(tmp_path / "r"))
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match="--question"):
        _cli(str(folders["clover"]), "--question", "  ", "--out", str(tmp_path / "r"))
    assert not (tmp_path / "r").exists()


def test_baseline_is_explicit(folders: dict[str, Path]) -> None:
    """--baseline picks the run the others are compared with, by name or folder; the default is pre_clover."""
    runs = [leadership.load_run(folders[n]) for n in ("clover", "pre_clover")]
    assert leadership.choose_baseline(runs) == 1  # the pre_clover placement, wherever it stands
    assert leadership.choose_baseline(runs[::-1]) == 0
    assert leadership.choose_baseline(runs, "clover") == 0
    assert leadership.choose_baseline(runs, str(folders["pre_clover"])) == 1
    assert leadership.choose_baseline(runs[:1]) is None
    report = leadership.build_report([folders["pre_clover"], folders["clover"]], scenario_dir=SCENARIOS,
                                     baseline="clover", question="Is the old layout cheaper?")
    assert report.baseline == "clover" and report.summary.question == "Is the old layout cheaper?"
    assert report.summary.answer.startswith("pre_clover costs least:") and "less than clover" in report.summary.answer
    compare = next(b for b in report.section("comparison").blocks if isinstance(b, leadership.Table))
    assert compare.columns[:3] == ["Figure", "clover (baseline)", "pre_clover"]
    runs_table = next(b for b in report.section("runs").blocks if isinstance(b, leadership.Table))
    assert [row[:2] for row in runs_table.rows] == [["clover", "baseline"], ["pre_clover", "compared with the baseline"]]
    # one run: compared with the published reference only
    single = leadership.build_report([folders["clover"]], scenario_dir=SCENARIOS)
    assert single.baseline is None and "published Clover figure (EUR 1.2 bn)" in single.summary.answer
    assert [s.id for s in single.sections if s.id == "comparison"] == []


def test_cli_wiring_exit_codes(folders: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli import app as cli

    assert cli.main(["report", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a folder" in err
    assert cli.main(["report"]) == 2
    capsys.readouterr()
    assert cli.main(["report", str(folders["clover"]), "--baseline", "nope", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--baseline: 'nope'" in err and not (tmp_path / "r").exists()
    help_text = cli._parser()._subparsers._group_actions[0].choices["report"].format_help()  # type: ignore[union-attr]
    assert "--baseline NAME" in help_text and "pre_clover" in help_text and "--question TEXT" in help_text


def _chromium(*args: str, tmp: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp / ('profile-' + name)}", "--enable-logging=stderr", "--v=0", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def _screenshot(page: Path, tmp: Path, size: str = "1280,800") -> tuple[Path, str]:
    shot = tmp / f"{page.stem}.png"
    proc = _chromium(f"--screenshot={shot}", f"--window-size={size}", page.resolve().as_uri(), tmp=tmp, name=page.stem)
    assert shot.exists(), f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return shot, proc.stderr


_PROBLEMS = re.compile(r"Uncaught|ERROR:CONSOLE|CONSOLE|Refused to|violates the following Content Security"
                       r"|net::ERR_")

#: Test-only probe: where the browser lays out page one's parts (the report itself runs no script).
_PROBE = """<script>
window.addEventListener("load", () => {
  const box = (e) => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left,
                                                                      right: r.right, text: e.innerText}; };
  const out = {width: window.innerWidth, height: window.innerHeight,
    question: box(document.querySelector("#summary h1.question")),
    answer: box(document.querySelector("#answer")),
    figures: [...document.querySelectorAll("#summary .headline")].map(box),
    charts: [...document.querySelectorAll("#summary .charts img")].map(box),
    appendix: box(document.querySelector("#appendix"))};
  const pre = document.createElement("pre"); pre.id = "layout"; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium "
                    "(CI installs it with .ci/chromium.sh)")
def test_page_one_as_a_reader_sees_it(built: tuple[leadership.Report, Path], tmp_path: Path) -> None:
    """At 1280x800 page one's answer, figures and charts are above the fold; printed, page one is page 1."""
    import matplotlib.image as mpimg

    report, out = built
    # Control: the same browser flags do report a blocked external request and a console error.
    bad = tmp_path / "control.html"
    bad.write_text(f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="{leadership.CSP}">'
                   '</head><body><img src="https://example.invalid/x.png"></body></html>', encoding="utf-8")
    _, control_log = _screenshot(bad, tmp_path)
    assert _PROBLEMS.search(control_log), "the browser log check would not notice a blocked request"

    page = out / "report.html"
    shot, log = _screenshot(page, tmp_path)
    problems = [line for line in log.splitlines() if _PROBLEMS.search(line)]
    assert not problems, problems
    pixels = mpimg.imread(shot)
    assert pixels.shape[:2] == (800, 1280) and float(pixels[..., :3].var()) > 0.001

    # Where things are: the same page with a probe script (the copy's CSP allows it; the report's does not).
    text = page.read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace(leadership.CSP, "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                                  "script-src 'unsafe-inline'").replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    proc = _chromium("--dump-dom", "--window-size=1280,800", "--virtual-time-budget=10000", probe.resolve().as_uri(),
                     tmp=tmp_path, name="probe")
    found = re.search(r'<pre id="layout">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"the probe wrote no layout: {proc.stderr[-2000:]}"
    layout = json.loads(html.unescape(found.group(1)))
    assert layout["width"] == 1280
    fold = 800
    parts = [layout["question"], layout["answer"], *layout["figures"], *layout["charts"]]
    assert len(layout["figures"]) == len(report.summary.figures) and len(layout["charts"]) == len(report.summary.charts)
    for part in parts:
        assert 0 <= part["top"] < part["bottom"] <= fold, (part, layout["height"])
        assert 0 <= part["left"] < part["right"] <= 1280, part
    assert _words(layout["answer"]["text"]) == _words(html.unescape(report.summary.answer))
    for chart in layout["charts"]:
        assert chart["bottom"] - chart["top"] > 180, chart  # drawn large enough to read
        # and visible in the 1280x800 screenshot: the chart's area is not blank
        area = pixels[int(chart["top"]):int(chart["bottom"]), int(chart["left"]):int(chart["right"]), :3]
        assert area.size and float(area.var()) > 0.01
    assert layout["appendix"]["top"] > max(p["bottom"] for p in parts)

    # Printed (A4, as the page's CSS asks): page one alone on the first page, the appendix from the second.
    pypdf = pytest.importorskip("pypdf", reason="pypdf is a dev dependency")
    printed = tmp_path / "printed.pdf"
    proc = _chromium("--no-pdf-header-footer", f"--print-to-pdf={printed}", page.resolve().as_uri(), tmp=tmp_path,
                     name="print")
    assert printed.exists(), proc.stderr[-2000:]
    reader = pypdf.PdfReader(printed)
    width_pt, height_pt = (float(v) for v in reader.pages[0].mediabox[2:])
    assert abs(width_pt - 595) < 3 and abs(height_pt - 842) < 3  # A4
    first, second = (_words(reader.pages[i].extract_text()) for i in (0, 1))
    assert _words(html.unescape(report.summary.answer)) in first
    assert all(f.value in first for f in report.summary.figures)
    assert _words(report.summary.notes[-1]) in first  # the last line of page one is on page 1 too
    assert "Appendix: the analysis behind page one" not in first
    assert second.startswith("Appendix: the analysis behind page one")


def test_gateway_waits_table_feeds_the_gateway_section(folders: dict[str, Path], tmp_path: Path) -> None:
    """The gateway_waits table every run with a gateway writes (no per-request file) feeds the gateway section."""
    waits = wait_quantiles_from_requests(_gateway_requests(), {"incident": 3600.0, "routine": 14400.0})
    clover = copy_run(folders["clover"], tmp_path / "clover", lambda summary: None)
    for stale in clover.glob("gateway_requests.*"):
        stale.unlink()
    waits.to_csv(clover / "gateway_waits.csv", index=False)
    report = leadership.build_report([clover, folders["pre_clover"]], scenario_dir=SCENARIOS)
    gateway = report.section("gateway")
    texts = [b for b in gateway.blocks if isinstance(b, str)]
    assert len(gateway.charts) == 1 and texts == [
        "pre_clover: the run had no gateway queue (the gateway is switched off), so there are no waits to show."]
    table = [b for b in gateway.blocks if isinstance(b, leadership.Table)][0]
    assert [(row[0], row[4]) for row in table.rows] == [("incident", "1 h"), ("routine", "4 h")]
    over = waits[waits["class"] == "incident"].iloc[0]
    assert table.rows[0][5] == format_share(over["over_sla"] / over["requests"])


def test_byte_identical_rebuild(built: tuple[leadership.Report, Path], folders: dict[str, Path], tmp_path: Path) -> None:
    """Same folders, same bytes: no time stamp, no random order, in the HTML page and the PDF."""
    report = leadership.build_report([folders["hostile"], folders["pre_clover"]], scenario_dir=SCENARIOS)
    again = leadership.write_report(report, tmp_path / "again")
    for file in ("report.html", "report.pdf"):
        assert (again / file).read_bytes() == (built[1] / file).read_bytes(), file


def test_templates_ship_with_the_package() -> None:
    """The page is written from Jinja2 templates that pyproject's package data ships."""
    import tomllib
    from fnmatch import fnmatch
    from importlib import resources

    root = Path(__file__).resolve().parents[2]
    folder = resources.files("sim.report.leadership").joinpath("templates")
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    assert {"report.html.j2", "summary.html.j2", "table.html.j2", "report.css"} <= set(names)
    globs = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]["sim"]
    for name in names:
        path = f"report/leadership/templates/{name}"
        assert any(fnmatch(path, g.replace("**/", "*/")) for g in globs), f"{path} is not package data"
