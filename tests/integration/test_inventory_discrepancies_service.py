"""Short picks and discrepancies on real PostgreSQL: how ops resolve them over HTTP.

A short pick redelivered from the broker: test_inventory_on_the_broker.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from services.inventory_service.application import Inventory
from services.inventory_service.bootstrap import build
from services.inventory_service.integration import CONSUMES
from services.inventory_service.settings import Settings
from shared import events as ev
from shared.events.base import now_utc
from shared.runtime.service import ServiceParts
from tests import factories
from tests.kit import apply

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


@pytest.fixture
def service(new_database: Callable[..., str]) -> Iterator[tuple[ServiceParts, TestClient]]:
    """The inventory service on a fresh database: 10 TEE in bin A-03-2 at berlin."""
    parts = build(Settings(database_url=new_database("discrepancies")))
    with TestClient(parts.api_factory({})) as client:
        stock_up(parts.app)
        yield parts, client
    parts.close()


def stock_up(app: Inventory) -> None:
    app.locations.register("berlin", "Berlin", "DE", 10)
    app.locations.register("venlo", "Venlo", "NL", 20)
    app.stocks.receive("berlin", "TEE", 10, bin_code="A-03-2")


def placed(sku: str, quantity: int) -> ev.OrderPlaced:
    return factories.order_placed(lines=factories.lines({sku: quantity}))


def short_picked(order_id: UUID, expected: int, picked: int) -> ev.ShortPicked:
    return ev.ShortPicked(
        shipment_id=uuid4(),
        order_id=order_id,
        location_id="berlin",
        pick_list_id=uuid4(),
        lines=[{"sku": "TEE", "bin": "A-03-2", "expected": expected, "picked": picked}],
        short_at=now_utc(),
    )


def catch_up(parts: ServiceParts) -> None:
    for projection in parts.projections:
        projection.catch_up()


def recorded(parts: ServiceParts) -> int:
    return parts.app.recorder.max_notification_id() or 0


def berlin(client: TestClient) -> dict[str, Any]:
    levels = client.get("/v1/stock/TEE").json()["locations"]
    return next(level for level in levels if level["location_id"] == "berlin")


def proposed_one(parts: ServiceParts, client: TestClient, expected: int, picked: int) -> str:
    """Place an order for `expected` TEE, pick `picked`; the id of the proposed discrepancy."""
    order = placed("TEE", expected)
    apply(parts.app, CONSUMES, order)
    apply(parts.app, CONSUMES, short_picked(order.order_id, expected, picked))
    catch_up(parts)
    listed = client.get("/v1/stock/discrepancies", params={"status": "proposed"}).json()
    return next(d["discrepancy_id"] for d in listed["data"] if d["order_id"] == str(order.order_id))


# -- the HTTP API ------------------------------------------------------------------------------


def test_a_short_pick_shows_as_a_proposed_discrepancy_and_missing_units(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    order = placed("TEE", 3)
    apply(parts.app, CONSUMES, order)
    short = short_picked(order.order_id, 3, 1)
    apply(parts.app, CONSUMES, short)
    catch_up(parts)

    listed = client.get("/v1/stock/discrepancies").json()
    assert listed["count"] == 1
    (discrepancy,) = listed["data"]
    assert {k: discrepancy[k] for k in ("status", "sku", "location_id", "bin", "quantity")} == {
        "status": "proposed",
        "sku": "TEE",
        "location_id": "berlin",
        "bin": "A-03-2",
        "quantity": 2,
    }
    assert discrepancy["pick_list_id"] == str(short.pick_list_id)
    assert discrepancy["order_id"] == str(order.order_id)
    assert berlin(client) == {
        "location_id": "berlin",
        "on_hand": 10,
        "reserved": 1,
        "available": 7,
        "missing": 2,
        "bin": "A-03-2",
        "quarantined": 0,
        "safety_stock": 0,
        "active": True,
        "in_transit": 0,
        "on_order": 0,
    }
    held = client.get(f"/v1/reservations/{order.order_id}").json()["allocations"]
    assert held == [{"sku": "TEE", "location_id": "berlin", "quantity": 1}]
    one = client.get(f"/v1/stock/discrepancies/{discrepancy['discrepancy_id']}").json()
    assert one == discrepancy


def test_discrepancies_are_filtered_by_status_and_location(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    first = proposed_one(parts, client, 2, 1)
    proposed_one(parts, client, 2, 0)
    client.post(f"/v1/stock/discrepancies/{first}/reject")
    catch_up(parts)

    def ids(**query: Any) -> list[str]:
        return [
            d["discrepancy_id"]
            for d in client.get("/v1/stock/discrepancies", params=query).json()["data"]
        ]

    assert ids(status="rejected") == [first]
    assert len(ids(status="proposed")) == 1
    assert len(ids(location_id="berlin")) == 2
    assert ids(location_id="venlo") == []
    bad = client.get("/v1/stock/discrepancies", params={"status": "lost"})
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM


def test_confirming_applies_the_adjustment_once(service: tuple[ServiceParts, TestClient]) -> None:
    parts, client = service
    discrepancy_id = proposed_one(parts, client, 3, 1)
    confirmed = client.post(
        f"/v1/stock/discrepancies/{discrepancy_id}/confirm", json={"note": "bin counted: 8"}
    )
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["resolved_at"] is not None
    assert (berlin(client)["on_hand"], berlin(client)["missing"]) == (8, 0)

    before = recorded(parts)
    again = client.post(f"/v1/stock/discrepancies/{discrepancy_id}/confirm")
    assert again.status_code == 200 and again.json()["note"] == "bin counted: 8"
    assert recorded(parts) == before
    assert berlin(client)["on_hand"] == 8
    catch_up(parts)
    (row,) = client.get("/v1/stock/discrepancies", params={"status": "confirmed"}).json()["data"]
    assert row["note"] == "bin counted: 8"


def test_rejecting_changes_no_stock(service: tuple[ServiceParts, TestClient]) -> None:
    parts, client = service
    discrepancy_id = proposed_one(parts, client, 3, 1)
    rejected = client.post(f"/v1/stock/discrepancies/{discrepancy_id}/reject")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert berlin(client) == {
        "location_id": "berlin",
        "on_hand": 10,
        "reserved": 1,
        "available": 9,
        "missing": 0,
        "bin": "A-03-2",
        "quarantined": 0,
        "safety_stock": 0,
        "active": True,
        "in_transit": 0,
        "on_order": 0,
    }


def test_a_decided_discrepancy_cannot_be_turned_around_and_bad_requests_record_nothing(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    discrepancy_id = proposed_one(parts, client, 3, 1)
    client.post(f"/v1/stock/discrepancies/{discrepancy_id}/confirm")
    before = recorded(parts)
    answers = [
        client.post(f"/v1/stock/discrepancies/{discrepancy_id}/reject"),
        client.post(f"/v1/stock/discrepancies/{uuid4()}/confirm"),
        client.post(f"/v1/stock/discrepancies/{discrepancy_id}/confirm", json={"extra": 1}),
        client.post(f"/v1/stock/discrepancies/{discrepancy_id}/reject", json={"note": ""}),
        client.post("/v1/stock/discrepancies/not-a-uuid/confirm"),
        client.get(f"/v1/stock/discrepancies/{uuid4()}"),
    ]
    assert [a.status_code for a in answers] == [409, 404, 422, 422, 422, 404]
    assert all(a.headers["content-type"] == PROBLEM for a in answers)
    assert recorded(parts) == before
    assert berlin(client)["on_hand"] == 8
