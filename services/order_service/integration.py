"""The order service's two event tables: what it consumes (-> use case) and what it publishes.

Both are checked when the service starts (docs/architecture.md, "Events in and out").
"""

from __future__ import annotations

from typing import TypeVar, cast

from services.order_service.application import Orders
from services.order_service.domain import (
    Address,
    Allocation,
    ChannelCut,
    Customer,
    ItemQuantity,
    Order,
    OrderFacts,
    OrderLine,
    OrderTotals,
    PackageRef,
    PickedLine,
    RefundedUnits,
    Shipment,
    ShippingLine,
    Shortage,
)
from shared import events as ev
from shared.events.base import Contract
from shared.runtime.application import UnitOfWork
from shared.runtime.registry import INTERNAL, DomainEvent, Handler, Internal, Mapper

V = TypeVar("V")

# -- outbound: stored Order events -> integration events ------------------------------------


def _placed(e: Order.Placed) -> ev.OrderPlaced:
    return ev.OrderPlaced(
        order_id=e.originator_id,
        channel=e.channel,
        external_id=e.external_id,
        customer=e.customer,
        shipping_address=e.shipping_address,
        lines=e.lines,
        currency=e.currency,
        placed_at=e.timestamp,
        payment_state=e.payment_state,
        channel_order_number=e.channel_order_number,
        billing_address=e.billing_address,
        note=e.note,
        shipping_lines=e.shipping_lines,
        totals=e.totals,
        taxes_included=e.taxes_included,
    )


def _confirmed(e: Order.Confirmed | Order.PartConfirmed) -> ev.OrderConfirmed:
    """The order to the warehouse; a follow-up part (units sourced again) names itself."""
    return ev.OrderConfirmed(
        order_id=e.originator_id,
        customer=e.customer,
        shipping_address=e.shipping_address,
        lines=e.lines,
        allocations=e.allocations,
        confirmed_at=e.timestamp,
        channel=e.channel,
        external_id=e.external_id,
        placed_at=e.placed_at,
        channel_order_number=e.channel_order_number,
        note=e.note,
        part=e.request_id if isinstance(e, Order.PartConfirmed) else None,
    )


def _backordered(e: Order.Backordered) -> ev.OrderBackordered:
    return ev.OrderBackordered(
        order_id=e.originator_id, shortages=e.shortages, backordered_at=e.timestamp
    )


def _cancelled(e: Order.Cancelled) -> ev.OrderCancelled:
    return ev.OrderCancelled(
        order_id=e.originator_id,
        channel=e.channel,
        external_id=e.external_id,
        reason=e.reason,
        cancelled_at=e.timestamp,
        payment_state=e.payment_state,  # a paid order is refunded through its channel
    )


def _shipped(e: Order.Shipped) -> ev.OrderShipped:
    return ev.OrderShipped(
        order_id=e.originator_id,
        currency=e.currency,
        lines=e.lines,
        shipments=[_shipment_ref(s) for s in e.shipments],
        shipped_at=e.timestamp,
        short_lines=e.short_lines or None,  # returns refunds them by its short-pick policy
        shipping_paid=e.shipping_paid,  # returns refunds it by its shipping rule
    )


def _shipment_ref(shipment: Shipment) -> ev.ShipmentRef:
    """The contract's view of a shipment (the order also keeps its service and packages)."""
    return ev.ShipmentRef(
        shipment_id=shipment["shipment_id"],
        location_id=shipment["location_id"],
        carrier=shipment["carrier"],
        tracking_number=shipment["tracking_number"],
        lines=shipment["lines"],
    )


def _ship_to_changed(e: Order.ShipToChanged) -> ev.OrderShipToChanged:
    return ev.OrderShipToChanged(
        order_id=e.originator_id, shipping_address=e.shipping_address, changed_at=e.timestamp
    )


def _sourcing_requested(e: Order.SourcingRequested) -> ev.OrderUnitsRequested:
    return ev.OrderUnitsRequested(
        order_id=e.originator_id,
        request_id=e.request_id,
        lines=e.lines,
        country=e.country,
        requested_at=e.timestamp,
    )


def _lines_edited(e: Order.LinesEdited) -> ev.OrderLinesChanged:
    """The edit, for inventory (reserve again), fulfillment, returns and the channel."""
    return ev.OrderLinesChanged(
        order_id=e.originator_id,
        channel=e.channel,
        external_id=e.external_id,
        revision=e.revision,
        lines=e.lines,
        cancelled=e.cancelled,
        added=e.added,
        currency=e.currency,
        payment_state=e.payment_state,
        reason=e.reason,
        source=e.source,
        changed_at=e.timestamp,
    )


