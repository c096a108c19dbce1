"""An order posted with the channel's own number and the customer's note, against the running
system: both on GET /v1/orders/{id} and on the packing slip that goes in the box."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.e2e.test_order_story import canonical_order, new_sku, stock_up

pytestmark = pytest.mark.e2e

NOTE = "Bitte beim Nachbarn in Nr. 12 abgeben."


def test_the_channel_s_number_and_the_note_reach_the_order_and_its_packing_slip(api):
    tee = new_sku("TEE")
    stock_up(api, "WH-DOC", tee, 2)
    order = canonical_order([{"sku": tee, "quantity": 2, "unit_price": "24.90"}])
    order |= {
        "channel_order_number": "#1001",
        "note": NOTE,
        "shipping_lines": [{"title": "DHL Paket", "price": "4.90"}],
        "totals": {"paid": "54.70"},
        "taxes_included": True,
    }
    order["shipping_address"] |= {"company": "Schmidt GmbH", "phone": "+49 30 1234567"}
    posted = api.call("channel_gateway", "POST", "/orders", json=order)
    assert posted.status_code == 202, posted.text
    order_id = posted.json()["order_id"]

    placed = api.eventually(
        "order_service", f"/orders/{order_id}", lambda o: o["status"] == "confirmed"
    )
    assert placed["channel_order_number"] == "#1001"
    assert placed["note"] == NOTE
    assert placed["totals"] == {
        "items": "49.80",
        "discounts": "0.00",
        "tax": "0.00",
        "shipping": "4.90",
        "paid": "54.70",
    }
    [shipment] = api.eventually(
        "fulfillment_service", f"/shipments?order_id={order_id}", lambda p: len(p["data"]) == 1
    )["data"]
    assert shipment["order_number"] == "#1001"
    assert shipment["ship_to"]["company"] == "Schmidt GmbH"

    slip = api.call(
        "fulfillment_service", "GET", f"/shipments/{shipment['shipment_id']}/packing-slip.pdf"
    )

    assert slip.status_code == 200, slip.text
    pages = PdfReader(io.BytesIO(slip.content)).pages
    text = " ".join(" ".join(page.extract_text().split()) for page in pages)
    assert "Order #1001" in text
    assert f"Note from the customer {NOTE}" in text
    assert "Schmidt GmbH" in text and "Tel. +49 30 1234567" in text
    assert order["external_id"] not in text


def test_totals_that_do_not_add_up_are_refused_and_record_nothing(api):
    order = canonical_order([{"sku": new_sku("MUG"), "quantity": 1, "unit_price": "9.50"}])
    order["totals"] = {"paid": "19.00"}

    refused = api.call("channel_gateway", "POST", "/orders", json=order)

    assert refused.status_code == 422, refused.text
    assert "totals.paid 19.00 does not match the lines and shipping 9.50" in refused.text
    lookup = api.call(
        "channel_gateway", "GET", f"/channel-orders?external_id={order['external_id']}"
    )
    assert lookup.json()["count"] == 0
