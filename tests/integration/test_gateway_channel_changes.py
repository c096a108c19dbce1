"""Changes made at the channel, over real HTTP with each channel's documented payloads.

News of an order never taken in (a cancel sent before its create, updates of archived orders) is
kept, listed for ops and applied when the order comes; an address changed at the channel reaches
the order (and so fulfillment) before picking, and is a visible exception after.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi.testclient import TestClient

from services.channel_gateway.bootstrap import events
from services.channel_gateway.domain import order_id_for
from services.order_service.bootstrap import build as build_orders
from services.order_service.integration import CONSUMES as ORDERS_CONSUMES
from services.order_service.settings import Settings as OrderSettings
from shared import events as ev
from shared.events import now_utc
from shared.payments import PaymentState
from shared.runtime.service import ServiceParts
from tests import factories
from tests.factories_order_service import published as orders_published
from tests.fakes import payloads as p
from tests.fakes.harness import Gateway
from tests.kit import apply

pytestmark = pytest.mark.integration
SHOPIFY_SECRET = "shopify-app-secret-changes"
WOO_SECRET = "woo-webhook-secret-changes"
EVENTS = events()
# Lena moved within Berlin after ordering: the whole order comes again with this address.
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
MOVED_CANONICAL = {
    "name": "Lena Hoffmann",
    "line1": "Oranienstraße 7",
    "line2": None,
    "city": "Berlin",
    "postal_code": "10997",
    "country": "DE",
    "phone": "+49 30 1234567",
}


@pytest.fixture(scope="module")
def gateway(new_database: Any) -> Iterator[Gateway]:
    gw = Gateway(new_database("gw_changes"))
    gw.connect_shops(SHOPIFY_SECRET, WOO_SECRET)
    yield gw
    gw.close()


@pytest.fixture(scope="module")
def orders(new_database: Any) -> Iterator[ServiceParts]:
    parts = build_orders(OrderSettings(database_url=new_database("orders_changes")))
    yield parts
    parts.close()


@pytest.fixture(scope="module")
def orders_http(orders: ServiceParts) -> Iterator[TestClient]:
    with TestClient(orders.api_factory({})) as client:
        yield client


def post_shopify(gw: Gateway, payload: dict[str, Any], event_id: str, topic: str) -> httpx.Response:
    body = p.dumps(payload)
    headers = p.shopify_headers(body, SHOPIFY_SECRET, event_id, topic=topic)
    answer = gw.http.post("/v1/webhooks/shopify/shopify-eu", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer


def post_woo(gw: Gateway, payload: dict[str, Any], delivery_id: str, topic: str) -> httpx.Response:
    body = p.dumps(payload)
    headers = {**p.woo_headers(body, WOO_SECRET, delivery_id), "X-WC-Webhook-Topic": topic}
    answer = gw.http.post("/v1/webhooks/woocommerce/woo-de", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer


def published(gw: Gateway, order_id: UUID) -> list[Any]:
    """What the gateway publishes of this order, in order (internal events left out)."""
    return [
        e for e in (EVENTS.to_integration(s) for s in gw.app.events.get(order_id)) if e is not None
    ]


def change(gw: Gateway, change_id: str) -> dict[str, Any]:
    gw.catch_up()
    answer = gw.http.get(f"/v1/channel-changes/{change_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def listed(gw: Gateway, **params: str) -> list[dict[str, Any]]:
    gw.catch_up()
    answer = gw.http.get("/v1/channel-changes", params=params)
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()["data"]
    return rows


def order_view(orders: ServiceParts, http: TestClient, order_id: UUID) -> dict[str, Any]:
    orders.projections[0].catch_up()
    answer = http.get(f"/v1/orders/{order_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def ship_to_changes(orders: ServiceParts, order_id: UUID) -> list[ev.OrderShipToChanged]:
    """What the order service told fulfillment of this order's ship-to."""
    return [
        e
        for e in orders_published(orders.app)
        if isinstance(e, ev.OrderShipToChanged) and e.order_id == order_id
    ]


def problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    return dict(answer.json())


# -- news of an order never taken in: kept, listed, applied when the order comes -----------------