def _cancel_request_answered(e: Order.CancelRequestAnswered) -> ev.OrderCancelRequestAnswered:
    return ev.OrderCancelRequestAnswered(
        order_id=e.originator_id,
        channel=e.channel,
        external_id=e.external_id,
        accepted=e.accepted,
        why=e.why,
        reference=e.reference or None,
        answered_by=e.answered_by,
        answered_at=e.timestamp,
    )


PUBLISHES: dict[DomainEvent, Mapper | Internal] = {
    Order.Placed: _placed,
    Order.Confirmed: _confirmed,
    Order.Backordered: _backordered,
    Order.BackorderPromised: INTERNAL,  # inventory published it; shown on the order
    Order.Cancelled: _cancelled,
    Order.Shipped: _shipped,
    Order.ShipToChanged: _ship_to_changed,
    Order.LinesEdited: _lines_edited,
    Order.SourcingRequested: _sourcing_requested,
    Order.PartConfirmed: _confirmed,
    Order.SourcingFailed: INTERNAL,  # the units become short: OrderShipped says so
    Order.EditRefused: INTERNAL,  # an exception for ops, on the order's timeline
    # Payment is the order's own business until the order confirms (OrderConfirmed is what
    # sends it to the warehouse); OrderPlaced carries the payment state it started with.
    Order.HeldForPayment: INTERNAL,
    Order.ChannelCancelNotApplied: INTERNAL,  # an exception for ops, on the order's timeline
    Order.CancelRequestHeld: INTERNAL,  # likewise: a buyer's cancellation request ops answer
    Order.CancelRequestAnswered: _cancel_request_answered,  # the gateway tells the channel
    Order.ChannelShipToNotApplied: INTERNAL,  # likewise: the ship-to was fixed already
    Order.ChannelEditNotApplied: INTERNAL,  # likewise: the lines were fixed already
    Order.RefundDue: INTERNAL,  # likewise: a paid cancel no channel refunds
    Order.PaymentRecorded: INTERNAL,
    # What happens between confirmation and the order shipping is the order's own history:
    # fulfillment, inventory and returns publish those facts themselves.
    Order.ShipmentRecorded: INTERNAL,
    Order.ShortPicked: INTERNAL,
    Order.ReturnReceived: INTERNAL,
    Order.Refunded: INTERNAL,
    Order.RefundedAtChannel: INTERNAL,  # the returns service learns it from the channel's event
    Order.PickingStarted: INTERNAL,
    Order.PickingReleased: INTERNAL,
    Order.ShipToRefused: INTERNAL,
    Order.ShipmentTracked: INTERNAL,  # fulfillment publishes the tracking; the timeline shows it
}


# -- inbound: integration events -> use cases ------------------------------------------------


def _plain(value: Contract, shape: type[V]) -> V:
    """A contract value object as the domain's plain dict: its JSON form, as it is stored."""
    return cast(V, value.model_dump(mode="json"))


def on_channel_order(app: Orders, e: ev.ChannelOrderReceived, uow: UnitOfWork) -> None:
    """A channel's order becomes an Order (once, however often it arrives)."""
    app.place_order(
        order_id=e.order_id,
        channel=e.channel,
        external_id=e.external_id,
        customer=_plain(e.customer, Customer),
        shipping_address=_plain(e.shipping_address, Address),
        lines=[_plain(line, OrderLine) for line in e.lines],
        currency=e.currency,
        payment_state=e.payment_state,
        received_at=e.received_at,
        facts=_facts(e),
        uow=uow,
    )


def _facts(e: ev.ChannelOrderReceived) -> OrderFacts:
    """The order's own facts the channel told (orders received before them have none)."""
    facts: OrderFacts = {}
    if e.channel_order_number is not None:
        facts["channel_order_number"] = e.channel_order_number
    if e.billing_address is not None:
        facts["billing_address"] = _plain(e.billing_address, Address)
    if e.note is not None:
        facts["note"] = e.note
    if e.shipping_lines is not None:
        facts["shipping_lines"] = [_plain(s, ShippingLine) for s in e.shipping_lines]
    if e.totals is not None:
        facts["totals"] = _plain(e.totals, OrderTotals)
    if e.taxes_included is not None:
        facts["taxes_included"] = e.taxes_included
    return facts


