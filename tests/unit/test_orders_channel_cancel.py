"""Cancellations made at the channel: applied while nothing is under way, else an exception."""

from __future__ import annotations

from uuid import uuid4

from services.order_service.application import Orders
from services.order_service.domain import Order, OrderStatus
from services.order_service.integration import CONSUMES
from shared import events as ev
from shared.events.base import now_utc
from tests import factories
from tests.factories_order_service import published, stored_events
from tests.kit import apply


def received(app: Orders) -> ev.ChannelOrderReceived:
    order = factories.channel_order_received(channel="shopify-eu")
    apply(app, CONSUMES, order)
    app.confirm_order(order.order_id, factories.allocations({"TEE": 2}, "WH"))
    return order


def channel_cancel(order: ev.ChannelOrderReceived, reference: str) -> ev.ChannelOrderCancelled:
    return ev.ChannelOrderCancelled(
        order_id=order.order_id,
        channel=order.channel,
        external_id=order.external_id,
        reason="customer",
        reference=reference,
        cancelled_at=now_utc(),
    )


def not_applied(app: Orders) -> list[Order.ChannelCancelNotApplied]:
    return [e for e in stored_events(app) if isinstance(e, Order.ChannelCancelNotApplied)]


def test_a_cancel_at_the_channel_before_picking_cancels_the_order_and_frees_its_stock():
    app = Orders()
    order = received(app)
    apply(app, CONSUMES, channel_cancel(order, "evt-1"))
    apply(app, CONSUMES, channel_cancel(order, "evt-1"))  # redelivered
    assert app.get_order(order.order_id).status == OrderStatus.CANCELLED
    [cancelled] = [e for e in published(app) if isinstance(e, ev.OrderCancelled)]
    assert cancelled.reason == "cancelled at the channel: customer"  # inventory releases on it


def test_a_cancel_at_the_channel_after_picking_started_is_an_exception_told_once():
    app = Orders()
    order = received(app)
    shipment_id, pick_list_id = uuid4(), uuid4()
    apply(
        app,
        CONSUMES,
        ev.PickingStarted(
            order_id=order.order_id,
            shipment_id=shipment_id,
            pick_list_id=pick_list_id,
            location_id="WH",
            started_at=now_utc(),
        ),
    )
    apply(app, CONSUMES, channel_cancel(order, "evt-2"))
    apply(app, CONSUMES, channel_cancel(order, "evt-2"))
    assert app.get_order(order.order_id).status == OrderStatus.CONFIRMED
    [exception] = not_applied(app)
    assert exception.why == f"picking started on shipment {shipment_id}"
    assert not any(isinstance(e, ev.OrderCancelled) for e in published(app))


def test_a_cancel_at_the_channel_after_shipping_is_an_exception_and_ships_nothing_back():
    app = Orders()
    order = received(app)
    apply(app, CONSUMES, factories.shipped(order.order_id, {"TEE": 2}))
    apply(app, CONSUMES, channel_cancel(order, "evt-3"))
    assert app.get_order(order.order_id).status == OrderStatus.SHIPPED
    [exception] = not_applied(app)
    assert exception.why == "the order is shipped"
