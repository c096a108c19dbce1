"""Runs one service process: API, consumers, relay and projections on one event loop."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
import psycopg
import structlog
import uvicorn
import uvloop
from aiokafka import AIOKafkaProducer
from eventsourcing.postgres import PostgresApplicationRecorder
from fastapi import FastAPI

from shared.events.base import IntegrationEvent
from shared.events.topics import ALL_TOPICS
from shared.runtime import dlq
from shared.runtime.api import ApiBuilder, Ops
from shared.runtime.application import ServiceApplication
from shared.runtime.backoff import retry_transient
from shared.runtime.consumer import EventConsumer, Handler
from shared.runtime.kafka_admin import ensure_topics
from shared.runtime.leader import run_as_leader
from shared.runtime.logging import configure_logging
from shared.runtime.projection import ProjectionWorker
from shared.runtime.registry import ServiceEvents
from shared.runtime.relay import Mapping as ToIntegration
from shared.runtime.relay import Relay
from shared.runtime.settings import ServiceSettings
from shared.runtime.wakeup import NewEventsSignal

log = structlog.get_logger()
S = TypeVar("S", bound=ServiceSettings)
API_THREADS = 8


@dataclass
class ServiceParts:
    """Everything bootstrap built for one service; the runner wires it to Kafka and HTTP."""

    name: str
    settings: ServiceSettings
    app: ServiceApplication
    api_factory: ApiBuilder
    events: ServiceEvents | None = None
    publishes: str | None = None  # superseded by `events`; kept while services move over
    to_integration: ToIntegration | None = None
    handlers: Mapping[type[IntegrationEvent], Handler] = field(default_factory=dict)
    projections: Sequence[ProjectionWorker] = ()
    extra_workers: Sequence[Callable[[asyncio.Event], Any]] = ()
    dead_letters: dlq.DeadLetterOffice = field(init=False)

    def __post_init__(self) -> None:
        """Fail at start-up, naming the gap, when the service's event tables are incomplete."""
        if self.events is not None:
            self.events.check()
            self.publishes = self.events.topic
            self.to_integration = self.events.to_integration
            self.handlers = self.events.consumes
        self.dead_letters = dlq.DeadLetterOffice(
            service=self.name, app=self.app, handlers=self.handlers
        )

    def http_api(self, readiness: ReadinessChecks) -> FastAPI:
        """The service's API with the endpoints every service serves: the dead-letter office."""
        ops = Ops(
            routers=[dlq.router],
            error_statuses=dlq.ERROR_STATUSES,
            provides=[self.dead_letters],
        )
        return self.api_factory(readiness, ops)

    def close(self) -> None:
        """Close the application's and the views' connection pools."""
        self.app.close()
        for projection in self.projections:
            projection.view.datastore.close()

    @property
    def consumes(self) -> list[str]:
        """The topics carrying the events this service handles."""
        return sorted({event.topic for event in self.handlers})


ReadinessChecks = dict[str, Callable[[], Any]]