def test_a_cancel_sent_before_its_create_is_kept_then_cancels_the_order_when_it_comes(
    gateway: Gateway, orders: ServiceParts, orders_http: TestClient
):
    order = p.shopify_order(5829104791001)
    cancelled = {**order, "cancelled_at": "2026-12-06T11:00:00+01:00", "cancel_reason": "customer"}
    order_id = order_id_for("shopify-eu", "5829104791001")

    kept = post_shopify(gateway, cancelled, "evt-chg-1", "orders/cancelled").json()

    assert kept["status"] == "kept"
    assert published(gateway, order_id) == []  # nothing of it reaches the OMS yet
    [row] = listed(gateway, channel="shopify-eu", status="kept", external_id="5829104791001")
    assert row["change_id"] == kept["change_id"]
    assert (row["reason"], row["order_id"]) == ("order not taken in", str(order_id))
    news = row["news"]["cancellation"]
    assert (news["kind"], news["reason"], news["reference"]) == (
        "cancellation",
        "customer",
        "evt-chg-1",
    )

    created = post_shopify(gateway, order, "evt-chg-2", "orders/create").json()

    assert (created["status"], created["order_id"]) == ("cancelled", str(order_id))
    received, cancel = published(gateway, order_id)
    assert isinstance(received, ev.ChannelOrderReceived)
    assert isinstance(cancel, ev.ChannelOrderCancelled)
    assert (cancel.reason, cancel.reference) == ("customer", "evt-chg-1")
    applied = change(gateway, kept["change_id"])
    assert (applied["status"], applied["applied"]) == ("applied", ["cancellation"])
    assert listed(gateway, status="kept", external_id="5829104791001") == []
    # The order service places it and cancels it at once (inventory releases on OrderCancelled).
    apply(orders.app, ORDERS_CONSUMES, received, cancel)
    assert order_view(orders, orders_http, order_id)["status"] == "cancelled"
    assert any(isinstance(e, ev.OrderCancelled) for e in orders_published(orders.app))


def test_a_payment_sent_before_its_create_moves_the_payment_on_when_the_order_comes(
    gateway: Gateway,
):
    pending = p.shopify_order(5829104791002, financial_status="pending")
    order_id = order_id_for("shopify-eu", "5829104791002")

    kept = post_shopify(
        gateway, {**pending, "financial_status": "paid"}, "evt-chg-3", "orders/paid"
    ).json()
    assert kept["status"] == "kept"
    assert change(gateway, kept["change_id"])["news"]["payment"]["payment_state"] == "paid"

    assert post_shopify(gateway, pending, "evt-chg-4", "orders/create").json()["status"] == (
        "accepted"
    )
    received, paid = published(gateway, order_id)
    assert received.payment_state == PaymentState.PENDING
    assert isinstance(paid, ev.ChannelPaymentChanged)
    assert (paid.payment_state, paid.reference) == (PaymentState.PAID, "evt-chg-3")
    assert change(gateway, kept["change_id"])["status"] == "applied"


def test_repeated_updates_of_an_unknown_order_update_its_one_record_and_record_nothing_twice(
    gateway: Gateway,
):
    archived = p.shopify_order(
        5829104791003, financial_status="pending", closed_at="2026-10-02T09:00:00+02:00"
    )
    post_shopify(gateway, archived, "evt-chg-5", "orders/updated")
    before = gateway.stored()

    post_shopify(gateway, archived, "evt-chg-5", "orders/updated")  # redelivered
    post_shopify(gateway, archived, "evt-chg-6", "orders/updated")  # another edit, same news
    post_shopify(gateway, archived, "evt-chg-7", "orders/paid")
    assert gateway.stored() == before  # nothing twice

    paid = {**archived, "financial_status": "paid", "shipping_address": MOVED}
    assert post_shopify(gateway, paid, "evt-chg-8", "orders/updated").json()["status"] == "kept"
    assert gateway.stored() == before + 1  # the record updated, not a new one
    [row] = listed(gateway, channel="shopify-eu", external_id="5829104791003")
    assert row["news"]["payment"]["payment_state"] == "paid"
    assert row["news"]["payment"]["reference"] == "evt-chg-8"
    assert row["news"]["ship_to"]["shipping_address"] == MOVED_CANONICAL


def test_ops_dismiss_kept_news_with_a_reason_and_cannot_dismiss_applied_news(gateway: Gateway):
    archived = p.shopify_order(5829104791004, closed_at="2026-10-02T09:00:00+02:00")
    kept = post_shopify(gateway, archived, "evt-chg-9", "orders/updated").json()
    path = f"/v1/channel-changes/{kept['change_id']}/dismiss"
    reason = {"reason": "archived before the channel was connected"}

    problem(gateway.http.post(path, json={}), 422)
    dismissed = gateway.http.post(path, json=reason)
    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json() == {"change_id": kept["change_id"], "status": "dismissed"}
    before = gateway.stored()
    assert gateway.http.post(path, json=reason).json()["status"] == "dismissed"
    assert gateway.stored() == before  # dismissed once
    row = change(gateway, kept["change_id"])
    assert (row["status"], row["dismiss_reason"]) == ("dismissed", reason["reason"])
    assert [r["change_id"] for r in listed(gateway, status="dismissed")] == [kept["change_id"]]

    problem(gateway.http.post(f"/v1/channel-changes/{uuid4()}/dismiss", json=reason), 404)
    problem(gateway.http.get(f"/v1/channel-changes/{uuid4()}"), 404)
    paid_first = p.shopify_order(5829104791005)
    applied = post_shopify(gateway, paid_first, "evt-chg-10", "orders/paid").json()
    post_shopify(gateway, paid_first, "evt-chg-11", "orders/create")
    late = gateway.http.post(f"/v1/channel-changes/{applied['change_id']}/dismiss", json=reason)
    assert problem(late, 409)["title"] == "Channel change applied"


