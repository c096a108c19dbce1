"""The order's own facts (the channel's number, bill, note, shipping lines, totals) on its API
answer, from the read model on real PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.order_service.bootstrap import build
from services.order_service.integration import CONSUMES
from services.order_service.settings import Settings
from tests import factories
from tests.kit import apply

pytestmark = pytest.mark.integration


@pytest.fixture
def service(new_database):
    parts = build(Settings(database_url=new_database("orders")))
    yield parts
    parts.close()


def test_the_order_s_number_bill_note_shipping_and_totals_are_on_its_api_answer(service):
    received = factories.channel_order_received(
        channel="shopify-us",
        external_id="820982911946154508",
        channel_order_number="#1001",
        billing_address=factories.address(name="Bob Biller", company="My Company"),
        note="Please leave the parcel with the neighbour.",
        shipping_lines=[
            {
                "title": "Generic Shipping",
                "price": "10.00",
                "discount": "0.00",
                "taxes": [{"title": "Sales tax", "rate": "0.06", "amount": "0.60"}],
            }
        ],
        totals={
            "items": "49.80",
            "discounts": "0.00",
            "tax": "0.60",
            "shipping": "10.00",
            "paid": "60.40",
        },
        taxes_included=False,
    )
    older = factories.channel_order_received()  # one received before the facts were kept
    apply(service.app, CONSUMES, received, older)
    service.projections[0].catch_up()
    http = TestClient(service.api_factory({}))

    order = http.get(f"/v1/orders/{received.order_id}").json()

    assert order["channel_order_number"] == "#1001"
    assert order["note"] == "Please leave the parcel with the neighbour."
    assert order["billing_address"]["name"] == "Bob Biller"
    assert order["billing_address"]["company"] == "My Company"
    assert order["shipping_lines"] == [
        {
            "title": "Generic Shipping",
            "price": "10.00",
            "discount": "0.00",
            "taxes": [{"title": "Sales tax", "rate": "0.06", "amount": "0.60"}],
        }
    ]
    assert order["totals"] == {
        "items": "49.80",
        "discounts": "0.00",
        "tax": "0.60",
        "shipping": "10.00",
        "paid": "60.40",
    }
    assert order["taxes_included"] is False
    # The timeline keeps personal data off: the bill and the note stay on the order row.
    placed = order["timeline"][0]["detail"]
    assert placed["channel_order_number"] == "#1001"
    assert "note" not in placed and "billing_address" not in placed
    before = http.get(f"/v1/orders/{older.order_id}").json()
    assert before["channel_order_number"] is None and before["totals"] is None
    listed = http.get("/v1/orders", params={"channel": "shopify-us"}).json()["data"]
    assert [o["channel_order_number"] for o in listed] == ["#1001"]
