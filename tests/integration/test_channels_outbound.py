"""News back to channels over real HTTP: tracking, cancels, refunds, edits of an order's lines and
shipping e-mails, retried with backoff, exactly once at the channel, failed visibly when retries
run out (or not sent, saying why, where a channel takes no such news)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.channel_gateway.domain import order_id_for
from shared import events as ev
from tests import factories
from tests.factories_channel_gateway import refunded
from tests.fakes import payloads as p
from tests.fakes.amazon import CLIENT_SECRET, REFRESH_TOKEN, FakeAmazon
from tests.fakes.harness import consumed, deliveries, register, run_gateway
from tests.fakes.shopee import (
    ACCESS_TOKEN,
    PARTNER_ID,
    PARTNER_KEY,
    SHOP_ID,
    FakeShopee,
)
from tests.fakes.shopee import REFRESH_TOKEN as SHOPEE_REFRESH_TOKEN
from tests.fakes.shopify import TOKEN, FakeShopify
from tests.fakes.smtp import SmtpSink
from tests.fakes.woocommerce import KEY, SECRET, FakeWooCommerce
from tests.kit import RunningService, eventually

pytestmark = pytest.mark.integration
SECRET_WH = "shopify-app-secret"
TRACKING = "00340434292135100186"


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, Any]]:
    started = {
        "shopify": FakeShopify().start(),
        "woocommerce": FakeWooCommerce().start(),
        "amazon": FakeAmazon().start(),
        "shopee": FakeShopee().start(),
        "smtp": SmtpSink().start(),
    }
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture
def gateway(run_service: Any, fakes: dict[str, Any]) -> RunningService:
    """The whole gateway on the broker, every kind of channel connected to its fake."""
    gw = run_gateway(
        run_service,
        smtp_host="127.0.0.1",
        smtp_port=fakes["smtp"].port,
        smtp_sender="orders@shop.example.de",
        shop_name="Acme Shop",
    )
    register(
        gw.http,
        {
            "channel_id": "shopify-eu",
            "kind": "shopify",
            "shop_domain": "acme-eu.myshopify.com",
            "base_url": fakes["shopify"].url,
            "access_token": TOKEN,
            "webhook_secret": SECRET_WH,
            "sku_mapping": p.SHOPIFY_SKUS,
        },
    )
    register(
        gw.http,
        {
            "channel_id": "woo-de",
            "kind": "woocommerce",
            "base_url": fakes["woocommerce"].url,
            "consumer_key": KEY,
            "consumer_secret": SECRET,
            "webhook_secret": "w",
            "sku_mapping": p.WOO_SKUS,
        },
    )
    register(
        gw.http,
        {
            "channel_id": "amazon-de",
            "kind": "amazon",
            "marketplace_id": "A1PA6795UKMFR9",
            "seller_id": "A2SELLER",
            "lwa_client_id": "amzn1.application-oa2-client.x",
            "base_url": fakes["amazon"].url,
            "token_url": f"{fakes['amazon'].url}/auth/o2/token",
            "lwa_client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
            "sku_mapping": p.AMAZON_SKUS,
        },
    )
    register(
        gw.http,
        {
            "channel_id": "shopee-sg",
            "kind": "shopee",
            "partner_id": PARTNER_ID,
            "shop_id": SHOP_ID,
            "base_url": fakes["shopee"].url,
            "partner_key": PARTNER_KEY,
            "access_token": ACCESS_TOKEN,
            "sku_mapping": p.SHOPEE_SKUS,
        },
    )
    register(gw.http, {"channel_id": "web", "kind": "web"})
    return gw


def shipped(order_id: uuid.UUID, lines: list[tuple[str, int]], **overrides: Any) -> ev.Shipped:
    """A shipment with DHL, as fulfillment reports it."""
    fields = {"location_id": "WH-BER", "carrier": "DHL", "tracking_number": TRACKING}
    return factories.shipped(order_id, dict(lines), **(fields | overrides))


def cancelled(order_id: uuid.UUID, channel: str, external_id: str) -> ev.OrderCancelled:
    """The order service cancelled the order."""
    return factories.order_cancelled(
        order_id, channel=channel, external_id=external_id, reason="out of stock everywhere"
    )


def shopify_order(gw: RunningService, shopify: FakeShopify, number: int) -> tuple[uuid.UUID, str]:
    payload = p.shopify_order(number)
    gid = shopify.add_order(payload)
    body = p.dumps(payload)
    response = gw.http.post(
        "/v1/webhooks/shopify/shopify-eu",
        content=body,
        headers=p.shopify_headers(body, SECRET_WH, f"evt-{number}"),
    )
    assert response.json()["status"] == "accepted", response.text
    return uuid.UUID(response.json()["order_id"]), gid


def delivery_of(
    gw: RunningService, order_id: uuid.UUID, action: str = "shipment"
) -> dict[str, Any]:
    (row,) = deliveries(gw.http, order_id=str(order_id), action=action)
    return row


def settled(gw: RunningService, order_id: uuid.UUID, action: str = "shipment") -> bool:
    rows = deliveries(gw.http, order_id=str(order_id), action=action)
    return bool(rows) and rows[0]["status"] != "pending"


def test_shopify_gets_one_fulfillment_with_the_tracking_and_the_shipped_lines(
    gateway: RunningService, fakes: dict[str, Any]
):
    shopify: FakeShopify = fakes["shopify"]
    order_id, gid = shopify_order(gateway, shopify, 7000000001)

    gateway.publish(shipped(order_id, [("TEE-ORG-BLK-M", 2), ("MUG-ENM-350-WHT", 1)]))
    eventually(lambda: settled(gateway, order_id))

    (fulfillment,) = shopify.fulfillments(gid)
    assert fulfillment["trackingInfo"] == [{"number": "00340434292135100186", "company": "DHL"}]
    assert fulfillment["notifyCustomer"] is True
    (create,) = [
        r for r in shopify.sent("POST") if r.json()["operationName"] == "OmsFulfillmentCreate"
    ]
    items = create.json()["variables"]["fulfillment"]["lineItemsByFulfillmentOrder"][0]
    assert sorted(i["quantity"] for i in items["fulfillmentOrderLineItems"]) == [1, 2]
    row = delivery_of(gateway, order_id)
    assert row["status"] == "delivered" and row["attempts"] == 1


def carrier_news(shipment: ev.Shipped, status: str, hours: int) -> ev.ShipmentTracked:
    """Fulfillment's ShipmentTracked of the shipment, as a carrier's webhook makes it."""
    return ev.ShipmentTracked(
        shipment_id=shipment.shipment_id,
        order_id=shipment.order_id,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        tracking_url=None,
        status=status,
        happened_at=shipment.shipped_at + timedelta(hours=hours),
        description=f"DHL: {status.replace('_', ' ')}",
    )


def test_shopify_shows_the_carrier_s_news_as_fulfillment_events_once_each(
    gateway: RunningService, fakes: dict[str, Any]
):
    shopify: FakeShopify = fakes["shopify"]
    order_id, gid = shopify_order(gateway, shopify, 7000000011)
    shipment = shipped(order_id, [("TEE-ORG-BLK-M", 2), ("MUG-ENM-350-WHT", 1)])
    gateway.publish(shipment)
    eventually(lambda: settled(gateway, order_id))

    for status, hours in (("in_transit", 3), ("out_for_delivery", 20), ("delivered", 26)):
        news = carrier_news(shipment, status, hours)
        gateway.publish(news, news)  # a carrier's webhook sent twice
    rows = eventually(lambda: tracking_deliveries(gateway, order_id, 3))

    assert all(r["status"] == "delivered" for r in rows)
    (events,) = shopify.fulfillment_events(gid)  # sent side by side: Shopify orders by happenedAt
    events.sort(key=lambda e: datetime.fromisoformat(e["happenedAt"]))
    assert [e["status"] for e in events] == ["IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"]
    assert events[2]["message"] == "DHL: delivered"
    assert datetime.fromisoformat(events[2]["happenedAt"]) == shipment.shipped_at + timedelta(
        hours=26
    )


def tracking_deliveries(gw: RunningService, order_id: uuid.UUID, n: int) -> list[Any] | None:
    """The order's `tracking` deliveries once there are `n` of them, none pending."""
    rows = deliveries(gw.http, order_id=str(order_id), action="tracking")
    done = len(rows) == n and all(r["status"] != "pending" for r in rows)
    return rows if done else None


