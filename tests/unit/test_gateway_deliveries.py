"""Deliveries: scheduled once per piece of news, attempts recorded, failed visibly, retryable."""

from __future__ import annotations

import uuid

import pytest

from services.channel_gateway import integration
from services.channel_gateway.application import ChannelOrders, utc_stamp
from services.channel_gateway.channels.http import Job
from services.channel_gateway.domain import (
    Delivery,
    DeliveryNotDueError,
    DeliveryNotRetryableError,
    DeliveryStatus,
    delivery_id_for,
)
from shared import events as ev
from tests import factories
from tests.factories_channel_gateway import refunded
from tests.kit import apply

PENDING, DELIVERED = DeliveryStatus.PENDING, DeliveryStatus.DELIVERED
FAILED, SKIPPED = DeliveryStatus.FAILED, DeliveryStatus.SKIPPED


def order_in(app: ChannelOrders, channel: str) -> uuid.UUID:
    intake = app.intake.receive_order(
        channel,
        uuid.uuid4().hex,
        factories.customer(),
        factories.address(),
        factories.lines({"TEE": 2}, "10.00"),
        "EUR",
    )
    return intake.order_id


def shipped(order_id: uuid.UUID, quantity: int = 2) -> ev.Shipped:
    return factories.shipped(order_id, {"TEE": quantity}, carrier="DHL", tracking_number="JJD1")


def test_a_shipment_schedules_one_delivery_and_redelivery_of_the_news_changes_nothing():
    app = ChannelOrders()
    order_id = order_in(app, "shopify-eu")
    news = shipped(order_id)

    apply(app, integration.CONSUMES, news)
    apply(app, integration.CONSUMES, news)

    delivery = app.deliveries.get(delivery_id_for(order_id, "shipment", str(news.shipment_id)))
    assert delivery.status == PENDING
    assert delivery.details["tracking_number"] == "JJD1"
    assert delivery.order["fully_shipped"] is True
    assert app.orders.get(order_id).shipments[0]["tracking_number"] == "JJD1"


def test_cancellations_and_refunds_of_own_channels_are_not_pushed_anywhere():
    app = ChannelOrders()
    web, shop = order_in(app, "web"), order_in(app, "shopify-eu")
    refund = refunded(shop, "TEE", "10.00")

    for order_id, channel in ((web, "web"), (shop, "shopify-eu")):
        cancel = factories.order_cancelled(order_id, channel=channel, external_id="x", reason="r")
        apply(app, integration.CONSUMES, cancel)
    apply(app, integration.CONSUMES, refund)

    assert app.orders.get(web).status == "cancelled"
    with pytest.raises(Exception, match="no delivery"):
        app.deliveries.get(delivery_id_for(web, "cancellation", "cancel"))
    assert app.deliveries.get(delivery_id_for(shop, "cancellation", "cancel")).status == PENDING
    refund_delivery = app.deliveries.get(delivery_id_for(shop, "refund", str(refund.refund_id)))
    assert refund_delivery.details["amount"] == "10.00"


def test_a_delivery_retries_until_it_gives_up_and_ops_can_start_another_round():
    delivery = Delivery(
        delivery_id=uuid.uuid4(),
        order_id=uuid.uuid4(),
        channel="shopify-eu",
        external_id="1",
        action="shipment",
        details={},
        order={},
        due_at="2026-11-29T10:00:00.000000Z",
    )

    delivery.fail("HTTP 503", "2026-11-29T10:00:01.000000Z", "2026-11-29T10:00:06.000000Z")
    due_early = delivery.is_due("2026-11-29T10:00:05.000000Z")
    due_later = delivery.is_due("2026-11-29T10:00:06.000000Z")
    delivery.fail("HTTP 503", "2026-11-29T10:00:07.000000Z", None)
    with pytest.raises(DeliveryNotRetryableError):
        Delivery.retry(delivery_pending_copy(), "t")
    failed_status = delivery.status
    delivery.retry("2026-11-29T11:00:00.000000Z")
    delivery.succeed("fulfillment 1", "2026-11-29T11:00:01.000000Z")
    delivery.fail("late", "2026-11-29T11:00:02.000000Z", None)  # after success: ignored

    assert (due_early, due_later) == (False, True)
    assert failed_status == FAILED
    assert delivery.status == DELIVERED
    assert delivery.attempts == 3 and delivery.round_attempts == 1
    assert delivery.outcome == "fulfillment 1"


