"""The leadership report: built from real short runs, checked as HTML, PDF and in a headless browser."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, simulate
from sim.cli.app import InputError
from sim.cli.report import cmd_report, register_cli
from sim.report import leadership
from sim.report.files import write_results

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
CHROMIUM = Path("/usr/bin/chromium")
SCRIPT = "<script>alert(1)</script>"
SHORT = ["time.horizon_days=3", "time.step_minutes=60"]
SECTIONS = ("runs", "headline", "comparison", "storage", "costs", "transfers", "latency", "gateway", "carbon",
            "assumptions")


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
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two short real runs (clover, pre_clover), plus a clover copy named with a script tag."""
    base = tmp_path_factory.mktemp("runs")
    out = {}
    for name in ("clover", "pre_clover"):
        sc = load_scenario(SCENARIOS / f"{name}.toml", SHORT)
        out[name] = write_results(simulate(sc, replications=2, seed=1), base / name, with_charts=False)
    hostile = base / "hostile"
    shutil.copytree(out["clover"], hostile)
    summary = json.loads((hostile / "summary.json").read_text(encoding="utf-8"))
    summary["scenario"] = SCRIPT
    summary["resolved_scenario"]["description"] = f"{SCRIPT} & <b>bold</b>"
    summary["resolved_scenario"]["gateway"]["sla_s"] = 14400.0
    summary["resolved_scenario"]["gateway"]["priority_classes"] = [
        {"name": "incident", "share": 0.1, "sla_s": 3600.0}, {"name": "routine", "share": 0.9, "sla_s": None}]
    (hostile / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    _gateway_requests().to_csv(hostile / "gateway_requests.csv", index=False)
    out["hostile"] = hostile
    return out


@pytest.fixture(scope="module")
def built(folders: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[leadership.Report, Path]:
    report = leadership.build_report([folders["hostile"], folders["pre_clover"]], scenario_dir=SCENARIOS)
    out = leadership.write_report(report, tmp_path_factory.mktemp("report") / "report")
    return report, out


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r'<section id="([a-z_-]+)">', text)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_html_holds_every_section_and_chart(built: tuple[leadership.Report, Path]) -> None:
    report, out = built
    text = (out / "report.html").read_text(encoding="utf-8")
    sections = _sections(text)
    assert tuple(sections) == SECTIONS
    n_charts = sum(len(s.charts) for s in report.sections)
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
    # KPIs with intervals, titles that state findings, units.
    assert "95 % CI" in sections["headline"]
    assert re.search(r"costs EUR [\d.,]+ [mb]n? ?a year, \d+ % (more|less) than pre_clover", report.title)


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


def test_pdf_exists_and_opens(built: tuple[leadership.Report, Path]) -> None:
    report, out = built
    pdf = out / "report.pdf"
    assert pdf.stat().st_size > 10_000
    pypdf = pytest.importorskip("pypdf", reason="pypdf is a dev dependency")
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) >= sum(len(s.charts) for s in report.sections) + len(report.sections) - 1
    first = reader.pages[0].extract_text()
    assert "Runs in this report" in first and "costs EUR" in first


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


def test_bad_input_is_a_one_line_input_error(folders: dict[str, Path], tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    register_cli(parser.add_subparsers(dest="command"))

    def run(*argv: str) -> int:
        args = parser.parse_args(["report", *argv])
        return cmd_report(args)

    with pytest.raises(InputError, match="give one or more result folders"):
        run("--out", str(tmp_path / "r"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no summary.json") as info:
        run(str(empty), "--out", str(tmp_path / "r"))
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match="would replace|without report.html"):
        run(str(folders["clover"]), "--out", str(folders["clover"]))
    assert not (tmp_path / "r").exists()


def test_cli_wiring_exit_codes(folders: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli import app as cli

    try:
        cli._parser().parse_args(["report", "x"])
    except SystemExit:
        pytest.skip("'report' is not wired into sim/cli.py yet")
    assert cli.main(["report", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a folder" in err
    assert cli.main(["report"]) == 2


def _chromium(html: Path, tmp: Path) -> tuple[Path, str]:
    shot = tmp / f"{html.stem}.png"
    proc = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp / ('profile-' + html.stem)}", "--enable-logging=stderr", "--v=0",
         f"--screenshot={shot}", "--window-size=1200,2000", html.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert shot.exists(), f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return shot, proc.stderr


_PROBLEMS = re.compile(r"Uncaught|ERROR:CONSOLE|CONSOLE|Refused to|violates the following Content Security"
                       r"|net::ERR_")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium "
                    "(CI installs it with .ci/chromium.sh)")
def test_renders_in_headless_chromium(built: tuple[leadership.Report, Path], tmp_path: Path) -> None:
    import matplotlib.image as mpimg

    # Control: the same browser flags do report a blocked external request and a console error.
    bad = tmp_path / "control.html"
    csp = leadership.CSP
    bad.write_text(f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="{csp}">'
                   '</head><body><img src="https://example.invalid/x.png"></body></html>', encoding="utf-8")
    _, control_log = _chromium(bad, tmp_path)
    assert _PROBLEMS.search(control_log), "the browser log check would not notice a blocked request"

    shot, log = _chromium(built[1] / "report.html", tmp_path)
    problems = [line for line in log.splitlines() if _PROBLEMS.search(line)]
    assert not problems, problems
    pixels = mpimg.imread(shot)
    assert pixels.shape[0] >= 1000 and float(pixels[..., :3].var()) > 0.001


def test_real_gateway_file_and_byte_identical_rebuild(folders: dict[str, Path], tmp_path: Path) -> None:
    """The Parquet table a real run writes feeds the gateway section; same folders, same bytes."""
    assert (folders["clover"] / "gateway_requests.parquet").exists()
    outs = []
    for name in ("a", "b"):
        report = leadership.build_report([folders["clover"], folders["pre_clover"]], scenario_dir=SCENARIOS)
        outs.append(leadership.write_report(report, tmp_path / name))
    gateway = _sections((outs[0] / "report.html").read_text(encoding="utf-8"))["gateway"]
    assert "<img" in gateway and "no gateway queue" not in gateway.split("pre_clover")[0]
    for file in ("report.html", "report.pdf"):
        assert (outs[0] / file).read_bytes() == (outs[1] / file).read_bytes()


def test_templates_ship_with_the_package() -> None:
    """The page is written from Jinja2 templates that pyproject's package data ships."""
    import tomllib
    from fnmatch import fnmatch
    from importlib import resources

    folder = resources.files("sim.report.leadership").joinpath("templates")
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    assert {"report.html.j2", "table.html.j2", "report.css"} <= set(names)
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]["sim"]
    for name in names:
        path = f"report/leadership/templates/{name}"
        assert any(fnmatch(path, g.replace("**/", "*/")) for g in globs), f"{path} is not package data"