def test_a_woocommerce_order_gets_no_tracking_delivery_its_api_has_nowhere_to_put_it(
    gateway: RunningService, fakes: dict[str, Any]
):
    order_id = woo_order_in(gateway, fakes["woocommerce"], 4890)
    shipment = shipped(order_id, [("TEE-ORG-BLK-M", 1)])
    gateway.publish(shipment)
    eventually(lambda: settled(gateway, order_id))

    gateway.publish(carrier_news(shipment, "delivered", 30))
    eventually(
        lambda: (
            gateway.http.get(f"/v1/channel-orders/{order_id}").json()["tracking_status"]
            == "delivered"
        )
    )
    assert deliveries(gateway.http, order_id=str(order_id), action="tracking") == []


def test_a_channel_down_for_a_while_gets_its_tracking_exactly_once_when_it_is_back(
    gateway: RunningService, fakes: dict[str, Any]
):
    shopify: FakeShopify = fakes["shopify"]
    order_id, gid = shopify_order(gateway, shopify, 7000000002)
    seen_before = len(shopify.requests)

    shopify.down_for(3600)  # down when the news arrives ...
    gateway.publish(shipped(order_id, [("TEE-ORG-BLK-M", 2), ("MUG-ENM-350-WHT", 1)]))
    eventually(lambda: sum(r.status == 503 for r in shopify.requests[seen_before:]) >= 3)
    shopify.down_for(0)  # ... and back after refusing a few attempts
    eventually(lambda: settled(gateway, order_id))

    assert len(shopify.fulfillments(gid)) == 1
    row = delivery_of(gateway, order_id)
    assert row["status"] == "delivered"
    assert row["attempts"] >= 3  # it was refused while down, then got through
    assert "503" in (row["last_error"] or "")


def test_a_retry_after_a_lost_answer_does_not_create_a_second_fulfillment(
    gateway: RunningService, fakes: dict[str, Any]
):
    shopify: FakeShopify = fakes["shopify"]
    order_id, gid = shopify_order(gateway, shopify, 7000000003)

    shopify.lose_answers(1, matching=b"OmsFulfillmentCreate")
    gateway.publish(shipped(order_id, [("TEE-ORG-BLK-M", 2), ("MUG-ENM-350-WHT", 1)]))
    eventually(lambda: settled(gateway, order_id))

    assert len(shopify.fulfillments(gid)) == 1
    row = delivery_of(gateway, order_id)
    assert row["status"] == "delivered"
    assert row["attempts"] >= 2


def test_a_rate_table_shipment_is_fulfilled_at_shopify_without_its_numbers_and_only_once(
    gateway: RunningService, fakes: dict[str, Any]
):
    shopify: FakeShopify = fakes["shopify"]
    order_id, gid = shopify_order(gateway, shopify, 7000000031)

    shopify.lose_answers(1, matching=b"OmsFulfillmentCreate")  # the retry must find it done
    gateway.publish(
        shipped(
            order_id,
            [("TEE-ORG-BLK-M", 2), ("MUG-ENM-350-WHT", 1)],
            carrier="oms-parcel",
            tracking_number="OP00012345",
            tracking_shared=False,
        )
    )
    eventually(lambda: settled(gateway, order_id))

    (fulfillment,) = shopify.fulfillments(gid)
    assert fulfillment["trackingInfo"] == []
    creates = [
        r for r in shopify.sent("POST") if r.json()["operationName"] == "OmsFulfillmentCreate"
    ]
    assert all(b"OP00012345" not in r.body for r in creates)
    row = delivery_of(gateway, order_id)
    assert row["status"] == "delivered" and row["attempts"] >= 2
    assert row["outcome"].startswith("already fulfilled; tracking numbers withheld")


