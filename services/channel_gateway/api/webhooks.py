"""Webhooks channels push to: signatures checked on the raw body, duplicates answered 200.

A forged or missing signature gets 401 and nothing is recorded; a body that is not the
channel's documented shape gets 400/422 with the reason; an order that cannot be placed is
held, never dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request

from services.channel_gateway.application import NewsResult, NewsStatus, Translation, utc_stamp
from services.channel_gateway.channels.base import Connection, MalformedPayloadError
from services.channel_gateway.channels.registry import Channel
from services.channel_gateway.channels.shopee import translate as shopee
from services.channel_gateway.channels.shopify import translate as shopify
from services.channel_gateway.channels.webhooks import WebhookIntake
from services.channel_gateway.channels.woocommerce import translate as woocommerce
from services.channel_gateway.domain import ChannelKind, RawPayload
from services.channel_gateway.schemas import WebhookAccepted
from shared.runtime.api import Problem, component, problems

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
Translate = Callable[[Connection, RawPayload], Translation]
# Topics that carry the whole order again after it changed: its payment, ship-to, cancellation.
SHOPIFY_NEWS = frozenset({"orders/paid", "orders/updated", "orders/cancelled"})
WOOCOMMERCE_NEWS = frozenset({"order.updated"})
# The body is read raw (its signature is checked first): 400 not JSON, 401 unsigned, 503 when
# our database is down (the channel sends it again).
WEBHOOK_PROBLEMS = problems(400, 401, 503)


@router.post("/shopify/{channel_id}", response_model=WebhookAccepted, responses=WEBHOOK_PROBLEMS)
async def shopify_webhook(channel_id: str, request: Request) -> WebhookAccepted:
    """Shopify orders/create (and orders/paid, orders/updated, orders/cancelled: news;
    refunds/create: a refund made at Shopify): X-Shopify-Hmac-Sha256 over the raw body (current
    or previous secret), deduped on X-Shopify-Event-Id and on the order (or refund) id."""
    body = await request.body()
    webhooks = component(request, WebhookIntake)
    channel = await _channel(webhooks, channel_id, ChannelKind.SHOPIFY)
    header = request.headers.get("X-Shopify-Hmac-Sha256")
    if not shopify.signature_valid(body, header, channel.secrets.candidates("webhook_secret")):
        raise _unsigned("X-Shopify-Hmac-Sha256")
    topic = request.headers.get("X-Shopify-Topic")
    event_id = request.headers.get("X-Shopify-Event-Id") or request.headers.get(
        "X-Shopify-Webhook-Id"
    )
    if topic in SHOPIFY_NEWS:
        return await _news(webhooks, channel, event_id, body)
    if topic == shopify.REFUND_CREATED:
        return await _refund(webhooks, channel, event_id, body)
    if topic and topic != shopify.ORDER_CREATED:
        return WebhookAccepted(status="ignored")
    return await _intake(webhooks, channel, event_id, body, shopify.translate)


@router.post(
    "/woocommerce/{channel_id}", response_model=WebhookAccepted, responses=WEBHOOK_PROBLEMS
)
async def woocommerce_webhook(channel_id: str, request: Request) -> WebhookAccepted:
    """WooCommerce order.created (and order.updated: payment, cancel): X-WC-Webhook-Signature
    over the raw body; the unsigned ping sent when the webhook is saved is answered 200."""
    body = await request.body()
    webhooks = component(request, WebhookIntake)
    channel = await _channel(webhooks, channel_id, ChannelKind.WOOCOMMERCE)
    if woocommerce.is_ping(body, request.headers.get("content-type")):
        return WebhookAccepted(status="pong")
    header = request.headers.get("X-WC-Webhook-Signature")
    if not woocommerce.signature_valid(body, header, channel.secrets.candidates("webhook_secret")):
        raise _unsigned("X-WC-Webhook-Signature")
    topic = request.headers.get("X-WC-Webhook-Topic")
    event_id = request.headers.get("X-WC-Webhook-Delivery-ID")
    if topic in WOOCOMMERCE_NEWS:
        return await _news(webhooks, channel, event_id, body)
    if topic and topic != woocommerce.ORDER_CREATED:
        return WebhookAccepted(status="ignored")
    return await _intake(webhooks, channel, event_id, body, woocommerce.translate)


@router.post(
    "/shopee/{channel_id}",
    response_model=WebhookAccepted,
    responses=WEBHOOK_PROBLEMS | problems(502),  # Shopee's own answer to our pull, passed on
)
async def shopee_push(channel_id: str, request: Request) -> WebhookAccepted:
    """Shopee push: Authorization is HMAC of `<callback url>|<body>` with the partner key; for
    an order that is ready to ship, get_order_detail is pulled (signed) and translated; a
    buyer's cancellation request (IN_CANCEL) is recorded for the OMS to answer."""
    body = await request.body()
    webhooks = component(request, WebhookIntake)
    channel = await _channel(webhooks, channel_id, ChannelKind.SHOPEE)
    url = channel.connection.config.get("push_url") or str(request.url)
    key = channel.secrets.current.get("partner_key", "")
    if not shopee.push_signature_valid(url, body, request.headers.get("Authorization"), key):
        raise _unsigned("Authorization")
    message, data = shopee.parse_push(_json(body))
    if message.shop_id != int(channel.connection.config.get("shop_id", 0)):
        raise Problem(422, "Wrong shop", f"push for shop {message.shop_id}, not this channel's")
    if data is None:
        return WebhookAccepted(status="ignored")
    if data.status != shopee.PLACEABLE:  # read as the poll reads it (WebhookIntake.status_news)
        reference = shopee.request_reference(data) if data.status == shopee.IN_CANCEL else None
        news = await webhooks.status_news(channel_id, data.ordersn, data.status, None, reference)
        return _answer(news)
    if await webhooks.knows(channel_id, data.ordersn):
        return WebhookAccepted(status="duplicate", duplicate=True)
    # Shopee down answers 503 (Shopee pushes again later: the order is not lost).
    detail = await webhooks.shopee_detail(channel, data.ordersn)
    try:
        translation = shopee.translate(channel.connection, detail)
    except MalformedPayloadError as error:  # Shopee's own answer is odd: hold, do not drop
        translation = Translation(channel_id, data.ordersn, detail, reasons=[str(error)])
    return await _take_in(webhooks, translation, None)


