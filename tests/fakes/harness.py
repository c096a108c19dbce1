"""The gateway built in-process on real PostgreSQL, its API served on loopback (real HTTP)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from aiokafka import ConsumerRecord, TopicPartition

from services.channel_gateway.bootstrap import build
from services.channel_gateway.settings import Settings
from shared import events as ev
from shared.events import topics
from shared.events.codec import encode
from shared.runtime.consumer import EventConsumer
from tests.fakes.server import LoopbackServer

AT = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
FAST_RETRIES = {
    "delivery_backoff_initial": 0.05,
    "delivery_backoff_max": 0.2,
    "delivery_poll_interval": 0.02,
    "delivery_max_attempts": 10,
    "connection_cache_seconds": 0.0,
    "channel_timeout": 5.0,
}


class Gateway:
    """One gateway: HTTP on loopback, its consumer, projection and workers driven by the test."""

    def __init__(self, database_url: str, **settings: Any) -> None:
        self.settings = Settings(database_url=database_url, **{**FAST_RETRIES, **settings})
        self.parts = build(self.settings)
        self.app: Any = self.parts.app
        self.projection = self.parts.projections[0]
        self.server = LoopbackServer(self.parts.api_factory({})).start()
        self.http = httpx.Client(base_url=self.server.url, timeout=30)
        self.position = 0

    def close(self) -> None:
        """Stop serving and close the pools."""
        self.http.close()
        self.server.stop()
        self.parts.close()

    def stored(self) -> int:
        """How many events the gateway has recorded."""
        return self.app.recorder.max_notification_id() or 0

    def register(self, body: dict[str, Any]) -> httpx.Response:
        """POST /v1/channels."""
        response = self.http.post("/v1/channels", json=body)
        assert response.status_code in (200, 201), response.text
        return response

    def catch_up(self) -> None:
        """Bring the read models up to date."""
        self.projection.catch_up()

    def publish(self, event: ev.IntegrationEvent) -> None:
        """Deliver one event through the gateway's consumer, as its publisher's relay would."""
        self.position += 1
        wire = encode(
            event,
            event_id=str(uuid.uuid4()),
            service=topics.PUBLISHER[event.topic],
            position=self.position,
            time=AT,
        )
        record = ConsumerRecord(
            event.topic, 0, self.position, 0, 0, wire.key, wire.value, None, 0, 0, wire.headers
        )
        consumer = EventConsumer(
            service=self.parts.name,
            app=self.app,
            handlers=self.parts.handlers,
            topics=self.parts.consumes,
            bootstrap="unused:9092",
            producer=None,  # type: ignore[arg-type]
        )
        asyncio.run(consumer.handle_batch(TopicPartition(event.topic, 0), [record]))

    def run_workers(self, until: Callable[[], bool], timeout: float = 20.0) -> float:
        """Run projection and delivery worker (as the leader does) until a condition holds."""
        deadline = time.monotonic() + timeout

        async def main() -> None:
            stop = asyncio.Event()
            tasks = [
                asyncio.create_task(self.projection.run(stop)),
                asyncio.create_task(self.parts.deliveries.run(stop)),  # type: ignore[attr-defined]
            ]
            try:
                while time.monotonic() < deadline:
                    if await asyncio.to_thread(until):
                        return
                    await asyncio.sleep(0.05)
                raise TimeoutError("condition not reached")
            finally:
                stop.set()
                await asyncio.gather(*tasks)

        started = time.monotonic()
        asyncio.run(main())
        self.catch_up()
        return time.monotonic() - started

    def deliveries(self, **params: Any) -> list[dict[str, Any]]:
        """GET /v1/deliveries."""
        response = self.http.get("/v1/deliveries", params=params)
        assert response.status_code == 200, response.text
        return response.json()["data"]  # type: ignore[no-any-return]


def shipped(order_id: uuid.UUID, lines: list[tuple[str, int]], **overrides: Any) -> ev.Shipped:
    """What fulfillment reports when a shipment of the order leaves."""
    fields: dict[str, Any] = {
        "shipment_id": uuid.uuid4(),
        "order_id": order_id,
        "location_id": "WH-BER",
        "carrier": "DHL",
        "tracking_number": "00340434292135100186",
        "lines": [ev.ItemQuantity(sku=s, quantity=q) for s, q in lines],
        "shipped_at": AT,
        **overrides,
    }
    return ev.Shipped(**fields)


def cancelled(order_id: uuid.UUID, channel: str, external_id: str) -> ev.OrderCancelled:
    """What the order service reports when it cancels an order."""
    return ev.OrderCancelled(
        order_id=order_id,
        channel=channel,
        external_id=external_id,
        reason="out of stock at every location",
        cancelled_at=AT,
    )


def refunded(order_id: uuid.UUID, sku: str, amount: str, currency: str = "EUR") -> ev.Refunded:
    """What returns reports when money went back for one unit."""
    return ev.Refunded(
        refund_id=uuid.uuid4(),
        return_id=uuid.uuid4(),
        order_id=order_id,
        amount=Decimal(amount),
        currency=currency,
        lines=[ev.RefundLine(sku=sku, quantity=1, amount=Decimal(amount))],
        refunded_at=AT,
    )
