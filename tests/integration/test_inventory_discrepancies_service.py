"""Short picks and discrepancies on real PostgreSQL and a real broker: how ops resolve them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaProducer
from fastapi.testclient import TestClient

from services.inventory_service.application import Inventory
from services.inventory_service.bootstrap import build
from services.inventory_service.integration import HANDLERS
from services.inventory_service.settings import Settings
from shared import events as ev
from shared.events import topics
from shared.events.base import now_utc
from shared.events.codec import encode
from shared.runtime.application import UnitOfWork, retry_on_conflict
from shared.runtime.consumer import EventConsumer, tracking_name
from shared.runtime.embedded import EmbeddedBroker, free_port
from shared.runtime.kafka_admin import ensure_topics
from shared.runtime.service import ServiceParts

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
    app.register_location("berlin", "Berlin", "DE", 10)
    app.register_location("venlo", "Venlo", "NL", 20)
    app.receive_stock("berlin", "TEE", 10, bin_code="A-03-2")


def apply(app: Inventory, event: ev.IntegrationEvent) -> None:
    """Apply an integration event as the consumer does, retrying on conflicts."""

    def attempt() -> None:
        uow = UnitOfWork(app)
        HANDLERS[type(event)](app, event, uow)
        uow.commit()

    retry_on_conflict(attempt)


def placed(sku: str, quantity: int) -> ev.OrderPlaced:
    return ev.OrderPlaced(
        order_id=uuid4(),
        channel="web",
        external_id=uuid4().hex,
        customer={"name": "Ada", "email": "ada@example.com"},
        shipping_address={
            "name": "Ada",
            "line1": "Main St 1",
            "city": "Town",
            "postal_code": "12345",
            "country": "DE",
        },
        lines=[{"sku": sku, "quantity": quantity, "unit_price": "9.90"}],
        currency="EUR",
        placed_at=now_utc(),
    )


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
    apply(parts.app, order)
    apply(parts.app, short_picked(order.order_id, expected, picked))
    catch_up(parts)
    listed = client.get("/v1/stock/discrepancies", params={"status": "proposed"}).json()
    return next(d["discrepancy_id"] for d in listed["data"] if d["order_id"] == str(order.order_id))


# -- the HTTP API ------------------------------------------------------------------------------


def test_a_short_pick_shows_as_a_proposed_discrepancy_and_missing_units(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    order = placed("TEE", 3)
    apply(parts.app, order)
    short = short_picked(order.order_id, 3, 1)
    apply(parts.app, short)
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


# -- from the broker ---------------------------------------------------------------------------


async def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


def applied_up_to(app: Inventory) -> int:
    """The highest fulfillment position the consumer applied, over the topic's partitions."""
    names = [tracking_name("fulfillment_service", p) for p in range(4)]
    return max(app.process_recorder.max_tracking_id(name) or 0 for name in names)


async def test_a_short_pick_delivered_twice_and_republished_proposes_one_discrepancy(
    tmp_path: Any, new_database: Callable[..., str]
) -> None:
    broker = EmbeddedBroker(free_port(), log_path=tmp_path / "broker.log")
    broker.start()
    await ensure_topics(broker.bootstrap, topics.ALL_TOPICS, 4)
    settings = Settings(
        database_url=new_database("discrepancies"), kafka_bootstrap_servers=broker.bootstrap
    )
    parts = await asyncio.to_thread(build, settings)
    await asyncio.to_thread(stock_up, parts.app)
    order = placed("TEE", 3)
    await asyncio.to_thread(apply, parts.app, order)
    short = short_picked(order.order_id, 3, 1)

    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    # Delivered twice at the same position, then republished by fulfillment at a new one.
    for n, position in enumerate([1, 1, 2]):
        message = encode(short, event_id=f"f-{n}", service="fulfillment_service", position=position)
        await producer.send_and_wait(
            topics.FULFILLMENT, message.value, key=message.key, headers=message.headers
        )
    consumer = EventConsumer(
        service=parts.name,
        app=parts.app,
        handlers=parts.handlers,
        topics=parts.consumes,
        bootstrap=broker.bootstrap,
        producer=producer,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await wait_until(lambda: applied_up_to(parts.app) == 2)  # all three were handled
    finally:
        stop.set()
        await task
        await producer.stop()

    stock = await asyncio.to_thread(parts.app.get_stock, "TEE")
    assert (stock.on_hand("berlin"), stock.reserved("berlin"), stock.missing("berlin")) == (
        10,
        1,
        2,
    )
    await asyncio.to_thread(catch_up, parts)
    rows, total = await asyncio.to_thread(
        parts.projections[0].view.list_discrepancies,
        status=None,
        location_id=None,
        sku=None,
        limit=10,
        offset=0,
    )
    assert total == 1 and rows[0]["quantity"] == 2
    await asyncio.to_thread(parts.close)
    broker.stop()
