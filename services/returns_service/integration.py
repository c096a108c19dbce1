"""The returns service's events in and out, as two tables (docs/architecture.md, Events in and out).

CONSUMES: integration event -> use case. PUBLISHES: every stored domain event -> its public
integration event, or INTERNAL. Bootstrap hands both to ServiceEvents, checked at start-up.
"""

from __future__ import annotations

from services.returns_service.application import Returns
from services.returns_service.domain import (
    EarlyChannelRefunds,
    ItemQuantity,
    OrderLine,
    RefundKind,
    RefundLine,
    RefundReason,
    RefundWithoutReturn,
    Return,
    Shipment,
    ShippedOrder,
    ShortLine,
)
from shared import events as ev
from shared.payments import money_taken
from shared.runtime.application import UnitOfWork
from shared.runtime.registry import INTERNAL, DomainEvent, Handler, Internal, Mapper

# -- inbound: integration events -> use cases ------------------------------------------


def on_order_shipped(app: Returns, e: ev.OrderShipped, uow: UnitOfWork) -> None:
    """An order shipped in full: its units become returnable, its short units refunded by the
    short-pick policy (once, however often it arrives)."""
    app.record_shipped_order(
        order_id=e.order_id,
        currency=e.currency,
        lines=[_order_line(line) for line in e.lines],
        shipments=[_shipment(shipment) for shipment in e.shipments],
        short_lines=[
            ShortLine(sku=line.sku, quantity=line.quantity, paid=format(line.paid, "f"))
            for line in e.short_lines or []
        ],
        uow=uow,
        shipping_paid=None if e.shipping_paid is None else format(e.shipping_paid, "f"),
    )


def _order_line(line: ev.OrderLine) -> OrderLine:
    # Stored as the event's JSON form: the price a plain decimal string, never 1E+3.
    kept = OrderLine(sku=line.sku, quantity=line.quantity, unit_price=format(line.unit_price, "f"))
    if line.paid is not None:  # refunds are computed from what was paid (discounts, taxes)
        kept["paid"] = format(line.paid, "f")
    return kept


def _shipment(shipment: ev.ShipmentRef) -> Shipment:
    return Shipment(
        shipment_id=str(shipment.shipment_id),
        location_id=shipment.location_id,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        lines=[ItemQuantity(sku=line.sku, quantity=line.quantity) for line in shipment.lines],
    )


def on_order_lines_changed(app: Returns, e: ev.OrderLinesChanged, uow: UnitOfWork) -> None:
    """An edit in the OMS cancelled units of an order whose money was taken: what was paid for
    them goes back at once (an authorisation or cash on delivery has nothing to pay back)."""
    if not e.cancelled or not money_taken(e.payment_state) or e.source == "channel":
        return  # an edit made at the channel is refunded there (its refund comes in itself)
    lines = [
        RefundLine(sku=line.sku, quantity=line.quantity, amount=format(line.paid, "f"))
        for line in e.cancelled
    ]
    app.refund_cancelled_units(e.order_id, e.revision, e.currency, lines, uow=uow)


def on_channel_refund(app: Returns, e: ev.ChannelRefundRecorded, uow: UnitOfWork) -> None:
    """Money went back at the channel (a refund in Shopify's admin): counted against what can
    still be refunded, so the OMS never pays those units or that money back again."""
    app.count_channel_refund(
        e.order_id,
        f"channel:{e.refund_id}",
        [
            RefundLine(sku=line.sku, quantity=line.quantity, amount=format(line.amount, "f"))
            for line in e.lines
        ],
        e.amount,
        uow=uow,
    )


CONSUMES: dict[type[ev.IntegrationEvent], Handler] = {
    ev.OrderShipped: on_order_shipped,
    ev.OrderLinesChanged: on_order_lines_changed,
    ev.ChannelRefundRecorded: on_channel_refund,
}


# -- outbound: stored domain events -> integration events ------------------------------


def _requested(e: Return.Requested) -> ev.ReturnRequested:
    return ev.ReturnRequested(
        return_id=e.originator_id,
        order_id=e.order_id,
        lines=[
            ev.ReturnLine(sku=line["sku"], quantity=line["quantity"], reason=line["reason"])
            for line in e.lines
        ],
        requested_at=e.timestamp,
    )


def _received(e: Return.Received) -> ev.ReturnReceived:
    return ev.ReturnReceived(
        return_id=e.originator_id,
        order_id=e.order_id,
        lines=[
            ev.ReceivedLine(
                sku=line["sku"],
                quantity=line["quantity"],
                condition=line["condition"],
                location_id=line["location_id"],
            )
            for line in e.lines
        ],
        received_at=e.timestamp,
    )


def _refunded(e: Return.Refunded) -> ev.Refunded:
    return ev.Refunded(
        refund_id=e.refund_id,
        return_id=e.originator_id,
        order_id=e.order_id,
        amount=e.amount,
        currency=e.currency,
        lines=_refund_lines(e.lines),
        refunded_at=e.timestamp,
        reason=RefundReason.RETURN,
        refund_kind=RefundKind.UNITS,
        shipping=e.shipping,
    )


def _refund_lines(lines: list[RefundLine]) -> list[ev.RefundLine]:
    return [
        ev.RefundLine(sku=line["sku"], quantity=line["quantity"], amount=line["amount"])
        for line in lines
    ]


def _issued(e: RefundWithoutReturn.Issued) -> ev.Refunded:
    # No return: the refund names itself as its return_id (the contract requires one).
    return ev.Refunded(
        refund_id=e.originator_id,
        return_id=e.originator_id,
        order_id=e.order_id,
        amount=e.amount,
        currency=e.currency,
        lines=_refund_lines(e.lines),
        refunded_at=e.timestamp,
        reason=e.reason,
        refund_kind=RefundKind(e.kind).value,
    )


PUBLISHES: dict[DomainEvent, Mapper | Internal] = {
    Return.Requested: _requested,
    Return.Received: _received,
    Return.Refunded: _refunded,
    RefundWithoutReturn.Issued: _issued,
    # What an order shipped and what its returns and refunds used up stays in this service.
    ShippedOrder.Recorded: INTERNAL,
    ShippedOrder.ReturnAuthorised: INTERNAL,
    ShippedOrder.ReceiptSettled: INTERNAL,
    ShippedOrder.RefundSettled: INTERNAL,
    ShippedOrder.ChannelRefundCounted: INTERNAL,  # the channel's refund, told by the gateway
    EarlyChannelRefunds.Started: INTERNAL,
    EarlyChannelRefunds.Kept: INTERNAL,
}
