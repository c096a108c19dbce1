"""The delivery worker: pushes due news to channels, retries with backoff, gives up visibly.

Each attempt is claimed in the event store before the channel is called (an AttemptStarted
event with a lease), so of two workers (two instances, or a leader that lost its lock and
the next one) only one calls the channel; and no attempt starts for a delivery whose earlier
attempt is still in flight in this process, whatever happened to the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from uuid import UUID, uuid4

import httpx
import structlog

from services.channel_gateway.application import ChannelOrders, ChatMessages, utc_stamp
from services.channel_gateway.channels.http import (
    Job,
    PermanentChannelError,
    TransientChannelError,
)
from services.channel_gateway.channels.outbound import Deliverer, Outbound, ShippingArranger
from services.channel_gateway.channels.registry import Channel, ChannelRegistry
from services.channel_gateway.chat.senders import ChatSenders
from services.channel_gateway.domain import (
    ChatAddress,
    Delivery,
    DeliveryAction,
    MissingValuesError,
)
from services.channel_gateway.views import ChannelOrderViews
from shared.runtime.aio import sleep_or_stop

log = structlog.get_logger()

LEASE_MARGIN = 30.0  # seconds beyond an attempt's limit: recording its outcome, clock skew


@dataclass(frozen=True)
class DeliveryPolicy:
    """How often and how long the worker tries (built by bootstrap from the settings)."""

    max_attempts: int = 10
    backoff_initial: float = 5.0
    backoff_max: float = 1800.0
    poll_interval: float = 0.5
    concurrency: int = 8
    channel_timeout: float = 15.0

    @property
    def attempt_timeout(self) -> float:
        """How long one attempt may take at the channel (it may make a few calls)."""
        return self.channel_timeout * 4

    @property
    def lease(self) -> float:
        """How long a claimed attempt holds its delivery: no other attempt starts before."""
        return self.attempt_timeout + LEASE_MARGIN


class DeliveryWorker:
    """Runs in the leader; attempts are claimed durably, so a second worker is safe too."""

    def __init__(
        self,
        app: ChannelOrders,
        views: ChannelOrderViews,
        registry: ChannelRegistry,
        outbound: Outbound,
        policy: DeliveryPolicy,
        chats: ChatSenders | None = None,
    ) -> None:
        self.app = app
        self.views = views
        self.registry = registry
        self.outbound = outbound
        self.policy = policy
        self.chats = chats
        self.in_flight: dict[UUID, asyncio.Task[bool]] = {}  # attempts of this process
        self._slot_freed = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until stopped; attempts still in flight then are cancelled."""
        self._slot_freed = asyncio.Event()  # on this loop (a restarted run may be on another)
        async with self.http_client() as http:
            try:
                while not stop.is_set():
                    self._slot_freed.clear()
                    try:
                        waiting = await self.start_due(http)
                    except Exception:  # a database hiccup must not kill the leader's other work
                        log.exception("delivery round failed")
                        waiting = False
                    await self._pause(stop, waiting)
            finally:
                await self.cancel_attempts()

    def http_client(self) -> httpx.AsyncClient:
        """The client for every channel call of this worker."""
        return httpx.AsyncClient(timeout=self.policy.channel_timeout)

    async def start_due(self, http: httpx.AsyncClient, limit: int = 100) -> bool:
        """Start an attempt of each due delivery not in flight here, as many as the concurrency
        allows; True when due deliveries are left waiting for a free slot."""
        due = await asyncio.to_thread(self.views.due_deliveries, limit)
        for delivery_id in due:
            if delivery_id in self.in_flight:
                continue  # never a second attempt while the first runs
            if len(self.in_flight) >= self.policy.concurrency:
                return True
            task = asyncio.create_task(self._attempt_logged(delivery_id, http))
            self.in_flight[delivery_id] = task
            task.add_done_callback(partial(self._ended, delivery_id))
        return False

    async def process_due(self, http: httpx.AsyncClient, limit: int = 100) -> int:
        """Start the due deliveries and wait for every attempt in flight; how many ran."""
        await self.start_due(http, limit)
        return sum(await asyncio.gather(*self.in_flight.values()))

    async def cancel_attempts(self) -> None:
        """Cancel the attempts in flight (their claims keep others off until their lease ends)."""
        attempts = list(self.in_flight.values())
        for task in attempts:
            task.cancel()
        await asyncio.gather(*attempts, return_exceptions=True)

    def _ended(self, delivery_id: UUID, _: asyncio.Task[bool]) -> None:
        self.in_flight.pop(delivery_id, None)
        self._slot_freed.set()

    async def _pause(self, stop: asyncio.Event, waiting: bool) -> None:
        """The poll interval; with deliveries waiting for a slot, only until one frees."""
        if not waiting:
            await sleep_or_stop(stop, self.policy.poll_interval)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._slot_freed.wait(), self.policy.poll_interval)

    async def _attempt_logged(self, delivery_id: UUID, http: httpx.AsyncClient) -> bool:
        """One attempt; whatever it raises ends this attempt only (its claim lapses in time)."""
        try:
            return await self.attempt(delivery_id, http)
        except Exception:
            log.exception("delivery attempt crashed", delivery_id=str(delivery_id))
            return False

    async def attempt(self, delivery_id: UUID, http: httpx.AsyncClient) -> bool:
        """One attempt of one delivery, claimed before the channel is called, its outcome
        recorded as an event; False when it is not due or another attempt holds it."""
        attempt_id = uuid4().hex
        now = datetime.now(UTC)
        lease_until = utc_stamp(now + timedelta(seconds=self.policy.lease))
        delivery = await asyncio.to_thread(
            self.app.deliveries.claim, delivery_id, attempt_id, utc_stamp(now), lease_until
        )
        if delivery is None:
            return False  # handled meanwhile, not due yet, or held by another attempt
        if delivery.round_attempts > self.policy.max_attempts:
            # The last attempts ended without an outcome (the process died mid-call?).
            error = f"{delivery.round_attempts - 1} attempts, the last without an outcome"
            await self._failed(delivery, attempt_id, error, retry=False)
            return True
        try:
            channel = await asyncio.to_thread(self.registry.get, delivery.channel)
        except Exception as error:  # the connection could not be read: try again later
            await self._failed(delivery, attempt_id, f"{type(error).__name__}: {error}", True)
            return True
        client = await self.client_for(delivery, channel, http)
        if isinstance(client, str):
            await asyncio.to_thread(
                self.app.deliveries.skipped, delivery_id, client, utc_stamp(), attempt_id
            )
            log.warning("delivery skipped", delivery_id=str(delivery_id), reason=client)
            return True
        if delivery.action == DeliveryAction.ARRANGE_SHIPPING:
            return await self._arrange(delivery, attempt_id, client)
        try:
            outcome = await asyncio.wait_for(
                client.deliver(_job(delivery)), self.policy.attempt_timeout
            )
        except (TransientChannelError, TimeoutError) as error:
            await self._failed(delivery, attempt_id, f"{type(error).__name__}: {error}", True)
        except PermanentChannelError as error:
            await self._failed(delivery, attempt_id, str(error), retry=False)
        except Exception as error:  # a bug in an adapter fails the delivery, not the worker
            log.exception("delivery crashed", delivery_id=str(delivery_id))
            await self._failed(delivery, attempt_id, f"{type(error).__name__}: {error}", False)
        else:
            await asyncio.to_thread(
                self.app.deliveries.succeeded, delivery_id, outcome, utc_stamp(), attempt_id
            )
            log.info("delivered", delivery_id=str(delivery_id), outcome=outcome)
        return True

    async def _arrange(self, delivery: Delivery, attempt_id: str, client: Deliverer) -> bool:
        """A shipment for the channel's own logistics: what the channel gives (tracking number,
        shipping document) is recorded on the order, with the delivery's success, in one
        transaction; failures are retried or fail visibly like any delivery."""
        if not isinstance(client, ShippingArranger):
            error = f"channel {delivery.channel} has no logistics of its own to arrange shipping"
            await self._failed(delivery, attempt_id, error, retry=False)
            return True
        try:
            arrangement = await asyncio.wait_for(
                client.arrange_shipping(_job(delivery)), self.policy.attempt_timeout
            )
        except (TransientChannelError, TimeoutError) as error:
            await self._failed(delivery, attempt_id, f"{type(error).__name__}: {error}", True)
        except PermanentChannelError as error:
            await self._failed(delivery, attempt_id, str(error), retry=False)
        except Exception as error:  # a bug in an adapter fails the delivery, not the worker
            log.exception("arranging shipping crashed", delivery_id=str(delivery.id))
            await self._failed(delivery, attempt_id, f"{type(error).__name__}: {error}", False)
        else:
            outcome = (
                f"arranged: {arrangement['carrier']} {arrangement['tracking_number']},"
                f" {arrangement['document_type']} ({arrangement['document_media_type']})"
            )
            await asyncio.to_thread(
                self.app.deliveries.arranged,
                delivery.id,
                arrangement,
                outcome,
                utc_stamp(),
                attempt_id,
            )
            log.info("shipping arranged", delivery_id=str(delivery.id), outcome=outcome)
        return True

    async def client_for(
        self, delivery: Delivery, channel: Channel | None, http: httpx.AsyncClient
    ) -> Deliverer | str:
        """Who performs the delivery: the channel's client, or the sender of a customer
        message (its text written now, from the templates); else why nobody can."""
        if delivery.action != DeliveryAction.MESSAGE:
            return self.outbound.client_for(delivery.channel, channel, http)
        if self.chats is None:
            return "this gateway sends no customer messages"
        try:
            to, text = await asyncio.to_thread(self.app.chat.text_of, delivery)
        except MissingValuesError as error:
            return f"{error}: edit the template (PUT /v1/chat/templates), then retry"
        sender = self.chats.sender_for(to, delivery.channel, channel, http)
        if isinstance(sender, str):
            return sender
        return MessageDeliverer(sender, to, text)

    async def _failed(self, delivery: Delivery, attempt_id: str, error: str, retry: bool) -> None:
        attempt = delivery.round_attempts  # counted when it was claimed
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
            self.app.deliveries.failed, delivery.id, error, utc_stamp(), retry_at, attempt_id
        )

    def backoff(self, attempt: int) -> float:
        """Seconds before the next attempt: doubling, capped, with jitter against stampedes."""
        p = self.policy
        delay = min(p.backoff_initial * 2 ** (attempt - 1), p.backoff_max)
        return float(delay * random.uniform(0.8, 1.2))


@dataclass(frozen=True)
class MessageDeliverer:
    """A customer message as a delivery job: sent under the delivery's id as its key."""

    sender: ChatMessages
    to: ChatAddress
    text: str

    async def deliver(self, job: Job) -> str:
        """Send the message once (a retried attempt sends under the same key)."""
        return await self.sender.send(self.to, self.text, key=str(job.delivery_id))


def _job(delivery: Delivery) -> Job:
    return Job(
        delivery_id=delivery.id,
        action=delivery.action,
        external_id=delivery.external_id,
        details=delivery.details,
        order=delivery.order,
    )
