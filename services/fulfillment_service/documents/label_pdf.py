"""The 4x6 in. shipping label as PDF: addresses, carrier, tracking Code 128, SSCC GS1-128."""

from __future__ import annotations

import io
from collections.abc import Iterable

from reportlab.lib.units import inch, mm
from reportlab.pdfgen.canvas import Canvas

from services.fulfillment_service.documents.barcodes import (
    code128,
    draw_centered,
    gs1_128,
    sscc_element_string,
    sscc_text,
)
from services.fulfillment_service.documents.models import LabelDocument, address_lines
from services.fulfillment_service.documents.text import fit, grams

WIDTH, HEIGHT = 4 * inch, 6 * inch
MARGIN = 12
INNER = WIDTH - 2 * MARGIN
# GS1 logistic label: X-dimension 0.495-1.016 mm, bar height at least 32 mm for the SSCC.
SSCC_MODULE = 0.5 * mm
SSCC_HEIGHT = 32 * mm
BOLD, REGULAR = "Helvetica-Bold", "Helvetica"


def render_labels(labels: Iterable[LabelDocument]) -> bytes:
    """One 4x6 in. page per label, in one PDF."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(WIDTH, HEIGHT), pageCompression=1)
    canvas.setTitle("Shipping labels")
    for label in labels:
        _draw(canvas, label)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw(c: Canvas, label: LabelDocument) -> None:
    c.setLineWidth(1.2)
    c.rect(MARGIN / 2, MARGIN / 2, WIDTH - MARGIN, HEIGHT - MARGIN)
    # Bands from the top: from 48 pt, to 100, carrier 46, tracking 82, SSCC the rest (~124).
    _from(c, label, top=HEIGHT - MARGIN)
    _to(c, label, top=HEIGHT - 62)
    _carrier(c, label, top=HEIGHT - 164)
    _tracking(c, label, top=HEIGHT - 212)
    _sscc(c, label, top=HEIGHT - 296)


def _rule(c: Canvas, y: float) -> None:
    c.line(MARGIN / 2, y, WIDTH - MARGIN / 2, y)


def _caption(c: Canvas, text: str, y: float) -> None:
    c.setFont(BOLD, 7)
    c.drawString(MARGIN, y, text)


def _from(c: Canvas, label: LabelDocument, top: float) -> None:
    _caption(c, "FROM", top - 8)
    c.setFont(REGULAR, 7.5)
    for n, line in enumerate(address_lines(label.ship_from)):
        c.drawString(MARGIN + 30, top - 8 - 8.5 * n, fit(line, REGULAR, 7.5, INNER - 30))
    _rule(c, top - 48)


def _to(c: Canvas, label: LabelDocument, top: float) -> None:
    _caption(c, "SHIP TO", top - 10)
    lines = address_lines(label.ship_to)
    c.setFont(BOLD, 14)
    c.drawString(MARGIN + 8, top - 27, fit(lines[0], BOLD, 14, INNER - 8))
    # Four lines at 12.5 pt fit the band; more (company, state, phone) are set closer and smaller.
    step = min(14.5, 54 / max(len(lines) - 2, 1))
    size = min(12.5, step - 1.5)
    c.setFont(REGULAR, size)
    for n, line in enumerate(lines[1:]):
        c.drawString(MARGIN + 8, top - 43 - step * n, fit(line, REGULAR, size, INNER - 8))
    _rule(c, top - 100)


def _carrier(c: Canvas, label: LabelDocument, top: float) -> None:
    c.setFont(BOLD, 16)
    c.drawString(MARGIN, top - 18, fit(label.carrier.upper(), BOLD, 16, INNER * 0.6))
    c.setFont(REGULAR, 10)
    c.drawString(MARGIN, top - 32, fit(label.service or "", REGULAR, 10, INNER * 0.6))
    c.setFont(BOLD, 12)
    package = f"PKG {label.package_number} of {label.package_count}"
    c.drawRightString(WIDTH - MARGIN, top - 16, package)
    c.setFont(REGULAR, 8)
    c.drawRightString(WIDTH - MARGIN, top - 27, grams(label.weight_grams))
    c.drawRightString(WIDTH - MARGIN, top - 37, fit(f"Order {label.order_number}", REGULAR, 8, 110))
    if label.contents:
        c.setFont(REGULAR, 6.5)
        c.drawString(MARGIN, top - 42, fit(label.contents, REGULAR, 6.5, INNER * 0.62))
    _rule(c, top - 46)


def _tracking(c: Canvas, label: LabelDocument, top: float) -> None:
    _caption(c, "TRACKING #", top - 9)
    symbol = code128(label.tracking_number, max_width=INNER - 24, height=48, max_module=1.3)
    draw_centered(c, symbol, WIDTH / 2, top - 61)
    c.setFont(BOLD, 11)
    c.drawCentredString(WIDTH / 2, top - 74, fit(label.tracking_number, BOLD, 11, INNER))
    _rule(c, top - 82)


def _sscc(c: Canvas, label: LabelDocument, top: float) -> None:
    _caption(c, "SSCC", top - 9)
    symbol = gs1_128(
        sscc_element_string(label.sscc),
        max_width=INNER - 20,
        height=SSCC_HEIGHT,
        max_module=SSCC_MODULE,
    )
    draw_centered(c, symbol, WIDTH / 2, top - 12 - SSCC_HEIGHT)
    c.setFont(BOLD, 11)
    c.drawCentredString(WIDTH / 2, top - 24 - SSCC_HEIGHT, sscc_text(label.sscc))
