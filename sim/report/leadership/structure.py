"""The report's structure: page one (the decision), then an appendix of sections, as HTML and PDF.

Page one is a :class:`Summary`: the question the runs answer, the answer in one sentence, three to
five :class:`Headline` figures and the two or three charts that carry the answer. The appendix is
a list of :class:`Section` (paragraphs, tables, charts).
:func:`~sim.report.leadership.sections.build_report` fills a :class:`Report`;
:mod:`~sim.report.leadership.html` and :mod:`~sim.report.leadership.pdf` render the same
structure, so both outputs hold the same content. Table cells are display strings, written by
:mod:`sim.report.format`; text from result folders is escaped only when rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from matplotlib.figure import Figure

__all__ = ["Table", "Chart", "Section", "Headline", "Summary", "Report", "Block"]


@dataclass
class Table:
    """A table: column names and rows of display strings (escaped when rendered)."""

    columns: list[str]
    rows: list[list[str]]
    caption: str = ""
    css_class: str = ""
    pdf_widths: list[int] | None = None  # characters per column in the PDF (default: fair shares)


@dataclass
class Chart:
    """A chart and its text alternative (``dpi``: resolution of its PNG in the HTML page)."""

    figure: Figure
    alt: str
    dpi: int = 100


@dataclass
class Section:
    """A report section: an HTML id, a title and blocks (paragraph strings, tables, charts)."""

    id: str
    title: str
    blocks: list[str | Table | Chart] = field(default_factory=list)

    @property
    def charts(self) -> list[Chart]:
        """The charts of the section, in order."""
        return [b for b in self.blocks if isinstance(b, Chart)]


@dataclass
class Headline:
    """One large figure of page one.

    Attributes:
        label: the KPI's human label (from the KPI catalogue).
        value: the value with its unit, rounded to what the model supports.
        change: its change against the baseline (or the published reference), or "".
        tone: ``"better"``, ``"worse"``, ``"same"`` or ``""`` (no direction), by the catalogue's
            better-direction.
        note: the range or interval behind the value, or "".
    """

    label: str
    value: str
    change: str = ""
    tone: str = ""
    note: str = ""

    @property
    def change_text(self) -> str:
        """The change as both renderers show it: an arrow for its sign and, where it has one, its tone.

        "\u25b2 +17 % vs pre_clover \u00b7 worse"; "" when there is no change to show.
        """
        if not self.change:
            return ""
        arrow = "" if self.tone == "same" else {"+": "\u25b2 ", "-": "\u25bc "}.get(self.change[:1], "")
        tone = f" \u00b7 {self.tone}" if self.tone in ("better", "worse") else ""
        return f"{arrow}{self.change}{tone}"


@dataclass
class Summary:
    """Page one: the question, the answer in one sentence, the headline figures and the charts."""

    question: str
    answer: str
    figures: list[Headline]
    charts: list[Chart]
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    """The assembled report: page one (``summary``) and the appendix (``sections``)."""

    title: str
    subtitle: str
    sections: list[Section]
    generated: str
    summary: Summary | None = None
    baseline: str | None = None

    @property
    def charts(self) -> list[Chart]:
        """Every chart of the report: page one's, then the appendix's."""
        first = self.summary.charts if self.summary is not None else []
        return [*first, *(c for s in self.sections for c in s.charts)]

    def section(self, section_id: str) -> Section:
        """The section with this id."""
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)


#: What a section holds: a paragraph, a table or a chart.
Block = str | Table | Chart

