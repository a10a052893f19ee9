"""PDF invoices and receipts with fpdf2: pure Python, no system libraries, and the core
Helvetica font (nothing embedded), so the same document always renders to the same bytes
(the creation date is the document's own date, and fpdf2 derives the file ID from the
content). The core fonts show Windows-1252 (so an en dash prints); other text is replaced.

Every page but the first repeats the table's header, and every page is numbered
"Page 1 of 2" in its footer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from fpdf import FPDF

ENCODING = "windows-1252"
ROW_HEIGHT = 6


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: its header, width (mm) and alignment (``L`` or ``R``)."""

    header: str
    width: float
    align: str = "R"


@dataclass(frozen=True, slots=True)
class Document:
    """What an invoice or a receipt states."""

    title: str
    number: str
    issued_ms: int
    seller: Sequence[str]
    customer: Sequence[str]
    facts: Sequence[tuple[str, str]]  # invoice date, service period, status, ...
    columns: Sequence[Column]
    rows: Sequence[Sequence[str]]  # one text per column
    total_label: str
    total: str


def printable(text: str) -> str:
    """``text`` as the core fonts can show it (characters outside Windows-1252 replaced)."""
    return text.encode(ENCODING, "replace").decode(ENCODING)


class _Pages(FPDF):
    """A4 pages with a footer "Page n of N" and, once a table began, its header on top."""

    def __init__(self) -> None:
        super().__init__(format="A4")
        self.core_fonts_encoding = ENCODING
        self.table_columns: Sequence[Column] = ()

    def header(self) -> None:
        if self.table_columns and self.page_no() > 1:
            table_header(self, self.table_columns)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("helvetica", size=8)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")


def render(document: Document) -> bytes:
    """The PDF bytes of ``document`` (deterministic)."""
    pdf = _Pages()
    pdf.alias_nb_pages()
    pdf.set_creation_date(datetime.fromtimestamp(document.issued_ms / 1000, tz=UTC))
    pdf.set_title(printable(f"{document.title} {document.number}"))
    pdf.set_author(printable(document.seller[0] if document.seller else ""))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 18)
    pdf.cell(0, 10, printable(f"{document.title} {document.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    _block(pdf, "From", document.seller)
    _block(pdf, "Bill to", document.customer)
    for name, value in document.facts:
        pdf.cell(40, 6, printable(name))
        pdf.cell(0, 6, printable(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _table(pdf, document.columns, document.rows)
    widths = [column.width for column in document.columns]
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(sum(widths[:-1]), 8, printable(document.total_label), border="T")
    pdf.cell(
        widths[-1],
        8,
        printable(document.total),
        border="T",
        align="R",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


def _block(pdf: FPDF, title: str, lines: Sequence[str]) -> None:
    pdf.set_font("helvetica", "B", 10)
    pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    for line in lines:
        pdf.cell(0, 5, printable(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def table_header(pdf: FPDF, columns: Sequence[Column]) -> None:
    """The table's header row (on the first page and repeated on every next one)."""
    pdf.set_font("helvetica", "B", 9)
    for column in columns:
        pdf.cell(column.width, 7, printable(column.header), border="B", align=column.align)
    pdf.ln()
    pdf.set_font("helvetica", size=9)


def _table(pdf: _Pages, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> None:
    table_header(pdf, columns)
    pdf.table_columns = columns  # from here a page break repeats the header
    for row in rows:
        if pdf.will_page_break(ROW_HEIGHT):
            pdf.add_page()  # header() repeats the table's header
        spanned = _span(row, columns)
        _fitted_cell(pdf, sum(c.width for c in columns[:spanned]), row[0])
        for text, column in zip(row[spanned:], columns[spanned:], strict=True):
            pdf.cell(column.width, ROW_HEIGHT, printable(text), align=column.align)
        pdf.ln()
    pdf.table_columns = ()
    if pdf.will_page_break(8):
        pdf.add_page()


def _span(row: Sequence[str], columns: Sequence[Column]) -> int:
    """How many columns the first cell (the description) may use: itself and the empty
    cells right after it (a proration line has no quantities)."""
    spanned = 1
    while spanned < len(columns) - 1 and not row[spanned]:
        spanned += 1
    return spanned


MIN_FONT = 6.5


def _fitted_cell(pdf: FPDF, width: float, text: str) -> None:
    """``text`` in one line of ``width``: in a smaller font if it must, cut if even that
    is not enough (the JSON keeps it whole)."""
    text, size = printable(text), 9.0
    while size > MIN_FONT and pdf.get_string_width(text) > width - 2:
        size -= 0.5
        pdf.set_font_size(size)
    while pdf.get_string_width(text) > width - 2 and len(text) > 4:
        text = text[:-4] + "..."
    pdf.cell(width, ROW_HEIGHT, text)
    pdf.set_font_size(9)
