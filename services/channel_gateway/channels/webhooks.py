"""What the webhook endpoints use, in one piece: the channel, the group commit, recent event ids.

Webhooks are the hot path of intake: one component per request (not one per collaborator), a
channel from the cache without leaving the event loop, and the order handed to the group commit.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from uuid import UUID

import httpx

from services.channel_gateway.application import (
    ChannelOrders,
    IntakeBatcher,
    IntakeResult,
    NewsResult,
    Translation,
)
from services.channel_gateway.channels.base import Connection
from services.channel_gateway.channels.outbound import shopee_client
from services.channel_gateway.channels.registry import Channel, ChannelRegistry
from services.channel_gateway.channels.shopee.tokens import ShopeeTokens
from services.channel_gateway.domain import RawPayload

Translate = Callable[[Connection, RawPayload], Translation]
Cancellation = Callable[[RawPayload], "tuple[str, str] | None"]
"""A channel's reading of a whole order: (its id, the reason) when it was cancelled there."""


class RecentEvents:
    """Webhook event ids answered lately, so a redelivery costs no parsing (bounded memory).

    Durable dedupe is on the order id (the same order is stored once, whatever the event id).
    """

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._seen: OrderedDict[tuple[str, str], UUID] = OrderedDict()

    def get(self, channel_id: str, event_id: str | None) -> UUID | None:
        """The order an event id led to, if seen lately."""
        return self._seen.get((channel_id, event_id)) if event_id else None

    def add(self, channel_id: str, event_id: str | None, order_id: UUID) -> None:
        """Remember an answered event id."""
        if event_id:
            self._seen[(channel_id, event_id)] = order_id
            if len(self._seen) > self.size:
                self._seen.popitem(last=False)


class WebhookIntake:
    """Channels pushing orders: their connection and secrets, dedupe, and intake."""

    def __init__(
        self,
        app: ChannelOrders,
        channels: ChannelRegistry,
        batcher: IntakeBatcher,
        channel_timeout: float,
        recent: RecentEvents | None = None,
        shopee_tokens: ShopeeTokens | None = None,
    ) -> None:
        self.app = app
        self.channels = channels
        self.batcher = batcher
        self.channel_timeout = channel_timeout
        self.recent = recent or RecentEvents()
        self.shopee_tokens = shopee_tokens

    async def channel(self, channel_id: str, kind: str) -> Channel | None:
        """The connected channel of this kind, or None (from the cache when it can)."""
        hit, channel = self.channels.cached(channel_id)
        if not hit:
            channel = await asyncio.to_thread(self.channels.get, channel_id)
        if channel is None or channel.connection.kind != kind:
            return None
        return channel

    def seen(self, channel_id: str, event_id: str | None) -> UUID | None:
        """The order an event id of this channel led to, if answered lately."""
        return self.recent.get(channel_id, event_id)

    async def take_in(self, translation: Translation, event_id: str | None) -> IntakeResult:
        """Store the order with the next group commit; remember the event id that brought it."""
        result = await self.batcher.take_in(translation)
        self.recent.add(translation.channel, event_id, result.order_id)
        return result

    async def take_in_sent_again(
        self,
        connection: Connection,
        payload: RawPayload,
        translate: Translate,
        cancellation: Cancellation,
        event_id: str | None,
    ) -> NewsResult:
        """An order the channel sent again, whole, after it changed (an update webhook; the
        reconciliation poll too): its cancellation, payment or ship-to recorded, or kept when the
        order was never taken in (Intake.take_in_news). MalformedPayloadError when it is not in
        the channel's shape."""
        cancelled = cancellation(payload)
        translation = translate(connection, payload)
        reason = None if cancelled is None else cancelled[1]
        intake = self.app.intake
        result = await asyncio.to_thread(intake.take_in_news, translation, event_id, reason)
        self.recent.add(translation.channel, event_id, result.order_id)
        return result

    async def take_in_cancellation(
        self, channel_id: str, external_id: str, reason: str, event_id: str | None
    ) -> NewsResult:
        """Record that the channel cancelled an order (kept when it was never taken in)."""
        intake = self.app.intake
        result = await asyncio.to_thread(
            intake.take_in_cancellation, channel_id, external_id, reason, event_id
        )
        self.recent.add(channel_id, event_id, result.order_id)
        return result

    async def knows(self, channel_id: str, external_id: str) -> bool:
        """Whether this channel order was taken in before."""
        return await asyncio.to_thread(self.app.intake.knows_order, channel_id, external_id)

    async def shopee_detail(self, channel: Channel, order_sn: str) -> RawPayload:
        """Pull a pushed Shopee order (signed); ChannelCallError when Shopee fails."""
        async with httpx.AsyncClient(timeout=self.channel_timeout) as http:
            client = shopee_client(channel, http, self.shopee_tokens)
            return await client.order_detail(order_sn)
