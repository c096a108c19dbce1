"""A location's address and the routing explanation across the running system: inventory routes
and explains, the order's timeline shows why, fulfillment's papers ship from the address."""

from __future__ import annotations

import io
import time
import uuid

import pytest
from pypdf import PdfReader

from tests.e2e.test_order_story import canonical_order, new_sku, stock_up

pytestmark = pytest.mark.e2e


def test_an_order_is_explained_and_its_papers_ship_from_the_location_s_address(api):
    location_id, tee = f"WH-R{uuid.uuid4().hex[:6].upper()}", new_sku("TEE")
    name = f"Route Test {location_id}"
    stock_up(api, location_id, tee, 2)
    address = {
        "address": {
            "name": name,
            "line1": "5 Lagerstrasse",
            "city": "Munich",
            "postal_code": "80331",
            "country": "DE",
        },
        "latitude": 48.14,
        "longitude": 11.58,
    }
    moved = api.call("inventory_service", "PUT", f"/locations/{location_id}/address", json=address)
    assert moved.status_code == 200, moved.text

    posted = api.call(
        "channel_gateway",
        "POST",
        "/orders",
        json=canonical_order([{"sku": tee, "quantity": 2, "unit_price": "24.90"}]),
    )
    assert posted.status_code == 202, posted.text
    order_id = posted.json()["order_id"]

    order = api.eventually(
        "order_service", f"/orders/{order_id}", lambda o: o["status"] == "confirmed"
    )
    confirmed = next(t for t in order["timeline"] if t["event"] == "Confirmed")
    routing = confirmed["detail"]["routing"]
    assert routing["decided_by"] in ("only_candidate", "stock", "single_location")
    chosen = [c for c in routing["candidates"] if c["lost_on"] is None]
    assert [c["location_id"] for c in chosen] == [location_id]
    assert chosen[0]["distance_km"] == 504  # Munich to the Berlin ship-to (postal zone 1)
    reservation = api.eventually(
        "inventory_service", f"/reservations/{order_id}", lambda r: r["explanation"] is not None
    )
    assert reservation["explanation"]["candidates"] == routing["candidates"]

    [shipment] = api.eventually(
        "fulfillment_service", f"/shipments?order_id={order_id}", lambda p: len(p["data"]) == 1
    )["data"]
    path = f"/shipments/{shipment['shipment_id']}/packing-slip.pdf"
    deadline, text = time.monotonic() + 30, ""
    while name not in text and time.monotonic() < deadline:
        slip = api.call("fulfillment_service", "GET", path)
        assert slip.status_code == 200, slip.text
        pages = PdfReader(io.BytesIO(slip.content)).pages
        text = " ".join(" ".join(page.extract_text().split()) for page in pages)
        time.sleep(0.2)
    assert name in text and "5 Lagerstrasse" in text