def test_a_delivery_that_runs_out_of_retries_is_failed_visibly_and_ops_can_retry_it(
    gateway: RunningService, fakes: dict[str, Any]
):
    shopify: FakeShopify = fakes["shopify"]
    order_id, gid = shopify_order(gateway, shopify, 7000000004)

    shopify.fail(1000)
    gateway.publish(shipped(order_id, [("TEE-ORG-BLK-M", 2), ("MUG-ENM-350-WHT", 1)]))
    eventually(lambda: settled(gateway, order_id))
    failed = deliveries(gateway.http, status="failed", channel="shopify-eu")
    shopify.fail(0)
    retry = gateway.http.post(f"/v1/deliveries/{failed[0]['delivery_id']}/retry")
    again = gateway.http.post(f"/v1/deliveries/{failed[0]['delivery_id']}/retry")
    # The view still shows the failed round until it projects the retry: wait for the new one.
    eventually(lambda: delivery_of(gateway, order_id)["status"] == "delivered")

    assert [row["order_id"] for row in failed] == [str(order_id)]
    assert failed[0]["attempts"] == gateway.parts.settings.delivery_max_attempts
    assert "HTTP 503" in failed[0]["last_error"]
    assert retry.status_code == 202 and retry.json()["status"] == "pending"
    assert again.status_code == 409
    assert delivery_of(gateway, order_id)["status"] == "delivered"
    assert len(shopify.fulfillments(gid)) == 1


def test_shopify_is_told_of_cancellations_and_refunds_once(
    gateway: RunningService, fakes: dict[str, Any]
):
    shopify: FakeShopify = fakes["shopify"]
    order_id, gid = shopify_order(gateway, shopify, 7000000005)
    refund = refunded(order_id, "MUG-ENM-350-WHT", "14.50")

    shopify.lose_answers(1, matching=b"OmsRefundCreate")
    gateway.publish(cancelled(order_id, "shopify-eu", "7000000005"))
    gateway.publish(refund)
    gateway.publish(refund)  # republished: the same refund id is one delivery
    eventually(
        lambda: settled(gateway, order_id, "cancellation") and settled(gateway, order_id, "refund")
    )
    eventually(lambda: consumed(gateway, ev.Refunded) >= 2)  # the republished one too

    order = shopify.orders[gid]
    assert order["cancelledAt"] is not None
    assert list(order["refunds"]) == [str(refund.refund_id)]
    refund_input = order["refunds"][str(refund.refund_id)]["input"]
    assert refund_input["transactions"][0]["amount"] == "14.50"
    assert refund_input["refundLineItems"] == [
        {
            "lineItemId": "gid://shopify/LineItem/13630371725477",
            "quantity": 1,
            "restockType": "NO_RESTOCK",
        }
    ]
    assert {r["status"] for r in deliveries(gateway.http, order_id=str(order_id))} == {"delivered"}


def test_shopify_s_two_line_items_of_one_sku_are_each_fulfilled_and_refunded_by_their_own_ids(
    gateway: RunningService, fakes: dict[str, Any]
):
    # Shopify's sample webhook: two line items of one SKU at $199, one unit each.
    shopify: FakeShopify = fakes["shopify"]
    payload = p.shopify_sample_order()
    payload.update(id=7000000006, admin_graphql_api_id="gid://shopify/Order/7000000006")
    for item in payload["line_items"]:
        item["sku"] = "SHOP-TEE-BLK-M"
    gid = shopify.add_order(payload)
    body = p.dumps(payload)
    response = gateway.http.post(
        "/v1/webhooks/shopify/shopify-eu",
        content=body,
        headers=p.shopify_headers(body, SECRET_WH, "evt-7000000006"),
    )
    assert response.json()["status"] == "accepted", response.text
    order_id = uuid.UUID(response.json()["order_id"])
    refund = refunded(
        order_id,
        "TEE-ORG-BLK-M",
        "378.00",
        "USD",
        lines=[ev.RefundLine(sku="TEE-ORG-BLK-M", quantity=2, amount=Decimal("378.00"))],
    ).model_copy(update={"amount": Decimal("388.00"), "shipping": Decimal("10.00")})  # all back

    gateway.publish(shipped(order_id, [("TEE-ORG-BLK-M", 2)]))
    gateway.publish(refund)
    eventually(lambda: settled(gateway, order_id) and settled(gateway, order_id, "refund"))

    (fulfillment_order,) = shopify.orders[gid]["fulfillmentOrders"]
    (by_order,) = [
        pair
        for r in shopify.sent("POST")
        if r.json()["operationName"] == "OmsFulfillmentCreate"
        for pair in r.json()["variables"]["fulfillment"]["lineItemsByFulfillmentOrder"]
        if pair["fulfillmentOrderId"] == fulfillment_order["id"]
    ]
    assert by_order["fulfillmentOrderLineItems"] == [
        {"id": f"gid://shopify/FulfillmentOrderLineItem/{item['id']}", "quantity": 1}
        for item in payload["line_items"]
    ]
    refund_input = shopify.orders[gid]["refunds"][str(refund.refund_id)]["input"]
    assert refund_input["refundLineItems"] == [
        {
            "lineItemId": f"gid://shopify/LineItem/{item['id']}",
            "quantity": 1,
            "restockType": "NO_RESTOCK",
        }
        for item in payload["line_items"]
    ]
    assert refund_input["transactions"][0]["amount"] == "388.00"
    assert refund_input["shipping"] == {"amount": "10.00"}  # the full return pays shipping back
    assert {r["status"] for r in deliveries(gateway.http, order_id=str(order_id))} == {"delivered"}


def test_woocommerce_refunds_a_product_on_two_lines_on_each_line_with_its_share(
    gateway: RunningService, fakes: dict[str, Any]
):
    # The same tee twice, the second on sale: a refund of both goes back on both lines.
    woo: FakeWooCommerce = fakes["woocommerce"]
    payload = p.woo_order(4803)
    payload["line_items"][1].update(
        id=317,
        name="Organic Tee - Black, M",
        product_id=93,
        sku="WOO-TEE-BLK-M",
        subtotal="12.45",
        total="12.45",
    )
    p.woo_totals(payload)  # the order's total as WooCommerce has it, so it is taken in
    woo.add_order(payload)
    body = p.dumps(payload)
    gateway.http.post(
        "/v1/webhooks/woocommerce/woo-de", content=body, headers=p.woo_headers(body, "w", "f")
    )
    order_id = order_id_for("woo-de", "4803")
    refund = refunded(
        order_id,
        "TEE-ORG-BLK-M",
        "37.35",
        lines=[ev.RefundLine(sku="TEE-ORG-BLK-M", quantity=2, amount=Decimal("37.35"))],
    )

    gateway.publish(refund)
    eventually(lambda: settled(gateway, order_id, "refund"))

    (made,) = woo.refunds[4803]
    assert made["amount"] == "37.35"
    assert made["line_items"] == [
        {"id": 315, "quantity": 1, "refund_total": "18.68"},  # the odd cent to the first line
        {"id": 317, "quantity": 1, "refund_total": "18.67"},
    ]


