"""One bad stored event is parked, not a crash loop: the API and the other workers run on.

The order service is the subject. A stored event its relay cannot map, or its projection
cannot apply, is parked in its database with the reason, counted, and /readyz says so
until ops decide. The relay waits at the event (publishing it later, after its successors,
would have consumers drop it as old); the projection moves past it (a view is rebuilt after
the fix, which closes the parked row).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from eventsourcing.persistence import StoredEvent

from services.order_service.bootstrap import build
from services.order_service.integration import CONSUMES
from services.order_service.settings import Settings
from shared.events import topics
from shared.events.codec import peek
from shared.runtime.kafka_admin import ensure_topics
from shared.runtime.parked_events import ParkedEvents
from shared.runtime.registry import Internal
from shared.runtime.relay import Relay
from shared.runtime.service import ServiceParts
from tests import factories
from tests.kit import RunningService, apply, eventually

pytestmark = pytest.mark.integration
PROJECTION = "projection:order_summary"


def mapper_failing_for(order_id: UUID) -> Callable[[Settings], ServiceParts]:
    """The order service, whose relay's mapper raises on the events of one order."""

    def build_it(settings: Settings) -> ServiceParts:
        parts = build(settings)

        def failing(mapper: Any) -> Any:
            if isinstance(mapper, Internal):
                return mapper

            def to_integration(domain_event: Any) -> Any:
                if domain_event.originator_id == order_id:
                    raise ValueError("ship-to country 'XX' is not ISO 3166")
                return mapper(domain_event)

            return to_integration

        publishes = {kind: failing(m) for kind, m in parts.events.publishes.items()}
        parts.events = dataclasses.replace(parts.events, publishes=publishes)
        return parts

    return build_it


def projection_failing_for(order_id: UUID) -> Callable[[Settings], ServiceParts]:
    """The order service, whose projection raises on the events of one order."""

    def build_it(settings: Settings) -> ServiceParts:
        parts = build(settings)
        worker = parts.projections[0]
        project = worker.project

        def failing(curs: Any, domain_event: Any) -> None:
            if domain_event.originator_id == order_id:
                raise KeyError("line total")
            project(curs, domain_event)

        worker.project = failing
        return parts

    return build_it


def receive_in_order(orders: RunningService, *received: Any) -> None:
    """Publish channel orders one at a time, so they are stored in this order."""
    for event in received:
        orders.publish(event)
        eventually(lambda event=event: event.order_id in orders.app.repository)


def parked_rows(orders: RunningService) -> list[dict[str, Any]]:
    with psycopg.connect(orders.parts.settings.database_url) as conn:
        rows = conn.execute(
            "SELECT worker, notification_id, event_topic, originator_id, reason, resolution"
            " FROM parked_events ORDER BY worker, notification_id"
        ).fetchall()
    keys = ("worker", "notification_id", "event_topic", "originator_id", "reason", "resolution")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def readiness(orders: RunningService) -> tuple[int, dict[str, bool]]:
    answer = orders.http.get("/readyz")
    return answer.status_code, answer.json()["checks"]


