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
    StaleReadError,
    UnitOfWork,
    conflict_pause,
)
from shared.runtime.backoff import TRANSIENT_ERRORS, is_transient, retry_transient
from shared.runtime.doorbell import Doorbell
from shared.runtime.metrics import CONSUMED, CONSUMER_GAPS, DEAD_LETTERS, HOP_LATENCY
from shared.runtime.parked_messages import ParkedStore, Parking
from shared.runtime.tracing import traced

Handler = Callable[[Any, Any, UnitOfWork], None]
# Errors that are retried (a conflict re-reads, a transient failure backs off), never parked.
# How often a consumer dozing until its doorbell rings looks whether it is being stopped; how
# long it waits for a position or for the broker's ends before it just fetches.
STOP_CHECK_SECONDS = 0.2
POSITION_WAIT = 1.0
PASS_PERSIST_SECONDS = 5.0  # how long a position read past in memory may go unstored
# Kafka offsets are only a hint for a restart (positions in PostgreSQL decide), so they are
# committed at most this often: a commit per batch was a broker round trip per message at low
# rates.
OFFSET_COMMIT_SECONDS = 1.0
END_OFFSETS_WAIT = 5.0
AWAIT_READ_SECONDS = 1.0  # how long a resumed partition is fetched for its news before dozing
CONFLICT_OR_TRANSIENT: tuple[type[BaseException], ...] = (IntegrityError, *TRANSIENT_ERRORS)
log = structlog.get_logger()


@dataclass(frozen=True)
class FetchPacing:
    """How long the broker may hold a fetch: briefly while events flow, longer once quiet.

    Tansu answers a fetch only when its wait is over (it polls its log rather than waking the
    fetch on a produce), so the wait is each hop's latency floor. A short wait on a quiet
    topic costs the broker and the consumer CPU for nothing, hence the longer idle wait.
    Apache Kafka answers as soon as data arrives, so there both waits only bound idle polls.
    With a doorbell the consumer fetches only when rung (`rung_ms`), or every `idle_ms`.
    """

    busy_ms: int = 10
    idle_ms: int = 200
    rung_ms: int = 1
    quiet_after: float = 2.0
    fallback_seconds: float = 1.0  # with a doorbell: a lost ring costs at most this

    def wait_ms(self, seconds_since_last_event: float) -> int:
        """The fetch wait for a consumer whose last event came this long ago."""
        return self.busy_ms if seconds_since_last_event < self.quiet_after else self.idle_ms


def _read_everything(
    consumer: AIOKafkaConsumer, batches: Mapping[TopicPartition, list[ConsumerRecord]], limit: int
) -> bool:
    """True when the last fetches left nothing unread (as far as their high watermarks tell)."""
    if sum(len(records) for records in batches.values()) >= limit:
        return False
    for partition, records in batches.items():
        highwater = consumer.highwater(partition)
        if highwater is not None and records[-1].offset + 1 < highwater:
            return False
    return True


async def _resume_unread(
    consumer: AIOKafkaConsumer, news: Mapping[tuple[str, int], int], *, ends: bool = False
) -> dict[TopicPartition, int]:
    """Resume the paused partitions whose news lies past what was read; returns them, each
    with the offset its news reaches.

    With the broker's `ends`, a partition whose end lies behind its position (a log that was
    lost and grew again) is resumed too: only a fetch lets the consumer find out and reset.
    A ring behind the position is only late news of what was read."""
    paused = consumer.paused()
    unread = {}
    for (topic, number), next_offset in news.items():
        partition = TopicPartition(topic, number)
        if partition not in paused:
            continue
        position = await asyncio.wait_for(consumer.position(partition), POSITION_WAIT)
        if position < next_offset or (ends and position != next_offset):
            unread[partition] = next_offset
    consumer.resume(*unread)
    return unread


