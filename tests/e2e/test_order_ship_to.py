"""Changing an order's ship-to over HTTP against the running system: until picking starts."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.test_order_story import canonical_order, new_sku, stock_up

pytestmark = pytest.mark.e2e

NEW_ADDRESS = {
    "name": "Anna Schmidt",
    "line1": "Kastanienallee 12",
    "line2": "Hinterhaus",
    "city": "Berlin",
    "postal_code": "10435",
    "country": "DE",
    "state_code": "DE-BE",
}
LATER_ADDRESS = {**NEW_ADDRESS, "line1": "Oderberger Strasse 3", "line2": None}


def change_ship_to(api, order_id: str, address: dict):
    return api.call(
        "order_service",
        "POST",
        f"/orders/{order_id}/ship-to",
        json={"shipping_address": address, "reason": "the customer moved"},
    )


def shipment_of(api, order_id: str, check) -> dict:
    """The order's one shipment, once `check` holds for it."""
    page = api.eventually(
        "fulfillment_service",
        f"/shipments?order_id={order_id}",
        lambda p: len(p["data"]) == 1 and check(p["data"][0]),
    )
    return dict(page["data"][0])


def test_a_ship_to_changed_before_picking_reaches_the_shipment_and_picking_fixes_it(api):
    location = f"WH-ST{uuid.uuid4().hex[:6].upper()}"  # no other test's shipments to pick here
    tee = new_sku("TEE")
    stock_up(api, location, tee, 2)
    order = canonical_order([{"sku": tee, "quantity": 2, "unit_price": "24.90"}])
    order_id = api.call("channel_gateway", "POST", "/orders", json=order).json()["order_id"]
    shipment_id = shipment_of(api, order_id, lambda s: s["status"] == "open")["shipment_id"]

    changed = change_ship_to(api, order_id, NEW_ADDRESS)

    assert changed.status_code == 202, changed.text
    assert changed.json()["shipping_address"]["line1"] == "Kastanienallee 12"
    shipment = shipment_of(api, order_id, lambda s: s["ship_to"]["line1"] == "Kastanienallee 12")
    assert shipment["ship_to"] == {
        "name": "Anna Schmidt",
        "line1": "Kastanienallee 12",
        "line2": "Hinterhaus",
        "city": "Berlin",
        "postal_code": "10435",
        "country": "DE",
        "state_code": "DE-BE",  # fulfillment keeps the state for the papers
    }
    shown = api.eventually(
        "order_service",
        f"/orders/{order_id}",
        lambda o: o["timeline"][-1]["event"] == "ShipToChanged",
    )
    assert shown["shipping_address"]["state_code"] == "DE-BE"

    pick_list = api.pick_list(location)
    assert [s["shipment_id"] for s in pick_list["slots"]] == [shipment_id]
    api.eventually("order_service", f"/orders/{order_id}", lambda o: shipment_id in o["picking"])

    refused = change_ship_to(api, order_id, LATER_ADDRESS)

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert shipment_id in refused.json()["detail"]
    assert refused.json()["shipment_id"] == shipment_id
    after = api.call("order_service", "GET", f"/orders/{order_id}").json()
    assert after["shipping_address"]["line1"] == "Kastanienallee 12"
    assert after["timeline"][-1]["event"] == "PickingStarted"

    # The pick list is cancelled: the shipment is open again, and so is the ship-to.
    cancelled = api.call(
        "fulfillment_service",
        "POST",
        f"/pick-lists/{pick_list['pick_list_id']}/cancel",
        json={"reason": "cart broke down"},
    )
    assert cancelled.status_code == 200, cancelled.text
    api.eventually("order_service", f"/orders/{order_id}", lambda o: o["picking"] == {})
    assert change_ship_to(api, order_id, LATER_ADDRESS).status_code == 202
    shipment_of(api, order_id, lambda s: s["ship_to"]["line1"] == "Oderberger Strasse 3")
