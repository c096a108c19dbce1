"""The returns domain: RMAs (Return) and the shipped orders that bound them (ShippedOrder).

Only stdlib and eventsourcing.domain; no I/O.
"""

from services.returns_service.domain.base import (
    DAMAGED,
    PARTIALLY_RECEIVED,
    RECEIVED,
    REQUESTED,
    SELLABLE,
    IdempotencyKeyReusedError,
    OrderNotReturnableError,
    ReceiveQuantityError,
    ReturnError,
    ReturnLineError,
    ReturnNotFoundError,
    ReturnQuantityError,
    SkuNotShippedError,
    add_receipt,
    line_summary,
    money,
    refund_id_for,
    return_id_for,
    shipped_order_id_for,
    units_per_sku,
)
from services.returns_service.domain.returns import Return
from services.returns_service.domain.shipped_order import ShippedOrder

__all__ = [
    "DAMAGED",
    "PARTIALLY_RECEIVED",
    "RECEIVED",
    "REQUESTED",
    "SELLABLE",
    "IdempotencyKeyReusedError",
    "OrderNotReturnableError",
    "ReceiveQuantityError",
    "Return",
    "ReturnError",
    "ReturnLineError",
    "ReturnNotFoundError",
    "ReturnQuantityError",
    "ShippedOrder",
    "SkuNotShippedError",
    "add_receipt",
    "line_summary",
    "money",
    "refund_id_for",
    "return_id_for",
    "shipped_order_id_for",
    "units_per_sku",
]
