"""The packing slip as PDF: order number and date, ship-to, what is in the box and what follows."""

from __future__ import annotations

import io

from reportlab.pdfgen.canvas import Canvas

from services.fulfillment_service.documents.fonts import BOLD, REGULAR
from services.fulfillment_service.documents.models import PackingSlipDocument, address_lines
from services.fulfillment_service.documents.pages import (
    MARGIN,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    Column,
    draw_table,
    footer,
    paginate,
)
from services.fulfillment_service.documents.text import draw, fit, grams, wrap

COLUMNS = (
    Column("SKU", 120),
    Column("Description", 193),
    Column("Ordered", 60, right=True),
    Column("In this shipment", 90, right=True),
    Column("To follow", 60, right=True),
)
FIRST_TOP = PAGE_HEIGHT - 215
TOP = PAGE_HEIGHT - 100
NOTE_LINES = 6  # of the customer's note on the slip; a longer note is cut with an ellipsis
NOTE_LINE = 11.5


def render_packing_slip(doc: PackingSlipDocument) -> bytes:
    """The slip, paged; it never shows a price."""
    country = doc.ship_to["country"]
    rows = [
        [
            [line.sku],
            wrap(line.description, REGULAR, 9, COLUMNS[1].width - 6, country)[:2],
            [str(line.ordered)],
            [str(line.in_shipment)],
            [str(line.to_follow) if line.to_follow else "-"],
        ]
        for line in doc.lines
    ]
    note = _note_lines(doc.note, country)
    first_top = FIRST_TOP - (16 + NOTE_LINE * len(note) if note else 0)
    pages = paginate(rows, first_top, TOP - 60)
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=1)
    c.setTitle(f"Packing slip {doc.order_number}")
    for number, page in enumerate(pages, start=1):
        _header(c, doc)
        if number == 1:
            _addresses(c, doc)
            _note(c, note, country)
        bottom = draw_table(c, COLUMNS, page, first_top if number == 1 else TOP, country)
        if number == len(pages):
            _closing(c, doc, bottom - 16)
        footer(c, number, len(pages), f"Shipment {doc.shipment_id}")
        c.showPage()
    c.save()
    return buffer.getvalue()


def _header(c: Canvas, doc: PackingSlipDocument) -> None:
    top = PAGE_HEIGHT - MARGIN
    right = PAGE_WIDTH - MARGIN
    draw(c, MARGIN, top - 20, "PACKING SLIP", BOLD, 20)
    order = fit(f"Order {doc.order_number}", BOLD, 11, 260)
    draw(c, right, top - 14, order, BOLD, 11, align="right")
    draw(c, right, top - 28, f"Order date {doc.order_date}", REGULAR, 9, align="right")
    draw(c, right, top - 40, f"Shipment {doc.shipment_id}", REGULAR, 8, align="right")


def _addresses(c: Canvas, doc: PackingSlipDocument) -> None:
    top = PAGE_HEIGHT - MARGIN - 70
    for x, caption, address in (
        (MARGIN, "From", doc.ship_from),
        (PAGE_WIDTH / 2, "Ship to", doc.ship_to),
    ):
        draw(c, x, top, caption, BOLD, 9)
        country = address["country"]
        for n, line in enumerate(address_lines(address)):
            text = fit(line, REGULAR, 10, PAGE_WIDTH / 2 - MARGIN - 10, country)
            draw(c, x, top - 15 - 13 * n, text, REGULAR, 10, country=country)


def _note_lines(note: str | None, country: str) -> list[str]:
    """The customer's note wrapped to the page, at most NOTE_LINES lines."""
    if not note:
        return []
    lines = wrap(note, REGULAR, 9, PAGE_WIDTH - 2 * MARGIN, country)
    if len(lines) > NOTE_LINES:
        last = fit(lines[NOTE_LINES - 1] + " \u2026", REGULAR, 9, PAGE_WIDTH, country)
        lines = [*lines[: NOTE_LINES - 1], last]
    return lines


def _note(c: Canvas, lines: list[str], country: str) -> None:
    """The customer's note above the table, for the packer to see."""
    if not lines:
        return
    draw(c, MARGIN, FIRST_TOP - 4, "Note from the customer", BOLD, 9)
    for n, line in enumerate(lines, start=1):
        draw(c, MARGIN, FIRST_TOP - 4 - NOTE_LINE * n, line, REGULAR, 9, country=country)


def _closing(c: Canvas, doc: PackingSlipDocument, y: float) -> None:
    if any(line.to_follow for line in doc.lines):
        later = "Items marked 'to follow' will be sent in a later shipment."
        draw(c, MARGIN, y, later, REGULAR, 9)
        y -= 14
    if doc.carrier:
        draw(c, MARGIN, y, fit(f"Carrier {doc.carrier}", REGULAR, 9, 500), REGULAR, 9)
        y -= 12
    for n, (sscc, weight, tracking) in enumerate(doc.packages, start=1):
        text = f"Package {n} of {len(doc.packages)}: SSCC {sscc}, {grams(weight)}"
        draw(c, MARGIN, y, text + (f", tracking {tracking}" if tracking else ""), REGULAR, 9)
        y -= 12
