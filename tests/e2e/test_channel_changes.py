"""Changes made at Shopify, over HTTP against the running system: an address changed before and
after picking, and a cancel that arrives before its order."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.test_channel_cancel import cancelled_at_shopify, connect, post
from tests.e2e.test_order_story import new_sku, stock_of, stock_up
from tests.fakes import payloads as p

pytestmark = pytest.mark.e2e
MOVED = {
    "first_name": "Lena",
    "last_name": "Hoffmann",
    "name": "Lena Hoffmann",
    "address1": "Oranienstraße 7",
    "address2": None,
    "city": "Berlin",
    "zip": "10997",
    "province": None,
    "country": "Germany",
    "country_code": "DE",
    "phone": "+49 30 1234567",
    "company": None,
}


def shipment(api, order_id: str, check) -> dict:
    page = api.eventually(
        "fulfillment_service",
        f"/shipments?order_id={order_id}",
        lambda page: len(page["data"]) == 1 and check(page["data"][0]),
    )
    return dict(page["data"][0])


def test_an_address_changed_at_shopify_reaches_the_shipment_before_picking_only(api):
    location = f"WH-CS{uuid.uuid4().hex[:6].upper()}"  # no other test's shipments to pick here
    tee, mug = new_sku("TEE"), new_sku("MUG")
    stock_up(api, location, tee, 4)
    stock_up(api, location, mug, 2)
    channel_id = connect(api, tee, mug)
    number = uuid.uuid4().int % 10**12

    # Before picking: the open shipment takes the new address (its label will print it).
    early = p.shopify_order(number)
    order_id = post(api, channel_id, early, "e2e-s-1", "orders/create")["order_id"]
    shipment(api, order_id, lambda s: s["status"] == "open")
    moved = post(api, channel_id, {**early, "shipping_address": MOVED}, "e2e-s-2", "orders/updated")
    assert moved["status"] == "ship_to_changed"
    assert shipment(api, order_id, lambda s: s["ship_to"]["line1"] == "Oranienstraße 7")
    order = api.eventually(
        "order_service",
        f"/orders/{order_id}",
        lambda o: o["shipping_address"]["postal_code"] == "10997",
    )
    assert any(t["detail"].get("reason") == "changed at the channel" for t in order["timeline"])

    # After picking started: the parcel keeps its address, and ops see the channel's change.
    late = p.shopify_order(number + 1)
    late_id = post(api, channel_id, late, "e2e-s-3", "orders/create")["order_id"]
    shipment(api, late_id, lambda s: s["status"] == "open")
    picking = api.pick_list(location)
    assert late_id in [s["order_id"] for s in picking["slots"]]
    api.eventually("order_service", f"/orders/{late_id}", lambda o: bool(o["picking"]))
    post(api, channel_id, {**late, "shipping_address": MOVED}, "e2e-s-4", "orders/updated")
    order = api.eventually(
        "order_service",
        f"/orders/{late_id}",
        lambda o: any(
            t["detail"].get("exception") == "channel_ship_to_not_applied" for t in o["timeline"]
        ),
    )
    assert order["shipping_address"]["line1"] == "Bergmannstraße 42"


def test_a_cancel_that_arrives_before_its_order_is_kept_and_the_order_never_ships(api):
    location = f"WH-CK{uuid.uuid4().hex[:6].upper()}"
    tee, mug = new_sku("TEE"), new_sku("MUG")
    stock_up(api, location, tee, 4)
    stock_up(api, location, mug, 2)
    channel_id = connect(api, tee, mug)
    order = p.shopify_order(uuid.uuid4().int % 10**12)

    kept = post(api, channel_id, cancelled_at_shopify(order), "e2e-k-1", "orders/cancelled")
    assert kept["status"] == "kept"
    api.eventually(
        "channel_gateway",
        f"/channel-changes/{kept['change_id']}",
        lambda c: c["news"]["cancellation"]["reason"] == "customer",
    )

    order_id = post(api, channel_id, order, "e2e-k-2", "orders/create")["order_id"]
    api.eventually("order_service", f"/orders/{order_id}", lambda o: o["status"] == "cancelled")
    api.eventually(
        "channel_gateway",
        f"/channel-changes/{kept['change_id']}",
        lambda c: c["status"] == "applied",
    )
    api.eventually(
        "inventory_service",
        f"/stock/{tee}",
        lambda s: s["total"] == {"on_hand": 4, "reserved": 0, "available": 4},
    )
    assert stock_of(api, mug)["reserved"] == 0
