"""The 4x6 in. shipping label as ZPL II for 203 dpi printers (812 x 1218 dots)."""

from __future__ import annotations

from collections.abc import Iterable

from services.fulfillment_service.documents.barcodes import sscc_element_string, sscc_text
from services.fulfillment_service.documents.models import LabelDocument, address_lines
from services.fulfillment_service.documents.text import grams

WIDTH_DOTS, LENGTH_DOTS = 812, 1218
MARGIN = 30
# ^FH\ lets field data carry these as hex escapes; ZPL would read them as commands otherwise.
_ESCAPES = str.maketrans({"^": "\\5E", "~": "\\7E", "\\": "\\5C"})
CODE_C, CODE_B, FNC1 = ">;", ">:", ">8"  # ^BC invocation codes: start C, start B, FNC1


def render_zpl(labels: Iterable[LabelDocument]) -> str:
    """One ^XA...^XZ format per label."""
    return "".join(_label(label) for label in labels)


def _text(x: int, y: int, height: int, text: str, bold: bool = False) -> str:
    font = f"^A0N,{height},{height if bold else int(height * 0.9)}"
    return f"^FO{x},{y}{font}^FH\\^FD{text.translate(_ESCAPES)}^FS"


def _rule(y: int) -> str:
    return f"^FO{MARGIN // 2},{y}^GB{WIDTH_DOTS - MARGIN},3,3^FS"


def _label(label: LabelDocument) -> str:
    parts = [
        "^XA^CI28",  # UTF-8 field data
        f"^PW{WIDTH_DOTS}^LL{LENGTH_DOTS}^LH0,0",
        f"^FO{MARGIN // 2},{MARGIN // 2}^GB{WIDTH_DOTS - MARGIN},{LENGTH_DOTS - MARGIN},3^FS",
        *_from(label),
        *_to(label),
        *_carrier(label),
        *_tracking(label),
        *_sscc(label),
        "^XZ\n",
    ]
    return "\n".join(parts)


def _from(label: LabelDocument) -> list[str]:
    lines = [_text(MARGIN, 36, 20, "FROM", bold=True)]
    for n, line in enumerate(address_lines(label.ship_from)):
        lines.append(_text(MARGIN + 90, 36 + 24 * n, 22, line))
    return [*lines, _rule(165)]


def _to(label: LabelDocument) -> list[str]:
    address = address_lines(label.ship_to)
    lines = [
        _text(MARGIN, 180, 22, "SHIP TO", bold=True),
        _text(MARGIN + 20, 215, 44, address[0], bold=True),
    ]
    # Four lines at 38 dots fit above the rule; more (company, state, phone) are set smaller.
    step = min(42, (445 - 268) // max(len(address) - 1, 1))
    for n, line in enumerate(address[1:]):
        lines.append(_text(MARGIN + 20, 268 + step * n, min(38, step - 4), line))
    return [*lines, _rule(450)]


def _carrier(label: LabelDocument) -> list[str]:
    package = f"PKG {label.package_number} of {label.package_count}"
    return [
        _text(MARGIN, 465, 48, label.carrier.upper(), bold=True),
        _text(MARGIN, 520, 30, label.service or ""),
        f"^FO{WIDTH_DOTS - 330},465^FB300,1,0,R^A0N,36,36^FD{package}^FS",
        f"^FO{WIDTH_DOTS - 330},507^FB300,1,0,R^A0N,26,24^FD{grams(label.weight_grams)}^FS",
        f"^FO{WIDTH_DOTS - 430},539^FB400,1,0,R^A0N,24,22^FH\\^FDOrder "
        f"{label.order_number.translate(_ESCAPES)}^FS",
        # What is in the box, one line clipped to the left of the order number.
        f"^FO{MARGIN},552^FB440,1,0,L^A0N,20,18^FH\\^FD{label.contents.translate(_ESCAPES)}^FS",
        _rule(575),
    ]


def _tracking(label: LabelDocument) -> list[str]:
    tracking = label.tracking_number
    numeric = tracking.isdigit() and len(tracking) % 2 == 0
    start = CODE_C if numeric else CODE_B
    modules = (len(tracking) // 2 if numeric else len(tracking)) * 11 + 35
    module = 3 if modules * 3 <= WIDTH_DOTS - 2 * MARGIN - 60 else 2
    left = max(MARGIN, (WIDTH_DOTS - modules * module) // 2)
    return [
        _text(MARGIN, 588, 20, "TRACKING #", bold=True),
        f"^FO{left},615^BY{module}^BCN,150,Y,N,N^FD{start}{tracking}^FS",
        _rule(815),
    ]


def _sscc(label: LabelDocument) -> list[str]:
    # GS1-128: start code C, FNC1, then AI (00) and the 18 digits; 4 dots = 0.5 mm modules.
    data = sscc_element_string(label.sscc)
    modules = (len(data) // 2 + 3) * 11 + 2
    left = (WIDTH_DOTS - modules * 4) // 2
    return [
        _text(MARGIN, 828, 20, "SSCC", bold=True),
        f"^FO{left},855^BY4^BCN,256,N,N,N^FD{CODE_C}{FNC1}{data}^FS",
        f"^FO0,1122^FB{WIDTH_DOTS},1,0,C^A0N,34,32^FD{sscc_text(label.sscc)}^FS",
    ]
