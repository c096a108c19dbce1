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
from services.fulfillment_service.documents.fonts import BOLD, REGULAR
from services.fulfillment_service.documents.models import LabelDocument, address_lines
from services.fulfillment_service.documents.text import draw, fit, grams

WIDTH, HEIGHT = 4 * inch, 6 * inch
MARGIN = 12
INNER = WIDTH - 2 * MARGIN
# GS1 logistic label: X-dimension 0.495-1.016 mm, bar height at least 32 mm for the SSCC.
SSCC_MODULE = 0.5 * mm
SSCC_HEIGHT = 32 * mm


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
    draw(c, MARGIN, y, text, BOLD, 7)


def _from(c: Canvas, label: LabelDocument, top: float) -> None:
    _caption(c, "FROM", top - 8)
    country = label.ship_from["country"]
    for n, line in enumerate(address_lines(label.ship_from)):
        text = fit(line, REGULAR, 7.5, INNER - 30, country)
        draw(c, MARGIN + 30, top - 8 - 8.5 * n, text, REGULAR, 7.5, country=country)
    _rule(c, top - 48)


def _to(c: Canvas, label: LabelDocument, top: float) -> None:
    _caption(c, "SHIP TO", top - 10)
    lines = address_lines(label.ship_to)
    country = label.ship_to["country"]
    name = fit(lines[0], BOLD, 14, INNER - 8, country)
    draw(c, MARGIN + 8, top - 27, name, BOLD, 14, country=country)
    # Four lines at 12.5 pt fit the band; more (company, state, phone) are set closer and smaller.
    step = min(14.5, 54 / max(len(lines) - 2, 1))
    size = min(12.5, step - 1.5)
    for n, line in enumerate(lines[1:]):
        text = fit(line, REGULAR, size, INNER - 8, country)
        draw(c, MARGIN + 8, top - 43 - step * n, text, REGULAR, size, country=country)
    _rule(c, top - 100)


def _carrier(c: Canvas, label: LabelDocument, top: float) -> None:
    right = WIDTH - MARGIN
    draw(c, MARGIN, top - 18, fit(label.carrier.upper(), BOLD, 16, INNER * 0.6), BOLD, 16)
    draw(c, MARGIN, top - 32, fit(label.service or "", REGULAR, 10, INNER * 0.6), REGULAR, 10)
    package = f"PKG {label.package_number} of {label.package_count}"
    draw(c, right, top - 16, package, BOLD, 12, align="right")
    draw(c, right, top - 27, grams(label.weight_grams), REGULAR, 8, align="right")
    order = fit(f"Order {label.order_number}", REGULAR, 8, 110)
    draw(c, right, top - 37, order, REGULAR, 8, align="right")
    if label.contents:
        country = label.ship_to["country"]
        contents = fit(label.contents, REGULAR, 6.5, INNER * 0.62, country)
        draw(c, MARGIN, top - 42, contents, REGULAR, 6.5, country=country)
    _rule(c, top - 46)


def _tracking(c: Canvas, label: LabelDocument, top: float) -> None:
    _caption(c, "TRACKING #", top - 9)
    symbol = code128(label.tracking_number, max_width=INNER - 24, height=48, max_module=1.3)
    draw_centered(c, symbol, WIDTH / 2, top - 61)
    tracking = fit(label.tracking_number, BOLD, 11, INNER)
    draw(c, WIDTH / 2, top - 74, tracking, BOLD, 11, align="centre")
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
    draw(c, WIDTH / 2, top - 24 - SSCC_HEIGHT, sscc_text(label.sscc), BOLD, 11, align="centre")