# -- an address changed at the channel -------------------------------------------------------


def placed_and_confirmed(
    gw: Gateway, orders: ServiceParts, payload: dict[str, Any], event_id: str
) -> UUID:
    """A Shopify order taken in, placed by the order service and confirmed (stock reserved)."""
    post_shopify(gw, payload, event_id, "orders/create")
    order_id = order_id_for("shopify-eu", str(payload["id"]))
    apply(orders.app, ORDERS_CONSUMES, *published(gw, order_id))
    reserved = factories.allocations({"TEE-ORG-BLK-M": 2, "MUG-ENM-350-WHT": 1}, "WH-1")
    orders.app.confirm_order(order_id, reserved)
    return order_id


def test_an_address_changed_at_shopify_before_picking_reaches_the_order_once(
    gateway: Gateway, orders: ServiceParts, orders_http: TestClient
):
    order = p.shopify_order(5829104791010)
    order_id = placed_and_confirmed(gateway, orders, order, "evt-chg-20")
    moved = {**order, "shipping_address": MOVED}

    answer = post_shopify(gateway, moved, "evt-chg-21", "orders/updated").json()
    assert (answer["status"], answer["order_id"]) == ("ship_to_changed", str(order_id))
    before = gateway.stored()
    assert post_shopify(gateway, moved, "evt-chg-22", "orders/updated").json()["status"] == (
        "unchanged"
    )
    assert gateway.stored() == before  # the same address again is not news

    [news] = [e for e in published(gateway, order_id) if isinstance(e, ev.ChannelShipToChanged)]
    assert news.shipping_address.model_dump(exclude_none=True) == {
        k: v for k, v in MOVED_CANONICAL.items() if v is not None
    }
    assert (news.channel, news.external_id, news.reference) == (
        "shopify-eu",
        "5829104791010",
        "evt-chg-21",
    )
    apply(orders.app, ORDERS_CONSUMES, news)
    view = order_view(orders, orders_http, order_id)
    assert view["shipping_address"]["line1"] == "Oranienstraße 7"
    assert view["shipping_address"]["postal_code"] == "10997"
    [changed] = [t for t in view["timeline"] if t["event"] == "ShipToChanged"]
    assert changed["detail"]["reason"] == "changed at the channel"
    # Fulfillment takes it from OrderShipToChanged, before the label.
    [public] = ship_to_changes(orders, order_id)
    assert public.shipping_address.line1 == "Oranienstraße 7"
    # Never sent back to the channel: the gateway schedules no delivery for it.
    gateway.catch_up()
    deliveries = gateway.http.get("/v1/deliveries", params={"order_id": str(order_id)})
    assert deliveries.json()["data"] == []


def test_an_address_changed_at_shopify_after_picking_started_is_an_exception_told_once(
    gateway: Gateway, orders: ServiceParts, orders_http: TestClient
):
    order = p.shopify_order(5829104791011)
    order_id = placed_and_confirmed(gateway, orders, order, "evt-chg-30")
    shipment_id = uuid4()
    picking = ev.PickingStarted(
        order_id=order_id,
        shipment_id=shipment_id,
        pick_list_id=uuid4(),
        location_id="WH-1",
        started_at=now_utc(),
    )
    apply(orders.app, ORDERS_CONSUMES, picking)

    post_shopify(gateway, {**order, "shipping_address": MOVED}, "evt-chg-31", "orders/updated")
    [news] = [e for e in published(gateway, order_id) if isinstance(e, ev.ChannelShipToChanged)]
    apply(orders.app, ORDERS_CONSUMES, news)
    apply(orders.app, ORDERS_CONSUMES, news)  # redelivered by the broker

    view = order_view(orders, orders_http, order_id)
    assert view["shipping_address"]["line1"] == "Bergmannstraße 42"  # the parcel's, unchanged
    [exception] = [
        t for t in view["timeline"] if t["detail"].get("exception") == "channel_ship_to_not_applied"
    ]
    assert f"picking started on shipment {shipment_id}" in exception["detail"]["why"]
    assert exception["detail"]["reference"] == "evt-chg-31"
    assert "shipping_address" not in exception["detail"]  # personal data stays on the order row
    assert ship_to_changes(orders, order_id) == []


