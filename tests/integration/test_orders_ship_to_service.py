"""POST /v1/orders/{order_id}/ship-to on real PostgreSQL: accepted until picking starts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from services.order_service.bootstrap import build
from services.order_service.integration import CONSUMES
from services.order_service.settings import Settings
from shared import events as ev
from shared.events import now_utc
from shared.runtime.service import ServiceParts
from tests import factories
from tests.factories_order_service import place_order
from tests.kit import apply

pytestmark = pytest.mark.integration

NEW_ADDRESS = {
    "name": "Ann Example",
    "line1": "Kastanienallee 12",
    "line2": "  ",  # blank optional text is kept as null
    "city": "Berlin",
    "postal_code": "10435",
    "country": "DE",
    "company": None,
    "phone": "+49 30 1234567",
    "state": "Berlin",
    "state_code": "DE-BE",
}
STORED_ADDRESS = {**NEW_ADDRESS, "line2": None}


@pytest.fixture
def service(new_database: Callable[..., str]) -> Iterator[ServiceParts]:
    parts = build(Settings(database_url=new_database("orders")))
    yield parts
    parts.close()


@pytest.fixture
def http(service: ServiceParts) -> Iterator[TestClient]:
    with TestClient(service.api_factory({})) as client:
        yield client


def confirmed_order(service: ServiceParts) -> UUID:
    order_id = place_order(service.app, lines=factories.lines({"TEE": 2}))
    service.app.confirm_order(order_id, factories.allocations({"TEE": 2}, "WH-1"))
    return order_id


def position(service: ServiceParts) -> int:
    return int(service.app.recorder.max_notification_id() or 0)


def change(http: TestClient, order_id: UUID, **body: Any) -> Any:
    return http.post(f"/v1/orders/{order_id}/ship-to", json=body)


def order_view(service: ServiceParts, http: TestClient, order_id: UUID) -> dict[str, Any]:
    service.projections[0].catch_up()
    answer = http.get(f"/v1/orders/{order_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def assert_problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    return dict(answer.json())


def test_a_new_ship_to_is_accepted_and_shows_on_the_order_and_its_timeline(service, http):
    order_id = confirmed_order(service)

    answer = change(http, order_id, shipping_address=NEW_ADDRESS, reason="customer moved")

    assert answer.status_code == 202, answer.text
    assert answer.json() == {
        "order_id": str(order_id),
        "status": "confirmed",
        "shipping_address": STORED_ADDRESS,
    }
    order = order_view(service, http, order_id)
    assert order["shipping_address"] == STORED_ADDRESS
    last = order["timeline"][-1]
    assert last["event"] == "ShipToChanged"
    assert last["detail"] == {"reason": "customer moved"}  # the address stays on the row


def test_after_picking_started_a_change_is_a_conflict_naming_the_shipment(service, http):
    order_id = confirmed_order(service)
    shipment_id, pick_list_id = uuid4(), uuid4()
    started = ev.PickingStarted(
        order_id=order_id,
        shipment_id=shipment_id,
        pick_list_id=pick_list_id,
        location_id="WH-1",
        started_at=now_utc(),
    )
    apply(service.app, CONSUMES, started)
    before = position(service)

    problem = assert_problem(change(http, order_id, shipping_address=NEW_ADDRESS), 409)

    assert problem["title"] == "Order not editable"
    assert str(shipment_id) in problem["detail"]
    assert problem["shipment_id"] == str(shipment_id)
    assert position(service) == before
    order = order_view(service, http, order_id)
    assert order["picking"] == {str(shipment_id): str(pick_list_id)}
    assert order["shipping_address"] == factories.address()

    released = ev.PickingReleased(order_id=order_id, shipment_id=shipment_id, released_at=now_utc())
    apply(service.app, CONSUMES, released)
    assert change(http, order_id, shipping_address=NEW_ADDRESS).status_code == 202
    assert order_view(service, http, order_id)["picking"] == {}


def test_a_cancelled_order_is_a_conflict_and_records_nothing(service, http):
    order_id = confirmed_order(service)
    http.post(f"/v1/orders/{order_id}/cancel")
    before = position(service)

    problem = assert_problem(change(http, order_id, shipping_address=NEW_ADDRESS), 409)

    assert "cancelled" in problem["detail"]
    assert "shipment_id" not in problem
    assert position(service) == before


@pytest.mark.parametrize(
    "body",
    [
        {"shipping_address": {**NEW_ADDRESS, "country": "de"}},
        {"shipping_address": {**NEW_ADDRESS, "country": "XX"}},
        {"shipping_address": {**NEW_ADDRESS, "fax": "+49 30 7654321"}},
        {"shipping_address": NEW_ADDRESS, "priority": "high"},
        {"shipping_address": {**NEW_ADDRESS, "name": ""}},
        {"shipping_address": {**NEW_ADDRESS, "name": "   "}},
        {"shipping_address": {**NEW_ADDRESS, "city": None}},
        {"shipping_address": {**NEW_ADDRESS, "state_code": "Berlin"}},
        {"shipping_address": {**NEW_ADDRESS, "postal_code": "1" * 21}},
        {"shipping_address": NEW_ADDRESS, "reason": ""},
        {"reason": "no address"},
    ],
    ids=[
        "lower-case-country",
        "unassigned-country",
        "unknown-address-field",
        "unknown-field",
        "empty-name",
        "blank-name",
        "null-city",
        "state-code-not-iso-3166-2",
        "long-postal-code",
        "empty-reason",
        "no-address",
    ],
)
def test_a_bad_request_is_refused_and_records_nothing(service, http, body):
    order_id = confirmed_order(service)
    before = position(service)

    assert_problem(http.post(f"/v1/orders/{order_id}/ship-to", json=body), 422)

    assert position(service) == before
    assert order_view(service, http, order_id)["shipping_address"] == factories.address()


def test_an_unknown_order_is_not_found_and_nothing_is_recorded(service, http):
    confirmed_order(service)
    before = position(service)
    unknown = uuid4()

    problem = assert_problem(change(http, unknown, shipping_address=NEW_ADDRESS), 404)

    assert (problem["title"], problem["detail"]) == ("Order not found", f"no order {unknown}")
    assert position(service) == before


def test_a_shipment_that_kept_its_old_ship_to_shows_as_an_exception_on_the_timeline(service, http):
    order_id = confirmed_order(service)
    assert change(http, order_id, shipping_address=NEW_ADDRESS).status_code == 202
    shipment_id = uuid4()
    refused = ev.ShipToChangeRefused(
        order_id=order_id,
        shipment_id=shipment_id,
        reason="picking started (pick list 1): it keeps its ship-to",
        refused_at=now_utc(),
    )

    apply(service.app, CONSUMES, refused)

    last = order_view(service, http, order_id)["timeline"][-1]
    assert last["event"] == "ShipToRefused"
    assert last["detail"]["exception"] == "ship_to_refused"
    assert last["detail"]["shipment_id"] == str(shipment_id)


def test_the_api_documents_the_answers_of_a_change(http):
    spec = http.get("/openapi.json").json()
    operation = spec["paths"]["/v1/orders/{order_id}/ship-to"]["post"]
    assert {"202", "404", "409", "422"} <= set(operation["responses"])
    conflict = operation["responses"]["409"]["content"]
    assert conflict == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
