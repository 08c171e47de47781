"""The report's structure: sections of paragraphs, tables and charts, rendered as HTML and PDF.

:func:`~sim.report.leadership.sections.build_report` fills a :class:`Report`;
:mod:`~sim.report.leadership.html` and :mod:`~sim.report.leadership.pdf` render the same
structure, so both outputs hold the same content. Table cells are display strings, written by
:mod:`sim.report.format`; text from result folders is escaped only when rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from matplotlib.figure import Figure

__all__ = ["Table", "Chart", "Section", "Report", "Block"]


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
    """A chart and its text alternative."""

    figure: Figure
    alt: str


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
class Report:
    """The assembled report."""

    title: str
    subtitle: str
    sections: list[Section]
    generated: str

    def section(self, section_id: str) -> Section:
        """The section with this id."""
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)


#: What a section holds: a paragraph, a table or a chart.
Block = str | Table | Chart

