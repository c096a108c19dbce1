"""Runs one service process: API, consumers, relay and projections on one event loop."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
import psycopg
import structlog
import uvicorn
import uvloop
from aiokafka import AIOKafkaProducer
from eventsourcing.postgres import PostgresApplicationRecorder
from fastapi import FastAPI

from shared.events.topics import ALL_TOPICS
from shared.runtime import access_http, dlq
from shared.runtime.access import AccessPolicy, AccessPolicyError, token_hash
from shared.runtime.access_grants import AccessGrants, with_access_grants
from shared.runtime.api import ApiBuilder, Ops
from shared.runtime.application import ServiceApplication
from shared.runtime.backoff import retry_transient
from shared.runtime.consumer import EventConsumer, FetchPacing
from shared.runtime.database import schema_locked
from shared.runtime.doorbell import Doorbell
from shared.runtime.heap import freeze_start_up_heap
from shared.runtime.kafka_admin import ensure_topics
from shared.runtime.leader import Leadership, Work
from shared.runtime.logging import configure_logging
from shared.runtime.oidc import oidc_verifier
from shared.runtime.parked_events import ParkedEvents
from shared.runtime.projection import ProjectionWorker
from shared.runtime.registry import ServiceEvents
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
    events: ServiceEvents
    projections: Sequence[ProjectionWorker] = ()
    extra_workers: Sequence[Callable[[asyncio.Event], Any]] = ()
    access_policy: AccessPolicy | None = None
    dead_letters: dlq.DeadLetterOffice = field(init=False)

    def __post_init__(self) -> None:
        """Fail at start-up, naming the gap, when the service's event tables are incomplete."""
        self.events = with_access_grants(self.events)
        self.events.check()
        self.dead_letters = dlq.DeadLetterOffice(
            service=self.name, app=self.app, handlers=self.events.consumes
        )

    def http_api(self, readiness: ReadinessChecks) -> FastAPI:
        """The service's API with the endpoints every service serves (the dead-letter office,
        who am I), every /v1 endpoint behind the access check."""
        control = self.access_control()
        ops = Ops(
            routers=[dlq.router, access_http.me],
            error_statuses=dlq.ERROR_STATUSES,
            provides=[self.dead_letters, control],
            guard=access_http.GUARD,
        )
        api = self.api_factory(readiness, ops)
        uncovered = control.policy.uncovered(getattr(r, "path", "") for r in api.routes)
        if uncovered:
            raise AccessPolicyError(
                f"{self.name} cannot start: no access rule covers {', '.join(uncovered)}"
            )
        access_http.document_public_operations(api.openapi(), control.policy)
        return api

    def access_control(self) -> access_http.AccessControl:
        """Who may call what, and how a bearer token is verified, in this service."""
        if self.access_policy is None:
            raise AccessPolicyError(f"{self.name} cannot start: it declares no access policy")
        bootstrap = self.settings.access_bootstrap_token
        return access_http.AccessControl(
            policy=self.access_policy | access_http.RUNTIME_POLICY,
            grants=AccessGrants(self.app),
            bootstrap_hash=None if bootstrap is None else token_hash(bootstrap.get_secret_value()),
            oidc=oidc_verifier(self.settings),
        )

    def close(self) -> None:
        """Close the application's and the views' connection pools."""
        self.app.close()
        for projection in self.projections:
            projection.view.datastore.close()


ReadinessChecks = dict[str, Callable[[], Any]]


def new_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    """A producer that waits for all replicas; idempotent where the broker supports it."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        # A 2 ms linger costs a hop about 2.7 ms at low rates, but without it a burst ran
        # 10-25 % slower (smaller batches all the way down): kept.
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
    freeze_start_up_heap()
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
    producer = new_producer(settings)
    await retry_transient("producer", producer.start)
    closers: list[Callable[[], None]] = []
    doorbell = _doorbell(parts)
    try:
        workers = await retry_transient(
            "tables", lambda: _with_tables(parts, producer, stop, closers, doorbell)
        )
        tasks = [
            asyncio.create_task(_until_stopped(name, coro, stop), name=name)
            for name, coro in workers.items()
        ]
        log.info("service started", port=settings.http_port)
        await stop.wait()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await producer.stop()
        if doorbell is not None:
            doorbell.close()
        for close in closers:  # once every worker stopped: nothing uses them any more
            await asyncio.to_thread(close)


async def _with_tables(
    parts: ServiceParts,
    producer: AIOKafkaProducer,
    stop: asyncio.Event,
    closers: list[Callable[[], None]],
    doorbell: Doorbell | None,
) -> dict[str, Awaitable[Any]]:
    """Create the dead letters' and the relay's tables, then the parts to run (`_workers`);
    under the schema lock, as other instances may be creating the same tables right now."""
    async with schema_locked(parts.settings.database_url):
        # Before any failover can make the database read-only: parking must not need DDL then.
        await asyncio.to_thread(parts.dead_letters.store.ensure)
        return _workers(parts, producer, stop, closers, doorbell)


def _workers(
    parts: ServiceParts,
    producer: AIOKafkaProducer,
    stop: asyncio.Event,
    closers: list[Callable[[], None]],
    doorbell: Doorbell | None = None,
) -> dict[str, Awaitable[Any]]:
    """The parts of the service to run, by name: API, consumer and the leader's works; what
    they open that must be closed after them goes into `closers`."""
    settings = parts.settings
    parts_to_run: dict[str, Awaitable[Any]] = {}
    consumer = (
        _consumer(parts, producer, doorbell)
        if settings.run_workers and parts.events.consumes
        else None
    )
    leadership = (
        Leadership(settings.database_url, parts.name, timeout=settings.leader_timeout_seconds)
        if settings.run_workers
        else None
    )
    relay = _relay(parts, producer, leadership, doorbell) if leadership is not None else None
    if relay is not None:
        closers.append(relay.close)
    parked = _parked_events(parts, relay) if settings.run_workers else []
    if settings.run_api:
        readiness = _readiness(settings, producer, consumer, leadership, parked)
        parts_to_run["api"] = _serve_api(parts, readiness, stop)
    if leadership is None:
        return parts_to_run
    if consumer is not None:
        parts_to_run["consumer"] = consumer.run(stop)
    new_events = NewEventsSignal(settings.database_url, _notify_channel(parts.app))
    works: dict[str, Work] = {"new-events": new_events.run}
    for projection in parts.projections:
        works[f"projection:{projection.name}"] = partial(
            projection.run, wakeup=new_events.subscribe(), fence=leadership
        )
    for worker in parts.extra_workers:
        works[getattr(worker, "__qualname__", type(worker).__qualname__)] = worker
    if relay is not None:
        relay.wakeup = new_events.subscribe()
        works["relay"] = relay.run
    parts_to_run["leader"] = leadership.run(works, stop)
    return parts_to_run


def _doorbell(parts: ServiceParts) -> Doorbell | None:
    """The machine's doorbell, when configured and this process runs workers."""
    settings = parts.settings
    if not settings.doorbell_dir or not settings.run_workers:
        return None
    wanted = [event.event_type() for event in parts.events.consumes]
    doorbell = Doorbell(Path(settings.doorbell_dir), parts.events.consumed_topics, wanted)
    doorbell.open()
    return doorbell


