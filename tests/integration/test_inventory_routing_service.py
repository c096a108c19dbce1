"""Routing over the inventory API on real PostgreSQL: addresses, rules, explanations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.inventory_service.bootstrap import build
from services.inventory_service.integration import CONSUMES
from services.inventory_service.settings import Settings
from shared.runtime.service import ServiceParts
from tests import factories
from tests.kit import apply

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


@pytest.fixture
def service(new_database: Callable[..., str]) -> Iterator[tuple[ServiceParts, TestClient]]:
    """Inventory routing by distance before priority, on a fresh database."""
    settings = Settings(
        database_url=new_database("inv_routing"),
        routing_rules="allowed,single_location,fewest_shipments,nearest,priority",
        channels={"shop": {"partial": "backorder_rest"}},
    )
    parts = build(settings)
    with TestClient(parts.api_factory({})) as client:
        yield parts, client
    parts.close()


def _catch_up(parts: ServiceParts) -> None:
    for projection in parts.projections:
        projection.catch_up()


def _address(city: str, postal_code: str, **extra: Any) -> dict[str, Any]:
    return {
        "address": {
            "name": f"Warehouse {city}",
            "line1": "1 Dock Road",
            "city": city,
            "postal_code": postal_code,
            "region": None,
            "country": "DE",
        },
        **extra,
    }


def test_an_order_goes_to_the_nearest_location_and_its_reservation_says_why(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    for location_id, priority in (("munich", 1), ("hamburg", 9)):
        body = {"location_id": location_id, "name": location_id, "country": "DE"}
        assert client.post("/v1/locations", json={**body, "priority": priority}).status_code == 201
        receipt = {"location_id": location_id, "sku": "TEE", "quantity": 5}
        assert client.post("/v1/stock/receipts", json=receipt).status_code == 201
    # Munich is placed by the centroid of its postal code, Hamburg by its own coordinates.
    munich = client.put("/v1/locations/munich/address", json=_address("Munich", "80331"))
    assert munich.status_code == 200, munich.text
    assert munich.json()["address"]["city"] == "Munich"
    hamburg = _address("Hamburg", "20095", latitude=53.55, longitude=9.99)
    assert client.put("/v1/locations/hamburg/address", json=hamburg).status_code == 200

    order = factories.order_placed(
        lines=factories.lines({"TEE": 1}), shipping_address=factories.address(postal_code="10115")
    )
    apply(parts.app, CONSUMES, order)
    _catch_up(parts)

    reservation = client.get(f"/v1/reservations/{order.order_id}").json()
    assert [a["location_id"] for a in reservation["allocations"]] == ["hamburg"]
    explanation = reservation["explanation"]
    assert explanation["decided_by"] == "nearest"
    assert explanation["rules"] == [
        "allowed",
        "single_location",
        "fewest_shipments",
        "nearest",
        "priority",
    ]
    lost = {c["location_id"]: c for c in explanation["candidates"]}
    assert lost["munich"]["lost_on"] == "nearest"
    assert lost["hamburg"]["lost_on"] is None and lost["hamburg"]["distance_km"] == 255
    listed = {loc["location_id"]: loc for loc in client.get("/v1/locations").json()["data"]}
    assert listed["hamburg"]["latitude"] == 53.55
    assert listed["munich"]["address"]["postal_code"] == "80331"


def test_a_bad_address_is_a_problem_and_records_nothing(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    body = {"location_id": "berlin", "name": "Berlin", "country": "DE"}
    assert client.post("/v1/locations", json=body).status_code == 201
    half = _address("Berlin", "10115", latitude=52.5)
    vienna = _address("Vienna", "1010")
    vienna["address"]["country"] = "AT"
    cases = [
        ("/v1/locations/berlin/address", half, 422),
        (
            "/v1/locations/berlin/address",
            _address("Berlin", "10115", latitude=91, longitude=0),
            422,
        ),
        ("/v1/locations/berlin/address", vienna, 409),
        ("/v1/locations/nowhere/address", _address("Berlin", "10115"), 404),
    ]
    for path, payload, status in cases:
        answer = client.put(path, json=payload)
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == PROBLEM
    _catch_up(parts)
    assert client.get("/v1/locations").json()["data"][0]["address"] is None


def test_a_channel_that_backorders_the_rest_shows_it_short_until_stock_arrives(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    body = {"location_id": "berlin", "name": "Berlin", "country": "DE"}
    assert client.post("/v1/locations", json=body).status_code == 201
    receipt = {"location_id": "berlin", "sku": "TEE", "quantity": 1}
    assert client.post("/v1/stock/receipts", json=receipt).status_code == 201
    order = factories.order_placed(lines=factories.lines({"TEE": 3}), channel="shop")
    apply(parts.app, CONSUMES, order)
    _catch_up(parts)

    held = client.get(f"/v1/reservations/{order.order_id}").json()
    assert held["status"] == "reserved"
    assert [(a["location_id"], a["quantity"]) for a in held["allocations"]] == [("berlin", 1)]
    assert held["shortages"] == [{"sku": "TEE", "requested": 3, "available": 1}]

    receipt["quantity"] = 5
    assert client.post("/v1/stock/receipts", json=receipt).status_code == 201
    _catch_up(parts)

    filled = client.get(f"/v1/reservations/{order.order_id}").json()
    assert sum(a["quantity"] for a in filled["allocations"]) == 3
    assert filled["shortages"] == []
    level = client.get("/v1/stock/TEE").json()["total"]
    assert (level["reserved"], level["available"]) == (3, 3)
