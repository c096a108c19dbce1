"""The faust app of the stream jobs: topics, tables, agents, the publishing timer and the
health pages (docs/architecture.md, "The stream jobs").

Two stages each way. Orders: the orders topic (keyed by order) keeps each order's facts in
the `orders` table and forwards them, keyed by channel and hour, to `<app>-orders-by-hour`,
whose agent keeps them per hour and order in `hour-orders`; a timer publishes the KPIs of
the hours that changed. Stock: the inventory topic's levels and reservations go, keyed by
SKU, to `<app>-stock-by-sku`, whose agent keeps `stock-levels` and `reservations` and alerts
when a location goes low. Every table write is a whole value set under a key that names
what it is about (never an increment), so a message processed again after a restart (faust
commits offsets after the changelog, at least once) writes the same value again and counts
nothing twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import faust
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from faust.tables.manager import TableManager
from faust.types import EventT, StreamT, TableT
from faust.web import Request, Response, View
from mode.types.signals import SignalHandlerT
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.stream_jobs import domain, integration
from shared.events import topics
from shared.events.base import IntegrationEvent
from shared.events.codec import DecodeError, Envelope
from shared.runtime import metrics
from shared.runtime.kafka_admin import ensure_topics, topic_end_offsets

log = logging.getLogger(__name__)

_RAW: dict[str, Any] = {
    "key_type": bytes,
    "value_type": bytes,
    "key_serializer": "raw",
    "value_serializer": "raw",
}


@dataclass(frozen=True)
class JobsConfig:
    """What the faust app needs, as plain values (bootstrap reads them from Settings)."""

    group: str
    bootstrap_servers: str
    partitions: int
    web_host: str
    web_port: int
    policy: domain.ReorderPolicy
    publish_interval_seconds: float
    commit_interval_seconds: float
    data_dir: str
    broker_check_seconds: float = 5.0
    epoch: str = ""

    @property
    def epoch_topic(self) -> str:
        """The topic whose first record names the broker's epoch: another (or none) means
        the broker lost its log since."""
        return f"{self.group}-epoch"

    @property
    def app_id(self) -> str:
        """Faust's app id: the consumer group and the prefix of the changelogs and
        repartition topics, new for every epoch of the broker."""
        return f"{self.group}-{self.epoch}" if self.epoch else self.group


@dataclass
class Index:
    """Which table keys belong together, kept in memory and rebuilt from the tables after
    every rebalance (the tables are the truth; this only finds their rows fast)."""

    hours: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    places: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    dirty: set[str] = field(default_factory=set)
    latest_hour: dict[str, str] = field(default_factory=dict)


EXIT_BROKER_LOST_LOG = 75
"""Exit status of a jobs process that found the broker's log gone (EX_TEMPFAIL)."""


