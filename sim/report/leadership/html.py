"""The report as one self-contained HTML page, written from the Jinja2 templates in ``templates/``.

``report.html.j2`` lays out the page, ``table.html.j2`` the tables and ``report.css`` is the only
style sheet, inlined. Charts are embedded as base64 PNG data URIs; there is no external CSS,
JavaScript, font or image, and the page's Content-Security-Policy (:data:`CSP`) forbids every
request. Autoescape is on, so all text that comes from the result folders is HTML-escaped. PNGs
carry no software or time stamp, so the same report gives the same bytes.
"""

from __future__ import annotations

import base64
import functools
import io

import jinja2
from markupsafe import Markup
from matplotlib.figure import Figure

from sim.report.leadership.structure import Chart, Report, Table

__all__ = ["CSP", "render_html", "png_data_uri"]

#: The page's Content-Security-Policy: nothing may be loaded except data: images and inline styles.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def png_data_uri(fig: Figure, dpi: int = 100) -> str:
    """A figure as a ``data:image/png;base64,...`` URI (no metadata, so the bytes are reproducible).

    Args:
        fig: the chart.
        dpi: resolution of the PNG.

    Returns:
        The data URI.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sim.report.leadership", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["png_data_uri"] = png_data_uri
    env.tests["table_block"] = lambda block: isinstance(block, Table)
    env.tests["chart_block"] = lambda block: isinstance(block, Chart)
    return env


def render_html(report: Report) -> str:
    """The report as one self-contained HTML document (charts as base64 PNG, inline CSS only).

    Args:
        report: the assembled report.

    Returns:
        The HTML text; all text that comes from the result folders is HTML-escaped.
    """
    template = _environment().get_template("report.html.j2")
    return template.render(report=report, csp=Markup(CSP))
