"""Shopee access tokens (4 hours) renewed with the shop's refresh token (30 days, used once).

Kept with the channel's secrets (views.secrets): the access token, its expiry, the refresh
token. A token is refreshed when less than the margin (15 minutes) is left, and once more when
Shopee answers a call with an expired token; the call is then made again.

One refresh at a time per shop: an asyncio lock per channel in this process, and the row lock
of the channel's secrets across processes (a second refresher waits, then finds the new token
stored and uses it instead of spending the refresh token again).

Crash between Shopee's answer and our store: Shopee has already retired the refresh token we
sent, and the new one is lost with the process. The stored refresh token is then refused at the
next refresh, the channel says it needs re-authorisation (log, metric, GET /v1/channels/{id}),
and ops authorise the shop again and give the gateway the new tokens (README, Shopee). The
window is one HTTP answer plus one commit; we store before the new access token is used, so
nothing is ever sent with a token whose refresh token we do not hold.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog

from services.channel_gateway.channels.http import TransientChannelError
from services.channel_gateway.views import SecretStore, TokenState
from shared.runtime.metrics import CHANNEL_REAUTHORISE, CHANNEL_TOKEN_REFRESHES
from shared.signing import hex_signature

log = structlog.get_logger()

REFRESH = "/api/v2/auth/access_token/get"
REFRESH_MARGIN = timedelta(minutes=15)
# Shopee's answers to a call made with an expired (or revoked) access token; the first is
# spelled as Shopee spells it.
EXPIRED_TOKEN_ERRORS = ("invalid_acceess_token", "invalid_access_token")
TRANSIENT_ERRORS = ("error_server", "error_busy", "error_inner", "error_network")


class ReauthorisationNeededError(TransientChannelError):
    """Shopee refused the shop's refresh token: ops must authorise the shop again.

    Transient for the callers: a delivery is retried and a push answered 503 (Shopee pushes
    again), so work waits for the new authorisation instead of being dropped.
    """


def public_sign(partner_key: str, partner_id: int, path: str, timestamp: int) -> str:
    """The `sign` of a public call (no shop, no access token): partner id, path, time."""
    return hex_signature(partner_key, f"{partner_id}{path}{timestamp}".encode())


def needs_refresh(state: TokenState, now: datetime, margin: timedelta = REFRESH_MARGIN) -> bool:
    """Whether to refresh before the next call.

    Only with a refresh token and a known expiry: tokens just given by ops are used as they
    are until Shopee answers that they expired (refreshing at once would spend the refresh
    token for nothing), and from the first refresh on the expiry is known.
    """
    if not state.refresh_token or state.expires_at is None:
        return False
    return state.expires_at - now < margin


def is_expired_answer(payload: Any) -> bool:
    """Whether Shopee answered that the access token is invalid or expired."""
    if not isinstance(payload, dict):
        return False
    error = str(payload.get("error") or "")
    message = str(payload.get("message") or "").lower()
    return error in EXPIRED_TOKEN_ERRORS or (error == "error_auth" and "access_token" in message)


def refreshed_state(answer: Any, now: datetime) -> TokenState:
    """The new tokens of a successful refresh answer; ValueError when it is not one."""
    if not isinstance(answer, dict) or answer.get("error"):
        raise ValueError("not a successful refresh answer")
    access, refresh, expire_in = (
        answer.get("access_token"),
        answer.get("refresh_token"),
        answer.get("expire_in"),
    )
    if not access or not refresh or not isinstance(expire_in, int) or expire_in <= 0:
        raise ValueError("refresh answer without access_token, refresh_token or expire_in")
    return TokenState(str(access), str(refresh), now + timedelta(seconds=expire_in))


@dataclass(frozen=True)
class Shop:
    """What a refresh needs to know of one Shopee shop."""

    channel_id: str
    base: str
    partner_id: int
    partner_key: str
    shop_id: int


class ShopeeTokens:
    """The gateway's Shopee tokens: read, refreshed before expiry and on an expired answer."""

    def __init__(
        self,
        store: SecretStore,
        timeout: float,
        margin: timedelta = REFRESH_MARGIN,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.timeout = timeout
        self.margin = margin
        self.clock = clock
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, channel_id: str) -> asyncio.Lock:
        return self._locks.setdefault(channel_id, asyncio.Lock())

    async def access_token(self, shop: Shop) -> str:
        """The token to call with, refreshed first when it expires within the margin."""
        state = await asyncio.to_thread(self.store.tokens, shop.channel_id)
        # Set on every call, so ops giving new tokens clears it too.
        CHANNEL_REAUTHORISE.labels(shop.channel_id).set(1 if state.reauthorise else 0)
        if state.reauthorise:
            raise _reauthorise(shop, state)
        if not needs_refresh(state, self.clock(), self.margin):
            return state.access_token
        try:
            return await self.refresh(shop, used=state.access_token)
        except ReauthorisationNeededError:
            raise
        except TransientChannelError:
            if state.expires_at is not None and state.expires_at > self.clock():
                # Still valid for a while: use it, and refresh on a later call.
                return state.access_token
            raise

    async def refresh(self, shop: Shop, used: str) -> str:
        """A fresh access token in place of `used` (once per shop at a time); stored first."""
        async with self._lock(shop.channel_id):
            state = await asyncio.to_thread(
                self.store.rotate, shop.channel_id, lambda stored: self._decide(shop, used, stored)
            )
        if state.reauthorise:
            raise _reauthorise(shop, state)
        return state.access_token

    def _decide(self, shop: Shop, used: str, stored: TokenState) -> TokenState:
        """Under the row lock (blocking): keep what another refresher stored, or call Shopee."""
        now = self.clock()
        if stored.reauthorise:
            return stored  # refused before: only ops can help
        if stored.access_token != used and not needs_refresh(stored, now, self.margin):
            return stored  # someone refreshed while we waited
        if not stored.refresh_token:
            reason = "Shopee refused the access token and no refresh token is set"
            return self._refused(shop, stored, reason, now)
        timestamp = int(time.time())
        body = {
            "partner_id": shop.partner_id,
            "shop_id": shop.shop_id,
            "refresh_token": stored.refresh_token,
        }
        params: dict[str, str | int] = {
            "partner_id": shop.partner_id,
            "timestamp": timestamp,
            "sign": public_sign(shop.partner_key, shop.partner_id, REFRESH, timestamp),
        }
        try:
            with httpx.Client(timeout=self.timeout) as http:
                response = http.post(shop.base + REFRESH, params=params, json=body)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            return self._failed(shop, f"{type(error).__name__}: {error}")
        if response.status_code >= 500 or response.status_code == 429:
            return self._failed(shop, f"HTTP {response.status_code}")
        error_code = answer.get("error") if isinstance(answer, dict) else "not JSON"
        if error_code in TRANSIENT_ERRORS:
            return self._failed(shop, str(error_code))
        try:
            new = refreshed_state(answer, now)
        except ValueError as error:
            message = answer.get("message", "") if isinstance(answer, dict) else ""
            reason = f"Shopee refused the refresh token: {error_code or error} {message}".strip()
            return self._refused(shop, stored, reason, now)
        CHANNEL_TOKEN_REFRESHES.labels(shop.channel_id, "refreshed").inc()
        CHANNEL_REAUTHORISE.labels(shop.channel_id).set(0)
        log.info(
            "shopee access token refreshed",
            channel=shop.channel_id,
            expires_at=new.expires_at.isoformat() if new.expires_at else None,
        )
        return new

    def _refused(self, shop: Shop, stored: TokenState, reason: str, now: datetime) -> TokenState:
        CHANNEL_TOKEN_REFRESHES.labels(shop.channel_id, "refused").inc()
        CHANNEL_REAUTHORISE.labels(shop.channel_id).set(1)
        log.error(
            "shopee tokens refused: the shop must be authorised again",
            channel=shop.channel_id,
            shop_id=shop.shop_id,
            reason=reason,
        )
        return stored.refused(reason, now)

    def _failed(self, shop: Shop, reason: str) -> TokenState:
        CHANNEL_TOKEN_REFRESHES.labels(shop.channel_id, "failed").inc()
        log.warning("shopee token refresh failed", channel=shop.channel_id, reason=reason)
        # Raised out of the row lock's transaction: nothing is stored, the old tokens stay.
        raise TransientChannelError(f"Shopee {REFRESH}: {reason}")


def _reauthorise(shop: Shop, state: TokenState) -> ReauthorisationNeededError:
    return ReauthorisationNeededError(
        f"channel {shop.channel_id} needs re-authorisation at Shopee (shop {shop.shop_id}):"
        f" {state.reauthorise}"
    )
