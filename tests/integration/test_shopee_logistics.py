"""Shopee's own logistics end to end: fulfillment creates a shipment of a Shopee order, the
gateway arranges it with Shopee (pickup or drop-off), gets its tracking number and airway bill,
and fulfillment prints that PDF from its label endpoint; the shipment then leaves with Shopee's
tracking number and Shopee is not told a second time. Refusals are visible on the delivery.

Real PostgreSQL, the real broker between gateway and fulfillment, real HTTP to the fake Shopee.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.channel_gateway.domain import order_id_for
from services.fulfillment_service.bootstrap import build as build_fulfillment
from services.fulfillment_service.settings import Settings as FulfillmentSettings
from shared import events as ev
from tests import factories
from tests.factories_channel_gateway import refunded
from tests.fakes import payloads as p
from tests.fakes.harness import deliveries, register, run_gateway
from tests.fakes.shopee import (
    ACCESS_TOKEN,
    AIRWAY_BILL,
    PARTNER_ID,
    PARTNER_KEY,
    SHOP_ID,
    FakeShopee,
    tracking_of,
)
from tests.kit import RunningService, eventually

pytestmark = pytest.mark.integration
CHANNEL = "shopee-th"
CUSTOMER = {"name": "สมชาย ใจดี", "email": "25187311@buyer.shopee"}
SHIP_TO = {
    "name": "สมชาย ใจดี",
    "line1": "99/1 ถนนสุขุมวิท แขวงคลองเตย",
    "city": "กรุงเทพมหานคร",
    "postal_code": "10110",
    "country": "TH",
}
SKU = "TEE-ORG-BLK-M"


@pytest.fixture
def shopee() -> Iterator[FakeShopee]:
    fake = FakeShopee().start()
    yield fake
    fake.stop()


def connect(gateway: RunningService, shopee: FakeShopee, logistics: dict[str, Any]) -> None:
    register(
        gateway.http,
        {
            "channel_id": CHANNEL,
            "kind": "shopee",
            "partner_id": PARTNER_ID,
            "shop_id": SHOP_ID,
            "base_url": shopee.url,
            "partner_key": PARTNER_KEY,
            "access_token": ACCESS_TOKEN,
            "sku_mapping": p.SHOPEE_SKUS,
            "logistics": logistics,
        },
    )


def shopee_order(gateway: RunningService, shopee: FakeShopee, order_sn: str) -> uuid.UUID:
    """A paid Shopee order (Thai buyer, THB) the gateway took in."""
    shopee.add_order(p.shopee_order(order_sn, currency="THB", shipping_carrier="SPX Express"))
    gateway.app.intake.receive_order(
        CHANNEL,
        order_sn,
        CUSTOMER,
        SHIP_TO,
        [{"sku": SKU, "quantity": 1, "unit_price": "359.00"}],
        "THB",
        refs={"lines": [{"sku": SKU, "item_id": 2700081234, "model_id": 170001}]},
    )
    return order_id_for(CHANNEL, order_sn)


def shipment_of(fulfillment: RunningService, order_id: uuid.UUID) -> str:
    rows = fulfillment.http.get("/v1/shipments", params={"order_id": str(order_id)}).json()
    assert rows["data"], rows
    return str(rows["data"][0]["shipment_id"])


def printed(fulfillment: RunningService, shipment_id: str) -> httpx.Response | None:
    """The shipment's labels.pdf once it prints (409 until its label came)."""
    response = fulfillment.http.get(f"/v1/shipments/{shipment_id}/labels.pdf")
    return response if response.status_code == 200 else None


def arranging(gateway: RunningService, order_id: uuid.UUID) -> dict[str, Any]:
    rows = deliveries(gateway.http, order_id=str(order_id), action="arrange_shipping")
    assert len(rows) == 1, rows
    return rows[0]


