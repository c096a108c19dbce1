"""A cancel made at Shopify, over HTTP against the running system: before and after picking."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.test_order_story import new_sku, stock_of, stock_up
from tests.fakes import payloads as p

pytestmark = pytest.mark.e2e
SECRET = "shopify-e2e-secret"


def connect(api, tee: str, mug: str) -> str:
    channel_id = f"shopify-e2e-{uuid.uuid4().hex[:6]}"
    answer = api.call(
        "channel_gateway",
        "POST",
        "/channels",
        json={
            "channel_id": channel_id,
            "kind": "shopify",
            "shop_domain": "acme-e2e.myshopify.com",
            "access_token": "shpat_e2e",
            "webhook_secret": SECRET,
            "sku_mapping": {"SHOP-TEE-BLK-M": tee, "SHOP-MUG-WHT": mug},
        },
    )
    assert answer.status_code in (200, 201), answer.text
    return channel_id


def post(api, channel_id: str, payload: dict, event_id: str, topic: str) -> dict:
    body = p.dumps(payload)
    headers = p.shopify_headers(body, SECRET, event_id, topic=topic)
    answer = api.call(
        "channel_gateway", "POST", f"/webhooks/shopify/{channel_id}", content=body, headers=headers
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def cancelled_at_shopify(order: dict) -> dict:
    return {**order, "cancelled_at": "2026-12-06T11:00:00+01:00", "cancel_reason": "customer"}


def test_a_cancel_at_shopify_frees_the_stock_before_picking_and_is_an_exception_after(api):
    tee, mug = new_sku("TEE"), new_sku("MUG")
    stock_up(api, "WH-CAN", tee, 4)
    stock_up(api, "WH-CAN", mug, 2)
    channel_id = connect(api, tee, mug)
    number = uuid.uuid4().int % 10**12

    # Before picking: the order is cancelled here too and its stock comes back.
    early = p.shopify_order(number)
    order_id = post(api, channel_id, early, "e2e-c-1", "orders/create")["order_id"]
    api.eventually("order_service", f"/orders/{order_id}", lambda o: o["status"] == "confirmed")
    news = post(api, channel_id, cancelled_at_shopify(early), "e2e-c-2", "orders/cancelled")
    assert news["status"] == "cancellation_recorded"
    api.eventually("order_service", f"/orders/{order_id}", lambda o: o["status"] == "cancelled")
    api.eventually(
        "inventory_service",
        f"/stock/{tee}",
        lambda s: s["total"] == {"on_hand": 4, "reserved": 0, "available": 4},
    )

    # After picking started: the order goes on, and ops see the channel's cancel as an exception.
    late = p.shopify_order(number + 1)
    late_id = post(api, channel_id, late, "e2e-c-3", "orders/create")["order_id"]
    api.eventually(
        "fulfillment_service", f"/shipments?order_id={late_id}", lambda page: len(page["data"]) == 1
    )
    picking = api.pick_list("WH-CAN")
    assert late_id in [s["order_id"] for s in picking["slots"]]
    api.eventually("order_service", f"/orders/{late_id}", lambda o: bool(o["picking"]))
    post(api, channel_id, cancelled_at_shopify(late), "e2e-c-4", "orders/cancelled")
    order = api.eventually(
        "order_service",
        f"/orders/{late_id}",
        lambda o: any(
            t["detail"].get("exception") == "channel_cancel_not_applied" for t in o["timeline"]
        ),
    )
    assert order["status"] == "confirmed"
    assert stock_of(api, tee)["reserved"] == 2
