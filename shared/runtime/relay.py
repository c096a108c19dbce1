"""Outbox relay: follows the application's notification log and publishes to Kafka."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from eventsourcing.persistence import Notification

from shared.events.base import IntegrationEvent
from shared.events.codec import encode
from shared.runtime.aio import sleep_or_stop
from shared.runtime.application import ServiceApplication
from shared.runtime.backoff import retry_transient
from shared.runtime.database import connection_pool
from shared.runtime.kafka_admin import topic_end_offsets
from shared.runtime.metrics import PUBLISHED, RELAY_LAG, RELAY_REPUBLISHES

Mapping = Callable[[Any], IntegrationEvent | None]
log = structlog.get_logger()

_CREATE = """
CREATE TABLE IF NOT EXISTS relay_positions (
    topic text PRIMARY KEY,
    position bigint NOT NULL,
    published bigint NOT NULL
)"""


class RelayPositions:
    """How far the relay got, and how many messages it has put on the topic since the log began."""

    def __init__(self, database_url: str, topic: str) -> None:
        self.topic = topic
        self.pool = connection_pool(database_url, max_size=2)
        with self.pool.connection() as conn:
            conn.execute(_CREATE)
            conn.execute(
                "INSERT INTO relay_positions VALUES (%s, 0, 0) ON CONFLICT DO NOTHING", (topic,)
            )

    def read(self) -> tuple[int, int]:
        """(last published notification id, messages published since the log began)."""
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT position, published FROM relay_positions WHERE topic = %s", (self.topic,)
            ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def advance(self, position: int, count: int) -> None:
        """Record a published batch."""
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE relay_positions SET position = %s, published = published + %s "
                "WHERE topic = %s",
                (position, count, self.topic),
            )

    def reset(self) -> None:
        """Start again from the first notification (the broker lost its log)."""
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE relay_positions SET position = 0, published = 0 WHERE topic = %s",
                (self.topic,),
            )


class Relay:
    """Publishes each stored domain event's integration event, in notification order."""

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
        confirm_delay: float = 1.0,
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
        self.confirm_delay = confirm_delay
        self.position: int | None = None  # read from PostgreSQL on first use

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until stopped; idle polls back off to 50 ms."""
        next_check = 0.0
        while not stop.is_set():
            if time.monotonic() >= next_check:
                await retry_transient("relay", self.check_broker_log)
                next_check = time.monotonic() + self.log_check_interval
            published = await retry_transient("relay", self.publish_batch)
            if not published:
                await sleep_or_stop(stop, 0.05)

    async def publish_batch(self) -> int:
        """Publish the next batch of notifications; returns how many were read."""
        if self.position is None:
            self.position, _ = await asyncio.to_thread(self.positions.read)
        notifications = await asyncio.to_thread(
            self.app.recorder.select_notifications, self.position + 1, self.batch_size
        )
        if not notifications:
            RELAY_LAG.set(0)
            return 0
        futures = []
        for notification in notifications:
            message = self._message(notification)
            if message is not None:
                futures.append(
                    await self.producer.send(
                        self.topic, message.value, key=message.key, headers=message.headers
                    )
                )
        await asyncio.gather(*futures)
        await asyncio.to_thread(self.positions.advance, notifications[-1].id, len(futures))
        self.position = notifications[-1].id
        PUBLISHED.labels(self.topic).inc(len(futures))
        await self._report_lag(notifications[-1].id)
        return len(notifications)

    def _message(self, notification: Notification) -> Any:
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
        """Republish from the start if the topic holds fewer messages than were published."""
        _, published = await asyncio.to_thread(self.positions.read)
        if published == 0:
            return
        on_topic = await self._messages_on_topic()
        if on_topic < published:
            # Tansu can briefly report a stale end offset right after a produce: confirm first.
            await asyncio.sleep(self.confirm_delay)
            on_topic = await self._messages_on_topic()
        if on_topic < published:
            log.warning(
                "broker lost its log, republishing from the start",
                topic=self.topic,
                on_topic=on_topic,
                published=published,
            )
            RELAY_REPUBLISHES.labels(self.topic).inc()
            await asyncio.to_thread(self.positions.reset)
            self.position = None

    async def _messages_on_topic(self) -> int:
        return sum((await topic_end_offsets(self.bootstrap, self.topic)).values())

    async def _report_lag(self, position: int) -> None:
        last = await asyncio.to_thread(self.app.recorder.max_notification_id)
        RELAY_LAG.set(max(0, (last or 0) - position))
