"""Webhooks channels push to: signatures checked on the raw body, duplicates answered 200.

A forged or missing signature gets 401 and nothing is recorded; a body that is not the
channel's documented shape gets 400/422 with the reason; an order that cannot be placed is
held, never dropped.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from typing import Any
from uuid import UUID

import httpx
from fastapi import APIRouter, Request

from services.channel_gateway.application import Intake
from services.channel_gateway.channels.base import MalformedPayloadError, Translation
from services.channel_gateway.channels.http import ChannelCallError, TransientChannelError
from services.channel_gateway.channels.shopee import translate as shopee
from services.channel_gateway.channels.shopee.transport import ShopeeClient
from services.channel_gateway.channels.shopify import translate as shopify
from services.channel_gateway.channels.woocommerce import translate as woocommerce
from services.channel_gateway.intake import command_of
from services.channel_gateway.registry import Channel
from services.channel_gateway.schemas import WebhookAccepted
from shared.runtime.api import Problem

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


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


@router.post("/shopify/{channel_id}", response_model=WebhookAccepted)
async def shopify_webhook(channel_id: str, request: Request) -> WebhookAccepted:
    """Shopify orders/create: X-Shopify-Hmac-Sha256 over the raw body (current or previous
    secret), deduped on X-Shopify-Event-Id and on the order id."""
    body = await request.body()
    channel = await _channel(request, channel_id, "shopify")
    header = request.headers.get("X-Shopify-Hmac-Sha256")
    if not shopify.signature_valid(body, header, channel.secrets.candidates("webhook_secret")):
        raise _unsigned("X-Shopify-Hmac-Sha256")
    topic = request.headers.get("X-Shopify-Topic")
    if topic and topic != shopify.ORDER_CREATED:
        return WebhookAccepted(status="ignored")
    event_id = request.headers.get("X-Shopify-Event-Id") or request.headers.get(
        "X-Shopify-Webhook-Id"
    )
    return await _intake(request, channel, event_id, body, shopify.translate)


@router.post("/woocommerce/{channel_id}", response_model=WebhookAccepted)
async def woocommerce_webhook(channel_id: str, request: Request) -> WebhookAccepted:
    """WooCommerce order.created: X-WC-Webhook-Signature over the raw body; the unsigned ping
    sent when the webhook is saved is answered 200."""
    body = await request.body()
    channel = await _channel(request, channel_id, "woocommerce")
    if woocommerce.is_ping(body, request.headers.get("content-type")):
        return WebhookAccepted(status="pong")
    header = request.headers.get("X-WC-Webhook-Signature")
    if not woocommerce.signature_valid(body, header, channel.secrets.candidates("webhook_secret")):
        raise _unsigned("X-WC-Webhook-Signature")
    topic = request.headers.get("X-WC-Webhook-Topic")
    if topic and topic != woocommerce.ORDER_CREATED:
        return WebhookAccepted(status="ignored")
    event_id = request.headers.get("X-WC-Webhook-Delivery-ID")
    return await _intake(request, channel, event_id, body, woocommerce.translate)


@router.post("/shopee/{channel_id}", response_model=WebhookAccepted)
async def shopee_push(channel_id: str, request: Request) -> WebhookAccepted:
    """Shopee push: Authorization is HMAC of `<callback url>|<body>` with the partner key; for
    an order that is ready to ship, get_order_detail is pulled (signed) and translated."""
    body = await request.body()
    channel = await _channel(request, channel_id, "shopee")
    url = channel.connection.config.get("push_url") or str(request.url)
    key = channel.secrets.current.get("partner_key", "")
    if not shopee.push_signature_valid(url, body, request.headers.get("Authorization"), key):
        raise _unsigned("Authorization")
    message, data = _parse(shopee.parse_push, _json(body))
    if message.shop_id != int(channel.connection.config.get("shop_id", 0)):
        raise Problem(422, "Wrong shop", f"push for shop {message.shop_id}, not this channel's")
    if data is None or data.status != shopee.PLACEABLE:
        return WebhookAccepted(status="ignored")
    app = request.app.state.channel_orders
    if await asyncio.to_thread(app.knows_order, channel_id, data.ordersn):
        return WebhookAccepted(status="duplicate", duplicate=True)
    detail = await _shopee_detail(request, channel, data.ordersn)
    try:
        translation = shopee.translate(channel.connection, detail)
    except MalformedPayloadError as error:  # Shopee's own answer is odd: hold, do not drop
        translation = Translation(channel_id, data.ordersn, detail, reasons=[str(error)])
    return await _take_in(request, translation, None)


async def _channel(request: Request, channel_id: str, kind: str) -> Channel:
    registry = request.app.state.registry
    hit, channel = registry.cached(channel_id)
    if not hit:
        channel = await asyncio.to_thread(registry.get, channel_id)
    if channel is None or channel.connection.kind != kind:
        raise Problem(404, "Channel not found", f"no {kind} channel {channel_id} is connected")
    return channel  # type: ignore[no-any-return]


def _unsigned(header: str) -> Problem:
    return Problem(401, "Invalid signature", f"{header} is missing or does not match the body")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as error:
        raise Problem(400, "Malformed payload", f"body is not JSON: {error}") from None


def _parse(parse: Any, payload: Any) -> Any:
    try:
        return parse(payload)
    except MalformedPayloadError as error:
        raise Problem(422, "Malformed payload", str(error)) from None


async def _intake(
    request: Request, channel: Channel, event_id: str | None, body: bytes, translate: Any
) -> WebhookAccepted:
    recent: RecentEvents = request.app.state.recent_events
    seen = recent.get(channel.connection.channel_id, event_id)
    if seen is not None:
        return WebhookAccepted(status="duplicate", order_id=seen, duplicate=True)
    payload = _json(body)
    if not isinstance(payload, dict):
        raise Problem(422, "Malformed payload", "body: expected a JSON object")
    translation = _parse(lambda p: translate(channel.connection, p), payload)
    return await _take_in(request, translation, event_id)


async def _take_in(
    request: Request, translation: Translation, event_id: str | None
) -> WebhookAccepted:
    result: Intake = await request.app.state.batcher.take_in(command_of(translation))
    request.app.state.recent_events.add(translation.channel, event_id, result.order_id)
    status = "duplicate" if not result.created else result.status
    return WebhookAccepted(status=status, order_id=result.order_id, duplicate=not result.created)


async def _shopee_detail(request: Request, channel: Channel, order_sn: str) -> dict[str, Any]:
    timeout = request.app.state.settings.channel_timeout
    async with httpx.AsyncClient(timeout=timeout) as http:
        client = ShopeeClient(channel.connection.config, channel.secrets.current, http)
        try:
            return await client.order_detail(order_sn)
        except TransientChannelError as error:
            # Answering 5xx makes Shopee push again later: the order is not lost.
            raise Problem(503, "Shopee unavailable", str(error)) from None
        except ChannelCallError as error:
            raise Problem(502, "Shopee refused", str(error)) from None