def test_woocommerce_gets_tracking_items_completion_cancels_and_refunds(
    gateway: RunningService, fakes: dict[str, Any]
):
    woo: FakeWooCommerce = fakes["woocommerce"]
    woo.add_order(p.woo_order(4801))
    woo.add_order(p.woo_order(4802))
    body = p.dumps(p.woo_order(4801))
    gateway.http.post(
        "/v1/webhooks/woocommerce/woo-de", content=body, headers=p.woo_headers(body, "w", "d")
    )
    body2 = p.dumps(p.woo_order(4802))
    gateway.http.post(
        "/v1/webhooks/woocommerce/woo-de", content=body2, headers=p.woo_headers(body2, "w", "e")
    )
    first, second = order_id_for("woo-de", "4801"), order_id_for("woo-de", "4802")
    packages = [
        ev.PackageRef(package_id=uuid.uuid4(), sscc="003404342921351001", tracking_number=n)
        for n in ("JJD0001", "JJD0002")
    ]

    woo.lose_answers(1, matching=b"shipment-trackings")
    gateway.publish(
        shipped(first, [("TEE-ORG-BLK-M", 1), ("MUG-ENM-350-WHT", 1)], packages=packages)
    )
    gateway.publish(cancelled(second, "woo-de", "4802"))
    gateway.publish(refunded(first, "MUG-ENM-350-WHT", "14.50"))
    eventually(
        lambda: all(
            settled(gateway, o, a)
            for o, a in [(first, "shipment"), (second, "cancellation"), (first, "refund")]
        )
    )

    assert [t["tracking_number"] for t in woo.trackings[4801]] == ["JJD0001", "JJD0002"]
    assert woo.trackings[4801][0]["tracking_provider"] == "DHL"
    assert woo.orders[4801]["status"] == "completed"
    assert woo.orders[4802]["status"] == "cancelled"
    (refund,) = woo.refunds[4801]
    assert refund["amount"] == "14.50" and refund["api_refund"] is True
    assert refund["line_items"] == [{"id": 316, "quantity": 1, "refund_total": "14.50"}]


def amazon_order_in(
    gw: RunningService,
    external_id: str,
    lines: list[dict[str, Any]],
    line_refs: list[dict[str, Any]],
    **refs: Any,
) -> uuid.UUID:
    """An Amazon order as the poller takes it in (the buyer's e-mail is Amazon's relay)."""
    intake = gw.app.intake.receive_order(
        "amazon-de",
        external_id,
        {"name": "Max Mustermann", "email": "abc@marketplace.amazon.de"},
        {
            "name": "Max",
            "line1": "Hauptstraße 1",
            "city": "München",
            "postal_code": "80331",
            "country": "DE",
        },
        lines,
        "EUR",
        refs={**refs, "lines": line_refs},
    )
    return intake.order_id


def test_amazon_gets_one_shipment_confirmation_per_package_and_feeds_for_cancel_and_refund(
    gateway: RunningService, fakes: dict[str, Any]
):
    amazon: FakeAmazon = fakes["amazon"]
    order = p.amazon_order("028-1234567-0000001", "2026-11-28T10:00:00Z")
    order["orderItems"][0]["quantityOrdered"] = 2
    amazon.add_order(order)
    order_id = amazon_order_in(
        gateway,
        order["orderId"],
        [{"sku": "TEE-ORG-BLK-M", "quantity": 2, "unit_price": "24.90"}],
        [{"sku": "TEE-ORG-BLK-M", "order_item_id": "00000101"}],
        marketplace_id="A1PA6795UKMFR9",
    )
    packages = [
        ev.PackageRef(package_id=uuid.uuid4(), sscc="003404342921351001", tracking_number=n)
        for n in ("1Z999AA10000001", "1Z999AA10000002")
    ]
    news = shipped(order_id, [("TEE-ORG-BLK-M", 2)], packages=packages, service="UPS Standard")

    amazon.lose_answers(1, matching=b"shipmentConfirmation")
    gateway.publish(news)
    eventually(lambda: settled(gateway, order_id))
    gateway.publish(cancelled(order_id, "amazon-de", order["orderId"]))
    gateway.publish(refunded(order_id, "TEE-ORG-BLK-M", "24.90"))
    eventually(
        lambda: settled(gateway, order_id, "cancellation") and settled(gateway, order_id, "refund")
    )

    confirmed = amazon.orders[order["orderId"]]["packages"]
    assert sorted(c["trackingNumber"] for c in confirmed) == ["1Z999AA10000001", "1Z999AA10000002"]
    assert [c["packageItems"] for c in confirmed] == [
        [{"orderItemId": "00000101", "quantity": 1}],
        [{"orderItemId": "00000101", "quantity": 1}],
    ]
    assert all(c["shippingService"] == "UPS Standard" for c in confirmed)
    feed_types = sorted(f["feedType"] for f in amazon.feeds)
    assert feed_types == ["POST_ORDER_ACKNOWLEDGEMENT_DATA", "POST_PAYMENT_ADJUSTMENT_DATA"]
    adjustment = next(f for f in amazon.feeds if f["feedType"] == "POST_PAYMENT_ADJUSTMENT_DATA")
    assert "<AmazonOrderItemCode>00000101</AmazonOrderItemCode>" in adjustment["content"]
    assert 'currency="EUR">24.90<' in adjustment["content"]


