"""The order service's API and read model on real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from services.order_service.bootstrap import build
from services.order_service.domain import OrderStatus
from services.order_service.integration import CONSUMES
from services.order_service.settings import Settings
from services.order_service.workers import UnpaidOrderSweeper
from shared.events import BackorderPromised, StockReservationFailed, StockReserved, now_utc
from shared.payments import PaymentState
from tests import factories
from tests.factories_order_service import place_order
from tests.kit import apply

pytestmark = pytest.mark.integration


@pytest.fixture
def service(new_database):
    parts = build(Settings(database_url=new_database("orders")))
    yield parts
    parts.close()


def place(parts, external_id: str, channel: str = "web"):
    return place_order(parts.app, external_id, channel=channel, lines=factories.lines({"TEE": 2}))


def test_orders_are_listed_by_status_and_channel_with_their_timeline(service):
    web, shop = place(service, "1"), place(service, "2", channel="shopify")
    reserved = StockReserved(
        order_id=web, allocations=factories.allocations({"TEE": 2}, "WH"), reserved_at=now_utc()
    )
    apply(service.app, CONSUMES, reserved)
    service.projections[0].catch_up()
    http = TestClient(service.api_factory({}))

    confirmed = http.get("/v1/orders", params={"status": "confirmed"}).json()
    assert [o["order_id"] for o in confirmed["data"]] == [str(web)]
    assert http.get("/v1/orders", params={"channel": "shopify"}).json()["count"] == 1
    order = http.get(f"/v1/orders/{web}").json()
    assert [t["event"] for t in order["timeline"]] == ["Placed", "Confirmed"]
    assert order["lines"][0]["unit_price"] == "24.90"
    page = http.get("/v1/orders", params={"limit": 1, "offset": 1}).json()
    assert page["count"] == 2 and len(page["data"]) == 1
    assert http.get(f"/v1/orders/{shop}").json()["status"] == "placed"


def test_cancel_answers_the_new_status_and_refuses_unknown_orders(service):
    order_id = place(service, "3")
    http = TestClient(service.api_factory({}))
    answer = http.post(f"/v1/orders/{order_id}/cancel", json={"reason": "changed mind"})
    assert answer.status_code == 202
    assert answer.json()["status"] == "cancelled"
    before = service.app.recorder.max_notification_id()
    unknown = http.post(f"/v1/orders/{uuid4()}/cancel")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    bad = http.post(f"/v1/orders/{order_id}/cancel", json={"reason": "", "extra": 1})
    assert bad.status_code == 422
    assert service.app.recorder.max_notification_id() == before


def test_the_read_model_can_be_dropped_and_rebuilt_from_the_event_log(service):
    for n in range(5):
        place(service, f"r{n}")
    projection = service.projections[0]
    projection.catch_up()
    views = projection.view
    before = views.list_orders(status=None, channel=None, limit=50, offset=0)
    views.reset_all(projection.name)
    assert views.list_orders(status=None, channel=None, limit=50, offset=0)[1] == 0
    projection.catch_up()
    assert views.list_orders(status=None, channel=None, limit=50, offset=0) == before
    assert projection.lag() == 0


def test_a_large_mixed_batch_is_projected_in_one_go_with_its_tracking(service):
    for n in range(120):
        order_id = place(service, f"big{n}")
        service.app.confirm_order(order_id, factories.allocations({"TEE": 2}, "WH"))
    projection = service.projections[0]
    projection.catch_up()
    assert projection.lag() == 0
    confirmed = projection.view.list_orders(status="confirmed", channel=None, limit=1, offset=0)
    assert confirmed[1] == 120


def test_the_api_names_every_order_status_and_bounds_the_page(service):
    http = TestClient(service.api_factory({}))
    spec = http.get("/openapi.json").json()
    parameters = spec["paths"]["/v1/orders"]["get"]["parameters"]
    (status,) = [p for p in parameters if p["name"] == "status"]
    assert {"$ref": "#/components/schemas/OrderStatus"} in status["schema"]["anyOf"]
    assert spec["components"]["schemas"]["OrderStatus"]["enum"] == [s.value for s in OrderStatus]
    order = spec["components"]["schemas"]["OrderPublic"]["properties"]["status"]
    assert order == {"$ref": "#/components/schemas/OrderStatus"}
    assert http.get("/v1/orders", params={"status": "lost"}).status_code == 422
    assert http.get("/v1/orders", params={"status": "placed"}).json()["count"] == 0
    assert http.get("/v1/orders", params={"limit": 501}).status_code == 422
    assert http.get("/v1/orders", params={"offset": -1}).status_code == 422


def test_an_order_shows_how_many_units_of_each_sku_came_back(service):
    order_id = place_order(
        service.app, "ret1", lines=factories.lines({"TEE": 2, "MUG": 1}), channel="web"
    )
    service.app.confirm_order(order_id, factories.allocations({"TEE": 2, "MUG": 1}, "WH"))
    shipment = {
        "shipment_id": str(uuid4()),
        "location_id": "WH",
        "carrier": "DHL",
        "tracking_number": "JD1",
        "lines": [{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 1}],
    }
    service.app.record_shipment(order_id, shipment)
    service.app.record_return(order_id, "rma-1", [{"sku": "TEE", "quantity": 1}])
    service.app.record_return(
        order_id, "rma-2", [{"sku": "TEE", "quantity": 1}, {"sku": "MUG", "quantity": 1}]
    )
    service.projections[0].catch_up()
    http = TestClient(service.api_factory({}))

    order = http.get(f"/v1/orders/{order_id}").json()
    assert order["status"] == "returned"
    assert order["returned"] == {"TEE": 2, "MUG": 1}


def receive_unpaid(parts, state: str = "pending", currency: str = "EUR"):
    received = factories.channel_order_received(payment_state=state, currency=currency)
    apply(parts.app, CONSUMES, received)
    reserved = StockReserved(
        order_id=received.order_id,
        allocations=factories.allocations({"TEE": 2}, "WH"),
        reserved_at=now_utc(),
    )
    apply(parts.app, CONSUMES, reserved)
    return received.order_id


def test_an_unpaid_order_waits_visibly_until_the_merchant_records_the_transfer(service):
    order_id = receive_unpaid(service)
    service.projections[0].catch_up()
    http = TestClient(service.api_factory({}))
    held = http.get("/v1/orders", params={"status": "awaiting_payment"}).json()
    assert [o["order_id"] for o in held["data"]] == [str(order_id)]
    assert http.get("/v1/orders", params={"payment_state": "pending"}).json()["count"] == 1
    order = http.get(f"/v1/orders/{order_id}").json()
    assert order["payment_due_at"] is not None
    assert order["timeline"][-1]["detail"]["exception"] == "awaiting_payment"

    answer = http.post(
        f"/v1/orders/{order_id}/payments",
        json={"payment_state": "paid", "amount": "49.80", "reference": "TRF 2026-12-06"},
    )
    assert answer.status_code == 202
    assert answer.json() == {
        "order_id": str(order_id),
        "status": "confirmed",
        "payment_state": "paid",
    }
    service.projections[0].catch_up()
    order = http.get(f"/v1/orders/{order_id}").json()
    assert (order["status"], order["payment_state"], order["payment_due_at"]) == (
        "confirmed",
        "paid",
        None,
    )
    assert [t["event"] for t in order["timeline"]][-2:] == ["PaymentRecorded", "Confirmed"]


def test_bad_payments_get_problems_and_record_nothing(service):
    order_id = receive_unpaid(service, currency="KWD")
    http = TestClient(service.api_factory({}))
    before = service.app.recorder.max_notification_id()
    for body in (
        {"payment_state": "paid", "amount": "-1"},
        {"payment_state": "paid", "amount": "1.2345"},  # KWD has three places
        {"payment_state": "paid", "amount": "NaN"},
        {"payment_state": "lost"},
        {"payment_state": "paid", "card_number": "4111111111111111"},
        {},
    ):
        answer = http.post(f"/v1/orders/{order_id}/payments", json=body)
        assert answer.status_code == 422, body
        assert answer.headers["content-type"] == "application/problem+json"
    assert (
        http.post(f"/v1/orders/{uuid4()}/payments", json={"payment_state": "paid"}).status_code
        == 404
    )
    http.post(f"/v1/orders/{order_id}/cancel")
    cancelled = service.app.recorder.max_notification_id()
    late = http.post(f"/v1/orders/{order_id}/payments", json={"payment_state": "paid"})
    assert late.status_code == 409
    assert cancelled == before + 1  # only the cancel was recorded
    assert service.app.recorder.max_notification_id() == cancelled


def test_the_sweeper_cancels_orders_unpaid_past_their_deadline_and_nothing_else(service):
    overdue = receive_unpaid(service)
    paid = receive_unpaid(service)
    service.app.record_payment(paid, PaymentState.PAID)
    service.projections[0].catch_up()
    views = service.projections[0].view
    sweeper = UnpaidOrderSweeper(service.app, views)
    assert sweeper.sweep(now_utc()) == 0  # nothing is due yet
    later = now_utc() + timedelta(hours=73)
    assert sweeper.sweep(later) == 1
    assert service.app.get_order(overdue).status == OrderStatus.CANCELLED
    assert service.app.get_order(paid).status == OrderStatus.CONFIRMED
    service.projections[0].catch_up()
    assert sweeper.sweep(later) == 0  # a cancelled order is not swept again


def test_the_timeline_shows_why_inventory_routed_the_order_where_it_did(service):
    order_id = place(service, "routed")
    routing = {
        "rules": ["allowed", "single_location", "fewest_shipments", "same_country", "priority"],
        "decided_by": "priority",
        "search": "single",
        "shipments": 1,
        "candidates": [
            {"location_id": "WH", "priority": 1, "country": "DE", "why": "chosen"},
            {
                "location_id": "WH-2",
                "priority": 5,
                "country": "DE",
                "lost_on": "priority",
                "why": "priority 5, WH has 1",
            },
        ],
    }
    reserved = StockReserved(
        order_id=order_id,
        allocations=factories.allocations({"TEE": 2}, "WH"),
        reserved_at=now_utc(),
        routing=routing,
    )
    apply(service.app, CONSUMES, reserved)
    service.projections[0].catch_up()
    http = TestClient(service.api_factory({}))

    confirmed = http.get(f"/v1/orders/{order_id}").json()["timeline"][-1]
    assert confirmed["event"] == "Confirmed"
    explained = confirmed["detail"]["routing"]
    assert explained["decided_by"] == "priority"
    assert explained["candidates"][1]["lost_on"] == "priority"


def test_a_backordered_order_shows_its_promise_date_and_it_is_on_the_timeline(service):
    order_id = place(service, "7")
    failed = StockReservationFailed(
        order_id=order_id,
        shortages=[{"sku": "TEE", "requested": 2, "available": 0}],
        failed_at=now_utc(),
    )
    promised = BackorderPromised(
        order_id=order_id, promise_date="2026-12-14T09:00:00Z", promised_at=now_utc()
    )
    apply(service.app, CONSUMES, failed, promised, promised)
    service.projections[0].catch_up()
    http = TestClient(service.api_factory({}))

    order = http.get(f"/v1/orders/{order_id}").json()
    assert (order["status"], order["promise_date"]) == ("backordered", "2026-12-14T09:00:00Z")
    assert [t["event"] for t in order["timeline"]][-2:] == ["Backordered", "BackorderPromised"]

    reserved = StockReserved(
        order_id=order_id,
        allocations=factories.allocations({"TEE": 2}, "WH"),
        reserved_at=now_utc(),
    )
    apply(service.app, CONSUMES, reserved)
    service.projections[0].catch_up()
    order = http.get(f"/v1/orders/{order_id}").json()
    assert (order["status"], order["promise_date"]) == ("confirmed", None)
