"""The gateway's two event tables: what it publishes, and what it does with the OMS's news.

PUBLISHES decides for every stored domain event whether it leaves the gateway (a mapper) or
stays inside it (INTERNAL); CONSUMES maps each integration event to its use case. Both are
checked when the service starts (docs/architecture.md, "Events in and out").
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from services.channel_gateway.application import ChannelOrders, utc_stamp
from services.channel_gateway.application.users import access_granted, access_revoked
from services.channel_gateway.domain import (
    BILL_CHANNEL,
    CHAT_KINDS,
    KINDS,
    OWN_KINDS,
    Bill,
    CancelAnswer,
    Cancellation,
    ChannelChange,
    ChannelConnection,
    ChannelKind,
    ChannelOrder,
    ChatTemplates,
    CustomerStatus,
    Delivery,
    DeliveryAction,
    LinesEdit,
    OrderLine,
    Package,
    Refund,
    RefundLine,
    Shipment,
    ShippingToArrange,
    Tracking,
    User,
    connection_id_for,
)
from shared import events as ev
from shared.runtime.application import UnitOfWork
from shared.runtime.registry import INTERNAL, DomainEvent, Handler, Internal, Mapper

# -- outbound: only an order the OMS can place becomes public ---------------------------------


def _received(e: ChannelOrder.Received | ChannelOrder.Released) -> ev.ChannelOrderReceived:
    # A held order enters the OMS only when released, as it translated at release.
    return ev.ChannelOrderReceived(
        order_id=e.originator_id,
        channel=e.channel,
        external_id=e.external_id,
        customer=e.customer,
        shipping_address=e.shipping_address,
        lines=e.lines,
        currency=e.currency,
        received_at=e.timestamp,
        payment_state=e.payment_state,
        channel_order_number=e.channel_order_number,
        billing_address=e.billing_address,
        note=e.note,
        shipping_lines=e.shipping_lines,
        totals=e.totals,
        taxes_included=e.taxes_included,
    )


def _payment_changed(e: ChannelOrder.PaymentChanged) -> ev.ChannelPaymentChanged | None:
    if not e.placed:
        return None  # the order is held here: released, it carries the state it has then
    return ev.ChannelPaymentChanged(
        order_id=e.originator_id,
        channel=e.channel,
        external_id=e.external_id,
        payment_state=e.payment_state,
        reference=e.reference,
        changed_at=e.timestamp,
    )


def _cancelled_at_channel(e: ChannelOrder.CancelledAtChannel) -> ev.ChannelOrderCancelled | None:
    if not e.placed:
        return None  # a held order is simply never released
    return ev.ChannelOrderCancelled(
        order_id=e.originator_id,
        channel=e.channel,
        external_id=e.external_id,
        reason=e.reason,
        reference=e.reference,
        cancelled_at=e.timestamp,
    )


def _refunded_at_channel(e: ChannelOrder.RefundedAtChannel) -> ev.ChannelRefundRecorded | None:
    if not e.placed:
        return None  # a held order is not in the OMS: nothing there to refund against
    refund = e.refund
    return ev.ChannelRefundRecorded(
        order_id=e.originator_id,
        channel=e.channel,
        external_id=e.external_id,
        refund_id=refund["refund_id"],
        amount=refund["amount"],
        currency=refund["currency"],
        lines=[
            ev.RefundLine(sku=line["sku"], quantity=line["quantity"], amount=line["amount"])
            for line in refund.get("lines") or []
        ],
        note=e.note,
        refunded_at=e.timestamp,
    )


def _cancel_requested(e: ChannelOrder.CancelRequested) -> ev.ChannelCancelRequested | None:
    if not e.placed:
        return None  # a held order is not in the OMS: nobody there can answer for it
    return ev.ChannelCancelRequested(
        order_id=e.originator_id,
        channel=e.channel,
        external_id=e.external_id,
        reason=e.reason,
        reference=e.reference,
        requested_at=e.timestamp,
    )


def _lines_cut(e: ChannelOrder.LinesCutAtChannel) -> ev.ChannelLinesCut | None:
    if not e.placed:
        return None  # a held order: released, it carries the lines it has then
    return ev.ChannelLinesCut(
        order_id=e.originator_id,
        channel=e.channel,
        external_id=e.external_id,
        lines=[
            ev.ChannelLineCut(line_id=c["line_id"], sku=c["sku"], quantity=c["quantity"])
            for c in e.cuts
        ],
        reference=e.reference,
        changed_at=e.timestamp,
    )


def _ship_to_changed(e: ChannelOrder.ShipToChangedAtChannel) -> ev.ChannelShipToChanged | None:
    if not e.placed:
        return None  # a held order: released, it carries the address it has then
    return ev.ChannelShipToChanged(
        order_id=e.originator_id,
        channel=e.channel,
        external_id=e.external_id,
        shipping_address=e.shipping_address,
        reference=e.reference,
        changed_at=e.timestamp,
    )


def _shipping_arranged(e: ChannelOrder.ShippingArranged) -> ev.ChannelShippingArranged:
    arrangement = e.arrangement
    return ev.ChannelShippingArranged(
        order_id=e.originator_id,
        shipment_id=arrangement["shipment_id"],
        channel=e.channel,
        external_id=e.external_id,
        carrier=arrangement["carrier"],
        tracking_number=arrangement["tracking_number"],
        document_type=arrangement["document_type"],
        document_media_type=arrangement["document_media_type"],
        document_base64=arrangement["document_base64"],
        arranged_at=arrangement["arranged_at"],
    )


def _refund_due(e: ChannelOrder.RefundDue) -> ev.ChannelRefundDue:
    return ev.ChannelRefundDue(
        order_id=e.originator_id,
        channel=e.channel,
        external_id=e.external_id,
        reason=e.reason,
        payment_state=e.payment_state,
        amount=e.amount,
        currency=e.currency,
        due_at=e.timestamp,
    )


# Holds, connections, shipments, cancellations, refunds, deliveries and news kept of orders never
# taken in are the gateway's own business; a refund no channel can make goes to the order's
# timeline.
PUBLISHES: dict[DomainEvent, Mapper | Internal] = {
    ChannelOrder.Received: _received,
    ChannelOrder.Held: INTERNAL,
    ChannelOrder.Released: _received,
    ChannelOrder.PaymentChanged: _payment_changed,
    ChannelOrder.CancelledAtChannel: _cancelled_at_channel,
    ChannelOrder.ShipmentRecorded: INTERNAL,
    ChannelOrder.Cancelled: INTERNAL,
    ChannelOrder.RefundRecorded: INTERNAL,
    ChannelOrder.RefundDue: _refund_due,
    ChannelOrder.LinesChanged: INTERNAL,
    ChannelOrder.CancelRequested: _cancel_requested,
    ChannelOrder.RefundedAtChannel: _refunded_at_channel,
    ChannelOrder.CancelRequestAnswered: INTERNAL,  # the OMS's answer, told to the channel
    ChannelOrder.ShipToChangedAtChannel: _ship_to_changed,
    ChannelOrder.LinesCutAtChannel: _lines_cut,
    ChannelOrder.ShippingArranged: _shipping_arranged,  # fulfillment prints the document
    ChannelOrder.ShipmentTracked: INTERNAL,  # fulfillment published it; kept for the customer
    ChannelOrder.RefsUpdated: INTERNAL,  # who reaches the customer: the gateway's to know
    ChannelConnection.Registered: INTERNAL,
    ChannelConnection.Reconfigured: INTERNAL,
    ChannelConnection.SkuMappingChanged: INTERNAL,
    ChannelConnection.CursorAdvanced: INTERNAL,
    Delivery.Scheduled: INTERNAL,
    Delivery.AttemptStarted: INTERNAL,
    Delivery.Delivered: INTERNAL,
    Delivery.AttemptFailed: INTERNAL,
    Delivery.Skipped: INTERNAL,
    Delivery.Retried: INTERNAL,
    ChatTemplates.Started: INTERNAL,
    ChatTemplates.Edited: INTERNAL,
    ChannelChange.Kept: INTERNAL,
    ChannelChange.NewsKept: INTERNAL,
    ChannelChange.Applied: INTERNAL,  # what was applied is published as the order's own news
    ChannelChange.Dismissed: INTERNAL,
    # Every service keeps its own copy of each token's grant; users themselves stay here.
    User.Created: INTERNAL,
    User.TokenIssued: access_granted,
    User.TokenRevoked: access_revoked,
    User.Disabled: INTERNAL,
    # A bill's order is published as the order it becomes (ChannelOrderReceived); the bill's
    # own events are for the gateway (the customer's page, and messages back to the chat).
    Bill.Created: INTERNAL,
    Bill.Confirmed: INTERNAL,
    Bill.CheckoutStarted: INTERNAL,
    Bill.SlipUploaded: INTERNAL,
    Bill.Paid: INTERNAL,
    Bill.Shipped: INTERNAL,
    Bill.Expired: INTERNAL,
    Bill.Cancelled: INTERNAL,
}


# -- inbound: what the OMS did with an order, to tell its channel -------------------------------


def on_shipped(app: ChannelOrders, e: ev.Shipped, uow: UnitOfWork) -> None:
    """A shipment left: keep its tracking, and schedule telling the channel (or customer).

    Deliveries are due at once (now, not at the event's time: clocks of services differ).
    """
    packages: list[Package] = [
        {
            "package_id": str(p.package_id),
            "sscc": p.sscc,
            "tracking_number": p.tracking_number,
            "weight_grams": p.weight_grams,
        }
        for p in e.packages or []
    ]
    shipment: Shipment = {
        "shipment_id": str(e.shipment_id),
        "carrier": e.carrier,
        "tracking_number": e.tracking_number,
        "location_id": e.location_id,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in e.lines],
        "shipped_at": _iso(e.shipped_at),
        "service": e.service,
        "packages": packages,
        # Absent (older events): the numbers are real and shared.
        "tracking_shared": e.tracking_shared is not False,
        "tracking_url": e.tracking_url,
    }
    order = app.orders.record_shipment(e.order_id, shipment, uow=uow)
    if order is not None:
        app.bills.follow_shipment(
            order,
            {
                "shipment_id": str(e.shipment_id),
                "carrier": e.carrier,
                "tracking_number": e.tracking_number,
                "tracking_url": e.tracking_url,
                "shared": e.tracking_shared is not False,  # absent (older events): a real one
                "shipped_at": shipment["shipped_at"],
            },
            uow,
        )
    if order is not None and app.chat.reach_of(order, uow) is not None:
        app.chat.tell_customer(order, CustomerStatus.SHIPPED, str(e.shipment_id), uow, shipment)
    elif order is not None:
        app.deliveries.schedule(
            order, DeliveryAction.SHIPMENT, str(e.shipment_id), shipment, utc_stamp(), uow=uow
        )


# The carrier's news a chat customer hears of (in transit is no news to them).
TRACKING_MESSAGES = {
    "out_for_delivery": CustomerStatus.OUT_FOR_DELIVERY,
    "delivered": CustomerStatus.DELIVERED,
    "exception": CustomerStatus.EXCEPTION,
}


def on_shipment_tracked(app: ChannelOrders, e: ev.ShipmentTracked, uow: UnitOfWork) -> None:
    """The carrier told where a parcel is: the channel order keeps the latest (its
    `tracking_status`), a Shopify order's fulfillment gets it as a fulfillment event (the buyer
    sees it on Shopify's order status page), and a chat's customer hears of out for delivery,
    delivered and a delivery exception, once per shipment and status (a webhook sent twice is
    no news)."""
    tracking: Tracking = {
        "shipment_id": str(e.shipment_id),
        "carrier": e.carrier,
        "tracking_number": e.tracking_number,
        "tracking_url": e.tracking_url,
        "status": e.status,
        "happened_at": _iso(e.happened_at),
        "description": e.description,
    }
    order = app.orders.record_tracking(e.order_id, tracking, uow=uow)
    if order is None:
        return
    if _takes_tracking_events(order.channel, uow) and order.shipment(str(e.shipment_id)):
        ref = f"{e.shipment_id}:{e.status}:{tracking['happened_at']}"
        app.deliveries.schedule(order, DeliveryAction.TRACKING, ref, tracking, utc_stamp(), uow)
    status = TRACKING_MESSAGES.get(e.status)
    if status is None:
        return
    shipment = order.shipment(str(e.shipment_id))
    if shipment is None:
        return  # news of a parcel the gateway never heard leave: nothing true to say of it
    shipment = {**shipment, "tracking_url": e.tracking_url or shipment.get("tracking_url")}
    app.chat.tell_customer(order, status, str(e.shipment_id), uow, shipment)


def on_shipment_created(app: ChannelOrders, e: ev.ShipmentCreated, uow: UnitOfWork) -> None:
    """Fulfillment made a shipment: when the order's channel ships with its own logistics
    (a Shopee shop with `logistics` set), the channel is asked to take it, once per shipment.

    The delivery worker arranges it (ship_order, tracking number, airway bill), retrying as
    any delivery; what the channel gave is published for fulfillment to print.
    """
    order = uow.find(e.order_id, ChannelOrder)
    if order is None or not _ships_with_channel_logistics(order.channel, uow):
        return
    details: ShippingToArrange = {
        "shipment_id": str(e.shipment_id),
        "location_id": e.location_id,
        "created_at": _iso(e.created_at),
    }
    app.deliveries.schedule(
        order, DeliveryAction.ARRANGE_SHIPPING, str(e.shipment_id), details, utc_stamp(), uow=uow
    )


def _ships_with_channel_logistics(channel: str, uow: UnitOfWork) -> bool:
    """Only a Shopee shop connected with `logistics` (pickup or dropoff) ships that way."""
    connection = uow.find(connection_id_for(channel), ChannelConnection)
    return (
        connection is not None
        and connection.kind == ChannelKind.SHOPEE
        and bool(connection.config.get("logistics"))
    )


def on_order_cancelled(app: ChannelOrders, e: ev.OrderCancelled, uow: UnitOfWork) -> None:
    """The order was cancelled in the OMS: the channel must cancel it too, and refund it when the
    buyer had paid (one delivery: some channels refund with the cancel itself). The merchant's
    own channels have no API: a paid order's refund is due, on the order's timeline."""
    cancelled_at = _iso(e.cancelled_at)
    order = app.orders.record_cancellation(
        e.order_id, e.reason, cancelled_at, e.payment_state, uow=uow
    )
    if order is None:
        return
    app.bills.follow_cancel(order, e.reason, uow)
    if _own_channel(order.channel, uow):
        app.orders.record_refund_due(order.id, utc_stamp(), uow=uow)
        app.chat.tell_customer(order, CustomerStatus.CANCELLED, "cancel", uow)
        return
    cancellation = order.cancellation
    details: Cancellation = {
        "reason": e.reason,
        "cancelled_at": cancelled_at,
        "payment_state": cancellation.get("payment_state") if cancellation else None,
        "refund": order.refund_on_cancel,
    }
    app.deliveries.schedule(
        order, DeliveryAction.CANCELLATION, "cancel", details, utc_stamp(), uow=uow
    )


def on_refunded(app: ChannelOrders, e: ev.Refunded, uow: UnitOfWork) -> None:
    """Money went back: the channel that took the payment refunds it."""
    lines: list[RefundLine] = [
        {"sku": line.sku, "quantity": line.quantity, "amount": format(line.amount, "f")}
        for line in e.lines
    ]
    refunded_at = _iso(e.refunded_at)
    # Absent on older events: a return's refund of the lines' units.
    reason, kind = e.reason or "return", e.refund_kind or "units"
    order = app.orders.record_refund(
        e.order_id,
        str(e.refund_id),
        e.amount,
        e.currency,
        refunded_at,
        lines,
        reason=reason,
        refund_kind=kind,
        uow=uow,
    )
    if order is not None and not _own_channel(order.channel, uow):
        details: Refund = {
            "refund_id": str(e.refund_id),
            "amount": format(e.amount, "f"),
            "currency": e.currency,
            "lines": lines,
            "refunded_at": refunded_at,
            "reason": reason,
            "refund_kind": kind,
        }
        if e.shipping:
            details["shipping"] = format(e.shipping, "f")
        app.deliveries.schedule(
            order, DeliveryAction.REFUND, str(e.refund_id), details, utc_stamp(), uow=uow
        )


# Marketplaces whose sellers cannot change an order's lines: Amazon's only seller-side change
# is a cancellation, Shopee's a cancel of the whole order (v2.order.cancel_order) or a split.
NO_LINE_EDITS = (ChannelKind.AMAZON, ChannelKind.SHOPEE)
TOLD = "told: the channel's order is edited by delivery"


def on_order_lines_changed(app: ChannelOrders, e: ev.OrderLinesChanged, uow: UnitOfWork) -> None:
    """The OMS edited the order's lines: the channel order follows (once per revision), and the
    channel is told when ops made the edit and the channel's API can edit an order's lines."""
    told = _who_is_told(e, uow)
    lines: list[OrderLine] = [_line(line) for line in e.lines]
    order = app.orders.record_lines_changed(
        e.order_id,
        e.revision,
        lines,
        [c.model_dump(mode="json") for c in e.cancelled],
        [_line(line) for line in e.added],
        e.reason,
        e.source,
        _iso(e.changed_at),
        told,
        uow=uow,
    )
    if order is None or told != TOLD:
        return
    edit = order.edits[-1]
    details: LinesEdit = {
        "revision": e.revision,
        "reason": e.reason,
        "changed_at": edit["changed_at"],
        "currency": e.currency,
        "changed": edit["changed"],
        "added": edit["added"],
    }
    app.deliveries.schedule(
        order, DeliveryAction.EDIT, f"revision-{e.revision}", details, utc_stamp(), uow=uow
    )


def _who_is_told(e: ev.OrderLinesChanged, uow: UnitOfWork) -> str:
    """Whether the channel hears of an edit, or why not (kept on the channel order for ops)."""
    if e.source == "channel":
        return "not told: the edit came from the channel"
    connection = uow.find(connection_id_for(e.channel), ChannelConnection)
    kind = connection.kind if connection is not None else _kind(e.channel)
    if kind in OWN_KINDS:
        return f"nobody to tell: {e.channel} is the merchant's own channel"
    if kind in CHAT_KINDS:
        return f"nobody to tell: {e.channel} is a chat, whose orders have no API to edit"
    if kind in NO_LINE_EDITS:
        return f"not told: {kind} does not accept edits of an order's lines"
    return TOLD


def _kind(channel: str) -> str | None:
    return channel if channel in KINDS else None


def _line(line: ev.OrderLine) -> OrderLine:
    """A line of the contract as the channel order keeps it (decimal strings, no empty fields)."""
    return cast(OrderLine, line.model_dump(mode="json", exclude_none=True))


def on_cancel_request_answered(
    app: ChannelOrders, e: ev.OrderCancelRequestAnswered, uow: UnitOfWork
) -> None:
    """The OMS answered a buyer's cancellation request: the channel is told (Shopee
    handle_buyer_cancellation), once. Accepted, the order counts as cancelled here, so the
    OMS's cancel that follows sends no second cancel (the channel cancels, and refunds, itself)."""
    reference = e.reference or "request"
    details: CancelAnswer = {
        "accepted": e.accepted,
        "why": e.why,
        "reference": reference,
        "answered_at": _iso(e.answered_at),
    }
    order = app.orders.record_cancel_answer(e.order_id, details, uow=uow)
    if order is None or not _answers_requests(order.channel, uow):
        return
    app.deliveries.schedule(
        order, DeliveryAction.CANCEL_REQUEST, reference, details, utc_stamp(), uow=uow
    )


