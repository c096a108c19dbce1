"""The order service's API and read model on real PostgreSQL."""

from __future__ import annotations

from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from services.order_service.bootstrap import build
from services.order_service.domain import OrderStatus
from services.order_service.integration import CONSUMES
from services.order_service.settings import Settings
from shared.events import StockReserved, now_utc
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
