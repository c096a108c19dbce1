"""Paged tables on A4 for the pick list and the packing slip."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from services.fulfillment_service.documents.fonts import BOLD, REGULAR
from services.fulfillment_service.documents.text import draw, fit

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 36
BOTTOM = 48
LINE = 11.5


@dataclass(frozen=True)
class Column:
    """A table column: heading, width in points, right-aligned or not."""

    heading: str
    width: float
    right: bool = False
    bold: bool = False


# A row is a list of cells; a cell is one or more lines of text.
Row = Sequence[Sequence[str]]


def row_height(row: Row) -> float:
    """Height of a row: its tallest cell plus padding."""
    return max(len(cell) for cell in row) * LINE + 5


def paginate(rows: Sequence[Row], first_top: float, top: float) -> list[list[Row]]:
    """Rows split into pages: the first page starts at first_top, the others at top.

    The first page stays empty when not even one row fits there.
    """
    pages: list[list[Row]] = [[]]
    y = first_top
    for row in rows:
        height = row_height(row)
        if y - height < BOTTOM and (pages[-1] or y < top):
            pages.append([])
            y = top
        pages[-1].append(row)
        y -= height
    return pages


def table_bottom(rows: Sequence[Row], top: float) -> float:
    """Where a table drawn from top down ends."""
    return top - LINE - 3 - sum(row_height(row) for row in rows)


def draw_table(
    c: Canvas,
    columns: Sequence[Column],
    rows: Sequence[Row],
    top: float,
    country: str | None = None,
) -> float:
    """Headings and rows from top down; returns the y below the last row.

    country, where the text comes from, picks the font of Chinese characters (fonts.runs).
    """
    x0 = MARGIN
    _cells(c, columns, [[col.heading] for col in columns], x0, top, BOLD, None)
    y = top - LINE - 3
    c.setLineWidth(0.8)
    c.line(x0, y + 2, x0 + sum(col.width for col in columns), y + 2)
    c.setLineWidth(0.3)
    for row in rows:
        _cells(c, columns, row, x0, y - 1, REGULAR, country)
        y -= row_height(row)
        c.line(x0, y + 2, x0 + sum(col.width for col in columns), y + 2)
    return y


def _cells(
    c: Canvas,
    columns: Sequence[Column],
    row: Row,
    x0: float,
    top: float,
    font: str,
    country: str | None,
) -> None:
    x = x0
    for column, cell in zip(columns, row, strict=True):
        face = BOLD if column.bold else font
        for n, text in enumerate(cell):
            text = fit(text, face, 9, column.width - 6, country)
            y = top - 9 - n * LINE
            if column.right:
                draw(c, x + column.width - 4, y, text, face, 9, align="right", country=country)
            else:
                draw(c, x + 2, y, text, face, 9, country=country)
        x += column.width


def footer(c: Canvas, page: int, pages: int, text: str) -> None:
    """Page number and a reference at the bottom of every page."""
    draw(c, MARGIN, 24, fit(text, REGULAR, 7.5, PAGE_WIDTH - 2 * MARGIN - 80), REGULAR, 7.5)
    draw(c, PAGE_WIDTH - MARGIN, 24, f"Page {page} of {pages}", REGULAR, 7.5, align="right")


DrawHeader = Callable[[Canvas, int], float]