def _relay(
    parts: ServiceParts,
    producer: AIOKafkaProducer,
    leadership: Leadership,
    doorbell: Doorbell | None,
) -> Relay | None:
    """The service's relay, if it publishes (it runs, fenced, only while this instance leads)."""
    settings = parts.settings
    if parts.events.topic is None:
        return None
    return Relay(
        service=parts.name,
        app=parts.app,
        to_integration=parts.events.to_integration,
        topic=parts.events.topic,
        producer=producer,
        bootstrap=settings.kafka_bootstrap_servers,
        database_url=settings.database_url,
        batch_size=settings.relay_batch_size,
        parked_check=settings.parked_check_seconds,
        fence=leadership,
        doorbell=doorbell,
    )


def _parked_events(parts: ServiceParts, relay: Relay | None) -> list[ParkedEvents]:
    """The parked stored events of each worker that reads the event store, for /readyz."""
    parked = [p.parking for p in parts.projections]
    for each in parked:
        each.check_every = parts.settings.parked_check_seconds
    return parked + ([relay.parking] if relay is not None else [])


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


def _consumer(
    parts: ServiceParts, producer: AIOKafkaProducer, doorbell: Doorbell | None
) -> EventConsumer:
    settings = parts.settings
    return EventConsumer(
        service=parts.name,
        app=parts.app,
        parked=parts.dead_letters.store,
        handlers=parts.events.consumes,
        topics=parts.events.consumed_topics,
        bootstrap=settings.kafka_bootstrap_servers,
        producer=producer,
        batch_size=settings.consumer_batch_size,
        group_id=settings.consumer_group or None,
        gap_rewind_after=settings.gap_rewind_seconds,
        gap_alarm_after=settings.gap_alarm_seconds,
        pacing=FetchPacing(
            busy_ms=settings.fetch_wait_busy_ms,
            idle_ms=settings.fetch_wait_idle_ms,
            rung_ms=settings.fetch_wait_rung_ms,
            quiet_after=settings.fetch_quiet_seconds,
            fallback_seconds=settings.doorbell_fallback_seconds,
        ),
        doorbell=doorbell,
    )


async def _until_stopped(name: str, work: Awaitable[Any], stop: asyncio.Event) -> None:
    """Run a part of the service; if it ends before `stop` (crashed, cancelled or returned),
    stop the process so the supervisor restarts it clean, rather than serve half a service."""
    try:
        await work
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # we are being stopped
        log.error("service part ended cancelled, stopping the service", part=name)
    except Exception:
        log.exception("service part crashed, stopping the service", part=name)
    else:
        if stop.is_set():
            return
        log.error("service part ended, stopping the service", part=name)
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
    settings: ServiceSettings,
    producer: AIOKafkaProducer,
    consumer: EventConsumer | None,
    leadership: Leadership | None,
    parked: Sequence[ParkedEvents] = (),
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

    def nothing_parked(parking: ParkedEvents) -> Callable[[], Any]:
        async def check() -> bool:
            """False while a stored event this worker could not handle awaits a decision."""
            # Re-read only while something is open: an ops decision clears the alarm here
            # too, also on an instance that no longer leads (its worker no longer looks).
            await asyncio.to_thread(parking.refresh_if_due)
            return not parking.open

        return check

    async def works() -> bool:
        """False while a relay, projection or worker this instance leads is down."""
        return leadership is None or leadership.works_up

    checks: ReadinessChecks = {
        "database": database,
        "broker": broker,
        "positions": no_gaps,
        "workers": works,
    }
    for parking in parked:  # "parked:relay", "parked:projection:<name>"
        checks[f"parked:{parking.worker}"] = nothing_parked(parking)
    return checks
