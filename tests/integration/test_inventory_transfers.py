"""Transfers, purchase orders and promise dates over HTTP on real PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.inventory_service.integration import CONSUMES
from shared.runtime.service import ServiceParts
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

MONDAY = "2026-12-14T09:00:00Z"
LATER = "2026-12-21T09:00:00Z"


def two_places(client: TestClient) -> None:
    register(client)
    register(client, "hamburg", name="Hamburg")


def level(client: TestClient, sku: str, location_id: str, at: str | None = None) -> Any:
    params = {"at": at} if at else {}
    stock = client.get(f"/v1/stock/{sku}", params=params).json()
    found = [lv for lv in stock["locations"] if lv["location_id"] == location_id]
    return found[0] if found else None


def transfer(client: TestClient, transfer_id: str = "T-1", **extra: Any) -> Any:
    body = {
        "transfer_id": transfer_id,
        "from_location": "berlin",
        "to_location": "hamburg",
        "lines": [{"sku": "A", "quantity": 3}],
        "expected_at": MONDAY,
        **extra,
    }
    return client.post("/v1/transfers", json=body)


def test_a_transfer_leaves_the_source_is_in_transit_and_lands_in_parts(service: Service) -> None:
    parts, client = service
    two_places(client)
    receive(client, "A", 5)

    shipped = transfer(client)
    assert shipped.status_code == 201, shipped.text
    assert transfer(client).status_code == 200  # posted again: the same transfer
    body = shipped.json()
    assert (body["status"], body["lines"]) == (
        "in_transit",
        [{"sku": "A", "quantity": 3, "received": 0, "outstanding": 3}],
    )
    assert client.get("/v1/stock/A").json()["in_transit"] == 3
    assert (
        level(client, "A", "berlin")["on_hand"],
        level(client, "A", "hamburg")["in_transit"],
    ) == (
        2,
        3,
    )

    first = client.post(
        "/v1/transfers/T-1/receive",
        json={"receipt_id": "r-1", "lines": [{"sku": "A", "quantity": 1}]},
    )
    again = client.post(
        "/v1/transfers/T-1/receive",
        json={"receipt_id": "r-1", "lines": [{"sku": "A", "quantity": 1}]},
    )
    assert first.status_code == again.status_code == 200, first.text
    assert again.json()["status"] == "partially_received"
    hamburg = level(client, "A", "hamburg")
    assert (hamburg["on_hand"], hamburg["in_transit"]) == (1, 2)

    over = client.post("/v1/transfers/T-1/receive", json={"lines": [{"sku": "A", "quantity": 3}]})
    assert over.status_code == 409 and over.headers["content-type"] == PROBLEM
    keyed = {"Idempotency-Key": "dock-7"}
    rest = {"lines": [{"sku": "A", "quantity": 2}]}
    assert client.post("/v1/transfers/T-1/receive", json=rest, headers=keyed).status_code == 200
    done = client.post("/v1/transfers/T-1/receive", json=rest, headers=keyed)
    assert done.status_code == 200 and done.json()["status"] == "received"
    assert client.get("/v1/transfers/T-1").json()["lines"][0]["received"] == 3

    catch_up(parts)
    listed = client.get("/v1/transfers", params={"status": "received"}).json()
    assert [(t["transfer_id"], t["lines"][0]["received"]) for t in listed["data"]] == [("T-1", 3)]
    assert client.get("/v1/transfers", params={"status": "in_transit"}).json()["count"] == 0
    rows = client.get("/v1/stock", params={"sku": "A"}).json()["data"]
    assert [(r["location_id"], r["on_hand"], r["in_transit"]) for r in rows] == [
        ("berlin", 2, 0),
        ("hamburg", 3, 0),
    ]


def test_stock_at_a_time_and_the_movements_show_the_transfer_with_its_cause(
    service: Service,
) -> None:
    _, client = service
    two_places(client)
    receive(client, "A", 5)
    transfer(client)
    client.post(
        "/v1/transfers/T-1/receive",
        json={"receipt_id": "r-1", "lines": [{"sku": "A", "quantity": 3}]},
    )

    moved = client.get("/v1/stock/A/movements").json()["data"]
    assert [(m["kind"], m["location_id"], m["quantity"]) for m in moved] == [
        ("transfer_received", "hamburg", 3),
        ("transfer_shipped", "berlin", 3),
        ("receipt", "berlin", 5),
    ]
    assert moved[1]["cause"] == {"transfer_id": "T-1", "to_location": "hamburg"}
    in_transit_then = moved[1]["at"]
    hamburg = level(client, "A", "hamburg", at=in_transit_then)
    berlin = level(client, "A", "berlin", at=in_transit_then)
    assert (berlin["on_hand"], hamburg["on_hand"], hamburg["in_transit"]) == (2, 0, 3)
    assert client.get("/v1/stock/A", params={"at": in_transit_then}).json()["in_transit"] == 3


def test_refused_transfers_answer_problems_and_record_nothing(service: Service) -> None:
    parts, client = service
    two_places(client)
    receive(client, "A", 5)
    apply(parts.app, CONSUMES, placed(("A", 4)))
    before = parts.app.recorder.max_notification_id()

    short = transfer(client, lines=[{"sku": "A", "quantity": 2}])
    assert short.status_code == 409 and short.headers["content-type"] == PROBLEM
    assert transfer(client, to_location="paris").status_code == 404
    assert transfer(client, to_location="berlin").status_code == 422
    assert transfer(client, expected_at="next monday").status_code == 422
    assert transfer(client, lines=[{"sku": "A", "quantity": 0}]).status_code == 422
    assert client.get("/v1/transfers/T-1").status_code == 404
    assert client.post("/v1/transfers/T-1/cancel", json={"reason": "x"}).status_code == 404
    assert parts.app.recorder.max_notification_id() == before


def test_a_cancelled_transfer_puts_units_back_and_one_received_in_part_cannot_be(
    service: Service,
) -> None:
    parts, client = service
    two_places(client)
    receive(client, "A", 5)
    transfer(client)
    cancelled = client.post("/v1/transfers/T-1/cancel", json={"reason": "truck broke down"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert level(client, "A", "berlin")["on_hand"] == 5
    assert level(client, "A", "hamburg") is None  # nothing there, nothing on the way

    transfer(client, "T-2")
    client.post(
        "/v1/transfers/T-2/receive",
        json={"receipt_id": "r", "lines": [{"sku": "A", "quantity": 1}]},
    )
    late = client.post("/v1/transfers/T-2/cancel", json={"reason": "too late"})
    assert late.status_code == 409 and late.headers["content-type"] == PROBLEM
    catch_up(parts)
    listed = client.get("/v1/transfers").json()["data"]
    assert [(t["transfer_id"], t["status"], t["cancel_reason"]) for t in listed] == [
        ("T-2", "partially_received", None),
        ("T-1", "cancelled", "truck broke down"),
    ]


def po(client: TestClient, po_id: str = "PO-1", quantity: int = 10, **extra: Any) -> Any:
    body = {
        "po_id": po_id,
        "location_id": "hamburg",
        "supplier": "Acme",
        "lines": [{"sku": "A", "quantity": quantity}],
        "expected_at": MONDAY,
        **extra,
    }
    return client.post("/v1/purchase-orders", json=body)


def test_a_purchase_order_is_on_order_promises_waiting_orders_and_its_receipts_fill_them(
    service: Service,
) -> None:
    parts, client = service
    two_places(client)
    first, second = placed(("A", 2)), placed(("A", 2))
    apply(parts.app, CONSUMES, first)
    apply(parts.app, CONSUMES, second)

    placed_po = po(client, quantity=3)
    assert placed_po.status_code == 201, placed_po.text
    assert po(client, quantity=3).status_code == 200
    assert po(client, quantity=4).status_code == 409
    assert level(client, "A", "hamburg")["on_order"] == 3
    catch_up(parts)
    assert reservation(client, first.order_id)["promise_date"] == "2026-12-14T09:00:00Z"
    assert reservation(client, second.order_id)["promise_date"] is None

    po(client, "PO-2", quantity=5, expected_at=LATER)
    moved = client.patch("/v1/purchase-orders/PO-1", json={"expected_at": "2026-12-28T09:00:00Z"})
    assert moved.status_code == 200 and moved.json()["expected_at"] == "2026-12-28T09:00:00Z"
    catch_up(parts)
    assert reservation(client, first.order_id)["promise_date"] == "2026-12-21T09:00:00Z"
    assert reservation(client, second.order_id)["promise_date"] == "2026-12-21T09:00:00Z"

    grn = {"receipt_id": "GRN-1", "lines": [{"sku": "A", "quantity": 2}]}
    got = client.post("/v1/purchase-orders/PO-1/receipts", json=grn)
    assert got.status_code == 201, got.text
    again = client.post("/v1/purchase-orders/PO-1/receipts", json=grn)
    assert again.json()["lines"] == [{"sku": "A", "quantity": 3, "received": 2, "outstanding": 1}]
    over = client.post(
        "/v1/purchase-orders/PO-1/receipts",
        json={"receipt_id": "GRN-2", "lines": [{"sku": "A", "quantity": 2}]},
    )
    assert over.status_code == 409 and over.headers["content-type"] == PROBLEM
    hamburg = level(client, "A", "hamburg")
    assert (hamburg["on_hand"], hamburg["reserved"], hamburg["on_order"]) == (2, 2, 6)

    catch_up(parts)
    assert reservation(client, first.order_id)["status"] == "reserved"
    assert reservation(client, first.order_id)["promise_date"] is None
    listed = client.get("/v1/purchase-orders", params={"location_id": "hamburg"}).json()
    assert [(p["po_id"], p["status"]) for p in listed["data"]] == [
        ("PO-2", "open"),
        ("PO-1", "partially_received"),
    ]
    rows = client.get("/v1/stock", params={"location_id": "hamburg"}).json()["data"]
    assert [(r["sku"], r["on_hand"], r["on_order"]) for r in rows] == [("A", 2, 6)]
    assert client.get("/v1/purchase-orders/PO-9").status_code == 404
    assert po(client, "PO-3", expected_at="2026-12-14").status_code == 422
