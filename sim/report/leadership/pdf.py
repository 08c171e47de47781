"""The report as a PDF: page one (the decision) on one A4 page, then the appendix with its contents.

Page one holds the same :class:`~sim.report.leadership.structure.Summary` as the HTML page: the
question, the answer sentence, the headline figures as boxes and the page-one charts (their PNGs
placed on the page). The appendix starts with a contents page that gives each section's page,
then A4 text pages for headings, paragraphs and tables, and a page per chart.

Drawn with matplotlib alone (text laid out on figure pages, tables in monospace with wrapped
columns), so no other PDF library is needed; no creation date is written, so the same report
gives the same bytes. The contents' page numbers come from a first layout pass that counts pages
without drawing anything.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import matplotlib.image as mpimg
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.report.io import atomic_file
from sim.report.leadership.structure import Report, Summary, Table

__all__ = ["render_pdf", "page_one_figure"]

_PAGE = (8.27, 11.69)  # A4 portrait, inches
_MARGIN = 0.6
_MONO_CHARS = 118  # characters of 6.5 pt monospace across the text width
_TONE_COLORS = {"better": "#009E73", "worse": "#D55E00", "same": "#56B4E9"}
_TONE_TEXT = {"better": "#00704f", "worse": "#a33a00"}
#: Resolution at which page one's charts are placed on the PDF page.
_CHART_DPI = 150


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False) or [""]


#: The PDF's base fonts that text pages use when all their text is in their character set: no
#: glyphs to embed, so long tables are written many times faster (and read back exactly).
_CORE_FONTS = {"DejaVu Sans": "Helvetica", "DejaVu Sans Mono": "Courier"}


def _core_font_text(fig: Figure) -> bool:
    """Whether every text of a page can be set in the PDF's base fonts (Windows-1252 characters)."""
    try:
        for t in fig.texts:
            t.get_text().encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


class _Pages:
    """Counts pages and, unless it is a dry run (``pdf`` None), writes them."""

    def __init__(self, pdf: PdfPages | None) -> None:
        self.pdf = pdf
        self.count = 0

    def add(self, fig: Figure | None, *, text_page: bool = False) -> None:
        """Write a page (a text page in the PDF's base fonts where its characters allow)."""
        if self.pdf is not None and fig is not None:
            if text_page and _core_font_text(fig):
                for t in fig.texts:
                    t.set_family(_CORE_FONTS.get(t.get_family()[0], "Helvetica"))
                with matplotlib.rc_context({"pdf.use14corefonts": True}):
                    self.pdf.savefig(fig)
            else:
                self.pdf.savefig(fig)
        self.count += 1