def test_amazon_confirms_and_refunds_a_sku_on_two_order_items_item_by_item(
    gateway: RunningService, fakes: dict[str, Any]
):
    amazon: FakeAmazon = fakes["amazon"]
    order = p.amazon_order("028-1234567-0000002", "2026-11-28T10:00:00Z")
    amazon.add_order(order)
    tee = {"sku": "TEE-ORG-BLK-M", "quantity": 1}
    order_id = amazon_order_in(
        gateway,
        order["orderId"],
        [tee | {"unit_price": "24.90"}, tee | {"unit_price": "19.90"}],
        [tee | {"order_item_id": "00000201"}, tee | {"order_item_id": "00000202"}],
    )
    refund = refunded(
        order_id,
        "TEE-ORG-BLK-M",
        "44.80",
        lines=[ev.RefundLine(sku="TEE-ORG-BLK-M", quantity=2, amount=Decimal("44.80"))],
    )

    gateway.publish(shipped(order_id, [("TEE-ORG-BLK-M", 2)], tracking_number="1Z3"))
    gateway.publish(refund)
    eventually(lambda: settled(gateway, order_id) and settled(gateway, order_id, "refund"))

    (confirmed,) = amazon.orders[order["orderId"]]["packages"]
    assert confirmed["packageItems"] == [
        {"orderItemId": "00000201", "quantity": 1},
        {"orderItemId": "00000202", "quantity": 1},
    ]
    (feed,) = [f for f in amazon.feeds if str(refund.refund_id) in f["content"]]
    assert feed["content"].count("<AdjustedItem>") == 2
    assert "<AmazonOrderItemCode>00000202</AmazonOrderItemCode>" in feed["content"]
    assert feed["content"].count('currency="EUR">22.40<') == 2


def test_shopee_ships_the_order_once_and_cancels_and_confirms_the_return(
    gateway: RunningService, fakes: dict[str, Any]
):
    shopee: FakeShopee = fakes["shopee"]
    for sn in ("251129SHIP0001", "251129CANC0001"):
        shopee.add_order(p.shopee_order(sn))
        gateway.app.intake.receive_order(
            "shopee-sg",
            sn,
            {"name": "Tan Wei Ling", "email": "25187311@buyer.shopee"},
            {
                "name": "Tan",
                "line1": "391 Orchard Road",
                "city": "Singapore",
                "postal_code": "238801",
                "country": "SG",
            },
            [{"sku": "TEE-ORG-BLK-M", "quantity": 1, "unit_price": "35.90"}],
            "SGD",
            refs={"lines": [{"sku": "TEE-ORG-BLK-M", "item_id": 2700081234, "model_id": 170001}]},
        )
    shopee.returns.append(
        {"return_sn": "2511300RET01", "order_sn": "251129SHIP0001", "status": "REQUESTED"}
    )
    ship_id = order_id_for("shopee-sg", "251129SHIP0001")
    cancel_id = order_id_for("shopee-sg", "251129CANC0001")

    shopee.lose_answers(1, matching=b"ship_order")
    gateway.publish(shipped(ship_id, [("TEE-ORG-BLK-M", 1)], tracking_number="SPXSG0001"))
    gateway.publish(cancelled(cancel_id, "shopee-sg", "251129CANC0001"))
    gateway.publish(refunded(ship_id, "TEE-ORG-BLK-M", "35.90", "SGD"))
    eventually(
        lambda: (
            settled(gateway, ship_id)
            and settled(gateway, cancel_id, "cancellation")
            and settled(gateway, ship_id, "refund")
        )
    )

    assert shopee.shipped == [
        {"order_sn": "251129SHIP0001", "non_integrated": {"tracking_number": "SPXSG0001"}}
    ]
    assert shopee.orders["251129CANC0001"]["cancel_request"]["item_list"] == [
        {"item_id": 2700081234, "model_id": 170001}
    ]
    assert shopee.returns[0]["status"] == "ACCEPTED"
    assert {r["status"] for r in deliveries(gateway.http, channel="shopee-sg")} == {"delivered"}


def test_a_shopee_shipment_with_numbers_not_declared_real_fails_visibly_with_the_reason(
    gateway: RunningService, fakes: dict[str, Any]
):
    shopee: FakeShopee = fakes["shopee"]
    sn = "251129RATE0001"
    shopee.add_order(p.shopee_order(sn))
    gateway.app.intake.receive_order(
        "shopee-sg",
        sn,
        {"name": "Nguyễn Thị Hoa", "email": "25187312@buyer.shopee"},
        {
            "name": "Nguyễn Thị Hoa",
            "line1": "1 Raffles Place",
            "city": "Singapore",
            "postal_code": "048616",
            "country": "SG",
        },
        [{"sku": "TEE-ORG-BLK-M", "quantity": 1, "unit_price": "35.90"}],
        "SGD",
        refs={"lines": [{"sku": "TEE-ORG-BLK-M", "item_id": 2700081234, "model_id": 170001}]},
    )
    order_id = order_id_for("shopee-sg", sn)
    shipped_before = list(shopee.shipped)

    gateway.publish(
        shipped(
            order_id,
            [("TEE-ORG-BLK-M", 1)],
            carrier="oms-parcel",
            tracking_number="OP00099999",
            tracking_shared=False,
        )
    )
    eventually(lambda: settled(gateway, order_id))

    row = delivery_of(gateway, order_id)
    assert row["status"] == "failed" and row["attempts"] == 1  # refused, not retried
    assert "ship_order needs a tracking number" in row["last_error"]
    assert "not declared real" in row["last_error"]
    assert shopee.shipped == shipped_before  # nothing sent, no invented number


