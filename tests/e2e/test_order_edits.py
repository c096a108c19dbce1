"""Editing an order's lines over HTTP against the running system: until picking starts."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from tests.e2e.test_order_story import canonical_order, new_sku, stock_of, stock_up

pytestmark = pytest.mark.e2e


def edit(api, order_id: str, body: dict):
    return api.call("order_service", "POST", f"/orders/{order_id}/edits", json=body)


def shipments_of(api, order_id: str, check) -> list[dict]:
    """The order's shipments, once `check` holds for them."""
    page = api.eventually(
        "fulfillment_service", f"/shipments?order_id={order_id}", lambda p: check(p["data"])
    )
    return list(page["data"])


def test_cancelling_units_before_picking_frees_stock_replaces_the_shipment_and_refunds(api):
    location = f"WH-ED{uuid.uuid4().hex[:6].upper()}"  # no other test's shipments to pick here
    tee, mug = new_sku("TEE"), new_sku("MUG")
    stock_up(api, location, tee, 3)
    stock_up(api, location, mug, 1)
    order = canonical_order(
        [
            {"sku": tee, "quantity": 3, "unit_price": "10.00"},
            {"sku": mug, "quantity": 1, "unit_price": "5.00"},
        ]
    )
    order_id = api.call("channel_gateway", "POST", "/orders", json=order).json()["order_id"]
    (first,) = shipments_of(api, order_id, lambda s: len(s) == 1 and s[0]["status"] == "open")

    wrong = edit(api, order_id, {"cancel": [{"line": 1, "quantity": 4}], "reason": "typo"})
    assert wrong.status_code == 422, wrong.text
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert "line 1 has 3 units" in wrong.json()["detail"]

    edited = edit(
        api, order_id, {"cancel": [{"line": 1, "quantity": 2}], "reason": "customer asked"}
    )

    assert edited.status_code == 202, edited.text
    assert edited.json()["revision"] == 1
    assert [(line["sku"], line["quantity"]) for line in edited.json()["lines"]] == [
        (tee, 1),
        (mug, 1),
    ]
    shipments = shipments_of(
        api, order_id, lambda s: len(s) == 2 and {x["status"] for x in s} == {"cancelled", "open"}
    )
    (new,) = [s for s in shipments if s["status"] == "open"]
    assert new["shipment_id"] != first["shipment_id"]
    detail = api.call("fulfillment_service", "GET", f"/shipments/{new['shipment_id']}").json()
    assert sorted((line["sku"], line["quantity"]) for line in detail["lines"]) == sorted(
        [(tee, 1), (mug, 1)]
    )
    assert stock_of(api, tee) == {"on_hand": 3, "reserved": 1, "available": 2}

    refunds = api.eventually(
        "returns_service", f"/refunds?order_id={order_id}", lambda p: len(p["data"]) == 1
    )
    (refund,) = refunds["data"]
    assert refund["reason"] == "line_cancelled"
    assert Decimal(refund["amount"]) == Decimal("20.00")
    shown = api.eventually(
        "order_service",
        f"/orders/{order_id}",
        lambda o: o["status"] == "confirmed" and Decimal(o["refunded_total"]) == 20,
    )
    assert shown["revision"] == 1
    assert "LinesEdited" in [entry["event"] for entry in shown["timeline"]]

    # Once picking started, an edit is refused naming the shipment, and nothing changes.
    api.pick_list(location)
    api.eventually("order_service", f"/orders/{order_id}", lambda o: o["picking"] != {})
    late = edit(api, order_id, {"cancel": [{"line": 2, "quantity": 1}], "reason": "too late"})
    assert late.status_code == 409, late.text
    assert late.json()["shipment_id"] == new["shipment_id"]
    assert api.call("order_service", "GET", f"/orders/{order_id}").json()["revision"] == 1


def test_a_line_added_to_a_paid_order_waits_for_its_payment_then_ships(api):
    location = f"WH-AD{uuid.uuid4().hex[:6].upper()}"
    tee, cap = new_sku("TEE"), new_sku("CAP")
    stock_up(api, location, tee, 1)
    stock_up(api, location, cap, 1)
    order = canonical_order([{"sku": tee, "quantity": 1, "unit_price": "10.00"}])
    order_id = api.call("channel_gateway", "POST", "/orders", json=order).json()["order_id"]
    shipments_of(api, order_id, lambda s: len(s) == 1)

    added = edit(
        api,
        order_id,
        {
            "add": [{"sku": cap, "quantity": 1, "unit_price": "7.50", "title": "帽子"}],
            "reason": "added by phone",
        },
    )

    assert added.status_code == 202, added.text
    assert added.json()["payment_state"] == "partially_paid"
    api.eventually(
        "order_service", f"/orders/{order_id}", lambda o: o["status"] == "awaiting_payment"
    )
    assert stock_of(api, cap)["reserved"] == 1  # held for the order while it waits
    shipments_of(api, order_id, lambda s: [x["status"] for x in s] == ["cancelled"])

    paid = api.call(
        "order_service",
        "POST",
        f"/orders/{order_id}/payments",
        json={"payment_state": "paid", "amount": "7.50", "reference": "phone-1"},
    )

    assert paid.status_code == 202, paid.text
    shipments = shipments_of(api, order_id, lambda s: len(s) == 2)
    (new,) = [s for s in shipments if s["status"] == "open"]
    detail = api.call("fulfillment_service", "GET", f"/shipments/{new['shipment_id']}").json()
    assert sorted(line["sku"] for line in detail["lines"]) == sorted([tee, cap])