class _PdfText:
    """Lays out headings, paragraphs and tables as text on A4 pages."""

    def __init__(self, pages: _Pages) -> None:
        self.pages = pages
        self.fig: Figure | None = None
        self.y = 0.0

    @property
    def page_number(self) -> int:
        """The page the next line goes on (1-based)."""
        return self.pages.count + 1

    def _page(self) -> Figure:
        if self.fig is None:
            self.fig = Figure(figsize=_PAGE)
            FigureCanvasAgg(self.fig)
            self.y = _PAGE[1] - _MARGIN
        return self.fig

    def flush(self) -> None:
        if self.fig is not None:
            self.pages.add(self.fig, text_page=True)
            self.fig = None

    def _need(self, height: float) -> Figure:
        fig = self._page()
        if self.y - height < _MARGIN:
            self.flush()
            fig = self._page()
        return fig

    def line(self, text: str, size: float, *, weight: str = "normal", family: str = "DejaVu Sans",
             x: float = _MARGIN, color: str = "black") -> None:
        height = size * 1.45 / 72
        fig = self._need(height)
        self.y -= height
        fig.text(x / _PAGE[0], self.y / _PAGE[1], text, fontsize=size, fontweight=weight, family=family,
                 color=color, va="bottom", ha="left")

    def heading(self, text: str, size: float = 14) -> None:
        self._need(0.8)
        self.y -= 0.1
        for line in _wrap(text, int(95 * 12 / size)):
            self.line(line, size, weight="bold")
        self.y -= 0.05

    def paragraph(self, text: str) -> None:
        for line in _wrap(text, 110):
            self.line(line, 8.5)
        self.y -= 0.08

    def table(self, t: Table) -> None:
        if t.caption:
            for line in _wrap(t.caption, 110):
                self.line(line, 8, weight="bold")
        cols = len(t.columns)
        natural = [max([len(c) for c in t.columns] + [len(r[i]) for r in t.rows if i < len(r)]) for i in range(cols)]
        budget = _MONO_CHARS - 2 * (cols - 1)
        widths = list(t.pdf_widths) if t.pdf_widths and len(t.pdf_widths) == cols else _fair_widths(natural, budget)

        def emit(cells: Sequence[str], weight: str = "normal") -> None:
            wrapped = [textwrap.wrap(str(c), widths[i]) or [""] for i, c in enumerate(cells)]
            for k in range(max(len(w) for w in wrapped)):
                text = "  ".join((w[k] if k < len(w) else "").ljust(widths[i]) for i, w in enumerate(wrapped))
                self.line(text, 6.5, family="DejaVu Sans Mono", weight=weight)

        emit(t.columns, "bold")
        self.line("-" * min(_MONO_CHARS, sum(widths) + 2 * (cols - 1)), 6.5, family="DejaVu Sans Mono")
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


def _chart_pixels(fig: Figure):  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_CHART_DPI, metadata={"Software": None})
    buf.seek(0)
    return mpimg.imread(buf, format="png")