async def epoch_of(config: JobsConfig) -> str:
    """The broker's epoch: the first mark on the epoch topic, left now if there is none.

    A broker that lost its log (the embedded one, restarted in memory) has no mark: the jobs
    start a new epoch, under a new consumer group and new changelogs, and count every event
    the relays republish from the start. Two instances starting at once agree on the first.
    """
    await ensure_topics(config.bootstrap_servers, [config.epoch_topic], 1, dead_letters=False)
    mark = await first_mark(config)
    if mark is not None:
        return mark
    producer = AIOKafkaProducer(bootstrap_servers=config.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(config.epoch_topic, uuid.uuid4().hex[:12].encode())
    finally:
        await producer.stop()
    mark = await first_mark(config)
    if mark is None:
        raise RuntimeError(f"the epoch mark just sent to {config.epoch_topic} is not there")
    return mark


async def first_mark(config: JobsConfig) -> str | None:
    """The first record on the epoch topic, None when it is empty or missing."""
    ends = await topic_end_offsets(config.bootstrap_servers, config.epoch_topic)
    if ends.get(0, 0) == 0:
        return None
    consumer = AIOKafkaConsumer(
        bootstrap_servers=config.bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partition = TopicPartition(config.epoch_topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        record = await consumer.getone()
        return None if record.value is None else record.value.decode()
    finally:
        await consumer.stop()


def key(*parts: str) -> str:
    """A table or index key of several parts, none of which can be confused with another."""
    return json.dumps(parts, separators=(",", ":"))


def parts(table_key: str) -> list[str]:
    """The parts of a key made by `key`."""
    values = json.loads(table_key)
    return [str(value) for value in values]


async def publish_changed(changed: set[str], publish: Callable[[str], Awaitable[None]]) -> None:
    """Publish each changed hour, oldest key first, taking it off the set as it goes out; one
    whose publish fails (and those after it) stay changed for the next tick."""
    for bucket in sorted(changed):
        changed.discard(bucket)
        try:
            await publish(bucket)
        except BaseException:
            changed.add(bucket)
            raise


def build_app(config: JobsConfig) -> faust.App:
    """The faust app with its topics, tables, agents, timer and pages."""
    app = faust.App(
        config.app_id,
        broker=[f"kafka://{server}" for server in config.bootstrap_servers.split(",")],
        store="memory://",
        datadir=config.data_dir,
        autodiscover=False,
        topic_partitions=config.partitions,
        topic_replication_factor=1,
        # Tansu answers no InitProducerId: no transactions, so at least once, made safe by
        # idempotent table writes (see the module's docstring).
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=config.commit_interval_seconds,
        # Measured on Tansu: a group join takes about half the rebalance timeout (3 s at
        # these, 5 s at 10 s, 30 s at faust's default 60 s).
        broker_heartbeat_interval=0.5,
        broker_session_timeout=6.0,
        broker_rebalance_timeout=6.0,
        table_standby_replicas=0,
        # Table keys and values are JSON (str keys come back as str after recovery).
        key_serializer="json",
        value_serializer="json",
        web_enabled=True,
        web_host=config.web_host,
        web_port=config.web_port,
        web_bind=config.web_host,
    )
    index = Index()
    orders_in = app.topic(topics.ORDERS, **_RAW)
    inventory_in = app.topic(topics.INVENTORY, **_RAW)
    by_hour = app.topic(
        f"{config.app_id}-orders-by-hour", partitions=config.partitions, internal=True, **_RAW
    )
    by_sku = app.topic(
        f"{config.app_id}-stock-by-sku", partitions=config.partitions, internal=True, **_RAW
    )
    analytics = app.topic(topics.ANALYTICS, **_RAW)
    orders = app.Table("orders", partitions=config.partitions)
    hour_orders = app.Table("hour-orders", partitions=config.partitions)
    levels = app.Table("stock-levels", partitions=config.partitions)
    reservations = app.Table("reservations", partitions=config.partitions)

    async def read(
        event: EventT[bytes], handled: tuple[type[IntegrationEvent], ...]
    ) -> Envelope | None:
        """The envelope of a handled event; an unreadable one is copied to the DLQ and logged."""
        message = event.message
        try:
            return integration.read(
                _headers(message.headers), message.key, message.value or b"", handled
            )
        except DecodeError as error:
            await dead_letter(event, str(error))
            return None

    async def dead_letter(event: EventT[bytes], reason: str) -> None:
        """Copy a record the stream jobs cannot use to <topic>.dlq with the reason, log and
        count it; the partition moves on (the publishing side's consumers park their own)."""
        message = event.message
        log.error(
            "message on %s[%d]@%d copied to the DLQ: %s",
            message.topic,
            message.partition,
            message.offset,
            reason,
        )
        await app.topic(topics.dlq(message.topic), **_RAW).send(
            key=message.key,
            value=message.value,
            headers=[
                *_headers(message.headers),
                ("dlq_reason", reason[:4000].encode()),
                ("dlq_topic", message.topic.encode()),
                ("dlq_partition", str(message.partition).encode()),
                ("dlq_offset", str(message.offset).encode()),
                ("dlq_consumer", integration.SERVICE.encode()),
            ],
        )
        metrics.DEAD_LETTERS.labels(message.topic).inc()

    async def publish(event: IntegrationEvent, sent_at: datetime) -> None:
        """Put an analytics event on oms.analytics.v1."""
        wire = integration.wire(event, sent_at)
        await analytics.send(key=wire.key, value=wire.value, headers=wire.headers)
        metrics.STREAM_PUBLISHED.labels(event.event_type()).inc()

    @app.agent(orders_in, name="follow-orders")
    async def follow_orders(stream: StreamT[bytes]) -> None:
        """Each order's facts, forwarded to the hour it was placed in."""
        async for event in stream.events():
            envelope = await read(event, integration.ORDER_EVENTS)
            if envelope is None:
                continue
            try:
                order_id, update = integration.order_update(envelope.event)
            except ValueError as error:
                await dead_letter(event, f"{envelope.event.event_type()}: {error}")
                continue
            facts = update(cast(domain.OrderFacts, orders.get(order_id) or {}))
            orders[order_id] = facts
            bucket = domain.bucket_of(facts)
            if bucket is not None:
                channel, hour = bucket
                await by_hour.send(
                    key=key(channel, hour.isoformat()).encode(),
                    value=json.dumps([order_id, facts]).encode(),
                )

    @app.agent(by_hour, name="count-hours")
    async def count_hours(stream: StreamT[bytes]) -> None:
        """The facts of each hour's orders, one row per order: set, never added to."""
        async for event in stream.events():
            order_id, facts = json.loads(event.message.value)
            bucket = event.message.key.decode()
            channel, hour = parts(bucket)
            row = key(channel, hour, order_id)
            hour_orders[row] = facts
            index.hours[bucket].add(row)
            index.dirty.add(bucket)

    @app.agent(inventory_in, name="follow-stock")
    async def follow_stock(stream: StreamT[bytes]) -> None:
        """Levels and reservations, forwarded keyed by SKU."""
        async for event in stream.events():
            envelope = await read(event, integration.STOCK_EVENTS)
            if envelope is None:
                continue
            for move in integration.stock_moves(envelope.event):
                await by_sku.send(key=move["sku"].encode(), value=json.dumps(move).encode())

    @app.agent(by_sku, name="watch-stock")
    async def watch_stock(stream: StreamT[bytes]) -> None:
        """Each location's level and recent demand; an alert when it goes low."""
        async for event in stream.events():
            move: integration.StockMove = json.loads(event.message.value)
            place = integration.Place(move["sku"], move["location_id"])
            place_key = key(place.sku, place.location_id)
            at = datetime.fromisoformat(move["at"])
            if move["kind"] == "reserved":
                row = key(place.sku, place.location_id, move["reservation"])
                reservations[row] = {"units": move["units"], "at": move["at"]}
                index.places[place_key].add(row)
                state = cast(domain.LevelState, levels.get(place_key) or {})
            else:
                state = domain.level_changed(
                    cast(domain.LevelState, levels.get(place_key) or {}),
                    available=move["available"],
                    on_hand=move["on_hand"],
                    at=at,
                )
            if "available" not in state:
                continue  # no level known yet: the first report assesses it
            await assess(place, place_key, state, at)

    async def assess(
        place: integration.Place, place_key: str, state: domain.LevelState, at: datetime
    ) -> None:
        """Measure a location against its reorder point; alert once when it goes low."""
        policy = config.policy
        state, at = domain.as_of(state, at)
        recent = _recent(reservations, index.places[place_key], at, policy.demand_window_days)
        demand = domain.daily_demand(recent, at, policy.demand_window_days)
        assessment = domain.assess(state["available"], demand, policy)
        state, went_low = domain.mark(state, assessment, at)
        levels[place_key] = state
        metrics.STREAM_LOW_STOCK.labels(place.sku, place.location_id).set(int(assessment.low))
        metrics.STREAM_REORDER_POINT.labels(place.sku, place.location_id).set(
            assessment.reorder_point
        )
        if not assessment.low:
            metrics.STREAM_REORDER_UNITS.labels(place.sku, place.location_id).set(0)
        if went_low:
            metrics.STREAM_REORDER_UNITS.labels(place.sku, place.location_id).set(
                assessment.suggested_quantity
            )
            for alert in integration.low_stock_events(place, assessment, policy, at):
                await publish(alert, at)

    @app.timer(config.publish_interval_seconds, name="publish-kpis")
    async def publish_kpis() -> None:
        """The KPIs of every hour that changed since the last tick."""
        if not _ready(app):
            return
        now = datetime.now(UTC)

        async def publish_hour(bucket: str) -> None:
            channel, hour = parts(bucket)
            rows = [hour_orders[row] for row in index.hours[bucket] if row in hour_orders]
            if not rows:
                return
            kpis = domain.channel_hour_kpis(channel, datetime.fromisoformat(hour), rows)
            await publish(integration.kpis_event(kpis, now), now)
            if hour >= index.latest_hour.get(channel, ""):
                index.latest_hour[channel] = hour
                _show(kpis)

        await publish_changed(index.dirty, publish_hour)

    @app.timer(config.broker_check_seconds, name="watch-broker")
    async def watch_broker() -> None:
        """Exit when the broker lost its log, for the supervisor to start the jobs afresh.

        A broker refilled by the relays' republish starts every partition at offset 0 again,
        and faust drops what it reads below the offsets it remembers: the repartition topics'
        new messages would be skipped. A fresh process starts a new epoch and reads every
        topic from the start (docs/architecture.md, "The stream jobs").
        """
        try:
            mark = await asyncio.wait_for(first_mark(config), timeout=10)
        except (KafkaError, OSError, TimeoutError):
            return  # the broker is away; faust waits for it, and so does this check
        if mark != config.epoch:
            log.error(
                "the broker lost its log (epoch %s, now %s): exiting, to start a new epoch",
                config.epoch,
                mark,
            )
            os._exit(EXIT_BROKER_LOST_LOG)

    def rebuild_index(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        """Find the rows of the partitions this worker holds now; republish their hours."""
        hours: defaultdict[str, set[str]] = defaultdict(set)
        for row in list(hour_orders.keys()):
            channel, hour, _order = parts(row)
            hours[key(channel, hour)].add(row)
        places: defaultdict[str, set[str]] = defaultdict(set)
        for row in list(reservations.keys()):
            sku, location, _reservation = parts(row)
            places[key(sku, location)].add(row)
        index.hours, index.places = hours, places
        index.dirty |= set(hours)
        log.info("index rebuilt: %d hours, %d places", len(hours), len(places))

    # mode types its handlers with mypy_extensions' argument kinds, which no def matches.
    app.on_rebalance_complete.connect(cast(SignalHandlerT[Any], rebuild_index))

    @app.page("/livez", name="livez")
    async def livez(view: View, request: Request) -> Response:
        """The process answers."""
        return view.json({"status": "ok"})

    @app.page("/readyz", name="readyz")
    async def readyz(view: View, request: Request) -> Response:
        """200 once the tables are recovered and the worker is not rebalancing."""
        checks = {"recovered": _recovered(app), "rebalancing": bool(app.rebalancing)}
        ready = _ready(app)
        return view.json(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status=200 if ready else 503,
        )

    @app.page("/metrics", name="metrics")
    async def prometheus(view: View, request: Request) -> Response:
        """Prometheus metrics of this process."""
        # aiohttp takes no charset in content_type; Prometheus' type carries one.
        return view.bytes(generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return app


def _recent(
    reservations: TableT[str, domain.Reservation], rows: set[str], now: datetime, window_days: int
) -> list[domain.Reservation]:
    """The reservations of a place within twice the window; older ones are deleted."""
    horizon = now - timedelta(days=2 * window_days)
    recent: list[domain.Reservation] = []
    for row in list(rows):
        reservation = reservations.get(row)
        if reservation is None:
            rows.discard(row)
        elif datetime.fromisoformat(reservation["at"]) < horizon:
            del reservations[row]  # a tombstone in the changelog: gone after a restart too
            rows.discard(row)
        else:
            recent.append(reservation)
    return recent


def _recovered(app: faust.App) -> bool:
    """Whether the tables were read back from their changelogs."""
    tables = app.tables
    return isinstance(tables, TableManager) and tables.recovery.completed.is_set()


def _ready(app: faust.App) -> bool:
    """Recovered, and not in the middle of a rebalance."""
    return _recovered(app) and not app.rebalancing


def _show(kpis: domain.ChannelHourKpis) -> None:
    """Set the gauges of a channel to its latest hour's KPIs."""
    channel = kpis.channel
    metrics.STREAM_ORDERS.labels(channel).set(kpis.orders)
    metrics.STREAM_UNITS.labels(channel).set(kpis.units)
    for currency, amount in kpis.revenue.items():
        metrics.STREAM_REVENUE.labels(channel, currency).set(amount)
    for gauge, value in (
        (metrics.STREAM_BACKORDER_RATE, kpis.backorder_rate),
        (metrics.STREAM_FILL_RATE, kpis.fill_rate),
        (metrics.STREAM_PLACED_TO_SHIPPED, kpis.median_placed_to_shipped_seconds),
    ):
        if value is not None:
            gauge.labels(channel).set(float(value))


def _headers(raw: Any) -> Sequence[tuple[str, bytes]]:
    """A record's headers as (name, value) pairs, whichever shape faust hands them in."""
    if raw is None:
        return []
    if isinstance(raw, dict):
        return list(raw.items())
    return list(raw)
