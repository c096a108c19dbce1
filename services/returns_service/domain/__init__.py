"""The returns domain: RMAs (Return), refunds without a return (RefundWithoutReturn) and the
shipped orders that bound them both (ShippedOrder).

Only stdlib and eventsourcing.domain; no I/O. Aggregates live one per module, their value
objects in `values`, their errors in `errors`.
"""

from services.returns_service.domain.channel_refunds import (
    EarlyChannelRefunds,
    early_channel_refunds_id_for,
)
from services.returns_service.domain.errors import (
    AmountPlacesError,
    IdempotencyKeyReusedError,
    OrderNotRefundableError,
    OrderNotReturnableError,
    OverRefundError,
    ReceiveQuantityError,
    RefundAmountError,
    RefundQuantityError,
    ReturnError,
    ReturnLineError,
    ReturnNotFoundError,
    ReturnQuantityError,
    SkuNotShippedError,
)
from services.returns_service.domain.refunds import (
    RefundWithoutReturn,
    cancelled_units_refund_id_for,
    refund_without_return_id_for,
    short_pick_refund_id_for,
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
    RefundKind,
    RefundLine,
    RefundReason,
    RefundSettlement,
    ReturnLine,
    ReturnLineSummary,
    Settlement,
    Shipment,
    ShippingRefundRule,
    ShortLine,
    ShortPickPolicy,
    units_per_sku,
)

AGGREGATES = (Return, ShippedOrder, RefundWithoutReturn, EarlyChannelRefunds)
"""Every aggregate whose events this service stores."""

__all__ = [
    "AGGREGATES",
    "Amount",
    "AmountPlacesError",
    "Condition",
    "EarlyChannelRefunds",
    "IdempotencyKeyReusedError",
    "ItemQuantity",
    "OrderLine",
    "OrderNotRefundableError",
    "OrderNotReturnableError",
    "OverRefundError",
    "Receipt",
    "ReceiptLine",
    "ReceiveQuantityError",
    "ReceivedLine",
    "Refund",
    "RefundAmountError",
    "RefundKind",
    "RefundLine",
    "RefundQuantityError",
    "RefundReason",
    "RefundSettlement",
    "RefundWithoutReturn",
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
    "ShippingRefundRule",
    "ShortLine",
    "ShortPickPolicy",
    "SkuNotShippedError",
    "add_receipt",
    "cancelled_units_refund_id_for",
    "early_channel_refunds_id_for",
    "line_summary",
    "refund_id_for",
    "refund_without_return_id_for",
    "return_id_for",
    "shipped_order_id_for",
    "short_pick_refund_id_for",
    "units_per_sku",
]
