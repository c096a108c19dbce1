"""The order domain: the Order aggregate, its value objects, statuses and errors."""

from __future__ import annotations

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from services.order_service.domain.order import (
    NOT_YET_SHIPPING,
    Address,
    Allocation,
    CancelledUnits,
    CancelRequestPolicy,
    ChannelCut,
    Customer,
    ItemQuantity,
    LineCut,
    NoCancelRequestError,
    Order,
    OrderCancelledError,
    OrderEditError,
    OrderError,
    OrderFacts,
    OrderLine,
    OrderNotCancellableError,
    OrderNotEditableError,
    OrderNotFoundError,
    OrderStatus,
    OrderTotals,
    PackageRef,
    PaymentPolicies,
    PaymentPolicy,
    PickedLine,
    RefundedUnits,
    Shipment,
    ShippingLine,
    Shortage,
    ShortLine,
    ShortPickPolicy,
    UnshippedLine,
    order_id_for,
)

AGGREGATES: tuple[type[Aggregate], ...] = (Order,)
"""Every aggregate whose events this service stores."""

# Events stored before the domain became a package name the old module in their topic (and a
# Placed event names its aggregate's old topic): those topics still resolve to these classes.
# Only the events that existed then are listed; an event added later never had an old topic.
_OLD_MODULE = "services.order_service.domain"
register_topic(f"{_OLD_MODULE}:Order", Order)
for _event_class in (
    Order.Placed,
    Order.Confirmed,
    Order.Backordered,
    Order.Cancelled,
    Order.ShipmentRecorded,
    Order.ShortPicked,
    Order.Shipped,
    Order.ReturnReceived,
    Order.Refunded,
):
    register_topic(f"{_OLD_MODULE}:{_event_class.__qualname__}", _event_class)

__all__ = [
    "AGGREGATES",
    "NOT_YET_SHIPPING",
    "Address",
    "Allocation",
    "CancelRequestPolicy",
    "CancelledUnits",
    "ChannelCut",
    "Customer",
    "ItemQuantity",
    "LineCut",
    "NoCancelRequestError",
    "Order",
    "OrderCancelledError",
    "OrderEditError",
    "OrderError",
    "OrderFacts",
    "OrderLine",
    "OrderNotCancellableError",
    "OrderNotEditableError",
    "OrderNotFoundError",
    "OrderStatus",
    "OrderTotals",
    "PackageRef",
    "PaymentPolicies",
    "PaymentPolicy",
    "PickedLine",
    "RefundedUnits",
    "Shipment",
    "ShippingLine",
    "ShortLine",
    "ShortPickPolicy",
    "Shortage",
    "UnshippedLine",
    "order_id_for",
]