def on_channel_payment(app: Orders, e: ev.ChannelPaymentChanged, uow: UnitOfWork) -> None:
    """The channel says the payment moved on: a held order may now go to the warehouse."""
    app.record_payment(
        e.order_id, e.payment_state, reference=e.reference, source="channel", uow=uow
    )


def on_channel_cancel(app: Orders, e: ev.ChannelOrderCancelled, uow: UnitOfWork) -> None:
    """The channel cancelled the order: its stock is released, or ops see why it was not."""
    app.cancel_from_channel(e.order_id, e.reason, e.reference, uow=uow)


def on_cancel_request(app: Orders, e: ev.ChannelCancelRequested, uow: UnitOfWork) -> None:
    """The buyer asked the channel to cancel: accepted or refused by policy, or held for ops."""
    app.request_cancel(e.order_id, e.reason, e.reference or "request", uow=uow)


def on_channel_refund(app: Orders, e: ev.ChannelRefundRecorded, uow: UnitOfWork) -> None:
    """Money went back at the channel: the order's timeline shows it (flagged when over)."""
    app.record_channel_refund(
        e.order_id,
        f"channel:{e.refund_id}",
        e.amount,
        [_plain(line, RefundedUnits) for line in e.lines],
        e.note,
        uow=uow,
    )


def on_channel_lines_cut(app: Orders, e: ev.ChannelLinesCut, uow: UnitOfWork) -> None:
    """An edit at the channel took units off lines: the order is edited the same way (its
    stock, shipments follow; the channel refunds), or ops see why it could not."""
    cuts = [_plain(line, ChannelCut) for line in e.lines]
    app.cut_lines_from_channel(e.order_id, cuts, e.reference, uow=uow)


def on_channel_ship_to(app: Orders, e: ev.ChannelShipToChanged, uow: UnitOfWork) -> None:
    """The channel's order ships elsewhere now: the ship-to follows (and reaches fulfillment
    before the label), or ops see why it could not."""
    address = _plain(e.shipping_address, Address)
    app.change_ship_to_from_channel(e.order_id, address, e.reference, uow=uow)


def on_refund_due(app: Orders, e: ev.ChannelRefundDue, uow: UnitOfWork) -> None:
    """A paid cancelled order has no channel to refund it: ops must (an exception, once)."""
    app.record_refund_due(e.order_id, e.reason, e.payment_state, e.amount, uow=uow)


def on_stock_reserved(app: Orders, e: ev.StockReserved, uow: UnitOfWork) -> None:
    """All stock is reserved: confirm (unless an edit has replaced the lines it answers); units
    asked for again are reserved: a follow-up shipment."""
    allocations = [_plain(a, Allocation) for a in e.allocations]
    routing = None if e.routing is None else e.routing.model_dump(mode="json")
    if e.request_id is not None:
        app.record_sourced(e.order_id, e.request_id, allocations, uow, routing=routing)
    else:
        # Lines held in part (the channel ships what is there): the rest is short for good.
        short = {s.sku: s.requested - s.available for s in e.short or []}
        # Lines held in part (the channel backorders the rest): the rest comes as a follow-up.
        rest = {s.sku: s.requested - s.available for s in e.rest or []}
        waiting = {e.rest_request_id: rest} if rest and e.rest_request_id else None
        app.confirm_order(
            e.order_id,
            allocations,
            uow,
            revision=e.revision,
            routing=routing,
            short=short,
            waiting=waiting,
        )


def on_reservation_failed(app: Orders, e: ev.StockReservationFailed, uow: UnitOfWork) -> None:
    """Stock is short: backorder (unless an edit has replaced the lines it answers); units
    asked for again are nowhere: the order ships without them."""
    shortages = [_plain(s, Shortage) for s in e.shortages]
    if e.request_id is not None:
        app.record_sourcing_failed(e.order_id, e.request_id, shortages, uow)
    else:
        app.backorder_order(e.order_id, shortages, uow, revision=e.revision)


def on_backorder_promised(app: Orders, e: ev.BackorderPromised, uow: UnitOfWork) -> None:
    """Inventory expects a backordered order's missing units then: shown on the order."""
    app.record_promise(e.order_id, e.promise_date, uow, revision=e.revision)