def test_a_shopee_shipment_after_the_access_token_expired_is_sent_with_a_refreshed_token(
    gateway: RunningService, fakes: dict[str, Any]
):
    shopee: FakeShopee = fakes["shopee"]
    gateway.http.post(
        "/v1/channels",
        json={
            "channel_id": "shopee-sg",
            "kind": "shopee",
            "partner_id": PARTNER_ID,
            "shop_id": SHOP_ID,
            "base_url": shopee.url,
            "partner_key": PARTNER_KEY,
            "access_token": ACCESS_TOKEN,
            "refresh_token": SHOPEE_REFRESH_TOKEN,
            "sku_mapping": p.SHOPEE_SKUS,
        },
    ).raise_for_status()
    sn = "251206EXPD0001"
    shopee.add_order(p.shopee_order(sn))
    gateway.app.intake.receive_order(
        "shopee-sg",
        sn,
        {"name": "Tan Wei Ling", "email": "25187311@buyer.shopee"},
        {
            "name": "Tan",
            "line1": "1 Orchard Road",
            "city": "Singapore",
            "postal_code": "238801",
            "country": "SG",
        },
        [{"sku": "TEE-ORG-BLK-M", "quantity": 1, "unit_price": "35.90"}],
        "SGD",
    )
    order_id = order_id_for("shopee-sg", sn)
    shopee.expire_access_tokens()
    try:
        gateway.publish(shipped(order_id, [("TEE-ORG-BLK-M", 1)], tracking_number="SPXSG0009"))
        eventually(lambda: settled(gateway, order_id))

        (delivery,) = deliveries(gateway.http, order_id=str(order_id))
        assert delivery["status"] == "delivered", delivery
        assert {"order_sn": sn, "non_integrated": {"tracking_number": "SPXSG0009"}} in (
            shopee.shipped
        )
        assert shopee.refreshed_with[-1] == SHOPEE_REFRESH_TOKEN
    finally:  # the fake is shared by the module: the first tokens work again
        shopee.authorise(ACCESS_TOKEN, SHOPEE_REFRESH_TOKEN)


def test_customers_of_own_channels_get_a_shipping_email_and_nothing_else_is_pushed(
    gateway: RunningService, fakes: dict[str, Any]
):
    smtp: SmtpSink = fakes["smtp"]
    intake = gateway.app.intake.receive_order(
        "web",
        "WEB-100234",
        {"name": "Clara Weiß", "email": "clara@example.de"},
        {
            "name": "Clara Weiß",
            "line1": "Am Markt 3",
            "city": "Bremen",
            "postal_code": "28195",
            "country": "DE",
        },
        [{"sku": "MUG-ENM-350-WHT", "quantity": 1, "unit_price": "14.50"}],
        "EUR",
    )

    gateway.publish(shipped(intake.order_id, [("MUG-ENM-350-WHT", 1)], tracking_number="JJD777"))
    gateway.publish(cancelled(intake.order_id, "web", "WEB-100234"))
    eventually(lambda: settled(gateway, intake.order_id))
    eventually(lambda: gateway.app.orders.get(intake.order_id).status == "cancelled")

    (message,) = [m for m in smtp.messages if m["To"] == "clara@example.de"]
    assert message["Subject"] == "Your order WEB-100234 has shipped"
    assert message["From"] == "orders@shop.example.de"
    assert "JJD777" in message.get_payload() and "DHL" in message.get_payload()
    assert [r["action"] for r in deliveries(gateway.http, order_id=str(intake.order_id))] == [
        "shipment"
    ]


def test_news_for_a_channel_that_is_not_connected_is_skipped_visibly(gateway: RunningService):
    intake = gateway.app.intake.receive_order(
        "otto-de",
        "OTTO-1",
        {"name": "A B", "email": "a@example.de"},
        {"name": "A B", "line1": "X 1", "city": "Y", "postal_code": "1", "country": "DE"},
        [{"sku": "MUG-ENM-350-WHT", "quantity": 1, "unit_price": "14.50"}],
        "EUR",
    )

    gateway.publish(shipped(intake.order_id, [("MUG-ENM-350-WHT", 1)]))
    eventually(lambda: settled(gateway, intake.order_id))

    row = delivery_of(gateway, intake.order_id)
    assert row["status"] == "skipped"
    assert "no channel otto-de is connected" in row["last_error"]


# -- refunds: a paid order's cancel, and refunds without a return -------------------------


def cancelled_as(
    order_id: uuid.UUID, channel: str, external_id: str, payment_state: str
) -> ev.OrderCancelled:
    """The order service cancelled the order, which was paid this far."""
    return factories.order_cancelled(
        order_id,
        channel=channel,
        external_id=external_id,
        reason="out of stock everywhere",
        payment_state=payment_state,
    )


def woo_order_in(gw: RunningService, woo: FakeWooCommerce, number: int) -> uuid.UUID:
    payload = p.woo_order(number)
    woo.add_order(payload)
    body = p.dumps(payload)
    answer = gw.http.post(
        "/v1/webhooks/woocommerce/woo-de", content=body, headers=p.woo_headers(body, "w", "c")
    )
    assert answer.status_code in (200, 202), answer.text
    return order_id_for("woo-de", str(number))


def test_shopify_cancels_a_paid_order_with_its_refund_once_and_an_unpaid_one_without(
    gateway: RunningService, fakes: dict[str, Any]
):
    shopify: FakeShopify = fakes["shopify"]
    paid_id, paid_gid = shopify_order(gateway, shopify, 7000000101)
    open_id, open_gid = shopify_order(gateway, shopify, 7000000102)
    news = cancelled_as(paid_id, "shopify-eu", "7000000101", "paid")

    gateway.publish(news)
    gateway.publish(news)  # republished: one cancellation, one refund
    gateway.publish(cancelled_as(open_id, "shopify-eu", "7000000102", "pending"))
    eventually(
        lambda: (
            settled(gateway, paid_id, "cancellation") and settled(gateway, open_id, "cancellation")
        )
    )

    assert shopify.orders[paid_gid]["cancelRefundMethod"] == {"originalPaymentMethodsRefund": True}
    assert shopify.orders[open_gid]["cancelRefundMethod"] == {"originalPaymentMethodsRefund": False}
    cancels = [
        r
        for r in shopify.sent("POST")
        if r.json()["operationName"] == "OmsOrderCancel"
        and r.json()["variables"]["orderId"] == paid_gid
    ]
    assert len(cancels) == 1
    row = delivery_of(gateway, paid_id, "cancellation")
    assert row["status"] == "delivered"
    assert row["details"]["refund"] is True and row["details"]["payment_state"] == "paid"
    assert "refunds the payment with the cancel" in row["outcome"]
    assert delivery_of(gateway, open_id, "cancellation")["details"]["refund"] is False


