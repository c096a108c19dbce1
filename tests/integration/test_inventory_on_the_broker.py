"""The inventory service run whole on a broker: what it publishes, and redelivered events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.inventory_service.application import Inventory
from services.inventory_service.bootstrap import build
from services.inventory_service.integration import CONSUMES
from services.inventory_service.settings import Settings
from shared import events as ev
from shared.events import topics
from shared.events.base import now_utc
from shared.events.codec import decode, encode
from shared.runtime.consumer import tracking_name
from shared.runtime.embedded import EmbeddedBroker, free_port
from shared.runtime.settings import DEFAULT_TOPIC_PARTITIONS
from tests import factories
from tests.kit import apply, eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[str]:
    """A broker of this test's own (memory-only, starts in milliseconds).

    The session broker keeps every test's events and a fresh consumer group reads from the
    earliest offset: other tests' orders would reach this service, and their positions
    would shadow the ones these tests publish.
    """
    server = EmbeddedBroker(free_port(), log_path=tmp_path / "broker.log")
    server.start()
    yield server.bootstrap
    server.stop()


async def read_topic(
    bootstrap: str,
    topic: str,
    want: int,
    timeout: float = 20.0,
    kind: type[ev.IntegrationEvent] | None = None,
) -> list[Any]:
    """Decoded events of a topic, once it holds at least `want` of them (of `kind`, if given)."""
    deadline = time.monotonic() + timeout
    while True:
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            batches = await consumer.getmany(timeout_ms=500)
        finally:
            await consumer.stop()
        records = [r for records in batches.values() for r in records]
        events = [decode(r.headers, r.key, r.value).event for r in records]
        counted = events if kind is None else [e for e in events if isinstance(e, kind)]
        if len(counted) >= want or time.monotonic() > deadline:
            return events
        await asyncio.sleep(0.2)


async def send_at(
    bootstrap: str, event: ev.IntegrationEvent, source: str, positions: list[int]
) -> None:
    """Put the same event on its topic once per position, as `source`'s relay would."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for n, position in enumerate(positions):
            message = encode(event, event_id=f"{source}-{n}", service=source, position=position)
            await producer.send_and_wait(
                event.topic, message.value, key=message.key, headers=message.headers
            )
    finally:
        await producer.stop()


# -- what it publishes -------------------------------------------------------------------------


def test_put_away_and_move_are_published_as_bin_assigned_keyed_by_sku(
    run_service: Any, own_broker: str
) -> None:
    inventory = run_service(build, Settings, kafka_bootstrap_servers=own_broker)
    app: Inventory = inventory.app
    app.locations.register("berlin", "Berlin", "DE", 10)
    app.stocks.receive("berlin", "TEE", 5, bin_code="A-03-2")
    app.stocks.assign_bin("berlin", "TEE", "B-07-1")

    # BinAssigned twice, the receipt's level and what channels may sell after it.
    events = asyncio.run(read_topic(own_broker, topics.INVENTORY, want=4))

    assigned = [e for e in events if isinstance(e, ev.BinAssigned)]
    assert [(e.bin, e.previous_bin) for e in assigned] == [("A-03-2", None), ("B-07-1", "A-03-2")]
    assert {e.partition_key for e in assigned} == {"TEE"}
    (level,) = [e for e in events if isinstance(e, ev.StockLevelChanged)]
    assert (level.reason, level.on_hand, level.bin) == ("receipt", 5, "A-03-2")


# -- what it consumes --------------------------------------------------------------------------


def short_picked(order_id: UUID, expected: int, picked: int) -> ev.ShortPicked:
    return ev.ShortPicked(
        shipment_id=uuid4(),
        order_id=order_id,
        location_id="berlin",
        pick_list_id=uuid4(),
        lines=[{"sku": "TEE", "bin": "A-03-2", "expected": expected, "picked": picked}],
        short_at=now_utc(),
    )


def applied_up_to(app: Inventory) -> int:
    """The highest fulfillment position the consumer applied, over the topic's partitions."""
    names = [tracking_name("fulfillment_service", p) for p in range(DEFAULT_TOPIC_PARTITIONS)]
    return max(app.process_recorder.max_tracking_id(name) or 0 for name in names)


def test_a_short_pick_delivered_twice_and_republished_proposes_one_discrepancy(
    run_service: Any, own_broker: str
) -> None:
    inventory = run_service(build, Settings, kafka_bootstrap_servers=own_broker)
    app: Inventory = inventory.app
    app.locations.register("berlin", "Berlin", "DE", 10)
    app.locations.register("venlo", "Venlo", "NL", 20)
    app.stocks.receive("berlin", "TEE", 10, bin_code="A-03-2")
    order = factories.order_placed(lines=factories.lines({"TEE": 3}))
    apply(app, CONSUMES, order)  # reserved before the short pick arrives, whatever the topics
    short = short_picked(order.order_id, 3, 1)

    # Delivered twice at the same position, then republished by fulfillment at a new one.
    asyncio.run(send_at(own_broker, short, "fulfillment_service", [1, 1, 2]))
    eventually(lambda: applied_up_to(app) == 2, timeout=30)  # all three were handled

    stock = app.stocks.get("TEE")
    assert (stock.on_hand("berlin"), stock.reserved("berlin"), stock.missing("berlin")) == (
        10,
        1,
        2,
    )
    view = inventory.parts.projections[0].view

    def one_discrepancy_of_two_units() -> bool:
        rows, total = view.list_discrepancies(
            status=None, location_id=None, sku=None, limit=10, offset=0
        )
        assert total == 1 and rows[0]["quantity"] == 2
        return True

    eventually(one_discrepancy_of_two_units)


def test_a_promise_date_is_published_as_backorder_promised_keyed_by_the_order(
    run_service: Any, own_broker: str
) -> None:
    inventory = run_service(build, Settings, kafka_bootstrap_servers=own_broker)
    app: Inventory = inventory.app
    app.locations.register("berlin", "Berlin", "DE", 10)
    order = factories.order_placed(lines=factories.lines({"TEE": 2}))
    apply(app, CONSUMES, order)  # backordered: nothing in stock
    monday = datetime(2026, 12, 14, 9, tzinfo=UTC)
    app.purchase_orders.place("PO-1", "berlin", "Acme", [{"sku": "TEE", "quantity": 5}], monday)

    # Among the others (the failed reservation, what channels may sell, ...): one promise.
    events = asyncio.run(read_topic(own_broker, topics.INVENTORY, 1, kind=ev.BackorderPromised))

    (promised,) = [e for e in events if isinstance(e, ev.BackorderPromised)]
    assert (promised.order_id, promised.promise_date) == (order.order_id, monday)
    assert promised.partition_key == str(order.order_id)
