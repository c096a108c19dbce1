"""Delivery guarantees of the shared runtime, on real PostgreSQL and a real broker.

The order service is the subject: it consumes oms.channel.v1 and publishes oms.orders.v1.
Each test gets its own broker, because positions and committed offsets are per broker log.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from uuid import UUID

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.order_service.bootstrap import build, service_events
from services.order_service.domain import order_id_for
from services.order_service.integration import CONSUMES
from services.order_service.settings import Settings
from shared.events import ChannelOrderReceived, topics
from shared.events.codec import decode, encode, peek
from shared.runtime.embedded import EmbeddedBroker, free_port
from shared.runtime.kafka_admin import ensure_topics
from shared.runtime.metrics import RELAY_REPUBLISHES
from shared.runtime.relay import Relay
from tests import factories
from tests.kit import apply, eventually

pytestmark = pytest.mark.integration
GATEWAY = "channel_gateway"
TOPIC_PARTITIONS = 6  # as `oms up --partitions 6` makes them


@pytest.fixture
def own_broker(tmp_path) -> Iterator[EmbeddedBroker]:
    """A broker of this test's own (memory-only, starts in milliseconds)."""
    server = EmbeddedBroker(free_port(), log_path=tmp_path / "broker.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def producer(own_broker: EmbeddedBroker) -> AsyncIterator[AIOKafkaProducer]:
    await ensure_topics(own_broker.bootstrap, topics.ALL_TOPICS, TOPIC_PARTITIONS)
    client = AIOKafkaProducer(bootstrap_servers=own_broker.bootstrap)
    await client.start()
    yield client
    await client.stop()


def channel_order(external_id: str) -> ChannelOrderReceived:
    return factories.channel_order_received(
        order_id=order_id_for("web", external_id),
        external_id=external_id,
        lines=factories.lines({"TEE-M": 2}),
    )


async def publish(producer: AIOKafkaProducer, event: ChannelOrderReceived, position: int) -> None:
    message = encode(event, event_id=f"gw-{position}", service=GATEWAY, position=position)
    await producer.send_and_wait(
        topics.CHANNEL, message.value, key=message.key, headers=message.headers
    )


def placed_order_ids(database_url: str) -> list[UUID]:
    """Ids of every Order.Placed event in the order service's event store."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT originator_id FROM orders_events WHERE topic LIKE %s", ("%Order.Placed",)
        ).fetchall()
    return [row[0] for row in rows]


async def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


def test_a_message_delivered_twice_changes_nothing_and_poison_goes_to_the_dlq(
    own_broker, run_service
):
    orders = run_service(
        build, Settings, kafka_bootstrap_servers=own_broker.bootstrap, consumer_batch_size=50
    )
    url = orders.parts.settings.database_url
    first, second = channel_order("A-1"), channel_order("A-2")

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=own_broker.bootstrap)
        await producer.start()
        try:
            await publish(producer, first, 1)
            await publish(producer, first, 1)  # redelivered
            poison = b"{not json"
            await producer.send_and_wait(topics.CHANNEL, poison, key=first.partition_key.encode())
            await publish(producer, first, 2)  # the gateway published the same order again
            await publish(producer, second, 3)
        finally:
            await producer.stop()

    asyncio.run(send())
    eventually(lambda: len(placed_order_ids(url)) >= 2, timeout=30)
    time.sleep(0.5)  # let any double application show itself

    assert sorted(placed_order_ids(url)) == sorted([first.order_id, second.order_id])
    dead_letters = topics.dlq(topics.CHANNEL)
    dead = eventually(lambda: asyncio.run(read_topic(own_broker.bootstrap, dead_letters)))
    assert len(dead) == 1
    assert b"not a binary-mode" in dict(dead[0].headers)["dlq_reason"]


async def read_topic(bootstrap: str, topic: str, timeout_ms: int = 1500) -> list:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=timeout_ms)
        return [record for records in batches.values() for record in records]
    finally:
        await consumer.stop()


def start_order_service(url: str, bootstrap: str, port: int, log_path) -> subprocess.Popen:
    env = {
        **os.environ,
        "OMS_ORDERS_DATABASE_URL": url,
        "OMS_ORDERS_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "OMS_ORDERS_HTTP_PORT": str(port),
        "OMS_ORDERS_CONSUMER_BATCH_SIZE": "50",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.order_service"],
        env=env,
        stdout=open(log_path, "ab"),
        stderr=subprocess.STDOUT,
    )


async def test_a_consumer_killed_mid_stream_resumes_without_loss_or_double_effect(
    own_broker, producer, new_database, tmp_path
):
    url = new_database("orders")
    orders = [channel_order(f"K-{n}") for n in range(1500)]
    for position, order in enumerate(orders, start=1):
        message = encode(order, event_id=f"gw-{position}", service=GATEWAY, position=position)
        await producer.send(topics.CHANNEL, message.value, key=message.key, headers=message.headers)
    await producer.flush()

    port, log_path = free_port(), tmp_path / "orders.log"
    service = start_order_service(url, own_broker.bootstrap, port, log_path)
    await wait_until(lambda: _count_or_zero(url) > 0, timeout=60)
    service.send_signal(signal.SIGKILL)  # no clean shutdown: mid-batch
    service.wait()
    applied_before_kill = _count_or_zero(url)

    service = start_order_service(url, own_broker.bootstrap, port, log_path)
    try:
        await wait_until(lambda: _count_or_zero(url) >= len(orders), timeout=90)
        await asyncio.sleep(1.0)
        placed = placed_order_ids(url)
    finally:
        service.terminate()
        service.wait(timeout=20)

    assert 0 < applied_before_kill < len(orders), "the kill should land mid-stream"
    assert len(placed) == len(orders)
    assert set(placed) == {order.order_id for order in orders}


def _count_or_zero(url: str) -> int:
    try:
        return len(placed_order_ids(url))
    except psycopg.errors.UndefinedTable:
        return 0


async def test_the_relay_republishes_everything_when_the_broker_lost_its_log(
    own_broker, producer, new_database
):
    url = new_database("orders")
    parts = await asyncio.to_thread(
        build, Settings(database_url=url, kafka_bootstrap_servers=own_broker.bootstrap)
    )
    for n in range(20):
        event = channel_order(f"R-{n}")
        await asyncio.to_thread(apply, parts.app, CONSUMES, event)
    relay = orders_relay(parts, producer, own_broker.bootstrap, url, log_check_interval=0.3)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    await wait_until_topic_holds(own_broker.bootstrap, 20)
    republished = RELAY_REPUBLISHES.labels(topics.ORDERS)._value.get()
    await asyncio.sleep(1.0)  # a few log checks on a healthy broker
    assert RELAY_REPUBLISHES.labels(topics.ORDERS)._value.get() == republished

    own_broker.stop()  # memory-only: the log is gone
    own_broker.start()
    # Back with fewer partitions than `--partitions 6` made, as when a client's metadata
    # request had Tansu make the topic (with its own count, 4) before `oms up` made it again.
    await ensure_topics(own_broker.bootstrap, topics.ALL_TOPICS, 4)
    await wait_until_topic_holds(own_broker.bootstrap, 20, timeout=60)
    stop.set()
    await task

    assert RELAY_REPUBLISHES.labels(topics.ORDERS)._value.get() > republished
    records = await read_topic(own_broker.bootstrap, topics.ORDERS)
    order_ids = {decode(r.headers, r.key, r.value).event.order_id for r in records}
    assert len(order_ids) == 20
    parts.close()


def orders_relay(parts, producer, bootstrap: str, url: str, **options: float) -> Relay:
    """The order service's relay, on its own broker and database."""
    return Relay(
        service=parts.name,
        app=parts.app,
        to_integration=service_events().to_integration,
        topic=topics.ORDERS,
        producer=producer,
        bootstrap=bootstrap,
        database_url=url,
        **options,
    )


async def wait_until_topic_holds(bootstrap: str, count: int, timeout: float = 30.0) -> None:
    """Wait until the orders topic holds `count` distinct orders (end offsets count batches on
    Tansu, not records, so the records themselves are read)."""
    deadline = time.monotonic() + timeout
    while True:
        records = await read_topic(bootstrap, topics.ORDERS, timeout_ms=500)
        if len({r.key for r in records}) >= count:
            return
        assert time.monotonic() < deadline, "topic never filled"
        await asyncio.sleep(0.2)


async def test_a_relay_that_dies_before_storing_its_position_republishes_the_same_chain(
    own_broker, producer, new_database
):
    """The relay stores its position only every so often (a write per batch was a commit per
    order): one killed in between starts from the stored position and sends the same messages
    again, with the same positions and predecessors, which consumers skip as copies."""
    url = new_database("orders")
    parts = await asyncio.to_thread(
        build, Settings(database_url=url, kafka_bootstrap_servers=own_broker.bootstrap)
    )

    def relay() -> Relay:
        # Never stored on time: only the first batch's position and a clean stop's.
        return orders_relay(parts, producer, own_broker.bootstrap, url, position_every=600)

    first = relay()
    for n in range(3):
        await asyncio.to_thread(apply, parts.app, CONSUMES, channel_order(f"D-{n}"))
    task = asyncio.create_task(first.run(asyncio.Event()))
    await wait_until_topic_holds(own_broker.bootstrap, 3)
    for n in range(3, 8):
        await asyncio.to_thread(apply, parts.app, CONSUMES, channel_order(f"D-{n}"))
    await wait_until_topic_holds(own_broker.bootstrap, 8)
    task.cancel()  # killed: no clean stop, the last batches' position is not stored
    with contextlib.suppress(asyncio.CancelledError):
        await task
    stored = await asyncio.to_thread(first.positions.read)
    assert stored.position < first.state.position, "every batch's position was stored"
    first.close()

    second = relay()
    stop = asyncio.Event()
    task = asyncio.create_task(second.run(stop))
    await eventually_async(lambda: second.position == first.state.position)
    stop.set()
    await task
    assert (await asyncio.to_thread(second.positions.read)).position == second.state.position
    second.close()

    copies: dict[int, list[int | None]] = {}  # position -> the predecessor of each copy sent
    for record in await read_topic(own_broker.bootstrap, topics.ORDERS):
        header = peek(record.headers)
        copies.setdefault(header.position, []).append(header.predecessor)
    twice = {position for position, sent in copies.items() if len(sent) == 2}
    assert twice == {position for position in copies if position > stored.position}
    assert all(len(set(predecessors)) == 1 for predecessors in copies.values()), copies
    parts.close()


async def eventually_async(condition, timeout: float = 30.0) -> None:
    """Wait, without blocking the event loop, until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.1)


def test_a_projection_batch_read_before_another_commit_landed_is_not_projected_again(
    new_database, monkeypatch
):
    """Two batches that overlap (a worker thread of a lost leadership term still running, as
    the fault run saw, next to the new term's) must not both land: an order's refund was
    added to its total twice. The view's position moves only from where a batch read it."""
    parts = build(Settings(database_url=new_database("orders")))
    worker = parts.projections[0]
    apply(parts.app, CONSUMES, channel_order("P-1"))
    assert worker.process_batch() > 0
    projected = worker.view.max_tracking_id(worker.name)
    apply(parts.app, CONSUMES, channel_order("P-2"))

    # The position as read before the first batch's commit landed.
    monkeypatch.setattr(worker.view, "max_tracking_id", lambda name: 0)
    assert worker.process_batch() == 0, "events already in the view were projected again"
    monkeypatch.undo()

    assert worker.view.max_tracking_id(worker.name) == projected
    assert worker.process_batch() > 0  # then the second order's events, once
    assert worker.view.max_tracking_id(worker.name) == parts.app.recorder.max_notification_id()
    parts.close()
