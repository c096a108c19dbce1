"""Outbox relay: follows the application's notification log and publishes to Kafka."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import RecordMetadata
from eventsourcing.persistence import Notification
from psycopg.types.json import Jsonb

from shared.events.base import IntegrationEvent
from shared.events.codec import WireMessage, encode
from shared.runtime.aio import sleep_or_stop
from shared.runtime.application import ServiceApplication
from shared.runtime.backoff import retry_transient
from shared.runtime.database import connection_pool
from shared.runtime.doorbell import Doorbell
from shared.runtime.kafka_admin import topic_end_offsets
from shared.runtime.leader import Leadership
from shared.runtime.metrics import PUBLISHED, RELAY_LAG, RELAY_REPUBLISHES
from shared.runtime.parked_events import SKIPPED, ParkedEvents, create_table
from shared.runtime.wakeup import wait_for_work

Mapping = Callable[[Any], IntegrationEvent | None]
# How long a published batch's position may go unstored. Storing it is only a restart's
# shortcut: a relay that starts from an older position republishes the same messages with the
# same predecessors, and consumers skip them. A write per batch was a commit per order at low
# rates.
POSITION_PERSIST_SECONDS = 1.0
log = structlog.get_logger()

_CREATE = """
CREATE TABLE IF NOT EXISTS relay_positions (
    topic text PRIMARY KEY,
    position bigint NOT NULL,
    acked jsonb NOT NULL
)"""
# Added with the predecessor chain; NULL on a row written before it (that relay starts over).
_ADD_LAST_SENT = "ALTER TABLE relay_positions ADD COLUMN IF NOT EXISTS last_sent jsonb"


@dataclass(frozen=True)
class RelayState:
    """How far the relay got: last notification published, per partition the highest offset
    the broker acknowledged and the last position sent (the next message's predecessor)."""

    position: int = 0
    acked: dict[int, int] = field(default_factory=dict)
    last_sent: dict[int, int] = field(default_factory=dict)


class RelayPositions:
    """The relay's state in the service's own database; with a fence, only the leader writes it."""

    def __init__(self, database_url: str, topic: str, fence: Leadership | None = None) -> None:
        self.topic = topic
        self.fence = fence
        self.pool = connection_pool(database_url, max_size=2)
        with self.pool.connection() as conn:
            conn.execute(_CREATE)
            conn.execute(_ADD_LAST_SENT)
            conn.execute(
                "INSERT INTO relay_positions VALUES (%s, 0, '{}', '{}') ON CONFLICT DO NOTHING",
                (topic,),
            )

    def close(self) -> None:
        """Close the pool (its connections would outlive the service otherwise)."""
        self.pool.close()

    def read(self) -> RelayState:
        """The stored state; a state from before the predecessor chain starts over."""
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT position, acked, last_sent FROM relay_positions WHERE topic = %s",
                (self.topic,),
            ).fetchone()
        assert row is not None
        position, acked, last_sent = row
        if last_sent is None:
            # Published without predecessors: republish everything so every message on the
            # topic chains (consumers skip what they already applied).
            return RelayState()
        return RelayState(int(position), _ints(acked), _ints(last_sent))

    def advance(self, state: RelayState) -> None:
        """Record a published batch; LeadershipLost (nothing written) if we no longer lead."""
        with self.pool.connection() as conn:
            if self.fence is not None:
                self.fence.verify(conn)
            conn.execute(
                "UPDATE relay_positions SET position = %s, acked = %s, last_sent = %s"
                " WHERE topic = %s",
                (state.position, _jsonb(state.acked), _jsonb(state.last_sent), self.topic),
            )

    def reset(self) -> None:
        """Start again from the first notification (the broker lost its log)."""
        self.advance(RelayState())


def _next_offsets(receipts: list[RecordMetadata]) -> dict[int, int]:
    """Per partition, the offset after the last message the broker acknowledged."""
    next_offsets: dict[int, int] = {}
    for receipt in receipts:
        after = receipt.offset + 1
        next_offsets[receipt.partition] = max(after, next_offsets.get(receipt.partition, 0))
    return next_offsets


def _types_by_partition(messages: list[tuple[int, WireMessage]]) -> dict[int, set[str]]:
    """Per partition, the event types of the batch (a ring wakes only their consumers)."""
    types: dict[int, set[str]] = {}
    untyped: set[int] = set()  # a message without a type: its partition's ring wakes everyone
    for partition, message in messages:
        event_type = next((v for k, v in message.headers if k == "ce_type"), b"").decode()
        types.setdefault(partition, set()).add(event_type)
        if not event_type:
            untyped.add(partition)
    return {partition: named for partition, named in types.items() if partition not in untyped}


def _ints(stored: dict[str, int]) -> dict[int, int]:
    return {int(k): int(v) for k, v in stored.items()}


