"""Channel webhooks over real HTTP: signatures, dedupe, malformed payloads, holds, releases."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from services.channel_gateway.bootstrap import events
from services.channel_gateway.domain import connection_id_for, order_id_for
from shared import events as ev
from tests.fakes import payloads as p
from tests.fakes.harness import Gateway
from tests.fakes.shopee import ACCESS_TOKEN, PARTNER_ID, PARTNER_KEY, SHOP_ID, FakeShopee

pytestmark = pytest.mark.integration
SHOPIFY_SECRET = "shopify-app-secret-1"
WOO_SECRET = "woo-webhook-secret"
EVENTS = events()


@pytest.fixture(scope="module")
def shopee() -> Iterator[FakeShopee]:
    fake = FakeShopee().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def gateway(new_database: Any, shopee: FakeShopee) -> Iterator[Gateway]:
    gw = Gateway(new_database("gw_webhooks"))
    gw.register(
        {
            "channel_id": "shopify-eu",
            "kind": "shopify",
            "shop_domain": "acme-eu.myshopify.com",
            "access_token": "shpat_secret_token_value",
            "webhook_secret": SHOPIFY_SECRET,
            "sku_mapping": {**p.SHOPIFY_SKUS, "IPOD2008PINK": "TEE-ORG-BLK-M"},
        }
    )
    gw.register(
        {
            "channel_id": "woo-de",
            "kind": "woocommerce",
            "base_url": "https://shop.example.de",
            "consumer_key": "ck_x",
            "consumer_secret": "cs_x",
            "webhook_secret": WOO_SECRET,
            "sku_mapping": p.WOO_SKUS,
        }
    )
    gw.register(
        {
            "channel_id": "shopee-sg",
            "kind": "shopee",
            "partner_id": PARTNER_ID,
            "shop_id": SHOP_ID,
            "base_url": shopee.url,
            "push_url": "https://oms.example.com/v1/webhooks/shopee/shopee-sg",
            "partner_key": PARTNER_KEY,
            "access_token": ACCESS_TOKEN,
            "sku_mapping": p.SHOPEE_SKUS,
        }
    )
    yield gw
    gw.close()


def post_shopify(gw: Gateway, payload: dict[str, Any], event_id: str, secret: str = SHOPIFY_SECRET):
    body = p.dumps(payload)
    headers = p.shopify_headers(body, secret, event_id)
    return gw.http.post("/v1/webhooks/shopify/shopify-eu", content=body, headers=headers)


def test_a_shopify_order_webhook_becomes_a_canonical_order_with_our_skus(gateway: Gateway):
    payload = p.shopify_order(5829104779001)

    response = post_shopify(gateway, payload, "evt-1")

    order_id = order_id_for("shopify-eu", "5829104779001")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "accepted", "order_id": str(order_id), "duplicate": False}
    received = next(iter(gateway.app.events.get(order_id)))
    public = EVENTS.to_integration(received)
    assert isinstance(public, ev.ChannelOrderReceived)
    assert [(line.sku, line.quantity, str(line.unit_price)) for line in public.lines] == [
        ("TEE-ORG-BLK-M", 2, "24.90"),
        ("MUG-ENM-350-WHT", 1, "14.50"),
    ]
    assert public.shipping_address.country == "DE"
    assert public.shipping_address.postal_code == "10961"
    assert public.customer.email == "lena.hoffmann@example.de"


def test_shopify_s_sample_webhook_keeps_its_discount_state_company_and_titles(gateway: Gateway):
    payload = p.shopify_sample_order()

    response = post_shopify(gateway, payload, "evt-sample")

    assert response.status_code == 200, response.text
    order_id = order_id_for("shopify-eu", str(payload["id"]))
    public = EVENTS.to_integration(next(iter(gateway.app.events.get(order_id))))
    assert isinstance(public, ev.ChannelOrderReceived)
    # Its two line items of one SKU stay two lines, each with its own id, title and amounts.
    assert [(line.sku, line.quantity, line.line_id, line.title) for line in public.lines] == [
        ("TEE-ORG-BLK-M", 1, "866550311766439020", "IPod Nano - 8GB"),
        ("TEE-ORG-BLK-M", 1, "141249953214522974", "IPod Nano - 8GB"),
    ]
    refs = gateway.app.orders.get(order_id).refs["lines"]
    assert [(ref["line_id"], ref["quantity"]) for ref in refs] == [
        (866550311766439020, 1),
        (141249953214522974, 1),
    ]
    assert sum(line.discount or 0 for line in public.lines) == 20
    assert sum(line.paid or 0 for line in public.lines) == 378  # + $10 shipping: $388 taken
    ship = public.shipping_address
    assert (ship.state_code, ship.company, ship.line2) == ("US-KY", "Shipping Company", None)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Shopify-Hmac-Sha256": "bm90IHRoZSBzaWduYXR1cmU="},
        {"X-Shopify-Hmac-Sha256": ""},
        {},
    ],
    ids=["forged", "empty", "missing"],
)
def test_a_forged_or_missing_shopify_signature_is_refused_with_401_and_nothing_is_recorded(
    gateway: Gateway, headers: dict[str, str]
):
    body = p.dumps(p.shopify_order(5829104779002))
    before = gateway.stored()

    response = gateway.http.post(
        "/v1/webhooks/shopify/shopify-eu",
        content=body,
        headers={"Content-Type": "application/json", "X-Shopify-Topic": "orders/create", **headers},
    )

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert "X-Shopify-Hmac-Sha256" in response.json()["detail"]
    assert gateway.stored() == before


def test_a_body_signed_with_another_secret_or_altered_after_signing_is_refused(gateway: Gateway):
    payload = p.shopify_order(5829104779003)
    body = p.dumps(payload)
    headers = p.shopify_headers(body, SHOPIFY_SECRET, "evt-3")
    altered = body.replace(b'"quantity":2', b'"quantity":20')
    before = gateway.stored()

    wrong_secret = post_shopify(gateway, payload, "evt-3", secret="someone-elses-secret")
    tampered = gateway.http.post(
        "/v1/webhooks/shopify/shopify-eu", content=altered, headers=headers
    )

    assert (wrong_secret.status_code, tampered.status_code) == (401, 401)
    assert gateway.stored() == before


def test_the_same_webhook_delivered_five_times_makes_one_order(gateway: Gateway):
    payload = p.shopify_order(5829104779004)
    before = gateway.stored()

    sequential = [post_shopify(gateway, payload, "evt-4") for _ in range(3)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        # Shopify may also send the same order under a new event id (a second subscription).
        parallel = list(pool.map(lambda e: post_shopify(gateway, payload, e), ["evt-4", "evt-4b"]))

    answers = [r.json() for r in sequential + parallel]
    assert all(r.status_code == 200 for r in sequential + parallel)
    assert len({a["order_id"] for a in answers}) == 1
    assert [a["duplicate"] for a in answers].count(False) == 1
    assert gateway.stored() == before + 1


MALFORMED = {
    "not json": (b"{not json", 400, "not JSON"),
    "a list": (b"[1, 2]", 422, "JSON object"),
    "no line items": (p.dumps(p.shopify_order(5829104779005, line_items=[])), 422, "line_items"),
    "quantity as words": (
        p.dumps(
            p.shopify_order(
                5829104779006,
                line_items=[{"id": 1, "sku": "SHOP-MUG-WHT", "quantity": "two", "price": "1.00"}],
            )
        ),
        422,
        "line_items.0.quantity",
    ),
    "price not a number": (
        p.dumps(
            p.shopify_order(
                5829104779007,
                line_items=[{"id": 1, "sku": "SHOP-MUG-WHT", "quantity": 1, "price": "cheap"}],
            )
        ),
        422,
        "line_items.0.price",
    ),
    "no order id": (
        p.dumps({k: v for k, v in p.shopify_order(1).items() if k != "id"}),
        422,
        "id",
    ),
}


@pytest.mark.parametrize(("body", "status", "named"), MALFORMED.values(), ids=MALFORMED.keys())
def test_a_signed_but_malformed_payload_gets_the_reason_and_nothing_is_recorded(
    gateway: Gateway, body: bytes, status: int, named: str
):
    headers = p.shopify_headers(body, SHOPIFY_SECRET, f"evt-bad-{uuid.uuid4()}")
    before = gateway.stored()

    response = gateway.http.post("/v1/webhooks/shopify/shopify-eu", content=body, headers=headers)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert named in response.json()["detail"]
    assert gateway.stored() == before


def test_a_webhook_for_an_unknown_channel_is_a_404_and_other_topics_are_ignored(
    gateway: Gateway,
):
    body = p.dumps(p.shopify_order(5829104779008))
    headers = p.shopify_headers(body, SHOPIFY_SECRET, "evt-8")
    update = p.shopify_headers(body, SHOPIFY_SECRET, "evt-8u", topic="orders/fulfilled")
    before = gateway.stored()

    unknown = gateway.http.post("/v1/webhooks/shopify/nope", content=body, headers=headers)
    wrong_kind = gateway.http.post("/v1/webhooks/shopify/woo-de", content=body, headers=headers)
    other_topic = gateway.http.post("/v1/webhooks/shopify/shopify-eu", content=body, headers=update)

    assert (unknown.status_code, wrong_kind.status_code) == (404, 404)
    assert other_topic.json()["status"] == "ignored"
    assert gateway.stored() == before


def test_the_previous_shopify_secret_is_accepted_while_the_secret_rotates(gateway: Gateway):
    gateway.register(
        {
            "channel_id": "shopify-rot",
            "kind": "shopify",
            "shop_domain": "rot.myshopify.com",
            "access_token": "t",
            "webhook_secret": "old-secret",
            "sku_mapping": p.SHOPIFY_SKUS,
        }
    )
    rotated = gateway.register(
        {
            "channel_id": "shopify-rot",
            "kind": "shopify",
            "shop_domain": "rot.myshopify.com",
            "access_token": "t",
            "webhook_secret": "new-secret",
            "sku_mapping": p.SHOPIFY_SKUS,
        }
    )

    def post(order_id: int, secret: str) -> int:
        body = p.dumps(p.shopify_order(order_id))
        headers = p.shopify_headers(body, secret, f"rot-{order_id}")
        return gateway.http.post(
            "/v1/webhooks/shopify/shopify-rot", content=body, headers=headers
        ).status_code

    assert rotated.status_code == 200
    assert (post(1, "new-secret"), post(2, "old-secret"), post(3, "never-set")) == (200, 200, 401)


def test_secrets_are_never_echoed_by_the_api_nor_written_to_logs(
    gateway: Gateway, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
):
    caplog.set_level(logging.DEBUG)
    body = {
        "channel_id": "shopify-leak",
        "kind": "shopify",
        "shop_domain": "leak.myshopify.com",
        "access_token": "shpat_NEVER_SHOW_ME",
        "webhook_secret": "whsec_NEVER_SHOW_ME",
    }

    created = gateway.register(body)
    listed = gateway.http.get("/v1/channels")
    one = gateway.http.get("/v1/channels/shopify-leak")
    invalid = gateway.http.post("/v1/channels", json={**body, "shop_domain": "bad domain!"})
    gateway.catch_up()

    everything = " ".join(
        [created.text, listed.text, one.text, invalid.text, caplog.text, *capsys.readouterr()]
    )
    stored = gateway.app.events.get(connection_id_for("shopify-leak"))
    events = json.dumps([e.__dict__ for e in stored], default=str)
    assert "NEVER_SHOW_ME" not in everything + events
    assert "leak.myshopify.com" in events  # the settings are there, only the secrets are not
    assert created.json()["secrets_set"] == ["access_token", "webhook_secret"]
    assert created.json()["webhook_path"] == "/v1/webhooks/shopify/shopify-leak"
    assert invalid.status_code == 422


def test_an_order_with_an_unknown_sku_is_held_and_released_once_the_mapping_is_fixed(
    gateway: Gateway,
):
    payload = p.shopify_order(5829104779010)
    payload["line_items"][1]["sku"] = "SHOP-NEW-POSTER"
    order_id = order_id_for("shopify-eu", "5829104779010")

    answer = post_shopify(gateway, payload, "evt-10").json()
    gateway.catch_up()
    held = gateway.http.get("/v1/channel-orders", params={"status": "held"}).json()
    too_early = gateway.http.post(f"/v1/channel-orders/{order_id}/release")
    fixed = gateway.http.put(
        "/v1/channels/shopify-eu/sku-mapping",
        json={"sku_mapping": {**p.SHOPIFY_SKUS, "SHOP-NEW-POSTER": "POSTER-A2"}},
    )
    released = gateway.http.post(f"/v1/channel-orders/{order_id}/release")
    again = gateway.http.post(f"/v1/channel-orders/{order_id}/release")
    gateway.catch_up()
    found = gateway.http.get(f"/v1/channel-orders/{order_id}").json()

    assert answer["status"] == "held"
    (row,) = [o for o in held["data"] if o["order_id"] == str(order_id)]
    assert row["hold_reasons"] == ["unknown SKU SHOP-NEW-POSTER: no mapping on channel shopify-eu"]
    assert row["lines"][1] == {
        "sku": None,
        "channel_sku": "SHOP-NEW-POSTER",
        "quantity": 1,
        "unit_price": "14.50",
    }
    assert too_early.status_code == 409
    assert "SHOP-NEW-POSTER" in too_early.json()["detail"]
    assert too_early.json()["reasons"] == row["hold_reasons"]
    assert fixed.status_code == 200
    assert released.status_code == 200 and released.json()["status"] == "accepted"
    assert again.status_code == 409
    assert found["status"] == "accepted" and found["hold_reasons"] == []
    assert [line["sku"] for line in found["lines"]] == ["TEE-ORG-BLK-M", "POSTER-A2"]
    public = [EVENTS.to_integration(e) for e in gateway.app.events.get(order_id)]
    assert [type(x).__name__ for x in public] == ["NoneType", "ChannelOrderReceived"]


def test_an_order_without_a_shipping_address_is_held_with_that_reason(gateway: Gateway):
    payload = p.shopify_order(5829104779011, shipping_address=None)

    answer = post_shopify(gateway, payload, "evt-11").json()
    gateway.catch_up()
    found = gateway.http.get(f"/v1/channel-orders/{answer['order_id']}").json()

    assert answer["status"] == "held"
    assert found["status"] == "held"
    assert found["hold_reasons"] == ["missing shipping address"]


def test_woocommerce_ping_is_answered_and_a_signed_order_is_taken_in(gateway: Gateway):
    before = gateway.stored()
    ping = gateway.http.post(
        "/v1/webhooks/woocommerce/woo-de",
        content=b"webhook_id=7",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert ping.status_code == 200 and ping.json()["status"] == "pong"
    assert gateway.stored() == before

    body = p.dumps(p.woo_order(4711))
    first = gateway.http.post(
        "/v1/webhooks/woocommerce/woo-de",
        content=body,
        headers=p.woo_headers(body, WOO_SECRET, "d1"),
    )
    forged = gateway.http.post(
        "/v1/webhooks/woocommerce/woo-de", content=body, headers=p.woo_headers(body, "x", "d2")
    )
    again = gateway.http.post(
        "/v1/webhooks/woocommerce/woo-de",
        content=body,
        headers=p.woo_headers(body, WOO_SECRET, "d3"),
    )

    assert first.json()["status"] == "accepted"
    assert forged.status_code == 401
    assert again.json()["duplicate"] is True
    assert gateway.stored() == before + 1
    order = gateway.app.orders.get(order_id_for("woo-de", "4711"))
    assert [(line["sku"], line["unit_price"]) for line in order.lines] == [
        ("TEE-ORG-BLK-M", "24.90"),
        ("MUG-ENM-350-WHT", "14.50"),
    ]
    assert order.customer == {
        "name": "Jonas Becker",
        "email": "jonas.becker@example.de",
        "phone": "0221 555 123",  # the billing phone
    }


def test_a_woocommerce_order_of_one_product_twice_at_two_prices_is_taken_in_not_held(
    gateway: Gateway,
):
    # The second tee was on sale: WooCommerce sends the same product on a line of its own.
    payload = p.woo_order(4712)
    payload["line_items"][1].update(
        id=317,
        name="Organic Tee - Black, M",
        product_id=93,
        sku="WOO-TEE-BLK-M",
        subtotal="12.45",
        total="12.45",
    )
    body = p.dumps(p.woo_totals(payload))

    answer = gateway.http.post(
        "/v1/webhooks/woocommerce/woo-de",
        content=body,
        headers=p.woo_headers(body, WOO_SECRET, "t2"),
    )

    assert answer.json()["status"] == "accepted", answer.text
    order = gateway.app.orders.get(order_id_for("woo-de", "4712"))
    assert [(x["sku"], x["unit_price"], x.get("line_id")) for x in order.lines] == [
        ("TEE-ORG-BLK-M", "24.90", "315"),
        ("TEE-ORG-BLK-M", "12.45", "317"),
    ]
    assert [ref["line_id"] for ref in order.refs["lines"]] == [315, 317]


def test_a_shopee_push_pulls_the_signed_order_detail_and_takes_the_order_in(
    gateway: Gateway, shopee: FakeShopee
):
    shopee.add_order(p.shopee_order("251128ABCDEF01"))
    url = "https://oms.example.com/v1/webhooks/shopee/shopee-sg"
    body = p.dumps(p.shopee_push(SHOP_ID, "251128ABCDEF01"))
    before = gateway.stored()

    forged = gateway.http.post(
        "/v1/webhooks/shopee/shopee-sg",
        content=body,
        headers=p.shopee_push_headers(url, body, "wrong-key"),
    )
    first = gateway.http.post(
        "/v1/webhooks/shopee/shopee-sg",
        content=body,
        headers=p.shopee_push_headers(url, body, PARTNER_KEY),
    )
    again = gateway.http.post(
        "/v1/webhooks/shopee/shopee-sg",
        content=body,
        headers=p.shopee_push_headers(url, body, PARTNER_KEY),
    )

    assert forged.status_code == 401
    assert first.json()["status"] == "accepted", first.text
    assert again.json()["status"] == "duplicate"
    assert gateway.stored() == before + 1
    (pulled,) = shopee.sent("GET", "get_order_detail")
    assert pulled.query["order_sn_list"] == "251128ABCDEF01"
    assert pulled.query["shop_id"] == str(SHOP_ID)
    order = gateway.app.orders.get(order_id_for("shopee-sg", "251128ABCDEF01"))
    assert order.lines == [
        {"sku": "TEE-ORG-BLK-M", "quantity": 1, "unit_price": "35.90", "title": "Organic Tee"}
    ]
    assert order.currency == "SGD"
    assert order.shipping_address["country"] == "SG"


def test_a_shopee_push_while_shopee_is_down_is_answered_503_so_shopee_pushes_again(
    gateway: Gateway, shopee: FakeShopee
):
    shopee.add_order(p.shopee_order("251128ABCDEF02"))
    url = "https://oms.example.com/v1/webhooks/shopee/shopee-sg"
    body = p.dumps(p.shopee_push(SHOP_ID, "251128ABCDEF02"))
    headers = p.shopee_push_headers(url, body, PARTNER_KEY)
    before = gateway.stored()

    shopee.fail(1)
    down = gateway.http.post("/v1/webhooks/shopee/shopee-sg", content=body, headers=headers)
    back = gateway.http.post("/v1/webhooks/shopee/shopee-sg", content=body, headers=headers)

    assert down.status_code == 503
    assert back.json()["status"] == "accepted"
    assert gateway.stored() == before + 1


def test_signed_but_malformed_woocommerce_and_shopee_payloads_are_refused_with_the_reason(
    gateway: Gateway,
):
    woo_body = p.dumps({**p.woo_order(4712), "line_items": [{"id": 1, "quantity": 1}]})
    url = "https://oms.example.com/v1/webhooks/shopee/shopee-sg"
    shopee_body = p.dumps({"shop_id": SHOP_ID, "code": 3, "data": {"status": "READY_TO_SHIP"}})
    before = gateway.stored()

    woo = gateway.http.post(
        "/v1/webhooks/woocommerce/woo-de",
        content=woo_body,
        headers=p.woo_headers(woo_body, WOO_SECRET, "d-bad"),
    )
    shopee = gateway.http.post(
        "/v1/webhooks/shopee/shopee-sg",
        content=shopee_body,
        headers=p.shopee_push_headers(url, shopee_body, PARTNER_KEY),
    )

    assert (woo.status_code, shopee.status_code) == (422, 422)
    assert "line_items.0.total" in woo.json()["detail"]
    assert "ordersn" in shopee.json()["detail"]
    assert gateway.stored() == before


def test_a_shopee_cancelled_push_cancels_an_order_taken_in_and_keeps_others(
    gateway: Gateway, shopee: FakeShopee
):
    shopee.add_order(p.shopee_order("251206CANCEL01"))
    url = "https://oms.example.com/v1/webhooks/shopee/shopee-sg"

    def push(order_sn: str, status: str):
        body = p.dumps(p.shopee_push(SHOP_ID, order_sn, status))
        headers = p.shopee_push_headers(url, body, PARTNER_KEY)
        return gateway.http.post("/v1/webhooks/shopee/shopee-sg", content=body, headers=headers)

    assert push("251206CANCEL01", "READY_TO_SHIP").json()["status"] == "accepted"
    cancelled = push("251206CANCEL01", "CANCELLED")
    assert cancelled.json()["status"] == "cancellation_recorded", cancelled.text
    assert push("251206CANCEL01", "CANCELLED").json()["status"] == "unchanged"
    assert push("251206NEVER001", "CANCELLED").json()["status"] == "kept"
    order_id = order_id_for("shopee-sg", "251206CANCEL01")
    news = [EVENTS.to_integration(e) for e in gateway.app.events.get(order_id)]
    [cancel] = [e for e in news if isinstance(e, ev.ChannelOrderCancelled)]
    assert cancel.reason == "cancelled at Shopee"