def _answers_requests(channel: str, uow: UnitOfWork) -> bool:
    """Only Shopee asks the seller to answer a buyer's cancellation request."""
    connection = uow.find(connection_id_for(channel), ChannelConnection)
    return connection is not None and connection.kind == ChannelKind.SHOPEE


def _takes_tracking_events(channel: str, uow: UnitOfWork) -> bool:
    """Shopify shows the carrier's news of a fulfillment to the buyer (fulfillment events);
    the other channels' APIs take a tracking number only, or track the parcel themselves."""
    connection = uow.find(connection_id_for(channel), ChannelConnection)
    return connection is not None and connection.kind == ChannelKind.SHOPIFY


def _own_channel(channel: str, uow: UnitOfWork) -> bool:
    """The merchant's own channels have no API to tell about cancels and refunds."""
    connection = uow.find(connection_id_for(channel), ChannelConnection)
    if connection is not None:
        return connection.own
    return channel in OWN_KINDS or channel == BILL_CHANNEL  # bills: the merchant's own sale


def on_channel_availability(
    app: ChannelOrders, e: ev.ChannelAvailabilityChanged, uow: UnitOfWork
) -> None:
    """What channels may sell of a SKU changed: keep it (latest wins) for the stock pusher."""
    channels = {
        c.channel: {
            "available": c.available,
            "locations": {s.location_id: s.available for s in c.locations},
        }
        for c in e.channels
    }
    app.stock_sync.want(e.sku, e.stock_version, channels, e.changed_at)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


CONSUMES: dict[type[ev.IntegrationEvent], Handler] = {
    ev.Shipped: on_shipped,
    ev.ShipmentCreated: on_shipment_created,
    ev.ShipmentTracked: on_shipment_tracked,
    ev.OrderCancelled: on_order_cancelled,
    ev.Refunded: on_refunded,
    ev.OrderLinesChanged: on_order_lines_changed,
    ev.OrderCancelRequestAnswered: on_cancel_request_answered,
    ev.ChannelAvailabilityChanged: on_channel_availability,
}
