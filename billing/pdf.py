"""PDF invoices and receipts with fpdf2: pure Python, no system libraries, and the core
Helvetica font (nothing embedded), so the same document always renders to the same bytes
(the creation date is the document's own date, and fpdf2 derives the file ID from the
content). Text outside Latin-1 is replaced, since the core fonts cannot show it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from fpdf import FPDF


@dataclass(frozen=True, slots=True)
class Row:
    """One printed line: description, quantity columns (text, may be empty) and amount."""

    description: str
    quantity: str
    included: str
    overage: str
    unit_price: str
    amount: str


@dataclass(frozen=True, slots=True)
class Document:
    """What an invoice or a receipt states."""

    title: str
    number: str
    issued_ms: int
    seller: Sequence[str]
    customer: Sequence[str]
    facts: Sequence[tuple[str, str]]  # period, currency, ...
    rows: Sequence[Row]
    total_label: str
    total: str


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


WIDTHS = (74, 20, 18, 18, 24, 26)
HEADERS = ("Description", "Quantity", "Included", "Overage", "Unit price", "Amount")


def render(document: Document) -> bytes:
    """The PDF bytes of ``document`` (deterministic)."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime.fromtimestamp(document.issued_ms / 1000, tz=UTC))
    pdf.set_title(_latin1(f"{document.title} {document.number}"))
    pdf.set_author(_latin1(document.seller[0] if document.seller else ""))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 18)
    pdf.cell(0, 10, _latin1(f"{document.title} {document.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    _block(pdf, "From", document.seller)
    _block(pdf, "Bill to", document.customer)
    for name, value in document.facts:
        pdf.cell(40, 6, _latin1(name))
        pdf.cell(0, 6, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _table(pdf, document.rows)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(sum(WIDTHS[:-1]), 8, _latin1(document.total_label), border="T")
    pdf.cell(
        WIDTHS[-1], 8, _latin1(document.total), border="T", align="R", new_x="LMARGIN", new_y="NEXT"
    )
    return bytes(pdf.output())


def _block(pdf: FPDF, title: str, lines: Sequence[str]) -> None:
    pdf.set_font("helvetica", "B", 10)
    pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    for line in lines:
        pdf.cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _table(pdf: FPDF, rows: Sequence[Row]) -> None:
    pdf.set_font("helvetica", "B", 9)
    for header, width in zip(HEADERS, WIDTHS, strict=True):
        pdf.cell(width, 7, header, border="B", align="L" if header == "Description" else "R")
    pdf.ln()
    pdf.set_font("helvetica", size=9)
    for row in rows:
        cells = (row.quantity, row.included, row.overage, row.unit_price, row.amount)
        pdf.cell(WIDTHS[0], 6, _latin1(row.description))
        for text, width in zip(cells, WIDTHS[1:], strict=True):
            pdf.cell(width, 6, _latin1(text), align="R")
        pdf.ln()
