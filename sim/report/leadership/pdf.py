"""The report as a PDF: A4 text pages for headings, paragraphs and tables, then a page per chart.

Drawn with matplotlib alone (text laid out on figure pages, tables in monospace with wrapped
columns), so no other PDF library is needed; no creation date is written, so the same report
gives the same bytes.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from sim.report.io import atomic_file
from sim.report.leadership.structure import Report, Table

__all__ = ["render_pdf"]

_PAGE = (8.27, 11.69)  # A4 portrait, inches
_MARGIN = 0.6
_MONO_CHARS = 118  # characters of 6.5 pt monospace across the text width


class _PdfText:
    """Lays out headings, paragraphs and tables as text on A4 pages."""

    def __init__(self, pdf: PdfPages) -> None:
        self.pdf = pdf
        self.fig: Figure | None = None
        self.y = 0.0

    def _page(self) -> Figure:
        if self.fig is None:
            self.fig = Figure(figsize=_PAGE)
            FigureCanvasAgg(self.fig)
            self.y = _PAGE[1] - _MARGIN
        return self.fig

    def flush(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None

    def _need(self, height: float) -> Figure:
        fig = self._page()
        if self.y - height < _MARGIN:
            self.flush()
            fig = self._page()
        return fig

    def _line(self, text: str, size: float, *, weight: str = "normal", family: str = "DejaVu Sans",
              x: float = _MARGIN, color: str = "black") -> None:
        height = size * 1.45 / 72
        fig = self._need(height)
        self.y -= height
        fig.text(x / _PAGE[0], self.y / _PAGE[1], text, fontsize=size, fontweight=weight, family=family,
                 color=color, va="bottom", ha="left")

    def heading(self, text: str, size: float = 14) -> None:
        self._need(0.8)
        self.y -= 0.1
        for line in textwrap.wrap(text, int(95 * 12 / size)) or [""]:
            self._line(line, size, weight="bold")
        self.y -= 0.05

    def paragraph(self, text: str) -> None:
        for line in textwrap.wrap(text, 110) or [""]:
            self._line(line, 8.5)
        self.y -= 0.08

    def table(self, t: Table) -> None:
        if t.caption:
            for line in textwrap.wrap(t.caption, 110):
                self._line(line, 8, weight="bold")
        cols = len(t.columns)
        natural = [max([len(c) for c in t.columns] + [len(r[i]) for r in t.rows if i < len(r)]) for i in range(cols)]
        budget = _MONO_CHARS - 2 * (cols - 1)
        widths = list(t.pdf_widths) if t.pdf_widths and len(t.pdf_widths) == cols else _fair_widths(natural, budget)

        def emit(cells: Sequence[str], weight: str = "normal") -> None:
            wrapped = [textwrap.wrap(str(c), widths[i]) or [""] for i, c in enumerate(cells)]
            for k in range(max(len(w) for w in wrapped)):
                text = "  ".join((w[k] if k < len(w) else "").ljust(widths[i]) for i, w in enumerate(wrapped))
                self._line(text, 6.5, family="DejaVu Sans Mono", weight=weight)

        emit(t.columns, "bold")
        self._line("-" * min(_MONO_CHARS, sum(widths) + 2 * (cols - 1)), 6.5, family="DejaVu Sans Mono")
        for row in t.rows:
            emit([*row, *[""] * (cols - len(row))][:cols])
        self.y -= 0.1


def _fair_widths(natural: Sequence[int], budget: int) -> list[int]:
    """Max-min fair column widths: narrow columns keep their width, wide ones share the rest."""
    widths = [0] * len(natural)
    open_cols = list(range(len(natural)))
    left = budget
    while open_cols:
        share = max(6, left // len(open_cols))
        fits = [i for i in open_cols if natural[i] <= share]
        if not fits:
            for i in open_cols:
                widths[i] = share
            break
        for i in fits:
            widths[i] = max(1, natural[i])
            left -= widths[i]
            open_cols.remove(i)
    return widths


def render_pdf(report: Report, path: str | Path) -> Path:
    """Write the report as a PDF (atomically): text pages for headings, paragraphs and tables, a page per chart.

    Args:
        report: the assembled report.
        path: the PDF file to write.

    Returns:
        The path written.
    """
    return atomic_file(Path(path), lambda tmp: _write_pdf(report, tmp))


def _write_pdf(report: Report, path: Path) -> None:
    # no creation date: the same report gives the same bytes
    with PdfPages(path, metadata={"Title": report.title, "Creator": "clover-sim", "CreationDate": None}) as pdf:
        writer = _PdfText(pdf)
        writer.heading(report.title, 15)
        writer.paragraph(f"{report.subtitle}. Generated {report.generated}.")
        for s in report.sections:
            writer.heading(s.title)
            for b in s.blocks:
                if isinstance(b, str):
                    writer.paragraph(b)
                elif isinstance(b, Table):
                    writer.table(b)
                else:
                    writer.paragraph(f"[Chart on the next page: {b.alt}]")
            writer.flush()
            for c in s.charts:
                pdf.savefig(c.figure)

