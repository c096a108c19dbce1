"""Text helpers shared by the PDF documents: fitting strings into columns, PDF-safe text."""

from __future__ import annotations

from reportlab.pdfbase.pdfmetrics import stringWidth

ELLIPSIS = "\u2026"


def safe(text: str) -> str:
    """Text the standard PDF fonts can show (WinAnsi); other characters become '?'."""
    return text.encode("cp1252", errors="replace").decode("cp1252")


def fit(text: str, font: str, size: float, width: float) -> str:
    """The text, cut with an ellipsis so that it fits the width."""
    text = safe(text)
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + ELLIPSIS, font, size) > width:
        text = text[:-1]
    return text + ELLIPSIS


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """The text broken at spaces into lines that fit the width (a long word is cut)."""
    lines: list[str] = []
    current = ""
    for word in safe(text).split():
        candidate = f"{current} {word}".strip()
        if stringWidth(candidate, font, size) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return [fit(line, font, size, width) for line in lines] or [""]


def grams(weight: int) -> str:
    """A weight as printed: kilograms with two decimals."""
    return f"{weight / 1000:.2f} kg"