def _jsonb(values: dict[int, int]) -> Jsonb:
    return Jsonb({str(k): v for k, v in values.items()})


class BrokerLogLost(Exception):
    """The broker acknowledged an offset it had already given out: its log started again."""


class Relay:
    """Publishes each stored domain event's integration event, in notification order.

    The relay chooses each message's partition itself (Kafka's default murmur2 partitioner,
    so other tools agree) and stamps it with the position it last sent on that partition,
    so a consumer can tell a duplicate from a gap. Loss of the broker's log is noticed two
    ways: an acknowledged offset at or below one already acknowledged for that partition
    (offsets only grow in a healthy log), or, while idle, a partition we wrote to that is
    empty again. Either way the relay republishes from the first notification, with the same
    predecessors, and consumers skip what they already applied.

    A stored event it cannot map is parked (see shared/runtime/parking.py) and the relay
    stops at it, publishing what came before; the API and the other workers run on. It does
    not move past: a consumer dedupes on positions, so the event published later, after its
    successors, would be dropped as old, and its aggregate's later events would arrive
    without it. It tries again every `parked_check` seconds and at every start (a fixed
    mapper publishes it and all that waited, in order), or moves past once ops skip it.
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
        parked_check: float = 5.0,
        fence: Leadership | None = None,
        doorbell: Doorbell | None = None,
        position_every: float = POSITION_PERSIST_SECONDS,
    ) -> None:
        self.service = service
        self.position_every = position_every  # how long a published position may go unstored
        self.doorbell = doorbell  # rings the topic's consumers once a batch is on the broker
        self.app = app
        self.to_integration = to_integration
        self.topic = topic
        self.producer = producer
        self.bootstrap = bootstrap
        self.positions = RelayPositions(database_url, topic, fence)
        self.batch_size = batch_size
        self.log_check_interval = log_check_interval
        self.state: RelayState | None = None  # read from PostgreSQL on first use
        self.wakeup = wakeup  # set when new events are stored; without it, poll every 50 ms
        self._partitions: list[int] = []
        self._partitioner = DefaultPartitioner()
        create_table(self.positions.pool.connection)
        self.parking = ParkedEvents(self.positions.pool.connection, "relay", parked_check)
        self.stopped_at: int | None = None  # the parked notification the relay waits at
        self._unstored: RelayState | None = None  # published, its position not yet stored
        self._stored_at = 0.0

    def close(self) -> None:
        """Close the relay's pool, once it no longer runs."""
        self.positions.close()

    @property
    def position(self) -> int | None:
        """The last notification published, once read."""
        return None if self.state is None else self.state.position

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until stopped; idle polls back off to 50 ms."""
        self.state = None  # where the last leader got to, which may not have been us
        self._unstored = None
        self._partitions = []  # read again: a topic the broker lost may be back with another count
        try:
            await self._publish_until(stop)
        finally:
            if self._unstored is not None and stop.is_set():
                await self._store_on_the_way_out()

    async def _publish_until(self, stop: asyncio.Event) -> None:
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
            await retry_transient("relay", self.store_position_if_due)
            if self.stopped_at is not None:
                # New events do not help: only a fix (a restart) or an ops decision does.
                await sleep_or_stop(stop, self.parking.check_every)
            elif not published or (self.wakeup is not None and published < self.batch_size):
                # Woken by notifications, a short batch was everything there was: no read
                # to confirm it (the wakeup is set again if events came meanwhile).
                idle = 1.0 if self.wakeup else 0.05
                if self._unstored is not None:
                    idle = min(idle, self.position_every)
                await wait_for_work(self.wakeup, stop, idle=idle)

    async def _store_on_the_way_out(self) -> None:
        """Store the last published position as the relay stops (a fresh start skips less)."""
        try:
            await self.store_position_if_due(now=True)
        except Exception as error:  # no longer leading, or the database away: only a shortcut
            log.info("relay position not stored on stopping", error=repr(error))

    async def publish_batch(self) -> int:
        """Publish the next batch of notifications; returns how many were handled.

        A failed send raises before anything is recorded, so the retry publishes the whole
        batch again with the same predecessors; consumers skip the copies that did arrive.
        A notification that cannot be mapped is parked, and the batch ends before it.
        """
        state = await self._state()
        await asyncio.to_thread(self.parking.load)
        notifications = await asyncio.to_thread(
            self.app.recorder.select_notifications, state.position + 1, self.batch_size
        )
        if not notifications:
            RELAY_LAG.set(0)
            return 0
        if not self._partitions:
            self._partitions = sorted(await self.producer.partitions_for(self.topic))
        last_sent = dict(state.last_sent)
        messages: list[tuple[int, WireMessage]] = []
        handled: list[Notification] = []
        self.stopped_at = None
        for notification in notifications:
            try:
                message = self._message(notification, last_sent)
            except Exception as error:  # a bad stored event: parked, never a crashed service
                if not await self._skipped(notification, error):
                    break
                message = None
            if message is not None:
                messages.append(message)
            handled.append(notification)
        if not handled:
            await self._report_lag(state.position)
            return 0
        receipts = await self._send(messages)
        acked = self._check_offsets(state, receipts)
        if self.doorbell is not None:
            self.doorbell.ring(self.topic, _next_offsets(receipts), _types_by_partition(messages))
        new_state = RelayState(handled[-1].id, acked, last_sent)
        self.state = self._unstored = new_state
        await self.store_position_if_due()
        PUBLISHED.labels(self.topic).inc(len(messages))
        if self.parking.open:  # parked before, mapped now (a fixed mapper)
            await asyncio.to_thread(self.parking.resolve, [n.id for n in handled], "published")
        if self.stopped_at is None and len(notifications) < self.batch_size:
            RELAY_LAG.set(0)  # caught up: no need to ask the database
        else:
            await self._report_lag(new_state.position)
        return len(handled)

    async def store_position_if_due(self, *, now: bool = False) -> None:
        """Store the last published position, if `position_every` seconds passed (or `now`)."""
        state = self._unstored
        if state is None:
            return
        if not now and time.monotonic() - self._stored_at < self.position_every:
            return
        await asyncio.to_thread(self.positions.advance, state)
        self._stored_at = time.monotonic()
        if self._unstored is state:
            self._unstored = None

    async def _skipped(self, notification: Notification, error: Exception) -> bool:
        """Park a notification that cannot be mapped; True if ops decided to skip it."""
        parked = await asyncio.to_thread(self.parking.park, notification, error)
        if parked.resolution == SKIPPED:
            return True
        self.stopped_at = notification.id
        return False

    async def _state(self) -> RelayState:
        if self.state is None:
            self.state = await asyncio.to_thread(self.positions.read)
        return self.state

    async def _send(self, messages: list[tuple[int, WireMessage]]) -> list[RecordMetadata]:
        futures = [
            await self.producer.send(
                self.topic, m.value, key=m.key, headers=m.headers, partition=partition
            )
            for partition, m in messages
        ]
        return list(await asyncio.gather(*futures))

    def _check_offsets(self, state: RelayState, receipts: list[RecordMetadata]) -> dict[int, int]:
        """The new acknowledged offsets; raises BrokerLogLost when an offset went backwards."""
        acked = dict(state.acked)
        first_in_batch: dict[int, int] = {}
        for receipt in receipts:
            first_in_batch.setdefault(receipt.partition, receipt.offset)
            acked[receipt.partition] = max(receipt.offset, acked.get(receipt.partition, -1))
        for partition, offset in first_in_batch.items():
            if offset <= state.acked.get(partition, -1):
                raise BrokerLogLost(
                    f"partition {partition} gave offset {offset}, "
                    f"already past {state.acked[partition]}"
                )
        return acked

    def _message(
        self, notification: Notification, last_sent: dict[int, int]
    ) -> tuple[int, WireMessage] | None:
        """The partition and message of a notification; `last_sent` moves on with it."""
        domain_event = self.app.mapper.to_domain_event(notification)
        integration_event = self.to_integration(domain_event)
        if integration_event is None:
            return None
        key = integration_event.partition_key.encode()
        partition = self._partitioner(key, self._partitions, self._partitions)
        message = encode(
            integration_event,
            event_id=f"{self.service}-{notification.id}",
            service=self.service,
            position=notification.id,
            correlation_id=getattr(domain_event, "correlation_id", None),
            causation_id=getattr(domain_event, "causation_id", None),
            time=getattr(domain_event, "timestamp", None),
            predecessor=last_sent.get(partition, 0),
            actor=getattr(domain_event, "actor", None),
        )
        last_sent[partition] = notification.id
        return partition, message

    async def check_broker_log(self) -> None:
        """Republish from the start if a partition we wrote to is empty again."""
        state = await self._state()
        if not state.acked:
            return
        ends = await topic_end_offsets(self.bootstrap, self.topic)
        emptied = [p for p in state.acked if ends.get(p, 0) == 0]
        if emptied:
            await self._start_over(f"partitions {emptied} are empty again")

    async def _start_over(self, reason: str) -> None:
        log.warning(
            "broker lost its log, republishing from the start", topic=self.topic, reason=reason
        )
        RELAY_REPUBLISHES.labels(self.topic).inc()
        self._unstored = None
        await asyncio.to_thread(self.positions.reset)
        self.state = RelayState()
        # A client may have had the topic made again before `oms up` did, with the broker's
        # own partition count (Tansu: 4): publish to the partitions it has now.
        self._partitions = []

    async def _report_lag(self, position: int) -> None:
        last = await asyncio.to_thread(self.app.recorder.max_notification_id)
        RELAY_LAG.set(max(0, (last or 0) - position))