def test_woocommerce_refunds_what_is_left_of_a_paid_order_it_cancels_once(
    gateway: RunningService, fakes: dict[str, Any]
):
    woo: FakeWooCommerce = fakes["woocommerce"]
    order_id = woo_order_in(gateway, woo, 4901)  # 39.40 paid
    earlier = refunded(order_id, "MUG-ENM-350-WHT", "14.50")
    gateway.publish(earlier)
    eventually(lambda: settled(gateway, order_id, "refund"))

    # The refund is made but its answer lost: the retry must find it, not refund again.
    woo.lose_answers(1, matching=b'"cancel"')
    gateway.publish(cancelled_as(order_id, "woo-de", "4901", "partially_refunded"))
    eventually(lambda: settled(gateway, order_id, "cancellation"))

    assert woo.orders[4901]["status"] == "cancelled"
    first, rest = woo.refunds[4901]
    assert first["amount"] == "14.50"
    assert rest["amount"] == "24.90"  # the order's 39.40 less the 14.50 refunded before
    assert rest["api_refund"] is True and "line_items" not in rest
    assert {"key": "_oms_refund_reason", "value": "cancel"} in rest["meta_data"]
    row = delivery_of(gateway, order_id, "cancellation")
    assert row["status"] == "delivered" and row["attempts"] >= 2
    assert "refunded 24.90" in row["outcome"]  # the retry found the refund the lost answer made
    total = sum(Decimal(r["amount"]) for r in woo.refunds[4901])
    assert total == Decimal(woo.orders[4901]["total"])  # never more than was paid


def test_woocommerce_cancels_an_unpaid_order_without_a_refund(
    gateway: RunningService, fakes: dict[str, Any]
):
    woo: FakeWooCommerce = fakes["woocommerce"]
    order_id = woo_order_in(gateway, woo, 4902)
    gateway.publish(cancelled_as(order_id, "woo-de", "4902", "pending"))
    eventually(lambda: settled(gateway, order_id, "cancellation"))
    assert woo.orders[4902]["status"] == "cancelled"
    assert woo.refunds.get(4902, []) == []


def test_amazon_refunds_the_buyer_with_its_cancel_and_the_delivery_says_so(
    gateway: RunningService, fakes: dict[str, Any]
):
    amazon: FakeAmazon = fakes["amazon"]
    order = p.amazon_order("028-1234567-0000101", "2026-11-28T10:00:00Z")
    amazon.add_order(order)
    order_id = amazon_order_in(
        gateway,
        order["orderId"],
        [{"sku": "TEE-ORG-BLK-M", "quantity": 1, "unit_price": "24.90"}],
        [{"sku": "TEE-ORG-BLK-M", "order_item_id": "00000301"}],
    )
    gateway.publish(cancelled_as(order_id, "amazon-de", order["orderId"], "paid"))
    eventually(lambda: settled(gateway, order_id, "cancellation"))
    row = delivery_of(gateway, order_id, "cancellation")
    assert row["status"] == "delivered"
    assert "Amazon refunds the buyer with the cancel" in row["outcome"]
    assert not [
        f for f in amazon.feeds if order["orderId"] in f["content"] and "Adjust" in f["feedType"]
    ]


def test_refunds_without_a_return_go_with_their_reason_and_money_only_sends_no_units(
    gateway: RunningService, fakes: dict[str, Any]
):
    shopify: FakeShopify = fakes["shopify"]
    woo: FakeWooCommerce = fakes["woocommerce"]
    shop_id, gid = shopify_order(gateway, shopify, 7000000103)
    woo_id = woo_order_in(gateway, woo, 4903)
    goodwill = refunded(shop_id, "TEE-ORG-BLK-M", "5.00", reason="goodwill", refund_kind="amount")
    short = refunded(shop_id, "MUG-ENM-350-WHT", "14.50", reason="short_pick", refund_kind="units")
    woo_goodwill = refunded(
        woo_id, "TEE-ORG-BLK-M", "3.00", reason="goodwill", refund_kind="amount"
    )
    for news in (goodwill, short, woo_goodwill):
        gateway.publish(news)
    eventually(lambda: consumed(gateway, ev.Refunded) >= 3)
    eventually(
        lambda: (
            len(deliveries(gateway.http, order_id=str(shop_id), action="refund")) == 2
            and all(
                r["status"] != "pending"
                for r in deliveries(gateway.http, order_id=str(shop_id), action="refund")
            )
            and settled(gateway, woo_id, "refund")
        )
    )

    made = shopify.orders[gid]["refunds"]
    money_only = made[str(goodwill.refund_id)]["input"]
    assert money_only["refundLineItems"] == []
    assert money_only["transactions"][0]["amount"] == "5.00"
    assert "(goodwill)" in money_only["note"]
    units = made[str(short.refund_id)]["input"]
    assert [(i["quantity"], i["restockType"]) for i in units["refundLineItems"]] == [
        (1, "NO_RESTOCK")
    ]
    assert "(short_pick)" in units["note"]
    (woo_refund,) = woo.refunds[4903]
    assert woo_refund["amount"] == "3.00" and "line_items" not in woo_refund
    assert {"key": "_oms_refund_reason", "value": "goodwill"} in woo_refund["meta_data"]


# -- edits of an order's lines made in the OMS ---------------------------------------------------

WRAP = "ギフト包装"  # a line ops add, named as the shop names it


def edited(
    order_id: uuid.UUID,
    channel: str,
    external_id: str,
    lines: list[ev.OrderLine],
    cancelled: list[ev.CancelledUnits],
    added: list[ev.OrderLine],
    revision: int = 1,
) -> ev.OrderLinesChanged:
    """Ops edited the order in the OMS before picking."""
    return ev.OrderLinesChanged(
        order_id=order_id,
        channel=channel,
        external_id=external_id,
        revision=revision,
        lines=lines,
        cancelled=cancelled,
        added=added,
        currency="EUR",
        payment_state="paid",
        reason="customer asked by phone: one tee less, and gift wrap",
        source="ops",
        changed_at=datetime(2026, 11, 28, 15, 2, 11, tzinfo=UTC),
    )


def tee(quantity: int, line_id: str) -> ev.OrderLine:
    return ev.OrderLine(
        sku="TEE-ORG-BLK-M",
        quantity=quantity,
        unit_price=Decimal("24.90"),
        line_id=line_id,
        title="Organic Tee",
    )


def mug(line_id: str) -> ev.OrderLine:
    return ev.OrderLine(
        sku="MUG-ENM-350-WHT",
        quantity=1,
        unit_price=Decimal("14.50"),
        line_id=line_id,
        title="Enamel Mug",
    )


