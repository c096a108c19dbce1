"""What the webhook endpoints use, in one piece: the channel, the group commit, recent event ids.

Webhooks are the hot path of intake: one component per request (not one per collaborator), a
channel from the cache without leaving the event loop, and the order handed to the group commit.

The news of an order (the channel sent it again after a change) is read here, once, for the
webhook endpoints and for the reconciliation poll alike (`news`, `status_news`).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import httpx

from services.channel_gateway.application import (
    ChannelOrders,
    ChannelRefund,
    IntakeBatcher,
    IntakeResult,
    NewsResult,
    NewsStatus,
    Translation,
)
from services.channel_gateway.channels.base import Connection
from services.channel_gateway.channels.outbound import shopee_client
from services.channel_gateway.channels.registry import Channel, ChannelRegistry
from services.channel_gateway.channels.shopee import translate as shopee
from services.channel_gateway.channels.shopee.tokens import ShopeeTokens
from services.channel_gateway.channels.shopify import translate as shopify
from services.channel_gateway.channels.woocommerce import translate as woocommerce
from services.channel_gateway.domain import ChannelKind, RawPayload, order_id_for


@dataclass(frozen=True)
class NewsReader:
    """How a channel's whole order, sent again after a change, is read: as an order, for its
    cancellation ((order id, reason) or None) and for the units of each line now."""

    translate: Callable[[Connection, RawPayload], Translation]
    cancellation: Callable[[RawPayload], tuple[str, str] | None]
    quantities: Callable[[RawPayload], dict[str, int]]


# Channels that send the whole order again after it changed (orders/updated, order.updated).
NEWS_READERS: dict[str, NewsReader] = {
    ChannelKind.SHOPIFY: NewsReader(
        shopify.translate, shopify.cancellation, shopify.current_quantities
    ),
    ChannelKind.WOOCOMMERCE: NewsReader(
        woocommerce.translate, woocommerce.cancellation, woocommerce.current_quantities
    ),
}


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

    async def news(self, channel: Channel, payload: RawPayload, event_id: str | None) -> NewsResult:
        """A whole order sent again after a change (a webhook, or found by the poll): its
        cancellation, else its payment, ship-to and lines cut, recorded (Intake.take_in_news), or
        kept when the order was never taken in; MalformedPayloadError when it is not an order."""
        reader = NEWS_READERS[channel.connection.kind]
        cancelled = reader.cancellation(payload)
        translation = reader.translate(channel.connection, payload)
        reason, quantities = None, None
        if cancelled is not None:
            reason = cancelled[1]
        else:
            quantities = reader.quantities(payload)
        intake = self.app.intake
        result = await asyncio.to_thread(
            intake.take_in_news, translation, event_id, reason, quantities
        )
        self.recent.add(translation.channel, event_id, result.order_id)
        return result

    async def status_news(
        self,
        channel_id: str,
        external_id: str,
        status: str,
        event_id: str | None,
        reference: str | None = None,
    ) -> NewsResult:
        """A channel's new status of an order (a Shopee push, or found by the poll); a status
        that lets an order be placed is intake, not news (the caller takes the order in). A
        buyer's cancellation request (IN_CANCEL) is recorded for the OMS to answer; the poll,
        which sees no time of it, names it by its status (one open request at a time)."""
        if status == shopee.CANCELLED:
            return await self.cancelled(channel_id, external_id, "cancelled at Shopee", event_id)
        if status == shopee.IN_CANCEL:
            asked = reference or shopee.IN_CANCEL
            result = await self.take_in_cancel_request(
                channel_id, external_id, shopee.BUYER_ASKED, asked
            )
            order_id = order_id_for(channel_id, external_id)
            if result is None:  # not an order of ours: nobody here can answer for it
                return NewsResult(order_id, NewsStatus.IGNORED)
            recorded = NewsStatus.CANCEL_REQUEST_RECORDED
            return NewsResult(order_id, recorded if result.created else NewsStatus.UNCHANGED)
        return NewsResult(order_id_for(channel_id, external_id), NewsStatus.IGNORED)

    async def cancelled(
        self, channel_id: str, external_id: str, reason: str, event_id: str | None
    ) -> NewsResult:
        """The channel cancelled an order: the OMS is told once; kept when never taken in."""
        return await self.take_in_cancellation(channel_id, external_id, reason, event_id)

    async def take_in_refund(
        self, refund: ChannelRefund, event_id: str | None
    ) -> IntakeResult | None:
        """Record a refund made at the channel; None for an order never taken in."""
        result = await asyncio.to_thread(self.app.intake.take_in_refund, refund)
        if result is not None:
            self.recent.add(refund.channel, event_id, result.order_id)
        return result

    async def take_in_cancel_request(
        self, channel_id: str, external_id: str, reason: str, reference: str
    ) -> IntakeResult | None:
        """Record the buyer's request to cancel an order; None for an order never taken in."""
        intake = self.app.intake
        return await asyncio.to_thread(
            intake.take_in_cancel_request, channel_id, external_id, reason, reference
        )

    async def knows(self, channel_id: str, external_id: str) -> bool:
        """Whether this channel order was taken in before."""
        return await asyncio.to_thread(self.app.intake.knows_order, channel_id, external_id)

    async def shopee_detail(self, channel: Channel, order_sn: str) -> RawPayload:
        """Pull a pushed Shopee order (signed); ChannelCallError when Shopee fails."""
        async with httpx.AsyncClient(timeout=self.channel_timeout) as http:
            client = shopee_client(channel, http, self.shopee_tokens)
            return await client.order_detail(order_sn)
