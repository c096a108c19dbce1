"""Bins on real PostgreSQL: put-away, moves, pick-path listing (BinAssigned on the topic:
test_inventory_on_the_broker.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.inventory_service.bootstrap import build
from services.inventory_service.settings import Settings
from shared.runtime.service import ServiceParts

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


@pytest.fixture
def service(new_database: Callable[..., str]) -> Iterator[tuple[ServiceParts, TestClient]]:
    """The inventory service on a fresh database with one location, and its HTTP client."""
    parts = build(Settings(database_url=new_database("bins")))
    with TestClient(parts.api_factory({})) as client:
        body = {"location_id": "berlin", "name": "Berlin", "country": "DE"}
        assert client.post("/v1/locations", json=body).status_code == 201
        yield parts, client
    parts.close()


def catch_up(parts: ServiceParts) -> None:
    for projection in parts.projections:
        projection.catch_up()


def recorded(parts: ServiceParts) -> int:
    return parts.app.recorder.max_notification_id() or 0


def receive(client: TestClient, sku: str, quantity: int, bin_code: str | None = None) -> Any:
    body: dict[str, Any] = {"location_id": "berlin", "sku": sku, "quantity": quantity}
    if bin_code is not None:
        body["bin"] = bin_code
    return client.post("/v1/stock/receipts", json=body)


def put_away(client: TestClient, sku: str, bin_code: str, location_id: str = "berlin") -> Any:
    body = {"location_id": location_id, "sku": sku, "bin": bin_code}
    return client.post("/v1/stock/bins", json=body)


# -- the HTTP API ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["A-3", "A-03-2-1", "A_03_2", "", "A-03-TOOLONG", "A-03-2!"])
def test_a_bad_bin_is_refused_as_problem_json_and_nothing_is_recorded(
    service: tuple[ServiceParts, TestClient], bad: str
) -> None:
    parts, client = service
    before = recorded(parts)
    for response in (receive(client, "TEE", 5, bad), put_away(client, "TEE", bad)):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM
        assert "bin" in response.json()["detail"]
    assert recorded(parts) == before


def test_a_receipt_puts_the_sku_away_and_a_move_answers_the_bin_it_came_from(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    received = receive(client, "TEE", 5, "a-03-2")
    assert received.status_code == 201
    assert received.json()["bin"] == "A-03-2"
    assert received.json()["stock"]["locations"][0]["bin"] == "A-03-2"

    moved = put_away(client, "TEE", "c-10-1")
    assert moved.status_code == 200
    assert moved.json() == {
        "location_id": "berlin",
        "sku": "TEE",
        "bin": "C-10-1",
        "previous_bin": "A-03-2",
        "moved": True,
    }
    before = recorded(parts)
    again = put_away(client, "TEE", "C-10-1")
    assert again.json()["moved"] is False and again.json()["previous_bin"] == "C-10-1"
    assert recorded(parts) == before

    (level,) = client.get("/v1/stock/TEE").json()["locations"]
    assert (level["bin"], level["on_hand"], level["missing"]) == ("C-10-1", 5, 0)
    catch_up(parts)
    (row,) = client.get("/v1/stock", params={"sku": "TEE"}).json()["data"]
    assert row["bin"] == "C-10-1"


def test_putting_away_at_an_unknown_location_is_not_found_and_records_nothing(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    before = recorded(parts)
    response = put_away(client, "TEE", "A-03-2", location_id="paris")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert recorded(parts) == before
    assert client.get("/v1/locations/paris/bins").status_code == 404


def test_a_locations_bins_are_listed_along_the_pick_path(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    for sku, bin_code in [
        ("S1", "A-10-1"),
        ("S2", "B-1-1"),
        ("S3", "A-9-2"),
        ("S4", "A-9-10"),
        ("S5", "A-9-1"),
        ("S6", "A-2-1"),
    ]:
        assert put_away(client, sku, bin_code).status_code == 200
    catch_up(parts)
    listed = client.get("/v1/locations/berlin/bins").json()
    assert listed["count"] == 6
    assert [row["bin"] for row in listed["data"]] == [
        "A-2-1",
        "A-9-1",
        "A-9-2",
        "A-9-10",
        "A-10-1",
        "B-1-1",
    ]
    page = client.get("/v1/locations/berlin/bins", params={"limit": 2, "offset": 2}).json()
    assert [row["sku"] for row in page["data"]] == ["S3", "S4"]

    put_away(client, "S2", "A-1-1")  # moved to the front of the path
    catch_up(parts)
    first = client.get("/v1/locations/berlin/bins").json()["data"][0]
    assert first == {"sku": "S2", "bin": "A-1-1"}

    projection = parts.projections[0]
    projection.view.reset_all(projection.name)
    projection.catch_up()
    assert client.get("/v1/locations/berlin/bins").json()["data"][0] == first
