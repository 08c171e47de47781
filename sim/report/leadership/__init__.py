"""The leadership report: one or more result folders in, a self-contained HTML page and a PDF out.

A result folder is what ``clover-sim run`` writes (see ``results/README.md``): ``summary.json``
plus the placement, transfers, latency, costs and costs_by_year tables, and optionally the
gateway's per-request table ``gateway_requests.csv`` / ``.parquet``. :func:`build_report` reads
the folders and assembles the sections; :func:`write_report` writes ``report.html`` (charts
embedded as base64 PNG, no external CSS, JavaScript, fonts or images, a Content-Security-Policy
that forbids any request) and ``report.pdf`` (the same sections: text pages for tables, one
page per chart) atomically; :func:`make_report` does both. The same folders give the same
files, byte for byte.

Sections (HTML ids): ``runs``, ``headline``, ``comparison`` (only with several folders),
``storage``, ``costs``, ``transfers``, ``latency``, ``gateway``, ``carbon``, ``assumptions``.

Modules: :mod:`~sim.report.leadership.runs` reads result folders,
:mod:`~sim.report.leadership.structure` is the report's structure (sections of paragraphs, tables
and charts), :mod:`~sim.report.leadership.sections` assembles the sections,
:mod:`~sim.report.leadership.assumptions` documents every figure of the runs,
:mod:`~sim.report.leadership.html` renders the Jinja2 templates in ``templates/`` and
:mod:`~sim.report.leadership.pdf` draws the PDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim.report.format import format_kpi
from sim.report.io import atomic_dir
from sim.report.leadership.assumptions import assumptions_table, classify_source, flatten, parse_toml_comments
from sim.report.leadership.html import CSP, render_html
from sim.report.leadership.pdf import render_pdf
from sim.report.leadership.runs import ReportInputError, RunFolder, load_run
from sim.report.leadership.sections import build_report, sim_version
from sim.report.leadership.structure import Chart, Report, Section, Table

__all__ = [
    "RunFolder",
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


def make_report(folders: Sequence[str | Path], out: str | Path, *, scenario_dir: str | Path = "scenarios") -> Path:
    """Build the report from result folders and write it (see :func:`build_report`).

    Args:
        folders: one or more result folders; the first is the subject of the headline.
        out: destination folder (replaced atomically).
        scenario_dir: where the scenario TOML files live (their comments document the figures).

    Returns:
        The destination folder.
    """
    return write_report(build_report(folders, scenario_dir=scenario_dir), out)