def page_one_figure(title: str, summary: Summary) -> Figure:
    """Page one as an A4 figure: masthead, question, answer, headline boxes, charts and notes.

    Args:
        title: the report's title (the masthead).
        summary: page one's content (the same the HTML page shows).

    Returns:
        The A4 page.
    """
    width_in, height_in = _PAGE
    margin = 0.55
    text_w = width_in - 2 * margin
    fig = Figure(figsize=_PAGE)
    FigureCanvasAgg(fig)
    y = height_in - margin

    def put(text: str, size: float, *, x: float = margin, weight: str = "normal", color: str = "black",
            ha: str = "left") -> None:
        fig.text(x / width_in, y / height_in, text, fontsize=size, fontweight=weight, color=color, va="top",
                 ha=ha, family="DejaVu Sans")

    put(title, 7.5, color="#555555")
    put("Page one of the leadership report; the analysis is in the appendix", 7.5, x=width_in - margin,
        color="#555555", ha="right")
    y -= 0.16
    fig.add_artist(Rectangle((margin / width_in, y / height_in), text_w / width_in, 0.6 / 72 / height_in,
                             transform=fig.transFigure, color="#d0d7de"))
    y -= 0.1
    for line in _wrap(summary.question, 56):
        put(line, 15, weight="bold", color="#0b3d66")
        y -= 15 * 1.3 / 72
    y -= 0.06
    for line in _wrap(summary.answer, 84):
        put(line, 10.5, weight="bold")
        y -= 10.5 * 1.4 / 72
    y -= 0.1

    per_row = 3
    gap = 0.1
    box_w = (text_w - gap * (per_row - 1)) / per_row
    box_h = 0.86
    for i, h in enumerate(summary.figures):
        row, col = divmod(i, per_row)
        x0 = margin + col * (box_w + gap)
        top = y - row * (box_h + gap)
        fig.add_artist(Rectangle((x0 / width_in, (top - box_h) / height_in), box_w / width_in, box_h / height_in,
                                 transform=fig.transFigure, facecolor="white", edgecolor="#d0d7de", linewidth=0.8))
        fig.add_artist(Rectangle((x0 / width_in, (top - 0.05) / height_in), box_w / width_in, 0.05 / height_in,
                                 transform=fig.transFigure, color=_TONE_COLORS.get(h.tone, "#999999")))
        tx = (x0 + 0.08) / width_in
        fig.text(tx, (top - 0.1) / height_in, h.label, fontsize=7.5, color="#444444", va="top", family="DejaVu Sans")
        fig.text(tx, (top - 0.25) / height_in, h.value, fontsize=14, fontweight="bold", va="top", family="DejaVu Sans")
        line_y = top - 0.52
        if h.change_text:
            fig.text(tx, line_y / height_in, h.change_text, fontsize=7, va="top", family="DejaVu Sans",
                     color=_TONE_TEXT.get(h.tone, "#333333"))
            line_y -= 0.13
        for note in _wrap(h.note, 52)[:2] if h.note else []:
            fig.text(tx, line_y / height_in, note, fontsize=6, va="top", family="DejaVu Sans", color="#555555")
            line_y -= 0.1
    rows = -(-len(summary.figures) // per_row)
    y -= rows * (box_h + gap) + 0.04

    chart_w = (text_w - gap) / 2
    for i, chart in enumerate(summary.charts):
        row, col = divmod(i, 2)
        fw, fh = chart.figure.get_size_inches()
        chart_h = chart_w * fh / fw
        x0 = margin + col * (chart_w + gap)
        top = y - row * (chart_h + gap)
        ax = fig.add_axes((x0 / width_in, (top - chart_h) / height_in, chart_w / width_in, chart_h / height_in))
        ax.imshow(_chart_pixels(chart.figure), interpolation="none")
        ax.set_axis_off()
    if summary.charts:
        fw, fh = summary.charts[0].figure.get_size_inches()
        y -= -(-len(summary.charts) // 2) * (chart_w * fh / fw + gap)
    y -= 0.05
    for line in _wrap(" ".join(summary.notes), 140):
        put(line, 6.5, color="#555555")
        y -= 6.5 * 1.4 / 72
    return fig


def render_pdf(report: Report, path: str | Path) -> Path:
    """Write the report as a PDF (atomically): page one, the appendix's contents, its text and chart pages.

    Args:
        report: the assembled report.
        path: the PDF file to write.

    Returns:
        The path written.
    """
    return atomic_file(Path(path), lambda tmp: _write_pdf(report, tmp))


def _layout(report: Report, pages: _Pages, starts: dict[str, int]) -> dict[str, int]:
    """Lay the report out on ``pages``; returns the first page of each appendix section.

    ``starts`` are the page numbers the contents page prints (from an earlier, dry pass).
    """
    drawing = pages.pdf is not None
    if report.summary is not None:
        pages.add(page_one_figure(report.title, report.summary) if drawing else None)
    writer = _PdfText(pages)
    writer.heading("Appendix: the analysis behind page one" if report.summary is not None else report.title, 15)
    writer.paragraph(f"{report.subtitle}. Generated {report.generated}.")
    writer.heading("Contents", 12)
    for s in report.sections:
        writer.line(f"{s.title:<70}{'page ' + str(starts.get(s.id, '')):>12}", 8.5, family="DejaVu Sans Mono")
    writer.flush()
    found: dict[str, int] = {}
    for s in report.sections:
        writer.heading(s.title)
        found[s.id] = writer.page_number
        for b in s.blocks:
            if isinstance(b, str):
                writer.paragraph(b)
            elif isinstance(b, Table):
                writer.table(b)
            else:
                writer.paragraph(f"[Chart on a following page: {b.alt}]")
        writer.flush()
        for c in s.charts:
            pages.add(c.figure if drawing else None)
    return found


def _write_pdf(report: Report, path: Path) -> None:
    starts = _layout(report, _Pages(None), {})
    # no creation date: the same report gives the same bytes
    with PdfPages(path, metadata={"Title": report.title, "Creator": "clover-sim", "CreationDate": None}) as pdf:
        _layout(report, _Pages(pdf), starts)