def on_edit_refused(app: Orders, e: ev.OrderEditRefused, uow: UnitOfWork) -> None:
    """A shipment kept its lines (orders did not know yet that its picking started)."""
    app.record_edit_refused(e.order_id, str(e.shipment_id), e.revision, e.reason, uow)


def on_shipped(app: Orders, e: ev.Shipped, uow: UnitOfWork) -> None:
    """A shipment left (with its packages' tracking numbers, when fulfillment sends them)."""
    shipment: Shipment = {
        "shipment_id": str(e.shipment_id),
        "location_id": e.location_id,
        "carrier": e.carrier,
        "tracking_number": e.tracking_number,
        "lines": [_plain(line, ItemQuantity) for line in e.lines],
    }
    if e.service is not None:
        shipment["service"] = e.service
    if e.packages:
        shipment["packages"] = [
            cast(PackageRef, p.model_dump(mode="json", exclude_none=True)) for p in e.packages
        ]
    app.record_shipment(e.order_id, shipment, uow)


def on_shipment_tracked(app: Orders, e: ev.ShipmentTracked, uow: UnitOfWork) -> None:
    """The carrier told where a shipment's parcel is: on the order's timeline."""
    tracking = {
        "shipment_id": str(e.shipment_id),
        "carrier": e.carrier,
        "tracking_number": e.tracking_number,
        "tracking_url": e.tracking_url,
        "status": e.status,
        "happened_at": e.happened_at.isoformat(),
        "description": e.description,
    }
    app.record_tracking(e.order_id, tracking, uow)


def on_short_picked(app: Orders, e: ev.ShortPicked, uow: UnitOfWork) -> None:
    """A picker came back short: the order shows the short units and does not wait for them."""
    lines = [_plain(line, PickedLine) for line in e.lines]
    app.record_short_pick(
        e.order_id, str(e.shipment_id), str(e.pick_list_id), e.location_id, lines, uow
    )


def on_picking_started(app: Orders, e: ev.PickingStarted, uow: UnitOfWork) -> None:
    """A shipment went on a pick list: the order's ship-to no longer changes."""
    app.record_picking_started(
        e.order_id, str(e.shipment_id), str(e.pick_list_id), e.location_id, uow
    )


def on_picking_released(app: Orders, e: ev.PickingReleased, uow: UnitOfWork) -> None:
    """A shipment's pick list was cancelled: the ship-to may change again."""
    app.record_picking_released(e.order_id, str(e.shipment_id), uow)


def on_ship_to_refused(app: Orders, e: ev.ShipToChangeRefused, uow: UnitOfWork) -> None:
    """A shipment kept the old ship-to (orders did not know yet that its picking started)."""
    app.record_ship_to_refused(e.order_id, str(e.shipment_id), e.reason, uow)


def on_return_received(app: Orders, e: ev.ReturnReceived, uow: UnitOfWork) -> None:
    """Units came back."""
    lines = [ItemQuantity(sku=line.sku, quantity=line.quantity) for line in e.lines]
    app.record_return(e.order_id, str(e.return_id), lines, uow)


def on_refunded(app: Orders, e: ev.Refunded, uow: UnitOfWork) -> None:
    """Money went back."""
    app.record_refund(e.order_id, str(e.refund_id), e.amount, uow)


CONSUMES: dict[type[ev.IntegrationEvent], Handler] = {
    ev.ChannelOrderReceived: on_channel_order,
    ev.ChannelPaymentChanged: on_channel_payment,
    ev.ChannelOrderCancelled: on_channel_cancel,
    ev.ChannelShipToChanged: on_channel_ship_to,
    ev.ChannelLinesCut: on_channel_lines_cut,
    ev.ChannelRefundDue: on_refund_due,
    ev.ChannelCancelRequested: on_cancel_request,
    ev.ChannelRefundRecorded: on_channel_refund,
    ev.StockReserved: on_stock_reserved,
    ev.StockReservationFailed: on_reservation_failed,
    ev.BackorderPromised: on_backorder_promised,
    ev.Shipped: on_shipped,
    ev.ShipmentTracked: on_shipment_tracked,
    ev.ShortPicked: on_short_picked,
    ev.PickingStarted: on_picking_started,
    ev.PickingReleased: on_picking_released,
    ev.ShipToChangeRefused: on_ship_to_refused,
    ev.OrderEditRefused: on_edit_refused,
    ev.ReturnReceived: on_return_received,
    ev.Refunded: on_refunded,
}
