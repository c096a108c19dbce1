"""Short picks and packages on the order, on real PostgreSQL and a real broker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaProducer
from fastapi.testclient import TestClient

from services.order_service.application import Orders
from services.order_service.bootstrap import build
from services.order_service.integration import CONSUMES
from services.order_service.settings import Settings
from shared import events as ev
from shared.events import topics
from shared.events.codec import encode
from shared.runtime.consumer import tracking_name
from shared.runtime.embedded import EmbeddedBroker, free_port
from shared.runtime.service import ServiceParts
from shared.runtime.settings import DEFAULT_TOPIC_PARTITIONS
from tests import factories
from tests.factories_order_service import place_order, tee_and_mug
from tests.kit import apply, eventually

pytestmark = pytest.mark.integration
FULFILLMENT = "fulfillment_service"


@pytest.fixture
def service(new_database: Callable[..., str]) -> Iterator[ServiceParts]:
    parts = build(Settings(database_url=new_database("orders")))
    yield parts
    parts.close()


@pytest.fixture
def own_broker(tmp_path: Any) -> Iterator[EmbeddedBroker]:
    """A broker of this test's own: the only fulfillment positions on it are the test's."""
    server = EmbeddedBroker(free_port(), log_path=tmp_path / "broker.log")
    server.start()
    yield server
    server.stop()


def confirmed_order(app: Orders) -> UUID:
    """An order of 3 TEE and 1 MUG, reserved at WH."""
    order_id = place_order(app, lines=tee_and_mug(tees=3))
    app.confirm_order(order_id, factories.allocations({"TEE": 3, "MUG": 1}, "WH"))
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
    return factories.shipped(
        order_id,
        {"TEE": 2, "MUG": 1},
        shipment_id=shipment_id,
        location_id="WH",
        carrier="rate-table",
        tracking_number="RT0001",
        service="standard",
        packages=[
            {"package_id": uuid4(), "sscc": "003456789012345675", "tracking_number": "RT0001"},
            {"package_id": uuid4(), "sscc": "003456789012345682", "tracking_number": "RT0002"},
        ],
    )


def publish_at(bootstrap: str, *messages: tuple[int, ev.IntegrationEvent]) -> None:
    """Publish as fulfillment's relay does, at the given positions (a repeat is a redelivery)."""

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            for position, event in messages:
                message = encode(
                    event, event_id=f"f-{position}", service=FULFILLMENT, position=position
                )
                await producer.send_and_wait(
                    topics.FULFILLMENT, message.value, key=message.key, headers=message.headers
                )
        finally:
            await producer.stop()

    asyncio.run(send())


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
    order_id, shipment_id = confirmed_order(service.app), uuid4()
    short = short_picked(order_id, shipment_id)
    apply(service.app, CONSUMES, short)
    apply(service.app, CONSUMES, shipped(order_id, shipment_id))
    apply(service.app, CONSUMES, short)  # redelivered: harmless
    service.projections[0].catch_up()
    http = TestClient(service.api_factory({}))
    order = http.get(f"/v1/orders/{order_id}").json()
    check_short_shipped_order(order)
    listed = http.get("/v1/orders", params={"status": "shipped"}).json()["data"]
    assert listed[0]["short"] == {"TEE": 1}


def test_the_short_units_survive_a_rebuild_of_the_read_model(service: ServiceParts) -> None:
    order_id, shipment_id = confirmed_order(service.app), uuid4()
    apply(service.app, CONSUMES, short_picked(order_id, shipment_id))
    apply(service.app, CONSUMES, shipped(order_id, shipment_id))
    projection = service.projections[0]
    projection.catch_up()
    before = projection.view.get_order(order_id)
    projection.view.reset_all(projection.name)
    projection.catch_up()
    assert projection.view.get_order(order_id) == before


def test_short_pick_and_shipment_from_the_broker_complete_the_order_once(
    own_broker: EmbeddedBroker, run_service: Callable[..., Any]
) -> None:
    orders = run_service(build, Settings, kafka_bootstrap_servers=own_broker.bootstrap)
    order_id, shipment_id = confirmed_order(orders.app), uuid4()
    short, left = short_picked(order_id, shipment_id), shipped(order_id, shipment_id)
    # The short pick comes twice: redelivered, and republished by fulfillment at a new position.
    publish_at(own_broker.bootstrap, (1, short), (1, short), (2, left), (3, short))

    def completed() -> dict[str, Any]:
        order = orders.get_json(f"/v1/orders/{order_id}")
        assert order and order["status"] == "shipped"
        assert applied_up_to(orders.app) == 3
        assert orders.parts.projections[0].lag() == 0
        return order

    eventually(completed, timeout=30)
    check_short_shipped_order(orders.get_json(f"/v1/orders/{order_id}"))


def applied_up_to(app: Orders) -> int:
    """The highest fulfillment position the consumer applied, over the topic's partitions."""
    names = [tracking_name(FULFILLMENT, p) for p in range(DEFAULT_TOPIC_PARTITIONS)]
    return max(app.process_recorder.max_tracking_id(name) or 0 for name in names)
