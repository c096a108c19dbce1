"""Pure mappings: ChannelOrder domain events -> integration events; OMS events -> use cases."""

from __future__ import annotations

from typing import Any

from services.channel_gateway.application import ChannelOrders
from services.channel_gateway.domain import ChannelOrder
from shared import events as ev
from shared.runtime.application import UnitOfWork


def to_integration(domain_event: Any) -> ev.IntegrationEvent | None:
    """The public event for a stored ChannelOrder event, or None for internal-only facts."""
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


# Shipments, cancellations and refunds are recorded to be pushed back to the channel, which
# is the channel's business, not the OMS's: they have no public event.
_MAPPERS: dict[type, Any] = {
    ChannelOrder.Received: _received,  # type: ignore[attr-defined]
}


# -- inbound: what the OMS did with an order, to tell its channel ----------------------------


def on_shipped(app: ChannelOrders, e: ev.Shipped, uow: UnitOfWork) -> None:
    """A shipment left: keep its carrier and tracking number for the channel."""
    shipment = {
        "shipment_id": str(e.shipment_id),
        "carrier": e.carrier,
        "tracking_number": e.tracking_number,
        "location_id": e.location_id,
        "lines": [line.model_dump(mode="json") for line in e.lines],
        "shipped_at": _iso(e.shipped_at),
    }
    app.record_shipment(e.order_id, shipment, uow)


def on_order_cancelled(app: ChannelOrders, e: ev.OrderCancelled, uow: UnitOfWork) -> None:
    """The order was cancelled in the OMS."""
    app.record_cancellation(e.order_id, e.reason, _iso(e.cancelled_at), uow)


def on_refunded(app: ChannelOrders, e: ev.Refunded, uow: UnitOfWork) -> None:
    """Money went back to the customer."""
    app.record_refund(e.order_id, str(e.refund_id), e.amount, e.currency, _iso(e.refunded_at), uow)


def _iso(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z")


HANDLERS: dict[type[ev.IntegrationEvent], Any] = {
    ev.Shipped: on_shipped,
    ev.OrderCancelled: on_order_cancelled,
    ev.Refunded: on_refunded,
}
