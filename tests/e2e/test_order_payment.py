"""An unpaid order over HTTP against the running system: reserved and held, paid, then shipped."""

from __future__ import annotations

import pytest

from tests.e2e.test_order_story import canonical_order, new_sku, stock_of, stock_up

pytestmark = pytest.mark.e2e


def test_an_unpaid_order_is_reserved_and_held_then_paid_then_picked_and_shipped(api):
    tee = new_sku("TEE")
    stock_up(api, "WH-PAY", tee, 3)
    order = canonical_order([{"sku": tee, "quantity": 2, "unit_price": "24.90"}])
    order["payment_state"] = "pending"  # a bank transfer the customer has yet to make
    order_id = api.call("channel_gateway", "POST", "/orders", json=order).json()["order_id"]

    held = api.eventually(
        "order_service", f"/orders/{order_id}", lambda o: o["status"] == "awaiting_payment"
    )
    assert held["payment_state"] == "pending" and held["payment_due_at"] is not None
    assert stock_of(api, tee) == {"on_hand": 3, "reserved": 2, "available": 1}
    # Nothing reaches the warehouse while the order is unpaid: no shipment, nothing to pick.
    assert (
        api.call("fulfillment_service", "GET", f"/shipments?order_id={order_id}").json()["data"]
        == []
    )

    paid = api.call(
        "order_service",
        "POST",
        f"/orders/{order_id}/payments",
        json={"payment_state": "paid", "amount": "49.80", "reference": "TRF-0042"},
    )
    assert paid.status_code == 202, paid.text
    [shipment] = api.eventually(
        "fulfillment_service", f"/shipments?order_id={order_id}", lambda p: len(p["data"]) == 1
    )["data"]
    pick_list = api.pick_list("WH-PAY")
    assert [s["order_id"] for s in pick_list["slots"]] == [order_id]
    picks = [{"sku": line["sku"], "picked": line["quantity"]} for line in pick_list["lines"]]
    api.confirm_picks(pick_list, picks)
    api.ship(shipment["shipment_id"], "JD0146000099990042")
    final = api.eventually(
        "order_service", f"/orders/{order_id}", lambda o: o["status"] == "shipped"
    )
    events = [e["event"] for e in final["timeline"]]
    assert events[:4] == ["Placed", "HeldForPayment", "PaymentRecorded", "Confirmed"]
    assert final["payment_state"] == "paid"


def test_an_unpaid_order_cancelled_by_the_merchant_gives_its_stock_back(api):
    mug = new_sku("MUG")
    stock_up(api, "WH-PAY", mug, 2)
    order = canonical_order([{"sku": mug, "quantity": 2, "unit_price": "9.50"}])
    order["payment_state"] = "voided"
    order_id = api.call("channel_gateway", "POST", "/orders", json=order).json()["order_id"]
    api.eventually(
        "order_service", f"/orders/{order_id}", lambda o: o["status"] == "awaiting_payment"
    )
    cancelled = api.call("order_service", "POST", f"/orders/{order_id}/cancel", json={})
    assert cancelled.status_code == 202, cancelled.text
    api.eventually(
        "inventory_service",
        f"/stock/{mug}",
        lambda s: s["total"] == {"on_hand": 2, "reserved": 0, "available": 2},
    )