def test_a_skipped_delivery_can_be_retried_once_the_channel_is_connected():
    delivery = delivery_pending_copy()

    delivery.skip("no channel otto-de is connected", "2026-11-29T10:00:00.000000Z")
    skipped = delivery.status
    delivery.retry("2026-11-29T10:05:00.000000Z")

    assert skipped == SKIPPED
    assert delivery.status == PENDING and delivery.is_due("2026-11-29T10:05:00.000000Z")


def test_an_attempt_holds_its_delivery_until_it_ends_or_its_lease_runs_out():
    delivery = delivery_pending_copy()

    delivery.start_attempt("a1", "2026-11-29T10:00:00.000000Z", "2026-11-29T10:01:30.000000Z")
    held = delivery.is_due("2026-11-29T10:01:00.000000Z")
    with pytest.raises(DeliveryNotDueError):
        delivery.start_attempt("a2", "2026-11-29T10:01:00.000000Z", "2026-11-29T10:02:30.000000Z")
    lapsed = delivery.is_due("2026-11-29T10:01:30.000000Z")
    delivery.fail("HTTP 503", "2026-11-29T10:00:05.000000Z", "2026-11-29T10:00:10.000000Z", "a1")

    assert (held, lapsed) == (False, True)
    assert delivery.is_due("2026-11-29T10:00:10.000000Z")  # ended: due at its retry time
    assert delivery.attempts == 1  # counted when it started, not again when it failed


def test_an_attempt_whose_lease_ran_out_and_was_taken_over_says_nothing_more():
    delivery = delivery_pending_copy()
    delivery.start_attempt("a1", "2026-11-29T10:00:00.000000Z", "2026-11-29T10:01:30.000000Z")
    delivery.start_attempt("a2", "2026-11-29T10:01:31.000000Z", "2026-11-29T10:03:00.000000Z")

    delivery.fail("timed out", "2026-11-29T10:01:40.000000Z", "2026-11-29T10:02:00.000000Z", "a1")
    still_held = delivery.in_flight("2026-11-29T10:02:00.000000Z")
    delivery.succeed("refund 900", "2026-11-29T10:01:45.000000Z", "a2")

    assert still_held is True
    assert delivery.status == DELIVERED and delivery.outcome == "refund 900"
    assert delivery.attempts == 2 and delivery.last_error is None


def test_of_two_claims_of_one_due_delivery_only_the_first_gets_it():
    app = ChannelOrders()
    order_id = order_in(app, "shopify-eu")
    news = shipped(order_id)
    apply(app, integration.CONSUMES, news)
    delivery_id = delivery_id_for(order_id, "shipment", str(news.shipment_id))
    lease = "2099-01-01T00:00:00.000000Z"

    too_early = app.deliveries.claim(delivery_id, "a0", "2000-01-01T00:00:00.000000Z", lease)
    first = app.deliveries.claim(delivery_id, "a1", utc_stamp(), lease)
    second = app.deliveries.claim(delivery_id, "a2", utc_stamp(), lease)

    assert too_early is None  # not due yet
    assert first is not None and first.attempt_id == "a1"
    assert second is None
    assert app.deliveries.get(delivery_id).attempt_id == "a1"


def test_refunds_of_a_sku_on_two_lines_go_to_each_line_in_turn():
    app = ChannelOrders()
    lines = [
        {"sku": "TEE", "quantity": 1, "unit_price": "20.00"},
        {"sku": "TEE", "quantity": 1, "unit_price": "10.00"},
    ]
    refs = {"lines": [{"sku": "TEE", "quantity": 1, "line_id": n} for n in (11, 12)]}
    order_id = app.intake.receive_order(
        "shopify-eu", "2-lines", factories.customer(), factories.address(), lines, "EUR", refs
    ).order_id
    first, second = refunded(order_id, "TEE", "15.00"), refunded(order_id, "TEE", "15.00")

    apply(app, integration.CONSUMES, first)
    apply(app, integration.CONSUMES, second)

    told = []
    for refund in (first, second):
        delivery = app.deliveries.get(delivery_id_for(order_id, "refund", str(refund.refund_id)))
        job = Job(delivery.id, delivery.action, "2-lines", delivery.details, delivery.order)
        told += [(p.ref["line_id"], p.quantity, str(p.amount)) for p in job.spread("TEE", 1, "15")]
    assert told == [(11, 1, "15.00"), (12, 1, "15.00")]


def delivery_pending_copy() -> Delivery:
    return Delivery(
        delivery_id=uuid.uuid4(),
        order_id=uuid.uuid4(),
        channel="otto-de",
        external_id="1",
        action="shipment",
        details={},
        order={},
        due_at="2026-11-29T10:00:00.000000Z",
    )