async def _channel(webhooks: WebhookIntake, channel_id: str, kind: ChannelKind) -> Channel:
    channel = await webhooks.channel(channel_id, kind)
    if channel is None:
        raise Problem(404, "Channel not found", f"no {kind} channel {channel_id} is connected")
    return channel


def _unsigned(header: str) -> Problem:
    return Problem(401, "Invalid signature", f"{header} is missing or does not match the body")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as error:
        raise Problem(400, "Malformed payload", f"body is not JSON: {error}") from None


async def _intake(
    webhooks: WebhookIntake,
    channel: Channel,
    event_id: str | None,
    body: bytes,
    translate: Translate,
) -> WebhookAccepted:
    """An order pushed by a channel, taken in."""
    seen = webhooks.seen(channel.connection.channel_id, event_id)
    if seen is not None:
        return WebhookAccepted(status="duplicate", order_id=seen, duplicate=True)
    return await _take_in(webhooks, translate(channel.connection, _object(body)), event_id)


async def _news(
    webhooks: WebhookIntake, channel: Channel, event_id: str | None, body: bytes
) -> WebhookAccepted:
    """An order sent again after a change (its cancellation, payment or ship-to), read as the
    poll reads it (WebhookIntake.news); news of an order never taken in is kept (status
    `kept`), applied when the order comes."""
    seen = webhooks.seen(channel.connection.channel_id, event_id)
    if seen is not None:
        return WebhookAccepted(status="duplicate", order_id=seen, duplicate=True)
    return _answer(await webhooks.news(channel, _object(body), event_id))


def _answer(result: NewsResult) -> WebhookAccepted:
    if result.status == NewsStatus.KEPT:
        return WebhookAccepted(status=result.status, change_id=result.change_id)
    return WebhookAccepted(status=result.status, order_id=result.order_id)


async def _refund(
    webhooks: WebhookIntake, channel: Channel, event_id: str | None, body: bytes
) -> WebhookAccepted:
    """A refund made at the channel: recorded once and the OMS told; ours told back change
    nothing; one of an order never taken in is ignored."""
    seen = webhooks.seen(channel.connection.channel_id, event_id)
    if seen is not None:
        return WebhookAccepted(status="duplicate", order_id=seen, duplicate=True)
    refund = shopify.refund(channel.connection, _object(body), utc_stamp())
    result = await webhooks.take_in_refund(refund, event_id)
    if result is None:
        return WebhookAccepted(status="ignored")
    if refund.ours is not None:
        return WebhookAccepted(status="ours", order_id=result.order_id)
    status = "refund_recorded" if result.created else "unchanged"
    return WebhookAccepted(status=status, order_id=result.order_id)


def _object(body: bytes) -> RawPayload:
    """The body as a JSON object (400 when it is not JSON, 422 when not an object)."""
    payload = _json(body)
    if not isinstance(payload, dict):
        raise MalformedPayloadError("body: expected a JSON object")
    return payload


async def _take_in(
    webhooks: WebhookIntake, translation: Translation, event_id: str | None
) -> WebhookAccepted:
    result = await webhooks.take_in(translation, event_id)
    status = "duplicate" if not result.created else result.status
    return WebhookAccepted(status=status, order_id=result.order_id, duplicate=not result.created)
