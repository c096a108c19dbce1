"""The order's own facts (the channel's number, billing address, the customer's note, shipping
lines, totals) go from ChannelOrderReceived onto the order, OrderPlaced and OrderConfirmed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from eventsourcing.persistence import StoredEvent

from services.order_service.application import Orders
from services.order_service.domain import Order
from services.order_service.integration import CONSUMES
from shared import events as ev
from shared.events import now_utc
from tests import factories
from tests.factories_order_service import published, stored_events
from tests.kit import apply

BILL = factories.address(name="Bob Biller", line1="123 Billing Street", company="My Company")
FACTS: dict[str, Any] = {
    "channel": "shopify-us",
    "external_id": "820982911946154508",
    "channel_order_number": "#1001",
    "billing_address": BILL,
    "note": "Please leave the parcel with the neighbour.",
    "shipping_lines": [{"title": "Generic Shipping", "price": "10.00"}],
    "totals": {
        "items": "49.80",
        "discounts": "0.00",
        "tax": "0.00",
        "shipping": "10.00",
        "paid": "59.80",
    },
    "taxes_included": False,
}


def test_the_facts_of_a_channel_order_are_on_order_placed_and_the_order() -> None:
    app = Orders()
    received = factories.channel_order_received(**FACTS)

    apply(app, CONSUMES, received)

    order = app.get_order(received.order_id)
    assert order.channel_order_number == "#1001"
    assert order.note == "Please leave the parcel with the neighbour."
    assert order.totals == FACTS["totals"]
    (placed,) = published(app)
    assert isinstance(placed, ev.OrderPlaced)
    assert placed.channel_order_number == "#1001"
    assert placed.note == "Please leave the parcel with the neighbour."
    assert placed.billing_address is not None and placed.billing_address.company == "My Company"
    assert placed.shipping_lines == [
        ev.ShippingLine(title="Generic Shipping", price=Decimal("10.00"))
    ]
    assert placed.totals is not None and placed.totals.paid == Decimal("59.80")
    assert placed.taxes_included is False


def test_order_confirmed_carries_the_number_and_the_note_for_the_papers() -> None:
    app = Orders()
    received = factories.channel_order_received(**FACTS)
    reserved = ev.StockReserved(
        order_id=received.order_id,
        allocations=factories.allocations({"TEE": 2}),
        reserved_at=now_utc(),
    )

    apply(app, CONSUMES, received, reserved)

    confirmed = published(app)[-1]
    assert isinstance(confirmed, ev.OrderConfirmed)
    assert confirmed.channel_order_number == "#1001"
    assert confirmed.note == "Please leave the parcel with the neighbour."
    assert confirmed.external_id == "820982911946154508"


def test_an_order_received_before_the_facts_were_kept_has_none() -> None:
    app = Orders()
    received = factories.channel_order_received()

    apply(app, CONSUMES, received)

    (placed,) = published(app)
    assert isinstance(placed, ev.OrderPlaced)
    assert placed.channel_order_number is None and placed.totals is None
    assert placed.billing_address is None and placed.note is None
    (stored,) = stored_events(app)
    assert isinstance(stored, Order.Placed) and stored.shipping_lines is None


def test_a_placed_event_stored_before_the_facts_loads_without_them() -> None:
    app = Orders()
    received = factories.channel_order_received()
    apply(app, CONSUMES, received)
    (notification,) = app.recorder.select_notifications(1, 10)
    state = app.mapper.transcoder.decode(notification.state)
    for name in ("channel_order_number", "billing_address", "note", "shipping_lines", "totals"):
        del state[name]
    del state["taxes_included"]
    old = Orders()
    old.recorder.insert_events(
        [
            StoredEvent(
                originator_id=notification.originator_id,
                originator_version=notification.originator_version,
                topic=notification.topic,
                state=old.mapper.transcoder.encode(state),
            )
        ]
    )

    order = old.get_order(received.order_id)

    assert order.channel_order_number is None and order.note is None and order.totals is None


def test_order_shipped_says_what_was_paid_for_shipping_for_the_returns_rule() -> None:
    app = Orders()
    shipping = {
        "title": "Express",
        "price": "10.00",
        "discount": "2.00",
        "taxes": [{"title": "VAT", "rate": "0.19", "amount": "1.52"}],
    }
    received = factories.channel_order_received(**{**FACTS, "shipping_lines": [shipping]})
    apply(app, CONSUMES, received)
    order_id = received.order_id
    app.confirm_order(order_id, factories.allocations({"TEE": 2}))

    app.record_shipment(
        order_id,
        {
            "shipment_id": "0c6f0b8e-2a55-4f4e-9d0b-6f1d3f2a7c11",
            "location_id": "WH-1",
            "carrier": "dhl",
            "tracking_number": "1Z",
            "lines": [{"sku": "TEE", "quantity": 2}],
        },
    )

    shipped = published(app)[-1]
    assert isinstance(shipped, ev.OrderShipped)
    assert shipped.shipping_paid == Decimal("9.52")  # 10.00 - 2.00 + 1.52 tax on top


def test_an_order_without_shipping_lines_says_nothing_of_shipping() -> None:
    app = Orders()
    received = factories.channel_order_received()
    apply(app, CONSUMES, received)
    app.confirm_order(received.order_id, factories.allocations({"TEE": 2}))
    app.record_shipment(
        received.order_id,
        {
            "shipment_id": "0c6f0b8e-2a55-4f4e-9d0b-6f1d3f2a7c12",
            "location_id": "WH-1",
            "carrier": "dhl",
            "tracking_number": "1Z",
            "lines": [{"sku": "TEE", "quantity": 2}],
        },
    )
    shipped = published(app)[-1]
    assert isinstance(shipped, ev.OrderShipped) and shipped.shipping_paid is None
