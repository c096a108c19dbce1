"""Refunds without a return on PostgreSQL: POST /v1/refunds (a short pick, a lost parcel,
goodwill), refused bad input that records nothing, idempotency, and the short-pick policy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import Tracking
from fastapi.testclient import TestClient

from services.returns_service import bootstrap, integration
from services.returns_service.application import Returns
from services.returns_service.settings import Settings
from shared import events as ev
from shared.runtime.application import UnitOfWork
from shared.runtime.projection import ProjectionWorker
from tests import factories
from tests.factories_returns_service import MUG, TEE, shipment_ref

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


class Service:
    def __init__(self, app: Returns, http: TestClient, projection: ProjectionWorker) -> None:
        self.app, self.http, self.projection, self.position = app, http, projection, 0

    def deliver(self, event: ev.IntegrationEvent) -> None:
        """Apply an event as the consumer does: effects and tracking row in one transaction."""
        self.position += 1
        uow = UnitOfWork(self.app, Tracking("order_service#0", self.position))
        integration.CONSUMES[type(event)](self.app, event, uow)
        uow.commit()

    def recorded(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def refunds(self, order_id: UUID, **params: Any) -> list[dict[str, Any]]:
        self.projection.catch_up()
        page = self.http.get("/v1/refunds", params={"order_id": str(order_id), **params})
        assert page.status_code == 200, page.text
        return list(page.json()["data"])


@pytest.fixture
def start(new_database) -> Iterator[Callable[..., Service]]:
    started = []

    def start_service(**settings: Any) -> Service:
        parts = bootstrap.build(Settings(database_url=new_database("returns"), **settings))
        [projection] = parts.projections
        assert isinstance(parts.app, Returns)
        http = TestClient(parts.api_factory({}))
        http.__enter__()
        started.append((parts, http))
        return Service(parts.app, http, projection)

    yield start_service
    for parts, http in started:
        http.__exit__(None, None, None)
        parts.close()


@pytest.fixture
def service(start: Callable[..., Service]) -> Service:
    return start()


def shipped_short(order_id: UUID | None = None) -> ev.OrderShipped:
    """Two tees ordered (24.90 paid each): one shipped, one short-picked; a mug at 14.50."""
    return factories.order_shipped(
        order_id,
        lines=factories.lines({TEE: 1}, "24.90") + factories.lines({MUG: 1}, "14.50"),
        shipments=[shipment_ref("WH-BER", {TEE: 1, MUG: 1})],
        short_lines=[ev.ShortLine(sku=TEE, quantity=1, paid=Decimal("24.90"))],
    )


@pytest.fixture
def order_id(service: Service) -> UUID:
    """A shipped order, its short tee already refunded by the default policy (39.40 left)."""
    event = shipped_short()
    service.deliver(event)
    return event.order_id


def refund(order_id: UUID, reason: str = "goodwill", **fields: Any) -> dict[str, Any]:
    return {"order_id": str(order_id), "reason": reason, **fields}


def assert_problem(response, status: int, service: Service, before: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert service.recorded() == before
    return response.json()


def test_a_goodwill_amount_and_a_lost_parcel_are_refunded_and_listed(
    service: Service, order_id: UUID
):
    goodwill = service.http.post(
        "/v1/refunds", json=refund(order_id, amount="5.00", note="late delivery")
    )
    assert goodwill.status_code == 201, goodwill.text
    body = goodwill.json()
    assert goodwill.headers["location"] == f"/v1/refunds/{body['refund_id']}"
    assert (body["reason"], body["refund_kind"], body["amount"], body["return_id"]) == (
        "goodwill",
        "amount",
        "5.00",
        None,
    )
    lost = service.http.post(
        "/v1/refunds", json=refund(order_id, "lost_parcel", lines=[{"sku": MUG, "quantity": 1}])
    )
    assert lost.status_code == 201, lost.text
    assert (lost.json()["amount"], lost.json()["refund_kind"]) == ("14.50", "units")
    assert lost.json()["lines"] == [{"sku": MUG, "quantity": 1, "amount": "14.50"}]

    listed = service.refunds(order_id)
    assert sorted((r["reason"], r["amount"]) for r in listed) == [
        ("goodwill", "5.00"),
        ("lost_parcel", "14.50"),
        ("short_pick", "24.90"),
    ]
    assert [r["reason"] for r in service.refunds(order_id, reason="goodwill")] == ["goodwill"]
    one = service.http.get(f"/v1/refunds/{body['refund_id']}").json()
    assert (one["note"], one["sequence"], one["amount"]) == ("late delivery", None, "5.00")
    left = service.http.get(f"/v1/refundable/{order_id}").json()
    assert (left["paid"], left["refunded"], left["refundable"]) == ("64.30", "44.40", "19.90")
    assert {line["sku"]: line["returnable"] for line in left["lines"]} == {TEE: 1, MUG: 0}


@pytest.mark.parametrize(
    ("fields", "title", "says"),
    [
        ({"amount": "-1.00"}, "Invalid request", "greater than 0"),
        ({"amount": "0"}, "Invalid request", "greater than 0"),
        ({"amount": "0.00"}, "Invalid request", "greater than 0"),
        ({"amount": "39.41"}, "Refund exceeds what can be refunded", "39.40"),
        ({"amount": "1.001"}, "Amount not in the currency's minor units", "decimal places"),
        ({"lines": [{"sku": "SOCK-1", "quantity": 1}]}, "Units not refundable", "SOCK-1"),
        ({"lines": [{"sku": TEE, "quantity": 2}]}, "Units not refundable", "1 shipped units"),
        ({"lines": [{"sku": TEE, "quantity": 1}], "amount": "25.00"}, "Refund exceeds", "24.90"),
        ({}, "Invalid request", "amount, lines, or both"),
        ({"lines": []}, "Invalid request", "lines"),
        ({"amount": "1.00", "reason": "return"}, "Invalid request", "reason"),
        ({"amount": "1.00", "price": "1.00"}, "Invalid request", "price"),
    ],
)
def test_bad_refunds_get_422_and_record_nothing(
    service: Service, order_id: UUID, fields: dict, title: str, says: str
):
    before = service.recorded()
    response = service.http.post("/v1/refunds", json=refund(order_id) | fields)
    body = assert_problem(response, 422, service, before)
    assert body["title"].startswith(title)
    assert says in body["detail"], body
    if title.startswith("Refund exceeds"):
        assert body["refundable"] == says and body["currency"] == "EUR"


def test_a_short_pick_refund_of_units_already_refunded_is_refused(service: Service, order_id):
    before = service.recorded()
    again = service.http.post(
        "/v1/refunds", json=refund(order_id, "short_pick", lines=[{"sku": TEE, "quantity": 1}])
    )
    body = assert_problem(again, 422, service, before)
    assert (body["sku"], body["refundable"]) == (TEE, 0)


def test_an_order_that_has_not_shipped_gets_404_saying_so(service: Service):
    response = service.http.post("/v1/refunds", json=refund(uuid4(), amount="1.00"))
    body = assert_problem(response, 404, service, 0)
    assert body["title"] == "Order not refundable"
    assert "has not shipped yet" in body["detail"]
    assert service.http.get(f"/v1/refundable/{uuid4()}").status_code == 404
    assert service.http.get(f"/v1/refunds/{uuid4()}").status_code == 404


def test_the_same_idempotency_key_refunds_once(service: Service, order_id: UUID):
    headers = {"Idempotency-Key": "goodwill-7f3a"}
    first = service.http.post("/v1/refunds", json=refund(order_id, amount="5.00"), headers=headers)
    before = service.recorded()
    again = service.http.post("/v1/refunds", json=refund(order_id, amount="5.00"), headers=headers)
    assert again.status_code == 201
    assert again.json()["refund_id"] == first.json()["refund_id"]
    assert service.recorded() == before
    other = service.http.post("/v1/refunds", json=refund(order_id, amount="6.00"), headers=headers)
    assert_problem(other, 422, service, before)
    assert [r["amount"] for r in service.refunds(order_id, reason="goodwill")] == ["5.00"]


def test_short_units_are_refunded_once_however_often_order_shipped_arrives(service: Service):
    event = shipped_short()
    service.deliver(event)
    before = service.recorded()
    service.deliver(event)  # republished under a new position
    assert service.recorded() == before
    (short,) = service.refunds(event.order_id)
    assert (short["reason"], short["amount"], short["lines"]) == (
        "short_pick",
        "24.90",
        [{"sku": TEE, "quantity": 1, "amount": "24.90"}],
    )


def test_held_short_units_are_refunded_by_ops(start: Callable[..., Service]):
    service = start(short_pick_policy="hold")
    event = shipped_short()
    service.deliver(event)
    assert service.refunds(event.order_id) == []
    left = service.http.get(f"/v1/refundable/{event.order_id}").json()
    assert {line["sku"]: line["short_refundable"] for line in left["lines"]} == {TEE: 1, MUG: 0}

    made = service.http.post(
        "/v1/refunds",
        json=refund(event.order_id, "short_pick", lines=[{"sku": TEE, "quantity": 1}]),
    )
    assert made.status_code == 201, made.text
    assert (made.json()["amount"], made.json()["reason"]) == ("24.90", "short_pick")
    assert [r["amount"] for r in service.refunds(event.order_id)] == ["24.90"]
