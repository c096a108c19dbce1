"""The ChannelOrder aggregate: intake rules and the facts the OMS reports back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic

from services.channel_gateway.bootstrap import events as gateway_events
from services.channel_gateway.domain import (
    AGGREGATES,
    ChannelOrder,
    ChannelOrderStatus,
    InvalidChannelOrderError,
    Tracking,
    order_id_for,
)
from services.order_service.domain import order_id_for as order_service_order_id_for
from shared.runtime.registry import event_classes
from tests import factories

ACCEPTED, CANCELLED = ChannelOrderStatus.ACCEPTED, ChannelOrderStatus.CANCELLED
GATEWAY_EVENTS = gateway_events()


def receive(**overrides: Any) -> ChannelOrder:
    order: dict[str, Any] = {
        "channel": "shopify",
        "external_id": "5829104713893",
        "customer": factories.customer(),
        "shipping_address": factories.address(),
        "lines": [{"sku": "TEE-BLK-M", "quantity": 2, "unit_price": "24.90"}],
        "currency": "EUR",
    }
    return ChannelOrder.receive(**{**order, **overrides})


def ship(order: ChannelOrder, shipment_id: str = "s-1", tracking: str = "1Z999") -> bool:
    return order.record_shipment(
        shipment_id=shipment_id,
        carrier="UPS",
        tracking_number=tracking,
        location_id="berlin",
        lines=[{"sku": "TEE-BLK-M", "quantity": 2}],
        shipped_at="2026-11-29T10:00:00Z",
    )


def test_the_order_id_is_derived_exactly_as_the_order_service_derives_it() -> None:
    for channel, external_id in [("shopify", "5829104713893"), ("web", "A:1"), ("amazon", "ü")]:
        assert order_id_for(channel, external_id) == order_service_order_id_for(
            channel, external_id
        )


def test_a_received_order_keeps_the_canonical_order_and_is_accepted() -> None:
    order = receive()

    assert order.id == order_id_for("shopify", "5829104713893")
    assert order.status == ACCEPTED
    assert order.lines == [{"sku": "TEE-BLK-M", "quantity": 2, "unit_price": "24.90"}]
    received = order.pending_events[0]
    assert received.channel == "shopify"
    assert received.shipping_address["country"] == "DE"
    assert received.currency == "EUR"


def test_the_same_channel_order_always_gets_the_same_id_and_another_channel_another() -> None:
    assert receive().id == receive().id
    assert receive(channel="woocommerce").id != receive().id
    assert isinstance(receive().id, UUID)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lines": []}, "at least one line"),
        ({"lines": [{"sku": "MUG", "quantity": 0, "unit_price": "5.00"}]}, "quantity"),
        (
            {
                "lines": [
                    {"sku": "MUG", "quantity": 1, "unit_price": "5.00"},
                    {"sku": "MUG", "quantity": -1, "unit_price": "5.00"},
                ]
            },
            "quantity of SKU MUG",
        ),
        ({"external_id": ""}, "external_id"),
    ],
)
def test_an_order_that_breaks_the_intake_rules_is_refused(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidChannelOrderError, match=message):
        receive(**overrides)


TWO_LINES_OF_ONE_SKU = [
    {"sku": "TEE-BLK-M", "quantity": 1, "unit_price": "24.90", "line_id": "1"},
    {"sku": "TEE-BLK-M", "quantity": 1, "unit_price": "12.45", "line_id": "2"},
]


def test_a_sku_on_two_lines_is_received_as_two_lines() -> None:
    order = receive(lines=TWO_LINES_OF_ONE_SKU)

    assert order.status == ACCEPTED
    assert [line["line_id"] for line in order.lines] == ["1", "2"]


def test_an_order_with_a_sku_on_two_lines_is_fully_shipped_only_when_both_lines_left() -> None:
    order = receive(lines=TWO_LINES_OF_ONE_SKU)
    one = [{"sku": "TEE-BLK-M", "quantity": 1}]

    order.record_shipment("s-1", "UPS", "1Z1", "berlin", one, "2026-11-29T10:00:00Z")
    first = order.fully_shipped
    order.record_shipment("s-2", "UPS", "1Z2", "berlin", one, "2026-11-30T10:00:00Z")

    assert (first, order.fully_shipped) == (False, True)


def test_news_knows_the_units_earlier_news_told_the_channel_of() -> None:
    order = receive(lines=TWO_LINES_OF_ONE_SKU)
    one = [{"sku": "TEE-BLK-M", "quantity": 1, "amount": "12.45"}]
    order.record_refund("r-1", Decimal("12.45"), "EUR", "2026-12-01T10:00:00Z", one)
    order.record_refund("r-2", Decimal("12.45"), "EUR", "2026-12-02T10:00:00Z", one)

    assert order.units_before("refund", "r-1") == {}
    assert order.units_before("refund", "r-2") == {"TEE-BLK-M": 1}
    assert order.units_before("shipment", "s-1") == {}
    assert order.units_before("cancellation", "cancel") == {}


def test_a_shipment_is_recorded_with_its_carrier_and_tracking_number_once() -> None:
    order = receive()

    assert ship(order) is True
    assert ship(order) is False
    assert ship(order, shipment_id="s-2", tracking="JD0002") is True

    assert [(s["carrier"], s["tracking_number"]) for s in order.shipments] == [
        ("UPS", "1Z999"),
        ("UPS", "JD0002"),
    ]
    assert len(order.pending_events) == 3  # received + two shipments


def tracked(shipment_id: str, status: str, at: str) -> Tracking:
    """The carrier's word on one parcel, as fulfillment's ShipmentTracked carries it."""
    return {
        "shipment_id": shipment_id,
        "carrier": "ninjavan",
        "tracking_number": "OMSTH0001",
        "tracking_url": "https://www.ninjavan.co/th-th/tracking?id=OMSTH0001",
        "status": status,
        "happened_at": at,
        "description": "ถึงศูนย์คัดแยก",
    }


def test_tracking_keeps_the_newest_word_per_shipment_and_ignores_repeats_and_late_news() -> None:
    order = receive()

    assert order.record_tracking(tracked("s-1", "in_transit", "2026-12-01T08:00:00Z")) is True
    assert order.record_tracking(tracked("s-1", "in_transit", "2026-12-01T08:00:00Z")) is False
    assert order.record_tracking(tracked("s-1", "delivered", "2026-12-02T09:30:00+00:00")) is True
    # Out for delivery, sent late (after delivered): no news, the order stays delivered.
    late = tracked("s-1", "out_for_delivery", "2026-12-02T07:00:00Z")
    assert order.record_tracking(late) is False
    assert order.record_tracking(tracked("s-2", "exception", "2026-12-01T10:00:00Z")) is True

    assert order.tracking["s-1"]["status"] == "delivered"
    assert order.tracking_status == "delivered"  # the newest word on any parcel
    assert len(order.pending_events) == 4  # received + three pieces of news


def test_a_cancellation_cancels_the_order_and_a_second_notice_changes_nothing() -> None:
    order = receive()

    assert order.record_cancellation("out of stock", "2026-11-29T10:00:00Z") is True
    assert order.record_cancellation("again", "2026-11-29T11:00:00Z") is False

    assert order.status == CANCELLED
    assert order.cancellation == {"reason": "out of stock", "cancelled_at": "2026-11-29T10:00:00Z"}
    assert len(order.pending_events) == 2


def test_each_refund_counts_once_in_the_refunded_total() -> None:
    order = receive()

    order.record_refund("r-1", Decimal("10.50"), "EUR", "2026-11-30T09:00:00Z")
    order.record_refund("r-1", Decimal("10.50"), "EUR", "2026-11-30T09:00:00Z")
    order.record_refund("r-2", Decimal("4.40"), "EUR", "2026-11-30T10:00:00Z")

    assert order.refunded_total == Decimal("14.90")
    assert [r["amount"] for r in order.refunds] == ["10.50", "4.40"]


def test_every_event_keeps_the_topic_its_stored_events_carry() -> None:
    """Stored events load by `module:Qualname`: the explicit classes kept both."""
    topics = {
        get_topic(event_class)
        for aggregate in AGGREGATES
        for event_class in event_classes(aggregate)
    }

    assert topics == {
        f"services.channel_gateway.domain.{module}:{name}"
        for module, names in {
            "orders": [
                "ChannelOrder.Received",
                "ChannelOrder.Held",
                "ChannelOrder.Released",
                "ChannelOrder.PaymentChanged",
                "ChannelOrder.CancelledAtChannel",
                "ChannelOrder.ShipmentRecorded",
                "ChannelOrder.Cancelled",
                "ChannelOrder.RefundDue",
                "ChannelOrder.RefundRecorded",
                "ChannelOrder.LinesChanged",
                "ChannelOrder.CancelRequested",
                "ChannelOrder.CancelRequestAnswered",
                "ChannelOrder.RefundedAtChannel",
                "ChannelOrder.ShipToChangedAtChannel",
                "ChannelOrder.LinesCutAtChannel",
                "ChannelOrder.ShippingArranged",
                "ChannelOrder.ShipmentTracked",
                "ChannelOrder.RefsUpdated",
            ],
            "connections": [
                "ChannelConnection.Registered",
                "ChannelConnection.Reconfigured",
                "ChannelConnection.SkuMappingChanged",
                "ChannelConnection.CursorAdvanced",
            ],
            "deliveries": [
                "Delivery.Scheduled",
                "Delivery.AttemptStarted",
                "Delivery.Delivered",
                "Delivery.AttemptFailed",
                "Delivery.Skipped",
                "Delivery.Retried",
            ],
            "changes": [
                "ChannelChange.Kept",
                "ChannelChange.NewsKept",
                "ChannelChange.Applied",
                "ChannelChange.Dismissed",
            ],
            "chat": ["ChatTemplates.Started", "ChatTemplates.Edited"],
            "users": [
                "User.Created",
                "User.TokenIssued",
                "User.TokenRevoked",
                "User.Disabled",
            ],
            "bills": [
                "Bill.Created",
                "Bill.Confirmed",
                "Bill.CheckoutStarted",
                "Bill.SlipUploaded",
                "Bill.Paid",
                "Bill.Shipped",
                "Bill.Expired",
                "Bill.Cancelled",
            ],
        }.items()
        for name in names
    }


def test_payment_news_is_recorded_when_it_is_news_and_published_for_a_placed_order() -> None:
    order = receive(payment_state="pending")
    assert order.change_payment("paid", "evt-1")
    assert not order.change_payment("paid", "evt-2")  # the same state again is not news
    news = [e for e in order.collect_events() if isinstance(e, ChannelOrder.PaymentChanged)]
    assert [(e.payment_state, e.reference, e.placed) for e in news] == [("paid", "evt-1", True)]
    public = GATEWAY_EVENTS.to_integration(news[0])
    assert public is not None and public.payment_state == "paid"


def test_a_held_order_keeps_its_payment_news_for_its_release_and_publishes_none_meanwhile() -> None:
    draft: dict[str, Any] = {
        "customer": factories.customer(),
        "shipping_address": factories.address(),
        "lines": [],
        "currency": "EUR",
        "payment_state": "pending",
    }
    held = ChannelOrder.hold("shopify", "5829104713894", ["unknown SKU X"], {}, draft)
    assert held.change_payment("paid", "evt-3")
    lines = [{"sku": "TEE-BLK-M", "quantity": 1, "unit_price": "24.90"}]
    held.release(factories.customer(), factories.address(), lines, "EUR", payment_state="pending")
    events = held.collect_events()
    news = [e for e in events if isinstance(e, ChannelOrder.PaymentChanged)]
    assert GATEWAY_EVENTS.to_integration(news[0]) is None  # the OMS does not know the order yet
    released = [e for e in events if isinstance(e, ChannelOrder.Released)]
    assert released[0].payment_state == "paid"  # the retranslated payload was older than the news


def test_a_buyers_cancel_request_is_recorded_once_and_published_for_a_placed_order() -> None:
    order = receive(channel="shopee-sg")
    assert order.request_cancel("the buyer asked", "IN_CANCEL:1", "2026-12-06T09:00:00Z")
    assert not order.request_cancel("the buyer asked", "IN_CANCEL:1", "2026-12-06T09:01:00Z")
    [news] = [GATEWAY_EVENTS.to_integration(e) for e in order.collect_events()][1:]
    assert (news.reason, news.reference) == ("the buyer asked", "IN_CANCEL:1")
    assert order.status == ACCEPTED  # asked, not granted


def test_an_accepted_answer_cancels_the_order_here_so_the_oms_cancel_sends_nothing_more() -> None:
    order = receive(channel="shopee-sg")
    order.request_cancel("the buyer asked", "IN_CANCEL:1", "2026-12-06T09:00:00Z")
    assert order.answer_cancel_request(True, "nothing under way", "IN_CANCEL:1", "now")
    assert not order.answer_cancel_request(True, "nothing under way", "IN_CANCEL:1", "now")
    assert order.status == CANCELLED
    assert order.record_cancellation("cancelled at the buyer's request", "later") is False
    assert order.cancel_at_channel("cancelled at Shopee", None, "later") is False


def test_a_refused_answer_leaves_the_order_going() -> None:
    order = receive(channel="shopee-sg")
    order.request_cancel("the buyer asked", "IN_CANCEL:1", "2026-12-06T09:00:00Z")
    order.answer_cancel_request(False, "picking started", "IN_CANCEL:1", "now")
    assert order.status == ACCEPTED
