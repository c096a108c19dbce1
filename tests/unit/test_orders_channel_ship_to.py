"""Ship-to changes made at the channel: applied while the ship-to may change, else an exception."""

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

MOVED = factories.address(line1="Oranienstraße 7", postal_code="10997")


def received(app: Orders) -> ev.ChannelOrderReceived:
    order = factories.channel_order_received(channel="shopify-eu")
    apply(app, CONSUMES, order)
    app.confirm_order(order.order_id, factories.allocations({"TEE": 2}, "WH"))
    return order


def moved(order: ev.ChannelOrderReceived, reference: str) -> ev.ChannelShipToChanged:
    return ev.ChannelShipToChanged(
        order_id=order.order_id,
        channel=order.channel,
        external_id=order.external_id,
        shipping_address=MOVED,
        reference=reference,
        changed_at=now_utc(),
    )


def not_applied(app: Orders) -> list[Order.ChannelShipToNotApplied]:
    return [e for e in stored_events(app) if isinstance(e, Order.ChannelShipToNotApplied)]


def test_a_ship_to_changed_at_the_channel_before_picking_becomes_the_order_s_and_goes_on():
    app = Orders()
    order = received(app)

    apply(app, CONSUMES, moved(order, "evt-1"))
    apply(app, CONSUMES, moved(order, "evt-1"))  # redelivered

    assert app.get_order(order.order_id).shipping_address["line1"] == "Oranienstraße 7"
    [changed] = [e for e in stored_events(app) if isinstance(e, Order.ShipToChanged)]
    assert changed.reason == "changed at the channel"
    [public] = [e for e in published(app) if isinstance(e, ev.OrderShipToChanged)]
    assert public.shipping_address.postal_code == "10997"  # fulfillment's shipments take it


def test_a_ship_to_changed_at_the_channel_after_picking_started_is_an_exception_told_once():
    app = Orders()
    order = received(app)
    shipment_id = uuid4()
    picking = ev.PickingStarted(
        order_id=order.order_id,
        shipment_id=shipment_id,
        pick_list_id=uuid4(),
        location_id="WH",
        started_at=now_utc(),
    )
    apply(app, CONSUMES, picking)

    apply(app, CONSUMES, moved(order, "evt-2"))
    apply(app, CONSUMES, moved(order, "evt-2"))

    assert app.get_order(order.order_id).shipping_address["line1"] != "Oranienstraße 7"
    [exception] = not_applied(app)
    assert exception.why.startswith(f"picking started on shipment {shipment_id}")
    assert exception.reference == "evt-2"
    assert not any(isinstance(e, ev.OrderShipToChanged) for e in published(app))


def test_a_ship_to_changed_at_the_channel_after_shipping_or_cancelling_is_an_exception():
    app = Orders()
    shipped, cancelled = received(app), factories.channel_order_received(channel="shopify-eu")
    apply(app, CONSUMES, factories.shipped(shipped.order_id, {"TEE": 2}))
    apply(app, CONSUMES, cancelled)
    app.cancel_order(cancelled.order_id, "customer asked")

    apply(app, CONSUMES, moved(shipped, "evt-3"), moved(cancelled, "evt-4"))

    assert app.get_order(shipped.order_id).status == OrderStatus.SHIPPED
    assert [e.reference for e in not_applied(app)] == ["evt-3", "evt-4"]
    assert "is cancelled" in not_applied(app)[1].why