def published_order_ids(orders: RunningService) -> set[str]:
    """The order ids of every message on oms.orders.v1."""

    async def read() -> set[str]:
        consumer = AIOKafkaConsumer(
            topics.ORDERS,
            bootstrap_servers=orders.parts.settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            batches = await consumer.getmany(timeout_ms=1500)
        finally:
            await consumer.stop()
        return {r.key.decode() for records in batches.values() for r in records}

    return asyncio.run(read())


def metric(orders: RunningService, name: str, worker: str) -> float:
    for line in orders.http.get("/metrics").text.splitlines():
        if line.startswith(f'{name}{{worker="{worker}"}}'):
            return float(line.split()[-1])
    return 0.0


def test_an_event_the_relay_cannot_map_is_parked_and_the_relay_waits_while_the_api_serves(
    run_service,
) -> None:
    first, bad, later = (factories.channel_order_received() for _ in range(3))
    orders = run_service(mapper_failing_for(bad.order_id), Settings, parked_check_seconds=0.3)
    receive_in_order(orders, first, bad, later)

    # Readiness names the stuck worker, and the API serves on: the consumer and the
    # projection run, every order is there.
    _, checks = eventually(lambda: (s := readiness(orders))[0] == 503 and s)
    assert checks["parked:relay"] is False and checks[f"parked:{PROJECTION}"] is True
    for event in (first, bad, later):
        eventually(lambda event=event: orders.get_json(f"/v1/orders/{event.order_id}"))

    # The event is parked with its reason, counted, and the alarm gauge is up.
    [row] = parked_rows(orders)
    assert row["worker"] == "relay" and row["resolution"] is None
    assert row["originator_id"] == str(bad.order_id)
    assert row["reason"] == "ValueError: ship-to country 'XX' is not ISO 3166"
    assert row["event_topic"].endswith("Order.Placed")
    assert metric(orders, "oms_stored_events_parked_total", "relay") == 1.0
    assert metric(orders, "oms_stored_events_parked_open", "relay") == 1.0

    # The relay published what came before and waits at the parked event.
    eventually(lambda: str(first.order_id) in published_order_ids(orders))
    assert published_order_ids(orders) == {str(first.order_id)}

    # Ops decide the event is never published: the relay moves past it, readiness clears.
    skipped = ParkedEvents(lambda: psycopg.connect(orders.parts.settings.database_url), "relay")
    assert skipped.skip(row["notification_id"])
    eventually(lambda: str(later.order_id) in published_order_ids(orders))
    assert str(bad.order_id) not in published_order_ids(orders)
    eventually(lambda: readiness(orders)[0] == 200)
    assert parked_rows(orders)[0]["resolution"] == "skipped"


def test_an_event_a_projection_cannot_apply_is_parked_and_the_view_goes_on_without_it(
    run_service,
) -> None:
    first, bad, later = (factories.channel_order_received() for _ in range(3))
    orders = run_service(projection_failing_for(bad.order_id), Settings, parked_check_seconds=0.3)
    receive_in_order(orders, first, bad, later)

    _, checks = eventually(lambda: (s := readiness(orders))[0] == 503 and s)
    assert checks[f"parked:{PROJECTION}"] is False and checks["parked:relay"] is True
    # Later events still reach the view; the API serves them; the relay publishes them all.
    eventually(lambda: orders.get_json(f"/v1/orders/{later.order_id}"))
    assert orders.get_json(f"/v1/orders/{first.order_id}")
    assert orders.http.get(f"/v1/orders/{bad.order_id}").status_code == 404
    eventually(lambda: len(published_order_ids(orders)) == 3)

    [row] = parked_rows(orders)
    assert row["worker"] == PROJECTION and row["resolution"] is None
    assert row["originator_id"] == str(bad.order_id)
    assert row["reason"] == "KeyError: 'line total'"
    assert metric(orders, "oms_stored_events_parked_total", PROJECTION) == 1.0

    # The fix is deployed and the view rebuilt: the event is in its place, the row closed.
    worker = orders.parts.projections[0]
    worker.project = build(orders.parts.settings).projections[0].project
    views: Any = worker.view
    views.reset_all(worker.name)
    eventually(lambda: orders.get_json(f"/v1/orders/{bad.order_id}"))
    eventually(lambda: readiness(orders)[0] == 200)
    assert parked_rows(orders)[0]["resolution"] == "projected"


def test_a_stored_event_no_code_knows_parks_in_the_relay_and_the_projection_alike(
    run_service,
) -> None:
    orders = run_service(build, Settings, parked_check_seconds=0.3)
    first, later = factories.channel_order_received(), factories.channel_order_received()
    receive_in_order(orders, first)
    # An event recorded by a release that was rolled back: its class exists no more.
    orders.app.recorder.insert_events(
        [StoredEvent(uuid4(), 1, "services.order_service.domain.order:Order.Renamed", b"{}")]
    )
    receive_in_order(orders, later)

    def both_alarmed() -> bool:
        status, checks = readiness(orders)
        return status == 503 and not checks[f"parked:{PROJECTION}"] and not checks["parked:relay"]

    eventually(both_alarmed)
    eventually(lambda: orders.get_json(f"/v1/orders/{later.order_id}"))
    rows = parked_rows(orders)
    assert [r["worker"] for r in rows] == [PROJECTION, "relay"]
    assert all(r["reason"].startswith("TopicError") for r in rows)
    assert published_order_ids(orders) == {str(first.order_id)}


async def test_a_fixed_mapper_publishes_the_parked_event_and_those_that_waited_in_order(
    new_database: Callable[..., str], test_broker: str
) -> None:
    first, bad, later = (factories.channel_order_received() for _ in range(3))
    settings = Settings(database_url=new_database("orders"), kafka_bootstrap_servers=test_broker)
    broken = await asyncio.to_thread(mapper_failing_for(bad.order_id), settings)
    for event in (first, bad, later):
        await asyncio.to_thread(apply, broken.app, CONSUMES, event)
    await ensure_topics(test_broker, topics.ALL_TOPICS, 4)
    producer = AIOKafkaProducer(bootstrap_servers=test_broker)
    await producer.start()

    def relay(parts: ServiceParts) -> Relay:
        return Relay(
            service=parts.name,
            app=parts.app,
            to_integration=parts.events.to_integration,
            topic=topics.ORDERS,
            producer=producer,
            bootstrap=test_broker,
            database_url=settings.database_url,
        )

    try:
        stuck = relay(broken)
        await stuck.publish_batch()
        assert await stuck.publish_batch() == 0  # waits at the parked event
        assert stuck.stopped_at is not None and stuck.parking.open == {stuck.stopped_at}

        # The fix is deployed: the service restarts with a mapper that maps the event.
        fixed = await asyncio.to_thread(build, settings)
        await relay(fixed).publish_batch()
        records = await asyncio.to_thread(_records_of_orders_topic, test_broker)
    finally:
        await producer.stop()
        broken.close()
    assert [r.key.decode() for r in records] == [str(e.order_id) for e in (first, bad, later)]
    # Each message names the one before it on its partition: consumers apply all, in order.
    last: dict[int, int] = {}
    for record in records:
        header = peek(record.headers)
        assert header.predecessor == last.get(record.partition, 0)
        last[record.partition] = header.position
    [row] = await asyncio.to_thread(
        ParkedEvents(lambda: psycopg.connect(settings.database_url), "relay").list
    )
    assert row.resolution == "published"
    fixed.close()


def _records_of_orders_topic(bootstrap: str) -> list[Any]:
    """Every record on oms.orders.v1, in the order the relay published them."""

    async def read() -> list[Any]:
        consumer = AIOKafkaConsumer(
            topics.ORDERS,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            batches = await consumer.getmany(timeout_ms=1500)
        finally:
            await consumer.stop()
        records = [r for rs in batches.values() for r in rs]
        return sorted(records, key=lambda r: peek(r.headers).position)

    return asyncio.run(read())
