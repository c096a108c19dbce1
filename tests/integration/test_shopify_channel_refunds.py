"""A refund made in Shopify's admin over real HTTP and the broker: the gateway takes in
refunds/create once, the returns service never refunds those units or that money again, the
order's timeline shows it (an over-refund flagged for ops), and our own refunds told back by
Shopify are recognised and recorded nothing twice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from services.channel_gateway.bootstrap import events as gateway_events
from services.channel_gateway.domain import order_id_for
from services.order_service.bootstrap import build as build_orders
from services.order_service.settings import Settings as OrderSettings
from services.returns_service.bootstrap import build as build_returns
from services.returns_service.settings import Settings as ReturnsSettings
from tests import factories
from tests.factories_returns_service import MUG, TEE, shipment_ref
from tests.fakes import payloads as p
from tests.fakes.harness import register, run_gateway
from tests.fakes.shopify import TOKEN, FakeShopify
from tests.kit import RunningService, eventually

pytestmark = pytest.mark.integration
SECRET = "shopify-app-secret-refunds"
MUG_LINE = 13630371725477  # the sample order's mug line item


@pytest.fixture(scope="module")
def shopify() -> Iterator[FakeShopify]:
    fake = FakeShopify().start()
    yield fake
    fake.stop()


def webhook(gateway: RunningService, body: dict[str, Any], event_id: str, topic: str) -> str:
    raw = p.dumps(body)
    headers = p.shopify_headers(raw, SECRET, event_id, topic=topic)
    answer = gateway.http.post("/v1/webhooks/shopify/shopify-eu", content=raw, headers=headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["status"])


def test_a_refund_in_shopify_admin_is_never_refunded_again_and_ours_are_not_counted_twice(
    run_service: Any, shopify: FakeShopify
):
    gateway = run_gateway(run_service)
    register(
        gateway.http,
        {
            "channel_id": "shopify-eu",
            "kind": "shopify",
            "shop_domain": "acme-eu.myshopify.com",
            "base_url": shopify.url,
            "access_token": TOKEN,
            "webhook_secret": SECRET,
            "sku_mapping": p.SHOPIFY_SKUS,
        },
    )
    orders = run_service(build_orders, OrderSettings)
    returns = run_service(build_returns, ReturnsSettings)
    order = p.shopify_order(5829104790100)  # 2 tees at 24.90 and a mug at 14.50: 64.30 paid
    shopify.add_order(order)
    assert webhook(gateway, order, "evt-r-1", "orders/create") == "accepted"
    order_id = order_id_for("shopify-eu", str(order["id"]))
    returns.publish(
        factories.order_shipped(
            order_id,
            lines=factories.lines({TEE: 2}, "24.90") + factories.lines({MUG: 1}, "14.50"),
            shipments=[shipment_ref("WH-BER", {TEE: 2, MUG: 1})],
        )
    )
    eventually(lambda: returns.get_json(f"/v1/refundable/{order_id}"))

    # The merchant refunds the mug in Shopify's admin; Shopify may send the webhook twice.
    in_admin = shopify.refund_in_admin(order, {MUG_LINE: 1}, "14.50")
    assert webhook(gateway, in_admin, "evt-r-2", "refunds/create") == "refund_recorded"
    assert webhook(gateway, in_admin, "evt-r-3", "refunds/create") == "unchanged"

    def refundable() -> dict[str, Any]:
        return dict(returns.get_json(f"/v1/refundable/{order_id}"))

    eventually(lambda: refundable()["refundable"] == "49.80")
    mug = next(line for line in refundable()["lines"] if line["sku"] == MUG)
    assert mug["returnable"] == 0  # a return cannot pay the mug back again
    too_much = returns.http.post(
        "/v1/refunds",
        json={"order_id": str(order_id), "reason": "goodwill", "amount": "49.81"},
    )
    assert too_much.status_code == 422

    # Our own refund goes to Shopify and comes back as refunds/create: recognised, not counted.
    ours = returns.http.post(
        "/v1/refunds", json={"order_id": str(order_id), "reason": "goodwill", "amount": "5.00"}
    )
    assert ours.status_code == 201, ours.text
    key = ours.json()["refund_id"]
    gid = order["admin_graphql_api_id"]
    eventually(lambda: key in shopify.orders[gid]["refunds"])
    told_back = shopify.refund_webhook(order, key)
    assert webhook(gateway, told_back, "evt-r-4", "refunds/create") == "ours"
    eventually(lambda: refundable()["refundable"] == "44.80")

    # Our refund reaches the order service on the returns topic, the merchant's next one on the
    # channel topic: wait for ours, so the over-refund below is measured against both.
    def counted_ours() -> bool:
        timeline = orders.get_json(f"/v1/orders/{order_id}")["timeline"]
        return any(row["event"] == "Refunded" for row in timeline)

    eventually(counted_ours)

    # The merchant then refunds more than is left: a fact, recorded, and flagged for ops.
    over = shopify.refund_in_admin(order, {}, "50.00", note="courtesy")
    assert webhook(gateway, over, "evt-r-5", "refunds/create") == "refund_recorded"
    eventually(lambda: refundable()["refundable"] == "0.00")

    def at_channel() -> list[dict[str, Any]]:
        timeline = orders.get_json(f"/v1/orders/{order_id}")["timeline"]
        return [row for row in timeline if row["event"] == "RefundedAtChannel"]

    rows = eventually(lambda: len(at_channel()) == 2 and at_channel())
    assert [row["detail"].get("exception") for row in rows] == [None, "channel_over_refund"]
    assert rows[1]["detail"]["over"] == "5.20"  # 14.50 + 5.00 + 50.00 against 64.30 paid
    published = [gateway_events().to_integration(e) for e in gateway.app.events.get(order_id)]
    assert len([e for e in published if type(e).__name__ == "ChannelRefundRecorded"]) == 2
