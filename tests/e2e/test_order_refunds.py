"""Refunds over HTTP against the running system: a short pick ships what was found and refunds
the units nobody could pick at once (the returns service's default short-pick policy), once, from
what was paid for them, and nothing more can be refunded than was paid; a paid order of the
merchant's own channel cancelled before shipping shows the refund ops owe on its timeline."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.events.codec import decode
from tests.e2e.conftest import read_topics
from tests.e2e.test_order_story import canonical_order, new_sku, stock_up

pytestmark = pytest.mark.e2e
LOCATION = "WH-SHORT"


def test_a_short_pick_ships_what_was_found_and_refunds_the_short_units(api, system):
    tee, mug = new_sku("TEE"), new_sku("MUG")
    stock_up(api, LOCATION, tee, 3)
    stock_up(api, LOCATION, mug, 1)
    order = canonical_order(
        [
            {"sku": tee, "quantity": 3, "unit_price": "10.00"},
            {"sku": mug, "quantity": 1, "unit_price": "14.50"},
        ]
    )
    order_id = api.call("channel_gateway", "POST", "/orders", json=order).json()["order_id"]
    [shipment] = api.eventually(
        "fulfillment_service", f"/shipments?order_id={order_id}", lambda p: len(p["data"]) == 1
    )["data"]

    pick_list = api.pick_list(LOCATION)
    assert [s["order_id"] for s in pick_list["slots"]] == [order_id]
    # One tee is not in its bin: the picker finds two of three.
    picks = [
        {"sku": line["sku"], "picked": line["quantity"] - (1 if line["sku"] == tee else 0)}
        for line in pick_list["lines"]
    ]
    api.confirm_picks(pick_list, picks)
    api.ship(shipment["shipment_id"], "JD0146000099991234")

    # The order ships short; the short tee is refunded at what was paid for it, once.
    final = api.eventually(
        "order_service",
        f"/orders/{order_id}",
        lambda o: o["status"] == "shipped" and Decimal(o["refunded_total"]) > 0,
    )
    assert final["short"] == {tee: 1}
    assert Decimal(final["refunded_total"]) == Decimal("10.00")
    [refund] = api.eventually(
        "returns_service", f"/refunds?order_id={order_id}", lambda p: len(p["data"]) == 1
    )["data"]
    assert (refund["reason"], refund["refund_kind"], refund["amount"]) == (
        "short_pick",
        "units",
        "10.00",
    )
    assert refund["lines"] == [{"sku": tee, "quantity": 1, "amount": "10.00"}]
    left = api.call("returns_service", "GET", f"/refundable/{order_id}").json()
    assert (left["paid"], left["refunded"], left["refundable"]) == ("44.50", "10.00", "34.50")

    # Nothing more than was paid: a goodwill amount above what is left is refused, recording
    # nothing; a refund of the short unit again finds nothing short left.
    too_much = api.call(
        "returns_service",
        "POST",
        "/refunds",
        json={"order_id": order_id, "reason": "goodwill", "amount": "34.51"},
    )
    assert too_much.status_code == 422, too_much.text
    assert too_much.json()["refundable"] == "34.50"
    again = api.call(
        "returns_service",
        "POST",
        "/refunds",
        json={"order_id": order_id, "reason": "short_pick", "lines": [{"sku": tee, "quantity": 1}]},
    )
    assert again.status_code == 422, again.text

    envelopes = [decode(r.headers, r.key, r.value) for r in read_topics(system.bootstrap)]
    mine = [e.event for e in envelopes if str(getattr(e.event, "order_id", "")) == order_id]
    [order_shipped] = [e for e in mine if e.event_type() == "oms.OrderShipped.v1"]
    assert [(s.sku, s.quantity, str(s.paid)) for s in order_shipped.short_lines or []] == [
        (tee, 1, "10.00")
    ]
    refunds = [e for e in mine if e.event_type() == "oms.Refunded.v1"]
    assert [(r.reason, r.amount) for r in refunds] == [("short_pick", Decimal("10.00"))]


def test_a_paid_web_order_cancelled_shows_the_refund_due_on_its_timeline(api):
    cap = new_sku("CAP")
    stock_up(api, LOCATION, cap, 2)
    order = canonical_order([{"sku": cap, "quantity": 2, "unit_price": "19.95"}])
    order_id = api.call("channel_gateway", "POST", "/orders", json=order).json()["order_id"]
    api.eventually("order_service", f"/orders/{order_id}", lambda o: o["status"] == "confirmed")
    cancelled = api.call(
        "order_service", "POST", f"/orders/{order_id}/cancel", json={"reason": "out of stock"}
    )
    assert cancelled.status_code == 202, cancelled.text

    def refund_due(o: dict) -> bool:
        return any(t["detail"].get("exception") == "refund_due" for t in o["timeline"])

    final = api.eventually("order_service", f"/orders/{order_id}", refund_due)
    [due] = [t for t in final["timeline"] if t["detail"].get("exception") == "refund_due"]
    assert (due["event"], due["detail"]["payment_state"], due["detail"]["amount"]) == (
        "RefundDue",
        "paid",
        "39.90",
    )
    assert "out of stock" in due["detail"]["reason"]
    # No channel to tell: nothing is pushed anywhere for the cancel.
    deliveries = api.call("channel_gateway", "GET", f"/deliveries?order_id={order_id}").json()
    assert deliveries["data"] == []
