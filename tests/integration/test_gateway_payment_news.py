"""A channel's news over real HTTP: payment (Shopify orders/paid, orders/updated; Woo updates) and
cancellations (Shopify orders/cancelled, a Woo order set to cancelled)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from services.channel_gateway.bootstrap import events
from services.channel_gateway.domain import order_id_for
from services.channel_gateway.integration import CONSUMES
from shared import events as ev
from shared.payments import PaymentState
from tests.fakes import payloads as p
from tests.fakes.harness import Gateway
from tests.kit import apply

pytestmark = pytest.mark.integration
SHOPIFY_SECRET = "shopify-app-secret-news"
WOO_SECRET = "woo-webhook-secret-news"
EVENTS = events()


@pytest.fixture(scope="module")
def gateway(new_database: Any) -> Iterator[Gateway]:
    gw = Gateway(new_database("gw_payment_news"))
    gw.connect_shops(SHOPIFY_SECRET, WOO_SECRET)
    yield gw
    gw.close()


def post_shopify(gw: Gateway, payload: dict[str, Any], event_id: str, topic: str):
    body = p.dumps(payload)
    headers = p.shopify_headers(body, SHOPIFY_SECRET, event_id, topic=topic)
    return gw.http.post("/v1/webhooks/shopify/shopify-eu", content=body, headers=headers)


def post_woo(gw: Gateway, payload: dict[str, Any], delivery_id: str, topic: str):
    body = p.dumps(payload)
    headers = {**p.woo_headers(body, WOO_SECRET, delivery_id), "X-WC-Webhook-Topic": topic}
    return gw.http.post("/v1/webhooks/woocommerce/woo-de", content=body, headers=headers)


def published(gw: Gateway, order_id: UUID) -> list[Any]:
    return [EVENTS.to_integration(e) for e in gw.app.events.get(order_id)]


def payment_news(gw: Gateway, order_id: UUID) -> list[ev.ChannelPaymentChanged]:
    return [e for e in published(gw, order_id) if isinstance(e, ev.ChannelPaymentChanged)]


def test_shopify_orders_paid_after_a_pending_order_tells_the_oms_once(gateway: Gateway):
    order = p.shopify_order(5829104790001, financial_status="pending")
    created = post_shopify(gateway, order, "evt-pay-1", "orders/create")
    assert created.json()["status"] == "accepted", created.text
    order_id = order_id_for("shopify-eu", "5829104790001")
    [received] = [e for e in published(gateway, order_id) if e is not None]
    assert received.payment_state == PaymentState.PENDING

    paid = {**order, "financial_status": "paid"}
    first = post_shopify(gateway, paid, "evt-pay-2", "orders/paid")
    again = post_shopify(gateway, paid, "evt-pay-2", "orders/paid")  # redelivered
    updated = post_shopify(gateway, paid, "evt-pay-3", "orders/updated")  # the same news

    assert first.status_code == 200, first.text
    assert (first.json()["status"], first.json()["order_id"]) == ("payment_recorded", str(order_id))
    assert again.json()["duplicate"] is True
    assert updated.json()["status"] == "unchanged"
    [news] = payment_news(gateway, order_id)
    assert (news.payment_state, news.reference) == (PaymentState.PAID, "evt-pay-2")
    assert (news.channel, news.external_id) == ("shopify-eu", "5829104790001")


def test_updates_of_an_order_never_taken_in_are_kept_never_shipped_again(gateway: Gateway):
    # Shopify sends orders/updated for any edit of any order: here an old one, shipped and closed
    # before the channel was connected. Taken in, it would be reserved and shipped a second time;
    # dropped, a cancel sent before its create would be lost: it is kept, once.
    order = p.shopify_order(
        5829104790002,
        financial_status="paid",
        fulfillment_status="fulfilled",
        closed_at="2026-10-02T09:00:00+02:00",
    )
    before = gateway.stored()
    for topic, event_id in (("orders/updated", "evt-pay-4"), ("orders/paid", "evt-pay-4b")):
        answer = post_shopify(gateway, order, event_id, topic)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "kept"
    assert gateway.stored() == before + 1  # one record; the same news again is not news
    assert published(gateway, order_id_for("shopify-eu", "5829104790002")) == []


def test_a_late_retry_of_older_news_never_moves_the_payment_back(gateway: Gateway):
    order = p.shopify_order(5829104790009, financial_status="pending")
    post_shopify(gateway, order, "evt-pay-10", "orders/create")
    post_shopify(gateway, {**order, "financial_status": "paid"}, "evt-pay-11", "orders/paid")
    stale = post_shopify(gateway, order, "evt-pay-12", "orders/updated")  # sent before, late
    assert stale.json()["status"] == "unchanged"
    order_id = order_id_for("shopify-eu", "5829104790009")
    assert [n.payment_state for n in payment_news(gateway, order_id)] == [PaymentState.PAID]
    refunded = {**order, "financial_status": "refunded"}
    answer = post_shopify(gateway, refunded, "evt-pay-13", "orders/updated")
    assert answer.json()["status"] == "payment_recorded"


def test_a_voided_authorisation_is_news_and_a_forged_one_is_refused(gateway: Gateway):
    order = p.shopify_order(5829104790003, financial_status="authorized")
    post_shopify(gateway, order, "evt-pay-5", "orders/create")
    order_id = order_id_for("shopify-eu", "5829104790003")
    before = gateway.stored()
    body = p.dumps({**order, "financial_status": "paid"})
    forged = p.shopify_headers(body, "not-the-secret", "evt-pay-6", topic="orders/paid")
    refused = gateway.http.post("/v1/webhooks/shopify/shopify-eu", content=body, headers=forged)
    assert refused.status_code == 401
    assert gateway.stored() == before
    voided = post_shopify(
        gateway, {**order, "financial_status": "voided"}, "evt-pay-7", "orders/updated"
    )
    assert voided.json()["status"] == "payment_recorded"
    [news] = payment_news(gateway, order_id)
    assert news.payment_state == PaymentState.VOIDED


def test_woocommerce_order_updated_from_on_hold_to_processing_is_payment_news(gateway: Gateway):
    on_hold = p.woo_order(4790, status="on-hold", payment_method="bacs", date_paid=None)
    on_hold["date_paid_gmt"] = None
    created = post_woo(gateway, on_hold, "d-4790-1", "order.created")
    assert created.status_code == 200, created.text
    order_id = order_id_for("woo-de", "4790")
    [received] = [e for e in published(gateway, order_id) if e is not None]
    assert received.payment_state == PaymentState.PENDING  # a bank transfer awaited

    processing = {**on_hold, "status": "processing", "date_paid": "2026-12-06T10:00:00"}
    answer = post_woo(gateway, processing, "d-4790-2", "order.updated")
    assert answer.json()["status"] == "payment_recorded", answer.text
    [news] = payment_news(gateway, order_id)
    assert news.payment_state == PaymentState.PAID


def cancels(gw: Gateway, order_id: UUID) -> list[ev.ChannelOrderCancelled]:
    return [e for e in published(gw, order_id) if isinstance(e, ev.ChannelOrderCancelled)]


def test_shopify_orders_cancelled_tells_the_oms_once_and_nothing_is_sent_back(gateway: Gateway):
    order = p.shopify_order(5829104790020)
    post_shopify(gateway, order, "evt-can-1", "orders/create")
    order_id = order_id_for("shopify-eu", "5829104790020")
    cancelled = {
        **order,
        "cancelled_at": "2026-12-06T11:00:00+01:00",
        "cancel_reason": "customer",
        "financial_status": "voided",
    }
    first = post_shopify(gateway, cancelled, "evt-can-2", "orders/cancelled")
    again = post_shopify(gateway, cancelled, "evt-can-3", "orders/updated")  # the same news
    assert first.json()["status"] == "cancellation_recorded", first.text
    assert again.json()["status"] == "unchanged"
    [news] = cancels(gateway, order_id)
    assert (news.reason, news.reference) == ("customer", "evt-can-2")
    # The OMS then cancels the order; the channel, which cancelled it, is not asked to again.
    oms_cancel = ev.OrderCancelled(
        order_id=order_id,
        channel="shopify-eu",
        external_id="5829104790020",
        reason="cancelled at the channel: customer",
        cancelled_at=ev.now_utc(),
    )
    before = gateway.stored()
    apply(gateway.app, CONSUMES, oms_cancel)
    assert gateway.stored() == before  # no cancellation recorded, no delivery scheduled


def test_a_woocommerce_order_set_to_cancelled_is_a_cancellation(gateway: Gateway):
    order = p.woo_order(4791)
    post_woo(gateway, order, "d-4791-1", "order.created")
    answer = post_woo(gateway, {**order, "status": "cancelled"}, "d-4791-2", "order.updated")
    assert answer.json()["status"] == "cancellation_recorded", answer.text
    [news] = cancels(gateway, order_id_for("woo-de", "4791"))
    assert news.reason == "cancelled in WooCommerce"


def test_a_cancel_of_an_order_never_taken_in_is_kept_not_published(gateway: Gateway):
    order = p.shopify_order(5829104790021, cancelled_at="2026-12-06T11:00:00+01:00")
    before = gateway.stored()
    answer = post_shopify(gateway, order, "evt-can-9", "orders/cancelled")
    assert answer.json()["status"] == "kept"
    assert gateway.stored() == before + 1
    assert published(gateway, order_id_for("shopify-eu", "5829104790021")) == []
