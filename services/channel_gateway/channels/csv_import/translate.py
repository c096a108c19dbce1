"""CSV rows (one per order line, grouped by order_ref) -> canonical orders; pure.

Every bad row is reported with its line number and reason; an order with a bad row is not
imported at all, so a half order never enters the OMS. The order_ref is the external id, so a
file imported twice places each order once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from services.channel_gateway.application import Translation
from services.channel_gateway.channels.base import ChannelLine, Connection, finish

COLUMNS = (
    "order_ref",
    "customer_name",
    "customer_email",
    "ship_name",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_postal_code",
    "ship_country",
    "sku",
    "quantity",
    "unit_price",
    "currency",
)
REQUIRED_COLUMNS = ("order_ref", "sku", "quantity", "unit_price", "currency")
ORDER_FIELDS = tuple(c for c in COLUMNS if c not in ("sku", "quantity", "unit_price"))


@dataclass
class RowError:
    """A row that cannot be imported, by its line number in the file."""

    line: int
    reason: str


@dataclass
class CsvOrder:
    """The rows of one order_ref, and its translation when every row was good."""

    order_ref: str
    lines: list[int] = field(default_factory=list)
    translation: Translation | None = None
    rejected: bool = False


def missing_columns(header: list[str]) -> list[str]:
    """Required columns absent from a header row."""
    return [c for c in REQUIRED_COLUMNS if c not in header]


def translate_rows(
    connection: Connection, rows: list[tuple[int, dict[str, str]]]
) -> tuple[list[CsvOrder], list[RowError]]:
    """Group rows into orders and translate each order whose rows are all good."""
    errors: list[RowError] = []
    orders: dict[str, CsvOrder] = {}
    good: dict[str, list[tuple[int, dict[str, str], ChannelLine]]] = {}
    for number, row in rows:
        ref = (row.get("order_ref") or "").strip()
        if not ref:
            errors.append(RowError(number, "order_ref is empty"))
            continue
        order = orders.setdefault(ref, CsvOrder(ref))
        order.lines.append(number)
        try:
            line = _line(row)
            _same_order(row, good.get(ref))
        except ValueError as error:
            errors.append(RowError(number, str(error)))
            order.rejected = True
            continue
        good.setdefault(ref, []).append((number, row, line))
    for ref, order in orders.items():
        if not order.rejected and good.get(ref):
            order.translation = _translate(connection, ref, good[ref])
    return list(orders.values()), errors


def _line(row: dict[str, str]) -> ChannelLine:
    sku = (row.get("sku") or "").strip()
    if not sku:
        raise ValueError("sku is empty")
    if not re.fullmatch(r"[A-Za-z0-9._\-/]{1,64}", sku):
        raise ValueError(f"sku {sku!r} has characters a SKU cannot have")
    raw_quantity = (row.get("quantity") or "").strip()
    if not raw_quantity.isdigit() or int(raw_quantity) <= 0:
        raise ValueError(f"quantity {raw_quantity!r} is not a whole number above 0")
    raw_price = (row.get("unit_price") or "").strip().replace(",", ".")
    try:
        price = Decimal(raw_price)
    except InvalidOperation:
        raise ValueError(f"unit_price {raw_price!r} is not a number") from None
    if not price.is_finite() or price < 0:
        raise ValueError(f"unit_price {raw_price!r} is not a price")
    currency = (row.get("currency") or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValueError(f"currency {currency!r} is not a three-letter ISO 4217 code")
    return ChannelLine(channel_sku=sku, quantity=int(raw_quantity), unit_price=price)


def _same_order(row: dict[str, str], earlier: list[Any] | None) -> None:
    if not earlier:
        return
    first_line, first, _ = earlier[0]
    for column in ORDER_FIELDS:
        if (row.get(column) or "").strip() and (row.get(column) or "").strip() != (
            first.get(column) or ""
        ).strip():
            raise ValueError(f"{column} differs from line {first_line} of the same order_ref")


def _translate(
    connection: Connection, ref: str, rows: list[tuple[int, dict[str, str], ChannelLine]]
) -> Translation:
    first = rows[0][1]

    def get(column: str) -> str | None:
        return (first.get(column) or "").strip() or None

    has_address = any(get(c) for c in ("ship_line1", "ship_city", "ship_postal_code"))
    currency = get("currency")
    return finish(
        connection,
        ref,
        {"rows": [{"line": n, **row} for n, row, _ in rows]},
        customer={"name": get("customer_name"), "email": get("customer_email")},
        shipping_address={
            "name": get("ship_name") or get("customer_name"),
            "line1": get("ship_line1"),
            "line2": get("ship_line2"),
            "city": get("ship_city"),
            "postal_code": get("ship_postal_code"),
            "country": get("ship_country"),
        }
        if has_address
        else None,
        lines=[line for _, _, line in rows],
        currency=currency.upper() if currency else None,
        refs={"lines_in_file": [n for n, _, _ in rows]},
    )