WRAP_LINE = ev.OrderLine(
    sku="GIFT-WRAP", quantity=1, unit_price=Decimal("3.00"), title=WRAP, paid=Decimal(0)
)


def edit_delivery(gw: RunningService, order_id: uuid.UUID) -> dict[str, Any] | None:
    """The order's edit delivery once it is no longer pending."""
    rows = deliveries(gw.http, order_id=str(order_id), action="edit")
    return rows[0] if rows and rows[0]["status"] != "pending" else None


def test_shopify_gets_one_order_edit_also_when_its_answer_is_lost_and_the_event_comes_again(
    gateway: RunningService, fakes: dict[str, Any]
):
    shopify: FakeShopify = fakes["shopify"]
    order_id, gid = shopify_order(gateway, shopify, 7100000001)
    tee_id, mug_id = (str(item["id"]) for item in p.shopify_order(7100000001)["line_items"])
    edit = edited(
        order_id,
        "shopify-eu",
        "7100000001",
        lines=[tee(1, tee_id), mug(mug_id), WRAP_LINE],
        cancelled=[
            ev.CancelledUnits(line=1, sku="TEE-ORG-BLK-M", quantity=1, paid=Decimal("24.90"))
        ],
        added=[WRAP_LINE],
    )

    shopify.lose_answers(1, matching=b"OmsOrderEditCommit")  # committed, but we never hear so
    gateway.publish(edit)
    delivery = eventually(lambda: edit_delivery(gateway, order_id))
    gateway.publish(edit)  # the same edit again: old news
    eventually(lambda: consumed(gateway, ev.OrderLinesChanged) >= 2)

    assert delivery["status"] == "delivered", delivery
    assert delivery["attempts"] == 2
    assert delivery["outcome"] == "already edited at Shopify (revision 1)"
    (commit,) = [c for c in shopify.commits if c["order"] == gid]
    assert commit["notifyCustomer"] is False
    assert commit["staffNote"].startswith("OMS edit 1: customer asked by phone")
    assert commit["quantities"] == {f"gid://shopify/LineItem/{tee_id}": (1, True)}
    (wrap,) = commit["added"]
    assert (wrap["kind"], wrap["title"], wrap["quantity"]) == ("custom", WRAP, 1)
    assert wrap["price"] == {"amount": "3.00", "currencyCode": "EUR"}
    assert [(i["title"], i["currentQuantity"]) for i in shopify.line_items(gid)] == [
        ("Organic Tee", 1),
        ("Enamel Mug 350 ml", 1),
        (WRAP, 1),
    ]
    assert shopify.orders[gid]["refunds"] == {}  # the edit moves no money
    assert len(deliveries(gateway.http, order_id=str(order_id), action="edit")) == 1

    found = gateway.get_json(f"/v1/channel-orders/{order_id}")
    assert found is not None
    assert [(line["sku"], line["quantity"]) for line in found["lines"]] == [
        ("TEE-ORG-BLK-M", 1),
        ("MUG-ENM-350-WHT", 1),
        ("GIFT-WRAP", 1),
    ]
    (recorded,) = found["edits"]
    assert recorded["revision"] == 1
    assert recorded["told"].startswith("told:")


def test_woocommerce_gets_one_line_items_update_also_when_its_answer_is_lost(
    gateway: RunningService, fakes: dict[str, Any]
):
    woo: FakeWooCommerce = fakes["woocommerce"]
    order_id = woo_order_in(gateway, woo, 4911)
    # The mug goes, the gift wrap comes.
    edit = edited(
        order_id,
        "woo-de",
        "4911",
        lines=[tee(1, "315"), WRAP_LINE],
        cancelled=[
            ev.CancelledUnits(line=2, sku="MUG-ENM-350-WHT", quantity=1, paid=Decimal("14.50"))
        ],
        added=[WRAP_LINE],
    )

    woo.lose_answers(1, matching=b"line_items")
    gateway.publish(edit)
    delivery = eventually(lambda: edit_delivery(gateway, order_id))

    assert delivery["status"] == "delivered", delivery
    assert delivery["outcome"] == "already edited at the store (revision 1)"
    # One update reached the store (its answer lost); the retry found it done.
    (put,) = [r for r in woo.requests if r.method == "PUT" and r.path.endswith("/orders/4911")]
    assert put.json()["line_items"] == [
        {"id": 316, "quantity": 0},
        {
            "name": WRAP,
            "quantity": 1,
            "subtotal": "3.00",
            "total": "3.00",
            "meta_data": [{"key": "_oms_edit_line", "value": "1:1"}],
        },
    ]
    lines = woo.orders[4911]["line_items"]
    assert [(item["name"], item["quantity"]) for item in lines] == [
        ("Organic Tee - Black, M", 1),
        (WRAP, 1),
    ]
    assert woo.refunds.get(4911, []) == []  # the edit moves no money


def test_an_amazon_order_edit_is_not_told_and_the_channel_order_says_why(
    gateway: RunningService,
):
    order_id = amazon_order_in(
        gateway,
        "028-1234567-0000201",
        [{"sku": "TEE-ORG-BLK-M", "quantity": 2, "unit_price": "24.90"}],
        [{"sku": "TEE-ORG-BLK-M", "order_item_id": "00000201", "quantity": 2}],
    )
    edit = edited(
        order_id,
        "amazon-de",
        "028-1234567-0000201",
        lines=[ev.OrderLine(sku="TEE-ORG-BLK-M", quantity=1, unit_price=Decimal("24.90"))],
        cancelled=[ev.CancelledUnits(line=1, sku="TEE-ORG-BLK-M", quantity=1, paid=Decimal(0))],
        added=[],
    )

    gateway.publish(edit)

    def noted() -> dict[str, Any] | None:
        found = gateway.get_json(f"/v1/channel-orders/{order_id}")
        return found if found is not None and found["edits"] else None

    found = eventually(noted)
    (recorded,) = found["edits"]
    assert recorded["told"] == "not told: amazon does not accept edits of an order's lines"
    assert [(line["sku"], line["quantity"]) for line in found["lines"]] == [("TEE-ORG-BLK-M", 1)]
    assert deliveries(gateway.http, order_id=str(order_id)) == []
