"""Order projection: Order events -> order_view rows and timeline entries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from psycopg import Cursor

from services.order_service.domain import AGGREGATES, Order, OrderStatus
from services.order_service.views import OrderViews
from shared.payments import ASSUMED
from shared.runtime.registry import DomainEvent, ProjectFn, Projection

_NOT_DETAIL = {
    "originator_id",
    "originator_version",
    "timestamp",
    "correlation_id",
    "causation_id",
    "actor",
}
# Personal data stays on the order row (a customer's note may hold some too).
_NOT_SHOWN = {"customer", "shipping_address", "billing_address", "note"}
# Timeline entries that need ops' attention say which exception they are.
_EXCEPTIONS: dict[DomainEvent, str] = {
    Order.ShortPicked: "short_pick",
    Order.HeldForPayment: "awaiting_payment",
    Order.ShipToRefused: "ship_to_refused",
    Order.ChannelCancelNotApplied: "channel_cancel_not_applied",
    Order.ChannelShipToNotApplied: "channel_ship_to_not_applied",
    Order.ChannelEditNotApplied: "channel_edit_not_applied",
    Order.RefundDue: "refund_due",
    Order.EditRefused: "edit_refused",
    Order.SourcingFailed: "sourcing_failed",
    Order.CancelRequestHeld: "channel_cancel_request",
}
# A refund at the channel is an exception only when it took more than was paid.
_OVER_REFUND = "channel_over_refund"


def _placed(curs: Cursor[Any], e: Order.Placed) -> None:
    OrderViews.insert_order(
        curs,
        {
            "order_id": e.originator_id,
            "channel": e.channel,
            "external_id": e.external_id,
            "status": OrderStatus.PLACED,
            "currency": e.currency,
            "customer": e.customer,
            "shipping_address": e.shipping_address,
            "lines": e.lines,
            "payment_state": e.payment_state or ASSUMED,
            "payment_due_at": e.payment_due_at,
            "at": e.timestamp,
            "channel_order_number": e.channel_order_number,
            "billing_address": e.billing_address,
            "note": e.note,
            "shipping_lines": e.shipping_lines,
            "totals": e.totals,
            "taxes_included": e.taxes_included,
        },
    )


def _held_for_payment(curs: Cursor[Any], e: Order.HeldForPayment) -> None:
    OrderViews.update_order(
        curs,
        e.originator_id,
        e.timestamp,
        status=OrderStatus.AWAITING_PAYMENT,
        allocations=e.allocations,
    )


def _payment_recorded(curs: Cursor[Any], e: Order.PaymentRecorded) -> None:
    OrderViews.update_order(
        curs,
        e.originator_id,
        e.timestamp,
        payment_state=e.payment_state,
        payment_due_at=e.payment_due_at,
    )


def _confirmed(curs: Cursor[Any], e: Order.Confirmed) -> None:
    OrderViews.update_order(
        curs,
        e.originator_id,
        e.timestamp,
        status=OrderStatus.CONFIRMED,
        allocations=e.allocations,
        promise_date=None,
    )


def _backordered(curs: Cursor[Any], e: Order.Backordered) -> None:
    OrderViews.update_order(
        curs, e.originator_id, e.timestamp, status=OrderStatus.BACKORDERED, promise_date=None
    )


def _backorder_promised(curs: Cursor[Any], e: Order.BackorderPromised) -> None:
    OrderViews.update_order(curs, e.originator_id, e.timestamp, promise_date=e.promise_date)


def _cancelled(curs: Cursor[Any], e: Order.Cancelled) -> None:
    OrderViews.update_order(curs, e.originator_id, e.timestamp, status=OrderStatus.CANCELLED)


def _shipment_recorded(curs: Cursor[Any], e: Order.ShipmentRecorded) -> None:
    OrderViews.append_shipment(curs, e.originator_id, e.shipment)
    OrderViews.update_order(curs, e.originator_id, e.timestamp, status=e.status)


def _short_picked(curs: Cursor[Any], e: Order.ShortPicked) -> None:
    OrderViews.update_order(curs, e.originator_id, e.timestamp, short=e.short)


def _shipped(curs: Cursor[Any], e: Order.Shipped) -> None:
    OrderViews.update_order(curs, e.originator_id, e.timestamp, status=OrderStatus.SHIPPED)


def _return_received(curs: Cursor[Any], e: Order.ReturnReceived) -> None:
    OrderViews.add_returned(curs, e.originator_id, e.timestamp, e.lines, e.status)


def _refunded(curs: Cursor[Any], e: Order.Refunded | Order.RefundedAtChannel) -> None:
    OrderViews.add_refund(curs, e.originator_id, e.timestamp, Decimal(e.amount))


def _ship_to_changed(curs: Cursor[Any], e: Order.ShipToChanged) -> None:
    OrderViews.update_order(curs, e.originator_id, e.timestamp, shipping_address=e.shipping_address)


def _picking_changed(curs: Cursor[Any], e: Order.PickingStarted | Order.PickingReleased) -> None:
    OrderViews.update_order(curs, e.originator_id, e.timestamp, picking=e.picking)


def _ship_to_refused(curs: Cursor[Any], e: Order.ShipToRefused) -> None:
    # The row keeps the order's new address; the refusal shows as a timeline exception.
    OrderViews.update_order(curs, e.originator_id, e.timestamp)


def _channel_news_not_applied(
    curs: Cursor[Any],
    e: Order.ChannelCancelNotApplied | Order.ChannelShipToNotApplied | Order.ChannelEditNotApplied,
) -> None:
    # The order goes on; the channel's news shows as a timeline exception for ops to act on.
    OrderViews.update_order(curs, e.originator_id, e.timestamp)


def _refund_due(curs: Cursor[Any], e: Order.RefundDue) -> None:
    # The order stays cancelled; the refund ops owe shows as a timeline exception.
    OrderViews.update_order(curs, e.originator_id, e.timestamp)


def _lines_edited(curs: Cursor[Any], e: Order.LinesEdited) -> None:
    # Placed again: the stock is asked for anew, so the old allocations no longer hold.
    OrderViews.update_order(
        curs,
        e.originator_id,
        e.timestamp,
        lines=e.lines,
        revision=e.revision,
        payment_state=e.payment_state,
        status=e.status,
        allocations=[],
    )


def _sourcing_failed(curs: Cursor[Any], e: Order.SourcingFailed) -> None:
    OrderViews.update_order(curs, e.originator_id, e.timestamp, short=e.short)


def _on_the_timeline(curs: Cursor[Any], e: Order.SourcingRequested | Order.PartConfirmed) -> None:
    # Nothing on the row changes: the request and its answer are timeline entries.
    OrderViews.update_order(curs, e.originator_id, e.timestamp)


def _shipment_tracked(curs: Cursor[Any], e: Order.ShipmentTracked) -> None:
    # Nothing on the row changes: the carrier's news is a timeline entry (an exception flagged).
    OrderViews.update_order(curs, e.originator_id, e.timestamp)


def _edit_refused(curs: Cursor[Any], e: Order.EditRefused) -> None:
    # The order keeps its edited lines; the shipment that kept the old ones is an exception.
    OrderViews.update_order(curs, e.originator_id, e.timestamp)


def _cancel_request(
    curs: Cursor[Any], e: Order.CancelRequestHeld | Order.CancelRequestAnswered
) -> None:
    # The request and its answer show on the timeline; an accepted one's Cancelled follows.
    OrderViews.update_order(curs, e.originator_id, e.timestamp)


def _timeline(curs: Cursor[Any], e: Order.Event) -> None:
    """Every Order event is a timeline row: its name and its fields, minus personal data."""
    detail = {k: v for k, v in vars(e).items() if k not in _NOT_DETAIL and k not in _NOT_SHOWN}
    exception = _EXCEPTIONS.get(type(e))
    if isinstance(e, Order.ShipmentTracked) and e.status == "exception":
        exception = "carrier_exception"  # a failed delivery, a return to sender
    # Refunded events stored before they could say `over` have no such attribute.
    if isinstance(e, Order.RefundedAtChannel | Order.Refunded) and getattr(e, "over", None):
        exception = _OVER_REFUND
    if exception:
        detail["exception"] = exception
    OrderViews.add_timeline(
        curs,
        e.originator_id,
        e.originator_version,
        e.timestamp,
        type(e).__name__,
        detail,
        getattr(e, "actor", None),  # events stored before access control name nobody
    )


_HANDLERS: dict[DomainEvent, ProjectFn] = {
    Order.Placed: _placed,
    Order.HeldForPayment: _held_for_payment,
    Order.PaymentRecorded: _payment_recorded,
    Order.Confirmed: _confirmed,
    Order.Backordered: _backordered,
    Order.BackorderPromised: _backorder_promised,
    Order.Cancelled: _cancelled,
    Order.ShipmentRecorded: _shipment_recorded,
    Order.ShortPicked: _short_picked,
    Order.Shipped: _shipped,
    Order.ReturnReceived: _return_received,
    Order.Refunded: _refunded,
    Order.RefundedAtChannel: _refunded,
    Order.ShipToChanged: _ship_to_changed,
    Order.PickingStarted: _picking_changed,
    Order.PickingReleased: _picking_changed,
    Order.ShipToRefused: _ship_to_refused,
    Order.ChannelCancelNotApplied: _channel_news_not_applied,
    Order.ChannelShipToNotApplied: _channel_news_not_applied,
    Order.ChannelEditNotApplied: _channel_news_not_applied,
    Order.RefundDue: _refund_due,
    Order.LinesEdited: _lines_edited,
    Order.EditRefused: _edit_refused,
    Order.ShipmentTracked: _shipment_tracked,
    Order.SourcingRequested: _on_the_timeline,
    Order.PartConfirmed: _on_the_timeline,
    Order.SourcingFailed: _sourcing_failed,
    Order.CancelRequestHeld: _cancel_request,
    Order.CancelRequestAnswered: _cancel_request,
}

PROJECTION = Projection(
    name="order_summary", aggregates=AGGREGATES, handlers=_HANDLERS, every=_timeline
)
"""The order_view and order_timeline read model."""
