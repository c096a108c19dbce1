"""Pure mappings: Order domain events -> integration events; integration events -> use cases."""

from __future__ import annotations

from typing import Any

from services.order_service.application import Orders
from services.order_service.domain import Order
from shared import events as ev
from shared.runtime.application import UnitOfWork


def to_integration(domain_event: Any) -> ev.IntegrationEvent | None:
    """The public event for a stored Order event, or None for internal-only facts."""
    mapper = _MAPPERS.get(type(domain_event))
    return mapper(domain_event) if mapper else None


def _placed(e: Any) -> ev.OrderPlaced:
    return ev.OrderPlaced(
        order_id=e.originator_id,
        channel=e.channel,
        external_id=e.external_id,
        customer=e.customer,
        shipping_address=e.shipping_address,
        lines=e.lines,
        currency=e.currency,
        placed_at=e.timestamp,
    )


def _confirmed(e: Any) -> ev.OrderConfirmed:
    return ev.OrderConfirmed(
        order_id=e.originator_id,
        customer=e.customer,
        shipping_address=e.shipping_address,
        lines=e.lines,
        allocations=e.allocations,
        confirmed_at=e.timestamp,
        channel=getattr(e, "channel", None),
        external_id=getattr(e, "external_id", None),
        placed_at=getattr(e, "placed_at", None),
    )


def _backordered(e: Any) -> ev.OrderBackordered:
    return ev.OrderBackordered(
        order_id=e.originator_id, shortages=e.shortages, backordered_at=e.timestamp
    )


def _cancelled(e: Any) -> ev.OrderCancelled:
    return ev.OrderCancelled(
        order_id=e.originator_id,
        channel=e.channel,
        external_id=e.external_id,
        reason=e.reason,
        cancelled_at=e.timestamp,
    )


def _shipped(e: Any) -> ev.OrderShipped:
    return ev.OrderShipped(
        order_id=e.originator_id,
        currency=e.currency,
        lines=e.lines,
        shipments=[_shipment_ref(s) for s in e.shipments],
        shipped_at=e.timestamp,
    )


def _shipment_ref(shipment: dict[str, Any]) -> dict[str, Any]:
    """The contract's view of a shipment (the order also keeps its service and packages)."""
    return {k: v for k, v in shipment.items() if k in ev.ShipmentRef.model_fields}


_MAPPERS: dict[type, Any] = {
    Order.Placed: _placed,  # type: ignore[attr-defined]
    Order.Confirmed: _confirmed,  # type: ignore[attr-defined]
    Order.Backordered: _backordered,  # type: ignore[attr-defined]
    Order.Cancelled: _cancelled,  # type: ignore[attr-defined]
    Order.Shipped: _shipped,  # type: ignore[attr-defined]
}


# -- inbound: integration events -> use cases ------------------------------------------


def on_channel_order(app: Orders, e: ev.ChannelOrderReceived, uow: UnitOfWork) -> None:
    """A channel's order becomes an Order (once, however often it arrives)."""
    app.place_order(
        order_id=e.order_id,
        channel=e.channel,
        external_id=e.external_id,
        customer=e.customer.model_dump(mode="json"),
        shipping_address=e.shipping_address.model_dump(mode="json"),
        lines=[line.model_dump(mode="json") for line in e.lines],
        currency=e.currency,
        uow=uow,
    )


def on_stock_reserved(app: Orders, e: ev.StockReserved, uow: UnitOfWork) -> None:
    """All stock is reserved: confirm."""
    app.confirm_order(e.order_id, [a.model_dump(mode="json") for a in e.allocations], uow)


def on_reservation_failed(app: Orders, e: ev.StockReservationFailed, uow: UnitOfWork) -> None:
    """Stock is short: backorder."""
    app.backorder_order(e.order_id, [s.model_dump(mode="json") for s in e.shortages], uow)


def on_shipped(app: Orders, e: ev.Shipped, uow: UnitOfWork) -> None:
    """A shipment left (with its packages' tracking numbers, when fulfillment sends them)."""
    shipment: dict[str, Any] = {
        "shipment_id": str(e.shipment_id),
        "location_id": e.location_id,
        "carrier": e.carrier,
        "tracking_number": e.tracking_number,
        "lines": [line.model_dump(mode="json") for line in e.lines],
    }
    if e.service is not None:
        shipment["service"] = e.service
    if e.packages:
        shipment["packages"] = [p.model_dump(mode="json", exclude_none=True) for p in e.packages]
    app.record_shipment(e.order_id, shipment, uow)


def on_short_picked(app: Orders, e: ev.ShortPicked, uow: UnitOfWork) -> None:
    """A picker came back short: the order shows the short units and does not wait for them."""
    lines = [line.model_dump(mode="json") for line in e.lines]
    app.record_short_pick(
        e.order_id, str(e.shipment_id), str(e.pick_list_id), e.location_id, lines, uow
    )


def on_return_received(app: Orders, e: ev.ReturnReceived, uow: UnitOfWork) -> None:
    """Units came back."""
    lines = [{"sku": line.sku, "quantity": line.quantity} for line in e.lines]
    app.record_return(e.order_id, str(e.return_id), lines, uow)


def on_refunded(app: Orders, e: ev.Refunded, uow: UnitOfWork) -> None:
    """Money went back."""
    app.record_refund(e.order_id, str(e.refund_id), e.amount, uow)


HANDLERS: dict[type[ev.IntegrationEvent], Any] = {
    ev.ChannelOrderReceived: on_channel_order,
    ev.StockReserved: on_stock_reserved,
    ev.StockReservationFailed: on_reservation_failed,
    ev.Shipped: on_shipped,
    ev.ShortPicked: on_short_picked,
    ev.ReturnReceived: on_return_received,
    ev.Refunded: on_refunded,
}