def new_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    """A producer that waits for all replicas; idempotent where the broker supports it."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        linger_ms=2,
        max_batch_size=256 * 1024,
        request_timeout_ms=30_000,
    )


def run_service(build: Callable[[S], ServiceParts], settings: S) -> None:
    """Entry point of `python -m services.<name>`."""
    configure_logging(settings.model_config.get("env_prefix", "oms"), settings.log_level)
    # uvloop (installed with uvicorn[standard]) runs the API, Kafka clients and workers with
    # less per-callback overhead than the default event loop.
    uvloop.run(_serve(build, settings))


async def _serve(build: Callable[[S], ServiceParts], settings: S) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    parts = await asyncio.to_thread(build, settings)
    try:
        await run_parts(parts, stop)
    finally:
        await asyncio.to_thread(parts.close)


async def run_parts(parts: ServiceParts, stop: asyncio.Event) -> None:
    """Run a built service (API, consumers, relay, projections, workers) until `stop` is set."""
    settings = parts.settings
    structlog.contextvars.bind_contextvars(service=parts.name)
    await retry_transient(
        "topics",
        lambda: ensure_topics(
            settings.kafka_bootstrap_servers, ALL_TOPICS, settings.topic_partitions
        ),
    )
    # Before any failover can make the database read-only: parking must not need DDL then.
    await retry_transient(
        "dead letters", lambda: asyncio.to_thread(parts.dead_letters.store.ensure)
    )
    producer = new_producer(settings)
    await retry_transient("producer", producer.start)
    try:
        tasks = [
            asyncio.create_task(_until_stopped(coro, stop))
            for coro in _workers(parts, producer, stop)
        ]
        log.info("service started", port=settings.http_port)
        await stop.wait()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await producer.stop()


def _workers(parts: ServiceParts, producer: AIOKafkaProducer, stop: asyncio.Event) -> list[Any]:
    settings = parts.settings
    coros: list[Any] = []
    consumer = _consumer(parts, producer) if settings.run_workers and parts.handlers else None
    if settings.run_api:
        coros.append(_serve_api(parts, _readiness(settings, producer, consumer), stop))
    if not settings.run_workers:
        return coros
    if consumer is not None:
        coros.append(consumer.run(stop))
    new_events = NewEventsSignal(settings.database_url, _notify_channel(parts.app))
    leader_works: list[Callable[[asyncio.Event], Any]] = [new_events.run]
    leader_works += [partial(p.run, wakeup=new_events.subscribe()) for p in parts.projections]
    leader_works += list(parts.extra_workers)
    if parts.publishes and parts.to_integration:
        relay = Relay(
            service=parts.name,
            app=parts.app,
            to_integration=parts.to_integration,
            topic=parts.publishes,
            producer=producer,
            bootstrap=settings.kafka_bootstrap_servers,
            database_url=settings.database_url,
            batch_size=settings.relay_batch_size,
            wakeup=new_events.subscribe(),
        )
        leader_works.append(relay.run)
    if leader_works:
        coros.append(run_as_leader(settings.database_url, parts.name, leader_works, stop))
    return coros


def _notify_channel(app: ServiceApplication) -> str:
    """The LISTEN/NOTIFY channel on which the application's recorder announces new events."""
    recorder = app.recorder
    if not isinstance(recorder, PostgresApplicationRecorder):
        raise TypeError(f"{type(recorder).__name__} cannot notify: the service needs PostgreSQL")
    return recorder.channel_name


class _Server(uvicorn.Server):
    """uvicorn, leaving signals to the service runner: one SIGTERM stops every worker at once."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Capture nothing (uvicorn's own handlers would replace the runner's)."""
        yield


def _consumer(parts: ServiceParts, producer: AIOKafkaProducer) -> EventConsumer:
    settings = parts.settings
    return EventConsumer(
        service=parts.name,
        app=parts.app,
        parked=parts.dead_letters.store,
        handlers=parts.handlers,
        topics=parts.consumes,
        bootstrap=settings.kafka_bootstrap_servers,
        producer=producer,
        batch_size=settings.consumer_batch_size,
        group_id=settings.consumer_group or None,
        gap_rewind_after=settings.gap_rewind_seconds,
        gap_alarm_after=settings.gap_alarm_seconds,
    )


async def _until_stopped(work: Awaitable[Any], stop: asyncio.Event) -> None:
    """Run a worker; if it crashes, stop the process so the supervisor restarts it clean."""
    try:
        await work
    except Exception:
        log.exception("worker crashed, stopping the service")
        stop.set()


async def _serve_api(parts: ServiceParts, readiness: ReadinessChecks, stop: asyncio.Event) -> None:
    api = parts.http_api(readiness)
    config = uvicorn.Config(
        api,
        host=parts.settings.http_host,
        port=parts.settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="off",
    )
    # Sync endpoints run in anyio's thread pool; more threads than database connections
    # only adds GIL contention (measured: CPU per intake request grew with 40 threads).
    anyio.to_thread.current_default_thread_limiter().total_tokens = API_THREADS
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    await asyncio.wait([task, asyncio.create_task(stop.wait())], return_when="FIRST_COMPLETED")
    server.should_exit = True
    await task
    if not stop.is_set():
        raise RuntimeError(f"HTTP server on port {parts.settings.http_port} stopped")


def _readiness(
    settings: ServiceSettings, producer: AIOKafkaProducer, consumer: EventConsumer | None
) -> ReadinessChecks:
    async def database() -> bool:
        async with await psycopg.AsyncConnection.connect(
            settings.database_url, connect_timeout=2
        ) as conn:
            await conn.execute("SELECT 1")
        return True

    async def broker() -> bool:
        return bool(await asyncio.wait_for(producer.client.fetch_all_metadata(), 2))

    async def no_gaps() -> bool:
        """False while a partition waits past the alarm time for a message that never came."""
        return consumer is None or not consumer.alarmed

    return {"database": database, "broker": broker, "positions": no_gaps}
