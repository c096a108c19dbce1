"""Positions belong to the publisher: a consumer never applies past a message it has not seen.

The broker can lose its log (the embedded one forgets it on restart) or one produce batch can
fail while a later one succeeds; either way a consumer must wait for the republish that fills
the gap instead of applying the later message and then skipping the earlier one as "old".
"""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.partitioner import DefaultPartitioner

from services.order_service.bootstrap import build
from services.order_service.settings import Settings
from shared.events import topics
from shared.events.codec import peek
from tests import factories
from tests.kit import eventually

pytestmark = pytest.mark.integration
GAP_GAUGE = 'oms_consumer_gap{partition="1",source="channel_gateway",topic="oms.channel.v1"}'


def _exists(orders, received) -> bool:
    return orders.get_json(f"/v1/orders/{received.order_id}") is not None


def test_a_message_after_a_gap_waits_for_the_republish_and_nothing_is_skipped(run_service):
    orders = run_service(build, Settings, gap_rewind_seconds=60)
    first, lost, later = (factories.channel_order_received() for _ in range(3))
    orders.publish_at(first, position=1, predecessor=0)
    eventually(lambda: _exists(orders, first))

    # Position 2 never arrived (the broker lost it); 3 names 2 as its predecessor.
    orders.publish_at(later, position=3, predecessor=2)
    time.sleep(2)
    assert not _exists(orders, later), "applied a message whose predecessor it never saw"

    # The relay noticed and republished from the start: 1 (a duplicate), 2, then 3 again.
    for position, event in ((1, first), (2, lost), (3, later)):
        orders.publish_at(event, position=position, predecessor=position - 1)
    eventually(lambda: _exists(orders, lost) and _exists(orders, later))
    timeline = orders.get_json(f"/v1/orders/{first.order_id}")["timeline"]
    assert [entry["event"] for entry in timeline] == ["Placed"]


def test_a_gap_that_does_not_fill_raises_the_alarm_and_readiness_says_so(run_service):
    orders = run_service(build, Settings, gap_rewind_seconds=0.5, gap_alarm_seconds=1.5)
    first, later = factories.channel_order_received(), factories.channel_order_received()
    orders.publish_at(first, position=1, predecessor=0, partition=1)
    eventually(lambda: _exists(orders, first))

    orders.publish_at(later, position=5, predecessor=4, partition=1)

    def alarmed() -> bool:
        answer = orders.http.get("/readyz")
        return answer.status_code == 503 and answer.json()["checks"]["positions"] is False

    eventually(alarmed)
    assert f"{GAP_GAUGE} 1.0" in orders.http.get("/metrics").text
    assert not _exists(orders, later)

    # The missing messages arrive after all: the alarm clears and everything is applied.
    missing = [factories.channel_order_received() for _ in range(3)]
    for position, event in zip((2, 3, 4), missing, strict=True):
        orders.publish_at(event, position=position, predecessor=position - 1, partition=1)
    orders.publish_at(later, position=5, predecessor=4, partition=1)
    eventually(lambda: orders.http.get("/readyz").status_code == 200)
    assert all(_exists(orders, event) for event in [*missing, later])
    assert f"{GAP_GAUGE} 0.0" in orders.http.get("/metrics").text


async def _read_topic(bootstrap: str, topic: str, count: int) -> list:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list = []
    try:
        while len(records) < count:
            batches = await consumer.getmany(timeout_ms=1000)
            for batch in batches.values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


def test_the_relay_partitions_by_key_and_chains_each_partition_with_predecessors(run_service):
    orders = run_service(build, Settings)
    received = [factories.channel_order_received() for _ in range(12)]
    orders.publish(*received)
    bootstrap = orders.parts.settings.kafka_bootstrap_servers

    records = asyncio.run(_read_topic(bootstrap, topics.ORDERS, len(received)))

    every = range(orders.parts.settings.topic_partitions)
    partitions = sorted({r.partition for r in records} | set(every))
    last: dict[int, int] = {}
    for record in records:
        header = peek(record.headers)
        assert record.partition == DefaultPartitioner()(record.key, partitions, partitions)
        assert header.predecessor == last.get(record.partition, 0)
        last[record.partition] = header.position
    assert len(last) > 1, "12 orders should spread over more than one partition"