def test_a_shopee_pickup_gets_its_tracking_number_and_the_airway_bill_prints_as_the_label(
    run_service: Any, shopee: FakeShopee
):
    gateway = run_gateway(run_service)
    fulfillment = run_service(build_fulfillment, FulfillmentSettings)
    connect(gateway, shopee, {"mode": "pickup"})
    shopee.document_polls = 3  # PROCESSING twice before READY: the gateway polls
    shopee.tracking_delay = 1  # no number on the first ask after ship_order: retried
    order_sn = "251206PICKUP01"
    order_id = shopee_order(gateway, shopee, order_sn)

    fulfillment.publish(
        factories.order_confirmed(
            {SKU: 1},
            order_id=order_id,
            channel=CHANNEL,
            external_id=order_sn,
            customer=CUSTOMER,
            shipping_address=SHIP_TO,
        )
    )
    shipment_id = eventually(lambda: shipment_of(fulfillment, order_id))
    label = eventually(lambda: printed(fulfillment, shipment_id), timeout=60)

    # The warehouse prints Shopee's own airway bill, byte for byte, before the parcel leaves.
    assert label.headers["content-type"] == "application/pdf"
    assert label.content == AIRWAY_BILL
    # Pickup at the address Shopee flags for pickups, at its earliest time slot.
    assert shopee.shipped == [
        {"order_sn": order_sn, "pickup": {"address_id": 3019, "pickup_time_id": "1639472400"}}
    ]
    assert shopee.downloads == [
        {"shipping_document_type": "THERMAL_AIR_WAYBILL", "order_list": [{"order_sn": order_sn}]}
    ]
    assert shopee.documents[order_sn]["polls"] == 3
    delivery = arranging(gateway, order_id)
    assert delivery["status"] == "delivered"
    assert tracking_of(order_sn) in delivery["outcome"]
    zpl = fulfillment.http.get(f"/v1/shipments/{shipment_id}/labels.zpl")
    assert zpl.status_code == 409
    assert "labels.pdf" in zpl.json()["detail"]

    # It leaves with Shopee's carrier and tracking number; Shopee is not told a second time.
    shipped = fulfillment.http.post(f"/v1/shipments/{shipment_id}/ship", json={})
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["carrier"] == "SPX Express"
    assert shipped.json()["tracking_number"] == tracking_of(order_sn)
    told = eventually(
        lambda: [
            r
            for r in deliveries(gateway.http, order_id=str(order_id), action="shipment")
            if r["status"] == "delivered"
        ]
    )
    assert "Shopee's logistics" in told[0]["outcome"]
    assert len(shopee.shipped) == 1


def test_a_drop_off_at_a_branch_shopee_does_not_list_fails_visibly_and_ships_nothing(
    run_service: Any, shopee: FakeShopee
):
    gateway = run_gateway(run_service)
    connect(gateway, shopee, {"mode": "dropoff", "branch_id": 9999})
    order_id = shopee_order(gateway, shopee, "251206DROPOFF1")

    gateway.publish(shipment_created(order_id))
    failed = eventually(lambda: (d := arranging(gateway, order_id))["status"] == "failed" and d)

    assert "Shopee lists no branch 9999" in failed["last_error"]
    assert shopee.shipped == []
    assert shopee.orders["251206DROPOFF1"]["order_status"] == "READY_TO_SHIP"


def test_a_drop_off_at_the_listed_branch_is_arranged(run_service: Any, shopee: FakeShopee):
    gateway = run_gateway(run_service)
    connect(gateway, shopee, {"mode": "dropoff", "document_type": "NORMAL_AIR_WAYBILL"})
    order_id = shopee_order(gateway, shopee, "251206DROPOFF2")

    gateway.publish(shipment_created(order_id))
    eventually(lambda: arranging(gateway, order_id)["status"] == "delivered")

    assert shopee.shipped == [{"order_sn": "251206DROPOFF2", "dropoff": {"branch_id": 5501}}]
    assert shopee.downloads[0]["shipping_document_type"] == "NORMAL_AIR_WAYBILL"


def test_an_airway_bill_that_never_gets_ready_is_retried_not_dropped(
    run_service: Any, shopee: FakeShopee
):
    gateway = run_gateway(run_service)
    connect(gateway, shopee, {"mode": "pickup", "address_id": 2826})
    shopee.document_polls = -1  # PROCESSING for ever
    order_id = shopee_order(gateway, shopee, "251206NOTREADY")

    gateway.publish(shipment_created(order_id))
    pending = eventually(
        lambda: (d := arranging(gateway, order_id))["attempts"] >= 2 and d, timeout=60
    )

    assert pending["status"] == "pending"  # tried again with backoff
    assert "still PROCESSING" in pending["last_error"]
    # Arranged once at Shopee: a retry picks up from the tracking number (order PROCESSED).
    assert shopee.shipped == [
        {
            "order_sn": "251206NOTREADY",
            "pickup": {"address_id": 2826, "pickup_time_id": "1639472400"},
        }
    ]
    assert shopee.downloads == []


@pytest.mark.parametrize("status", ["SHIPPED", "TO_CONFIRM_RECEIVE"])
def test_an_order_shopee_shows_already_on_its_way_is_arranged_from_its_tracking_number(
    run_service: Any, shopee: FakeShopee, status: str
):
    gateway = run_gateway(run_service)
    connect(gateway, shopee, {"mode": "pickup"})
    order_sn = f"251206{status[:8]}"
    order_id = shopee_order(gateway, shopee, order_sn)
    shopee.orders[order_sn]["order_status"] = status  # arranged in Seller Centre, collected

    gateway.publish(shipment_created(order_id))
    delivered = eventually(
        lambda: (d := arranging(gateway, order_id))["status"] == "delivered" and d
    )

    assert tracking_of(order_sn) in delivered["outcome"]
    assert shopee.shipped == []  # not arranged a second time
    assert shopee.downloads[0]["order_list"] == [{"order_sn": order_sn}]


