"""Short picks and packages on the order, on real PostgreSQL and a real broker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaProducer
from fastapi.testclient import TestClient

from services.order_service.bootstrap import build
from services.order_service.domain import order_id_for
from services.order_service.integration import HANDLERS
from services.order_service.settings import Settings
from shared import events as ev
from shared.events import topics
from shared.events.codec import encode
from shared.runtime.application import UnitOfWork
from shared.runtime.consumer import EventConsumer, tracking_name
from shared.runtime.embedded import EmbeddedBroker, free_port
from shared.runtime.kafka_admin import ensure_topics
from shared.runtime.service import ServiceParts

pytestmark = pytest.mark.integration
ADDRESS = {
    "name": "Ann",
    "line1": "Main St 1",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


@pytest.fixture
def service(new_database: Callable[..., str]) -> Iterator[ServiceParts]:
    parts = build(Settings(database_url=new_database("orders")))
    yield parts
    parts.close()


def confirmed_order(parts: ServiceParts) -> UUID:
    """An order of 3 TEE and 1 MUG, reserved at WH."""
    external_id = uuid4().hex
    order_id = order_id_for("web", external_id)
    parts.app.place_order(
        order_id,
        "web",
        external_id,
        {"name": "Ann", "email": "a@b.de"},
        ADDRESS,
        [
            {"sku": "TEE", "quantity": 3, "unit_price": "24.90"},
            {"sku": "MUG", "quantity": 1, "unit_price": "14.50"},
        ],
        "EUR",
    )
    allocations = [
        {"sku": "TEE", "location_id": "WH", "quantity": 3},
        {"sku": "MUG", "location_id": "WH", "quantity": 1},
    ]
    parts.app.confirm_order(order_id, allocations)
    return order_id


def short_picked(order_id: UUID, shipment_id: UUID) -> ev.ShortPicked:
    """One TEE of three was not in its bin."""
    return ev.ShortPicked(
        shipment_id=shipment_id,
        order_id=order_id,
        location_id="WH",
        pick_list_id=uuid4(),
        lines=[
            {"sku": "TEE", "bin": "A-03-2", "expected": 3, "picked": 2},
            {"sku": "MUG", "bin": "B-01-1", "expected": 1, "picked": 1},
        ],
        short_at=ev.now_utc(),
    )


def shipped(order_id: UUID, shipment_id: UUID) -> ev.Shipped:
    """What was picked left in two packages."""
    return ev.Shipped(
        shipment_id=shipment_id,
        order_id=order_id,
        location_id="WH",
        carrier="rate-table",
        tracking_number="RT0001",
        lines=[{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 1}],
        shipped_at=ev.now_utc(),
        service="standard",
        packages=[
            {"package_id": uuid4(), "sscc": "003456789012345675", "tracking_number": "RT0001"},
            {"package_id": uuid4(), "sscc": "003456789012345682", "tracking_number": "RT0002"},
        ],
    )


def apply(parts: ServiceParts, event: ev.IntegrationEvent) -> None:
    uow = UnitOfWork(parts.app)
    HANDLERS[type(event)](parts.app, event, uow)
    uow.commit()


def check_short_shipped_order(order: dict[str, Any]) -> None:
    """What ops see on an order that shipped short."""
    assert order["status"] == "shipped"
    assert order["short"] == {"TEE": 1}
    exceptions = [t for t in order["timeline"] if t["detail"].get("exception")]
    assert [(t["event"], t["detail"]["exception"]) for t in exceptions] == [
        ("ShortPicked", "short_pick")
    ]
    (line,) = exceptions[0]["detail"]["lines"]
    assert (line["sku"], line["bin"], line["quantity"]) == ("TEE", "A-03-2", 1)
    (shipment,) = order["shipments"]
    assert [p["tracking_number"] for p in shipment["packages"]] == ["RT0001", "RT0002"]
    assert shipment["service"] == "standard"
    (shipped_event,) = [t for t in order["timeline"] if t["event"] == "Shipped"]
    assert [(x["sku"], x["quantity"]) for x in shipped_event["detail"]["lines"]] == [
        ("TEE", 2),
        ("MUG", 1),
    ]


def test_an_order_shipped_short_shows_its_short_units_packages_and_the_exception(
    service: ServiceParts,
) -> None:
    order_id, shipment_id = confirmed_order(service), uuid4()
    short = short_picked(order_id, shipment_id)
    apply(service, short)
    apply(service, shipped(order_id, shipment_id))
    apply(service, short)  # redelivered: harmless
    service.projections[0].catch_up()
    http = TestClient(service.api_factory({}))
    order = http.get(f"/v1/orders/{order_id}").json()
    check_short_shipped_order(order)
    listed = http.get("/v1/orders", params={"status": "shipped"}).json()["data"]
    assert listed[0]["short"] == {"TEE": 1}


def test_the_short_units_survive_a_rebuild_of_the_read_model(service: ServiceParts) -> None:
    order_id, shipment_id = confirmed_order(service), uuid4()
    apply(service, short_picked(order_id, shipment_id))
    apply(service, shipped(order_id, shipment_id))
    projection = service.projections[0]
    projection.catch_up()
    before = projection.view.get_order(order_id)
    projection.view.reset_all(projection.name)
    projection.catch_up()
    assert projection.view.get_order(order_id) == before


async def test_short_pick_and_shipment_from_the_broker_complete_the_order_once(
    tmp_path: Any, new_database: Callable[..., str]
) -> None:
    broker = EmbeddedBroker(free_port(), log_path=tmp_path / "broker.log")
    broker.start()
    await ensure_topics(broker.bootstrap, topics.ALL_TOPICS, 4)
    url = new_database("orders")
    parts = await asyncio.to_thread(
        build, Settings(database_url=url, kafka_bootstrap_servers=broker.bootstrap)
    )
    order_id, shipment_id = await asyncio.to_thread(confirmed_order, parts), uuid4()
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    short, left = short_picked(order_id, shipment_id), shipped(order_id, shipment_id)
    # The short pick comes twice: redelivered, and republished by fulfillment at a new position.
    for position, event in [(1, short), (1, short), (2, left), (3, short)]:
        message = encode(
            event, event_id=f"f-{position}", service="fulfillment_service", position=position
        )
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
    projection = parts.projections[0]
    deadline = time.monotonic() + 30
    try:
        while True:
            await asyncio.to_thread(projection.catch_up)
            order = await asyncio.to_thread(projection.view.get_order, order_id)
            applied = await asyncio.to_thread(applied_up_to, parts)
            if order and order["status"] == "shipped" and applied == 3:
                break
            assert time.monotonic() < deadline, "timed out waiting"
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task
        await producer.stop()

    await asyncio.to_thread(projection.catch_up)
    http = TestClient(parts.api_factory({}))
    check_short_shipped_order(http.get(f"/v1/orders/{order_id}").json())
    await asyncio.to_thread(parts.close)
    broker.stop()


def applied_up_to(parts: ServiceParts) -> int:
    """The highest fulfillment position the consumer applied, over the topic's partitions."""
    names = [tracking_name("fulfillment_service", p) for p in range(4)]
    return max(parts.app.process_recorder.max_tracking_id(name) or 0 for name in names)
