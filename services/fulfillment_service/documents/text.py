"""Text helpers shared by the PDF documents: measuring, fitting and drawing text in any script."""

from __future__ import annotations

from typing import Literal

from reportlab.pdfgen.canvas import Canvas

from services.fulfillment_service.documents.fonts import CJK, run_width, runs

ELLIPSIS = "\u2026"
Align = Literal["left", "right", "centre"]


def width(text: str, face: str, size: float, country: str | None = None) -> float:
    """Width of the text in points, each character in the font that prints it."""
    return run_width(runs(text, face, country), size)


def fit(text: str, face: str, size: float, room: float, country: str | None = None) -> str:
    """The text, cut with an ellipsis so that it fits the room."""
    if width(text, face, size, country) <= room:
        return text
    while text and width(text + ELLIPSIS, face, size, country) > room:
        text = text[:-1]
    return text + ELLIPSIS


def wrap(text: str, face: str, size: float, room: float, country: str | None = None) -> list[str]:
    """The text broken at spaces into lines that fit the room.

    A word too long for a line is broken between Chinese, Japanese or Korean characters, which
    need no space to break at; any other long word is cut.
    """
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if width(candidate, face, size, country) <= room or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
        while width(current, face, size, country) > room and _cjk(current):
            head = _longest_head(current, face, size, room, country)
            if not head:
                break
            lines.append(head)
            current = current[len(head) :].lstrip()
    if current:
        lines.append(current)
    return [fit(line, face, size, room, country) for line in lines] or [""]


def _cjk(text: str) -> bool:
    return any(low <= ord(char) <= high for char in text for low, high in CJK)


def _longest_head(text: str, face: str, size: float, room: float, country: str | None) -> str:
    """The longest start of the text that fits, ending just before a CJK character."""
    best = ""
    for end in range(1, len(text)):
        if width(text[:end], face, size, country) > room:
            break
        if _cjk(text[end]):
            best = text[:end]
    return best


def draw(
    c: Canvas,
    x: float,
    y: float,
    text: str,
    face: str,
    size: float,
    *,
    align: Align = "left",
    country: str | None = None,
) -> None:
    """Draw the text run by run from x (or ending at x, or centred on it); sets the font."""
    parts = runs(text, face, country)
    total = run_width(parts, size)
    x -= {"left": 0.0, "right": total, "centre": total / 2}[align]
    for part in parts:
        c.setFont(part.font, size)
        c.drawString(x, y, part.text)
        x += run_width((part,), size)


def grams(weight: int) -> str:
    """A weight as printed: kilograms with two decimals."""
    return f"{weight / 1000:.2f} kg"
