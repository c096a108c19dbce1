"""Shared words of the returns domain: statuses, ids, money, errors and line arithmetic."""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

REQUESTED = "requested"
PARTIALLY_RECEIVED = "partially_received"
RECEIVED = "received"
SELLABLE = "sellable"
DAMAGED = "damaged"

RETURN_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/returns")
SHIPPED_ORDER_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/returns/shipped-orders")
REFUND_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/refunds")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

Lines = list[dict[str, Any]]


class ReturnError(Exception):
    """Base of returns domain errors."""


class OrderNotReturnableError(ReturnError):
    """The order is unknown here or has not shipped in full, so nothing can be returned yet."""


class ReturnNotFoundError(ReturnError):
    """No return has this id."""


class IdempotencyKeyReusedError(ReturnError):
    """An idempotency key came back with a different request than the one it first named."""


class ReturnLineError(ReturnError):
    """A line asks for more units of a SKU than are available."""

    limit_name = "available"

    def __init__(self, sku: str, available: int, message: str) -> None:
        super().__init__(message)
        self.sku = sku
        self.available = available

    def details(self) -> dict[str, Any]:
        """The SKU and how many units it allows, for the problem document."""
        return {"sku": self.sku, self.limit_name: self.available}


class SkuNotShippedError(ReturnLineError):
    """The SKU never shipped with this order."""

    limit_name = "returnable"


class ReturnQuantityError(ReturnLineError):
    """More units than shipped minus those already on returns."""

    limit_name = "returnable"


class ReceiveQuantityError(ReturnLineError):
    """More units than the return requested and has not received yet."""

    limit_name = "receivable"


def shipped_order_id_for(order_id: UUID) -> UUID:
    """The ShippedOrder id of an order, so a redelivered OrderShipped finds the same one."""
    return uuid5(SHIPPED_ORDER_NAMESPACE, str(order_id))


def return_id_for(idempotency_key: str | None) -> UUID:
    """The return id derived from the client's idempotency key, or a fresh one without a key."""
    if idempotency_key is None:
        return uuid4()
    return uuid5(RETURN_NAMESPACE, f"idempotency-key:{idempotency_key}")


def refund_id_for(return_id: UUID, sequence: int) -> UUID:
    """The refund of a return's nth receipt."""
    return uuid5(REFUND_NAMESPACE, f"{return_id}:{sequence}")


def money(value: Decimal) -> Decimal:
    """An amount in cents."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def units_per_sku(lines: Lines) -> Counter[str]:
    """Units per SKU over some lines."""
    units: Counter[str] = Counter()
    for line in lines:
        units[line["sku"]] += int(line["quantity"])
    return units


def line_summary(lines: Lines) -> Lines:
    """One row per requested line, nothing received yet."""
    return [
        {
            "sku": line["sku"],
            "reason": line["reason"],
            "requested": int(line["quantity"]),
            "received": 0,
            SELLABLE: 0,
            DAMAGED: 0,
        }
        for line in lines
    ]


def add_receipt(summary: Lines, received: Lines) -> Lines:
    """The line summary after some received units (counted per condition)."""
    rows = [dict(row) for row in summary]
    for line in received:
        matching = [row for row in rows if row["sku"] == line["sku"]]
        if not matching:
            continue
        open_rows = [row for row in matching if row["received"] < row["requested"]]
        row = (open_rows or matching)[0]
        row["received"] += int(line["quantity"])
        row[line["condition"]] += int(line["quantity"])
    return rows
