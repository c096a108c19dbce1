"""Order projection: Order events -> order_view rows and timeline entries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from psycopg import Cursor

from services.order_service import domain
from services.order_service.domain import Order
from services.order_service.views import OrderViews

PROJECTION = "order_summary"
_NOT_DETAIL = {"originator_id", "originator_version", "timestamp", "correlation_id", "causation_id"}
# Timeline entries that need ops' attention say which exception they are.
_EXCEPTIONS = {"ShortPicked": "short_pick"}
_STATUS_OF = {
    "Confirmed": domain.CONFIRMED,
    "Backordered": domain.BACKORDERED,
    "Cancelled": domain.CANCELLED,
    "Shipped": domain.SHIPPED,
}


def project_order(curs: Cursor[Any], event: Any) -> None:
    """Apply one stored Order event to the read model."""
    if not isinstance(event, Order.Event):
        return
    e: Any = event  # each kind of Order event carries its own attributes
    name = type(e).__name__
    order_id, at = e.originator_id, e.timestamp
    if isinstance(event, Order.Placed):  # type: ignore[attr-defined]
        OrderViews.insert_order(curs, _placed_row(e))
    elif name in _STATUS_OF:
        fields: dict[str, Any] = {"status": _STATUS_OF[name]}
        if name == "Confirmed":
            fields["allocations"] = e.allocations
        OrderViews.update_order(curs, order_id, at, **fields)
    elif name == "ShipmentRecorded":
        OrderViews.append_shipment(curs, order_id, e.shipment)
        OrderViews.update_order(curs, order_id, at, status=e.status)
    elif name == "ShortPicked":
        OrderViews.update_order(curs, order_id, at, short=e.short)
    elif name == "ReturnReceived":
        OrderViews.update_order(curs, order_id, at, status=e.status)
    elif name == "Refunded":
        OrderViews.add_refund(curs, order_id, at, Decimal(e.amount))
    OrderViews.add_timeline(curs, order_id, e.originator_version, at, name, _detail(e))


def _placed_row(event: Any) -> dict[str, Any]:
    return {
        "order_id": event.originator_id,
        "channel": event.channel,
        "external_id": event.external_id,
        "status": domain.PLACED,
        "currency": event.currency,
        "customer": event.customer,
        "shipping_address": event.shipping_address,
        "lines": event.lines,
        "at": event.timestamp,
    }


def _detail(event: Any) -> dict[str, Any]:
    detail = {k: v for k, v in vars(event).items() if k not in _NOT_DETAIL}
    detail = {k: v for k, v in detail.items() if k not in ("customer", "shipping_address")}
    exception = _EXCEPTIONS.get(type(event).__name__)
    return {**detail, "exception": exception} if exception else detail