def set_fetch_wait(consumer: AIOKafkaConsumer, wait_ms: int) -> None:
    """Set the wait of the consumer's next fetches (aiokafka fixes it at construction)."""
    consumer._fetcher._fetch_max_wait_ms = wait_ms


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
        gap_rewind_after: float = 5.0,
        gap_alarm_after: float = 30.0,
        parked: ParkedStore | None = None,
        pacing: FetchPacing | None = None,
        doorbell: Doorbell | None = None,
    ) -> None:
        self.service = service
        self.pacing = pacing or FetchPacing()
        self.doorbell = doorbell
        self.parked = parked or ParkedStore.of(app)
        self.gap_rewind_after = gap_rewind_after
        self.gap_alarm_after = gap_alarm_after
        self.gaps: dict[TopicPartition, Gap] = {}
        self.group_id = group_id or service
        self.app = app
        self.handlers = handlers
        self.topics = list(topics)
        self.bootstrap = bootstrap
        self.producer = producer
        self.batch_size = batch_size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_event = 0.0  # when the last batch came (fetch pacing without a doorbell)
        self._wait_ms = self.pacing.busy_ms
        # Read past in memory: messages of no event this service handles (every service reads
        # the gateway's topic for the access grants, and every order the gateway takes in with
        # them). Their position is written with the next message applied, or every
        # PASS_PERSIST_SECONDS; until then the Kafka offset stays behind them, so a restart
        # reads them again and passes them again.
        self._passed: dict[str, int] = {}
        self._passed_persisted: dict[str, float] = {}
        self._offset_held: set[TopicPartition] = set()
        self._uncommitted: dict[TopicPartition, int] = {}
        self._committed_at = 0.0
        self._later_due = 0.0  # when news of events not handled is read past, with a doorbell
        # Partitions resumed for news, until read that far: (offset, until when awaited).
        self._awaited: dict[TopicPartition, tuple[int, float]] = {}

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
            fetch_max_wait_ms=self.pacing.rung_ms if self.doorbell else self.pacing.busy_ms,
        )
        await retry_transient("consumer", consumer.start)
        self._last_event, self._wait_ms = time.monotonic(), self.pacing.busy_ms
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=self.batch_size)
                # Paused before the fetcher runs again: no fetch until a ring says there is news.
                self._note_read(batches)
                doze = (
                    self.doorbell is not None
                    and bool(consumer.assignment())
                    and _read_everything(consumer, batches, self.batch_size)
                    and not self._awaited
                )
                if doze:
                    consumer.pause(*consumer.assignment())
                elif self.doorbell is None:
                    self._pace(consumer, bool(batches))
                offsets = {}
                for partition, records in batches.items():
                    waiting = await retry_transient(
                        "consumer",
                        partial(self.handle_batch, partition, records),
                        errors=CONFLICT_OR_TRANSIENT,  # never skip: a conflict storm waits too
                    )
                    self._note_gap(partition, waiting)
                    if partition in self._offset_held:  # passed in memory only: read again
                        self._offset_held.discard(partition)
                        continue
                    # Offsets are a hint for a restart: never past a message still waiting.
                    offsets[partition] = min(
                        [records[-1].offset + 1, *(w.record.offset for w in waiting)]
                    )
                await self._watch_gaps(consumer)
                self._uncommitted.update(offsets)
                await self._store_passed_if_due()
                await self._commit_offsets_if_due(consumer)
                if doze and self.doorbell is not None:
                    await self._doze(consumer, self.doorbell, stop)
        finally:
            await self._commit_offsets_if_due(consumer, force=True)
            await consumer.stop()
            for partition in list(self.gaps):
                self._close_gap(partition)

    def _pace(self, consumer: AIOKafkaConsumer, got_events: bool) -> None:
        """Without a doorbell: the busy fetch wait while events flow, the idle one after."""
        now = time.monotonic()
        if got_events:
            self._last_event = now
        paced = self.pacing.wait_ms(now - self._last_event)
        if paced != self._wait_ms:
            set_fetch_wait(consumer, paced)
            self._wait_ms = paced

    async def _doze(
        self, consumer: AIOKafkaConsumer, doorbell: Doorbell, stop: asyncio.Event
    ) -> None:
        """Stay paused until a ring brings news for an assigned partition not read that far,
        then resume it. After the fallback interval ask the broker for its ends instead (a
        lost ring, a rebalance): one request, not a poll of every partition. Whatever goes
        wrong meanwhile (a broker away, a partition revoked) resumes every partition."""
        try:
            await self._wait_for_news(consumer, doorbell, stop)
        except (TimeoutError, KafkaError) as error:
            log.info("doorbell wait ended by an error, fetching", error=repr(error))
            consumer.resume(*consumer.paused())

    async def _wait_for_news(
        self, consumer: AIOKafkaConsumer, doorbell: Doorbell, stop: asyncio.Event
    ) -> None:
        deadline = time.monotonic() + self.pacing.fallback_seconds
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            if consumer.assignment() - consumer.paused():
                return  # newly assigned partitions (a rebalance): read them first
            news = await doorbell.wait(min(left, STOP_CHECK_SECONDS))
            if news:
                resumed = await _resume_unread(consumer, {**self._later_if_due(doorbell), **news})
                self._await(resumed)
                if resumed:
                    return
        if stop.is_set():
            return
        doorbell.take_later()  # the broker's ends below cover them
        self._later_due = time.monotonic() + self.pacing.fallback_seconds
        await self._commit_offsets_if_due(consumer)
        paused = consumer.paused()
        if paused:
            ends = await asyncio.wait_for(consumer.end_offsets(list(paused)), END_OFFSETS_WAIT)
            news = {(tp.topic, tp.partition): end for tp, end in ends.items()}
            self._await(await _resume_unread(consumer, news, ends=True))

    def _await(self, resumed: Mapping[TopicPartition, int]) -> None:
        """Keep fetching these resumed partitions until read up to their offsets: one fetch may
        answer for some partitions only, and dozing then would leave the rest for the fallback.
        Bounded in time, in case an offset is never reached (a log cut short)."""
        until = time.monotonic() + AWAIT_READ_SECONDS
        for partition, offset in resumed.items():
            self._awaited[partition] = (offset, until)

    def _note_read(self, batches: Mapping[TopicPartition, list[ConsumerRecord]]) -> None:
        """Forget the awaited partitions read far enough, or awaited too long."""
        if not self._awaited:
            return
        now = time.monotonic()
        for partition, (offset, until) in list(self._awaited.items()):
            records = batches.get(partition)
            if (records and records[-1].offset + 1 >= offset) or now > until:
                del self._awaited[partition]

    def _later_if_due(self, doorbell: Doorbell) -> dict[tuple[str, int], int]:
        """News of events not handled, once every fallback interval: read past in one go."""
        now = time.monotonic()
        if now < self._later_due:
            return {}
        self._later_due = now + self.pacing.fallback_seconds
        return doorbell.take_later()

    @property
    def alarmed(self) -> list[str]:
        """The partitions whose gap did not fill within the alarm time (for /readyz)."""
        return [f"{tp.topic}#{tp.partition}" for tp, gap in self.gaps.items() if gap.alarmed]

    def _note_gap(self, partition: TopicPartition, waiting: list[Inbound]) -> None:
        """Open a gap when messages wait for a predecessor; close it once none wait."""
        if not waiting:
            if partition in self.gaps and not self._still_waiting(partition):
                self._close_gap(partition)
            return
        gap = self.gaps.get(partition)
        if gap is None:
            first = waiting[0]
            self.gaps[partition] = Gap(
                source=first.source_service,
                awaited=first.predecessor or 0,
                since=time.monotonic(),
            )
            log.warning(
                "message waits for its predecessor",
                topic=partition.topic,
                partition=partition.partition,
                position=first.position,
                predecessor=first.predecessor,
            )

    def _still_waiting(self, partition: TopicPartition) -> bool:
        """Whether the gap's awaited position is still not applied."""
        gap = self.gaps[partition]
        return self._applied(tracking_name(gap.source, partition.partition)) < gap.awaited

    async def _watch_gaps(self, consumer: AIOKafkaConsumer) -> None:
        """Rewind a partition whose gap persists (the fill may lie behind the committed offset);
        raise the alarm when it persists longer: a gap is never skipped."""
        now = time.monotonic()
        for partition, gap in list(self.gaps.items()):
            if not await asyncio.to_thread(self._still_waiting, partition):
                self._close_gap(partition)
                continue
            age = now - gap.since
            if age > self.gap_rewind_after and not gap.rewound:
                gap.rewound = True
                log.warning(
                    "gap persists, re-reading the partition from its start",
                    topic=partition.topic,
                    partition=partition.partition,
                )
                await consumer.seek_to_beginning(partition)
            if age > self.gap_alarm_after and not gap.alarmed:
                gap.alarmed = True
                CONSUMER_GAPS.labels(partition.topic, partition.partition, gap.source).set(1)
                log.error(
                    "gap did not fill: a message never arrived",
                    topic=partition.topic,
                    partition=partition.partition,
                    source=gap.source,
                    awaited_position=gap.awaited,
                    seconds=round(age),
                )

    def _close_gap(self, partition: TopicPartition) -> None:
        gap = self.gaps.pop(partition)
        if gap.alarmed:
            CONSUMER_GAPS.labels(partition.topic, partition.partition, gap.source).set(0)
            log.info("gap filled", topic=partition.topic, partition=partition.partition)

    async def handle_batch(
        self, partition: TopicPartition, records: list[ConsumerRecord]
    ) -> list[Inbound]:
        """Read a partition's batch, park the unreadable, apply the rest in order;
        returns the messages that wait for a predecessor that has not arrived."""
        self._loop = asyncio.get_running_loop()
        batch: list[Inbound] = []
        for record in records:
            try:
                batch.append(self._read(partition.topic, record))
            except DecodeError as error:
                await self._park_unreadable(record, str(error))
        if not batch:
            return []
        return await asyncio.to_thread(self._apply_partition, partition, batch)

    def _read(self, topic: str, record: ConsumerRecord) -> Inbound:
        """Decode fully only the events this consumer handles; the rest are only tracked."""
        header = peek(record.headers)
        expected = topics.PUBLISHER.get(topic)
        if expected is not None and header.source_service != expected:
            raise DecodeError(f"{topic} is published by {expected}, not {header.source}")
        envelope, poison = None, None
        if EVENTS_BY_TYPE.get(header.event_type) in self.handlers:
            try:
                # Tolerant: a field added by an upgraded publisher is ignored, not a poison.
                envelope = decode(record.headers, record.key, record.value, tolerant=True)
            except DecodeError as error:
                # Its position is known: it is parked in its place in the chain, not dropped.
                poison = str(error)
        return Inbound(
            record, header.position, header.source_service, envelope, header.predecessor, poison
        )

    def _apply_partition(self, partition: TopicPartition, batch: list[Inbound]) -> list[Inbound]:
        """Apply, in one transaction, what follows on from the stored position; returns the
        messages that wait for a missing predecessor."""
        name = tracking_name(batch[0].source_service, partition.partition)
        for attempt in range(MAX_CONFLICT_RETRIES):
            fresh, waiting = self._next_in_chain(name, batch)
            if not fresh:
                return waiting
            may_pass = self._may_pass(name)
            if may_pass and not any(i.envelope is not None or i.poison is not None for i in fresh):
                self._pass(name, partition, fresh[-1].position)  # no event handled here
                return waiting
            try:
                self._apply_together(name, partition, fresh, may_pass)
                return waiting
            except IntegrityError:
                # A concurrent writer won: pause (the one conflict policy), then re-read
                # positions and aggregates.
                time.sleep(conflict_pause(attempt))
                continue
            except Exception as error:
                if is_transient(error):
                    raise  # a failover or lost connection: retried with backoff, never parked
                # One poisoned message must not block the others: isolate it.
                self._apply_one_by_one(name, fresh)
                return waiting
        raise IntegrityError(f"{MAX_CONFLICT_RETRIES} conflicts in a row on {name}")

    def _next_in_chain(
        self, name: str, batch: list[Inbound]
    ) -> tuple[list[Inbound], list[Inbound]]:
        """(the records that follow on from the stored position, in chain order; those that
        wait for a predecessor). Duplicates (at or below the position) are dropped."""
        return chain(self._applied(name), batch)

    def _applied(self, name: str) -> int:
        """The position applied on a publisher's partition: stored, or passed in memory."""
        stored = self.app.process_recorder.max_tracking_id(name) or 0
        return max(stored, self._passed.get(name, 0))

    def _may_pass(self, name: str) -> bool:
        """Whether messages that change nothing may be read past without a transaction now.

        Messages of no event this service handles, and those whose handlers changed nothing,
        are read past in memory; their position is stored with the next message applied, or
        by the usual transaction once every PASS_PERSIST_SECONDS (then this is False), so a
        restart starts after them."""
        now = time.monotonic()
        if now - self._passed_persisted.get(name, 0.0) >= PASS_PERSIST_SECONDS:
            self._passed_persisted[name] = now
            return False
        return True

    async def _store_passed_if_due(self) -> None:
        """Store the positions read past in memory that waited PASS_PERSIST_SECONDS for a
        message that changes something (an idle partition): a restart then starts after them."""
        now = time.monotonic()
        for name, position in list(self._passed.items()):
            if now - self._passed_persisted.get(name, 0.0) < PASS_PERSIST_SECONDS:
                continue
            self._passed_persisted[name] = now
            try:
                await asyncio.to_thread(self._store_position, name, position)
            except IntegrityError:
                pass  # stored as far already (another instance applied past it)
            except Exception as error:  # kept in memory: the next batch or interval stores it
                log.warning("passed position not stored", tracking=name, error=repr(error))
                continue
            if self._passed.get(name) == position:
                del self._passed[name]

    def _store_position(self, name: str, position: int) -> None:
        """Write a tracking row alone: no events, only how far this publisher was read."""
        UnitOfWork(self.app, Tracking(name, position)).commit()

    def _pass(self, name: str, partition: TopicPartition, position: int) -> None:
        """Hold this position in memory; the Kafka offset stays behind it until it is stored."""
        self._passed[name] = position
        self._offset_held.add(partition)

    def _apply_together(
        self, name: str, partition: TopicPartition, batch: list[Inbound], may_pass: bool
    ) -> None:
        """Apply a batch in one unit of work. One that changed nothing (an order paid by card
        to the COD handler, a shipment of a channel without its own logistics) is read past
        like a message not handled, when `may_pass`: a transaction per such message was most
        of a hop's cost."""
        uow = UnitOfWork(self.app, Tracking(name, batch[-1].position))
        try:
            for inbound in batch:
                self._apply_one(inbound, uow)
        except BaseException:
            uow.evict()  # cached aggregates may hold uncommitted changes
            raise
        if not uow.commit(unless_unchanged=may_pass):
            self._pass(name, partition, batch[-1].position)
        self._count(batch, "applied")

    def _apply_one_by_one(self, name: str, batch: list[Inbound]) -> None:
        """Apply each message in its own transaction; a conflict is retried, never skipped."""
        for inbound in batch:
            for attempt in range(MAX_CONFLICT_RETRIES):
                applied = self._applied(name)
                if inbound.position <= applied:
                    break  # a concurrent consumer applied it
                try:
                    self._apply_alone(name, inbound)
                    break
                except IntegrityError:
                    time.sleep(conflict_pause(attempt))
            else:
                raise IntegrityError(f"{MAX_CONFLICT_RETRIES} conflicts in a row on {name}")

    def _apply_alone(self, name: str, inbound: Inbound) -> None:
        uow = UnitOfWork(self.app, Tracking(name, inbound.position))
        try:
            self._apply_one(inbound, uow)
            uow.commit()
        except Exception as error:
            cached = uow.read_from_cache
            uow.evict()
            if isinstance(error, IntegrityError) or is_transient(error):
                raise
            if cached:
                # Refused on copies from the cache, which another instance may have changed
                # (seen: a Shipped refused on a stock read before this order's reservation):
                # a conflict, so it is decided again on fresh copies before it is parked.
                raise StaleReadError(cached) from error
            log.exception("message failed", position=inbound.position)
            self._park(name, inbound, f"{type(error).__name__}: {error}")
            return
        self._count([inbound], "applied")

    def _park(self, name: str, inbound: Inbound, reason: str) -> None:
        """Park a message that failed in its place in the chain: its row and the partition's
        position commit together, so it is neither lost nor blocking; replay applies it."""
        record = inbound.record
        parking = Parking.of(record, reason, in_chain=True)
        self._copy_to_dlq_from_thread(record, reason)  # first: a failed copy retries all
        parked_id = self.parked.park(parking, Tracking(name, inbound.position))
        self._count([inbound], "parked")
        self._log_parked(record, reason, parked_id)

    async def _park_unreadable(self, record: ConsumerRecord, reason: str) -> None:
        """Park a record whose headers cannot be trusted; it has no place in the chain."""
        parking = Parking.of(record, reason, in_chain=False)
        if await asyncio.to_thread(self.parked.is_parked, parking.fingerprint):
            return  # read again (a rewind): parked, copied and counted the first time
        await self.dead_letter(record, reason)
        parked_id = await asyncio.to_thread(self.parked.park, parking)
        self._log_parked(record, reason, parked_id)

    def _apply_one(self, inbound: Inbound, uow: UnitOfWork) -> None:
        if inbound.poison is not None:
            raise DecodeError(inbound.poison)
        envelope = inbound.envelope
        handler = self.handlers.get(type(envelope.event)) if envelope else None
        if envelope is None or handler is None:
            return
        apply_envelope(self.app, handler, envelope, uow)

    def _count(self, batch: list[Inbound], outcome: str) -> None:
        now = datetime.now(UTC)
        for inbound in batch:
            envelope = inbound.envelope
            if envelope is None:
                continue  # not an event this service handles
            event_type = envelope.event.event_type()
            CONSUMED.labels(inbound.record.topic, event_type, outcome).inc()
            if envelope.time is not None and outcome == "applied":
                HOP_LATENCY.labels(event_type).observe((now - envelope.time).total_seconds())

    def _copy_to_dlq_from_thread(self, record: ConsumerRecord, reason: str) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(self.dead_letter(record, reason), self._loop).result()

    async def dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        """Copy a parked message to <topic>.dlq with the reason, for tools that read topics
        (the parked row in PostgreSQL is the one that is replayed) and count it."""
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

    def _log_parked(self, record: ConsumerRecord, reason: str, parked_id: int | None) -> None:
        log.error(
            "message parked: `oms dlq` lists, replays or discards it",
            service=self.service,
            parked_id=parked_id,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
        )

    async def _commit_offsets_if_due(
        self, consumer: AIOKafkaConsumer, *, force: bool = False
    ) -> None:
        """Commit the offsets read since the last commit, if OFFSET_COMMIT_SECONDS passed."""
        now = time.monotonic()
        due = force or now - self._committed_at >= OFFSET_COMMIT_SECONDS
        if not self._uncommitted or not due:
            return
        offsets, self._uncommitted = self._uncommitted, {}
        self._committed_at = now
        assigned = consumer.assignment()
        offsets = {tp: offset for tp, offset in offsets.items() if tp in assigned}
        try:
            if offsets:
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
    predecessor: int | None = None  # None: the publisher does not chain (highest position wins)
    poison: str | None = None  # why a handled event could not be decoded


