"""The gateway's read models: per view a Projection with one handler per event class.

One projection worker (tracking name PROJECTION) keeps all four views in one transaction per
batch; each view's table of handlers is checked at start-up to cover every event of its
aggregate (docs/architecture.md, "Events in and out").
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg import Cursor

from services.channel_gateway.domain import (
    Bill,
    BillStatus,
    ChannelChange,
    ChannelChangeStatus,
    ChannelConnection,
    ChannelOrder,
    ChannelOrderStatus,
    Delivery,
    DeliveryStatus,
    User,
    bill_number,
)
from services.channel_gateway.views import ChannelOrderViews
from shared.runtime.registry import Projection

PROJECTION = "channel_order_summary"

# -- channel_order_view ----------------------------------------------------------------------


def _received(curs: Cursor[Any], e: ChannelOrder.Received) -> None:
    ChannelOrderViews.insert_order(
        curs,
        {
            "order_id": e.originator_id,
            "channel": e.channel,
            "external_id": e.external_id,
            "status": ChannelOrderStatus.ACCEPTED,
            "currency": e.currency,
            "customer": e.customer,
            "shipping_address": e.shipping_address,
            "lines": e.lines,
            "at": e.timestamp,
        },
    )


def _held(curs: Cursor[Any], e: ChannelOrder.Held) -> None:
    draft = e.draft
    ChannelOrderViews.insert_order(
        curs,
        {
            "order_id": e.originator_id,
            "channel": e.channel,
            "external_id": e.external_id,
            "status": ChannelOrderStatus.HELD,
            "currency": draft.get("currency"),
            "customer": draft.get("customer") or {},
            "shipping_address": draft.get("shipping_address") or {},
            "lines": draft.get("lines") or [],
            "hold_reasons": e.reasons,
            "at": e.timestamp,
        },
    )


def _released(curs: Cursor[Any], e: ChannelOrder.Released) -> None:
    ChannelOrderViews.release_order(
        curs,
        e.originator_id,
        e.timestamp,
        {
            "status": ChannelOrderStatus.ACCEPTED,
            "currency": e.currency,
            "customer": e.customer,
            "shipping_address": e.shipping_address,
            "lines": e.lines,
        },
    )


def _shipment_recorded(curs: Cursor[Any], e: ChannelOrder.ShipmentRecorded) -> None:
    ChannelOrderViews.append_shipment(curs, e.originator_id, e.timestamp, e.shipment)


def _shipment_tracked(curs: Cursor[Any], e: ChannelOrder.ShipmentTracked) -> None:
    ChannelOrderViews.record_tracking(curs, e.originator_id, e.timestamp, e.tracking)


def _cancelled(curs: Cursor[Any], e: ChannelOrder.Cancelled) -> None:
    ChannelOrderViews.mark_cancelled(
        curs,
        e.originator_id,
        e.timestamp,
        ChannelOrderStatus.CANCELLED,
        e.reason,
        e.cancelled_at,
    )


def _cancelled_at_channel(curs: Cursor[Any], e: ChannelOrder.CancelledAtChannel) -> None:
    ChannelOrderViews.mark_cancelled(
        curs,
        e.originator_id,
        e.timestamp,
        ChannelOrderStatus.CANCELLED,
        f"at the channel: {e.reason}",
        e.cancelled_at,
    )


def _refund_recorded(
    curs: Cursor[Any], e: ChannelOrder.RefundRecorded | ChannelOrder.RefundedAtChannel
) -> None:
    ChannelOrderViews.add_refund(curs, e.originator_id, e.timestamp, e.refund)


def _lines_changed(curs: Cursor[Any], e: ChannelOrder.LinesChanged) -> None:
    edit = {
        "revision": e.revision,
        "source": e.source,
        "reason": e.reason,
        "changed_at": e.changed_at,
        "changed": e.changed,
        "added": e.added,
        "told": e.told,
    }
    ChannelOrderViews.edit_lines(curs, e.originator_id, e.timestamp, e.lines, edit)


def _cancel_request_answered(curs: Cursor[Any], e: ChannelOrder.CancelRequestAnswered) -> None:
    if e.accepted:  # the order is cancelled at the buyer's request; a refusal changes nothing
        ChannelOrderViews.mark_cancelled(
            curs,
            e.originator_id,
            e.timestamp,
            ChannelOrderStatus.CANCELLED,
            f"buyer's request: {e.why}",
            e.answered_at,
        )


def _ship_to_changed_at_channel(curs: Cursor[Any], e: ChannelOrder.ShipToChangedAtChannel) -> None:
    ChannelOrderViews.change_ship_to(curs, e.originator_id, e.timestamp, e.shipping_address)


CHANNEL_ORDERS = Projection(
    name="channel_order_view",
    aggregates=[ChannelOrder],
    handlers={
        ChannelOrder.Received: _received,
        ChannelOrder.Held: _held,
        ChannelOrder.Released: _released,
        ChannelOrder.ShipmentRecorded: _shipment_recorded,
        ChannelOrder.ShipmentTracked: _shipment_tracked,
        ChannelOrder.Cancelled: _cancelled,
        ChannelOrder.CancelledAtChannel: _cancelled_at_channel,
        ChannelOrder.RefundRecorded: _refund_recorded,
        ChannelOrder.LinesChanged: _lines_changed,
        ChannelOrder.RefundedAtChannel: _refund_recorded,
        ChannelOrder.CancelRequestAnswered: _cancel_request_answered,
        ChannelOrder.ShipToChangedAtChannel: _ship_to_changed_at_channel,
    },
    # The order service shows the payment state (and acts on it), a refund due and a buyer's
    # cancellation request on its timeline; the gateway only passes them on. Lines cut at the
    # channel reach the row with the OMS's edit that follows (OrderLinesChanged).
    ignores=frozenset(
        {
            ChannelOrder.PaymentChanged,
            ChannelOrder.RefundDue,
            ChannelOrder.CancelRequested,
            ChannelOrder.LinesCutAtChannel,
            # Its outcome is on the arrange_shipping delivery; fulfillment keeps the label.
            ChannelOrder.ShippingArranged,
            ChannelOrder.RefsUpdated,  # the view keeps no refs
        }
    ),
)

# -- channel_connection_view -----------------------------------------------------------------


def _registered(curs: Cursor[Any], e: ChannelConnection.Registered) -> None:
    ChannelOrderViews.insert_connection(
        curs,
        {
            "connection_id": e.originator_id,
            "channel_id": e.channel_id,
            "kind": e.kind,
            "config": e.config,
            "sku_mapping": e.sku_mapping,
            "secret_names": e.secret_names,
            "at": e.timestamp,
        },
    )


def _reconfigured(curs: Cursor[Any], e: ChannelConnection.Reconfigured) -> None:
    ChannelOrderViews.update_connection(
        curs, e.originator_id, e.timestamp, config=e.config, secret_names=e.secret_names
    )


def _sku_mapping_changed(curs: Cursor[Any], e: ChannelConnection.SkuMappingChanged) -> None:
    ChannelOrderViews.update_connection(
        curs, e.originator_id, e.timestamp, sku_mapping=e.sku_mapping
    )


def _cursor_advanced(curs: Cursor[Any], e: ChannelConnection.CursorAdvanced) -> None:
    ChannelOrderViews.update_connection(curs, e.originator_id, e.timestamp, cursor=e.cursor)


CONNECTIONS = Projection(
    name="channel_connection_view",
    aggregates=[ChannelConnection],
    handlers={
        ChannelConnection.Registered: _registered,
        ChannelConnection.Reconfigured: _reconfigured,
        ChannelConnection.SkuMappingChanged: _sku_mapping_changed,
        ChannelConnection.CursorAdvanced: _cursor_advanced,
    },
)

# -- delivery_view -------------------------------------------------------------------------


def _scheduled(curs: Cursor[Any], e: Delivery.Scheduled) -> None:
    ChannelOrderViews.insert_delivery(
        curs,
        {
            "delivery_id": e.originator_id,
            "order_id": e.order_id,
            "channel": e.channel,
            "external_id": e.external_id,
            "action": e.action,
            "status": DeliveryStatus.PENDING,
            "due_at": _time(e.due_at),
            "details": e.details,
            "at": e.timestamp,
        },
    )


def _attempt_started(curs: Cursor[Any], e: Delivery.AttemptStarted) -> None:
    # The worker looks again only when the lease runs out (or the attempt ends before).
    ChannelOrderViews.update_delivery(
        curs, e.originator_id, e.timestamp, attempt=1, due_at=_time(e.lease_until)
    )


def _delivered(curs: Cursor[Any], e: Delivery.Delivered) -> None:
    ChannelOrderViews.update_delivery(
        curs,
        e.originator_id,
        e.timestamp,
        attempt=_uncounted(e.attempt_id),
        status=DeliveryStatus.DELIVERED,
        outcome=e.outcome,
        due_at=None,
        delivered_at=_time(e.delivered_at),
    )


def _attempt_failed(curs: Cursor[Any], e: Delivery.AttemptFailed) -> None:
    status = DeliveryStatus.PENDING if e.retry_at is not None else DeliveryStatus.FAILED
    ChannelOrderViews.update_delivery(
        curs,
        e.originator_id,
        e.timestamp,
        attempt=_uncounted(e.attempt_id),
        status=status,
        last_error=e.error,
        due_at=_time(e.retry_at),
    )


def _skipped(curs: Cursor[Any], e: Delivery.Skipped) -> None:
    ChannelOrderViews.update_delivery(
        curs,
        e.originator_id,
        e.timestamp,
        status=DeliveryStatus.SKIPPED,
        last_error=e.reason,
        due_at=None,
    )


def _retried(curs: Cursor[Any], e: Delivery.Retried) -> None:
    ChannelOrderViews.update_delivery(
        curs,
        e.originator_id,
        e.timestamp,
        status=DeliveryStatus.PENDING,
        due_at=_time(e.requested_at),
    )


def _uncounted(attempt_id: str | None) -> int:
    """1 for an outcome whose attempt was not counted when it started (stored before claims)."""
    return 1 if attempt_id is None else 0


def _time(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None


DELIVERIES = Projection(
    name="delivery_view",
    aggregates=[Delivery],
    handlers={
        Delivery.Scheduled: _scheduled,
        Delivery.AttemptStarted: _attempt_started,
        Delivery.Delivered: _delivered,
        Delivery.AttemptFailed: _attempt_failed,
        Delivery.Skipped: _skipped,
        Delivery.Retried: _retried,
    },
)

# -- channel_change_view ---------------------------------------------------------------------


def _kept(curs: Cursor[Any], e: ChannelChange.Kept) -> None:
    ChannelOrderViews.insert_change(
        curs,
        {
            "change_id": e.originator_id,
            "order_id": e.order_id,
            "channel": e.channel,
            "external_id": e.external_id,
            "status": ChannelChangeStatus.KEPT,
            "reason": e.reason,
            "news": {n["kind"]: n for n in e.news},
            "at": e.timestamp,
        },
    )


def _news_kept(curs: Cursor[Any], e: ChannelChange.NewsKept) -> None:
    ChannelOrderViews.add_news(curs, e.originator_id, e.timestamp, {n["kind"]: n for n in e.news})


def _change_applied(curs: Cursor[Any], e: ChannelChange.Applied) -> None:
    ChannelOrderViews.update_change(
        curs,
        e.originator_id,
        e.timestamp,
        status=ChannelChangeStatus.APPLIED,
        applied=e.kinds,
        applied_at=_time(e.applied_at),
    )


def _change_dismissed(curs: Cursor[Any], e: ChannelChange.Dismissed) -> None:
    ChannelOrderViews.update_change(
        curs,
        e.originator_id,
        e.timestamp,
        status=ChannelChangeStatus.DISMISSED,
        dismiss_reason=e.reason,
        dismissed_at=_time(e.dismissed_at),
    )


CHANGES = Projection(
    name="channel_change_view",
    aggregates=[ChannelChange],
    handlers={
        ChannelChange.Kept: _kept,
        ChannelChange.NewsKept: _news_kept,
        ChannelChange.Applied: _change_applied,
        ChannelChange.Dismissed: _change_dismissed,
    },
)

# -- user_view, access_token_view ------------------------------------------------------------


def _user_created(curs: Cursor[Any], e: User.Created) -> None:
    ChannelOrderViews.insert_user(
        curs,
        {
            "name": e.name,
            "role": e.role,
            "kind": e.kind,
            "created_by": e.created_by,
            "at": e.timestamp,
        },
    )


def _token_issued(curs: Cursor[Any], e: User.TokenIssued) -> None:
    ChannelOrderViews.insert_token(
        curs,
        {
            "token_id": e.token_id,
            "name": e.name,
            "role": e.role,
            "label": e.label,
            "issued_by": e.issued_by,
            "issued_at": e.issued_at,
            "expires_at": e.expires_at,
        },
    )


def _token_revoked(curs: Cursor[Any], e: User.TokenRevoked) -> None:
    ChannelOrderViews.revoke_token(curs, e.token_id, e.revoked_by, e.revoked_at)


def _user_disabled(curs: Cursor[Any], e: User.Disabled) -> None:
    ChannelOrderViews.disable_user(curs, e.name, e.disabled_by, e.disabled_at)


USERS = Projection(
    name="user_view",
    aggregates=[User],
    handlers={
        User.Created: _user_created,
        User.TokenIssued: _token_issued,
        User.TokenRevoked: _token_revoked,
        User.Disabled: _user_disabled,
    },
)

# -- bill_view -------------------------------------------------------------------------------


def _bill_created(curs: Cursor[Any], e: Bill.Created) -> None:
    items = sum((Decimal(li["unit_price"]) * li["quantity"] for li in e.lines), Decimal(0))
    ChannelOrderViews.insert_bill(
        curs,
        {
            "bill_id": e.originator_id,
            "number": bill_number(e.originator_id),
            "status": BillStatus.UNPAID,
            "chat": e.chat,
            "handle": e.handle,
            "customer_name": e.customer_name,
            "currency": e.currency,
            "lines": e.lines,
            "shipping_fee": e.shipping_fee,
            "discount": e.discount,
            "total": items - Decimal(e.discount) + Decimal(e.shipping_fee),
            "note": e.note,
            "expires_at": e.expires_at,
            "created_by": e.created_by,
            "at": e.timestamp,
        },
    )


def _bill_confirmed(curs: Cursor[Any], e: Bill.Confirmed) -> None:
    ChannelOrderViews.update_bill(
        curs,
        e.originator_id,
        e.timestamp,
        confirmation=dict(e.confirmation),
        order_id=e.order_id,
        payment_method=e.confirmation["payment_method"],
    )


def _bill_slip(curs: Cursor[Any], e: Bill.SlipUploaded) -> None:
    ChannelOrderViews.update_bill(curs, e.originator_id, e.timestamp, slip=dict(e.slip))


def _bill_paid(curs: Cursor[Any], e: Bill.Paid) -> None:
    payment = {"method": e.method, "reference": e.reference, "amount": e.amount, "by": e.paid_by}
    ChannelOrderViews.update_bill(
        curs, e.originator_id, e.timestamp, status=BillStatus.PAID, payment=payment
    )


def _bill_shipped(curs: Cursor[Any], e: Bill.Shipped) -> None:
    ChannelOrderViews.add_bill_shipment(curs, e.originator_id, e.timestamp, dict(e.shipment))


def _bill_expired(curs: Cursor[Any], e: Bill.Expired) -> None:
    ChannelOrderViews.update_bill(
        curs, e.originator_id, e.timestamp, status=BillStatus.EXPIRED, closed_reason=e.reason
    )


def _bill_cancelled(curs: Cursor[Any], e: Bill.Cancelled) -> None:
    ChannelOrderViews.update_bill(
        curs, e.originator_id, e.timestamp, status=BillStatus.CANCELLED, closed_reason=e.reason
    )


BILLS = Projection(
    name="bill_view",
    aggregates=[Bill],
    handlers={
        Bill.Created: _bill_created,
        Bill.Confirmed: _bill_confirmed,
        Bill.SlipUploaded: _bill_slip,
        Bill.Paid: _bill_paid,
        Bill.Shipped: _bill_shipped,
        Bill.Expired: _bill_expired,
        Bill.Cancelled: _bill_cancelled,
    },
    ignores=frozenset({Bill.CheckoutStarted}),  # a session id is the provider's business
)

VIEWS = (CHANNEL_ORDERS, CONNECTIONS, DELIVERIES, CHANGES, USERS, BILLS)


def project(curs: Cursor[Any], event: Any) -> None:
    """Apply one stored gateway event to the view of its aggregate."""
    for view in VIEWS:
        view(curs, event)