def test_an_address_changed_in_woocommerce_reaches_the_gateway_and_is_published(gateway: Gateway):
    order = p.woo_order(4801)
    post_woo(gateway, order, "d-4801-1", "order.created")
    moved = {
        **order,
        "shipping": {**order["shipping"], "address_1": "Ehrenstraße 20", "postcode": "50672"},
    }

    answer = post_woo(gateway, moved, "d-4801-2", "order.updated").json()

    assert answer["status"] == "ship_to_changed", answer
    order_id = order_id_for("woo-de", "4801")
    [news] = [e for e in published(gateway, order_id) if isinstance(e, ev.ChannelShipToChanged)]
    assert (news.shipping_address.line1, news.shipping_address.postal_code) == (
        "Ehrenstraße 20",
        "50672",
    )
    gateway.catch_up()
    row = gateway.http.get(f"/v1/channel-orders/{order_id}").json()
    assert row["shipping_address"]["line1"] == "Ehrenstraße 20"


# -- lines cut at the channel ----------------------------------------------------------------


def lines_cut(gw: Gateway, order_id: UUID) -> list[ev.ChannelLinesCut]:
    return [e for e in published(gw, order_id) if isinstance(e, ev.ChannelLinesCut)]


def test_a_tee_removed_in_a_shopify_order_edit_edits_the_order_once_and_refunds_nothing_here(
    gateway: Gateway, orders: ServiceParts, orders_http: TestClient
):
    order = p.shopify_order(5829104791040)
    order_id = placed_and_confirmed(gateway, orders, order, "evt-chg-40")
    edited = {
        **order,
        "line_items": [
            {**order["line_items"][0], "current_quantity": 1},  # two tees: one removed
            order["line_items"][1],
        ],
    }

    answer = post_shopify(gateway, edited, "evt-chg-41", "orders/updated").json()
    assert (answer["status"], answer["order_id"]) == ("lines_cut", str(order_id))
    before = gateway.stored()
    again = post_shopify(gateway, edited, "evt-chg-42", "orders/updated").json()
    assert again["status"] == "unchanged"
    assert gateway.stored() == before  # the same cut again is not news

    [cut] = lines_cut(gateway, order_id)
    assert [(c.line_id, c.sku, c.quantity) for c in cut.lines] == [
        ("13630371692709", "TEE-ORG-BLK-M", 1)
    ]
    apply(orders.app, ORDERS_CONSUMES, cut)
    apply(orders.app, ORDERS_CONSUMES, cut)  # redelivered by the broker

    [change] = [
        e
        for e in orders_published(orders.app)
        if isinstance(e, ev.OrderLinesChanged) and e.order_id == order_id
    ]
    assert change.source == "channel"  # the channel refunds it; the gateway tells it nothing
    assert [(c.sku, c.quantity) for c in change.cancelled] == [("TEE-ORG-BLK-M", 1)]
    assert [(line.sku, line.quantity) for line in change.lines] == [
        ("TEE-ORG-BLK-M", 1),
        ("MUG-ENM-350-WHT", 1),
    ]
    view = order_view(orders, orders_http, order_id)
    assert view["status"] == "placed" and view["revision"] == 1  # asks for its stock again


def test_a_line_removed_at_shopify_after_picking_started_is_an_exception_told_once(
    gateway: Gateway, orders: ServiceParts, orders_http: TestClient
):
    order = p.shopify_order(5829104791050)
    order_id = placed_and_confirmed(gateway, orders, order, "evt-chg-50")
    shipment_id = uuid4()
    picking = ev.PickingStarted(
        order_id=order_id,
        shipment_id=shipment_id,
        pick_list_id=uuid4(),
        location_id="WH-1",
        started_at=now_utc(),
    )
    apply(orders.app, ORDERS_CONSUMES, picking)
    removed = {
        **order,
        "line_items": [order["line_items"][0], {**order["line_items"][1], "current_quantity": 0}],
    }

    post_shopify(gateway, removed, "evt-chg-51", "orders/updated")
    [cut] = lines_cut(gateway, order_id)
    apply(orders.app, ORDERS_CONSUMES, cut)
    apply(orders.app, ORDERS_CONSUMES, cut)

    view = order_view(orders, orders_http, order_id)
    assert view["revision"] == 0 and len(view["lines"]) == 2  # the order keeps its lines
    [exception] = [
        t for t in view["timeline"] if t["detail"].get("exception") == "channel_edit_not_applied"
    ]
    assert f"picking started on shipment {shipment_id}" in exception["detail"]["why"]
    assert exception["detail"]["reference"] == "evt-chg-51"
