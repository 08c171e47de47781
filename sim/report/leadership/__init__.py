"""The leadership report: one or more result folders in, a self-contained HTML page and a PDF out.

A result folder is what ``clover-sim run`` writes (see ``results/README.md``): ``summary.json``
plus the placement, transfers, latency, costs, costs_by_year and residency tables, and optionally
the gateway's per-request table ``gateway_requests.csv`` / ``.parquet``. :func:`build_report` reads
the folders, gives them their roles (one baseline, the others compared with it) and assembles
page one and the appendix; :func:`write_report` writes ``report.html`` (charts embedded as base64
PNG, no external CSS, JavaScript, fonts or images, a Content-Security-Policy that forbids any
request) and ``report.pdf`` (the same content: page one on one A4 page, then the appendix)
atomically; :func:`make_report` does both. The same folders give the same files, byte for byte.

Page one (HTML id ``summary``) is the decision: the question the runs answer, the answer in one
sentence with its range, three to five headline figures with their change against the baseline
and the two or three charts that carry the answer. The appendix (HTML id ``appendix``, with a
table of contents) holds the sections (ids): ``runs``, ``headline``, ``comparison`` (several
folders), ``drivers`` (runs with assumption ranges), ``storage``, ``costs``, ``transfers``,
``latency``, ``gateway``, ``carbon``, ``assumptions``.

Modules: :mod:`~sim.report.leadership.runs` reads result folders (and picks the baseline),
:mod:`~sim.report.leadership.structure` is the report's structure,
:mod:`~sim.report.leadership.summary` builds page one, :mod:`~sim.report.leadership.sections`
the appendix and the whole report, :mod:`~sim.report.leadership.assumptions` documents every
figure of the runs, :mod:`~sim.report.leadership.html` renders the Jinja2 templates in
``templates/`` and :mod:`~sim.report.leadership.pdf` draws the PDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim.report.format import format_kpi
from sim.report.io import atomic_dir
from sim.report.leadership.assumptions import (
    assumptions_table,
    classify_source,
    flatten,
    input_label,
    parse_toml_comments,
)
from sim.report.leadership.html import CSP, render_html
from sim.report.leadership.pdf import render_pdf
from sim.report.leadership.runs import ReportInputError, RunFolder, Spread, choose_baseline, load_run
from sim.report.leadership.sections import build_report, sim_version
from sim.report.leadership.structure import Chart, Headline, Report, Section, Summary, Table

__all__ = [
    "RunFolder",
    "Spread",
    "Headline",
    "Summary",
    "choose_baseline",
    "input_label",
    "Table",
    "Chart",
    "Section",
    "Report",
    "ReportInputError",
    "load_run",
    "build_report",
    "render_html",
    "render_pdf",
    "write_report",
    "make_report",
    "parse_toml_comments",
    "classify_source",
    "assumptions_table",
    "format_kpi",
    "flatten",
    "sim_version",
    "CSP",
]


def write_report(report: Report, out: str | Path) -> Path:
    """Write ``report.html`` and ``report.pdf`` into ``out`` atomically (``out`` is replaced).

    Args:
        report: the assembled report.
        out: destination folder.

    Returns:
        The destination folder.
    """

    def fill(tmp: Path) -> None:
        (tmp / "report.html").write_text(render_html(report), encoding="utf-8")
        render_pdf(report, tmp / "report.pdf")

    return atomic_dir(Path(out), fill)


def make_report(
    folders: Sequence[str | Path],
    out: str | Path,
    *,
    scenario_dir: str | Path = "scenarios",
    baseline: str | None = None,
    question: str | None = None,
) -> Path:
    """Build the report from result folders and write it (see :func:`build_report`).

    Args:
        folders: one or more result folders.
        out: destination folder (replaced atomically).
        scenario_dir: where the scenario TOML files live (their comments document the figures).
        baseline: the run the others are compared with (scenario name or folder); None: the run
            with the ``pre_clover`` placement if exactly one has it, else the first folder.
        question: the question page one states, instead of the one derived from the runs.

    Returns:
        The destination folder.
    """
    return write_report(build_report(folders, scenario_dir=scenario_dir, baseline=baseline, question=question), out)
