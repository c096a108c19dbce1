"""Driving a service in tests: apply events as its consumer does, or run it whole on a broker."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaProducer
from pydantic_settings import BaseSettings

from shared.events import topics
from shared.events.base import IntegrationEvent
from shared.events.codec import encode
from shared.runtime.application import ServiceApplication, UnitOfWork
from shared.runtime.service import ServiceParts, run_parts

T = TypeVar("T")
S = TypeVar("S", bound=BaseSettings)
# The break-glass admin token of the services tests run (the settings' access_bootstrap_token).
ADMIN_TOKEN = "oms_00000000000000000000000000000a11_test-admin-token-of-the-test-services-00000"
# The last position published per (broker, publisher): services of one test share a broker,
# and two of them publishing as the same source must not reuse a position.
_POSITIONS: dict[tuple[str, str], int] = defaultdict(int)


# The gateway's key for channel secrets in tests (a Fernet key, as OMS_GATEWAY_SECRETS_KEYS).
SECRETS_KEY = "EThVafZY52CnVPuYmGgz08n3jLIS6YBSqsk_OEERe8Y="
CLI_ENV = {"OMS_TOKEN": ADMIN_TOKEN}
"""The environment of an `oms` command run against the test services."""


def settings_for_tests(settings_class: type[S], **overrides: Any) -> S:
    """A service's settings as tests run it: the test admin token, the gateway's test key."""
    fields = settings_class.model_fields
    given = {"access_bootstrap_token": ADMIN_TOKEN}
    if "secrets_keys" in fields:
        given["secrets_keys"] = SECRETS_KEY
    return settings_class(**{**given, **overrides})


def bearer(token: str | None) -> dict[str, str]:
    """The Authorization header of a token (none without one)."""
    return {} if token is None else {"Authorization": f"Bearer {token}"}


def apply(
    app: ServiceApplication,
    handlers: dict[type[IntegrationEvent], Any],
    *events: IntegrationEvent,
) -> None:
    """Apply inbound events in one unit of work, exactly as the service's consumer would."""
    uow = UnitOfWork(app)
    for event in events:
        handlers[type(event)](app, event, uow)
    uow.commit()


def eventually(check: Callable[[], T], timeout: float = 30.0, interval: float = 0.05) -> T:
    """Call `check` until it returns something truthy without failing an assert; return that.

    For what happens asynchronously (a consumer applying, a projection catching up); the last
    assertion error is raised when time runs out, so the failure says what never came true.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
            failure: AssertionError = AssertionError(f"{check} stayed {result!r}")
        except AssertionError as error:
            failure = error
        if time.monotonic() > deadline:
            raise failure
        time.sleep(interval)


class RunningService:
    """A built service running in a background thread as `oms up` runs it: API, consumers,
    relay, projections and workers, on the real broker and PostgreSQL."""

    def __init__(self, parts: ServiceParts) -> None:
        self.parts = parts
        self._stopped = False
        self.app: Any = parts.app
        bootstrap = parts.settings.access_bootstrap_token
        self.http = httpx.Client(
            base_url=f"http://{parts.settings.http_host}:{parts.settings.http_port}",
            timeout=30,
            headers=bearer(bootstrap.get_secret_value() if bootstrap else None),
            # Idle connections are dropped before uvicorn's 5 s keep-alive ends them: a request
            # sent on one the server is closing met "Server disconnected" (seen after a 5 s wait).
            limits=httpx.Limits(keepalive_expiry=2.0),
        )
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name=parts.name, daemon=True)
        self._producer: AIOKafkaProducer | None = None
        self._failure: BaseException | None = None

    def start(self) -> RunningService:
        """Start and wait until the API answers (and so the workers are under way)."""
        self._thread.start()
        eventually(self._ready, timeout=30)
        return self

    def stop(self) -> None:
        """Stop the workers and the API, close the producer and the pools (once)."""
        if self._stopped:
            return
        self._stopped = True
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)
        self.http.close()
        self.parts.close()

    def publish(
        self,
        *events: IntegrationEvent,
        source: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        """Put events on their topics as their publisher's relay would, each at its next position.

        `source` defaults to the service that publishes the event's topic.
        """
        asyncio.run_coroutine_threadsafe(
            self._publish(events, source, correlation_id), self._loop
        ).result(timeout=30)

    def publish_at(
        self,
        event: IntegrationEvent,
        *,
        position: int,
        predecessor: int | None,
        partition: int = 0,
        source: str | None = None,
    ) -> None:
        """Put one event on a given partition at a given position, as a relay that lost or
        repeated messages would: for tests of duplicates and gaps."""
        asyncio.run_coroutine_threadsafe(
            self._publish_at(event, position, predecessor, partition, source), self._loop
        ).result(timeout=30)

    def get_json(self, path: str, **params: Any) -> Any:
        """The JSON body of a 200 answer, or None (for `eventually`: not there yet)."""
        answer = self.http.get(path, params=params)
        return answer.json() if answer.status_code == 200 else None

    def stored(self) -> int:
        """How many events the service has recorded."""
        return int(self.app.recorder.max_notification_id() or 0)

    def _ready(self) -> bool:
        if self._failure is not None:
            raise AssertionError(f"{self.parts.name} failed to start: {self._failure!r}")
        try:
            return self.http.get("/livez").status_code == 200
        except httpx.TransportError:
            return False

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as error:  # reported by start() or the next publish
            self._failure = error
        finally:
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        settings = self.parts.settings
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers, linger_ms=0
        )
        await self._producer.start()
        try:
            await run_parts(self.parts, self._stop)
        finally:
            await self._producer.stop()

    async def _publish_at(
        self,
        event: IntegrationEvent,
        position: int,
        predecessor: int | None,
        partition: int,
        source: str | None,
    ) -> None:
        assert self._producer is not None, "start() the service first"
        publisher = source or topics.PUBLISHER[event.topic]
        message = encode(
            event,
            event_id=f"{publisher}-{position}",
            service=publisher,
            position=position,
            predecessor=predecessor,
        )
        await self._producer.send_and_wait(
            event.topic,
            message.value,
            key=message.key,
            headers=message.headers,
            partition=partition,
        )

    async def _publish(
        self, events: Iterable[IntegrationEvent], source: str | None, correlation_id: str | None
    ) -> None:
        assert self._producer is not None, "start() the service first"
        for event in events:
            publisher = source or topics.PUBLISHER[event.topic]
            stream = (self.parts.settings.kafka_bootstrap_servers, publisher)
            _POSITIONS[stream] += 1
            position = _POSITIONS[stream]
            message = encode(
                event,
                event_id=f"{publisher}-{position}",
                service=publisher,
                position=position,
                correlation_id=correlation_id,
            )
            await self._producer.send_and_wait(
                event.topic, message.value, key=message.key, headers=message.headers
            )
