"""Value objects of the returns domain: lines, shipments, receipts, refunds and money.

They are TypedDicts, so they stay plain dicts at run time and the stored JSON is what it was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import NotRequired, TypedDict
from uuid import UUID

Amount = str
"""Money as stored events carry it: a plain decimal string ('49.80'), never a float."""

ZERO = Decimal("0.00")


class Condition(StrEnum):
    """How a returned unit arrived: it goes back on sale, or it does not."""

    SELLABLE = "sellable"
    DAMAGED = "damaged"


class OrderLine(TypedDict):
    """Units of one SKU an order shipped, at the price paid for each."""

    sku: str
    quantity: int
    unit_price: Amount
    paid: NotRequired[Amount]  # what was paid for the line's units (absent on older orders)


class ShortLine(TypedDict):
    """Units of an order line that did not ship (a short pick), and what was paid for them."""

    sku: str
    quantity: int
    paid: Amount


class RefundReason(StrEnum):
    """Why money went back: a return, or one of the reasons for a refund without a return."""

    RETURN = "return"
    SHORT_PICK = "short_pick"  # units that never shipped
    LOST_PARCEL = "lost_parcel"
    GOODWILL = "goodwill"
    OTHER = "other"
    LINE_CANCELLED = "line_cancelled"  # units an edit of the order cancelled before shipping


class RefundKind(StrEnum):
    """What a refund pays back: units (at what was paid for them) or an amount of money only."""

    UNITS = "units"
    AMOUNT = "amount"


class ShippingRefundRule(StrEnum):
    """When what was paid for shipping goes back: with the return of every shipped unit (as EU
    law wants for a withdrawal), or never by itself (ops may refund it as an amount)."""

    FULL_RETURN = "full_return"
    NEVER = "never"


class ShortPickPolicy(StrEnum):
    """What becomes of units an order could not ship: refunded at once, or held for ops."""

    REFUND = "refund"
    HOLD = "hold"


class ItemQuantity(TypedDict):
    """Units of one SKU (a line of a shipment)."""

    sku: str
    quantity: int


class Shipment(TypedDict):
    """A shipment that left for the order: where from, with whom, carrying what."""

    shipment_id: str
    location_id: str
    carrier: str
    tracking_number: str
    lines: list[ItemQuantity]


class ReturnLine(TypedDict):
    """Units of one SKU the customer asks to send back, and why."""

    sku: str
    quantity: int
    reason: str


class ReceiptLine(TypedDict):
    """Units of one SKU that came back, as inspected."""

    sku: str
    quantity: int
    condition: Condition


class ReceivedLine(TypedDict):
    """Units of one SKU that came back, and the location they go back to."""

    sku: str
    quantity: int
    condition: Condition
    location_id: str


class RefundLine(TypedDict):
    """Money back for units of one SKU."""

    sku: str
    quantity: int
    amount: Amount


class ReturnLineSummary(TypedDict):
    """A requested line with what came back of it so far, per condition."""

    sku: str
    reason: str
    requested: int
    received: int
    sellable: int
    damaged: int


class Settlement(TypedDict):
    """What a shipped order settles for one receipt: where units go back, and the refund
    (`shipping`: the part of `amount` that pays back shipping, when the receipt completes a
    full return and the shipping rule says so)."""

    sequence: int
    lines: list[ReceivedLine]
    refund_lines: list[RefundLine]
    amount: Amount
    full_amount: Amount
    capped: bool
    currency: str
    shipping: NotRequired[Amount]


class RefundSettlement(TypedDict):
    """What a shipped order settles for a refund without a return: the money and its lines.

    With kind `amount` the lines only spread the amount over the SKUs it is counted against
    (their quantities are those SKUs' units); with `units` they are the units refunded.
    """

    kind: RefundKind
    short: bool  # the lines are units that never shipped (a short pick)
    lines: list[RefundLine]
    amount: Amount
    full_amount: Amount
    capped: bool
    currency: str


class Receipt(TypedDict):
    """One parcel received against a return."""

    sequence: int
    lines: list[ReceivedLine]
    idempotency_key: str | None
    received_at: datetime


class Refund(TypedDict):
    """Money back for one receipt; capped says it was cut to what was left of what was paid."""

    refund_id: UUID
    return_id: UUID
    order_id: UUID
    sequence: int
    amount: Amount
    full_amount: Amount
    capped: bool
    currency: str
    lines: list[RefundLine]
    refunded_at: datetime


SkuLine = (
    ItemQuantity | OrderLine | ShortLine | ReturnLine | ReceiptLine | ReceivedLine | RefundLine
)
"""Any line that counts units of a SKU."""


def units_per_sku(lines: Iterable[SkuLine]) -> Counter[str]:
    """Units per SKU over some lines."""
    units: Counter[str] = Counter()
    for line in lines:
        units[line["sku"]] += line["quantity"]
    return units
