"""The returns domain: RMAs (Return) and the shipped orders that bound them (ShippedOrder).

Only stdlib and eventsourcing.domain; no I/O. Aggregates live one per module, their value
objects in `values`, their errors in `errors`.
"""

from services.returns_service.domain.errors import (
    IdempotencyKeyReusedError,
    OrderNotReturnableError,
    ReceiveQuantityError,
    ReturnError,
    ReturnLineError,
    ReturnNotFoundError,
    ReturnQuantityError,
    SkuNotShippedError,
)
from services.returns_service.domain.returns import (
    Return,
    ReturnStatus,
    add_receipt,
    line_summary,
    refund_id_for,
    return_id_for,
)
from services.returns_service.domain.shipped_order import ShippedOrder, shipped_order_id_for
from services.returns_service.domain.values import (
    Amount,
    Condition,
    ItemQuantity,
    OrderLine,
    Receipt,
    ReceiptLine,
    ReceivedLine,
    Refund,
    RefundLine,
    ReturnLine,
    ReturnLineSummary,
    Settlement,
    Shipment,
    units_per_sku,
)

AGGREGATES = (Return, ShippedOrder)
"""Every aggregate whose events this service stores."""

__all__ = [
    "AGGREGATES",
    "Amount",
    "Condition",
    "IdempotencyKeyReusedError",
    "ItemQuantity",
    "OrderLine",
    "OrderNotReturnableError",
    "Receipt",
    "ReceiptLine",
    "ReceiveQuantityError",
    "ReceivedLine",
    "Refund",
    "RefundLine",
    "Return",
    "ReturnError",
    "ReturnLine",
    "ReturnLineError",
    "ReturnLineSummary",
    "ReturnNotFoundError",
    "ReturnQuantityError",
    "ReturnStatus",
    "Settlement",
    "Shipment",
    "ShippedOrder",
    "SkuNotShippedError",
    "add_receipt",
    "line_summary",
    "refund_id_for",
    "return_id_for",
    "shipped_order_id_for",
    "units_per_sku",
]
