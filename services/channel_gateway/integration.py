"""Pure mappings: ChannelOrder domain events -> integration events; OMS events -> use cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.channel_gateway.application import ChannelOrders, utc_stamp
from services.channel_gateway.domain import (
    CANCELLATION,
    OWN_KINDS,
    REFUND,
    SHIPMENT,
    ChannelConnection,
    ChannelOrder,
    connection_id_for,
)
from shared import events as ev
from shared.runtime.application import UnitOfWork


def to_integration(domain_event: Any) -> ev.IntegrationEvent | None:
    """The public event for a stored gateway event, or None for internal-only facts."""
    mapper = _MAPPERS.get(type(domain_event))
    return mapper(domain_event) if mapper else None


def _received(e: Any) -> ev.ChannelOrderReceived:
    return ev.ChannelOrderReceived(
        order_id=e.originator_id,
        channel=e.channel,
        external_id=e.external_id,
        customer=e.customer,
        shipping_address=e.shipping_address,
        lines=e.lines,
        currency=e.currency,
        received_at=e.timestamp,
    )


# Holds, connections, shipments, cancellations, refunds and deliveries are the gateway's own
# business: only an order the OMS can place becomes public.
_MAPPERS: dict[type, Any] = {
    ChannelOrder.Received: _received,  # type: ignore[attr-defined]
    # A held order enters the OMS only when released, as it translated at release.
    ChannelOrder.Released: _received,  # type: ignore[attr-defined]
}


# -- inbound: what the OMS did with an order, to tell its channel ----------------------------


def on_shipped(app: ChannelOrders, e: ev.Shipped, uow: UnitOfWork) -> None:
    """A shipment left: keep its tracking, and schedule telling the channel (or customer).

    Deliveries are due at once (now, not at the event's time: clocks of services differ).
    """
    shipment = {
        "shipment_id": str(e.shipment_id),
        "carrier": e.carrier,
        "tracking_number": e.tracking_number,
        "location_id": e.location_id,
        "lines": [line.model_dump(mode="json") for line in e.lines],
        "shipped_at": _iso(e.shipped_at),
        "service": e.service,
        "packages": [p.model_dump(mode="json") for p in e.packages or []],
    }
    order = app.record_shipment(e.order_id, shipment, uow)
    if order is not None:
        app.schedule_delivery(order, SHIPMENT, str(e.shipment_id), shipment, utc_stamp(), uow)


def on_order_cancelled(app: ChannelOrders, e: ev.OrderCancelled, uow: UnitOfWork) -> None:
    """The order was cancelled in the OMS: the channel must cancel it too."""
    cancelled_at = _iso(e.cancelled_at)
    order = app.record_cancellation(e.order_id, e.reason, cancelled_at, uow)
    if order is not None and not _own_channel(order.channel, uow):
        details = {"reason": e.reason, "cancelled_at": cancelled_at}
        app.schedule_delivery(order, CANCELLATION, "cancel", details, utc_stamp(), uow)


def on_refunded(app: ChannelOrders, e: ev.Refunded, uow: UnitOfWork) -> None:
    """Money went back: the channel that took the payment refunds it."""
    lines = [line.model_dump(mode="json") for line in e.lines]
    order = app.record_refund(
        e.order_id, str(e.refund_id), e.amount, e.currency, _iso(e.refunded_at), uow, lines
    )
    if order is not None and not _own_channel(order.channel, uow):
        details = {
            "refund_id": str(e.refund_id),
            "amount": format(e.amount, "f"),
            "currency": e.currency,
            "lines": lines,
            "refunded_at": _iso(e.refunded_at),
        }
        app.schedule_delivery(order, REFUND, str(e.refund_id), details, utc_stamp(), uow)


def _own_channel(channel: str, uow: UnitOfWork) -> bool:
    """The merchant's own channels have no API to tell about cancels and refunds."""
    connection = uow.find(connection_id_for(channel), ChannelConnection)
    return connection.own if connection is not None else channel in OWN_KINDS


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


HANDLERS: dict[type[ev.IntegrationEvent], Any] = {
    ev.Shipped: on_shipped,
    ev.OrderCancelled: on_order_cancelled,
    ev.Refunded: on_refunded,
}