@dataclass
class Gap:
    """A partition's messages wait for a position that has not arrived yet."""

    source: str
    awaited: int
    since: float
    rewound: bool = False
    alarmed: bool = False


def chain(applied: int, batch: list[Inbound]) -> tuple[list[Inbound], list[Inbound]]:
    """Split a batch into the records that follow on from `applied` (in chain order) and those
    that wait for a missing predecessor; duplicates are dropped.

    Passes repeat while they make progress, so a republished predecessor later in the batch
    still lets an earlier-read successor through.
    """
    fresh: list[Inbound] = []
    pending = [inbound for inbound in batch if inbound.position > applied]
    progress = True
    while pending and progress:
        progress = False
        waiting = []
        for inbound in pending:
            if inbound.position <= applied:
                continue  # a copy of one this pass applied
            if inbound.predecessor is None or inbound.predecessor == applied:
                fresh.append(inbound)
                applied = inbound.position
                progress = True
            else:
                waiting.append(inbound)
        pending = waiting
    return fresh, pending


def apply_envelope(
    app: ServiceApplication, handler: Handler, envelope: Envelope, uow: UnitOfWork
) -> None:
    """Run an event's handler in the unit of work (a consumer's batch or a replay)."""
    # Logs of this message's work carry its correlation id and its order (or SKU).
    with (
        traced(envelope.correlation_id, envelope.id, envelope.actor),
        structlog.contextvars.bound_contextvars(
            **{envelope.event.key_field: envelope.event.partition_key}
        ),
    ):
        handler(app, envelope.event, uow)
        uow.stamp_pending()


def tracking_name(source_service: str, partition: int) -> str:
    """The tracking row of one publisher's partition."""
    return f"{source_service}#{partition}"
