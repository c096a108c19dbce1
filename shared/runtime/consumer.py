"""Inbound Kafka consumer: batches applied exactly once, tracked by the publisher's position."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from eventsourcing.persistence import IntegrityError, Tracking

from shared.events import topics
from shared.events.base import IntegrationEvent
from shared.events.codec import DecodeError, Envelope, decode, peek
from shared.events.models import EVENTS_BY_TYPE
from shared.runtime.application import (
    MAX_CONFLICT_RETRIES,
    ServiceApplication,
    UnitOfWork,
    conflict_pause,
)
from shared.runtime.backoff import TRANSIENT_ERRORS, retry_transient
from shared.runtime.metrics import CONSUMED, DEAD_LETTERS, HOP_LATENCY
from shared.runtime.tracing import traced

Handler = Callable[[Any, Any, UnitOfWork], None]
# Errors that are retried (a conflict re-reads, a transient failure backs off), never parked.
CONFLICT_OR_TRANSIENT: tuple[type[BaseException], ...] = (IntegrityError, *TRANSIENT_ERRORS)
log = structlog.get_logger()


class EventConsumer:
    """Applies integration events to the application; effects and tracking commit together."""

    def __init__(
        self,
        *,
        service: str,
        app: ServiceApplication,
        handlers: Mapping[type[IntegrationEvent], Handler],
        topics: Sequence[str],
        bootstrap: str,
        producer: AIOKafkaProducer,
        batch_size: int = 200,
        group_id: str | None = None,
    ) -> None:
        self.service = service
        self.group_id = group_id or service
        self.app = app
        self.handlers = handlers
        self.topics = list(topics)
        self.bootstrap = bootstrap
        self.producer = producer
        self.batch_size = batch_size
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until stopped; Kafka offsets are committed after each batch as a hint only."""
        self._loop = asyncio.get_running_loop()
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.batch_size,
            # Measured on Tansu: a group join takes ~5 s at the default heartbeat, ~3 s at 500 ms.
            heartbeat_interval_ms=500,
        )
        await retry_transient("consumer", consumer.start)
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=self.batch_size)
                for partition, records in batches.items():
                    await retry_transient(
                        "consumer", partial(self.handle_batch, partition, records)
                    )
                if batches:
                    offsets = {tp: records[-1].offset + 1 for tp, records in batches.items()}
                    await self._commit_offsets(consumer, offsets)
        finally:
            await consumer.stop()

    async def handle_batch(self, partition: TopicPartition, records: list[ConsumerRecord]) -> None:
        """Read a partition's batch, dead-letter the undecodable, apply the rest."""
        batch: list[Inbound] = []
        for record in records:
            try:
                batch.append(self._read(partition.topic, record))
            except DecodeError as error:
                await self.dead_letter(record, str(error))
        if batch:
            await asyncio.to_thread(self._apply_partition, partition, batch)

    def _read(self, topic: str, record: ConsumerRecord) -> Inbound:
        """Decode fully only the events this consumer handles; the rest are only tracked."""
        header = peek(record.headers)
        expected = topics.PUBLISHER.get(topic)
        if expected is not None and header.source_service != expected:
            raise DecodeError(f"{topic} is published by {expected}, not {header.source}")
        envelope = None
        if EVENTS_BY_TYPE.get(header.event_type) in self.handlers:
            envelope = decode(record.headers, record.key, record.value)
        return Inbound(record, header.position, header.source_service, envelope)

    def _apply_partition(self, partition: TopicPartition, batch: list[Inbound]) -> None:
        """Skip what was applied before, then apply the rest in one transaction."""
        name = tracking_name(batch[0].source_service, partition.partition)
        for attempt in range(MAX_CONFLICT_RETRIES):
            fresh = self._unapplied(name, batch)
            if not fresh:
                return
            try:
                self._apply_together(name, fresh)
                return
            except IntegrityError:
                # A concurrent writer won: pause (the one conflict policy), then re-read
                # positions and aggregates.
                time.sleep(conflict_pause(attempt))
                continue
            except TRANSIENT_ERRORS:
                raise
            except Exception:
                # One poisoned message must not block the others: isolate it.
                self._apply_one_by_one(name, fresh)
                return
        raise IntegrityError(f"gave up after {MAX_CONFLICT_RETRIES} conflicts on {name}")

    def _unapplied(self, name: str, batch: list[Inbound]) -> list[Inbound]:
        """The records above the stored position, each position once, in order."""
        applied = self.app.process_recorder.max_tracking_id(name) or 0
        fresh = []
        for inbound in batch:
            if inbound.position > applied:
                fresh.append(inbound)
                applied = inbound.position
        return fresh

    def _apply_together(self, name: str, batch: list[Inbound]) -> None:
        uow = UnitOfWork(self.app, Tracking(name, batch[-1].position))
        try:
            for inbound in batch:
                self._apply_one(inbound.envelope, uow)
        except BaseException:
            uow.evict()  # cached aggregates may hold uncommitted changes
            raise
        uow.commit()
        self._count(batch, "applied")

    def _apply_one_by_one(self, name: str, batch: list[Inbound]) -> None:
        for inbound in batch:
            for attempt in range(MAX_CONFLICT_RETRIES):
                if not self._unapplied(name, [inbound]):
                    break
                try:
                    self._apply_alone(name, inbound)
                    break
                except IntegrityError:
                    time.sleep(conflict_pause(attempt))
                    continue

    def _apply_alone(self, name: str, inbound: Inbound) -> None:
        uow = UnitOfWork(self.app, Tracking(name, inbound.position))
        try:
            self._apply_one(inbound.envelope, uow)
        except CONFLICT_OR_TRANSIENT:
            uow.evict()
            raise
        except Exception as error:
            uow.evict()
            log.exception("message failed, dead-lettered", position=inbound.position)
            self._dead_letter_from_thread(inbound.record, f"{type(error).__name__}: {error}")
            uow = UnitOfWork(self.app, Tracking(name, inbound.position))  # track only
        uow.commit()
        self._count([inbound], "applied")

    def _apply_one(self, envelope: Envelope | None, uow: UnitOfWork) -> None:
        handler = self.handlers.get(type(envelope.event)) if envelope else None
        if envelope is None or handler is None:
            return
        # Logs of this message's work carry its correlation id and its order (or SKU).
        with (
            traced(envelope.correlation_id, envelope.id),
            structlog.contextvars.bound_contextvars(
                **{envelope.event.key_field: envelope.event.partition_key}
            ),
        ):
            handler(self.app, envelope.event, uow)
            uow.stamp_pending()

    def _count(self, batch: list[Inbound], outcome: str) -> None:
        now = datetime.now(UTC)
        for inbound in batch:
            envelope = inbound.envelope
            if envelope is None:
                continue  # not an event this service handles
            event_type = envelope.event.event_type()
            CONSUMED.labels(inbound.record.topic, event_type, outcome).inc()
            if envelope.time is not None:
                HOP_LATENCY.labels(event_type).observe((now - envelope.time).total_seconds())

    def _dead_letter_from_thread(self, record: ConsumerRecord, reason: str) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(self.dead_letter(record, reason), self._loop).result()

    async def dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        """Park a message on <topic>.dlq with the reason; the partition keeps flowing."""
        headers = [
            *(record.headers or []),
            ("dlq_reason", reason[:4000].encode()),
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
            ("dlq_consumer", self.service.encode()),
        ]
        await self.producer.send_and_wait(
            topics.dlq(record.topic), record.value, key=record.key, headers=headers
        )
        DEAD_LETTERS.labels(record.topic).inc()
        log.error(
            "dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
        )

    async def _commit_offsets(
        self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]
    ) -> None:
        try:
            await consumer.commit(offsets)
        except KafkaError as error:  # only a hint: positions in PostgreSQL decide
            log.warning("offset commit failed", error=str(error))


@dataclass(frozen=True)
class Inbound:
    """A record read from a partition: its position, and its envelope if this service handles it."""

    record: ConsumerRecord
    position: int
    source_service: str
    envelope: Envelope | None


def tracking_name(source_service: str, partition: int) -> str:
    """The tracking row of one publisher's partition."""
    return f"{source_service}#{partition}"
