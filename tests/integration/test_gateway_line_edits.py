"""Edits of an order's lines made in the OMS reach the channel over real HTTP, once: Shopify by
an order edit, WooCommerce by a line items update; Amazon is not told and the order says so."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from shared import events as ev
from tests.fakes import payloads as p
from tests.fakes.harness import consumed, deliveries, register, run_gateway
from tests.fakes.shopify import TOKEN, FakeShopify
from tests.fakes.woocommerce import KEY, SECRET, FakeWooCommerce
from tests.kit import RunningService, eventually

pytestmark = pytest.mark.integration
SECRET_WH = "shopify-app-secret"
WRAP = "ギフト包装"  # a line ops add, named as the shop names it


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, Any]]:
    started = {"shopify": FakeShopify().start(), "woocommerce": FakeWooCommerce().start()}
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture
def gateway(run_service: Any, fakes: dict[str, Any]) -> RunningService:
    """The whole gateway on the broker, with a Shopify, a WooCommerce and an Amazon channel."""
    gw = run_gateway(run_service)
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
            "base_url": "http://127.0.0.1:9",
            "token_url": "http://127.0.0.1:9/auth/o2/token",
            "lwa_client_secret": "s",
            "refresh_token": "r",
            "sku_mapping": p.AMAZON_SKUS,
        },
    )
    return gw


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
    payload = p.shopify_order(7100000001)
    gid = shopify.add_order(payload)
    body = p.dumps(payload)
    response = gateway.http.post(
        "/v1/webhooks/shopify/shopify-eu",
        content=body,
        headers=p.shopify_headers(body, SECRET_WH, "evt-7100000001"),
    )
    order_id = uuid.UUID(response.json()["order_id"])
    tee_id, mug_id = (str(item["id"]) for item in payload["line_items"])
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
    woo.add_order(p.woo_order(4911))
    body = p.dumps(p.woo_order(4911))
    headers = p.woo_headers(body, "w", "delivery-4911")
    response = gateway.http.post("/v1/webhooks/woocommerce/woo-de", content=body, headers=headers)
    order_id = uuid.UUID(response.json()["order_id"])
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
    intake = gateway.app.intake.receive_order(
        "amazon-de",
        "028-1234567-0000201",
        {"name": "Max Mustermann", "email": "abc@marketplace.amazon.de"},
        {
            "name": "Max",
            "line1": "Hauptstraße 1",
            "city": "München",
            "postal_code": "80331",
            "country": "DE",
        },
        [{"sku": "TEE-ORG-BLK-M", "quantity": 2, "unit_price": "24.90"}],
        "EUR",
        refs={"lines": [{"sku": "TEE-ORG-BLK-M", "order_item_id": "00000201", "quantity": 2}]},
    )
    edit = edited(
        intake.order_id,
        "amazon-de",
        "028-1234567-0000201",
        lines=[ev.OrderLine(sku="TEE-ORG-BLK-M", quantity=1, unit_price=Decimal("24.90"))],
        cancelled=[ev.CancelledUnits(line=1, sku="TEE-ORG-BLK-M", quantity=1, paid=Decimal(0))],
        added=[],
    )

    gateway.publish(edit)

    def noted() -> dict[str, Any] | None:
        found = gateway.get_json(f"/v1/channel-orders/{intake.order_id}")
        return found if found is not None and found["edits"] else None

    found = eventually(noted)
    (recorded,) = found["edits"]
    assert recorded["told"] == "not told: amazon does not accept edits of an order's lines"
    assert [(line["sku"], line["quantity"]) for line in found["lines"]] == [("TEE-ORG-BLK-M", 1)]
    assert deliveries(gateway.http, order_id=str(intake.order_id)) == []
