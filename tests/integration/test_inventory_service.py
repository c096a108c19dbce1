"""The inventory service on real PostgreSQL: HTTP API, event handlers, views, concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError
from fastapi.testclient import TestClient

from services.inventory_service.application import Inventory
from services.inventory_service.bootstrap import build
from services.inventory_service.domain import Reservation, reservation_id_for
from services.inventory_service.integration import CONSUMES, on_order_placed
from services.inventory_service.settings import Settings
from shared import events as ev
from shared.events.base import now_utc
from shared.runtime.application import UnitOfWork, retry_on_conflict
from shared.runtime.service import ServiceParts
from shared.runtime.wiring import open_application
from tests import factories
from tests.kit import apply

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


@pytest.fixture
def service(new_database: Callable[..., str]) -> Iterator[tuple[ServiceParts, TestClient]]:
    """The inventory service built in-process on a fresh database, with its HTTP client."""
    parts = build(Settings(database_url=new_database("inv"), aggregate_cache_size=1000))
    with TestClient(parts.api_factory({})) as client:
        yield parts, client
    parts.close()


def catch_up(parts: ServiceParts) -> None:
    for projection in parts.projections:
        projection.catch_up()


def placed(*lines: tuple[str, int]) -> ev.OrderPlaced:
    return factories.order_placed(lines=factories.lines(dict(lines)))


def register(client: TestClient, location_id: str = "berlin", **extra: Any) -> Any:
    body = {"location_id": location_id, "name": "Berlin", "country": "DE", **extra}
    return client.post("/v1/locations", json=body)


def receive(
    client: TestClient,
    sku: str,
    quantity: int,
    key: str | None = None,
    location_id: str = "berlin",
) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    body = {"location_id": location_id, "sku": sku, "quantity": quantity}
    return client.post("/v1/stock/receipts", json=body, headers=headers)


def reservation(client: TestClient, order_id: UUID) -> dict[str, Any]:
    response = client.get(f"/v1/reservations/{order_id}")
    assert response.status_code == 200, response.text
    return response.json()


# -- locations and movements -------------------------------------------------------------------


def test_a_location_is_registered_once_and_a_conflicting_registration_is_refused(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    assert register(client, priority=5).status_code == 201
    assert register(client, priority=5).status_code == 200
    conflict = register(client, priority=6)
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == PROBLEM
    register(client, "venlo", name="Venlo", country="NL", priority=1)
    catch_up(parts)
    listed = client.get("/v1/locations").json()
    assert [loc["location_id"] for loc in listed["data"]] == ["venlo", "berlin"]


def test_a_location_can_be_closed_and_reopened_for_routing(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    register(client)
    closed = client.post("/v1/locations/berlin/deactivate")
    assert closed.status_code == 200 and closed.json()["active"] is False
    assert client.post("/v1/locations/paris/deactivate").status_code == 404
    catch_up(parts)
    assert client.get("/v1/locations").json()["data"][0]["active"] is False
    assert client.post("/v1/locations/berlin/activate").json()["active"] is True


def test_a_closed_location_s_units_are_listed_but_in_no_total(
    service: tuple[ServiceParts, TestClient],
) -> None:
    _, client = service
    register(client)
    register(client, "venlo", name="Venlo", country="NL", priority=1)
    receive(client, "SKU-9", 5)
    receive(client, "SKU-9", 3, location_id="venlo")
    assert client.get("/v1/stock/SKU-9").json()["total"]["available"] == 8

    client.post("/v1/locations/venlo/deactivate")

    stock = client.get("/v1/stock/SKU-9").json()
    assert stock["total"] == {"on_hand": 5, "reserved": 0, "available": 5}
    venlo = next(level for level in stock["locations"] if level["location_id"] == "venlo")
    assert (venlo["on_hand"], venlo["active"]) == (3, False)  # still shown, marked closed
    client.post("/v1/locations/venlo/activate")
    assert client.get("/v1/stock/SKU-9").json()["total"]["available"] == 8


def test_a_retried_receipt_is_recorded_once_and_shows_in_stock_and_the_level_view(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    register(client)
    first = receive(client, "SKU-1", 5, key="po-77-line-1")
    again = receive(client, "SKU-1", 5, key="po-77-line-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["receipt_id"] == again.json()["receipt_id"]
    receive(client, "SKU-1", 2)
    stock = client.get("/v1/stock/SKU-1").json()
    assert stock["total"] == {"on_hand": 7, "reserved": 0, "available": 7}
    catch_up(parts)
    levels = client.get("/v1/stock", params={"location_id": "berlin"}).json()
    assert [(r["sku"], r["on_hand"], r["available"]) for r in levels["data"]] == [("SKU-1", 7, 7)]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/stock/receipts", {"location_id": "berlin", "sku": "A", "quantity": 0}, 422),
        ("/v1/stock/receipts", {"location_id": "berlin", "sku": "A", "quantity": -3}, 422),
        ("/v1/stock/receipts", {"location_id": "berlin", "sku": "A", "quantity": "5"}, 422),
        ("/v1/stock/receipts", {"location_id": "berlin", "sku": "A b", "quantity": 1}, 422),
        ("/v1/stock/receipts", {"location_id": "berlin", "sku": "A", "quantity": 1, "x": 1}, 422),
        ("/v1/stock/receipts", {"location_id": "paris", "sku": "A", "quantity": 1}, 404),
        (
            "/v1/stock/adjustments",
            {"location_id": "berlin", "sku": "A", "quantity_delta": 0, "reason": "count"},
            422,
        ),
        ("/v1/stock/adjustments", {"location_id": "berlin", "sku": "A", "quantity_delta": 2}, 422),
        (
            "/v1/stock/adjustments",
            {"location_id": "berlin", "sku": "A", "quantity_delta": -1, "reason": "lost"},
            409,
        ),
        ("/v1/locations", {"location_id": "x", "name": "X", "country": "Germany"}, 422),
    ],
)
def test_bad_input_is_answered_with_a_problem_and_records_nothing(
    service: tuple[ServiceParts, TestClient], path: str, body: dict[str, Any], status: int
) -> None:
    parts, client = service
    register(client)
    before = parts.app.recorder.max_notification_id()
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert parts.app.recorder.max_notification_id() == before


def test_an_adjustment_cannot_take_stock_below_what_is_reserved(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    register(client)
    receive(client, "A", 3)
    apply(parts.app, CONSUMES, placed(("A", 2)))
    body = {"location_id": "berlin", "sku": "A", "quantity_delta": -2, "reason": "count"}
    assert client.post("/v1/stock/adjustments", json=body).status_code == 409
    body["quantity_delta"] = -1
    adjusted = client.post("/v1/stock/adjustments", json=body)
    assert adjusted.status_code == 201
    assert adjusted.json()["stock"]["total"] == {"on_hand": 2, "reserved": 2, "available": 0}


def test_unknown_skus_and_reservations_are_404_problems(
    service: tuple[ServiceParts, TestClient],
) -> None:
    _, client = service
    for path in ("/v1/stock/NEVER-SEEN", f"/v1/reservations/{uuid4()}"):
        response = client.get(path)
        assert response.status_code == 404 and response.headers["content-type"] == PROBLEM


# -- the order flow ----------------------------------------------------------------------------


def test_an_order_is_reserved_shipped_and_its_sellable_return_restocked(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    register(client)
    receive(client, "A", 5)
    order = placed(("A", 2))
    apply(parts.app, CONSUMES, order)
    apply(parts.app, CONSUMES, order)  # redelivered: changes nothing
    assert client.get("/v1/stock/A").json()["total"] == {
        "on_hand": 5,
        "reserved": 2,
        "available": 3,
    }
    apply(parts.app, CONSUMES, factories.shipped(order.order_id, {"A": 2}, location_id="berlin"))
    assert client.get("/v1/stock/A").json()["total"] == {
        "on_hand": 3,
        "reserved": 0,
        "available": 3,
    }
    line = {"sku": "A", "quantity": 1, "location_id": "berlin"}
    apply(
        parts.app,
        CONSUMES,
        ev.ReturnReceived(
            return_id=uuid4(),
            order_id=order.order_id,
            lines=[{**line, "condition": "sellable"}, {**line, "condition": "damaged"}],
            received_at=now_utc(),
        ),
    )
    assert client.get("/v1/stock/A").json()["total"] == {
        "on_hand": 4,
        "reserved": 0,
        "available": 4,
    }
    catch_up(parts)
    assert reservation(client, order.order_id)["status"] == "consumed"
    levels = client.get("/v1/stock", params={"sku": "A"}).json()["data"]
    assert [(r["on_hand"], r["reserved"]) for r in levels] == [(4, 0)]


def test_a_short_order_reserves_nothing_and_is_filled_when_stock_arrives(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    register(client)
    receive(client, "A", 5)
    order = placed(("A", 1), ("B", 2))
    apply(parts.app, CONSUMES, order)
    catch_up(parts)
    waiting = reservation(client, order.order_id)
    assert waiting["status"] == "backordered" and waiting["allocations"] == []
    assert waiting["shortages"] == [{"sku": "B", "requested": 2, "available": 0}]
    assert client.get("/v1/stock/A").json()["total"]["reserved"] == 0
    receive(client, "B", 2)
    catch_up(parts)
    filled = reservation(client, order.order_id)
    assert filled["status"] == "reserved" and filled["shortages"] == []
    assert sorted((a["sku"], a["quantity"]) for a in filled["allocations"]) == [("A", 1), ("B", 2)]


def test_cancelling_releases_the_stock(service: tuple[ServiceParts, TestClient]) -> None:
    parts, client = service
    register(client)
    receive(client, "A", 2)
    order = placed(("A", 2))
    apply(parts.app, CONSUMES, order)
    cancel = factories.order_cancelled(
        order.order_id, external_id=order.external_id, reason="customer asked"
    )
    apply(parts.app, CONSUMES, cancel)
    assert client.get("/v1/stock/A").json()["total"] == {
        "on_hand": 2,
        "reserved": 0,
        "available": 2,
    }
    catch_up(parts)
    assert reservation(client, order.order_id)["status"] == "released"


# -- never oversell ----------------------------------------------------------------------------


def test_two_instances_racing_for_the_last_units_never_oversell(
    new_database: Callable[..., str],
) -> None:
    settings = Settings(database_url=new_database("inv"), aggregate_cache_size=1000)
    assert settings.aggregate_cache_size > 0  # as in production: stale caches are possible
    parts = build(settings)
    one, two = parts.app, open_application(Inventory, settings)
    try:
        one.locations.register("berlin", "Berlin", "DE", 10)
        one.stocks.receive("berlin", "A", 5)
        two.stocks.get("A")  # instance two now caches A with 5 available
        for order in (placed(("A", 1)), placed(("A", 1))):
            apply(one, CONSUMES, order)
        cached, _ = two.repository.recall(one.stocks.get("A").id)
        assert cached.reserved("berlin") == 0  # two's cached copy is stale

        orders = [placed(("A", 1)) for _ in range(12)]
        conflicts = _race({one: orders[0::2], two: orders[1::2]})

        fresh = open_application(Inventory, Settings(database_url=settings.database_url))
        stock = fresh.stocks.get("A")
        assert stock.on_hand("berlin") == 5 and stock.reserved("berlin") == 5
        holders = [o for o in orders if _held_by(fresh, o.order_id)]
        assert len(holders) == 3
        assert len(stock.queue) == len(orders) - 3
        assert conflicts >= 1  # the stale instance really had to decide again
        fresh.close()
    finally:
        two.close()
        parts.close()


def _held_by(app: Inventory, order_id: UUID) -> list[dict[str, Any]]:
    """What an order's reservation holds (a SKU's stock keeps totals only)."""
    reservation = app.repository.get(reservation_id_for(order_id))
    assert isinstance(reservation, Reservation)
    return reservation.held


def _race(work: dict[Inventory, list[ev.OrderPlaced]]) -> int:
    """Place each instance's orders from its own thread, all at once; returns the conflicts."""
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []
    conflicts: list[int] = []

    def run(app: Inventory, orders: list[ev.OrderPlaced]) -> None:
        try:
            barrier.wait()
            for order in orders:
                retry_on_conflict(_place, app, order, conflicts)
        except BaseException as error:  # surfaced below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=item) for item in work.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return len(conflicts)


