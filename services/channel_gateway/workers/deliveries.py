"""The delivery worker: pushes due news to channels, retries with backoff, gives up visibly."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import structlog

from services.channel_gateway.application import ChannelOrders, utc_stamp
from services.channel_gateway.channels.http import (
    Job,
    PermanentChannelError,
    TransientChannelError,
)
from services.channel_gateway.channels.outbound import Outbound
from services.channel_gateway.channels.registry import ChannelRegistry
from services.channel_gateway.domain import Delivery
from services.channel_gateway.views import ChannelOrderViews
from shared.runtime.aio import sleep_or_stop

log = structlog.get_logger()


@dataclass(frozen=True)
class DeliveryPolicy:
    """How often and how long the worker tries (built by bootstrap from the settings)."""

    max_attempts: int = 10
    backoff_initial: float = 5.0
    backoff_max: float = 1800.0
    poll_interval: float = 0.5
    concurrency: int = 8
    channel_timeout: float = 15.0


class DeliveryWorker:
    """Runs in the leader only, so one delivery is never attempted twice at the same time."""

    def __init__(
        self,
        app: ChannelOrders,
        views: ChannelOrderViews,
        registry: ChannelRegistry,
        outbound: Outbound,
        policy: DeliveryPolicy,
    ) -> None:
        self.app = app
        self.views = views
        self.registry = registry
        self.outbound = outbound
        self.policy = policy

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until stopped."""
        async with self.http_client() as http:
            while not stop.is_set():
                try:
                    done = await self.process_due(http)
                except Exception:  # a database hiccup must not kill the leader's other work
                    log.exception("delivery round failed")
                    done = 0
                if not done:
                    await sleep_or_stop(stop, self.policy.poll_interval)

    def http_client(self) -> httpx.AsyncClient:
        """The client for every channel call of this worker."""
        return httpx.AsyncClient(timeout=self.policy.channel_timeout)

    async def process_due(self, http: httpx.AsyncClient, limit: int = 100) -> int:
        """Attempt every due delivery once; returns how many were attempted."""
        due = await asyncio.to_thread(self.views.due_deliveries, limit)
        gate = asyncio.Semaphore(self.policy.concurrency)

        async def attempt(delivery_id: UUID) -> bool:
            async with gate:
                return await self.attempt(delivery_id, http)

        return sum(await asyncio.gather(*(attempt(d) for d in due)))

    async def attempt(self, delivery_id: UUID, http: httpx.AsyncClient) -> bool:
        """One attempt of one delivery, its outcome recorded as an event; False if not due."""
        delivery = await asyncio.to_thread(self.app.deliveries.get, delivery_id)
        if not delivery.is_due(utc_stamp()):
            return False  # the view lags behind the event store: already handled
        channel = await asyncio.to_thread(self.registry.get, delivery.channel)
        client = self.outbound.client_for(delivery.channel, channel, http)
        if isinstance(client, str):
            await asyncio.to_thread(self.app.deliveries.skipped, delivery_id, client, utc_stamp())
            log.warning("delivery skipped", delivery_id=str(delivery_id), reason=client)
            return True
        try:
            outcome = await asyncio.wait_for(
                client.deliver(_job(delivery)), self.policy.channel_timeout * 4
            )
        except (TransientChannelError, TimeoutError) as error:
            await self._failed(delivery, f"{type(error).__name__}: {error}", retry=True)
        except PermanentChannelError as error:
            await self._failed(delivery, str(error), retry=False)
        except Exception as error:  # a bug in an adapter fails the delivery, not the worker
            log.exception("delivery crashed", delivery_id=str(delivery_id))
            await self._failed(delivery, f"{type(error).__name__}: {error}", retry=False)
        else:
            await asyncio.to_thread(
                self.app.deliveries.succeeded, delivery_id, outcome, utc_stamp()
            )
            log.info("delivered", delivery_id=str(delivery_id), outcome=outcome)
        return True

    async def _failed(self, delivery: Delivery, error: str, retry: bool) -> None:
        attempt = delivery.round_attempts + 1
        retry_at = None
        if retry and attempt < self.policy.max_attempts:
            retry_at = utc_stamp(datetime.now(UTC) + timedelta(seconds=self.backoff(attempt)))
        log.warning(
            "delivery attempt failed",
            delivery_id=str(delivery.id),
            attempt=attempt,
            error=error,
            retry_at=retry_at,
        )
        await asyncio.to_thread(
            self.app.deliveries.failed, delivery.id, error, utc_stamp(), retry_at
        )

    def backoff(self, attempt: int) -> float:
        """Seconds before the next attempt: doubling, capped, with jitter against stampedes."""
        p = self.policy
        delay = min(p.backoff_initial * 2 ** (attempt - 1), p.backoff_max)
        return float(delay * random.uniform(0.8, 1.2))


def _job(delivery: Delivery) -> Job:
    return Job(
        delivery_id=delivery.id,
        action=delivery.action,
        external_id=delivery.external_id,
        details=delivery.details,
        order=delivery.order,
    )
