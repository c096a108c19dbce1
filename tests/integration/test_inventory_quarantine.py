"""Damaged and quarantined stock over HTTP on real PostgreSQL: returns, release, scrap."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from services.inventory_service.integration import CONSUMES
from shared import events as ev
from shared.events.base import now_utc
from shared.runtime.service import ServiceParts
from tests import factories
from tests.integration.test_inventory_service import (
    PROBLEM,
    catch_up,
    placed,
    receive,
    register,
    reservation,
    service,
)
from tests.kit import apply

pytestmark = pytest.mark.integration
__all__ = ["service"]  # the fixture, imported to be used here

Service = tuple[ServiceParts, TestClient]


def _damaged_return(parts: ServiceParts, sku: str, quantity: int) -> ev.ReturnReceived:
    """An order for `quantity` of sku shipped from Berlin, all of it back damaged (twice)."""
    order = placed((sku, quantity))
    apply(parts.app, CONSUMES, order)
    apply(
        parts.app,
        CONSUMES,
        factories.shipped(order.order_id, {sku: quantity}, location_id="berlin"),
    )
    back = ev.ReturnReceived(
        return_id=uuid4(),
        order_id=order.order_id,
        lines=[{"sku": sku, "quantity": quantity, "condition": "damaged", "location_id": "berlin"}],
        received_at=now_utc(),
    )
    apply(parts.app, CONSUMES, back)
    apply(parts.app, CONSUMES, back)  # redelivered: counted once
    return back


def _berlin(client: TestClient, sku: str) -> dict[str, Any]:
    stock = client.get(f"/v1/stock/{sku}").json()
    (level,) = [level for level in stock["locations"] if level["location_id"] == "berlin"]
    return level


def _release(client: TestClient, key: str, quantity: int, to: str, sku: str = "A") -> Any:
    body = {"location_id": "berlin", "sku": sku, "quantity": quantity, "to": to, "reason": "QC"}
    return client.post("/v1/stock/quarantine/release", json=body, headers={"Idempotency-Key": key})


def test_a_damaged_return_is_quarantined_shown_and_never_available(service: Service) -> None:
    parts, client = service
    register(client)
    receive(client, "A", 3)
    _damaged_return(parts, "A", 2)
    level = _berlin(client, "A")
    assert (level["on_hand"], level["available"], level["quarantined"]) == (1, 1, 2)
    catch_up(parts)
    rows = client.get("/v1/stock", params={"sku": "A"}).json()["data"]
    assert [(r["on_hand"], r["available"], r["quarantined"]) for r in rows] == [(1, 1, 2)]


def test_released_units_serve_a_waiting_order_and_scrapped_ones_are_gone(
    service: Service,
) -> None:
    parts, client = service
    register(client)
    receive(client, "A", 3)
    _damaged_return(parts, "A", 3)
    waiting = placed(("A", 3))
    apply(parts.app, CONSUMES, waiting)
    sellable = _release(client, "qc-1", 2, "sellable")
    assert sellable.status_code == 201, sellable.text
    assert _release(client, "qc-1", 2, "sellable").json() == sellable.json()  # a retry: once
    scrapped = _release(client, "qc-2", 1, "scrap")
    assert scrapped.status_code == 201, scrapped.text
    level = _berlin(client, "A")
    assert (level["on_hand"], level["reserved"], level["quarantined"]) == (2, 0, 0)
    receive(client, "A", 1)
    catch_up(parts)
    assert reservation(client, waiting.order_id)["status"] == "reserved"
    rows = client.get("/v1/stock", params={"sku": "A"}).json()["data"]
    assert [(r["on_hand"], r["reserved"], r["quarantined"]) for r in rows] == [(3, 3, 0)]


def test_sellable_units_quarantined_by_hand_never_below_reserved(service: Service) -> None:
    parts, client = service
    register(client)
    receive(client, "A", 3)
    apply(parts.app, CONSUMES, placed(("A", 2)))
    body = {"location_id": "berlin", "sku": "A", "quantity": 2, "reason": "dented boxes"}
    refused = client.post("/v1/stock/quarantine", json=body)
    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
    body["quantity"] = 1
    held = client.post("/v1/stock/quarantine", json=body)
    assert held.status_code == 201, held.text
    level = _berlin(client, "A")
    assert (level["on_hand"], level["reserved"], level["available"], level["quarantined"]) == (
        2,
        2,
        0,
        1,
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"location_id": "berlin", "sku": "A", "quantity": 2, "to": "sellable"}, 422),
        ({"location_id": "berlin", "sku": "A", "quantity": 2, "to": "bin", "reason": "x"}, 422),
        ({"location_id": "berlin", "sku": "A", "quantity": 2, "to": "scrap", "reason": "x"}, 422),
        ({"location_id": "paris", "sku": "A", "quantity": 1, "to": "scrap", "reason": "x"}, 404),
    ],
)
def test_a_release_beyond_what_is_quarantined_is_refused_and_records_nothing(
    service: Service, body: dict[str, Any], status: int
) -> None:
    parts, client = service
    register(client)
    receive(client, "A", 1)
    _damaged_return(parts, "A", 1)
    before = parts.app.recorder.max_notification_id()
    response = client.post("/v1/stock/quarantine/release", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert parts.app.recorder.max_notification_id() == before
