"""Outbox relay: follows the application's notification log and publishes to Kafka."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from eventsourcing.persistence import Notification
from psycopg.types.json import Jsonb

from shared.events.base import IntegrationEvent
from shared.events.codec import WireMessage, encode
from shared.runtime.application import ServiceApplication
from shared.runtime.backoff import retry_transient
from shared.runtime.database import connection_pool
from shared.runtime.kafka_admin import topic_end_offsets
from shared.runtime.metrics import PUBLISHED, RELAY_LAG, RELAY_REPUBLISHES
from shared.runtime.wakeup import wait_for_work

Mapping = Callable[[Any], IntegrationEvent | None]
log = structlog.get_logger()

_CREATE = """
CREATE TABLE IF NOT EXISTS relay_positions (
    topic text PRIMARY KEY,
    position bigint NOT NULL,
    acked jsonb NOT NULL
)"""


class RelayPositions:
    """How far the relay got, and the highest offset the broker acknowledged per partition."""

    def __init__(self, database_url: str, topic: str) -> None:
        self.topic = topic
        self.pool = connection_pool(database_url, max_size=2)
        with self.pool.connection() as conn:
            conn.execute(_CREATE)
            conn.execute(
                "INSERT INTO relay_positions VALUES (%s, 0, '{}') ON CONFLICT DO NOTHING", (topic,)
            )

    def read(self) -> tuple[int, dict[int, int]]:
        """(last published notification id, acknowledged offset per partition)."""
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT position, acked FROM relay_positions WHERE topic = %s", (self.topic,)
            ).fetchone()
        assert row is not None
        return int(row[0]), {int(p): int(o) for p, o in row[1].items()}

    def advance(self, position: int, acked: dict[int, int]) -> None:
        """Record a published batch."""
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE relay_positions SET position = %s, acked = %s WHERE topic = %s",
                (position, Jsonb({str(p): o for p, o in acked.items()}), self.topic),
            )

    def reset(self) -> None:
        """Start again from the first notification (the broker lost its log)."""
        self.advance(0, {})


class BrokerLogLost(Exception):
    """The broker acknowledged an offset it had already given out: its log started again."""


class Relay:
    """Publishes each stored domain event's integration event, in notification order.

    Loss of the broker's log is noticed two ways: an acknowledged offset at or below one
    already acknowledged for that partition (offsets only grow in a healthy log), or, while
    idle, a partition we wrote to that is empty again. Either way the relay republishes from
    the first notification and consumers skip what they already applied.
    """

    def __init__(
        self,
        *,
        service: str,
        app: ServiceApplication,
        to_integration: Mapping,
        topic: str,
        producer: AIOKafkaProducer,
        bootstrap: str,
        database_url: str,
        batch_size: int = 500,
        log_check_interval: float = 5.0,
        wakeup: asyncio.Event | None = None,
    ) -> None:
        self.service = service
        self.app = app
        self.to_integration = to_integration
        self.topic = topic
        self.producer = producer
        self.bootstrap = bootstrap
        self.positions = RelayPositions(database_url, topic)
        self.batch_size = batch_size
        self.log_check_interval = log_check_interval
        self.position: int | None = None  # read from PostgreSQL on first use
        self.acked: dict[int, int] = {}
        self.wakeup = wakeup  # set when new events are stored; without it, poll every 50 ms

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until stopped; idle polls back off to 50 ms."""
        next_check = 0.0
        while not stop.is_set():
            if time.monotonic() >= next_check:
                await retry_transient("relay", self.check_broker_log)
                next_check = time.monotonic() + self.log_check_interval
            if self.wakeup is not None:
                self.wakeup.clear()  # before reading, so a notify during the read is not lost
            try:
                published = await retry_transient("relay", self.publish_batch)
            except BrokerLogLost as lost:
                await self._start_over(str(lost))
                continue
            if not published:
                await wait_for_work(self.wakeup, stop, idle=1.0 if self.wakeup else 0.05)

    async def publish_batch(self) -> int:
        """Publish the next batch of notifications; returns how many were read."""
        if self.position is None:
            self.position, self.acked = await asyncio.to_thread(self.positions.read)
        start = (self.position or 0) + 1
        notifications = await asyncio.to_thread(
            self.app.recorder.select_notifications, start, self.batch_size
        )
        if not notifications:
            RELAY_LAG.set(0)
            return 0
        messages = [m for m in map(self._message, notifications) if m is not None]
        acked = self._check_offsets(await self._send(messages))
        await asyncio.to_thread(self.positions.advance, notifications[-1].id, acked)
        self.position, self.acked = notifications[-1].id, acked
        PUBLISHED.labels(self.topic).inc(len(messages))
        if len(notifications) < self.batch_size:
            RELAY_LAG.set(0)  # caught up: no need to ask the database
        else:
            await self._report_lag(self.position)
        return len(notifications)

    async def _send(self, messages: list[WireMessage]) -> list[RecordMetadata]:
        futures = [
            await self.producer.send(self.topic, m.value, key=m.key, headers=m.headers)
            for m in messages
        ]
        return list(await asyncio.gather(*futures))

    def _check_offsets(self, receipts: list[RecordMetadata]) -> dict[int, int]:
        """The new acknowledged offsets; raises BrokerLogLost when an offset went backwards."""
        acked = dict(self.acked)
        first_in_batch: dict[int, int] = {}
        for receipt in receipts:
            first_in_batch.setdefault(receipt.partition, receipt.offset)
            acked[receipt.partition] = max(receipt.offset, acked.get(receipt.partition, -1))
        for partition, offset in first_in_batch.items():
            if offset <= self.acked.get(partition, -1):
                raise BrokerLogLost(
                    f"partition {partition} gave offset {offset}, "
                    f"already past {self.acked[partition]}"
                )
        return acked

    def _message(self, notification: Notification) -> WireMessage | None:
        domain_event = self.app.mapper.to_domain_event(notification)
        integration_event = self.to_integration(domain_event)
        if integration_event is None:
            return None
        return encode(
            integration_event,
            event_id=f"{self.service}-{notification.id}",
            service=self.service,
            position=notification.id,
            correlation_id=getattr(domain_event, "correlation_id", None),
            causation_id=getattr(domain_event, "causation_id", None),
            time=getattr(domain_event, "timestamp", None),
        )

    async def check_broker_log(self) -> None:
        """Republish from the start if a partition we wrote to is empty again."""
        if self.position is None:
            self.position, self.acked = await asyncio.to_thread(self.positions.read)
        if not self.acked:
            return
        ends = await topic_end_offsets(self.bootstrap, self.topic)
        emptied = [p for p in self.acked if ends.get(p, 0) == 0]
        if emptied:
            await self._start_over(f"partitions {emptied} are empty again")

    async def _start_over(self, reason: str) -> None:
        log.warning(
            "broker lost its log, republishing from the start", topic=self.topic, reason=reason
        )
        RELAY_REPUBLISHES.labels(self.topic).inc()
        await asyncio.to_thread(self.positions.reset)
        self.position, self.acked = 0, {}

    async def _report_lag(self, position: int) -> None:
        last = await asyncio.to_thread(self.app.recorder.max_notification_id)
        RELAY_LAG.set(max(0, (last or 0) - position))
