"""Gateway HTTP API: intake (canonical, webhooks, CSV), channels, holds, deliveries, kept news."""

from __future__ import annotations

from eventsourcing.persistence import OperationalError
from fastapi import APIRouter

from services.channel_gateway import domain
from services.channel_gateway.api import (
    changes,
    channels,
    deliveries,
    imports,
    orders,
    secrets,
    stock_sync,
    webhooks,
)
from services.channel_gateway.channels.base import MalformedPayloadError
from services.channel_gateway.channels.http import ChannelCallError, TransientChannelError
from services.channel_gateway.channels.shopee.tokens import ReauthorisationNeededError
from services.channel_gateway.views import UnreadableSecretsError

ERROR_STATUSES: dict[type[Exception], tuple[int, str]] = {
    domain.ChannelOrderNotFoundError: (404, "Channel order not found"),
    domain.InvalidChannelOrderError: (422, "Invalid order"),
    domain.OrderNotHeldError: (409, "Order not held"),
    domain.OrderStillHeldError: (409, "Still held"),
    domain.ChannelNotFoundError: (404, "Channel not found"),
    domain.ChannelKindError: (409, "Channel kind conflict"),
    domain.DeliveryNotFoundError: (404, "Delivery not found"),
    domain.DeliveryNotRetryableError: (409, "Delivery not retryable"),
    domain.ChannelChangeNotFoundError: (404, "Channel change not found"),
    domain.ChangeAppliedError: (409, "Channel change applied"),
    # A channel's payload not in its documented shape (the channel should not retry it).
    MalformedPayloadError: (422, "Malformed payload"),
    # Only the Shopee push calls a channel while answering: a 5xx makes Shopee push again.
    ReauthorisationNeededError: (503, "Shopee shop must be authorised again"),
    TransientChannelError: (503, "Shopee unavailable"),
    ChannelCallError: (502, "Shopee refused"),
    # A key was removed too early (an operator's mistake, not the caller's): channels retry
    # webhooks that got a 5xx, and succeed once the key is back.
    UnreadableSecretsError: (503, "Channel secrets unreadable"),
    # The database is down: channels retry webhooks that got a 5xx.
    OperationalError: (503, "Service unavailable"),
}

ROUTERS: list[APIRouter] = [
    orders.intake,
    orders.router,
    channels.router,
    webhooks.router,
    imports.router,
    deliveries.router,
    changes.router,
    stock_sync.router,
    secrets.router,
]

__all__ = ["ERROR_STATUSES", "ROUTERS"]
