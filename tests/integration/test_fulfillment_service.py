"""The fulfillment service on PostgreSQL: events in, shipments listed and shipped over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from services.fulfillment_service.domain import shipment_id_for
from tests import factories
from tests.fakes.warehouse import ADDRESS, Warehouse, assert_problem, open_warehouse

pytestmark = pytest.mark.integration

TWO_LOCATIONS = [
    {"sku": "SKU-1", "location_id": "WH-1", "quantity": 2},
    {"sku": "SKU-2", "location_id": "WH-2", "quantity": 1},
]


@pytest.fixture
def service(new_database: Any) -> Iterator[Warehouse]:
    """A fulfillment service on a fresh database."""
    with open_warehouse(new_database("fulfillment")) as warehouse:
        yield warehouse


def confirm(service: Warehouse, allocations: list[dict[str, Any]] = TWO_LOCATIONS) -> uuid.UUID:
    """A new order confirmed with these allocations (no channel number); returns its id."""
    confirmed = factories.order_confirmed(
        shipping_address=ADDRESS,
        lines=[
            {"sku": a["sku"], "quantity": a["quantity"], "unit_price": "5.00"} for a in allocations
        ],
        allocations=allocations,
        channel=None,
        external_id=None,
        placed_at=None,
    )
    service.handle(confirmed)
    return confirmed.order_id


def cancel(service: Warehouse, order_id: uuid.UUID) -> None:
    """The order was cancelled."""
    service.handle(factories.order_cancelled(order_id, external_id=str(order_id)))


def shipments(service: Warehouse, **query: Any) -> dict[str, Any]:
    """GET /v1/shipments with a query."""
    response = service.http.get("/v1/shipments", params=query)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_confirmed_order_is_listed_as_one_open_shipment_per_location(service: Warehouse) -> None:
    order_id = confirm(service)

    page = shipments(service, order_id=order_id)

    assert page["count"] == 2
    by_location = {s["location_id"]: s for s in page["data"]}
    assert set(by_location) == {"WH-1", "WH-2"}
    wh1 = by_location["WH-1"]
    assert wh1["shipment_id"] == str(shipment_id_for(order_id, "WH-1"))
    assert wh1["status"] == "open"
    assert wh1["lines"] == [{"sku": "SKU-1", "quantity": 2}]
    assert wh1["ship_to"] == ADDRESS
    assert (wh1["carrier"], wh1["tracking_number"], wh1["shipped_at"]) == (None, None, None)
    assert service.http.get(f"/v1/shipments/{wh1['shipment_id']}").json() == wh1


def test_shipping_returns_the_shipped_shipment_and_the_view_follows(service: Warehouse) -> None:
    order_id = confirm(service)
    shipment_id = shipment_id_for(order_id, "WH-2")

    response = service.ship(shipment_id, {"carrier": "  DHL ", "tracking_number": " JD-0001 "})

    assert response.status_code == 200, response.text
    shipped = response.json()
    assert (shipped["status"], shipped["carrier"], shipped["tracking_number"]) == (
        "shipped",
        "DHL",
        "JD-0001",
    )
    assert shipped["lines"] == [{"sku": "SKU-2", "quantity": 1}]
    assert shipped["shipped_at"] is not None
    service.projection.catch_up()
    assert service.http.get(f"/v1/shipments/{shipment_id}").json() == shipped


def test_shipping_again_with_the_same_tracking_is_ok_and_records_nothing(
    service: Warehouse,
) -> None:
    shipment_id = shipment_id_for(confirm(service), "WH-1")
    first = service.ship(shipment_id, {"carrier": "UPS", "tracking_number": "1Z999"})
    position = service.position()

    again = service.ship(shipment_id, {"carrier": "UPS", "tracking_number": "1Z999"})

    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert service.position() == position


def test_shipping_again_with_another_tracking_number_is_a_conflict(service: Warehouse) -> None:
    shipment_id = shipment_id_for(confirm(service), "WH-1")
    service.ship(shipment_id, {"carrier": "UPS", "tracking_number": "1Z999"})
    position = service.position()

    response = service.ship(shipment_id, {"carrier": "UPS", "tracking_number": "1Z000"})

    assert_problem(response, 409, "Shipment already shipped")
    assert service.position() == position


def test_a_cancelled_shipment_is_not_shippable(service: Warehouse) -> None:
    order_id = confirm(service)
    cancel(service, order_id)
    position = service.position()

    response = service.ship(
        shipment_id_for(order_id, "WH-1"), {"carrier": "UPS", "tracking_number": "1Z999"}
    )

    assert_problem(response, 409, "Shipment not shippable")
    assert service.position() == position


def test_an_unknown_shipment_is_not_found(service: Warehouse) -> None:
    unknown = uuid.uuid4()
    position = service.position()

    assert_problem(
        service.ship(unknown, {"carrier": "UPS", "tracking_number": "1Z999"}),
        404,
        "Shipment not found",
    )
    assert_problem(service.http.get(f"/v1/shipments/{unknown}"), 404, "Shipment not found")
    assert service.position() == position


@pytest.mark.parametrize(
    ("body", "title"),
    [
        ({"carrier": "", "tracking_number": "1Z999"}, "Invalid request"),
        ({"carrier": "   ", "tracking_number": "1Z999"}, "Invalid request"),
        ({"carrier": "U" * 101, "tracking_number": "1Z999"}, "Invalid request"),
        ({"carrier": "UPS", "tracking_number": ""}, "Invalid request"),
        ({"carrier": "UPS", "tracking_number": "1Z 999"}, "Invalid request"),
        ({"carrier": "UPS", "tracking_number": "1Z999/2"}, "Invalid request"),
        ({"carrier": "UPS", "tracking_number": "9" * 101}, "Invalid request"),
        (
            {"carrier": "UPS", "tracking_number": "1Z9", "tracking_numbers": ["1Z9"]},
            "Invalid request",
        ),
        ({"carrier": "UPS", "tracking_number": "1Z999", "label": "x"}, "Invalid request"),
        ({"carrier": "UPS"}, "Carrier refused"),
        ({"tracking_number": "1Z999"}, "Carrier refused"),
    ],
)
def test_bad_ship_requests_are_refused_and_record_nothing(
    service: Warehouse, body: dict[str, Any], title: str
) -> None:
    shipment_id = shipment_id_for(confirm(service), "WH-1")
    position = service.position()

    assert_problem(service.ship(shipment_id, body), 422, title)
    assert service.position() == position
    assert service.http.get(f"/v1/shipments/{shipment_id}").json()["status"] == "open"


def test_an_open_shipment_ships_with_a_service_level(service: Warehouse) -> None:
    shipment_id = shipment_id_for(confirm(service), "WH-1")
    body = {"carrier": "UPS", "service": "express", "tracking_number": "1Z999"}

    shipped = service.ship(shipment_id, body).json()

    assert (shipped["status"], shipped["service"], shipped["packages"]) == (
        "shipped",
        "express",
        [],
    )


def test_cancelling_the_order_cancels_only_the_shipments_not_yet_shipped(
    service: Warehouse,
) -> None:
    order_id = confirm(service)
    service.ship(shipment_id_for(order_id, "WH-1"), {"carrier": "UPS", "tracking_number": "1Z9"})

    cancel(service, order_id)

    statuses = {s["location_id"]: s for s in shipments(service, order_id=order_id)["data"]}
    assert statuses["WH-1"]["status"] == "shipped"
    assert statuses["WH-1"]["cancelled_at"] is None
    assert statuses["WH-2"]["status"] == "cancelled"
    assert statuses["WH-2"]["cancelled_at"] is not None


def test_shipments_are_filtered_by_order_status_and_location(service: Warehouse) -> None:
    first = confirm(service)
    second = confirm(service, [{"sku": "SKU-7", "location_id": "WH-1", "quantity": 3}])
    service.ship(shipment_id_for(first, "WH-1"), {"carrier": "UPS", "tracking_number": "1Z1"})
    service.projection.catch_up()

    def ids(**query: Any) -> set[str]:
        return {s["shipment_id"] for s in shipments(service, **query)["data"]}

    assert ids(order_id=second) == {str(shipment_id_for(second, "WH-1"))}
    assert ids(status="shipped") == {str(shipment_id_for(first, "WH-1"))}
    assert ids(location_id="WH-1", status="open") == {str(shipment_id_for(second, "WH-1"))}
    assert ids(location_id="WH-2") == {str(shipment_id_for(first, "WH-2"))}
    assert ids(location_id="WH-3") == set()
    assert shipments(service)["count"] == 3


def test_shipments_are_paginated_oldest_first(service: Warehouse) -> None:
    orders = [confirm(service, [{"sku": "A", "location_id": "WH-1", "quantity": 1}]) for _ in "abc"]

    page = shipments(service, limit=2, offset=1)

    assert (page["count"], page["limit"], page["offset"]) == (3, 2, 1)
    assert [s["order_id"] for s in page["data"]] == [str(o) for o in orders[1:]]


@pytest.mark.parametrize(
    "query",
    [{"status": "lost"}, {"order_id": "not-a-uuid"}, {"limit": 0}, {"offset": -1}],
)
def test_bad_list_queries_are_refused(service: Warehouse, query: dict[str, Any]) -> None:
    assert_problem(service.http.get("/v1/shipments", params=query), 422, "Invalid request")


def test_the_view_rebuilt_from_the_event_log_has_the_same_rows(service: Warehouse) -> None:
    shipped_order, cancelled_order = confirm(service), confirm(service)
    service.ship(
        shipment_id_for(shipped_order, "WH-2"), {"carrier": "DHL", "tracking_number": "J1"}
    )
    cancel(service, cancelled_order)
    service.projection.catch_up()
    before = shipments(service)

    service.views.reset_all(service.projection.name)
    assert shipments(service)["count"] == 0
    service.projection.catch_up()

    assert shipments(service) == before
    assert before["count"] == 4
