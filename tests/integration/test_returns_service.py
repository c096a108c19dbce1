"""Returns service on PostgreSQL: HTTP API, tracked OrderShipped intake and the read model."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from fastapi.testclient import TestClient

from services.returns_service import bootstrap, integration
from services.returns_service.application import Returns
from services.returns_service.projections import PROJECTION
from services.returns_service.settings import Settings
from services.returns_service.views import ReturnViews
from shared import events as ev
from shared.runtime.application import UnitOfWork
from shared.runtime.projection import ProjectionWorker
from tests import factories
from tests.factories_returns_service import MUG, TEE, order_shipped_from_two_locations

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


@dataclass
class Service:
    app: Returns
    http: TestClient
    projection: ProjectionWorker
    position: int = 0

    def deliver(self, event: ev.IntegrationEvent, position: int | None = None) -> None:
        """Apply an event as the consumer does: effects and tracking row in one transaction."""
        if position is None:
            self.position += 1
            position = self.position
        uow = UnitOfWork(self.app, Tracking("order_service#0", position))
        integration.CONSUMES[type(event)](self.app, event, uow)
        uow.commit()

    def recorded(self) -> int:
        return self.app.recorder.max_notification_id() or 0


@pytest.fixture
def service(new_database) -> Iterator[Service]:
    parts = bootstrap.build(Settings(database_url=new_database("returns")))
    [projection] = parts.projections
    assert isinstance(parts.app, Returns)
    with TestClient(parts.api_factory({})) as http:
        yield Service(parts.app, http, projection)
    parts.close()


@pytest.fixture
def order_id(service: Service) -> UUID:
    event = order_shipped_from_two_locations()
    service.deliver(event)
    return event.order_id


def rma_body(order_id: UUID, *lines: tuple[str, int]) -> dict:
    return {
        "order_id": str(order_id),
        "lines": [{"sku": sku, "quantity": q, "reason": "does not fit"} for sku, q in lines],
    }


def receipt(*lines: tuple[str, int, str]) -> dict:
    return {"lines": [{"sku": s, "quantity": q, "condition": c} for s, q, c in lines]}


def assert_problem(response, status: int, service: Service, before: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert service.recorded() == before
    return response.json()


def test_a_return_is_requested_received_refunded_and_listed(service: Service, order_id: UUID):
    created = service.http.post("/v1/returns", json=rma_body(order_id, (TEE, 2), (MUG, 1)))
    assert created.status_code == 201, created.text
    rma = created.json()
    assert created.headers["location"] == f"/v1/returns/{rma['return_id']}"
    assert (rma["status"], rma["currency"], rma["refunded_total"]) == ("requested", "EUR", "0.00")

    received = service.http.post(
        f"/v1/returns/{rma['return_id']}/receive",
        json=receipt((TEE, 2, "sellable"), (MUG, 1, "damaged")),
    )
    assert received.status_code == 200, received.text
    [refund] = received.json()["refunds"]
    assert (refund["amount"], refund["currency"], refund["capped"]) == ("64.30", "EUR", False)
    assert refund["lines"] == [
        {"sku": TEE, "quantity": 2, "amount": "49.80"},
        {"sku": MUG, "quantity": 1, "amount": "14.50"},
    ]

    service.projection.catch_up()
    view = service.http.get(f"/v1/returns/{rma['return_id']}").json()
    assert view["status"] == "received"
    assert view["refunded_total"] == "64.30"
    assert view["refunds"] == received.json()["refunds"]
    assert [(line["sku"], line["received"], line["damaged"]) for line in view["lines"]] == [
        (TEE, 2, 0),
        (MUG, 1, 1),
    ]
    assert {(line["sku"], line["location_id"]) for line in view["receipts"][0]["lines"]} == {
        (TEE, "WH-BER"),
        (MUG, "WH-HAM"),
    }
    page = service.http.get("/v1/returns", params={"order_id": str(order_id), "status": "received"})
    assert [r["return_id"] for r in page.json()["data"]] == [rma["return_id"]]
    assert page.json()["count"] == 1
    refunds = service.http.get("/v1/refunds", params={"order_id": str(order_id)}).json()
    assert [r["amount"] for r in refunds["data"]] == ["64.30"]


@pytest.mark.parametrize(
    ("currency", "unit_price", "nothing", "refund"),
    [("KWD", "1.235", "0.000", "2.470"), ("JPY", "1200", "0", "2400")],
)
def test_refunds_keep_the_currency_s_own_places_in_answers_and_views(
    service: Service, currency: str, unit_price: str, nothing: str, refund: str
):
    # Refunds and their views were cut to cents: 2 x 1.235 KWD was paid back as 2.47.
    shipped = factories.order_shipped(quantities={TEE: 2}, unit_price=unit_price, currency=currency)
    service.deliver(shipped)
    created = service.http.post("/v1/returns", json=rma_body(shipped.order_id, (TEE, 2)))
    assert created.json()["refunded_total"] == nothing
    received = service.http.post(
        f"/v1/returns/{created.json()['return_id']}/receive", json=receipt((TEE, 2, "sellable"))
    )
    assert received.status_code == 200, received.text
    assert received.json()["refunds"][0]["amount"] == refund
    service.projection.catch_up()
    view = service.http.get(f"/v1/returns/{created.json()['return_id']}").json()
    assert (view["refunded_total"], view["refunds"][0]["lines"][0]["amount"]) == (refund, refund)
    refunds = service.http.get("/v1/refunds", params={"order_id": str(shipped.order_id)}).json()
    assert [r["amount"] for r in refunds["data"]] == [refund]


def test_the_same_idempotency_key_returns_the_same_return_and_records_nothing(
    service: Service, order_id: UUID
):
    headers = {"Idempotency-Key": "rma-7f3a"}
    first = service.http.post("/v1/returns", json=rma_body(order_id, (TEE, 1)), headers=headers)
    before = service.recorded()
    again = service.http.post("/v1/returns", json=rma_body(order_id, (TEE, 1)), headers=headers)
    assert again.status_code == 201
    assert again.json()["return_id"] == first.json()["return_id"]
    assert service.recorded() == before
    reused = service.http.post("/v1/returns", json=rma_body(order_id, (TEE, 2)), headers=headers)
    assert_problem(reused, 422, service, before)


def test_returnable_quantities_hold_across_returns(service: Service, order_id: UUID):
    assert service.http.post("/v1/returns", json=rma_body(order_id, (TEE, 1))).status_code == 201
    before = service.recorded()
    too_many = service.http.post("/v1/returns", json=rma_body(order_id, (TEE, 2)))
    body = assert_problem(too_many, 409, service, before)
    assert (body["sku"], body["returnable"]) == (TEE, 1)
    assert TEE in body["detail"]
    not_shipped = service.http.post("/v1/returns", json=rma_body(order_id, ("SOCK-1", 1)))
    body = assert_problem(not_shipped, 422, service, before)
    assert (body["sku"], body["returnable"]) == ("SOCK-1", 0)


def test_concurrent_returns_of_the_last_units_never_authorise_more_than_shipped(
    service: Service, order_id: UUID
):
    def request(_: int) -> int:
        return service.http.post("/v1/returns", json=rma_body(order_id, (TEE, 1))).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(request, range(4)))
    assert statuses == [201, 201, 409, 409]
    assert service.app.get_shipped_order(order_id).returnable(TEE) == 0


def test_an_order_that_has_not_shipped_is_not_returnable(service: Service):
    response = service.http.post("/v1/returns", json=rma_body(uuid4(), (TEE, 1)))
    assert assert_problem(response, 404, service, 0)["title"] == "Order not returnable"


@pytest.mark.parametrize(
    "lines",
    [
        [{"sku": TEE, "quantity": 0, "reason": "x"}],
        [{"sku": TEE, "quantity": 1}],
        [{"sku": TEE, "quantity": 1, "reason": "x", "price": "1.00"}],
        [{"sku": TEE, "quantity": 1, "reason": "x"}, {"sku": TEE, "quantity": 1, "reason": "y"}],
        [],
    ],
)
def test_bad_return_requests_are_refused_before_anything_is_recorded(
    service: Service, order_id: UUID, lines: list
):
    before = service.recorded()
    response = service.http.post("/v1/returns", json={"order_id": str(order_id), "lines": lines})
    assert assert_problem(response, 422, service, before)["title"] == "Invalid request"


def test_receiving_beyond_the_return_is_refused_and_nothing_recorded(
    service: Service, order_id: UUID
):
    rma = service.http.post("/v1/returns", json=rma_body(order_id, (TEE, 1))).json()
    url = f"/v1/returns/{rma['return_id']}/receive"
    assert service.http.post(url, json=receipt((TEE, 1, "sellable"))).status_code == 200
    before = service.recorded()
    body = assert_problem(
        service.http.post(url, json=receipt((TEE, 1, "sellable"))), 409, service, before
    )
    assert (body["sku"], body["receivable"]) == (TEE, 0)
    bad = service.http.post(url, json=receipt((TEE, 1, "lost")))
    assert_problem(bad, 422, service, before)
    unknown = service.http.post(
        f"/v1/returns/{uuid4()}/receive", json=receipt((TEE, 1, "sellable"))
    )
    assert assert_problem(unknown, 404, service, before)["title"] == "Return not found"


def test_a_redelivered_order_shipped_is_harmless(service: Service):
    event = order_shipped_from_two_locations()
    service.deliver(event, position=1)
    before = service.recorded()
    with pytest.raises(IntegrityError):  # the same publisher position: the tracking row dedupes
        service.deliver(event, position=1)
    service.deliver(event, position=2)  # republished under a new position: the domain ignores it
    assert service.recorded() == before


def test_the_read_model_is_rebuilt_from_the_log(service: Service, order_id: UUID):
    rma = service.http.post("/v1/returns", json=rma_body(order_id, (TEE, 2))).json()
    service.http.post(f"/v1/returns/{rma['return_id']}/receive", json=receipt((TEE, 1, "damaged")))
    service.projection.catch_up()
    before = service.http.get(f"/v1/returns/{rma['return_id']}").json()
    views = service.projection.view
    assert isinstance(views, ReturnViews)
    views.reset_all(PROJECTION.name)
    assert service.http.get(f"/v1/returns/{rma['return_id']}").status_code == 404
    service.projection.catch_up()
    assert service.http.get(f"/v1/returns/{rma['return_id']}").json() == before
    assert before["status"] == "partially_received"


def test_a_page_of_returns_is_bounded_and_out_of_range_asks_are_refused(
    service: Service, order_id: UUID
):
    for _ in range(2):
        service.http.post("/v1/returns", json=rma_body(order_id, (TEE, 1)))
    service.projection.catch_up()
    page = service.http.get("/v1/returns", params={"limit": 1, "offset": 1}).json()
    assert (len(page["data"]), page["count"], page["limit"], page["offset"]) == (1, 2, 1, 1)
    refunds = service.http.get("/v1/refunds", params={"limit": 500}).json()
    assert (refunds["data"], refunds["limit"]) == ([], 500)
    for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"status": "lost"}):
        answer = service.http.get("/v1/returns", params=params)
        assert answer.status_code == 422, params
        assert answer.headers["content-type"] == PROBLEM


def test_the_api_describes_its_statuses_and_conditions(service: Service):
    schemas = service.http.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["ReturnStatus"]["enum"] == ["requested", "partially_received", "received"]
    assert schemas["Condition"]["enum"] == ["sellable", "damaged"]