def _place(app: Inventory, order: ev.OrderPlaced, conflicts: list[int]) -> None:
    """What the consumer does for one message: handler and commit in a fresh unit of work."""
    uow = UnitOfWork(app)
    on_order_placed(app, order, uow)
    try:
        uow.commit()
    except IntegrityError:
        conflicts.append(1)
        raise


# -- stock at a time and movements ---------------------------------------------------------------


def test_stock_at_a_past_time_and_the_movements_come_from_the_event_log(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    register(client)
    receive(client, "A", 5)
    between = now_utc()
    order = placed(("A", 2))
    apply(parts.app, CONSUMES, order)
    apply(parts.app, CONSUMES, factories.shipped(order.order_id, {"A": 2}, location_id="berlin"))

    then = client.get("/v1/stock/A", params={"at": between.isoformat()})
    assert then.status_code == 200, then.text
    assert then.json()["total"] == {"on_hand": 5, "reserved": 0, "available": 5}
    assert then.json()["locations"][0]["location_id"] == "berlin"
    later = (now_utc() + timedelta(days=1)).isoformat()
    assert client.get("/v1/stock/A", params={"at": later}).json()["total"]["on_hand"] == 3

    before = client.get("/v1/stock/A", params={"at": "2000-01-01T00:00:00Z"})
    assert before.status_code == 404
    assert before.headers["content-type"].startswith(PROBLEM)
    for malformed_time in ("yesterday", "0.5", "2026-01-31T12:00:00"):  # no offset: whose?
        malformed = client.get("/v1/stock/A", params={"at": malformed_time})
        assert malformed.status_code == 422, malformed_time
        assert malformed.headers["content-type"].startswith(PROBLEM)

    page = client.get("/v1/stock/A/movements", params={"limit": 2})
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["count"] == 3
    assert [(m["kind"], m["quantity"], m["on_hand"], m["reserved"]) for m in body["data"]] == [
        ("shipped", 2, 3, 0),
        ("reserved", 2, 5, 2),
    ]
    assert body["data"][1]["cause"] == {"order_id": str(order.order_id)}
    rest = client.get("/v1/stock/A/movements", params={"limit": 2, "offset": 2}).json()
    assert [m["kind"] for m in rest["data"]] == ["receipt"]
    early = client.get("/v1/stock/A/movements", params={"until": between.isoformat()}).json()
    assert [m["kind"] for m in early["data"]] == ["receipt"]
    unknown = client.get("/v1/stock/NOPE/movements")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith(PROBLEM)