def test_a_failed_pickup_shopee_asks_to_retry_is_arranged_again(
    run_service: Any, shopee: FakeShopee
):
    gateway = run_gateway(run_service)
    connect(gateway, shopee, {"mode": "pickup", "address_id": 2826})
    order_sn = "251206RETRYSHIP"
    order_id = shopee_order(gateway, shopee, order_sn)
    shopee.orders[order_sn]["order_status"] = "RETRY_SHIP"  # the courier's pickup failed

    gateway.publish(shipment_created(order_id))
    eventually(lambda: arranging(gateway, order_id)["status"] == "delivered")

    assert shopee.shipped == [
        {"order_sn": order_sn, "pickup": {"address_id": 2826, "pickup_time_id": "1639472400"}}
    ]
    assert shopee.orders[order_sn]["order_status"] == "PROCESSED"


def test_a_retry_after_a_processing_airway_bill_waits_for_it_instead_of_asking_again(
    run_service: Any, shopee: FakeShopee
):
    gateway = run_gateway(run_service)
    connect(gateway, shopee, {"mode": "pickup"})
    shopee.document_polls = -1  # PROCESSING, for now
    order_sn = "251206PROCESSING"
    order_id = shopee_order(gateway, shopee, order_sn)

    gateway.publish(shipment_created(order_id))
    eventually(lambda: arranging(gateway, order_id)["attempts"] >= 2, timeout=60)
    shopee.document_polls = 1  # Shopee finished it
    eventually(lambda: arranging(gateway, order_id)["status"] == "delivered", timeout=60)

    assert shopee.document_requests == [order_sn]  # asked for once, across the attempts
    assert len(shopee.downloads) == 1 and len(shopee.shipped) == 1


def test_a_shipment_of_a_shopee_shop_without_logistics_is_not_arranged(
    run_service: Any, shopee: FakeShopee
):
    gateway = run_gateway(run_service)
    connect(gateway, shopee, {"mode": "pickup"})
    register(
        gateway.http,
        {
            "channel_id": "shopee-sg",
            "kind": "shopee",
            "partner_id": PARTNER_ID,
            "shop_id": SHOP_ID,
            "base_url": shopee.url,
            "partner_key": PARTNER_KEY,
            "access_token": ACCESS_TOKEN,
            "sku_mapping": p.SHOPEE_SKUS,
        },
    )
    shopee.add_order(p.shopee_order("251206OWNCARR1"))
    gateway.app.intake.receive_order(
        "shopee-sg",
        "251206OWNCARR1",
        CUSTOMER,
        SHIP_TO,
        [{"sku": SKU, "quantity": 1, "unit_price": "35.90"}],
        "SGD",
    )
    own = order_id_for("shopee-sg", "251206OWNCARR1")
    arranged = shopee_order(gateway, shopee, "251206ARRANGE1")

    gateway.publish(shipment_created(own))
    gateway.publish(shipment_created(arranged))
    eventually(lambda: arranging(gateway, arranged)["status"] == "delivered")

    assert deliveries(gateway.http, order_id=str(own), action="arrange_shipping") == []


def test_the_return_to_confirm_is_found_on_a_later_page_of_shopees_return_list(
    run_service: Any, shopee: FakeShopee
):
    gateway = run_gateway(run_service)
    connect(gateway, shopee, {"mode": "pickup"})
    order_id = shopee_order(gateway, shopee, "251206RETURN01")
    shopee.return_page_size_max = 2  # three pages for five returns
    for n in range(4):
        shopee.returns.append(
            {"return_sn": f"25120700OTH{n}", "order_sn": f"2512060THER{n}", "status": "REQUESTED"}
        )
    shopee.returns.append(
        {"return_sn": "2512070RET01", "order_sn": "251206RETURN01", "status": "REQUESTED"}
    )

    gateway.publish(refunded(order_id, SKU, "359.00", "THB"))
    eventually(
        lambda: [
            r
            for r in deliveries(gateway.http, order_id=str(order_id), action="refund")
            if r["status"] == "delivered"
        ]
    )

    assert shopee.returns[-1]["status"] == "ACCEPTED"
    assert {r["status"] for r in shopee.returns[:-1]} == {"REQUESTED"}


def shipment_created(order_id: uuid.UUID) -> ev.ShipmentCreated:
    """Fulfillment made a shipment of the order at WH-1."""
    return ev.ShipmentCreated(
        shipment_id=uuid.uuid4(),
        order_id=order_id,
        location_id="WH-1",
        lines=[ev.ItemQuantity(sku=SKU, quantity=1)],
        ship_to=ev.Address(**SHIP_TO),
        created_at=ev.now_utc(),
    )
