"""Gateway HTTP API: intake (canonical, webhooks, CSV), channels, holds, deliveries, kept news."""

from __future__ import annotations

from eventsourcing.persistence import OperationalError
from fastapi import APIRouter

from services.channel_gateway import domain
from services.channel_gateway.api import (
    bill_pages,
    bills,
    changes,
    channels,
    chat,
    deliveries,
    imports,
    orders,
    secrets,
    sessions,
    stock_sync,
    users,
    webhooks,
)
from services.channel_gateway.channels.base import MalformedPayloadError
from services.channel_gateway.channels.http import ChannelCallError, TransientChannelError
from services.channel_gateway.channels.shopee.tokens import ReauthorisationNeededError
from services.channel_gateway.views import UnreadableSecretsError
from shared.runtime.access import AccessPolicy, Grant, Rule

ERROR_STATUSES: dict[type[Exception], tuple[int, str]] = {
    domain.BillNotFoundError: (404, "Bill not found"),
    domain.BillClosedError: (409, "Bill closed"),
    domain.InvalidBillError: (422, "Invalid bill"),
    domain.PaymentMismatchError: (422, "Payment mismatch"),
    domain.IdempotencyKeyReusedError: (422, "Idempotency key reused"),
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
    domain.UserNotFoundError: (404, "User not found"),
    domain.UserExistsError: (409, "User exists"),
    domain.UserDisabledError: (409, "User disabled"),
    domain.NotAPersonError: (409, "Machine client"),
    domain.InvalidUserError: (422, "Invalid user"),
    domain.TokenNotFoundError: (404, "Token not found"),
    domain.InvalidTemplateError: (422, "Invalid template"),
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
    users.users,
    users.tokens,
    sessions.router,
    secrets.router,
    chat.router,
    bills.router,
    bills.payments,
]
# Outside /v1: the customer's bill page (its link's token is the key; see bill_pages).
PAGES: list[APIRouter] = [bill_pages.router]

ACCESS = AccessPolicy(
    {
        "/orders": Rule(writes=Grant.OPS),  # canonical orders from a machine client or ops
        "/channel-orders": Rule(writes=Grant.OPS),
        "/channels": Rule(writes=Grant.ADMIN),  # connections and their secrets
        "/webhooks": Rule(writes=Grant.PUBLIC, reads=Grant.PUBLIC),  # the channel signs them
        "/imports": Rule(writes=Grant.OPS),
        "/deliveries": Rule(writes=Grant.OPS),
        "/channel-changes": Rule(writes=Grant.OPS),
        "/stock-sync": Rule(writes=Grant.OPS),
        "/channel-secrets": Rule(writes=Grant.ADMIN, reads=Grant.ADMIN),
        "/users": Rule(writes=Grant.ADMIN, reads=Grant.ADMIN),
        "/tokens": Rule(writes=Grant.ADMIN, reads=Grant.ADMIN),
        # Signing in is how a person gets a token; signing out needs the token to end.
        "/sessions": Rule(writes=Grant.PUBLIC, reads=Grant.PUBLIC),
        "/sessions/end": Rule(writes=Grant.SIGNED_IN),
        # What customers read is the merchant's voice: ops and admins word it.
        "/chat": Rule(writes=Grant.OPS, reads=Grant.OPS),
        "/bills": Rule(writes=Grant.OPS),  # sellers make bills and confirm transfers
        "/payment-webhooks": Rule(
            writes=Grant.PUBLIC, reads=Grant.PUBLIC
        ),  # signed by the provider
    }
)
"""Who may call what (reads: any role, unless a rule says otherwise)."""

__all__ = ["ACCESS", "ERROR_STATUSES", "PAGES", "ROUTERS"]
