"""The aggregate cache never makes a decision or an answer stale, with several instances.

Services cache aggregates without fast-forwarding them (the consumer's hot path reads from
memory). A cached aggregate that another writer changed is behind: a unit of work that only
read it must not decide on it, and its commit must not put an old copy back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import cast
from uuid import UUID

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from eventsourcing.persistence import IntegrityError

from services.inventory_service.application import Inventory
from services.inventory_service.domain import Reservation, reservation_id_for
from services.inventory_service.integration import CONSUMES, on_order_placed
from services.inventory_service.settings import Settings as InventorySettings
from services.order_service.application import Orders
from services.order_service.domain import OrderStatus
from services.order_service.settings import Settings as OrderSettings
from shared import events as ev
from shared.events import topics
from shared.events.codec import Envelope
from shared.runtime.application import UnitOfWork, retry_on_conflict
from shared.runtime.consumer import EventConsumer, Inbound
from shared.runtime.wiring import open_application
from tests import factories
from tests.factories_order_service import place_order
from tests.kit import apply

pytestmark = pytest.mark.integration


@pytest.fixture
def inventory_url(new_database: Callable[..., str]) -> str:
    """A database with two locations in Germany, berlin preferred, both holding TEE."""
    url = new_database("inv")
    app = open_application(Inventory, InventorySettings(database_url=url))
    app.locations.register("berlin", "Berlin", "DE", 10)
    app.locations.register("hamburg", "Hamburg", "DE", 20)
    app.stocks.receive("berlin", "TEE", 10)
    app.stocks.receive("hamburg", "TEE", 10)
    app.close()
    return url


@pytest.fixture
def instances(inventory_url: str) -> Iterator[Callable[[], Inventory]]:
    """Factory: Inventory instances on the one database, caching as in production."""
    opened: list[Inventory] = []

    def open_one() -> Inventory:
        settings = InventorySettings(database_url=inventory_url, aggregate_cache_size=1000)
        app = open_application(Inventory, settings)
        opened.append(app)
        return app

    yield open_one
    for app in opened:
        app.close()


def placed() -> ev.OrderPlaced:
    return factories.order_placed(lines=factories.lines({"TEE": 1}))


def consume(app: Inventory, order: ev.OrderPlaced) -> None:
    """Apply an OrderPlaced as the consumer does: one unit, retried whole on a conflict."""
    retry_on_conflict(apply, app, CONSUMES, order)


def held_at(url: str, order_id: UUID) -> list[str]:
    """Where an order's units are held, read by an instance without a cache."""
    app = open_application(Inventory, InventorySettings(database_url=url))
    try:
        reservation = app.repository.get(reservation_id_for(order_id))
        assert isinstance(reservation, Reservation)
        return sorted({allocation["location_id"] for allocation in reservation.held})
    finally:
        app.close()


def test_a_location_closed_on_one_instance_gets_no_new_reservation_from_another(
    inventory_url: str, instances: Callable[[], Inventory]
) -> None:
    consumer, api = instances(), instances()
    first = placed()
    consume(consumer, first)
    assert held_at(inventory_url, first.order_id) == ["berlin"]  # the consumer cached berlin

    api.locations.set_active("berlin", False)  # ops close berlin through the other instance

    later = [placed() for _ in range(3)]
    for order in later:
        consume(consumer, order)
    assert [held_at(inventory_url, order.order_id) for order in later] == [["hamburg"]] * 3


def test_a_location_closed_while_a_batch_was_deciding_gets_no_reservation_from_it(
    inventory_url: str, instances: Callable[[], Inventory]
) -> None:
    app = instances()
    consume(app, placed())  # berlin is cached
    first, second = placed(), placed()
    batch = UnitOfWork(app)
    on_order_placed(app, first, batch)  # the consumer's batch decides on an open berlin
    app.locations.set_active("berlin", False)  # meanwhile an HTTP command in this process
    with suppress(IntegrityError):  # the consumer retries a batch that lost a conflict
        batch.commit()
    consume(app, first)
    consume(app, second)
    assert held_at(inventory_url, first.order_id) == ["hamburg"]
    assert held_at(inventory_url, second.order_id) == ["hamburg"]


def test_an_order_changed_on_one_instance_reads_as_changed_on_another(
    new_database: Callable[..., str],
) -> None:
    settings = OrderSettings(database_url=new_database("ord"), aggregate_cache_size=1000)
    one, two = open_application(Orders, settings), open_application(Orders, settings)
    try:
        order_id = place_order(one)
        assert two.get_order(order_id).status == OrderStatus.PLACED  # now cached in two
        one.cancel_order(order_id, "customer asked")
        assert two.get_order(order_id).status == OrderStatus.CANCELLED
    finally:
        one.close()
        two.close()


def test_a_shipment_refused_on_a_stale_stock_copy_is_decided_again_and_not_parked(
    inventory_url: str, instances: Callable[[], Inventory]
) -> None:
    two, one = instances(), instances()
    two.stocks.receive("berlin", "TEE", 1)  # two caches TEE's stock: 11 on hand, none reserved
    order = placed()
    consume(one, order)  # one reserves for the order: two's copy has not heard of it
    shipped = factories.shipped(order.order_id, {"TEE": 1}, location_id="berlin")
    envelope = Envelope(shipped, "e-1", "fulfillment_service", 1, None, None)
    record = ConsumerRecord(topics.FULFILLMENT, 0, 0, 0, 0, None, b"", None, 0, 0, [])
    consumer = EventConsumer(
        service="inventory_service",
        app=two,
        handlers=CONSUMES,
        topics=[topics.FULFILLMENT],
        bootstrap="127.0.0.1:1",  # never reached: nothing is parked or copied
        producer=cast(AIOKafkaProducer, None),
    )

    consumer._apply_one_by_one(  # what the consumer falls back to when a batch fails
        "fulfillment_service#0", [Inbound(record, 1, "fulfillment_service", envelope)]
    )

    fresh = open_application(Inventory, InventorySettings(database_url=inventory_url))
    try:
        stock = fresh.stocks.get("TEE")
        assert stock.reserved("berlin") == 0
        assert stock.on_hand("berlin") == 10  # the shipped unit left: applied, not parked
    finally:
        fresh.close()
