"""The broker's s3 storage (`oms up --broker-storage s3`): what it acknowledged survives kill -9."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.runtime.embedded import (
    OBJECT_STORE_PORTS,
    EmbeddedBroker,
    EmbeddedObjectStore,
    free_port,
    free_port_block,
)
from shared.runtime.kafka_admin import ensure_topics, topic_end_offsets

pytestmark = pytest.mark.integration

TOPIC = "oms.s3test.v1"
GROUP = "s3-test-consumer"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedObjectStore]:
    """A SeaweedFS S3 store of this test's own, data under tmp_path."""
    server = EmbeddedObjectStore(tmp_path / "s3", free_port_block(OBJECT_STORE_PORTS))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def broker_on(store: EmbeddedObjectStore, port: int, tmp_path: Path) -> EmbeddedBroker:
    """A Tansu broker keeping its log in the store (started by the caller)."""
    return EmbeddedBroker(port, log_path=tmp_path / "broker.log", storage=store.storage())


async def produce(bootstrap: str, count: int, start: int = 0) -> dict[int, int]:
    """Send keyed messages with acks=all; returns how many each partition acknowledged."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(TOPIC, f"m{n}".encode(), key=f"order-{n % 17}".encode())
            for n in range(start, start + count)
        ]
        receipts = [await future for future in futures]
    finally:
        await producer.stop()
    acked: dict[int, int] = {}
    for receipt in receipts:
        acked[receipt.partition] = acked.get(receipt.partition, 0) + 1
    return acked


async def read_all(bootstrap: str, expected: int) -> list[bytes]:
    """Every message on the topic from the start (no group)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(TOPIC, p) for p in consumer.partitions_for_topic(TOPIC) or []]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        values: list[bytes] = []
        while len(values) < expected:
            batches = await consumer.getmany(timeout_ms=3000, max_records=1000)
            if not batches:
                break
            values += [record.value for records in batches.values() for record in records]
        return values
    finally:
        await consumer.stop()


async def commit_offset(bootstrap: str, offsets: dict[TopicPartition, int]) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=GROUP)
    await consumer.start()
    try:
        consumer.assign(list(offsets))  # no group join: offsets of assigned partitions only
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def committed(bootstrap: str, partition: TopicPartition) -> int | None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=GROUP)
    await consumer.start()
    try:
        consumer.assign([partition])
        return await consumer.committed(partition)
    finally:
        await consumer.stop()


async def test_acknowledged_messages_and_offsets_survive_kill_9_of_broker_and_store(
    store: EmbeddedObjectStore, tmp_path: Path
) -> None:
    broker = broker_on(store, free_port(), tmp_path)
    broker.start()
    try:
        await ensure_topics(broker.bootstrap, [TOPIC], partitions=4)
        acked = await produce(broker.bootstrap, 600)
        assert sum(acked.values()) == 600
        await commit_offset(broker.bootstrap, {TopicPartition(TOPIC, 0): 7})
    finally:
        broker.stop()  # SIGKILL: Tansu is never asked to flush anything
    store.kill()

    store.start()
    broker.start()
    try:
        values = await read_all(broker.bootstrap, 600)
        assert sorted(values) == sorted(f"m{n}".encode() for n in range(600))
        assert await committed(broker.bootstrap, TopicPartition(TOPIC, 0)) == 7
        # The relay republishes everything when a partition it wrote to reads as empty.
        ends = await topic_end_offsets(broker.bootstrap, TOPIC)
        assert all(ends[p] > 0 for p in acked), ends
        # And the log goes on where it was: new messages get offsets after the old ones.
        await produce(broker.bootstrap, 50, start=600)
        assert len(await read_all(broker.bootstrap, 650)) == 650
    finally:
        broker.stop()


async def test_a_broker_outlives_a_killed_store_and_loses_nothing_once_it_is_back(
    store: EmbeddedObjectStore, tmp_path: Path
) -> None:
    broker = broker_on(store, free_port(), tmp_path)
    broker.start()
    try:
        await ensure_topics(broker.bootstrap, [TOPIC], partitions=2)
        await produce(broker.bootstrap, 200)
        store.kill()
        store.start()  # as the supervisor of `oms up` does; the broker was never restarted
        await produce(broker.bootstrap, 200, start=200)
        values = await read_all(broker.bootstrap, 400)
        assert sorted(values) == sorted(f"m{n}".encode() for n in range(400))
    finally:
        broker.stop()
