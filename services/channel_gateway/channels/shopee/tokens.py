"""Shopee shop tokens: the access token (4 h) is refreshed before it expires, once per shop.

Kept as secrets of the channel connection (`channel_secret`, never the event log):
`access_token`, `access_token_expires_at` (unix seconds) and `refresh_token` (30 days).
`POST /api/v2/auth/access_token/get` answers a new access token AND a new refresh token.

Crash safety, as chosen: the answer is written to the secret store (one transaction, both tokens
and the expiry together) before the new access token is used for anything. Shopee keeps the
old refresh token usable until the new pair is used, so a crash between Shopee's answer and
our commit leaves the old refresh token in the store and still valid: the next call refreshes
again with it. The replaced values stay in the store's `previous` column for the grace period.

One refresh at a time per shop in a process (an asyncio lock per channel); a second caller
waiting on the lock rereads the store and takes the token the first one stored. A refusal of
the refresh token (expired after 30 days, or revoked) cannot be retried: the merchant must
authorise the shop again; it is logged, counted and shown by `/readyz` (`shopee_tokens`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import Counter, Gauge

from services.channel_gateway.channels.http import PermanentChannelError
from services.channel_gateway.views import SecretStore

log = structlog.get_logger()

REFRESH_PATH = "/api/v2/auth/access_token/get"
# Answers that mean "this access token is no good" (Shopee spells the first one this way).
AUTH_ERRORS = ("invalid_acceess_token", "invalid_access_token", "error_auth")

REFRESHES = Counter(
    "oms_shopee_token_refresh_total", "Shopee access token refreshes", ["channel", "outcome"]
)
REAUTHORISE = Gauge(
    "oms_shopee_reauthorisation_needed",
    "1 while a Shopee shop's refresh token is refused: the merchant must authorise again",
    ["channel"],
)


class ReauthorisationNeededError(PermanentChannelError):
    """Shopee refused the refresh token (expired after 30 days or revoked)."""


@dataclass(frozen=True)
class TokenState:
    """What a call needs: the access token, when it expires, and the refresh token."""

    access_token: str
    expires_at: float | None = None
    refresh_token: str | None = None
    replaced: str | None = None  # the access token this one replaced (in this process)

    @classmethod
    def of(cls, secrets: dict[str, str]) -> TokenState:
        """The state as stored in the channel's secrets."""
        expires = secrets.get("access_token_expires_at")
        return cls(
            access_token=secrets.get("access_token", ""),
            expires_at=float(expires) if expires else None,
            refresh_token=secrets.get("refresh_token") or None,
        )

    def secrets(self) -> dict[str, str]:
        """As secrets of the channel (all three in one write)."""
        values = {"access_token": self.access_token, "refresh_token": self.refresh_token or ""}
        if self.expires_at is not None:
            values["access_token_expires_at"] = str(int(self.expires_at))
        return values

    def __repr__(self) -> str:
        return f"TokenState(expires_at={self.expires_at})"  # never the values


Refresh = Callable[[str], Awaitable[dict[str, Any]]]


class ShopeeTokens:
    """Each Shopee shop's tokens in this process; refreshes them, one at a time per shop."""

    def __init__(
        self, store: SecretStore, margin: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.margin = margin  # refresh when less than this many seconds remain
        self.clock = clock
        self._locks: dict[str, asyncio.Lock] = {}
        self._latest: dict[str, TokenState] = {}
        # channel -> (the access token then, why its tokens cannot be refreshed)
        self._problems: dict[str, tuple[str, str]] = {}

    def problems(self) -> dict[str, str]:
        """Shops whose merchant must authorise again, with why."""
        return {channel: why for channel, (_, why) in self._problems.items()}

    def _lock(self, channel_id: str) -> asyncio.Lock:
        lock = self._locks.get(channel_id)
        if lock is None:
            lock = self._locks[channel_id] = asyncio.Lock()
        return lock

    def known(self, channel_id: str, secrets: dict[str, str]) -> TokenState:
        """The newest state: this process's refresh, unless the secrets were set anew since."""
        given = TokenState.of(secrets)
        latest = self._latest.get(channel_id)
        if latest is not None and given.access_token in (latest.access_token, latest.replaced):
            return latest
        return given

    def fresh(self, state: TokenState) -> bool:
        """Whether the access token has more than the margin left (unknown expiry: yes)."""
        return state.expires_at is None or state.expires_at - self.clock() > self.margin

    async def access(self, channel_id: str, secrets: dict[str, str], refresh: Refresh) -> str:
        """The access token to call with, refreshed first when it is about to expire."""
        state = self.known(channel_id, secrets)
        problem = self._problems.get(channel_id)
        if problem is not None and problem[0] != state.access_token:
            self._problems.pop(channel_id)  # authorised again: new tokens were given
            REAUTHORISE.labels(channel_id).set(0)
        if self.fresh(state) or not state.refresh_token:
            return state.access_token
        try:
            return (await self.refresh(channel_id, state.access_token, refresh)).access_token
        except ReauthorisationNeededError:
            if state.expires_at is not None and state.expires_at > self.clock():
                return state.access_token  # still good a little while; the problem is shown
            raise

    async def refresh(self, channel_id: str, used: str, refresh: Refresh) -> TokenState:
        """A new access token in place of `used` (once: later callers take the stored one)."""
        async with self._lock(channel_id):
            stored = TokenState.of((await asyncio.to_thread(self.store.get, channel_id)).current)
            if stored.access_token != used and self.fresh(stored):
                self._latest[channel_id] = stored
                return stored  # refreshed meanwhile (by another caller or instance)
            if not stored.refresh_token:
                raise self._refused(channel_id, used, "no refresh token is stored for this shop")
            try:
                answer = await refresh(stored.refresh_token)
            except ReauthorisationNeededError as error:
                raise self._refused(channel_id, used, str(error)) from None
            except Exception as error:
                REFRESHES.labels(channel_id, "failed").inc()
                log.warning("shopee_token_refresh_failed", channel=channel_id, error=str(error))
                raise
            new = TokenState(
                access_token=str(answer["access_token"]),
                expires_at=self.clock() + float(answer.get("expire_in") or 0),
                refresh_token=str(answer.get("refresh_token") or stored.refresh_token),
                replaced=used,
            )
            # Stored before the new token is used: the old refresh token stays valid till then.
            await asyncio.to_thread(self.store.put, channel_id, new.secrets())
            self._latest[channel_id] = new
            self._problems.pop(channel_id, None)
            REAUTHORISE.labels(channel_id).set(0)
            REFRESHES.labels(channel_id, "refreshed").inc()
            log.info("shopee_token_refreshed", channel=channel_id, expires_at=new.expires_at)
            return new

    def _refused(self, channel_id: str, used: str, why: str) -> ReauthorisationNeededError:
        message = (
            f"Shopee shop of channel {channel_id} must be authorised again by the merchant"
            f" (then POST /v1/channels with the new access_token and refresh_token): {why}"
        )
        self._problems[channel_id] = (used, message)
        REAUTHORISE.labels(channel_id).set(1)
        REFRESHES.labels(channel_id, "refused").inc()
        log.error("shopee_reauthorisation_needed", channel=channel_id, error=why)
        return ReauthorisationNeededError(message)
