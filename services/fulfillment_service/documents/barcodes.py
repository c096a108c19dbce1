"""Code 128 and GS1-128 barcodes drawn on a reportlab canvas; an SSCC as barcode data."""

from __future__ import annotations

from reportlab.graphics.barcode.code128 import Code128
from reportlab.pdfgen.canvas import Canvas
from stdnum import gs1_128 as gs1_128_data

from services.fulfillment_service.domain.gs1 import SSCC_AI

FNC1 = "\xf1"  # reportlab's Code 128 writes this as the FNC1 function character


def code128(value: str, *, max_width: float, height: float, max_module: float) -> Code128:
    """A Code 128 symbol as wide as allowed, but with modules no wider than max_module."""
    probe = Code128(value, barWidth=1, barHeight=height, humanReadable=False, quiet=False)
    module = min(max_module, max_width / probe.width)
    return Code128(value, barWidth=module, barHeight=height, humanReadable=False, quiet=False)


def gs1_128(element_string: str, *, max_width: float, height: float, max_module: float) -> Code128:
    """A GS1-128 symbol: Code 128 whose data starts with FNC1, then AI and data digits."""
    return code128(FNC1 + element_string, max_width=max_width, height=height, max_module=max_module)


def draw_centered(canvas: Canvas, symbol: Code128, center_x: float, y: float) -> float:
    """Draw a symbol centred on x with its bottom at y; returns its width."""
    canvas.setFillColorRGB(0, 0, 0)
    symbol.drawOn(canvas, center_x - symbol.width / 2, y)
    return float(symbol.width)


def sscc_element_string(sscc: str) -> str:
    """The GS1-128 data of an SSCC: AI (00) followed by the 18 digits (FNC1 goes before it)."""
    return gs1_128_data.encode({SSCC_AI: sscc})


def sscc_text(sscc: str) -> str:
    """The human-readable line under the barcode: (00) and the digits."""
    return f"({SSCC_AI}) {sscc}"
