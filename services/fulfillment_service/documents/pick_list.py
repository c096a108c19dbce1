"""The pick list as PDF: location, id as Code 128, lines in pick-path order, slot breakdown."""

from __future__ import annotations

import io

from reportlab.pdfgen.canvas import Canvas

from services.fulfillment_service.documents.barcodes import code128
from services.fulfillment_service.documents.fonts import BOLD, REGULAR
from services.fulfillment_service.documents.models import PickLine, PickListDocument
from services.fulfillment_service.documents.pages import (
    MARGIN,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    Column,
    Row,
    draw_table,
    footer,
    paginate,
    table_bottom,
)
from services.fulfillment_service.documents.text import draw, fit, wrap

COLUMNS = (
    Column("#", 24, right=True),
    Column("Bin", 66, bold=True),
    Column("SKU", 106),
    Column("Description", 134),
    Column("Qty", 34, right=True),
    Column("Slot \u00d7 units", 118),
    Column("Picked", 41),
)
SLOT_COLUMNS = (Column("Slot", 40, right=True), Column("Order", 200), Column("Shipment", 283))
FIRST_TOP = PAGE_HEIGHT - 130
SLOT_GAP = 36
TOP = PAGE_HEIGHT - 110


def render_pick_list(doc: PickListDocument) -> bytes:
    """The pick list, paged; the slots and their orders follow the lines."""
    pages = paginate([_row(n, line) for n, line in enumerate(doc.lines, start=1)], FIRST_TOP, TOP)
    lines_end = table_bottom(pages[-1], FIRST_TOP if len(pages) == 1 else TOP)
    slot_rows = [[[str(slot)], [order], [shipment]] for slot, order, shipment in doc.slots]
    # The slot table starts under the lines when it fits, else on the next page.
    slot_pages = paginate(slot_rows, lines_end - SLOT_GAP, TOP - SLOT_GAP)
    total = len(pages) + len(slot_pages) - 1
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=1)
    c.setTitle(f"Pick list {doc.pick_list_id}")
    reference = f"Pick list {doc.pick_list_id} - {doc.location_id}"
    for number, page in enumerate(pages, start=1):
        _header(c, doc, first=number == 1)
        draw_table(c, COLUMNS, page, FIRST_TOP if number == 1 else TOP)
        if number < len(pages):
            footer(c, number, total, reference)
            c.showPage()
    for number, page in enumerate(slot_pages, start=len(pages)):
        if number > len(pages):
            _header(c, doc, first=False)
        if page:
            top = (lines_end if number == len(pages) else TOP) - SLOT_GAP
            draw(c, MARGIN, top + 8, "Slots (totes) and their orders", BOLD, 11)
            draw_table(c, SLOT_COLUMNS, page, top)
        footer(c, number, total, reference)
        c.showPage()
    c.save()
    return buffer.getvalue()


def _row(number: int, line: PickLine) -> Row:
    slots = ", ".join(f"{slot}\u00d7{units}" for slot, units in line.slots)
    return [
        [str(number)],
        [line.bin or "(no bin)"],
        [line.sku],
        wrap(line.description, REGULAR, 9, COLUMNS[3].width - 6)[:2],
        [str(line.quantity)],
        wrap(slots, REGULAR, 9, COLUMNS[5].width - 6),
        ["[   ]"],
    ]


def _header(c: Canvas, doc: PickListDocument, first: bool) -> None:
    top = PAGE_HEIGHT - MARGIN
    draw(c, MARGIN, top - 20, "PICK LIST", BOLD, 20)
    location = fit(f"Location {doc.location_id}  {doc.location_name}", REGULAR, 9.5, 240)
    draw(c, MARGIN, top - 36, location, REGULAR, 9.5)
    draw(c, MARGIN, top - 49, f"Created {doc.created_at}", REGULAR, 9.5)
    units = sum(line.quantity for line in doc.lines)
    counts = f"{len(doc.slots)} shipments, {len(doc.lines)} lines, {units} units"
    draw(
        c,
        MARGIN,
        top - 62,
        counts + (f", carrier {doc.carrier}" if doc.carrier else ""),
        REGULAR,
        9.5,
    )
    symbol = code128(doc.pick_list_id, max_width=290, height=34, max_module=0.9)
    symbol.drawOn(c, PAGE_WIDTH - MARGIN - symbol.width, top - 44)
    draw(c, PAGE_WIDTH - MARGIN, top - 54, doc.pick_list_id, REGULAR, 7.5, align="right")
    if first and doc.status != "open":
        draw(c, PAGE_WIDTH - MARGIN, top - 68, doc.status.upper(), BOLD, 10, align="right")
